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

    /// <summary>
    /// Runs of different hours go on at once (one run of the whole job at a time made a backfill of more than ~10 hours end
    /// in failure events); the state machine's lease keeps a second run of the same hour out (OrchestrationStackTests).
    /// </summary>
    [Fact]
    public void Job_RunsFourHoursAtOnce_ByDefault()
    {
        Assert.Equal(4, Job.GetProperty("ExecutionProperty").GetProperty("MaxConcurrentRuns").Int());
    }

    [Fact]
    public void Job_SpecsArgument_IsTheSeedsThreeTables()
    {
        var specs = Argument("--specs");

        Assert.Equal("""[{"table":"hits_by_country","groupBy":["CountryCode"],"format":"parquet"},{"table":"hits_by_domain_and_groupid","groupBy":["Domain","GroupID"],"format":"json"},{"table":"hits_by_useragent","groupBy":["UserAgent"],"format":"parquet"}]""",
            specs);
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
    public void Job_ShipsItsParserModule_AndQuarantinesWhereTallyRunDoes()
    {
        // The script imports tally_contract.py: Glue must be given it, as an asset of its own.
        Assert.Matches("^s3://cdk-hnb659fds-assets-.*/[0-9a-f]{64}\\.py$", Argument("--extra-py-files"));
        Assert.NotEqual(Argument("--extra-py-files"), TemplateJson.Flatten(Job.GetProperty("Command").GetProperty("ScriptLocation")));
        Assert.Equal("quarantine", Argument("--quarantine_prefix"));
    }

    [Fact]
    public void Job_FailsAnHour_AboveTallyRunsRejectedThreshold()
    {
        Assert.Equal("0.01", Argument("--max_rejected_share"));
    }

    /// <summary>
    /// Glue 5.0 ignores --enable-continuous-cloudwatch-log and logs to the account's /aws-glue/jobs/error and /output, which
    /// never expire; --custom-logGroup-prefix sends its logs to two groups of this stack, kept a month.
    /// </summary>
    [Fact]
    public void Job_LogsToTwoLogGroupsOfItsOwn_KeptAMonth()
    {
        var groups = TemplateJson.Resources(app.Etl, "AWS::Logs::LogGroup")
            .Where(g => g.Resource.GetProperty("Properties").TryGetProperty("LogGroupName", out _))
            .ToDictionary(g => g.Resource.GetProperty("Properties").GetProperty("LogGroupName").GetString()!, g => g.Resource);

        Assert.Equal("/aws-glue/jobs/TallyEtl", Argument("--custom-logGroup-prefix"));
        Assert.False(Job.GetProperty("DefaultArguments").TryGetProperty("--enable-continuous-cloudwatch-log", out _));
        Assert.Equal(["/aws-glue/jobs/TallyEtl/error", "/aws-glue/jobs/TallyEtl/output"], groups.Keys.Order(StringComparer.Ordinal));
        Assert.All(groups.Values, g => Assert.Equal(30, g.GetProperty("Properties").GetProperty("RetentionInDays").Int()));
        Assert.All(groups.Values, g => Assert.Equal("Delete", g.GetProperty("DeletionPolicy").GetString()));
    }

    [Fact]
    public void Job_TimesOutAfterAnHour_WellBeforeTheStateMachinesTwoAndAHalfHours()
    {
        Assert.Equal(60, Job.GetProperty("Timeout").Int());
        Assert.Equal(9000, OrchestrationStackTests.Definition(app.Orchestration).GetProperty("TimeoutSeconds").Int());
    }

    [Fact]
    public void JobRole_ReadsRawData_AndWritesOnlyAggregatedQuarantineAndTempPrefixes()
    {
        var statements = TemplateJson.Resources(app.Etl, "AWS::IAM::Policy")
            .Where(p => p.Resource.GetProperty("Properties").GetProperty("Roles")[0].GetProperty("Ref").GetString()!.StartsWith("JobRole", StringComparison.Ordinal))
            .SelectMany(p => p.Resource.GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray())
            .ToList();
        var writeResources = statements
            .Where(s => Actions(s).Contains("s3:PutObject"))
            .SelectMany(Resources)
            .Where(r => r.Contains('/', StringComparison.Ordinal) && r.Contains("${TOKEN}/", StringComparison.Ordinal))
            .Order().ToList();

        Assert.Equal(["${TOKEN}/aggregated_data/*", "${TOKEN}/glue-temp/*", "${TOKEN}/quarantine/*"], writeResources);
        Assert.Contains(statements, s => Actions(s).Contains("s3:GetObject*") && Resources(s).Contains("${TOKEN}/raw_data/*"));
        var logResources = statements.Where(s => Actions(s).Contains("logs:PutLogEvents")).SelectMany(Resources).ToList();
        Assert.Equal(2, logResources.Count);
        Assert.All(logResources, r => Assert.Matches("^\\$\\{TOKEN\\}$", r));
        Assert.DoesNotContain(statements.SelectMany(Resources), r => r.Contains("/aws-glue/*", StringComparison.Ordinal));
    }

    [Fact]
    public void Outputs_NameTheGlueJobAndTheFunction()
    {
        app.Etl.HasOutput("GlueJobName", new Dictionary<string, object> { ["Value"] = new Dictionary<string, object> { ["Ref"] = Match.StringLikeRegexp("^AggregateHits") } });
        app.Etl.HasOutput("AggregateHourFunctionName", new Dictionary<string, object> { ["Value"] = new Dictionary<string, object> { ["Ref"] = Match.StringLikeRegexp("^AggregateHourFunction") } });
    }

    private JsonElement Function => TemplateJson.Resources(app.Etl, "AWS::Lambda::Function").Single().Resource.GetProperty("Properties");

    [Fact]
    public void AggregateHourFunction_RunsTallysEngineOnDotnet10_WithFifteenMinutesFourGigabytesAndTenOfTmp()
    {
        var function = Function;

        Assert.Equal("dotnet10", function.GetProperty("Runtime").GetString());
        Assert.Equal("Tally.Aws.Lambda::Tally.Aws.Lambda.AggregateHourFunction::Handler", function.GetProperty("Handler").GetString());
        Assert.Equal(["arm64"], function.GetProperty("Architectures").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(4096, function.GetProperty("MemorySize").Int());
        Assert.Equal(900, function.GetProperty("Timeout").Int());
        Assert.Equal(10240, function.GetProperty("EphemeralStorage").GetProperty("Size").Int());
    }

    [Fact]
    public void AggregateHourFunction_FindsTheBucketInItsEnvironment()
    {
        var variables = Function.GetProperty("Environment").GetProperty("Variables");

        Assert.Equal(["TALLY_DATA"], variables.EnumerateObject().Select(v => v.Name));
        Assert.Equal("s3://${TOKEN}", TemplateJson.Flatten(variables.GetProperty("TALLY_DATA")));
    }

    [Fact]
    public void AggregateHourFunction_ReadsRawData_AndWritesOnlyAggregatedDataAndQuarantine()
    {
        var role = TemplateJson.Resources(app.Etl, "AWS::IAM::Role").Single(r => r.Id.StartsWith("AggregateHourRole", StringComparison.Ordinal));
        var statements = TemplateJson.Resources(app.Etl, "AWS::IAM::Policy")
            .Where(p => p.Resource.GetProperty("Properties").GetProperty("Roles")[0].GetProperty("Ref").GetString() == role.Id)
            .SelectMany(p => p.Resource.GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray())
            .ToList();
        var objectResources = statements.SelectMany(Resources).Where(r => r.Contains("${TOKEN}/", StringComparison.Ordinal)).ToList();

        Assert.Equal(["${TOKEN}/aggregated_data/*", "${TOKEN}/quarantine/*"],
            statements.Where(s => Actions(s).Contains("s3:PutObject")).SelectMany(Resources).Where(r => r.Contains('/', StringComparison.Ordinal)).Order());
        Assert.Equal(["${TOKEN}/aggregated_data/*", "${TOKEN}/quarantine/*"],
            statements.Where(s => Actions(s).Contains("s3:DeleteObject*")).SelectMany(Resources).Where(r => r.Contains('/', StringComparison.Ordinal)).Order());
        Assert.Equal(["${TOKEN}/aggregated_data/*", "${TOKEN}/quarantine/*", "${TOKEN}/raw_data/*"], objectResources.Distinct().Order());
        Assert.Contains(statements, s => Actions(s).Contains("logs:PutLogEvents"));
    }

    internal static IReadOnlyList<string> Actions(JsonElement statement) => Strings(statement.GetProperty("Action"));

    internal static IReadOnlyList<string> Resources(JsonElement statement) =>
        statement.TryGetProperty("Resource", out var r) ? Strings(r) : [];

    private static List<string> Strings(JsonElement value) =>
        value.ValueKind == JsonValueKind.Array ? [.. value.EnumerateArray().Select(TemplateJson.Flatten)] : [TemplateJson.Flatten(value)];
}
