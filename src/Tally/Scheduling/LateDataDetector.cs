using Tally.Engine;
using Tally.Storage;
using Tally.Workflow;
using RunStatus = Tally.Workflow.RunStatus;

namespace Tally.Scheduling;

/// <summary>
/// Finds processed hours whose raw input changed since: files added, removed or rewritten. Compares each hour's current
/// input fingerprint (<see cref="RawFiles.Fingerprint"/>) with the one stored by its latest finished run (succeeded, or
/// failed after reading its input), so an hour that fails again on the same input is not run again and again.
/// </summary>
public sealed class LateDataDetector(IObjectStore store, RunStore runs)
{
    /// <summary>The hours that ended within <paramref name="lookBack"/> before <paramref name="now"/> and whose input changed, oldest first.</summary>
    internal async Task<IReadOnlyList<HourWindow>> FindChangedAsync(DateTimeOffset now, TimeSpan lookBack, CancellationToken cancellationToken)
    {
        var changed = new List<HourWindow>();
        if (lookBack <= TimeSpan.Zero) return changed;
        foreach (var hour in HourWindow.Range(HourWindow.Containing(now - lookBack), HourWindow.Containing(now)))
        {
            if (hour.End <= now - lookBack) continue;
            if (await HasChangedAsync(hour, cancellationToken).ConfigureAwait(false)) changed.Add(hour);
        }
        return changed;
    }

    /// <summary>Whether <paramref name="hour"/> was processed and its raw input changed since its latest finished run read it.</summary>
    internal async Task<bool> HasChangedAsync(HourWindow hour, CancellationToken cancellationToken)
    {
        var processed = await LastProcessedAsync(hour, cancellationToken).ConfigureAwait(false);
        return processed?.InputFingerprint is { } stored
            && await CurrentFingerprintAsync(hour, cancellationToken).ConfigureAwait(false) != stored;
    }

    /// <summary>The fingerprint of <paramref name="hour"/>'s raw files as they are now.</summary>
    internal async Task<string> CurrentFingerprintAsync(HourWindow hour, CancellationToken cancellationToken) =>
        RawFiles.Fingerprint(await RawFiles.ListAsync(store, hour, cancellationToken).ConfigureAwait(false));

    /// <summary>Whether <paramref name="hour"/>'s latest succeeded run read exactly the input there is now.</summary>
    internal async Task<bool> IsUpToDateAsync(HourWindow hour, CancellationToken cancellationToken)
    {
        var succeeded = await runs.ListAsync(hour, RunStatus.Succeeded, 1, cancellationToken).ConfigureAwait(false);
        return succeeded is [{ InputFingerprint: { } stored }] && stored == await CurrentFingerprintAsync(hour, cancellationToken).ConfigureAwait(false);
    }

    private async Task<RunRecord?> LastProcessedAsync(HourWindow hour, CancellationToken cancellationToken)
    {
        var recent = await runs.ListAsync(hour, null, 20, cancellationToken).ConfigureAwait(false);
        return recent.FirstOrDefault(r => r.Status is RunStatus.Succeeded or RunStatus.Failed && r.InputFingerprint is not null);
    }
}
