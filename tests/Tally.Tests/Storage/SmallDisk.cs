using System.Diagnostics;
using System.Globalization;

namespace Tally.Tests.Storage;

/// <summary>
/// A real small file system for one test: a tmpfs of a given size mounted on a folder (which needs root, as CI has), that
/// the test fills to the last byte and frees again. Writes into a full one fail as on a full disk (ENOSPC).
/// </summary>
internal sealed class SmallDisk : IDisposable
{
    private readonly string _filler;

    /// <exception cref="InvalidOperationException">When the file system cannot be mounted (not root, or mounting is not allowed).</exception>
    public SmallDisk(string path, int kib)
    {
        Path = path;
        Directory.CreateDirectory(path);
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", string.Create(CultureInfo.InvariantCulture, $"size={kib}k"), "tmpfs", path);
        if (code != 0) throw new InvalidOperationException($"The full-disk tests mount a small tmpfs, which needs root (as CI runs): mount said {output}");
        _filler = System.IO.Path.Combine(path, ".filler");
    }

    public string Path { get; }

    /// <summary>The bytes still free.</summary>
    public long Free => new DriveInfo(Path).AvailableFreeSpace;

    /// <summary>
    /// Takes the space left but <paramref name="leave"/> bytes (rounded to pages): a file that grows until the file system
    /// says it is full, or until only that much is left.
    /// </summary>
    public void Fill(long leave = 0)
    {
        using var file = new FileStream(_filler, FileMode.Append, FileAccess.Write, FileShare.None, 1, FileOptions.None);
        var block = new byte[4096];
        try
        {
            while (Free > leave) file.Write(block);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Gives the space taken by <see cref="Fill"/> back.</summary>
    public void Empty() => File.Delete(_filler);

    public void Dispose()
    {
        Run("umount", "-l", Path);
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardError.ReadToEnd() + process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output.Trim());
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}
