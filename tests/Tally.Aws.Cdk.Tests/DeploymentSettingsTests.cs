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
    [InlineData(DeploymentSettings.GlueWorkersKey, "1")]
    [InlineData(DeploymentSettings.GlueWorkersKey, "101")]
    [InlineData(DeploymentSettings.GlueWorkersKey, "two")]
    [InlineData(DeploymentSettings.GlueWorkersKey, "-3")]
    [InlineData(DeploymentSettings.GlueTimeoutKey, "4")]
    [InlineData(DeploymentSettings.GlueTimeoutKey, "241")]
    [InlineData(DeploymentSettings.ProjectionYearsKey, "2025")]
    [InlineData(DeploymentSettings.ProjectionYearsKey, "2035,2025")]
    [InlineData(DeploymentSettings.ProjectionYearsKey, "1999,2025")]
    [InlineData(DeploymentSettings.ProjectionYearsKey, "2025,2035")]
    [InlineData(DeploymentSettings.GlueMaxConcurrentRunsKey, "0")]
    [InlineData(DeploymentSettings.GlueMaxConcurrentRunsKey, "51")]
    [InlineData(DeploymentSettings.GlueThresholdKey, "-1")]
    [InlineData(DeploymentSettings.GlueThresholdKey, "10.5")]
    [InlineData(DeploymentSettings.GlueThresholdKey, "4GB")]
    [InlineData(DeploymentSettings.AthenaScanLimitKey, "0.001")]
    [InlineData(DeploymentSettings.AthenaScanLimitKey, "1e3")]
    [InlineData(DeploymentSettings.ScheduleKey, "off")]
    public void FromContext_RejectsValuesOutOfRange_NamingTheKey(string key, string value)
    {
        var e = Assert.Throws<TallyException>(() => FromContext(key, value));

        Assert.Equal(TallyErrorKind.InvalidConfiguration, e.Kind);
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromContext_ReadsNumbersGivenOnTheCommandLine()
    {
        Assert.Equal(8, FromContext(DeploymentSettings.GlueWorkersKey, "8").GlueWorkers);
        Assert.Equal(30, FromContext(DeploymentSettings.GlueTimeoutKey, "30").GlueTimeoutMinutes);
        Assert.Equal(120, FromContext(DeploymentSettings.GlueTimeoutKey, "30").StateMachineTimeoutMinutes);
        Assert.Equal(10, FromContext(DeploymentSettings.GlueMaxConcurrentRunsKey, "10").GlueMaxConcurrentRuns);
        Assert.Equal(500_000_000, FromContext(DeploymentSettings.GlueThresholdKey, "0.5").GlueThresholdBytes);
        Assert.Equal(0, FromContext(DeploymentSettings.GlueThresholdKey, "0").GlueThresholdBytes);
        Assert.Equal(250_000_000, FromContext(DeploymentSettings.AthenaScanLimitKey, "0.25").AthenaScanLimitBytes);
        Assert.Equal((2026, 2035), FromContext(DeploymentSettings.ProjectionYearsKey, "2026,2035").ProjectionYears);
        Assert.False(FromContext(DeploymentSettings.ScheduleKey, "disabled").ScheduleEnabled);
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
                Context = new Dictionary<string, object> { [DeploymentSettings.LambdaAssetDirKey] = lambdaDir.FullName, [DeploymentSettings.ScheduleKey] = "disabled" },
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
            var app = new App(new AppProps { Context = new Dictionary<string, object> { [DeploymentSettings.LambdaAssetDirKey] = lambdaDir.FullName } });
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
