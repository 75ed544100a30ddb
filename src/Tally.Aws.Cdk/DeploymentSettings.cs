using System.Globalization;
using Constructs;

namespace Tally.Aws.Cdk;

/// <summary>
/// What a deployment can change, read from CDK context (<c>cdk deploy -c tally:glueWorkers=4</c> or <c>cdk.json</c>).
/// </summary>
/// <param name="RepositoryRoot">The folder holding <c>cdk.json</c>, <c>glue/</c>, <c>demo/</c> and <c>src/</c>.</param>
/// <param name="GlueWorkers">G.1X workers of the Glue job (<c>tally:glueWorkers</c>, 2 to 100, default 2).</param>
/// <param name="GlueTimeoutMinutes">Glue job timeout in minutes (<c>tally:glueTimeoutMinutes</c>, 5 to 240, default 60).</param>
/// <param name="AlertEmail">An address subscribed to failure alerts (<c>tally:alertEmail</c>), or null for none.</param>
/// <param name="LambdaAssetDirectory">
/// A folder to deploy as the Lambda's code instead of publishing <c>src/Tally.Aws.Lambda</c> at synth
/// (<c>tally:lambdaAssetDir</c>; tests use it to skip the publish), or null.
/// </param>
/// <param name="ProjectionYears">The first and last year Athena's partition projection enumerates (<c>tally:projectionYears</c>, default 2025,2035).</param>
/// <param name="Declaration">
/// The source schema, aggregations and catalog database names of Tally's settings file (<c>tally:settings</c>, a path
/// relative to <paramref name="RepositoryRoot"/> or absolute), read and validated at synth; the seed's without a file.
/// </param>
internal sealed record DeploymentSettings(
    string RepositoryRoot,
    int GlueWorkers,
    int GlueTimeoutMinutes,
    string? AlertEmail,
    string? LambdaAssetDirectory,
    (int First, int Last) ProjectionYears,
    TallyOptions Declaration)
{
    public const string GlueWorkersKey = "tally:glueWorkers";
    public const string GlueTimeoutKey = "tally:glueTimeoutMinutes";
    public const string AlertEmailKey = "tally:alertEmail";
    public const string LambdaAssetDirKey = "tally:lambdaAssetDir";
    public const string ProjectionYearsKey = "tally:projectionYears";
    public const string SettingsKey = "tally:settings";

    /// <summary>The state machine's timeout: two Glue attempts, the waits between retries, and the Lambda.</summary>
    public int StateMachineTimeoutMinutes => 2 * GlueTimeoutMinutes + 90;

    /// <exception cref="TallyException">
    /// When a value is out of range, the settings file does not exist or is not valid, or the repository root cannot be found.
    /// </exception>
    public static DeploymentSettings FromContext(Node node)
    {
        var years = Text(node, ProjectionYearsKey) ?? "2025,2035";
        var parts = years.Split(',');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var last)
            || first < 2000 || last > 2200 || first > last)
        {
            throw TallyException.InvalidConfiguration($"{ProjectionYearsKey} '{years}' must be two years, first,last, between 2000 and 2200.");
        }
        var root = FindRepositoryRoot();
        var settingsFile = Text(node, SettingsKey);
        return new DeploymentSettings(
            root,
            Number(node, GlueWorkersKey, 2, 2, 100),
            Number(node, GlueTimeoutKey, 60, 5, 240),
            Text(node, AlertEmailKey),
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
