using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Tally;

/// <summary>
/// One whole UTC hour, [<see cref="Start"/>, <see cref="End"/>): the unit Tally processes, partitions and reports on.
/// </summary>
/// <remarks>
/// The scheduled pipeline processes the hour before the one it fires in:
/// <c>target hour = floor_to_hour(scheduled_time − 1 h)</c>, see <see cref="WorkflowContract.TargetHour(DateTimeOffset)"/>.
/// Values are immutable and compare by their start instant.
/// </remarks>
public readonly record struct HourWindow : IComparable<HourWindow>
{
    private const string CanonicalFormat = "yyyy-MM-dd'T'HH";

    private HourWindow(DateTimeOffset startUtc) => Start = startUtc;

    /// <summary>The first instant of the hour, in UTC (offset zero).</summary>
    public DateTimeOffset Start { get; }

    /// <summary>The first instant after the hour, in UTC (exclusive end).</summary>
    public DateTimeOffset End => Start.AddHours(1);

    public int Year => Start.Year;
    public int Month => Start.Month;
    public int Day => Start.Day;
    public int Hour => Start.Hour;

    /// <summary>The hour that contains <paramref name="instant"/>, after converting it to UTC.</summary>
    public static HourWindow Containing(DateTimeOffset instant)
    {
        var utc = instant.ToUniversalTime();
        return new HourWindow(new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero));
    }

    /// <summary>The hour starting at <paramref name="year"/>-<paramref name="month"/>-<paramref name="day"/>T<paramref name="hour"/> UTC.</summary>
    /// <exception cref="ArgumentOutOfRangeException">When the parts do not form a valid date and hour.</exception>
    public static HourWindow FromParts(int year, int month, int day, int hour) =>
        new(new DateTimeOffset(year, month, day, hour, 0, 0, TimeSpan.Zero));

    /// <summary>The hour <paramref name="hours"/> hours later (earlier when negative).</summary>
    public HourWindow AddHours(int hours) => new(Start.AddHours(hours));

    /// <summary>Whether <paramref name="utcTicks"/> (ticks of a UTC instant) falls inside the hour.</summary>
    internal bool ContainsUtcTicks(long utcTicks) => utcTicks >= Start.UtcTicks && utcTicks < End.UtcTicks;

    /// <summary>Whether <paramref name="instant"/> falls inside the hour.</summary>
    internal bool Contains(DateTimeOffset instant) => ContainsUtcTicks(instant.UtcTicks);

    /// <summary>
    /// Parses an hour given as <c>2026-11-24T13</c>, <c>2026-11-24T13Z</c>, <c>2026-11-24T13:00[:00][Z]</c>, or
    /// <c>2026-11-24T14:00[:00]+01:00</c> (an offset needs the minutes; the time is converted to UTC).
    /// Minutes and seconds must be zero, and so must they be after the conversion to UTC.
    /// </summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out HourWindow hour)
    {
        hour = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var s = text.Trim();
        string[] formats =
        [
            "yyyy-MM-dd'T'HH", "yyyy-MM-dd'T'HH'Z'", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm'Z'",
            "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mmzzz", "yyyy-MM-dd'T'HH:mm:sszzz",
        ];
        if (!DateTimeOffset.TryParseExact(s, formats, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            return false;
        }
        if (parsed.Minute != 0 || parsed.Second != 0 || parsed.Millisecond != 0) return false;
        hour = Containing(parsed);
        return true;
    }

    /// <summary>Parses like <see cref="TryParse"/>.</summary>
    /// <exception cref="TallyException">When <paramref name="text"/> is not a whole hour.</exception>
    public static HourWindow Parse(string text) =>
        TryParse(text, out var hour)
            ? hour
            : throw TallyException.InvalidArgument($"'{text}' is not an hour; write it as yyyy-MM-ddTHH in UTC, for example 2026-11-24T13.");

    /// <summary>Every hour from <paramref name="from"/> (inclusive) to <paramref name="to"/> (exclusive), oldest first.</summary>
    public static IEnumerable<HourWindow> Range(HourWindow from, HourWindow to)
    {
        for (var h = from; h < to; h = h.AddHours(1)) yield return h;
    }

    public int CompareTo(HourWindow other) => Start.CompareTo(other.Start);

    public static bool operator <(HourWindow left, HourWindow right) => left.CompareTo(right) < 0;
    public static bool operator >(HourWindow left, HourWindow right) => left.CompareTo(right) > 0;
    public static bool operator <=(HourWindow left, HourWindow right) => left.CompareTo(right) <= 0;
    public static bool operator >=(HourWindow left, HourWindow right) => left.CompareTo(right) >= 0;

    /// <summary>The canonical text, <c>2026-11-24T13</c> (UTC).</summary>
    public override string ToString() => Start.ToString(CanonicalFormat, CultureInfo.InvariantCulture);
}
