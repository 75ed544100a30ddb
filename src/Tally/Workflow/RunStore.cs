using Microsoft.Data.Sqlite;
using Tally.State;
using static Tally.State.StateDatabase;

namespace Tally.Workflow;

/// <summary>
/// Run history and hour leases in the metastore. At most one run of an hour holds its lease at a time, across processes:
/// a run is recorded in the same transaction that takes the lease, renews it while it lives and releases it with its
/// final status. Runs left <c>running</c> by a process that died are marked <c>abandoned</c> by <see cref="MarkAbandonedAsync"/>.
/// Safe to use from several threads.
/// </summary>
public sealed class RunStore(StateDatabase db)
{
    public StateDatabase Database => db;

    /// <summary>
    /// Records a new run of <paramref name="run"/>'s hour and takes the hour's lease for <paramref name="ttl"/>, in one
    /// transaction; returns the run as recorded then, its start time read from <paramref name="time"/> once the write lock is
    /// held (so it never precedes the end of the run it waited for). When a live run holds the lease, records nothing and
    /// returns that lease. A lease whose holder died is taken over, and its run marked abandoned.
    /// </summary>
    internal Task<(RunRecord? Started, HourLease? HeldBy)> TryStartAsync(RunRecord run, TimeProvider time, TimeSpan ttl, CancellationToken cancellationToken) => db.WriteAsync(async (c, t) =>
    {
        var now = time.GetUtcNow();
        var leaseUntil = now + ttl;
        run = run with { StartedAt = now };
        var current = await ReadLeaseAsync(c, t, run.TargetHour, cancellationToken).ConfigureAwait(false);
        if (current is not null && current.IsAlive(now)) return ((RunRecord?)null, (HourLease?)current);
        if (current is not null) await AbandonAsync(c, t, current.RunId, now, cancellationToken).ConfigureAwait(false);
        await Command(c, t, """
            INSERT INTO leases (target_hour, run_id, holder, pid, host, acquired_at, expires_at) VALUES ($hour, $run, $holder, $pid, $host, $now, $until)
            ON CONFLICT (target_hour) DO UPDATE SET run_id = excluded.run_id, holder = excluded.holder, pid = excluded.pid, host = excluded.host,
                acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
            """, ("$hour", run.TargetHour.ToString()), ("$run", run.RunId), ("$holder", run.Holder), ("$pid", Environment.ProcessId),
            ("$host", Environment.MachineName), ("$now", FormatTime(now)), ("$until", FormatTime(leaseUntil))).ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await Command(c, t, """
            INSERT INTO runs (run_id, target_hour, trigger, input, status, holder, started_at)
            VALUES ($run, $hour, $trigger, $input, $status, $holder, $now)
            """, ("$run", run.RunId), ("$hour", run.TargetHour.ToString()), ("$trigger", run.Trigger.Text()), ("$input", run.Input),
            ("$status", RunStatus.Running.Text()), ("$holder", run.Holder), ("$now", FormatTime(now))).ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return (run, null);
    }, cancellationToken);

    /// <summary>Extends the lease of <paramref name="runId"/>; false when it no longer holds it.</summary>
    internal Task<bool> RenewLeaseAsync(HourWindow hour, string runId, DateTimeOffset until, CancellationToken cancellationToken) => db.WriteAsync(async (c, t) =>
        await Command(c, t, "UPDATE leases SET expires_at = $until WHERE target_hour = $hour AND run_id = $run",
            ("$until", FormatTime(until)), ("$hour", hour.ToString()), ("$run", runId)).ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1,
        cancellationToken);

    /// <summary>The lease of <paramref name="hour"/>, live or not, or null.</summary>
    internal Task<HourLease?> FindLeaseAsync(HourWindow hour, CancellationToken cancellationToken) =>
        db.ReadAsync(c => ReadLeaseAsync(c, null, hour, cancellationToken), cancellationToken);

    /// <summary>Records that a state (attempt) began; returns its sequence number within the run.</summary>
    internal Task<int> StartStepAsync(string runId, string state, int attempt, DateTimeOffset now, CancellationToken cancellationToken) => db.WriteAsync(async (c, t) =>
    {
        var seq = Convert.ToInt32(await Command(c, t, "SELECT coalesce(max(seq), 0) + 1 FROM run_steps WHERE run_id = $run", ("$run", runId))
            .ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        await Command(c, t, "INSERT INTO run_steps (run_id, seq, state, attempt, started_at, outcome) VALUES ($run, $seq, $state, $attempt, $now, $outcome)",
            ("$outcome", StepOutcome.Running.Text()), ("$run", runId), ("$seq", seq), ("$state", state), ("$attempt", attempt), ("$now", FormatTime(now))).ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return seq;
    }, cancellationToken);

    /// <summary>Records how a state (attempt) ended: succeeded, failed or retrying.</summary>
    internal Task EndStepAsync(string runId, int seq, StepOutcome outcome, string? error, DateTimeOffset now, CancellationToken cancellationToken) => db.WriteAsync(async (c, t) =>
        await Command(c, t, "UPDATE run_steps SET ended_at = $now, outcome = $outcome, error = $error WHERE run_id = $run AND seq = $seq",
            ("$now", FormatTime(now)), ("$outcome", outcome.Text()), ("$error", error), ("$run", runId), ("$seq", seq)).ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false),
        cancellationToken);

