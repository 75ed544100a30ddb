using System.Text;

namespace Tally.Cli.Tests;

/// <summary>
/// The scanner's vector and scalar paths (<c>TALLY_SIMD=0</c> forces the scalar one) write the same bytes: every table
/// file and the quarantine, for a generated hour with records written to land on the vectors' edges.
/// </summary>
public sealed class ScanPathFacts : IDisposable
{
    private readonly TempFolder _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task TheScalarAndTheVectorPathWriteTheSameFiles()
    {
        var vector = Path.Combine(_root.Path, "vector");
        var scalar = Path.Combine(_root.Path, "scalar");
        var generated = await TallyProcess.Start("generate", "--data", vector, "--hour", "2026-11-24T13", "--hits-per-hour", "3000", "--seed", "7").EndAsync();
        Assert.True(generated.ExitCode == 0, generated.ToString());
        var minute = Path.Combine(vector, "raw_data", "year=2026", "month=11", "day=24", "hour=13", "minute=07");
        Directory.CreateDirectory(minute);
        File.WriteAllBytes(Path.Combine(minute, "edges.json"), EdgeRecords());
        CopyTree(Path.Combine(vector, "raw_data"), Path.Combine(scalar, "raw_data"));

        var vectorRun = await TallyProcess.Start("run", "--data", vector, "--hour", "2026-11-24T13", "--threshold", "0.5").EndAsync();
        var scalarRun = await TallyProcess.Start([("TALLY_SIMD", "0")], "run", "--data", scalar, "--hour", "2026-11-24T13", "--threshold", "0.5").EndAsync();
        Assert.True(vectorRun.ExitCode == 0, vectorRun.ToString());
        Assert.True(scalarRun.ExitCode == 0, scalarRun.ToString());

        var files = Outputs(vector);
        Assert.Equal(files, Outputs(scalar));
        Assert.Equal(3, files.Count(f => f.StartsWith("aggregated_data", StringComparison.Ordinal)));
        foreach (var file in files)
        {
            Assert.True(File.ReadAllBytes(Path.Combine(vector, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(scalar, file))), $"{file} differs");
        }
        // The edge records were read: only the three invalid ones are in the quarantine, and their domains in the table.
        var rejected = File.ReadAllLines(Path.Combine(vector, files.Single(f => f.StartsWith("quarantine", StringComparison.Ordinal))));
        Assert.Equal(3, rejected.Length);
        var domains = File.ReadAllText(Path.Combine(vector, files.Single(f => f.Contains("hits_by_domain_and_groupid", StringComparison.Ordinal))));
        Assert.Contains("\"d140.example\"", domains);
        Assert.Contains("\"f.example\"", domains);
    }

    /// <summary>
    /// Records whose strings end at every offset from 0 to 140 (across 16-, 32- and 64-byte vectors), with escapes, non-ASCII
    /// text before and after the 32nd byte, and the invalid ones the scanner must reject: a control character, a byte that
    /// is not UTF-8, a string cut by the end of a line.
    /// </summary>
    private static byte[] EdgeRecords()
    {
        var records = new MemoryStream();
        void Line(string text) => records.Write(Encoding.UTF8.GetBytes(text + "\n"));
        for (var length = 0; length <= 140; length++)
        {
            var agent = new string('a', length);
            var accented = length < 2 ? agent : string.Concat(new string('b', length / 2), "é", new string('c', length - length / 2 - 1));
            Line($$"""{"GroupID":{{length}},"CountryCode":"ZQ","UserAgent":"{{agent}}","Language":"en","Domain":"d{{length}}.example","Timestamp":"2026-11-24T13:07:00Z"}""");
            Line($$"""{"GroupID":{{length}},"CountryCode":"ZW","UserAgent":"{{accented}}","Language":"en","Domain":"e.example","Timestamp":"2026-11-24T13:07:01.250Z","{{agent}}x":"{{accented}}"}""");
            Line($$"""{"GroupID":{{length}},"CountryCode":"Z\u0057","UserAgent":"{{agent}}\"\\{{accented}}","Language":"en","Domain":"f.example","Timestamp":"2026-11-24T13:07:02Z"}""");
            Line($$"""{"GroupID":{{length}},"CountryCode":"Z\u0057","UserAgent":"{{accented}}","Language":"en","Domain":"f.example","Timestamp":"2026-11-24T13:07:02Z"}""");
        }
        Line("""{"GroupID":1,"CountryCode":"ZQ","UserAgent":"a control character:""" + "\u0001" + """ here","Language":"en","Domain":"g.example","Timestamp":"2026-11-24T13:07:03Z"}""");
        records.Write(Encoding.UTF8.GetBytes("""{"GroupID":1,"CountryCode":"ZQ","UserAgent":"not UTF-8: """));
        records.Write([0xC3, 0x28]);
        Line(""" ","Language":"en","Domain":"h.example","Timestamp":"2026-11-24T13:07:04Z"}""");
        Line("""{"GroupID":1,"CountryCode":"ZQ","UserAgent":"cut""");
        return records.ToArray();
    }

    /// <summary>Every file under the tables and the quarantine, relative to <paramref name="data"/>, sorted.</summary>
    private static List<string> Outputs(string data) =>
        new[] { "aggregated_data", "quarantine" }
            .Select(folder => Path.Combine(data, folder))
            .Where(Directory.Exists)
            .SelectMany(folder => Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            .Select(file => Path.GetRelativePath(data, file))
            .Order(StringComparer.Ordinal)
            .ToList();

    private static void CopyTree(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
