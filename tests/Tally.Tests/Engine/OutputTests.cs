using Tally.Engine;
using Tally.Synthetic;

namespace Tally.Tests.Engine;

/// <summary>What a run leaves behind: schemas, idempotent reruns, empty hours, failures that change nothing.</summary>
public sealed class OutputTests : IDisposable
{
    private static readonly HourWindow Hour = HourWindow.Parse("2026-11-24T13");
    private readonly TempDataFolder _data = new();
    private readonly DuckDbOracle _duck = new();

    [Fact]
    public async Task Output_HasTheSeedsColumnNamesAndTypes()
    {
        await new RawDataGenerator(_data.Store).GenerateAsync(new GeneratorOptions(Hour, 1, 2_000));
        await new HourAggregationJob(_data.Store, new TallyOptions()).RunAsync(Hour);

        string Schema(string table)
        {
            var spec = AggregationSpec.Defaults.Single(s => s.Table == table);
            return string.Join(", ", _duck.FileSchema(_data.PathOf(DataLayout.TableFile(spec, Hour)), spec.Format));
        }
        Assert.Equal("countrycode VARCHAR, hitcount BIGINT", Schema("hits_by_country"));
        Assert.Equal("groupid BIGINT, domain VARCHAR, hitcount BIGINT", Schema("hits_by_domain_and_groupid"));
        Assert.Equal("useragent VARCHAR, hitcount BIGINT", Schema("hits_by_useragent"));
        var firstLine = File.ReadLines(_data.PathOf(DataLayout.TableFile(AggregationSpec.Defaults[1], Hour))).First();
        Assert.Matches("""^\{"groupid":\d+,"domain":"[^"]+","hitcount":\d+\}$""", firstLine);
    }

    [Fact]
    public async Task Rerun_LeavesByteIdenticalFiles_AndNoExtraFiles()
    {
        await new RawDataGenerator(_data.Store).GenerateAsync(new GeneratorOptions(Hour, 1, 20_000, FilesPerMinute: 2));
        var job = new HourAggregationJob(_data.Store, new TallyOptions());
        await job.RunAsync(Hour);
        var first = _data.AllFiles(DataLayout.AggregatedPrefix).ToDictionary(f => f, f => File.ReadAllBytes(_data.PathOf(f)));

        await job.RunAsync(Hour);
        var second = _data.AllFiles(DataLayout.AggregatedPrefix).ToDictionary(f => f, f => File.ReadAllBytes(_data.PathOf(f)));

        Assert.Equal(3, first.Count);
        Assert.Equal(first.Keys, second.Keys);
        foreach (var (file, bytes) in first) Assert.Equal(bytes, second[file]);
        Assert.Equal(_data.AllFiles().Count, _data.AllFiles(DataLayout.RawPrefix).Count + 3);
    }

    [Fact]
    public async Task Run_WritesEmptyPartitions_ForAnHourWithNoRawFiles()
    {
        var report = await new HourAggregationJob(_data.Store, new TallyOptions()).RunAsync(Hour);

        Assert.Equal(RunStatus.Succeeded, report.Status);
        Assert.Equal(0, report.Files);
        Assert.Equal(0, report.Records);
        foreach (var spec in AggregationSpec.Defaults)
        {
            var path = _data.PathOf(DataLayout.TableFile(spec, Hour));
            Assert.True(File.Exists(path), spec.Table);
            Assert.Empty(_duck.FileRows(path, spec.Format));
        }
        Assert.Equal("countrycode VARCHAR, hitcount BIGINT", string.Join(", ", _duck.FileSchema(_data.PathOf(DataLayout.TableFile(AggregationSpec.Defaults[0], Hour)), TableFormat.Parquet)));
    }

    [Fact]
    public async Task Run_Fails_AndLeavesTheTablesUnchanged_WhenTooManyRecordsAreRejected()
    {
        _data.WriteRaw(Hour, 0, "good.json", string.Concat(Enumerable.Repeat("{\"CountryCode\": \"US\"}\n", 98)));
        var job = new HourAggregationJob(_data.Store, new TallyOptions());
        await job.RunAsync(Hour);
        var before = AggregationSpec.Defaults.Select(s => File.ReadAllBytes(_data.PathOf(DataLayout.TableFile(s, Hour)))).ToList();

        _data.WriteRaw(Hour, 1, "bad.json", "{\"GroupID\": \"x\"}\nnot json\n{\"CountryCode\": \"US\"}\n");
        var report = await job.RunAsync(Hour);

        Assert.Equal(RunStatus.Failed, report.Status);
        Assert.Equal(2, report.Rejected);
        Assert.Contains("threshold", report.Error);
        Assert.Empty(report.Tables);
        var after = AggregationSpec.Defaults.Select(s => File.ReadAllBytes(_data.PathOf(DataLayout.TableFile(s, Hour)))).ToList();
        for (var i = 0; i < before.Count; i++) Assert.Equal(before[i], after[i]);
        Assert.Equal(2, File.ReadAllLines(_data.PathOf(DataLayout.QuarantineFile(Hour))).Length);
    }

    [Fact]
    public async Task Run_Succeeds_WhenTheRejectedShareIsAtTheThreshold()
    {
        _data.WriteRaw(Hour, 0, "mixed.json", string.Concat(Enumerable.Repeat("{\"CountryCode\": \"US\"}\n", 99)) + "[1]\n");

        var report = await new HourAggregationJob(_data.Store, new TallyOptions()).RunAsync(Hour);

        Assert.Equal(RunStatus.Succeeded, report.Status);
        Assert.Equal(99, report.Records);
        Assert.Equal(1, report.Rejected);
    }

    [Fact]
    public async Task Rerun_RemovesTheQuarantineFile_WhenTheBadRecordsAreGone()
    {
        var bad = _data.WriteRaw(Hour, 0, "bad.json", "oops\n");
        var job = new HourAggregationJob(_data.Store, new TallyOptions { RejectedThreshold = 1 });
        await job.RunAsync(Hour);
        Assert.True(File.Exists(_data.PathOf(DataLayout.QuarantineFile(Hour))));

        File.Delete(_data.PathOf(bad));
        await job.RunAsync(Hour);

        Assert.False(File.Exists(_data.PathOf(DataLayout.QuarantineFile(Hour))));
    }

    [Fact]
    public async Task TableReader_ReadsBackWhatTheRunWrote_AsDuckDbSeesIt()
    {
        await new RawDataGenerator(_data.Store).GenerateAsync(new GeneratorOptions(Hour, 1, 3_000, Seed: 5));
        await new HourAggregationJob(_data.Store, new TallyOptions()).RunAsync(Hour);

        foreach (var spec in AggregationSpec.Defaults)
        {
            var (columns, rows) = await TableReader.ReadAsync(_data.Store, spec, Hour);
            var expected = _duck.FileRows(_data.PathOf(DataLayout.TableFile(spec, Hour)), spec.Format);
            Assert.Equal(spec.Columns().Select(c => c.Name), columns);
            Assert.Equal(expected, rows.Select(r => string.Join('|', r.Select(v => v?.ToString() ?? "NULL"))));
        }
    }

    [Fact]
    public void OpeningAMissingDataFolder_IsANotFoundError()
    {
        var missing = Path.Combine(_data.Root, "does-not-exist");

        var error = Assert.Throws<TallyException>(() => new Tally.Storage.LocalObjectStore(missing));

        Assert.Equal(TallyErrorKind.NotFound, error.Kind);
        Assert.Contains("does-not-exist", error.Message);
    }

    public void Dispose()
    {
        _duck.Dispose();
        _data.Dispose();
    }
}
