using System.Runtime.CompilerServices;

namespace Tally.Engine;

/// <summary>
/// Maps distinct (left id, right id) pairs to dense ids 1, 2, 3, … in first-seen order. Each left id has its own small
/// open-addressed row, so the rows of frequent left values (popular domains, say) stay in cache, and the ids of frequent
/// pairs, seen first, sit together in the id-indexed arrays. Memory grows with the distinct pairs. Not thread-safe.
/// </summary>
internal sealed class PairInterner
{
    private long[]?[] _rows = new long[]?[256];   // per left id: entries ((right + 1) << 32) | pair id; 0 = empty
    private int[] _rowCounts = new int[256];       // per left id: entries in its row
    private int[] _lefts = new int[256];           // per pair id
    private int[] _rights = new int[256];          // per pair id

    /// <summary>The number of distinct pairs; ids run from 1 to <see cref="Count"/>.</summary>
    public int Count { get; private set; }

    /// <summary>The pair with id <paramref name="id"/>.</summary>
    public (int Left, int Right) this[int id] => (_lefts[id], _rights[id]);

    /// <summary>The id of (<paramref name="left"/>, <paramref name="right"/>), adding it when new. Both are non-negative.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int GetOrAdd(int left, int right)
    {
        if (left >= _rows.Length)
        {
            Array.Resize(ref _rows, Math.Max(_rows.Length * 2, left + 1));
            Array.Resize(ref _rowCounts, _rows.Length);
        }
        var row = _rows[left] ??= new long[4];
        var tag = (long)(right + 1) << 32;
        var mask = row.Length - 1;
        var slot = Slot(right, mask);
        while (true)
        {
            var entry = row[slot];
            if (entry == 0) break;
            if ((entry & unchecked((long)0xFFFFFFFF00000000)) == tag) return (int)(entry & 0xFFFFFFFF);
            slot = (slot + 1) & mask;
        }
        var id = ++Count;
        if (id >= _lefts.Length)
        {
            Array.Resize(ref _lefts, _lefts.Length * 2);
            Array.Resize(ref _rights, _rights.Length * 2);
        }
        _lefts[id] = left;
        _rights[id] = right;
        row[slot] = tag | (uint)id;
        if (++_rowCounts[left] * 2 > row.Length) _rows[left] = Grow(row);
        return id;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Slot(int right, int mask) => (int)(unchecked((uint)right * 0x9E3779B1u) >> 7) & mask;

    private static long[] Grow(long[] row)
    {
        var grown = new long[row.Length * 2];
        var mask = grown.Length - 1;
        foreach (var e in row)
        {
            if (e == 0) continue;
            var slot = Slot((int)((e >> 32) - 1), mask);
            while (grown[slot] != 0) slot = (slot + 1) & mask;
            grown[slot] = e;
        }
        return grown;
    }
}
