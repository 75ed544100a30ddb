using Tally.Engine;
using Tally.Storage;
using Tally.Synthetic;

namespace Tally.Tests.Storage;

/// <summary>
/// The engine on S3: raw hits generated into a bucket, the hour aggregated there, and the tables read back and compared with
/// DuckDB's counts over a local copy of the same raw files; once directly, once through a proxy that injects faults.
/// </summary>
[Collection(S3rverCollection.Name)]
public sealed class S3OracleTests(S3rverFixture s3) : IDisposable
{
    private static readonly HourWindow Hour = HourWindow.Parse("2026-11-24T13");
    private readonly TempDataFolder _local = new();
    private readonly DuckDbOracle _oracle = new();

    [S3Fact]
    public async Task Run_OnS3_MatchesDuckDb_ForEveryTable()
    {
        using var store = await s3.NewStoreAsync("tally", s3.Settings() with { PageSize = 25 });
        await new RawDataGenerator(store).GenerateAsync(new GeneratorOptions(Hour, 1, 30_000, Seed: 7, FilesPerMinute: 2));

        var report = await new HourAggregationJob(store, new TallyOptions()).RunAsync(Hour);

        await AssertMatchesOracleAsync(store, report, 30_000, 120);
    }

    [S3Fact]
    public async Task Run_ThroughFaults_CountsTheSame_AndLeavesExactlyOneObjectPerTable()
    {
        using var direct = await s3.NewStoreAsync("tally");
        await using var proxy = await FaultProxy.StartAsync(s3.Endpoint, seed: 42,
            slowDown: 0.08, reset: 0.05, stall: 0.02, cutBody: 0.08, stallFor: TimeSpan.FromSeconds(20));
        var settings = s3.Settings(proxy.Endpoint) with
        {
            PageSize = 10, RequestTimeout = TimeSpan.FromSeconds(2), ReadIdleTimeout = TimeSpan.FromSeconds(2), MaxAttempts = 6,
        };
        using var store = new S3ObjectStore(direct.Location, settings);

        await new RawDataGenerator(store).GenerateAsync(new GeneratorOptions(Hour, 1, 20_000, Seed: 9));
        var first = await new HourAggregationJob(store, new TallyOptions()).RunAsync(Hour);
        var second = await new HourAggregationJob(store, new TallyOptions()).RunAsync(Hour);

        var faults = proxy.Counts;
        Assert.All([Fault.SlowDown, Fault.Reset, Fault.Stall, Fault.CutBody], f => Assert.True(faults.GetValueOrDefault(f) > 0, $"no {f} was injected"));
        Assert.Equal(first.Records, second.Records);
        Assert.Equal(first.Tables.Select(t => t.Rows), second.Tables.Select(t => t.Rows));
        await AssertMatchesOracleAsync(direct, second, 20_000, 60);
    }

    /// <summary>
    /// The report's counts, each table's rows against DuckDB over a local copy of the raw files, and the bucket's keys: the
    /// raw files and exactly one object per table (no temporary, partial or duplicate objects).
    /// </summary>
    private async Task AssertMatchesOracleAsync(S3ObjectStore store, RunReport report, long records, int files)
    {
        Assert.Equal(RunStatus.Succeeded, report.Status);
        Assert.Equal(records, report.Records);
        Assert.Equal(0, report.Rejected);
        Assert.Equal(files, report.Files);
        await _local.CopyFromAsync(store, "");
        foreach (var spec in AggregationSpec.Defaults)
        {
            var expected = _oracle.ExpectedRows(_local.Root, Hour, spec);
            var actual = _oracle.FileRows(_local.PathOf(DataLayout.TableFile(spec, Hour)), spec.Format);
            Assert.True(expected.Count > 1, $"{spec.Table}: the oracle found no groups");
            Assert.Equal(expected, actual.Order(StringComparer.Ordinal).ToList());
            Assert.Equal(expected.Count, report.Tables.Single(t => t.Table == spec.Table).Rows);
        }
        var keys = await s3.AllKeysAsync(store.Location.Bucket);
        var root = store.Location.Prefix + "/";
        Assert.All(keys, k => Assert.StartsWith(root, k, StringComparison.Ordinal));
        Assert.Equal(files, keys.Count(k => k.StartsWith(root + DataLayout.RawPrefix + "/", StringComparison.Ordinal)));
        Assert.Equal(
            AggregationSpec.Defaults.Select(s => root + DataLayout.TableFile(s, Hour)).Order(StringComparer.Ordinal),
            keys.Where(k => !k.StartsWith(root + DataLayout.RawPrefix + "/", StringComparison.Ordinal)));
    }

    public void Dispose()
    {
        _oracle.Dispose();
        _local.Dispose();
    }
}
