using Tally.Configuration;
using Tally.Scheduling;
using Tally.Tests.Configuration;

namespace Tally.Tests.Scheduling;

public class HourlySchedulerFacts
{
    private static DateTimeOffset At(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    private static HourlyScheduler Scheduler(string cron = "0 * * * *", double delayMinutes = 0) =>
        new(CronSchedule.Parse(cron, "cron"), TimeSpan.FromMinutes(delayMinutes));

    [Theory]
    [InlineData("0 * * * *", 0, "2026-11-24T13:59:30Z", "2026-11-24T14:00:00Z", "2026-11-24T13")]
    [InlineData("0 * * * *", 0, "2026-11-24T14:00:00Z", "2026-11-24T15:00:00Z", "2026-11-24T14")]
    [InlineData("0 * * * *", 5, "2026-11-24T14:03:00Z", "2026-11-24T14:00:00Z", "2026-11-24T13")]
    [InlineData("0 * * * *", 5, "2026-11-24T14:05:00Z", "2026-11-24T15:00:00Z", "2026-11-24T14")]
    [InlineData("0 * * * *", 0, "2026-12-31T23:10:00Z", "2027-01-01T00:00:00Z", "2026-12-31T23")]
    [InlineData("* * * * *", 0, "2026-11-24T14:00:10Z", "2026-11-24T14:01:00Z", "2026-11-24T13")]
    [InlineData("*/10 * * * * *", 0, "2026-11-24T14:00:01Z", "2026-11-24T14:00:10Z", "2026-11-24T13")]
    public void NextTick_ProcessesTheHourBeforeItsScheduledTime(string cron, double delay, string now, string scheduled, string hour)
    {
        var tick = Scheduler(cron, delay).NextTick(At(now))!.Value;

        Assert.Equal(At(scheduled), tick.ScheduledTime);
        Assert.Equal(hour, tick.Hour.ToString());
        Assert.Equal(HourWindow.Parse(hour), HourWindowFromInput(tick.Input));
    }

    private static HourWindow HourWindowFromInput(string input) => WorkflowContract.TargetHour(input);

    [Fact]
    public void PlanCatchUp_AfterAFiveHourOutage_ReturnsTheFiveMissedTicks_OldestFirst()
    {
        var plan = Scheduler().PlanCatchUp(At("2026-11-24T14:30:00Z"), At("2026-11-24T09:00:00Z"), TimeSpan.FromHours(24), new HashSet<HourWindow>());

        Assert.Equal(["2026-11-24T09", "2026-11-24T10", "2026-11-24T11", "2026-11-24T12", "2026-11-24T13"], plan.Select(t => t.Hour.ToString()));
    }

    [Fact]
    public void PlanCatchUp_IsBoundedByTheWindow()
    {
        var plan = Scheduler().PlanCatchUp(At("2026-11-24T14:30:00Z"), At("2026-11-20T09:00:00Z"), TimeSpan.FromHours(3), new HashSet<HourWindow>());

        Assert.Equal(["2026-11-24T11", "2026-11-24T12", "2026-11-24T13"], plan.Select(t => t.Hour.ToString()));
    }

    [Fact]
    public void PlanCatchUp_RunsNothing_WhenTheScheduleNeverRan_OrNothingWasMissed()
    {
        var scheduler = Scheduler();
        var none = new HashSet<HourWindow>();

        Assert.Empty(scheduler.PlanCatchUp(At("2026-11-24T14:30:00Z"), null, TimeSpan.FromHours(24), none));
        Assert.Empty(scheduler.PlanCatchUp(At("2026-11-24T14:30:00Z"), At("2026-11-24T14:00:00Z"), TimeSpan.FromHours(24), none));
    }

    [Fact]
    public void PlanCatchUp_RunsAnInterruptedHourAgain_ButNotItsNeighbours()
    {
        var plan = Scheduler().PlanCatchUp(At("2026-11-24T14:01:00Z"), At("2026-11-24T14:00:00Z"), TimeSpan.FromHours(24),
            new HashSet<HourWindow> { HourWindow.Parse("2026-11-24T13") });

        Assert.Equal(["2026-11-24T14:00:00Z"], plan.Select(t => t.ToString()));
    }

    [Fact]
    public void PlanCatchUp_WithADelay_LeavesTheTickWhoseRunTimeHasNotCome()
    {
        var plan = Scheduler(delayMinutes: 10).PlanCatchUp(At("2026-11-24T14:05:00Z"), At("2026-11-24T12:00:00Z"), TimeSpan.FromHours(24), new HashSet<HourWindow>());

        Assert.Equal(["2026-11-24T12"], plan.Select(t => t.Hour.ToString()));
    }

    [Fact]
    public void PlanCatchUp_WithASubHourlyCron_RunsEachHourOnce_WithItsLatestTick()
    {
        var plan = Scheduler("*/15 * * * *").PlanCatchUp(At("2026-11-24T14:50:00Z"), At("2026-11-24T13:40:00Z"), TimeSpan.FromHours(24), new HashSet<HourWindow>());

        Assert.Equal(["2026-11-24T13:45:00Z", "2026-11-24T14:45:00Z"], plan.Select(t => t.ToString()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("every hour")]
    [InlineData("61 * * * *")]
    [InlineData("0 * * *")]
    public void Settings_RejectACronThatIsNotValid(string cron)
    {
        var e = Assert.Throws<TallyException>(() => SettingsFromValues.Load(("Schedule:Cron", cron)));

        Assert.Equal(TallyErrorKind.InvalidConfiguration, e.Kind);
        Assert.Contains("Schedule:Cron", e.Message);
    }

    [Theory]
    [InlineData(nameof(ScheduleSettings.MaxConcurrentRuns))]
    [InlineData(nameof(ScheduleSettings.RunTimeout))]
    [InlineData(nameof(ScheduleSettings.Delay))]
    [InlineData(nameof(ScheduleSettings.CatchUpWindow))]
    public void Settings_RejectOutOfRangeScheduleValues(string key)
    {
        var value = key switch
        {
            nameof(ScheduleSettings.MaxConcurrentRuns) => "0",
            nameof(ScheduleSettings.RunTimeout) => "00:00:00",
            nameof(ScheduleSettings.Delay) => "-00:01:00",
            _ => "-01:00:00",
        };

        var e = Assert.Throws<TallyException>(() => SettingsFromValues.Load(("Schedule:" + key, value)));

        Assert.Contains("Schedule:" + key, e.Message);
    }
}
