using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Tally.Query;

namespace Tally.Configuration;

/// <summary>
/// Everything a run, its retries, its lease and its events are configured with, in one place: bound from
/// <c>&lt;state&gt;/settings.json</c> (or a file named with <c>--settings</c>) and then from environment variables prefixed
/// <c>TALLY_</c>, with <c>__</c> for nesting (<c>TALLY_Events__Webhook__Url</c>). Later sources win; command-line options win
/// over both. Durations are .NET time spans (<c>"00:00:30"</c>). See the README's Configuration section.
/// </summary>
public sealed class TallySettings
{
    /// <summary>The settings file's name inside the state directory.</summary>
    internal const string FileName = "settings.json";

    /// <summary>The prefix of the environment variables that are read.</summary>
    internal const string EnvironmentPrefix = "TALLY_";

    /// <summary>The largest share of rejected records a run accepts (0.01 = 1 %).</summary>
    public double RejectedThreshold { get; set; } = 0.01;

    /// <summary>Raw files read at once; 0 = one per core.</summary>
    public int Parallelism { get; set; }

    public RetrySettings Retry { get; set; } = new();

    public LeaseSettings Lease { get; set; } = new();

    public EventSettings Events { get; set; } = new();

    /// <summary>The data location (a folder or <c>s3://bucket/prefix</c>) when <c>--data</c> is not given. Read from a settings
    /// file given with <c>--settings</c> and from <c>TALLY_Data</c> (the default settings file lives inside the data, so it
    /// cannot name it).</summary>
    public string? Data { get; set; }

    /// <summary>How to reach S3 data; each value overrides the AWS environment (AWS_ENDPOINT_URL, AWS_REGION, ...).</summary>
    public S3ConnectionSettings S3 { get; set; } = new();

    public ScheduleSettings Schedule { get; set; } = new();

    public DashboardSettings Dashboard { get; set; } = new();

    public QuerySettings Query { get; set; } = new();

    /// <summary>The declared raw record (see the README's "Your own data"); the seed's when absent.</summary>
    public SourceSettings? Source { get; set; }

    /// <summary>The aggregated tables; the seed's three when absent.</summary>
    public List<AggregationSettings>? Aggregations { get; set; }

    /// <summary>The catalog's database names.</summary>
    public CatalogSettings Catalog { get; set; } = new();

    /// <summary>The engine options these settings imply (the declaration is resolved once; the rest read each time).</summary>
    /// <exception cref="TallyException">InvalidConfiguration when the declaration is not valid.</exception>
    public TallyOptions ToOptions()
    {
        var (schema, aggregations) = _declaration ??= Declaration();
        return new()
        {
            RejectedThreshold = RejectedThreshold,
            MaxParallelism = Parallelism,
            Source = schema,
            Aggregations = aggregations,
            RawDatabase = Catalog.RawDatabase,
            AggregatedDatabase = Catalog.AggregatedDatabase,
        };
    }

    private (SourceSchema, IReadOnlyList<AggregationSpec>)? _declaration;

    private (SourceSchema, IReadOnlyList<AggregationSpec>) Declaration()
    {
        var schema = DeclarationBinder.Schema(Source);
        return (schema, DeclarationBinder.Aggregations(Aggregations, schema));
    }

    /// <summary>
    /// Reads the settings: <paramref name="settingsFile"/> when given (it must exist), else <c>settings.json</c> in
    /// <paramref name="stateDirectory"/> when it exists; then the <c>TALLY_</c> environment variables.
    /// </summary>
    /// <exception cref="TallyException">InvalidConfiguration when the file is not valid JSON or a value has the wrong type or range; NotFound when <paramref name="settingsFile"/> does not exist.</exception>
    public static TallySettings Load(string stateDirectory, string? settingsFile = null)
    {
        var path = Path.GetFullPath(settingsFile ?? Path.Combine(stateDirectory, FileName));
        if (settingsFile is not null && !File.Exists(path)) throw TallyException.NotFound($"The settings file '{settingsFile}' does not exist.");
        TallySettings settings;
        try
        {
            var configuration = new ConfigurationBuilder()
                .AddJsonFile(path, optional: true, reloadOnChange: false)
                .AddEnvironmentVariables(EnvironmentPrefix)
                .Build();
            settings = configuration.Get<TallySettings>() ?? new TallySettings();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or InvalidDataException)
        {
            throw TallyException.InvalidConfiguration($"The settings ('{path}' and the {EnvironmentPrefix} environment variables) are not valid: {(e.InnerException ?? e).Message}");
        }
        settings.Validate();
        return settings;
    }

