using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Tally.Engine;
using ZstdSharp;

namespace Tally.Tests.Engine;

/// <summary>
/// Raw files of any name and compression, counted by the engine and by DuckDB over the same files: DuckDB reads each with
/// the compression the test wrote it with, whatever its name, and never learns it from Tally.
/// </summary>
public sealed class RawFileTests : IDisposable
{
    private static readonly HourWindow Hour = HourWindow.Parse("2026-11-24T13");

    /// <summary>A Kinesis Firehose object name: no extension.</summary>
    internal const string Firehose = "hits-stream-1-2026-11-24-13-05-00-0b6ec8f4-6a4c-4b8e-9d47-6a1f2c3d4e5f";

    private readonly TempDataFolder _data = new();
    private readonly DuckDbOracle _duck = new();
    private readonly List<(string Path, string Compression)> _oracleFiles = [];
    private readonly Lazy<string> _oracleCopies = new(() => Directory.CreateTempSubdirectory("tally-oracle-").FullName);

    [Fact]
    public async Task Run_ReadsEveryFile_WhateverItsName_ButNotHiddenOrUnderscoredOnes()
    {
        Write(5, Firehose, JsonLines(Records(300, seed: 1)), "uncompressed");
        Write(6, "part-0001.jsonl", JsonLines(Records(100, seed: 2)), "uncompressed");
        Write(7, "events.data", JsonLines(Records(100, seed: 3)), "uncompressed");
        // Valid records all the same: counting them would show.
        Write(5, ".x", JsonLines(Records(50, seed: 4)), compression: null);
        Write(5, "_SUCCESS", JsonLines(Records(50, seed: 5)), compression: null);

        var report = await RunAsync();

        Assert.Equal(RunStatus.Succeeded, report.Status);
        Assert.Equal(3, report.Files);
        Assert.Equal(new RawFileKinds(Json: 3, Gzip: 0, Zstd: 0, Unknown: 0), report.FileKinds);
        Assert.Equal(500, report.Records);
        AssertTablesMatchDuckDb();
    }

    [Theory]
    [InlineData(Firehose)]
    [InlineData("hits.json")]
    [InlineData("hits.json.gz")]
    public async Task Run_ReadsGzip_WhateverItsName(string name)
    {
        Write(5, name, Gzip(JsonLines(Records(400, seed: 6))), "gzip");

        var report = await RunAsync();

        Assert.Equal(new RawFileKinds(Json: 0, Gzip: 1, Zstd: 0, Unknown: 0), report.FileKinds);
        Assert.Equal(400, report.Records);
        Assert.Equal(0, report.Rejected);
        AssertTablesMatchDuckDb();
    }

    [Fact]
    public async Task Run_ReadsEveryMemberOfAGzipFile_MadeOfSeveral()
    {
        // Three gzip members one after another (as `cat a.gz b.gz` makes), one of them a single record without a final newline.
        var members = new[] { Records(200, seed: 7), Records(1, seed: 8), Records(300, seed: 9) };
        Write(5, Firehose, [.. Gzip(JsonLines(members[0])), .. Gzip(Encoding.UTF8.GetBytes(members[1][0])), .. Gzip(JsonLines(members[2]))], "gzip");

        var report = await RunAsync();

        Assert.Equal(new RawFileKinds(Json: 0, Gzip: 1, Zstd: 0, Unknown: 0), report.FileKinds);
        // The single record is followed by the next member's first record with no separator: still two records.
        Assert.Equal(501, report.Records);
        Assert.Equal(0, report.Rejected);
        AssertTablesMatchDuckDb();
    }

    [Theory]
    [InlineData(Firehose, 1, false)]
    [InlineData("hits.json", 3, false)]
    [InlineData("hits.json.zst", 2, true)]
    public async Task Run_ReadsZstd_WhateverItsName_InOneFrameOrSeveral(string name, int frames, bool skippableFrameFirst)
    {
        var records = Records(900, seed: 10);
        var size = records.Count / frames;
        var content = new List<byte>();
        // A skippable frame (magic 0x184D2A5?, then its length) holds metadata that readers skip.
        if (skippableFrameFirst) content.AddRange([0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 1, 2, 3, 4]);
        for (var f = 0; f < frames; f++) content.AddRange(Zstd(JsonLines(records.Skip(f * size).Take(f == frames - 1 ? int.MaxValue : size))));
        Write(5, name, [.. content], "zstd");

        var report = await RunAsync();

        Assert.Equal(new RawFileKinds(Json: 0, Gzip: 0, Zstd: 1, Unknown: 0), report.FileKinds);
        Assert.Equal(900, report.Records);
        Assert.Equal(0, report.Rejected);
        AssertTablesMatchDuckDb();
    }

