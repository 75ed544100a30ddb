using System.Diagnostics;
using Tally.Query;
using Xunit.Abstractions;

namespace Tally.Tests.Query;

/// <summary>A statement over its time or memory limit ends, soon, with an error that says which limit it went over.</summary>
[Collection(AloneCollection.Name)]
public sealed class QueryLimitTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>20 billion rows: minutes of full CPU without a limit (the statement of the issue).</summary>
    private const string Endless = "SELECT sum(i) FROM range(20000000000) t(i)";

    /// <summary>A hash table of 30 million groups: about 1.5 GB without a limit.</summary>
    private const string Hungry = "SELECT i % 30000000 AS k, count(*) AS n FROM range(60000000) t(i) GROUP BY k ORDER BY n DESC LIMIT 1";

    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(1);
    private readonly TempDataFolder _data = new();

    [Fact]
    public async Task Query_OverItsTimeLimit_IsInterruptedWithinTheLimitPlusOneSecond_AndSaysSo()
    {
        using var service = await OpenAsync(new QueryLimits(Limit, 1L << 30));
        var clock = Stopwatch.StartNew();

        var error = Assert.Throws<TallyException>(() => QueryTestData.Run(service, Endless));

        var took = clock.Elapsed;
        output.WriteLine($"A statement over its limit of {Limit.TotalSeconds} s ended after {took.TotalSeconds:F3} s.");
        Assert.Equal(TallyErrorKind.Timeout, error.Kind);
        Assert.Equal("The query ran longer than its time limit of 2 s (Query:Timeout) and was interrupted; narrow it (to some partitions, say) or raise the limit.", error.Message);
        Assert.True(took >= Limit - TimeSpan.FromMilliseconds(50), $"It ended after {took}, before its limit.");
        Assert.True(took < Limit + Grace, $"It ended after {took}, more than a second past its limit of {Limit}.");
    }

    [Fact]
    public async Task Query_WhoseRowsAreBeingRead_IsInterruptedAtItsTimeLimit_NotOnlyWhileItStarts()
    {
        using var service = await OpenAsync(new QueryLimits(Limit, 1L << 30));
        var clock = Stopwatch.StartNew();
        long rows = 0;

        var error = Assert.Throws<TallyException>(() =>
        {
            using var result = service.Execute("SELECT i FROM range(20000000000) t(i)");
            foreach (var _ in result.Rows) rows++;
        });

        Assert.Equal(TallyErrorKind.Timeout, error.Kind);
        Assert.True(rows > 0, "The rows had started to come.");
        Assert.True(clock.Elapsed < Limit + Grace, $"It ended after {clock.Elapsed}.");
    }

    [Fact]
    public async Task Query_AfterOneOverItsTimeLimit_TheServiceAnswersTheNext()
    {
        using var service = await OpenAsync(new QueryLimits(TimeSpan.FromMilliseconds(300), 1L << 30));
        Assert.Equal(TallyErrorKind.Timeout, Assert.Throws<TallyException>(() => QueryTestData.Run(service, Endless)).Kind);

        // The interrupt is repeated until the statement ends, and no longer: it does not reach the next one.
        await Task.Delay(250);
        Assert.Equal(["42"], QueryTestData.Run(service, "SELECT 42").Rows);
    }

    [Fact]
    public async Task Query_CancelledByItsCaller_IsCancelled_NotTimedOut()
    {
        using var service = await OpenAsync(new QueryLimits(TimeSpan.FromSeconds(30), 1L << 30));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();

        Assert.ThrowsAny<OperationCanceledException>(() => service.Execute(Endless, cancel.Token).Dispose());

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1) + Grace, $"It ended after {clock.Elapsed}.");
    }

    [Fact]
    public async Task Query_OverItsMemoryLimit_FailsLongBeforeItsTimeLimit_SayingSo_AndSpillsNothingToDisk()
    {
        var timeLimit = TimeSpan.FromSeconds(20);
        using var service = await OpenAsync(new QueryLimits(timeLimit, 64L << 20));
        var clock = Stopwatch.StartNew();

        var error = Assert.Throws<TallyException>(() => QueryTestData.Run(service, Hungry));

        output.WriteLine($"A statement over its memory limit of 64 MiB failed after {clock.Elapsed.TotalSeconds:F3} s.");
        Assert.Equal(TallyErrorKind.InvalidArgument, error.Kind);
        Assert.StartsWith("The query needs more memory than its limit of 64 MiB (Query:MemoryLimit) and was stopped: Out of Memory Error", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.True(clock.Elapsed < timeLimit / 2, $"It ended after {clock.Elapsed}.");
        // The limits as DuckDB has them: no temporary directory, so nothing is written to disk on the way.
        Assert.Equal(["64.0 MiB||1"], QueryTestData.Run(service,
            "SELECT current_setting('memory_limit') || '|' || current_setting('temp_directory') || '|' || (current_setting('threads') > 0)::INT").Rows);
    }

    [Fact]
    public async Task Query_UnderItsLimits_RunsWithTheThreadsAsked()
    {
        using var service = await OpenAsync(new QueryLimits(TimeSpan.FromSeconds(30), 64L << 20, Threads: 1));

        Assert.Equal(["1"], QueryTestData.Run(service, "SELECT current_setting('threads')").Rows);
        Assert.Equal(["499999500000"], QueryTestData.Run(service, "SELECT sum(i) FROM range(1000000) t(i)").Rows);
    }

    private async Task<QueryService> OpenAsync(QueryLimits limits) =>
        await QueryService.OpenAsync(await QueryTestData.OpenCatalogAsync(_data), _data.Root, limits);

    public void Dispose() => _data.Dispose();
}
