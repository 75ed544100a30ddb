using System.Diagnostics;

namespace Tally;

/// <summary>
/// Whether a process of this machine, named by its id, still runs: how a lease's holder and a temporary file's writer are
/// known to be dead. A process that ended but was not yet reaped by its parent (a zombie) still counts as running, and an id
/// the system gave to a new process since counts too: both err on the side of "alive".
/// </summary>
internal static class LocalProcess
{
    public static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }
}
