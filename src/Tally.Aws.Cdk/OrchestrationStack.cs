using Amazon.CDK;
using Amazon.CDK.AWS.Events;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.Scheduler;
using Amazon.CDK.AWS.SNS;
using Amazon.CDK.AWS.SNS.Subscriptions;
using Amazon.CDK.AWS.StepFunctions;
using Amazon.CDK.AWS.StepFunctions.Tasks;
using Amazon.CDK.CustomResources;
using Constructs;
using LogOptions = Amazon.CDK.AWS.StepFunctions.LogOptions;
using SnsTopic = Amazon.CDK.AWS.Events.Targets.SnsTopic;
using SqsQueue = Amazon.CDK.AWS.SQS.Queue;
using SqsQueueProps = Amazon.CDK.AWS.SQS.QueueProps;
using QueueEncryption = Amazon.CDK.AWS.SQS.QueueEncryption;

namespace Tally.Aws.Cdk;

/// <summary>
/// The orchestration: the state machine of DESIGN.md (ComputeTargetHour → AggregateHour → Succeeded, or
/// FormatFailure → PublishFailureEvent → Failed), its hourly EventBridge Scheduler schedule, the failure bus with a
/// rule to an SNS topic, and one execution for the demo data's hour after deployment.
/// </summary>
internal sealed class OrchestrationStack : Stack
{
    /// <summary>The source and detail-type of failure events on the bus.</summary>
    public const string EventSource = "tally.pipeline";
    public const string FailureDetailType = "Tally aggregation failed";

    /// <summary>Hourly, at minute 0, in UTC.</summary>
    public const string ScheduleExpression = "cron(0 * * * ? *)";

    /// <summary>The seed's state-machine input; Scheduler replaces the placeholder with the scheduled time.</summary>
    public const string ScheduleInput = """{"target_datetime": "<aws.scheduler.scheduled-time>"}""";

    public OrchestrationStack(Construct scope, string id, DeploymentSettings settings, DataStack data, EtlStack etl)
        : base(scope, id, new StackProps { Description = "Tally orchestration: state machine, hourly schedule, failure events and alerts." })
    {
        AddDependency(data);
        AddDependency(etl);

        var functionLogs = new LogGroup(this, "ComputeTargetHourLogs", new LogGroupProps
        {
            Retention = RetentionDays.ONE_MONTH,
            RemovalPolicy = RemovalPolicy.DESTROY,
        });
        var functionRole = new Role(this, "ComputeTargetHourRole", new RoleProps
        {
            AssumedBy = new ServicePrincipal("lambda.amazonaws.com"),
            Description = "Tally's ComputeTargetHour Lambda: writes its own log group, nothing else.",
        });
        functionLogs.GrantWrite(functionRole);
        var function = new Function(this, "ComputeTargetHourFunction", new FunctionProps
        {
            Description = "Tally: the UTC hour before the scheduled time (HourWindow.FromWorkflowInput).",
            Runtime = LambdaPackage.Runtime,
            Architecture = LambdaPackage.Architecture,
            Handler = LambdaPackage.Handler,
            Code = Code.FromAsset(LambdaPackage.Directory(settings)),
            MemorySize = 256,
            Timeout = Duration.Seconds(30),
            Role = functionRole,
            LogGroup = functionLogs,
        });

        Bus = new EventBus(this, "Events", new EventBusProps { Description = "Tally pipeline events (failures)." });

        StateMachine = BuildStateMachine(settings, function, etl.Job.Ref);
        Schedule = BuildSchedule();
        BuildAlerts(settings);

        // As the seed does: one execution for the demo data's hour, once, when the stack is created.
        new AwsCustomResource(this, "DemoHourExecution", new AwsCustomResourceProps
        {
            OnCreate = new AwsSdkCall
            {
                Service = "StepFunctions",
                Action = "startExecution",
                Parameters = new Dictionary<string, object>
                {
                    ["stateMachineArn"] = StateMachine.StateMachineArn,
                    ["name"] = DemoData.ExecutionName,
                    ["input"] = DemoData.WorkflowInput,
                },
                PhysicalResourceId = PhysicalResourceId.FromResponse("executionArn"),
            },
            Policy = AwsCustomResourcePolicy.FromStatements(
            [
                new PolicyStatement(new PolicyStatementProps { Actions = ["states:StartExecution"], Resources = [StateMachine.StateMachineArn] }),
            ]),
            InstallLatestAwsSdk = false,
        });

        new CfnOutput(this, "StateMachineName", new CfnOutputProps { Value = StateMachine.StateMachineName, Description = "The hourly pipeline's state machine." });
        new CfnOutput(this, "StateMachineArn", new CfnOutputProps { Value = StateMachine.StateMachineArn, Description = "For aws stepfunctions start-execution." });
        new CfnOutput(this, "EventBusName", new CfnOutputProps { Value = Bus.EventBusName, Description = "The bus that receives failure events." });
        new CfnOutput(this, "ScheduleName", new CfnOutputProps { Value = Schedule.Ref, Description = "The hourly EventBridge Scheduler schedule." });
    }

