using System.Data.Common;

namespace Tally.Query;

/// <summary>
/// Interrupts a running DuckDB command when its time limit passes or its caller cancels, and again every 100 ms until the
/// command is released: DuckDB clears a connection's interrupt when a statement starts, so one interrupt that landed just
/// before the statement began would be lost and the statement would run on unbounded. Thread-safe.
/// </summary>
internal sealed class QueryDeadline : IDisposable
{
    private static readonly TimeSpan Repeat = TimeSpan.FromMilliseconds(100);

    private readonly Lock _lock = new();
    private readonly CancellationToken _caller;
    private readonly CancellationTokenSource _source;
    private readonly CancellationTokenRegistration _registration;
    private DbCommand? _command;
    private ITimer? _repeat;
    private bool _released;

    /// <param name="timeout">The time limit from now; null for none.</param>
    public QueryDeadline(TimeSpan? timeout, CancellationToken caller)
    {
        Timeout = timeout;
        _caller = caller;
        _source = CancellationTokenSource.CreateLinkedTokenSource(caller);
        if (timeout is { } limit) _source.CancelAfter(limit);
        _registration = _source.Token.UnsafeRegister(_ => Interrupt(), null);
    }

    /// <summary>The time limit, or null for none.</summary>
    public TimeSpan? Timeout { get; }

    /// <summary>Whether the time limit passed (and not the caller cancelled first).</summary>
    public bool HasExpired => _source.IsCancellationRequested && !_caller.IsCancellationRequested;

    /// <summary>Whether the caller cancelled.</summary>
    public bool IsCancelled => _caller.IsCancellationRequested;

    /// <summary>Interrupts <paramref name="command"/> from now on: at once when the limit has passed already.</summary>
    public void Watch(DbCommand command)
    {
        lock (_lock) _command = command;
        if (_source.IsCancellationRequested) Interrupt();
    }

    private void Interrupt()
    {
        lock (_lock)
        {
            if (_released || _command is null) return;
            _command.Cancel();
            _repeat ??= TimeProvider.System.CreateTimer(_ => Interrupt(), null, Repeat, Repeat);
        }
    }

    /// <summary>Stops interrupting; call it before the command or its connection is disposed.</summary>
    public void Dispose()
    {
        ITimer? repeat;
        lock (_lock)
        {
            _released = true;
            _command = null;
            repeat = _repeat;
        }
        _registration.Dispose();
        repeat?.Dispose();
        _source.Dispose();
    }
}
