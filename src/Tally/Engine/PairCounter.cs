using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Tally.Engine;

/// <summary>
/// Counts per (left id, right id) pair, the last step of a multi-field key. Each left id has its own small
/// open-addressed row whose entries hold the right id and the count side by side, so counting a record touches the
/// row of its left value only, and the rows of frequent left values stay in cache. Memory grows with the distinct
/// pairs. Not thread-safe.
/// </summary>
internal sealed class PairCounter
{
    private struct Entry
    {
        public int RightPlusOne; // 0 = empty
        public long Count;
    }

    /// <summary>How many records <see cref="AddOneLater"/> keeps back: enough for two cache misses to be served meanwhile.</summary>
    private const int Lag = 16;

    private Entry[]?[] _rows = new Entry[]?[256];
    private int[] _rowCounts = new int[256];
    private readonly long[] _pending = new long[Lag]; // (left << 32) | right, a ring; _pendingHead is the oldest once full
    private int _pendingHead;
    private int _pendingCount;
    private int _count;

    /// <summary>The number of distinct pairs.</summary>
    public int Count
    {
        get
        {
            Flush();
            return _count;
        }
    }

    /// <summary>
    /// Adds one to the count of (<paramref name="left"/>, <paramref name="right"/>), <see cref="Lag"/> calls later: now it
    /// only asks the CPU to load the pair's row, and halfway the entry in it, so that with hundreds of thousands of pairs
    /// the add finds both in cache instead of waiting for memory twice. Every read of the counts flushes what is pending.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AddOneLater(int left, int right)
    {
        var head = _pendingHead;
        if (_pendingCount == Lag)
        {
            var oldest = _pending[head];
            Add((int)(oldest >> 32), unchecked((int)oldest), 1);
        }
        else
        {
            _pendingCount++;
        }
        _pending[head] = ((long)left << 32) | (uint)right;
        PrefetchRow(left);
        if (_pendingCount > Lag / 2)
        {
            var middle = _pending[(head - Lag / 2) & (Lag - 1)];
            PrefetchEntry((int)(middle >> 32), unchecked((int)middle));
        }
        _pendingHead = (head + 1) & (Lag - 1);
    }

    /// <summary>Adds every count of <paramref name="other"/>, its ids translated by <paramref name="leftMap"/> and <paramref name="rightMap"/>.</summary>
    public void AddAll(PairCounter other, int[] leftMap, int[] rightMap)
    {
        other.Flush();
        for (var left = 0; left < other._rows.Length; left++)
        {
            if (other._rowCounts[left] == 0) continue;
            var to = leftMap[left];
            foreach (var entry in other._rows[left]!)
            {
                if (entry.RightPlusOne != 0) Add(to, rightMap[entry.RightPlusOne - 1], entry.Count);
            }
        }
    }

    /// <summary>Adds what <see cref="AddOneLater"/> has kept back.</summary>
    public void Flush()
    {
        var start = (_pendingHead - _pendingCount) & (Lag - 1);
        for (var i = 0; i < _pendingCount; i++)
        {
            var pair = _pending[(start + i) & (Lag - 1)];
            Add((int)(pair >> 32), unchecked((int)pair), 1);
        }
        _pendingCount = 0;
        _pendingHead = 0;
    }

    /// <summary>Adds <paramref name="by"/> to the count of (<paramref name="left"/>, <paramref name="right"/>); both non-negative.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(int left, int right, long by)
    {
        if (left >= _rows.Length)
        {
            Array.Resize(ref _rows, Math.Max(_rows.Length * 2, left + 1));
            Array.Resize(ref _rowCounts, _rows.Length);
        }
        var row = _rows[left] ??= new Entry[4];
        var tag = right + 1;
        var mask = row.Length - 1;
        var slot = Slot(right, mask);
        while (true)
        {
            ref var entry = ref row[slot];
            if (entry.RightPlusOne == tag)
            {
                entry.Count += by;
                return;
            }
            if (entry.RightPlusOne == 0)
            {
                entry.RightPlusOne = tag;
                entry.Count = by;
                _count++;
                if (++_rowCounts[left] * 2 > row.Length) _rows[left] = Grow(row);
                return;
            }
            slot = (slot + 1) & mask;
        }
    }

