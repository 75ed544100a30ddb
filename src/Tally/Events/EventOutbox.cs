using Microsoft.Data.Sqlite;
using Tally.State;
using static Tally.State.StateDatabase;

namespace Tally.Events;

/// <summary>Where the delivery of an event to a sink is.</summary>
public enum DeliveryStatus
{
    Pending,
    Delivered,
    /// <summary>Not delivered before its expiry; no more attempts.</summary>
    Expired,
}

/// <summary>How one delivery attempt went.</summary>
public enum AttemptOutcome
{
    Delivered,
    Failed,
}

/// <summary>The outbox's vocabulary as the metastore, the JSON and <c>/metrics</c> write it, defined once.</summary>
public static class DeliveryText
{
    public static readonly TextMap<DeliveryStatus> Statuses = new("delivery status",
        (DeliveryStatus.Pending, "pending"), (DeliveryStatus.Delivered, "delivered"), (DeliveryStatus.Expired, "expired"));

    public static readonly TextMap<AttemptOutcome> Outcomes = new("delivery attempt outcome",
        (AttemptOutcome.Delivered, "delivered"), (AttemptOutcome.Failed, "failed"));

    public static string Text(this DeliveryStatus status) => Statuses.Text(status);
    internal static string Text(this AttemptOutcome outcome) => Outcomes.Text(outcome);
}

/// <summary>The delivery of one event to one sink.</summary>
public sealed record EventDelivery(string EventId, string Sink, DeliveryStatus Status, int Attempts, DateTimeOffset NextAttemptAt, DateTimeOffset ExpiresAt,
    DateTimeOffset? DeliveredAt, string? LastError);

/// <summary>One attempt to deliver an event to a sink.</summary>
internal sealed record DeliveryAttempt(string EventId, string Sink, int Attempt, DateTimeOffset At, AttemptOutcome Outcome, string? Error);

/// <summary>
/// The event outbox in the metastore: an event is committed here, with one pending delivery per configured sink, before any
/// sink sees it; the <see cref="EventDispatcher"/> then delivers and records every attempt. Safe from several threads and processes.
/// </summary>
public sealed class EventOutbox(StateDatabase db)
{
    /// <summary>Stores <paramref name="envelope"/> and a pending delivery to each of <paramref name="sinks"/>, due at once, in one transaction.</summary>
    internal Task<StoredEvent> StoreAsync(EventEnvelope envelope, string? runId, IEnumerable<string> sinks, DateTimeOffset now, TimeSpan expiry,
        CancellationToken cancellationToken) => db.WriteAsync(async (c, t) =>
    {
        var stored = new StoredEvent(envelope.Id, runId, envelope.DetailType, now, envelope.ToJson());
        await Command(c, t, "INSERT INTO events (event_id, run_id, detail_type, created_at, body) VALUES ($id, $run, $type, $now, $body)",
            ("$id", stored.EventId), ("$run", runId), ("$type", stored.DetailType), ("$now", FormatTime(now)), ("$body", stored.Body))
            .ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        foreach (var sink in sinks) await QueueAsync(c, t, stored.EventId, sink, now, now + expiry, cancellationToken).ConfigureAwait(false);
        return stored;
    }, cancellationToken);

    /// <summary>Pending deliveries to <paramref name="sinks"/> due at <paramref name="now"/>, oldest first, with their events.</summary>
    internal Task<IReadOnlyList<(StoredEvent Event, EventDelivery Delivery)>> DueAsync(DateTimeOffset now, IReadOnlyCollection<string> sinks, int limit,
        CancellationToken cancellationToken) => db.ReadAsync(async c =>
    {
        var due = new List<(StoredEvent, EventDelivery)>();
        if (sinks.Count == 0) return (IReadOnlyList<(StoredEvent, EventDelivery)>)due;
        var names = string.Join(", ", sinks.Select((_, i) => $"$s{i}"));
        var command = Command(c, null, $"""
            SELECT e.event_id, e.run_id, e.detail_type, e.created_at, e.body, {DeliveryColumns}
            FROM deliveries d JOIN events e ON e.event_id = d.event_id
            WHERE d.status = $pending AND d.next_attempt_at <= $now AND d.sink IN ({names})
            ORDER BY d.next_attempt_at, e.created_at LIMIT $limit
            """, [("$pending", DeliveryStatus.Pending.Text()), ("$now", FormatTime(now)), ("$limit", limit), .. sinks.Select((s, i) => ($"$s{i}", (object?)s))]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) due.Add((ReadEvent(reader), ReadDelivery(reader, 5)));
        return (IReadOnlyList<(StoredEvent, EventDelivery)>)due;
    }, cancellationToken);

