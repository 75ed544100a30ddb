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
    public void Bucket_ExpiresOldVersionsDeleteMarkersIncompleteUploadsAndScratchPrefixes()
    {
        var rules = TemplateJson.Single(app.Data, "AWS::S3::Bucket").GetProperty("Properties").GetProperty("LifecycleConfiguration").GetProperty("Rules")
            .EnumerateArray().ToDictionary(r => r.GetProperty("Id").GetString()!);

        Assert.Equal(["abort-incomplete-uploads", "expire-athena-results", "expire-glue-temp", "expire-old-versions"], rules.Keys.Order(StringComparer.Ordinal));
        Assert.All(rules.Values, r => Assert.Equal("Enabled", r.GetProperty("Status").GetString()));
        var versions = rules["expire-old-versions"];
        Assert.Equal(30, versions.GetProperty("NoncurrentVersionExpiration").GetProperty("NoncurrentDays").Int());
        Assert.True(versions.GetProperty("ExpiredObjectDeleteMarker").GetBoolean());
        Assert.False(versions.TryGetProperty("Prefix", out _));
        var uploads = rules["abort-incomplete-uploads"];
        Assert.Equal(7, uploads.GetProperty("AbortIncompleteMultipartUpload").GetProperty("DaysAfterInitiation").Int());
        Assert.False(uploads.TryGetProperty("Prefix", out _));
        Assert.Equal(("athena-results/", 30), (rules["expire-athena-results"].GetProperty("Prefix").GetString(), rules["expire-athena-results"].GetProperty("ExpirationInDays").Int()));
        Assert.Equal(("glue-temp/", 7), (rules["expire-glue-temp"].GetProperty("Prefix").GetString(), rules["expire-glue-temp"].GetProperty("ExpirationInDays").Int()));
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
    }

    /// <summary>The seed's three tables with its Glue catalog schemas (DESIGN.md's table).</summary>
    [Theory]
    [InlineData("hits_by_country", "countrycode string,hitcount bigint", "parquet")]
    [InlineData("hits_by_domain_and_groupid", "groupid bigint,domain string,hitcount bigint", "json")]
    [InlineData("hits_by_useragent", "useragent string,hitcount bigint", "parquet")]
    public void AggregatedTable_HasTheSeedsColumnsFormatAndHourPartitions(string table, string columns, string format)
    {
        var input = Table(table);
        var storage = input.GetProperty("StorageDescriptor");
        var parquet = format == "parquet";

        Assert.Equal(columns.Split(','), Columns(storage.GetProperty("Columns")));
        Assert.Equal(["year string", "month string", "day string", "hour string"], Columns(input.GetProperty("PartitionKeys")));
        Assert.Equal($"s3://${{TOKEN}}/aggregated_data/{table}/", TemplateJson.Flatten(storage.GetProperty("Location")));
        Assert.Equal(parquet ? "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe" : "org.openx.data.jsonserde.JsonSerDe",
            storage.GetProperty("SerdeInfo").GetProperty("SerializationLibrary").GetString());
        Assert.Equal(parquet ? "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat" : "org.apache.hadoop.mapred.TextInputFormat",
            storage.GetProperty("InputFormat").GetString());
        Assert.Equal(format, input.GetProperty("Parameters").GetProperty("classification").GetString());
    }

    [Theory]
    [InlineData("hits_by_country")]
    [InlineData("hits_by_domain_and_groupid")]
    [InlineData("hits_by_useragent")]
    public void AggregatedTable_ProjectsZeroPaddedHourPartitions_SoAthenaSeesNewHoursWithoutCrawlers(string table)
    {
        var parameters = Table(table).GetProperty("Parameters");

        Assert.Equal("true", parameters.GetProperty("projection.enabled").GetString());
        AssertProjection(parameters, "year", "2025,2030", "4");
        AssertProjection(parameters, "month", "1,12", "2");
        AssertProjection(parameters, "day", "1,31", "2");
        AssertProjection(parameters, "hour", "0,23", "2");
        Assert.False(parameters.TryGetProperty("projection.minute.type", out _));
        Assert.Equal($"s3://${{TOKEN}}/aggregated_data/{table}/year=${{year}}/month=${{month}}/day=${{day}}/hour=${{hour}}",
            TemplateJson.Flatten(parameters.GetProperty("storage.location.template")));
    }

    /// <summary>
    /// The raw table is partitioned by hour, as the aggregated tables are: a query of one hour lists that hour's prefix and
    /// reads the minute folders beneath it (the seed's minute partitions made 60 times the partitions, 5.9 million over
    /// 2025–2035, and a minute's listing each).
    /// </summary>
    [Fact]
    public void RawTable_HasRawSchemaColumns_JsonSerDe_AndHourPartitions_WhoseMinuteFoldersItReadsBeneath()
    {
        var input = Table("raw_data");
        var storage = input.GetProperty("StorageDescriptor");
        var parameters = input.GetProperty("Parameters");

        Assert.Equal(["groupid bigint", "countrycode string", "useragent string", "language string", "domain string", "timestamp string"],
            Columns(storage.GetProperty("Columns")));
        Assert.Equal(["year string", "month string", "day string", "hour string"], Columns(input.GetProperty("PartitionKeys")));
        Assert.Equal("org.openx.data.jsonserde.JsonSerDe", storage.GetProperty("SerdeInfo").GetProperty("SerializationLibrary").GetString());
        Assert.Equal("TRUE", storage.GetProperty("SerdeInfo").GetProperty("Parameters").GetProperty("case.insensitive").GetString());
        AssertProjection(parameters, "year", "2025,2030", "4");
        AssertProjection(parameters, "hour", "0,23", "2");
        Assert.False(parameters.TryGetProperty("projection.minute.type", out _));
        Assert.Equal("s3://${TOKEN}/raw_data/year=${year}/month=${month}/day=${day}/hour=${hour}",
            TemplateJson.Flatten(parameters.GetProperty("storage.location.template")));
        Assert.Equal("s3://${TOKEN}/raw_data/", TemplateJson.Flatten(storage.GetProperty("Location")));
    }

    [Fact]
    public void EveryTable_ProjectsAtMostTenYearsOfHours_AndTheDefaultSix()
    {
        var tables = TemplateJson.Resources(app.Data, "AWS::Glue::Table").Select(r => r.Resource.GetProperty("Properties").GetProperty("TableInput")).ToList();

        Assert.Equal(4, tables.Count);
        foreach (var parameters in tables.Select(t => t.GetProperty("Parameters")))
        {
            var partitions = new[] { "year", "month", "day", "hour" }.Aggregate(1L, (n, key) =>
            {
                var range = parameters.GetProperty($"projection.{key}.range").GetString()!.Split(',').Select(int.Parse).ToArray();
                return n * (range[1] - range[0] + 1);
            });
            Assert.Equal(6 * 12 * 31 * 24, partitions);
            Assert.Equal(4, parameters.EnumerateObject().Count(p => p.Name.EndsWith(".type", StringComparison.Ordinal)));
        }
    }

    /// <summary>
    /// Unique to the deployment: <c>tally-TallyData-</c> and the last part of the stack's id (a fixed <c>tally</c> would collide
    /// with a workgroup of that name already in the account).
    /// </summary>
    [Fact]
    public void WorkGroup_HasANameUniqueToTheStack()
    {
        var name = TemplateJson.Single(app.Data, "AWS::Athena::WorkGroup").GetProperty("Properties").GetProperty("Name");

        // Fn::Join("-", ["tally-TallyData", Fn::Select(4, Fn::Split("-", Fn::Select(2, Fn::Split("/", AWS::StackId))))])
        var join = name.GetProperty("Fn::Join");
        Assert.Equal("-", join[0].GetString());
        Assert.Equal(2, join[1].GetArrayLength());
        Assert.Equal("tally-TallyData", join[1][0].GetString());
        var guidPart = join[1][1].GetProperty("Fn::Select");
        Assert.Equal(4, guidPart[0].Int());
        Assert.Equal("-", guidPart[1].GetProperty("Fn::Split")[0].GetString());
        var guid = guidPart[1].GetProperty("Fn::Split")[1].GetProperty("Fn::Select");
        Assert.Equal(2, guid[0].Int());
        Assert.Equal("/", guid[1].GetProperty("Fn::Split")[0].GetString());
        Assert.Equal("AWS::StackId", guid[1].GetProperty("Fn::Split")[1].GetProperty("Ref").GetString());
    }

    [Fact]
    public void WorkGroup_CancelsQueriesThatWouldScanMoreThanTenGigabytes()
    {
        var configuration = TemplateJson.Single(app.Data, "AWS::Athena::WorkGroup").GetProperty("Properties").GetProperty("WorkGroupConfiguration");

        Assert.Equal(10_000_000_000, configuration.GetProperty("BytesScannedCutoffPerQuery").GetDouble());
        Assert.True(configuration.GetProperty("EnforceWorkGroupConfiguration").GetBoolean());
    }

    [Fact]
    public void WorkGroup_WritesEncryptedResultsToTheBucket_AndIsDeletedWithItsQueries()
    {
        var properties = TemplateJson.Single(app.Data, "AWS::Athena::WorkGroup").GetProperty("Properties");
        var results = properties.GetProperty("WorkGroupConfiguration").GetProperty("ResultConfiguration");

        Assert.True(properties.GetProperty("RecursiveDeleteOption").GetBoolean());
        Assert.True(properties.GetProperty("WorkGroupConfiguration").GetProperty("EnforceWorkGroupConfiguration").GetBoolean());
        Assert.Equal("s3://${TOKEN}/athena-results/", TemplateJson.Flatten(results.GetProperty("OutputLocation")));
        Assert.Equal("SSE_S3", results.GetProperty("EncryptionConfiguration").GetProperty("EncryptionOption").GetString());
    }

    /// <summary>The seed's four queries, each filtered to the demo hour, so that none lists every projected hour.</summary>
    [Fact]
    public void NamedQueries_AreTheSeedsFourQueries_OfTheDemoHour_InTheWorkGroup()
    {
        var queries = TemplateJson.Resources(app.Data, "AWS::Athena::NamedQuery")
            .Select(r => r.Resource.GetProperty("Properties"))
            .Select(p => (Database: p.GetProperty("Database").GetString(), Sql: p.GetProperty("QueryString").GetString()))
            .OrderBy(q => q.Sql, StringComparer.Ordinal)
            .ToList();

        Assert.Equal(
            [
                ("demo-aggregated-data", """SELECT * FROM "demo-aggregated-data"."hits_by_country" WHERE year = '2026' AND month = '11' AND day = '24' AND hour = '13';"""),
                ("demo-aggregated-data", """SELECT * FROM "demo-aggregated-data"."hits_by_domain_and_groupid" WHERE year = '2026' AND month = '11' AND day = '24' AND hour = '13';"""),
                ("demo-aggregated-data", """SELECT * FROM "demo-aggregated-data"."hits_by_useragent" WHERE year = '2026' AND month = '11' AND day = '24' AND hour = '13';"""),
                ("demo-raw-data", """SELECT * FROM "demo-raw-data"."raw_data" WHERE year = '2026' AND month = '11' AND day = '24' AND hour = '13' limit 10;"""),
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
            Assert.Matches("^raw_data/year=2026/month=11/day=24/hour=13/minute=[0-5][0-9]/[^._][^/]*$", key);
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
