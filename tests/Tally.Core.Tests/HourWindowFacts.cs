using System.Globalization;

namespace Tally.Core.Tests;

public class HourWindowFacts
{
    private static DateTimeOffset At(string iso) =>
        DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    private static HourWindow Hour(int year, int month, int day, int hour) => HourWindow.FromParts(year, month, day, hour);

    [Theory]
    [InlineData("2026-11-24T13:00:00Z", "2026-11-24T13")]
    [InlineData("2026-11-24T13:59:59.9999999Z", "2026-11-24T13")]
    [InlineData("2026-11-24T14:00:00Z", "2026-11-24T14")]
    [InlineData("2026-11-24T19:15:00+05:30", "2026-11-24T13")]
    [InlineData("2026-11-23T23:15:00-14:00", "2026-11-24T13")]
    public void Containing_ConvertsToUtcAndFloorsToTheHour(string instant, string expected)
    {
        Assert.Equal(expected, HourWindow.Containing(At(instant)).ToString());
    }

    [Fact]
    public void StartAndEnd_AreTheUtcBoundsOfTheHour()
    {
        var hour = Hour(2026, 11, 24, 13);

        Assert.Equal(new DateTimeOffset(2026, 11, 24, 13, 0, 0, TimeSpan.Zero), hour.Start);
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 14, 0, 0, TimeSpan.Zero), hour.End);
        Assert.Equal((2026, 11, 24, 13), (hour.Year, hour.Month, hour.Day, hour.Hour));
    }

    [Theory]
    [InlineData("2026-11-24T13:00:00Z", true)]
    [InlineData("2026-11-24T13:59:59.9999999Z", true)]
    [InlineData("2026-11-24T14:00:00Z", false)]
    [InlineData("2026-11-24T12:59:59.9999999Z", false)]
    [InlineData("2026-11-24T18:30:00+05:30", true)]
    [InlineData("2026-11-24T13:30:00+05:30", false)]
    public void Contains_IsHalfOpenInUtc(string instant, bool expected)
    {
        var hour = Hour(2026, 11, 24, 13);

        Assert.Equal(expected, hour.Contains(At(instant)));
        Assert.Equal(expected, hour.ContainsUtcTicks(At(instant).UtcTicks));
    }

    [Theory]
    [InlineData("2026-11-24T13", 1, "2026-11-24T14")]
    [InlineData("2026-11-24T23", 1, "2026-11-25T00")]
    [InlineData("2026-12-31T23", 1, "2027-01-01T00")]
    [InlineData("2028-02-28T23", 1, "2028-02-29T00")]
    [InlineData("2026-02-28T23", 1, "2026-03-01T00")]
    [InlineData("2026-01-01T00", -1, "2025-12-31T23")]
    [InlineData("2026-11-24T13", 24, "2026-11-25T13")]
    [InlineData("2026-11-24T13", 0, "2026-11-24T13")]
    public void AddHours_CrossesDayMonthAndYearEnds(string start, int hours, string expected)
    {
        Assert.Equal(expected, HourWindow.Parse(start).AddHours(hours).ToString());
    }

    [Fact]
    public void Range_ListsEveryHourFromInclusiveToExclusive()
    {
        var hours = HourWindow.Range(HourWindow.Parse("2026-12-31T22"), HourWindow.Parse("2027-01-01T02")).Select(h => h.ToString());

        Assert.Equal(["2026-12-31T22", "2026-12-31T23", "2027-01-01T00", "2027-01-01T01"], hours);
    }

    [Theory]
    [InlineData("2026-11-24T13", "2026-11-24T13")]
    [InlineData("2026-11-24T14", "2026-11-24T13")]
    public void Range_IsEmpty_WhenToIsNotAfterFrom(string from, string to)
    {
        Assert.Empty(HourWindow.Range(HourWindow.Parse(from), HourWindow.Parse(to)));
    }

    [Fact]
    public void Comparison_FollowsTime()
    {
        var early = Hour(2026, 11, 24, 13);
        var late = Hour(2026, 11, 24, 14);

        Assert.True(early < late);
        Assert.True(late > early);
        Assert.True(early <= Hour(2026, 11, 24, 13));
        Assert.True(late >= Hour(2026, 11, 24, 14));
        Assert.False(late < early);
        Assert.True(early.CompareTo(late) < 0);
        Assert.Equal(0, early.CompareTo(Hour(2026, 11, 24, 13)));
    }

    [Theory]
    [InlineData(2026, 11, 24, 13, "2026-11-24T13")]
    [InlineData(2026, 1, 5, 7, "2026-01-05T07")]
    [InlineData(999, 1, 1, 0, "0999-01-01T00")]
    public void ToString_IsZeroPaddedCanonicalText(int year, int month, int day, int hour, string expected)
    {
        Assert.Equal(expected, Hour(year, month, day, hour).ToString());
    }

    [Theory]
    [InlineData(2026, 2, 29, 0)]
    [InlineData(2026, 13, 1, 0)]
    [InlineData(2026, 11, 24, 24)]
    [InlineData(2026, 4, 31, 0)]
    public void FromParts_Throws_WhenThePartsAreNotADateAndHour(int year, int month, int day, int hour)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => HourWindow.FromParts(year, month, day, hour));
    }

    [Theory]
    [InlineData("2026-11-24T13", "2026-11-24T13")]
    [InlineData("2026-11-24T13Z", "2026-11-24T13")]
    [InlineData("2026-11-24T13:00", "2026-11-24T13")]
    [InlineData("2026-11-24T13:00Z", "2026-11-24T13")]
    [InlineData("2026-11-24T13:00:00", "2026-11-24T13")]
    [InlineData("2026-11-24T13:00:00Z", "2026-11-24T13")]
    [InlineData("  2026-11-24T13  ", "2026-11-24T13")]
    [InlineData("2026-11-24T00", "2026-11-24T00")]
    [InlineData("2024-02-29T23", "2024-02-29T23")]
    // An offset is converted to UTC.
    [InlineData("2026-11-24T13:00+01:00", "2026-11-24T12")]
    [InlineData("2026-11-24T13:00:00-08:00", "2026-11-24T21")]
    [InlineData("2026-11-24T20:00:00-08:00", "2026-11-25T04")]
    [InlineData("2026-11-24T00:00+02:00", "2026-11-23T22")]
    public void TryParse_AcceptsWholeHours(string text, string expected)
    {
        Assert.True(HourWindow.TryParse(text, out var hour));
        Assert.Equal(expected, hour.ToString());
        Assert.Equal(expected, HourWindow.Parse(text).ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("garbage")]
    [InlineData("2026-11-24")]
    [InlineData("2026-11-24T")]
    [InlineData("2026-11-24T1")]
    [InlineData("2026-11-24 13")]
    [InlineData("2026-11-24T13:30")]
    [InlineData("2026-11-24T13:00:01")]
    [InlineData("2026-11-24T13:00:30Z")]
    [InlineData("2026-11-24T13:01Z")]
    [InlineData("2026-11-24T24")]
    [InlineData("2026-11-31T13")]
    [InlineData("2026-02-29T13")]
    [InlineData("2026-13-01T13")]
    [InlineData("2026-11-24T13:00:00.000Z")]
    [InlineData("2026-11-24T13x")]
    [InlineData("2026-11-24T13:00Zjunk")]
    [InlineData("11/24/2026 13:00")]
    // With a half-hour offset the UTC time is not a whole hour.
    [InlineData("2026-11-24T13:00+05:30")]
    public void TryParse_Rejects_WhatIsNotAWholeHour(string? text)
    {
        Assert.False(HourWindow.TryParse(text, out var hour));
        Assert.Equal(default, hour);
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("2026-11-24T13:30")]
    public void Parse_ThrowsInvalidArgument_NamingTheText(string text)
    {
        var e = Assert.Throws<TallyException>(() => HourWindow.Parse(text));

        Assert.Equal(TallyErrorKind.InvalidArgument, e.Kind);
        Assert.Contains($"'{text}'", e.Message);
        Assert.Contains("2026-11-24T13", e.Message);
    }
}
