using System.Diagnostics;

namespace Tally.Cli.Tests;

/// <summary>
/// A named pipe among an hour's raw files (the last one read: it has no size). A run that reaches it waits until the test
/// opens it, and then reads it as an empty file: "while a run is going on" does not depend on how fast the engine is.
/// </summary>
internal sealed class RawGate : IDisposable
{
    private readonly string _path;

    public RawGate(string data, HourWindow hour)
    {
        var folder = Path.Combine(data, DataLayout.RawMinutePrefix(hour, 59));
        Directory.CreateDirectory(folder);
        _path = Path.Combine(folder, "zz-gate.json");
        using var mkfifo = Process.Start("mkfifo", [_path]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    /// <summary>Lets the run waiting at the gate (or the next to reach it) read it to its end.</summary>
    public Task OpenAsync() => Task.Run(() =>
    {
        // Opening a pipe for writing waits for its reader; closing it at once is the reader's end of file.
        using var writer = new FileStream(_path, FileMode.Open, FileAccess.Write);
    }).WaitAsync(TimeSpan.FromSeconds(30));

    public void Dispose() => File.Delete(_path);
}
