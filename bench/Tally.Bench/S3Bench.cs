using System.Diagnostics;
using Tally;
using Tally.Engine;
using Tally.Storage;

/// <summary>
/// One generated hour aggregated from an S3-compatible server (s3rver on 127.0.0.1, started here as the tests start it)
/// and from a local folder: medians of paired runs in this process, alternating which goes first.
/// </summary>
internal static class S3Bench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var hour = HourWindow.Parse("2026-11-24T13");
        if (BenchSupport.Options(args, "--records", "--runs", "--data") is not { } given) return 2;
        var records = given.Number("--records", 1_000_000);
        var runs = (int)given.Number("--runs", 5);
        var data = given.DataFolder(Path.Combine("bench", "data-s3"));
        await BenchSupport.GenerateOnceAsync(data, hour, records);
        var local = new LocalObjectStore(data);

        using var server = await S3rverProcess.StartAsync("bench");
        using var s3 = new S3ObjectStore(S3Location.Parse("s3://bench/tally"), new S3Settings
        {
            Endpoint = server.Endpoint, AccessKeyId = "S3RVER", SecretAccessKey = "S3RVER",
        });
        var clock = Stopwatch.StartNew();
        long bytes = 0;
        var files = 0;
        await foreach (var file in local.ListAsync(DataLayout.RawPrefix + "/", CancellationToken.None))
        {
            await using var input = await local.OpenReadAsync(file.Key, CancellationToken.None);
            await s3.WriteAtomicAsync(file.Key, (s, ct) => input.CopyToAsync(s, ct), CancellationToken.None);
            bytes += file.Size;
            files++;
        }
        Console.WriteLine($"Uploaded {files} files, {bytes / 1e6:N0} MB to s3rver at {server.Endpoint} in {clock.Elapsed.TotalSeconds:N1} s. "
            + $"{Environment.ProcessorCount} cores; {runs} paired runs after one warm-up each, alternating which goes first.");

        var options = new TallyOptions();
        await new HourAggregationJob(local, options).RunAsync(hour);
        await new HourAggregationJob(s3, options).RunAsync(hour);
        var times = new Dictionary<string, List<double>> { ["local"] = [], ["s3"] = [] };
        for (var run = 0; run < runs; run++)
        {
            foreach (var name in run % 2 == 0 ? new[] { "local", "s3" } : ["s3", "local"])
            {
                IObjectStore store = name == "s3" ? s3 : local;
                var watch = Stopwatch.StartNew();
                var report = await new HourAggregationJob(store, options).RunAsync(hour);
                times[name].Add(watch.Elapsed.TotalSeconds);
                if (report.Records != records) throw new InvalidOperationException($"{name} counted {report.Records:N0} records, not {records:N0}");
                Console.WriteLine($"  run {run + 1} {name,-5} {times[name][^1],6:N2} s");
            }
        }
        var l = BenchSupport.Median(times["local"]);
        var r = BenchSupport.Median(times["s3"]);
        Console.WriteLine();
        Console.WriteLine($"median   local folder {l:N2} s   s3rver {r:N2} s   s3/local = {r / l:N2}");
        Console.WriteLine($"throughput   local {bytes / 1e6 / l:N0} MB/s   s3rver {bytes / 1e6 / r:N0} MB/s");
        return 0;
    }

    /// <summary>tests/s3rver/server.js on a free port (installed with tests/s3rver/install.sh first if needed); stopped when disposed.</summary>
    private sealed class S3rverProcess : IDisposable
    {
        private readonly Process _process;

        private S3rverProcess(Process process, Uri endpoint)
        {
            _process = process;
            Endpoint = endpoint;
        }

        public Uri Endpoint { get; }

        public static async Task<S3rverProcess> StartAsync(string bucket)
        {
            var folder = Path.GetFullPath(Path.Combine("tests", "s3rver"));
            if (!File.Exists(Path.Combine(folder, "server.js"))) throw new InvalidOperationException("Run the benchmark from the repository's root (tests/s3rver/server.js not found).");
            if (!File.Exists(Path.Combine(folder, "node_modules", "@20minutes", "s3rver", "package.json")))
            {
                using var install = Process.Start("bash", [Path.Combine(folder, "install.sh")]);
                await install.WaitForExitAsync();
                if (install.ExitCode != 0) throw new InvalidOperationException("tests/s3rver/install.sh failed");
            }
            var start = new ProcessStartInfo("node", [Path.Combine(folder, "server.js"), "0", bucket])
            {
                RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false,
            };
            start.Environment["NODE_OPTIONS"] = "--openssl-legacy-provider";
            var process = Process.Start(start)!;
            var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            if (line is null || !line.StartsWith("listening ", StringComparison.Ordinal)) throw new InvalidOperationException($"s3rver did not start: {line}");
            return new S3rverProcess(process, new Uri($"http://127.0.0.1:{line["listening ".Length..]}"));
        }

        public void Dispose()
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(3_000)) _process.Kill(entireProcessTree: true);
            _process.Dispose();
        }
    }
}
