using Amazon.CDK;
using Amazon.CDK.AWS.DynamoDB;
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
using Attribute = Amazon.CDK.AWS.DynamoDB.Attribute;
using Function = Amazon.CDK.AWS.Lambda.Function;
using LogOptions = Amazon.CDK.AWS.StepFunctions.LogOptions;
using SnsTopic = Amazon.CDK.AWS.Events.Targets.SnsTopic;
using SqsQueue = Amazon.CDK.AWS.SQS.Queue;
using SqsQueueProps = Amazon.CDK.AWS.SQS.QueueProps;
using QueueEncryption = Amazon.CDK.AWS.SQS.QueueEncryption;

namespace Tally.Aws.Cdk;

/// <summary>
/// The orchestration: the state machine of DESIGN.md with the AWS side's lease and engine choice,
/// <c>ComputeTargetHour → AcquireLease → ChooseEngine → AggregateHour (Lambda) | AggregateHourOnGlue → ReleaseLease → Succeeded</c>,
/// or on failure <c>FormatFailure → PublishFailureEvent → ReleaseLeaseAfterFailure → Failed</c>, and
/// <c>HourAlreadyRunning</c> when another execution holds the hour; its hourly EventBridge Scheduler schedule, the lease
/// table, the failure bus with a rule to an SNS topic, and one run of the demo data's hour when the stack is created, whose
/// failure fails the deployment.
/// </summary>
internal sealed class OrchestrationStack : Stack
{
    /// <summary>Hourly, at minute 0, in UTC.</summary>
    public const string ScheduleExpression = "cron(0 * * * ? *)";

    /// <summary>The lease table's key (the hour, <c>2026-11-24T13</c>), holder (the execution's ARN) and expiry (Unix seconds, also its TTL).</summary>
    public const string LeaseKey = "hour";
    public const string LeaseHolder = "execution";
    public const string LeaseExpiry = "expires_at";

    /// <summary>Errors of the Lambda service itself (not of the function's code), worth another invocation.</summary>
    private static readonly string[] LambdaServiceErrors =
    [
        "Lambda.ClientExecutionTimeoutException", "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
    ];

    /// <summary>DynamoDB's throttling and internal errors.</summary>
    private static readonly string[] DynamoDbTransientErrors =
    [
        "DynamoDB.ProvisionedThroughputExceededException", "DynamoDB.RequestLimitExceededException", "DynamoDB.ThrottlingException",
        "DynamoDB.InternalServerErrorException",
    ];

    public OrchestrationStack(Construct scope, string id, DeploymentSettings settings, DataStack data, EtlStack etl)
        : base(scope, id, new StackProps { Description = "Tally orchestration: state machine, hour leases, hourly schedule, failure events and alerts." })
    {
        AddDependency(data);
        AddDependency(etl);

        var computeTargetHour = BuildComputeTargetHour(settings, data);
        Leases = new Table(this, "HourLeases", new TableProps
        {
            PartitionKey = new Attribute { Name = LeaseKey, Type = AttributeType.STRING },
            BillingMode = BillingMode.PAY_PER_REQUEST,
            TimeToLiveAttribute = LeaseExpiry,
            PointInTimeRecovery = true,
            RemovalPolicy = RemovalPolicy.DESTROY,
        });
        Bus = new EventBus(this, "Events", new EventBusProps { Description = "Tally pipeline events (failures)." });

        StateMachine = BuildStateMachine(settings, computeTargetHour, etl);
        Schedule = BuildSchedule(settings);
        BuildAlerts(settings);
        BuildDemoRun(settings);

        new CfnOutput(this, "StateMachineName", new CfnOutputProps { Value = StateMachine.StateMachineName, Description = "The hourly pipeline's state machine." });
        new CfnOutput(this, "StateMachineArn", new CfnOutputProps { Value = StateMachine.StateMachineArn, Description = "For aws stepfunctions start-execution." });
        new CfnOutput(this, "EventBusName", new CfnOutputProps { Value = Bus.EventBusName, Description = "The bus that receives failure events." });
        new CfnOutput(this, "ScheduleName", new CfnOutputProps { Value = Schedule.Ref, Description = "The hourly EventBridge Scheduler schedule." });
        new CfnOutput(this, "LeaseTableName", new CfnOutputProps { Value = Leases.TableName, Description = "One item per hour being aggregated (its lease)." });
    }

