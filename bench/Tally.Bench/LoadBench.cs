using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Tally;

/// <summary>
/// <c>Tally.Bench load</c>: <c>tally serve</c> on 127.0.0.1 under a bounded load from this process (<see cref="LoadClient"/>),
/// alone, then while <c>tally backfill</c> runs hours through the same data folder and the schedule ticks, then also with one
/// connection keeping a query over its time limit running; the backfill alone first, for its run times without load.
/// </summary>
internal static partial class LoadBench
{
    /// <summary>What goes on while the backfill runs: the dashboard's load, a query over its time limit, both or neither.</summary>
    private sealed record Phase(string Name, bool Load, bool OverLimit);

    private static readonly Phase[] Phases =
    [
        new("backfill alone", false, false),
        new("backfill + a query over its limit", false, true),
        new("backfill + load", true, false),
        new("backfill + load + a query over its limit", true, true),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        if (BenchSupport.Options(args, "--hours", "--hits-per-hour", "--connections", "--seconds", "--max-requests", "--runs", "--data") is not { } given) return 2;
        var hours = (int)given.Number("--hours", 12);
        var hitsPerHour = given.Number("--hits-per-hour", 200_000);
        var connections = (int)given.Number("--connections", 8);
        var seconds = given.Number("--seconds", 30);
        var maxRequests = given.Number("--max-requests", 1_000_000);
        var runs = (int)given.Number("--runs", 3);
        var data = given.DataFolder(Path.Combine("bench", "data-load"));

        var current = HourWindow.Containing(DateTimeOffset.UtcNow);
        var scheduled = current.AddHours(-1);
        // Three days back: far from the hours the schedule runs, catches up or looks at for late data.
        var from = current.AddHours(-72);
        var to = from.AddHours(hours);
        await PrepareAsync(data, scheduled, from, hours, hitsPerHour);

        await using var serve = TallyChild.Start("serve", "--data", data, "--port", "0", "--cron", "*/10 * * * * *");
        var url = await serve.DashboardUrlAsync();
        Console.WriteLine($"tally serve at {url}, ticking every 10 s (each tick runs {scheduled}, {hitsPerHour:N0} hits); {Environment.ProcessorCount} cores, "
            + $"load average {LoadAverage()}. Backfill: {hours} hours of {hitsPerHour:N0} hits from {from}, --force; {connections} connections.");
        using var http = new HttpClient { BaseAddress = url };
        var mix = DashboardLoad.Mix(scheduled);
        var started = DateTimeOffset.UtcNow;

        // The load alone, for the server's own figures.
        var loadOnly = await LoadClient.RunAsync(new LoadOptions(url, mix, connections, TimeSpan.FromSeconds(seconds), maxRequests));
        Console.WriteLine($"\n== load alone, {seconds} s\n{loadOnly}");
        var rows = new List<string> { Row("load alone", [], loadOnly, null, []) };

        // Each phase once per round, the order turned by one each round, so the machine's drifts fall on every phase alike.
        var results = Phases.ToDictionary(p => p, _ => (Backfills: new List<TimeSpan>(), Runs: new List<Run>(), Load: new List<LoadReport>(), OverLimit: new List<LoadReport>()));
        for (var round = 0; round < runs; round++)
        {
            foreach (var phase in Phases.Skip(round % Phases.Length).Concat(Phases.Take(round % Phases.Length)))
            {
                using var stop = new CancellationTokenSource();
                Task<LoadReport>? load = null, overLimit = null;
                var (took, phaseRuns) = await BackfillAsync(http, data, from, to, () =>
                {
                    if (phase.Load) load = LoadClient.RunAsync(new LoadOptions(url, mix, connections, TimeSpan.FromMinutes(30), maxRequests), stop.Token);
                    if (phase.OverLimit) overLimit = LoadClient.RunAsync(new LoadOptions(url, DashboardLoad.OverLimit(), 1, TimeSpan.FromMinutes(30), maxRequests, AbortOnStop: true), stop.Token);
                });
                // The over-limit query under way is abandoned with its connection once the backfill has ended (the server then interrupts it).
                await stop.CancelAsync();
                var result = results[phase];
                result.Backfills.Add(took);
                result.Runs.AddRange(phaseRuns);
                if (load is not null) result.Load.Add(await load);
                if (overLimit is not null) result.OverLimit.Add(await overLimit);
                Console.WriteLine($"  round {round + 1} {phase.Name,-42} backfill {took.TotalSeconds,6:N1} s, runs median {Median(phaseRuns),6:N0} ms"
                    + (load is null ? "" : $", {load.Result.Samples.Count:N0} requests, p99 {load.Result.Latency(0.99):N0} ms, {load.Result.Failures.Count} not 2xx")
                    + $"  (load average {LoadAverage()})");
            }
        }

        foreach (var phase in Phases)
        {
            var (backfills, phaseRuns, load, overLimit) = results[phase];
            var merged = load.Count > 0 ? LoadReport.Merge(load) : null;
            if (merged is not null) Console.WriteLine($"\n== {phase.Name}, {runs} backfills\n{merged}");
            rows.Add(Row(phase.Name, backfills, merged, overLimit.Count > 0 ? LoadReport.Merge(overLimit) : null, phaseRuns));
        }
        var scheduledRuns = await RunsAsync(http, started, "schedule");
        Console.WriteLine($"\nScheduled runs of {scheduled} during the bench: {scheduledRuns.Count} ({scheduledRuns.Count(r => r.Status == "succeeded")} succeeded), "
            + $"median {Median(scheduledRuns):N0} ms, max {(scheduledRuns.Count > 0 ? scheduledRuns.Max(r => r.Milliseconds) : 0):N0} ms. Load average now {LoadAverage()}.");
        Console.WriteLine("\n| phase | backfill (median) | its runs, median / max | requests | requests/s | p50 | p99 | not 2xx |\n|---|---|---|---|---|---|---|---|");
        foreach (var row in rows) Console.WriteLine(row);
        return 0;
    }

