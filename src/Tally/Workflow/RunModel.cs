using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Nodes;
using Tally.Engine;
using Tally.Events;

namespace Tally.Workflow;

/// <summary>Where a run is: <see cref="Running"/>, then one of the others for good.</summary>
public enum RunStatus
{
    Running,
    Succeeded,
    Failed,
    /// <summary>Its process died (or lost its lease) while it ran; set by the next process that noticed.</summary>
    Abandoned,
    Cancelled,
}

/// <summary>What started a run.</summary>
public enum RunTrigger
{
    Manual,
    Schedule,
    CatchUp,
    LateData,
    Backfill,
}

/// <summary>How one state (one attempt of it) of a run went.</summary>
public enum StepOutcome
{
    Running,
    Succeeded,
    Failed,
    /// <summary>It failed transiently and is tried again.</summary>
    Retrying,
    /// <summary>Its run was abandoned while it ran.</summary>
    Abandoned,
}

/// <summary>
/// The run vocabulary's text, defined once: what the metastore, the JSON of the CLI and the dashboard, the failure events and
/// the command-line options carry. The texts never change (metastores and consumers of the JSON depend on them).
/// </summary>
public static class RunText
{
    public static readonly TextMap<RunStatus> Statuses = new("run status",
        (RunStatus.Running, "running"), (RunStatus.Succeeded, "succeeded"), (RunStatus.Failed, "failed"),
        (RunStatus.Abandoned, "abandoned"), (RunStatus.Cancelled, "cancelled"));

    public static readonly TextMap<RunTrigger> Triggers = new("run trigger",
        (RunTrigger.Manual, "manual"), (RunTrigger.Schedule, "schedule"), (RunTrigger.CatchUp, "catch-up"),
        (RunTrigger.LateData, "late-data"), (RunTrigger.Backfill, "backfill"));

    public static readonly TextMap<StepOutcome> Outcomes = new("step outcome",
        (StepOutcome.Running, "running"), (StepOutcome.Succeeded, "succeeded"), (StepOutcome.Failed, "failed"),
        (StepOutcome.Retrying, "retrying"), (StepOutcome.Abandoned, "abandoned"));

    public static string Text(this RunStatus status) => Statuses.Text(status);
    public static string Text(this RunTrigger trigger) => Triggers.Text(trigger);
    public static string Text(this StepOutcome outcome) => Outcomes.Text(outcome);
}

/// <summary>What a run counted; stored as a JSON object with these snake_case names.</summary>
public sealed record RunCounters(long Records, long Rejected, long OutsideWindow, long Files, long Bytes, long DurationMs, int Attempts)
{
    /// <summary>The counters of a run that read <paramref name="report"/> (none when it failed before the engine reported) in <paramref name="attempts"/> attempts.</summary>
    internal static RunCounters Of(RunReport? report, int attempts) => new(
        report?.Records ?? 0, report?.Rejected ?? 0, report?.OutsideWindow ?? 0, report?.Files ?? 0, report?.Bytes ?? 0, report?.DurationMs ?? 0, attempts);

    public JsonObject ToJson() => new()
    {
        ["records"] = Records,
        ["rejected"] = Rejected,
        ["outside_window"] = OutsideWindow,
        ["files"] = Files,
        ["bytes"] = Bytes,
        ["duration_ms"] = DurationMs,
        ["attempts"] = Attempts,
    };

    /// <exception cref="JsonException">When <paramref name="json"/> is not such an object.</exception>
    internal static RunCounters FromJson(string json)
    {
        var o = JsonNode.Parse(json)?.AsObject() ?? throw new JsonException("The run counters are null.");
        long Long(string name) => o[name]?.GetValue<long>() ?? 0;
        return new(Long("records"), Long("rejected"), Long("outside_window"), Long("files"), Long("bytes"), Long("duration_ms"), (int)Long("attempts"));
    }
}