    public StateMachine StateMachine { get; }

    public EventBus Bus { get; }

    public CfnSchedule Schedule { get; }

    /// <summary>The hours' leases: an item per hour while an execution aggregates it.</summary>
    public Table Leases { get; }

    /// <summary>ComputeTargetHour: the hour, its raw input's size and the lease's times; lists raw_data/, reads nothing.</summary>
    private Function BuildComputeTargetHour(DeploymentSettings settings, DataStack data)
    {
        var logs = new LogGroup(this, "ComputeTargetHourLogs", new LogGroupProps
        {
            Retention = RetentionDays.ONE_MONTH,
            RemovalPolicy = RemovalPolicy.DESTROY,
        });
        var role = new Role(this, "ComputeTargetHourRole", new RoleProps
        {
            AssumedBy = new ServicePrincipal("lambda.amazonaws.com"),
            Description = "Tally's ComputeTargetHour Lambda: lists raw_data/ and writes its own log group, nothing else.",
        });
        logs.GrantWrite(role);
        role.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["s3:ListBucket"],
            Resources = [data.Bucket.BucketArn],
            Conditions = new Dictionary<string, object>
            {
                ["StringLike"] = new Dictionary<string, object> { ["s3:prefix"] = new[] { $"{DataLayout.RawPrefix}/*" } },
            },
        }));
        var function = new Function(this, "ComputeTargetHourFunction", new FunctionProps
        {
            Description = "Tally: the UTC hour before the scheduled time (WorkflowContract.TargetHour) and the size of its raw input.",
            Runtime = LambdaPackage.Runtime,
            Architecture = LambdaPackage.Architecture,
            Handler = LambdaPackage.Handler,
            Code = Code.FromAsset(LambdaPackage.Directory(settings)),
            MemorySize = 512,
            Timeout = Duration.Seconds(60),
            Role = role,
            LogGroup = logs,
            Environment = new Dictionary<string, string>
            {
                ["TALLY_DATA"] = $"s3://{data.Bucket.BucketName}",
                ["TALLY_LEASE_SECONDS"] = settings.LeaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
        });
        return function;
    }

    private StateMachine BuildStateMachine(DeploymentSettings settings, IFunction computeTargetHourFunction, EtlStack etl)
    {
        var computeTargetHour = new LambdaInvoke(this, WorkflowContract.States.ComputeTargetHour, new LambdaInvokeProps
        {
            LambdaFunction = computeTargetHourFunction,
            Payload = TaskInput.FromJsonPathAt("$"),
            ResultSelector = new Dictionary<string, object>
            {
                ["target_hour"] = JsonPath.StringAt("$.Payload.target_hour"),
                ["raw_files"] = JsonPath.NumberAt("$.Payload.raw_files"),
                ["raw_bytes"] = JsonPath.NumberAt("$.Payload.raw_bytes"),
                ["lease_now"] = JsonPath.StringAt("$.Payload.lease_now"),
                ["lease_expires"] = JsonPath.StringAt("$.Payload.lease_expires"),
            },
            ResultPath = "$.target",
            RetryOnServiceExceptions = false,
        });
        computeTargetHour.AddRetry(LambdaServiceRetry());

        // One execution per hour at a time: a duplicate schedule delivery, or a rerun while the hour runs, finds the item.
        var acquireLease = new DynamoPutItem(this, "AcquireLease", new DynamoPutItemProps
        {
            Table = Leases,
            Item = new Dictionary<string, DynamoAttributeValue>
            {
                [LeaseKey] = DynamoAttributeValue.FromString(JsonPath.StringAt("$.target.target_hour")),
                [LeaseHolder] = DynamoAttributeValue.FromString(JsonPath.ExecutionId),
                [LeaseExpiry] = DynamoAttributeValue.NumberFromString(JsonPath.StringAt("$.target.lease_expires")),
            },
            ConditionExpression = "attribute_not_exists(#hour) OR #expires < :now",
            ExpressionAttributeNames = new Dictionary<string, string> { ["#hour"] = LeaseKey, ["#expires"] = LeaseExpiry },
            ExpressionAttributeValues = new Dictionary<string, DynamoAttributeValue>
            {
                [":now"] = DynamoAttributeValue.NumberFromString(JsonPath.StringAt("$.target.lease_now")),
            },
            ResultPath = JsonPath.DISCARD,
        });
        acquireLease.AddRetry(DynamoDbRetry());
        var alreadyRunning = new Succeed(this, "HourAlreadyRunning", new SucceedProps
        {
            Comment = "Another execution holds this hour's lease (a duplicate schedule delivery, or a rerun while the hour runs): this one does nothing.",
        });

        var aggregateHour = new LambdaInvoke(this, WorkflowContract.States.AggregateHour, new LambdaInvokeProps
        {
            LambdaFunction = etl.AggregateHourFunction,
            Payload = TaskInput.FromObject(AggregateHourPayload(settings.Declaration)),
            ResultSelector = new Dictionary<string, object> { ["report"] = JsonPath.StringAt("$.Payload") },
            ResultPath = "$.aggregate",
            RetryOnServiceExceptions = false,
        });
        // The function retries its transient S3 errors itself and answers every failure of a run (see CheckRun); what is
        // left to retry here is Lambda's own failure to invoke it.
        aggregateHour.AddRetry(LambdaServiceRetry());
        var runError = new Pass(this, "RunError", new PassProps
        {
            Comment = "The function's answer to a failed run, as the Error and Cause a Catch passes on.",
            Parameters = new Dictionary<string, object>
            {
                ["Error"] = JsonPath.StringAt("$.aggregate.report.error_name"),
                ["Cause"] = JsonPath.StringAt("$.aggregate.report.error"),
            },
            ResultPath = "$.error",
        });

        var aggregateHourOnGlue = new GlueStartJobRun(this, "AggregateHourOnGlue", new GlueStartJobRunProps
        {
            GlueJobName = etl.Job.Ref,
            IntegrationPattern = IntegrationPattern.RUN_JOB,
            Arguments = TaskInput.FromObject(new Dictionary<string, object> { ["--target_hour"] = JsonPath.StringAt("$.target.target_hour") }),
            ResultSelector = new Dictionary<string, object>
            {
                ["job_run_id"] = JsonPath.StringAt("$.Id"),
                ["state"] = JsonPath.StringAt("$.JobRunState"),
            },
            ResultPath = "$.aggregate",
        });
        // Every run slot is taken (other hours' runs): wait for one, with jitter so a backfill's executions spread out.
        aggregateHourOnGlue.AddRetry(new RetryProps
        {
            Errors = ["Glue.ConcurrentRunsExceededException"],
            Interval = Duration.Minutes(1),
            BackoffRate = 1.5,
            MaxDelay = Duration.Minutes(5),
            JitterStrategy = JitterType.FULL,
            MaxAttempts = 12,
        });
        // The Glue API throttled or failed. A run that failed (States.TaskFailed) is not retried: it is a data error or a
        // bug, and a second run costs as much as the first.
        aggregateHourOnGlue.AddRetry(new RetryProps
        {
            Errors = ["Glue.ThrottlingException", "Glue.InternalServiceException", "Glue.OperationTimeoutException"],
            Interval = Duration.Seconds(10),
            BackoffRate = 2,
            JitterStrategy = JitterType.FULL,
            MaxAttempts = 5,
        });

        var succeeded = new Succeed(this, WorkflowContract.States.Succeeded);
        var releaseLease = ReleaseLease("ReleaseLease", succeeded);

        var formatFailure = new Pass(this, WorkflowContract.States.FormatFailure, new PassProps
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
        var failed = new Fail(this, WorkflowContract.States.Failed, new FailProps { Error = "AggregationFailed", Cause = "The hour was not aggregated; a failure event was published." });
        var releaseAfterFailure = ReleaseLease("ReleaseLeaseAfterFailure", failed);
        // An execution that failed before it knew its hour holds no lease.
        var heldLease = new Choice(this, "HeldTheLease")
            .When(Condition.IsPresent("$.target.lease_expires"), releaseAfterFailure)
            .Otherwise(failed);
        var publishFailureEvent = new EventBridgePutEvents(this, WorkflowContract.States.PublishFailureEvent, new EventBridgePutEventsProps
        {
            Entries =
            [
                new EventBridgePutEventsEntry
                {
                    EventBus = Bus,
                    Source = WorkflowContract.Events.Source,
                    DetailType = WorkflowContract.Events.FailedDetailType,
                    Detail = TaskInput.FromJsonPathAt("$.failure"),
                },
            ],
            ResultPath = JsonPath.DISCARD,
        });
        // The failure path's only report, cheap and harmless to repeat: any error is worth a few more tries.
        publishFailureEvent.AddRetry(new RetryProps { Errors = ["States.ALL"], Interval = Duration.Seconds(5), BackoffRate = 2, MaxAttempts = 3 });
        publishFailureEvent.AddCatch(heldLease, new CatchProps { Errors = ["States.ALL"], ResultPath = "$.publish_error" });
        formatFailure.Next(publishFailureEvent).Next(heldLease);

        var catchAll = new CatchProps { Errors = ["States.ALL"], ResultPath = "$.error" };
        computeTargetHour.AddCatch(formatFailure, catchAll);
        acquireLease.AddCatch(alreadyRunning, new CatchProps { Errors = ["DynamoDB.ConditionalCheckFailedException"], ResultPath = "$.lease_error" });
        acquireLease.AddCatch(formatFailure, catchAll);
        aggregateHour.AddCatch(formatFailure, catchAll);
        aggregateHourOnGlue.AddCatch(formatFailure, catchAll);

        var chooseEngine = new Choice(this, "ChooseEngine", new ChoiceProps
        {
            Comment = $"Hours of more than {settings.GlueThresholdBytes:N0} bytes of raw input go to Glue; the others to Tally's engine in Lambda.",
        })
            .When(Condition.NumberGreaterThan("$.target.raw_bytes", settings.GlueThresholdBytes), aggregateHourOnGlue.Next(releaseLease))
            .Otherwise(aggregateHour.Next(new Choice(this, "CheckRun")
                .When(Condition.StringEquals("$.aggregate.report.status", WorkflowContract.Report.Failed), runError.Next(formatFailure))
                .Otherwise(releaseLease)));
        var definition = computeTargetHour.Next(acquireLease).Next(chooseEngine);

        // Step Functions delivers its logs through CloudWatch Logs' vended logs, whose resource policy covers this prefix.
        var logs = new LogGroup(this, "StateMachineLogs", new LogGroupProps
        {
            LogGroupName = $"/aws/vendedlogs/states/{StackName}-pipeline",
            Retention = RetentionDays.ONE_MONTH,
            RemovalPolicy = RemovalPolicy.DESTROY,
        });
        var machine = new StateMachine(this, "Pipeline", new StateMachineProps
        {
            Comment = "Tally: aggregate the UTC hour before the scheduled time, one execution per hour at a time; publish a failure event when that fails.",
            DefinitionBody = DefinitionBody.FromChainable(definition),
            StateMachineType = StateMachineType.STANDARD,
            Timeout = Duration.Minutes(settings.StateMachineTimeoutMinutes),
            TracingEnabled = true,
            Logs = new LogOptions { Destination = logs, Level = LogLevel.ALL, IncludeExecutionData = true },
        });
        NagAcknowledgements.Add(machine.Role.Node.TryFindChild("DefaultPolicy")!,
            ("AwsSolutions-IAM5", "Step Functions' log delivery and X-Ray APIs accept only '*' as resource (CDK adds them for Logs and TracingEnabled); ':*' on the two functions' ARNs is their versions, which lambda:invoke may name."));
        return machine;
    }

    /// <summary>
    /// The AggregateHour function's input: the hour, and the declaration as the Glue job's arguments carry it
    /// (<see cref="EtlStack.JobArguments"/>), so that both engines compute the same tables by the same rules.
    /// </summary>
    public static Dictionary<string, object> AggregateHourPayload(TallyOptions declaration)
    {
        var payload = new Dictionary<string, object>
        {
            ["target_hour"] = JsonPath.StringAt("$.target.target_hour"),
            ["specs"] = AggregationSpec.ToJson(declaration.Aggregations),
            ["rejected_threshold"] = declaration.RejectedThreshold,
        };
        if (!declaration.Source.IsSeed) payload["source"] = declaration.Source.ToJson();
        return payload;
    }

    /// <summary>Deletes the hour's lease if this execution holds it; a lease that another took after it expired stays.</summary>
    private DynamoDeleteItem ReleaseLease(string id, IChainable next)
    {
        var release = new DynamoDeleteItem(this, id, new DynamoDeleteItemProps
        {
            Table = Leases,
            Key = new Dictionary<string, DynamoAttributeValue> { [LeaseKey] = DynamoAttributeValue.FromString(JsonPath.StringAt("$.target.target_hour")) },
            ConditionExpression = "#holder = :me",
            ExpressionAttributeNames = new Dictionary<string, string> { ["#holder"] = LeaseHolder },
            ExpressionAttributeValues = new Dictionary<string, DynamoAttributeValue> { [":me"] = DynamoAttributeValue.FromString(JsonPath.ExecutionId) },
            ResultPath = JsonPath.DISCARD,
        });
        release.AddRetry(DynamoDbRetry());
        // The hour is done either way; a lease left behind expires at its time.
        release.AddCatch(next, new CatchProps { Errors = ["States.ALL"], ResultPath = "$.release_error" });
        release.Next(next);
        return release;
    }

    private static RetryProps LambdaServiceRetry() => new()
    {
        Errors = LambdaServiceErrors,
        Interval = Duration.Seconds(2),
        BackoffRate = 2,
        JitterStrategy = JitterType.FULL,
        MaxAttempts = 6,
    };

    private static RetryProps DynamoDbRetry() => new()
    {
        Errors = DynamoDbTransientErrors,
        Interval = Duration.Seconds(1),
        BackoffRate = 2,
        JitterStrategy = JitterType.FULL,
        MaxAttempts = 5,
    };

    private CfnSchedule BuildSchedule(DeploymentSettings settings)
    {
        var deadLetters = new SqsQueue(this, "ScheduleDeadLetters", new SqsQueueProps
        {
            Encryption = QueueEncryption.SQS_MANAGED,
            EnforceSSL = true,
            RetentionPeriod = Duration.Days(14),
        });
        NagAcknowledgements.Add(deadLetters,
            ("AwsSolutions-SQS3", "This queue is the schedule's dead-letter queue (Target.DeadLetterConfig of the Scheduler schedule), which cdk-nag's rule does not see; a dead-letter queue of its own would have nothing to catch."));
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
            State = settings.ScheduleEnabled ? "ENABLED" : "DISABLED",
            Target = new CfnSchedule.TargetProperty
            {
                Arn = StateMachine.StateMachineArn,
                RoleArn = role.RoleArn,
                Input = WorkflowContract.SchedulerInput,
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
            EventPattern = new EventPattern { Source = [WorkflowContract.Events.Source], DetailType = [WorkflowContract.Events.FailedDetailType] },
            Targets = [new SnsTopic(topic)],
        });
        new CfnOutput(this, "AlertTopicArn", new CfnOutputProps { Value = topic.TopicArn, Description = "SNS topic of failure alerts (subscribe to it)." });
    }

    /// <summary>
    /// As the seed does, one execution for the demo data's hour when the stack is created; unlike the seed, the deployment
    /// waits for it (<c>src/Tally.Aws.Cdk/DemoRun/index.js</c>, through CDK's custom resource provider) and fails, naming
    /// the run's error and cause, when it does not succeed.
    /// </summary>
    private void BuildDemoRun(DeploymentSettings settings)
    {
        var logs = new LogGroup(this, "DemoRunLogs", new LogGroupProps { Retention = RetentionDays.ONE_MONTH, RemovalPolicy = RemovalPolicy.DESTROY });
        var role = new Role(this, "DemoRunRole", new RoleProps
        {
            AssumedBy = new ServicePrincipal("lambda.amazonaws.com"),
            Description = "Tally's deploy-time demo run: starts the state machine for the demo hour and reads that execution's status.",
        });
        logs.GrantWrite(role);
        role.AddToPolicy(new PolicyStatement(new PolicyStatementProps { Actions = ["states:StartExecution"], Resources = [StateMachine.StateMachineArn] }));
        role.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["states:DescribeExecution"],
            Resources = [Arn.Format(new ArnComponents
            {
                Service = "states", Resource = "execution", ArnFormat = ArnFormat.COLON_RESOURCE_NAME,
                ResourceName = $"{StateMachine.StateMachineName}:{DemoData.ExecutionName}",
            }, this)],
        }));
        var function = new Function(this, "DemoRunFunction", new FunctionProps
        {
            Description = "Tally: runs the pipeline once for the demo hour at deployment and reports how the run ended.",
            Runtime = NodeHelperRuntime.NodeRuntime,
            Handler = "index.handler",
            Code = Code.FromAsset(Path.Combine(settings.RepositoryRoot, DemoRunFolder)),
            Timeout = Duration.Minutes(14),
            MemorySize = 128,
            Role = role,
            LogGroup = logs,
        });
        NagAcknowledgements.Add(function, NodeLatestRuntime);

        var providerLogs = new LogGroup(this, "DemoRunProviderLogs", new LogGroupProps { Retention = RetentionDays.ONE_MONTH, RemovalPolicy = RemovalPolicy.DESTROY });
        var provider = new Provider(this, "DemoRunProvider", new ProviderProps { OnEventHandler = function, LogGroup = providerLogs });
        var framework = provider.Node.TryFindChild("framework-onEvent")!;
        NagAcknowledgements.Add(framework, NodeLatestRuntime);
        NagAcknowledgements.Add(framework.Node.TryFindChild("ServiceRole")!,
            ("AwsSolutions-IAM4", "CDK's custom resource provider framework gives its function AWSLambdaBasicExecutionRole (write its logs); CDK builds that role."));
        NagAcknowledgements.Add(framework.Node.TryFindChild("ServiceRole")!.Node.TryFindChild("DefaultPolicy")!,
            ("AwsSolutions-IAM5", "CDK's provider framework may invoke the demo-run function and its versions (':*'); CDK builds this policy."));

        new CustomResource(this, "DemoHourRun", new CustomResourceProps
        {
            ServiceToken = provider.ServiceToken,
            ResourceType = "Custom::TallyDemoRun",
            Properties = new Dictionary<string, object>
            {
                ["StateMachineArn"] = StateMachine.StateMachineArn,
                ["ExecutionName"] = DemoData.ExecutionName,
                ["Input"] = DemoData.WorkflowInput,
            },
        });
    }

    /// <summary>The demo run's Node.js handler, relative to the repository root.</summary>
    public static readonly string DemoRunFolder = Path.Combine("src", "Tally.Aws.Cdk", "DemoRun");

    /// <summary>cdk-nag's L1 wants the newest Node.js runtime; the helper functions stay on the one verified to run them.</summary>
    internal static readonly (string, string) NodeLatestRuntime = ("AwsSolutions-L1",
        $"Runs on {NodeHelperRuntime.Runtime}, which Lambda supports until 2027-04-30 and on which CDK 2.160's handlers are known to run; the template tests fail once it is deprecated.");
}
