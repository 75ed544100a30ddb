using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Xunit.Abstractions;

namespace Tally.Dashboard.Tests;

/// <summary>
/// The short version of <c>Tally.Bench load</c> (bench/README.md): a real <c>tally serve</c> under a bounded load from this
/// process, on 127.0.0.1, while a <c>tally backfill</c> runs hours through the same data folder, the schedule ticks every
/// three seconds and one connection keeps a query over its time limit running.
/// </summary>
[Collection(LimitsCollection.Name)]
public sealed class LoadFacts(ITestOutputHelper output) : IDisposable
{
    private const int BackfillHours = 6;
    private const int HitsPerHour = 20_000;
    private readonly string _data = Path.Combine(Path.GetTempPath(), "tally-load-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_data)) Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task Serve_UnderABoundedLoad_WhileABackfillAndScheduledRunsGoOn_AnswersEveryRequest_AndEveryRunSucceeds()
    {
        var current = HourWindow.Containing(DateTimeOffset.UtcNow);
        var scheduled = current.AddHours(-1);
        // Far from the hours the schedule runs, catches up or looks at for late data: the backfill never waits for a lease.
        var from = current.AddHours(-72);
        Ok(await TallyProcess.RunAsync("generate", "--data", _data, "--hour", scheduled.ToString(), "--hits-per-hour", $"{HitsPerHour}"));
        Ok(await TallyProcess.RunAsync("generate", "--data", _data, "--hour", from.ToString(), "--hours", $"{BackfillHours}", "--hits-per-hour", $"{HitsPerHour}", "--seed", "3"));
        // A run slowed past a minute would be cancelled and recorded failed (Tally.Timeout); queries over 5 s are interrupted.
        var serve = TallyProcess.Start([("TALLY_Schedule__RunTimeout", "00:01:00"), ("TALLY_Query__Timeout", "00:00:05")],
            "serve", "--data", _data, "--port", "0", "--cron", "*/3 * * * * *");
        var url = await serve.DashboardUrlAsync();

        var loadStart = DateTimeOffset.UtcNow;
        var backfill = TallyProcess.Start("backfill", "--data", _data, "--from", from.ToString(), "--to", from.AddHours(BackfillHours).ToString(), "--format", "json");
        using var stop = new CancellationTokenSource();
        var load = LoadClient.RunAsync(new LoadOptions(url, DashboardLoad.Mix(scheduled), Connections: 4, TimeSpan.FromSeconds(120), MaxRequests: 50_000), stop.Token);
        var overLimit = LoadClient.RunAsync(new LoadOptions(url, DashboardLoad.OverLimit(), Connections: 1, TimeSpan.FromSeconds(120), MaxRequests: 100), stop.Token);
        ProcessResult backfilled;
        try
        {
            // The load goes on until the backfill has ended and a scheduled run that started under the load has ended too.
            backfilled = await backfill.EndAsync();
            await WaitForAsync(serve, () => Runs(loadStart, "trigger = 'schedule' AND status <> 'running'").Count > 0, "a scheduled run under the load");
        }
        finally
        {
            await stop.CancelAsync();
        }
        var (report, overLimitReport) = (await load, await overLimit);
        var stopping = DateTimeOffset.UtcNow;
        serve.Terminate();
        var served = await serve.EndAsync();
        output.WriteLine(report.ToString());
        output.WriteLine(overLimitReport.ToString());

        Assert.True(served.ExitCode == 0, served.ToString());
        Assert.True(backfilled.ExitCode == 0, backfilled.ToString());
        Assert.Equal(BackfillHours, JsonDocument.Parse(backfilled.Stdout).RootElement.GetProperty("succeeded").GetInt32());
        Assert.True(report.Failures.Count == 0, $"{report.Failures.Count} requests not answered 2xx, the first: {string.Join("; ", report.Failures.Take(5))}");
        Assert.Equal(DashboardLoad.Mix(scheduled).Select(r => r.Name).Order(StringComparer.Ordinal), report.Samples.Select(s => s.Name).Distinct().Order(StringComparer.Ordinal));
        // The query over its limit took a slot all along and was interrupted each time, answered 504.
        Assert.NotEmpty(overLimitReport.Samples);
        Assert.All(overLimitReport.Samples, s => Assert.Equal((int)HttpStatusCode.GatewayTimeout, s.Status));
        // Every run that started under the load succeeded: none failed, timed out or was left running. A scheduled run (every
        // 3 s) going on when serve was stopped is cancelled by the stop, and recorded so.
        var runs = Runs(loadStart, "1 = 1");
        Assert.All(runs, r => Assert.True(r[2] == "succeeded" || (r[2] == "cancelled" && r[1] == "schedule" && string.CompareOrdinal(r[4], Stamp(stopping)) >= 0),
            string.Join(" ", r)));
        Assert.Equal(BackfillHours, runs.Count(r => r[1] == "backfill"));
        Assert.Contains(runs, r => r[1] == "schedule");
    }

    /// <summary>Runs that started at or after <paramref name="since"/>: run id, trigger, status, error.</summary>
    private List<string[]> Runs(DateTimeOffset since, string where) => MetastoreRows.ReadIfAny(Path.Combine(_data, ".tally"),
        $"SELECT run_id, trigger, status, coalesce(error, ''), coalesce(ended_at, '') FROM runs WHERE started_at >= '{Stamp(since)}' AND {where}");

    /// <summary>A time as the metastore writes it, so the two compare as text.</summary>
    private static string Stamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fff", CultureInfo.InvariantCulture) + "Z";

    private static async Task WaitForAsync(TallyProcess serve, Func<bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (serve.HasExited) Assert.Fail($"tally serve ended while waiting for {what}: {await serve.EndAsync()}");
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                serve.Terminate();
                Assert.Fail($"No {what} within 60 s: {await serve.EndAsync()}");
            }
            await Task.Delay(200);
        }
    }

    private static void Ok(ProcessResult result) => Assert.True(result.ExitCode == 0, result.ToString());
}