    [Theory]
    [InlineData(97, false)] // records straddle every refill of the buffer
    [InlineData(RawFileReader.DefaultBufferBytes, false)]
    [InlineData(97, true)]
    public async Task Run_CountsRecordsBackToBack_WithNoSeparator_InAFirehoseObject(int bufferBytes, bool gzip)
    {
        // Firehose concatenates the records it is given as they are: {...}{...}{...}, no newline anywhere.
        var content = Encoding.UTF8.GetBytes(string.Concat(Records(700, seed: 11)));
        Write(5, Firehose, gzip ? Gzip(content) : content, gzip ? "gzip" : "uncompressed");

        var report = await RunAsync(bufferBytes: bufferBytes);

        Assert.Equal(700, report.Records);
        Assert.Equal(0, report.Rejected);
        AssertTablesMatchDuckDb();
    }

    [Theory]
    [InlineData(false)] // a local file that is not compressed: its lines are counted only once a reject needs them
    [InlineData(true)]  // gzip: counted as the text is decompressed
    public async Task Run_NamesTheLinesOfRejectsFarIntoAFile_HoweverItsLinesAreCounted(bool gzip)
    {
        // Every ninth record pretty-printed over several lines; two bad records long after the 97-byte buffer's first refill.
        var records = Records(600, seed: 5).Select((r, i) => i % 9 == 0 ? r.Replace(", ", ",\n  ", StringComparison.Ordinal) : r).ToList();
        records[400] = "this line is not JSON";
        records[550] = """{"GroupID": "seven", "CountryCode": "US"}""";
        var text = string.Concat(records.Select(r => r + "\n"));
        Write(0, gzip ? "lines.json.gz" : "lines.json", gzip ? Gzip(Encoding.UTF8.GetBytes(text)) : Encoding.UTF8.GetBytes(text), gzip ? "gzip" : null);

        var report = await RunAsync(new TallyOptions { RejectedThreshold = 1.0 }, bufferBytes: 97);

        // Each bad record's line, counted here from the text: one more than the line breaks before it.
        var expected = new[] { 400, 550 }.Select(i => 1L + string.Concat(records.Take(i).Select(r => r + "\n")).Count(c => c == '\n')).ToList();
        var rejected = File.ReadAllLines(_data.PathOf(DataLayout.QuarantineFile(Hour))).Select(l => JsonSerializer.Deserialize<JsonElement>(l)).ToList();
        Assert.Equal(expected, rejected.Select(r => r.GetProperty("line").GetInt64()));
        Assert.Equal([records[400], records[550]], rejected.Select(r => r.GetProperty("record").GetString()));
        Assert.Equal(598, report.Records);
    }

    public static TheoryData<string, byte[]> BinaryFiles()
    {
        var noise = new byte[300];
        new Random(12).NextBytes(noise);
        return new TheoryData<string, byte[]>
        {
            { "bzip2 data", [.. "BZh91AY&SY"u8, .. noise] },
            { "xz data", [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, .. noise] },
            { "a zip archive", [.. "PK\u0003\u0004"u8, .. noise] },
            { "lz4 data", [0x04, 0x22, 0x4D, 0x18, .. noise] },
            { "Snappy framed data", [0xFF, 0x06, 0x00, 0x00, .. "sNaPpY"u8, .. noise] },
            { "UTF-16 text", [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(string.Join('\n', Records(5, seed: 13)))] },
            { "binary data of no kind Tally knows", [0x00, 0x00, 0x01, 0x00, .. noise] },
        };
    }

