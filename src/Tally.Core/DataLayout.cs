using System.Globalization;

namespace Tally;

/// <summary>
/// Where things live under a data root, as object keys with '/' separators (the same on a folder and in S3):
/// <c>raw_data/year=YYYY/month=MM/day=DD/hour=HH/minute=mm/&lt;any name&gt;</c>,
/// <c>aggregated_data/&lt;table&gt;/year=YYYY/month=MM/day=DD/hour=HH/part-00000.&lt;ext&gt;</c> and
/// <c>quarantine/year=YYYY/month=MM/day=DD/hour=HH/rejected.jsonl</c>.
/// Partition values are written zero-padded and read with or without padding.
/// </summary>
public static class DataLayout
{
    public const string RawPrefix = "raw_data";
    public const string AggregatedPrefix = "aggregated_data";
    public const string QuarantinePrefix = "quarantine";

    /// <summary>The name of the single data file of a table partition, without extension.</summary>
    internal const string PartFileStem = "part-00000";

    /// <summary>The partition keys of the hour, outermost first, with the digits each is written with.</summary>
    public static IReadOnlyList<(string Key, int Width)> HourKeys { get; } = [("year", 4), ("month", 2), ("day", 2), ("hour", 2)];

    /// <summary><c>year=YYYY/month=MM/day=DD/hour=HH</c>, zero-padded.</summary>
    internal static string HourPartition(HourWindow hour) => string.Create(CultureInfo.InvariantCulture,
        $"year={hour.Year:D4}/month={hour.Month:D2}/day={hour.Day:D2}/hour={hour.Hour:D2}");

    /// <summary>The hour's partition values as strings, zero-padded: year, month, day, hour.</summary>
    public static IReadOnlyList<string> HourPartitionValues(HourWindow hour) =>
    [
        hour.Year.ToString("D4", CultureInfo.InvariantCulture), hour.Month.ToString("D2", CultureInfo.InvariantCulture),
        hour.Day.ToString("D2", CultureInfo.InvariantCulture), hour.Hour.ToString("D2", CultureInfo.InvariantCulture),
    ];

    /// <summary>The canonical (zero-padded) raw folder of the hour: <c>raw_data/year=…/hour=HH</c>.</summary>
    public static string RawHourPrefix(HourWindow hour) => $"{RawPrefix}/{HourPartition(hour)}";

    /// <summary>The canonical raw folder of one minute of the hour.</summary>
    public static string RawMinutePrefix(HourWindow hour, int minute) =>
        string.Create(CultureInfo.InvariantCulture, $"{RawHourPrefix(hour)}/minute={minute:D2}");

    /// <summary>The folder of a table's partition for the hour.</summary>
    public static string TablePartitionPrefix(string table, HourWindow hour) => $"{AggregatedPrefix}/{table}/{HourPartition(hour)}";

    /// <summary>The one file of a table for the hour.</summary>
    public static string TableFile(AggregationSpec spec, HourWindow hour) =>
        $"{TablePartitionPrefix(spec.Table, hour)}/{PartFileStem}.{spec.FileExtension}";

    /// <summary>The file holding the hour's rejected records.</summary>
    public static string QuarantineFile(HourWindow hour) => $"{QuarantinePrefix}/{HourPartition(hour)}/rejected.jsonl";

    /// <summary>
    /// Reads one <c>key=value</c> path segment whose value is a non-negative integer, padded or not
    /// (<c>month=1</c> and <c>month=01</c> both give 1).
    /// </summary>
    public static bool TryParseSegment(ReadOnlySpan<char> segment, string key, out int value)
    {
        value = 0;
        if (segment.Length <= key.Length + 1 || !segment.StartsWith(key, StringComparison.Ordinal) || segment[key.Length] != '=') return false;
        var digits = segment[(key.Length + 1)..];
        if (digits.Length > 9) return false;
        foreach (var c in digits)
        {
            if (c is < '0' or > '9') return false;
        }
        value = int.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        return true;
    }

    /// <summary>
    /// Reads the hour and minute of a raw file key such as <c>raw_data/year=2026/month=1/day=05/hour=7/minute=3/x.json</c>.
    /// </summary>
    public static bool TryParseRawKey(string key, out HourWindow hour, out int minute)
    {
        hour = default;
        minute = 0;
        var parts = key.Split('/');
        if (parts.Length < 7 || parts[0] != RawPrefix) return false;
        if (!TryParseSegment(parts[1], "year", out var y) || !TryParseSegment(parts[2], "month", out var mo)
            || !TryParseSegment(parts[3], "day", out var d) || !TryParseSegment(parts[4], "hour", out var h)
            || !TryParseSegment(parts[5], "minute", out minute) || minute > 59)
        {
            return false;
        }
        return TryHour(y, mo, d, h, out hour);
    }

    /// <summary>The hour with these partition values, when they form a valid UTC date and hour.</summary>
    internal static bool TryHour(int year, int month, int day, int hour, out HourWindow window)
    {
        window = default;
        if (year is < 1 or > 9999 || month is < 1 or > 12 || hour is < 0 or > 23 || day < 1 || day > DateTime.DaysInMonth(year, month)) return false;
        window = HourWindow.FromParts(year, month, day, hour);
        return true;
    }

    /// <summary>
    /// Whether a file in a raw <c>minute=</c> folder is data: every name is, whatever its extension (Kinesis Firehose writes
    /// names without one), except those that start with <c>.</c> or <c>_</c> (Hive's rule for hidden and marker files such as
    /// <c>_SUCCESS</c>, which Athena and Spark follow). What the file holds is told from its first bytes when it is read.
    /// </summary>
    public static bool IsRawDataFile(string name) => name.Length > 0 && !name.StartsWith('.') && !name.StartsWith('_');
}
