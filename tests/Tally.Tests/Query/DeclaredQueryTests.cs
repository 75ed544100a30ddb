using System.Globalization;
using Tally.Configuration;
using Tally.Metastore;
using Tally.Query;

namespace Tally.Tests.Query;

/// <summary>
/// tally query's views of a declared source (nested, renamed, every type) and of declared tables with a column of every
/// catalog type in Parquet and JSON Lines, checked against DuckDB reading the same files by other means.
/// </summary>
public sealed class DeclaredQueryTests : IDisposable
{
    private static readonly HourWindow Hour = HourWindow.Parse("2026-11-24T13");
    private readonly TempDataFolder _data = new();

    private string StateDirectory => Path.Combine(_data.Root, ".tally");

    private TallyOptions Options(string json)
    {
        var file = Path.Combine(_data.Root, "settings.json");
        File.WriteAllText(file, json);
        return TallySettings.Load(StateDirectory, file).ToOptions();
    }

    private async Task<QueryService> OpenAsync(string settings = DeclaredSource.Settings)
    {
        var catalog = await Catalog.OpenAsync(StateDirectory, _data.Store, Options(settings));
        return await QueryService.OpenAsync(catalog, _data.Root);
    }

    /// <summary>The oracle's rows and the view's, rendered alike: timestamps to the microsecond, doubles round-trip, booleans as true/false.</summary>
    private static string Render(object?[] row) => string.Join('|', row.Select(v => v switch
    {
        null => "NULL",
        DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => Convert.ToString(v, CultureInfo.InvariantCulture),
    }));

    private static (IReadOnlyList<QueryColumn> Columns, List<string> Rows) Run(QueryService service, string sql)
    {
        using var result = service.Execute(sql);
        var rows = result.Rows.Select(Render).Order(StringComparer.Ordinal).ToList();
        return (result.Columns, rows);
    }

