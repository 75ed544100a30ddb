using System.Text.RegularExpressions;
using Tally.Synthetic;
using Tally.Tests.Workflow;
using Tally.Workflow;

namespace Tally.Tests.Storage;

/// <summary>
/// A run whose outputs (tables, quarantine, metastore) cannot be written because their disk is full: a real small tmpfs
/// mounted where they go, filled to the last byte. The run fails with an error naming the file, every earlier file stays as it
/// was, nothing partial is left, and the hour succeeds once space is back.
/// </summary>
public sealed class FullDiskTests : IDisposable
{
    private static readonly HourWindow Earlier = HourWindow.Parse("2026-11-24T12");
    private static readonly HourWindow Hour = HourWindow.Parse("2026-11-24T13");
    private readonly WorkflowHarness _h = new();
    private SmallDisk? _disk;

    public void Dispose()
    {
        _disk?.Dispose();
        _h.Dispose();
    }

    private async Task GenerateAsync(HourWindow hour, int hits) =>
        await new RawDataGenerator(_h.Data.Store).GenerateAsync(new GeneratorOptions(hour, 1, hits, Seed: 5));

    /// <summary>Every file under <paramref name="folder"/> (relative path → bytes), the filler of a full disk left out.</summary>
    private Dictionary<string, byte[]> Snapshot(string folder) =>
        _h.Data.AllFiles(folder).Where(f => !f.EndsWith("/.filler", StringComparison.Ordinal)).ToDictionary(f => f, f => File.ReadAllBytes(_h.Data.PathOf(f)));

    private static void AssertSameFiles(Dictionary<string, byte[]> before, Dictionary<string, byte[]> after)
    {
        Assert.Equal(before.Keys.Order(StringComparer.Ordinal), after.Keys.Order(StringComparer.Ordinal));
        foreach (var (file, bytes) in before) Assert.True(bytes.AsSpan().SequenceEqual(after[file]), $"{file} changed");
    }

    private List<string[]> Partitions() =>
        _h.MetastoreRows("SELECT table_name, partition_hour, run_id, row_count FROM partitions WHERE database_name = 'demo-aggregated-data' ORDER BY 1, 2");

