namespace Tally;

/// <summary>
/// An <see cref="IProgress{T}"/> that calls back on the reporting thread, at once and in order (<see cref="Progress{T}"/>
/// posts each report to the pool, where they may run late and out of order).
/// </summary>
public sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