    /// <summary>
    /// The data location named by <paramref name="settingsFile"/> or the <c>TALLY_Data</c> variable, before anything else is
    /// known (the default settings file is inside the data's state directory, so only these two can name the data).
    /// </summary>
    /// <exception cref="TallyException">NotFound when <paramref name="settingsFile"/> does not exist.</exception>
    public static string? DataLocation(string? settingsFile)
    {
        var builder = new ConfigurationBuilder();
        if (settingsFile is not null)
        {
            var path = Path.GetFullPath(settingsFile);
            if (!File.Exists(path)) throw TallyException.NotFound($"The settings file '{settingsFile}' does not exist.");
            builder.AddJsonFile(path, optional: false, reloadOnChange: false);
        }
        try
        {
            var data = builder.AddEnvironmentVariables(EnvironmentPrefix).Build()[nameof(Data)];
            return string.IsNullOrWhiteSpace(data) ? null : data;
        }
        catch (Exception e) when (e is InvalidDataException or FormatException)
        {
            throw TallyException.InvalidConfiguration($"The settings file '{settingsFile}' is not valid JSON: {(e.InnerException ?? e).Message}");
        }
    }

    /// <summary>Checks every value.</summary>
    /// <exception cref="TallyException">InvalidConfiguration with the first problem found.</exception>
    public void Validate()
    {
        ToOptions().Validate();
        if (Retry.MaxAttempts < 1) throw Invalid("Retry:MaxAttempts must be 1 or more.");
        if (Retry.InitialDelay < TimeSpan.Zero || Retry.MaxDelay < Retry.InitialDelay) throw Invalid("Retry:InitialDelay must be 0 or more and Retry:MaxDelay at least as long.");
        if (Lease.Ttl <= TimeSpan.Zero || Lease.Heartbeat <= TimeSpan.Zero || Lease.Heartbeat >= Lease.Ttl) throw Invalid("Lease:Heartbeat must be shorter than Lease:Ttl, and both positive.");
        var delivery = Events.Delivery;
        if (delivery.InitialBackoff <= TimeSpan.Zero || delivery.MaxBackoff < delivery.InitialBackoff) throw Invalid("Events:Delivery:InitialBackoff must be positive and Events:Delivery:MaxBackoff at least as long.");
        if (delivery.Expiry <= TimeSpan.Zero || delivery.WaitAfterRun < TimeSpan.Zero) throw Invalid("Events:Delivery:Expiry must be positive and Events:Delivery:WaitAfterRun 0 or more.");
        Schedule.Validate();
        Query.Validate();
        if (Events.Webhook.Url is { Length: > 0 } url)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")) throw Invalid($"Events:Webhook:Url '{url}' is not an http or https URL.");
            if (string.IsNullOrEmpty(Events.Webhook.Secret)) throw Invalid("Events:Webhook:Secret must be set when Events:Webhook:Url is (the HMAC key of X-Tally-Signature).");
            if (Events.Webhook.Timeout <= TimeSpan.Zero) throw Invalid("Events:Webhook:Timeout must be positive.");
            if (Events.Webhook.Timeout >= DeliverySettings.ClaimTime)
            {
                throw Invalid($"Events:Webhook:Timeout must be less than {DeliverySettings.ClaimTime:c}, the time a delivery attempt is claimed for.");
            }
        }
    }

    private static TallyException Invalid(string message) => TallyException.InvalidConfiguration(message);
}

