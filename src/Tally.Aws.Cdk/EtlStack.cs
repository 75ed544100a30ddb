using Amazon.CDK;
using Amazon.CDK.AWS.Glue;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.S3.Assets;
using Constructs;
using Function = Amazon.CDK.AWS.Lambda.Function;

namespace Tally.Aws.Cdk;

/// <summary>
/// The ETL's two engines, which aggregate one hour of raw data into every table of the declaration
/// (<see cref="DeploymentSettings.Declaration"/>) and replace only that hour's partition:
/// <list type="bullet">
/// <item>the AggregateHour Lambda function, Tally's own engine in C# (the code <c>tally run</c> runs), for hours up to
/// <see cref="DeploymentSettings.GlueThresholdBytes"/> of raw input: the default;</item>
/// <item>a Glue 5.0 Spark job running <c>glue/aggregate_hits.py</c>, for larger hours.</item>
/// </list>
/// The state machine (<see cref="OrchestrationStack"/>) chooses between them per hour.
/// </summary>
internal sealed class EtlStack : Stack
{
    public const string WorkerType = "G.1X";
    public const string GlueVersion = "5.0";

    /// <summary>
    /// The AggregateHour function's memory: about 2.3 vCPUs (Lambda allots CPU by memory) to read files in parallel; the
    /// engine's own memory is bounded by the distinct keys of an hour, not its size. $0.0000133 per GB-second on arm64.
    /// </summary>
    public const int AggregateHourMemoryMb = 4096;

    public EtlStack(Construct scope, string id, DeploymentSettings settings, DataStack data)
        : base(scope, id, new StackProps { Description = "Tally ETL: the AggregateHour Lambda function (Tally's engine) and the Glue Spark job for large hours." })
    {
        AddDependency(data);
        var bucket = data.Bucket;

        AggregateHourFunction = BuildFunction(settings, data);

        var script = new Asset(this, "Script", new AssetProps { Path = Path.Combine(settings.RepositoryRoot, "glue", "aggregate_hits.py") });
        // The job's parser of the raw files, which the script imports: shipped beside it with --extra-py-files.
        var contract = new Asset(this, "ContractModule", new AssetProps { Path = Path.Combine(settings.RepositoryRoot, "glue", "tally_contract.py") });

        var role = new Role(this, "JobRole", new RoleProps
        {
            AssumedBy = new ServicePrincipal("glue.amazonaws.com"),
            Description = "Tally's Glue job: reads raw_data/, writes aggregated_data/, quarantine/ and glue-temp/, writes its logs.",
        });
        script.GrantRead(role);
        contract.GrantRead(role);
        bucket.GrantRead(role, $"{DataLayout.RawPrefix}/*");
        bucket.GrantReadWrite(role, $"{DataLayout.AggregatedPrefix}/*");
        bucket.GrantReadWrite(role, $"{DataLayout.QuarantinePrefix}/*");
        bucket.GrantReadWrite(role, $"{DataStack.GlueTempPrefix}*");

        // Glue 5.0 logs to <prefix>/error and <prefix>/output when given --custom-logGroup-prefix (its
        // --enable-continuous-cloudwatch-log is for 4.0 and earlier): groups of this stack, with a retention, instead of the
        // account's /aws-glue/jobs/error and /output, which keep logs forever.
        LogGroupPrefix = $"/aws-glue/jobs/{StackName}";
        foreach (var (logId, suffix) in new[] { ("JobErrorLogs", "error"), ("JobOutputLogs", "output") })
        {
            var logs = new LogGroup(this, logId, new LogGroupProps
            {
                LogGroupName = $"{LogGroupPrefix}/{suffix}",
                Retention = RetentionDays.ONE_MONTH,
                RemovalPolicy = RemovalPolicy.DESTROY,
            });
            logs.GrantWrite(role);
            role.AddToPolicy(new PolicyStatement(new PolicyStatementProps { Actions = ["logs:CreateLogGroup"], Resources = [logs.LogGroupArn] }));
        }

        Job = new CfnJob(this, "AggregateHits", new CfnJobProps
        {
            Description = "Tally: aggregates one UTC hour of raw_data/ into each table's hour partition (--target_hour yyyy-MM-ddTHH), for hours too large for the Lambda function.",
            Role = role.RoleArn,
            GlueVersion = GlueVersion,
            WorkerType = WorkerType,
            NumberOfWorkers = settings.GlueWorkers,
            Timeout = settings.GlueTimeoutMinutes,
            // The state machine retries only refusals to start (no free run slot, throttling), never a run that failed: a
            // failed run is a data error or a bug, and a second run costs as much as the first.
            MaxRetries = 0,
            // Runs of different hours go on at once; the state machine's lease keeps a second run of the same hour out.
            ExecutionProperty = new CfnJob.ExecutionPropertyProperty { MaxConcurrentRuns = settings.GlueMaxConcurrentRuns },
            Command = new CfnJob.JobCommandProperty { Name = "glueetl", PythonVersion = "3", ScriptLocation = script.S3ObjectUrl },
            DefaultArguments = JobArguments(bucket.BucketName, settings.Declaration, LogGroupPrefix, contract.S3ObjectUrl),
        });

        new CfnOutput(this, "GlueJobName", new CfnOutputProps { Value = Job.Ref, Description = "The Glue job that aggregates one hour too large for the Lambda function." });
        new CfnOutput(this, "AggregateHourFunctionName", new CfnOutputProps { Value = AggregateHourFunction.FunctionName, Description = "The Lambda function that aggregates one hour with Tally's engine." });

        NagAcknowledgements.Add(role.Node.TryFindChild("DefaultPolicy")!,
            ("AwsSolutions-IAM5", "The job reads raw_data/* and writes aggregated_data/* and glue-temp/* (objects of every hour, each key known only at run time), in the one data bucket, and reads its script from the CDK assets bucket; s3:GetObject*/List*/DeleteObject*/Abort* are CDK's grant sets for that. Its log statements name its two log groups (':*' is their streams)."));
        NagAcknowledgements.Add(Job,
            ("AwsSolutions-GL1", "No Glue security configuration: it would encrypt the job's CloudWatch logs with a KMS key the deployment then has to own and pay for; the logs hold run diagnostics, no records, and CloudWatch Logs encrypts them at rest anyway."),
            ("AwsSolutions-GL3", "Job bookmarks are disabled (--job-bookmark-option job-bookmark-disable: each run processes the hour it is given), so there is no bookmark data to encrypt."));
    }

