using System.Globalization;
using Tally;
using Tally.Storage;
using Tally.Synthetic;

/// <summary>What the benchmark's modes share: their options, generated data kept between runs, medians.</summary>
internal static class BenchSupport
{
    /// <summary>
    /// The <c>--name value</c> pairs of <paramref name="args"/>, each name one of <paramref name="known"/>; null (after saying
    /// why on stderr) for any other name.
    /// </summary>
    public static Dictionary<string, string>? Options(string[] args, params string[] known)
    {
        var options = new Dictionary<string, string>();
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!known.Contains(args[i]) || i + 1 >= args.Length)
            {
                Console.Error.WriteLine($"unknown option or missing value: {args[i]}; see bench/README.md");
                return null;
            }
            options[args[i]] = args[i + 1];
        }
        return options;
    }

    public static long Number(this Dictionary<string, string> options, string name, long fallback) =>
        options.TryGetValue(name, out var text) ? long.Parse(text, CultureInfo.InvariantCulture) : fallback;

    /// <summary>The full path of <c>--data</c>, else of <paramref name="fallback"/> (relative to the repository's root).</summary>
    public static string DataFolder(this Dictionary<string, string> options, string fallback) =>
        Path.GetFullPath(options.GetValueOrDefault("--data", fallback));

    /// <summary>
    /// Generates <paramref name="records"/> records for <paramref name="hour"/> under <paramref name="data"/>, once: a marker
    /// file remembers what is there, and other contents are replaced.
    /// </summary>
    public static async Task GenerateOnceAsync(string data, HourWindow hour, long records)
    {
        var marker = Path.Combine(data, $".generated-{records}");
        if (File.Exists(marker)) return;
        if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
        Directory.CreateDirectory(data);
        Console.WriteLine($"Generating {records:N0} records for {hour} under {data} …");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await new RawDataGenerator(new LocalObjectStore(data)).GenerateAsync(new GeneratorOptions(hour, 1, records, Seed: 42));
        File.WriteAllText(marker, "");
        Console.WriteLine($"Generated in {clock.Elapsed.TotalSeconds:N1} s");
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
