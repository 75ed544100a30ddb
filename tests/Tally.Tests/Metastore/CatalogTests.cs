using Microsoft.Data.Sqlite;
using Tally.Engine;
using Tally.Metastore;
using Tally.Synthetic;

namespace Tally.Tests.Metastore;

/// <summary>The SQLite metastore: the seed's tables, partitions registered by runs, raw partitions found in folders, concurrent use.</summary>
public sealed class CatalogTests : IDisposable
{
    private static readonly HourWindow Hour = HourWindow.Parse("2026-11-24T13");
    private readonly TempDataFolder _data = new();

    private string StateDirectory => Path.Combine(_data.Root, ".tally");

    [Fact]
    public async Task Open_RegistersTheSeedTables_WithTheirSchemas()
    {
        var catalog = await Catalog.OpenAsync(StateDirectory, _data.Store, new TallyOptions());

        var tables = (await catalog.ListTablesAsync()).Select(t => t.Table).ToList();

        Assert.Equal(["demo-aggregated-data", "demo-raw-data"], await catalog.ListDatabasesAsync());
        Assert.Equal(
            ["demo-aggregated-data.hits_by_country parquet aggregated_data/hits_by_country countrycode:string,hitcount:bigint",
             "demo-aggregated-data.hits_by_domain_and_groupid json aggregated_data/hits_by_domain_and_groupid groupid:bigint,domain:string,hitcount:bigint",
             "demo-aggregated-data.hits_by_useragent parquet aggregated_data/hits_by_useragent useragent:string,hitcount:bigint",
             "demo-raw-data.raw_data json raw_data groupid:bigint,countrycode:string,useragent:string,language:string,domain:string,timestamp:string"],
            tables.Select(t => $"{t.QualifiedName} {t.Format} {t.Location} {string.Join(',', t.Columns.Select(c => $"{c.Name}:{c.CatalogType}"))}"));
        Assert.All(tables.Where(t => t.Database == "demo-aggregated-data"), t => Assert.Equal(["year", "month", "day", "hour"], t.PartitionKeys.Select(k => k.Name)));
        Assert.Equal(["year", "month", "day", "hour", "minute"], tables.Single(t => t.Name == "raw_data").PartitionKeys.Select(k => k.Name));
        Assert.All(tables.SelectMany(t => t.PartitionKeys), k => Assert.Equal("string", k.CatalogType));
        Assert.Equal(Path.Combine(StateDirectory, "metastore.db"), catalog.FilePath);
    }

    [Fact]
    public async Task Open_PutsTheFileInWalMode_AndIsIdempotent()
    {
        await Catalog.OpenAsync(StateDirectory, _data.Store, new TallyOptions());
        await Catalog.OpenAsync(StateDirectory, _data.Store, new TallyOptions());

        using var connection = new SqliteConnection($"Data Source={Path.Combine(StateDirectory, Catalog.FileName)};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", command.ExecuteScalar());
        command.CommandText = "SELECT count(*) FROM tables";
        Assert.Equal(4L, command.ExecuteScalar());
    }

    [Fact]
    public async Task Open_ReplacesATableDefinition_WhenItsFormatChanges()
    {
        await Catalog.OpenAsync(StateDirectory, _data.Store, new TallyOptions());
        var json = AggregationSpec.Defaults.Select(s => s with { Format = TableFormat.Json }).ToList();

        var catalog = await Catalog.OpenAsync(StateDirectory, _data.Store, new TallyOptions { Aggregations = json });

        Assert.Equal("json", (await catalog.FindTableAsync("demo-aggregated-data", "hits_by_country"))!.Format);
    }

    [Fact]
    public async Task RecordRun_RegistersEachTablesPartition_WithRowsBytesRunAndFingerprint()
    {
        await new RawDataGenerator(_data.Store).GenerateAsync(new GeneratorOptions(Hour, 1, 3_000, Seed: 4));
        var catalog = await Catalog.OpenAsync(StateDirectory, _data.Store, new TallyOptions());
        var report = await new HourAggregationJob(_data.Store, new TallyOptions()).RunAsync(Hour);

        await catalog.RecordRunAsync(report, "run-1");

        foreach (var output in report.Tables)
        {
            var partition = Assert.Single(await catalog.ListPartitionsAsync("demo-aggregated-data", output.Table));
            Assert.Equal(["2026", "11", "24", "13"], partition.Values);
            Assert.Equal($"aggregated_data/{output.Table}/year=2026/month=11/day=24/hour=13", partition.Location);
            Assert.Equal(output.Rows, partition.Rows);
            Assert.Equal(new FileInfo(_data.PathOf(output.Key)).Length, partition.Bytes);
            Assert.Equal("run-1", partition.RunId);
            Assert.Equal(report.InputFingerprint, partition.InputFingerprint);
        }
        var summary = (await catalog.ListTablesAsync()).Single(t => t.Table.Name == "hits_by_country");
        Assert.Equal((1L, report.Tables.Single(t => t.Table == "hits_by_country").Rows), (summary.Partitions, summary.Rows!.Value));
    }

