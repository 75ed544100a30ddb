using System.Text;
using System.Text.Json;
using Tally.Engine;

namespace Tally.Tests.Engine;

/// <summary>Every file shape and every kind of bad record in the raw contract, with hand-written expectations.</summary>
public sealed class RawContractTests : IDisposable
{
    private static readonly HourWindow Hour = HourWindow.Parse("2026-11-24T13");
    private readonly TempDataFolder _data = new();
    private readonly DuckDbOracle _duck = new();

    private const string Three = """
        {"GroupID": 1, "CountryCode": "US", "Domain": "a.com", "UserAgent": "UA-1", "Language": "en-US", "Timestamp": "2026-11-24T13:00:01Z"}
        {"GroupID": 2, "CountryCode": "US", "Domain": "b.com", "UserAgent": "UA-1", "Language": "en-US", "Timestamp": "2026-11-24T13:10:00Z"}
        {"GroupID": 1, "CountryCode": "DE", "Domain": "a.com", "UserAgent": "UA-2", "Language": "de-DE", "Timestamp": "2026-11-24T13:59:59.999Z"}
        """;

    public static TheoryData<string, byte[], bool> FileShapes()
    {
        var lines = Three.Split('\n');
        var objects = lines.Select(l => JsonSerializer.Deserialize<JsonElement>(l)).ToList();
        var pretty = string.Join("\n", objects.Select(o => JsonSerializer.Serialize(o, new JsonSerializerOptions { WriteIndented = true })));
        byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
        byte[] Bom(string s) => [0xEF, 0xBB, 0xBF, .. Utf8(s)];
        return new TheoryData<string, byte[], bool>
        {
            { "JSON Lines", Utf8(Three + "\n"), false },
            { "JSON Lines without a final newline", Utf8(Three), false },
            { "JSON Lines with BOM, CRLF and blank lines", Bom("\r\n" + string.Join("\r\n\r\n", lines) + "\r\n\r\n"), false },
            { "pretty-printed objects one after another", Utf8(pretty), false },
            { "objects on one line", Utf8(string.Join(" ", lines)), false },
            { "a JSON array on one line", Utf8("[" + string.Join(",", lines) + "]"), false },
            { "a pretty-printed JSON array with BOM and CRLF", Bom(JsonSerializer.Serialize(objects, new JsonSerializerOptions { WriteIndented = true }).Replace("\n", "\r\n")), false },
            { "two JSON arrays one after another", Utf8("[" + lines[0] + "]\n[" + lines[1] + "," + lines[2] + "]\n"), false },
            { "gzip JSON Lines", Utf8(Three + "\n"), true },
        };
    }

    [Theory]
    [MemberData(nameof(FileShapes))]
    public async Task Run_CountsEveryRecord_InEveryFileShape(string shape, byte[] content, bool gzip)
    {
        _data.WriteRawBytes(DataLayout.RawMinutePrefix(Hour, 7) + (gzip ? "/x.json.gz" : "/x.json"), content, gzip);

        var (report, tables) = await RunAsync();

        Assert.True(report.Status == RunStatus.Succeeded, shape);
        Assert.Equal(3, report.Records);
        Assert.Equal(0, report.Rejected);
        Assert.Equal(["DE|1", "US|2"], tables["hits_by_country"]);
        Assert.Equal(["1|a.com|2", "2|b.com|1"], tables["hits_by_domain_and_groupid"]);
        Assert.Equal(["UA-1|2", "UA-2|1"], tables["hits_by_useragent"]);
    }

