using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace Tally.Dashboard.Tests;

[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<DashboardFixture>
{
    public const string Name = "dashboard";
}

/// <summary>
/// Generated data with a known history, made by the real <c>tally</c> processes, and one <c>tally serve</c> over it:
/// <list type="bullet">
/// <item><see cref="FailedHour"/>: 2,000 hits plus a file of 100 records whose GroupID is not an integer, so its manual run fails (5 % rejected, over the 1 % threshold);</item>
/// <item><see cref="ManualHour"/>: 2,000 hits, run by <c>tally run</c> (trigger manual), succeeded;</item>
/// <item><see cref="LateDataHour"/>: 2,000 hits run by <c>tally run</c>, then 100 more in a late file that a first <c>tally serve</c>
/// (a cron ticking every second) picks up after a tick and runs again (trigger late-data);</item>
/// <item><see cref="CatchUpHour"/>: 2,000 hits, run by that first serve's ticks; the dashboard's serve then starts with a cron
/// whose only recent tick fell between the two serves, so it catches that tick up (trigger catch-up). Its next tick is a year away.</item>
/// </list>
/// Also a Chromium (Debian's, through Playwright) and the folder the page screenshots go to.
/// </summary>
public sealed class DashboardFixture() : ServeFixture("tally-dash-", "dashboard-screenshots")
{
    public const int HitsPerHour = 2000;
    public const int LateHits = 100;
    public const int BadLines = 100;

    public HourWindow FailedHour { get; private set; }
    public HourWindow ManualHour { get; private set; }
    public HourWindow LateDataHour { get; private set; }
    public HourWindow CatchUpHour { get; private set; }
    public TimeSpan SetUpTime { get; private set; }

    public override async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        // The hours are relative to now; keep the set-up clear of an hour boundary so a tick cannot move to the next hour.
        var now = DateTimeOffset.UtcNow;
        var toNextHour = HourWindow.Containing(now).End - now;
        if (toNextHour < TimeSpan.FromSeconds(90)) await Task.Delay(toNextHour + TimeSpan.FromSeconds(2));
        var current = HourWindow.Containing(DateTimeOffset.UtcNow);
        FailedHour = current.AddHours(-4);
        ManualHour = current.AddHours(-3);
        LateDataHour = current.AddHours(-2);
        CatchUpHour = current.AddHours(-1);

        Ok(await TallyProcess.RunAsync("generate", "--data", Data, "--hour", FailedHour.ToString(), "--hours", "4",
            "--hits-per-hour", HitsPerHour.ToString(CultureInfo.InvariantCulture), "--seed", "7"));
        WriteRaw(FailedHour, "00", "bad.json", Enumerable.Range(0, BadLines).Select(i => $$"""{"GroupID":"not a number {{i}}","CountryCode":"XX"}"""));
        var failed = await TallyProcess.RunAsync("run", "--data", Data, "--hour", FailedHour.ToString());
        Assert.True(failed.ExitCode == 1, failed.ToString());
        Ok(await TallyProcess.RunAsync("run", "--data", Data, "--hour", ManualHour.ToString()));
        Ok(await TallyProcess.RunAsync("run", "--data", Data, "--hour", LateDataHour.ToString()));
        WriteRaw(LateDataHour, "59", "late.json", Enumerable.Range(0, LateHits).Select(i =>
            $$"""{"GroupID":{{i}},"CountryCode":"NZ","UserAgent":"late-agent","Language":"en-NZ","Domain":"late.example","Timestamp":"{{LateDataHour.Start.UtcDateTime:yyyy-MM-dd}}T{{LateDataHour.Start.UtcDateTime:HH}}:59:30Z"}"""));

        // A first serve ticking every second: schedule runs of the hour before now, and a late-data run of LateDataHour.
        var first = TallyProcess.Start("serve", "--data", Data, "--port", "0", "--cron", "* * * * * *");
        await WaitForAsync(first, () =>
            Query("SELECT count(*) FROM runs WHERE trigger = 'schedule' AND status = 'succeeded'") is [[not "0"]]
            && Query($"SELECT count(*) FROM runs WHERE trigger = 'late-data' AND status = 'succeeded' AND target_hour = '{LateDataHour}'") is [[not "0"]],
            "a succeeded schedule run and a late-data run");
        first.Terminate();
        Ok(await first.EndAsync());

        // The dashboard's serve: a cron whose only occurrence near now is one second after the last scheduled tick.
        var last = Query("SELECT input FROM runs WHERE trigger = 'schedule'")
            .Select(r => JsonDocument.Parse(r[0]).RootElement.GetProperty("target_datetime").GetDateTimeOffset()).Max();
        var tick = new DateTimeOffset(Math.Max(last.UtcTicks, DateTimeOffset.UtcNow.UtcTicks) / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero).AddSeconds(1);
        Assert.Equal(CatchUpHour, HourWindow.Containing(tick.AddHours(-1)));
        while (DateTimeOffset.UtcNow < tick.AddMilliseconds(300)) await Task.Delay(50);
        var cron = string.Create(CultureInfo.InvariantCulture, $"{tick.Second} {tick.Minute} {tick.Hour} {tick.Day} {tick.Month} *");
        var serve = await StartServeAsync("serve", "--data", Data, "--port", "0", "--cron", cron);
        await WaitForAsync(serve, () =>
            Query($"SELECT count(*) FROM runs WHERE trigger = 'catch-up' AND status = 'succeeded' AND target_hour = '{CatchUpHour}'") is [[not "0"]],
            "the catch-up run");
        try
        {
            (await Http.GetAsync("/healthz")).EnsureSuccessStatusCode();
        }
        catch (HttpRequestException e)
        {
            serve.Terminate();
            Assert.Fail($"The dashboard at {Url} does not answer ({e.Message}): {await serve.EndAsync()}");
        }

        await LaunchBrowserAsync();
        SetUpTime = clock.Elapsed;
    }

    /// <summary>Rows of the state database (SQLite, read-only), as strings; none while it is being created.</summary>
    public List<string[]> Query(string sql) => MetastoreRows.ReadIfAny(Path.Combine(Data, ".tally"), sql);

    private static async Task WaitForAsync(TallyProcess serve, Func<bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (serve.HasExited) Assert.Fail($"tally serve ended while waiting for {what}: {await serve.EndAsync()}");
            if (clock.Elapsed > TimeSpan.FromSeconds(90))
            {
                serve.Terminate();
                Assert.Fail($"No {what} within 90 s: {await serve.EndAsync()}");
            }
            await Task.Delay(200);
        }
    }

    private void WriteRaw(HourWindow hour, string minute, string name, IEnumerable<string> lines)
    {
        var s = hour.Start.UtcDateTime;
        var folder = Path.Combine(Data, "raw_data", $"year={s:yyyy}", $"month={s:MM}", $"day={s:dd}", $"hour={s:HH}", $"minute={minute}");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, name), string.Join('\n', lines) + "\n");
    }

    private static void Ok(ProcessResult result) => Assert.True(result.ExitCode == 0, result.ToString());
}
