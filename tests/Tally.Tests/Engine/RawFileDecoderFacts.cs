using System.Text;
using Tally.Engine;

namespace Tally.Tests.Engine;

/// <summary>A raw file's kind from its first bytes, never its name.</summary>
public sealed class RawFileDecoderFacts
{
    public static TheoryData<string, byte[], string, string?> Heads() => new()
    {
        { "JSON Lines", "{\"GroupID\": 1}\n"u8.ToArray(), "Json", null },
        { "a JSON array after a BOM and blank lines", [0xEF, 0xBB, 0xBF, .. "\r\n \t\n[{}]"u8], "Json", null },
        { "an empty file", [], "Json", null },
        { "a blank file", "\n \r\n"u8.ToArray(), "Json", null },
        { "gzip", [0x1F, 0x8B, 0x08, 0x00], "Gzip", null },
        { "zstd", [0x28, 0xB5, 0x2F, 0xFD, 0x24], "Zstd", null },
        { "a zstd skippable frame", [0x5A, 0x2A, 0x4D, 0x18, 0x00, 0x00, 0x00, 0x00], "Zstd", null },
        { "bzip2", "BZh91AY&SY\u0001"u8.ToArray(), "Unknown", "bzip2 data" },
        { "xz", [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 0x00], "Unknown", "xz data" },
        { "zip", "PK\u0003\u0004\u0014\u0000"u8.ToArray(), "Unknown", "a zip archive" },
        { "lz4", [0x04, 0x22, 0x4D, 0x18, 0x64], "Unknown", "lz4 data" },
        { "Snappy framed", [0xFF, 0x06, 0x00, 0x00, .. "sNaPpY"u8, 0x00], "Unknown", "Snappy framed data" },
        { "7-Zip", [0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C, 0x00], "Unknown", "a 7-Zip archive" },
        { "Parquet", "PAR1\u0015\u0004"u8.ToArray(), "Unknown", "a Parquet file" },
        { "UTF-16 JSON", [0xFF, 0xFE, (byte)'{', 0x00, (byte)'}', 0x00], "Unknown", "UTF-16 text (Tally reads UTF-8)" },
        { "binary data", [0x00, 0x01, 0x02, 0x03, 0xFF], "Unknown", "binary data of no kind Tally knows" },
        { "bytes that are not UTF-8", [(byte)'a', 0xC0, 0xAF, (byte)'b'], "Unknown", "binary data of no kind Tally knows" },
        { "text that does not start like JSON", "GroupID,CountryCode\n1,US\n"u8.ToArray(), "Unknown", null },
        { "text whose first word is BZh but not bzip2's", "BZhx is not bzip2\n"u8.ToArray(), "Unknown", null },
        { "non-ASCII text", "Grüße\n"u8.ToArray(), "Unknown", null },
    };

    [Theory]
    [MemberData(nameof(Heads))]
    public void Detect_TellsTheKindFromTheFirstBytes_AndNamesWhatBinaryDataIs(string shape, byte[] head, string kind, string? binary)
    {
        Assert.True(Enum.Parse<RawFileKind>(kind) == RawFileDecoder.Detect(head, isWholeFile: true, out var what), shape);
        Assert.Equal(binary, what);
    }

    [Fact]
    public void Detect_TakesAUtf8SequenceCutByTheEndOfTheHead_ForText_UnlessTheHeadIsTheWholeFile()
    {
        byte[] head = [.. Encoding.UTF8.GetBytes("text " + new string('x', RawFileDecoder.HeadBytes - 6)), 0xC3];

        Assert.Equal(RawFileKind.Unknown, RawFileDecoder.Detect(head, isWholeFile: false, out var cut));
        Assert.Null(cut);
        RawFileDecoder.Detect(head, isWholeFile: true, out var whole);
        Assert.Equal("binary data of no kind Tally knows", whole);
    }

    [Fact]
    public async Task Open_ReplaysTheBytesItLookedAt_FromANonSeekableStream()
    {
        var content = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 2_000).Select(i => $"{{\"GroupID\": {i}}}\n")));
        Assert.True(content.Length > RawFileDecoder.HeadBytes);

        await using var stored = new ForwardOnly(content);
        await using var decoder = await RawFileDecoder.OpenAsync(stored, CancellationToken.None);
        var text = new MemoryStream();
        await decoder.Text.CopyToAsync(text);

        Assert.Equal(RawFileKind.Json, decoder.Kind);
        Assert.Equal(content, text.ToArray());
        Assert.Null(decoder.Unreadable);
        Assert.Null(decoder.Damage);
    }

    [Fact]
    public async Task Open_ThrowsTheStoresOwnFailure_ThroughTheDecompressor_RatherThanCallingItDamage()
    {
        var gzip = new MemoryStream();
        await using (var zip = new System.IO.Compression.GZipStream(gzip, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            await zip.WriteAsync(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 20_000).Select(i => $"{{\"GroupID\": {i}}}\n"))));
        }
        await using var stored = new ForwardOnly(gzip.ToArray(), failAfter: RawFileDecoder.HeadBytes + 100);
        await using var decoder = await RawFileDecoder.OpenAsync(stored, CancellationToken.None);

        await Assert.ThrowsAsync<IOException>(() => decoder.Text.CopyToAsync(Stream.Null));
        Assert.Null(decoder.Damage);
    }

    /// <summary>A stream that only reads forward, a few bytes at a time, as an S3 response does; optionally failing after some bytes.</summary>
    private sealed class ForwardOnly(byte[] content, int failAfter = int.MaxValue) : Stream
    {
        private int _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= failAfter) throw new IOException("The connection was reset.");
            var n = Math.Min(Math.Min(count, 1000), content.Length - _position);
            content.AsSpan(_position, n).CopyTo(buffer.AsSpan(offset));
            _position += n;
            return n;
        }
    }
}
