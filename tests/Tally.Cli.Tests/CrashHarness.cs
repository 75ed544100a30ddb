using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace Tally.Cli.Tests;

/// <summary>The command a round of the <see cref="CrashHarness"/> starts and kills.</summary>
internal enum CrashTarget
{
    /// <summary><c>tally run</c> of one hour.</summary>
    Run,
    /// <summary><c>tally backfill --parallel 2 --force</c> of three hours, the middle one gated.</summary>
    Backfill,
    /// <summary><c>tally serve</c> with a cron whose one tick processes its hour.</summary>
    Serve,
}

/// <summary>Where a round kills its process (SIGKILL), chosen with the harness's seeded random numbers.</summary>
internal enum KillPoint
{
    /// <summary>A random delay after the start, up to the time the run took to reach the gate: start-up, metastore, lease.</summary>
    BeforeGate,
    /// <summary>While the run waits at the gate among its raw files.</summary>
    AtGate,
    /// <summary>Up to 20 ms after the first temporary file of the outputs appears: while the hour's files are written.</summary>
    WhileWriting,
    /// <summary>A random delay after the gate opens, up to a quarter longer than the rest of the run took.</summary>
    AfterGate,
}

/// <summary>What a <see cref="CrashHarness"/> run found; every count but <see cref="Kills"/> should be zero.</summary>
/// <param name="KillsMidWrite">Kills that left temporary output files behind: they landed while the hour's files were written.</param>
/// <param name="TornFiles">Table or quarantine files that were neither a complete earlier output nor the complete new one.</param>
/// <param name="Leftovers">Temporary files found once a run of their folder had succeeded (or Tally's in the temporary folder).</param>
/// <param name="RecoveryFailures">Runs left <c>running</c> after the next start, runs after a kill that did not succeed, and
/// catalog partitions that did not name the run that wrote them.</param>
/// <param name="DamagedMetastores">Checks of the metastore after a kill that <c>PRAGMA integrity_check</c> or <c>foreign_key_check</c> failed.</param>
internal sealed record CrashFigures(
    int Rounds, int Kills, IReadOnlyDictionary<string, int> KillsBy, int KillsMidWrite, int Completed, int TornFiles, int Leftovers, int RecoveryFailures,
    int DamagedMetastores, TimeSpan Elapsed, IReadOnlyList<string> Findings)
{
    public override string ToString()
    {
        var kills = string.Join(", ", KillsBy.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key} {k.Value}"));
        var figures = string.Create(CultureInfo.InvariantCulture,
            $"{Rounds} rounds in {Elapsed.TotalSeconds:N0} s: {Kills} kills ({kills}; {KillsMidWrite} while files were written), {Completed} rounds to their end; torn files {TornFiles}, leftovers {Leftovers}, recovery failures {RecoveryFailures}, damaged metastores {DamagedMetastores}");
        return figures + (Findings.Count > 0 ? ":\n  " + string.Join("\n  ", Findings) : ".");
    }

    public string ToJson() => new JsonObject
    {
        ["rounds"] = Rounds,
        ["kills"] = Kills,
        ["kills_mid_write"] = KillsMidWrite,
        ["kills_by"] = new JsonObject(KillsBy.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => KeyValuePair.Create(k.Key, (JsonNode?)k.Value))),
        ["completed"] = Completed,
        ["torn_files"] = TornFiles,
        ["leftovers"] = Leftovers,
        ["recovery_failures"] = RecoveryFailures,
        ["damaged_metastores"] = DamagedMetastores,
        ["seconds"] = Math.Round(Elapsed.TotalSeconds, 1),
        ["findings"] = new JsonArray([.. Findings.Select(f => (JsonNode)f)]),
    }.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
}

