using System.Runtime.CompilerServices;

namespace Tally.Engine;

/// <summary>
/// The groups of one table with metrics beyond a record count: each group (its key's chain of value ids) gets a dense id,
/// and every metric keeps one accumulator per group id (a sum, an extreme and whether any value was seen) or, for
/// count_distinct, one set entry per distinct (group, value). Memory grows with the groups and the distinct values, not
/// with the input. Not thread-safe: one per worker, merged at the end.
/// </summary>
internal sealed class MetricTable
{
    private readonly TableDefinition _table;
    private readonly int[] _fields;              // group-by schema field indexes, in group-by order
    private readonly PairInterner[] _chain;      // one per step of a key of two or more fields
    private readonly Accumulator[] _metrics;
    private long[] _records = new long[256];     // per group id: records counted (0 = no such group)

    /// <param name="table">The table.</param>
    /// <param name="fields">The group-by fields' schema indexes, in group-by order.</param>
    /// <param name="metricFields">Per metric: its field's schema index, or -1 for a count.</param>
    /// <param name="strings">Per schema field: the interner of its values when they are text.</param>
    public MetricTable(TableDefinition table, int[] fields, int[] metricFields, Utf8Interner?[] strings)
    {
        _table = table;
        _fields = fields;
        _chain = Enumerable.Range(0, Math.Max(0, fields.Length - 1)).Select(_ => new PairInterner()).ToArray();
        _metrics = table.Metrics.Select((m, i) => new Accumulator(m, metricFields[i], metricFields[i] >= 0 ? strings[metricFields[i]] : null)).ToArray();
    }

    /// <summary>The id of the group whose key fields have the value ids in <paramref name="ids"/> (indexed by schema field), adding it when new.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int GroupOf(ReadOnlySpan<int> ids)
    {
        var key = ids[_fields[0]];
        for (var k = 1; k < _fields.Length; k++) key = _chain[k - 1].GetOrAdd(key, ids[_fields[k]]);
        return key;
    }

    /// <summary>The key's value ids of group <paramref name="group"/>, written into <paramref name="ids"/> (indexed by schema field).</summary>
    private void KeyOf(int group, int[] ids)
    {
        var key = group;
        for (var k = _fields.Length - 1; k >= 1; k--) (key, ids[_fields[k]]) = _chain[k - 1][key];
        ids[_fields[0]] = key;
    }

    /// <summary>Counts one record whose interned value ids are <paramref name="ids"/> and whose values are <paramref name="slots"/>.</summary>
    /// <exception cref="TallyException">DataError when an integer sum overflows 64 bits.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(ReadOnlySpan<int> ids, ReadOnlySpan<Slot> slots, ReadOnlySpan<byte> data, ReadOnlySpan<byte> scratch)
    {
        var group = GroupOf(ids);
        if (group >= _records.Length) Grow(group);
        _records[group]++;
        foreach (var metric in _metrics)
        {
            if (metric.Field < 0) continue;
            ref readonly var slot = ref slots[metric.Field];
            if (slot.Kind is SlotKind.Missing or SlotKind.Null) continue;
            metric.Add(group, in slot, ids[metric.Field], slot.InScratch ? scratch : data, _table);
        }
    }

    private void Grow(int group)
    {
        var size = Math.Max(_records.Length * 2, group + 1);
        Array.Resize(ref _records, size);
        foreach (var metric in _metrics) metric.Resize(size);
    }

    /// <summary>Adds every group of <paramref name="other"/> (built for the same table), its value ids translated by <paramref name="maps"/>.</summary>
    /// <exception cref="TallyException">DataError when an integer sum overflows 64 bits.</exception>
    public void MergeFrom(MetricTable other, int[]?[] maps, int fieldCount)
    {
        var ids = new int[fieldCount];
        var mapped = new int[fieldCount];
        var groupMap = new int[other._records.Length];
        for (var g = 0; g < other._records.Length; g++)
        {
            if (other._records[g] == 0) continue;
            other.KeyOf(g, ids);
            foreach (var f in _fields) mapped[f] = maps[f]![ids[f]];
            var to = GroupOf(mapped);
            if (to >= _records.Length) Grow(to);
            _records[to] += other._records[g];
            groupMap[g] = to;
        }
        for (var m = 0; m < _metrics.Length; m++)
        {
            var field = _metrics[m].Field;
            _metrics[m].MergeFrom(other._metrics[m], groupMap, field >= 0 ? maps[field] : null, _table);
        }
    }

    /// <summary>The groups with their key's value ids (row-major, in group-by order), in group id order.</summary>
    public (int[] Groups, int[] KeyIds) Rows()
    {
        var groups = new List<int>();
        for (var g = 0; g < _records.Length; g++)
        {
            if (_records[g] > 0) groups.Add(g);
        }
        var ids = new int[Math.Max(_fields.Max() + 1, 1)];
        var keys = new int[groups.Count * _fields.Length];
        for (var i = 0; i < groups.Count; i++)
        {
            KeyOf(groups[i], ids);
            for (var k = 0; k < _fields.Length; k++) keys[i * _fields.Length + k] = ids[_fields[k]];
        }
        return ([.. groups], keys);
    }

