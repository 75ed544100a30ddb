using Amazon.CDK;
using Amazon.CDK.AWS.Athena;
using Amazon.CDK.AWS.Glue;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.S3;
using Amazon.CDK.AWS.S3.Deployment;
using Constructs;

namespace Tally.Aws.Cdk;

/// <summary>
/// The data: one bucket (raw data, aggregated tables, quarantine, Athena results, Glue temp files), the Glue Data Catalog's
/// two databases with the raw table and one table per aggregation (partition projection to the hour, so new hours need no
/// crawler and a query of one hour lists one hour's objects), an Athena workgroup with a scan cutoff and one query per table,
/// and the demo raw data. The tables, their columns and the database names are the declaration's
/// (<see cref="DeploymentSettings.Declaration"/>); without a settings file, the seed's four tables.
/// </summary>
internal sealed class DataStack : Stack
{
    /// <summary>The start of the workgroup's name; the rest is unique to the stack (see <see cref="WorkGroupNameOf"/>).</summary>
    public const string WorkGroupNamePrefix = "tally";
    public const string AthenaResultsPrefix = "athena-results/";
    public const string GlueTempPrefix = "glue-temp/";

    private const string JsonSerDe = "org.openx.data.jsonserde.JsonSerDe";
    private const string TextInputFormat = "org.apache.hadoop.mapred.TextInputFormat";
    private const string TextOutputFormat = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat";
    private const string ParquetSerDe = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe";
    private const string ParquetInputFormat = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat";
    private const string ParquetOutputFormat = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat";
    /// <summary>
    /// Not a column of the raw table (its partitions are hours; Athena reads the minute folders beneath), but reserved in the
    /// raw records' declaration: Spark and DuckDB readers of <c>raw_data/</c> see the <c>minute=</c> folders as a column.
    /// </summary>
    private const string MinuteKey = "minute";

