using System.Runtime.CompilerServices;

namespace Tally.Storage;

/// <summary>
/// An <see cref="IObjectStore"/> on a local folder; atomic writes are a temporary file renamed over the target, flushed to the
/// disk with its folder.
/// </summary>
public sealed class LocalObjectStore : IObjectStore
{
    private readonly string _root;

    /// <param name="root">The data folder; it must exist.</param>
    /// <exception cref="TallyException">NotFound when <paramref name="root"/> is not an existing folder.</exception>
    public LocalObjectStore(string root)
    {
        _root = Path.GetFullPath(root);
        if (!Directory.Exists(_root))
        {
            throw File.Exists(_root)
                ? TallyException.InvalidArgument($"The data folder '{root}' is a file, not a folder.")
                : TallyException.NotFound($"The data folder '{root}' does not exist.");
        }
    }

    /// <summary>The absolute path of the data folder.</summary>
    internal string Root => _root;

    public string Describe(string key) => FullPath(key);

    public async IAsyncEnumerable<string> ListFoldersAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var dir = FullPath(prefix);
        if (!Directory.Exists(dir)) yield break;
        string[] names;
        try
        {
            names = Directory.GetDirectories(dir).Select(Path.GetFileName).OfType<string>().ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw TallyException.Transient($"Cannot list '{dir}': {e.Message}", e);
        }
        Array.Sort(names, StringComparer.Ordinal);
        foreach (var name in names)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return name;
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var dir = FullPath(prefix);
        if (!Directory.Exists(dir)) yield break;
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = false, AttributesToSkip = 0 };
        IEnumerable<FileInfo> files;
        try
        {
            files = new DirectoryInfo(dir).EnumerateFiles("*", options).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw TallyException.Transient($"Cannot list '{dir}': {e.Message}", e);
        }
        foreach (var file in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return new ObjectInfo(KeyOf(file.FullName), file.Length, file.LastWriteTimeUtc);
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var path = FullPath(key);
        try
        {
            Stream stream = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite | FileShare.Delete,
                BufferSize = 0, Options = FileOptions.SequentialScan | FileOptions.Asynchronous,
            });
            return Task.FromResult(stream);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw TallyException.NotFound($"'{path}' does not exist.");
        }
        catch (UnauthorizedAccessException e)
        {
            throw TallyException.InvalidArgument($"Cannot read '{path}': permission denied ({e.Message}).");
        }
        catch (IOException e)
        {
            throw TallyException.Transient($"Cannot read '{path}': {e.Message}", e);
        }
    }

    public Task WriteAtomicAsync(string key, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken) =>
        WriteAllAtomicAsync([new ObjectWrite(key, write)], cancellationToken);

    /// <remarks>
    /// Each object is written to a temporary file beside it (see <see cref="TemporaryFiles"/>) and flushed to the disk; then
    /// each is renamed over its target and the folders are flushed, so a write that returned survives a power loss. Temporary
    /// files that writers killed earlier left in these folders are removed afterwards.
    /// </remarks>
    public async Task WriteAllAtomicAsync(IReadOnlyList<ObjectWrite> writes, CancellationToken cancellationToken)
    {
        var staged = writes.Select(w => new Staged(FullPath(w.Key))).ToList();
        try
        {
            await Task.WhenAll(writes.Select((w, i) => StageAsync(staged[i], w.Write, cancellationToken))).ConfigureAwait(false);
            foreach (var file in staged)
            {
                try
                {
                    File.Move(file.Temp, file.Path, overwrite: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw TallyException.Transient($"Cannot write '{file.Path}': {e.Message}", e);
                }
            }
            var folders = staged.Select(f => f.Folder).Distinct(StringComparer.Ordinal).ToList();
            try
            {
                foreach (var folder in folders) DirectorySync.Flush(folder);
                // A folder made for this write is an entry of its parent: flushed too, or the whole path may vanish.
                foreach (var created in staged.SelectMany(f => f.CreatedFolders).Distinct(StringComparer.Ordinal)) DirectorySync.Flush(Path.GetDirectoryName(created)!);
            }
            catch (IOException e)
            {
                throw TallyException.Transient($"Cannot write '{staged[0].Path}': {e.Message}", e);
            }
            var now = DateTimeOffset.UtcNow;
            foreach (var folder in folders) TemporaryFiles.RemoveAbandoned(folder, now);
        }
        catch
        {
            foreach (var file in staged) TryDelete(file.Temp);
            throw;
        }
    }

    private static async Task StageAsync(Staged file, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        try
        {
            file.CreatedFolders = CreateFolders(file.Folder);
            await using var stream = new FileStream(file.Temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await write(stream, cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            stream.Flush(flushToDisk: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw WriteFailure(file.Path, e);
        }
    }

    /// <summary>The folders from <paramref name="folder"/> up that did not exist, created now; deepest first.</summary>
    private static List<string> CreateFolders(string folder)
    {
        var missing = new List<string>();
        for (var f = folder; f is not null && !Directory.Exists(f); f = Path.GetDirectoryName(f)) missing.Add(f);
        if (missing.Count > 0) Directory.CreateDirectory(folder);
        return missing;
    }

    private static TallyException WriteFailure(string path, Exception e) => IsDiskFull(e)
        ? TallyException.Transient($"Cannot write '{path}': the disk is full. Nothing was replaced and nothing partial is left; free space, then run again.", e)
        : TallyException.Transient($"Cannot write '{path}': {e.Message}", e);

    /// <summary>ENOSPC or EDQUOT (Linux and macOS), ERROR_DISK_FULL or ERROR_HANDLE_DISK_FULL (Windows).</summary>
    private static bool IsDiskFull(Exception e) => e is IOException io && (OperatingSystem.IsWindows()
        ? (io.HResult & 0xFFFF) is 0x70 or 0x27
        : io.HResult == 28 || io.HResult == (OperatingSystem.IsMacOS() ? 69 : 122));

    /// <remarks>
    /// Temporary files that killed writers left in the object's folder are removed too, as a write there does: a run that
    /// deletes the hour's quarantine file (no record rejected this time) writes nothing else in that folder.
    /// </remarks>
    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var path = FullPath(key);
        var folder = Path.GetDirectoryName(path)!;
        try
        {
            if (Directory.Exists(folder)) TemporaryFiles.RemoveAbandoned(folder, DateTimeOffset.UtcNow);
            if (!File.Exists(path)) return Task.CompletedTask;
            File.Delete(path);
            DirectorySync.Flush(folder);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw TallyException.Transient($"Cannot delete '{path}': {e.Message}", e);
        }
        return Task.CompletedTask;
    }

    private string FullPath(string key)
    {
        if (key.Length == 0) return _root;
        var path = Path.GetFullPath(Path.Combine(_root, key.Replace('/', Path.DirectorySeparatorChar)));
        if (!path.StartsWith(_root, StringComparison.Ordinal))
        {
            throw TallyException.InvalidArgument($"The key '{key}' points outside the data folder.");
        }
        return path;
    }

    private string KeyOf(string fullPath) => Path.GetRelativePath(_root, fullPath).Replace(Path.DirectorySeparatorChar, '/');

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover dot-file is invisible to readers, and the first write of the folder after this process
            // has ended removes it (TemporaryFiles.RemoveAbandoned), as it does the files of writers that were killed.
        }
    }

    /// <summary>One object of a write: its path, its temporary file, and the folders made for it.</summary>
    private sealed class Staged(string path)
    {
        public string Path { get; } = path;
        public string Folder { get; } = System.IO.Path.GetDirectoryName(path)!;
        public string Temp { get; } = TemporaryFiles.PathFor(path);
        public IReadOnlyList<string> CreatedFolders { get; set; } = [];
    }
}
