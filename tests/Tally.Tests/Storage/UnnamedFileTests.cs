using Tally.Storage;
using Xunit;

namespace Tally.Tests.Storage;

public sealed class UnnamedFileTests
{
    [Fact]
    public void AFileReadsBackWhatWasWritten_AndHasNoNameInTheTemporaryFolder()
    {
        var prefix = $"unnamed-file-test-{Guid.NewGuid():N}-";
        using var file = UnnamedFile.Create(prefix, 4096);

        Assert.Empty(Directory.EnumerateFiles(Path.GetTempPath(), prefix + "*"));
        var bytes = Enumerable.Range(0, 100_000).Select(i => unchecked((byte)(i * 7))).ToArray();
        file.Write(bytes);
        file.Flush();
        file.Position = 0;
        var back = new byte[bytes.Length + 1];
        Assert.Equal(bytes.Length, file.ReadAtLeast(back, back.Length, throwOnEndOfStream: false));
        Assert.Equal(bytes, back[..bytes.Length]);
        Assert.Empty(Directory.EnumerateFiles(Path.GetTempPath(), prefix + "*"));
    }

    [Fact]
    public void OnLinux_TheFileNeverHadAName()
    {
        // Created with O_TMPFILE, the kernel names the open file "#<inode> (deleted)"; a file created with a name and
        // unlinked would keep that name there, and a kill between its creation and its unlink would have left it.
        if (!OperatingSystem.IsLinux()) return; // O_TMPFILE is Linux's; elsewhere the first test is what holds.
        var prefix = $"unnamed-file-test-{Guid.NewGuid():N}-";
        using var file = UnnamedFile.Create(prefix, 4096);

        var target = File.ResolveLinkTarget($"/proc/self/fd/{file.SafeFileHandle.DangerousGetHandle()}", returnFinalTarget: false)?.FullName;
        Assert.NotNull(target);
        Assert.DoesNotContain(prefix, target, StringComparison.Ordinal);
        Assert.StartsWith(Path.Combine(Path.GetTempPath(), "#"), target, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AsynchronousWritesAndReadsWork()
    {
        await using var file = UnnamedFile.Create("unnamed-file-test-", 4096);
        await file.WriteAsync("tally"u8.ToArray(), CancellationToken.None);
        await file.FlushAsync(CancellationToken.None);
        file.Position = 0;
        using var reader = new StreamReader(file, leaveOpen: true);
        Assert.Equal("tally", await reader.ReadToEndAsync(CancellationToken.None));
    }
}
