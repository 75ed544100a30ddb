using System.Diagnostics;

namespace Tally.Cli.Tests;

/// <summary>What one run of the <c>tally</c> executable did.</summary>
internal sealed record TallyResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>The non-empty lines of stdout.</summary>
    public IReadOnlyList<string> StdoutLines => Stdout.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0).ToList();

    /// <summary>The non-empty lines of stderr.</summary>
    public IReadOnlyList<string> StderrLines => Stderr.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0).ToList();

    /// <summary>
    /// Stderr with the line breaks the console inserts at its width removed (it keeps the space it breaks at),
    /// for checking what a message says apart from how it is wrapped.
    /// </summary>
    public string StderrText => Stderr.Replace("\r", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal);

    public override string ToString() => $"exit {ExitCode}\n[stdout]\n{Stdout}\n[stderr]\n{Stderr}";
}

/// <summary>Runs the real <c>tally</c> app, built next to the tests, as a child process.</summary>
internal static class Tally
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static async Task<TallyResult> RunAsync(params string[] args)
    {
        var start = TallyExecutable.StartInfo();
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = true;
        start.UseShellExecute = false;
        foreach (var arg in args) start.ArgumentList.Add(arg);

        using var process = Process.Start(start) ?? throw new InvalidOperationException("tally did not start.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"tally {string.Join(' ', args)} did not end within {Timeout.TotalSeconds} s.");
        }
        return new TallyResult(process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>A fresh folder under the temporary folder, deleted with everything in it on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tally-" + Guid.NewGuid().ToString("N")[..8]);

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}
