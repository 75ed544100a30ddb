using Tally.Configuration;
using Tally.Events;
using Tally.State;
using Tally.Storage;
using Tally.Workflow;

namespace Tally.Cli.Commands;

/// <summary>The workflow's state of one data folder for one command: run history, outbox, the configured sinks.</summary>
internal sealed class WorkflowState : IDisposable
{
    private readonly DataSettings _data;
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };

    private WorkflowState(DataSettings data, TallySettings settings, StateDatabase db)
    {
        _data = data;
        Settings = settings;
        Runs = new RunStore(db);
        Outbox = new EventOutbox(db);
        Sinks = EventSinks.FromSettings(settings.Events, data.StateDirectory, _http, Console.Error);
    }

    public TallySettings Settings { get; }
    public RunStore Runs { get; }
    public EventOutbox Outbox { get; }
    public IReadOnlyList<IEventSink> Sinks { get; }

    public static async Task<WorkflowState> OpenAsync(DataSettings data, TallySettings settings, CancellationToken cancellationToken) =>
        new(data, settings, await StateDatabase.OpenAsync(data.StateDirectory, cancellationToken));

    /// <summary>The workflow over <paramref name="store"/>, with the catalog it registers partitions in.</summary>
    public async Task<HourWorkflow> WorkflowAsync(IObjectStore store, CancellationToken cancellationToken)
    {
        var catalog = await _data.OpenCatalogAsync(store, Settings.ToOptions(), cancellationToken);
        return new HourWorkflow(store, catalog, Runs, Outbox, Settings, Sinks.Select(s => s.Name).ToList(), TimeProvider.System);
    }

    /// <summary>Delivers what is due, and retries falling due within <paramref name="maxWait"/>.</summary>
    public Task<DispatchSummary> DispatchAsync(TimeSpan maxWait, CancellationToken cancellationToken) =>
        new EventDispatcher(Outbox, Sinks, Settings.Events.Delivery, TimeProvider.System).DispatchAsync(maxWait, cancellationToken);

    public void Dispose() => _http.Dispose();
}
