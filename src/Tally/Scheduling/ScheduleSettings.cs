using Microsoft.Extensions.Options;

namespace Tally.Scheduling;

/// <summary>When <c>tally serve</c> runs the workflow, what it catches up and reprocesses, and how many runs at once.</summary>
public sealed class ScheduleSettings
{
    /// <summary>The settings section these are bound from.</summary>
    public const string Section = "Schedule";

    /// <summary>The schedule, a cron expression in UTC: five fields, or six with seconds first. Each tick processes the hour before it.</summary>
    public string Cron { get; set; } = "0 * * * *";

    /// <summary>How long after a tick its run starts, so files of the hour that arrive late can land first. The hour processed stays the tick's.</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.Zero;

    /// <summary>At start, ticks missed since the last scheduled run are run, but none older than this.</summary>
    public TimeSpan CatchUpWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>After each tick, the hours ended within this span whose raw input changed since they were processed are run again.</summary>
    public TimeSpan LateDataLookBack { get; set; } = TimeSpan.FromHours(6);

    /// <summary>Runs at once, of different hours.</summary>
    public int MaxConcurrentRuns { get; set; } = 2;

    /// <summary>A run still going after this long is cancelled and recorded as timed out.</summary>
    public TimeSpan RunTimeout { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>The rules of the <c>Schedule</c> section, checked once when the settings are loaded.</summary>
internal sealed class ScheduleSettingsValidator : IValidateOptions<ScheduleSettings>
{
    public ValidateOptionsResult Validate(string? name, ScheduleSettings options)
    {
        var failures = new List<string>();
        try
        {
            CronSchedule.Parse(options.Cron, "Schedule:Cron");
        }
        catch (TallyException e)
        {
            failures.Add(e.Message);
        }
        if (options.Delay < TimeSpan.Zero || options.Delay >= TimeSpan.FromDays(1)) failures.Add("Schedule:Delay must be 0 or more and less than a day.");
        if (options.CatchUpWindow < TimeSpan.Zero) failures.Add("Schedule:CatchUpWindow must be 0 or more (0 = no catch-up).");
        if (options.LateDataLookBack < TimeSpan.Zero) failures.Add("Schedule:LateDataLookBack must be 0 or more (0 = no late-data runs).");
        if (options.MaxConcurrentRuns < 1) failures.Add("Schedule:MaxConcurrentRuns must be 1 or more.");
        if (options.RunTimeout <= TimeSpan.Zero) failures.Add("Schedule:RunTimeout must be positive.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
