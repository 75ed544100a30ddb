using System.Text.Json;
using Amazon.CDK.Assertions;

namespace Tally.Aws.Cdk.Tests;

[Collection(SynthesizedAppCollection.Name)]
public class OrchestrationStackTests(SynthesizedApp app)
{
    /// <summary>The state machine's definition (Amazon States Language), with resource references as <c>${TOKEN}</c>.</summary>
    internal static JsonElement Definition(Template template)
    {
        var machine = TemplateJson.Resources(template, "AWS::StepFunctions::StateMachine").Single(m => m.Id.StartsWith("Pipeline", StringComparison.Ordinal)).Resource;
        return JsonDocument.Parse(TemplateJson.Flatten(machine.GetProperty("Properties").GetProperty("DefinitionString"))).RootElement.Clone();
    }

    private JsonElement States => Definition(app.Orchestration).GetProperty("States");

    private JsonElement State(string name) => States.GetProperty(name);

    [Fact]
    public void StateMachine_HasTheDesignStates_WithTheLeaseAndTheEngineChoice()
    {
        Assert.Equal("ComputeTargetHour", Definition(app.Orchestration).GetProperty("StartAt").GetString());
        Assert.Equal(
            [
                "AcquireLease", "AggregateHour", "AggregateHourOnGlue", "CheckRun", "ChooseEngine", "ComputeTargetHour", "Failed", "FormatFailure",
                "HeldTheLease", "HourAlreadyRunning", "PublishFailureEvent", "ReleaseLease", "ReleaseLeaseAfterFailure", "RunError", "Succeeded",
            ],
            States.EnumerateObject().Select(s => s.Name).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("ComputeTargetHour", "Task", "AcquireLease")]
    [InlineData("AcquireLease", "Task", "ChooseEngine")]
    [InlineData("AggregateHour", "Task", "CheckRun")]
    [InlineData("AggregateHourOnGlue", "Task", "ReleaseLease")]
    [InlineData("RunError", "Pass", "FormatFailure")]
    [InlineData("ReleaseLease", "Task", "Succeeded")]
    [InlineData("FormatFailure", "Pass", "PublishFailureEvent")]
    [InlineData("PublishFailureEvent", "Task", "HeldTheLease")]
    [InlineData("ReleaseLeaseAfterFailure", "Task", "Failed")]
    public void StateMachine_TransitionsAsDesigned(string state, string type, string next)
    {
        Assert.Equal(type, State(state).GetProperty("Type").GetString());
        Assert.Equal(next, State(state).GetProperty("Next").GetString());
    }

    [Fact]
    public void StateMachine_EndsInSucceedOrFail()
    {
        Assert.Equal("Succeed", State("Succeeded").GetProperty("Type").GetString());
        Assert.Equal("Succeed", State("HourAlreadyRunning").GetProperty("Type").GetString());
        Assert.Equal("Fail", State("Failed").GetProperty("Type").GetString());
        Assert.Equal("AggregationFailed", State("Failed").GetProperty("Error").GetString());
    }

    [Theory]
    [InlineData("ComputeTargetHour")]
    [InlineData("AggregateHour")]
    [InlineData("AggregateHourOnGlue")]
    public void StateMachine_CatchesEveryErrorOfTheWork_IntoFormatFailure(string state)
    {
        var catcher = Assert.Single(State(state).GetProperty("Catch").EnumerateArray());

        Assert.Equal(["States.ALL"], Errors(catcher));
        Assert.Equal("FormatFailure", catcher.GetProperty("Next").GetString());
        Assert.Equal("$.error", catcher.GetProperty("ResultPath").GetString());
    }

    [Fact]
    public void ComputeTargetHour_InvokesTheLambdaWithTheInput_AndKeepsTheHourItsSizeAndTheLeaseTimes()
    {
        var state = State("ComputeTargetHour");
        var selector = state.GetProperty("ResultSelector");

        Assert.Equal("arn:${TOKEN}:states:::lambda:invoke", state.GetProperty("Resource").GetString());
        Assert.Equal("$", state.GetProperty("Parameters").GetProperty("Payload.$").GetString());
        Assert.Equal(
            [("lease_expires.$", "$.Payload.lease_expires"), ("lease_now.$", "$.Payload.lease_now"), ("raw_bytes.$", "$.Payload.raw_bytes"),
             ("raw_files.$", "$.Payload.raw_files"), ("target_hour.$", "$.Payload.target_hour")],
            selector.EnumerateObject().Select(p => (p.Name, p.Value.GetString())).OrderBy(p => p.Name, StringComparer.Ordinal));
        Assert.Equal("$.target", state.GetProperty("ResultPath").GetString());
    }

    /// <summary>Hours above the threshold (4 GB of raw input by default) go to Glue; the others to Tally's engine in Lambda.</summary>
    [Fact]
    public void ChooseEngine_SendsHoursAboveFourGigabytesToGlue_AndTheOthersToTheFunction()
    {
        var state = State("ChooseEngine");
        var choice = Assert.Single(state.GetProperty("Choices").EnumerateArray());

        Assert.Equal("Choice", state.GetProperty("Type").GetString());
        Assert.Equal("$.target.raw_bytes", choice.GetProperty("Variable").GetString());
        Assert.Equal(4_000_000_000, choice.GetProperty("NumericGreaterThan").GetDouble());
        Assert.Equal("AggregateHourOnGlue", choice.GetProperty("Next").GetString());
        Assert.Equal("AggregateHour", state.GetProperty("Default").GetString());
    }

    [Fact]
    public void AggregateHour_InvokesTheEngineFunction_WithTheHourAndTheDeclarationTheGlueJobGets()
    {
        var state = State("AggregateHour");
        var payload = state.GetProperty("Parameters").GetProperty("Payload");
        var glueArguments = TemplateJson.Single(app.Etl, "AWS::Glue::Job").GetProperty("Properties").GetProperty("DefaultArguments");

        Assert.Equal("arn:${TOKEN}:states:::lambda:invoke", state.GetProperty("Resource").GetString());
        Assert.Equal(["rejected_threshold", "specs", "target_hour.$"], payload.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("$.target.target_hour", payload.GetProperty("target_hour.$").GetString());
        Assert.Equal("""[{"table":"hits_by_country","groupBy":["CountryCode"],"format":"parquet"},{"table":"hits_by_domain_and_groupid","groupBy":["Domain","GroupID"],"format":"json"},{"table":"hits_by_useragent","groupBy":["UserAgent"],"format":"parquet"}]""",
            payload.GetProperty("specs").GetString());
        Assert.Equal(glueArguments.GetProperty("--specs").GetString(), payload.GetProperty("specs").GetString());
        Assert.Equal(0.01, payload.GetProperty("rejected_threshold").GetDouble());
        Assert.Equal(glueArguments.GetProperty("--max_rejected_share").GetString(), payload.GetProperty("rejected_threshold").GetDouble().ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("$.Payload", state.GetProperty("ResultSelector").GetProperty("report.$").GetString());
        Assert.Equal("$.aggregate", state.GetProperty("ResultPath").GetString());
        var machine = TemplateJson.Single(app.Orchestration, "AWS::StepFunctions::StateMachine").GetProperty("Properties").GetProperty("DefinitionString").GetRawText();
        Assert.Matches("TallyEtl:ExportsOutputFnGetAttAggregateHourFunction[0-9A-F]+Arn", machine);
    }

    /// <summary>The function answers a failed run with its error name and cause (it does not throw): they become the Error and Cause a Catch passes on.</summary>
    [Fact]
    public void CheckRun_TurnsTheFunctionsFailedAnswer_IntoTheErrorAndCauseOfFormatFailure()
    {
        var check = State("CheckRun");
        var failed = Assert.Single(check.GetProperty("Choices").EnumerateArray());
        var parameters = State("RunError").GetProperty("Parameters");

        Assert.Equal("$.aggregate.report.status", failed.GetProperty("Variable").GetString());
        Assert.Equal("failed", failed.GetProperty("StringEquals").GetString());
        Assert.Equal("RunError", failed.GetProperty("Next").GetString());
        Assert.Equal("ReleaseLease", check.GetProperty("Default").GetString());
        Assert.Equal([("Cause.$", "$.aggregate.report.error"), ("Error.$", "$.aggregate.report.error_name")],
            parameters.EnumerateObject().Select(p => (p.Name, p.Value.GetString())).OrderBy(p => p.Name, StringComparer.Ordinal));
        Assert.Equal("$.error", State("RunError").GetProperty("ResultPath").GetString());
    }

    [Fact]
    public void AggregateHourOnGlue_RunsTheGlueJobAndWaits_WithTheTargetHourArgument()
    {
        var state = State("AggregateHourOnGlue");

        Assert.Equal("arn:${TOKEN}:states:::glue:startJobRun.sync", state.GetProperty("Resource").GetString());
        Assert.Equal("${TOKEN}", state.GetProperty("Parameters").GetProperty("JobName").GetString());
        Assert.Equal("$.target.target_hour", state.GetProperty("Parameters").GetProperty("Arguments").GetProperty("--target_hour.$").GetString());
    }

    /// <summary>
    /// Only refusals to start are retried: no free run slot (a backfill's other hours), with up to about 45 minutes of
    /// jittered waits, and the Glue API's throttling and internal errors. A run that failed (States.TaskFailed: a data error
    /// or a bug) is not retried: a second paid run, and a later alert.
    /// </summary>
    [Fact]
    public void AggregateHourOnGlue_RetriesOnlyTheGlueApisTransientErrors_NeverAFailedRun()
    {
        var retries = State("AggregateHourOnGlue").GetProperty("Retry").EnumerateArray().ToList();

        Assert.Equal(2, retries.Count);
        Assert.Equal(["Glue.ConcurrentRunsExceededException"], Errors(retries[0]));
        Assert.Equal((60, 1.5, 300, 12, "FULL"), (retries[0].GetProperty("IntervalSeconds").Int(), retries[0].GetProperty("BackoffRate").GetDouble(),
            retries[0].GetProperty("MaxDelaySeconds").Int(), retries[0].GetProperty("MaxAttempts").Int(), retries[0].GetProperty("JitterStrategy").GetString()));
        Assert.Equal(["Glue.ThrottlingException", "Glue.InternalServiceException", "Glue.OperationTimeoutException"], Errors(retries[1]));
        Assert.Equal(5, retries[1].GetProperty("MaxAttempts").Int());
    }

    [Theory]
    [InlineData("ComputeTargetHour")]
    [InlineData("AggregateHour")]
    public void LambdaSteps_RetryOnlyTheLambdaServicesOwnErrors(string state)
    {
        var retry = Assert.Single(State(state).GetProperty("Retry").EnumerateArray());

        Assert.Equal(
            ["Lambda.ClientExecutionTimeoutException", "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"],
            Errors(retry));
        Assert.Equal((2, 2.0, 6), (retry.GetProperty("IntervalSeconds").Int(), retry.GetProperty("BackoffRate").GetDouble(), retry.GetProperty("MaxAttempts").Int()));
    }

    /// <summary>
    /// No step of the work retries every error or a failed task; only the publishing of the failure event (the failure
    /// path's one report, harmless to repeat) retries whatever failed.
    /// </summary>
    [Fact]
    public void NoStepOfTheWork_RetriesEveryErrorOrAFailedTask()
    {
        var retried = States.EnumerateObject()
            .Where(s => s.Value.TryGetProperty("Retry", out _))
            .SelectMany(s => s.Value.GetProperty("Retry").EnumerateArray().SelectMany(Errors).Select(e => (State: s.Name, Error: e)))
            .Where(r => r.Error.StartsWith("States.", StringComparison.Ordinal))
            .ToList();

        Assert.Equal([("PublishFailureEvent", "States.ALL")], retried);
    }

    [Fact]
    public void LeaseTable_IsKeyedByHour_AndExpiresItemsByTheirExpiry()
    {
        var table = TemplateJson.Single(app.Orchestration, "AWS::DynamoDB::Table");
        var properties = table.GetProperty("Properties");

        Assert.Equal("hour", Assert.Single(properties.GetProperty("KeySchema").EnumerateArray()).GetProperty("AttributeName").GetString());
        Assert.Equal("S", Assert.Single(properties.GetProperty("AttributeDefinitions").EnumerateArray()).GetProperty("AttributeType").GetString());
        Assert.Equal("PAY_PER_REQUEST", properties.GetProperty("BillingMode").GetString());
        Assert.Equal("expires_at", properties.GetProperty("TimeToLiveSpecification").GetProperty("AttributeName").GetString());
        Assert.True(properties.GetProperty("TimeToLiveSpecification").GetProperty("Enabled").GetBoolean());
        Assert.True(properties.GetProperty("PointInTimeRecoverySpecification").GetProperty("PointInTimeRecoveryEnabled").GetBoolean());
        Assert.Equal("Delete", table.GetProperty("DeletionPolicy").GetString());
    }

    /// <summary>
    /// One execution per hour at a time, across executions: the lease is a conditional put of the hour's item, which only
    /// succeeds when no live lease holds the hour. A duplicate schedule delivery (or a rerun while the hour runs) ends in
    /// HourAlreadyRunning without aggregating; other hours' executions run at once.
    /// </summary>
    [Fact]
    public void AcquireLease_PutsTheHoursItem_OnlyWhenNoLiveLeaseHoldsIt_ElseEndsInHourAlreadyRunning()
    {
        var state = State("AcquireLease");
        var parameters = state.GetProperty("Parameters");
        var item = parameters.GetProperty("Item");
        var catches = state.GetProperty("Catch").EnumerateArray().ToList();

        Assert.Equal("arn:${TOKEN}:states:::dynamodb:putItem", state.GetProperty("Resource").GetString());
        Assert.Equal("$.target.target_hour", item.GetProperty("hour").GetProperty("S.$").GetString());
        Assert.Equal("$$.Execution.Id", item.GetProperty("execution").GetProperty("S.$").GetString());
        Assert.Equal("$.target.lease_expires", item.GetProperty("expires_at").GetProperty("N.$").GetString());
        Assert.Equal("attribute_not_exists(#hour) OR #expires < :now", parameters.GetProperty("ConditionExpression").GetString());
        Assert.Equal("hour", parameters.GetProperty("ExpressionAttributeNames").GetProperty("#hour").GetString());
        Assert.Equal("expires_at", parameters.GetProperty("ExpressionAttributeNames").GetProperty("#expires").GetString());
        Assert.Equal("$.target.lease_now", parameters.GetProperty("ExpressionAttributeValues").GetProperty(":now").GetProperty("N.$").GetString());
        Assert.Equal(2, catches.Count);
        Assert.Equal(["DynamoDB.ConditionalCheckFailedException"], Errors(catches[0]));
        Assert.Equal("HourAlreadyRunning", catches[0].GetProperty("Next").GetString());
        Assert.Equal(["States.ALL"], Errors(catches[1]));
        Assert.Equal("FormatFailure", catches[1].GetProperty("Next").GetString());
        Assert.Equal("AggregateHour", State("ChooseEngine").GetProperty("Default").GetString());
    }

    [Theory]
    [InlineData("ReleaseLease", "Succeeded")]
    [InlineData("ReleaseLeaseAfterFailure", "Failed")]
    public void ReleaseLease_DeletesTheHoursItem_OnlyIfThisExecutionHoldsIt(string name, string next)
    {
        var state = State(name);
        var parameters = state.GetProperty("Parameters");
        var catcher = Assert.Single(state.GetProperty("Catch").EnumerateArray());

        Assert.Equal("arn:${TOKEN}:states:::dynamodb:deleteItem", state.GetProperty("Resource").GetString());
        Assert.Equal("$.target.target_hour", parameters.GetProperty("Key").GetProperty("hour").GetProperty("S.$").GetString());
        Assert.Equal("#holder = :me", parameters.GetProperty("ConditionExpression").GetString());
        Assert.Equal("execution", parameters.GetProperty("ExpressionAttributeNames").GetProperty("#holder").GetString());
        Assert.Equal("$$.Execution.Id", parameters.GetProperty("ExpressionAttributeValues").GetProperty(":me").GetProperty("S.$").GetString());
        Assert.Equal(["States.ALL"], Errors(catcher));
        Assert.Equal(next, catcher.GetProperty("Next").GetString());
    }

    [Fact]
    public void FailurePath_ReleasesTheLease_OnlyOfAnExecutionThatKnewItsHour()
    {
        var held = State("HeldTheLease");
        var choice = Assert.Single(held.GetProperty("Choices").EnumerateArray());

        Assert.Equal("$.target.lease_expires", choice.GetProperty("Variable").GetString());
        Assert.True(choice.GetProperty("IsPresent").GetBoolean());
        Assert.Equal("ReleaseLeaseAfterFailure", choice.GetProperty("Next").GetString());
        Assert.Equal("Failed", held.GetProperty("Default").GetString());
        Assert.Equal("HeldTheLease", Assert.Single(State("PublishFailureEvent").GetProperty("Catch").EnumerateArray()).GetProperty("Next").GetString());
    }

    /// <summary>A lease outlives its execution only if that execution timed out or was aborted, and then by at most the execution's timeout.</summary>
    [Fact]
    public void Lease_LastsAsLongAsTheStateMachinesTimeout()
    {
        var variables = TemplateJson.Resources(app.Orchestration, "AWS::Lambda::Function")
            .Single(f => f.Id.StartsWith("ComputeTargetHourFunction", StringComparison.Ordinal)).Resource
            .GetProperty("Properties").GetProperty("Environment").GetProperty("Variables");

        Assert.Equal(9000, Definition(app.Orchestration).GetProperty("TimeoutSeconds").Int());
        Assert.Equal("9000", variables.GetProperty("TALLY_LEASE_SECONDS").GetString());
        Assert.Equal("s3://${TOKEN}", TemplateJson.Flatten(variables.GetProperty("TALLY_DATA")));
    }

    [Fact]
    public void StateMachineRole_MayPutAndDeleteOnlyTheLeaseTablesItems()
    {
        var actions = TemplateJson.Resources(app.Orchestration, "AWS::IAM::Policy")
            .SelectMany(p => p.Resource.GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray())
            .Where(s => EtlStackTests.Actions(s).Any(a => a.StartsWith("dynamodb:", StringComparison.Ordinal)))
            .ToList();
        var tableId = Assert.Single(TemplateJson.Resources(app.Orchestration, "AWS::DynamoDB::Table")).Id;

        Assert.Equal(["dynamodb:DeleteItem", "dynamodb:PutItem"], actions.SelectMany(EtlStackTests.Actions).Order(StringComparer.Ordinal));
        Assert.All(actions, s => Assert.Equal($"arn:${{TOKEN}}:dynamodb:${{TOKEN}}:${{TOKEN}}:table/${{TOKEN}}", TemplateJson.Flatten(s.GetProperty("Resource"))));
        Assert.All(actions, s => Assert.Contains($"{{\"Ref\":\"{tableId}\"}}", s.GetProperty("Resource").GetRawText().Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal));
    }

    [Fact]
    public void FormatFailure_BuildsTheEventDetail_FromTheErrorAndTheExecution()
    {
        var parameters = State("FormatFailure").GetProperty("Parameters");

        Assert.Equal("$.error.Error", parameters.GetProperty("error.$").GetString());
        Assert.Equal("$.error.Cause", parameters.GetProperty("cause.$").GetString());
        Assert.Equal("$$.Execution.Id", parameters.GetProperty("execution.$").GetString());
        Assert.Equal("$$.Execution.Input", parameters.GetProperty("input.$").GetString());
        Assert.Equal("$.failure", State("FormatFailure").GetProperty("ResultPath").GetString());
    }

    [Fact]
    public void PublishFailureEvent_PutsTheDetailOnTheCustomBus()
    {
        var state = State("PublishFailureEvent");
        var entry = Assert.Single(state.GetProperty("Parameters").GetProperty("Entries").EnumerateArray());

        Assert.Equal("arn:${TOKEN}:states:::events:putEvents", state.GetProperty("Resource").GetString());
        Assert.Equal("${TOKEN}", entry.GetProperty("EventBusName").GetString());
        Assert.Equal("tally.pipeline", entry.GetProperty("Source").GetString());
        Assert.Equal("Tally aggregation failed", entry.GetProperty("DetailType").GetString());
        Assert.Equal("$.failure", entry.GetProperty("Detail.$").GetString());
    }

    /// <summary>Step Functions delivers logs through CloudWatch Logs' vended logs, whose resource policy covers /aws/vendedlogs/ (a group elsewhere may not receive them).</summary>
    [Fact]
    public void StateMachine_LogsEverythingToAVendedLogsGroupKeptAMonth_AndIsTraced()
    {
        app.Orchestration.HasResourceProperties("AWS::StepFunctions::StateMachine", new Dictionary<string, object>
        {
            ["StateMachineType"] = "STANDARD",
            ["LoggingConfiguration"] = Match.ObjectLike(new Dictionary<string, object> { ["Level"] = "ALL", ["IncludeExecutionData"] = true }),
            ["TracingConfiguration"] = new Dictionary<string, object> { ["Enabled"] = true },
        });
        var machine = TemplateJson.Single(app.Orchestration, "AWS::StepFunctions::StateMachine").GetProperty("Properties");
        var groupId = machine.GetProperty("LoggingConfiguration").GetProperty("Destinations")[0].GetProperty("CloudWatchLogsLogGroup")
            .GetProperty("LogGroupArn").GetProperty("Fn::GetAtt")[0].GetString();
        var group = TemplateJson.Resources(app.Orchestration, "AWS::Logs::LogGroup").Single(g => g.Id == groupId).Resource.GetProperty("Properties");

        Assert.Equal("/aws/vendedlogs/states/TallyOrchestration-pipeline", group.GetProperty("LogGroupName").GetString());
        Assert.Equal(30, group.GetProperty("RetentionInDays").Int());
    }

    [Fact]
    public void Function_RunsTheCSharpHandlerOnDotnet10()
    {
        app.Orchestration.HasResourceProperties("AWS::Lambda::Function", new Dictionary<string, object>
        {
            ["Runtime"] = "dotnet10",
            ["Handler"] = "Tally.Aws.Lambda::Tally.Aws.Lambda.Function::Handler",
            ["Architectures"] = new[] { "arm64" },
            ["LoggingConfig"] = Match.ObjectLike(new Dictionary<string, object> { ["LogGroup"] = Match.AnyValue() }),
        });
    }

    [Fact]
    public void ComputeTargetHourRole_MayOnlyListTheRawDataPrefix()
    {
        var role = TemplateJson.Resources(app.Orchestration, "AWS::IAM::Role").Single(r => r.Id.StartsWith("ComputeTargetHourRole", StringComparison.Ordinal));
        var statements = TemplateJson.Resources(app.Orchestration, "AWS::IAM::Policy")
            .Where(p => p.Resource.GetProperty("Properties").GetProperty("Roles")[0].GetProperty("Ref").GetString() == role.Id)
            .SelectMany(p => p.Resource.GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray())
            .ToList();
        var list = Assert.Single(statements, s => EtlStackTests.Actions(s).Any(a => a.StartsWith("s3:", StringComparison.Ordinal)));

        Assert.Equal(["s3:ListBucket"], EtlStackTests.Actions(list));
        Assert.Equal("raw_data/*", list.GetProperty("Condition").GetProperty("StringLike").GetProperty("s3:prefix")[0].GetString());
        Assert.Equal(["logs:CreateLogStream", "logs:PutLogEvents", "s3:ListBucket"], statements.SelectMany(EtlStackTests.Actions).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Schedule_StartsTheStateMachineHourlyInUtc_WithTheSeedsInput()
    {
        var properties = TemplateJson.Single(app.Orchestration, "AWS::Scheduler::Schedule").GetProperty("Properties");
        var target = properties.GetProperty("Target");
        using var input = JsonDocument.Parse(target.GetProperty("Input").GetString()!);

        Assert.Equal("cron(0 * * * ? *)", properties.GetProperty("ScheduleExpression").GetString());
        Assert.Equal("UTC", properties.GetProperty("ScheduleExpressionTimezone").GetString());
        Assert.Equal("OFF", properties.GetProperty("FlexibleTimeWindow").GetProperty("Mode").GetString());
        Assert.Equal("ENABLED", properties.GetProperty("State").GetString());
        Assert.StartsWith("Pipeline", target.GetProperty("Arn").GetProperty("Ref").GetString());
        Assert.Equal("<aws.scheduler.scheduled-time>", Assert.Single(input.RootElement.EnumerateObject(), p => p.Name == "target_datetime").Value.GetString());
        Assert.Single(input.RootElement.EnumerateObject());
        Assert.Equal("""{"target_datetime": "<aws.scheduler.scheduled-time>"}""", target.GetProperty("Input").GetString());
    }

    [Fact]
    public void Schedule_RetriesAndSendsUndeliverableRunsToADeadLetterQueue()
    {
        var target = TemplateJson.Single(app.Orchestration, "AWS::Scheduler::Schedule").GetProperty("Properties").GetProperty("Target");
        var queueId = Assert.Single(TemplateJson.Resources(app.Orchestration, "AWS::SQS::Queue")).Id;

        Assert.True(target.GetProperty("RetryPolicy").GetProperty("MaximumRetryAttempts").Int() > 0);
        Assert.Equal(3600, target.GetProperty("RetryPolicy").GetProperty("MaximumEventAgeInSeconds").Int());
        Assert.Equal(queueId, target.GetProperty("DeadLetterConfig").GetProperty("Arn").GetProperty("Fn::GetAtt")[0].GetString());
        app.Orchestration.HasResourceProperties("AWS::SQS::Queue", new Dictionary<string, object> { ["SqsManagedSseEnabled"] = true });
    }

    [Fact]
    public void ScheduleRole_MayOnlyStartThisStateMachine_AndSendToItsQueue()
    {
        var role = TemplateJson.Resources(app.Orchestration, "AWS::IAM::Role")
            .Single(r => r.Resource.GetProperty("Properties").GetProperty("AssumeRolePolicyDocument").GetRawText().Contains("scheduler.amazonaws.com", StringComparison.Ordinal));
        var policy = TemplateJson.Resources(app.Orchestration, "AWS::IAM::Policy")
            .Single(p => p.Resource.GetProperty("Properties").GetProperty("Roles")[0].GetProperty("Ref").GetString() == role.Id);
        var actions = policy.Resource.GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray()
            .SelectMany(EtlStackTests.Actions).Order(StringComparer.Ordinal);

        Assert.Equal(["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage", "states:StartExecution"], actions);
    }

    [Fact]
    public void FailureRule_SendsTheBussFailureEventsToTheAlertTopic()
    {
        var rule = TemplateJson.Single(app.Orchestration, "AWS::Events::Rule").GetProperty("Properties");
        var topicId = Assert.Single(TemplateJson.Resources(app.Orchestration, "AWS::SNS::Topic")).Id;

        Assert.StartsWith("Events", rule.GetProperty("EventBusName").GetProperty("Ref").GetString());
        Assert.Equal(
            [("detail-type", "Tally aggregation failed"), ("source", "tally.pipeline")],
            rule.GetProperty("EventPattern").EnumerateObject().Select(p => (p.Name, string.Join(" | ", p.Value.EnumerateArray().Select(v => v.GetString()))))
                .OrderBy(p => p.Name, StringComparer.Ordinal));
        Assert.Equal(topicId, Assert.Single(rule.GetProperty("Targets").EnumerateArray()).GetProperty("Arn").GetProperty("Ref").GetString());
    }

    [Fact]
    public void AlertTopic_HasAnEmailSubscription_WhenTheContextGivesAnAddress()
    {
        app.Orchestration.HasResourceProperties("AWS::SNS::Subscription", new Dictionary<string, object>
        {
            ["Protocol"] = "email",
            ["Endpoint"] = SynthesizedApp.AlertEmail,
        });
    }

    /// <summary>
    /// The demo run is a custom resource of the stack's creation whose handler (DemoRun/index.js, tested by node's test
    /// runner in .ci/aws-checks.sh) starts the execution and waits for its end: the deployment fails unless it succeeded.
    /// </summary>
    [Fact]
    public void DemoRun_StartsTheStateMachineForTheDemoHour_AndTheDeploymentWaitsForItsOutcome()
    {
        var resource = TemplateJson.Single(app.Orchestration, "Custom::TallyDemoRun").GetProperty("Properties");
        var provider = resource.GetProperty("ServiceToken").GetProperty("Fn::GetAtt")[0].GetString()!;
        var functions = TemplateJson.Resources(app.Orchestration, "AWS::Lambda::Function").ToDictionary(f => f.Id, f => f.Resource.GetProperty("Properties"));
        var handler = functions.Single(f => f.Key.StartsWith("DemoRunFunction", StringComparison.Ordinal)).Value;

        Assert.StartsWith("Pipeline", resource.GetProperty("StateMachineArn").GetProperty("Ref").GetString());
        Assert.Equal("demo-hour-2026-11-24T13", resource.GetProperty("ExecutionName").GetString());
        Assert.Equal("""{"target_datetime": "2026-11-24T14:00:00Z"}""", resource.GetProperty("Input").GetString());
        Assert.StartsWith("DemoRunProviderframeworkonEvent", provider, StringComparison.Ordinal);
        Assert.Equal("index.handler", handler.GetProperty("Handler").GetString());
        Assert.Equal(840, handler.GetProperty("Timeout").Int());
        Assert.Equal(900, functions[provider].GetProperty("Timeout").Int());
        app.Orchestration.ResourceCountIs("Custom::AWS", 0);
    }

    [Fact]
    public void Outputs_NameTheStateMachineTheEventBusAndTheLeaseTable()
    {
        app.Orchestration.HasOutput("StateMachineName", new Dictionary<string, object> { ["Value"] = new Dictionary<string, object> { ["Fn::GetAtt"] = Match.ArrayWith(new object[] { "Name" }) } });
        app.Orchestration.HasOutput("EventBusName", new Dictionary<string, object> { ["Value"] = new Dictionary<string, object> { ["Ref"] = Match.StringLikeRegexp("^Events") } });
        app.Orchestration.HasOutput("StateMachineArn", new Dictionary<string, object>());
        app.Orchestration.HasOutput("LeaseTableName", new Dictionary<string, object> { ["Value"] = new Dictionary<string, object> { ["Ref"] = Match.StringLikeRegexp("^HourLeases") } });
    }

    private static List<string> Errors(JsonElement retryOrCatch) => [.. retryOrCatch.GetProperty("ErrorEquals").EnumerateArray().Select(e => e.GetString()!)];
}