    /// <summary>
    /// Runs <c>tally backfill --force</c> over the range, calling <paramref name="started"/> once it is under way; returns how
    /// long it took and its runs.
    /// </summary>
    private static async Task<(TimeSpan Took, List<Run> Runs)> BackfillAsync(HttpClient http, string data, HourWindow from, HourWindow to, Action started)
    {
        var since = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        await using var backfill = TallyChild.Start("backfill", "--data", data, "--from", from.ToString(), "--to", to.ToString(), "--force", "--format", "json");
        started();
        var exit = await backfill.ExitAsync();
        var took = clock.Elapsed;
        if (exit != 0) throw new InvalidOperationException($"tally backfill exited {exit}: {backfill.Output}");
        var summary = JsonDocument.Parse(backfill.Output).RootElement;
        if (summary.GetProperty("succeeded").GetInt32() != to.Start.Subtract(from.Start).TotalHours)
        {
            throw new InvalidOperationException($"Not every hour of the backfill succeeded: {backfill.Output}");
        }
        return (took, await RunsAsync(http, since, "backfill"));
    }

    private sealed record Run(string Trigger, string Status, double Milliseconds);

    /// <summary>The runs of <paramref name="trigger"/> that started at or after <paramref name="since"/>, from the dashboard's API.</summary>
    private static async Task<List<Run>> RunsAsync(HttpClient http, DateTimeOffset since, string trigger)
    {
        var runs = JsonNode.Parse(await http.GetStringAsync("/api/runs?limit=10000"))!.AsArray();
        return [.. runs.Select(r => r!)
            .Where(r => (string?)r["trigger"] == trigger && r["ended_at"] is not null && DateTimeOffset.Parse((string)r["started_at"]!, CultureInfo.InvariantCulture) >= since)
            .Select(r => new Run(trigger, (string)r["status"]!,
                (DateTimeOffset.Parse((string)r["ended_at"]!, CultureInfo.InvariantCulture) - DateTimeOffset.Parse((string)r["started_at"]!, CultureInfo.InvariantCulture)).TotalMilliseconds))];
    }

    private static double Median(List<Run> runs) => runs.Count == 0 ? 0 : BenchSupport.Median(runs.Select(r => r.Milliseconds));

