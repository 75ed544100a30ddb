using System.Text;

namespace Tally.Core.Tests;

public class Iso8601Facts
{
    /// <summary>Ticks of a UTC instant, built independently of the parser.</summary>
    private static long Utc(int year, int month, int day, int hour, int minute, int second = 0, long extraTicks = 0) =>
        new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc).Ticks + extraTicks;

    public static TheoryData<string, long> AcceptedForms => new()
    {
        // The generator's and the seed's form.
        { "2026-11-24T13:45:30.123Z", Utc(2026, 11, 24, 13, 45, 30, 1_230_000) },
        { "2026-11-24T13:45:30Z", Utc(2026, 11, 24, 13, 45, 30) },
        // Seconds are optional.
        { "2026-11-24T13:45Z", Utc(2026, 11, 24, 13, 45) },
        { "2026-11-24T13:45", Utc(2026, 11, 24, 13, 45) },
        // No offset means UTC.
        { "2026-11-24T13:45:30", Utc(2026, 11, 24, 13, 45, 30) },
        { "2026-11-24T13:45:30.5", Utc(2026, 11, 24, 13, 45, 30, 5_000_000) },
        // Offsets in every accepted spelling are subtracted to get UTC.
        { "2026-11-24T13:45:30+05:30", Utc(2026, 11, 24, 8, 15, 30) },
        { "2026-11-24T13:45:30+0530", Utc(2026, 11, 24, 8, 15, 30) },
        { "2026-11-24T13:45:30+05", Utc(2026, 11, 24, 8, 45, 30) },
        { "2026-11-24T13:45:30-08:00", Utc(2026, 11, 24, 21, 45, 30) },
        { "2026-11-24T13:45:30-0800", Utc(2026, 11, 24, 21, 45, 30) },
        { "2026-11-24T13:45:30-08", Utc(2026, 11, 24, 21, 45, 30) },
        { "2026-11-24T13:45:30+00:00", Utc(2026, 11, 24, 13, 45, 30) },
        { "2026-11-24T13:45:30-00:00", Utc(2026, 11, 24, 13, 45, 30) },
        { "2026-11-24T13:45+01:00", Utc(2026, 11, 24, 12, 45) },
        { "2026-11-24T13:45:30+23:59", Utc(2026, 11, 23, 13, 46, 30) },
        // Offsets move the instant across day, month and year ends.
        { "2026-11-24T01:00:00+02:00", Utc(2026, 11, 23, 23, 0) },
        { "2026-12-31T23:30:00-01:00", Utc(2027, 1, 1, 0, 30) },
        { "2024-03-01T00:30:00+01:00", Utc(2024, 2, 29, 23, 30) },
        // Fractions: any number of digits; beyond 100 ns they are truncated, not rounded.
        { "2026-11-24T13:45:30.1Z", Utc(2026, 11, 24, 13, 45, 30, 1_000_000) },
        { "2026-11-24T13:45:30.1234567Z", Utc(2026, 11, 24, 13, 45, 30, 1_234_567) },
        { "2026-11-24T13:45:30.123456789Z", Utc(2026, 11, 24, 13, 45, 30, 1_234_567) },
        { "2026-11-24T13:45:30.99999999999Z", Utc(2026, 11, 24, 13, 45, 30, 9_999_999) },
        { "2026-11-24T13:45:30.000000000000000000000000001Z", Utc(2026, 11, 24, 13, 45, 30) },
        // A comma as decimal sign (ISO 8601), lowercase t and z (RFC 3339), a space for the T.
        { "2026-11-24T13:45:30,5Z", Utc(2026, 11, 24, 13, 45, 30, 5_000_000) },
        { "2026-11-24t13:45:30z", Utc(2026, 11, 24, 13, 45, 30) },
        { "2026-11-24 13:45:30Z", Utc(2026, 11, 24, 13, 45, 30) },
        // Calendar edges.
        { "2024-02-29T00:00:00Z", Utc(2024, 2, 29, 0, 0) },
        { "2000-02-29T23:59:59.9999999Z", Utc(2000, 2, 29, 23, 59, 59, 9_999_999) },
        { "0001-01-01T00:00:00Z", 0 },
        { "9999-12-31T23:59:59.9999999Z", DateTime.MaxValue.Ticks },
    };

    [Theory]
    [MemberData(nameof(AcceptedForms))]
    public void TryParseUtcTicks_ReadsAcceptedForms(string text, long expectedUtcTicks)
    {
        Assert.True(Iso8601.TryParseUtcTicks(text, out var fromString));
        Assert.Equal(expectedUtcTicks, fromString);
        Assert.True(Iso8601.TryParseUtcTicks(Encoding.UTF8.GetBytes(text), out var fromUtf8));
        Assert.Equal(expectedUtcTicks, fromUtf8);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("garbage")]
    // Missing or partial time.
    [InlineData("2026-11-24")]
    [InlineData("2026-11-24T")]
    [InlineData("2026-11-24T13")]
    [InlineData("2026-11-24T13Z")]
    [InlineData("2026-11-24T13:4")]
    [InlineData("2026-11-24T13:45:3")]
    [InlineData("2026-11-24T13:45:")]
    // Bad month, day, hour, minute, second.
    [InlineData("2026-00-24T13:45:30Z")]
    [InlineData("2026-13-24T13:45:30Z")]
    [InlineData("2026-11-00T13:45:30Z")]
    [InlineData("2026-11-31T13:45:30Z")]
    [InlineData("2026-02-29T13:45:30Z")]
    [InlineData("2026-02-30T13:45:30Z")]
    [InlineData("2100-02-29T13:45:30Z")]
    [InlineData("2026-11-24T24:00:00Z")]
    [InlineData("2026-11-24T13:60:00Z")]
    [InlineData("2026-11-24T23:59:60Z")]
    [InlineData("0000-01-01T00:00:00Z")]
    // Wrong separators and widths.
    [InlineData("2026/11/24T13:45:30Z")]
    [InlineData("2026-11-24X13:45:30Z")]
    [InlineData("2026-11-4T13:45:30Z")]
    [InlineData("2026-11-24T1:45:30Z")]
    [InlineData("2026-11-24T13.45.30Z")]
    [InlineData("20261124T134530Z")]
    [InlineData("2026-11-24T13:45:30Z ")]
    [InlineData("２０２６-11-24T13:45:30Z")]
    // Trailing garbage.
    [InlineData("2026-11-24T13:45:30Zjunk")]
    [InlineData("2026-11-24T13:45:30ZZ")]
    [InlineData("2026-11-24T13:45:30+05:30Z")]
    [InlineData("2026-11-24T13:45:30+05:30:00")]
    [InlineData("2026-11-24T13:45:30 UTC")]
    [InlineData("2026-11-24T13:45:30GMT")]
    // Fractions without digits, or where they cannot be.
    [InlineData("2026-11-24T13:45:30.Z")]
    [InlineData("2026-11-24T13:45:30.")]
    [InlineData("2026-11-24T13:45.5Z")]
    [InlineData("2026-11-24T13:45:30.12a")]
    // Bad offsets.
    [InlineData("2026-11-24T13:45:30+")]
    [InlineData("2026-11-24T13:45:30+5")]
    [InlineData("2026-11-24T13:45:30+05:")]
    [InlineData("2026-11-24T13:45:30+05:3")]
    [InlineData("2026-11-24T13:45:30+053")]
    [InlineData("2026-11-24T13:45:30+24:00")]
    [InlineData("2026-11-24T13:45:30+05:60")]
    [InlineData("2026-11-24T13:45:30*05:00")]
    // Instants outside the representable range once converted to UTC.
    [InlineData("0001-01-01T00:00:00+01:00")]
    [InlineData("9999-12-31T23:30:00-01:00")]
    public void TryParseUtcTicks_RejectsWhatIsNotAStrictIsoDateTime(string? text)
    {
        Assert.False(Iso8601.TryParseUtcTicks(text, out var ticks));
        Assert.Equal(0, ticks);
        if (text is not null)
        {
            Assert.False(Iso8601.TryParseUtcTicks(Encoding.UTF8.GetBytes(text), out _));
        }
    }

    private const string DigitCheckBug =
        "bug: Iso8601.IsDigit computes (uint)(b - '0') in a checked context (CheckForOverflowUnderflow is on in Directory.Build.props), "
        + "so any byte below '0' (space, '+', '-', ',', '.') where a digit may stand throws OverflowException instead of returning a result; "
        + "a raw record whose Timestamp has a fraction followed by an offset crashes the run (exit 70) instead of being counted";

    public static TheoryData<string, long> FractionThenOffset => new()
    {
        { "2026-11-24T13:45:30.250-03:30", Utc(2026, 11, 24, 17, 15, 30, 2_500_000) },
        { "2026-11-24T13:45:30.5+05:30", Utc(2026, 11, 24, 8, 15, 30, 5_000_000) },
    };

    [Theory]
    [MemberData(nameof(FractionThenOffset))]
    public void TryParseUtcTicks_ReadsAFractionFollowedByAnOffset(string text, long expectedUtcTicks)
    {
        Assert.True(Iso8601.TryParseUtcTicks(text, out var ticks));
        Assert.Equal(expectedUtcTicks, ticks);
    }

    [Theory]
    [InlineData("2026-1-24T13:45:30Z")]
    [InlineData("26-11-24T13:45:30Z")]
    [InlineData(" 2026-11-24T13:45:30Z")]
    [InlineData("+2026-11-24T13:45:30Z")]
    [InlineData("2026-11-24T13:45:30.1-")]
    public void TryParseUtcTicks_ReturnsFalse_WhenADigitIsExpectedAndAPunctuationMarkStands(string text)
    {
        Assert.False(Iso8601.TryParseUtcTicks(text, out _));
    }

    [Fact]
    public void TryParseUtcTicks_RejectsTextLongerThan64Characters()
    {
        var text = "2026-11-24T13:45:30." + new string('1', 44) + "Z"; // 65 characters

        Assert.False(Iso8601.TryParseUtcTicks(text, out _));
        Assert.False(Iso8601.TryParseUtcTicks(Encoding.UTF8.GetBytes(text), out _));
    }

    [Fact]
    public void TryParseUtcTicks_RejectsNonAsciiTextWithoutOverflowingItsBuffer()
    {
        var text = new string('€', 64); // 192 UTF-8 bytes

        Assert.False(Iso8601.TryParseUtcTicks(text, out _));
    }

    [Fact]
    public void TryParseUtcTicks_ReadsOnlyTheGivenSlice()
    {
        var bytes = "xx2026-11-24T13:45:30Zyy"u8;

        Assert.True(Iso8601.TryParseUtcTicks(bytes[2..^2], out var ticks));
        Assert.Equal(Utc(2026, 11, 24, 13, 45, 30), ticks);
    }
}
