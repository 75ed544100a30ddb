using Tally.Query;
using Tally.Tests.Engine;

namespace Tally.Tests.Query;

/// <summary>
/// The raw table's view over files of any name and compression: what it reads equals DuckDB reading each file with the
/// compression the test wrote it with; files DuckDB cannot read are left out rather than failing the query.
/// </summary>
public sealed class RawViewTests : IDisposable
{
    private static readonly HourWindow Hour = HourWindow.Parse("2026-11-24T13");
    private const string ByCountry = """SELECT countrycode, count(*)::BIGINT FROM "demo-raw-data"."raw_data" GROUP BY ALL""";
    private readonly TempDataFolder _data = new();
    private readonly DuckDbOracle _oracle = new();
    private readonly List<(string Path, string Compression)> _readable = [];

    [Fact]
    public async Task RawView_ReadsEveryDataFile_WithTheCompressionItsFirstBytesTell_AndLeavesOutWhatDuckDbCannotRead()
    {
        Write(1, RawFileTests.Firehose, RawFileTests.JsonLines(RawFileTests.Records(100, seed: 1)), "uncompressed");
        Write(2, "b.json", RawFileTests.Gzip(RawFileTests.JsonLines(RawFileTests.Records(100, seed: 2))), "gzip");
        Write(3, "c", RawFileTests.Zstd(RawFileTests.JsonLines(RawFileTests.Records(100, seed: 3))), "zstd");
        Write(4, "d.bz2", [.. "BZh91AY&SY"u8, 0x00, 0x17], compression: null);
        Write(4, "notes.txt", "not JSON\n"u8.ToArray(), compression: null);
        Write(5, ".x", RawFileTests.JsonLines(RawFileTests.Records(10, seed: 4)), compression: null);
        Write(5, "_SUCCESS", RawFileTests.JsonLines(RawFileTests.Records(10, seed: 5)), compression: null);
        using var service = await OpenAsync();

        var (_, rows) = QueryTestData.Run(service, ByCountry);
        var (_, minutes) = QueryTestData.Run(service, """SELECT DISTINCT minute FROM "demo-raw-data"."raw_data" ORDER BY minute""");

        Assert.Equal(ExpectedByCountry(), rows.Order(StringComparer.Ordinal));
        Assert.Equal(["01", "02", "03"], minutes);
    }

    [Theory]
    [InlineData("uncompressed")]
    [InlineData("gzip")]
    [InlineData("zstd")]
    public async Task RawView_ReadsAnHourOfOneKind_WhateverTheNames(string compression)
    {
        for (var minute = 0; minute < 3; minute++)
        {
            var content = RawFileTests.JsonLines(RawFileTests.Records(50, seed: 10 + minute));
            var stored = compression switch { "gzip" => RawFileTests.Gzip(content), "zstd" => RawFileTests.Zstd(content), _ => content };
            Write(minute, minute == 0 ? RawFileTests.Firehose : $"part-{minute}.json", stored, compression);
        }
        Write(0, "_SUCCESS", [], compression: null);
        using var service = await OpenAsync();

        var (_, rows) = QueryTestData.Run(service, ByCountry);

        Assert.Equal(ExpectedByCountry(), rows.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task RawView_IsEmpty_WhenNoFileIsOneDuckDbCanRead()
    {
        Write(0, RawFileTests.Firehose, [0x00, 0x01, 0x02], compression: null);
        using var service = await OpenAsync();

        Assert.Equal(["0"], QueryTestData.Run(service, """SELECT count(*) FROM "demo-raw-data"."raw_data" """).Rows);
    }

    private void Write(int minute, string name, byte[] content, string? compression)
    {
        var key = _data.WriteRawBytes(DataLayout.RawMinutePrefix(Hour, minute) + "/" + name, content);
        if (compression is not null) _readable.Add((_data.PathOf(key), compression));
    }

    private async Task<QueryService> OpenAsync() => await QueryService.OpenAsync(await QueryTestData.OpenCatalogAsync(_data), _data.Root);

    private IReadOnlyList<string> ExpectedByCountry() =>
        _oracle.ExpectedRows(_readable, AggregationSpec.Defaults.Single(s => s.Table == "hits_by_country"));

    public void Dispose()
    {
        _oracle.Dispose();
        _data.Dispose();
    }
}
