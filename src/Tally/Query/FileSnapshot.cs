using System.Runtime.InteropServices;

namespace Tally.Query;

/// <summary>
/// A point-in-time view of some tables' files: a folder of hard links, one per file, in the same layout.
/// </summary>
/// <remarks>
/// DuckDB opens a Parquet file several times during one query (to bind, to plan, and again in each scan thread, reusing
/// the metadata it read first). When a run renames a new file over the partition between two of those opens, the
/// scan reads the new file's bytes at the old file's offsets: an error, or worse. A hard link made before the query pins
/// the file that was there at that moment, so every open sees the same bytes; the rename only changes what the original
/// name points to. Links cost no copying. Where links cannot be made (another file system, Windows), the snapshot is not
/// created and the caller reads the files in place.
/// </remarks>
internal sealed class FileSnapshot : IDisposable
{
    private static readonly TimeSpan StaleAfter = TimeSpan.FromDays(1);

    private FileSnapshot(string root) => Root = root;

    /// <summary>The folder standing in for the data root: <c>&lt;Root&gt;/aggregated_data/&lt;table&gt;/year=…/part-00000.parquet</c>.</summary>
    public string Root { get; }

    /// <summary>
    /// Links each of <paramref name="keys"/> (files relative to <paramref name="dataRoot"/>, '/'-separated) at the same
    /// place under a new folder in <paramref name="snapshotsFolder"/>. Returns null when links are not possible here.
    /// </summary>
    public static FileSnapshot? TryCreate(string dataRoot, string snapshotsFolder, IEnumerable<string> keys)
    {
        if (OperatingSystem.IsWindows()) return null;
        RemoveStale(snapshotsFolder);
        var root = Path.Combine(snapshotsFolder, $"{Environment.ProcessId}-{Guid.NewGuid():N}");
        var snapshot = new FileSnapshot(root);
        try
        {
            Directory.CreateDirectory(root);
            string? lastFolder = null;
            foreach (var key in keys)
            {
                var file = Path.Combine(dataRoot, key);
                var target = Path.Combine(root, key);
                var folder = Path.GetDirectoryName(target)!;
                if (folder != lastFolder) Directory.CreateDirectory(folder);
                lastFolder = folder;
                // link(2) resolves the name once: the snapshot holds the old file or the new one, whole. A file that
                // vanished since it was listed (a table whose format changed) is left out.
                if (Link(file, target) != 0 && File.Exists(file)) throw new IOException($"link failed with errno {Marshal.GetLastPInvokeError()}");
            }
            return snapshot;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or EntryPointNotFoundException or DllNotFoundException)
        {
            snapshot.Dispose();
            return null;
        }
    }

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover snapshot holds only links and is removed by a later open once stale.
        }
    }

    /// <summary>Removes snapshots left behind by processes that ended without disposing theirs.</summary>
    private static void RemoveStale(string snapshotsFolder)
    {
        if (!Directory.Exists(snapshotsFolder)) return;
        foreach (var folder in Directory.EnumerateDirectories(snapshotsFolder))
        {
            try
            {
                if (DateTime.UtcNow - Directory.GetLastWriteTimeUtc(folder) > StaleAfter) Directory.Delete(folder, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    // link(2) from the C library; DllImport rather than LibraryImport, which would need unsafe code enabled.
    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int Link([MarshalAs(UnmanagedType.LPUTF8Str)] string existing, [MarshalAs(UnmanagedType.LPUTF8Str)] string created);
}
