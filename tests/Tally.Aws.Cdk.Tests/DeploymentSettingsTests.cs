using Amazon.CDK;
using Amazon.CDK.Assertions;

namespace Tally.Aws.Cdk.Tests;

public class DeploymentSettingsTests
{
    private static DeploymentSettings FromContext(string key, string value) =>
        DeploymentSettings.FromContext(new App(new AppProps { Context = new Dictionary<string, object> { [key] = value } }).Node);

    /// <summary>
    /// The state machine's timeout was two Glue runs and the waits between them (210 minutes); a failed run is no longer
    /// retried, so it is one run and up to 90 minutes of waiting for a free run slot and of the Lambda steps.
    /// </summary>
    [Fact]
    public void Defaults_AreTwoWorkersAnHourTimeoutFourGigabytesForLambdaNoEmailAndAPublishedLambda()
    {
        var settings = DeploymentSettings.FromContext(new App().Node);

        Assert.Equal(2, settings.GlueWorkers);
        Assert.Equal(60, settings.GlueTimeoutMinutes);
        Assert.Equal(4, settings.GlueMaxConcurrentRuns);
        Assert.Equal(4_000_000_000, settings.GlueThresholdBytes);
        Assert.Equal(10_000_000_000, settings.AthenaScanLimitBytes);
        Assert.Equal(150, settings.StateMachineTimeoutMinutes);
        Assert.Equal(9000, settings.LeaseSeconds);
        Assert.Null(settings.AlertEmail);
        Assert.True(settings.ScheduleEnabled);
        Assert.Null(settings.LambdaAssetDirectory);
        Assert.Equal((2025, 2030), settings.ProjectionYears);
        Assert.Equal(0.01, settings.Declaration.RejectedThreshold);
        Assert.True(File.Exists(Path.Combine(settings.RepositoryRoot, "glue", "aggregate_hits.py")));
    }

    [Theory]
    [InlineData("tally:glueWorkers", "1")]
    [InlineData("tally:glueWorkers", "101")]
    [InlineData("tally:glueWorkers", "two")]
    [InlineData("tally:glueWorkers", "-3")]
    [InlineData("tally:glueTimeoutMinutes", "4")]
    [InlineData("tally:glueTimeoutMinutes", "241")]
    [InlineData("tally:projectionYears", "2025")]
    [InlineData("tally:projectionYears", "2035,2025")]
    [InlineData("tally:projectionYears", "1999,2025")]
    [InlineData("tally:projectionYears", "2025,2035")]
    [InlineData("tally:glueMaxConcurrentRuns", "0")]
    [InlineData("tally:glueMaxConcurrentRuns", "51")]
    [InlineData("tally:glueThresholdGb", "-1")]
    [InlineData("tally:glueThresholdGb", "10.5")]
    [InlineData("tally:glueThresholdGb", "4GB")]
    [InlineData("tally:athenaScanLimitGb", "0.001")]
    [InlineData("tally:athenaScanLimitGb", "1e3")]
    [InlineData("tally:schedule", "off")]
    public void FromContext_RejectsValuesOutOfRange_NamingTheKey(string key, string value)
    {
        var e = Assert.Throws<TallyException>(() => FromContext(key, value));

        Assert.Equal(TallyErrorKind.InvalidConfiguration, e.Kind);
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromContext_ReadsNumbersGivenOnTheCommandLine()
    {
        Assert.Equal(8, FromContext("tally:glueWorkers", "8").GlueWorkers);
        Assert.Equal(30, FromContext("tally:glueTimeoutMinutes", "30").GlueTimeoutMinutes);
        Assert.Equal(120, FromContext("tally:glueTimeoutMinutes", "30").StateMachineTimeoutMinutes);
        Assert.Equal(10, FromContext("tally:glueMaxConcurrentRuns", "10").GlueMaxConcurrentRuns);
        Assert.Equal(500_000_000, FromContext("tally:glueThresholdGb", "0.5").GlueThresholdBytes);
        Assert.Equal(0, FromContext("tally:glueThresholdGb", "0").GlueThresholdBytes);
        Assert.Equal(250_000_000, FromContext("tally:athenaScanLimitGb", "0.25").AthenaScanLimitBytes);
        Assert.Equal((2026, 2035), FromContext("tally:projectionYears", "2026,2035").ProjectionYears);
        Assert.False(FromContext("tally:schedule", "disabled").ScheduleEnabled);
    }

    [Fact]
    public void App_WithTheScheduleDisabled_KeepsTheScheduleButStartsNothing()
    {
        var lambdaDir = Directory.CreateTempSubdirectory("tally-lambda-");
        try
        {
            File.WriteAllText(Path.Combine(lambdaDir.FullName, "placeholder.txt"), "no publish in tests");
            var app = new App(new AppProps
            {
                Context = new Dictionary<string, object> { ["tally:lambdaAssetDir"] = lambdaDir.FullName, ["tally:schedule"] = "disabled" },
            });

            Template.FromStack(TallyApp.Build(app).Orchestration).HasResourceProperties("AWS::Scheduler::Schedule", new Dictionary<string, object>
            {
                ["State"] = "DISABLED",
                ["ScheduleExpression"] = "cron(0 * * * ? *)",
            });
        }
        finally
        {
            lambdaDir.Delete(recursive: true);
        }
    }

    [Fact]
    public void App_WithoutAlertEmail_HasTheTopicButNoSubscription()
    {
        var lambdaDir = Directory.CreateTempSubdirectory("tally-lambda-");
        try
        {
            File.WriteAllText(Path.Combine(lambdaDir.FullName, "placeholder.txt"), "no publish in tests");
            var app = new App(new AppProps { Context = new Dictionary<string, object> { ["tally:lambdaAssetDir"] = lambdaDir.FullName } });
            var stacks = TallyApp.Build(app);

            var orchestration = Template.FromStack(stacks.Orchestration);
            orchestration.ResourceCountIs("AWS::SNS::Topic", 1);
            orchestration.ResourceCountIs("AWS::SNS::Subscription", 0);
            Template.FromStack(stacks.Etl).HasResourceProperties("AWS::Glue::Job", new Dictionary<string, object> { ["NumberOfWorkers"] = 2, ["Timeout"] = 60 });
        }
        finally
        {
            lambdaDir.Delete(recursive: true);
        }
    }
}