/// <summary>
/// Kills real <c>tally run</c>, <c>tally backfill</c> and <c>tally serve</c> processes with SIGKILL at chosen points, on hours
/// whose raw input changes between rounds (two states, A and B, whose tables DuckDB computes beforehand), and checks after each
/// round: every table file is the complete output of A or of B (read back by DuckDB), the quarantine file is absent or complete,
/// the metastore passes <c>PRAGMA integrity_check</c>, no run stays <c>running</c> once the next process has started, and once a
/// run of a folder succeeded no temporary file stays in it. Where a kill lands is chosen by seeded random numbers and by events
/// (a run held at a named pipe among its raw files, the first temporary output file appearing); no check depends on timing.
/// </summary>
internal sealed class CrashHarness : IDisposable
{
    private static readonly HourWindow RunHour = HourWindow.Parse("2026-11-24T13");
    private static readonly HourWindow[] BackfillHours = [HourWindow.Parse("2026-11-25T00"), HourWindow.Parse("2026-11-25T01"), HourWindow.Parse("2026-11-25T02")];
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly string[] BadLines = ["""{"GroupID":"not a number 1"}""", """{"GroupID":"not a number 2"}""", """{"GroupID":"not a number 3"}"""];

    // The serve hour must lie within a day of now (Schedule:Delay is under a day), and stay fixed while the harness runs.
    private readonly HourWindow _serveHour = HourWindow.Containing(DateTimeOffset.UtcNow).AddHours(-2);
    private readonly TempFolder _folder = new();
    private readonly Random _random;
    private readonly int _hitsPerHour;
    private readonly Action<string> _log;
    private readonly DuckDbOracle _oracle = new();
    private readonly Dictionary<(bool StateB, string Table), IReadOnlyList<string>> _expected = [];
    private readonly Dictionary<CrashTarget, RawGate> _gates = [];
    private readonly Dictionary<CrashTarget, (TimeSpan ToGate, TimeSpan AfterGate)> _timing = [];
    private readonly HashSet<CrashTarget> _killedSinceCompleted = [];
    private readonly HashSet<HourWindow> _written = [];
    private readonly List<string> _leftRunning = [];
    private readonly List<string> _findings = [];
    private readonly Dictionary<string, int> _killsBy = [];
    private bool _stateB;
    private int _serveTicks;
    private int _rounds, _kills, _killsMidWrite, _completed, _torn, _leftovers, _recoveryFailures, _damaged;

    /// <param name="seed">Seeds the kill points and the choice of command per round.</param>
    /// <param name="hitsPerHour">Records per hour in state A (B adds 500 more and three rejected ones).</param>
    /// <param name="log">Told one line per round.</param>
    public CrashHarness(int seed, int hitsPerHour, Action<string> log)
    {
        _random = new Random(seed);
        _hitsPerHour = hitsPerHour;
        _log = log;
    }

    private string Data => _folder.Sub("data");
    private string Template => _folder.Sub("template");
    private string TempDirectory => _folder.Sub("tmp");

    /// <summary>Kills processes until <paramref name="kills"/> were killed, then lets each command run to its end once more.</summary>
    public async Task<CrashFigures> RunAsync(int kills)
    {
        var clock = Stopwatch.StartNew();
        await PrepareAsync();
        // A first round of each command runs to its end: every table file then exists, and how long the parts of a run
        // take shapes the random delays (only where kills land, never what is checked).
        foreach (var target in Enum.GetValues<CrashTarget>()) await RoundAsync(target, null, calibrate: true);
        while (_kills < kills && _rounds < kills * 3)
        {
            var target = _random.NextDouble() switch { < 0.55 => CrashTarget.Run, < 0.8 => CrashTarget.Backfill, _ => CrashTarget.Serve };
            var point = _random.NextDouble() switch { < 0.1 => KillPoint.BeforeGate, < 0.25 => KillPoint.AtGate, < 0.6 => KillPoint.WhileWriting, _ => KillPoint.AfterGate };
            await RoundAsync(target, point);
        }
        foreach (var target in Enum.GetValues<CrashTarget>().Where(_killedSinceCompleted.Contains).ToList()) await RoundAsync(target, null);

        // At the end, nothing temporary anywhere under the outputs.
        foreach (var file in TemporaryOutputs()) Find(ref _leftovers, $"at the end: {Relative(file)} is left");
        return new CrashFigures(_rounds, _kills, _killsBy, _killsMidWrite, _completed, _torn, _leftovers, _recoveryFailures, _damaged, clock.Elapsed, _findings);
    }