    /// <summary>The earliest next attempt of a pending delivery to one of <paramref name="sinks"/>, or null when none is pending.</summary>
    internal Task<DateTimeOffset?> NextAttemptAsync(IReadOnlyCollection<string> sinks, CancellationToken cancellationToken) => db.ReadAsync(async c =>
    {
        if (sinks.Count == 0) return null;
        var names = string.Join(", ", sinks.Select((_, i) => $"$s{i}"));
        var value = await Command(c, null, $"SELECT min(next_attempt_at) FROM deliveries WHERE status = $pending AND sink IN ({names})",
            [("$pending", DeliveryStatus.Pending.Text()), .. sinks.Select((s, i) => ($"$s{i}", (object?)s))]).ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is string text ? ParseTime(text) : (DateTimeOffset?)null;
    }, cancellationToken);

    /// <summary>
    /// Claims a due delivery for one attempt by moving its next attempt to <paramref name="claimUntil"/>; false when another
    /// dispatcher claimed or finished it first. A claim left by a process that died lapses at <paramref name="claimUntil"/>.
    /// </summary>
    internal Task<bool> ClaimAsync(EventDelivery delivery, DateTimeOffset claimUntil, CancellationToken cancellationToken) => db.WriteAsync(async (c, t) =>
        await Command(c, t, """
            UPDATE deliveries SET next_attempt_at = $until
            WHERE event_id = $id AND sink = $sink AND status = $pending AND next_attempt_at = $seen
            """, ("$pending", DeliveryStatus.Pending.Text()), ("$until", FormatTime(claimUntil)), ("$id", delivery.EventId), ("$sink", delivery.Sink), ("$seen", FormatTime(delivery.NextAttemptAt)))
            .ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1, cancellationToken);

