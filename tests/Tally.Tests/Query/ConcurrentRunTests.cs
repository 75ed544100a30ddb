using System.Text;
using Tally.Metastore;
using Tally.Query;
using Tally.Synthetic;

namespace Tally.Tests.Query;

/// <summary>Queries while another writer reruns the same hour see the old rows or the new rows, never a mix and never an error.</summary>
public sealed class ConcurrentRunTests : IDisposable
{
    private static readonly HourWindow Hour = HourWindow.Parse("2026-11-24T13");
    private static readonly string[] Queries = [SeedQueries.HitsByCountry, SeedQueries.HitsByDomainAndGroupId, SeedQueries.HitsByUserAgent];
    private readonly TempDataFolder _data = new();
    private readonly DuckDbOracle _oracle = new();

    [Fact]
    public async Task Query_ReturnsOldOrNewRows_WhileAnotherWriterRewritesTheHour()
    {
        await new RawDataGenerator(_data.Store).GenerateAsync(new GeneratorOptions(Hour, 1, 4_000, Seed: 21));
        var readerCatalog = await QueryTestData.OpenCatalogAsync(_data);
        var without = await StateAsync(readerCatalog, extra: false);
        var with = await StateAsync(readerCatalog, extra: true);
        for (var i = 0; i < Queries.Length; i++) Assert.NotEqual(without[i], with[i]);

        // The writer: its own catalog (own SQLite connections), rerunning the hour with and without the extra file.
        var writerCatalog = await QueryTestData.OpenCatalogAsync(_data);
        using var done = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            try
            {
                for (var run = 0; run < 40; run++)
                {
                    SetExtraFile(run % 2 == 0);
                    await QueryTestData.RunAndRecordAsync(_data, writerCatalog, Hour);
                }
            }
            finally
            {
                await done.CancelAsync();
            }
        });

        var queries = 0;
        while (!done.IsCancellationRequested)
        {
            using var service = await QueryService.OpenAsync(readerCatalog, _data.Root);
            for (var repeat = 0; repeat < 3; repeat++)
            {
                for (var i = 0; i < Queries.Length; i++)
                {
                    var rows = Sorted(QueryTestData.Run(service, Queries[i]).Rows);
                    Assert.True(rows == without[i] || rows == with[i], $"{Queries[i]} returned rows that are neither the old nor the new hour");
                    queries++;
                }
            }
            var partitions = await readerCatalog.ListPartitionsAsync("demo-aggregated-data", "hits_by_country");
            Assert.Single(partitions);
        }
        await writer;

        Assert.True(queries >= Queries.Length, "no query ran while the writer was running");
    }

    [Fact]
    public async Task OpenService_PinsTheAggregatedFilesInASnapshot_UntilDisposed()
    {
        await new RawDataGenerator(_data.Store).GenerateAsync(new GeneratorOptions(Hour, 1, 500, Seed: 3));
        var catalog = await QueryTestData.OpenCatalogAsync(_data);
        await QueryTestData.RunAndRecordAsync(_data, catalog, Hour);
        var snapshots = _data.PathOf(QueryService.SnapshotsFolder);

        using (var service = await QueryService.OpenAsync(catalog, _data.Root))
        {
            var snapshot = Assert.Single(Directory.GetDirectories(snapshots));
            var linked = Directory.GetFiles(snapshot, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(snapshot, f).Replace('\\', '/')).Order();
            Assert.Equal(AggregationSpec.Defaults.Select(s => DataLayout.TableFile(s, Hour)).Order(), linked);
            var before = Sorted(QueryTestData.Run(service, SeedQueries.HitsByCountry).Rows);

            // A rerun replaces the file under its name; the open service keeps answering from the file it pinned.
            SetExtraFile(true);
            await QueryTestData.RunAndRecordAsync(_data, catalog, Hour);
            Assert.Equal(before, Sorted(QueryTestData.Run(service, SeedQueries.HitsByCountry).Rows));
        }

        Assert.Empty(Directory.GetDirectories(snapshots));
    }

    /// <summary>Runs the hour with or without the extra file and returns each query's rows (sorted), checked against DuckDB over the raw files.</summary>
    private async Task<string[]> StateAsync(Catalog catalog, bool extra)
    {
        SetExtraFile(extra);
        await QueryTestData.RunAndRecordAsync(_data, catalog, Hour);
        using var service = await QueryService.OpenAsync(catalog, _data.Root);
        var rows = Queries.Select(q => Sorted(QueryTestData.Run(service, q).Rows)).ToArray();
        var expected = AggregationSpec.Defaults.Select(s => Sorted(QueryTestData.ExpectedWithPartition(_oracle, _data.Root, Hour, s).ToList())).ToArray();
        Assert.Equal(expected, rows);
        return rows;
    }

    private void SetExtraFile(bool present)
    {
        var key = DataLayout.RawMinutePrefix(Hour, 30) + "/extra.json";
        if (!present)
        {
            File.Delete(_data.PathOf(key));
            return;
        }
        var lines = new StringBuilder();
        for (var i = 0; i < 300; i++)
        {
            lines.Append("{\"GroupID\": ").Append(9000 + i % 7).Append(", \"CountryCode\": \"ZZ\", \"UserAgent\": \"ConcurrencyBot/1.0\", ")
                .Append("\"Language\": \"en\", \"Domain\": \"concurrent.example\", \"Timestamp\": \"2026-11-24T13:30:00Z\"}\n");
        }
        _data.WriteRawBytes(key, Encoding.UTF8.GetBytes(lines.ToString()));
    }

    private static string Sorted(IReadOnlyList<string> rows) => string.Join('\n', rows.Order(StringComparer.Ordinal));

    public void Dispose()
    {
        _oracle.Dispose();
        _data.Dispose();
    }
}