    /// <summary>The temporary (dot) files anywhere under the tables and the quarantine.</summary>
    private IEnumerable<string> TemporaryOutputs() =>
        new[] { DataLayout.AggregatedPrefix, DataLayout.QuarantinePrefix }.Select(p => Path.Combine(Data, p)).Where(Directory.Exists)
            .SelectMany(root => Directory.EnumerateFiles(root, ".*", SearchOption.AllDirectories)).ToList();

    /// <summary>Raw data for every hour, states A and B, their expected tables, and a gate in each command's hour.</summary>
    private async Task PrepareAsync()
    {
        Directory.CreateDirectory(TempDirectory);
        var generated = await TallyProcess.RunAsync("generate", "--data", Template, "--hour", RunHour.ToString(),
            "--hits-per-hour", _hitsPerHour.ToString(CultureInfo.InvariantCulture), "--seed", "16");
        if (generated.ExitCode != 0) throw new InvalidOperationException(generated.ToString());
        foreach (var stateB in new[] { false, true })
        {
            SetState(Template, RunHour, stateB);
            foreach (var spec in AggregationSpec.Defaults) _expected[(stateB, spec.Table)] = _oracle.ExpectedRows(Template, RunHour, spec);
        }
        SetState(Template, RunHour, false);
        if (_expected[(false, "hits_by_country")].SequenceEqual(_expected[(true, "hits_by_country")])) throw new InvalidOperationException("States A and B give the same tables.");

        var source = Path.Combine(Template, DataLayout.RawHourPrefix(RunHour));
        foreach (var hour in AllHours)
        {
            var target = Path.Combine(Data, DataLayout.RawHourPrefix(hour));
            foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
            {
                var copy = Path.Combine(target, Path.GetRelativePath(source, file));
                Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
                File.Copy(file, copy);
            }
        }
        _gates[CrashTarget.Run] = new RawGate(Data, RunHour);
        _gates[CrashTarget.Backfill] = new RawGate(Data, BackfillHours[1]);
        _gates[CrashTarget.Serve] = new RawGate(Data, _serveHour);
    }

    private IEnumerable<HourWindow> AllHours => [RunHour, .. BackfillHours, _serveHour];

    private IReadOnlyList<HourWindow> HoursOf(CrashTarget target) => target switch
    {
        CrashTarget.Run => [RunHour],
        CrashTarget.Backfill => BackfillHours,
        _ => [_serveHour],
    };

    /// <summary>State B adds a file of 500 good records and one of three rejected ones (named .jsonl, which DuckDB's glob of the oracle skips).</summary>
    private static void SetState(string data, HourWindow hour, bool stateB)
    {
        var folder = Path.Combine(data, DataLayout.RawMinutePrefix(hour, 30));
        Directory.CreateDirectory(folder);
        var extra = Path.Combine(folder, "extra.json");
        var bad = Path.Combine(folder, "bad.jsonl");
        if (!stateB)
        {
            File.Delete(extra);
            File.Delete(bad);
            return;
        }
        var records = new StringBuilder();
        for (var i = 0; i < 500; i++)
        {
            records.Append(CultureInfo.InvariantCulture, $$"""{"GroupID":{{i % 13}},"CountryCode":"Z{{(char)('A' + i % 7)}}","UserAgent":"crash-agent/{{i % 5}}","Language":"en","Domain":"extra{{i % 50}}.example","Timestamp":"2026-11-24T13:30:00Z"}""").Append('\n');
        }
        File.WriteAllText(extra, records.ToString());
        File.WriteAllText(bad, string.Join('\n', BadLines) + "\n");
    }