    /// <summary>Metric <paramref name="metric"/>'s column for the groups <paramref name="groups"/>, in that order.</summary>
    /// <exception cref="TallyException">DataError when a sum of doubles is not finite.</exception>
    public AggregatedColumn Column(int metric, int[] groups) =>
        _metrics[metric].Column(groups, _records, _table);

    /// <summary>One metric's state per group id.</summary>
    private sealed class Accumulator
    {
        private readonly TableMetric _metric;
        private readonly Utf8Interner? _strings;   // the field's values, when they are text (min/max compare their bytes)
        private readonly RawFieldType _type;
        private long[] _longs = [];                // int64 sums and extremes, boolean extremes, timestamp extremes (UTC ticks)
        private double[] _doubles = [];            // double sums and extremes
        private int[] _valueIds = [];              // text extremes: the value's id
        private bool[] _has = [];                  // whether any non-null value was seen
        private readonly LongSet? _distinct;       // (group << 32) | value id

        public Accumulator(TableMetric metric, int field, Utf8Interner? strings)
        {
            _metric = metric;
            Field = field;
            _strings = strings;
            _type = metric.Field?.Type ?? RawFieldType.Int64;
            if (metric.Function == MetricFunction.CountDistinct) _distinct = new LongSet();
            Resize(256);
        }

        /// <summary>The schema index of the field read, or -1 for a count.</summary>
        public int Field { get; }

        private bool UsesDoubles => _type == RawFieldType.Double;

