using System.Text.Json;

namespace Tally.Cli.Tests;

/// <summary><c>tally run</c> on a team's own events, declared in a settings file: what it writes, and how it refuses a bad declaration.</summary>
public class DeclaredSchemaFacts
{
    private const string Settings = """
        {
          "Source": {
            "Fields": [
              { "Name": "geo.country", "Column": "country", "Type": "string" },
              { "Name": "bytes", "Type": "int64" },
              { "Name": "user", "Type": "string" },
              { "Name": "ts", "Type": "timestamp" }
            ],
            "EventTime": "ts"
          },
          "Aggregations": [
            { "Table": "views_by_country", "GroupBy": ["country"], "Format": "parquet",
              "Metrics": [ { "Column": "hits", "Function": "count" }, { "Column": "bytes", "Function": "sum", "Field": "bytes" },
                           { "Column": "users", "Function": "count_distinct", "Field": "user" } ] }
          ],
          "Catalog": { "RawDatabase": "web-raw", "AggregatedDatabase": "web" }
        }
        """;

    private static readonly string[] Records =
    [
        """{"geo": {"country": "DE"}, "bytes": 100, "user": "a", "ts": "2026-11-24T13:00:01Z", "ua": {"name": "x"}}""",
        """{"geo": {"country": "DE"}, "bytes": 50, "user": "a", "ts": "2026-11-24T13:10:00Z"}""",
        """{"geo": {"country": "DE"}, "bytes": null, "user": "b", "ts": "2026-11-24T14:10:00Z"}""",
        """{"geo": {"country": "FR"}, "user": null}""",
        """{"bytes": 7}""",
    ];

    private static void WriteRaw(TempFolder data, string name, IEnumerable<string> lines)
    {
        var folder = Path.Combine(data.Path, "raw_data", "year=2026", "month=11", "day=24", "hour=13", "minute=05");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, name), string.Join('\n', lines) + "\n");
    }

    [Fact]
    public async Task Run_WithADeclaredSchema_WritesTheDeclaredTable_AndQueryReadsIt()
    {
        using var data = new TempFolder();
        var settings = data.Sub("settings.json");
        File.WriteAllText(settings, Settings);
        WriteRaw(data, "events.json", Records);

        var result = await Tally.RunAsync("run", "--data", data.Path, "--hour", "2026-11-24T13", "--settings", settings, "--format", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var report = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.Equal(5, report.GetProperty("records").GetInt64());
        Assert.Equal(1, report.GetProperty("outside_window").GetInt64());
        Assert.Equal("views_by_country", Assert.Single(report.GetProperty("tables").EnumerateArray()).GetProperty("table").GetString());
        var query = await Tally.RunAsync("query", "--data", data.Path, "--settings", settings, "--format", "csv",
            """SELECT country, hits, bytes, users FROM "web"."views_by_country" ORDER BY country NULLS FIRST""");
        Assert.True(query.ExitCode == 0, query.ToString());
        Assert.Equal(["country,hits,bytes,users", ",1,7,0", "DE,3,150,2", "FR,1,,0"], query.StdoutLines);
    }

    [Fact]
    public async Task Run_TakesEnvironmentOverrides_OfTheDeclaration()
    {
        using var data = new TempFolder();
        var settings = data.Sub("settings.json");
        File.WriteAllText(settings, Settings);
        WriteRaw(data, "events.json", Records);

        var result = await TallyProcess.Start([("TALLY_Aggregations__0__Format", "json"), ("TALLY_Aggregations__0__Table", "by_country")],
            "run", "--data", data.Path, "--hour", "2026-11-24T13", "--settings", settings).EndAsync();

        Assert.True(result.ExitCode == 0, result.ToString());
        var file = Path.Combine(data.Path, "aggregated_data", "by_country", "year=2026", "month=11", "day=24", "hour=13", "part-00000.json");
        Assert.Equal(
            ["""{"country":null,"hits":1,"bytes":7,"users":0}""", """{"country":"DE","hits":3,"bytes":150,"users":2}""", """{"country":"FR","hits":1,"bytes":null,"users":0}"""],
            File.ReadAllLines(file));
    }

    /// <summary>Each problem as a change of the good settings: the text replaced, its replacement, and the sentence expected.</summary>
    public static TheoryData<string, string, string, string> BadDeclarations => new()
    {
        { "an unknown type", "\"int64\"", "\"long\"", "Source:Fields:1:Type 'long' of 'bytes' is not a known type; use boolean, double, int64, string, timestamp." },
        { "a GroupBy naming no field", "[\"country\"]", "[\"city\"]", "Aggregations:0 (table 'views_by_country') groups by 'city', which is not a raw field" },
        {
            "two tables with one name", "{ \"Table\": \"views_by_country\"",
            "{ \"Table\": \"views_by_country\", \"GroupBy\": [\"user\"] }, { \"Table\": \"views_by_country\"", "Table 'views_by_country' is configured twice."
        },
        { "a metric without a field", "\"Field\": \"bytes\"", "\"Field\": \"\"", "Aggregations:0 (table 'views_by_country'), metric 1 ('bytes'): sum needs a Field to read." },
        { "a sum over a string", "\"sum\", \"Field\": \"bytes\"", "\"sum\", \"Field\": \"user\"", "sum over 'user', a string field; sum needs an int64 or double field." },
    };

    [Theory]
    [MemberData(nameof(BadDeclarations))]
    public async Task Run_RefusesABadDeclaration_InOneSentenceNamingTheKey_WithExitCode2_BeforeReadingAnyFile(string problem, string from, string to, string expected)
    {
        using var data = new TempFolder();
        var settings = data.Sub("settings.json");
        var broken = Settings.Replace(from, to);
        Assert.NotEqual(Settings, broken);
        File.WriteAllText(settings, broken);
        WriteRaw(data, "events.json", Records);

        var result = await Tally.RunAsync("run", "--data", data.Path, "--hour", "2026-11-24T13", "--settings", settings);

        Assert.True(result.ExitCode == 2, $"{problem}: {result}");
        var line = Assert.Single(result.StderrLines);
        Assert.Contains(expected, result.StderrText);
        Assert.StartsWith("error: ", line);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.False(Directory.Exists(Path.Combine(data.Path, "aggregated_data")), $"{problem}: a table was written");
        Assert.False(Directory.Exists(Path.Combine(data.Path, "quarantine")), $"{problem}: records were read");
    }
}
