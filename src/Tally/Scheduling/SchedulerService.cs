using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tally.Storage;
using Tally.Workflow;

namespace Tally.Scheduling;

/// <summary>
/// <c>tally serve</c>'s loop. At start it catches up the ticks missed since the last scheduled run (within
/// <see cref="ScheduleSettings.CatchUpWindow"/>, oldest first, trigger <c>catch-up</c>); then it runs each tick of the cron
/// (trigger <c>schedule</c>) and after each tick every hour of the look-back window whose raw input changed (trigger
/// <c>late-data</c>). At most <see cref="ScheduleSettings.MaxConcurrentRuns"/> runs at once, never two of one hour (in this
/// process a run of an hour waits for the one going on; across processes the hour's lease keeps a second out); a run past
/// <see cref="ScheduleSettings.RunTimeout"/> is cancelled and recorded as timed out. On stop, the runs going on are cancelled
/// and recorded <c>cancelled</c>; the next start catches their hours up. All time comes from the <see cref="TimeProvider"/>.
/// </summary>
public sealed class SchedulerService : BackgroundService
{
    private readonly HourWorkflow _workflow;
    private readonly RunStore _runs;
    private readonly ScheduleSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<CancellationToken, Task>? _afterRun;
    private readonly HourlyScheduler _scheduler;
    private readonly LateDataDetector _lateData;
    private readonly SemaphoreSlim _slots;
    private readonly Lock _gate = new();
    private readonly Dictionary<HourWindow, Task> _inFlight = [];
    private readonly HashSet<Task> _pending = [];
    private int _cancelled;
    private DateTimeOffset? _waitingUntil;
    private DateTimeOffset? _startedAt;
    private CancellationToken? _stopping;

    /// <summary>The longest single wait for a tick; longer ones are waited in steps.</summary>
    private static readonly TimeSpan MaxWait = TimeSpan.FromDays(1);

    /// <param name="afterRun">Called after each run, for example to deliver the events it stored; its failures are logged.</param>
    public SchedulerService(HourWorkflow workflow, RunStore runs, IObjectStore store, ScheduleSettings settings, TimeProvider time, ILogger logger,
        Func<CancellationToken, Task>? afterRun = null)
    {
        _workflow = workflow;
        _runs = runs;
        _settings = settings;
        _time = time;
        _logger = logger;
        _afterRun = afterRun;
        _scheduler = new HourlyScheduler(CronSchedule.Parse(settings.Cron, "Schedule:Cron"), settings.Delay);
        _lateData = new LateDataDetector(store, runs);
        _slots = new SemaphoreSlim(settings.MaxConcurrentRuns, settings.MaxConcurrentRuns);
    }

    /// <summary>Runs cancelled because the service stopped or they timed out, since it started.</summary>
    internal int Cancelled => Volatile.Read(ref _cancelled);

    /// <summary>
    /// Completes once nothing is going on: no run or late-data check pending and the loop waiting for a tick still to come.
    /// For tests that drive the clock.
    /// </summary>
    internal async Task IdleAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            lock (_gate)
            {
                if (_pending.Count == 0 && _waitingUntil is { } next && next > _time.GetUtcNow()) return;
            }
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads the clock once, as the service starts (ExecuteAsync runs later, on the thread pool): catch-up covers the ticks
    /// due by then, the loop the ones after it, so no tick falls between the two.
    /// </summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _startedAt = _time.GetUtcNow();
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        lock (_gate) _stopping = stoppingToken;
        try
        {
            var start = _startedAt ?? _time.GetUtcNow();
            await CatchUpAsync(start, stoppingToken).ConfigureAwait(false);
            await TickLoopAsync(start, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            Task[] pending;
            lock (_gate) pending = [.. _pending];
            if (pending.Length > 0) _logger.LogInformation("Stopping: waiting for {Count} run(s) to record how they ended.", pending.Length);
            await Task.WhenAll(pending).ConfigureAwait(false);
            _logger.LogInformation("Stopped; {Cancelled} run(s) were cancelled and recorded as such.", Cancelled);
        }
    }

