using System.Text.Json;
using Tally.Metastore;
using Tally.Query;
using Tally.Synthetic;

namespace Tally.Tests.Query;

/// <summary>Which statements narrow a view to the partitions their WHERE clause names, read from DuckDB's own syntax tree.</summary>
public sealed class PartitionFilterTests : IDisposable
{
    private static readonly CatalogTable Country = new("demo-aggregated-data", "hits_by_country", "aggregated_data/hits_by_country", "parquet",
        [new TableColumn("countrycode", "string"), new TableColumn("hitcount", "bigint")],
        DataLayout.HourKeys.Select(k => new TableColumn(k.Key, "string")).ToList(), DateTimeOffset.UnixEpoch);

    private const string T = "\"demo-aggregated-data\".\"hits_by_country\"";
    private readonly DuckDbOracle _duckDb = new();
    private readonly TempDataFolder _data = new();

    [Theory]
    [InlineData($"SELECT * FROM {T} WHERE year = '2026' AND month = '11' AND day = '24' AND hour = '13'", "day=24 hour=13 month=11 year=2026")]
    [InlineData($"SELECT countrycode FROM {T} AS t WHERE t.hour = '13' AND hitcount > 5", "hour=13")]
    [InlineData($"SELECT * FROM {T} WHERE '13' = hour ORDER BY hitcount DESC LIMIT 3", "hour=13")]
    [InlineData($"SELECT count(*) FROM {T} WHERE \"demo-aggregated-data\".hits_by_country.HOUR = '07'", "hour=07")]
    [InlineData($"SELECT * FROM {T} WHERE hour = 13", null)] // an integer compares after a cast: '08' = 8 is true
    [InlineData($"SELECT * FROM {T} WHERE hour = '13' OR hour = '14'", null)]
    [InlineData($"SELECT * FROM {T}", null)]
    [InlineData($"SELECT * FROM {T} a JOIN {T} b USING (countrycode) WHERE a.hour = '13'", null)]
    [InlineData($"SELECT * FROM {T} WHERE hour = '13' UNION ALL SELECT * FROM {T}", null)]
    [InlineData($"SELECT * FROM {T} WHERE hour = '13' AND hitcount > (SELECT avg(hitcount) FROM {T})", null)]
    [InlineData($"WITH x AS (SELECT 1) SELECT * FROM {T} WHERE hour = '13'", null)]
    [InlineData($"SELECT * FROM \"demo-aggregated-data\".\"hits_by_useragent\" WHERE hour = '13'", null)]
    [InlineData($"SELECT * FROM {T} WHERE other.hour = '13'", null)]
    public void Find_ReadsEqualitiesOnPartitionColumns_OnlyWhenTheyBoundEveryReference(string sql, string? expected)
    {
        using var tree = JsonDocument.Parse(_duckDb.Rows($"SELECT json_serialize_sql('{sql.Replace("'", "''")}')")[0]);

        var found = PartitionFilter.Find(tree.RootElement.GetProperty("statements")[0], Country);

        Assert.Equal(expected, found is null ? null : string.Join(' ', found.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key}={f.Value}")));
    }

    [Theory]
    [InlineData("aggregated_data/hits_by_country/year=2026/month=11/day=24/hour=13/part-00000.parquet", "13", true)]
    [InlineData("aggregated_data/hits_by_country/year=2026/month=11/day=24/hour=14/part-00000.parquet", "13", false)]
    [InlineData("aggregated_data/hits_by_country/year=2026/month=11/day=24/hour=13/part-00000.parquet", "\0no partition", false)]
    public void Matches_ComparesThePartitionValuesOfAFileKey(string key, string hour, bool expected) =>
        Assert.Equal(expected, PartitionFilter.Matches(key, Country, new Dictionary<string, string> { ["hour"] = hour }));

    [Fact]
    public async Task NarrowedQueries_ReturnWhatTheFullViewReturns_AndTheFullViewComesBack()
    {
        var first = HourWindow.Parse("2026-11-24T13");
        await new RawDataGenerator(_data.Store).GenerateAsync(new GeneratorOptions(first, 3, 1_500, Seed: 8));
        var catalog = await QueryTestData.OpenCatalogAsync(_data);
        await QueryTestData.RunAndRecordAsync(_data, catalog, first, first.AddHours(1), first.AddHours(2));
        using var service = await QueryService.OpenAsync(catalog, _data.Root);

        var all = QueryTestData.Run(service, $"SELECT * FROM {T}").Rows;
        var narrowed = QueryTestData.Run(service, $"SELECT * FROM {T} WHERE hour = '14' AND year = '2026'").Rows;
        var unnarrowed = QueryTestData.Run(service, $"SELECT * FROM {T} WHERE hour || '' = '14' AND year || '' = '2026'").Rows;
        var none = QueryTestData.Run(service, $"SELECT * FROM {T} WHERE hour = '13' AND hour = '14'").Rows;
        var allAgain = QueryTestData.Run(service, $"SELECT * FROM {T}").Rows;

        Assert.NotEmpty(narrowed);
        Assert.Equal(unnarrowed.Order(StringComparer.Ordinal), narrowed.Order(StringComparer.Ordinal));
        Assert.Empty(none);
        Assert.Equal(all.Order(StringComparer.Ordinal), allAgain.Order(StringComparer.Ordinal));
        Assert.Equal(3, all.Select(r => r.Split('|')[^1]).Distinct().Count());
    }

    public void Dispose()
    {
        _duckDb.Dispose();
        _data.Dispose();
    }
}
