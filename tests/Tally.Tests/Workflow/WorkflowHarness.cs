using Tally.Configuration;
using Tally.Events;
using Tally.Metastore;
using Tally.Storage;
using Tally.State;
using Tally.Workflow;

namespace Tally.Tests.Workflow;

/// <summary>A data folder with its metastore, run store and outbox, and workflows built over it with fast retries.</summary>
public sealed class WorkflowHarness : IDisposable
{
    public WorkflowHarness() => Settings = FastSettings();

    public TempDataFolder Data { get; } = new();

    internal string StateDirectory => Path.Combine(Data.Root, ".tally");

    internal TallySettings Settings { get; }

    /// <summary>Settings whose waits are milliseconds, so retries do not slow the tests down.</summary>
    internal static TallySettings FastSettings()
    {
        var settings = new TallySettings();
        settings.Retry.InitialDelay = TimeSpan.FromMilliseconds(5);
        settings.Retry.MaxDelay = TimeSpan.FromMilliseconds(20);
        settings.Events.Delivery.InitialBackoff = TimeSpan.FromMilliseconds(20);
        settings.Events.Delivery.MaxBackoff = TimeSpan.FromMilliseconds(100);
        return settings;
    }

    /// <summary>Rows of a query over the metastore, read-only, as strings ("" for null).</summary>
    internal List<string[]> MetastoreRows(string sql) => Tests.MetastoreRows.Read(StateDirectory, sql);

    internal async Task<(RunStore Runs, EventOutbox Outbox)> OpenStateAsync()
    {
        var db = await StateDatabase.OpenAsync(StateDirectory, CancellationToken.None);
        return (new RunStore(db), new EventOutbox(db));
    }

    /// <summary>A workflow over <paramref name="store"/> (the data folder's own store by default) that queues events for <paramref name="sinks"/>.</summary>
    internal async Task<HourWorkflow> WorkflowAsync(IObjectStore? store = null, params string[] sinks)
    {
        var catalog = await Catalog.OpenAsync(StateDirectory, Data.Store, Settings.ToOptions());
        var (runs, outbox) = await OpenStateAsync();
        return new HourWorkflow(store ?? Data.Store, catalog, runs, outbox, Settings.Workflow, sinks, TimeProvider.System);
    }

    /// <summary>Writes a raw file for the hour in which every other line is not JSON: far above the default threshold.</summary>
    public void WriteMostlyBadHour(HourWindow hour) =>
        Data.WriteRaw(hour, 0, "bad.json", """
            {"GroupID":1,"CountryCode":"DE","Domain":"example.com","Timestamp":"2026-11-24T13:00:01Z"}
            not json
            {"GroupID":2,"CountryCode":"FR","Domain":"example.com","Timestamp":"2026-11-24T13:00:02Z"}
            not json either

            """);

    public void Dispose() => Data.Dispose();
}

/// <summary>
/// An <see cref="IObjectStore"/> whose first <c>failures</c> calls throw <see cref="TallyException.Transient"/> (as a
/// throttling or 5xx S3 answer does), then pass through to the wrapped store.
/// </summary>
internal sealed class FlakyStore(IObjectStore inner, int failures) : IObjectStore
{
    private int _calls;

    public int Faults => Math.Min(_calls, failures);

    private void MaybeFail(string what)
    {
        if (Interlocked.Increment(ref _calls) <= failures) throw TallyException.Transient($"Injected fault #{_calls} in {what}: 503 Slow Down.");
    }

    public string Describe(string key) => inner.Describe(key);

    public async IAsyncEnumerable<string> ListFoldersAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        MaybeFail("ListFolders");
        await foreach (var name in inner.ListFoldersAsync(prefix, cancellationToken)) yield return name;
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        MaybeFail("List");
        await foreach (var info in inner.ListAsync(prefix, cancellationToken)) yield return info;
    }

    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        MaybeFail("OpenRead");
        return inner.OpenReadAsync(key, cancellationToken);
    }

    public Task WriteAtomicAsync(string key, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        MaybeFail("WriteAtomic");
        return inner.WriteAtomicAsync(key, write, cancellationToken);
    }

    public Task WriteAllAtomicAsync(IReadOnlyList<ObjectWrite> writes, CancellationToken cancellationToken)
    {
        MaybeFail("WriteAllAtomic");
        return inner.WriteAllAtomicAsync(writes, cancellationToken);
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        MaybeFail("Delete");
        return inner.DeleteAsync(key, cancellationToken);
    }
}
