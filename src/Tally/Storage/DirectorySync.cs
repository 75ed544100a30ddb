using System.Runtime.InteropServices;

namespace Tally.Storage;

/// <summary>
/// Makes a folder's entries durable: after a file is renamed into a folder (or created or deleted in it), the folder itself
/// must be flushed (<c>fsync</c> of the directory) or a power loss can bring back the old entry even though the file's bytes
/// were flushed. .NET has no API for it; on Linux and macOS this calls the C library, elsewhere it does nothing (NTFS
/// journals renames).
/// </summary>
internal static partial class DirectorySync
{
    private const int ReadOnly = 0; // O_RDONLY

    /// <summary>Flushes <paramref name="folder"/>'s entries to the disk.</summary>
    /// <exception cref="IOException">When the system reports an I/O error: the entries may not be on the disk.</exception>
    public static void Flush(string folder)
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())) return;
        var fd = Open(folder, ReadOnly);
        if (fd < 0)
        {
            // A folder that cannot be opened for reading (permissions) cannot be flushed by us; the rename itself stands.
            return;
        }
        try
        {
            if (Fsync(fd) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                // EINVAL/ENOTSUP/EROFS: the file system has no directory flush to offer (some FUSE and network file systems).
                if (errno is not (22 or 95 or 45 or 30 or 102))
                {
                    throw new IOException($"Cannot flush the folder '{folder}' to the disk: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
                }
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
