using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Tally.Query;

/// <summary>
/// The limits of SQL (section <c>Query</c>): of each statement of <c>tally query</c> and of the dashboard (time, memory), and of
/// the dashboard's queries together (how many run and wait at once, rows per answer).
/// </summary>
public sealed class QuerySettings
{
    /// <summary>The settings section these are bound from.</summary>
    public const string Section = "Query";

    /// <summary>How long one statement may run, its rows read included, before it is interrupted.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>DuckDB's memory limit for one statement, a number and a unit: <c>B</c>, <c>KB</c>, <c>MB</c>, <c>GB</c>,
    /// <c>TB</c> (powers of 1000) or <c>KiB</c>, <c>MiB</c>, <c>GiB</c>, <c>TiB</c> (powers of 1024).</summary>
    public string MemoryLimit { get; set; } = "1GiB";

    /// <summary>The most rows <c>POST /api/query</c> answers with; the answer says when there were more.</summary>
    public int MaxRows { get; set; } = 1000;

    /// <summary>Dashboard queries (the SQL page, the charts) running at once, each on one DuckDB thread of low CPU priority.</summary>
    public int MaxConcurrent { get; set; } = 2;

    /// <summary>Dashboard queries waiting for one of the <see cref="MaxConcurrent"/> slots, each for at most <see cref="Timeout"/> plus a second; more are refused (503).</summary>
    public int MaxQueued { get; set; } = 16;

    /// <summary>For S3 data: how long a query waits for the local cache another process is bringing up to date.</summary>
    public TimeSpan CacheLockTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The smallest memory limit accepted (reading the raw JSON needs more: DuckDB's JSON reader takes 32 MiB buffers).</summary>
    internal const long MinMemoryLimit = 16L << 20;

    /// <summary>The limits of one statement, with <paramref name="threads"/> DuckDB threads (0 = one per core).</summary>
    /// <exception cref="TallyException">InvalidConfiguration when <see cref="MemoryLimit"/> is not a size.</exception>
    public QueryLimits Limits(int threads = 0) => new(Timeout, MemoryLimitBytes(), threads) { CacheLockTimeout = CacheLockTimeout };

    private long MemoryLimitBytes() => TryParseBytes(MemoryLimit, out var bytes)
        ? bytes
        : throw TallyException.InvalidConfiguration($"Query:MemoryLimit '{MemoryLimit}' is not a size; write a number and a unit, for example 1GiB or 512MB.");

    /// <summary>Reads a size as DuckDB writes them: a number (decimals allowed), optional spaces, a unit (case-insensitive).</summary>
    internal static bool TryParseBytes(string? text, out long bytes)
    {
        bytes = 0;
        var match = Regex.Match(text ?? "", @"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?B|B)\s*$",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        if (!match.Success) return false;
        var unit = match.Groups[2].Value.ToUpperInvariant();
        var power = "BKMGT".IndexOf(unit[0], StringComparison.Ordinal);
        var scale = Math.Pow(unit.Contains('I', StringComparison.Ordinal) ? 1024 : 1000, power);
        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) * scale;
        if (value >= long.MaxValue) return false;
        bytes = (long)value;
        return true;
    }
}

/// <summary>The rules of the <c>Query</c> section, checked once when the settings are loaded.</summary>
internal sealed class QuerySettingsValidator : IValidateOptions<QuerySettings>
{
    public ValidateOptionsResult Validate(string? name, QuerySettings options)
    {
        var failures = new List<string>();
        if (options.Timeout <= TimeSpan.Zero) failures.Add("Query:Timeout must be positive.");
        if (!QuerySettings.TryParseBytes(options.MemoryLimit, out var bytes))
        {
            failures.Add($"Query:MemoryLimit '{options.MemoryLimit}' is not a size; write a number and a unit, for example 1GiB or 512MB.");
        }
        else if (bytes < QuerySettings.MinMemoryLimit)
        {
            failures.Add($"Query:MemoryLimit must be at least 16MiB, not '{options.MemoryLimit}'.");
        }
        if (options.MaxRows < 1) failures.Add("Query:MaxRows must be 1 or more.");
        if (options.MaxConcurrent < 1) failures.Add("Query:MaxConcurrent must be 1 or more.");
        if (options.MaxQueued < 0) failures.Add("Query:MaxQueued must be 0 or more.");
        if (options.CacheLockTimeout < TimeSpan.Zero) failures.Add("Query:CacheLockTimeout must be 0 or more.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