    /// <summary>Records a run's end (status, error, counters, outputs) and releases its lease, in one transaction.</summary>
    internal Task FinishAsync(RunRecord run, CancellationToken cancellationToken) => db.WriteAsync(async (c, t) =>
    {
        await Command(c, t, """
            UPDATE runs SET status = $status, ended_at = $ended, failed_state = $state, error = $error, cause = $cause,
                counters = $counters, outputs = $outputs, input_fingerprint = $fingerprint
            WHERE run_id = $run
            """, ("$status", run.Status.Text()), ("$ended", run.EndedAt is { } e ? FormatTime(e) : null), ("$state", run.FailedState),
            ("$error", run.Error), ("$cause", run.Cause), ("$counters", run.Counters?.ToJson().ToJsonString()),
            ("$outputs", run.Outputs is { } outputs ? RunJson.Outputs(outputs) : null),
            ("$fingerprint", run.InputFingerprint), ("$run", run.RunId)).ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await Command(c, t, "DELETE FROM leases WHERE target_hour = $hour AND run_id = $run", ("$hour", run.TargetHour.ToString()), ("$run", run.RunId))
            .ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return 0;
    }, cancellationToken);

    /// <summary>
    /// Marks <c>abandoned</c> every run still <c>running</c> whose lease expired, whose holder process is gone, or that has no
    /// lease at all; returns their ids. Called when <c>tally run</c> starts and when runs are listed.
    /// </summary>
    public async Task<IReadOnlyList<string>> MarkAbandonedAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var candidates = await db.ReadAsync(async c =>
        {
            var list = new List<(string RunId, HourLease? Lease)>();
            await using var reader = await Command(c, null, """
                SELECT r.run_id, l.run_id, l.holder, l.pid, l.host, l.expires_at
                FROM runs r LEFT JOIN leases l ON l.run_id = r.run_id WHERE r.status = $running
                """, ("$running", RunStatus.Running.Text())).ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                list.Add((reader.GetString(0), reader.IsDBNull(1) ? null
                    : new HourLease(reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetString(4), ParseTime(reader.GetString(5)))));
            }
            return list;
        }, cancellationToken).ConfigureAwait(false);
        var dead = candidates.Where(x => x.Lease is null || !x.Lease.IsAlive(now)).Select(x => x.RunId).ToList();
        if (dead.Count == 0) return [];
        return await db.WriteAsync(async (c, t) =>
        {
            var marked = new List<string>();
            foreach (var runId in dead)
            {
                // Re-checked inside the write transaction: the run may have ended or renewed its lease meanwhile.
                var lease = await ReadLeaseByRunAsync(c, t, runId, cancellationToken).ConfigureAwait(false);
                if (lease is not null && lease.IsAlive(now)) continue;
                if (await AbandonAsync(c, t, runId, now, cancellationToken).ConfigureAwait(false)) marked.Add(runId);
            }
            return (IReadOnlyList<string>)marked;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs, newest first, optionally of one hour and/or one status.</summary>
    public Task<IReadOnlyList<RunRecord>> ListAsync(HourWindow? hour, RunStatus? status, int limit, CancellationToken cancellationToken) => db.ReadAsync(async c =>
    {
        var command = Command(c, null, $"""
            SELECT {RunColumns} FROM runs
            WHERE ($hour IS NULL OR target_hour = $hour) AND ($status IS NULL OR status = $status)
            ORDER BY started_at DESC, run_id DESC LIMIT $limit
            """, ("$hour", hour?.ToString()), ("$status", status?.Text()), ("$limit", limit));
        var runs = new List<RunRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) runs.Add(ReadRun(reader));
        return (IReadOnlyList<RunRecord>)runs;
    }, cancellationToken);

    /// <summary>
    /// The latest scheduled time (the input's <c>target_datetime</c>) among the recent runs the schedule started (trigger
    /// <c>schedule</c> or <c>catch-up</c>), whatever their status; null when the schedule never ran.
    /// </summary>
    internal Task<DateTimeOffset?> LastScheduledTimeAsync(CancellationToken cancellationToken) => db.ReadAsync(async c =>
    {
        var command = Command(c, null, "SELECT input FROM runs WHERE trigger IN ($schedule, $catchUp) ORDER BY started_at DESC, run_id DESC LIMIT 200",
            ("$schedule", RunTrigger.Schedule.Text()), ("$catchUp", RunTrigger.CatchUp.Text()));
        DateTimeOffset? last = null;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (System.Text.Json.Nodes.JsonNode.Parse(reader.GetString(0))?[WorkflowContract.ScheduledTimeKey]?.GetValue<string>() is { } text
                && Iso8601.TryParseUtcTicks(text, out var ticks))
            {
                var time = new DateTimeOffset(ticks, TimeSpan.Zero);
                if (last is null || time > last) last = time;
            }
        }
        return last;
    }, cancellationToken);

    /// <summary>One run, or null.</summary>
    public Task<RunRecord?> FindAsync(string runId, CancellationToken cancellationToken) => db.ReadAsync(async c =>
    {
        await using var reader = await Command(c, null, $"SELECT {RunColumns} FROM runs WHERE run_id = $run", ("$run", runId))
            .ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadRun(reader) : null;
    }, cancellationToken);

    /// <summary>A run's steps in the order they began.</summary>
    public Task<IReadOnlyList<RunStep>> ListStepsAsync(string runId, CancellationToken cancellationToken) => db.ReadAsync(async c =>
    {
        var steps = new List<RunStep>();
        await using var reader = await Command(c, null,
            "SELECT seq, state, attempt, started_at, ended_at, outcome, error FROM run_steps WHERE run_id = $run ORDER BY seq", ("$run", runId))
            .ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            steps.Add(new RunStep(reader.GetInt32(0), reader.GetString(1), reader.GetInt32(2), ParseTime(reader.GetString(3)),
                ParseTimeOrNull(reader, 4), RunText.Outcomes.Parse(reader.GetString(5)), StringOrNull(reader, 6)));
        }
        return (IReadOnlyList<RunStep>)steps;
    }, cancellationToken);

    private const string RunColumns =
        "run_id, target_hour, trigger, input, status, holder, started_at, ended_at, failed_state, error, cause, counters, outputs, input_fingerprint";

    /// <summary>A row of <see cref="RunColumns"/>; the counters and outputs are parsed from their JSON here, at the storage edge.</summary>
    private static RunRecord ReadRun(SqliteDataReader r) => new()
    {
        RunId = r.GetString(0),
        TargetHour = HourWindow.Parse(r.GetString(1)),
        Trigger = RunText.Triggers.Parse(r.GetString(2)),
        Input = r.GetString(3),
        Status = RunText.Statuses.Parse(r.GetString(4)),
        Holder = r.GetString(5),
        StartedAt = ParseTime(r.GetString(6)),
        EndedAt = ParseTimeOrNull(r, 7),
        FailedState = StringOrNull(r, 8),
        Error = StringOrNull(r, 9),
        Cause = StringOrNull(r, 10),
        Counters = StringOrNull(r, 11) is { } counters ? RunCounters.FromJson(counters) : null,
        Outputs = StringOrNull(r, 12) is { } outputs ? RunJson.ParseOutputs(outputs) : null,
        InputFingerprint = StringOrNull(r, 13),
    };

    private static async Task<bool> AbandonAsync(SqliteConnection c, SqliteTransaction t, string runId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var changed = await Command(c, t, """
            UPDATE runs SET status = $abandoned, ended_at = $now, error = $error,
                cause = 'The process running it stopped (killed or crashed) before it ended; detected at ' || $now || '.'
            WHERE run_id = $run AND status = $running
            """, ("$abandoned", RunStatus.Abandoned.Text()), ("$error", TallyException.ErrorName(TallyErrorKind.Abandoned)),
            ("$running", RunStatus.Running.Text()), ("$now", FormatTime(now)), ("$run", runId)).ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await Command(c, t, "UPDATE run_steps SET outcome = $abandoned, ended_at = $now WHERE run_id = $run AND outcome = $running",
            ("$abandoned", StepOutcome.Abandoned.Text()), ("$running", StepOutcome.Running.Text()), ("$now", FormatTime(now)), ("$run", runId))
            .ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await Command(c, t, "DELETE FROM leases WHERE run_id = $run", ("$run", runId)).ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return changed == 1;
    }

    private static Task<HourLease?> ReadLeaseAsync(SqliteConnection c, SqliteTransaction? t, HourWindow hour, CancellationToken cancellationToken) =>
        ReadLeaseWhereAsync(c, t, "target_hour = $key", hour.ToString(), cancellationToken);

    private static Task<HourLease?> ReadLeaseByRunAsync(SqliteConnection c, SqliteTransaction? t, string runId, CancellationToken cancellationToken) =>
        ReadLeaseWhereAsync(c, t, "run_id = $key", runId, cancellationToken);

    private static async Task<HourLease?> ReadLeaseWhereAsync(SqliteConnection c, SqliteTransaction? t, string where, string key, CancellationToken cancellationToken)
    {
        await using var reader = await Command(c, t, $"SELECT run_id, holder, pid, host, expires_at FROM leases WHERE {where}", ("$key", key))
            .ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new HourLease(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3), ParseTime(reader.GetString(4)))
            : null;
    }
}