/// <summary>The S3 connection keys of the settings (section <c>S3</c>); unset values fall back to the AWS environment.</summary>
public sealed class S3ConnectionSettings
{
    /// <summary>A custom endpoint (MinIO, Ceph, R2, ...), e.g. <c>http://127.0.0.1:9000</c>.</summary>
    public string? Endpoint { get; set; }

    /// <summary>Path-style addressing (endpoint/bucket/key); default true with a custom endpoint.</summary>
    public bool? PathStyle { get; set; }

    /// <summary>The region (the signing region with a custom endpoint).</summary>
    public string? Region { get; set; }

    /// <summary>A profile of the shared AWS config files.</summary>
    public string? Profile { get; set; }
}

/// <summary>How AggregateHour is retried after a transient failure (I/O, storage throttling or 5xx).</summary>
public sealed class RetrySettings
{
    /// <summary>Attempts in all, the first included; 1 = no retry.</summary>
    public int MaxAttempts { get; set; } = WorkflowContract.AggregateHourRetry.MaxAttempts;

    /// <summary>The wait before the second attempt; it doubles for each further one.</summary>
    public TimeSpan InitialDelay { get; set; } = WorkflowContract.AggregateHourRetry.InitialDelay;

    /// <summary>The longest wait between two attempts.</summary>
    public TimeSpan MaxDelay { get; set; } = WorkflowContract.AggregateHourRetry.MaxDelay;

    /// <summary>These settings as the policy the AggregateHour Lambda function applies by default.</summary>
    internal RetryPolicy ToPolicy() => new(MaxAttempts, InitialDelay, MaxDelay);
}

/// <summary>The lease that lets at most one run of an hour go on at a time, across processes.</summary>
public sealed class LeaseSettings
{
    /// <summary>How long a lease lives without a heartbeat; a holder that died loses it after this.</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a running run renews its lease.</summary>
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>Which events are published and where they are delivered.</summary>
public sealed class EventSettings
{
    /// <summary>Whether a succeeded run publishes an event too (failures always do).</summary>
    public bool PublishSuccess { get; set; }

    /// <summary>The envelope's <c>account</c>.</summary>
    public string Account { get; set; } = "000000000000";

    /// <summary>The envelope's <c>region</c>.</summary>
    public string Region { get; set; } = "local";

    public WebhookSettings Webhook { get; set; } = new();

    public FileSinkSettings File { get; set; } = new();

    public LogSinkSettings Log { get; set; } = new();

    public DeliverySettings Delivery { get; set; } = new();
}

/// <summary>The webhook sink: an HTTP POST of the event's JSON, signed with HMAC-SHA256.</summary>
public sealed class WebhookSettings
{
    /// <summary>Where events are posted; no webhook when empty.</summary>
    public string? Url { get; set; }

    /// <summary>The HMAC-SHA256 key of the <c>X-Tally-Signature</c> header.</summary>
    public string? Secret { get; set; }

    /// <summary>How long one attempt may take.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>The file sink: one JSON line per event, appended.</summary>
public sealed class FileSinkSettings
{
    /// <summary>The JSON Lines file; relative paths are relative to the state directory; no file sink when empty.</summary>
    public string? Path { get; set; }
}

/// <summary>The log sink: one line per event on stderr.</summary>
public sealed class LogSinkSettings
{
    public bool Enabled { get; set; }
}

/// <summary>How stored events are delivered to the sinks.</summary>
public sealed class DeliverySettings
{
    /// <summary>How long a dispatcher holds a delivery it is attempting (not a setting): an attempt (a webhook's timeout) must be shorter.</summary>
    internal static readonly TimeSpan ClaimTime = TimeSpan.FromMinutes(2);

