using System.Text.Json;
using Amazon.CDK.Assertions;

namespace Tally.Aws.Cdk.Tests;

[Collection(SynthesizedAppCollection.Name)]
public class DataStackTests(SynthesizedApp app)
{
    [Fact]
    public void Bucket_IsEncryptedVersionedAndBlocksPublicAccess()
    {
        app.Data.HasResourceProperties("AWS::S3::Bucket", new Dictionary<string, object>
        {
            ["BucketEncryption"] = new Dictionary<string, object>
            {
                ["ServerSideEncryptionConfiguration"] = new object[]
                {
                    new Dictionary<string, object> { ["ServerSideEncryptionByDefault"] = new Dictionary<string, object> { ["SSEAlgorithm"] = "AES256" } },
                },
            },
            ["VersioningConfiguration"] = new Dictionary<string, object> { ["Status"] = "Enabled" },
            ["PublicAccessBlockConfiguration"] = new Dictionary<string, object>
            {
                ["BlockPublicAcls"] = true, ["BlockPublicPolicy"] = true, ["IgnorePublicAcls"] = true, ["RestrictPublicBuckets"] = true,
            },
        });
    }

    [Fact]
    public void Bucket_PolicyDeniesEveryRequestWithoutTls()
    {
        app.Data.HasResourceProperties("AWS::S3::BucketPolicy", new Dictionary<string, object>
        {
            ["PolicyDocument"] = new Dictionary<string, object>
            {
                ["Statement"] = Match.ArrayWith(new object[]
                {
                    Match.ObjectLike(new Dictionary<string, object>
                    {
                        ["Effect"] = "Deny",
                        ["Condition"] = new Dictionary<string, object> { ["Bool"] = new Dictionary<string, object> { ["aws:SecureTransport"] = "false" } },
                    }),
                }),
            },
        });
    }

    [Fact]
    public void Bucket_IsEmptiedAndDeleted_ByCdkDestroy()
    {
        app.Data.HasResource("AWS::S3::Bucket", new Dictionary<string, object> { ["DeletionPolicy"] = "Delete", ["UpdateReplacePolicy"] = "Delete" });
        app.Data.ResourceCountIs("Custom::S3AutoDeleteObjects", 1);
    }

    [Fact]
    public void Catalog_HasTheSeedsTwoDatabases()
    {
        var names = TemplateJson.Resources(app.Data, "AWS::Glue::Database")
            .Select(r => r.Resource.GetProperty("Properties").GetProperty("DatabaseInput").GetProperty("Name").GetString())
            .Order().ToList();

        Assert.Equal(["demo-aggregated-data", "demo-raw-data"], names);
        Assert.Equal(DataStack.RawDatabaseName, new TallyOptions().RawDatabase);
        Assert.Equal(DataStack.AggregatedDatabaseName, new TallyOptions().AggregatedDatabase);
    }

    public static TheoryData<string> AggregatedTables() => [.. AggregationSpec.Defaults.Select(s => s.Table)];

    [Theory]
    [MemberData(nameof(AggregatedTables))]
    public void AggregatedTable_HasTallyCoreColumnsFormatAndHourPartitions(string table)
    {
        var spec = AggregationSpec.Defaults.Single(s => s.Table == table);
        var input = Table(table);
        var storage = input.GetProperty("StorageDescriptor");

        Assert.Equal(spec.Columns().Select(c => $"{c.Name} {c.CatalogType}"), Columns(storage.GetProperty("Columns")));
        Assert.Equal(["year string", "month string", "day string", "hour string"], Columns(input.GetProperty("PartitionKeys")));
        Assert.Equal($"s3://${{TOKEN}}/aggregated_data/{table}/", TemplateJson.Flatten(storage.GetProperty("Location")));
        var serde = storage.GetProperty("SerdeInfo").GetProperty("SerializationLibrary").GetString();
        Assert.Equal(spec.Format == TableFormat.Parquet ? "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe" : "org.openx.data.jsonserde.JsonSerDe", serde);
        Assert.Contains(spec.Format == TableFormat.Parquet ? "Parquet" : "TextInputFormat", storage.GetProperty("InputFormat").GetString());
        Assert.Equal(spec.Format == TableFormat.Parquet ? "parquet" : "json", input.GetProperty("Parameters").GetProperty("classification").GetString());
    }

    [Theory]
    [MemberData(nameof(AggregatedTables))]
    public void AggregatedTable_ProjectsZeroPaddedHourPartitions_SoAthenaSeesNewHoursWithoutCrawlers(string table)
    {
        var parameters = Table(table).GetProperty("Parameters");

        Assert.Equal("true", parameters.GetProperty("projection.enabled").GetString());
        AssertProjection(parameters, "year", $"{app.Settings.ProjectionYears.First},{app.Settings.ProjectionYears.Last}", "4");
        AssertProjection(parameters, "month", "1,12", "2");
        AssertProjection(parameters, "day", "1,31", "2");
        AssertProjection(parameters, "hour", "0,23", "2");
        Assert.False(parameters.TryGetProperty("projection.minute.type", out _));
        Assert.Equal($"s3://${{TOKEN}}/aggregated_data/{table}/year=${{year}}/month=${{month}}/day=${{day}}/hour=${{hour}}",
            TemplateJson.Flatten(parameters.GetProperty("storage.location.template")));
    }

