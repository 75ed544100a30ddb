using System.Globalization;
using System.Text;

namespace Tally.Storage;

/// <summary>
/// A local copy of parts of a remote store (S3), for readers that need files: each synced prefix is made equal to the
/// store's objects under it, downloading only objects whose ETag (or size) changed since the last sync and deleting files
/// whose objects are gone. The copy keeps the store's layout, so local readers (DuckDB) read it exactly as a data folder.
/// </summary>
/// <remarks>
/// A download goes to a temporary dot-file and is renamed into place, so a reader sees a file's old or new bytes, never a
/// part. Processes sharing a mirror take its lock (<see cref="LockAsync"/>) around a sync and whatever must see a
/// consistent copy (the query service's snapshot); the ETag index is read and written under that lock.
/// </remarks>
internal sealed class LocalMirror
{
    private const string IndexFile = ".mirror-index.tsv";
    private const string LockFile = ".mirror.lock";
    private readonly IObjectStore _store;

    public LocalMirror(IObjectStore store, string root)
    {
        _store = store;
        Root = Path.GetFullPath(root);
    }

    /// <summary>The local folder standing in for the store's root.</summary>
    public string Root { get; }

    /// <summary>Takes the mirror's lock (exclusive across processes), waiting up to <paramref name="timeout"/> (default 2 minutes).</summary>
    /// <exception cref="TallyException">Transient when another process holds it longer.</exception>
    public async Task<IDisposable> LockAsync(CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        Directory.CreateDirectory(Root);
        var path = Path.Combine(Root, LockFile);
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(2));
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw TallyException.Transient($"The local cache '{Root}' is locked by another process: {e.Message}", e);
            }
        }
    }

    /// <summary>
    /// Makes the local folder of <paramref name="prefix"/> (a '/'-separated folder key) equal to the store's objects under
    /// it. Call it while holding <see cref="LockAsync"/>.
    /// </summary>
    /// <exception cref="TallyException">When the store fails (see <see cref="IObjectStore"/>) or a local file cannot be written.</exception>
    public async Task SyncAsync(string prefix, CancellationToken cancellationToken)
    {
        var index = ReadIndex();
        var folder = prefix.Trim('/');
        var wanted = new Dictionary<string, ObjectInfo>(StringComparer.Ordinal);
        await foreach (var o in _store.ListAsync(folder + "/", cancellationToken).ConfigureAwait(false)) wanted[o.Key] = o;

        var stale = wanted.Values.Where(o => !index.TryGetValue(o.Key, out var known) || known != Version(o) || !File.Exists(PathOf(o.Key))).ToList();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(stale, parallel, async (o, ct) => await DownloadAsync(o.Key, ct).ConfigureAwait(false)).ConfigureAwait(false);
        foreach (var o in stale) index[o.Key] = Version(o);

        // Files (and index entries) under the prefix whose objects are gone.
        var local = Path.Combine(Root, folder);
        if (Directory.Exists(local))
        {
            foreach (var file in Directory.EnumerateFiles(local, "*", SearchOption.AllDirectories))
            {
                var key = Path.GetRelativePath(Root, file).Replace(Path.DirectorySeparatorChar, '/');
                if (!wanted.ContainsKey(key)) File.Delete(file);
            }
        }
        foreach (var key in index.Keys.Where(k => k.StartsWith(folder + "/", StringComparison.Ordinal) && !wanted.ContainsKey(k)).ToList()) index.Remove(key);
        WriteIndex(index);
    }

    private async Task DownloadAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        var dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var input = await _store.OpenReadAsync(key, cancellationToken).ConfigureAwait(false))
            await using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await input.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(temp);
            throw TallyException.Transient($"Cannot copy '{_store.Describe(key)}' to the local cache '{path}': {e.Message}", e);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    private static string Version(ObjectInfo o) => $"{o.ETag ?? o.LastModified.UtcTicks.ToString(CultureInfo.InvariantCulture)}\t{o.Size.ToString(CultureInfo.InvariantCulture)}";

    private string PathOf(string key) => Path.Combine(Root, key.Replace('/', Path.DirectorySeparatorChar));

    private Dictionary<string, string> ReadIndex()
    {
        var index = new Dictionary<string, string>(StringComparer.Ordinal);
        var path = Path.Combine(Root, IndexFile);
        if (!File.Exists(path)) return index;
        foreach (var line in File.ReadLines(path))
        {
            var tab = line.IndexOf('\t');
            if (tab > 0) index[line[..tab]] = line[(tab + 1)..];
        }
        return index;
    }

    private void WriteIndex(Dictionary<string, string> index)
    {
        var text = new StringBuilder();
        foreach (var (key, version) in index.OrderBy(e => e.Key, StringComparer.Ordinal)) text.Append(key).Append('\t').Append(version).Append('\n');
        var path = Path.Combine(Root, IndexFile);
        var temp = path + ".tmp";
        File.WriteAllText(temp, text.ToString());
        File.Move(temp, path, overwrite: true);
    }
}
