using Amazon.CDK;

namespace Tally.Aws.Cdk;

/// <summary>The three stacks of Tally's AWS deployment, split by concern, built from the app's context.</summary>
internal sealed record TallyApp(DataStack Data, EtlStack Etl, OrchestrationStack Orchestration)
{
    /// <summary>The stack names, as <c>cdk deploy</c> and the CloudFormation console show them.</summary>
    public const string DataStackName = "TallyData";
    public const string EtlStackName = "TallyEtl";
    public const string OrchestrationStackName = "TallyOrchestration";

    /// <summary>Adds the data, ETL and orchestration stacks to <paramref name="app"/>.</summary>
    /// <exception cref="TallyException">When a context value is not valid.</exception>
    public static TallyApp Build(App app)
    {
        var settings = DeploymentSettings.FromContext(app.Node);
        var data = new DataStack(app, DataStackName, settings);
        var etl = new EtlStack(app, EtlStackName, settings, data);
        var orchestration = new OrchestrationStack(app, OrchestrationStackName, settings, data, etl);
        foreach (var stack in new Stack[] { data, etl, orchestration })
        {
            Tags.Of(stack).Add("project", "tally");
            Aspects.Of(stack).Add(new NodeHelperRuntime());
        }
        return new TallyApp(data, etl, orchestration);
    }
}