    public DataStack(Construct scope, string id, DeploymentSettings settings)
        : base(scope, id, new StackProps { Description = "Tally data: bucket, Glue Data Catalog tables, Athena workgroup and queries, demo raw data." })
    {
        Bucket = new Bucket(this, "Bucket", new BucketProps
        {
            Encryption = BucketEncryption.S3_MANAGED,
            Versioned = true,
            EnforceSSL = true,
            BlockPublicAccess = BlockPublicAccess.BLOCK_ALL,
            ObjectOwnership = ObjectOwnership.BUCKET_OWNER_ENFORCED,
            // cdk destroy --all removes the bucket: it is emptied (every version) first.
            RemovalPolicy = RemovalPolicy.DESTROY,
            AutoDeleteObjects = true,
            // A versioned bucket keeps every replaced or deleted object as a noncurrent version, a delete marker once its last
            // version expired, and the parts of an upload that never completed (a function that timed out mid-upload): all
            // of them expire.
            LifecycleRules =
            [
                new LifecycleRule { Id = "expire-old-versions", NoncurrentVersionExpiration = Duration.Days(30), ExpiredObjectDeleteMarker = true },
                new LifecycleRule { Id = "abort-incomplete-uploads", AbortIncompleteMultipartUploadAfter = Duration.Days(7) },
                new LifecycleRule { Id = "expire-athena-results", Prefix = AthenaResultsPrefix, Expiration = Duration.Days(30) },
                new LifecycleRule { Id = "expire-glue-temp", Prefix = GlueTempPrefix, Expiration = Duration.Days(7) },
            ],
        });

        var declaration = settings.Declaration;
        var rawDatabase = Database("RawDatabase", declaration.RawDatabase, declaration.Source.IsSeed
            ? "Tally raw web-page hits (the seed's raw_data table)."
            : "Tally raw records (the raw_data table, as the settings file declares them).");
        var aggregatedDatabase = Database("AggregatedDatabase", declaration.AggregatedDatabase, "Tally hourly aggregates, one table per aggregation spec.");

        var raw = RawTableLayout.For(declaration.Source, [.. DataLayout.HourKeys.Select(k => k.Key), MinuteKey]);
        Table("RawTable", rawDatabase, declaration.RawTable, raw.Columns, TableFormat.Json, DataLayout.RawPrefix, settings, raw.Mappings);
        foreach (var table in declaration.Tables())
        {
            Table($"Table-{table.Table}", aggregatedDatabase, table.Table, table.Columns, table.Format,
                $"{DataLayout.AggregatedPrefix}/{table.Table}", settings, mappings: null);
        }

        var workGroup = new CfnWorkGroup(this, "WorkGroup", new CfnWorkGroupProps
        {
            Name = WorkGroupNameOf(this),
            Description = "Tally: the seed's queries over the raw and aggregated tables.",
            // cdk destroy removes the workgroup with its saved queries and history.
            RecursiveDeleteOption = true,
            WorkGroupConfiguration = new CfnWorkGroup.WorkGroupConfigurationProperty
            {
                EnforceWorkGroupConfiguration = true,
                PublishCloudWatchMetricsEnabled = true,
                // A query that would scan more is cancelled (and billed for what it scanned up to here, $5 per TB).
                BytesScannedCutoffPerQuery = settings.AthenaScanLimitBytes,
                EngineVersion = new CfnWorkGroup.EngineVersionProperty { SelectedEngineVersion = "Athena engine version 3" },
                ResultConfiguration = new CfnWorkGroup.ResultConfigurationProperty
                {
                    OutputLocation = Bucket.S3UrlForObject(AthenaResultsPrefix),
                    EncryptionConfiguration = new CfnWorkGroup.EncryptionConfigurationProperty { EncryptionOption = "SSE_S3" },
                },
            },
        });
        foreach (var (name, database, sql) in Queries(declaration, raw))
        {
            var query = new CfnNamedQuery(this, $"Query-{name}", new CfnNamedQueryProps
            {
                Name = name,
                Description = $"The seed's query of {database}, for the demo hour {DemoData.Hour} (a query without a filter on year, month, day and hour lists every projected hour).",
                Database = database,
                QueryString = sql,
                WorkGroup = workGroup.Ref,
            });
            query.AddDependency(rawDatabase);
            query.AddDependency(aggregatedDatabase);
        }

        // Prune = false: files already under raw_data/ (real data) stay when the demo files change.
        new BucketDeployment(this, "DemoRawData", new BucketDeploymentProps
        {
            Sources = [Source.Asset(Path.Combine(settings.RepositoryRoot, DemoData.RawFolder))],
            DestinationBucket = Bucket,
            DestinationKeyPrefix = $"{DataLayout.RawPrefix}/",
            Prune = false,
            LogGroup = new LogGroup(this, "DemoRawDataLogs", new LogGroupProps { Retention = RetentionDays.ONE_MONTH, RemovalPolicy = RemovalPolicy.DESTROY }),
        });
        HelperLogs();

        new CfnOutput(this, "BucketName", new CfnOutputProps { Value = Bucket.BucketName, Description = "The data bucket: raw_data/, aggregated_data/, athena-results/." });
        new CfnOutput(this, "AthenaWorkGroup", new CfnOutputProps { Value = workGroup.Ref, Description = "The Athena workgroup with the seed's saved queries." });

        AcknowledgeNagFindings();
    }

    /// <summary>The bucket of raw data, aggregated tables, Athena results and Glue temp files.</summary>
    public Bucket Bucket { get; }

    /// <summary>
    /// The workgroup's name: <c>tally-&lt;stack name&gt;-&lt;the last part of the stack's id&gt;</c>, so it is unique to this
    /// deployment (a workgroup named <c>tally</c> may already exist in the account) and stable across updates.
    /// </summary>
    public static string WorkGroupNameOf(Stack stack) =>
        Fn.Join("-", [WorkGroupNamePrefix, stack.StackName, Fn.Select(4, Fn.Split("-", Fn.Select(2, Fn.Split("/", stack.StackId))))]);