    /// <summary>
    /// One round: the input of every hour flips between A and B, the command starts, and it is killed at <paramref name="point"/>
    /// (or, when null, runs to its end); then everything is checked.
    /// </summary>
    private async Task RoundAsync(CrashTarget target, KillPoint? point, bool calibrate = false)
    {
        _rounds++;
        _stateB = !_stateB;
        foreach (var hour in AllHours) SetState(Data, hour, _stateB);
        var gate = _gates[target];
        var (arguments, tick) = Command(target);
        var clock = Stopwatch.StartNew();
        var process = TallyProcess.Start([("TMPDIR", TempDirectory), ("TALLY_Schedule__LateDataLookBack", "00:00:00")], arguments);
        var killed = false;
        var completed = false;
        var timedOut = false;
        var what = $"round {_rounds} ({target}, {(point?.ToString() ?? "to the end")}, state {(_stateB ? "B" : "A")})";
        try
        {
            if (point == KillPoint.BeforeGate)
            {
                // A run that gets to the gate meanwhile waits there (the pipe has no writer yet).
                await Task.WhenAny(Task.Delay(Uniform(_timing[target].ToGate)), process.ExitedAsync());
            }
            else
            {
                await gate.ReachedByAsync(process);
                var toGate = clock.Elapsed;
                CheckLeftRunning(what);
                if (point == KillPoint.AtGate)
                {
                    // Killed while it waits.
                }
                else if (point == KillPoint.WhileWriting)
                {
                    using var watcher = new OutputWatcher(Path.Combine(Data, DataLayout.AggregatedPrefix));
                    await gate.OpenAsync();
                    var ended = Ended(target, process, tick);
                    if (await Task.WhenAny(watcher.FirstTemporaryFile, ended).WaitAsync(Patience) == watcher.FirstTemporaryFile)
                    {
                        await Task.WhenAny(Task.Delay(Uniform(TimeSpan.FromMilliseconds(20))), ended);
                    }
                    completed = ended.IsCompletedSuccessfully && ended.Result;
                }
                else
                {
                    var opened = Stopwatch.StartNew();
                    await gate.OpenAsync();
                    var ended = Ended(target, process, tick);
                    if (point is null) await ended.WaitAsync(Patience);
                    else await Task.WhenAny(Task.Delay(Uniform(_timing[target].AfterGate * 1.25)), ended);
                    completed = ended.IsCompletedSuccessfully && ended.Result;
                    if (calibrate) _timing[target] = (toGate, opened.Elapsed);
                }
            }
        }
        catch (TimeoutException)
        {
            timedOut = true;
            Find(ref _recoveryFailures, $"{what}: waited over {Patience.TotalSeconds:0} s: {Output(process)}");
        }

        if (point is null && target == CrashTarget.Serve && !timedOut)
        {
            process.Terminate();
            var served = await process.EndAsync();
            if (served.ExitCode != 0) Find(ref _recoveryFailures, $"{what}: tally serve exited {served.ExitCode} on SIGTERM: {served}");
        }
        else if (!process.HasExited && (point is not null || timedOut))
        {
            process.Kill();
        }
        var result = await process.EndAsync();
        // 128 + SIGKILL: it was still there when killed (not just ended by itself).
        killed = point is not null && !timedOut && result.ExitCode == 137;
        foreach (var g in _gates.Values) g.Forget();

        // First, as an operator would after a crash: is the metastore sound? (Opening it also recovers its write-ahead log.)
        CheckMetastore(what);
        if (killed)
        {
            _kills++;
            var key = $"{target.ToString().ToLowerInvariant()} {point}";
            _killsBy[key] = _killsBy.GetValueOrDefault(key) + 1;
            _killedSinceCompleted.Add(target);
            _leftRunning.AddRange(Metastore("SELECT run_id FROM runs WHERE status = 'running'").Select(r => r[0]));
            if (TemporaryOutputs().Any(f => f.Contains($".{process.Id}@", StringComparison.Ordinal))) _killsMidWrite++;
        }
        else if (target != CrashTarget.Serve)
        {
            completed = result.ExitCode == 0;
        }
        if (!killed && !completed && !timedOut) Find(ref _recoveryFailures, $"{what}: its runs did not succeed, and it was not killed: {result}");
        if (completed)
        {
            _completed++;
            _killedSinceCompleted.Remove(target);
            CheckLeftRunning(what);
            if (Metastore("SELECT run_id FROM runs WHERE status = 'running'") is { Count: > 0 } running)
            {
                Find(ref _recoveryFailures, $"{what}: runs still running after the round's runs ended: {string.Join(", ", running.Select(r => r[0]))}");
            }
        }

        CheckFiles(what, HoursOf(target), completed);
        CheckTemporaryFolder(what);
        _log(string.Create(CultureInfo.InvariantCulture, $"{what}: {(killed ? "killed" : "ended")} after {clock.Elapsed.TotalMilliseconds:N0} ms{(completed ? ", its runs succeeded" : "")}"));
    }

