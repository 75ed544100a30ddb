using System.Diagnostics;
using Tally;
using Tally.Engine;
using Tally.Metastore;
using Tally.Query;
using Tally.Storage;
using Tally.Synthetic;

/// <summary>
/// <c>Tally.Bench query</c>: one hour of <c>hits_by_country</c> out of many stored hours, through <c>tally query</c>'s
/// service (catalog views over the files), against a full scan of the same view.
/// </summary>
internal static class QueryBench
{
    private static readonly HourWindow Target = HourWindow.Parse("2026-11-24T13");

    private const string OneHour = """
        SELECT countrycode, hitcount FROM "demo-aggregated-data"."hits_by_country"
        WHERE year = '2026' AND month = '11' AND day = '24' AND hour = '13'
        """;

    private const string FullScan = """SELECT countrycode, hitcount FROM "demo-aggregated-data"."hits_by_country" """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (BenchSupport.Options(args, "--hours", "--runs", "--data") is not { } given) return 2;
        var hours = (int)given.Number("--hours", 720);
        var runs = (int)given.Number("--runs", 9);
        var hitsPerHour = 400;
        var data = given.DataFolder(Path.Combine("bench", "data-query"));
        // The stored hours end with the target hour's day: 30 days of 24 hours for the default 720.
        var first = Target.AddHours(23 - Target.Hour - hours + 1);
        var options = new TallyOptions { Aggregations = [AggregationSpec.Defaults.Single(s => s.Table == "hits_by_country")] };
        var store = await PrepareAsync(data, first, hours, hitsPerHour, options);
        var catalog = await Catalog.OpenAsync(Path.Combine(data, ".tally"), store, new TallyOptions());

        var open = Stopwatch.StartNew();
        using var service = await QueryService.OpenAsync(catalog, data);
        var openSeconds = open.Elapsed.TotalSeconds;
        var files = Directory.GetFiles(Path.Combine(data, DataLayout.AggregatedPrefix, "hits_by_country"), "*.parquet", SearchOption.AllDirectories);
        Console.WriteLine($"{files.Length:N0} stored hours of hits_by_country ({files.Sum(f => new FileInfo(f).Length) / 1048576.0:N1} MiB), "
            + $"service opened (views + snapshot of the files) in {openSeconds * 1000:N0} ms. {runs} paired runs, alternating which goes first.");

        var oneRows = Count(service, OneHour);
        var allRows = Count(service, FullScan);
        var expected = (await TableReader.ReadAsync(store, options.Aggregations[0], Target)).Rows.Count;
        if (oneRows != expected || oneRows == 0) throw new InvalidOperationException($"the one-hour query returned {oneRows} rows, the file holds {expected}");

        var one = new List<double>();
        var all = new List<double>();
        for (var run = 0; run < runs; run++)
        {
            foreach (var pruned in run % 2 == 0 ? new[] { true, false } : [false, true])
            {
                var clock = Stopwatch.StartNew();
                Count(service, pruned ? OneHour : FullScan);
                (pruned ? one : all).Add(clock.Elapsed.TotalSeconds);
            }
            Console.WriteLine($"  run {run + 1}  one hour {one[^1] * 1000,8:N1} ms   full scan {all[^1] * 1000,8:N1} ms");
        }
        var oneMedian = BenchSupport.Median(one);
        var allMedian = BenchSupport.Median(all);
        Console.WriteLine();
        Console.WriteLine($"one hour  ({oneRows:N0} rows)  median {oneMedian * 1000:N1} ms");
        Console.WriteLine($"full scan ({allRows:N0} rows)  median {allMedian * 1000:N1} ms");
        Console.WriteLine($"one hour / full scan = {oneMedian / allMedian:N3} ({allMedian / oneMedian:N1}x faster)");
        return 0;
    }

    /// <summary>Generates small hours and aggregates each once (reused when the folder already holds them).</summary>
    private static async Task<IObjectStore> PrepareAsync(string data, HourWindow first, int hours, int hitsPerHour, TallyOptions options)
    {
        var marker = Path.Combine(data, $".generated-{first}-{hours}-{hitsPerHour}");
        if (File.Exists(marker)) return new LocalObjectStore(data);
        if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
        Directory.CreateDirectory(data);
        var store = new LocalObjectStore(data);
        var clock = Stopwatch.StartNew();
        Console.WriteLine($"Generating {hours:N0} hours of {hitsPerHour:N0} hits from {first} and aggregating each …");
        await new RawDataGenerator(store).GenerateAsync(new GeneratorOptions(first, hours, hitsPerHour, Seed: 42));
        var catalog = await Catalog.OpenAsync(Path.Combine(data, ".tally"), store, options);
        var job = new HourAggregationJob(store, options);
        foreach (var hour in HourWindow.Range(first, first.AddHours(hours)))
        {
            var report = await job.RunAsync(hour);
            await catalog.RecordRunAsync(report, Catalog.NewRunId(TimeProvider.System));
        }
        File.WriteAllText(marker, "");
        Console.WriteLine($"Prepared in {clock.Elapsed.TotalSeconds:N1} s");
        return store;
    }

    private static long Count(QueryService service, string sql)
    {
        using var result = service.Execute(sql);
        return result.Rows.LongCount();
    }
}