    /// <summary>The Glue job; its <c>Ref</c> is the job name.</summary>
    public CfnJob Job { get; }

    /// <summary>The AggregateHour function: Tally's engine over the bucket (<c>Tally.Aws.Lambda.AggregateHourFunction</c>).</summary>
    public Function AggregateHourFunction { get; }

    /// <summary>The prefix of the Glue job's two log groups, <c>/aws-glue/jobs/TallyEtl</c> (<c>…/error</c>, <c>…/output</c>).</summary>
    public string LogGroupPrefix { get; }

    /// <summary>
    /// The job's default arguments; <c>--target_hour</c> is given per run by the state machine. The declaration goes in as
    /// <c>--specs</c> (<see cref="AggregationSpec.ToJson"/>), <c>--max_rejected_share</c> and, when it is not the seed's,
    /// <c>--source</c> (<see cref="SourceSchema.ToJson"/>); without <c>--source</c> the job reads the seed's fields. The
    /// parser module <c>tally_contract.py</c> the script imports is <paramref name="contractModule"/> (<c>--extra-py-files</c>),
    /// and rejected records go to <c>quarantine/</c>, as <c>tally run</c> writes them.
    /// </summary>
    public static Dictionary<string, object> JobArguments(string bucketName, TallyOptions declaration, string logGroupPrefix, string contractModule)
    {
        var arguments = new Dictionary<string, object>
        {
            ["--extra-py-files"] = contractModule,
            ["--quarantine_prefix"] = DataLayout.QuarantinePrefix,
            ["--job-language"] = "python",
            ["--job-bookmark-option"] = "job-bookmark-disable",
            ["--custom-logGroup-prefix"] = logGroupPrefix,
            ["--TempDir"] = $"s3://{bucketName}/{DataStack.GlueTempPrefix}spark/",
            ["--specs"] = AggregationSpec.ToJson(declaration.Aggregations),
            ["--max_rejected_share"] = declaration.RejectedThreshold.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            ["--bucket"] = bucketName,
            ["--raw_prefix"] = DataLayout.RawPrefix,
            ["--output_prefix"] = DataLayout.AggregatedPrefix,
            ["--temp_prefix"] = $"{DataStack.GlueTempPrefix}staging",
        };
        if (!declaration.Source.IsSeed) arguments["--source"] = declaration.Source.ToJson();
        return arguments;
    }

    /// <summary>
    /// The AggregateHour function: reads raw_data/, writes aggregated_data/ and quarantine/, nothing else. Its 10 GiB of
    /// <c>/tmp</c> hold the rejected records of a run (all of them, however many, before the threshold is applied) and each
    /// table's file before its upload.
    /// </summary>
    private Function BuildFunction(DeploymentSettings settings, DataStack data)
    {
        var logs = new LogGroup(this, "AggregateHourLogs", new LogGroupProps
        {
            Retention = RetentionDays.ONE_MONTH,
            RemovalPolicy = RemovalPolicy.DESTROY,
        });
        var role = new Role(this, "AggregateHourRole", new RoleProps
        {
            AssumedBy = new ServicePrincipal("lambda.amazonaws.com"),
            Description = "Tally's AggregateHour Lambda: reads raw_data/, writes aggregated_data/ and quarantine/, writes its own log group.",
        });
        logs.GrantWrite(role);
        data.Bucket.GrantRead(role, $"{DataLayout.RawPrefix}/*");
        data.Bucket.GrantReadWrite(role, $"{DataLayout.AggregatedPrefix}/*");
        data.Bucket.GrantReadWrite(role, $"{DataLayout.QuarantinePrefix}/*");
        var function = new Function(this, "AggregateHourFunction", new FunctionProps
        {
            Description = "Tally: aggregates one UTC hour of raw_data/ with Tally's engine (the code tally run runs) into each table's hour partition.",
            Runtime = LambdaPackage.Runtime,
            Architecture = LambdaPackage.Architecture,
            Handler = LambdaPackage.AggregateHourHandler,
            Code = Code.FromAsset(LambdaPackage.Directory(settings)),
            MemorySize = AggregateHourMemoryMb,
            Timeout = Duration.Minutes(15),
            EphemeralStorageSize = Size.Mebibytes(10240),
            Role = role,
            LogGroup = logs,
            Environment = new Dictionary<string, string> { ["TALLY_DATA"] = $"s3://{data.Bucket.BucketName}" },
        });
        NagAcknowledgements.Add(role.Node.TryFindChild("DefaultPolicy")!,
            ("AwsSolutions-IAM5", "The function reads raw_data/* and writes aggregated_data/* and quarantine/* (objects of every hour, each key known only at run time) in the one data bucket; s3:GetObject*/List*/DeleteObject*/Abort* are CDK's grant sets for that, and ':*' on its log group is the group's streams."));
        return function;
    }
}
