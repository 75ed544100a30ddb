using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text.Unicode;
using ZstdSharp;

namespace Tally.Engine;

/// <summary>What a raw file is, as its first bytes tell it (never its name).</summary>
internal enum RawFileKind
{
    /// <summary>JSON text: after an optional UTF-8 BOM and whitespace, <c>{</c> or <c>[</c>; also an empty or blank file.</summary>
    Json,

    /// <summary>gzip (<c>1F 8B</c>), one member or several concatenated.</summary>
    Gzip,

    /// <summary>zstd (a frame, <c>28 B5 2F FD</c>, or a skippable frame), one frame or several concatenated.</summary>
    Zstd,

    /// <summary>None of these: text that does not start like JSON, binary data, or a compression Tally does not read.</summary>
    Unknown,
}

/// <summary>
/// Opens a stored raw file for <see cref="RawFileReader"/>: looks at its first bytes to tell its <see cref="RawFileKind"/>, then
/// gives its text from the first byte, decompressed when it is gzip or zstd (the bytes looked at are replayed, since a
/// stream from S3 cannot seek back). Text that does not start like JSON is still given, for the reader to reject line by
/// line (a JSON Lines file whose first line is bad keeps its good lines); binary data is not read at all:
/// <see cref="Unreadable"/> says what it looks like. Damaged compressed data never throws: the text ends where the damage
/// starts and <see cref="Damage"/> says why, so what was decompressed before it is kept. Storage failures are thrown as
/// they are. Not thread-safe; one per file.
/// </summary>
/// <remarks>
/// .NET's <see cref="GZipStream"/> ends quietly at the end of truncated gzip data, so the decoder checks the end itself: the
/// file's last eight bytes must be the trailer of its last member, the CRC-32 and length (mod 2^32) of the text that member
/// held. GZipStream returns from a read where a member ends, so the decoder keeps the CRC-32 of the text at each read's end
/// and finds the last member's start among them. zstd reports any truncation itself.
/// </remarks>
internal sealed class RawFileDecoder : IAsyncDisposable
{
    /// <summary>How many of a file's first bytes are looked at to tell its kind.</summary>
    public const int HeadBytes = 4096;

    private const int ShownBytes = 8;

    /// <summary>Magic numbers of formats Tally does not read, so that a rejected file says what it is.</summary>
    private static readonly (byte[] Magic, string What)[] OtherFormats =
    [
        ([0xFD, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0x00], "xz data"),
        ("PK\u0003\u0004"u8.ToArray(), "a zip archive"),
        ("PK\u0005\u0006"u8.ToArray(), "a zip archive"),
        ([0x04, 0x22, 0x4D, 0x18], "lz4 data"),
        ([0xFF, 0x06, 0x00, 0x00, .. "sNaPpY"u8], "Snappy framed data"),
        ([(byte)'7', (byte)'z', 0xBC, 0xAF, 0x27, 0x1C], "a 7-Zip archive"),
        ("PAR1"u8.ToArray(), "a Parquet file"),
        ([0xFF, 0xFE], "UTF-16 text (Tally reads UTF-8)"),
        ([0xFE, 0xFF], "UTF-16 text (Tally reads UTF-8)"),
    ];

    private readonly Stream? _decompressor;
    private readonly StopAtDamage? _guard;

    private RawFileDecoder(RawFileKind kind, Replay source, string? unreadable)
    {
        Kind = kind;
        Unreadable = unreadable;
        _decompressor = kind switch
        {
            RawFileKind.Gzip => new GZipStream(source, CompressionMode.Decompress, leaveOpen: true),
            RawFileKind.Zstd => new DecompressionStream(source, leaveOpen: true),
            _ => null,
        };
        if (_decompressor is not null) _guard = kind == RawFileKind.Gzip ? new CheckedGzip(_decompressor, source) : new StopAtDamage(_decompressor, source, kind);
        Text = (Stream?)_guard ?? source;
    }

    public RawFileKind Kind { get; }

