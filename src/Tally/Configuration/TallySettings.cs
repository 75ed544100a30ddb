using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Tally.Engine;
using Tally.Events;
using Tally.Query;
using Tally.Scheduling;
using Tally.State;
using Tally.Storage;
using Tally.Workflow;

namespace Tally.Configuration;

/// <summary>
/// The settings of every feature, each section owned by its feature (<see cref="EngineSettings"/> the top-level keys,
/// <see cref="RetrySettings"/> <c>Retry</c>, <see cref="EventSettings"/> <c>Events</c>, …) and validated by the feature's
/// <see cref="IValidateOptions{TOptions}"/>. <see cref="Load"/> binds them with the .NET options pattern from
/// <c>&lt;state&gt;/settings.json</c> (or a file named with <c>--settings</c>), then environment variables prefixed
/// <c>TALLY_</c>, with <c>__</c> for nesting (<c>TALLY_Events__Webhook__Url</c>), then a command's options; later sources
/// win. Every section is checked once, there; the features take their section as it is. Durations are .NET time spans
/// (<c>"00:00:30"</c>). See the README's Configuration section.
/// </summary>
public sealed class TallySettings
{
    /// <summary>The settings file's name inside the state directory.</summary>
    internal const string FileName = "settings.json";

    /// <summary>The prefix of the environment variables that are read.</summary>
    internal const string EnvironmentPrefix = "TALLY_";

    /// <summary>The data location (a folder or <c>s3://bucket/prefix</c>) when <c>--data</c> is not given. Read from a settings
    /// file given with <c>--settings</c> and from <c>TALLY_Data</c> (the default settings file lives inside the data, so it
    /// cannot name it).</summary>
    public string? Data { get; set; }

    /// <summary>The top-level keys and the declaration: what the engine reads and writes.</summary>
    public EngineSettings Engine { get; set; } = new();

    public RetrySettings Retry { get; set; } = new();

    public LeaseSettings Lease { get; set; } = new();

    public EventSettings Events { get; set; } = new();

    public S3ConnectionSettings S3 { get; set; } = new();

    public StateSettings State { get; set; } = new();

    public ScheduleSettings Schedule { get; set; } = new();

    public DashboardSettings Dashboard { get; set; } = new();

    public QuerySettings Query { get; set; } = new();

    /// <summary>The engine options these settings give.</summary>
    /// <exception cref="TallyException">InvalidConfiguration when the declaration is not valid.</exception>
    public TallyOptions ToOptions() => Engine.ToOptions();

    /// <summary>What the hourly workflow is configured with.</summary>
    /// <exception cref="TallyException">InvalidConfiguration when the declaration is not valid.</exception>
    public WorkflowSettings Workflow => new(ToOptions(), Retry, Lease, Events);

    /// <summary>
    /// Reads and checks the settings: <paramref name="settingsFile"/> when given (it must exist), else <c>settings.json</c> in
    /// <paramref name="stateDirectory"/> when it exists; then the <c>TALLY_</c> environment variables; then
    /// <paramref name="overrides"/> (a command's options, by settings key, e.g. <c>Schedule:Cron</c>).
    /// </summary>
    /// <exception cref="TallyException">InvalidConfiguration when the file is not valid JSON or a value has the wrong type or
    /// range (every problem found, each naming its key); NotFound when <paramref name="settingsFile"/> does not exist.</exception>
    public static TallySettings Load(string stateDirectory, string? settingsFile = null, IEnumerable<KeyValuePair<string, string?>>? overrides = null)
    {
        var path = Path.GetFullPath(settingsFile ?? Path.Combine(stateDirectory, FileName));
        if (settingsFile is not null && !File.Exists(path)) throw TallyException.NotFound($"The settings file '{settingsFile}' does not exist.");
        RenamedVariables.Check(Environment.GetEnvironmentVariable);
        try
        {
            var configuration = new ConfigurationBuilder()
                .AddJsonFile(path, optional: true, reloadOnChange: false)
                .AddEnvironmentVariables(EnvironmentPrefix)
                .AddInMemoryCollection(overrides ?? [])
                .Build();
            return Bind(configuration);
        }
        catch (OptionsValidationException e)
        {
            throw TallyException.InvalidConfiguration(string.Join(" ", e.Failures));
        }
        catch (AggregateException e) when (e.InnerExceptions.All(i => i is OptionsValidationException))
        {
            // Several sections broke rules: every failure, in the order the sections were checked.
            throw TallyException.InvalidConfiguration(string.Join(" ", e.InnerExceptions.Cast<OptionsValidationException>().SelectMany(i => i.Failures)));
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or InvalidDataException)
        {
            // The binder's own message names the key and the value; a file that is not JSON says where in its inner one.
            var reason = e is InvalidOperationException ? e.Message : (e.InnerException ?? e).Message;
            throw TallyException.InvalidConfiguration($"The settings ('{path}' and the {EnvironmentPrefix} environment variables) are not valid: {reason}");
        }
    }

