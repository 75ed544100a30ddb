using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Tally.Cli.Tests;

/// <summary>What one <c>tally</c> process printed and how it ended.</summary>
internal sealed record ProcessResult(int ExitCode, string Stdout, string Stderr, string Args)
{
    public override string ToString() => $"tally {Args}: exit {ExitCode}\n[stdout]\n{Stdout}\n[stderr]\n{Stderr}";
}

/// <summary>
/// The real <c>tally</c> app (built next to the tests) as a child process, its output captured as it comes. Shared by the
/// command line's and the dashboard's process tests (the dashboard's project links this file).
/// </summary>
internal sealed partial class TallyProcess
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly string _args;

    private TallyProcess(Process process, string args)
    {
        _process = process;
        _args = args;
    }

    public bool HasExited => _process.HasExited;

    /// <summary>The process id (for <c>/proc/&lt;id&gt;/…</c>, and the record of what it did).</summary>
    public int Id => _process.Id;

    public string Stdout
    {
        get
        {
            lock (_stdout) return _stdout.ToString();
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr) return _stderr.ToString();
        }
    }

    /// <summary>Completes when the process has exited (however long that takes).</summary>
    public Task ExitedAsync() => _process.WaitForExitAsync();

    /// <summary>Waits until <paramref name="done"/> holds for what the process printed so far; fails when it exits first or within 60 s.</summary>
    public async Task WaitForOutputAsync(Func<string, string, bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!done(Stdout, Stderr))
        {
            if (HasExited) Assert.Fail($"tally {_args} ended before {what}: {await EndAsync()}");
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                Terminate();
                Assert.Fail($"tally {_args}: no {what} within 60 s: {await EndAsync()}");
            }
            await Task.Delay(20);
        }
    }

    public static TallyProcess Start(params string[] args) => Start([], args);

    public static TallyProcess Start(IReadOnlyList<(string Name, string Value)> environment, params string[] args)
    {
        var start = TallyExecutable.StartInfo();
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        foreach (var (name, value) in environment) start.Environment[name] = value;
        foreach (var arg in args) start.ArgumentList.Add(arg);
        var process = new Process { StartInfo = start };
        var tally = new TallyProcess(process, string.Join(' ', args));
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (tally._stdout) tally._stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (tally._stderr) tally._stderr.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return tally;
    }

    /// <summary>Runs <c>tally</c> to its end.</summary>
    public static Task<ProcessResult> RunAsync(params string[] args) => Start(args).EndAsync();

    /// <summary>Waits until <c>tally serve</c> logs the dashboard's address and returns it, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public async Task<Uri> DashboardUrlAsync()
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (ListeningOn().Match(Stdout) is { Success: true } match) return new Uri(match.Groups[1].Value);
            if (HasExited) Assert.Fail($"tally serve ended before it listened: {await EndAsync()}");
            await Task.Delay(50);
        }
        Terminate();
        Assert.Fail($"tally serve did not log its dashboard address within 60 s: {await EndAsync()}");
        return null!;
    }

    /// <summary>Kills the process at once (SIGKILL: no cleanup runs) and waits until it is gone.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    /// <summary>Sends SIGTERM (what systemd and <c>kill</c> send), through the <c>kill</c> command.</summary>
    public void Terminate()
    {
        if (_process.HasExited) return;
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public async Task<ProcessResult> EndAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
            lock (_stdout) lock (_stderr) Assert.Fail($"tally {_args} did not end within 90 s.\n[stdout]\n{_stdout}\n[stderr]\n{_stderr}");
        }
        _process.WaitForExit(); // flushes the asynchronous output readers
        lock (_stdout) lock (_stderr) return new ProcessResult(_process.ExitCode, _stdout.ToString(), _stderr.ToString(), _args);
    }

    [GeneratedRegex(@"Dashboard: (http://[0-9.]+:[0-9]+)")]
    private static partial Regex ListeningOn();
}