    /// <summary>Every pair with its count, grouped by left id.</summary>
    public IEnumerable<(int Left, int Right, long Count)> Entries()
    {
        Flush();
        return EntriesFlushed();
    }

    private IEnumerable<(int Left, int Right, long Count)> EntriesFlushed()
    {
        for (var left = 0; left < _rows.Length; left++)
        {
            if (_rows[left] is not { } row) continue;
            for (var i = 0; i < row.Length; i++)
            {
                if (row[i].RightPlusOne != 0) yield return (left, row[i].RightPlusOne - 1, row[i].Count);
            }
        }
    }

    /// <summary>
    /// Every pair with its count, sorted: the rows in the order of their left id's rank, each row's entries in the order
    /// of their right id's rank (ranks are distinct per id). Sorting each row apart costs far less than one sort of all
    /// pairs: a row holds at most as many entries as there are distinct right values.
    /// </summary>
    public (int[] Lefts, int[] Rights, long[] Counts) SortedByRank(int[] leftRank, int[] rightRank)
    {
        Flush();
        var lefts = Enumerable.Range(0, _rows.Length).Where(l => _rowCounts[l] > 0).ToArray();
        var leftKeys = lefts.Select(l => leftRank[l]).ToArray();
        Array.Sort(leftKeys, lefts);

        var outLefts = new int[_count];
        var outRights = new int[_count];
        var outCounts = new long[_count];
        var widest = lefts.Length == 0 ? 0 : lefts.Max(l => _rowCounts[l]);
        var keys = new ulong[widest];
        var rights = new int[widest];
        var counts = new long[widest];
        var n = 0;
        foreach (var left in lefts)
        {
            var row = _rows[left]!;
            var width = 0;
            foreach (var entry in row)
            {
                if (entry.RightPlusOne == 0) continue;
                rights[width] = entry.RightPlusOne - 1;
                counts[width] = entry.Count;
                // The rank above, the entry's position below: sorting the keys sorts the positions.
                keys[width] = ((ulong)(uint)rightRank[rights[width]] << 32) | (uint)width;
                width++;
            }
            keys.AsSpan(0, width).Sort();
            for (var i = 0; i < width; i++)
            {
                var from = unchecked((int)(uint)keys[i]);
                outLefts[n] = left;
                outRights[n] = rights[from];
                outCounts[n] = counts[from];
                n++;
            }
        }
        return (outLefts, outRights, outCounts);
    }

    /// <summary>Asks the CPU to start loading the row of <paramref name="left"/>. Only a hint: it changes nothing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe void PrefetchRow(int left)
    {
        if (Sse.IsSupported && (uint)left < (uint)_rows.Length && _rows[left] is { } row)
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(row)));
        }
    }

    /// <summary>Asks the CPU to start loading the entry where (<paramref name="left"/>, <paramref name="right"/>) lives.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe void PrefetchEntry(int left, int right)
    {
        if (Sse.IsSupported && (uint)left < (uint)_rows.Length && _rows[left] is { } row)
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref row[Slot(right, row.Length - 1)]));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Slot(int right, int mask) => (int)(unchecked((uint)right * 0x9E3779B1u) >> 7) & mask;

    private static Entry[] Grow(Entry[] row)
    {
        var grown = new Entry[row.Length * 2];
        var mask = grown.Length - 1;
        foreach (var e in row)
        {
            if (e.RightPlusOne == 0) continue;
            var slot = Slot(e.RightPlusOne - 1, mask);
            while (grown[slot].RightPlusOne != 0) slot = (slot + 1) & mask;
            grown[slot] = e;
        }
        return grown;
    }
}
