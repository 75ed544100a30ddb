using System.Globalization;

namespace Tally.Core.Tests;

/// <summary>The local↔AWS contract, against the seed's literal values: a change here is a change of what deployed state machines, event rules and stored runs expect.</summary>
public class WorkflowContractFacts
{
    private static DateTimeOffset At(string iso) =>
        DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    private static HourWindow Hour(int year, int month, int day, int hour) => HourWindow.FromParts(year, month, day, hour);

    [Theory]
    // Within a day.
    [InlineData("2026-11-24T14:00:00Z", 2026, 11, 24, 13)]
    [InlineData("2026-11-24T14:30:00Z", 2026, 11, 24, 13)]
    [InlineData("2026-11-24T14:59:59.9999999Z", 2026, 11, 24, 13)]
    // Exact hour boundaries.
    [InlineData("2026-11-24T14:00:00.0000001Z", 2026, 11, 24, 13)]
    [InlineData("2026-11-24T13:59:59.9999999Z", 2026, 11, 24, 12)]
    // Day end.
    [InlineData("2026-11-24T00:00:00Z", 2026, 11, 23, 23)]
    [InlineData("2026-11-24T00:30:00Z", 2026, 11, 23, 23)]
    [InlineData("2026-11-24T01:00:00Z", 2026, 11, 24, 0)]
    // Month ends of 30 and 31 days.
    [InlineData("2026-12-01T00:15:00Z", 2026, 11, 30, 23)]
    [InlineData("2026-11-01T00:00:00Z", 2026, 10, 31, 23)]
    // Year end.
    [InlineData("2027-01-01T00:00:00Z", 2026, 12, 31, 23)]
    [InlineData("2027-01-01T00:59:59Z", 2026, 12, 31, 23)]
    // February in common and leap years.
    [InlineData("2026-03-01T00:00:00Z", 2026, 2, 28, 23)]
    [InlineData("2024-03-01T00:00:00Z", 2024, 2, 29, 23)]
    [InlineData("2024-02-29T12:10:00Z", 2024, 2, 29, 11)]
    [InlineData("2024-02-29T00:10:00Z", 2024, 2, 28, 23)]
    [InlineData("2028-03-01T00:30:00Z", 2028, 2, 29, 23)]
    [InlineData("2100-03-01T00:30:00Z", 2100, 2, 28, 23)]
    [InlineData("2000-03-01T00:30:00Z", 2000, 2, 29, 23)]
    // Offsets: the scheduled time is converted to UTC first.
    [InlineData("2026-11-24T14:00:00+05:30", 2026, 11, 24, 7)]
    [InlineData("2026-11-24T05:29:00+05:30", 2026, 11, 23, 22)]
    [InlineData("2026-11-24T16:00:00-08:00", 2026, 11, 24, 23)]
    [InlineData("2026-11-24T17:00:00-08:00", 2026, 11, 25, 0)]
    [InlineData("2026-12-31T16:30:00-08:00", 2026, 12, 31, 23)]
    [InlineData("2027-01-01T00:30:00+01:00", 2026, 12, 31, 22)]
    public void TargetHour_OfAScheduledTime_IsTheWholeUtcHourBefore(string scheduled, int year, int month, int day, int hour)
    {
        var target = WorkflowContract.TargetHour(At(scheduled));

        Assert.Equal(Hour(year, month, day, hour), target);
        Assert.Equal(TimeSpan.Zero, target.Start.Offset);
    }

