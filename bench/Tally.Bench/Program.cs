using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DuckDB.NET.Data;
using Tally;
using Tally.Engine;
using Tally.Storage;

// Usage:
//   Tally.Bench [--records N] [--runs N] [--data DIR]   generate one hour (once) and compare Tally with DuckDB
//   Tally.Bench tally DIR | duckdb DIR [GLOB]           one measured run in this process (used by the comparisons; GLOB, relative
//                                                       to the hour's folder, default */*.json)
//   Tally.Bench agree DIR                               exit 0 when DuckDB's three outputs in DIR equal Tally's, row for row
//   Tally.Bench query [--hours N] [--runs N] [--data DIR]  one hour of hits_by_country vs a full scan over N stored hours
//   Tally.Bench s3 [--records N] [--runs N] [--data DIR]     one hour aggregated from s3rver vs from a local folder
//   Tally.Bench load [--hours N] [--hits-per-hour N] [--connections N] [--seconds N] [--max-requests N] [--data DIR]
//                                                       tally serve under load while a backfill and scheduled runs go on
var hour = HourWindow.Parse("2026-11-24T13");
if (args is ["query", .. var queryArgs]) return await QueryBench.RunAsync(queryArgs);
if (args is ["s3", .. var s3Args]) return await S3Bench.RunAsync(s3Args);
if (args is ["load", .. var loadArgs]) return await LoadBench.RunAsync(loadArgs);
if (args is ["tally", var tallyDir]) return await Children.TallyAsync(tallyDir, hour);
if (args is ["duckdb", var duckDir]) return Children.DuckDb(duckDir, hour);
if (args is ["duckdb", var globDir, var glob]) return Children.DuckDb(globDir, hour, glob);
if (args is ["agree", var agreeDir])
{
    var agree = Children.OutputsAgree(agreeDir, hour);
    Console.WriteLine(agree ? "outputs agree: DuckDB's tables equal Tally's, row for row" : "OUTPUTS DIFFER");
    return agree ? 0 : 1;
}

if (BenchSupport.Options(args, "--records", "--runs", "--data") is not { } options) return 2;
var records = options.Number("--records", 5_000_000);
var runs = (int)options.Number("--runs", 5);
var data = options.DataFolder(Path.Combine("bench", "data"));
await BenchSupport.GenerateOnceAsync(data, hour, records);
var rawBytes = Directory.GetFiles(Path.Combine(data, DataLayout.RawHourPrefix(hour)), "*.json", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
Console.WriteLine($"Input: {records:N0} records, {rawBytes / 1e9:N2} GB of JSON Lines, {Environment.ProcessorCount} cores. {runs} paired runs, alternating which goes first.");

var self = Environment.ProcessPath!;
var selfArgs = self.EndsWith("dotnet", StringComparison.Ordinal) ? [typeof(Children).Assembly.Location] : Array.Empty<string>();
var results = new Dictionary<string, List<Measurement>> { ["tally"] = [], ["duckdb"] = [] };
for (var run = 0; run < runs; run++)
{
    string[] order = run % 2 == 0 ? ["tally", "duckdb"] : ["duckdb", "tally"];
    foreach (var engine in order)
    {
        var m = Measure(self, [.. selfArgs, engine, data]);
        results[engine].Add(m);
        Console.WriteLine($"  run {run + 1} {engine,-6} {m.Seconds,6:N2} s  cpu {m.CpuSeconds,6:N2} s  peak {m.PeakBytes / 1048576.0,7:N0} MiB  (process {m.ProcessSeconds:N2} s)");
    }
}

var tally = Summary(results["tally"]);
var duck = Summary(results["duckdb"]);
Console.WriteLine();
Console.WriteLine($"median time   tally {tally.Seconds:N2} s   duckdb {duck.Seconds:N2} s   tally/duckdb = {tally.Seconds / duck.Seconds:N2}");
Console.WriteLine($"median cpu    tally {tally.CpuSeconds:N2} s   duckdb {duck.CpuSeconds:N2} s   tally/duckdb = {tally.CpuSeconds / duck.CpuSeconds:N2}  (whole process, startup included)");
Console.WriteLine($"median peak   tally {tally.PeakBytes / 1048576.0:N0} MiB   duckdb {duck.PeakBytes / 1048576.0:N0} MiB   tally/duckdb = {(double)tally.PeakBytes / duck.PeakBytes:N2}");
Console.WriteLine($"throughput    tally {rawBytes / 1e6 / tally.Seconds:N0} MB/s   duckdb {rawBytes / 1e6 / duck.Seconds:N0} MB/s");
Console.WriteLine(Children.OutputsAgree(data, hour) ? "outputs agree: DuckDB's tables equal Tally's, row for row" : "OUTPUTS DIFFER");
return 0;

static Measurement Measure(string file, string[] arguments)
{
    var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, UseShellExecute = false };
    foreach (var a in arguments) start.ArgumentList.Add(a);
    var clock = Stopwatch.StartNew();
    using var process = Process.Start(start)!;
    var output = process.StandardOutput.ReadToEnd();
    process.WaitForExit();
    if (process.ExitCode != 0) throw new InvalidOperationException($"{string.Join(' ', arguments)} exited {process.ExitCode}: {output}");
    var m = JsonSerializer.Deserialize<Measurement>(output.Trim().Split('\n')[^1])!;
    return m with { ProcessSeconds = clock.Elapsed.TotalSeconds };
}

