using System.Text.Json;
using Amazon.CDK.Assertions;

namespace Tally.Aws.Cdk.Tests;

[Collection(SynthesizedAppCollection.Name)]
public class OrchestrationStackTests(SynthesizedApp app)
{
    /// <summary>The state machine's definition (Amazon States Language), with resource references as <c>${TOKEN}</c>.</summary>
    internal static JsonElement Definition(Template template)
    {
        var machine = TemplateJson.Single(template, "AWS::StepFunctions::StateMachine");
        return JsonDocument.Parse(TemplateJson.Flatten(machine.GetProperty("Properties").GetProperty("DefinitionString"))).RootElement.Clone();
    }

    private JsonElement States => Definition(app.Orchestration).GetProperty("States");

    private JsonElement State(string name) => States.GetProperty(name);

    [Fact]
    public void StateMachine_HasExactlyTheDesignStates()
    {
        Assert.Equal("ComputeTargetHour", Definition(app.Orchestration).GetProperty("StartAt").GetString());
        Assert.Equal(
            ["AggregateHour", "ComputeTargetHour", "Failed", "FormatFailure", "PublishFailureEvent", "Succeeded"],
            States.EnumerateObject().Select(s => s.Name).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("ComputeTargetHour", "Task", "AggregateHour")]
    [InlineData("AggregateHour", "Task", "Succeeded")]
    [InlineData("FormatFailure", "Pass", "PublishFailureEvent")]
    [InlineData("PublishFailureEvent", "Task", "Failed")]
    public void StateMachine_TransitionsAsDesigned(string state, string type, string next)
    {
        Assert.Equal(type, State(state).GetProperty("Type").GetString());
        Assert.Equal(next, State(state).GetProperty("Next").GetString());
    }

    [Fact]
    public void StateMachine_EndsInSucceedOrFail()
    {
        Assert.Equal("Succeed", State("Succeeded").GetProperty("Type").GetString());
        Assert.Equal("Fail", State("Failed").GetProperty("Type").GetString());
        Assert.Equal("AggregationFailed", State("Failed").GetProperty("Error").GetString());
    }

    [Theory]
    [InlineData("ComputeTargetHour")]
    [InlineData("AggregateHour")]
    public void StateMachine_CatchesEveryErrorOfTheWork_IntoFormatFailure(string state)
    {
        var catcher = Assert.Single(State(state).GetProperty("Catch").EnumerateArray());

        Assert.Equal(["States.ALL"], catcher.GetProperty("ErrorEquals").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("FormatFailure", catcher.GetProperty("Next").GetString());
        Assert.Equal("$.error", catcher.GetProperty("ResultPath").GetString());
    }

    [Fact]
    public void ComputeTargetHour_InvokesTheLambdaWithTheInput_AndKeepsItsTargetHour()
    {
        var state = State("ComputeTargetHour");

        Assert.Equal("arn:${TOKEN}:states:::lambda:invoke", state.GetProperty("Resource").GetString());
        Assert.Equal("$", state.GetProperty("Parameters").GetProperty("Payload.$").GetString());
        Assert.Equal("$.Payload.target_hour", state.GetProperty("ResultSelector").GetProperty("target_hour.$").GetString());
        Assert.Equal("$.target", state.GetProperty("ResultPath").GetString());
    }

    [Fact]
    public void AggregateHour_RunsTheGlueJobAndWaits_WithTheTargetHourArgument()
    {
        var state = State("AggregateHour");

        Assert.Equal("arn:${TOKEN}:states:::glue:startJobRun.sync", state.GetProperty("Resource").GetString());
        Assert.Equal("${TOKEN}", state.GetProperty("Parameters").GetProperty("JobName").GetString());
        Assert.Equal("$.target.target_hour", state.GetProperty("Parameters").GetProperty("Arguments").GetProperty("--target_hour.$").GetString());
    }

    [Fact]
    public void AggregateHour_RetriesTransientGlueErrors_ThenAFailedRunOnce()
    {
        var retries = State("AggregateHour").GetProperty("Retry").EnumerateArray().ToList();
        var transient = retries.Single(r => Errors(r).Contains("Glue.ConcurrentRunsExceededException"));
        var failedRun = retries.Single(r => Errors(r).Contains("States.TaskFailed"));

        Assert.Contains("Glue.ThrottlingException", Errors(transient));
        Assert.True(transient.GetProperty("MaxAttempts").Int() >= 3);
        Assert.Equal(2, transient.GetProperty("BackoffRate").GetDouble());
        Assert.Equal(1, failedRun.GetProperty("MaxAttempts").Int());
        Assert.True(retries.IndexOf(transient) < retries.IndexOf(failedRun), "Glue API errors must match before the generic task failure.");
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
        Assert.Equal(OrchestrationStack.EventSource, entry.GetProperty("Source").GetString());
        Assert.Equal(OrchestrationStack.FailureDetailType, entry.GetProperty("DetailType").GetString());
        Assert.Equal("$.failure", entry.GetProperty("Detail.$").GetString());
        Assert.Equal("Failed", Assert.Single(state.GetProperty("Catch").EnumerateArray()).GetProperty("Next").GetString());
    }

    [Fact]
    public void StateMachine_LogsEverythingToALogGroupWithRetention()
    {
        app.Orchestration.HasResourceProperties("AWS::StepFunctions::StateMachine", new Dictionary<string, object>
        {
            ["StateMachineType"] = "STANDARD",
            ["LoggingConfiguration"] = Match.ObjectLike(new Dictionary<string, object> { ["Level"] = "ALL", ["IncludeExecutionData"] = true }),
        });
        app.Orchestration.ResourceCountIs("AWS::Logs::LogGroup", 2);
        app.Orchestration.AllResourcesProperties("AWS::Logs::LogGroup", new Dictionary<string, object> { ["RetentionInDays"] = 30 });
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
        Assert.Equal(OrchestrationStack.EventSource, rule.GetProperty("EventPattern").GetProperty("source")[0].GetString());
        Assert.Equal(OrchestrationStack.FailureDetailType, rule.GetProperty("EventPattern").GetProperty("detail-type")[0].GetString());
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

    [Fact]
    public void DemoExecution_StartsTheStateMachineOnce_ForTheDemoDataHour()
    {
        var create = TemplateJson.Flatten(TemplateJson.Single(app.Orchestration, "Custom::AWS").GetProperty("Properties").GetProperty("Create"));
        using var call = JsonDocument.Parse(create.Replace("${TOKEN}", "arn", StringComparison.Ordinal));
        var parameters = call.RootElement.GetProperty("parameters");

        Assert.Equal("StepFunctions", call.RootElement.GetProperty("service").GetString());
        Assert.Equal("startExecution", call.RootElement.GetProperty("action").GetString());
        Assert.Equal("demo-hour-2026-11-24T13", parameters.GetProperty("name").GetString());
        Assert.Equal(DemoData.Hour, HourWindow.FromWorkflowInput(parameters.GetProperty("input").GetString()!));
        Assert.False(TemplateJson.Single(app.Orchestration, "Custom::AWS").GetProperty("Properties").TryGetProperty("Update", out _));
    }

    [Fact]
    public void Outputs_NameTheStateMachineAndTheEventBus()
    {
        app.Orchestration.HasOutput("StateMachineName", new Dictionary<string, object> { ["Value"] = new Dictionary<string, object> { ["Fn::GetAtt"] = Match.ArrayWith(new object[] { "Name" }) } });
        app.Orchestration.HasOutput("EventBusName", new Dictionary<string, object> { ["Value"] = new Dictionary<string, object> { ["Ref"] = Match.StringLikeRegexp("^Events") } });
        app.Orchestration.HasOutput("StateMachineArn", new Dictionary<string, object>());
    }

    private static List<string> Errors(JsonElement retry) => [.. retry.GetProperty("ErrorEquals").EnumerateArray().Select(e => e.GetString()!)];
}
