using System.Text.Json;
using Amazon.CDK.Assertions;

namespace Tally.Aws.Cdk.Tests;

[Collection(SynthesizedAppCollection.Name)]
public class EtlStackTests(SynthesizedApp app)
{
    private JsonElement Job => TemplateJson.Single(app.Etl, "AWS::Glue::Job").GetProperty("Properties");

    private string Argument(string name) => TemplateJson.Flatten(Job.GetProperty("DefaultArguments").GetProperty(name));

    [Fact]
    public void Job_RunsTheGlueScriptOnGlue5Spark_WithTheConfiguredG1XWorkers()
    {
        app.Etl.HasResourceProperties("AWS::Glue::Job", new Dictionary<string, object>
        {
            ["GlueVersion"] = "5.0",
            ["WorkerType"] = "G.1X",
            ["NumberOfWorkers"] = SynthesizedApp.GlueWorkers,
            ["MaxRetries"] = 0,
            ["Command"] = new Dictionary<string, object> { ["Name"] = "glueetl", ["PythonVersion"] = "3" },
        });
        Assert.EndsWith(".py", TemplateJson.Flatten(Job.GetProperty("Command").GetProperty("ScriptLocation")));
    }

    [Fact]
    public void Job_WorkersDefaultToTwo_WhenContextDoesNotSayOtherwise()
    {
        var settings = DeploymentSettings.FromContext(new Amazon.CDK.App().Node);

        Assert.Equal(2, settings.GlueWorkers);
        Assert.Equal(60, settings.GlueTimeoutMinutes);
    }

    [Fact]
    public void Job_RunsOneAtATime_SoOneHourNeverRunsTwiceAtOnce()
    {
        Assert.Equal(1, Job.GetProperty("ExecutionProperty").GetProperty("MaxConcurrentRuns").Int());
    }

    [Fact]
    public void Job_SpecsArgument_IsTheCSharpDefaultsSerialized()
    {
        var specs = Argument("--specs");

        Assert.Equal(AggregationSpec.ToJson(AggregationSpec.Defaults), specs);
        Assert.Equal(AggregationSpec.Defaults, AggregationSpec.ParseJson(specs));
        // The Python tests parse this same file, so the script reads what the CDK app passes.
        var fixture = File.ReadAllText(Path.Combine(TemplateJson.RepositoryRoot(), "glue", "tests", "default_specs.json")).Trim();
        Assert.Equal(fixture, specs);
    }

    [Fact]
    public void Job_Arguments_NameTheBucketAndPrefixes_AndLeaveTheHourToEachRun()
    {
        Assert.Equal("${TOKEN}", Argument("--bucket"));
        Assert.Equal("raw_data", Argument("--raw_prefix"));
        Assert.Equal("aggregated_data", Argument("--output_prefix"));
        Assert.Equal("glue-temp/staging", Argument("--temp_prefix"));
        Assert.Equal("s3://${TOKEN}/glue-temp/spark/", Argument("--TempDir"));
        Assert.Equal("job-bookmark-disable", Argument("--job-bookmark-option"));
        Assert.False(Job.GetProperty("DefaultArguments").TryGetProperty("--target_hour", out _));
    }

    [Fact]
    public void Job_TimeoutIsShorterThanTheStateMachines()
    {
        var jobTimeoutSeconds = Job.GetProperty("Timeout").Int() * 60;
        var definition = OrchestrationStackTests.Definition(app.Orchestration);

        Assert.Equal(app.Settings.GlueTimeoutMinutes, Job.GetProperty("Timeout").Int());
        Assert.True(jobTimeoutSeconds < definition.GetProperty("TimeoutSeconds").Int(),
            $"job {jobTimeoutSeconds} s, state machine {definition.GetProperty("TimeoutSeconds").Int()} s");
    }

    [Fact]
    public void JobRole_ReadsRawData_AndWritesOnlyAggregatedAndTempPrefixes()
    {
        var statements = TemplateJson.Resources(app.Etl, "AWS::IAM::Policy")
            .SelectMany(p => p.Resource.GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray())
            .ToList();
        var writeResources = statements
            .Where(s => Actions(s).Contains("s3:PutObject"))
            .SelectMany(Resources)
            .Where(r => r.Contains('/', StringComparison.Ordinal) && r.Contains("${TOKEN}/", StringComparison.Ordinal))
            .Order().ToList();

        Assert.Equal(["${TOKEN}/aggregated_data/*", "${TOKEN}/glue-temp/*"], writeResources);
        Assert.Contains(statements, s => Actions(s).Contains("s3:GetObject*") && Resources(s).Contains("${TOKEN}/raw_data/*"));
        Assert.Contains(statements, s => Actions(s).Contains("logs:PutLogEvents") && Resources(s).Single().EndsWith(":log-group:/aws-glue/*", StringComparison.Ordinal));
    }

    [Fact]
    public void Outputs_NameTheGlueJob()
    {
        app.Etl.HasOutput("GlueJobName", new Dictionary<string, object> { ["Value"] = new Dictionary<string, object> { ["Ref"] = Match.StringLikeRegexp("^AggregateHits") } });
    }

    internal static IReadOnlyList<string> Actions(JsonElement statement) => Strings(statement.GetProperty("Action"));

    internal static IReadOnlyList<string> Resources(JsonElement statement) =>
        statement.TryGetProperty("Resource", out var r) ? Strings(r) : [];

    private static List<string> Strings(JsonElement value) =>
        value.ValueKind == JsonValueKind.Array ? [.. value.EnumerateArray().Select(TemplateJson.Flatten)] : [TemplateJson.Flatten(value)];
}
