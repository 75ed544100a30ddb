using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Tally.Storage;

/// <summary>
/// A scratch file in the system's temporary folder that no process can leave behind. On Linux it is made without a name
/// (<c>open(2)</c> with <c>O_TMPFILE</c>): there is no moment at which a killed process leaves one. Where the system or the
/// file system has no such file, it is created with a name and unlinked at once (a kill between the two leaves the name;
/// on Windows the file is deleted when closed).
/// </summary>
internal static partial class UnnamedFile
{
    private const int ReadWrite = 2; // O_RDWR
    private const int CloseOnExec = 0x80000; // O_CLOEXEC (02000000)
    private const int Exclusive = 0x80; // O_EXCL: the file can never be given a name with linkat(2)

    /// <summary>
    /// Opens a new empty file for reading and writing; <paramref name="prefix"/> names it where a name is needed. The stream
    /// is synchronous (Unix has no asynchronous file I/O; its asynchronous methods run on the thread pool all the same).
    /// </summary>
    public static FileStream Create(string prefix, int bufferSize)
    {
        var folder = Path.GetTempPath();
        if (TemporaryFileFlag() is { } flag)
        {
            var fd = Open(folder, flag | ReadWrite | Exclusive | CloseOnExec, 0b110_000_000);
            if (fd >= 0) return new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.ReadWrite, bufferSize);
            var errno = Marshal.GetLastPInvokeError();
            // EISDIR/EINVAL (kernels before 3.11), EOPNOTSUPP (file systems without it): fall back to a named file.
            if (errno is not (21 or 22 or 95))
            {
                throw new IOException($"Cannot create a temporary file in '{folder}': {Marshal.GetPInvokeErrorMessage(errno)}", errno);
            }
        }
        var path = Path.Combine(folder, $"{prefix}{Guid.NewGuid():N}.tmp");
        var stream = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize, FileOptions.DeleteOnClose);
        // Unix lets an open file lose its name: from here a process killed mid-run leaves nothing behind.
        if (!OperatingSystem.IsWindows()) File.Delete(path);
        return stream;
    }

    /// <summary><c>O_TMPFILE</c> (<c>__O_TMPFILE | O_DIRECTORY</c>), whose value differs between Linux's architectures.</summary>
    private static int? TemporaryFileFlag() => !OperatingSystem.IsLinux() ? null : RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 or Architecture.X86 => 0x410000,
        Architecture.Arm64 or Architecture.Arm => 0x404000,
        _ => null,
    };

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);
}