    /// <summary>
    /// Records an attempt: delivered, or failed with the next attempt at <paramref name="nextAttemptAt"/>, or failed for the
    /// last time (expired) when that is null.
    /// </summary>
    internal Task RecordAttemptAsync(EventDelivery delivery, DateTimeOffset now, string? error, DateTimeOffset? nextAttemptAt, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) =>
        {
            var attempt = delivery.Attempts + 1;
            var status = error is null ? DeliveryStatus.Delivered : nextAttemptAt is null ? DeliveryStatus.Expired : DeliveryStatus.Pending;
            var outcome = error is null ? AttemptOutcome.Delivered : AttemptOutcome.Failed;
            await Command(c, t, "INSERT INTO delivery_attempts (event_id, sink, attempt, at, outcome, error) VALUES ($id, $sink, $attempt, $now, $outcome, $error)",
                ("$id", delivery.EventId), ("$sink", delivery.Sink), ("$attempt", attempt), ("$now", FormatTime(now)),
                ("$outcome", outcome.Text()), ("$error", error)).ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await Command(c, t, """
                UPDATE deliveries SET status = $status, attempts = $attempt, next_attempt_at = $next, delivered_at = $delivered,
                    last_error = coalesce($error, last_error)
                WHERE event_id = $id AND sink = $sink
                """, ("$status", status.Text()), ("$attempt", attempt), ("$next", FormatTime(nextAttemptAt ?? now)),
                ("$delivered", error is null ? FormatTime(now) : null), ("$error", error), ("$id", delivery.EventId), ("$sink", delivery.Sink))
                .ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        }, cancellationToken);

    /// <summary>
    /// Queues <paramref name="eventId"/> again for each of <paramref name="sinks"/> (delivered or not), due at once and with a
    /// fresh expiry. Returns false when there is no such event.
    /// </summary>
    public Task<bool> RequeueAsync(string eventId, IEnumerable<string> sinks, DateTimeOffset now, TimeSpan expiry, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) =>
        {
            var exists = await Command(c, t, "SELECT count(*) FROM events WHERE event_id = $id", ("$id", eventId)).ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            if (Convert.ToInt64(exists, System.Globalization.CultureInfo.InvariantCulture) == 0) return false;
            foreach (var sink in sinks) await QueueAsync(c, t, eventId, sink, now, now + expiry, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>Events, newest first, optionally of one run.</summary>
    public Task<IReadOnlyList<StoredEvent>> ListAsync(string? runId, int limit, CancellationToken cancellationToken) => db.ReadAsync(async c =>
    {
        var events = new List<StoredEvent>();
        await using var reader = await Command(c, null, """
            SELECT event_id, run_id, detail_type, created_at, body FROM events WHERE ($run IS NULL OR run_id = $run)
            ORDER BY created_at DESC, event_id LIMIT $limit
            """, ("$run", runId), ("$limit", limit)).ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) events.Add(ReadEvent(reader));
        return (IReadOnlyList<StoredEvent>)events;
    }, cancellationToken);

    /// <summary>The deliveries of the given events (all events when null).</summary>
    public Task<IReadOnlyList<EventDelivery>> DeliveriesAsync(string? eventId, CancellationToken cancellationToken) => db.ReadAsync(async c =>
    {
        var deliveries = new List<EventDelivery>();
        await using var reader = await Command(c, null, $"SELECT {DeliveryColumns} FROM deliveries d WHERE ($id IS NULL OR d.event_id = $id) ORDER BY d.event_id, d.sink",
            ("$id", eventId)).ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) deliveries.Add(ReadDelivery(reader, 0));
        return (IReadOnlyList<EventDelivery>)deliveries;
    }, cancellationToken);

    /// <summary>Every attempt to deliver <paramref name="eventId"/>, in order.</summary>
    internal Task<IReadOnlyList<DeliveryAttempt>> AttemptsAsync(string eventId, CancellationToken cancellationToken) => db.ReadAsync(async c =>
    {
        var attempts = new List<DeliveryAttempt>();
        await using var reader = await Command(c, null, "SELECT event_id, sink, attempt, at, outcome, error FROM delivery_attempts WHERE event_id = $id ORDER BY at, sink, attempt",
            ("$id", eventId)).ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            attempts.Add(new DeliveryAttempt(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), ParseTime(reader.GetString(3)),
                DeliveryText.Outcomes.Parse(reader.GetString(4)), StringOrNull(reader, 5)));
        }
        return (IReadOnlyList<DeliveryAttempt>)attempts;
    }, cancellationToken);

    private static Task QueueAsync(SqliteConnection c, SqliteTransaction t, string eventId, string sink, DateTimeOffset now, DateTimeOffset expires, CancellationToken cancellationToken) =>
        Command(c, t, """
            INSERT INTO deliveries (event_id, sink, status, attempts, next_attempt_at, expires_at) VALUES ($id, $sink, $pending, 0, $now, $expires)
            ON CONFLICT (event_id, sink) DO UPDATE SET status = excluded.status, next_attempt_at = excluded.next_attempt_at, expires_at = excluded.expires_at
            """, ("$pending", DeliveryStatus.Pending.Text()), ("$id", eventId), ("$sink", sink), ("$now", FormatTime(now)), ("$expires", FormatTime(expires))).ExecuteNonQueryAsync(cancellationToken);

    private const string DeliveryColumns = "d.event_id, d.sink, d.status, d.attempts, d.next_attempt_at, d.expires_at, d.delivered_at, d.last_error";

    private static StoredEvent ReadEvent(SqliteDataReader r) =>
        new(r.GetString(0), StringOrNull(r, 1), r.GetString(2), ParseTime(r.GetString(3)), r.GetString(4));

    private static EventDelivery ReadDelivery(SqliteDataReader r, int o) => new(
        r.GetString(o), r.GetString(o + 1), DeliveryText.Statuses.Parse(r.GetString(o + 2)), r.GetInt32(o + 3), ParseTime(r.GetString(o + 4)), ParseTime(r.GetString(o + 5)),
        ParseTimeOrNull(r, o + 6), StringOrNull(r, o + 7));
}
