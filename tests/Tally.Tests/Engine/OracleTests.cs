using System.Text.Json;
using Tally.Engine;
using Tally.Synthetic;

namespace Tally.Tests.Engine;

/// <summary>Tally's three tables against DuckDB computing the same counts over the same generated raw files.</summary>
public sealed class OracleTests : IDisposable
{
    private static readonly HourWindow Hour = HourWindow.Parse("2026-11-24T13");
    private readonly TempDataFolder _data = new();
    private readonly DuckDbOracle _oracle = new();

    [Theory]
    [InlineData(RawFileReader.DefaultBufferBytes, 1, false)]
    [InlineData(RawFileReader.DefaultBufferBytes, 3, true)]
    [InlineData(97, 2, false)] // a buffer smaller than one record: every record straddles refills and the buffer grows
    public async Task Run_MatchesDuckDb_ForEveryTable(int bufferBytes, int filesPerMinute, bool gzip)
    {
        await new RawDataGenerator(_data.Store).GenerateAsync(new GeneratorOptions(Hour, 1, 30_000, Seed: 7, FilesPerMinute: filesPerMinute, Gzip: gzip));
        if (gzip) GunzipCopyForOracle();

        var report = await new HourAggregationJob(_data.Store, new TallyOptions()) { ReadBufferBytes = bufferBytes }.RunAsync(Hour);

        Assert.Equal(RunStatus.Succeeded, report.Status);
        Assert.Equal(30_000, report.Records);
        Assert.Equal(0, report.Rejected);
        Assert.Equal(0, report.OutsideWindow);
        Assert.Equal(60 * filesPerMinute, report.Files);
        foreach (var spec in AggregationSpec.Defaults)
        {
            var expected = _oracle.ExpectedRows(OracleRoot, Hour, spec);
            var actual = _oracle.FileRows(_data.PathOf(DataLayout.TableFile(spec, Hour)), spec.Format);
            Assert.True(expected.Count > 1, $"{spec.Table}: the oracle found no groups");
            Assert.Equal(expected, actual.Order(StringComparer.Ordinal).ToList());
            Assert.Equal(expected.Count, report.Tables.Single(t => t.Table == spec.Table).Rows);
        }
    }

    [Fact]
    public async Task AJsonTableOfManyBlocks_FormattedOnEveryCore_MatchesDuckDb()
    {
        // Enough domain x group id pairs for several rounds of blocks (TableWriter formats a round on all cores at once).
        await new RawDataGenerator(_data.Store).GenerateAsync(new GeneratorOptions(Hour, 1, 150_000, Seed: 11, FilesPerMinute: 1));

        var report = await new HourAggregationJob(_data.Store, new TallyOptions()).RunAsync(Hour);

        var spec = AggregationSpec.Defaults.Single(s => s.Format == TableFormat.Json);
        var rows = report.Tables.Single(t => t.Table == spec.Table).Rows;
        Assert.True(rows > 2 * Environment.ProcessorCount * TableWriter.JsonRowsPerBlock || rows > 4 * TableWriter.JsonRowsPerBlock,
            $"{rows} rows are too few to need several rounds of blocks");
        var expected = _oracle.ExpectedRows(OracleRoot, Hour, spec);
        var actual = _oracle.FileRows(_data.PathOf(DataLayout.TableFile(spec, Hour)), spec.Format);
        Assert.Equal(expected, actual.Order(StringComparer.Ordinal).ToList());
        var lines = File.ReadAllLines(_data.PathOf(DataLayout.TableFile(spec, Hour)));
        Assert.Equal(rows, lines.Length);
        Assert.All(lines, line => Assert.Matches("""^\{"groupid":\d+,"domain":"[^"]+","hitcount":\d+\}$""", line));
        // In key order from the first line to the last, across the blocks: each key after the one before it.
        var keys = lines.Select(line => JsonDocument.Parse(line).RootElement).Select(r => (r.GetProperty("groupid").GetInt64(), r.GetProperty("domain").GetString()!)).ToList();
        for (var i = 1; i < keys.Count; i++)
        {
            // The table's key is (domain, group id), in that order; its columns put the group id first.
            var order = keys[i - 1].Item2 != keys[i].Item2 ? string.CompareOrdinal(keys[i - 1].Item2, keys[i].Item2) : keys[i - 1].Item1.CompareTo(keys[i].Item1);
            Assert.True(order < 0, $"line {i + 1} ({lines[i]}) does not come after line {i} ({lines[i - 1]})");
        }
    }

