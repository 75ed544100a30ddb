using System.Diagnostics;

namespace Tally.Cli.Tests;

/// <summary><c>tally query</c> over its time or memory limit (settings <c>Query:Timeout</c>, <c>Query:MemoryLimit</c>): exit code 2 and one sentence naming the limit.</summary>
public class QueryLimitFacts
{
    [Fact]
    public async Task Query_OverItsTimeLimit_IsInterrupted_AndExitsTwo_NamingTheLimit()
    {
        using var data = new TempFolder();
        var clock = Stopwatch.StartNew();

        var result = await TallyProcess.Start([("TALLY_Query__Timeout", "00:00:02")], "query", "--data", data.Path, "SELECT sum(i) FROM range(20000000000) t(i)").EndAsync();

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal("error: The query ran longer than its time limit of 2 s (Query:Timeout) and was interrupted; narrow it (to some partitions, say) or raise the limit.",
            result.Stderr.Trim());
        Assert.Empty(result.Stdout);
        // Process start included; without the limit the statement runs for minutes (QueryLimitTests measures the limit itself).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"tally query ended after {clock.Elapsed}.");
    }

    [Fact]
    public async Task Query_OverItsMemoryLimit_FailsAndExitsTwo_NamingTheLimit()
    {
        using var data = new TempFolder();

        var result = await TallyProcess.Start([("TALLY_Query__MemoryLimit", "64MiB")], "query", "--data", data.Path,
            "SELECT i % 30000000 AS k, count(*) AS n FROM range(60000000) t(i) GROUP BY k ORDER BY n DESC LIMIT 1").EndAsync();

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("error: The query needs more memory than its limit of 64 MiB (Query:MemoryLimit) and was stopped: Out of Memory Error", result.Stderr.Trim(), StringComparison.Ordinal);
        Assert.DoesNotContain('\n', result.Stderr.Trim());
    }

    [Fact]
    public async Task Query_WithABadLimitInTheSettings_IsRefusedBeforeItRuns()
    {
        using var data = new TempFolder();

        var result = await TallyProcess.Start([("TALLY_Query__MemoryLimit", "a lot")], "query", "--data", data.Path, "SELECT 1").EndAsync();

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal("error: Query:MemoryLimit 'a lot' is not a size; write a number and a unit, for example 1GiB or 512MB.", result.Stderr.Trim());
    }
}
