using System.Runtime.CompilerServices;

namespace Tally.Engine;

/// <summary>
/// The groups of every configured table for the records one worker has read (or, after <see cref="MergeFrom"/>, all
/// workers). Values are interned per field into dense ids (0 = null) and each table's key is a chain of id pairs, so a
/// record costs a few hash lookups and array increments, and memory grows with distinct keys only. A table whose only
/// metric is a record count (the seed's) is counted here directly; one with sums, extremes or distinct counts keeps them in
/// a <see cref="MetricTable"/>.
/// Not thread-safe: one per worker, merged at the end.
/// </summary>
internal sealed class HourAggregate
{
    private readonly IReadOnlyList<TableDefinition> _tables;
    private readonly RawFieldType[] _types;           // per schema field
    private readonly int[][] _specFields;             // per table: schema field indexes, in group-by order
    private readonly int[] _groupedFields;            // schema field indexes whose values get ids: grouped by, or counted distinct / compared as text by a metric
    private readonly Utf8Interner?[] _strings;        // per schema field
    private readonly Int64Interner?[] _integers;      // per schema field
    private readonly PairInterner[][] _pairs;         // per count-only table: interners of the inner chain steps (fields 1..k-2)
    private readonly long[][] _counts;                // per one-field count-only table: count per value id
    private readonly PairCounter?[] _final;           // per multi-field count-only table: count per (inner id, last field id)
    private readonly MetricTable?[] _metricTables;    // per table with metrics beyond a count
    private readonly int[] _ids;                      // scratch: per schema field, the current record's value id

