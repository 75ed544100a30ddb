using Microsoft.Win32.SafeHandles;
using Tally.Storage;

namespace Tally.Engine;

/// <summary>
/// One large uncompressed raw file read as byte ranges by several workers at once, with the same counts and the same
/// quarantine (reasons, lines, offsets, and the file's rejects in file order) as reading it whole.
/// <para>
/// Where a range may start: at a <c>{</c> in a line's first column whose line break follows a <c>}</c> with only
/// whitespace between (<c>}</c> ws* <c>\n{</c>). Inside one valid JSON value that cannot occur (after a closing brace
/// comes <c>,</c>, <c>}</c> or <c>]</c>; a string holds no raw line break), so a valid record never spans it; an invalid
/// record that starts before it is rejected and reading resumes at the next line that opens an object or array
/// (<see cref="RawFileReader"/>'s rule), which is that point at the latest. So the whole-file reading reaches the point
/// between records, outside any array, unless a broken top-level array or a record over 64 MiB spans it. That is not
/// assumed but checked: each range is read up to the next range's start (a record beginning before it is read to its end)
/// and reports where it stopped and whether it was outside any array there; when one range does not end exactly where the
/// next begins, the run reads the hour again with no file split (<see cref="Finish"/> returns false).
/// </para>
/// <para>
/// Only files that start (after a BOM and whitespace) with <c>{</c>, are not compressed, and whose store can seek are
/// split; gzip and zstd files, arrays and small files are read whole, balanced across the workers file by file. The
/// rejects of a range after the first are held in memory until the file is done, then numbered and logged in order.
/// Thread-safe for one reader per range.
/// </para>
/// </summary>
internal sealed class FileSplits
{
    /// <summary>The smallest range: 16 MiB (smaller files are read whole; the 120-file hours are balanced by file).</summary>
    public const long DefaultSplitBytes = 16 << 20;

    /// <summary>How far past a planned split offset a range start is looked for: 1 MiB (else that split is dropped).</summary>
    private const int SearchBytes = 1 << 20;

    private readonly RawFileReader.RangeEnd[] _ends;
    private int _remaining;

    private FileSplits(ObjectInfo file, long[] starts)
    {
        File = file;
        Starts = starts;
        _ends = new RawFileReader.RangeEnd[starts.Length];
        Pending = starts.Select(_ => new List<RawFileReader.PendingReject>()).ToArray();
        _remaining = starts.Length;
    }

    /// <summary>One unit of work: a whole file (<see cref="Splits"/> null) or range <see cref="Index"/> of a split one.</summary>
    public readonly record struct Range(ObjectInfo File, FileSplits? Splits, int Index, long Start, long Bytes);

    public ObjectInfo File { get; }

    /// <summary>Each range's first byte, ascending; the first is 0.</summary>
    public long[] Starts { get; }

    /// <summary>Per range, its rejects with lines counted from its start (the first range's go to the log directly).</summary>
    public List<RawFileReader.PendingReject>[] Pending { get; }

