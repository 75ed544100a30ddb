using System.Text.Json;

namespace Tally.Cli.Tests;

public class RunCommandFacts
{
    private static readonly string[] DefaultTables = ["hits_by_country", "hits_by_domain_and_groupid", "hits_by_useragent"];

    private static void AssertNoStackTrace(TallyResult result) => Assert.DoesNotContain("   at ", result.Stdout + result.Stderr);

    /// <summary>Writes a raw file of the hour 2026-11-24T13, minute 00, line by line.</summary>
    private static void WriteRawLines(TempFolder data, params string[] lines)
    {
        var folder = Path.Combine(data.Path, "raw_data", "year=2026", "month=11", "day=24", "hour=13", "minute=00");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "hits.json"), string.Join('\n', lines) + "\n");
    }

    private static string Hit(string country, string timestamp = "2026-11-24T13:00:01Z") =>
        $$"""{"GroupID":1,"CountryCode":"{{country}}","UserAgent":"Mozilla/5.0","Language":"en-US","Domain":"example.com","Timestamp":"{{timestamp}}"}""";

    [Fact]
    public async Task Run_ExitsWithUsage_WhenNeitherHourNorInputIsGiven()
    {
        using var data = new TempFolder();

        var result = await Tally.RunAsync("run", "--data", data.Path);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("error: ", result.Stderr);
        Assert.Contains("--hour 2026-11-24T13", result.StderrText);
        Assert.Contains("--input", result.StderrText);
        Assert.Empty(result.Stdout);
        AssertNoStackTrace(result);
    }

    [Fact]
    public async Task Run_WritesItsUsageErrorOnOneLine_WhenStderrIsRedirected()
    {
        using var data = new TempFolder();

        var result = await Tally.RunAsync("run", "--data", data.Path);

        Assert.Single(result.StderrLines);
    }

    [Fact]
    public async Task Run_ExitsWithUsage_WhenBothHourAndInputAreGiven()
    {
        using var data = new TempFolder();

        var result = await Tally.RunAsync("run", "--data", data.Path, "--hour", "2026-11-24T13", "--input", """{"target_datetime": "2026-11-24T14:00:00Z"}""");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal("error: Give either --hour or --input, not both.", Assert.Single(result.StderrLines));
        AssertNoStackTrace(result);
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("2026-11-24T13:30")]
    [InlineData("2026-02-30T10")]
    [InlineData("24/11/2026")]
    public async Task Run_ExitsWithUsage_WhenTheHourIsNotAWholeHour(string hour)
    {
        using var data = new TempFolder();

        var result = await Tally.RunAsync("run", "--data", data.Path, "--hour", hour);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("error: ", result.Stderr);
        Assert.Contains($"'{hour}' is not an hour", result.StderrText);
        AssertNoStackTrace(result);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("not json")]
    [InlineData("""{"target_datetime": 1764000000}""")]
    [InlineData("""{"target_datetime": "yesterday"}""")]
    public async Task Run_ExitsWithUsage_WhenTheInputIsNotAWorkflowInput(string input)
    {
        using var data = new TempFolder();

        var result = await Tally.RunAsync("run", "--data", data.Path, "--input", input);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("error: ", result.Stderr);
        AssertNoStackTrace(result);
    }

    [Fact]
    public async Task Run_ExitsNotFound_WhenTheDataFolderIsMissing()
    {
        using var temp = new TempFolder();
        var missing = temp.Sub("missing");

        var result = await Tally.RunAsync("run", "--data", missing, "--hour", "2026-11-24T13");

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.StartsWith("error: ", result.Stderr);
        Assert.Contains($"'{missing}' does not exist", result.StderrText);
        Assert.False(Directory.Exists(missing));
        AssertNoStackTrace(result);
    }

    [Theory]
    [InlineData("xml")]
    [InlineData("csv")]
    public async Task Run_ExitsWithUsage_WhenTheFormatIsUnknown(string format)
    {
        using var data = new TempFolder();

        var result = await Tally.RunAsync("run", "--data", data.Path, "--hour", "2026-11-24T13", "--format", format);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"--format must be table or json, not '{format}'", result.StderrText);
        AssertNoStackTrace(result);
    }

    [Fact]
    public async Task GenerateThenRun_PrintsOneJsonReport_ThatAgreesWithTheRawFiles()
    {
        using var data = new TempFolder();
        var generated = await Tally.RunAsync("generate", "--data", data.Path, "--hour", "2026-11-24T13", "--hits-per-hour", "1500", "--seed", "5");
        Assert.True(generated.ExitCode == 0, generated.ToString());

        var result = await Tally.RunAsync("run", "--data", data.Path, "--hour", "2026-11-24T13", "--format", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var report = JsonDocument.Parse(result.Stdout);
        var root = report.RootElement;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        Assert.Equal("2026-11-24T13", root.GetProperty("target_hour").GetString());
        Assert.Equal("succeeded", root.GetProperty("status").GetString());
        Assert.Equal(1500, root.GetProperty("records").GetInt64());
        Assert.Equal(0, root.GetProperty("rejected").GetInt64());
        Assert.Equal(0, root.GetProperty("outside_window").GetInt64());
        Assert.True(root.GetProperty("duration_ms").GetInt64() >= 0);

        // An independent reading of the raw files: every line is a record.
        var rawFiles = Directory.GetFiles(data.Sub("raw_data"), "*", SearchOption.AllDirectories);
        var records = rawFiles.SelectMany(File.ReadAllLines).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(1500, records.Count);
        Assert.Equal(rawFiles.Length, root.GetProperty("files").GetInt32());
        Assert.Equal(rawFiles.Sum(f => new FileInfo(f).Length), root.GetProperty("bytes").GetInt64());

        var tables = root.GetProperty("tables").EnumerateArray().ToList();
        Assert.Equal(DefaultTables, tables.Select(t => t.GetProperty("table").GetString()));
        var rows = tables.ToDictionary(t => t.GetProperty("table").GetString()!, t => t.GetProperty("rows").GetInt64());
        Assert.Equal(records.Select(r => r.GetProperty("CountryCode").GetString()).Distinct().Count(), rows["hits_by_country"]);
        Assert.Equal(records.Select(r => (r.GetProperty("Domain").GetString(), r.GetProperty("GroupID").GetInt64())).Distinct().Count(), rows["hits_by_domain_and_groupid"]);
        Assert.Equal(records.Select(r => r.GetProperty("UserAgent").GetString()).Distinct().Count(), rows["hits_by_useragent"]);
        foreach (var table in tables)
        {
            var location = table.GetProperty("location").GetString()!;
            Assert.True(File.Exists(location), location);
            Assert.StartsWith(Path.Combine(data.Path, "aggregated_data", table.GetProperty("table").GetString()!), location);
        }

        // The JSON Lines table holds the same counts as the raw files.
        var expected = records.GroupBy(r => (r.GetProperty("Domain").GetString(), r.GetProperty("GroupID").GetInt64()))
            .ToDictionary(g => g.Key, g => (long)g.Count());
        var written = File.ReadAllLines(tables[1].GetProperty("location").GetString()!).Where(l => l.Length > 0)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .ToDictionary(r => (r.GetProperty("domain").GetString(), r.GetProperty("groupid").GetInt64()), r => r.GetProperty("hitcount").GetInt64());
        Assert.Equal(expected, written);
    }

    [Fact]
    public async Task Run_WithWorkflowInput_AggregatesTheHourBeforeTheScheduledTime()
    {
        using var data = new TempFolder();

        var result = await Tally.RunAsync("run", "--data", data.Path, "--input", """{"target_datetime": "2026-11-24T00:30:00Z"}""", "--format", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var report = JsonDocument.Parse(result.Stdout);
        Assert.Equal("2026-11-23T23", report.RootElement.GetProperty("target_hour").GetString());
        Assert.Equal("succeeded", report.RootElement.GetProperty("status").GetString());
        Assert.Equal(0, report.RootElement.GetProperty("records").GetInt64());
        // An hour with no input still gets its (empty) partitions.
        Assert.True(File.Exists(Path.Combine(data.Path, "aggregated_data", "hits_by_domain_and_groupid", "year=2026", "month=11", "day=23", "hour=23", "part-00000.json")));
    }

    [Fact]
    public async Task Run_Fails_WhenMostLinesAreRejected()
    {
        using var data = new TempFolder();
        WriteRawLines(data, Hit("US"), "not json", """{"GroupID":"one"}""", "42", Hit("DE", "yesterday"));

        var result = await Tally.RunAsync("run", "--data", data.Path, "--hour", "2026-11-24T13", "--format", "json");

        Assert.True(result.ExitCode == 1, result.ToString());
        using var report = JsonDocument.Parse(result.Stdout);
        var root = report.RootElement;
        Assert.Equal("failed", root.GetProperty("status").GetString());
        Assert.Equal(1, root.GetProperty("records").GetInt64());
        Assert.Equal(4, root.GetProperty("rejected").GetInt64());
        Assert.Contains("threshold of 1.00 %", root.GetProperty("error").GetString());
        Assert.Empty(root.GetProperty("tables").EnumerateArray());
        Assert.Equal(4, File.ReadAllLines(root.GetProperty("quarantine").GetString()!).Count(l => l.Length > 0));
        Assert.False(Directory.Exists(Path.Combine(data.Path, "aggregated_data", "hits_by_country", "year=2026", "month=11", "day=24", "hour=13")));
        AssertNoStackTrace(result);
    }

    [Fact]
    public async Task Run_QuarantinesABadLine_WithAReasonThatQuotesOnlyThatLine()
    {
        using var data = new TempFolder();
        WriteRawLines(data, ["not json", .. Enumerable.Repeat(Hit("US"), 2000)]);

        var result = await Tally.RunAsync("run", "--data", data.Path, "--hour", "2026-11-24T13", "--format", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var report = JsonDocument.Parse(result.Stdout);
        var rejected = Assert.Single(File.ReadAllLines(report.RootElement.GetProperty("quarantine").GetString()!), l => l.Length > 0);
        using var entry = JsonDocument.Parse(rejected);
        Assert.Equal("not json", entry.RootElement.GetProperty("record").GetString());
        Assert.DoesNotContain("example.com", entry.RootElement.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Run_Succeeds_WhenTheRejectedShareIsWithinAGivenThreshold()
    {
        using var data = new TempFolder();
        WriteRawLines(data, Hit("US"), Hit("US"), Hit("DE"), "not json");

        var result = await Tally.RunAsync("run", "--data", data.Path, "--hour", "2026-11-24T13", "--format", "json", "--threshold", "0.25");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var report = JsonDocument.Parse(result.Stdout);
        Assert.Equal(3, report.RootElement.GetProperty("records").GetInt64());
        Assert.Equal(1, report.RootElement.GetProperty("rejected").GetInt64());
        Assert.Equal(2, report.RootElement.GetProperty("tables")[0].GetProperty("rows").GetInt64());
    }

    [Fact]
    public async Task Run_CountsRecordsOutsideTheHour_AndReportsThem()
    {
        using var data = new TempFolder();
        WriteRawLines(data, Hit("US"), Hit("US", "2026-11-24T14:00:00Z"), Hit("DE", "2026-11-24T12:59:59Z"));

        var result = await Tally.RunAsync("run", "--data", data.Path, "--hour", "2026-11-24T13", "--format", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var report = JsonDocument.Parse(result.Stdout);
        Assert.Equal(3, report.RootElement.GetProperty("records").GetInt64());
        Assert.Equal(2, report.RootElement.GetProperty("outside_window").GetInt64());
    }

    [Fact]
    public async Task Run_ShowsHowManyFilesOfEachKindItRead_InJsonAndInItsTable()
    {
        using var data = new TempFolder();
        WriteRawLines(data, Hit("US"), Hit("DE"));
        // A Kinesis Firehose object: gzip, with no extension.
        var folder = Path.Combine(data.Path, "raw_data", "year=2026", "month=11", "day=24", "hour=13", "minute=05");
        Directory.CreateDirectory(folder);
        using (var file = File.Create(Path.Combine(folder, "hits-stream-1-2026-11-24-13-05-00-0b6ec8f4-6a4c-4b8e-9d47-6a1f2c3d4e5f")))
        using (var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest))
        {
            gzip.Write(System.Text.Encoding.UTF8.GetBytes(Hit("FR") + Hit("FR")));
        }

        var json = await Tally.RunAsync("run", "--data", data.Path, "--hour", "2026-11-24T13", "--format", "json");
        var table = await Tally.RunAsync("run", "--data", data.Path, "--hour", "2026-11-24T13");

        Assert.True(json.ExitCode == 0, json.ToString());
        using var report = JsonDocument.Parse(json.Stdout);
        Assert.Equal(4, report.RootElement.GetProperty("records").GetInt64());
        var kinds = report.RootElement.GetProperty("file_kinds");
        Assert.Equal(["json 1", "gzip 1", "zstd 0", "unknown 0"], kinds.EnumerateObject().Select(k => $"{k.Name} {k.Value.GetInt32()}"));
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("2 files (1 json, 1 gzip)", table.Stdout.Replace("\r", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_CountsARecord_WhoseTimestampHasAFractionAndAnOffset()
    {
        using var data = new TempFolder();
        WriteRawLines(data, Hit("US", "2026-11-24T18:30:01.5+05:30"), Hit("US", "2026-11-24T05:30:01.250-08:00"));

        var result = await Tally.RunAsync("run", "--data", data.Path, "--hour", "2026-11-24T13", "--format", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var report = JsonDocument.Parse(result.Stdout);
        Assert.Equal(2, report.RootElement.GetProperty("records").GetInt64());
        Assert.Equal(0, report.RootElement.GetProperty("outside_window").GetInt64());
    }
}