    public StateMachine StateMachine { get; }

    public EventBus Bus { get; }

    public CfnSchedule Schedule { get; }

    private StateMachine BuildStateMachine(DeploymentSettings settings, IFunction function, string jobName)
    {
        var computeTargetHour = new LambdaInvoke(this, "ComputeTargetHour", new LambdaInvokeProps
        {
            LambdaFunction = function,
            Payload = TaskInput.FromJsonPathAt("$"),
            ResultSelector = new Dictionary<string, object> { ["target_hour"] = JsonPath.StringAt("$.Payload.target_hour") },
            ResultPath = "$.target",
        });

        var aggregateHour = new GlueStartJobRun(this, "AggregateHour", new GlueStartJobRunProps
        {
            GlueJobName = jobName,
            IntegrationPattern = IntegrationPattern.RUN_JOB,
            Arguments = TaskInput.FromObject(new Dictionary<string, object> { ["--target_hour"] = JsonPath.StringAt("$.target.target_hour") }),
            ResultSelector = new Dictionary<string, object>
            {
                ["job_run_id"] = JsonPath.StringAt("$.Id"),
                ["state"] = JsonPath.StringAt("$.JobRunState"),
            },
            ResultPath = "$.aggregate",
        });
        // Transient: the Glue API throttled or refused a concurrent run (another execution holds the job); wait and retry.
        aggregateHour.AddRetry(new RetryProps
        {
            Errors = ["Glue.ConcurrentRunsExceededException", "Glue.ThrottlingException", "Glue.InternalServiceException", "Glue.OperationTimeoutException"],
            Interval = Duration.Minutes(1),
            BackoffRate = 2,
            MaxAttempts = 5,
        });
        // The run failed (e.g. a lost executor): once more; the job overwrites the hour, so a rerun never duplicates.
        aggregateHour.AddRetry(new RetryProps { Errors = ["States.TaskFailed"], Interval = Duration.Minutes(2), MaxAttempts = 1 });

        var formatFailure = new Pass(this, "FormatFailure", new PassProps
        {
            Parameters = new Dictionary<string, object>
            {
                ["execution"] = JsonPath.ExecutionId,
                ["state_machine"] = JsonPath.StateMachineId,
                ["input"] = JsonPath.ExecutionInput,
                ["error"] = JsonPath.StringAt("$.error.Error"),
                ["cause"] = JsonPath.StringAt("$.error.Cause"),
            },
            ResultPath = "$.failure",
        });
        var failed = new Fail(this, "Failed", new FailProps { Error = "AggregationFailed", Cause = "The hour was not aggregated; a failure event was published." });
        var publishFailureEvent = new EventBridgePutEvents(this, "PublishFailureEvent", new EventBridgePutEventsProps
        {
            Entries =
            [
                new EventBridgePutEventsEntry
                {
                    EventBus = Bus,
                    Source = EventSource,
                    DetailType = FailureDetailType,
                    Detail = TaskInput.FromJsonPathAt("$.failure"),
                },
            ],
            ResultPath = JsonPath.DISCARD,
        });
        publishFailureEvent.AddRetry(new RetryProps { Errors = ["States.ALL"], Interval = Duration.Seconds(5), BackoffRate = 2, MaxAttempts = 3 });
        publishFailureEvent.AddCatch(failed, new CatchProps { Errors = ["States.ALL"], ResultPath = "$.publish_error" });

        formatFailure.Next(publishFailureEvent).Next(failed);
        computeTargetHour.AddCatch(formatFailure, new CatchProps { Errors = ["States.ALL"], ResultPath = "$.error" });
        aggregateHour.AddCatch(formatFailure, new CatchProps { Errors = ["States.ALL"], ResultPath = "$.error" });

        var definition = computeTargetHour.Next(aggregateHour).Next(new Succeed(this, "Succeeded"));

        var logs = new LogGroup(this, "StateMachineLogs", new LogGroupProps
        {
            Retention = RetentionDays.ONE_MONTH,
            RemovalPolicy = RemovalPolicy.DESTROY,
        });
        return new StateMachine(this, "Pipeline", new StateMachineProps
        {
            Comment = "Tally: aggregate the UTC hour before the scheduled time; publish a failure event when that fails.",
            DefinitionBody = DefinitionBody.FromChainable(definition),
            StateMachineType = StateMachineType.STANDARD,
            Timeout = Duration.Minutes(settings.StateMachineTimeoutMinutes),
            Logs = new LogOptions { Destination = logs, Level = LogLevel.ALL, IncludeExecutionData = true },
        });
    }

