using System.Diagnostics;

namespace Tally.Cli.Tests;

/// <summary><c>tally serve</c> as a real process: a real tick of a per-minute cron, then SIGTERM.</summary>
public sealed class ServeProcessFacts : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "tally-serve-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_data)) Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task Serve_ProcessesARealTick_AndExitsZeroOnSigterm_WithNoRunLeftRunning()
    {
        // The first per-minute tick processes floor(tick − 1 h): this hour's predecessor, or this hour itself when the hour
        // has turned before it, however long the set-up takes on a busy machine. Both have hits.
        var previous = HourWindow.Containing(DateTimeOffset.UtcNow.AddHours(-1));
        HourWindow[] hours = [previous, previous.AddHours(1)];
        var generated = await TallyProcess.Start("generate", "--data", _data, "--hour", hours[0].ToString(), "--hours", "2", "--hits-per-hour", "2000").EndAsync();
        Assert.True(generated.ExitCode == 0, generated.ToString());

        // --port 0: the dashboard takes any free port, so this test never collides with another serve on the default one.
        var serve = TallyProcess.Start("serve", "--data", _data, "--cron", "* * * * *", "--port", "0");
        var clock = Stopwatch.StartNew();
        List<string[]> succeeded = [];
        while (succeeded.Count == 0)
        {
            if (serve.HasExited) Assert.Fail($"tally serve ended by itself: {await serve.EndAsync()}");
            if (clock.Elapsed > TimeSpan.FromSeconds(90)) Assert.Fail($"No scheduled run succeeded within 90 s: {Terminated(serve)}");
            await Task.Delay(500);
            succeeded = TryQuery("SELECT target_hour, counters FROM runs WHERE trigger = 'schedule' AND status = 'succeeded'");
        }
        serve.Terminate();
        var result = await serve.EndAsync();

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(succeeded[0][0], hours.Select(h => h.ToString()));
        Assert.Contains("\"records\":2000", succeeded[0][1]);
        Assert.Empty(TryQuery("SELECT run_id FROM runs WHERE status = 'running'"));
        Assert.Contains("Tally.Scheduler", result.Stdout);
        Assert.Contains("Application is shutting down", result.Stdout);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    private static string Terminated(TallyProcess process)
    {
        process.Terminate();
        return process.EndAsync().GetAwaiter().GetResult().ToString();
    }

    private List<string[]> TryQuery(string sql) => MetastoreRows.ReadIfAny(Path.Combine(_data, ".tally"), sql);
}