static Measurement Summary(List<Measurement> all) => new(
    BenchSupport.Median(all.Select(m => m.Seconds)), (long)BenchSupport.Median(all.Select(m => (double)m.PeakBytes)), BenchSupport.Median(all.Select(m => m.ProcessSeconds)),
    BenchSupport.Median(all.Select(m => m.CpuSeconds)));


internal sealed record Measurement(double Seconds, long PeakBytes, double ProcessSeconds = 0, double CpuSeconds = 0);

internal static class Children
{
    private const string Columns =
        "columns={GroupID: 'BIGINT', CountryCode: 'VARCHAR', UserAgent: 'VARCHAR', Language: 'VARCHAR', Domain: 'VARCHAR', Timestamp: 'VARCHAR'}";

    /// <summary>Tally's hourly run, exactly as <c>tally run</c> does it, into DIR/aggregated_data.</summary>
    public static async Task<int> TallyAsync(string dir, HourWindow hour)
    {
        var clock = Stopwatch.StartNew();
        var report = await new HourAggregationJob(new LocalObjectStore(dir), new TallyOptions()).RunAsync(hour);
        var seconds = clock.Elapsed.TotalSeconds;
        if (report.Status != RunStatus.Succeeded) throw new InvalidOperationException(report.Error);
        Console.Error.WriteLine($"allocated {GC.GetTotalAllocatedBytes() / 1048576.0:N0} MiB, gen0 {GC.CollectionCount(0)}, gen1 {GC.CollectionCount(1)}, gen2 {GC.CollectionCount(2)}");
        Print(seconds);
        return 0;
    }

    /// <summary>DuckDB's best plan: one scan with explicit columns, GROUPING SETS, threads = cores, the same three outputs.</summary>
    public static int DuckDb(string dir, HourWindow hour, string files = "*/*.json")
    {
        var output = Path.Combine(dir, "duckdb_out");
        Directory.CreateDirectory(output);
        var glob = Path.Combine(dir, DataLayout.RawHourPrefix(hour), files);
        var clock = Stopwatch.StartNew();
        using (var connection = new DuckDBConnection("Data Source=:memory:"))
        {
            connection.Open();
            Execute(connection, $"SET threads = {Environment.ProcessorCount}");
            // GROUPING(CountryCode, Domain, GroupID, UserAgent): a set bit marks a column not in the grouping set.
            Execute(connection, $"""
                CREATE TEMP TABLE g AS
                SELECT CountryCode, Domain, GroupID, UserAgent, GROUPING(CountryCode, Domain, GroupID, UserAgent) AS gid, count(*) AS hitcount
                FROM read_json('{glob}', format = 'newline_delimited', {Columns}, hive_partitioning = false)
                GROUP BY GROUPING SETS ((CountryCode), (Domain, GroupID), (UserAgent))
                """);
            Execute(connection, $"COPY (SELECT CountryCode AS countrycode, hitcount FROM g WHERE gid = 7 ORDER BY 1 NULLS FIRST) TO '{output}/hits_by_country.parquet' (FORMAT parquet)");
            Execute(connection, $"COPY (SELECT GroupID AS groupid, Domain AS domain, hitcount FROM g WHERE gid = 9 ORDER BY domain NULLS FIRST, groupid NULLS FIRST) TO '{output}/hits_by_domain_and_groupid.json' (FORMAT json)");
            Execute(connection, $"COPY (SELECT UserAgent AS useragent, hitcount FROM g WHERE gid = 14 ORDER BY 1 NULLS FIRST) TO '{output}/hits_by_useragent.parquet' (FORMAT parquet)");
        }
        Print(clock.Elapsed.TotalSeconds);
        return 0;
    }

    /// <summary>Whether DuckDB's three outputs hold exactly the rows of Tally's.</summary>
    public static bool OutputsAgree(string dir, HourWindow hour)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        foreach (var spec in AggregationSpec.Defaults)
        {
            var ours = Path.Combine(dir, DataLayout.TableFile(spec, hour));
            var theirs = Path.Combine(dir, "duckdb_out", $"{spec.Table}.{spec.FileExtension}");
            string Read(string p) => spec.Format == TableFormat.Parquet ? $"read_parquet('{p}', hive_partitioning = false)" : $"read_json('{p}', format = 'newline_delimited', hive_partitioning = false)";
            using var command = connection.CreateCommand();
            command.CommandText = $"""
                SELECT (SELECT count(*) FROM (SELECT * FROM {Read(ours)} EXCEPT ALL SELECT * FROM {Read(theirs)}))
                     + (SELECT count(*) FROM (SELECT * FROM {Read(theirs)} EXCEPT ALL SELECT * FROM {Read(ours)}))
                """;
            if (Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) != 0) return false;
        }
        return true;
    }

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Prints the measurement as the last line: seconds of work and the process's peak resident memory (VmHWM).</summary>
    private static void Print(double seconds)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        var kib = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        Console.WriteLine(JsonSerializer.Serialize(new Measurement(seconds, kib * 1024, 0, cpu)));
    }
}
