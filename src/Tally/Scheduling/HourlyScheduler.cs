using System.Globalization;
using Cronos;

namespace Tally.Scheduling;

/// <summary>One tick of the schedule: its scheduled time (a cron occurrence, UTC) and the hour it processes, the hour before it.</summary>
internal readonly record struct ScheduledTick(DateTimeOffset ScheduledTime)
{
    /// <summary><c>floor_to_hour(scheduled time − 1 h)</c>.</summary>
    public HourWindow Hour => WorkflowContract.TargetHour(ScheduledTime);

    /// <summary>The workflow input of this tick: <c>{"target_datetime": "&lt;scheduled time&gt;"}</c>, as EventBridge sends it.</summary>
    public string Input => WorkflowContract.Input(ScheduledTime);

    /// <summary>The tick that processes <paramref name="hour"/>: the end of the hour.</summary>
    public static ScheduledTick For(HourWindow hour) => new(hour.End);

    public override string ToString() => ScheduledTime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

/// <summary>
/// The planning side of <c>tally serve</c>, free of I/O: when the next tick runs and which missed ticks to catch up.
/// A tick scheduled at <c>t</c> runs at <c>t + delay</c> and processes the hour before <c>t</c>. Times are UTC.
/// </summary>
internal sealed class HourlyScheduler(CronExpression cron, TimeSpan delay)
{
    /// <summary>When <paramref name="tick"/> runs: its scheduled time plus the delay.</summary>
    public DateTimeOffset RunTime(ScheduledTick tick) => tick.ScheduledTime + delay;

    /// <summary>The first tick that runs strictly after <paramref name="instant"/>, or null when the cron has no more occurrences.</summary>
    public ScheduledTick? NextTick(DateTimeOffset instant) =>
        cron.GetNextOccurrence(instant - delay, TimeZoneInfo.Utc) is { } next ? new ScheduledTick(next) : null;

    /// <summary>
    /// The ticks to catch up at <paramref name="now"/>, oldest first: every tick whose run time has come, scheduled within
    /// <paramref name="window"/> before now, and either after <paramref name="lastScheduled"/> (the latest tick the schedule ran)
    /// or of an hour in <paramref name="interrupted"/> (its last run was cancelled or abandoned). One tick per hour, the latest,
    /// so a sub-hourly cron does not run an hour many times. Nothing when the schedule never ran (<paramref name="lastScheduled"/> null).
    /// </summary>
    public IReadOnlyList<ScheduledTick> PlanCatchUp(DateTimeOffset now, DateTimeOffset? lastScheduled, TimeSpan window, IReadOnlySet<HourWindow> interrupted)
    {
        if (lastScheduled is not { } last || window <= TimeSpan.Zero) return [];
        var from = now - window;
        var to = now - delay;
        if (to < from) return [];
        return cron.GetOccurrences(from, to, TimeZoneInfo.Utc, fromInclusive: true, toInclusive: true)
            .Select(t => new ScheduledTick(t))
            .Where(t => t.ScheduledTime > last || interrupted.Contains(t.Hour))
            .GroupBy(t => t.Hour)
            .Select(g => g.MaxBy(t => t.ScheduledTime))
            .OrderBy(t => t.ScheduledTime)
            .ToList();
    }
}
