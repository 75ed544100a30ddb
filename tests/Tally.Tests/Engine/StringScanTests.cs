using Tally.Engine;
using Xunit;

namespace Tally.Tests.Engine;

/// <summary>
/// The scanner's two paths for the end of a plain JSON string, against a byte-by-byte reading of the definition, on
/// random buffers of the bytes that matter at every start and every length: the vector path (whichever widths this
/// processor has) and the scalar one answer the same.
/// </summary>
public sealed class StringScanTests
{
    // Plain ASCII, the three kinds of stop, a UTF-8 sequence (é) and its bytes apart, DEL, the last control character.
    private static readonly byte[] Alphabet = [(byte)'a', (byte)'z', (byte)' ', (byte)'"', (byte)'\\', 0x00, 0x1F, 0x7F, 0xC3, 0xA9, 0x80, 0xFF];

    public static TheoryData<int> Seeds => [1, 2, 3, 4, 5, 6, 7, 8];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void BothPathsFindTheDefinitionsEnd_AtEveryStartAndLength(int seed)
    {
        var random = new Random(seed);
        var checkedStops = 0;
        for (var round = 0; round < 40; round++)
        {
            // Mostly plain bytes, so that stops fall anywhere from the first byte to past 200.
            var length = random.Next(0, 260);
            var stopEvery = 1 + random.Next(0, 220);
            var buffer = new byte[length];
            for (var i = 0; i < length; i++)
            {
                buffer[i] = random.Next(stopEvery) == 0 ? Alphabet[random.Next(Alphabet.Length)] : Plain(random);
            }
            for (var end = 0; end <= length; end++)
            {
                var data = buffer.AsSpan(0, end);
                for (var start = 0; start <= end; start++)
                {
                    var (expected, expectedAscii) = Reference(data, start);
                    var vector = StringScan.EndVector(data, start, out var vectorAscii);
                    var scalar = StringScan.EndScalar(data, start, out var scalarAscii);
                    Assert.True(expected == vector, $"vector: {vector}, expected {expected} (seed {seed}, round {round}, start {start}, end {end})");
                    Assert.True(expected == scalar, $"scalar: {scalar}, expected {expected} (seed {seed}, round {round}, start {start}, end {end})");
                    if (expected < 0) continue;
                    checkedStops++;
                    Assert.Equal(expectedAscii, vectorAscii);
                    Assert.Equal(expectedAscii, scalarAscii);
                }
            }
        }
        Assert.True(checkedStops > 10_000, $"only {checkedStops} stops were found");
    }

    [Fact]
    public void AStringThatRunsToTheEndOfTheBuffer_HasNoEndYet()
    {
        var data = Enumerable.Repeat((byte)'a', 300).ToArray();
        Assert.Equal(-1, StringScan.EndVector(data, 0, out _));
        Assert.Equal(-1, StringScan.EndScalar(data, 0, out _));
        data[299] = (byte)'"';
        Assert.Equal(299, StringScan.EndVector(data, 0, out var ascii));
        Assert.True(ascii);
        Assert.Equal(299, StringScan.EndScalar(data, 0, out ascii));
        Assert.True(ascii);
    }

    /// <summary>A byte inside a plain string: printable ASCII mostly, sometimes one of a UTF-8 sequence.</summary>
    private static byte Plain(Random random)
    {
        if (random.Next(8) == 0) return Alphabet[8 + random.Next(4)];
        var b = (byte)random.Next(0x20, 0x7F);
        return b is (byte)'"' or (byte)'\\' ? (byte)'x' : b;
    }

    /// <summary>The definition, one byte at a time.</summary>
    private static (int End, bool Ascii) Reference(ReadOnlySpan<byte> data, int start)
    {
        var ascii = true;
        for (var i = start; i < data.Length; i++)
        {
            if (data[i] == '"' || data[i] == '\\' || data[i] < 0x20) return (i - start, ascii);
            if (data[i] >= 0x80) ascii = false;
        }
        return (-1, false);
    }
}
