using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Tally.Engine;

/// <summary>
/// Maps distinct UTF-8 strings to dense ids 1, 2, 3, … (0 stands for null) without allocating per lookup:
/// the bytes live in one arena, the table is open-addressed with linear probing. Not thread-safe: one per worker.
/// Memory grows with the distinct values, never with the number of lookups.
/// </summary>
internal sealed class Utf8Interner
{
    private int[] _table = new int[1024];          // id per slot, 0 = empty
    private int[] _hashes = new int[256];          // per id
    private int[] _starts = new int[256];          // per id: start in the arena
    private int[] _lengths = new int[256];         // per id
    private byte[] _arena = new byte[16 * 1024];
    private int _arenaUsed;

    /// <summary>The number of distinct values; ids run from 1 to <see cref="Count"/>.</summary>
    public int Count { get; private set; }

    /// <summary>The bytes of value <paramref name="id"/> (1-based).</summary>
    public ReadOnlySpan<byte> this[int id] => _arena.AsSpan(_starts[id], _lengths[id]);

    /// <summary>The id of <paramref name="value"/>, adding it when new.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int GetOrAdd(ReadOnlySpan<byte> value)
    {
        var hash = Hash(value);
        var mask = _table.Length - 1;
        var slot = hash & mask;
        while (true)
        {
            var id = _table[slot];
            if (id == 0) break;
            if (_hashes[id] == hash && _arena.AsSpan(_starts[id], _lengths[id]).SequenceEqual(value)) return id;
            slot = (slot + 1) & mask;
        }
        return Add(value, hash, slot);
    }

    private int Add(ReadOnlySpan<byte> value, int hash, int slot)
    {
        var id = ++Count;
        if (id >= _hashes.Length)
        {
            var size = _hashes.Length * 2;
            Array.Resize(ref _hashes, size);
            Array.Resize(ref _starts, size);
            Array.Resize(ref _lengths, size);
        }
        if (_arenaUsed + value.Length > _arena.Length)
        {
            Array.Resize(ref _arena, Math.Max(_arena.Length * 2, _arenaUsed + value.Length));
        }
        value.CopyTo(_arena.AsSpan(_arenaUsed));
        _hashes[id] = hash;
        _starts[id] = _arenaUsed;
        _lengths[id] = value.Length;
        _arenaUsed += value.Length;
        _table[slot] = id;
        if (Count * 2 > _table.Length) Rehash();
        return id;
    }

    private void Rehash()
    {
        var table = new int[_table.Length * 2];
        var mask = table.Length - 1;
        for (var id = 1; id <= Count; id++)
        {
            var slot = _hashes[id] & mask;
            while (table[slot] != 0) slot = (slot + 1) & mask;
            table[slot] = id;
        }
        _table = table;
    }

    /// <summary>A fast 64-bit multiply-xorshift hash over 8-byte words, folded to a non-negative int.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Hash(ReadOnlySpan<byte> value)
    {
        unchecked
        {
            const ulong K = 0x9E3779B97F4A7C15UL;
            var h = (ulong)value.Length * K;
            var i = 0;
            for (; i + 8 <= value.Length; i += 8)
            {
                h = (h ^ BinaryPrimitives.ReadUInt64LittleEndian(value[i..])) * K;
                h ^= h >> 32;
            }
            if (i < value.Length)
            {
                ulong tail = 0;
                for (var shift = 0; i < value.Length; i++, shift += 8) tail |= (ulong)value[i] << shift;
                h = (h ^ tail) * K;
            }
            h ^= h >> 29;
            h *= 0xBF58476D1CE4E5B9UL;
            h ^= h >> 32;
            return (int)(h & 0x7FFFFFFF);
        }
    }
}

/// <summary>
/// Maps distinct 64-bit keys to dense ids 1, 2, 3, …; used for integer group values and for pairs of ids.
/// The key is mixed before probing (a plain <c>long</c> hash folds the halves together and collapses pairs). Not thread-safe.
/// </summary>
internal sealed class Int64Interner
{
    private int[] _table = new int[1024];
    private long[] _keys = new long[256];

    public int Count { get; private set; }

    public long this[int id] => _keys[id];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int GetOrAdd(long key)
    {
        var mask = _table.Length - 1;
        var slot = Mix(key) & mask;
        while (true)
        {
            var id = _table[slot];
            if (id == 0) break;
            if (_keys[id] == key) return id;
            slot = (slot + 1) & mask;
        }
        var added = ++Count;
        if (added >= _keys.Length) Array.Resize(ref _keys, _keys.Length * 2);
        _keys[added] = key;
        _table[slot] = added;
        if (Count * 2 > _table.Length) Rehash();
        return added;
    }

    private void Rehash()
    {
        var table = new int[_table.Length * 2];
        var mask = table.Length - 1;
        for (var id = 1; id <= Count; id++)
        {
            var slot = Mix(_keys[id]) & mask;
            while (table[slot] != 0) slot = (slot + 1) & mask;
            table[slot] = id;
        }
        _table = table;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Mix(long key)
    {
        unchecked
        {
            var h = (ulong)key * 0x9E3779B97F4A7C15UL;
            h ^= h >> 31;
            h *= 0xBF58476D1CE4E5B9UL;
            h ^= h >> 29;
            return (int)(h & 0x7FFFFFFF);
        }
    }
}
