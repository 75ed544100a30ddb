using Amazon.CDK;
using Amazon.CDK.AWS.Glue;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.S3.Assets;
using Constructs;

namespace Tally.Aws.Cdk;

/// <summary>
/// The ETL: a Glue 5.0 Spark job running <c>glue/aggregate_hits.py</c>, which aggregates one hour of raw data into
/// every table of the declaration (<see cref="DeploymentSettings.Declaration"/>) and overwrites only that hour's partition.
/// </summary>
internal sealed class EtlStack : Stack
{
    public const string WorkerType = "G.1X";
    public const string GlueVersion = "5.0";

    public EtlStack(Construct scope, string id, DeploymentSettings settings, DataStack data)
        : base(scope, id, new StackProps { Description = "Tally ETL: the Glue Spark job that aggregates one hour." })
    {
        AddDependency(data);
        var bucket = data.Bucket;

        var script = new Asset(this, "Script", new AssetProps { Path = Path.Combine(settings.RepositoryRoot, "glue", "aggregate_hits.py") });

        var role = new Role(this, "JobRole", new RoleProps
        {
            AssumedBy = new ServicePrincipal("glue.amazonaws.com"),
            Description = "Tally's Glue job: reads raw_data/, writes aggregated_data/ and glue-temp/, writes its logs.",
        });
        script.GrantRead(role);
        bucket.GrantRead(role, $"{DataLayout.RawPrefix}/*");
        bucket.GrantReadWrite(role, $"{DataLayout.AggregatedPrefix}/*");
        bucket.GrantReadWrite(role, $"{DataStack.GlueTempPrefix}*");
        role.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            Resources =
            [
                Arn.Format(new ArnComponents { Service = "logs", Resource = "log-group", ArnFormat = ArnFormat.COLON_RESOURCE_NAME, ResourceName = "/aws-glue/*" }, this),
            ],
        }));

        Job = new CfnJob(this, "AggregateHits", new CfnJobProps
        {
            Description = "Tally: aggregates one UTC hour of raw_data/ into each table's hour partition (--target_hour yyyy-MM-ddTHH).",
            Role = role.RoleArn,
            GlueVersion = GlueVersion,
            WorkerType = WorkerType,
            NumberOfWorkers = settings.GlueWorkers,
            Timeout = settings.GlueTimeoutMinutes,
            // The state machine retries; a second concurrent run (of any hour) is refused and retried by it,
            // so one hour never runs twice at once.
            MaxRetries = 0,
            ExecutionProperty = new CfnJob.ExecutionPropertyProperty { MaxConcurrentRuns = 1 },
            Command = new CfnJob.JobCommandProperty { Name = "glueetl", PythonVersion = "3", ScriptLocation = script.S3ObjectUrl },
            DefaultArguments = JobArguments(bucket.BucketName, settings.Declaration),
        });

        new CfnOutput(this, "GlueJobName", new CfnOutputProps { Value = Job.Ref, Description = "The Glue job that aggregates one hour." });
    }

    /// <summary>The Glue job; its <c>Ref</c> is the job name.</summary>
    public CfnJob Job { get; }

    /// <summary>
    /// The job's default arguments; <c>--target_hour</c> is given per run by the state machine. The declaration goes in as
    /// <c>--specs</c> (<see cref="AggregationSpec.ToJson"/>) and, when it is not the seed's, <c>--source</c>
    /// (<see cref="SourceSchema.ToJson"/>); without <c>--source</c> the job reads the seed's fields.
    /// </summary>
    public static Dictionary<string, object> JobArguments(string bucketName, TallyOptions declaration)
    {
        var arguments = new Dictionary<string, object>
        {
            ["--job-language"] = "python",
            ["--job-bookmark-option"] = "job-bookmark-disable",
            ["--enable-continuous-cloudwatch-log"] = "true",
            ["--TempDir"] = $"s3://{bucketName}/{DataStack.GlueTempPrefix}spark/",
            ["--specs"] = AggregationSpec.ToJson(declaration.Aggregations),
            ["--bucket"] = bucketName,
            ["--raw_prefix"] = DataLayout.RawPrefix,
            ["--output_prefix"] = DataLayout.AggregatedPrefix,
            ["--temp_prefix"] = $"{DataStack.GlueTempPrefix}staging",
        };
        if (!declaration.Source.IsSeed) arguments["--source"] = declaration.Source.ToJson();
        return arguments;
    }
}
