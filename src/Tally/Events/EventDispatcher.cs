namespace Tally.Events;

/// <summary>What one <see cref="EventDispatcher.DispatchAsync"/> did, and what it left for later.</summary>
public sealed record DispatchSummary(int Delivered, int FailedAttempts, int Expired, bool PendingLeft);

/// <summary>
/// The outbox processor: delivers stored events to the configured sinks, records every attempt, and after a failure
/// schedules the next attempt with exponential backoff and ±20 % jitter until the delivery's expiry. Each (event, sink) is
/// claimed before an attempt, so two processes dispatching at once do not both deliver it; a delivery whose success could
/// not be recorded is attempted again (at least once, not exactly once).
/// </summary>
public sealed class EventDispatcher(EventOutbox outbox, IReadOnlyList<IEventSink> sinks, DeliverySettings settings, TimeProvider time)
{
    private const int Batch = 100;

    /// <summary>
    /// Delivers every due delivery, then keeps delivering retries that fall due within <paramref name="maxWait"/> from now;
    /// what is still pending after that is left for a later dispatch (by this or another process).
    /// </summary>
    public async Task<DispatchSummary> DispatchAsync(TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var names = sinks.Select(s => s.Name).ToList();
        var deadline = time.GetUtcNow() + maxWait;
        int delivered = 0, failed = 0, expired = 0;
        while (true)
        {
            var now = time.GetUtcNow();
            var due = await outbox.DueAsync(now, names, Batch, cancellationToken).ConfigureAwait(false);
            foreach (var (stored, delivery) in due)
            {
                // Claimed from now, not from when the batch was read: earlier deliveries of the batch may have taken a while.
                if (!await outbox.ClaimAsync(delivery, time.GetUtcNow() + settings.ClaimTime, cancellationToken).ConfigureAwait(false)) continue;
                var sink = sinks.First(s => s.Name == delivery.Sink);
                string? error = null;
                try
                {
                    await sink.DeliverAsync(stored, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    error = e.Message;
                }
                var after = time.GetUtcNow();
                DateTimeOffset? next = null;
                if (error is not null)
                {
                    var candidate = after + Backoff(delivery.Attempts + 1);
                    if (candidate <= delivery.ExpiresAt) next = candidate;
                }
                await outbox.RecordAttemptAsync(delivery, after, error, next, CancellationToken.None).ConfigureAwait(false);
                if (error is null) delivered++;
                else if (next is null) expired++;
                else failed++;
            }
            if (due.Count > 0) continue;
            var nextDue = await outbox.NextAttemptAsync(names, cancellationToken).ConfigureAwait(false);
            if (nextDue is null) return new DispatchSummary(delivered, failed, expired, false);
            if (nextDue > deadline) return new DispatchSummary(delivered, failed, expired, true);
            var wait = nextDue.Value - time.GetUtcNow();
            if (wait > TimeSpan.Zero) await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The wait after the <paramref name="failures"/>-th failed attempt: the initial backoff doubled per failure, capped, ±20 %.</summary>
    internal TimeSpan Backoff(int failures)
    {
        var doubled = settings.InitialBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 30));
        var capped = Math.Min(doubled, settings.MaxBackoff.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.8 + 0.4 * Random.Shared.NextDouble()));
    }
}
