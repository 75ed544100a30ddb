using System.Diagnostics;
using System.Text.Json;

namespace Tally.Dashboard.Tests;

/// <summary>One parsed metric family.</summary>
internal sealed record MetricFamily(string Type, IReadOnlyList<MetricSample> Samples)
{
    public double Value(string sample, params (string Name, string Value)[] labels) =>
        Samples.Single(s => s.Name == sample && labels.All(l => s.Labels.GetValueOrDefault(l.Name) == l.Value)).Value;
}

internal sealed record MetricSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// Parses Prometheus text with an independent parser: the Prometheus project's own Python client
/// (<c>prometheus_client.parser</c>, Debian's python3-prometheus-client, installed by scripts/install-prometheus-parser.sh), which
/// rejects text that breaks the exposition format.
/// </summary>
internal static class PrometheusParser
{
    private const string Script = """
        import json, sys
        from prometheus_client.parser import text_string_to_metric_families
        families = {}
        for family in text_string_to_metric_families(sys.stdin.read()):
            families[family.name] = {"type": family.type, "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples]}
        print(json.dumps(families))
        """;

    public static Dictionary<string, MetricFamily> Parse(string text)
    {
        const string python = "/usr/bin/python3";
        Assert.True(File.Exists(python), "Debian's python3 is missing; scripts/install-prometheus-parser.sh installs it with python3-prometheus-client.");
        var start = new ProcessStartInfo(python) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Script);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(text);
        process.StandardInput.Close();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"prometheus_client could not parse /metrics: {stderr.Result}\n{text}");
        using var json = JsonDocument.Parse(stdout.Result);
        return json.RootElement.EnumerateObject().ToDictionary(f => f.Name, f => new MetricFamily(
            f.Value.GetProperty("type").GetString()!,
            f.Value.GetProperty("samples").EnumerateArray().Select(s => new MetricSample(
                s.GetProperty("name").GetString()!,
                s.GetProperty("labels").EnumerateObject().ToDictionary(l => l.Name, l => l.Value.GetString()!),
                s.GetProperty("value").GetDouble())).ToList()));
    }
}
