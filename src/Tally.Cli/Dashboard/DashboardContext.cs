using Tally.Cli.DataFolder;
using Tally.Configuration;
using Tally.Metastore;
using Tally.Query;
using Tally.Storage;
using Tally.Workflow;

namespace Tally.Cli.Dashboard;

/// <summary>What the dashboard reads from: one data folder's run history, outbox, catalog and tables. Safe from several threads.</summary>
internal sealed class DashboardContext
{
    private readonly IObjectStore _store;
    private readonly string _stateDirectory;
    private readonly QueryLimits _limits;
    private readonly QuerySlots _slots;

    private DashboardContext(WorkflowState state, Catalog catalog, IObjectStore store, string stateDirectory, TallySettings settings)
    {
        State = state;
        Catalog = catalog;
        _store = store;
        _stateDirectory = stateDirectory;
        Settings = settings;
        Statistics = new RunStatistics(state.Runs.Database);
        // One DuckDB thread: the query then runs on the low-priority thread QuerySlots gives it, and on no other.
        _limits = settings.Query.Limits(threads: 1);
        _slots = new QuerySlots(settings.Query);
    }

    public WorkflowState State { get; }
    public Catalog Catalog { get; }
    public TallySettings Settings { get; }
    public RunStatistics Statistics { get; }

    public static async Task<DashboardContext> OpenAsync(string stateDirectory, TallySettings settings, WorkflowState state, IObjectStore store, CancellationToken cancellationToken)
    {
        var catalog = await Catalog.OpenAsync(state.Runs.Database, store, settings.ToOptions(), TimeProvider.System, cancellationToken);
        return new DashboardContext(state, catalog, store, stateDirectory, settings);
    }

    /// <summary>
    /// Runs <paramref name="read"/> over a query service opened for this call (so it sees the tables' files as they are now),
    /// the same read-only service as <c>tally query</c>, with the <c>Query</c> settings' limits, once one of the dashboard's
    /// query slots is free (see <see cref="QuerySlots"/>).
    /// </summary>
    /// <exception cref="TallyException">Timeout when the statement runs over <c>Query:Timeout</c>; Transient when no slot is
    /// free; what <see cref="QueryService.Execute"/> throws.</exception>
    public async Task<T> QueryAsync<T>(Func<QueryService, CancellationToken, T> read, CancellationToken cancellationToken)
    {
        using var slot = await _slots.EnterAsync(cancellationToken);
        using var service = await QueryService.OpenAsync(Catalog, _store, _stateDirectory, _limits, cancellationToken);
        // DuckDB blocks the calling thread: a thread of the query's own, at low priority, off the request threads.
        return await QuerySlots.OnLowPriorityThread(() => read(service, cancellationToken));
    }
}
