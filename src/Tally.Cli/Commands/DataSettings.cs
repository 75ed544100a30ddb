using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Tally.Configuration;
using Tally.Metastore;
using Tally.Storage;

namespace Tally.Cli.Commands;

/// <summary>Options every command that works on a data folder shares.</summary>
internal class DataSettings : CommandSettings
{
    [CommandOption("--data <DIR>")]
    [Description("The data folder (raw_data/, aggregated_data/, quarantine/). Default ./tally-data.")]
    public string Data { get; init; } = "./tally-data";

    [CommandOption("--state <DIR>")]
    [Description("Where Tally keeps its state (the metastore). Default <data>/.tally.")]
    public string? State { get; init; }

    [CommandOption("--settings <FILE>")]
    [Description("The settings file (JSON). Default <state>/settings.json when it exists; TALLY_ environment variables override it.")]
    public string? SettingsFile { get; init; }

    /// <summary>The state directory: <see cref="State"/>, or <c>.tally</c> inside the data folder.</summary>
    public string StateDirectory => State ?? Path.Combine(Data, ".tally");

    /// <summary>The settings: the settings file, then the <c>TALLY_</c> environment variables.</summary>
    public TallySettings LoadSettings() => TallySettings.Load(StateDirectory, SettingsFile);

    /// <summary>Opens the metastore of the data folder, registering the configured tables.</summary>
    public Task<Catalog> OpenCatalogAsync(IObjectStore store, TallyOptions options, CancellationToken cancellationToken) =>
        Catalog.OpenAsync(StateDirectory, store, options, TimeProvider.System, cancellationToken);

    /// <summary>The store of an existing data folder.</summary>
    /// <exception cref="TallyException">When the folder does not exist.</exception>
    public IObjectStore OpenStore() => new LocalObjectStore(Data);

    /// <summary>The store of the data folder, created when missing.</summary>
    public IObjectStore CreateStore()
    {
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