    /// <summary>The wait after the first failed attempt; it doubles (with ±20 % jitter) up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long after an event is stored its delivery is still attempted.</summary>
    public TimeSpan Expiry { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long <c>tally run</c> keeps delivering at its end before leaving the rest to the next process.</summary>
    public TimeSpan WaitAfterRun { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>When <c>tally serve</c> runs the workflow, what it catches up and reprocesses, and how many runs at once.</summary>
public sealed class ScheduleSettings
{
    /// <summary>The schedule, a cron expression in UTC: five fields, or six with seconds first. Each tick processes the hour before it.</summary>
    public string Cron { get; set; } = "0 * * * *";

    /// <summary>How long after a tick its run starts, so files of the hour that arrive late can land first. The hour processed stays the tick's.</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.Zero;

    /// <summary>At start, ticks missed since the last scheduled run are run, but none older than this.</summary>
    public TimeSpan CatchUpWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>After each tick, the hours ended within this span whose raw input changed since they were processed are run again.</summary>
    public TimeSpan LateDataLookBack { get; set; } = TimeSpan.FromHours(6);

    /// <summary>Runs at once, of different hours.</summary>
    public int MaxConcurrentRuns { get; set; } = 2;

    /// <summary>A run still going after this long is cancelled and recorded as timed out.</summary>
    public TimeSpan RunTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Checks every value.</summary>
    /// <exception cref="TallyException">InvalidConfiguration with the first problem found.</exception>
    internal void Validate()
    {
        CronSchedule.Parse(Cron, "Schedule:Cron");
        if (Delay < TimeSpan.Zero || Delay >= TimeSpan.FromDays(1)) throw TallyException.InvalidConfiguration("Schedule:Delay must be 0 or more and less than a day.");
        if (CatchUpWindow < TimeSpan.Zero) throw TallyException.InvalidConfiguration("Schedule:CatchUpWindow must be 0 or more (0 = no catch-up).");
        if (LateDataLookBack < TimeSpan.Zero) throw TallyException.InvalidConfiguration("Schedule:LateDataLookBack must be 0 or more (0 = no late-data runs).");
        if (MaxConcurrentRuns < 1) throw TallyException.InvalidConfiguration("Schedule:MaxConcurrentRuns must be 1 or more.");
        if (RunTimeout <= TimeSpan.Zero) throw TallyException.InvalidConfiguration("Schedule:RunTimeout must be positive.");
    }
}

/// <summary>
/// The limits of SQL (section <c>Query</c>): of each statement of <c>tally query</c> and of the dashboard (time, memory), and of
/// the dashboard's queries together (how many run and wait at once, rows per answer).
/// </summary>
public sealed class QuerySettings
{
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

    /// <summary>The smallest memory limit accepted (reading the raw JSON needs more: DuckDB's JSON reader takes 32 MiB buffers).</summary>
    internal const long MinMemoryLimit = 16L << 20;

    /// <summary>The limits of one statement, with <paramref name="threads"/> DuckDB threads (0 = one per core).</summary>
    /// <exception cref="TallyException">InvalidConfiguration when <see cref="MemoryLimit"/> is not a size.</exception>
    public QueryLimits Limits(int threads = 0) => new(Timeout, MemoryLimitBytes(), threads);

    /// <summary>Checks every value.</summary>
    /// <exception cref="TallyException">InvalidConfiguration with the first problem found.</exception>
    internal void Validate()
    {
        if (Timeout <= TimeSpan.Zero) throw TallyException.InvalidConfiguration("Query:Timeout must be positive.");
        if (MemoryLimitBytes() < MinMemoryLimit) throw TallyException.InvalidConfiguration($"Query:MemoryLimit must be at least 16MiB, not '{MemoryLimit}'.");
        if (MaxRows < 1) throw TallyException.InvalidConfiguration("Query:MaxRows must be 1 or more.");
        if (MaxConcurrent < 1) throw TallyException.InvalidConfiguration("Query:MaxConcurrent must be 1 or more.");
        if (MaxQueued < 0) throw TallyException.InvalidConfiguration("Query:MaxQueued must be 0 or more.");
    }

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
