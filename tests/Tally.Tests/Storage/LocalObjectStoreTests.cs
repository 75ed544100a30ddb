using System.Diagnostics;
using System.Text;
using Tally.Storage;

namespace Tally.Tests.Storage;

/// <summary>The local store's atomic writes: all or nothing, and the temporary files of writers that died cleaned up.</summary>
public sealed class LocalObjectStoreTests : IDisposable
{
    private const string Folder = "aggregated_data/t/year=2026/month=11/day=24/hour=13";
    private readonly TempDataFolder _data = new();

    public void Dispose() => _data.Dispose();

    private static Func<Stream, CancellationToken, Task> Text(string text) => (stream, ct) => stream.WriteAsync(Encoding.UTF8.GetBytes(text), ct).AsTask();

    private IReadOnlyList<string> Names() => Directory.GetFiles(_data.PathOf(Folder)).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToList();

    /// <summary>The temporary file name a write of <paramref name="target"/> by process <paramref name="pid"/> on <paramref name="host"/> would use.</summary>
    private string TemporaryName(string target, int pid, string? host = null)
    {
        var own = Path.GetFileName(TemporaryFiles.PathFor(_data.PathOf($"{Folder}/{target}")));
        var named = own.Replace($".{Environment.ProcessId}@", $".{pid}@", StringComparison.Ordinal);
        return host is null ? named : named[..(named.IndexOf('@') + 1)] + host + named[named.IndexOf('.', named.IndexOf('@'))..];
    }

    private static int PidOfAnEndedProcess()
    {
        using var process = Process.Start("true")!;
        process.WaitForExit();
        return process.Id;
    }

    [Fact]
    public async Task WriteAll_ReplacesNothing_AndLeavesNothingBehind_WhenOneOfTheWritesFails()
    {
        await _data.Store.WriteAllAtomicAsync([new($"{Folder}/a.json", Text("old a")), new($"{Folder}/b.json", Text("old b"))], CancellationToken.None);

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => _data.Store.WriteAllAtomicAsync(
        [
            new($"{Folder}/a.json", Text("new a")),
            new($"{Folder}/b.json", async (stream, ct) =>
            {
                await stream.WriteAsync("half of new b"u8.ToArray(), ct);
                throw new InvalidOperationException("the writer broke down");
            }),
        ], CancellationToken.None));

        Assert.Equal("the writer broke down", failure.Message);
        Assert.Equal(["a.json", "b.json"], Names());
        Assert.Equal("old a", File.ReadAllText(_data.PathOf($"{Folder}/a.json")));
        Assert.Equal("old b", File.ReadAllText(_data.PathOf($"{Folder}/b.json")));
    }

    [Fact]
    public async Task AWrite_RemovesTheTemporaryFilesOfWritersThatDied_AndKeepsThoseOfLiveOnes()
    {
        await _data.Store.WriteAtomicAsync($"{Folder}/part-00000.json", Text("first"), CancellationToken.None);
        using var live = Process.Start("sleep", "60")!;
        try
        {
            string[] dead = [TemporaryName("part-00000.json", PidOfAnEndedProcess()), TemporaryName("rejected.jsonl", PidOfAnEndedProcess())];
            string[] kept =
            [
                TemporaryName("part-00000.json", live.Id), // another process, still writing
                TemporaryName("part-00000.json", PidOfAnEndedProcess(), host: "another-host"), // cannot tell from here
                $".part-00000.json.{Guid.NewGuid():N}.tmp", // the earlier naming, and recent
            ];
            var oldUnnamed = $".part-00000.json.{Guid.NewGuid():N}.tmp";
            foreach (var name in dead.Concat(kept).Append(oldUnnamed)) File.WriteAllText(_data.PathOf($"{Folder}/{name}"), "left behind");
            File.SetLastWriteTimeUtc(_data.PathOf($"{Folder}/{oldUnnamed}"), DateTime.UtcNow.AddHours(-2));

            await _data.Store.WriteAtomicAsync($"{Folder}/part-00000.json", Text("second"), CancellationToken.None);

            Assert.Equal(kept.Append("part-00000.json").Order(StringComparer.Ordinal), Names());
            Assert.Equal("second", File.ReadAllText(_data.PathOf($"{Folder}/part-00000.json")));
        }
        finally
        {
            live.Kill();
        }
    }

    [Fact]
    public async Task ADelete_RemovesTheTemporaryFilesOfWritersThatDied_AsAWriteDoes()
    {
        // A run that rejects nothing deletes the hour's quarantine file and writes nothing else in its folder: a writer killed
        // there earlier left its temporary file, which the crash harness found still there after the next run succeeded.
        await _data.Store.WriteAtomicAsync($"{Folder}/rejected.jsonl", Text("rejects"), CancellationToken.None);
        var dead = TemporaryName("rejected.jsonl", PidOfAnEndedProcess());
        File.WriteAllText(_data.PathOf($"{Folder}/{dead}"), "left behind");

        await _data.Store.DeleteAsync($"{Folder}/rejected.jsonl", CancellationToken.None);

        Assert.Empty(Names());
    }

    [Fact]
    public void ATemporaryFile_IsHidden_AndNamesItsTargetAndWriter()
    {
        var name = Path.GetFileName(TemporaryFiles.PathFor(_data.PathOf($"{Folder}/part-00000.parquet")));

        Assert.StartsWith($".part-00000.parquet.{Environment.ProcessId}@", name, StringComparison.Ordinal);
        Assert.EndsWith(".tmp", name, StringComparison.Ordinal);
        Assert.False(TemporaryFiles.IsAbandoned(name, () => DateTime.UtcNow.AddDays(-30), DateTimeOffset.UtcNow), "this process is alive");
    }
}
