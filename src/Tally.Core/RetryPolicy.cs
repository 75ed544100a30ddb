namespace Tally;

/// <summary>
/// Retries with exponential backoff: up to <see cref="MaxAttempts"/> attempts in all, the wait after the n-th failed one
/// <see cref="InitialDelay"/> × 2^(n−1), capped at <see cref="MaxDelay"/>. No jitter: one process retries one hour.
/// </summary>
/// <param name="MaxAttempts">Attempts in all, the first included (1: no retry).</param>
/// <param name="InitialDelay">The wait after the first failed attempt.</param>
/// <param name="MaxDelay">The longest wait.</param>
public readonly record struct RetryPolicy(int MaxAttempts, TimeSpan InitialDelay, TimeSpan MaxDelay)
{
    /// <summary>The wait after the <paramref name="attempt"/>-th failed attempt (1 for the first).</summary>
    public TimeSpan Delay(int attempt)
    {
        var ms = InitialDelay.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30));
        return TimeSpan.FromMilliseconds(Math.Min(ms, MaxDelay.TotalMilliseconds));
    }
}