    private async Task CatchUpAsync(DateTimeOffset now, CancellationToken stop)
    {
        await _runs.MarkAbandonedAsync(now, stop).ConfigureAwait(false);
        var last = await _runs.LastScheduledTimeAsync(stop).ConfigureAwait(false);
        var interrupted = new HashSet<HourWindow>();
        if (last is not null && _settings.CatchUpWindow > TimeSpan.Zero)
        {
            foreach (var hour in HourWindow.Range(HourWindow.Containing(now - _settings.CatchUpWindow).AddHours(-1), HourWindow.Containing(now).AddHours(1)))
            {
                if (await _runs.ListAsync(hour, null, 1, stop).ConfigureAwait(false) is [{ Status: RunStatus.Cancelled or RunStatus.Abandoned }]) interrupted.Add(hour);
            }
        }
        var ticks = _scheduler.PlanCatchUp(now, last, _settings.CatchUpWindow, interrupted);
        _logger.LogInformation("Schedule '{Cron}' (UTC), delay {Delay}; last scheduled run {Last}; {Count} tick(s) to catch up{Hours}.",
            _settings.Cron, _settings.Delay, last?.ToString("u") ?? "never", ticks.Count, ticks.Count > 0 ? ": hours " + string.Join(", ", ticks.Select(t => t.Hour)) : "");
        foreach (var tick in ticks) _ = Launch(tick, RunTrigger.CatchUp, stop);
    }

