namespace Tally.Query;

/// <summary>What one <see cref="QueryService"/> may use (the <c>Query</c> settings, resolved).</summary>
/// <param name="Timeout">How long one statement may run, its rows read included, before DuckDB is interrupted; measured from
/// <see cref="QueryService.Execute(string, CancellationToken)"/> on the wall clock.</param>
/// <param name="MemoryLimit">DuckDB's <c>memory_limit</c> of the service's database, in bytes. Nothing is spilled to disk: a
/// statement that needs more fails.</param>
/// <param name="Threads">DuckDB's <c>threads</c>: 0 for one per core. With 1, a statement runs on the calling thread alone
/// (DuckDB starts no thread of its own), so that thread's CPU priority is the query's.</param>
public sealed record QueryLimits(TimeSpan Timeout, long MemoryLimit, int Threads = 0)
{
    /// <summary>The name of the time limit's setting, for messages.</summary>
    internal const string TimeoutKey = "Query:Timeout";

    /// <summary>The name of the memory limit's setting, for messages.</summary>
    internal const string MemoryLimitKey = "Query:MemoryLimit";

    /// <summary>For S3 data: how long opening a query waits for the local cache (<c>&lt;state&gt;/cache/</c>), which one
    /// process at a time brings up to date, before it fails as transient.</summary>
    public TimeSpan CacheLockTimeout { get; init; } = TimeSpan.FromMinutes(2);
}
