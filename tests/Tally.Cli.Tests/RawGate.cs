using System.Diagnostics;

namespace Tally.Cli.Tests;

/// <summary>
/// A named pipe among an hour's raw files (the last one read: it has no size). A run that reaches it waits there, and the
/// test knows it: the test's end of the pipe opens exactly when the run opens the gate (<see cref="ReachedAsync"/>). Once
/// opened (<see cref="OpenAsync"/>) the run reads it as an empty file. "While a run is going on" then depends neither on how
/// fast the engine is nor on how busy the machine is.
/// </summary>
/// <remarks>One run at the gate at a time: the gate is reached again by the next run that opens it after the last one has
/// gone (opened, or its process ended and <see cref="Forget"/> was called).</remarks>
internal sealed class RawGate : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly string _path;
    private Task<FileStream>? _writer;

    public RawGate(string data, HourWindow hour)
    {
        var folder = Path.Combine(data, DataLayout.RawMinutePrefix(hour, 59));
        Directory.CreateDirectory(folder);
        _path = Path.Combine(folder, "zz-gate.json");
        using var mkfifo = Process.Start("mkfifo", [_path]);
        mkfifo.WaitForExit();
        if (mkfifo.ExitCode != 0) throw new InvalidOperationException($"mkfifo {_path} failed with exit code {mkfifo.ExitCode}.");
    }

    /// <summary>Completes when a run has opened the gate; it then waits in its read until <see cref="OpenAsync"/>.</summary>
    /// <exception cref="TimeoutException">When no run opens it within a minute.</exception>
    public Task ReachedAsync() => Writer().WaitAsync(Patience);

    /// <summary>Completes when a run of <paramref name="process"/> has opened the gate; fails when the process ends first.</summary>
    public async Task ReachedByAsync(TallyProcess process)
    {
        var reached = ReachedAsync();
        if (await Task.WhenAny(reached, process.ExitedAsync()) != reached && !reached.IsCompleted)
        {
            Assert.Fail($"The process ended before it reached the gate: {await process.EndAsync()}");
        }
        await reached;
    }

    /// <summary>Whether a run has opened the gate (and not been let through yet).</summary>
    public bool IsReached => _writer is { IsCompletedSuccessfully: true };

    /// <summary>Lets the run waiting at the gate (or the next to reach it) read it to its end.</summary>
    public async Task OpenAsync()
    {
        var writer = await Writer().WaitAsync(Patience);
        _writer = null;
        // Closing the only writer is the reader's end of file.
        await writer.DisposeAsync();
    }

    /// <summary>After the process of a run that reached the gate was killed: the next run to open it is the one waited for.</summary>
    public void Forget()
    {
        if (_writer is not { IsCompletedSuccessfully: true } reached) return;
        _writer = null;
        reached.Result.Dispose();
    }

    /// <summary>Opening a pipe for writing blocks until it has a reader, so the opening completes when a run opens the gate.</summary>
    private Task<FileStream> Writer() => _writer ??= Task.Factory.StartNew(
        () => new FileStream(_path, FileMode.Open, FileAccess.Write), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    public void Dispose()
    {
        if (_writer is { IsCompleted: false } waiting)
        {
            // Be the reader the blocked opening waits for, so that its thread ends.
            using (new FileStream(_path, FileMode.Open, FileAccess.Read))
            {
                waiting.Wait(Patience);
            }
        }
        if (_writer is { IsCompletedSuccessfully: true } open) open.Result.Dispose();
        File.Delete(_path);
    }
}
