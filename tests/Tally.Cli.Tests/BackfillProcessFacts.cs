using System.Text.Json;

namespace Tally.Cli.Tests;

/// <summary>`tally backfill` as a process over 48 generated hours, its tables checked hour by hour against DuckDB.</summary>
public sealed class BackfillProcessFacts : IDisposable
{
    private const string From = "2026-11-01T00";
    private const string To = "2026-11-03T00";
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Data => _folder.Sub("data");

    [Fact]
    public async Task FortyEightHours_InParallel_MatchTheOracle_AndASecondBackfillRunsNothing_AndSaysSo()
    {
        var generated = await Tally.RunAsync("generate", "--data", Data, "--hour", From, "--hours", "48", "--hits-per-hour", "3000", "--seed", "11");
        Assert.True(generated.ExitCode == 0, generated.ToString());

        var first = await Tally.RunAsync("backfill", "--data", Data, "--from", From, "--to", To, "--parallel", "2");

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(48, first.StdoutLines.Count(l => l.Contains(" succeeded in ", StringComparison.Ordinal)));
        Assert.Contains($"Backfill {From} to {To} (48 hours) in", first.Stdout, StringComparison.Ordinal);
        Assert.Contains(": 48 succeeded.", first.Stdout, StringComparison.Ordinal);
        using (var oracle = new DuckDbOracle())
        {
            foreach (var hour in HourWindow.Range(HourWindow.Parse(From), HourWindow.Parse(To)))
            {
                foreach (var spec in AggregationSpec.Defaults)
                {
                    var file = Path.Combine(Data, DataLayout.TableFile(spec, hour));
                    Assert.Equal(oracle.ExpectedRows(Data, hour, spec), oracle.FileRows(file, spec.Format).Order(StringComparer.Ordinal));
                }
            }
        }

        var second = await Tally.RunAsync("backfill", "--data", Data, "--from", From, "--to", To, "--parallel", "2");

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal(
            [$"Nothing to run: all 48 hours from {From} to {To} already succeeded with the raw input they have now. Pass --force to run them again."],
            second.StdoutLines);
        var runs = await Tally.RunAsync("runs", "ls", "--data", Data, "--limit", "1000", "--format", "json");
        using var listed = JsonDocument.Parse(runs.Stdout);
        Assert.Equal(48, listed.RootElement.GetArrayLength());
    }

    [Fact]
    public async Task AFailedHour_MakesTheExitCodeOne_AndIsNamedInTheSummary()
    {
        await Tally.RunAsync("generate", "--data", Data, "--hour", From, "--hours", "3", "--hits-per-hour", "300");
        var bad = Path.Combine(Data, "raw_data", "year=2026", "month=11", "day=01", "hour=01", "minute=30");
        Directory.CreateDirectory(bad);
        await File.WriteAllTextAsync(Path.Combine(bad, "bad.json"), string.Concat(Enumerable.Repeat("{\"GroupID\": oops}\n", 30)));

        var result = await Tally.RunAsync("backfill", "--data", Data, "--from", From, "--to", "2026-11-01T03", "--format", "json");

        Assert.Equal(1, result.ExitCode);
        using var summary = JsonDocument.Parse(result.Stdout);
        Assert.Equal(2, summary.RootElement.GetProperty("succeeded").GetInt32());
        Assert.Equal(1, summary.RootElement.GetProperty("failed").GetInt32());
        var failed = summary.RootElement.GetProperty("runs").EnumerateArray().Single(r => r.GetProperty("outcome").GetString() == "failed");
        Assert.Equal("2026-11-01T01", failed.GetProperty("hour").GetString());
        Assert.StartsWith("run-", failed.GetProperty("run_id").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_CancelsTheRunGoingOn_StartsNoMore_AndExits130_WithNothingLeftRunning()
    {
        var generated = await Tally.RunAsync("generate", "--data", Data, "--hour", From, "--hours", "4", "--hits-per-hour", "500");
        Assert.True(generated.ExitCode == 0, generated.ToString());
        // The second hour waits at a named pipe, so SIGTERM surely finds it running: nothing here waits on time alone.
        using var gate = new RawGate(Data, HourWindow.Parse("2026-11-01T01"));
        var backfill = TallyProcess.Start("backfill", "--data", Data, "--from", From, "--to", "2026-11-01T04", "--format", "json");
        await gate.ReachedByAsync(backfill);

        backfill.Terminate();
        // Once it says so, the process has cancelled its token; only then may the run read on, or it could finish first.
        await backfill.WaitForOutputAsync((_, stderr) => stderr.Contains("Stopping (SIGTERM)", StringComparison.Ordinal), "the line saying it stops");
        await gate.OpenAsync(); // a read blocked in the pipe cannot be interrupted; once it returns, the run sees the cancellation
        var result = await backfill.EndAsync();

        Assert.True(result.ExitCode == 130, result.ToString());
        using var summary = JsonDocument.Parse(result.Stdout);
        Assert.Equal(
            ["2026-11-01T00 succeeded", "2026-11-01T01 cancelled", "2026-11-01T02 cancelled", "2026-11-01T03 cancelled"],
            summary.RootElement.GetProperty("runs").EnumerateArray().Select(r => $"{r.GetProperty("hour").GetString()} {r.GetProperty("outcome").GetString()}"));
        Assert.Equal(
            [["2026-11-01T00", "succeeded"], ["2026-11-01T01", "cancelled"]],
            MetastoreRows.Read(Path.Combine(Data, ".tally"), "SELECT target_hour, status FROM runs ORDER BY target_hour"));
        Assert.Empty(MetastoreRows.Read(Path.Combine(Data, ".tally"), "SELECT * FROM leases"));
    }

    [Theory]
    [InlineData("--from 2026-11-02T00 --to 2026-11-01T00", "must come after --from")]
    [InlineData("--from 2026-11-01 --to 2026-11-02T00", "--from '2026-11-01' is not an hour")]
    [InlineData("--from 2026-11-01T00", "Give the range of hours")]
    [InlineData("--from 2026-11-01T00 --to 2026-11-02T00 --parallel 0", "--parallel must be 1 or more")]
    [InlineData("--from 2026-11-01T00 --to 2999-01-01T00", "reaches into hours that have not ended yet")]
    public async Task ABadRange_IsRefused_WithExitCodeTwo(string arguments, string message)
    {
        var result = await Tally.RunAsync(["backfill", "--data", Data, .. arguments.Split(' ')]);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(message, result.StderrText, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(Data, "aggregated_data")));
    }
}