    /// <summary>
    /// The seed's queries, for the declared tables: each aggregated table's rows, and ten raw records (their declared
    /// columns, selected out of the struct columns when fields are nested; <c>*</c> otherwise, as the seed has it), each
    /// filtered to the demo hour: with partition projection a query without that filter lists every projected hour.
    /// </summary>
    private static IReadOnlyList<(string Name, string Database, string Sql)> Queries(TallyOptions declaration, RawTableLayout raw)
    {
        var (aggregated, rawDatabase, rawTable) = (declaration.AggregatedDatabase, declaration.RawDatabase, declaration.RawTable);
        var columns = raw.IsFlat ? "*" : string.Join(", ", raw.Projection);
        var values = DataLayout.HourPartitionValues(DemoData.Hour);
        var hour = string.Join(" AND ", DataLayout.HourKeys.Select((k, i) => $"{k.Key} = '{values[i]}'"));
        return
        [
            .. declaration.Aggregations.Select(s => (s.Table, aggregated, $"SELECT * FROM \"{aggregated}\".\"{s.Table}\" WHERE {hour};")),
            (rawTable, rawDatabase, $"SELECT {columns} FROM \"{rawDatabase}\".\"{rawTable}\" WHERE {hour} limit 10;"),
        ];
    }

    /// <summary>
    /// The OpenX JSON SerDe's parameters: the raw JSON names are mixed case (GroupID), and the SerDe matches columns
    /// case-insensitively; <c>mapping.&lt;column&gt;</c> names the key of a column that is not its JSON name (RawTableLayout).
    /// </summary>
    private static Dictionary<string, string> JsonSerDeParameters(IReadOnlyDictionary<string, string>? mappings)
    {
        var parameters = new Dictionary<string, string> { ["case.insensitive"] = "TRUE", ["ignore.malformed.json"] = "TRUE" };
        foreach (var (column, key) in mappings ?? new Dictionary<string, string>()) parameters[$"mapping.{column}"] = key;
        return parameters;
    }

    /// <summary>
    /// A log group with a retention for CDK's AutoDeleteObjects provider, which 2.160 gives no log options: Lambda's default
    /// group of its handler (<c>/aws/lambda/&lt;function name&gt;</c>), created here instead of at its first run (on
    /// <c>cdk destroy</c>) without one. The emptying depends on it, so the group is deleted after the emptying has logged.
    /// </summary>
    private void HelperLogs()
    {
        var provider = Node.Children.Single(c => c.Node.Id.StartsWith("Custom::S3AutoDeleteObjectsCustomResourceProvider", StringComparison.Ordinal));
        var handler = (CfnResource)provider.Node.FindChild("Handler");
        var logs = new LogGroup(this, "AutoDeleteObjectsLogs", new LogGroupProps
        {
            LogGroupName = $"/aws/lambda/{handler.Ref}",
            Retention = RetentionDays.ONE_MONTH,
            RemovalPolicy = RemovalPolicy.DESTROY,
        });
        Bucket.Node.FindChild("AutoDeleteObjectsCustomResource").Node.AddDependency(logs);
    }

    /// <summary>The cdk-nag findings of this stack that stay, and why (<see cref="NagAcknowledgements"/>).</summary>
    private void AcknowledgeNagFindings()
    {
        NagAcknowledgements.Add(Bucket,
            ("AwsSolutions-S1", "No server access logs: they need a second bucket that keeps growing; only the pipeline's roles and the deployment reach this bucket (public access blocked, TLS enforced), and CloudTrail data events can log access where an audit needs it."));

        // CDK's own helper functions, which CDK builds (their runtimes are NodeHelperRuntime's and BucketDeployment's).
        var autoDelete = Node.Children.Single(c => c.Node.Id.StartsWith("Custom::S3AutoDeleteObjectsCustomResourceProvider", StringComparison.Ordinal));
        NagAcknowledgements.Add(autoDelete.Node.FindChild("Role"),
            ("AwsSolutions-IAM4", "CDK's AutoDeleteObjects provider (empties the bucket on cdk destroy) uses AWSLambdaBasicExecutionRole to write its logs; CDK builds that role."));
        NagAcknowledgements.Add(autoDelete.Node.FindChild("Handler"), OrchestrationStack.NodeLatestRuntime);
        var deployment = Node.Children.Single(c => c.Node.Id.StartsWith("Custom::CDKBucketDeployment", StringComparison.Ordinal));
        NagAcknowledgements.Add(deployment,
            ("AwsSolutions-L1", "CDK's BucketDeployment handler (copies the demo files) runs on python3.11 with CDK's AWS CLI layer built for it; Lambda supports python3.11 until 2027-06-30 and the template tests fail once it is deprecated."));
        NagAcknowledgements.Add(deployment.Node.FindChild("ServiceRole"),
            ("AwsSolutions-IAM4", "CDK's BucketDeployment handler uses AWSLambdaBasicExecutionRole to write its logs; CDK builds that role."));
        NagAcknowledgements.Add(deployment.Node.FindChild("ServiceRole").Node.FindChild("DefaultPolicy"),
            ("AwsSolutions-IAM5", "CDK's BucketDeployment reads the demo files' asset from the CDK assets bucket and writes them under raw_data/ of this bucket (any object key: s3:GetObject*/List*/DeleteObject*/Abort* are CDK's grant sets); CDK builds this policy."));
    }

