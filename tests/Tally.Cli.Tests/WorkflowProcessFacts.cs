using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Tally.Cli.Tests;

/// <summary>One hour of generated hits, written once for the process-level workflow tests.</summary>
public sealed class SharedHour : IAsyncLifetime
{
    public const string Hour = "2026-11-24T13";

    public string Data { get; } = Path.Combine(Path.GetTempPath(), "tally-wf-" + Guid.NewGuid().ToString("N")[..8]);

    public async Task InitializeAsync()
    {
        var generated = await TallyProcess.Start("generate", "--data", Data, "--hour", Hour, "--hits-per-hour", "50000", "--files-per-minute", "1").EndAsync();
        Assert.True(generated.ExitCode == 0, generated.ToString());
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Data, recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>`tally run` as the workflow, across processes: one run of an hour at a time, killed runs marked abandoned, the preceding hour.</summary>
public sealed class WorkflowProcessFacts(SharedHour big) : IClassFixture<SharedHour>
{
    private readonly string _state = Path.Combine(big.Data, ".state-" + Guid.NewGuid().ToString("N")[..8]);

    private string[] Run(params string[] extra) => ["run", "--data", big.Data, "--state", _state, "--hour", SharedHour.Hour, .. extra];

    [Fact]
    public async Task TwoRunsOfOneHour_OneRuns_TheOtherSaysItIsRunning_AndAThirdWaitsForIt()
    {
        using var gate = new RawGate(big.Data, HourWindow.Parse(SharedHour.Hour));
        var first = TallyProcess.Start(Run("--format", "json"));
        var firstRunId = await WaitForRunningAsync(first);

        var second = await TallyProcess.Start(Run()).EndAsync();
        var third = TallyProcess.Start(Run("--wait", "60", "--format", "json"));
        await gate.OpenAsync(); // the first run ends; the third takes the hour and waits at the gate in turn
        var firstResult = await first.EndAsync();
        await gate.OpenAsync();
        var thirdResult = await third.EndAsync();

        Assert.True(second.ExitCode == 5, second.ToString());
        // The console wraps long lines at its width when stderr is redirected; the message is one sentence all the same.
        Assert.Contains($"2026-11-24T13 is already being aggregated by {firstRunId} pid ", second.Stderr.Replace("\n", "", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", second.Stderr);
        Assert.True(firstResult.ExitCode == 0, firstResult.ToString());
        Assert.True(thirdResult.ExitCode == 0, thirdResult.ToString());
        var thirdRunId = JsonDocument.Parse(thirdResult.Stdout).RootElement.GetProperty("run_id").GetString();
        Assert.Equal(firstRunId, JsonDocument.Parse(firstResult.Stdout).RootElement.GetProperty("run_id").GetString());

        // Two runs recorded, one after the other; the second process recorded none. The tables are the last run's.
        var runs = Query("SELECT run_id, status, started_at, ended_at FROM runs ORDER BY started_at");
        Assert.Equal([firstRunId, thirdRunId], runs.Select(r => r[0]));
        Assert.All(runs, r => Assert.Equal("succeeded", r[1]));
        Assert.True(string.CompareOrdinal(runs[1][2], runs[0][3]) >= 0, "the waiting run started before the first ended");
        Assert.Equal([thirdRunId, thirdRunId, thirdRunId], Query("SELECT run_id FROM partitions WHERE database_name = 'demo-aggregated-data'").Select(r => r[0]));
    }

    [Fact]
    public async Task KilledRun_IsMarkedAbandoned_ByTheNextStart()
    {
        using var gate = new RawGate(big.Data, HourWindow.Parse(SharedHour.Hour));
        var doomed = TallyProcess.Start(Run());
        var runId = await WaitForRunningAsync(doomed);
        doomed.Kill();

        var listed = await TallyProcess.Start("runs", "ls", "--data", big.Data, "--state", _state, "--format", "json").EndAsync();

        Assert.True(listed.ExitCode == 0, listed.ToString());
        var run = JsonDocument.Parse(listed.Stdout).RootElement.EnumerateArray().Single();
        Assert.Equal(runId, run.GetProperty("run_id").GetString());
        Assert.Equal("abandoned", run.GetProperty("status").GetString());
        Assert.Contains("detected at", run.GetProperty("cause").GetString());
        Assert.Empty(Query("SELECT * FROM leases"));
    }

    [Fact]
    public async Task Input_JustAfterMidnight_ProcessesTheLastHourOfTheDayBefore()
    {
        var data = Path.Combine(big.Data, ".empty-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(data);

        var result = await TallyProcess.Start("run", "--data", data, "--input", """{"target_datetime": "2026-11-24T00:30:00Z"}""", "--format", "json").EndAsync();

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.Equal("2026-11-23T23", json.GetProperty("target_hour").GetString());
        Assert.StartsWith("run-", json.GetProperty("run_id").GetString());
        Assert.True(Directory.Exists(Path.Combine(data, "aggregated_data", "hits_by_country", "year=2026", "month=11", "day=23", "hour=23")));
    }

    /// <summary>Waits until <paramref name="process"/> has recorded its run as running and returns the run id.</summary>
    private async Task<string> WaitForRunningAsync(TallyProcess process)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (process.HasExited) Assert.Fail($"tally run ended before its run record was seen: {await process.EndAsync()}");
            if (MetastoreRows.ReadIfAny(_state, "SELECT run_id FROM runs WHERE status = 'running'") is [var row]) return row[0];
            await Task.Delay(20);
        }
        throw new TimeoutException("No running run was recorded within 30 s.");
    }

    private List<string[]> Query(string sql) => MetastoreRows.Read(_state, sql);
}
