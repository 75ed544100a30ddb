using Tally.Engine;
using Tally.Metastore;
using Tally.Query;
using Tally.Storage;
using Tally.Synthetic;
using Tally.Tests.Query;

namespace Tally.Tests.Storage;

/// <summary>The seed's queries over data in S3, read through the local cache, checked against DuckDB over a local copy of the raw files.</summary>
[Collection(S3rverCollection.Name)]
public sealed class S3QueryTests(S3rverFixture s3) : IDisposable
{
    private static readonly HourWindow First = HourWindow.Parse("2026-11-24T13");
    private static readonly HourWindow Second = HourWindow.Parse("2026-11-24T14");
    private readonly TempDataFolder _local = new();
    private readonly TempDataFolder _state = new();
    private readonly DuckDbOracle _oracle = new();

    [S3Fact]
    public async Task SeedQueries_OverS3_ReturnWhatDuckDbCountsFromTheRawFiles()
    {
        using var store = await s3.NewStoreAsync("tally");
        var catalog = await GenerateAndRunAsync(store);
        await _local.CopyFromAsync(store, DataLayout.RawPrefix + "/");

        using var service = await QueryService.OpenAsync(catalog, store, _state.Root);
        foreach (var (sql, table) in new[]
        {
            (SeedQueries.HitsByCountry, "hits_by_country"),
            (SeedQueries.HitsByDomainAndGroupId, "hits_by_domain_and_groupid"),
            (SeedQueries.HitsByUserAgent, "hits_by_useragent"),
        })
        {
            var spec = AggregationSpec.Defaults.Single(s => s.Table == table);
            var expected = new[] { First, Second }.SelectMany(h => QueryTestData.ExpectedWithPartition(_oracle, _local.Root, h, spec)).Order(StringComparer.Ordinal);
            Assert.Equal(expected, QueryTestData.Run(service, sql).Rows.Order(StringComparer.Ordinal));
        }
        var raw = QueryTestData.Run(service, SeedQueries.RawData);
        Assert.Equal(10, raw.Rows.Count);
        Assert.Equal(["12000"], QueryTestData.Run(service, """SELECT count(*) FROM "demo-raw-data"."raw_data" """).Rows);
    }

    [S3Fact]
    public async Task Query_SeesARerunHour_AndDownloadsOnlyChangedObjects()
    {
        using var store = await s3.NewStoreAsync("tally");
        var catalog = await GenerateAndRunAsync(store);
        const string total = """SELECT sum(hitcount)::BIGINT FROM "demo-aggregated-data"."hits_by_country" """;
        using (var before = await QueryService.OpenAsync(catalog, store, _state.Root)) Assert.Equal(["12000"], QueryTestData.Run(before, total).Rows);
        var unchanged = Path.Combine(_state.Root, "cache", DataLayout.TableFile(AggregationSpec.Defaults[0], Second));
        var unchangedTime = File.GetLastWriteTimeUtc(unchanged);

        await S3ObjectStoreTests.WriteAsync(store, DataLayout.RawMinutePrefix(First, 7) + "/extra.json",
            """{"GroupID": 1, "CountryCode": "ZZ", "UserAgent": "x", "Language": "en", "Domain": "d", "Timestamp": "2026-11-24T13:07:00Z"}""" + "\n");
        await new HourAggregationJob(store, new TallyOptions()).RunAsync(First);

        using var after = await QueryService.OpenAsync(catalog, store, _state.Root);
        Assert.Equal(["12001"], QueryTestData.Run(after, total).Rows);
        Assert.Equal(["ZZ|1"], QueryTestData.Run(after, """SELECT countrycode, hitcount FROM "demo-aggregated-data"."hits_by_country" WHERE countrycode = 'ZZ'""").Rows);
        Assert.Equal(unchangedTime, File.GetLastWriteTimeUtc(unchanged));
    }

    private async Task<Catalog> GenerateAndRunAsync(S3ObjectStore store)
    {
        await new RawDataGenerator(store).GenerateAsync(new GeneratorOptions(First, 2, 6_000, Seed: 5));
        var catalog = await Catalog.OpenAsync(_state.Root, store, new TallyOptions());
        foreach (var hour in new[] { First, Second })
        {
            var report = await new HourAggregationJob(store, new TallyOptions()).RunAsync(hour);
            Assert.Equal(RunStatus.Succeeded, report.Status);
            await catalog.RecordRunAsync(report, Catalog.NewRunId(TimeProvider.System));
        }
        return catalog;
    }

    public void Dispose()
    {
        _oracle.Dispose();
        _local.Dispose();
        _state.Dispose();
    }
}