    [Fact]
    public async Task Run_FailsNamingTheTableFile_WhenTheTablesDiskIsFull_LeavesEveryEarlierFileAsItWas_AndSucceedsOnceSpaceIsBack()
    {
        _disk = new SmallDisk(_h.Data.PathOf(DataLayout.AggregatedPrefix), kib: 4096);
        await GenerateAsync(Earlier, 2_000);
        await GenerateAsync(Hour, 2_000);
        var workflow = await _h.WorkflowAsync();
        Assert.True((await workflow.RunAsync(WorkflowContract.InputFor(Earlier), RunTrigger.Manual)).Started().Succeeded);
        Assert.True((await workflow.RunAsync(WorkflowContract.InputFor(Hour), RunTrigger.Manual)).Started().Succeeded);
        var before = Snapshot(DataLayout.AggregatedPrefix);
        var partitions = Partitions();
        await GenerateAsync(Hour, 3_000); // the hour's input changes: more hits, more rows to write
        // Room for the small Parquet tables of the hour, not for the JSON one: none may be replaced unless all are.
        long Bytes(TableFormat format) => AggregationSpec.Defaults.Where(s => s.Format == format).Sum(s => new FileInfo(_h.Data.PathOf(DataLayout.TableFile(s, Hour))).Length);
        var room = 3 * Bytes(TableFormat.Parquet) + 16_384;
        Assert.True(room < Bytes(TableFormat.Json) / 2, $"{room} bytes of room would hold the JSON table");
        _disk.Fill(leave: room);

        var full = await workflow.RunAsync(WorkflowContract.InputFor(Hour), RunTrigger.Manual);

        Assert.Equal(RunStatus.Failed, full.Started().Run!.Status);
        Assert.Equal("Tally.Transient", full.Started().Run.Error);
        Assert.Matches($"Cannot write '{Regex.Escape(_h.Data.PathOf(DataLayout.AggregatedPrefix))}/hits_by_[a-z_]+/year=2026/month=11/day=24/hour=13/part-00000\\.(json|parquet)': the disk is full", full.Started().Run.Cause);
        AssertSameFiles(before, Snapshot(DataLayout.AggregatedPrefix)); // no table replaced, no temporary file left
        Assert.Equal(partitions, Partitions());

        _disk.Empty();
        var freed = await workflow.RunAsync(WorkflowContract.InputFor(Hour), RunTrigger.Manual);

        Assert.True(freed.Started().Succeeded, freed.Started().Run?.Cause);
        using var oracle = new DuckDbOracle();
        foreach (var spec in AggregationSpec.Defaults)
        {
            Assert.Equal(oracle.ExpectedRows(_h.Data.Root, Hour, spec), oracle.FileRows(_h.Data.PathOf(DataLayout.TableFile(spec, Hour)), spec.Format).Order(StringComparer.Ordinal));
        }
        Assert.DoesNotContain(_h.Data.AllFiles(DataLayout.AggregatedPrefix), f => Path.GetFileName(f).StartsWith('.') && !f.EndsWith("/.filler", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_FailsNamingTheQuarantineFile_WhenItsDiskIsFull_ReplacesNoTable_AndSucceedsOnceSpaceIsBack()
    {
        _disk = new SmallDisk(_h.Data.PathOf(DataLayout.QuarantinePrefix), kib: 256);
        await GenerateAsync(Hour, 2_000);
        _h.Data.WriteRaw(Hour, 7, "bad.json", "not json\n");
        var workflow = await _h.WorkflowAsync();
        Assert.True((await workflow.RunAsync(WorkflowContract.InputFor(Hour), RunTrigger.Manual)).Started().Succeeded);
        var tables = Snapshot(DataLayout.AggregatedPrefix);
        var quarantine = Snapshot(DataLayout.QuarantinePrefix);
        Assert.Single(quarantine);
        _h.Data.WriteRaw(Hour, 8, "more.json", string.Concat(Enumerable.Repeat("""{"GroupID":7,"CountryCode":"NZ","Timestamp":"2026-11-24T13:08:00Z"}""" + "\n", 50)) + "{\"GroupID\": oops}\n");
        _disk.Fill();

        var full = await workflow.RunAsync(WorkflowContract.InputFor(Hour), RunTrigger.Manual);

        Assert.Equal(RunStatus.Failed, full.Started().Run!.Status);
        Assert.Contains($"Cannot write '{_h.Data.PathOf(DataLayout.QuarantineFile(Hour))}': the disk is full", full.Started().Run.Cause);
        AssertSameFiles(tables, Snapshot(DataLayout.AggregatedPrefix)); // the tables are written with the quarantine or not at all
        AssertSameFiles(quarantine, Snapshot(DataLayout.QuarantinePrefix));

        _disk.Empty();
        var freed = await workflow.RunAsync(WorkflowContract.InputFor(Hour), RunTrigger.Manual);

        Assert.True(freed.Started().Succeeded, freed.Started().Run?.Cause);
        Assert.Equal(2, File.ReadAllLines(_h.Data.PathOf(DataLayout.QuarantineFile(Hour))).Count(l => l.Length > 0));
        Assert.Equal(2_050, freed.Started().Report!.Records);
        Assert.DoesNotContain(_h.Data.AllFiles(DataLayout.QuarantinePrefix), f => Path.GetFileName(f).StartsWith('.') && !f.EndsWith("/.filler", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_FailsNamingTheMetastore_WhenItsDiskIsFull_LeavesTheHistoryAndTablesAsTheyWere_AndSucceedsOnceSpaceIsBack()
    {
        _disk = new SmallDisk(_h.StateDirectory, kib: 1024);
        await GenerateAsync(Hour, 2_000);
        var workflow = await _h.WorkflowAsync();
        var first = await workflow.RunAsync(WorkflowContract.InputFor(Hour), RunTrigger.Manual);
        Assert.True(first.Started().Succeeded);
        var tables = Snapshot(DataLayout.AggregatedPrefix);
        await GenerateAsync(Hour, 3_000);
        _disk.Fill();

        var full = await Assert.ThrowsAsync<TallyException>(() => workflow.RunAsync(WorkflowContract.InputFor(Hour), RunTrigger.Manual));

        Assert.Equal(TallyErrorKind.Transient, full.Kind);
        Assert.StartsWith($"The metastore '{Path.Combine(_h.StateDirectory, "metastore.db")}' cannot be written: the disk holding it is full.", full.Message);
        AssertSameFiles(tables, Snapshot(DataLayout.AggregatedPrefix));

        _disk.Empty();
        Assert.Equal([["ok"]], _h.MetastoreRows("PRAGMA integrity_check"));
        Assert.Equal([[first.Started().Run!.RunId, "succeeded"]], _h.MetastoreRows("SELECT run_id, status FROM runs"));
        var freed = await workflow.RunAsync(WorkflowContract.InputFor(Hour), RunTrigger.Manual);

        Assert.True(freed.Started().Succeeded, freed.Started().Run?.Cause);
        Assert.Equal(3_000, freed.Started().Report!.Records);
        Assert.Empty(_h.MetastoreRows("SELECT run_id FROM runs WHERE status = 'running'"));
    }
}
