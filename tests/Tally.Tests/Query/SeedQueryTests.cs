using Tally.Metastore;
using Tally.Query;
using Tally.Synthetic;

namespace Tally.Tests.Query;

/// <summary>The seed's four Athena queries, verbatim, against generated hours, checked against DuckDB SQL over the raw files.</summary>
public sealed class SeedQueryTests : IDisposable
{
    private static readonly HourWindow First = HourWindow.Parse("2026-11-24T13");
    private static readonly HourWindow Second = HourWindow.Parse("2026-11-24T14");
    private static readonly HourWindow Empty = HourWindow.Parse("2026-11-24T15");
    private readonly TempDataFolder _data = new();
    private readonly DuckDbOracle _oracle = new();

    public static TheoryData<string, string> AggregatedQueries => new()
    {
        { SeedQueries.HitsByCountry, "hits_by_country" },
        { SeedQueries.HitsByDomainAndGroupId, "hits_by_domain_and_groupid" },
        { SeedQueries.HitsByUserAgent, "hits_by_useragent" },
    };

    [Theory]
    [MemberData(nameof(AggregatedQueries))]
    public async Task SeedQuery_ReturnsEveryHoursRows_AsDuckDbCountsThemFromTheRawFiles(string sql, string table)
    {
        using var service = await GenerateRunAndOpenAsync();
        var spec = AggregationSpec.Defaults.Single(s => s.Table == table);

        var (columns, rows) = QueryTestData.Run(service, sql);

        Assert.Equal(spec.Columns().Select(c => c.Name).Concat(["year", "month", "day", "hour"]), columns);
        var expected = new[] { First, Second }.SelectMany(h => QueryTestData.ExpectedWithPartition(_oracle, _data.Root, h, spec))
            .Order(StringComparer.Ordinal).ToList();
        Assert.True(expected.Count > 10, $"{table}: the oracle found too few groups");
        Assert.Equal(expected, rows.Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public async Task SeedRawQuery_ReturnsTenRawRecords_WithLowerCaseColumnsAndZeroPaddedPartitions()
    {
        using var service = await GenerateRunAndOpenAsync();

        var (columns, rows) = QueryTestData.Run(service, SeedQueries.RawData);

        Assert.Equal(["groupid", "countrycode", "useragent", "language", "domain", "timestamp", "year", "month", "day", "hour", "minute"], columns);
        Assert.Equal(10, rows.Count);
        var raw = _oracle.Rows($"""
            SELECT GroupID, CountryCode, UserAgent, Language, Domain, Timestamp, year, month, day, hour, minute
            FROM read_json('{_data.Root}/raw_data/*/*/*/*/*/*.json', format = 'newline_delimited',
                columns = {"{"}GroupID: 'BIGINT', CountryCode: 'VARCHAR', UserAgent: 'VARCHAR', Language: 'VARCHAR', Domain: 'VARCHAR', Timestamp: 'VARCHAR'{"}"},
                hive_partitioning = true, hive_types = {"{"}'year': VARCHAR, 'month': VARCHAR, 'day': VARCHAR, 'hour': VARCHAR, 'minute': VARCHAR{"}"})
            """).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(2 * 6_000, raw.Count);
        Assert.All(rows, row => Assert.Contains(row, raw));
        Assert.All(rows, row => Assert.Matches(@"\|2026\|11\|24\|1[34]\|[0-5][0-9]$", row));
    }

    [Fact]
    public async Task SeedQueries_ReturnNoRows_WhenNoTableHasFilesYet()
    {
        var catalog = await QueryTestData.OpenCatalogAsync(_data);
        using var service = await QueryService.OpenAsync(catalog, _data.Root);

        foreach (var sql in SeedQueries.All)
        {
            var (columns, rows) = QueryTestData.Run(service, sql);
            Assert.NotEmpty(columns);
            Assert.Empty(rows);
        }
    }

    [Fact]
    public async Task SeedQueries_Work_WhenAnHourHasOnlyEmptyPartitions()
    {
        var catalog = await QueryTestData.OpenCatalogAsync(_data);
        await QueryTestData.RunAndRecordAsync(_data, catalog, Empty);
        Assert.All(AggregationSpec.Defaults, s => Assert.True(File.Exists(_data.PathOf(DataLayout.TableFile(s, Empty)))));
        using var service = await QueryService.OpenAsync(catalog, _data.Root);

        foreach (var sql in SeedQueries.All) Assert.Empty(QueryTestData.Run(service, sql).Rows);
        Assert.Equal(["0"], QueryTestData.Run(service, """SELECT count(*) FROM "demo-aggregated-data"."hits_by_domain_and_groupid" WHERE hour = '15'""").Rows);
    }

    [Theory]
    [InlineData("hits_by_country")]
    [InlineData("hits_by_domain_and_groupid")]
    public async Task PartitionFilter_ReadsOnlyMatchingPartitions(string table)
    {
        using var service = await GenerateRunAndOpenAsync();
        var spec = AggregationSpec.Defaults.Single(s => s.Table == table);
        // Damage the other hour's file: a query that opened it would fail.
        File.WriteAllText(_data.PathOf(DataLayout.TableFile(spec, Second)), "this is not a table file {");

        var (_, rows) = QueryTestData.Run(service,
            $"""SELECT * FROM "demo-aggregated-data"."{table}" WHERE year = '2026' AND month = '11' AND day = '24' AND hour = '13'""");

        Assert.Equal(QueryTestData.ExpectedWithPartition(_oracle, _data.Root, First, spec).Order(StringComparer.Ordinal), rows.Order(StringComparer.Ordinal));
        // A filter Tally does not narrow by itself (IN) is still pruned by DuckDB on the Hive columns.
        var pruned = QueryTestData.Run(service, $"""SELECT * FROM "demo-aggregated-data"."{table}" WHERE hour IN ('12', '13')""").Rows;
        Assert.Equal(rows.Order(StringComparer.Ordinal), pruned.Order(StringComparer.Ordinal));
        Assert.Throws<TallyException>(() => QueryTestData.Run(service, $"""SELECT * FROM "demo-aggregated-data"."{table}" """));
    }

    [Fact]
    public async Task Query_AggregatesAcrossHours_WithBigintSums()
    {
        using var service = await GenerateRunAndOpenAsync();

        using var result = service.Execute("""
            SELECT countrycode, sum(hitcount)::BIGINT AS hits FROM "demo-aggregated-data"."hits_by_country" GROUP BY countrycode ORDER BY hits DESC
            """);
        var rows = result.Rows.ToList();

        Assert.Equal("BIGINT", result.Columns[1].Type);
        Assert.Equal(2 * 6_000L, rows.Sum(r => (long)r[1]!));
    }

    private async Task<QueryService> GenerateRunAndOpenAsync()
    {
        await new RawDataGenerator(_data.Store).GenerateAsync(new GeneratorOptions(First, 2, 6_000, Seed: 5));
        var catalog = await QueryTestData.OpenCatalogAsync(_data);
        await QueryTestData.RunAndRecordAsync(_data, catalog, First, Second);
        return await QueryService.OpenAsync(catalog, _data.Root);
    }

    public void Dispose()
    {
        _oracle.Dispose();
        _data.Dispose();
    }
}