    [Fact]
    public async Task RecordRun_ReplacesThePartitions_OnRerun()
    {
        await new RawDataGenerator(_data.Store).GenerateAsync(new GeneratorOptions(Hour, 1, 3_000, Seed: 4));
        var catalog = await Catalog.OpenAsync(StateDirectory, _data.Store, new TallyOptions());
        var job = new HourAggregationJob(_data.Store, new TallyOptions());
        var first = await job.RunAsync(Hour);
        await catalog.RecordRunAsync(first, "run-1");
        _data.WriteRaw(Hour, 59, "late.json", "{\"GroupID\": 123456, \"CountryCode\": \"QQ\", \"Domain\": \"late.example\", \"UserAgent\": \"Late/1\"}\n");

        var second = await job.RunAsync(Hour);
        await catalog.RecordRunAsync(second, "run-2");

        var partition = Assert.Single(await catalog.ListPartitionsAsync("demo-aggregated-data", "hits_by_country"));
        Assert.Equal("run-2", partition.RunId);
        Assert.Equal(second.Tables.Single(t => t.Table == "hits_by_country").Rows, partition.Rows);
        Assert.Equal(first.Tables.Single(t => t.Table == "hits_by_country").Rows + 1, partition.Rows);
        Assert.NotEqual(first.InputFingerprint, partition.InputFingerprint);
        Assert.Equal(60, (await catalog.ListPartitionsAsync("demo-raw-data", "raw_data")).Count);
    }

    [Fact]
    public async Task DiscoverRawPartitions_FindsEveryMinuteFolderWithData_PaddedOrNot()
    {
        _data.WriteRaw(Hour, 0, "a.json", "{\"GroupID\": 1}\n");
        _data.WriteRaw(Hour, 0, "b.json.gz", "{\"GroupID\": 2}\n", gzip: true);
        _data.WriteRawBytes("raw_data/year=2026/month=11/day=24/hour=13/minute=7/c.jsonl", "{\"GroupID\": 3}\n"u8.ToArray());
        _data.WriteRawBytes("raw_data/year=2026/month=1/day=5/hour=3/minute=59/d.json", "{\"GroupID\": 4}\n"u8.ToArray());
        _data.WriteRawBytes("raw_data/year=2026/month=11/day=24/hour=13/minute=30/_ignored.json", "{}"u8.ToArray());
        // Any name is data (Hive's rule): a note makes its minute a partition; only names starting with '.' or '_' do not.
        _data.WriteRawBytes("raw_data/year=2026/month=11/day=24/hour=13/minute=31/notes.txt", "not data"u8.ToArray());
        _data.WriteRawBytes("raw_data/year=2026/month=11/day=24/hour=13/stray.json", "{}"u8.ToArray());
        var catalog = await Catalog.OpenAsync(StateDirectory, _data.Store, new TallyOptions());

        var found = await catalog.DiscoverRawPartitionsAsync(null);

        var partitions = await catalog.ListPartitionsAsync("demo-raw-data", "raw_data");
        Assert.Equal(4, found);
        Assert.Equal(
            ["2026/11/24/13/7 raw_data/year=2026/month=11/day=24/hour=13/minute=7",
             "2026/11/24/13/31 raw_data/year=2026/month=11/day=24/hour=13/minute=31",
             "2026/11/24/13/00 raw_data/year=2026/month=11/day=24/hour=13/minute=00",
             "2026/1/5/3/59 raw_data/year=2026/month=1/day=5/hour=3/minute=59"],
            partitions.Select(p => $"{string.Join('/', p.Values)} {p.Location}"));
        var minute0 = partitions.Single(p => p.Values[4] == "00");
        Assert.Equal(new FileInfo(_data.PathOf(DataLayout.RawMinutePrefix(Hour, 0) + "/a.json")).Length
            + new FileInfo(_data.PathOf(DataLayout.RawMinutePrefix(Hour, 0) + "/b.json.gz")).Length, minute0.Bytes);
        Assert.Null(minute0.Rows);
        Assert.Null(minute0.RunId);
        Assert.StartsWith("sha256:", minute0.InputFingerprint);
    }

