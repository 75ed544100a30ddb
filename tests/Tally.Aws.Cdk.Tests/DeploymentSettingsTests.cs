using Amazon.CDK;
using Amazon.CDK.Assertions;

namespace Tally.Aws.Cdk.Tests;

public class DeploymentSettingsTests
{
    private static DeploymentSettings FromContext(string key, string value) =>
        DeploymentSettings.FromContext(new App(new AppProps { Context = new Dictionary<string, object> { [key] = value } }).Node);

    [Fact]
    public void Defaults_AreTwoWorkersAnHourTimeoutNoEmailAndAPublishedLambda()
    {
        var settings = DeploymentSettings.FromContext(new App().Node);

        Assert.Equal(2, settings.GlueWorkers);
        Assert.Equal(60, settings.GlueTimeoutMinutes);
        Assert.Equal(210, settings.StateMachineTimeoutMinutes);
        Assert.Null(settings.AlertEmail);
        Assert.Null(settings.LambdaAssetDirectory);
        Assert.Equal((2025, 2035), settings.ProjectionYears);
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
