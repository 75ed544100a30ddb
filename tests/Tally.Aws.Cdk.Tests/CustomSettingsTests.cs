using System.Text.Json;
using Amazon.CDK;
using Amazon.CDK.Assertions;

namespace Tally.Aws.Cdk.Tests;

/// <summary>
/// The app synthesized with a settings file of its own (<c>tally:settings</c>, given relative to the repository root as
/// <c>cdk.json</c>'s folder is): nested fields, every type, renamed columns, a table with every metric, a JSON table, and
/// other database names.
/// </summary>
public sealed class CustomSettingsApp : IDisposable
{
    /// <summary>As a user writes it: keys in any case, a comment, trailing commas, sections the CDK app does not read.</summary>
    public const string Settings = """
        {
          // Web traffic, not the seed's page hits.
          "Source": {
            "Fields": [
              { "Name": "EventId", "Column": "event_id" },
              { "Name": "ts", "Column": "event_time", "Type": "timestamp" },
              { "Name": "bytes", "Type": "int64" },
              { "Name": "Latency", "Type": "double" },
              { "Name": "cached", "Type": "boolean" },
              { "Name": "geo.Country", "Column": "country" },
              { "Name": "geo.city.name", "Column": "city" },
              { "Name": "page.url", "Type": "string" },
              { "Name": "page.Referrer-Url", "Column": "referrer" },
            ],
            "EventTime": "ts"
          },
          "aggregations": [
            { "Table": "traffic_by_country", "GroupBy": ["country"], "Metrics": [
              { "Column": "hits", "Function": "count" },
              { "Column": "total_bytes", "Function": "sum", "Field": "bytes" },
              { "Column": "min_latency", "Function": "min", "Field": "latency" },
              { "Column": "last_seen", "Function": "max", "Field": "ts" },
              { "Column": "cities", "Function": "count_distinct", "Field": "city" } ] },
            { "Table": "hits_by_page", "GroupBy": ["page.url", "cached"], "Format": "json" }
          ],
          "Catalog": { "RawDatabase": "web_raw", "AggregatedDatabase": "web_aggregated" },
          "RejectedThreshold": 0.05,
          "Retry": { "MaxAttempts": 5 }
        }
        """;

    private readonly DirectoryInfo _dir;

    public CustomSettingsApp()
    {
        _dir = Directory.CreateTempSubdirectory("tally-cdk-settings-");
        var lambda = _dir.CreateSubdirectory("lambda");
        File.WriteAllText(Path.Combine(lambda.FullName, "placeholder.txt"), "The template tests do not publish the Lambda.");
        var file = Path.Combine(_dir.FullName, "settings.json");
        File.WriteAllText(file, Settings);
        var app = new App(new AppProps
        {
            Context = new Dictionary<string, object>
            {
                ["tally:lambdaAssetDir"] = lambda.FullName,
                ["tally:settings"] = Path.GetRelativePath(TemplateJson.RepositoryRoot(), file),
            },
        });
        var stacks = TallyApp.Build(app);
        Data = Template.FromStack(stacks.Data);
        Etl = Template.FromStack(stacks.Etl);
        Orchestration = Template.FromStack(stacks.Orchestration);
    }

    public Template Data { get; }
    public Template Etl { get; }
    public Template Orchestration { get; }

    public void Dispose() => _dir.Delete(recursive: true);
}

public class CustomSettingsTests(CustomSettingsApp app) : IClassFixture<CustomSettingsApp>
{
    [Fact]
    public void Catalog_HasTheSettingsDatabases()
    {
        Assert.Equal(["web_aggregated", "web_raw"], TemplateJson.Resources(app.Data, "AWS::Glue::Database")
            .Select(r => r.Resource.GetProperty("Properties").GetProperty("DatabaseInput").GetProperty("Name").GetString())
            .Order(StringComparer.Ordinal));
        Assert.Equal(["hits_by_page", "raw_data", "traffic_by_country"], TemplateJson.Resources(app.Data, "AWS::Glue::Table")
            .Select(r => r.Resource.GetProperty("Properties").GetProperty("TableInput").GetProperty("Name").GetString())
            .Order(StringComparer.Ordinal));
    }

