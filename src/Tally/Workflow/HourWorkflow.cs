using System.Text.Json;
using System.Text.Json.Nodes;
using Tally.Engine;
using Tally.Events;
using Tally.Metastore;
using Tally.Storage;

namespace Tally.Workflow;

/// <summary>
/// The hourly workflow, the same states as the Step Functions state machine:
/// <c>ComputeTargetHour → AggregateHour → Succeeded</c>, or on failure <c>FormatFailure → PublishFailureEvent → Failed</c>.
/// AggregateHour is retried with exponential backoff on transient failures (<see cref="TallyErrorKind.Transient"/>: I/O,
/// throttling, 5xx); data errors and bad configuration fail at once. Every run, step and attempt is recorded in the
/// metastore; the hour's lease keeps a second run of the same hour out, in any process, while this one lives.
/// Events are only stored here (outbox); an <see cref="EventDispatcher"/> delivers them.
/// </summary>
public sealed class HourWorkflow(
    IObjectStore store, Catalog catalog, RunStore runs, EventOutbox outbox, WorkflowSettings settings, IReadOnlyList<string> sinks, TimeProvider time)
{
    internal const string StateMachine = "tally-hourly";

    /// <summary>
    /// Runs the workflow for <paramref name="input"/>. When another live run holds the hour, waits up to
    /// <paramref name="waitForLease"/> for it to end, then returns <see cref="WorkflowResult.Held"/> naming it.
    /// </summary>
    /// <exception cref="TallyException">InvalidArgument for a bad input; Transient when the metastore fails.</exception>
    /// <exception cref="OperationCanceledException">When cancelled; the run is then recorded as cancelled.</exception>
    public async Task<WorkflowResult> RunAsync(string input, RunTrigger trigger, TimeSpan waitForLease = default,
        IProgress<RunProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var hour = WorkflowContract.TargetHour(input);
        var deadline = time.GetUtcNow() + waitForLease;
        while (true)
        {
            var now = time.GetUtcNow();
            await runs.MarkAbandonedAsync(now, cancellationToken).ConfigureAwait(false);
            var runId = Catalog.NewRunId(time);
            var run = new RunRecord
            {
                RunId = runId, TargetHour = hour, Trigger = trigger, Input = input, Status = RunStatus.Running,
                Holder = $"{runId} pid {Environment.ProcessId} on {Environment.MachineName}", StartedAt = now,
            };
            var (started, heldBy) = await runs.TryStartAsync(run, time, settings.Lease.Ttl, cancellationToken).ConfigureAwait(false);
            if (started is not null) return await ExecuteAsync(started, progress, cancellationToken).ConfigureAwait(false);
            if (heldBy is not null && time.GetUtcNow() >= deadline) return new WorkflowResult.Held(heldBy);
            var pause = TimeSpan.FromMilliseconds(Math.Min(500, Math.Max(1, (deadline - time.GetUtcNow()).TotalMilliseconds)));
            await Task.Delay(pause, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<WorkflowResult.Started> ExecuteAsync(RunRecord run, IProgress<RunProgress>? progress, CancellationToken cancellationToken)
    {
        // Not cancellable: the run is recorded as running now, and only the try below records a cancellation (a stop that
        // came in here left the run running until its lease expired).
        var step = await runs.StartStepAsync(run.RunId, WorkflowContract.States.ComputeTargetHour, 1, run.StartedAt, CancellationToken.None).ConfigureAwait(false);
        await runs.EndStepAsync(run.RunId, step, StepOutcome.Succeeded, null, time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);

        using var leaseLost = new CancellationTokenSource();
        using var work = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, leaseLost.Token);
        using var stopHeartbeat = new CancellationTokenSource();
        var heartbeat = HeartbeatAsync(run, leaseLost, stopHeartbeat.Token);
        Outcome outcome;
        try
        {
            outcome = await AggregateHourAsync(run, progress, work.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (leaseLost.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            outcome = Outcome.Failure(WorkflowContract.States.AggregateHour, ErrorName(TallyErrorKind.LeaseLost),
                $"The run lost the lease of {run.TargetHour} (its heartbeat could not renew it within {settings.Lease.Ttl.TotalSeconds:0} s), so it stopped.", null, 0);
        }
        catch (OperationCanceledException)
        {
            await runs.FinishAsync(run with { Status = RunStatus.Cancelled, EndedAt = time.GetUtcNow(), Error = ErrorName(TallyErrorKind.Cancelled), Cause = "The run was cancelled." },
                CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        finally
        {
            await stopHeartbeat.CancelAsync().ConfigureAwait(false);
            await heartbeat.ConfigureAwait(false);
        }

        var counters = RunCounters.Of(outcome.Report, outcome.Attempts);
        if (outcome is { Error: null, Report: { } report })
        {
            StoredEvent? published = null;
            if (settings.Events.PublishSuccess)
            {
                // The tables are written: a stop now must not leave the run unrecorded, so this runs to its end.
                published = await PublishAsync(run, WorkflowContract.States.PublishSuccessEvent, WorkflowContract.Events.SucceededDetailType,
                    Detail(run, RunStatus.Succeeded, null, null, null, counters), CancellationToken.None).ConfigureAwait(false);
            }
            var succeeded = run with
            {
                Status = RunStatus.Succeeded, EndedAt = time.GetUtcNow(), Counters = counters,
                Outputs = report.Tables, InputFingerprint = report.InputFingerprint,
            };
            await runs.FinishAsync(succeeded, CancellationToken.None).ConfigureAwait(false);
            return new WorkflowResult.Started(succeeded, report, published);
        }

        // FormatFailure: the error and cause as the state machine's Catch passes them on.
        step = await runs.StartStepAsync(run.RunId, WorkflowContract.States.FormatFailure, 1, time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
        var detail = Detail(run, RunStatus.Failed, outcome.FailedState, outcome.Error, outcome.Cause, counters);
        await runs.EndStepAsync(run.RunId, step, StepOutcome.Succeeded, null, time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
        var stored = await PublishAsync(run, WorkflowContract.States.PublishFailureEvent, WorkflowContract.Events.FailedDetailType, detail, CancellationToken.None).ConfigureAwait(false);
        var failed = run with
        {
            Status = RunStatus.Failed, EndedAt = time.GetUtcNow(), FailedState = outcome.FailedState, Error = outcome.Error, Cause = outcome.Cause,
            Counters = counters, Outputs = [], InputFingerprint = outcome.Report?.InputFingerprint,
        };
        await runs.FinishAsync(failed, CancellationToken.None).ConfigureAwait(false);
        return new WorkflowResult.Started(failed, outcome.Report, stored);
    }

    /// <summary>
    /// AggregateHour: the engine, then (on success) the catalog registration of the partitions it wrote — the one place a run
    /// records its partitions. Each attempt is a step.
    /// </summary>
    private async Task<Outcome> AggregateHourAsync(RunRecord run, IProgress<RunProgress>? progress, CancellationToken cancellationToken)
    {
        var retry = settings.Retry;
        for (var attempt = 1; ; attempt++)
        {
            var step = await runs.StartStepAsync(run.RunId, WorkflowContract.States.AggregateHour, attempt, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            try
            {
                var job = new HourAggregationJob(store, settings.Engine);
                var report = await job.RunAsync(run.TargetHour, progress, cancellationToken).ConfigureAwait(false);
                if (report.Status == Engine.RunStatus.Failed)
                {
                    await runs.EndStepAsync(run.RunId, step, StepOutcome.Failed, report.Error, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                    return Outcome.Failure(WorkflowContract.States.AggregateHour, ErrorName(TallyErrorKind.DataError), report.Error ?? "The run failed.", report, attempt);
                }
                await catalog.RecordRunAsync(report, run.RunId, cancellationToken).ConfigureAwait(false);
                await runs.EndStepAsync(run.RunId, step, StepOutcome.Succeeded, null, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                return new Outcome(report, null, null, null, attempt);
            }
            catch (TallyException e) when (e.IsTransient && attempt < retry.MaxAttempts)
            {
                await runs.EndStepAsync(run.RunId, step, StepOutcome.Retrying, e.Message, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                await Task.Delay(RetryDelay(attempt), time, cancellationToken).ConfigureAwait(false);
            }
            catch (TallyException e)
            {
                await runs.EndStepAsync(run.RunId, step, StepOutcome.Failed, e.Message, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                var cause = e.IsTransient && attempt > 1 ? $"{e.Message} (after {attempt} attempts)" : e.Message;
                return Outcome.Failure(WorkflowContract.States.AggregateHour, ErrorName(e.Kind), cause, null, attempt);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await runs.EndStepAsync(run.RunId, step, StepOutcome.Failed, e.Message, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                return Outcome.Failure(WorkflowContract.States.AggregateHour, e.GetType().FullName ?? e.GetType().Name, e.Message, null, attempt);
            }
        }
    }

    /// <summary>The wait after the <paramref name="attempt"/>-th failed attempt: the initial delay doubled per attempt, capped.</summary>
    private TimeSpan RetryDelay(int attempt) => settings.Retry.ToPolicy().Delay(attempt);

    /// <summary>The error name an event and a run record carry: <c>Tally.DataError</c>, <c>Tally.Transient</c>, ….</summary>
    internal static string ErrorName(TallyErrorKind kind) => TallyException.ErrorName(kind);

    private async Task HeartbeatAsync(RunRecord run, CancellationTokenSource leaseLost, CancellationToken stop)
    {
        try
        {
            var heldUntil = time.GetUtcNow() + settings.Lease.Ttl;
            while (true)
            {
                await Task.Delay(settings.Lease.Heartbeat, time, stop).ConfigureAwait(false);
                bool renewed;
                try
                {
                    var until = time.GetUtcNow() + settings.Lease.Ttl;
                    renewed = await runs.RenewLeaseAsync(run.TargetHour, run.RunId, until, stop).ConfigureAwait(false);
                    if (renewed) heldUntil = until;
                }
                catch (TallyException)
                {
                    // The metastore was busy; the lease lasts longer than one heartbeat, try again at the next — unless it
                    // has expired meanwhile: then another run may have taken the hour, and this one must not write it.
                    if (time.GetUtcNow() < heldUntil) continue;
                    renewed = false;
                }
                if (!renewed)
                {
                    await leaseLost.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task<StoredEvent> PublishAsync(RunRecord run, string state, string detailType, JsonObject detail, CancellationToken cancellationToken)
    {
        var step = await runs.StartStepAsync(run.RunId, state, 1, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        var envelope = EventEnvelope.Create(detailType, detail, settings.Events.Account, settings.Events.Region, time.GetUtcNow());
        var stored = await outbox.StoreAsync(envelope, run.RunId, sinks, time.GetUtcNow(), settings.Events.Delivery.Expiry, cancellationToken).ConfigureAwait(false);
        await runs.EndStepAsync(run.RunId, step, StepOutcome.Succeeded, null, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        return stored;
    }

    private static JsonObject Detail(RunRecord run, RunStatus status, string? failedState, string? error, string? cause, RunCounters counters)
    {
        JsonNode? input;
        try
        {
            input = JsonNode.Parse(run.Input);
        }
        catch (JsonException)
        {
            input = run.Input;
        }
        return new JsonObject
        {
            ["target_hour"] = run.TargetHour.ToString(),
            ["run_id"] = run.RunId,
            ["execution"] = run.RunId,
            ["state_machine"] = StateMachine,
            ["trigger"] = run.Trigger.Text(),
            ["status"] = status.Text(),
            ["failed_state"] = failedState,
            ["error"] = error,
            ["cause"] = cause,
            ["input"] = input,
            ["counters"] = counters.ToJson(),
        };
    }

    private sealed record Outcome(RunReport? Report, string? FailedState, string? Error, string? Cause, int Attempts)
    {
        public static Outcome Failure(string state, string error, string cause, RunReport? report, int attempts) => new(report, state, error, cause, attempts);
    }
}
