namespace Tally.Storage;

/// <summary>An object in a store: its key ('/'-separated, relative to the store's root), size in bytes and last change.</summary>
public sealed record ObjectInfo(string Key, long Size, DateTimeOffset LastModified, string? ETag = null);

/// <summary>One object of <see cref="IObjectStore.WriteAllAtomicAsync"/>: its key, and what fills it.</summary>
public sealed record ObjectWrite(string Key, Func<Stream, CancellationToken, Task> Write);

/// <summary>
/// Where Tally's data lives: a local folder today, S3-compatible stores too. Keys are '/'-separated and relative to the root.
/// Implementations are safe to use from several threads at once.
/// </summary>
public interface IObjectStore
{
    /// <summary>A human-readable location of <paramref name="key"/> (a path or URI), for messages and reports.</summary>
    string Describe(string key);

    /// <summary>The immediate child "folders" of <paramref name="prefix"/> (names only, without '/').</summary>
    IAsyncEnumerable<string> ListFoldersAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>Every object under <paramref name="prefix"/>, at any depth, in no particular order.</summary>
    IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>Opens an object for streaming reads.</summary>
    /// <exception cref="TallyException">NotFound when it does not exist; Transient when the store fails.</exception>
    Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Writes an object so that readers see either the previous object or the complete new one, never a part:
    /// <paramref name="write"/> fills a temporary object which then replaces <paramref name="key"/>.
    /// Nothing is left behind when <paramref name="write"/> throws.
    /// </summary>
    /// <exception cref="TallyException">Transient when the store fails, the disk is full among them (the message names the object).</exception>
    Task WriteAtomicAsync(string key, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken);

    /// <summary>
    /// Writes several objects all or nothing: each is written whole to a temporary object first, at once, and only when every
    /// one is complete do they replace their keys, one after another. When any write throws (a full disk, a failing store),
    /// no key is replaced and nothing is left behind. A process killed while the keys are being replaced leaves each one
    /// either as it was or whole and new.
    /// </summary>
    /// <exception cref="TallyException">Transient when the store fails, the disk is full among them (the message names the object).</exception>
    Task WriteAllAtomicAsync(IReadOnlyList<ObjectWrite> writes, CancellationToken cancellationToken);

    /// <summary>Deletes an object; deleting a missing object is not an error.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken);
}