    /// <summary>The command line of a round of <paramref name="target"/>, and for serve the tick it runs.</summary>
    private (string[] Arguments, string? Tick) Command(CrashTarget target)
    {
        switch (target)
        {
            case CrashTarget.Run:
                return (["run", "--data", Data, "--hour", RunHour.ToString(), "--format", "json"], null);
            case CrashTarget.Backfill:
                return (["backfill", "--data", Data, "--from", BackfillHours[0].ToString(), "--to", BackfillHours[^1].AddHours(1).ToString(),
                    "--parallel", "2", "--force", "--format", "json"], null);
            default:
                // A yearly cron whose one occurrence near now processes the serve hour, run soon through --delay: each round a
                // new tick, so that one started late is caught up (it falls after the last scheduled one) instead of missed.
                // Until a scheduled run is on record nothing is caught up (a first start does not run the past), so the tick
                // must fall after the scheduler has started: later than the slowest start the calibration rounds measured, twice
                // over (on a machine at load 20 a start took over 3 s, and every serve round after waited for nothing).
                _serveTicks++;
                var tick = _serveHour.End + TimeSpan.FromSeconds(_serveTicks);
                var scheduledBefore = MetastoreRows.ReadIfAny(Path.Combine(Data, ".tally"), "SELECT 1 FROM runs WHERE trigger = 'schedule' LIMIT 1").Count > 0;
                var slack = scheduledBefore ? TimeSpan.FromSeconds(1)
                    : TimeSpan.FromSeconds(2) + 2 * _timing.Values.Select(t => t.ToGate).DefaultIfEmpty(TimeSpan.FromSeconds(1)).Max();
                var delay = DateTimeOffset.UtcNow - tick + slack;
                var cron = string.Create(CultureInfo.InvariantCulture, $"{tick.Second} {tick.Minute} {tick.Hour} {tick.Day} {tick.Month} *");
                return (["serve", "--data", Data, "--port", "0", "--cron", cron, "--delay", delay.ToString(@"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture)],
                    tick.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        }
    }

    /// <summary>
    /// Completes when the round's work has ended: the process exited (true when with 0), or for serve, the tick's run ended
    /// (true when it succeeded); serve itself goes on.
    /// </summary>
    private async Task<bool> Ended(CrashTarget target, TallyProcess process, string? tick)
    {
        if (target != CrashTarget.Serve)
        {
            await process.ExitedAsync();
            return false; // decided from the exit code once the process is gone
        }
        while (!process.HasExited)
        {
            var runs = MetastoreRows.ReadIfAny(Path.Combine(Data, ".tally"), $"SELECT status FROM runs WHERE input LIKE '%{tick}%'");
            if (runs is [[var status]] && status != "running") return status == "succeeded";
            await Task.Delay(20);
        }
        return false;
    }

    /// <summary>Runs that kills left <c>running</c> must not be once a later process got as far as its run's start.</summary>
    private void CheckLeftRunning(string what)
    {
        foreach (var runId in _leftRunning.Distinct())
        {
            if (Metastore($"SELECT status FROM runs WHERE run_id = '{runId}'") is [["running"]]) Find(ref _recoveryFailures, $"{what}: {runId} is still running after the next start");
        }
        _leftRunning.Clear();
    }

    /// <summary>
    /// Every table file of the round's hours (no other process touched the others) is A's or B's complete output, and every
    /// quarantine file absent or complete; when the round's runs ended (<paramref name="completed"/>), exactly the current
    /// state's, with no temporary file left in their folders, and catalog partitions naming the hour's succeeded run.
    /// </summary>
    private void CheckFiles(string what, IReadOnlyList<HourWindow> hours, bool completed)
    {
        foreach (var hour in hours)
        {
            var done = completed;
            if (done) _written.Add(hour);
            if (!_written.Contains(hour)) continue; // no run of it has ended yet: there is no earlier output to compare with
            var latest = done ? Metastore($"SELECT run_id, status FROM runs WHERE target_hour = '{hour}' ORDER BY started_at DESC LIMIT 1") : [];
            if (done && latest is not [[_, "succeeded"]]) Find(ref _recoveryFailures, $"{what}: the latest run of {hour} did not succeed: {string.Join(' ', latest.SelectMany(r => r))}");
            foreach (var spec in AggregationSpec.Defaults)
            {
                var path = Path.Combine(Data, DataLayout.TableFile(spec, hour));
                var folder = Path.GetDirectoryName(path)!;
                IReadOnlyList<string>? rows = null;
                try
                {
                    rows = File.Exists(path) ? _oracle.FileRows(path, spec.Format).Order(StringComparer.Ordinal).ToList() : null;
                }
                catch (Exception e) when (e is DuckDB.NET.Data.DuckDBException or IOException)
                {
                    Find(ref _torn, $"{what}: {Relative(path)} cannot be read: {e.Message.Split('\n')[0]}");
                    continue;
                }
                var isA = rows is not null && rows.SequenceEqual(_expected[(false, spec.Table)]);
                var isB = rows is not null && rows.SequenceEqual(_expected[(true, spec.Table)]);
                if (!isA && !isB) Find(ref _torn, $"{what}: {Relative(path)} is {(rows is null ? "missing" : $"neither A's nor B's output ({rows.Count} rows)")}");
                else if (done && isB != _stateB) Find(ref _recoveryFailures, $"{what}: {Relative(path)} is the earlier state's output after a run that succeeded");
                foreach (var stray in Directory.EnumerateFiles(folder).Select(Path.GetFileName).Where(n => !n!.StartsWith('.') && n != Path.GetFileName(path)))
                {
                    Find(ref _torn, $"{what}: a stray file {stray} beside {Relative(path)}");
                }
                if (done)
                {
                    foreach (var temp in Directory.EnumerateFiles(folder, ".*")) Find(ref _leftovers, $"{what}: {Relative(temp)} is left after a run of its folder succeeded");
                    var partition = Metastore($"SELECT run_id, row_count FROM partitions WHERE table_name = '{spec.Table}' AND partition_hour = '{hour}'");
                    var expectedRows = _expected[(_stateB, spec.Table)].Count.ToString(CultureInfo.InvariantCulture);
                    var runId = latest is [[var id, _]] ? id : null;
                    if (!(partition is [[var writer, var count]] && writer == runId && count == expectedRows))
                    {
                        Find(ref _recoveryFailures, $"{what}: the catalog partition of {spec.Table} {hour} is '{string.Join(' ', partition.SelectMany(r => r))}', not run {runId}'s with {expectedRows} rows");
                    }
                }
            }
            CheckQuarantine(what, hour, done);
        }
    }

    private void CheckQuarantine(string what, HourWindow hour, bool done)
    {
        var path = Path.Combine(Data, DataLayout.QuarantineFile(hour));
        if (File.Exists(path))
        {
            var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToList();
            var records = new List<string?>();
            try
            {
                records.AddRange(lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("record").GetString()));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                records.Clear();
            }
            if (!records.SequenceEqual(BadLines)) Find(ref _torn, $"{what}: {Relative(path)} is not the complete quarantine ({lines.Count} lines)");
            else if (done && !_stateB) Find(ref _recoveryFailures, $"{what}: {Relative(path)} is left after a run of an hour without rejects");
        }
        else if (done && _stateB)
        {
            Find(ref _recoveryFailures, $"{what}: {Relative(path)} is missing after a run of an hour with rejects");
        }
        if (done && Directory.Exists(Path.GetDirectoryName(path)))
        {
            foreach (var temp in Directory.EnumerateFiles(Path.GetDirectoryName(path)!, ".*")) Find(ref _leftovers, $"{what}: {Relative(temp)} is left after a run of its folder succeeded");
        }
    }

    /// <summary>The metastore passes SQLite's integrity and foreign key checks.</summary>
    private void CheckMetastore(string what)
    {
        try
        {
            using var connection = new SqliteConnection($"Data Source={Path.Combine(Data, ".tally", "metastore.db")};Pooling=False");
            connection.Open();
            using var integrity = connection.CreateCommand();
            integrity.CommandText = "PRAGMA integrity_check";
            var answer = integrity.ExecuteScalar() as string;
            using var keys = connection.CreateCommand();
            keys.CommandText = "PRAGMA foreign_key_check";
            using var reader = keys.ExecuteReader();
            if (answer != "ok" || reader.Read()) Find(ref _damaged, $"{what}: the metastore's integrity check says '{answer}'{(reader.HasRows ? " and it has foreign key violations" : "")}");
        }
        catch (SqliteException e)
        {
            Find(ref _damaged, $"{what}: the metastore cannot be checked: {e.Message}");
        }
    }

    /// <summary>Tally's own temporary files (<c>tally-*</c>) in the processes' temporary folder: none may stay, killed or not.</summary>
    private void CheckTemporaryFolder(string what)
    {
        foreach (var file in Directory.EnumerateFiles(TempDirectory, "tally-*"))
        {
            Find(ref _leftovers, $"{what}: {Path.GetFileName(file)} is left in the temporary folder");
            File.Delete(file);
        }
    }

    private List<string[]> Metastore(string sql) => MetastoreRows.Read(Path.Combine(Data, ".tally"), sql);

    private TimeSpan Uniform(TimeSpan max) => max * _random.NextDouble();

    private void Find(ref int counter, string finding)
    {
        counter++;
        _findings.Add(finding);
    }

    private string Relative(string path) => Path.GetRelativePath(Data, path).Replace(Path.DirectorySeparatorChar, '/');

    private static string Output(TallyProcess process) => $"[stdout] {process.Stdout} [stderr] {process.Stderr}";

    public void Dispose()
    {
        foreach (var gate in _gates.Values) gate.Dispose();
        _oracle.Dispose();
        _folder.Dispose();
    }

    /// <summary>The first temporary file created under a folder (at any depth): the hour's outputs are being written.</summary>
    private sealed class OutputWatcher : IDisposable
    {
        private readonly FileSystemWatcher _watcher;
        private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public OutputWatcher(string folder)
        {
            _watcher = new FileSystemWatcher(folder, "*.tmp") { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.FileName };
            _watcher.Created += (_, e) => { if (e.Name is { } name && Path.GetFileName(name).StartsWith('.')) _first.TrySetResult(); };
            _watcher.EnableRaisingEvents = true;
        }

        public Task FirstTemporaryFile => _first.Task;

        public void Dispose() => _watcher.Dispose();
    }
}
