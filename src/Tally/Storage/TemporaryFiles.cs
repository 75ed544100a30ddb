using System.Text.RegularExpressions;

namespace Tally.Storage;

/// <summary>
/// The temporary files of <see cref="LocalObjectStore"/>'s atomic writes, <c>.&lt;target&gt;.&lt;pid&gt;@&lt;host&gt;.&lt;random&gt;.tmp</c>
/// beside their target. The leading dot hides them from readers (Hive's rule, DuckDB's globs of part files); the writer's
/// process id and host let the next write of the folder tell the files of a writer that was killed from those of one
/// still writing.
/// </summary>
internal static partial class TemporaryFiles
{
    /// <summary>Files of the naming before writers were named, removed once they are this old: no single write lasts that long.</summary>
    private static readonly TimeSpan UnnamedWriterAge = TimeSpan.FromHours(1);

    private static readonly string ThisHost = HostName(Environment.MachineName);

    /// <summary>A new temporary path for a write of <paramref name="target"/> by this process, in the target's folder.</summary>
    public static string PathFor(string target) =>
        Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Environment.ProcessId}@{ThisHost}.{Guid.NewGuid():N}.tmp");

    /// <summary>
    /// Deletes the temporary files in <paramref name="folder"/> (not below it) whose writer is gone: a process of this host
    /// that no longer runs, or, for names that carry no writer, files last changed over an hour ago. Files of other hosts
    /// and of live processes stay. Best effort: a file that cannot be deleted is left for the next write. Returns how many were deleted.
    /// </summary>
    public static int RemoveAbandoned(string folder, DateTimeOffset now)
    {
        var removed = 0;
        IEnumerable<string> candidates;
        try
        {
            candidates = Directory.EnumerateFiles(folder, ".*.tmp").ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
        foreach (var path in candidates)
        {
            try
            {
                if (!IsAbandoned(Path.GetFileName(path), () => File.GetLastWriteTimeUtc(path), now)) continue;
                File.Delete(path);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return removed;
    }

    /// <summary>Whether the temporary file <paramref name="name"/> belongs to a writer that is gone (see <see cref="RemoveAbandoned"/>).</summary>
    internal static bool IsAbandoned(string name, Func<DateTime> lastWriteUtc, DateTimeOffset now)
    {
        if (Named().Match(name) is { Success: true } named)
        {
            return named.Groups["host"].Value == ThisHost && int.TryParse(named.Groups["pid"].ValueSpan, out var pid) && !LocalProcess.IsRunning(pid);
        }
        return Unnamed().IsMatch(name) && now - new DateTimeOffset(lastWriteUtc(), TimeSpan.Zero) > UnnamedWriterAge;
    }

    /// <summary>The host as it appears in names: letters, digits and '-' kept, anything else '_', at most 40 characters.</summary>
    private static string HostName(string host)
    {
        var safe = new string([.. host.Select(c => char.IsAsciiLetterOrDigit(c) || c == '-' ? c : '_')]);
        return safe.Length > 40 ? safe[..40] : safe.Length == 0 ? "_" : safe;
    }

    [GeneratedRegex(@"^\..+\.(?<pid>[0-9]{1,10})@(?<host>[A-Za-z0-9_-]+)\.[0-9a-f]{32}\.tmp$")]
    private static partial Regex Named();

    /// <summary>The naming of earlier versions: <c>.&lt;target&gt;.&lt;random&gt;.tmp</c>.</summary>
    [GeneratedRegex(@"^\..+\.[0-9a-f]{32}\.tmp$")]
    private static partial Regex Unnamed();
}
