using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tally;

/// <summary>
/// What the local workflow (<c>tally run</c>, <c>tally serve</c>) and the AWS deployment (EventBridge Scheduler, the Step
/// Functions state machine, its Lambda functions) must agree on, defined once so that the two sides cannot drift: the
/// workflow input, the rule that turns it into the hour to aggregate, the names of the states both run, the source and
/// detail-types of their events, and how AggregateHour retries a transient failure.
/// </summary>
/// <remarks>
/// The values are the seed's (the AWS reference architecture Tally re-creates) where it has one. Changing any of them
/// changes what a deployed state machine, an existing event rule or a stored run record expects, so tests pin them to
/// literals. All times are UTC.
/// </remarks>
public static class WorkflowContract
{
    /// <summary>The one key of the workflow input, whose value is the scheduled time (ISO-8601).</summary>
    public const string ScheduledTimeKey = "target_datetime";

    /// <summary>What EventBridge Scheduler replaces with a run's scheduled time (ISO-8601, UTC, to the second) in its input.</summary>
    internal const string SchedulerPlaceholder = "<aws.scheduler.scheduled-time>";

    /// <summary>
    /// The seed's schedule input, as the Scheduler schedule holds it: <c>{"target_datetime": "&lt;aws.scheduler.scheduled-time&gt;"}</c>.
    /// </summary>
    public const string SchedulerInput = "{\"" + ScheduledTimeKey + "\": \"" + SchedulerPlaceholder + "\"}";

    /// <summary>
    /// The input of a run scheduled at <paramref name="scheduledTime"/>, as the local workflow writes and records it:
    /// <c>{"target_datetime":"2026-11-24T14:00:00Z"}</c> (UTC, to the second; a fraction of a second is dropped).
    /// </summary>
    public static string Input(DateTimeOffset scheduledTime) =>
        new JsonObject { [ScheduledTimeKey] = Format(scheduledTime) }.ToJsonString();

    /// <summary>The input of the run that aggregates <paramref name="hour"/>: its end as the scheduled time.</summary>
    public static string InputFor(HourWindow hour) => Input(hour.End);

    /// <summary>
    /// The input EventBridge Scheduler sends for a run scheduled at <paramref name="scheduledTime"/>: <see cref="SchedulerInput"/>
    /// with the time in place of the placeholder, <c>{"target_datetime": "2026-11-24T14:00:00Z"}</c>. It differs from
    /// <see cref="Input"/> only in the space after the colon; both parse to the same hour.
    /// </summary>
    public static string SchedulerInputAt(DateTimeOffset scheduledTime) =>
        SchedulerInput.Replace(SchedulerPlaceholder, Format(scheduledTime), StringComparison.Ordinal);

    /// <summary>
    /// The hour a run scheduled at <paramref name="scheduledTime"/> aggregates:
    /// <c>floor_to_hour(scheduled_time − 1 h)</c>, the whole UTC hour before it (the time is converted to UTC first).
    /// </summary>
    public static HourWindow TargetHour(DateTimeOffset scheduledTime) => HourWindow.Containing(scheduledTime.AddHours(-1));

    /// <summary>
    /// The hour a run with workflow input <paramref name="input"/> aggregates (<see cref="TargetHour(DateTimeOffset)"/> of its
    /// <c>target_datetime</c>). Other keys are ignored; a time without an offset is UTC.
    /// </summary>
    /// <exception cref="TallyException">
    /// InvalidArgument when the input is not valid JSON, not an object with a string <c>target_datetime</c>, when that string is
    /// not an ISO-8601 date-time, or when it has no preceding hour. The messages are one sentence each, naming the bad value.
    /// </exception>
    public static HourWindow TargetHour(string input)
    {
        ArgumentNullException.ThrowIfNull(input);
        string? value;
        try
        {
            using var doc = JsonDocument.Parse(input);
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty(ScheduledTimeKey, out var property)
                || property.ValueKind != JsonValueKind.String)
            {
                throw TallyException.InvalidArgument(
                    $"The workflow input must be a JSON object with a string \"{ScheduledTimeKey}\", for example {{\"{ScheduledTimeKey}\": \"2026-11-24T14:00:00Z\"}}.");
            }
            value = property.GetString();
        }
        catch (JsonException e)
        {
            throw TallyException.InvalidArgument($"The workflow input is not valid JSON: {e.Message}");
        }
        if (!Iso8601.TryParseUtcTicks(value, out var ticks))
        {
            throw TallyException.InvalidArgument($"{ScheduledTimeKey} '{value}' is not an ISO-8601 date-time.");
        }
        if (ticks < TimeSpan.TicksPerHour)
        {
            throw TallyException.InvalidArgument($"{ScheduledTimeKey} '{value}' has no preceding hour.");
        }
        return TargetHour(new DateTimeOffset(ticks, TimeSpan.Zero));
    }

    private static string Format(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// The states both sides run and record, under these names: locally as a run's steps, in AWS as the state machine's
    /// states (which adds its own: the lease, the engine choice, the Glue run).
    /// </summary>
    public static class States
    {
        /// <summary>The first state: the hour to aggregate, from the input.</summary>
        public const string ComputeTargetHour = "ComputeTargetHour";

        /// <summary>Tally's engine over the hour (in AWS, the Lambda engine; the Glue engine's state is AWS's own).</summary>
        public const string AggregateHour = "AggregateHour";

        /// <summary>The failure path's first state: the failure event's detail from the error and cause.</summary>
        public const string FormatFailure = "FormatFailure";

        /// <summary>Publishes the failure event (<see cref="Events.FailedDetailType"/>).</summary>
        public const string PublishFailureEvent = "PublishFailureEvent";

        /// <summary>Publishes the success event (<see cref="Events.SucceededDetailType"/>); only the local workflow has it, when configured.</summary>
        public const string PublishSuccessEvent = "PublishSuccessEvent";

        /// <summary>The end of a run that aggregated its hour.</summary>
        public const string Succeeded = "Succeeded";

        /// <summary>The end of a run that did not, after its failure event.</summary>
        public const string Failed = "Failed";
    }

    /// <summary>The events both sides publish, in the EventBridge envelope; an EventBridge rule matches them by these values.</summary>
    public static class Events
    {
        /// <summary>The envelope's <c>source</c>.</summary>
        public const string Source = "tally.pipeline";

        /// <summary>The <c>detail-type</c> of a run that failed.</summary>
        public const string FailedDetailType = "Tally aggregation failed";

        /// <summary>The <c>detail-type</c> of a run that succeeded (published by the local workflow when configured).</summary>
        public const string SucceededDetailType = "Tally aggregation succeeded";
    }

    /// <summary>
    /// The <c>status</c> of the report AggregateHour answers with (Tally's engine, in <c>tally run</c> and in the Lambda
    /// function): the state machine's CheckRun state sends a <see cref="Report.Failed"/> report down the failure path.
    /// </summary>
    public static class Report
    {
        public const string Succeeded = "succeeded";
        public const string Failed = "failed";
    }

    /// <summary>
    /// How AggregateHour retries a transient failure (<see cref="TallyException.IsTransient"/>: I/O, throttling, 5xx) by
    /// default, locally (<c>Retry</c> settings) and in the AggregateHour Lambda function: 3 attempts, waiting 2 s, then
    /// 4 s (doubling, at most 60 s). Data errors and bad configuration are not retried.
    /// </summary>
    public static RetryPolicy AggregateHourRetry { get; } = new(3, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60));
}