    [Theory]
    [InlineData("{\"target_datetime\": \"2026-11-24T00:30:00Z\"}", "2026-11-23T23")]
    [InlineData("{\"target_datetime\": \"2026-11-24T14:00:00Z\"}", "2026-11-24T13")]
    [InlineData("{\"target_datetime\": \"2026-11-24T14:00:00.0000001Z\"}", "2026-11-24T13")]
    [InlineData("{\"target_datetime\": \"2026-11-24T13:59:59.999Z\"}", "2026-11-24T12")]
    [InlineData("{\"target_datetime\": \"2027-01-01T00:00:00Z\"}", "2026-12-31T23")]
    [InlineData("{\"target_datetime\": \"2028-03-01T00:30:00Z\"}", "2028-02-29T23")]
    [InlineData("{\"target_datetime\": \"2026-11-24T14:00:00\"}", "2026-11-24T13")]
    [InlineData("{\"target_datetime\": \"2026-11-24T14:00:00+05:30\"}", "2026-11-24T07")]
    [InlineData("{\"target_datetime\": \"2026-11-24T16:00:00-08:00\"}", "2026-11-24T23")]
    [InlineData("{\"version\": \"0\", \"target_datetime\": \"2026-11-24T14:05:00Z\", \"extra\": [1, 2]}", "2026-11-24T13")]
    [InlineData("  {\"target_datetime\":\"2026-11-24T14:00Z\"}\n", "2026-11-24T13")]
    public void TargetHour_OfAnInput_IsTheHourBeforeItsScheduledTime(string json, string expected)
    {
        Assert.Equal(expected, WorkflowContract.TargetHour(json).ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("{\"target_datetime\": ")]
    [InlineData("[\"2026-11-24T14:00:00Z\"]")]
    [InlineData("\"2026-11-24T14:00:00Z\"")]
    [InlineData("null")]
    [InlineData("{}")]
    [InlineData("{\"targetDatetime\": \"2026-11-24T14:00:00Z\"}")]
    [InlineData("{\"target_datetime\": 1764000000}")]
    [InlineData("{\"target_datetime\": null}")]
    [InlineData("{\"target_datetime\": {\"time\": \"2026-11-24T14:00:00Z\"}}")]
    [InlineData("{\"target_datetime\": \"yesterday\"}")]
    [InlineData("{\"target_datetime\": \"2026-11-24\"}")]
    [InlineData("{\"target_datetime\": \"2026-02-30T14:00:00Z\"}")]
    [InlineData("{\"target_datetime\": \"\"}")]
    public void TargetHour_ThrowsInvalidArgument_WhenTheInputIsNotAScheduledTime(string json)
    {
        var e = Assert.Throws<TallyException>(() => WorkflowContract.TargetHour(json));

        Assert.Equal(TallyErrorKind.InvalidArgument, e.Kind);
        Assert.False(e.IsTransient);
    }

    [Fact]
    public void TargetHour_NamesTheBadValue()
    {
        var e = Assert.Throws<TallyException>(() => WorkflowContract.TargetHour("{\"target_datetime\": \"yesterday\"}"));

        Assert.Contains("'yesterday'", e.Message);
    }

    [Fact]
    public void TargetHour_ThrowsInvalidArgument_WhenThereIsNoPrecedingHour()
    {
        var e = Assert.Throws<TallyException>(() => WorkflowContract.TargetHour("{\"target_datetime\": \"0001-01-01T00:30:00Z\"}"));

        Assert.Equal(TallyErrorKind.InvalidArgument, e.Kind);
    }

    /// <summary>The messages <c>tally run --input</c> prints for a bad input, one sentence each.</summary>
    [Theory]
    [InlineData("{}", "The workflow input must be a JSON object with a string \"target_datetime\", for example {\"target_datetime\": \"2026-11-24T14:00:00Z\"}.")]
    [InlineData("[\"2026-11-24T14:00:00Z\"]", "The workflow input must be a JSON object with a string \"target_datetime\", for example {\"target_datetime\": \"2026-11-24T14:00:00Z\"}.")]
    [InlineData("{\"target_datetime\": 1764000000}", "The workflow input must be a JSON object with a string \"target_datetime\", for example {\"target_datetime\": \"2026-11-24T14:00:00Z\"}.")]
    [InlineData("{\"target_datetime\": \"yesterday\"}", "target_datetime 'yesterday' is not an ISO-8601 date-time.")]
    [InlineData("{\"target_datetime\": \"<aws.scheduler.scheduled-time>\"}", "target_datetime '<aws.scheduler.scheduled-time>' is not an ISO-8601 date-time.")]
    [InlineData("{\"target_datetime\": \"0001-01-01T00:30:00Z\"}", "target_datetime '0001-01-01T00:30:00Z' has no preceding hour.")]
    public void TargetHour_ExplainsABadInput_InTheWordsTheLocalWorkflowGives(string input, string message)
    {
        Assert.Equal(message, Assert.Throws<TallyException>(() => WorkflowContract.TargetHour(input)).Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("{\"target_datetime\": ")]
    public void TargetHour_SaysTheInputIsNotJson_WithTheParsersReason(string input)
    {
        var e = Assert.Throws<TallyException>(() => WorkflowContract.TargetHour(input));

        Assert.StartsWith("The workflow input is not valid JSON: ", e.Message, StringComparison.Ordinal);
        Assert.True(e.Message.Length > "The workflow input is not valid JSON: ".Length);
    }

    [Theory]
    [InlineData("2026-11-24T14:00:00Z", "{\"target_datetime\":\"2026-11-24T14:00:00Z\"}")]
    [InlineData("2026-11-24T14:00:00.9999999Z", "{\"target_datetime\":\"2026-11-24T14:00:00Z\"}")]
    [InlineData("2026-11-24T15:30:00+01:00", "{\"target_datetime\":\"2026-11-24T14:30:00Z\"}")]
    [InlineData("2027-01-01T00:00:00Z", "{\"target_datetime\":\"2027-01-01T00:00:00Z\"}")]
    public void Input_IsTheSeedsObject_WithTheScheduledTimeInUtcToTheSecond(string scheduledTime, string expected)
    {
        Assert.Equal(expected, WorkflowContract.Input(At(scheduledTime)));
    }

    [Theory]
    [InlineData(2026, 11, 24, 13, "{\"target_datetime\":\"2026-11-24T14:00:00Z\"}")]
    [InlineData(2026, 12, 31, 23, "{\"target_datetime\":\"2027-01-01T00:00:00Z\"}")]
    [InlineData(2028, 2, 28, 23, "{\"target_datetime\":\"2028-02-29T00:00:00Z\"}")]
    public void InputFor_AnHour_IsScheduledAtTheHoursEnd_AndComputesThatHourBack(int year, int month, int day, int hour, string expected)
    {
        var input = WorkflowContract.InputFor(Hour(year, month, day, hour));

        Assert.Equal(expected, input);
        Assert.Equal(Hour(year, month, day, hour), WorkflowContract.TargetHour(input));
    }

    [Fact]
    public void SchedulerInput_IsTheSeedsScheduleInput_WithSchedulersPlaceholder()
    {
        Assert.Equal("target_datetime", WorkflowContract.ScheduledTimeKey);
        Assert.Equal("<aws.scheduler.scheduled-time>", WorkflowContract.SchedulerPlaceholder);
        Assert.Equal("{\"target_datetime\": \"<aws.scheduler.scheduled-time>\"}", WorkflowContract.SchedulerInput);
    }

    [Fact]
    public void SchedulerInputAt_IsWhatSchedulerSends_AndComputesTheSameHourAsTheLocalInput()
    {
        var sent = WorkflowContract.SchedulerInputAt(At("2026-11-24T14:00:00Z"));

        Assert.Equal("{\"target_datetime\": \"2026-11-24T14:00:00Z\"}", sent);
        Assert.Equal(Hour(2026, 11, 24, 13), WorkflowContract.TargetHour(sent));
    }

    [Fact]
    public void States_AreTheSeedsStateNames()
    {
        Assert.Equal(
            ["ComputeTargetHour", "AggregateHour", "FormatFailure", "PublishFailureEvent", "PublishSuccessEvent", "Succeeded", "Failed"],
            [WorkflowContract.States.ComputeTargetHour, WorkflowContract.States.AggregateHour, WorkflowContract.States.FormatFailure,
             WorkflowContract.States.PublishFailureEvent, WorkflowContract.States.PublishSuccessEvent, WorkflowContract.States.Succeeded,
             WorkflowContract.States.Failed]);
    }

    [Fact]
    public void Events_HaveTheSourceAndDetailTypesTheBussRuleMatches()
    {
        Assert.Equal("tally.pipeline", WorkflowContract.Events.Source);
        Assert.Equal("Tally aggregation failed", WorkflowContract.Events.FailedDetailType);
        Assert.Equal("Tally aggregation succeeded", WorkflowContract.Events.SucceededDetailType);
    }

    [Fact]
    public void Report_StatusesAreTheTextsTheCheckRunStateCompares()
    {
        Assert.Equal("succeeded", WorkflowContract.Report.Succeeded);
        Assert.Equal("failed", WorkflowContract.Report.Failed);
    }

    [Fact]
    public void AggregateHourRetry_IsThreeAttempts_WaitingTwoThenFourSeconds()
    {
        var retry = WorkflowContract.AggregateHourRetry;

        Assert.Equal(3, retry.MaxAttempts);
        Assert.Equal([TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)], [retry.Delay(1), retry.Delay(2)]);
        Assert.Equal(TimeSpan.FromSeconds(60), retry.MaxDelay);
    }

    [Theory]
    [InlineData(1, 500)]
    [InlineData(2, 1000)]
    [InlineData(3, 2000)]
    [InlineData(4, 3000)]
    [InlineData(40, 3000)]
    public void RetryPolicy_DoublesTheWaitPerFailedAttempt_UpToItsMaximum(int attempt, int expectedMs)
    {
        var policy = new RetryPolicy(50, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(3));

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), policy.Delay(attempt));
    }
}