    [Fact]
    public async Task DiscoverRawPartitions_OfOneHour_LeavesOtherHoursAndDropsVanishedMinutes()
    {
        _data.WriteRaw(Hour, 1, "a.json", "{}\n");
        _data.WriteRaw(Hour, 2, "a.json", "{}\n");
        _data.WriteRaw(Hour.AddHours(1), 3, "a.json", "{}\n");
        var catalog = await Catalog.OpenAsync(StateDirectory, _data.Store, new TallyOptions());
        await catalog.DiscoverRawPartitionsAsync(null);
        Directory.Delete(_data.PathOf(DataLayout.RawMinutePrefix(Hour, 2)), recursive: true);

        await catalog.DiscoverRawPartitionsAsync(Hour);

        Assert.Equal(["2026/11/24/14/03", "2026/11/24/13/01"],
            (await catalog.ListPartitionsAsync("demo-raw-data", "raw_data")).Select(p => string.Join('/', p.Values)));
    }

    [Fact]
    public async Task Readers_SeeTheLastCommittedState_WhileAWriterHoldsItsTransaction()
    {
        var catalog = await Catalog.OpenAsync(StateDirectory, _data.Store, new TallyOptions());
        _data.WriteRaw(Hour, 1, "a.json", "{}\n");
        await catalog.DiscoverRawPartitionsAsync(null);

        using var writer = new SqliteConnection($"Data Source={catalog.FilePath};Pooling=False");
        writer.Open();
        using var transaction = writer.BeginTransaction();
        using (var insert = writer.CreateCommand())
        {
            insert.CommandText = """
                INSERT INTO partitions (database_name, table_name, partition_values, partition_hour, location, row_count, bytes, written_at)
                VALUES ('demo-raw-data', 'raw_data', '["2026","11","24","13","02"]', '2026-11-24T13', 'raw_data/x', NULL, 1, '2026-11-24T14:00:00.000Z')
                """;
            insert.ExecuteNonQuery();
        }

        // Readers in other connections neither wait nor fail, and do not see the uncommitted row.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var during = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => catalog.ListPartitionsAsync("demo-raw-data", "raw_data"))));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"readers waited {clock.Elapsed} for the writer");
        Assert.All(during, partitions => Assert.Single(partitions));

        transaction.Commit();
        Assert.Equal(2, (await catalog.ListPartitionsAsync("demo-raw-data", "raw_data")).Count);
    }

    [Fact]
    public async Task ConcurrentWritersAndReaders_AllSucceed()
    {
        await new RawDataGenerator(_data.Store).GenerateAsync(new GeneratorOptions(Hour, 1, 500, Seed: 2));
        var report = await new HourAggregationJob(_data.Store, new TallyOptions()).RunAsync(Hour);
        var catalogs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Catalog.OpenAsync(StateDirectory, _data.Store, new TallyOptions())));

        await Task.WhenAll(catalogs.SelectMany((catalog, i) => new[]
        {
            Task.Run(async () =>
            {
                for (var run = 0; run < 5; run++) await catalog.RecordRunAsync(report, $"run-{i}-{run}");
            }),
            Task.Run(async () =>
            {
                for (var read = 0; read < 10; read++) await catalog.ListTablesAsync();
            }),
        }));

        var partition = Assert.Single(await catalogs[0].ListPartitionsAsync("demo-aggregated-data", "hits_by_useragent"));
        Assert.EndsWith("-4", partition.RunId);
    }

    [Fact]
    public void NewRunId_SortsByTime()
    {
        var earlier = Catalog.NewRunId(new FixedTime(DateTimeOffset.Parse("2026-11-24T13:59:59.999Z", System.Globalization.CultureInfo.InvariantCulture)));
        var later = Catalog.NewRunId(new FixedTime(DateTimeOffset.Parse("2026-11-24T14:00:00.000Z", System.Globalization.CultureInfo.InvariantCulture)));

        Assert.StartsWith("run-20261124T135959999Z-", earlier);
        Assert.True(string.CompareOrdinal(earlier, later) < 0);
        Assert.NotEqual(Catalog.NewRunId(TimeProvider.System), Catalog.NewRunId(TimeProvider.System));
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    public void Dispose() => _data.Dispose();
}