    [Fact]
    public void RawTable_HasRawSchemaColumns_JsonSerDe_AndMinutePartitions()
    {
        var input = Table("raw_data");
        var storage = input.GetProperty("StorageDescriptor");
        var parameters = input.GetProperty("Parameters");

        Assert.Equal(["groupid bigint", "countrycode string", "useragent string", "language string", "domain string", "timestamp string"],
            Columns(storage.GetProperty("Columns")));
        Assert.Equal(["year string", "month string", "day string", "hour string", "minute string"], Columns(input.GetProperty("PartitionKeys")));
        Assert.Equal("org.openx.data.jsonserde.JsonSerDe", storage.GetProperty("SerdeInfo").GetProperty("SerializationLibrary").GetString());
        Assert.Equal("TRUE", storage.GetProperty("SerdeInfo").GetProperty("Parameters").GetProperty("case.insensitive").GetString());
        AssertProjection(parameters, "minute", "0,59", "2");
        Assert.Equal("s3://${TOKEN}/raw_data/year=${year}/month=${month}/day=${day}/hour=${hour}/minute=${minute}",
            TemplateJson.Flatten(parameters.GetProperty("storage.location.template")));
    }

    [Fact]
    public void WorkGroup_WritesEncryptedResultsToTheBucket_AndIsDeletedWithItsQueries()
    {
        var properties = TemplateJson.Single(app.Data, "AWS::Athena::WorkGroup").GetProperty("Properties");
        var results = properties.GetProperty("WorkGroupConfiguration").GetProperty("ResultConfiguration");

        Assert.Equal("tally", properties.GetProperty("Name").GetString());
        Assert.True(properties.GetProperty("RecursiveDeleteOption").GetBoolean());
        Assert.True(properties.GetProperty("WorkGroupConfiguration").GetProperty("EnforceWorkGroupConfiguration").GetBoolean());
        Assert.Equal("s3://${TOKEN}/athena-results/", TemplateJson.Flatten(results.GetProperty("OutputLocation")));
        Assert.Equal("SSE_S3", results.GetProperty("EncryptionConfiguration").GetProperty("EncryptionOption").GetString());
    }

    [Fact]
    public void NamedQueries_AreTheSeedsFourQueries_InTheWorkGroup()
    {
        var queries = TemplateJson.Resources(app.Data, "AWS::Athena::NamedQuery")
            .Select(r => r.Resource.GetProperty("Properties"))
            .Select(p => (Database: p.GetProperty("Database").GetString(), Sql: p.GetProperty("QueryString").GetString()))
            .OrderBy(q => q.Sql, StringComparer.Ordinal)
            .ToList();

        Assert.Equal(
            [
                ("demo-aggregated-data", "SELECT * FROM \"demo-aggregated-data\".\"hits_by_country\";"),
                ("demo-aggregated-data", "SELECT * FROM \"demo-aggregated-data\".\"hits_by_domain_and_groupid\";"),
                ("demo-aggregated-data", "SELECT * FROM \"demo-aggregated-data\".\"hits_by_useragent\";"),
                ("demo-raw-data", "SELECT * FROM \"demo-raw-data\".\"raw_data\" limit 10;"),
            ],
            queries);
        app.Data.AllResourcesProperties("AWS::Athena::NamedQuery", new Dictionary<string, object>
        {
            ["WorkGroup"] = new Dictionary<string, object> { ["Ref"] = Match.StringLikeRegexp("^WorkGroup") },
        });
    }

    [Fact]
    public void DemoRawData_IsCopiedToRawDataPrefix_WithoutDeletingOtherRawFiles()
    {
        app.Data.HasResourceProperties("Custom::CDKBucketDeployment", new Dictionary<string, object>
        {
            ["DestinationBucketKeyPrefix"] = "raw_data/",
            ["Prune"] = false,
        });
    }

    [Fact]
    public void DemoRawData_HoldsRecordsOfTheDemoHourOnly()
    {
        var root = Path.Combine(TemplateJson.RepositoryRoot(), "demo");
        var files = Directory.GetFiles(Path.Combine(root, "raw_data"), "*", SearchOption.AllDirectories);

        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var key = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
            Assert.True(DataLayout.TryParseRawKey(key, out var hour, out _), key);
            Assert.Equal(DemoData.Hour, hour);
            Assert.True(DataLayout.IsRawDataFile(Path.GetFileName(file)), key);
            Assert.True(File.ReadLines(file).Count(l => l.Length > 0) >= 24, $"{key} should hold a few dozen records.");
        }
    }

    [Fact]
    public void Outputs_NameTheBucketAndWorkGroup()
    {
        app.Data.HasOutput("BucketName", new Dictionary<string, object> { ["Value"] = new Dictionary<string, object> { ["Ref"] = Match.StringLikeRegexp("^Bucket") } });
        app.Data.HasOutput("AthenaWorkGroup", new Dictionary<string, object>());
    }

    private JsonElement Table(string name) =>
        TemplateJson.Resources(app.Data, "AWS::Glue::Table")
            .Select(r => r.Resource.GetProperty("Properties").GetProperty("TableInput"))
            .Single(t => t.GetProperty("Name").GetString() == name);

    private static List<string> Columns(JsonElement columns) =>
        [.. columns.EnumerateArray().Select(c => $"{c.GetProperty("Name").GetString()} {c.GetProperty("Type").GetString()}")];

    private static void AssertProjection(JsonElement parameters, string key, string range, string digits)
    {
        Assert.Equal("integer", parameters.GetProperty($"projection.{key}.type").GetString());
        Assert.Equal(range, parameters.GetProperty($"projection.{key}.range").GetString());
        Assert.Equal(digits, parameters.GetProperty($"projection.{key}.digits").GetString());
    }
}
