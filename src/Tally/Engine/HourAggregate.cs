using System.Runtime.CompilerServices;

namespace Tally.Engine;

/// <summary>
/// The counts of every configured aggregation for the records one worker has read (or, after <see cref="MergeFrom"/>,
/// all workers). Values are interned per field into dense ids (0 = null) and each table's key is a chain of id pairs,
/// so a record costs a few hash lookups and array increments, and memory grows with distinct keys only.
/// Not thread-safe: one per worker, merged at the end.
/// </summary>
internal sealed class HourAggregate
{
    private readonly IReadOnlyList<AggregationSpec> _specs;
    private readonly int[][] _specFields;             // per spec: schema field indexes, in group-by order
    private readonly int[] _groupedFields;            // schema field indexes used by any spec
    private readonly Utf8Interner?[] _strings;        // per schema field
    private readonly Int64Interner?[] _integers;      // per schema field
    private readonly PairInterner[][] _pairs;         // per spec: interners of the inner chain steps (fields 1..k-2)
    private readonly long[][] _counts;                // per one-field spec: count per value id
    private readonly PairCounter?[] _final;           // per multi-field spec: count per (inner id, last field id)
    private readonly int[] _ids;                      // scratch: per schema field, the current record's value id

    public HourAggregate(IReadOnlyList<AggregationSpec> specs)
    {
        _specs = specs;
        var fields = RawSchema.Fields;
        _specFields = specs.Select(s => s.GroupByFields().Select(RawSchema.IndexOf).ToArray()).ToArray();
        _groupedFields = _specFields.SelectMany(f => f).Distinct().Order().ToArray();
        _strings = new Utf8Interner?[fields.Count];
        _integers = new Int64Interner?[fields.Count];
        foreach (var f in _groupedFields)
        {
            if (fields[f].Type == RawFieldType.Int64) _integers[f] = new Int64Interner();
            else _strings[f] = new Utf8Interner();
        }
        _pairs = _specFields.Select(f => Enumerable.Range(0, Math.Max(0, f.Length - 2)).Select(_ => new PairInterner()).ToArray()).ToArray();
        _counts = _specFields.Select(f => f.Length == 1 ? new long[256] : []).ToArray();
        _final = _specFields.Select(f => f.Length == 1 ? null : new PairCounter()).ToArray();
        _ids = new int[fields.Count];
    }

    /// <summary>Valid records counted.</summary>
    public long Records { get; set; }

    /// <summary>Valid records whose Timestamp lies outside the hour of their folder (still counted).</summary>
    public long OutsideWindow { get; set; }

    /// <summary>Records rejected (not counted, written to quarantine).</summary>
    public long Rejected { get; set; }

