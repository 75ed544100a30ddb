using System.Globalization;
using System.Runtime.InteropServices;
using Tally.Query;

namespace Tally.Cli.Dashboard;

/// <summary>
/// Admits the dashboard's queries (the SQL page's and the charts'): at most <see cref="QuerySettings.MaxConcurrent"/> run at
/// once and at most <see cref="QuerySettings.MaxQueued"/> more wait for a slot, each for at most
/// <see cref="QuerySettings.Timeout"/> plus a second (the longest a query over its limit keeps its slot); any other is refused
/// at once (a Transient error: HTTP 503). Thread-safe.
/// </summary>
/// <remarks>
/// A query runs with one DuckDB thread (DuckDB then starts no thread of its own) on a thread of its own started at a low CPU
/// priority (<see cref="Nice"/>), so that the scheduler's runs, on normal-priority threads of the same process, keep the
/// cores while queries go on: the kernel gives a nice-10 thread about a tenth of a nice-0 thread's share of a busy core.
/// </remarks>
internal sealed class QuerySlots
{
    /// <summary>The Linux nice value of a query's thread (0 is normal, 19 the lowest priority).</summary>
    public const int Nice = 10;

    /// <summary>The name of a query's thread, as <c>/proc/&lt;pid&gt;/task/&lt;tid&gt;/comm</c> shows it.</summary>
    public const string ThreadName = "tally-query";

    private readonly SemaphoreSlim _running;
    private readonly int _maxConcurrent;
    private readonly int _maxQueued;
    private readonly TimeSpan _wait;
    private int _admitted;

    public QuerySlots(QuerySettings settings)
    {
        _maxConcurrent = settings.MaxConcurrent;
        _maxQueued = settings.MaxQueued;
        _wait = settings.Timeout + TimeSpan.FromSeconds(1);
        _running = new SemaphoreSlim(_maxConcurrent, _maxConcurrent);
    }

    /// <summary>Waits for a slot; dispose the result to free it.</summary>
    /// <exception cref="TallyException">Transient when every slot is taken and the queue is full, or no slot came free in time.</exception>
    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _admitted) > _maxConcurrent + _maxQueued)
        {
            Interlocked.Decrement(ref _admitted);
            throw TallyException.Transient(
                $"Every dashboard query slot is taken (Query:MaxConcurrent = {_maxConcurrent}) and the queue is full (Query:MaxQueued = {_maxQueued}); try again in a moment.");
        }
        try
        {
            if (!await _running.WaitAsync(_wait, cancellationToken))
            {
                throw TallyException.Transient(
                    $"No dashboard query slot came free within {_wait.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s (Query:MaxConcurrent = {_maxConcurrent}); try again in a moment.");
            }
        }
        catch
        {
            Interlocked.Decrement(ref _admitted);
            throw;
        }
        return new Slot(this);
    }

    /// <summary>Runs <paramref name="work"/> on a new background thread at <see cref="Nice"/> and completes with its result or exception.</summary>
    public static Task<T> OnLowPriorityThread<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            LowerPriority();
            // Named only once its priority is lowered: a thread called ThreadName is always at Nice.
            Thread.CurrentThread.Name = ThreadName;
            try
            {
                done.SetResult(work());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        { IsBackground = true };
        thread.Start();
        return done.Task;
    }

    /// <summary>
    /// Lowers the calling thread's priority for good. On Linux, where .NET's <see cref="Thread.Priority"/> changes nothing,
    /// <c>setpriority</c> of the thread's id sets its nice value (raising it needs no privilege; lowering it back would).
    /// </summary>
    private static void LowerPriority()
    {
        if (!OperatingSystem.IsLinux())
        {
            Thread.CurrentThread.Priority = ThreadPriority.BelowNormal;
            return;
        }
        try
        {
            // An error (a C library without gettid) leaves the thread at normal priority: the query still runs.
            _ = SetPriority(PrioProcess, GetThreadId(), Nice);
        }
        catch (EntryPointNotFoundException)
        {
        }
    }

    private const int PrioProcess = 0;

    // DllImport rather than LibraryImport: the arguments are plain ints, so no marshalling code (nor unsafe code) is needed.
    [DllImport("libc", EntryPoint = "setpriority")]
    private static extern int SetPriority(int which, int who, int priority);

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetThreadId();

    private sealed class Slot(QuerySlots owner) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            owner._running.Release();
            Interlocked.Decrement(ref owner._admitted);
        }
    }
}
