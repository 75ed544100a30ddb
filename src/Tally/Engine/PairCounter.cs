using System.Collections.Concurrent;
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

    /// <summary>
    /// Adds every count of <paramref name="other"/>, its ids translated by <paramref name="leftMap"/> and
    /// <paramref name="rightMap"/>. A large one is merged on every core, a share of its rows each: the left map is
    /// one-to-one, so each of this counter's rows is written by one core only.
    /// </summary>
    public void AddAll(PairCounter other, int[] leftMap, int[] rightMap)
    {
        other.Flush();
        var sources = other._rows.Length;
        var highest = -1;
        for (var left = 0; left < sources; left++)
        {
            if (other._rowCounts[left] > 0) highest = Math.Max(highest, leftMap[left]);
        }
        if (highest < 0) return;
        EnsureRow(highest);
        if (other._count < ParallelPairs)
        {
            _count += MergeRows(other, 0, sources, leftMap, rightMap);
            return;
        }
        Parallel.ForEach(Partitioner.Create(0, sources, Math.Max(1, sources / (8 * Environment.ProcessorCount))), range =>
        {
            var added = MergeRows(other, range.Item1, range.Item2, leftMap, rightMap);
            Interlocked.Add(ref _count, added);
        });
    }

    /// <summary>Below this many pairs, merging and sorting stay on one core: handing out the work would cost more.</summary>
    private const int ParallelPairs = 1 << 14;

    /// <summary>Adds the rows <c>[from, to)</c> of <paramref name="other"/>; returns how many pairs were new here.</summary>
    private int MergeRows(PairCounter other, int from, int to, int[] leftMap, int[] rightMap)
    {
        var added = 0;
        for (var left = from; left < to; left++)
        {
            if (other._rowCounts[left] == 0) continue;
            var target = leftMap[left];
            foreach (var entry in other._rows[left]!)
            {
                if (entry.RightPlusOne != 0 && Insert(target, rightMap[entry.RightPlusOne - 1], entry.Count)) added++;
            }
        }
        return added;
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
        EnsureRow(left);
        if (Insert(left, right, by)) _count++;
    }

    private void EnsureRow(int left)
    {
        if (left < _rows.Length) return;
        Array.Resize(ref _rows, Math.Max(_rows.Length * 2, left + 1));
        Array.Resize(ref _rowCounts, _rows.Length);
    }

    /// <summary>
    /// Adds <paramref name="by"/> to the pair in row <paramref name="left"/>, which <see cref="EnsureRow"/> has made room
    /// for; true when the pair is new. Touches that row only.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Insert(int left, int right, long by)
    {
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
                return false;
            }
            if (entry.RightPlusOne == 0)
            {
                entry.RightPlusOne = tag;
                entry.Count = by;
                if (++_rowCounts[left] * 2 > row.Length) _rows[left] = Grow(row);
                return true;
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
    /// of their right id's rank (ranks are distinct per id, from 0 to <c>rightRank.Length - 1</c>). Each row is ordered
    /// apart, which costs far less than one sort of all pairs, and the rows of a large counter are ordered on every core,
    /// each into its own part of the result.
    /// </summary>
    public (int[] Lefts, int[] Rights, long[] Counts) SortedByRank(int[] leftRank, int[] rightRank)
    {
        Flush();
        var lefts = Enumerable.Range(0, _rows.Length).Where(l => _rowCounts[l] > 0).ToArray();
        var leftKeys = lefts.Select(l => leftRank[l]).ToArray();
        Array.Sort(leftKeys, lefts);
        // Where each row's pairs start in the result.
        var starts = new int[lefts.Length + 1];
        for (var i = 0; i < lefts.Length; i++) starts[i + 1] = starts[i] + _rowCounts[lefts[i]];

        var sorted = (Lefts: new int[_count], Rights: new int[_count], Counts: new long[_count]);
        if (_count < ParallelPairs)
        {
            new RowSorter(this, rightRank).Sort(lefts, starts, 0, lefts.Length, sorted);
            return sorted;
        }
        Parallel.ForEach(Partitioner.Create(0, lefts.Length, Math.Max(1, lefts.Length / (8 * Environment.ProcessorCount))),
            () => new RowSorter(this, rightRank),
            (range, _, sorter) =>
            {
                sorter.Sort(lefts, starts, range.Item1, range.Item2, sorted);
                return sorter;
            },
            _ => { });
        return sorted;
    }

    /// <summary>Orders rows by their right ids' ranks, one core's share of them; holds that core's scratch arrays.</summary>
    private sealed class RowSorter(PairCounter counter, int[] rightRank)
    {
        private ulong[] _keys = [];
        private int[] _rights = [];
        private long[] _counts = [];
        private int[]? _byRank; // per rank: 1 + the entry's place in its row, 0 for none; all zero between rows

        /// <summary>Writes rows <c>lefts[from..to)</c>, in order, at their <paramref name="starts"/> in <paramref name="into"/>.</summary>
        public void Sort(int[] lefts, int[] starts, int from, int to, (int[] Lefts, int[] Rights, long[] Counts) into)
        {
            for (var i = from; i < to; i++)
            {
                var left = lefts[i];
                var row = counter._rows[left]!;
                var width = counter._rowCounts[left];
                if (_rights.Length < width)
                {
                    _rights = new int[width];
                    _counts = new long[width];
                    _keys = new ulong[width];
                }
                var n = 0;
                foreach (var entry in row)
                {
                    if (entry.RightPlusOne == 0) continue;
                    _rights[n] = entry.RightPlusOne - 1;
                    _counts[n] = entry.Count;
                    n++;
                }
                var at = starts[i];
                // A row holding a good share of the right values is ordered by placing each entry at its rank and reading the
                // ranks in order; a sparse one by sorting (rank above, place below: sorting the keys sorts the places).
                if (rightRank.Length <= 16 * width)
                {
                    var byRank = _byRank ??= new int[rightRank.Length];
                    for (var e = 0; e < width; e++) byRank[rightRank[_rights[e]]] = e + 1;
                    for (var rank = 0; rank < byRank.Length; rank++)
                    {
                        var placed = byRank[rank];
                        if (placed == 0) continue;
                        byRank[rank] = 0;
                        Emit(left, placed - 1, at++, into);
                    }
                }
                else
                {
                    for (var e = 0; e < width; e++) _keys[e] = ((ulong)(uint)rightRank[_rights[e]] << 32) | (uint)e;
                    _keys.AsSpan(0, width).Sort();
                    for (var e = 0; e < width; e++) Emit(left, unchecked((int)(uint)_keys[e]), at++, into);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Emit(int left, int entry, int at, (int[] Lefts, int[] Rights, long[] Counts) into)
        {
            into.Lefts[at] = left;
            into.Rights[at] = _rights[entry];
            into.Counts[at] = _counts[entry];
        }
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
