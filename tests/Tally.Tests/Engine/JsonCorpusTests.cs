using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Tally.Engine;

namespace Tally.Tests.Engine;

/// <summary>
/// A corpus of valid and invalid JSON documents, each embedded as the value of an undeclared field of an otherwise valid
/// record (<c>{"GroupID":1,"CountryCode":"DE","Extra":&lt;document&gt;,"Domain":"r17",…}</c>): a record is counted exactly
/// when its document is valid JSON, as System.Text.Json's <see cref="JsonDocument"/> judges it independently (strictly:
/// no comments, no trailing commas; nesting within the record's limit of 64) together with UTF-8 validity. Each record
/// has its own domain, so the table shows which records were counted, not only how many.
/// </summary>
public sealed class JsonCorpusTests : IDisposable
{
    private static readonly HourWindow Hour = HourWindow.Parse("2026-11-24T13");
    private readonly List<TempDataFolder> _folders = [];

    /// <summary>The documents: valid and invalid, in every form a scanner could get wrong.</summary>
    internal static IReadOnlyList<byte[]> Corpus()
    {
        var texts = new List<string>
        {
            // Numbers.
            "0", "-0", "1e5", "1E+5", "1e-5", "-1.5e-3", "0.0", "-0.0e-0", "123456789012345678901234567890", "1.7976931348623157e309",
            "01", "-01", "1.", ".5", "+1", "-", "1e", "1e+", "1.e5", "0x10", "--1", "NaN", "Infinity", "-Infinity", "1_000", "1 2",
            // Strings and escapes.
            "\"\"", "\"a\"", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\u0041\\u00e9\\uD83D\\uDE00\"", "\"\\ud800\"", "\"\\udc00x\"", "\"\\u0000\"",
            "\"é😀\"", "\"\u007f\"", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"\\U0041\"", "\"\\'\"", "\"a\tb\"", "\"a\u0001b\"", "\"a\u001fb\"",
            "\"abc", "'a'", "\"a\"b", "\"\\\"",
            // Literals.
            "true", "false", "null", "tru", "nul", "fals", "True", "NULL", "nulll", "truefalse",
            // Arrays and objects (none that closes the record early, such as {"a":1}}: that is a valid record and garbage after it).
            "[]", "{}", "[1,[2,[3]]]", "{\"a\":{\"b\":[{\"c\":null}]}}", "{\"\":0}", "{\"a\":1,\"a\":2}", "{\"GroupID\":\"not the record's\"}",
            "[1,2", "{\"a\":", "{\"a\"}", "{\"a\" 1}", "{\"a\":1 \"b\":2}", "[1 2]", "[1,]", "{\"a\":1,}", "[,1]", "[1,,2]", "{,}", "{a:1}",
            "{'a':1}", "[1]]", "]", "}", "[", "{", "", ":", ",",
            // Comments.
            "/* c */ 1", "1 // c", "[1, /* c */ 2]", "#1",
            // Whitespace.
            " [ 1 , 2 ] ", "\t{\t\"a\"\t:\t1\t}", "[1\r\n ,2]", "{\n  \"a\": [\n    1\n  ]\n }", "[1,\u00a02]", "[1,\u000b2]", "[1,\f2]",
            // Nesting near the limit: the record is one level, so its document may nest 63 deep and no more.
            new string('[', 62) + new string(']', 62), new string('[', 63) + new string(']', 63), new string('[', 64) + new string(']', 64),
            string.Concat(Enumerable.Repeat("{\"a\":", 63)) + "1" + new string('}', 63),
            string.Concat(Enumerable.Repeat("{\"a\":", 64)) + "1" + new string('}', 64),
            new string('[', 63) + new string(']', 62),
        };
        var corpus = texts.Select(Encoding.UTF8.GetBytes).ToList();
        // Bytes that are not UTF-8, inside strings, keys and outside them.
        byte[][] raw =
        [
            [(byte)'"', 0xFF, (byte)'"'], [(byte)'"', 0xC0, 0xAF, (byte)'"'], [(byte)'"', 0xED, 0xA0, 0x80, (byte)'"'], [(byte)'"', 0xE2, 0x82, (byte)'"'],
            [(byte)'"', 0xF4, 0x90, 0x80, 0x80, (byte)'"'], [(byte)'{', (byte)'"', 0xFE, (byte)'"', (byte)':', (byte)'1', (byte)'}'],
            [(byte)'[', (byte)'"', 0x80, (byte)'"', (byte)']'], [0xFF], [(byte)'"', 0xE2, 0x82, 0xAC, (byte)'"'],
        ];
        corpus.AddRange(raw);
        return corpus;
    }

    /// <summary>The independent judge: strict System.Text.Json with the record's depth taken off, and UTF-8 throughout.</summary>
    private static bool IsValidJson(byte[] document)
    {
        if (!Utf8.IsValid(document)) return false;
        try
        {
            using var parsed = JsonDocument.Parse(document, new JsonDocumentOptions { MaxDepth = 63 });
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    [Theory]
    [InlineData(false, RawFileReader.DefaultBufferBytes, false)]
    [InlineData(true, RawFileReader.DefaultBufferBytes, false)]
    [InlineData(false, 64, false)]
    [InlineData(true, 300, true)]
    public async Task Run_CountsARecord_ExactlyWhenItsUndeclaredFieldHoldsValidJson(bool extraLast, int bufferBytes, bool split)
    {
        var corpus = Corpus();
        var file = new List<byte>();
        for (var i = 0; i < corpus.Count; i++)
        {
            var head = $$"""{"GroupID":1,"CountryCode":"DE","UserAgent":"x","Language":"en","Timestamp":"2026-11-24T13:00:00Z",""";
            var domain = $"\"Domain\":\"r{i}\"";
            file.AddRange(Encoding.UTF8.GetBytes(extraLast ? head + domain + ",\"Extra\":" : head + "\"Extra\":"));
            file.AddRange(corpus[i]);
            file.AddRange(Encoding.UTF8.GetBytes(extraLast ? "}\n" : "," + domain + "}\n"));
        }
        var folder = new TempDataFolder();
        _folders.Add(folder);
        folder.WriteRawBytes(DataLayout.RawMinutePrefix(Hour, 0) + "/corpus.json", [.. file]);
        var job = new HourAggregationJob(folder.Store, new TallyOptions { RejectedThreshold = 1.0, MaxParallelism = 2 })
        {
            ReadBufferBytes = bufferBytes,
            SplitBytes = split ? 512 : long.MaxValue,
            MaxSplitsPerFile = 1000,
        };

        var report = await job.RunAsync(Hour);

        var expected = Enumerable.Range(0, corpus.Count).Where(i => IsValidJson(corpus[i])).Select(i => $"r{i}").Order(StringComparer.Ordinal).ToList();
        Assert.InRange(expected.Count, 30, corpus.Count - 30); // the corpus has plenty of both
        var table = AggregationSpec.Defaults.Single(s => s.Table == "hits_by_domain_and_groupid");
        var counted = File.ReadAllLines(folder.PathOf(DataLayout.TableFile(table, Hour)))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("domain").GetString()!)
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, counted);
        Assert.Equal(expected.Count, report.Records);
        Assert.True(report.Rejected >= corpus.Count - expected.Count);
    }

    public void Dispose()
    {
        foreach (var folder in _folders) folder.Dispose();
    }
}