    [Fact]
    public async Task ConfiguredTables_OfOneTwoAndThreeFields_MatchDuckDb_SortedByKey()
    {
        await new RawDataGenerator(_data.Store).GenerateAsync(new GeneratorOptions(Hour, 1, 20_000, Seed: 9, FilesPerMinute: 2));
        _data.WriteRaw(Hour, 59, "nulls.json", "{\"GroupID\": null, \"Domain\": null}\n{\"Language\": \"en\"}\n");
        AggregationSpec[] specs =
        [
            new("by_group", ["GroupID"], TableFormat.Json),
            new("by_language_and_agent", ["Language", "UserAgent"], TableFormat.Parquet),
            new("by_country_language_domain", ["CountryCode", "Language", "Domain"], TableFormat.Json),
        ];

        var report = await new HourAggregationJob(_data.Store, new TallyOptions { Aggregations = specs }).RunAsync(Hour);

        Assert.Equal(RunStatus.Succeeded, report.Status);
        foreach (var spec in specs)
        {
            var file = _data.PathOf(DataLayout.TableFile(spec, Hour));
            var rows = _oracle.FileRows(file, spec.Format);
            Assert.Equal(_oracle.ExpectedRows(_data.Root, Hour, spec), rows.Order(StringComparer.Ordinal).ToList());
            var keys = string.Join(", ", spec.GroupBy.Select(c => c.ToLowerInvariant() + " NULLS FIRST"));
            var reader = spec.Format == TableFormat.Parquet
                ? $"read_parquet('{file}', hive_partitioning = false)"
                : $"read_json('{file}', format = 'newline_delimited', hive_partitioning = false)";
            Assert.Equal(_oracle.Rows($"SELECT * FROM {reader} ORDER BY {keys}"), rows);
        }
    }

    [Fact]
    public async Task Run_CountsEveryRecordOnce_WhenRunWithOneWorkerOrMany()
    {
        await new RawDataGenerator(_data.Store).GenerateAsync(new GeneratorOptions(Hour, 1, 12_000, Seed: 3, FilesPerMinute: 2));
        var one = await new HourAggregationJob(_data.Store, new TallyOptions { MaxParallelism = 1 }).RunAsync(Hour);
        var oneBytes = AggregationSpec.Defaults.Select(s => File.ReadAllBytes(_data.PathOf(DataLayout.TableFile(s, Hour)))).ToList();
        var many = await new HourAggregationJob(_data.Store, new TallyOptions { MaxParallelism = 4 }).RunAsync(Hour);
        var manyBytes = AggregationSpec.Defaults.Select(s => File.ReadAllBytes(_data.PathOf(DataLayout.TableFile(s, Hour)))).ToList();

        Assert.Equal(12_000, one.Records);
        Assert.Equal(one.Records, many.Records);
        for (var i = 0; i < oneBytes.Count; i++) Assert.Equal(oneBytes[i], manyBytes[i]);
    }

    [Fact]
    public async Task Output_IsSortedByKey_WithNullsFirst()
    {
        await new RawDataGenerator(_data.Store).GenerateAsync(new GeneratorOptions(Hour, 1, 5_000, Seed: 11));
        _data.WriteRaw(Hour, 59, "nulls.json", "{\"GroupID\": null, \"Domain\": null}\n{\"GroupID\": 1}\n");
        await new HourAggregationJob(_data.Store, new TallyOptions()).RunAsync(Hour);

        var byDomain = AggregationSpec.Defaults.Single(s => s.Table == "hits_by_domain_and_groupid");
        var rows = _oracle.Rows($"""
            SELECT domain, groupid FROM read_json('{_data.PathOf(DataLayout.TableFile(byDomain, Hour))}', format = 'newline_delimited', hive_partitioning = false)
            """);
        var sorted = _oracle.Rows($"""
            SELECT domain, groupid FROM read_json('{_data.PathOf(DataLayout.TableFile(byDomain, Hour))}', format = 'newline_delimited', hive_partitioning = false)
            ORDER BY domain NULLS FIRST, groupid NULLS FIRST
            """);
        Assert.Equal(sorted, rows);
        Assert.Equal("NULL|NULL", rows[0]);
        Assert.Equal("NULL|1", rows[1]);
    }

    /// <summary>DuckDB reads the .gz files too, but the oracle's glob is for .json: decompress copies beside them.</summary>
    private void GunzipCopyForOracle()
    {
        foreach (var file in _data.AllFiles(DataLayout.RawPrefix).Where(f => f.EndsWith(".gz", StringComparison.Ordinal)))
        {
            var target = Path.Combine(_oracleRoot.Value, file[..^3]);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            using var input = new System.IO.Compression.GZipStream(File.OpenRead(_data.PathOf(file)), System.IO.Compression.CompressionMode.Decompress);
            using var output = File.Create(target);
            input.CopyTo(output);
        }
        _usesCopy = true;
    }

    private bool _usesCopy;
    private readonly Lazy<string> _oracleRoot = new(() => Directory.CreateTempSubdirectory("tally-oracle-").FullName);
    private string OracleRoot => _usesCopy ? _oracleRoot.Value : _data.Root;

    public void Dispose()
    {
        _oracle.Dispose();
        _data.Dispose();
        if (_oracleRoot.IsValueCreated) Directory.Delete(_oracleRoot.Value, recursive: true);
    }
}