    private async Task TickLoopAsync(DateTimeOffset cursor, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            if (_scheduler.NextTick(cursor) is not { } tick)
            {
                _logger.LogWarning("The cron expression '{Cron}' has no further occurrence; no more ticks.", _settings.Cron);
                await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
                return;
            }
            var runAt = _scheduler.RunTime(tick);
            lock (_gate) _waitingUntil = runAt;
            // Task.Delay refuses waits over ~49.7 days (a yearly cron's next tick); wait in steps of at most a day.
            for (var wait = runAt - _time.GetUtcNow(); wait > TimeSpan.Zero; wait = runAt - _time.GetUtcNow())
            {
                await Task.Delay(wait < MaxWait ? wait : MaxWait, _time, stop).ConfigureAwait(false);
            }
            cursor = runAt;
            var run = Launch(tick, RunTrigger.Schedule, stop);
            Track(LateDataAfterAsync(run, stop));
        }
    }

    /// <summary>After a tick's run, runs again every hour of the look-back window whose input changed.</summary>
    private async Task LateDataAfterAsync(Task tickRun, CancellationToken stop)
    {
        await tickRun.ConfigureAwait(false);
        try
        {
            var changed = await _lateData.FindChangedAsync(_time.GetUtcNow(), _settings.LateDataLookBack, stop).ConfigureAwait(false);
            foreach (var hour in changed)
            {
                bool busy;
                lock (_gate) busy = _inFlight.ContainsKey(hour);
                if (busy) continue; // A run of the hour is going on; the next tick looks again.
                _logger.LogInformation("{Hour}: its raw input changed since it was processed; running it again (late data).", hour);
                _ = Launch(ScheduledTick.For(hour), RunTrigger.LateData, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Looking for late data failed; the next tick looks again.");
        }
    }

    /// <summary>
    /// Starts a run of <paramref name="hour"/> now (trigger <c>manual</c>, for the dashboard's rerun button), under the same rules as
    /// the schedule's runs: it takes a run slot (<see cref="ScheduleSettings.MaxConcurrentRuns"/>), waits for a run of the hour going
    /// on in this process, and skips the hour when another process holds it. Returns false when the service is not running.
    /// </summary>
    public bool TryLaunchManual(HourWindow hour)
    {
        CancellationToken? stopping;
        lock (_gate) stopping = _stopping;
        if (stopping is not { IsCancellationRequested: false } stop) return false;
        _ = Launch(ScheduledTick.For(hour), RunTrigger.Manual, stop);
        return true;
    }

    /// <summary>Starts a run of <paramref name="tick"/>'s hour after any run of that hour going on in this process.</summary>
    private Task Launch(ScheduledTick tick, RunTrigger trigger, CancellationToken stop)
    {
        lock (_gate)
        {
            _inFlight.TryGetValue(tick.Hour, out var previous);
            var run = RunAsync(tick, trigger, previous, stop);
            _inFlight[tick.Hour] = run;
            Track(run);
            _ = run.ContinueWith(t =>
            {
                lock (_gate)
                {
                    if (_inFlight.TryGetValue(tick.Hour, out var current) && current == t) _inFlight.Remove(tick.Hour);
                }
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return run;
        }
    }

    private void Track(Task task)
    {
        lock (_gate) _pending.Add(task);
        _ = task.ContinueWith(t =>
        {
            lock (_gate) _pending.Remove(t);
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>One run; never throws, every outcome is logged (and recorded by the workflow).</summary>
    private async Task RunAsync(ScheduledTick tick, RunTrigger trigger, Task? previous, CancellationToken stop)
    {
        // The run slot is asked for now, in the order of the launches (the semaphore serves its waiters first come, first
        // served), so that catch-up's hours start oldest first however the pool orders what follows; a run that waits for
        // one of its own hour asks once that one has ended.
        var slot = previous is null ? _slots.WaitAsync(stop) : null;
        // Launch calls this under its lock: return to it at once, and do the (synchronous, SQLite) work on the pool.
        await Task.Yield();
        var hour = tick.Hour;
        var name = trigger.Text();
        try
        {
            if (slot is not null)
            {
                await slot.ConfigureAwait(false);
            }
            else
            {
                await previous!.ConfigureAwait(false);
                await _slots.WaitAsync(stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            _logger.LogInformation("{Hour} ({Trigger}, tick {Tick}) was not started: the service is stopping.", hour, name, tick);
            return;
        }
        try
        {
            using var timeout = new CancellationTokenSource(_settings.RunTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, timeout.Token);
            _logger.LogInformation("{Hour}: run starts ({Trigger}, tick {Tick}).", hour, name, tick);
            try
            {
                // A late-data run was decided from a read of the metastore that may be older than the run that processed the
                // change (it ended between that read and the launch, so it was not in flight either): looked at again now,
                // after any run of the hour in this process has ended, so the change is not processed twice.
                if (trigger == RunTrigger.LateData && !await _lateData.HasChangedAsync(hour, linked.Token).ConfigureAwait(false))
                {
                    _logger.LogInformation("{Hour}: its changed raw input was processed meanwhile; no late-data run needed.", hour);
                    return;
                }
                var result = await _workflow.RunAsync(tick.Input, trigger, TimeSpan.Zero, null, linked.Token).ConfigureAwait(false);
                if (result is WorkflowResult.Held held) _logger.LogWarning("{Hour}: skipped ({Trigger}); another run holds it: {Holder}.", hour, name, held.HeldBy.Holder);
                else if (result is WorkflowResult.Started { Succeeded: true, Run: var ok }) _logger.LogInformation("{Hour}: {RunId} succeeded ({Trigger}).", hour, ok.RunId, name);
                else if (result is WorkflowResult.Started { Run: var run }) _logger.LogError("{Hour}: {RunId} failed ({Trigger}) in {State}: {Error}: {Cause}", hour, run.RunId, name, run.FailedState, run.Error, run.Cause);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !stop.IsCancellationRequested)
            {
                Interlocked.Increment(ref _cancelled);
                await RecordTimeoutAsync(hour).ConfigureAwait(false);
                _logger.LogError("{Hour}: cancelled ({Trigger}) after the run timeout of {Timeout}; recorded as timed out.", hour, name, _settings.RunTimeout);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                Interlocked.Increment(ref _cancelled);
                _logger.LogWarning("{Hour}: cancelled ({Trigger}) because the service is stopping; recorded as cancelled, the next start runs it again.", hour, name);
            }
            catch (Exception e)
            {
                _logger.LogError(e, "{Hour}: the run could not be carried out ({Trigger}).", hour, name);
            }
            if (_afterRun is not null && !stop.IsCancellationRequested)
            {
                try
                {
                    await _afterRun(stop).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _logger.LogError(e, "After the run of {Hour}: delivering events failed; they stay in the outbox.", hour);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>The workflow records a cancelled run as <c>Tally.Cancelled</c>; a timeout says so instead.</summary>
    private async Task RecordTimeoutAsync(HourWindow hour)
    {
        if (await _runs.ListAsync(hour, null, 1, CancellationToken.None).ConfigureAwait(false) is [{ Status: RunStatus.Cancelled } run])
        {
            await _runs.FinishAsync(run with
            {
                Error = TallyException.ErrorName(TallyErrorKind.Timeout),
                Cause = $"The run was cancelled after the run timeout (Schedule:RunTimeout) of {_settings.RunTimeout}.",
            }, CancellationToken.None).ConfigureAwait(false);
        }
    }

    public override void Dispose()
    {
        _slots.Dispose();
        base.Dispose();
    }
}
