using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Tally.Metastore;
using Tally.Scheduling;
using Tally.Storage;
using Tally.Tests.Workflow;
using Tally.Workflow;

namespace Tally.Tests.Scheduling;

/// <summary>The scheduler's loop on a real data folder and metastore, its clock a <see cref="FakeTimeProvider"/> the tests advance.</summary>
public sealed class SchedulerServiceTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly WorkflowHarness _harness = new();
    private FakeTimeProvider _clock = new(DateTimeOffset.Parse("2026-11-24T13:59:30Z", System.Globalization.CultureInfo.InvariantCulture));

    private static readonly HourWindow H13 = HourWindow.Parse("2026-11-24T13");

    public void Dispose() => _harness.Dispose();

    private async Task<SchedulerService> StartAsync(IObjectStore? store = null)
    {
        var catalog = await Catalog.OpenAsync(_harness.StateDirectory, _harness.Data.Store, _harness.Settings.ToOptions(), _clock);
        var (runs, outbox) = await _harness.OpenStateAsync();
        var workflow = new HourWorkflow(store ?? _harness.Data.Store, catalog, runs, outbox, _harness.Settings.Workflow, [], _clock);
        var service = new SchedulerService(workflow, runs, store ?? _harness.Data.Store, _harness.Settings.Schedule, _clock, NullLogger.Instance);
        await service.StartAsync(CancellationToken.None);
        return service;
    }

    private static async Task IdleAsync(SchedulerService service)
    {
        using var timeout = new CancellationTokenSource(Patience);
        await service.IdleAsync(timeout.Token);
    }

    private void WriteHits(HourWindow hour, int minute, string name, params string[] countries) =>
        _harness.Data.WriteRaw(hour, minute, name, string.Concat(countries.Select((c, i) =>
            $$"""{"GroupID":{{i + 1}},"CountryCode":"{{c}}","UserAgent":"ua","Language":"en","Domain":"example.com","Timestamp":"{{hour.Start.AddMinutes(minute):yyyy-MM-dd'T'HH:mm:ss'Z'}}"}""" + "\n")));

    /// <summary>
    /// Records the scheduled run of the tick at <paramref name="lastTick"/>, as the service did before it went down, then
    /// moves the clock to <paramref name="restart"/>, where the service starts again with one run at a time.
    /// </summary>
    private async Task OutageAsync(string lastTick, string restart)
    {
        _clock = new FakeTimeProvider(DateTimeOffset.Parse(lastTick, System.Globalization.CultureInfo.InvariantCulture));
        var (runs, outbox) = await _harness.OpenStateAsync();
        var catalog = await Catalog.OpenAsync(_harness.StateDirectory, _harness.Data.Store, _harness.Settings.ToOptions(), _clock);
        await new HourWorkflow(_harness.Data.Store, catalog, runs, outbox, _harness.Settings.Workflow, [], _clock)
            .RunAsync(new ScheduledTick(_clock.GetUtcNow()).Input, RunTrigger.Schedule);
        _clock.SetUtcNow(DateTimeOffset.Parse(restart, System.Globalization.CultureInfo.InvariantCulture));
        _harness.Settings.Schedule.MaxConcurrentRuns = 1;
    }

    /// <summary>Every run in the order it was recorded: target hour, trigger, status.</summary>
    private List<(string Hour, string Trigger, string Status, string Error)> Runs() =>
        _harness.MetastoreRows("SELECT target_hour, trigger, status, coalesce(error, '') FROM runs ORDER BY rowid").Select(r => (r[0], r[1], r[2], r[3])).ToList();

    private async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting for {what}; runs: {string.Join("; ", Runs())}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task Ticks_RunThePrecedingHour_WithTriggerSchedule()
    {
        WriteHits(H13, 5, "a.json", "DE", "FR");
        var service = await StartAsync();

        _clock.Advance(TimeSpan.FromSeconds(30)); // 14:00:00
        await IdleAsync(service);
        _clock.Advance(TimeSpan.FromHours(1)); // 15:00:00
        await IdleAsync(service);
        await service.StopAsync(CancellationToken.None);

        Assert.Equal([("2026-11-24T13", "schedule", "succeeded", ""), ("2026-11-24T14", "schedule", "succeeded", "")], Runs());
        var (runs, _) = await _harness.OpenStateAsync();
        var first = (await runs.ListAsync(H13, null, 1, CancellationToken.None)).Single();
        Assert.Equal("""{"target_datetime":"2026-11-24T14:00:00Z"}""", first.Input);
        Assert.Equal(2, first.Counters!.Records);
    }

    [Fact]
    public async Task AYearlyCron_KeepsTheServiceWaiting_AndAManualLaunchRunsTheHourAtOnce()
    {
        WriteHits(H13, 5, "a.json", "DE", "FR", "DE");
        _harness.Settings.Schedule.Cron = "0 0 1 1 *"; // the next tick is months away: more than Task.Delay takes at once
        var service = await StartAsync();
        await IdleAsync(service);

        Assert.True(service.TryLaunchManual(H13));
        await WaitForAsync(() => Runs() is [(_, _, "succeeded", _)], "the manual run");
        _clock.Advance(TimeSpan.FromDays(3));
        await IdleAsync(service);

        Assert.False(service.ExecuteTask!.IsCompleted, service.ExecuteTask.Exception?.ToString());
        await service.StopAsync(CancellationToken.None);
        Assert.Equal([("2026-11-24T13", "manual", "succeeded", "")], Runs());
        Assert.False(service.TryLaunchManual(H13));
    }

    [Fact]
    public async Task AfterAFiveHourOutage_TheMissedHoursRunOnStart_InOrder_OnceEach()
    {
        // The schedule last ran the 09:00 tick (hour 08); the service was down until 14:30.
        await OutageAsync("2026-11-24T09:00:00Z", "2026-11-24T14:30:00Z");

        var service = await StartAsync();
        await IdleAsync(service);
        _clock.Advance(TimeSpan.FromMinutes(30)); // 15:00, the first tick after the restart
        await IdleAsync(service);
        await service.StopAsync(CancellationToken.None);

        Assert.Equal(
            [
                ("2026-11-24T08", "schedule", "succeeded", ""),
                ("2026-11-24T09", "catch-up", "succeeded", ""), ("2026-11-24T10", "catch-up", "succeeded", ""),
                ("2026-11-24T11", "catch-up", "succeeded", ""), ("2026-11-24T12", "catch-up", "succeeded", ""),
                ("2026-11-24T13", "catch-up", "succeeded", ""),
                ("2026-11-24T14", "schedule", "succeeded", ""),
            ], Runs());
    }

    [Fact]
    public async Task AfterATwentyHourOutage_TheMissedHoursStartOldestFirst_WithOneRunAtATime()
    {
        // Twenty runs asked for at once: each continues on the pool, two threads here, in whatever order the pool takes
        // them; the run slots must still go to them in the order of their hours (the five-hour outage above once found
        // hour 10 started before hour 9).
        await OutageAsync("2026-11-24T01:00:00Z", "2026-11-24T21:30:00Z");

        var service = await StartAsync();
        await IdleAsync(service);
        await service.StopAsync(CancellationToken.None);

        var caughtUp = Runs().Skip(1).ToList();
        Assert.Equal(Enumerable.Range(1, 20).Select(h => ($"2026-11-24T{h:D2}", "catch-up", "succeeded", "")), caughtUp);
    }

    [Fact]
    public async Task AFileAddedToAProcessedHour_TriggersExactlyOneLateDataRun_AndTheTableThenCountsIt()
    {
        WriteHits(H13, 5, "a.json", "DE", "FR");
        var service = await StartAsync();
        _clock.Advance(TimeSpan.FromSeconds(30)); // 14:00: hour 13 with a.json
        await IdleAsync(service);

        WriteHits(H13, 58, "late.json", "DE", "IT", "IT");
        _clock.Advance(TimeSpan.FromHours(1)); // 15:00: hour 14, then hour 13 again
        await IdleAsync(service);
        _clock.Advance(TimeSpan.FromHours(1)); // 16:00: hour 15; hour 13 is unchanged since
        await IdleAsync(service);
        await service.StopAsync(CancellationToken.None);

        Assert.Equal(
            [
                ("2026-11-24T13", "schedule", "succeeded", ""), ("2026-11-24T14", "schedule", "succeeded", ""),
                ("2026-11-24T13", "late-data", "succeeded", ""), ("2026-11-24T15", "schedule", "succeeded", ""),
            ], Runs());
        using var oracle = new DuckDbOracle();
        foreach (var spec in AggregationSpec.Defaults)
        {
            var expected = oracle.ExpectedRows(_harness.Data.Root, H13, spec);
            Assert.Equal(expected, oracle.FileRows(_harness.Data.PathOf(DataLayout.TableFile(spec, H13)), spec.Format));
        }
        Assert.Contains("DE|2", oracle.FileRows(_harness.Data.PathOf(DataLayout.TableFile(AggregationSpec.Defaults[0], H13)), AggregationSpec.Defaults[0].Format));
    }

    [Fact]
    public async Task ARestartDuringARun_NeitherLosesNorDoublesTheHour()
    {
        WriteHits(H13, 5, "a.json", "DE", "FR");
        var stuck = new GatedStore(_harness.Data.Store);
        var first = await StartAsync(stuck);
        _clock.Advance(TimeSpan.FromSeconds(30)); // 14:00: hour 13 starts and hangs in its read
        await WaitForAsync(() => stuck.Waiting > 0, "the run to start reading");

        await first.StopAsync(CancellationToken.None);
        Assert.Equal([("2026-11-24T13", "schedule", "cancelled", "Tally.Cancelled")], Runs());
        Assert.Equal(1, first.Cancelled);

        _clock.Advance(TimeSpan.FromMinutes(2));
        var second = await StartAsync();
        await IdleAsync(second);
        await second.StopAsync(CancellationToken.None);

        Assert.Equal([("2026-11-24T13", "schedule", "cancelled", "Tally.Cancelled"), ("2026-11-24T13", "catch-up", "succeeded", "")], Runs());
    }

    [Fact]
    public async Task ARunPastTheTimeout_IsCancelled_AndRecordedAsTimedOut()
    {
        WriteHits(H13, 5, "a.json", "DE");
        _harness.Settings.Schedule.RunTimeout = TimeSpan.FromMinutes(10);
        var stuck = new GatedStore(_harness.Data.Store);
        var service = await StartAsync(stuck);
        _clock.Advance(TimeSpan.FromSeconds(30));
        await WaitForAsync(() => stuck.Waiting > 0, "the run to start reading");

        _clock.Advance(TimeSpan.FromMinutes(10));
        await IdleAsync(service);
        await service.StopAsync(CancellationToken.None);

        Assert.Equal([("2026-11-24T13", "schedule", "cancelled", "Tally.Timeout")], Runs());
    }

    [Fact]
    public async Task CatchUp_RunsAtMostMaxConcurrentRunsAtOnce()
    {
        foreach (var hour in HourWindow.Range(H13.AddHours(-5), H13.AddHours(1))) WriteHits(hour, 1, "a.json", "DE");
        _clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-24T07:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var (runs, outbox) = await _harness.OpenStateAsync();
        var catalog = await Catalog.OpenAsync(_harness.StateDirectory, _harness.Data.Store, _harness.Settings.ToOptions(), _clock);
        await new HourWorkflow(_harness.Data.Store, catalog, runs, outbox, _harness.Settings.Workflow, [], _clock)
            .RunAsync(new ScheduledTick(_clock.GetUtcNow()).Input, RunTrigger.Schedule);
        _clock.SetUtcNow(DateTimeOffset.Parse("2026-11-24T14:10:00Z", System.Globalization.CultureInfo.InvariantCulture));
        _harness.Settings.Schedule.MaxConcurrentRuns = 2;
        var counting = new GatedStore(_harness.Data.Store) { Open = true };

        var service = await StartAsync(counting);
        await IdleAsync(service);
        await service.StopAsync(CancellationToken.None);

        Assert.Equal(8, Runs().Count); // the 07:00 tick before, then the ticks 08:00 to 14:00
        Assert.All(Runs().Skip(1), r => Assert.Equal(("catch-up", "succeeded"), (r.Trigger, r.Status)));
        Assert.InRange(counting.MaxConcurrentReads, 1, 2);
    }
}