    [Fact]
    public async Task Run_RejectsEveryKindOfBadRecord_WithFileLineAndReason()
    {
        const string content = """
            {"GroupID": "12", "CountryCode": "US"}
            {"GroupID": 1.5, "CountryCode": "US"}
            {"GroupID": 9223372036854775808, "CountryCode": "US"}
            {"GroupID": 1, "CountryCode": 5}
            {"GroupID": 1, "UserAgent": ["x"]}
            {"GroupID": 1, "Domain": true}
            {"GroupID": 1, "Timestamp": "yesterday"}
            {"GroupID": 1, "Timestamp": 1732453200}
            42
            "hello"
            {"GroupID": 1, "CountryCode": "US"
            {"GroupID": 7, "CountryCode": "FR"}
            {"GroupID": 7, "CountryCode": "FR", not json}
            {"GroupID": 8, "CountryCode": "FR"}
            {"GroupID": 9, "CountryCode": "IT"
            """;
        var key = _data.WriteRaw(Hour, 30, "bad.json", content);

        var (report, tables) = await RunAsync(new TallyOptions { RejectedThreshold = 1.0 });

        Assert.Equal(RunStatus.Succeeded, report.Status);
        Assert.Equal(2, report.Records);
        Assert.Equal(13, report.Rejected);
        Assert.Equal(["FR|2"], tables["hits_by_country"]);
        var rejected = File.ReadAllLines(_data.PathOf(DataLayout.QuarantineFile(Hour)))
            .Select(l => JsonSerializer.Deserialize<JsonElement>(l)).ToList();
        Assert.All(rejected, r => Assert.Equal(key, r.GetProperty("file").GetString()));
        var byLine = rejected.ToDictionary(r => r.GetProperty("line").GetInt64(), r => r.GetProperty("reason").GetString()!);
        Assert.Equal([1L, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15], byLine.Keys.Order());
        Assert.Contains("GroupID is not an integer", byLine[1]);
        Assert.Contains("GroupID is not a 64-bit integer", byLine[2]);
        Assert.Contains("GroupID is not a 64-bit integer", byLine[3]);
        Assert.Contains("CountryCode is not a string", byLine[4]);
        Assert.Contains("UserAgent is not a string", byLine[5]);
        Assert.Contains("Domain is not a string", byLine[6]);
        Assert.Contains("Timestamp is not an ISO-8601 date-time", byLine[7]);
        Assert.Contains("Timestamp is not an ISO-8601 date-time", byLine[8]);
        Assert.Contains("not a JSON object", byLine[9]);
        Assert.Contains("not a JSON object", byLine[10]);
        Assert.Contains("not valid JSON", byLine[11]);
        Assert.Contains("not valid JSON", byLine[13]);
        Assert.Contains("truncated", byLine[15]);
        // The raw text is kept, so nothing is lost.
        Assert.Equal("{\"GroupID\": 1.5, \"CountryCode\": \"US\"}", rejected.Single(r => r.GetProperty("line").GetInt64() == 2).GetProperty("record").GetString());
        var offset = rejected.Single(r => r.GetProperty("line").GetInt64() == 2).GetProperty("offset").GetInt64();
        Assert.Equal(content.IndexOf("{\"GroupID\": 1.5", StringComparison.Ordinal), offset);
    }

