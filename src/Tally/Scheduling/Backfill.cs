using System.Diagnostics;
using Tally.Workflow;

namespace Tally.Scheduling;

/// <summary>What became of one hour of a backfill.</summary>
public enum BackfillOutcome
{
    /// <summary>It ran and succeeded.</summary>
    Succeeded,

    /// <summary>It ran and failed (recorded by the workflow, with its failure event), or could not be run at all.</summary>
    Failed,

    /// <summary>Not run: its latest succeeded run read exactly the raw input there is now.</summary>
    UpToDate,

    /// <summary>Not run: another run of the hour holds its lease.</summary>
    Held,

    /// <summary>Not run, or cancelled while running (recorded as cancelled): the backfill was stopped.</summary>
    Cancelled,
}

/// <summary>One hour of a backfill: its outcome, its run when it ran, and why when it did not succeed.</summary>
public sealed record BackfillHour(HourWindow Hour, BackfillOutcome Outcome, RunRecord? Run, string? Reason, TimeSpan Elapsed);

/// <summary>Every hour of a backfill, oldest first, and how long it took.</summary>
public sealed record BackfillSummary(HourWindow From, HourWindow To, IReadOnlyList<BackfillHour> Hours, TimeSpan Elapsed)
{
    public int Count(BackfillOutcome outcome) => Hours.Count(h => h.Outcome == outcome);

    /// <summary>Hours that ran (succeeded or failed).</summary>
    public int Ran => Count(BackfillOutcome.Succeeded) + Count(BackfillOutcome.Failed);
}

/// <summary>
/// <c>tally backfill</c>: runs the workflow (trigger <c>backfill</c>) for every hour of a range, oldest first, up to a given
/// number of hours at once. Unless forced, an hour whose latest succeeded run read exactly the input there is now is left
/// as it is. Each hour is one ordinary run: leased, recorded, its partitions replaced atomically, a failure event published
/// when it fails; one hour failing does not stop the others. Stopping (the token) cancels the runs going on, which the
/// workflow records as cancelled, and starts no more.
/// </summary>
public sealed class Backfill(HourWorkflow workflow, LateDataDetector detector)
{
    /// <summary>Runs the hours from <paramref name="from"/> (inclusive) to <paramref name="to"/> (exclusive).</summary>
    /// <param name="started">Told of each hour as its run starts (not of hours left as they are).</param>
    /// <param name="finished">Told of each hour as it ends, whatever its outcome.</param>
    public async Task<BackfillSummary> RunAsync(HourWindow from, HourWindow to, int parallel, bool force,
        IProgress<HourWindow>? started, IProgress<BackfillHour>? finished, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parallel, 1);
        if (to <= from) throw TallyException.InvalidArgument($"The range {from} to {to} has no hours: the end must come after the start.");

        var clock = Stopwatch.StartNew();
        var hours = HourWindow.Range(from, to).ToList();
        var results = new BackfillHour[hours.Count];
        // The loop itself is never cancelled: once stopped, each remaining hour ends at once as Cancelled, so the summary
        // accounts for every hour of the range.
        await Parallel.ForEachAsync(Enumerable.Range(0, hours.Count), new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (i, _) =>
        {
            var result = await RunHourAsync(hours[i], force, started, cancellationToken).ConfigureAwait(false);
            results[i] = result;
            finished?.Report(result);
        }).ConfigureAwait(false);
        return new BackfillSummary(from, to, results, clock.Elapsed);
    }

    private async Task<BackfillHour> RunHourAsync(HourWindow hour, bool force, IProgress<HourWindow>? started, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        BackfillHour End(BackfillOutcome outcome, RunRecord? run = null, string? reason = null) => new(hour, outcome, run, reason, clock.Elapsed);

        if (cancellationToken.IsCancellationRequested) return End(BackfillOutcome.Cancelled, reason: "not started: the backfill was stopped");
        try
        {
            if (!force && await detector.IsUpToDateAsync(hour, cancellationToken).ConfigureAwait(false))
            {
                return End(BackfillOutcome.UpToDate, reason: "already succeeded with the same raw input");
            }
            started?.Report(hour);
            var result = await workflow.RunAsync(WorkflowContract.InputFor(hour), RunTrigger.Backfill, TimeSpan.Zero, null, cancellationToken).ConfigureAwait(false);
            return result switch
            {
                WorkflowResult.Held held => End(BackfillOutcome.Held, reason: $"another run holds the hour: {held.HeldBy.Holder}"),
                WorkflowResult.Started { Succeeded: true } ran => End(BackfillOutcome.Succeeded, ran.Run),
                WorkflowResult.Started ran => End(BackfillOutcome.Failed, ran.Run, $"{ran.Run.Error}: {ran.Run.Cause}"),
                _ => throw new System.Diagnostics.UnreachableException(),
            };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return End(BackfillOutcome.Cancelled, reason: "cancelled while it ran (recorded as cancelled): the backfill was stopped");
        }
        catch (Exception e) when (e is TallyException or IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            // The run could not even be started or recorded (the state database or the storage failing): the hour failed,
            // the others go on, and the summary says why.
            return End(BackfillOutcome.Failed, reason: e.Message);
        }
    }
}
