using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tally.Engine;

namespace Tally.Tests.Engine;

/// <summary>
/// The shared contract vectors (<c>tests/contract/manifest.json</c>) run through the engine: each raw file alone in a minute
/// folder of the manifest's hour, with the vector's source schema and threshold. The run's counts, status, quarantined
/// lines, reasons (as prefixes) and offsets must be the manifest's, and its valid records' values are checked through a
/// table grouped by every declared field. The Glue job's Python parser runs the same manifest
/// (<c>glue/tests/test_contract_vectors.py</c>).
/// </summary>
public sealed class ContractVectorTests : IDisposable
{
    private const string NeedsAFeature =
        "the vector needs what this engine does not do yet: its \"requires\" in tests/contract/manifest.json "
        + "(compression-by-magic and any-file-name come with branch rawfiles; the test runs the vector once the engine has them)";

    private const string KnownToDiffer =
        "the engine disagrees with the contract on this vector, as its \"csharp_differs\" in tests/contract/manifest.json "
        + "says; reported, to be fixed in the engine";

    private static readonly Lazy<JsonObject> Manifest = new(() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(ContractFolder(), "manifest.json")))!.AsObject());

    /// <summary>What the engine does of the contract's optional parts, found by trying them.</summary>
    private static readonly Lazy<HashSet<string>> EngineFeatures = new(() =>
    {
        var features = new HashSet<string>(StringComparer.Ordinal);
        if (DataLayout.IsRawDataFile("firehose-1-2026-11-24-13-07-41-0a1b2c3d")) features.Add("any-file-name");
        if (ReadsGzipNamedJson()) features.Add("compression-by-magic");
        return features;
    });

    private readonly TempDataFolder _data = new();

    private static HourWindow Hour => HourWindow.Parse(Manifest.Value["hour"]!.GetValue<string>());

    public static TheoryData<string> Vectors(string which)
    {
        var data = new TheoryData<string>();
        foreach (var vector in Manifest.Value["vectors"]!.AsArray().Select(v => v!.AsObject()))
        {
            var needs = vector["requires"]?.AsArray().Select(r => r!.GetValue<string>()).Any(r => !EngineFeatures.Value.Contains(r)) ?? false;
            var kind = needs ? nameof(NeedsAFeature) : vector.ContainsKey("csharp_differs") ? nameof(KnownToDiffer) : "runs";
            if (kind == which) data.Add(vector["file"]!.GetValue<string>());
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Vectors), "runs")]
    [MemberData(nameof(Vectors), nameof(NeedsAFeature), Skip = NeedsAFeature)]
    [MemberData(nameof(Vectors), nameof(KnownToDiffer), Skip = KnownToDiffer)]
    public async Task Run_GivesTheContractVectorsCountsRejectsAndValues(string file)
    {
        var vector = Manifest.Value["vectors"]!.AsArray().Select(v => v!.AsObject()).Single(v => v["file"]!.GetValue<string>() == file);
        var source = vector["source"] is { } name
            ? SourceSchema.ParseJson(Manifest.Value["sources"]![name.GetValue<string>()]!.ToJsonString())
            : SourceSchema.Seed;
        var values = new AggregationSpec("contract_values", [.. source.Fields.Select(f => f.Name)], TableFormat.Json);
        var options = new TallyOptions
        {
            Source = source,
            Aggregations = [values],
            RejectedThreshold = vector["threshold"]?.GetValue<double>() ?? 1.0,
        };
        var key = DataLayout.RawMinutePrefix(Hour, 7) + "/" + file[(file.LastIndexOf('/') + 1)..];
        _data.WriteRawBytes(key, File.ReadAllBytes(Path.Combine(ContractFolder(), "files", file)));

        var report = await new HourAggregationJob(_data.Store, options).RunAsync(Hour);

        var rejects = QuarantinedRecords();
        var seen = string.Join("; ", rejects.Select(r => $"line {r["line"]}: {r["reason"]}"));
        Assert.True(
            (vector["records"]!.GetValue<long>(), vector["rejected"]!.GetValue<long>(), vector["outside_window"]!.GetValue<long>())
                == (report.Records, report.Rejected, report.OutsideWindow),
            $"expected records, rejected, outside_window {vector["records"]}, {vector["rejected"]}, {vector["outside_window"]}; "
            + $"the run gave {report.Records}, {report.Rejected}, {report.OutsideWindow} (rejects: {seen})");
        Assert.Equal(vector["status"]?.GetValue<string>() ?? "succeeded", report.Status == RunStatus.Succeeded ? "succeeded" : "failed");

        var expected = vector["rejects"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.Equal(expected.Select(r => r["line"]!.GetValue<long>()), rejects.Select(r => r["line"]!.GetValue<long>()));
        foreach (var (want, got) in expected.Zip(rejects))
        {
            Assert.Equal(key, got["file"]!.GetValue<string>());
            var reason = got["reason"]!.GetValue<string>();
            Assert.True(reason.StartsWith(want["reason"]!.GetValue<string>(), StringComparison.Ordinal), $"line {got["line"]}: '{reason}'");
            if (want["offset"] is { } offset) Assert.Equal(offset.GetValue<long>(), got["offset"]!.GetValue<long>());
        }

        if (vector["values"] is JsonArray rows)
        {
            // Every field is a group-by column, so each distinct record is a row and hitcount says how many there were.
            var expectedRows = rows.Select(r => Row(source, [.. r!.AsArray()])).GroupBy(r => r, StringComparer.Ordinal)
                .Select(g => $"{g.Key} x{g.Count()}").Order(StringComparer.Ordinal);
            var actualRows = File.ReadAllLines(_data.PathOf(DataLayout.TableFile(values, Hour))).Select(l => JsonNode.Parse(l)!.AsObject())
                .Select(r => $"{Row(source, [.. source.Fields.Select(f => r[f.Column])])} x{r["hitcount"]}").Order(StringComparer.Ordinal);
            Assert.Equal(expectedRows, actualRows);
        }
    }

    /// <summary>A record's declared values as one comparable line, each read as its field's type.</summary>
    private static string Row(SourceSchema source, IReadOnlyList<JsonNode?> values) => string.Join(" | ", source.Fields.Select((f, i) => values[i] switch
    {
        null => "null",
        var v when f.Type == RawFieldType.Int64 => v.GetValue<long>().ToString(CultureInfo.InvariantCulture),
        var v when f.Type == RawFieldType.Double => v.GetValue<double>().ToString("R", CultureInfo.InvariantCulture),
        var v when f.Type == RawFieldType.Boolean => v.GetValue<bool>() ? "true" : "false",
        var v => JsonSerializer.Serialize(v.GetValue<string>()),
    }));

    private List<JsonObject> QuarantinedRecords()
    {
        var path = _data.PathOf(DataLayout.QuarantineFile(Hour));
        return File.Exists(path) ? [.. File.ReadAllLines(path).Select(l => JsonNode.Parse(l)!.AsObject())] : [];
    }

    /// <summary>Whether the engine reads a gzip file named <c>.json</c> as gzip, telling it by its first bytes.</summary>
    private static bool ReadsGzipNamedJson()
    {
        using var data = new TempDataFolder();
        var hour = HourWindow.Parse("2026-11-24T13");
        var zipped = new MemoryStream();
        using (var zip = new GZipStream(zipped, CompressionLevel.Fastest, leaveOpen: true)) zip.Write("{}\n"u8);
        data.WriteRawBytes(DataLayout.RawMinutePrefix(hour, 0) + "/probe.json", zipped.ToArray());
        var report = new HourAggregationJob(data.Store, new TallyOptions { RejectedThreshold = 1.0 }).RunAsync(hour).GetAwaiter().GetResult();
        return report.Records == 1 && report.Rejected == 0;
    }

    private static string ContractFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var folder = Path.Combine(dir.FullName, "tests", "contract");
            if (File.Exists(Path.Combine(folder, "manifest.json"))) return folder;
        }
        throw new InvalidOperationException("tests/contract/manifest.json is not in a folder above the test assembly.");
    }

    public void Dispose() => _data.Dispose();
}