    /// <summary>Why the file is not read at all, naming what it looks like (binary data, another compression); null when <see cref="Text"/> is to be read.</summary>
    public string? Unreadable { get; }

    /// <summary>The file's text, decompressed; reading it throws only for storage failures and cancellation.</summary>
    public Stream Text { get; }

    /// <summary>Once <see cref="Text"/> has ended: why it ended before the file did (corrupt or truncated compressed data), or null.</summary>
    public string? Damage => _guard?.Damage;

    /// <summary>Reads the first bytes of <paramref name="stored"/> (up to <see cref="HeadBytes"/>) and tells the file's kind.</summary>
    /// <param name="stored">The file as stored, read from its start; it stays open (the caller disposes it).</param>
    public static async Task<RawFileDecoder> OpenAsync(Stream stored, CancellationToken cancellationToken)
    {
        var head = new byte[HeadBytes];
        var length = 0;
        while (length < head.Length)
        {
            var n = await stored.ReadAsync(head.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (n == 0) break;
            length += n;
        }
        var kind = Detect(head.AsSpan(0, length), isWholeFile: length < head.Length, out var binary);
        var unreadable = binary is null ? null
            : $"{binary}, not JSON text, gzip or zstd (first bytes {string.Join(' ', head.Take(Math.Min(length, ShownBytes)).Select(b => b.ToString("X2", CultureInfo.InvariantCulture)))})";
        return new RawFileDecoder(kind, new Replay(head, length, stored), unreadable);
    }

    /// <summary>The kind of a file that starts with <paramref name="head"/>.</summary>
    /// <param name="head">The file's first bytes: <see cref="HeadBytes"/> of them, or the whole file when it is shorter.</param>
    /// <param name="isWholeFile">Whether <paramref name="head"/> is the whole file (so a UTF-8 sequence cut at its end is invalid).</param>
    /// <param name="binary">For <see cref="RawFileKind.Unknown"/> data that is not text, what it looks like ("bzip2 data");
    /// null for the other kinds and for text, which is read line by line all the same.</param>
    public static RawFileKind Detect(ReadOnlySpan<byte> head, bool isWholeFile, out string? binary)
    {
        binary = null;
        if (head.StartsWith((ReadOnlySpan<byte>)[0x1F, 0x8B])) return RawFileKind.Gzip;
        // A zstd frame (magic 0xFD2FB528) or a skippable frame (0x184D2A50 to 0x184D2A5F), little-endian.
        if (head.StartsWith((ReadOnlySpan<byte>)[0x28, 0xB5, 0x2F, 0xFD])
            || (head.Length >= 4 && (head[0] & 0xF0) == 0x50 && head[1..4].SequenceEqual((ReadOnlySpan<byte>)[0x2A, 0x4D, 0x18])))
        {
            return RawFileKind.Zstd;
        }

        var text = head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? head[3..] : head;
        var first = text.IndexOfAnyExcept((ReadOnlySpan<byte>)[(byte)' ', (byte)'\t', (byte)'\r', (byte)'\n']);
        if (first < 0 || text[first] is (byte)'{' or (byte)'[') return RawFileKind.Json;

        if (head.Length >= 4 && head.StartsWith("BZh"u8) && head[3] is >= (byte)'1' and <= (byte)'9')
        {
            binary = "bzip2 data";
            return RawFileKind.Unknown;
        }
        foreach (var (magic, what) in OtherFormats)
        {
            if (!head.StartsWith(magic)) continue;
            binary = what;
            return RawFileKind.Unknown;
        }
        if (!IsText(head[..Math.Min(head.Length, HeadBytes)], isWholeFile)) binary = "binary data of no kind Tally knows";
        return RawFileKind.Unknown;
    }

    /// <summary>UTF-8 without control characters other than tab, line breaks and form feed (a NUL or invalid UTF-8 is binary).</summary>
    private static bool IsText(ReadOnlySpan<byte> head, bool isWholeFile)
    {
        foreach (var b in head)
        {
            if (b < 0x20 && b is not ((byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0B or 0x0C)) return false;
        }
        Span<char> chars = stackalloc char[HeadBytes];
        var status = Utf8.ToUtf16(head, chars, out _, out _, replaceInvalidSequences: false, isFinalBlock: isWholeFile);
        return status is OperationStatus.Done or OperationStatus.NeedMoreData;
    }

    public async ValueTask DisposeAsync()
    {
        if (_decompressor is not null) await _decompressor.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The boilerplate of a stream that is only read, forward.</summary>
    private abstract class ReadOnlyStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <summary>The head that was looked at, then the rest of the stored stream; remembers whether the stored stream failed.</summary>
    private sealed class Replay(byte[] head, int headLength, Stream stored) : ReadOnlyStream
    {
        private int _headPosition;
        private readonly byte[] _tail = new byte[8];   // the last bytes read, oldest first
        private int _tailLength;

        /// <summary>The last (up to) eight bytes read from the file.</summary>
        public ReadOnlySpan<byte> Tail => _tail.AsSpan(8 - _tailLength);

        private int Keep(ReadOnlySpan<byte> read)
        {
            if (read.Length >= 8)
            {
                read[^8..].CopyTo(_tail);
            }
            else if (read.Length > 0)
            {
                _tail.AsSpan(read.Length).CopyTo(_tail);
                read.CopyTo(_tail.AsSpan(8 - read.Length));
            }
            _tailLength = Math.Min(8, _tailLength + read.Length);
            return read.Length;
        }

        /// <summary>Whether reading the stored stream threw: the decompressor's error is then the store's, not the data's.</summary>
        public bool Failed { get; private set; }

        public override int Read(Span<byte> buffer)
        {
            if (_headPosition < headLength) return FromHead(buffer);
            try
            {
                return Keep(buffer[..stored.Read(buffer)]);
            }
            catch
            {
                Failed = true;
                throw;
            }
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_headPosition < headLength) return FromHead(buffer.Span);
            try
            {
                var n = await stored.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                return Keep(buffer.Span[..n]);
            }
            catch
            {
                Failed = true;
                throw;
            }
        }

        private int FromHead(Span<byte> buffer)
        {
            var n = Math.Min(buffer.Length, headLength - _headPosition);
            head.AsSpan(_headPosition, n).CopyTo(buffer);
            _headPosition += n;
            return Keep(buffer[..n]);
        }
    }

    /// <summary>A decompressor whose errors about the data end the stream (and are kept in <see cref="Damage"/>) instead of throwing.</summary>
    private class StopAtDamage(Stream decompressor, Replay source, RawFileKind kind) : ReadOnlyStream
    {
        public string? Damage { get; protected set; }

        /// <summary>The file as stored.</summary>
        protected Replay Source => source;

        public override int Read(Span<byte> buffer)
        {
            if (Damage is not null) return 0;
            try
            {
                var n = decompressor.Read(buffer);
                if (n == 0 && NeedsDrain) Drain();
                Decompressed(buffer[..n]);
                return n;
            }
            catch (Exception e) when (IsDamage(e))
            {
                Damage = Describe(e);
                return 0;
            }
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Damage is not null) return 0;
            try
            {
                var n = await decompressor.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (n == 0 && NeedsDrain) await DrainAsync(cancellationToken).ConfigureAwait(false);
                Decompressed(buffer.Span[..n]);
                return n;
            }
            catch (Exception e) when (IsDamage(e))
            {
                Damage = Describe(e);
                return 0;
            }
        }

        /// <summary>Sees each read's text; an empty one is the end of the text.</summary>
        protected virtual void Decompressed(ReadOnlySpan<byte> text)
        {
        }

        /// <summary>Whether the end of the text must be followed by reading the file to its end (so its last bytes are known).</summary>
        protected virtual bool NeedsDrain => false;

        private void Drain()
        {
            Span<byte> scratch = stackalloc byte[4096];
            while (source.Read(scratch) > 0)
            {
            }
        }

        private async Task DrainAsync(CancellationToken cancellationToken)
        {
            var scratch = new byte[4096];
            while (await source.ReadAsync(scratch, cancellationToken).ConfigureAwait(false) > 0)
            {
            }
        }

        // GZipStream throws InvalidDataException for corrupt data; ZstdSharp throws ZstdException for corrupt data and
        // EndOfStreamException (an IOException, like the store's own failures: hence the check of the source) for a
        // truncated frame.
        private bool IsDamage(Exception e) => !source.Failed && e is InvalidDataException or ZstdException or EndOfStreamException;

        private string Describe(Exception e) => e is EndOfStreamException
            ? "the file ends inside a zstd frame (truncated)"
            : $"corrupt {(kind == RawFileKind.Gzip ? "gzip" : "zstd")} data ({e.Message.TrimEnd('.')})";
    }

    /// <summary>
    /// gzip data whose end is checked: when the text ends, the file's last eight bytes must be the trailer of a member that
    /// started where one of the reads ended (or at the start), with that member's CRC-32 and length; otherwise the file was
    /// cut (or its last member damaged) and <see cref="StopAtDamage.Damage"/> says so.
    /// </summary>
    private sealed class CheckedGzip(Stream decompressor, Replay file) : StopAtDamage(decompressor, file, RawFileKind.Gzip)
    {
        private readonly System.IO.Hashing.Crc32 _crc = new();
        private readonly List<(long Offset, uint Crc)> _readEnds = [(0, 0)];
        private long _length;
        private bool _ended;

        protected override bool NeedsDrain => true;

        protected override void Decompressed(ReadOnlySpan<byte> text)
        {
            if (_ended) return;
            if (text.Length > 0)
            {
                _crc.Append(text);
                _length += text.Length;
                _readEnds.Add((_length, _crc.GetCurrentHashAsUInt32()));
                return;
            }
            _ended = true;
            var tail = Source.Tail;
            if (tail.Length == 8)
            {
                var crc = BinaryPrimitives.ReadUInt32LittleEndian(tail);
                var size = BinaryPrimitives.ReadUInt32LittleEndian(tail[4..]);
                var total = _crc.GetCurrentHashAsUInt32();
                foreach (var (offset, prefix) in _readEnds)
                {
                    // The CRC-32 of the text after offset, from the CRC of all and that of the text before it.
                    if (unchecked((uint)(_length - offset)) == size && (total ^ Crc32Math.Shift(prefix, _length - offset)) == crc) return;
                }
            }
            Damage = "the gzip data ends before its last member does (the file is truncated, or its end is damaged)";
        }
    }
}

/// <summary>
/// CRC-32 (the gzip polynomial, reflected) as arithmetic on polynomials over GF(2): the CRC of A followed by B is the CRC of
/// A times x^(8·|B|), plus the CRC of B. Thread-safe (no state).
/// </summary>
internal static class Crc32Math
{
    private const uint Polynomial = 0xEDB88320; // reflected: bit 31 is the coefficient of x^0
    private const uint One = 1u << 31;

    /// <summary><paramref name="crc"/> · x^(8 · <paramref name="bytes"/>) modulo the polynomial.</summary>
    public static uint Shift(uint crc, long bytes)
    {
        var power = One;             // x^0
        var square = One >> 8;       // x^8, then x^16, x^32, … as the bits of bytes are read
        for (var n = bytes; n > 0; n >>= 1)
        {
            if ((n & 1) != 0) power = Multiply(power, square);
            square = Multiply(square, square);
        }
        return Multiply(power, crc);
    }

    /// <summary>a · b modulo the polynomial, both reflected.</summary>
    public static uint Multiply(uint a, uint b)
    {
        uint product = 0;
        for (var bit = One; bit != 0; bit >>= 1)
        {
            if ((a & bit) != 0) product ^= b;
            b = (b & 1) != 0 ? (b >> 1) ^ Polynomial : b >> 1; // b · x
        }
        return product;
    }
}