    private static string Row(string phase, List<TimeSpan> backfills, LoadReport? load, LoadReport? overLimit, List<Run> runs)
    {
        var c = CultureInfo.InvariantCulture;
        var failed = runs.Count(r => r.Status != "succeeded");
        var backfill = backfills.Count > 0 ? $"{BenchSupport.Median(backfills.Select(b => b.TotalSeconds)):N1} s" : "—";
        var runTimes = runs.Count > 0 ? $"{Median(runs):N0} / {runs.Max(r => r.Milliseconds):N0} ms{(failed > 0 ? $", {failed} failed" : "")}" : "—";
        var over = overLimit is null ? "" : $" (+ {overLimit.Samples.Count} over its limit: {string.Join(", ", overLimit.Samples.GroupBy(s => s.Status).Select(g => $"{g.Count()} × {(g.Key == 0 ? "abandoned at the backfill's end" : g.Key.ToString(c))}"))})";
        return load is null
            ? $"| {phase} | {backfill} | {runTimes} | — | — | — | — | —{over} |"
            : string.Create(c, $"| {phase} | {backfill} | {runTimes} | {load.Samples.Count:N0} | {load.RequestsPerSecond:N0} | {load.Latency(0.5):N1} ms | {load.Latency(0.99):N1} ms | {load.Failures.Count}{over} |");
    }

    /// <summary>Generates the backfill's hours once (a marker remembers them) and the scheduled hour each time (it moves with the clock).</summary>
    private static async Task PrepareAsync(string data, HourWindow scheduled, HourWindow from, int hours, long hitsPerHour)
    {
        var marker = Path.Combine(data, $".generated-{from}-{hours}-{hitsPerHour}");
        if (!File.Exists(marker))
        {
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
            Console.WriteLine($"Generating {hours} hours of {hitsPerHour:N0} hits from {from} under {data} …");
            await TallyChild.RunAsync("generate", "--data", data, "--hour", from.ToString(), "--hours", $"{hours}", "--hits-per-hour", $"{hitsPerHour}");
            File.WriteAllText(marker, "");
        }
        if (!Directory.Exists(Path.Combine(data, DataLayout.RawHourPrefix(scheduled))))
        {
            await TallyChild.RunAsync("generate", "--data", data, "--hour", scheduled.ToString(), "--hits-per-hour", $"{hitsPerHour}", "--seed", "7");
        }
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    /// <summary>The <c>tally</c> built next to the bench, as a child process whose stdout is kept.</summary>
    private sealed partial class TallyChild : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly TaskCompletionSource<Uri> _dashboard = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private TallyChild(Process process) => _process = process;

        public string Output
        {
            get
            {
                lock (_output) return _output.ToString();
            }
        }

        public static TallyChild Start(params string[] args)
        {
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "tally.dll"));
            foreach (var arg in args) start.ArgumentList.Add(arg);
            var child = new TallyChild(new Process { StartInfo = start });
            child._process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (child._output) child._output.AppendLine(e.Data);
                if (ListeningOn().Match(e.Data) is { Success: true } match) child._dashboard.TrySetResult(new Uri(match.Groups[1].Value));
            };
            child._process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"  tally {args[0]}: {e.Data}"); };
            child._process.Exited += (_, _) => child._dashboard.TrySetException(new InvalidOperationException($"tally {args[0]} ended: {child.Output}"));
            child._process.EnableRaisingEvents = true;
            child._process.Start();
            child._process.BeginOutputReadLine();
            child._process.BeginErrorReadLine();
            return child;
        }

        public static async Task RunAsync(params string[] args)
        {
            await using var child = Start(args);
            if (await child.ExitAsync() != 0) throw new InvalidOperationException($"tally {string.Join(' ', args)} failed: {child.Output}");
        }

        /// <summary>The dashboard's address, once <c>tally serve</c> logged it.</summary>
        public Task<Uri> DashboardUrlAsync() => _dashboard.Task.WaitAsync(TimeSpan.FromSeconds(60));

        public async Task<int> ExitAsync()
        {
            await _process.WaitForExitAsync();
            _process.WaitForExit(); // the output readers are flushed
            return _process.ExitCode;
        }

        /// <summary>Stops a process still running with SIGTERM (<c>tally serve</c> then stops its runs and exits 0) and waits for it.</summary>
        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
                await kill.WaitForExitAsync();
                await _process.WaitForExitAsync();
            }
            _process.Dispose();
        }

        [GeneratedRegex(@"Dashboard: (http://[0-9.]+:[0-9]+)")]
        private static partial Regex ListeningOn();
    }
}