    /// <summary>
    /// The ranges to read <paramref name="file"/> in, or null to read it whole: when it is smaller than two ranges of
    /// <paramref name="splitBytes"/>, compressed, not a sequence of objects, or in a store that cannot seek.
    /// </summary>
    public static async Task<IReadOnlyList<Range>?> PlanAsync(IObjectStore store, ObjectInfo file, long splitBytes, int maxSplits, CancellationToken cancellationToken)
    {
        var count = (int)Math.Min(maxSplits, file.Size / Math.Max(1, splitBytes));
        if (count < 2) return null;
        await using var stream = await store.OpenReadAsync(file.Key, cancellationToken).ConfigureAwait(false);
        if (!stream.CanSeek) return null;
        var window = new byte[(int)Math.Min(SearchBytes, file.Size)];
        var head = await FillAsync(stream, window, cancellationToken).ConfigureAwait(false);
        var text = window.AsSpan(0, head);
        if (RawFileDecoder.Detect(text[..Math.Min(head, RawFileDecoder.HeadBytes)], head < RawFileDecoder.HeadBytes, out _) != RawFileKind.Json) return null;
        if (text.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) text = text[3..];
        var first = text.IndexOfAnyExcept(" \t\r\n"u8);
        if (first < 0 || text[first] != '{') return null;

        var starts = new List<long> { 0 };
        for (var i = 1; i < count; i++)
        {
            // Look from a little before the planned offset, so the '}' before its line break is in the window.
            var planned = file.Size * i / count;
            var from = Math.Max(starts[^1] + 1, planned - 64);
            if (from >= file.Size) break;
            stream.Seek(from, SeekOrigin.Begin);
            var length = await FillAsync(stream, window, cancellationToken).ConfigureAwait(false);
            var at = FindRangeStart(window.AsSpan(0, length), (int)Math.Min(planned - from, length));
            if (at >= 0 && from + at > starts[^1]) starts.Add(from + at);
        }
        if (starts.Count < 2) return null;
        var splits = new FileSplits(file, starts.ToArray());
        return starts.Select((start, i) => new Range(file, splits, i, start, (i + 1 < starts.Count ? starts[i + 1] : file.Size) - start)).ToList();
    }

    /// <summary>
    /// The first position at or after <paramref name="from"/> in <paramref name="window"/> where a range may start (see the
    /// class): a <c>{</c> right after a line break, with a <c>}</c> before that break and only whitespace between; -1 if none.
    /// </summary>
    internal static int FindRangeStart(ReadOnlySpan<byte> window, int from)
    {
        var pos = Math.Max(1, from);
        while (pos < window.Length)
        {
            var found = window[pos..].IndexOf("\n{"u8);
            if (found < 0) return -1;
            var brace = pos + found + 1;
            var before = window[..(brace - 1)].LastIndexOfAnyExcept(" \t\r\n"u8);
            if (before >= 0 && window[before] == '}') return brace;
            pos = brace;
        }
        return -1;
    }

    /// <summary>Records how range <paramref name="index"/> ended; true when it was the last of the file's ranges to end.</summary>
    public bool Done(int index, RawFileReader.RangeEnd end)
    {
        _ends[index] = end;
        return Interlocked.Decrement(ref _remaining) == 0;
    }

    /// <summary>
    /// Once every range has ended: checks that each ended, outside any array, exactly where the next starts, and logs the
    /// later ranges' rejects in order with their lines counted from the file's start. False (nothing logged) when a check
    /// fails: a split point was not a record boundary. A range whose lines were not counted (see
    /// <see cref="RawFileReader.ReadRangeAsync"/>) is counted here from <paramref name="file"/>, and only when a later range
    /// has rejects.
    /// </summary>
    public bool Finish(RejectLog rejects, SafeFileHandle? file)
    {
        for (var i = 0; i + 1 < Starts.Length; i++)
        {
            if (_ends[i].StoppedAt != Starts[i + 1] || !_ends[i].AtTopLevel) return false;
        }
        long lines = 0; // the newlines before Starts[counted]
        var counted = 0;
        for (var i = 1; i < Starts.Length; i++)
        {
            if (Pending[i].Count == 0) continue;
            for (; counted < i; counted++)
            {
                lines += _ends[counted].Lines >= 0
                    ? _ends[counted].Lines
                    : RawFileReader.CountNewlines(file ?? throw new InvalidOperationException("A range's lines were not counted and the file cannot be read again."),
                        Starts[counted], Starts[counted + 1]);
            }
            foreach (var reject in Pending[i]) rejects.Add(File.Key, lines + reject.Line, reject.Offset, reject.Reason, reject.Record);
            Pending[i].Clear();
        }
        return true;
    }

    private static async Task<int> FillAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        var length = 0;
        while (length < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (n == 0) break;
            length += n;
        }
        return length;
    }
}
