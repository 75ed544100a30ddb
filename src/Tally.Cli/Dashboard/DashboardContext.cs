using Tally.Cli.Commands;
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
    // DuckDB runs each query in memory; two at once is plenty for a dashboard and keeps a burst of requests from exhausting memory.
    private readonly SemaphoreSlim _queries = new(2, 2);

    private DashboardContext(WorkflowState state, Catalog catalog, IObjectStore store, string stateDirectory, TallySettings settings)
    {
        State = state;
        Catalog = catalog;
        _store = store;
        _stateDirectory = stateDirectory;
        Settings = settings;
        Statistics = new RunStatistics(state.Runs.Database);
    }

    public WorkflowState State { get; }
    public Catalog Catalog { get; }
    public TallySettings Settings { get; }
    public RunStatistics Statistics { get; }

    /// <summary>How long one SQL statement may run before it is cancelled.</summary>
    public static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(60);

    public static async Task<DashboardContext> OpenAsync(DataSettings data, TallySettings settings, WorkflowState state, IObjectStore store, CancellationToken cancellationToken)
    {
        var catalog = await data.OpenCatalogAsync(store, settings.ToOptions(), cancellationToken);
        return new DashboardContext(state, catalog, store, data.StateDirectory, settings);
    }

    /// <summary>
    /// Runs <paramref name="read"/> over a query service opened for this call (so it sees the tables' files as they are now),
    /// the same read-only service as <c>tally query</c>.
    /// </summary>
    public async Task<T> QueryAsync<T>(Func<QueryService, CancellationToken, T> read, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(QueryTimeout);
        await _queries.WaitAsync(timeout.Token);
        try
        {
            using var service = await QueryService.OpenAsync(Catalog, _store, _stateDirectory, timeout.Token);
            // DuckDB blocks the calling thread; keep it off the request threads' hot path.
            return await Task.Run(() => read(service, timeout.Token), timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw TallyException.InvalidArgument($"The query took longer than {QueryTimeout.TotalSeconds:0} s and was cancelled.");
        }
        finally
        {
            _queries.Release();
        }
    }
}