    private CfnDatabase Database(string id, string name, string description) =>
        new(this, id, new CfnDatabaseProps
        {
            CatalogId = Account,
            DatabaseInput = new CfnDatabase.DatabaseInputProperty { Name = name, Description = description },
        });

    /// <summary>
    /// A table partitioned by hour (<c>year, month, day, hour</c>), projected over <see cref="DeploymentSettings.ProjectionYears"/>:
    /// a query whose filter names one hour lists that hour's prefix only, and reads every object beneath it (the raw table's
    /// <c>minute=</c> folders).
    /// </summary>
    private void Table(string id, CfnDatabase database, string name, IReadOnlyList<TableColumn> columns, TableFormat format,
        string prefix, DeploymentSettings settings, IReadOnlyDictionary<string, string>? mappings)
    {
        var location = Bucket.S3UrlForObject($"{prefix}/");
        var keys = DataLayout.HourKeys.Select(k => (k.Key, k.Width, Min: k.Key switch { "year" => settings.ProjectionYears.First, "month" or "day" => 1, _ => 0 },
            Max: k.Key switch { "year" => settings.ProjectionYears.Last, "month" => 12, "day" => 31, _ => 23 })).ToList();

        var parameters = new Dictionary<string, string>
        {
            ["classification"] = format == TableFormat.Parquet ? "parquet" : "json",
            ["projection.enabled"] = "true",
            ["storage.location.template"] = location + string.Join("/", keys.Select(k => $"{k.Key}=${{{k.Key}}}")),
        };
        foreach (var k in keys)
        {
            parameters[$"projection.{k.Key}.type"] = "integer";
            parameters[$"projection.{k.Key}.range"] = $"{k.Min},{k.Max}";
            parameters[$"projection.{k.Key}.digits"] = k.Width.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        new CfnTable(this, id, new CfnTableProps
        {
            CatalogId = Account,
            DatabaseName = database.Ref,
            TableInput = new CfnTable.TableInputProperty
            {
                Name = name,
                TableType = "EXTERNAL_TABLE",
                Parameters = parameters,
                PartitionKeys = keys.Select(k => (object)new CfnTable.ColumnProperty { Name = k.Key, Type = "string" }).ToArray(),
                StorageDescriptor = new CfnTable.StorageDescriptorProperty
                {
                    Location = location,
                    Columns = columns.Select(c => (object)new CfnTable.ColumnProperty { Name = c.Name, Type = c.CatalogType }).ToArray(),
                    InputFormat = format == TableFormat.Parquet ? ParquetInputFormat : TextInputFormat,
                    OutputFormat = format == TableFormat.Parquet ? ParquetOutputFormat : TextOutputFormat,
                    SerdeInfo = format == TableFormat.Parquet
                        ? new CfnTable.SerdeInfoProperty { SerializationLibrary = ParquetSerDe }
                        : new CfnTable.SerdeInfoProperty { SerializationLibrary = JsonSerDe, Parameters = JsonSerDeParameters(mappings) },
                },
            },
        });
    }
}