    [Fact]
    public void RawTable_HasTheDeclaredColumns_WithNestedFieldsAsStructsOfTheirTopLevelKey()
    {
        var (database, input) = Table("raw_data");
        var storage = input.GetProperty("StorageDescriptor");

        Assert.Equal("web_raw", database);
        Assert.Equal(
            [
                "event_id string",
                "event_time string",
                "bytes bigint",
                "latency double",
                "cached boolean",
                "geo struct<country:string,city:struct<name:string>>",
                "page struct<url:string,referrer_url:string>",
            ],
            Columns(storage.GetProperty("Columns")));
        Assert.Equal(["year string", "month string", "day string", "hour string"], Columns(input.GetProperty("PartitionKeys")));
        Assert.Equal("org.openx.data.jsonserde.JsonSerDe", storage.GetProperty("SerdeInfo").GetProperty("SerializationLibrary").GetString());
    }

    [Fact]
    public void RawTable_MapsEveryNameThatIsNotItsJsonKeyInLowerCase()
    {
        var parameters = Table("raw_data").Input.GetProperty("StorageDescriptor").GetProperty("SerdeInfo").GetProperty("Parameters")
            .EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());

        Assert.Equal(
            new Dictionary<string, string?>
            {
                ["case.insensitive"] = "TRUE",
                ["ignore.malformed.json"] = "TRUE",
                ["mapping.event_id"] = "eventid",
                ["mapping.event_time"] = "ts",
                ["mapping.referrer_url"] = "referrer-url",
            },
            parameters);
    }

    [Fact]
    public void AggregatedTable_WithMetrics_HasTheGroupColumnThenEachMetricWithItsType()
    {
        var (database, input) = Table("traffic_by_country");
        var storage = input.GetProperty("StorageDescriptor");

        Assert.Equal("web_aggregated", database);
        Assert.Equal(
            ["country string", "hits bigint", "total_bytes bigint", "min_latency double", "last_seen timestamp", "cities bigint"],
            Columns(storage.GetProperty("Columns")));
        Assert.Equal(["year string", "month string", "day string", "hour string"], Columns(input.GetProperty("PartitionKeys")));
        Assert.Equal("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe", storage.GetProperty("SerdeInfo").GetProperty("SerializationLibrary").GetString());
        Assert.Equal("s3://${TOKEN}/aggregated_data/traffic_by_country/", TemplateJson.Flatten(storage.GetProperty("Location")));
    }

    [Fact]
    public void AggregatedTable_InJson_HasItsGroupColumnsInFieldOrderThenHitcount()
    {
        var (_, input) = Table("hits_by_page");
        var storage = input.GetProperty("StorageDescriptor");

        Assert.Equal(["cached boolean", "page_url string", "hitcount bigint"], Columns(storage.GetProperty("Columns")));
        Assert.Equal("org.openx.data.jsonserde.JsonSerDe", storage.GetProperty("SerdeInfo").GetProperty("SerializationLibrary").GetString());
        Assert.Equal("json", input.GetProperty("Parameters").GetProperty("classification").GetString());
    }

    [Fact]
    public void NamedQueries_FollowTheTables_AndSelectTheDeclaredRawColumnsOutOfTheStructs()
    {
        var queries = TemplateJson.Resources(app.Data, "AWS::Athena::NamedQuery")
            .Select(r => r.Resource.GetProperty("Properties"))
            .Select(p => (Database: p.GetProperty("Database").GetString(), Sql: p.GetProperty("QueryString").GetString()))
            .OrderBy(q => q.Sql, StringComparer.Ordinal)
            .ToList();

        Assert.Equal(
            [
                ("web_raw", """SELECT "event_id", "event_time", "bytes", "latency", "cached", "geo"."country" AS "country", "geo"."city"."name" AS "city", "page"."url" AS "page_url", "page"."referrer_url" AS "referrer" FROM "web_raw"."raw_data" WHERE year = '2026' AND month = '11' AND day = '24' AND hour = '13' limit 10;"""),
                ("web_aggregated", """SELECT * FROM "web_aggregated"."hits_by_page" WHERE year = '2026' AND month = '11' AND day = '24' AND hour = '13';"""),
                ("web_aggregated", """SELECT * FROM "web_aggregated"."traffic_by_country" WHERE year = '2026' AND month = '11' AND day = '24' AND hour = '13';"""),
            ],
            queries);
    }

    [Fact]
    public void Job_GetsTheDeclaration_AsSpecsWithMetricsAndTheSourceSchema()
    {
        var arguments = TemplateJson.Single(app.Etl, "AWS::Glue::Job").GetProperty("Properties").GetProperty("DefaultArguments");
        var specs = arguments.GetProperty("--specs").GetString();
        var source = arguments.GetProperty("--source").GetString();

        Assert.Equal(
            """[{"table":"traffic_by_country","groupBy":["country"],"format":"parquet","metrics":[{"column":"hits","function":"count"},{"column":"total_bytes","function":"sum","field":"bytes"},{"column":"min_latency","function":"min","field":"latency"},{"column":"last_seen","function":"max","field":"ts"},{"column":"cities","function":"count_distinct","field":"city"}]},{"table":"hits_by_page","groupBy":["page.url","cached"],"format":"json"}]""",
            specs);
        Assert.Equal(
            """{"fields":[{"name":"EventId","column":"event_id","type":"string"},{"name":"ts","column":"event_time","type":"timestamp"},{"name":"bytes","column":"bytes","type":"int64"},{"name":"Latency","column":"latency","type":"double"},{"name":"cached","column":"cached","type":"boolean"},{"name":"geo.Country","column":"country","type":"string"},{"name":"geo.city.name","column":"city","type":"string"},{"name":"page.url","column":"page_url","type":"string"},{"name":"page.Referrer-Url","column":"referrer","type":"string"}],"event_time":"ts"}""",
            source);
        // The Python tests parse these same files, so the script reads what the CDK app passes.
        Assert.Equal(GlueFixture("custom_specs.json"), specs);
        Assert.Equal(GlueFixture("custom_source.json"), source);
    }

    [Fact]
    public void BothEngines_GetTheDeclaredSourceTablesAndRejectedThreshold()
    {
        var arguments = TemplateJson.Single(app.Etl, "AWS::Glue::Job").GetProperty("Properties").GetProperty("DefaultArguments");
        var payload = OrchestrationStackTests.Definition(app.Orchestration).GetProperty("States").GetProperty("AggregateHour").GetProperty("Parameters").GetProperty("Payload");

        Assert.Equal("0.05", arguments.GetProperty("--max_rejected_share").GetString());
        Assert.Equal(0.05, payload.GetProperty("rejected_threshold").GetDouble());
        Assert.Equal(arguments.GetProperty("--specs").GetString(), payload.GetProperty("specs").GetString());
        Assert.Equal(arguments.GetProperty("--source").GetString(), payload.GetProperty("source").GetString());
        Assert.Equal(GlueFixture("custom_source.json"), payload.GetProperty("source").GetString());
    }

    internal static string GlueFixture(string name) =>
        File.ReadAllText(Path.Combine(TemplateJson.RepositoryRoot(), "glue", "tests", name)).Trim();

    private (string? Database, JsonElement Input) Table(string name) =>
        TemplateJson.Resources(app.Data, "AWS::Glue::Table")
            .Select(r => r.Resource.GetProperty("Properties"))
            .Select(p => (Database: DatabaseName(p.GetProperty("DatabaseName")), Input: p.GetProperty("TableInput")))
            .Single(t => t.Input.GetProperty("Name").GetString() == name);

    /// <summary>The name of the database a table's <c>{"Ref": ...}</c> points to.</summary>
    private string? DatabaseName(JsonElement reference) =>
        TemplateJson.Resources(app.Data, "AWS::Glue::Database")
            .Single(d => d.Id == reference.GetProperty("Ref").GetString())
            .Resource.GetProperty("Properties").GetProperty("DatabaseInput").GetProperty("Name").GetString();

    private static List<string> Columns(JsonElement columns) =>
        [.. columns.EnumerateArray().Select(c => $"{c.GetProperty("Name").GetString()} {c.GetProperty("Type").GetString()}")];
}