    /// <summary>Binds each feature's section of <paramref name="configuration"/> and runs every feature's validator once.</summary>
    /// <exception cref="OptionsValidationException">With every rule broken.</exception>
    private static TallySettings Bind(IConfiguration configuration)
    {
        var services = new ServiceCollection();
        // One call per section, each with its concrete type: the configuration binder's source generator writes their binding code.
        Checked<EngineSettings, EngineSettingsValidator>(services.AddOptions<EngineSettings>().Bind(configuration)); // the top-level keys
        Checked<RetrySettings, RetrySettingsValidator>(services.AddOptions<RetrySettings>().Bind(configuration.GetSection(RetrySettings.Section)));
        Checked<LeaseSettings, LeaseSettingsValidator>(services.AddOptions<LeaseSettings>().Bind(configuration.GetSection(LeaseSettings.Section)));
        Checked<EventSettings, EventSettingsValidator>(services.AddOptions<EventSettings>().Bind(configuration.GetSection(EventSettings.Section)));
        Checked<S3ConnectionSettings, S3ConnectionSettingsValidator>(
            services.AddOptions<S3ConnectionSettings>().Bind(configuration.GetSection(S3ConnectionSettings.Section)));
        Checked<StateSettings, StateSettingsValidator>(services.AddOptions<StateSettings>().Bind(configuration.GetSection(StateSettings.Section)));
        Checked<ScheduleSettings, ScheduleSettingsValidator>(services.AddOptions<ScheduleSettings>().Bind(configuration.GetSection(ScheduleSettings.Section)));
        Checked<DashboardSettings, DashboardSettingsValidator>(services.AddOptions<DashboardSettings>().Bind(configuration.GetSection(DashboardSettings.Section)));
        Checked<QuerySettings, QuerySettingsValidator>(services.AddOptions<QuerySettings>().Bind(configuration.GetSection(QuerySettings.Section)));
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        T Get<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] T>() where T : class =>
            provider.GetRequiredService<IOptions<T>>().Value;
        return new TallySettings
        {
            Data = string.IsNullOrWhiteSpace(configuration[nameof(Data)]) ? null : configuration[nameof(Data)],
            Engine = Get<EngineSettings>(),
            Retry = Get<RetrySettings>(),
            Lease = Get<LeaseSettings>(),
            Events = Get<EventSettings>(),
            S3 = Get<S3ConnectionSettings>(),
            State = Get<StateSettings>(),
            Schedule = Get<ScheduleSettings>(),
            Dashboard = Get<DashboardSettings>(),
            Query = Get<QuerySettings>(),
        };
    }

    /// <summary>Checks <typeparamref name="TOptions"/> with <typeparamref name="TValidator"/> when the settings are loaded.</summary>
    private static void Checked<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions,
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TValidator>(OptionsBuilder<TOptions> section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        section.ValidateOnStart();
        section.Services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
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
}

/// <summary>Environment variables earlier versions read that are now spelled as settings keys: set, they are an error, not ignored.</summary>
internal static class RenamedVariables
{
    private static readonly (string Old, string New)[] Renamed =
    [
        ("TALLY_S3_ENDPOINT", "TALLY_S3__Endpoint"),
        ("TALLY_S3_PATH_STYLE", "TALLY_S3__PathStyle"),
    ];

    /// <exception cref="TallyException">InvalidConfiguration naming the variable and its new name.</exception>
    public static void Check(Func<string, string?> variable)
    {
        foreach (var (old, renamed) in Renamed)
        {
            if (variable(old) is not null)
            {
                throw TallyException.InvalidConfiguration(
                    $"{old} is set, but Tally no longer reads it: S3 is configured in one way, the S3 section of the settings; set {renamed} instead (or the --s3-* options).");
            }
        }
    }
}