    [Theory]
    [MemberData(nameof(BinaryFiles))]
    public async Task Run_RejectsABinaryFile_WithAReasonNamingWhatItIs_AndFailsAboveTheThreshold(string kind, byte[] content)
    {
        Write(4, "hits.json", JsonLines(Records(40, seed: 14)), "uncompressed");
        var key = Write(5, Firehose, content, compression: null);

        var report = await RunAsync();

        // One rejected record of 41 is above the default threshold of 1 %.
        Assert.Equal(RunStatus.Failed, report.Status);
        Assert.Equal(40, report.Records);
        Assert.Equal(1, report.Rejected);
        Assert.Equal(new RawFileKinds(Json: 1, Gzip: 0, Zstd: 0, Unknown: 1), report.FileKinds);
        Assert.Contains("threshold", report.Error);
        Assert.Empty(_data.AllFiles(DataLayout.AggregatedPrefix));
        var rejected = JsonSerializer.Deserialize<JsonElement>(Assert.Single(File.ReadAllLines(_data.PathOf(DataLayout.QuarantineFile(Hour)))));
        Assert.Equal(key, rejected.GetProperty("file").GetString());
        var reason = rejected.GetProperty("reason").GetString()!;
        Assert.StartsWith(kind, reason, StringComparison.Ordinal);
        Assert.Contains("not JSON text, gzip or zstd (first bytes ", reason);
    }

    [Fact]
    public async Task Run_CountsTheOtherFiles_WhenABinaryFileStaysWithinTheThreshold()
    {
        Write(4, "hits.json", JsonLines(Records(300, seed: 15)), "uncompressed");
        Write(5, Firehose, [0x42, 0x5A, 0x68, 0x39, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59, 0x00], compression: null);

        var report = await RunAsync();

        Assert.Equal(RunStatus.Succeeded, report.Status);
        Assert.Equal(1, report.Rejected);
        Assert.Equal(300, report.Records);
        AssertTablesMatchDuckDb();
    }

    [Fact]
    public async Task Run_ReadsTextThatDoesNotStartLikeJson_LineByLine_AsAnUnknownFile()
    {
        var records = Records(200, seed: 16);
        Write(5, "export.csv", JsonLines(["GroupID,CountryCode", .. records]), compression: null);
        // DuckDB fails on the whole file because of its first line: it counts the lines after it.
        _oracleFiles.Add((OracleCopy("export-without-header.json", JsonLines(records)), "uncompressed"));

        var report = await RunAsync();

        Assert.Equal(new RawFileKinds(Json: 0, Gzip: 0, Zstd: 0, Unknown: 1), report.FileKinds);
        Assert.Equal(200, report.Records);
        Assert.Equal(1, report.Rejected);
        var rejected = JsonSerializer.Deserialize<JsonElement>(Assert.Single(File.ReadAllLines(_data.PathOf(DataLayout.QuarantineFile(Hour)))));
        Assert.Equal(1, rejected.GetProperty("line").GetInt64());
        Assert.StartsWith("not valid JSON", rejected.GetProperty("reason").GetString(), StringComparison.Ordinal);
        AssertTablesMatchDuckDb();
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("followed by garbage")]
    public async Task Run_KeepsWhatPrecedesTheDamage_InAZstdFile_AndRejectsTheRest(string damage)
    {
        var compressed = Zstd(JsonLines(Records(20_000, seed: 17)));
        byte[] stored = damage == "truncated" ? compressed[..(compressed.Length * 3 / 5)] : [.. compressed, .. "not zstd at all"u8];
        Write(5, Firehose, stored, compression: null);
        // What DuckDB counts: the complete lines of what the file decompresses to before the damage.
        var readable = DecompressUpToTheDamage(stored);
        var complete = readable[..(Array.LastIndexOf(readable, (byte)'\n') + 1)];
        _oracleFiles.Add((OracleCopy("readable.json", complete), "uncompressed"));

        var report = await RunAsync();

        Assert.Equal(RunStatus.Succeeded, report.Status);
        Assert.Equal(complete.Count(b => b == (byte)'\n'), report.Records);
        Assert.InRange(report.Records, 1, damage == "truncated" ? 19_999 : 20_000);
        var reasons = File.ReadAllLines(_data.PathOf(DataLayout.QuarantineFile(Hour)))
            .Select(l => JsonSerializer.Deserialize<JsonElement>(l).GetProperty("reason").GetString()!).ToList();
        Assert.Equal(reasons.Count, report.Rejected);
        var rest = Assert.Single(reasons, r => r.StartsWith("the rest of the file cannot be decompressed: ", StringComparison.Ordinal));
        Assert.Contains(damage == "truncated" ? "the file ends inside a zstd frame (truncated)" : "corrupt zstd data", rest);
        // Besides, at most the record cut by the damage is rejected (by the reader: cut inside a string, it is not valid JSON).
        Assert.InRange(reasons.Count, 1, 2);
        Assert.All(reasons.Where(r => r != rest), r => Assert.Matches("^(truncated record at the end of the file|not valid JSON: )", r));
        AssertTablesMatchDuckDb();
    }

