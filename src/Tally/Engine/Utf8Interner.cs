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
    // Per slot: the value's hash in the high half, its id in the low half (0 = empty), so that a probe compares hashes
    // without a second load; per id: where its bytes are in the arena, start in the high half, length in the low.
    private ulong[] _table = new ulong[1024];
    private ulong[] _spans = new ulong[256];
    private byte[] _arena = new byte[16 * 1024];
    private int _arenaUsed;

    /// <summary>The number of distinct values; ids run from 1 to <see cref="Count"/>.</summary>
    public int Count { get; private set; }

    /// <summary>The bytes of value <paramref name="id"/> (1-based).</summary>
    public ReadOnlySpan<byte> this[int id] => Bytes(_spans[id]);

    /// <summary>The id of <paramref name="value"/>, adding it when new.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int GetOrAdd(ReadOnlySpan<byte> value)
    {
        var hash = Hash(value);
        var table = _table;
        var mask = table.Length - 1;
        var slot = hash & mask;
        var tag = (ulong)(uint)hash << 32;
        while (true)
        {
            var entry = table[slot];
            if (entry == 0) break;
            if ((entry & 0xFFFF_FFFF_0000_0000UL) == tag)
            {
                var id = unchecked((int)(uint)entry);
                if (Bytes(_spans[id]).SequenceEqual(value)) return id;
            }
            slot = (slot + 1) & mask;
        }
        return Add(value, tag, slot);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Bytes(ulong span) => _arena.AsSpan((int)(span >> 32), unchecked((int)(uint)span));

    private int Add(ReadOnlySpan<byte> value, ulong tag, int slot)
    {
        var id = ++Count;
        if (id >= _spans.Length) Array.Resize(ref _spans, _spans.Length * 2);
        if (_arenaUsed + value.Length > _arena.Length)
        {
            Array.Resize(ref _arena, Math.Max(_arena.Length * 2, _arenaUsed + value.Length));
        }
        value.CopyTo(_arena.AsSpan(_arenaUsed));
        _spans[id] = ((ulong)(uint)_arenaUsed << 32) | (uint)value.Length;
        _arenaUsed += value.Length;
        _table[slot] = tag | (uint)id;
        if (Count * 2 > _table.Length) Rehash();
        return id;
    }

    private void Rehash()
    {
        var table = new ulong[_table.Length * 2];
        var mask = table.Length - 1;
        foreach (var entry in _table)
        {
            if (entry == 0) continue;
            var slot = (int)(entry >> 32) & mask;
            while (table[slot] != 0) slot = (slot + 1) & mask;
            table[slot] = entry;
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
            if (value.Length >= 32)
            {
                // Long values (user agents): four independent chains, 32 bytes a step, so the multiplications overlap.
                ulong a = h, b = h ^ 0x243F6A8885A308D3UL, c = h ^ 0x13198A2E03707344UL, d = h ^ 0xA4093822299F31D0UL;
                for (; i + 32 <= value.Length; i += 32)
                {
                    a = (a ^ BinaryPrimitives.ReadUInt64LittleEndian(value[i..])) * K;
                    b = (b ^ BinaryPrimitives.ReadUInt64LittleEndian(value[(i + 8)..])) * K;
                    c = (c ^ BinaryPrimitives.ReadUInt64LittleEndian(value[(i + 16)..])) * K;
                    d = (d ^ BinaryPrimitives.ReadUInt64LittleEndian(value[(i + 24)..])) * K;
                    a ^= a >> 32;
                    b ^= b >> 32;
                    c ^= c >> 32;
                    d ^= d >> 32;
                }
                h = ((a * K ^ b) * K ^ c) * K ^ d;
            }
            for (; i + 8 <= value.Length; i += 8)
            {
                h = (h ^ BinaryPrimitives.ReadUInt64LittleEndian(value[i..])) * K;
                h ^= h >> 32;
            }
            if (i < value.Length)
            {
                // The last one to seven bytes: as the top of the word that ends the value when there is one (a load instead of
                // a loop), else gathered byte by byte.
                ulong tail;
                if (value.Length >= 8)
                {
                    tail = BinaryPrimitives.ReadUInt64LittleEndian(value[^8..]) >> (8 * (8 - (value.Length - i)));
                }
                else
                {
                    tail = 0;
                    for (var shift = 0; i < value.Length; i++, shift += 8) tail |= (ulong)value[i] << shift;
                }
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
