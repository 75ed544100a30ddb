using System.Runtime.CompilerServices;

namespace Tally.Storage;

/// <summary>An <see cref="IObjectStore"/> on a local folder; atomic writes are a temporary file renamed over the target.</summary>
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
    public string Root => _root;

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

    public async Task WriteAtomicAsync(string key, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        var path = FullPath(key);
        var dir = Path.GetDirectoryName(path)!;
        // The temporary name starts with '.' so that readers globbing part files never see it.
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(dir);
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await write(stream, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw TallyException.Transient($"Cannot write '{path}': {e.Message}", e);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var path = FullPath(key);
        try
        {
            File.Delete(path);
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
            // Best effort: a leftover dot-file is invisible to readers and is removed by the next successful write of the folder.
        }
    }
}
