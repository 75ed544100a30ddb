using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Tally.Engine;

/// <summary>
/// Finds where a JSON string stops being plain: its closing quote, an escape (<c>\</c>) or a control character (below
/// 0x20, invalid in JSON), the question the scanner asks for every key and string value. Two paths give the same answers:
/// vectors of 16, 32 or 64 bytes compared at once where the processor has them (<see cref="Vector512"/>,
/// <see cref="Vector256"/>, <see cref="Vector128"/>), and a scalar path that reads eight bytes at a time in a general
/// register. <c>TALLY_SIMD=0</c> in the environment forces the scalar path (tests run the suite both ways).
/// </summary>
internal static class StringScan
{
    /// <summary>Whether the vector path is taken: the processor has 128-bit vectors or wider, and <c>TALLY_SIMD</c> is not <c>0</c>.</summary>
    public static readonly bool Simd = Vector128.IsHardwareAccelerated && Environment.GetEnvironmentVariable("TALLY_SIMD") != "0";

    /// <summary>The widest vector the vector path uses, in bits (0 on the scalar path): for diagnostics.</summary>
    public static int VectorBits => !Simd ? 0 : Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 128;

    /// <summary>
    /// Where the string whose first byte is <c>data[start]</c> stops being plain, relative to <paramref name="start"/>; -1
    /// when that is not in <paramref name="data"/> (more data may come).
    /// </summary>
    /// <param name="ascii">Whether every byte before the end is ASCII (so the string is valid UTF-8).</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int End(ReadOnlySpan<byte> data, int start, out bool ascii) =>
        Simd ? EndVector(data, start, out ascii) : EndScalar(data, start, out ascii);

    /// <summary>The vector path of <see cref="End"/>: 32 bytes first (most keys and values end there), then 64 at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int EndVector(ReadOnlySpan<byte> data, int start, out bool ascii)
    {
        ref var origin = ref MemoryMarshal.GetReference(data);
        var i = start;
        var high = false;
        if (Vector256.IsHardwareAccelerated)
        {
            if (i <= data.Length - Vector256<byte>.Count)
            {
                var v = Vector256.LoadUnsafe(ref origin, (nuint)i);
                var stops = Stops(v).ExtractMostSignificantBits();
                var highs = v.ExtractMostSignificantBits();
                if (stops != 0) return Found(i, BitOperations.TrailingZeroCount(stops), highs, false, start, out ascii);
                high = highs != 0;
                i += Vector256<byte>.Count;
            }
            if (Vector512.IsHardwareAccelerated)
            {
                for (; i <= data.Length - Vector512<byte>.Count; i += Vector512<byte>.Count)
                {
                    var v = Vector512.LoadUnsafe(ref origin, (nuint)i);
                    var stops = Stops(v).ExtractMostSignificantBits();
                    if (stops != 0)
                    {
                        var at = BitOperations.TrailingZeroCount(stops);
                        ascii = !high && (v.ExtractMostSignificantBits() & ((1UL << at) - 1)) == 0;
                        return i - start + at;
                    }
                    high |= v.ExtractMostSignificantBits() != 0;
                }
            }
            for (; i <= data.Length - Vector256<byte>.Count; i += Vector256<byte>.Count)
            {
                var v = Vector256.LoadUnsafe(ref origin, (nuint)i);
                var stops = Stops(v).ExtractMostSignificantBits();
                var highs = v.ExtractMostSignificantBits();
                if (stops != 0) return Found(i, BitOperations.TrailingZeroCount(stops), highs, high, start, out ascii);
                high |= highs != 0;
            }
        }
        for (; i <= data.Length - Vector128<byte>.Count; i += Vector128<byte>.Count)
        {
            var v = Vector128.LoadUnsafe(ref origin, (nuint)i);
            var stops = Stops(v).ExtractMostSignificantBits();
            var highs = v.ExtractMostSignificantBits();
            if (stops != 0) return Found(i, BitOperations.TrailingZeroCount(stops), highs, high, start, out ascii);
            high |= highs != 0;
        }
        // Fewer than 16 bytes left in the buffer: byte by byte.
        for (; i < data.Length; i++)
        {
            var b = data[i];
            if (b is (byte)'"' or (byte)'\\' or < 0x20)
            {
                ascii = !high;
                return i - start;
            }
            high |= b >= 0x80;
        }
        ascii = false;
        return -1;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static int Found(int i, int at, uint highs, bool high, int start, out bool ascii)
        {
            ascii = !high && (highs & ((1U << at) - 1)) == 0;
            return i - start + at;
        }
    }

    // The bytes that end the plain part: '"', '\\', and those below 0x20 (whose top three bits are clear).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Stops(Vector128<byte> v) =>
        Vector128.Equals(v, Vector128.Create((byte)'"')) | Vector128.Equals(v, Vector128.Create((byte)'\\'))
        | Vector128.Equals(v & Vector128.Create((byte)0xE0), Vector128<byte>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Stops(Vector256<byte> v) =>
        Vector256.Equals(v, Vector256.Create((byte)'"')) | Vector256.Equals(v, Vector256.Create((byte)'\\'))
        | Vector256.Equals(v & Vector256.Create((byte)0xE0), Vector256<byte>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Stops(Vector512<byte> v) =>
        Vector512.Equals(v, Vector512.Create((byte)'"')) | Vector512.Equals(v, Vector512.Create((byte)'\\'))
        | Vector512.Equals(v & Vector512.Create((byte)0xE0), Vector512<byte>.Zero);

    /// <summary>
    /// The scalar path of <see cref="End"/>: eight bytes at a time in a general register, then the last few byte by byte.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int EndScalar(ReadOnlySpan<byte> data, int start, out bool ascii)
    {
        const ulong Ones = 0x0101010101010101UL, Highs = 0x8080808080808080UL;
        var i = start;
        ulong high = 0;
        for (; i <= data.Length - 8; i += 8)
        {
            unchecked
            {
                var word = BinaryPrimitives.ReadUInt64LittleEndian(data[i..]);
                var quote = word ^ (Ones * '"');
                var backslash = word ^ (Ones * '\\');
                // A byte is flagged when it is zero after the xor (a quote or a backslash) or below 0x20. Borrows can flag
                // bytes above the first true one, never below it, so the lowest flag is exact.
                var hits = ((quote - Ones) & ~quote | (backslash - Ones) & ~backslash | (word - Ones * 0x20) & ~word) & Highs;
                if (hits != 0)
                {
                    var at = BitOperations.TrailingZeroCount(hits) >> 3;
                    high |= word & Highs & ((1UL << (at * 8)) - 1);
                    ascii = high == 0;
                    return i - start + at;
                }
                high |= word & Highs;
            }
        }
        for (; i < data.Length; i++)
        {
            var b = data[i];
            if (b is (byte)'"' or (byte)'\\' or < 0x20)
            {
                ascii = high == 0;
                return i - start;
            }
            if (b >= 0x80) high = Highs;
        }
        ascii = false;
        return -1;
    }
}
