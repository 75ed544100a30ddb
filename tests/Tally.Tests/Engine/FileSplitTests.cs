using System.Text;
using Tally.Engine;

namespace Tally.Tests.Engine;

/// <summary>
/// A large file read as byte ranges by several workers gives what reading it whole gives: the same tables byte for byte,
/// the same report and the same quarantine file (reasons, lines, offsets, order). Split sizes are forced tiny here so that
/// split points fall everywhere, next to bad lines, pretty-printed records and arrays.
/// </summary>
public sealed class FileSplitTests : IDisposable
{
    private static readonly HourWindow Hour = HourWindow.Parse("2026-11-24T13");
    private readonly List<TempDataFolder> _folders = [];

    [Fact]
    public async Task Run_GivesTheSameTables_ForOneSplitFile_AsForTheSameRecordsIn120Files()
    {
        var records = RawFileTests.Records(6000, seed: 21);
        var one = Folder();
        one.WriteRawBytes(DataLayout.RawMinutePrefix(Hour, 0) + "/all.json", RawFileTests.JsonLines(records));
        var many = Folder();
        for (var i = 0; i < 120; i++)
        {
            many.WriteRawBytes(DataLayout.RawMinutePrefix(Hour, i / 2) + $"/part-{i:D3}.json", RawFileTests.JsonLines(records.Skip(i * 50).Take(50)));
        }

        var split = await Job(one, splitBytes: 4096, maxSplits: 200).RunAsync(Hour);
        var spread = await Job(many, splitBytes: FileSplits.DefaultSplitBytes, maxSplits: null).RunAsync(Hour);

        Assert.Equal(6000, split.Records);
        Assert.Equal(spread.Records, split.Records);
        AssertSameTables(many, one);
    }

    /// <summary>Files whose split points fall next to rejects of every kind; the last ones defeat the check and are read again whole.</summary>
    public static TheoryData<string, string> Files()
    {
        var valid = RawFileTests.Records(40, seed: 22);
        var lines = new List<string>();
        for (var i = 0; i < valid.Count; i++)
        {
            lines.Add(valid[i]);
            switch (i % 8)
            {
                case 0: lines.Add("""{"GroupID": "seven", "CountryCode": "US"}"""); break;        // a wrong type
                case 1: lines.Add("""{"GroupID": 1, "CountryCode": "US" """); break;               // cut short
                case 2: lines.Add("this is not json}"); break;                                     // garbage
                case 3: lines.Add("{\n  \"GroupID\": 3,\n  \"CountryCode\": \"FR\"\n}"); break;       // pretty-printed
                case 4: lines.Add("{\"GroupID\": 4, \"Inner\": {\"a\": 1}\n}"); break;             // '}' then a line of '}'
                case 5: lines.Add("{\"GroupID\": 5, \"Inner\":\n{\"a\": 1}\n, \"CountryCode\": \"DE\"}"); break; // nested '{' at column 0, valid
                case 6: lines.Add("{\"GroupID\": 6, \"Inner\": {\"a\": 1}\n{\"CountryCode\": \"DE\"}"); break; // '}\n{' inside a broken record
                case 7: lines.Add("[1, 2]\r"); break;                                               // not an object, CRLF
            }
        }
        var jsonLines = string.Concat(lines.Select(l => l + "\n"));
        return new TheoryData<string, string>
        {
            { "json-lines-with-rejects", jsonLines },
            { "bom-and-crlf", "\uFEFF" + jsonLines.Replace("\n", "\r\n") },
            { "back-to-back", string.Concat(valid) + "\n" + jsonLines },
            { "no-final-newline-and-truncated", jsonLines + """{"GroupID": 9, "CountryCode": """ },
            { "broken-array-in-the-middle", jsonLines + "[\n" + string.Join("\n", valid.Take(10)) + "\n]\n" + jsonLines },
            { "array-first", "[" + string.Join(",\n", valid) + "]\n" + jsonLines },
        };
    }

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Run_GivesTheSameReportTablesAndQuarantine_SplitOrWhole(string name, string content)
    {
        var whole = Folder();
        whole.WriteRawBytes(DataLayout.RawMinutePrefix(Hour, 0) + "/" + name, Encoding.UTF8.GetBytes(content));
        var expected = await Job(whole, splitBytes: long.MaxValue, maxSplits: 1).RunAsync(Hour);
        Assert.True(expected.Rejected > 0);

        foreach (var (splitBytes, buffer) in new[] { (64L, 64), (200L, 4096), (1000L, 16) })
        {
            var split = Folder();
            split.WriteRawBytes(DataLayout.RawMinutePrefix(Hour, 0) + "/" + name, Encoding.UTF8.GetBytes(content));
            var actual = await Job(split, splitBytes, maxSplits: 1000, buffer).RunAsync(Hour);

            Assert.Equal((expected.Records, expected.Rejected, expected.OutsideWindow, expected.FileKinds),
                (actual.Records, actual.Rejected, actual.OutsideWindow, actual.FileKinds));
            Assert.Equal(
                File.ReadAllText(whole.PathOf(DataLayout.QuarantineFile(Hour))),
                File.ReadAllText(split.PathOf(DataLayout.QuarantineFile(Hour))));
            AssertSameTables(whole, split);
        }
    }

    [Theory]
    [InlineData("{\"a\":1}\n{\"b\":2}", 7, 8)]
    [InlineData("{\"a\":1}  \r\n{\"b\":2}", 0, 11)]
    [InlineData("{\"a\":\n{\"b\":2}}\n{", 0, 15)]
    [InlineData("\"}\"\n{", 0, -1)] // the '}' must be the last non-blank byte before the line break: here it is '"'
    [InlineData("{\"a\":[1]\n{", 0, -1)]
    public void FindRangeStart_TakesOnlyABraceAtColumnZero_AfterAClosingBrace(string window, int from, int expected) =>
        Assert.Equal(expected, FileSplits.FindRangeStart(Encoding.UTF8.GetBytes(window), from));

    private static HourAggregationJob Job(TempDataFolder folder, long splitBytes, int? maxSplits, int buffer = RawFileReader.DefaultBufferBytes) =>
        new(folder.Store, new TallyOptions { MaxParallelism = 2, RejectedThreshold = 1.0 }) { SplitBytes = splitBytes, MaxSplitsPerFile = maxSplits, ReadBufferBytes = buffer };

    private static void AssertSameTables(TempDataFolder expected, TempDataFolder actual)
    {
        foreach (var spec in AggregationSpec.Defaults)
        {
            var key = DataLayout.TableFile(spec, Hour);
            Assert.Equal(File.ReadAllBytes(expected.PathOf(key)), File.ReadAllBytes(actual.PathOf(key)));
        }
    }

    private TempDataFolder Folder()
    {
        var folder = new TempDataFolder();
        _folders.Add(folder);
        return folder;
    }

    public void Dispose()
    {
        foreach (var folder in _folders) folder.Dispose();
    }
}