    /// <summary>Counts one valid record. <paramref name="data"/> and <paramref name="scratch"/> hold the slots' string bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(ReadOnlySpan<Slot> slots, ReadOnlySpan<byte> data, ReadOnlySpan<byte> scratch)
    {
        foreach (var f in _groupedFields) _ids[f] = Intern(f, slots, data, scratch);
        for (var s = 0; s < _specFields.Length; s++)
        {
            var fields = _specFields[s];
            // With hundreds of thousands of pairs a pair's entry is usually a cache miss: count it a few records later,
            // once prefetched.
            if (fields.Length == 2) _final[s]!.AddOneLater(_ids[fields[0]], _ids[fields[1]]);
            else Count(s, _ids, 1);
        }
        Records++;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Intern(int f, ReadOnlySpan<Slot> slots, ReadOnlySpan<byte> data, ReadOnlySpan<byte> scratch)
    {
        ref readonly var slot = ref slots[f];
        return slot.Kind switch
        {
            SlotKind.String => _strings[f]!.GetOrAdd(slot.InScratch ? scratch.Slice(slot.Offset, slot.Length) : data.Slice(slot.Offset, slot.Length)),
            SlotKind.Int64 => _integers[f]!.GetOrAdd(slot.Int64),
            _ => 0,
        };
    }

    /// <summary>Adds <paramref name="by"/> to the group of spec <paramref name="spec"/> whose field value ids are <paramref name="ids"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Count(int spec, ReadOnlySpan<int> ids, long by)
    {
        var fields = _specFields[spec];
        var key = ids[fields[0]];
        if (fields.Length == 1)
        {
            var counts = _counts[spec];
            if (key >= counts.Length)
            {
                Array.Resize(ref counts, Math.Max(counts.Length * 2, key + 1));
                _counts[spec] = counts;
            }
            counts[key] += by;
            return;
        }
        for (var k = 1; k < fields.Length - 1; k++)
        {
            key = _pairs[spec][k - 1].GetOrAdd(key, ids[fields[k]]);
        }
        _final[spec]!.Add(key, ids[fields[^1]], by);
    }

    /// <summary>Every group of spec <paramref name="spec"/>: its field value ids (written into <paramref name="ids"/>) and count.</summary>
    private IEnumerable<long> Groups(int spec, int[] ids)
    {
        var fields = _specFields[spec];
        if (_final[spec] is { } final)
        {
            foreach (var (inner, last, count) in final.Entries())
            {
                ids[fields[^1]] = last;
                var key = inner;
                for (var k = fields.Length - 2; k >= 1; k--)
                {
                    (key, ids[fields[k]]) = _pairs[spec][k - 1][key];
                }
                ids[fields[0]] = key;
                yield return count;
            }
            yield break;
        }
        var counts = _counts[spec];
        for (var id = 0; id < counts.Length; id++)
        {
            if (counts[id] == 0) continue;
            ids[fields[0]] = id;
            yield return counts[id];
        }
    }

    /// <summary>Adds every count of <paramref name="other"/> (built for the same specs) to this one.</summary>
    public void MergeFrom(HourAggregate other)
    {
        var fields = RawSchema.Fields;
        var map = new int[fields.Count][];
        foreach (var f in _groupedFields)
        {
            if (_strings[f] is { } strings)
            {
                var source = other._strings[f]!;
                map[f] = new int[source.Count + 1];
                for (var id = 1; id <= source.Count; id++) map[f][id] = strings.GetOrAdd(source[id]);
            }
            else
            {
                var source = other._integers[f]!;
                map[f] = new int[source.Count + 1];
                for (var id = 1; id <= source.Count; id++) map[f][id] = _integers[f]!.GetOrAdd(source[id]);
            }
        }
        var ids = new int[fields.Count];
        var mapped = new int[fields.Count];
        for (var s = 0; s < _specFields.Length; s++)
        {
            if (_specFields[s] is [var left, var right])
            {
                // Two fields: pair counter to pair counter, row by row.
                _final[s]!.AddAll(other._final[s]!, map[left], map[right]);
                continue;
            }
            foreach (var count in other.Groups(s, ids))
            {
                foreach (var f in _specFields[s]) mapped[f] = map[f][ids[f]];
                Count(s, mapped, count);
            }
        }
        Records += other.Records;
        OutsideWindow += other.OutsideWindow;
        Rejected += other.Rejected;
    }

    /// <summary>The rows of every table, sorted by key (nulls first, strings by UTF-8 bytes, integers by value).</summary>
    public IReadOnlyList<AggregatedTable> ToTables()
    {
        var fields = RawSchema.Fields;
        // Rank every distinct value once, so rows sort by comparing ints.
        var ranks = new int[fields.Count][];
        var strings = new string?[fields.Count][];
        var integers = new long?[fields.Count][];
        foreach (var f in _groupedFields)
        {
            if (_strings[f] is { } interner)
            {
                var order = Enumerable.Range(1, interner.Count).ToArray();
                Array.Sort(order, (a, b) => interner[a].SequenceCompareTo(interner[b]));
                ranks[f] = RankOf(order, interner.Count);
                strings[f] = new string?[interner.Count + 1];
                for (var id = 1; id <= interner.Count; id++) strings[f][id] = System.Text.Encoding.UTF8.GetString(interner[id]);
            }
            else
            {
                var ints = _integers[f]!;
                var order = Enumerable.Range(1, ints.Count).ToArray();
                Array.Sort(order, (a, b) => ints[a].CompareTo(ints[b]));
                ranks[f] = RankOf(order, ints.Count);
                integers[f] = new long?[ints.Count + 1];
                for (var id = 1; id <= ints.Count; id++) integers[f][id] = ints[id];
            }
        }

        // Each table is built on its own core: the large ones (hundreds of thousands of rows) dominate.
        var tables = new AggregatedTable[_specs.Count];
        Parallel.For(0, _specs.Count, s => tables[s] = BuildTable(s, ranks, strings, integers));
        return tables;
    }

    private AggregatedTable BuildTable(int s, int[][] ranks, string?[][] strings, long?[][] integers)
    {
        var fields = RawSchema.Fields;
        var specFields = _specFields[s];
        var (keyIds, rowCounts) = SortedRows(s, ranks);
        var rows = rowCounts.Length;
        var columns = new List<AggregatedColumn>();
        foreach (var column in _specs[s].Columns())
        {
            if (column.Name == AggregationSpec.CountColumn)
            {
                columns.Add(AggregatedColumn.Counts(column.Name, rowCounts));
                continue;
            }
            var f = RawSchema.IndexOf(RawSchema.Find(column.Name)!);
            var ids = keyIds[Array.IndexOf(specFields, f)];
            if (fields[f].Type == RawFieldType.Int64)
            {
                var values = new long?[rows];
                for (var i = 0; i < rows; i++) values[i] = integers[f][ids[i]];
                columns.Add(AggregatedColumn.Integers(column.Name, values));
            }
            else
            {
                var values = new string?[rows];
                for (var i = 0; i < rows; i++) values[i] = strings[f][ids[i]];
                columns.Add(AggregatedColumn.Strings(column.Name, values));
            }
        }
        return new AggregatedTable(_specs[s], rows, columns);
    }

    /// <summary>Spec <paramref name="s"/>'s groups sorted by the ranks of their values: per key field the value ids, row by row, and the counts.</summary>
    private (int[][] KeyIds, long[] Counts) SortedRows(int s, int[][] ranks)
    {
        var specFields = _specFields[s];
        var width = specFields.Length;
        if (width == 2)
        {
            // Two fields: the pair counter sorts its rows apart.
            var (lefts, rights, counts) = _final[s]!.SortedByRank(ranks[specFields[0]], ranks[specFields[1]]);
            return ([lefts, rights], counts);
        }

        // Each row's key as field value ids (row-major), then sorted by the values' ranks.
        var ids = new int[RawSchema.Fields.Count];
        var rowIds = new List<int>();
        var rowCounts = new List<long>();
        foreach (var count in Groups(s, ids))
        {
            foreach (var f in specFields) rowIds.Add(ids[f]);
            rowCounts.Add(count);
        }
        var rows = rowCounts.Count;
        var order = new int[rows];
        for (var i = 0; i < rows; i++) order[i] = i;
        Array.Sort(order, (a, b) =>
        {
            for (var k = 0; k < width; k++)
            {
                var rank = ranks[specFields[k]];
                var c = rank[rowIds[a * width + k]].CompareTo(rank[rowIds[b * width + k]]);
                if (c != 0) return c;
            }
            return 0;
        });
        var keyIds = new int[width][];
        for (var k = 0; k < width; k++)
        {
            keyIds[k] = new int[rows];
            for (var i = 0; i < rows; i++) keyIds[k][i] = rowIds[order[i] * width + k];
        }
        var sortedCounts = new long[rows];
        for (var i = 0; i < rows; i++) sortedCounts[i] = rowCounts[order[i]];
        return (keyIds, sortedCounts);
    }

    private static int[] RankOf(int[] sortedIds, int count)
    {
        var rank = new int[count + 1]; // rank[0] = 0: null sorts first
        for (var i = 0; i < sortedIds.Length; i++) rank[sortedIds[i]] = i + 1;
        return rank;
    }
}

/// <summary>One column of an aggregated table, in row order. Exactly one of the arrays is set.</summary>
internal sealed record AggregatedColumn(string Name, string?[]? StringValues, long?[]? IntegerValues, long[]? CountValues)
{
    public static AggregatedColumn Strings(string name, string?[] values) => new(name, values, null, null);
    public static AggregatedColumn Integers(string name, long?[] values) => new(name, null, values, null);
    public static AggregatedColumn Counts(string name, long[] values) => new(name, null, null, values);
}

/// <summary>The rows of one table for one hour, sorted by key, as columns in the table's column order.</summary>
internal sealed record AggregatedTable(AggregationSpec Spec, int RowCount, IReadOnlyList<AggregatedColumn> Columns);
