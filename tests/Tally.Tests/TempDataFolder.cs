using System.IO.Compression;
using System.Text;
using Tally.Storage;

namespace Tally.Tests;

/// <summary>A data folder in the temp directory for one test, deleted afterwards.</summary>
public sealed class TempDataFolder : IDisposable
{
    public TempDataFolder()
    {
        Root = Path.Combine(Path.GetTempPath(), "tally-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        Store = new LocalObjectStore(Root);
    }

    public string Root { get; }

    public LocalObjectStore Store { get; }

    public string PathOf(string key) => Path.Combine(Root, key.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>Writes a raw file for <paramref name="hour"/>'s minute folder and returns its key.</summary>
    public string WriteRaw(HourWindow hour, int minute, string name, string content, bool gzip = false) =>
        WriteRawBytes(DataLayout.RawMinutePrefix(hour, minute) + "/" + name, Encoding.UTF8.GetBytes(content), gzip);

    public string WriteRawBytes(string key, byte[] content, bool gzip = false)
    {
        var path = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (gzip)
        {
            using var file = File.Create(path);
            using var zip = new GZipStream(file, CompressionLevel.Optimal);
            zip.Write(content);
        }
        else
        {
            File.WriteAllBytes(path, content);
        }
        return key;
    }

    /// <summary>Every file under the folder, relative, '/'-separated, sorted.</summary>
    public IReadOnlyList<string> AllFiles(string under = "") =>
        Directory.Exists(PathOf(under))
            ? Directory.GetFiles(PathOf(under), "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(Root, f).Replace(Path.DirectorySeparatorChar, '/')).Order(StringComparer.Ordinal).ToList()
            : [];

    /// <summary>Copies every object under <paramref name="prefix"/> of <paramref name="store"/> here, at the same keys (for DuckDB to read).</summary>
    public async Task CopyFromAsync(IObjectStore store, string prefix)
    {
        await foreach (var file in store.ListAsync(prefix, CancellationToken.None))
        {
            var path = PathOf(file.Key);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await using var input = await store.OpenReadAsync(file.Key, CancellationToken.None);
            await using var output = File.Create(path);
            await input.CopyToAsync(output);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
