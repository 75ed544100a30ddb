using System.Globalization;

namespace Tally.Core.Tests;

public class HourWindowFacts
{
    private static DateTimeOffset At(string iso) =>
        DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    private static HourWindow Hour(int year, int month, int day, int hour) => HourWindow.FromParts(year, month, day, hour);

    [Theory]
    // Within a day.
    [InlineData("2026-11-24T14:00:00Z", 2026, 11, 24, 13)]
    [InlineData("2026-11-24T14:30:00Z", 2026, 11, 24, 13)]
    [InlineData("2026-11-24T14:59:59.9999999Z", 2026, 11, 24, 13)]
    // Exact hour boundaries.
    [InlineData("2026-11-24T14:00:00.0000001Z", 2026, 11, 24, 13)]
    [InlineData("2026-11-24T13:59:59.9999999Z", 2026, 11, 24, 12)]
    // Day end.
    [InlineData("2026-11-24T00:00:00Z", 2026, 11, 23, 23)]
    [InlineData("2026-11-24T00:30:00Z", 2026, 11, 23, 23)]
    [InlineData("2026-11-24T01:00:00Z", 2026, 11, 24, 0)]
    // Month ends of 30 and 31 days.
    [InlineData("2026-12-01T00:15:00Z", 2026, 11, 30, 23)]
    [InlineData("2026-11-01T00:00:00Z", 2026, 10, 31, 23)]
    // Year end.
    [InlineData("2027-01-01T00:00:00Z", 2026, 12, 31, 23)]
    [InlineData("2027-01-01T00:59:59Z", 2026, 12, 31, 23)]
    // February in common and leap years.
    [InlineData("2026-03-01T00:00:00Z", 2026, 2, 28, 23)]
    [InlineData("2024-03-01T00:00:00Z", 2024, 2, 29, 23)]
    [InlineData("2024-02-29T12:10:00Z", 2024, 2, 29, 11)]
    [InlineData("2024-02-29T00:10:00Z", 2024, 2, 28, 23)]
    [InlineData("2028-03-01T00:30:00Z", 2028, 2, 29, 23)]
    [InlineData("2100-03-01T00:30:00Z", 2100, 2, 28, 23)]
    [InlineData("2000-03-01T00:30:00Z", 2000, 2, 29, 23)]
    // Offsets: the scheduled time is converted to UTC first.
    [InlineData("2026-11-24T14:00:00+05:30", 2026, 11, 24, 7)]
    [InlineData("2026-11-24T05:29:00+05:30", 2026, 11, 23, 22)]
    [InlineData("2026-11-24T16:00:00-08:00", 2026, 11, 24, 23)]
    [InlineData("2026-11-24T17:00:00-08:00", 2026, 11, 25, 0)]
    [InlineData("2026-12-31T16:30:00-08:00", 2026, 12, 31, 23)]
    [InlineData("2027-01-01T00:30:00+01:00", 2026, 12, 31, 22)]
    public void PrecedingScheduledTime_IsTheWholeUtcHourBefore(string scheduled, int year, int month, int day, int hour)
    {
        var target = HourWindow.PrecedingScheduledTime(At(scheduled));

        Assert.Equal(Hour(year, month, day, hour), target);
        Assert.Equal(TimeSpan.Zero, target.Start.Offset);
    }

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

    [Theory]
    [InlineData("{\"target_datetime\": \"2026-11-24T00:30:00Z\"}", "2026-11-23T23")]
    [InlineData("{\"target_datetime\": \"2026-11-24T14:00:00Z\"}", "2026-11-24T13")]
    [InlineData("{\"target_datetime\": \"2026-11-24T14:00:00.0000001Z\"}", "2026-11-24T13")]
    [InlineData("{\"target_datetime\": \"2026-11-24T13:59:59.999Z\"}", "2026-11-24T12")]
    [InlineData("{\"target_datetime\": \"2027-01-01T00:00:00Z\"}", "2026-12-31T23")]
    [InlineData("{\"target_datetime\": \"2028-03-01T00:30:00Z\"}", "2028-02-29T23")]
    [InlineData("{\"target_datetime\": \"2026-11-24T14:00:00\"}", "2026-11-24T13")]
    [InlineData("{\"target_datetime\": \"2026-11-24T14:00:00+05:30\"}", "2026-11-24T07")]
    [InlineData("{\"target_datetime\": \"2026-11-24T16:00:00-08:00\"}", "2026-11-24T23")]
    [InlineData("{\"version\": \"0\", \"target_datetime\": \"2026-11-24T14:05:00Z\", \"extra\": [1, 2]}", "2026-11-24T13")]
    [InlineData("  {\"target_datetime\":\"2026-11-24T14:00Z\"}\n", "2026-11-24T13")]
    public void FromWorkflowInput_IsTheHourBeforeTheScheduledTime(string json, string expected)
    {
        Assert.Equal(expected, HourWindow.FromWorkflowInput(json).ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("{\"target_datetime\": ")]
    [InlineData("[\"2026-11-24T14:00:00Z\"]")]
    [InlineData("\"2026-11-24T14:00:00Z\"")]
    [InlineData("null")]
    [InlineData("{}")]
    [InlineData("{\"targetDatetime\": \"2026-11-24T14:00:00Z\"}")]
    [InlineData("{\"target_datetime\": 1764000000}")]
    [InlineData("{\"target_datetime\": null}")]
    [InlineData("{\"target_datetime\": {\"time\": \"2026-11-24T14:00:00Z\"}}")]
    [InlineData("{\"target_datetime\": \"yesterday\"}")]
    [InlineData("{\"target_datetime\": \"2026-11-24\"}")]
    [InlineData("{\"target_datetime\": \"2026-02-30T14:00:00Z\"}")]
    [InlineData("{\"target_datetime\": \"\"}")]
    public void FromWorkflowInput_ThrowsInvalidArgument_WhenTheInputIsNotAScheduledTime(string json)
    {
        var e = Assert.Throws<TallyException>(() => HourWindow.FromWorkflowInput(json));

        Assert.Equal(TallyErrorKind.InvalidArgument, e.Kind);
        Assert.False(e.IsTransient);
    }

    [Fact]
    public void FromWorkflowInput_NamesTheBadValue()
    {
        var e = Assert.Throws<TallyException>(() => HourWindow.FromWorkflowInput("{\"target_datetime\": \"yesterday\"}"));

        Assert.Contains("'yesterday'", e.Message);
    }

    [Fact]
    public void FromWorkflowInput_ThrowsInvalidArgument_WhenThereIsNoPrecedingHour()
    {
        var e = Assert.Throws<TallyException>(() => HourWindow.FromWorkflowInput("{\"target_datetime\": \"0001-01-01T00:30:00Z\"}"));

        Assert.Equal(TallyErrorKind.InvalidArgument, e.Kind);
    }
}
