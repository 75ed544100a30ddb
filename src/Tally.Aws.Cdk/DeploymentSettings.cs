using System.Globalization;
using Constructs;

namespace Tally.Aws.Cdk;

/// <summary>
/// What a deployment can change, read from CDK context (<c>cdk deploy -c tally:glueWorkers=4</c> or <c>cdk.json</c>).
/// </summary>
/// <param name="RepositoryRoot">The folder holding <c>cdk.json</c>, <c>glue/</c>, <c>demo/</c> and <c>src/</c>.</param>
/// <param name="GlueWorkers">G.1X workers of the Glue job (<c>tally:glueWorkers</c>, 2 to 100, default 2).</param>
/// <param name="GlueTimeoutMinutes">Glue job timeout in minutes (<c>tally:glueTimeoutMinutes</c>, 5 to 240, default 60).</param>
/// <param name="GlueMaxConcurrentRuns">
/// Glue runs at once, of different hours (<c>tally:glueMaxConcurrentRuns</c>, 1 to 50, default 4); one hour never runs twice
/// at once whatever this is (the state machine's lease).
/// </param>
/// <param name="GlueThresholdBytes">
/// Hours whose raw input is larger than this go to Glue, the others to the AggregateHour Lambda function
/// (<c>tally:glueThresholdGb</c>, in GB of 10^9 bytes, 0 to 10, default 4; 0 sends every hour with data to Glue).
/// </param>
/// <param name="AthenaScanLimitBytes">
/// The Athena workgroup's cutoff: a query that would scan more is cancelled (<c>tally:athenaScanLimitGb</c>, in GB of 10^9
/// bytes, 0.01 to 10000, default 10).
/// </param>
/// <param name="AlertEmail">An address subscribed to failure alerts (<c>tally:alertEmail</c>), or null for none.</param>
/// <param name="ScheduleEnabled">
/// Whether the hourly schedule starts the state machine (<c>tally:schedule</c>, <c>enabled</c> or <c>disabled</c>, default
/// enabled); disable it and let the runs end before <c>cdk destroy</c>.
/// </param>
/// <param name="LambdaAssetDirectory">
/// A folder to deploy as the Lambda functions' code instead of publishing <c>src/Tally.Aws.Lambda</c> at synth
/// (<c>tally:lambdaAssetDir</c>; tests use it to skip the publish), or null.
/// </param>
/// <param name="ProjectionYears">
/// The first and last year Athena's partition projection enumerates (<c>tally:projectionYears</c>, default 2025,2030, at most
/// ten years): 8,928 hour partitions a year, per table.
/// </param>
/// <param name="Declaration">
/// The source schema, aggregations, rejected threshold and catalog database names of Tally's settings file
/// (<c>tally:settings</c>, a path relative to <paramref name="RepositoryRoot"/> or absolute), read and validated at synth;
/// the seed's without a file.
/// </param>
internal sealed record DeploymentSettings(
    string RepositoryRoot,
    int GlueWorkers,
    int GlueTimeoutMinutes,
    int GlueMaxConcurrentRuns,
    long GlueThresholdBytes,
    long AthenaScanLimitBytes,
    string? AlertEmail,
    bool ScheduleEnabled,
    string? LambdaAssetDirectory,
    (int First, int Last) ProjectionYears,
    TallyOptions Declaration)
{
    public const string GlueWorkersKey = "tally:glueWorkers";
    public const string GlueTimeoutKey = "tally:glueTimeoutMinutes";
    public const string GlueMaxConcurrentRunsKey = "tally:glueMaxConcurrentRuns";
    public const string GlueThresholdKey = "tally:glueThresholdGb";
    public const string AthenaScanLimitKey = "tally:athenaScanLimitGb";
    public const string AlertEmailKey = "tally:alertEmail";
    public const string ScheduleKey = "tally:schedule";
    public const string LambdaAssetDirKey = "tally:lambdaAssetDir";
    public const string ProjectionYearsKey = "tally:projectionYears";
    public const string SettingsKey = "tally:settings";

    /// <summary>The most years the partition projection may span.</summary>
    public const int MaxProjectionYears = 10;

    /// <summary>
    /// The state machine's timeout: one Glue run, up to about 45 minutes of waiting for a free Glue run slot, and the
    /// Lambda steps (the AggregateHour function stops at 15 minutes). Data errors are not retried.
    /// </summary>
    public int StateMachineTimeoutMinutes => GlueTimeoutMinutes + 90;

    /// <summary>
    /// How long an hour's lease lasts: the state machine's timeout, so a lease outlives its execution only when that execution
    /// ended without releasing it (a timeout or an abort), and never by more than this.
    /// </summary>
    public int LeaseSeconds => StateMachineTimeoutMinutes * 60;

    /// <exception cref="TallyException">
    /// When a value is out of range, the settings file does not exist or is not valid, or the repository root cannot be found.
    /// </exception>
    public static DeploymentSettings FromContext(Node node)
    {
        var years = Text(node, ProjectionYearsKey) ?? "2025,2030";
        var parts = years.Split(',');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var last)
            || first < 2000 || last > 2200 || first > last || last - first >= MaxProjectionYears)
        {
            throw TallyException.InvalidConfiguration(
                $"{ProjectionYearsKey} '{years}' must be two years, first,last, between 2000 and 2200 and at most {MaxProjectionYears} years apart (first included).");
        }
        var root = FindRepositoryRoot();
        var settingsFile = Text(node, SettingsKey);
        return new DeploymentSettings(
            root,
            Number(node, GlueWorkersKey, 2, 2, 100),
            Number(node, GlueTimeoutKey, 60, 5, 240),
            Number(node, GlueMaxConcurrentRunsKey, 4, 1, 50),
            Gigabytes(node, GlueThresholdKey, 4, 0, 10),
            Gigabytes(node, AthenaScanLimitKey, 10, 0.01, 10_000),
            Text(node, AlertEmailKey),
            (Text(node, ScheduleKey) ?? "enabled") switch
            {
                "enabled" => true,
                "disabled" => false,
                var other => throw TallyException.InvalidConfiguration($"{ScheduleKey} '{other}' must be enabled or disabled."),
            },
            Text(node, LambdaAssetDirKey),
            (first, last),
            settingsFile is null ? new TallyOptions() : SettingsFile.Read(Path.Combine(root, settingsFile), settingsFile));
    }

    private static string? Text(Node node, string key) =>
        node.TryGetContext(key)?.ToString() is { Length: > 0 } s ? s.Trim() : null;

    private static int Number(Node node, string key, int fallback, int min, int max)
    {
        var text = Text(node, key);
        if (text is null) return fallback;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw TallyException.InvalidConfiguration($"{key} '{text}' must be a whole number from {min} to {max}.");
        }
        return value;
    }

    /// <summary>A size in GB (10^9 bytes, a decimal number such as 0.5) as bytes.</summary>
    private static long Gigabytes(Node node, string key, double fallback, double min, double max)
    {
        var text = Text(node, key);
        if (text is null) return checked((long)(fallback * 1e9));
        if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw TallyException.InvalidConfiguration($"{key} '{text}' must be a number of GB from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}.");
        }
        return checked((long)Math.Round(value * 1e9));
    }

    /// <summary>The nearest folder holding <c>cdk.json</c>, above the working folder or the app's binaries.</summary>
    private static string FindRepositoryRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "cdk.json")) && Directory.Exists(Path.Combine(dir.FullName, "glue")))
                {
                    return dir.FullName;
                }
            }
        }
        throw TallyException.NotFound("Cannot find the repository root (the folder with cdk.json and glue/); run the CDK app from the repository.");
    }
}