    [Theory]
    [InlineData("without its trailer", 1)]  // every record is there, but nothing says the file is whole
    [InlineData("cut in the middle", 1)]
    [InlineData("cut in the middle of its second member", 2)]
    [InlineData("cut in the middle of its last member", 3)]
    public async Task Run_KeepsWhatPrecedesTheCut_InATruncatedGzipFile_AndRejectsTheRest_WhereverTheCutFalls(string cut, int members)
    {
        // .NET's GZipStream reads a cut gzip file to the cut without a word; the engine checks the last member's trailer.
        var parts = Enumerable.Range(0, members).Select(m => Gzip(JsonLines(Records(6_000, seed: 30 + m)))).ToList();
        var whole = parts.SelectMany(p => p).ToArray();
        var keep = cut == "without its trailer" ? whole.Length - 8
            : cut == "cut in the middle" ? whole.Length / 2
            : parts.Take(members == 2 ? 1 : members - 1).Sum(p => p.Length) + parts[members == 2 ? 1 : members - 1].Length / 2;
        var stored = whole[..keep];
        Write(5, Firehose, stored, compression: null);
        var readable = GunzipAsDotNetDoes(stored);
        var complete = readable[..(Array.LastIndexOf(readable, (byte)'\n') + 1)];
        _oracleFiles.Add((OracleCopy("readable.json", complete), "uncompressed"));

        var report = await RunAsync(new TallyOptions { RejectedThreshold = 1.0 });

        Assert.Equal(complete.Count(b => b == (byte)'\n'), report.Records);
        var reasons = File.ReadAllLines(_data.PathOf(DataLayout.QuarantineFile(Hour)))
            .Select(l => JsonSerializer.Deserialize<JsonElement>(l).GetProperty("reason").GetString()!).ToList();
        Assert.Equal(reasons.Count, report.Rejected);
        Assert.Contains("the rest of the file cannot be decompressed: the gzip data ends before its last member does", Assert.Single(reasons, r => r.StartsWith("the rest of", StringComparison.Ordinal)));
        Assert.InRange(reasons.Count, 1, 2); // and at most the record the cut went through
        AssertTablesMatchDuckDb();
    }

    [Fact]
    public async Task Run_ReadsWholeGzipFiles_OfManyMembersOfEverySize_WithoutAReject()
    {
        // Members end where GZipStream's reads end: the last member's trailer is found whatever the sizes and the buffer.
        var random = new Random(41);
        var members = Enumerable.Range(0, 9).Select(m => Gzip(JsonLines(Records(random.Next(0, 3) == 0 ? 1 : random.Next(1, 9_000), seed: 50 + m)))).ToList();
        Write(5, Firehose, members.SelectMany(m => m).ToArray(), "gzip");
        Write(6, "one-empty-member.json.gz", [.. Gzip(JsonLines(Records(10, seed: 60))), .. Gzip([])], "gzip");

        var report = await new HourAggregationJob(_data.Store, new TallyOptions()) { ReadBufferBytes = 4096 }.RunAsync(Hour);

        Assert.Equal(0, report.Rejected);
        Assert.Equal(RunStatus.Succeeded, report.Status);
        AssertTablesMatchDuckDb();
    }

    private static byte[] GunzipAsDotNetDoes(byte[] stored)
    {
        using var gzip = new GZipStream(new MemoryStream(stored), CompressionMode.Decompress);
        var output = new MemoryStream();
        gzip.CopyTo(output);
        return output.ToArray();
    }