    private CfnSchedule BuildSchedule()
    {
        var deadLetters = new SqsQueue(this, "ScheduleDeadLetters", new SqsQueueProps
        {
            Encryption = QueueEncryption.SQS_MANAGED,
            EnforceSSL = true,
            RetentionPeriod = Duration.Days(14),
        });
        var role = new Role(this, "ScheduleRole", new RoleProps
        {
            AssumedBy = new ServicePrincipal("scheduler.amazonaws.com", new ServicePrincipalOpts
            {
                Conditions = new Dictionary<string, object> { ["StringEquals"] = new Dictionary<string, object> { ["aws:SourceAccount"] = Account } },
            }),
            Description = "Tally's hourly schedule: starts the state machine, sends undeliverable events to its dead-letter queue.",
        });
        StateMachine.GrantStartExecution(role);
        deadLetters.GrantSendMessages(role);

        return new CfnSchedule(this, "Hourly", new CfnScheduleProps
        {
            Description = "Tally: runs the pipeline every hour for the preceding UTC hour.",
            ScheduleExpression = ScheduleExpression,
            ScheduleExpressionTimezone = "UTC",
            FlexibleTimeWindow = new CfnSchedule.FlexibleTimeWindowProperty { Mode = "OFF" },
            State = "ENABLED",
            Target = new CfnSchedule.TargetProperty
            {
                Arn = StateMachine.StateMachineArn,
                RoleArn = role.RoleArn,
                Input = ScheduleInput,
                RetryPolicy = new CfnSchedule.RetryPolicyProperty { MaximumEventAgeInSeconds = 3600, MaximumRetryAttempts = 10 },
                DeadLetterConfig = new CfnSchedule.DeadLetterConfigProperty { Arn = deadLetters.QueueArn },
            },
        });
    }

    private void BuildAlerts(DeploymentSettings settings)
    {
        var topic = new Topic(this, "FailureAlerts", new TopicProps { DisplayName = "Tally pipeline failures", EnforceSSL = true });
        if (settings.AlertEmail is { } email) topic.AddSubscription(new EmailSubscription(email));
        new Rule(this, "FailureRule", new RuleProps
        {
            Description = "Tally: failure events to the alert topic.",
            EventBus = Bus,
            EventPattern = new EventPattern { Source = [EventSource], DetailType = [FailureDetailType] },
            Targets = [new SnsTopic(topic)],
        });
        new CfnOutput(this, "AlertTopicArn", new CfnOutputProps { Value = topic.TopicArn, Description = "SNS topic of failure alerts (subscribe to it)." });
    }
}