    [Fact]
    public async Task Run_CountsEachLineOfGarbage_AsOneRejectedRecord_ButABrokenPrettyObjectAsOne()
    {
        var garbage = string.Concat(Enumerable.Range(1, 30).Select(i => $"not json {i}\n"));
        _data.WriteRaw(Hour, 10, "garbage.json", garbage + """
            {"GroupID": 1, "CountryCode": "DE"}
            {
              "GroupID": 2,
              "CountryCode": oops,
              "Domain": "a.com"
            }
            {"GroupID": 3, "CountryCode": "DE"}
            """);

        var (report, tables) = await RunAsync(new TallyOptions { RejectedThreshold = 1.0 });

        // 30 lines of garbage are 30 rejected records against the threshold, each quarantined with its own line; the broken
        // pretty-printed object, five lines, is one; the records around them are counted.
        Assert.Equal(2, report.Records);
        Assert.Equal(31, report.Rejected);
        Assert.Equal(["DE|2"], tables["hits_by_country"]);
        var rejected = File.ReadAllLines(_data.PathOf(DataLayout.QuarantineFile(Hour)))
            .Select(l => JsonSerializer.Deserialize<JsonElement>(l)).ToList();
        Assert.Equal([.. Enumerable.Range(1, 30).Select(i => (long)i), 32], rejected.Select(r => r.GetProperty("line").GetInt64()));
        Assert.Equal([.. Enumerable.Range(1, 30).Select(i => $"not json {i}")], rejected.Take(30).Select(r => r.GetProperty("record").GetString()));
        Assert.StartsWith("{\n  \"GroupID\": 2,", rejected[30].GetProperty("record").GetString(), StringComparison.Ordinal);
        Assert.EndsWith("}", rejected[30].GetProperty("record").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_CountsNullAndMissingFieldsAsTheirOwnGroup_AndIgnoresExtraFields()
    {
        _data.WriteRaw(Hour, 0, "nulls.json", """
            {"GroupID": null, "CountryCode": null, "Domain": "a.com", "UserAgent": null}
            {}
            {"Extra": {"nested": [1, {"GroupID": "not me"}]}, "CountryCode": "US", "groupid": "ignored: names are case-sensitive"}
            """);

        var (report, tables) = await RunAsync();

        Assert.Equal(3, report.Records);
        Assert.Equal(0, report.Rejected);
        Assert.Equal(["NULL|2", "US|1"], tables["hits_by_country"]);
        Assert.Equal(["NULL|NULL|2", "NULL|a.com|1"], tables["hits_by_domain_and_groupid"]);
        Assert.Equal(["NULL|3"], tables["hits_by_useragent"]);
    }

    [Fact]
    public async Task Run_CountsRecordsOutsideTheHour_AndReportsThem()
    {
        _data.WriteRaw(Hour, 0, "times.json", """
            {"CountryCode": "A", "Timestamp": "2026-11-24T12:59:59.9999999Z"}
            {"CountryCode": "A", "Timestamp": "2026-11-24T13:00:00Z"}
            {"CountryCode": "A", "Timestamp": "2026-11-24T14:00:00Z"}
            {"CountryCode": "A", "Timestamp": "2026-11-24T13:30:00+01:00"}
            {"CountryCode": "A", "Timestamp": "2026-11-24T13:30:00"}
            {"CountryCode": "A", "Timestamp": "2026-11-24T08:15:00-05:00"}
            {"CountryCode": "A"}
            """);

        var (report, tables) = await RunAsync();

        Assert.Equal(7, report.Records);
        Assert.Equal(3, report.OutsideWindow);
        Assert.Equal(["A|7"], tables["hits_by_country"]);
    }

    [Fact]
    public async Task Run_TellsTimestampsOfTheHourFromOthers_AtEveryBoundary_AndRejectsImpossibleTimes()
    {
        _data.WriteRaw(Hour, 0, "shapes.json", """
            {"CountryCode": "in", "Timestamp": "2026-11-24T13:00:00Z"}
            {"CountryCode": "in", "Timestamp": "2026-11-24T13:00:00.000Z"}
            {"CountryCode": "in", "Timestamp": "2026-11-24T13:59:59.999Z"}
            {"CountryCode": "in", "Timestamp": "2026-11-24T13:59:59Z"}
            {"CountryCode": "in", "Timestamp": "2026-11-24T13:30:00.5Z"}
            {"CountryCode": "in", "Timestamp": "2026-11-24T13:30:00.123z"}
            {"CountryCode": "in", "Timestamp": "2026-11-24T14:30:00.000+01:00"}
            {"CountryCode": "out", "Timestamp": "2026-11-24T14:00:00.000Z"}
            {"CountryCode": "out", "Timestamp": "2026-11-24T12:59:59.999Z"}
            {"CountryCode": "out", "Timestamp": "2026-11-25T13:00:00.000Z"}
            {"CountryCode": "out", "Timestamp": "2025-11-24T13:00:00Z"}
            {"CountryCode": "bad", "Timestamp": "2026-11-24T13:60:00Z"}
            {"CountryCode": "bad", "Timestamp": "2026-11-24T13:59:60.000Z"}
            {"CountryCode": "bad", "Timestamp": "2026-11-24T13:5x:00.000Z"}
            {"CountryCode": "bad", "Timestamp": "2026-11-24T13:00:00.00xZ"}
            {"CountryCode": "bad", "Timestamp": "2026-11-24T13-00-00.000Z"}
            """);

        var (report, tables) = await RunAsync(new TallyOptions { RejectedThreshold = 1.0 });

        Assert.Equal(11, report.Records);
        Assert.Equal(4, report.OutsideWindow);
        Assert.Equal(5, report.Rejected);
        Assert.Equal(["in|7", "out|4"], tables["hits_by_country"]);
    }

    [Fact]
    public async Task Run_KeepsSixtyFourBitGroupIds()
    {
        _data.WriteRaw(Hour, 0, "big.json", """
            {"GroupID": 9223372036854775807, "Domain": "d"}
            {"GroupID": -9223372036854775808, "Domain": "d"}
            {"GroupID": 4294967296, "Domain": "d"}
            {"GroupID": 0, "Domain": "d"}
            """);

        var (_, tables) = await RunAsync();

        Assert.Equal(["-9223372036854775808|d|1", "0|d|1", "4294967296|d|1", "9223372036854775807|d|1"], tables["hits_by_domain_and_groupid"]);
    }

    [Fact]
    public async Task Run_GroupsEscapedAndLiteralStringsTogether_AndWritesNonAsciiAsIs()
    {
        _data.WriteRaw(Hour, 0, "text.json", """
            {"Domain": "café.fr", "CountryCode": "日本", "UserAgent": "Mozilla/5.0 (\"quoted\") back\\slash+<tag>'"}
            {"Domain": "caf\u00e9.fr", "CountryCode": "\u65e5\u672c", "UserAgent": "Mozilla/5.0 (\"quoted\") back\\slash+<tag>'"}
            {"Domain": "line\nbreak", "CountryCode": "\ud83d\ude00", "UserAgent": "tab\there"}
            """);

        var (report, tables) = await RunAsync();

        Assert.Equal(3, report.Records);
        Assert.Equal(["NULL|café.fr|2", "NULL|line\nbreak|1"], tables["hits_by_domain_and_groupid"].Order(StringComparer.Ordinal));
        Assert.Equal(["日本|2", "😀|1"], tables["hits_by_country"]);
        Assert.Contains("Mozilla/5.0 (\"quoted\") back\\slash+<tag>'|2", tables["hits_by_useragent"]);
        var json = File.ReadAllText(_data.PathOf(DataLayout.TableFile(AggregationSpec.Defaults[1], Hour)));
        Assert.Contains("\"domain\":\"café.fr\"", json);
        Assert.Contains("\"domain\":\"line\\nbreak\"", json);
    }

    [Fact]
    public async Task Run_RejectsStringsThatAreNotValidUtf8_ShortOrLong_AndKeepsValidNonAscii()
    {
        // Bytes that are not UTF-8 (a lone continuation byte, a truncated sequence, an overlong '/') in a two-letter value,
        // at the end of a 60-byte value and past the first 40 bytes of a long one; beside them valid non-ASCII values.
        var longAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 ";
        var lines = new List<byte[]>
        {
            Line("{\"CountryCode\": \"D", [0x80], "\", \"Domain\": \"a.com\"}"),
            Line("{\"Domain\": \"" + new string('a', 57), [0xE2, 0x82], "\"}"),
            Line("{\"UserAgent\": \"" + longAgent, [0xC0, 0xAF], " tail\"}"),
            Line("{\"CountryCode\": \"DE\", \"Domain\": \"münchen.de\", \"UserAgent\": \"" + longAgent + "é\"}", []),
            Line("{\"CountryCode\": \"DE\", \"Domain\": \"straße.de\"}", []),
        };
        var key = DataLayout.RawMinutePrefix(Hour, 0) + "/utf8.json";
        _data.WriteRawBytes(key, lines.SelectMany(l => l).ToArray());

        var (report, tables) = await RunAsync(new TallyOptions { RejectedThreshold = 1.0 });

        Assert.Equal(2, report.Records);
        Assert.Equal(3, report.Rejected);
        Assert.Equal(["DE|2"], tables["hits_by_country"]);
        Assert.Equal(["NULL|münchen.de|1", "NULL|straße.de|1"], tables["hits_by_domain_and_groupid"].Order(StringComparer.Ordinal));
        var reasons = File.ReadAllLines(_data.PathOf(DataLayout.QuarantineFile(Hour)))
            .Select(l => JsonSerializer.Deserialize<JsonElement>(l).GetProperty("reason").GetString()).ToList();
        Assert.Equal(["CountryCode is not valid UTF-8", "Domain is not valid UTF-8", "UserAgent is not valid UTF-8"], reasons);

        static byte[] Line(string before, byte[] bad, string after = "") =>
            [.. Encoding.UTF8.GetBytes(before), .. bad, .. Encoding.UTF8.GetBytes(after + "\n")];
    }

    [Fact]
    public async Task Run_RejectsALoneSurrogateEscape_InAValue_AndSkipsItInAName_WithoutStopping()
    {
        _data.WriteRaw(Hour, 0, "surrogates.json", """
            {"CountryCode": "DE", "Domain": "\ud800.example"}
            {"CountryCode": "DE", "Timestamp": "2026-11-24T13:00:00Z\udfff"}
            {"CountryCode": "FR", "\ud800Domain": "ignored"}
            {"CountryCode": "FR", "Domain": "\ud83d\ude00.example"}
            """);

        var (report, tables) = await RunAsync(new TallyOptions { RejectedThreshold = 1.0 });

        Assert.Equal(2, report.Records);
        Assert.Equal(2, report.Rejected);
        Assert.Equal(["FR|2"], tables["hits_by_country"]);
        Assert.Equal(["NULL|NULL|1", "NULL|😀.example|1"], tables["hits_by_domain_and_groupid"].Order(StringComparer.Ordinal));
        var reasons = File.ReadAllLines(_data.PathOf(DataLayout.QuarantineFile(Hour)))
            .Select(l => JsonSerializer.Deserialize<JsonElement>(l).GetProperty("reason").GetString()).ToList();
        Assert.Equal(["Domain has an escape that is not valid text (a lone surrogate)", "Timestamp has an escape that is not valid text (a lone surrogate)"], reasons);
    }

    [Theory]
    [InlineData(97)] // smaller than two records: every reject lies across refills of the buffer
    [InlineData(RawFileReader.DefaultBufferBytes)]
    public async Task Run_NamesTheLineOfEveryRejectedRecord_HoweverTheFileIsBuffered(int bufferBytes)
    {
        var good = """{"CountryCode": "DE", "Domain": "example.com", "UserAgent": "Mozilla/5.0", "Timestamp": "2026-11-24T13:00:00Z"}""";
        var lines = Enumerable.Range(1, 40).Select(i => i % 7 == 0 ? $"garbage {i}" : i % 5 == 0 ? """{"GroupID": "x"}""" : good).ToList();
        _data.WriteRaw(Hour, 0, "lines.json", string.Join("\r\n", lines) + "\n");

        var report = await new HourAggregationJob(_data.Store, new TallyOptions { RejectedThreshold = 1.0 }) { ReadBufferBytes = bufferBytes }.RunAsync(Hour);

        var expected = Enumerable.Range(1, 40).Where(i => i % 7 == 0 || i % 5 == 0).Select(i => (long)i).ToList();
        var rejected = File.ReadAllLines(_data.PathOf(DataLayout.QuarantineFile(Hour))).Select(l => JsonSerializer.Deserialize<JsonElement>(l)).ToList();
        Assert.Equal(expected, rejected.Select(r => r.GetProperty("line").GetInt64()));
        Assert.Equal(expected.Count, report.Rejected);
        Assert.Equal(40 - expected.Count, report.Records);
        // The offset points at the record's first byte.
        var bytes = File.ReadAllBytes(_data.PathOf(DataLayout.RawMinutePrefix(Hour, 0) + "/lines.json"));
        Assert.All(rejected, r => Assert.Equal(r.GetProperty("record").GetString()![0], (char)bytes[r.GetProperty("offset").GetInt64()]));
    }

    [Fact]
    public async Task Run_CountsAFiveThousandCharacterUserAgent()
    {
        var agent = "Mozilla/5.0 " + new string('x', 4988);
        Assert.Equal(5000, agent.Length);
        _data.WriteRaw(Hour, 0, "long.json", $"{{\"UserAgent\": \"{agent}\"}}\n{{\"UserAgent\": \"{agent}\"}}\n");

        var report = await new HourAggregationJob(_data.Store, new TallyOptions()) { ReadBufferBytes = 64 }.RunAsync(Hour);
        var rows = _duck.FileRows(_data.PathOf(DataLayout.TableFile(AggregationSpec.Defaults[2], Hour)), TableFormat.Parquet);

        Assert.Equal(2, report.Records);
        Assert.Equal([$"{agent}|2"], rows);
    }

    [Fact]
    public async Task Run_ReadsUnpaddedPartitionFolders_AndWritesPaddedOnes()
    {
        var hour = HourWindow.Parse("2026-01-05T07");
        _data.WriteRawBytes("raw_data/year=2026/month=1/day=5/hour=7/minute=3/a.json", Encoding.UTF8.GetBytes("{\"CountryCode\": \"US\"}\n"));
        _data.WriteRawBytes("raw_data/year=2026/month=01/day=05/hour=07/minute=04/b.json", Encoding.UTF8.GetBytes("{\"CountryCode\": \"US\"}\n"));
        _data.WriteRawBytes("raw_data/year=2026/month=01/day=05/hour=17/minute=04/other-hour.json", Encoding.UTF8.GetBytes("{\"CountryCode\": \"XX\"}\n"));
        // Any name is data (Hive's rule): the note is read, and its line rejected, rather than skipped.
        _data.WriteRawBytes("raw_data/year=2026/month=01/day=05/hour=07/minute=04/notes.txt", Encoding.UTF8.GetBytes("not data"));

        var report = await new HourAggregationJob(_data.Store, new TallyOptions { RejectedThreshold = 1.0 }).RunAsync(hour);

        Assert.Equal(3, report.Files);
        Assert.Equal(2, report.Records);
        Assert.Equal(1, report.Rejected);
        Assert.Contains("aggregated_data/hits_by_country/year=2026/month=01/day=05/hour=07/part-00000.parquet", _data.AllFiles());
    }

    [Fact]
    public async Task Run_CountsWhatPrecedesTheDamage_InACorruptGzipFile()
    {
        var good = new MemoryStream();
        using (var zip = new System.IO.Compression.GZipStream(good, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            zip.Write(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("{\"CountryCode\": \"US\"}\n", 1000))));
        }
        var bytes = good.ToArray();
        _data.WriteRawBytes(DataLayout.RawMinutePrefix(Hour, 1) + "/cut.json.gz", bytes[..(bytes.Length - 12)]);

        var report = await new HourAggregationJob(_data.Store, new TallyOptions { RejectedThreshold = 1.0 }).RunAsync(Hour);

        Assert.Equal(RunStatus.Succeeded, report.Status);
        // The record the cut goes through, and the rest of the file, which the cut gzip cannot give.
        Assert.Equal(2, report.Rejected);
        Assert.InRange(report.Records, 1, 999);
    }

    private async Task<(RunReport Report, Dictionary<string, List<string>> Tables)> RunAsync(TallyOptions? options = null)
    {
        var report = await new HourAggregationJob(_data.Store, options ?? new TallyOptions()).RunAsync(Hour);
        var tables = AggregationSpec.Defaults.ToDictionary(s => s.Table, s => _duck.FileRows(_data.PathOf(DataLayout.TableFile(s, Hour)), s.Format).ToList());
        return (report, tables);
    }

    public void Dispose()
    {
        _duck.Dispose();
        _data.Dispose();
    }
}
