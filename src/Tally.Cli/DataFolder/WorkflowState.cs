using Tally.Configuration;
using Tally.Metastore;
using Tally.Events;
using Tally.State;
using Tally.Storage;
using Tally.Workflow;

namespace Tally.Cli.DataFolder;

/// <summary>
/// The workflow's state of one data folder, for one command or for <c>tally serve</c> and its dashboard: run history,
/// outbox, the configured sinks.
/// </summary>
internal sealed class WorkflowState : IDisposable
{
    private readonly StateDatabase _db;
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };

    private WorkflowState(string stateDirectory, TallySettings settings, StateDatabase db)
    {
        _db = db;
        Settings = settings;
        Runs = new RunStore(db);
        Outbox = new EventOutbox(db);
        Sinks = EventSinks.FromSettings(settings.Events, stateDirectory, _http, Console.Error);
    }

    public TallySettings Settings { get; }
    public RunStore Runs { get; }
    public EventOutbox Outbox { get; }
    public IReadOnlyList<IEventSink> Sinks { get; }

    /// <summary>Opens the metastore in <paramref name="stateDirectory"/> (the data folder's state directory).</summary>
    public static async Task<WorkflowState> OpenAsync(string stateDirectory, TallySettings settings, CancellationToken cancellationToken) =>
        new(stateDirectory, settings, await StateDatabase.OpenAsync(stateDirectory, settings.State, cancellationToken));

    /// <summary>The workflow over <paramref name="store"/>, with the catalog it registers partitions in.</summary>
    public async Task<HourWorkflow> WorkflowAsync(IObjectStore store, CancellationToken cancellationToken)
    {
        var catalog = await Catalog.OpenAsync(_db, store, Settings.ToOptions(), TimeProvider.System, cancellationToken);
        return new HourWorkflow(store, catalog, Runs, Outbox, Settings.Workflow, Sinks.Select(s => s.Name).ToList(), TimeProvider.System);
    }

    /// <summary>Delivers what is due, and retries falling due within <paramref name="maxWait"/>.</summary>
    public Task<DispatchSummary> DispatchAsync(TimeSpan maxWait, CancellationToken cancellationToken) =>
        new EventDispatcher(Outbox, Sinks, Settings.Events.Delivery, TimeProvider.System).DispatchAsync(maxWait, cancellationToken);

    public void Dispose() => _http.Dispose();
}
