using Amazon.CDK;
using Amazon.CDK.AWS.Athena;
using Amazon.CDK.AWS.Glue;
using Amazon.CDK.AWS.S3;
using Amazon.CDK.AWS.S3.Deployment;
using Constructs;

namespace Tally.Aws.Cdk;

/// <summary>
/// The data: one bucket (raw data, aggregated tables, Athena results, Glue temp files), the Glue Data Catalog's
/// two databases with the raw table and one table per aggregation (partition projection, so new hours need no crawler),
/// an Athena workgroup with one query per table, and the demo raw data. The tables, their columns and the database names
/// are the declaration's (<see cref="DeploymentSettings.Declaration"/>); without a settings file, the seed's four tables.
/// </summary>
internal sealed class DataStack : Stack
{
    /// <summary>The seed's database names, the defaults of the settings <c>Catalog:RawDatabase</c> and <c>Catalog:AggregatedDatabase</c>.</summary>
    public const string RawDatabaseName = "demo-raw-data";
    public const string AggregatedDatabaseName = "demo-aggregated-data";
    public const string WorkGroupName = "tally";
    public const string AthenaResultsPrefix = "athena-results/";
    public const string GlueTempPrefix = "glue-temp/";

    private const string JsonSerDe = "org.openx.data.jsonserde.JsonSerDe";
    private const string TextInputFormat = "org.apache.hadoop.mapred.TextInputFormat";
    private const string TextOutputFormat = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat";
    private const string ParquetSerDe = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe";
    private const string ParquetInputFormat = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat";
    private const string ParquetOutputFormat = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat";
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
            LifecycleRules =
            [
                new LifecycleRule { Id = "expire-old-versions", NoncurrentVersionExpiration = Duration.Days(30) },
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
        Table("RawTable", rawDatabase, declaration.RawTable, raw.Columns, TableFormat.Json, DataLayout.RawPrefix, withMinute: true, settings, raw.Mappings);
        foreach (var table in declaration.Tables())
        {
            Table($"Table-{table.Table}", aggregatedDatabase, table.Table, table.Columns, table.Format,
                $"{DataLayout.AggregatedPrefix}/{table.Table}", withMinute: false, settings, mappings: null);
        }

        var workGroup = new CfnWorkGroup(this, "WorkGroup", new CfnWorkGroupProps
        {
            Name = WorkGroupName,
            Description = "Tally: the seed's queries over the raw and aggregated tables.",
            // cdk destroy removes the workgroup with its saved queries and history.
            RecursiveDeleteOption = true,
            WorkGroupConfiguration = new CfnWorkGroup.WorkGroupConfigurationProperty
            {
                EnforceWorkGroupConfiguration = true,
                PublishCloudWatchMetricsEnabled = true,
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
                Description = $"The seed's query of {database}.",
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
        });

        new CfnOutput(this, "BucketName", new CfnOutputProps { Value = Bucket.BucketName, Description = "The data bucket: raw_data/, aggregated_data/, athena-results/." });
        new CfnOutput(this, "AthenaWorkGroup", new CfnOutputProps { Value = workGroup.Ref, Description = "The Athena workgroup with the seed's saved queries." });
    }

    /// <summary>The bucket of raw data, aggregated tables, Athena results and Glue temp files.</summary>
    public Bucket Bucket { get; }

    /// <summary>
    /// The seed's queries, for the declared tables: every row of each aggregated table, and ten raw records (their declared
    /// columns, selected out of the struct columns when fields are nested; <c>*</c> otherwise, as the seed has it).
    /// </summary>
    private static IReadOnlyList<(string Name, string Database, string Sql)> Queries(TallyOptions declaration, RawTableLayout raw)
    {
        var (aggregated, rawDatabase, rawTable) = (declaration.AggregatedDatabase, declaration.RawDatabase, declaration.RawTable);
        var columns = raw.IsFlat ? "*" : string.Join(", ", raw.Projection);
        return
        [
            .. declaration.Aggregations.Select(s => (s.Table, aggregated, $"SELECT * FROM \"{aggregated}\".\"{s.Table}\";")),
            (rawTable, rawDatabase, $"SELECT {columns} FROM \"{rawDatabase}\".\"{rawTable}\" limit 10;"),
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

    private CfnDatabase Database(string id, string name, string description) =>
        new(this, id, new CfnDatabaseProps
        {
            CatalogId = Account,
            DatabaseInput = new CfnDatabase.DatabaseInputProperty { Name = name, Description = description },
        });

    private void Table(string id, CfnDatabase database, string name, IReadOnlyList<TableColumn> columns, TableFormat format,
        string prefix, bool withMinute, DeploymentSettings settings, IReadOnlyDictionary<string, string>? mappings)
    {
        var location = Bucket.S3UrlForObject($"{prefix}/");
        var keys = DataLayout.HourKeys.Select(k => (k.Key, k.Width, Min: k.Key switch { "year" => settings.ProjectionYears.First, "month" or "day" => 1, _ => 0 },
            Max: k.Key switch { "year" => settings.ProjectionYears.Last, "month" => 12, "day" => 31, _ => 23 })).ToList();
        if (withMinute) keys.Add((MinuteKey, 2, 0, 59));

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