    public HourAggregate(SourceSchema schema, IReadOnlyList<TableDefinition> tables)
    {
        _tables = tables;
        var fields = schema.Fields;
        _types = fields.Select(f => f.Type).ToArray();
        _specFields = tables.Select(t => t.GroupBy.Select(schema.IndexOf).ToArray()).ToArray();
        var metricFields = tables.Select(t => t.Metrics.Select(m => m.Field is { } f ? schema.IndexOf(f) : -1).ToArray()).ToArray();
        var interned = tables.SelectMany((t, i) => t.Metrics.Where((m, j) => m.Function == MetricFunction.CountDistinct
            || (m.Function is MetricFunction.Min or MetricFunction.Max && m.Field!.Type == RawFieldType.String)).Select(m => schema.IndexOf(m.Field!)));
        _groupedFields = _specFields.SelectMany(f => f).Concat(interned).Distinct().Order().ToArray();
        _strings = new Utf8Interner?[fields.Count];
        _integers = new Int64Interner?[fields.Count];
        foreach (var f in _groupedFields)
        {
            // Text is interned by its bytes (a timestamp by its text, as the raw column holds it); numbers and booleans by their 64 bits.
            if (fields[f].Type is RawFieldType.String or RawFieldType.Timestamp) _strings[f] = new Utf8Interner();
            else _integers[f] = new Int64Interner();
        }
        _metricTables = tables.Select((t, i) => t.CountsOnly ? null : new MetricTable(t, _specFields[i], metricFields[i], _strings)).ToArray();
        _pairs = _specFields.Select((f, i) => _metricTables[i] is not null ? [] : Enumerable.Range(0, Math.Max(0, f.Length - 2)).Select(_ => new PairInterner()).ToArray()).ToArray();
        _counts = _specFields.Select((f, i) => f.Length == 1 && _metricTables[i] is null ? new long[256] : []).ToArray();
        _final = _specFields.Select((f, i) => f.Length == 1 || _metricTables[i] is not null ? null : new PairCounter()).ToArray();
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
            if (_metricTables[s] is { } metrics)
            {
                metrics.Add(_ids, slots, data, scratch);
                continue;
            }
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
            SlotKind.Int64 or SlotKind.Double or SlotKind.Boolean => _integers[f]!.GetOrAdd(slot.Int64),
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
    /// <exception cref="TallyException">DataError when an integer sum overflows 64 bits.</exception>
    public void MergeFrom(HourAggregate other)
    {
        var fieldCount = _types.Length;
        var map = new int[fieldCount][];
        // Each field's values, then each table's groups, on their own cores: each touches only its own interner or table
        // (read-only the maps), and a field's ids are given in the same order as one after the other would give them.
        InParallel(_groupedFields.Length, i =>
        {
            var f = _groupedFields[i];
            if (_strings[f] is { } strings)
            {
                var source = other._strings[f]!;
                var ids = new int[source.Count + 1];
                for (var id = 1; id <= source.Count; id++) ids[id] = strings.GetOrAdd(source[id]);
                map[f] = ids;
            }
            else
            {
                var source = other._integers[f]!;
                var ids = new int[source.Count + 1];
                for (var id = 1; id <= source.Count; id++) ids[id] = _integers[f]!.GetOrAdd(source[id]);
                map[f] = ids;
            }
        });
        InParallel(_specFields.Length, s =>
        {
            if (_metricTables[s] is { } metrics)
            {
                metrics.MergeFrom(other._metricTables[s]!, map, fieldCount);
                return;
            }
            if (_specFields[s] is [var left, var right])
            {
                // Two fields: pair counter to pair counter, row by row.
                _final[s]!.AddAll(other._final[s]!, map[left], map[right]);
                return;
            }
            var ids = new int[fieldCount];
            var mapped = new int[fieldCount];
            foreach (var count in other.Groups(s, ids))
            {
                foreach (var f in _specFields[s]) mapped[f] = map[f][ids[f]];
                Count(s, mapped, count);
            }
        });
        Records += other.Records;
        OutsideWindow += other.OutsideWindow;
        Rejected += other.Rejected;
    }

    /// <summary>Runs <paramref name="body"/> for 0 to <paramref name="count"/> − 1 on the thread pool; an exception thrown by
    /// one of them (a <see cref="TallyException"/>) is rethrown as itself, not wrapped in an <see cref="AggregateException"/>.</summary>
    private static void InParallel(int count, Action<int> body)
    {
        try
        {
            Parallel.For(0, count, body);
        }
        catch (AggregateException e)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
    }

    /// <summary>The rows of every table, sorted by key (nulls first, text by UTF-8 bytes, numbers by value, false before true).</summary>
    /// <exception cref="TallyException">DataError when a sum of doubles is not finite.</exception>
    public IReadOnlyList<AggregatedTable> ToTables()
    {
        var fieldCount = _types.Length;
        // Rank every distinct value once, so rows sort by comparing ints.
        var ranks = new int[fieldCount][];
        var values = new Array[fieldCount];
        foreach (var f in _groupedFields)
        {
            if (_strings[f] is { } interner)
            {
                var order = Enumerable.Range(1, interner.Count).ToArray();
                Array.Sort(order, (a, b) => interner[a].SequenceCompareTo(interner[b]));
                ranks[f] = RankOf(order, interner.Count);
                var strings = new string?[interner.Count + 1];
                for (var id = 1; id <= interner.Count; id++) strings[id] = System.Text.Encoding.UTF8.GetString(interner[id]);
                values[f] = strings;
            }
            else
            {
                var ints = _integers[f]!;
                var order = Enumerable.Range(1, ints.Count).ToArray();
                if (_types[f] == RawFieldType.Double) Array.Sort(order, (a, b) => BitConverter.Int64BitsToDouble(ints[a]).CompareTo(BitConverter.Int64BitsToDouble(ints[b])));
                else Array.Sort(order, (a, b) => ints[a].CompareTo(ints[b]));
                ranks[f] = RankOf(order, ints.Count);
                values[f] = _types[f] switch
                {
                    RawFieldType.Double => Values(ints, v => (double?)BitConverter.Int64BitsToDouble(v)),
                    RawFieldType.Boolean => Values(ints, v => (bool?)(v != 0)),
                    _ => Values(ints, v => (long?)v),
                };
            }
        }

        // Each table is built on its own core: the large ones (hundreds of thousands of rows) dominate.
        var tables = new AggregatedTable[_tables.Count];
        InParallel(_tables.Count, s => tables[s] = BuildTable(s, ranks, values));
        return tables;

        static T?[] Values<T>(Int64Interner ints, Func<long, T?> convert)
        {
            var result = new T?[ints.Count + 1];
            for (var id = 1; id <= ints.Count; id++) result[id] = convert(ints[id]);
            return result;
        }
    }

    private AggregatedTable BuildTable(int s, int[][] ranks, Array[] values)
    {
        var table = _tables[s];
        var specFields = _specFields[s];
        var (keyIds, rowCounts, groups) = SortedRows(s, ranks);
        var rows = keyIds[0].Length;
        var columns = new List<AggregatedColumn>();
        // The stored columns are the group-by columns (in the schema's order), then the metrics in declared order.
        var groupColumns = table.Columns.Count - table.Metrics.Count;
        for (var c = 0; c < table.Columns.Count; c++)
        {
            var name = table.Columns[c].Name;
            if (c >= groupColumns)
            {
                columns.Add(_metricTables[s] is { } metrics ? metrics.Column(c - groupColumns, groups!) : AggregatedColumn.Counts(name, rowCounts!));
                continue;
            }
            var k = 0;
            while (table.GroupBy[k].Column != name) k++;
            var ids = keyIds[k];
            columns.Add(values[specFields[k]] switch
            {
                string?[] strings => AggregatedColumn.Strings(name, Pick(strings, ids)),
                double?[] doubles => AggregatedColumn.Doubles(name, Pick(doubles, ids)),
                bool?[] booleans => AggregatedColumn.Booleans(name, Pick(booleans, ids)),
                long?[] integers => AggregatedColumn.Integers(name, Pick(integers, ids)),
                _ => throw new InvalidOperationException($"No values for column {name}."),
            });
        }
        return new AggregatedTable(table, rows, columns);

        static T[] Pick<T>(T[] byId, int[] ids)
        {
            var picked = new T[ids.Length];
            for (var i = 0; i < ids.Length; i++) picked[i] = byId[ids[i]];
            return picked;
        }

    }

    /// <summary>
    /// Table <paramref name="s"/>'s groups sorted by the ranks of their values: per key field the value ids, row by row;
    /// and the counts (a count-only table) or the group ids (a table with metrics), in the same order.
    /// </summary>
    private (int[][] KeyIds, long[]? Counts, int[]? Groups) SortedRows(int s, int[][] ranks)
    {
        var specFields = _specFields[s];
        var width = specFields.Length;
        if (width == 2 && _final[s] is { } final)
        {
            // Two fields: the pair counter sorts its rows apart.
            var (lefts, rights, pairCounts) = final.SortedByRank(ranks[specFields[0]], ranks[specFields[1]]);
            return ([lefts, rights], pairCounts, null);
        }

        // Each row's key as field value ids (row-major), then sorted by the values' ranks.
        int[] rowIds;
        long[]? rowCounts = null;
        int[]? rowGroups = null;
        if (_metricTables[s] is { } metrics)
        {
            (rowGroups, rowIds) = metrics.Rows();
        }
        else
        {
            var ids = new int[_types.Length];
            var keys = new List<int>();
            var counts = new List<long>();
            foreach (var count in Groups(s, ids))
            {
                foreach (var f in specFields) keys.Add(ids[f]);
                counts.Add(count);
            }
            rowIds = [.. keys];
            rowCounts = [.. counts];
        }
        var rows = rowIds.Length / width;
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
        return (keyIds, rowCounts is null ? null : Reorder(rowCounts, order), rowGroups is null ? null : Reorder(rowGroups, order));

        static T[] Reorder<T>(T[] values, int[] order)
        {
            var sorted = new T[order.Length];
            for (var i = 0; i < order.Length; i++) sorted[i] = values[order[i]];
            return sorted;
        }
    }

    private static int[] RankOf(int[] sortedIds, int count)
    {
        var rank = new int[count + 1]; // rank[0] = 0: null sorts first
        for (var i = 0; i < sortedIds.Length; i++) rank[sortedIds[i]] = i + 1;
        return rank;
    }
}

/// <summary>
/// One column of an aggregated table, in row order: <see cref="Values"/> is a <c>string?[]</c> (string), <c>long?[]</c>
/// (bigint that may be null), <c>long[]</c> (a count), <c>double?[]</c>, <c>bool?[]</c> or <c>DateTime?[]</c> (UTC).
/// </summary>
internal sealed record AggregatedColumn(string Name, Array Values)
{
    public static AggregatedColumn Strings(string name, string?[] values) => new(name, values);
    public static AggregatedColumn Integers(string name, long?[] values) => new(name, values);
    public static AggregatedColumn Counts(string name, long[] values) => new(name, values);
    public static AggregatedColumn Doubles(string name, double?[] values) => new(name, values);
    public static AggregatedColumn Booleans(string name, bool?[] values) => new(name, values);
    public static AggregatedColumn Timestamps(string name, DateTime?[] values) => new(name, values);
}

/// <summary>The rows of one table for one hour, sorted by key, as columns in the table's column order.</summary>
internal sealed record AggregatedTable(TableDefinition Table, int RowCount, IReadOnlyList<AggregatedColumn> Columns)
{
    /// <summary>The table's declaration.</summary>
    public AggregationSpec Spec => Table.Spec;
}