        public void Resize(int size)
        {
            if (_metric.Function is MetricFunction.Count or MetricFunction.CountDistinct) return;
            Array.Resize(ref _has, size);
            if (_type == RawFieldType.String) Array.Resize(ref _valueIds, size);
            else if (UsesDoubles) Array.Resize(ref _doubles, size);
            else Array.Resize(ref _longs, size);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(int group, in Slot slot, int valueId, ReadOnlySpan<byte> bytes, TableDefinition table)
        {
            switch (_metric.Function)
            {
                case MetricFunction.CountDistinct:
                    _distinct!.Add(((long)group << 32) | (uint)valueId);
                    return;
                case MetricFunction.Sum:
                    if (UsesDoubles) _doubles[group] += BitConverter.Int64BitsToDouble(slot.Int64);
                    else _longs[group] = CheckedSum(_longs[group], slot.Int64, table);
                    _has[group] = true;
                    return;
                default:
                    var max = _metric.Function == MetricFunction.Max;
                    switch (_type)
                    {
                        case RawFieldType.String:
                            if (!_has[group] || Better(_strings![valueId].SequenceCompareTo(_strings[_valueIds[group]]), max)) _valueIds[group] = valueId;
                            break;
                        case RawFieldType.Double:
                            var d = BitConverter.Int64BitsToDouble(slot.Int64);
                            if (!_has[group] || Better(d.CompareTo(_doubles[group]), max)) _doubles[group] = d;
                            break;
                        default:
                            // The reader checked a timestamp's text: its instant is what min and max compare.
                            var value = _type == RawFieldType.Timestamp ? Ticks(bytes.Slice(slot.Offset, slot.Length)) : slot.Int64;
                            if (!_has[group] || Better(value.CompareTo(_longs[group]), max)) _longs[group] = value;
                            break;
                    }
                    _has[group] = true;
                    return;
            }
        }

        private static bool Better(int comparison, bool max) => max ? comparison > 0 : comparison < 0;

        private static long Ticks(ReadOnlySpan<byte> text) =>
            Iso8601.TryParseUtcTicks(text, out var ticks) ? ticks : throw new InvalidOperationException("A timestamp the reader accepted does not parse.");

        /// <summary><paramref name="a"/> + <paramref name="b"/>, or a DataError when the sum does not fit in 64 bits.</summary>
        private long CheckedSum(long a, long b, TableDefinition table)
        {
            var sum = unchecked(a + b);
            if (((a ^ sum) & (b ^ sum)) < 0)
            {
                throw TallyException.DataError($"The sum of {_metric.Field!.Name} in column {_metric.Column} of table {table.Table} does not fit in a 64-bit integer (bigint); declare the field as double to sum it as a floating-point number.");
            }
            return sum;
        }

        public void MergeFrom(Accumulator other, int[] groupMap, int[]? valueMap, TableDefinition table)
        {
            if (_metric.Function == MetricFunction.Count) return;
            if (_distinct is not null)
            {
                foreach (var entry in other._distinct!)
                {
                    _distinct.Add(((long)groupMap[(int)(entry >> 32)] << 32) | (uint)valueMap![unchecked((int)entry)]);
                }
                return;
            }
            for (var g = 0; g < other._has.Length; g++)
            {
                if (!other._has[g]) continue;
                var to = groupMap[g];
                if (_metric.Function == MetricFunction.Sum)
                {
                    if (UsesDoubles) _doubles[to] += other._doubles[g];
                    else _longs[to] = CheckedSum(_longs[to], other._longs[g], table);
                }
                else
                {
                    var max = _metric.Function == MetricFunction.Max;
                    if (_type == RawFieldType.String)
                    {
                        var id = valueMap![other._valueIds[g]];
                        if (!_has[to] || Better(_strings![id].SequenceCompareTo(_strings[_valueIds[to]]), max)) _valueIds[to] = id;
                    }
                    else if (UsesDoubles)
                    {
                        if (!_has[to] || Better(other._doubles[g].CompareTo(_doubles[to]), max)) _doubles[to] = other._doubles[g];
                    }
                    else if (!_has[to] || Better(other._longs[g].CompareTo(_longs[to]), max))
                    {
                        _longs[to] = other._longs[g];
                    }
                }
                _has[to] = true;
            }
        }

        public AggregatedColumn Column(int[] groups, long[] records, TableDefinition table)
        {
            var name = _metric.Column;
            var rows = groups.Length;
            switch (_metric.Function)
            {
                case MetricFunction.Count:
                {
                    var counts = new long[rows];
                    for (var i = 0; i < rows; i++) counts[i] = records[groups[i]];
                    return AggregatedColumn.Counts(name, counts);
                }
                case MetricFunction.CountDistinct:
                {
                    var perGroup = new long[records.Length];
                    foreach (var entry in _distinct!) perGroup[(int)(entry >> 32)]++;
                    var counts = new long[rows];
                    for (var i = 0; i < rows; i++) counts[i] = perGroup[groups[i]];
                    return AggregatedColumn.Counts(name, counts);
                }
            }
            switch (_type)
            {
                case RawFieldType.String:
                {
                    var values = new string?[rows];
                    for (var i = 0; i < rows; i++) values[i] = _has[groups[i]] ? System.Text.Encoding.UTF8.GetString(_strings![_valueIds[groups[i]]]) : null;
                    return AggregatedColumn.Strings(name, values);
                }
                case RawFieldType.Double:
                {
                    var values = new double?[rows];
                    for (var i = 0; i < rows; i++)
                    {
                        if (!_has[groups[i]]) continue;
                        var d = _doubles[groups[i]];
                        if (!double.IsFinite(d))
                        {
                            throw TallyException.DataError($"The sum of {_metric.Field!.Name} in column {_metric.Column} of table {table.Table} is beyond the range of a 64-bit floating-point number (double).");
                        }
                        values[i] = d;
                    }
                    return AggregatedColumn.Doubles(name, values);
                }
                case RawFieldType.Boolean:
                {
                    var values = new bool?[rows];
                    for (var i = 0; i < rows; i++) values[i] = _has[groups[i]] ? _longs[groups[i]] != 0 : null;
                    return AggregatedColumn.Booleans(name, values);
                }
                case RawFieldType.Timestamp:
                {
                    var values = new DateTime?[rows];
                    for (var i = 0; i < rows; i++) values[i] = _has[groups[i]] ? new DateTime(_longs[groups[i]], DateTimeKind.Utc) : null;
                    return AggregatedColumn.Timestamps(name, values);
                }
                default:
                {
                    var values = new long?[rows];
                    for (var i = 0; i < rows; i++) values[i] = _has[groups[i]] ? _longs[groups[i]] : null;
                    return AggregatedColumn.Integers(name, values);
                }
            }
        }
    }
}

/// <summary>
/// A set of non-negative 64-bit keys, open-addressed with linear probing: one array of keys, no entry objects, and a hash
/// that mixes both halves (the default hash of a long XORs them, which collapses keys built as <c>(a &lt;&lt; 32) | b</c>).
/// Not thread-safe.
/// </summary>
internal sealed class LongSet : IEnumerable<long>
{
    private long[] _slots = new long[1024]; // key + 1; 0 = empty
    private int _count;

    /// <summary>The number of keys.</summary>
    public int Count => _count;

    /// <summary>Adds <paramref name="key"/> (0 or more); false when it was there already.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Add(long key)
    {
        var stored = key + 1;
        var mask = _slots.Length - 1;
        var i = Slot(key, mask);
        while (true)
        {
            var slot = _slots[i];
            if (slot == stored) return false;
            if (slot == 0) break;
            i = (i + 1) & mask;
        }
        _slots[i] = stored;
        if (++_count * 2 > _slots.Length) Grow();
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Slot(long key, int mask) => unchecked((int)((ulong)(key * -7046029254386353131L) >> 32)) & mask;

    private void Grow()
    {
        var old = _slots;
        _slots = new long[old.Length * 2];
        var mask = _slots.Length - 1;
        foreach (var stored in old)
        {
            if (stored == 0) continue;
            var i = Slot(stored - 1, mask);
            while (_slots[i] != 0) i = (i + 1) & mask;
            _slots[i] = stored;
        }
    }

    public IEnumerator<long> GetEnumerator()
    {
        foreach (var stored in _slots)
        {
            if (stored != 0) yield return stored - 1;
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