/// <summary>One run of the workflow as recorded in the metastore.</summary>
public sealed record RunRecord
{
    public required string RunId { get; init; }
    public required HourWindow TargetHour { get; init; }
    public required RunTrigger Trigger { get; init; }
    /// <summary>The workflow input, <c>{"target_datetime": …}</c>, as given.</summary>
    public required string Input { get; init; }
    public required RunStatus Status { get; init; }
    /// <summary>Run id, pid and host of the process that ran it.</summary>
    public required string Holder { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    /// <summary>The state it failed in, when it failed.</summary>
    public string? FailedState { get; init; }
    /// <summary>The error name: <see cref="TallyException.ErrorName"/> of a kind, or an unexpected exception's type name.</summary>
    public string? Error { get; init; }
    public string? Cause { get; init; }
    /// <summary>Null until it ended (and for runs that ended without counting: cancelled, abandoned).</summary>
    public RunCounters? Counters { get; init; }
    /// <summary>The tables it wrote; null until it ended.</summary>
    public IReadOnlyList<TableOutput>? Outputs { get; init; }
    public string? InputFingerprint { get; init; }

    /// <summary>The kind of its error, when the error is one of Tally's names.</summary>
    public TallyErrorKind? ErrorKind => TallyException.TryParseErrorName(Error, out var kind) ? kind : null;
}

/// <summary>One state of a run (one attempt of it, for AggregateHour).</summary>
public sealed record RunStep(int Seq, string State, int Attempt, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, StepOutcome Outcome, string? Error);

/// <summary>Who holds the lease of an hour, and until when unless renewed.</summary>
public sealed record HourLease(string RunId, string Holder, int Pid, string Host, DateTimeOffset ExpiresAt)
{
    /// <summary>
    /// Whether the holder may still be running: its lease has not expired and, when it runs on this host, its process
    /// still exists (so a killed run is noticed at once on the same machine, and after the lease's TTL elsewhere).
    /// </summary>
    internal bool IsAlive(DateTimeOffset now) => ExpiresAt >= now && !(Host == Environment.MachineName && !LocalProcess.IsRunning(Pid));
}

/// <summary>What <see cref="HourWorkflow.RunAsync"/> did: it ran the hour (<see cref="Started"/>), or a live run held it (<see cref="Held"/>).</summary>
public abstract record WorkflowResult
{
    private WorkflowResult()
    {
    }

    /// <summary>The run ended (succeeded or failed) as <paramref name="Run"/> records.</summary>
    /// <param name="Report">The engine's report, when the engine got to report.</param>
    /// <param name="Event">The event it published, if any.</param>
    public sealed record Started(RunRecord Run, RunReport? Report, StoredEvent? Event) : WorkflowResult
    {
        public bool Succeeded => Run.Status == RunStatus.Succeeded;
    }

    /// <summary>Another live run held the hour's lease (after any wait asked for).</summary>
    public sealed record Held(HourLease HeldBy) : WorkflowResult;
}

/// <summary>The JSON shapes of runs and events, the same for <c>tally runs</c>/<c>tally events</c> and the dashboard's API.</summary>
public static class RunJson
{

    /// <summary>A run: run_id, target_hour, trigger, status, input, holder, started_at, ended_at, failed_state, error, cause, counters, outputs, input_fingerprint.</summary>
    public static JsonObject Run(RunRecord r) => new()
    {
        ["run_id"] = r.RunId,
        ["target_hour"] = r.TargetHour.ToString(),
        ["trigger"] = r.Trigger.Text(),
        ["status"] = r.Status.Text(),
        ["input"] = r.Input,
        ["holder"] = r.Holder,
        ["started_at"] = r.StartedAt,
        ["ended_at"] = r.EndedAt,
        ["failed_state"] = r.FailedState,
        ["error"] = r.Error,
        ["cause"] = r.Cause,
        ["counters"] = r.Counters?.ToJson(),
        ["outputs"] = r.Outputs is { } o ? JsonSerializer.SerializeToNode(o, OutputsJson.Default.IReadOnlyListTableOutput) : null,
        ["input_fingerprint"] = r.InputFingerprint,
    };

    /// <summary>The outputs as the metastore stores them.</summary>
    internal static string Outputs(IReadOnlyList<TableOutput> outputs) => JsonSerializer.Serialize(outputs, OutputsJson.Default.IReadOnlyListTableOutput);

    /// <exception cref="JsonException">When <paramref name="json"/> is not an array of outputs.</exception>
    internal static IReadOnlyList<TableOutput> ParseOutputs(string json) => JsonSerializer.Deserialize(json, OutputsJson.Default.ListTableOutput) ?? [];

    /// <summary>An event with its deliveries (those of <paramref name="deliveries"/> that are its own) and its body.</summary>
    public static JsonObject Event(StoredEvent e, IReadOnlyList<EventDelivery> deliveries) => new()
    {
        ["event_id"] = e.EventId,
        ["run_id"] = e.RunId,
        ["detail_type"] = e.DetailType,
        ["target_hour"] = e.TargetHour?.ToString(),
        ["failed_state"] = e.FailedState,
        ["created_at"] = e.CreatedAt,
        ["deliveries"] = new JsonArray([.. deliveries.Where(d => d.EventId == e.EventId).Select(d => (JsonNode)new JsonObject
        {
            ["sink"] = d.Sink, ["status"] = d.Status.Text(), ["attempts"] = d.Attempts, ["next_attempt_at"] = d.NextAttemptAt,
            ["expires_at"] = d.ExpiresAt, ["delivered_at"] = d.DeliveredAt, ["last_error"] = d.LastError,
        })]),
        ["event"] = JsonNode.Parse(e.Body),
    };
}

/// <summary>A run's outputs as JSON, written by code generated at build time (no reflection).</summary>
[JsonSerializable(typeof(IReadOnlyList<TableOutput>))]
[JsonSerializable(typeof(List<TableOutput>))]
internal sealed partial class OutputsJson : JsonSerializerContext;