    [Fact]
    public async Task Run_ReportsHowManyFilesOfEachKindItRead()
    {
        Write(1, Firehose, JsonLines(Records(100, seed: 18)), "uncompressed");
        Write(2, "b.json", Gzip(JsonLines(Records(100, seed: 19))), "gzip");
        Write(3, "c", Zstd(JsonLines(Records(100, seed: 20))), "zstd");
        Write(3, "d.zst", Zstd(JsonLines(Records(100, seed: 21))), "zstd");
        Write(4, "e.bin", [0x00, 0x01, 0x02], compression: null);

        var report = await RunAsync(new TallyOptions { RejectedThreshold = 1.0 });

        Assert.Equal(5, report.Files);
        Assert.Equal(400, report.Records);
        var json = JsonSerializer.SerializeToElement(report);
        Assert.Equal("""{"json":1,"gzip":1,"zstd":2,"unknown":1}""", json.GetProperty("file_kinds").GetRawText());
        Assert.Equal(5, json.GetProperty("files").GetInt32());
        AssertTablesMatchDuckDb();
    }

    /// <summary>Records of the seed's schema, deterministic for a seed, each one line of JSON.</summary>
    internal static IReadOnlyList<string> Records(int count, int seed)
    {
        string[] countries = ["US", "DE", "FR", "IN", "BR", "JP"];
        string[] agents = ["Mozilla/5.0 (X11; Linux x86_64)", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)", "curl/8.5.0"];
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
            $$"""{"GroupID": {{random.Next(1, 12)}}, "CountryCode": "{{countries[random.Next(countries.Length)]}}", "UserAgent": "{{agents[random.Next(agents.Length)]}}", "Language": "en-US", "Domain": "site{{random.Next(20)}}.example", "Timestamp": "2026-11-24T13:{{random.Next(60):D2}}:{{random.Next(60):D2}}Z"}""")
            .ToList();
    }

    internal static byte[] JsonLines(IEnumerable<string> lines) => Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n")));

    internal static byte[] Gzip(byte[] content)
    {
        var output = new MemoryStream();
        using (var zip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true)) zip.Write(content);
        return output.ToArray();
    }

    internal static byte[] Zstd(byte[] content)
    {
        var output = new MemoryStream();
        using (var zstd = new CompressionStream(output, level: 3, leaveOpen: true)) zstd.Write(content);
        return output.ToArray();
    }

    /// <summary>What a zstd file decompresses to up to its damage (the end of a truncated frame, or bytes that are no frame).</summary>
    private static byte[] DecompressUpToTheDamage(byte[] stored)
    {
        var output = new MemoryStream();
        using var zstd = new DecompressionStream(new MemoryStream(stored), checkEndOfStream: false);
        var buffer = new byte[1 << 16];
        try
        {
            int n;
            while ((n = zstd.Read(buffer)) > 0) output.Write(buffer, 0, n);
        }
        catch (ZstdException)
        {
        }
        return output.ToArray();
    }

    /// <summary>Writes a raw file of the hour; with a compression, DuckDB reads it too, from the same path.</summary>
    private string Write(int minute, string name, byte[] content, string? compression)
    {
        var key = _data.WriteRawBytes(DataLayout.RawMinutePrefix(Hour, minute) + "/" + name, content);
        if (compression is not null) _oracleFiles.Add((_data.PathOf(key), compression));
        return key;
    }

    /// <summary>A file for DuckDB only, outside the data folder.</summary>
    private string OracleCopy(string name, byte[] content)
    {
        var path = Path.Combine(_oracleCopies.Value, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    private Task<RunReport> RunAsync(TallyOptions? options = null, int bufferBytes = RawFileReader.DefaultBufferBytes) =>
        new HourAggregationJob(_data.Store, options ?? new TallyOptions()) { ReadBufferBytes = bufferBytes }.RunAsync(Hour);

    private void AssertTablesMatchDuckDb()
    {
        foreach (var spec in AggregationSpec.Defaults)
        {
            var expected = _duck.ExpectedRows(_oracleFiles, spec);
            var actual = _duck.FileRows(_data.PathOf(DataLayout.TableFile(spec, Hour)), spec.Format);
            Assert.True(expected.Count > 1, $"{spec.Table}: the oracle found no groups");
            Assert.Equal(expected, actual.Order(StringComparer.Ordinal).ToList());
        }
    }

    public void Dispose()
    {
        _duck.Dispose();
        _data.Dispose();
        if (_oracleCopies.IsValueCreated) Directory.Delete(_oracleCopies.Value, recursive: true);
    }
}