/// <summary>
/// A real store whose reads of raw files wait (honouring cancellation) until <see cref="Open"/> is set: a run that hangs
/// in AggregateHour. Counts the reads going on at once.
/// </summary>
internal sealed class GatedStore(IObjectStore inner) : IObjectStore
{
    private int _waiting;
    private int _reading;
    private int _maxReading;

    public bool Open { get; set; }
    public int Waiting => Volatile.Read(ref _waiting);
    public int MaxConcurrentReads => Volatile.Read(ref _maxReading);

    public string Describe(string key) => inner.Describe(key);

    public IAsyncEnumerable<string> ListFoldersAsync(string prefix, CancellationToken cancellationToken) => inner.ListFoldersAsync(prefix, cancellationToken);

    public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken) => inner.ListAsync(prefix, cancellationToken);

    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var now = Interlocked.Increment(ref _reading);
        int max;
        while (now > (max = Volatile.Read(ref _maxReading)) && Interlocked.CompareExchange(ref _maxReading, now, max) != max)
        {
        }
        try
        {
            if (!Open)
            {
                Interlocked.Increment(ref _waiting);
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            await Task.Delay(30, cancellationToken); // long enough for concurrent runs to overlap
            return await inner.OpenReadAsync(key, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _reading);
        }
    }

    public Task WriteAtomicAsync(string key, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken) =>
        inner.WriteAtomicAsync(key, write, cancellationToken);

    public Task WriteAllAtomicAsync(IReadOnlyList<ObjectWrite> writes, CancellationToken cancellationToken) =>
        inner.WriteAllAtomicAsync(writes, cancellationToken);

    public Task DeleteAsync(string key, CancellationToken cancellationToken) => inner.DeleteAsync(key, cancellationToken);
}
