using System.ComponentModel;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;
using Tally.Configuration;
using Tally.Engine;
using Tally.Metastore;
using Tally.State;
using Tally.Storage;

namespace Tally.Cli.Commands;

/// <summary>Options every command that works on a data folder shares.</summary>
internal class DataSettings : CommandSettings
{
    [CommandOption("--data <DIR>")]
    [Description("The data folder (raw_data/, aggregated_data/, quarantine/), or an S3 location s3://bucket/prefix. Default: the Data setting of the --settings file or TALLY_Data, else ./tally-data.")]
    public string? DataOption { get; init; }

    /// <summary>The data location: --data, else the Data setting (a --settings file or TALLY_Data), else ./tally-data.</summary>
    public string Data => _data ??= DataOption ?? TallySettings.DataLocation(SettingsFile) ?? "./tally-data";

    private string? _data;

    [CommandOption("--state <DIR>")]
    [Description("Where Tally keeps its state (the metastore; for S3 data also the query cache). Default <data>/.tally, or ./tally-state/<bucket>/<prefix> for S3 data.")]
    public string? State { get; init; }

    [CommandOption("--settings <FILE>")]
    [Description("The settings file (JSON). Default <state>/settings.json when it exists; TALLY_ environment variables override it.")]
    public string? SettingsFile { get; init; }


    [CommandOption("--s3-endpoint <URL>")]
    [Description("For s3:// data: a custom endpoint (MinIO, Ceph, R2, ...), e.g. http://127.0.0.1:9000. Default: the S3:Endpoint setting (TALLY_S3__Endpoint), else AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, else Amazon S3.")]
    public string? S3Endpoint { get; init; }

    [CommandOption("--s3-path-style [BOOL]")]
    [Description("For s3:// data: path-style addressing (endpoint/bucket/key). Default: the S3:PathStyle setting (TALLY_S3__PathStyle), else true with a custom endpoint.")]
    public FlagValue<bool>? S3PathStyle { get; init; }

    [CommandOption("--s3-region <REGION>")]
    [Description("For s3:// data: the region (signing region with a custom endpoint). Default: the S3:Region setting, else AWS_REGION or the profile's.")]
    public string? S3Region { get; init; }

    [CommandOption("--s3-profile <NAME>")]
    [Description("For s3:// data: a profile of the shared AWS config files. Default: the S3:Profile setting, else AWS_PROFILE; credentials otherwise from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the instance role.")]
    public string? S3Profile { get; init; }

    /// <summary>The S3 location when <see cref="Data"/> is <c>s3://…</c>, else null.</summary>
    /// <exception cref="TallyException">InvalidArgument when it starts with s3:// but is not a valid location.</exception>
    public S3Location? S3Data => S3Location.IsS3Uri(Data) ? S3Location.Parse(Data) : null;

    /// <summary>The state directory: <see cref="State"/>, or <c>.tally</c> inside the data folder (<c>./tally-state/&lt;bucket&gt;/&lt;prefix&gt;</c> for S3 data).</summary>
    public string StateDirectory => State ?? (S3Data is { } s3 ? Path.Combine("tally-state", s3.Bucket, s3.Prefix) : Path.Combine(Data, ".tally"));

    /// <summary>The S3 connection: the settings' <c>S3</c> section over the AWS environment, with the --s3-* options over both.</summary>
    /// <exception cref="TallyException">InvalidArgument when --s3-endpoint is not an http(s) URL.</exception>
    public S3Settings S3Connection
    {
        get
        {
            var configured = Tally.S3.Resolve();
            return configured with
            {
                Endpoint = S3Endpoint is not null ? S3Settings.ParseEndpoint(S3Endpoint) : configured.Endpoint,
                ForcePathStyle = S3PathStyle is { IsSet: true } p ? p.Value : configured.ForcePathStyle,
                Region = S3Region ?? configured.Region,
                Profile = S3Profile ?? configured.Profile,
            };
        }
    }

    /// <summary>
    /// The settings, read and checked once: the settings file, then the <c>TALLY_</c> environment variables, then the
    /// command's own options (<see cref="Overrides"/>).
    /// </summary>
    /// <exception cref="TallyException">InvalidConfiguration naming every key whose value is not valid.</exception>
    public TallySettings Tally => _tally ??= TallySettings.Load(StateDirectory, SettingsFile, Overrides());

    private TallySettings? _tally;

    /// <summary>The command's options that override settings, by settings key.</summary>
    protected virtual IEnumerable<KeyValuePair<string, string?>> Overrides() => [];

    /// <summary>Opens the metastore of the data folder (with the <c>State</c> settings), registering the configured tables.</summary>
    public async Task<Catalog> OpenCatalogAsync(IObjectStore store, TallyOptions options, CancellationToken cancellationToken) =>
        await Catalog.OpenAsync(await StateDatabase.OpenAsync(StateDirectory, Tally.State, cancellationToken), store, options, TimeProvider.System, cancellationToken);

    /// <summary>The store of an existing data folder.</summary>
    /// <exception cref="TallyException">When the folder does not exist.</exception>
    public IObjectStore OpenStore() => S3Data is { } s3 ? new S3ObjectStore(s3, S3Connection) : new LocalObjectStore(Data);

    /// <summary>The store of the data folder, created when missing (an S3 bucket must exist).</summary>
    public IObjectStore CreateStore()
    {
        if (S3Data is not null) return OpenStore();
        try
        {
            Directory.CreateDirectory(Data);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw TallyException.InvalidArgument($"Cannot create the data folder '{Data}': {e.Message}");
        }
        return new LocalObjectStore(Data);
    }
}

/// <summary>The options of commands that run the workflow: the data options and <c>--threshold</c>.</summary>
internal class WorkflowRunSettings : DataSettings
{
    [CommandOption("--threshold <SHARE>")]
    [Description("The largest share of rejected records a run accepts, 0 to 1. Default: the RejectedThreshold setting, 0.01 (1 %).")]
    public double? Threshold { get; init; }

    protected override IEnumerable<KeyValuePair<string, string?>> Overrides()
    {
        if (Threshold is { } threshold) yield return new(nameof(EngineSettings.RejectedThreshold), threshold.ToString("R", CultureInfo.InvariantCulture));
    }
}

/// <summary>How a command prints its result.</summary>
internal enum OutputFormat
{
    Table,
    Json,
}

internal static class OutputFormats
{
    public static OutputFormat Parse(string? text) => text?.ToLowerInvariant() switch
    {
        null or "table" => OutputFormat.Table,
        "json" => OutputFormat.Json,
        _ => throw TallyException.InvalidArgument($"--format must be table or json, not '{text}'."),
    };

    /// <summary>Whether a live progress bar can be drawn (an interactive terminal, human output).</summary>
    public static bool CanShowProgress(OutputFormat format) =>
        format == OutputFormat.Table && AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
}