    private List<string> OracleRows(string sql)
    {
        using var command = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        command.Open();
        using var set = command.CreateCommand();
        set.CommandText = "SET TimeZone = 'UTC'";
        set.ExecuteNonQuery();
        using var query = command.CreateCommand();
        query.CommandText = sql;
        using var reader = query.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read()) rows.Add(Render(Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? null : reader.GetValue(i)).ToArray()));
        return rows.Order(StringComparer.Ordinal).ToList();
    }

    [Fact]
    public async Task RawView_ReadsTheDeclaredFields_NestedAndRenamed_AsJsonExtractFindsThem()
    {
        DeclaredSource.WriteRaw(_data.Root, Hour, 400, seed: 3);
        using var service = await OpenAsync();

        var (columns, rows) = Run(service, """SELECT * FROM "web-raw"."raw_data" """);

        Assert.Equal(["user_id", "country", "geo_city", "page", "bytes", "latency_ms", "cached", "at", "os", "year", "month", "day", "hour", "minute"],
            columns.Select(c => c.Name));
        Assert.Equal(["BIGINT", "VARCHAR", "VARCHAR", "VARCHAR", "BIGINT", "DOUBLE", "BOOLEAN", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR"],
            columns.Select(c => c.Type));
        var expected = OracleRows(DeclaredSource.RawOracle(_data.Root));
        Assert.Equal(400, expected.Count);
        Assert.Equal(expected, rows);
        // The data has values of every field and of each level of nesting, so equal rows are not only nulls.
        foreach (var column in new[] { "user_id", "country", "geo_city", "page", "latency_ms", "cached", "os" })
        {
            Assert.True(Run(service, $"""SELECT count({column}) FROM "web-raw"."raw_data" """).Rows.Single() is not "0", column);
        }
        Assert.Empty(Run(service, """SELECT page FROM "web-raw"."raw_data" WHERE page = 'not the declared Page'""").Rows);
    }

    [Theory]
    [InlineData("by_country")]
    [InlineData("by_country_lines")]
    public async Task AggregatedView_HasAColumnOfEveryType_WithTheValuesDuckDbComputesFromTheRawFiles(string table)
    {
        DeclaredSource.WriteRaw(_data.Root, Hour, 600, seed: 4);
        DeclaredSource.WriteTables(_data.Root, Hour);
        using var service = await OpenAsync();

        var (columns, rows) = Run(service, $"""SELECT * FROM "web"."{table}" """);

        Assert.Equal(["country", "cached", "requests", "bytes", "latency_total", "first_at", "last_page", "users", "year", "month", "day", "hour"], columns.Select(c => c.Name));
        Assert.Equal(["VARCHAR", "BOOLEAN", "BIGINT", "BIGINT", "DOUBLE", "TIMESTAMP", "VARCHAR", "BIGINT", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR"], columns.Select(c => c.Type));
        var expected = OracleRows($"""
            SELECT country, cached, count(*), sum(bytes), sum(latency_ms), CAST(min(CAST("at" AS TIMESTAMPTZ)) AS TIMESTAMP), max(page), count(DISTINCT user_id),
                   year, month, day, hour
            FROM ({DeclaredSource.RawOracle(_data.Root)}) GROUP BY ALL
            """);
        Assert.True(expected.Count > 10, "too few groups to say much");
        Assert.Equal(expected, rows);
    }

    [Fact]
    public async Task AggregatedViews_OfBothFormats_ShowTheSameRows_AndTimestampsCompareAsUtc()
    {
        DeclaredSource.WriteRaw(_data.Root, Hour, 600, seed: 5);
        DeclaredSource.WriteTables(_data.Root, Hour);
        using var service = await OpenAsync();

        Assert.Equal(Run(service, """SELECT * FROM "web"."by_country" """).Rows, Run(service, """SELECT * FROM "web"."by_country_lines" """).Rows);
        var earliest = OracleRows($"""SELECT min(CAST("at" AS TIMESTAMPTZ)) FROM ({DeclaredSource.RawOracle(_data.Root)})""").Single();
        foreach (var table in new[] { "by_country", "by_country_lines" })
        {
            Assert.Equal([earliest], Run(service, $"""SELECT min(first_at) FROM "web"."{table}" """).Rows);
            Assert.Equal(["0"], Run(service, $"""SELECT count(*) FROM "web"."{table}" WHERE first_at < TIMESTAMP '2026-11-24 13:00:00' OR first_at >= TIMESTAMP '2026-11-24 14:00:00'""").Rows);
        }
    }

    [Fact]
    public async Task Views_AreInTheDeclaredDatabases_AndTheSeedsAreNotThere()
    {
        DeclaredSource.WriteRaw(_data.Root, Hour, 100, seed: 6);
        DeclaredSource.WriteTables(_data.Root, Hour);
        using var service = await OpenAsync();

        Assert.Equal(["web-raw.raw_data", "web.by_country", "web.by_country_lines", "web.by_os"], service.Tables.Select(t => t.QualifiedName).Order(StringComparer.Ordinal));
        Assert.Equal(["100"], Run(service, """SELECT sum(requests) FROM "web"."by_os" WHERE year = '2026' AND hour = '13'""").Rows);
        var error = Assert.Throws<TallyException>(() => Run(service, SeedQueries.HitsByCountry));
        Assert.Equal(TallyErrorKind.NotFound, error.Kind);
    }

    [Fact]
    public async Task RawTableOfAnEarlierRawDatabase_HasNoView_AndItsFilesAreNotSnapshotted()
    {
        DeclaredSource.WriteRaw(_data.Root, Hour, 100, seed: 7);
        await Catalog.OpenAsync(StateDirectory, _data.Store, new TallyOptions());
        using var service = await OpenAsync();

        Assert.DoesNotContain(service.Tables, t => t.Database == "demo-raw-data");
        var snapshots = Path.Combine(_data.Root, QueryService.SnapshotsFolder);
        Assert.Empty(Directory.Exists(snapshots) ? Directory.GetFiles(snapshots, "*.json", SearchOption.AllDirectories).Where(f => f.Contains("raw_data", StringComparison.Ordinal)) : []);
        Assert.Equal(TallyErrorKind.NotFound, Assert.Throws<TallyException>(() => Run(service, SeedQueries.RawData)).Kind);
        Assert.Equal(["100"], Run(service, """SELECT count(*) FROM "web-raw"."raw_data" """).Rows);
    }

    [Fact]
    public async Task RawView_RefusesTwoJsonNamesThatDifferOnlyInCase_InOneSentence()
    {
        DeclaredSource.WriteRaw(_data.Root, Hour, 10, seed: 8);
        using var service = await OpenAsync("""
            { "Source": { "Fields": [ { "Name": "Page" }, { "Name": "page", "Column": "page_lower" } ] },
              "Aggregations": [ { "Table": "by_page", "GroupBy": ["Page"] } ] }
            """);

        var error = Assert.Throws<TallyException>(() => Run(service, """SELECT * FROM "demo-raw-data"."raw_data" """));

        Assert.Equal(TallyErrorKind.InvalidConfiguration, error.Kind);
        Assert.Contains("'page'", error.Message);
        Assert.Contains("only in case", error.Message);
        Assert.DoesNotContain("\n", error.Message);
    }

    public void Dispose() => _data.Dispose();
}
