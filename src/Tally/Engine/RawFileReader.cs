using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Tally.Engine;

/// <summary>
/// Reads one raw file as a stream and feeds each record to an <see cref="HourAggregate"/>: JSON Lines, JSON objects one
/// after another (pretty-printed or not), or JSON arrays of objects, with an optional UTF-8 BOM, CRLF and blank lines.
/// Each record is parsed from one complete span of the buffer; a record cut by the end of the buffer is parsed again
/// after the refill, so nothing is counted twice. A record that breaks the contract goes to the <see cref="RejectLog"/>;
/// after a syntax error reading resumes at the next line that starts an object (each unindented line skipped is one
/// rejected record). Memory is one buffer (1 MiB, grown
/// only for a larger record). Not thread-safe: one per worker, reused across files.
/// </summary>
internal sealed class RawFileReader
{
    /// <summary>The default read buffer: 1 MiB.</summary>
    public const int DefaultBufferBytes = 1 << 20;
    private const int MaxRecordBytes = 64 << 20;

    private static readonly byte[][] FieldNames = RawSchema.Fields.Select(f => Encoding.UTF8.GetBytes(f.Name)).ToArray();
    private static readonly RawFieldType[] FieldTypes = RawSchema.Fields.Select(f => f.Type).ToArray();
    private static readonly int TimestampField = RawSchema.IndexOf(RawSchema.Timestamp);

    /// <summary>Each field's name followed by its closing quote, for matching a name in one comparison.</summary>
    private static readonly byte[][] QuotedFieldNames = FieldNames.Select(n => (byte[])[.. n, (byte)'"']).ToArray();

    /// <summary>The first and next eight bytes of each quoted name (zero beyond its end), and masks of its bytes in them.</summary>
    private static readonly (ulong Head, ulong HeadMask, ulong Tail, ulong TailMask)[] QuotedNameWords = QuotedFieldNames.Select(n =>
    {
        var padded = new byte[16];
        var mask = new byte[16];
        n.AsSpan(0, Math.Min(n.Length, 16)).CopyTo(padded);
        mask.AsSpan(0, Math.Min(n.Length, 16)).Fill(0xFF);
        return (BinaryPrimitives.ReadUInt64LittleEndian(padded), BinaryPrimitives.ReadUInt64LittleEndian(mask),
            BinaryPrimitives.ReadUInt64LittleEndian(padded.AsSpan(8)), BinaryPrimitives.ReadUInt64LittleEndian(mask.AsSpan(8)));
    }).ToArray();

    /// <summary>Whether the bytes at <paramref name="start"/> are field <paramref name="field"/>'s name and its closing quote.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsQuotedName(ReadOnlySpan<byte> data, int start, int field)
    {
        var quoted = QuotedFieldNames[field];
        if (quoted.Length > 16 || start + 16 > data.Length) return data[start..].StartsWith(quoted);
        // Two word comparisons instead of a call: the names are short.
        var (head, headMask, tail, tailMask) = QuotedNameWords[field];
        return (BinaryPrimitives.ReadUInt64LittleEndian(data[start..]) & headMask) == head
            && (BinaryPrimitives.ReadUInt64LittleEndian(data[(start + 8)..]) & tailMask) == tail;
    }

    /// <summary>For each byte, the one field whose name starts with it, or -1 (none, or several).</summary>
    private static readonly sbyte[] FieldByFirstByte = Enumerable.Range(0, 256)
        .Select(b => FieldNames.Select((n, i) => (n, i)).Where(f => f.n.Length > 0 && f.n[0] == b).ToList() is [var only] ? (sbyte)only.i : (sbyte)-1)
        .ToArray();

    /// <summary>Bytes that end the fast scan of a string: its closing quote, an escape, or a control character (invalid JSON).</summary>
    private static readonly SearchValues<byte> StringStops = SearchValues.Create(
        [(byte)'"', (byte)'\\', .. Enumerable.Range(0, 0x20).Select(b => (byte)b)]);

    private readonly HourAggregate _aggregate;
    private readonly RejectLog _rejects;
    private readonly long _hourStartTicks;    // the hour, as UTC ticks [start, end): compared per record
    private readonly long _hourEndTicks;
    private readonly ulong _hourPrefixHead;   // "yyyy-MM-" of the hour
    private readonly ulong _hourPrefixTail;   // "ddTHH" of the hour, in the low five bytes
    private readonly Slot[] _slots = new Slot[RawSchema.Fields.Count];
    private byte[] _buffer;
    private byte[] _scratch = new byte[4096];
    private int _scratchUsed;

    // Per file.
    private string _file = "";
    private bool _inArray;
    private long _bufferOffset;     // file offset of _buffer[0]
    private long _linesCounted;     // newlines before _buffer[_countedTo], from the file's start
    private int _countedTo;         // where in _buffer the line count has reached (only rejects need line numbers)
    private string? _syntaxError;

    public RawFileReader(HourAggregate aggregate, RejectLog rejects, HourWindow hour, int bufferBytes = DefaultBufferBytes)
    {
        _buffer = new byte[Math.Max(16, bufferBytes)];
        _aggregate = aggregate;
        _rejects = rejects;
        _hourStartTicks = hour.Start.UtcTicks;
        _hourEndTicks = hour.End.UtcTicks;
        Span<byte> prefix = stackalloc byte[16];
        Encoding.ASCII.GetBytes(hour.Start.UtcDateTime.ToString("yyyy-MM-dd'T'HH", System.Globalization.CultureInfo.InvariantCulture), prefix);
        _hourPrefixHead = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        _hourPrefixTail = BinaryPrimitives.ReadUInt64LittleEndian(prefix[8..]) & 0xFF_FFFF_FFFFUL;
    }

    /// <summary>
    /// Whether <paramref name="value"/> is exactly <c>yyyy-MM-ddTHH:mm:ssZ</c> or <c>yyyy-MM-ddTHH:mm:ss.fffZ</c> within this
    /// reader's hour, the timestamps almost every record has: then it is valid and inside the hour without computing its
    /// ticks. Anything else (other hours, offsets, other precisions, leap seconds) goes to the full parser.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool IsPlainTimestampOfTheHour(ReadOnlySpan<byte> value)
    {
        if (value.Length is not (20 or 24)
            || BinaryPrimitives.ReadUInt64LittleEndian(value) != _hourPrefixHead
            || (BinaryPrimitives.ReadUInt64LittleEndian(value[8..]) & 0xFF_FFFF_FFFFUL) != _hourPrefixTail
            || value[13] != ':' || value[16] != ':' || value[^1] != 'Z'
            || !IsDigitPair(value[14], value[15], '5') || !IsDigitPair(value[17], value[18], '5'))
        {
            return false;
        }
        return value.Length == 20 || (value[19] == '.' && IsDigit(value[20]) && IsDigit(value[21]) && IsDigit(value[22]));

        static bool IsDigit(byte b) => unchecked((uint)(b - '0')) <= 9;
        static bool IsDigitPair(byte tens, byte ones, char maxTens) => tens >= '0' && tens <= maxTens && IsDigit(ones);
    }

    /// <summary>Reads every record of <paramref name="stream"/>, which holds the file <paramref name="file"/>.</summary>
    /// <returns>The number of bytes read from the (decompressed) stream.</returns>
    public async Task<long> ReadAsync(Stream stream, string file, CancellationToken cancellationToken)
    {
        _file = file;
        _inArray = false;
        _bufferOffset = 0;
        _linesCounted = 0;
        _countedTo = 0;
        var filled = 0;
        var eof = false;
        var atStart = true;
        while (true)
        {
            while (!eof && filled < _buffer.Length)
            {
                var n = await stream.ReadAsync(_buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
                if (n == 0) eof = true;
                else filled += n;
            }
            var start = 0;
            if (atStart)
            {
                if (filled >= 3 && _buffer[0] == 0xEF && _buffer[1] == 0xBB && _buffer[2] == 0xBF) start = 3;
                atStart = false;
            }
            var consumed = Process(_buffer.AsSpan(0, filled), start, eof);
            if (eof) return _bufferOffset + filled;

            var remaining = filled - consumed;
            if (consumed == 0)
            {
                // One record fills the whole buffer: grow it.
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }
            else
            {
                _linesCounted += _buffer.AsSpan(_countedTo, consumed - _countedTo).Count((byte)'\n');
                _countedTo = 0;
                _bufferOffset += consumed;
                Buffer.BlockCopy(_buffer, consumed, _buffer, 0, remaining);
            }
            filled = remaining;
        }
    }

    private enum Outcome
    {
        Done,
        NeedMoreData,
        SyntaxError,
    }

    /// <summary>Handles every complete record in <paramref name="data"/> from <paramref name="pos"/>; returns where the first incomplete one starts.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Process(ReadOnlySpan<byte> data, int pos, bool isFinal)
    {
        while (true)
        {
            pos = SkipWhitespace(data, pos);
            if (pos >= data.Length) return pos;
            var b = data[pos];
            if (_inArray)
            {
                if (b == ',') { pos++; continue; }
                if (b == ']') { _inArray = false; pos++; continue; }
            }
            else if (b == '[')
            {
                _inArray = true;
                pos++;
                continue;
            }

            var outcome = ParseRecord(data, pos, isFinal, out var length);
            if (outcome == Outcome.Done)
            {
                pos += length;
                continue;
            }
            var tooLarge = data.Length - pos >= MaxRecordBytes;
            if (outcome == Outcome.NeedMoreData)
            {
                if (!isFinal && !tooLarge) return pos;
                Reject(data, pos, data.Length - pos, tooLarge ? "record larger than 64 MiB" : "truncated record at the end of the file");
                return data.Length;
            }
            var resync = FindResync(data, pos, isFinal || tooLarge);
            if (resync < 0) return pos;
            RejectUnreadable(data, pos, resync);
            pos = resync;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Outcome ParseRecord(ReadOnlySpan<byte> data, int start, bool isFinal, out int length)
    {
        if (TryReadFlatRecord(data, start, out length)) return Outcome.Done;
        length = 0;
        var span = data[start..];
        var reader = new Utf8JsonReader(span, isFinal, default);
        try
        {
            if (!reader.Read()) return Outcome.NeedMoreData;
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                var found = reader.TokenType;
                if (!reader.TrySkip()) return Outcome.NeedMoreData;
                length = (int)reader.BytesConsumed;
                Reject(data, start, length, $"not a JSON object (found {Describe(found)})");
                return Outcome.Done;
            }

            Array.Clear(_slots);
            _scratchUsed = 0;
            string? reason = null;
            long timestampTicks = 0;
            var hasTimestamp = false;
            while (true)
            {
                if (!reader.Read()) return Outcome.NeedMoreData;
                if (reader.TokenType == JsonTokenType.EndObject) break;
                var field = MatchField(ref reader);
                if (!reader.Read()) return Outcome.NeedMoreData;
                if (field < 0)
                {
                    if (!reader.TrySkip()) return Outcome.NeedMoreData;
                    continue;
                }
                ref var slot = ref _slots[field];
                var token = reader.TokenType;
                if (token == JsonTokenType.Null)
                {
                    slot.Kind = SlotKind.Null;
                    if (field == TimestampField) hasTimestamp = false;
                    continue;
                }
                switch (FieldTypes[field])
                {
                    case RawFieldType.Int64:
                        if (token == JsonTokenType.Number && reader.TryGetInt64(out var value))
                        {
                            slot.Kind = SlotKind.Int64;
                            slot.Int64 = value;
                        }
                        else
                        {
                            reason ??= token == JsonTokenType.Number
                                ? $"{RawSchema.Fields[field].Name} is not a 64-bit integer"
                                : $"{RawSchema.Fields[field].Name} is not an integer (found {Describe(token)})";
                            if (!reader.TrySkip()) return Outcome.NeedMoreData;
                        }
                        break;
                    case RawFieldType.String:
                        if (token == JsonTokenType.String)
                        {
                            if (!CaptureString(ref reader, ref slot, start)) reason ??= $"{RawSchema.Fields[field].Name} has an escape that is not valid text (a lone surrogate)";
                            else if (!Utf8.IsValid(SlotBytes(in slot, data))) reason ??= $"{RawSchema.Fields[field].Name} is not valid UTF-8";
                        }
                        else
                        {
                            reason ??= $"{RawSchema.Fields[field].Name} is not a string (found {Describe(token)})";
                            if (!reader.TrySkip()) return Outcome.NeedMoreData;
                        }
                        break;
                    default: // Timestamp
                        if (token == JsonTokenType.String)
                        {
                            if (!CaptureString(ref reader, ref slot, start)) reason ??= $"{RawSchema.Fields[field].Name} has an escape that is not valid text (a lone surrogate)";
                            else if (Iso8601.TryParseUtcTicks(SlotBytes(in slot, data), out timestampTicks)) hasTimestamp = true;
                            else reason ??= $"{RawSchema.Fields[field].Name} is not an ISO-8601 date-time";
                        }
                        else
                        {
                            reason ??= $"{RawSchema.Fields[field].Name} is not an ISO-8601 date-time string (found {Describe(token)})";
                            if (!reader.TrySkip()) return Outcome.NeedMoreData;
                        }
                        break;
                }
            }
            length = (int)reader.BytesConsumed;
            if (reason is not null)
            {
                Reject(data, start, length, reason);
                return Outcome.Done;
            }
            if (hasTimestamp && (timestampTicks < _hourStartTicks || timestampTicks >= _hourEndTicks)) _aggregate.OutsideWindow++;
            _aggregate.Add(_slots, data, _scratch);
            return Outcome.Done;
        }
        catch (JsonException e)
        {
            // On the final block the reader throws, rather than asking for more, when the data ends inside a record.
            if (isFinal && span[(int)reader.BytesConsumed..].TrimStart(" \t\r\n"u8).IsEmpty) return Outcome.NeedMoreData;
            _syntaxError = FirstSentence(e.Message);
            return Outcome.SyntaxError;
        }
    }

    /// <summary>
    /// The fast path for the common record: one flat object whose strings have no escapes and whose numbers are
    /// integers. It counts the record and returns true only when the record is complete and valid; anything else
    /// (escapes, nesting, booleans, fractions, type errors, syntax errors, the end of the buffer) returns false with no
    /// side effect, and the general <see cref="Utf8JsonReader"/> path decides.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryReadFlatRecord(ReadOnlySpan<byte> data, int start, out int length)
    {
        length = 0;
        var p = start;
        if (data[p] != '{') return false;
        Array.Clear(_slots);
        long timestampTicks = 0;
        var hasTimestamp = false;
        p = SkipSpace(data, p + 1);
        if (p >= data.Length) return false;
        if (data[p] == '}')
        {
            p++;
        }
        else
        {
            while (true)
            {
                if (p >= data.Length || data[p] != '"') return false;
                var nameStart = p + 1;
                int field, nameLength;
                // The field its first letter names, when the bytes are exactly that name and its closing quote; else the scan.
                if (nameStart < data.Length && FieldByFirstByte[data[nameStart]] is var guess and >= 0 && IsQuotedName(data, nameStart, guess))
                {
                    field = guess;
                    nameLength = QuotedFieldNames[guess].Length - 1;
                }
                else
                {
                    nameLength = StringEnd(data, nameStart);
                    if (nameLength < 0 || data[nameStart + nameLength] != '"') return false;
                    field = FieldIndex(data.Slice(nameStart, nameLength));
                }
                p = SkipSpace(data, nameStart + nameLength + 1);
                if (p >= data.Length || data[p] != ':') return false;
                p = SkipSpace(data, p + 1);
                if (p >= data.Length) return false;
                var b = data[p];
                if (b == '"')
                {
                    var valueStart = p + 1;
                    var valueLength = StringEnd(data, valueStart, out var ascii);
                    if (valueLength < 0 || data[valueStart + valueLength] != '"') return false;
                    p = valueStart + valueLength + 1;
                    if (field >= 0)
                    {
                        var value = data.Slice(valueStart, valueLength);
                        switch (FieldTypes[field])
                        {
                            case RawFieldType.Int64:
                                return false;
                            case RawFieldType.Timestamp:
                                if (IsPlainTimestampOfTheHour(value)) timestampTicks = _hourStartTicks;
                                else if (!Iso8601.TryParseUtcTicks(value, out timestampTicks)) return false;
                                hasTimestamp = true;
                                break;
                            default:
                                if (!ascii && !Utf8.IsValid(value)) return false;
                                break;
                        }
                        ref var slot = ref _slots[field];
                        slot.Kind = SlotKind.String;
                        slot.InScratch = false;
                        slot.Offset = valueStart;
                        slot.Length = valueLength;
                    }
                }
                else if (b == 'n')
                {
                    if (!data[p..].StartsWith("null"u8)) return false;
                    p += 4;
                    if (field >= 0)
                    {
                        _slots[field].Kind = SlotKind.Null;
                        if (field == TimestampField) hasTimestamp = false;
                    }
                }
                else if (b == '-' || unchecked((uint)(b - '0')) <= 9)
                {
                    if (!TryReadInteger(data, ref p, out var value)) return false;
                    if (field >= 0)
                    {
                        if (FieldTypes[field] != RawFieldType.Int64) return false;
                        _slots[field].Kind = SlotKind.Int64;
                        _slots[field].Int64 = value;
                    }
                }
                else
                {
                    return false;
                }
                p = SkipSpace(data, p);
                if (p >= data.Length) return false;
                if (data[p] == ',')
                {
                    p = SkipSpace(data, p + 1);
                    continue;
                }
                if (data[p] != '}') return false;
                p++;
                break;
            }
        }
        length = p - start;
        if (hasTimestamp && (timestampTicks < _hourStartTicks || timestampTicks >= _hourEndTicks)) _aggregate.OutsideWindow++;
        _aggregate.Add(_slots, data, _scratch);
        return true;
    }

    /// <summary>
    /// Where the string starting at <paramref name="start"/> stops being plain (its closing quote, an escape or a control
    /// character), relative to <paramref name="start"/>; -1 when not in <paramref name="data"/>. The first 32 bytes are
    /// checked eight at a time in a register (most names and values end there, and a vector search costs more to set up
    /// than that); longer strings go on with the vectorized search.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int StringEnd(ReadOnlySpan<byte> data, int start) => StringEnd(data, start, out _);

    /// <inheritdoc cref="StringEnd(ReadOnlySpan{byte}, int)"/>
    /// <param name="ascii">True when every byte before the end was seen to be ASCII (so the string is valid UTF-8); false
    /// when some was not, or when the string was too long to look.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int StringEnd(ReadOnlySpan<byte> data, int start, out bool ascii)
    {
        const ulong Ones = 0x0101010101010101UL, Highs = 0x8080808080808080UL;
        var i = start;
        ulong high = 0;
        for (var limit = Math.Min(start + 32, data.Length - 8); i <= limit; i += 8)
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
        ascii = false;
        var rest = data[i..].IndexOfAny(StringStops);
        return rest < 0 ? -1 : i - start + rest;
    }

    /// <summary>A JSON integer that fits in 64 bits (no fraction, no exponent, no leading zero); false for anything else.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TryReadInteger(ReadOnlySpan<byte> data, ref int p, out long value)
    {
        value = 0;
        var i = p;
        var negative = data[i] == '-';
        if (negative) i++;
        var first = i;
        ulong magnitude = 0;
        while (i < data.Length && unchecked((uint)(data[i] - '0')) <= 9)
        {
            if (i - first >= 19) return false; // 20+ digits never fit
            magnitude = magnitude * 10 + unchecked((uint)(data[i] - '0'));
            i++;
        }
        var digits = i - first;
        if (digits == 0 || (digits > 1 && data[first] == '0') || i >= data.Length) return false;
        if (data[i] is (byte)'.' or (byte)'e' or (byte)'E') return false;
        if (negative ? magnitude > 9_223_372_036_854_775_808UL : magnitude > long.MaxValue) return false;
        value = negative ? unchecked(-(long)magnitude) : (long)magnitude;
        p = i;
        return true;
    }

    private static int MatchField(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped)
        {
            Span<byte> unescaped = stackalloc byte[64];
            if (reader.ValueSpan.Length > unescaped.Length) return -1;
            try
            {
                return FieldIndex(unescaped[..reader.CopyString(unescaped)]);
            }
            catch (InvalidOperationException)
            {
                return -1; // Not valid text (a lone surrogate escape), so none of the contract's names: skipped like any other.
            }
        }
        return FieldIndex(reader.ValueSpan);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int FieldIndex(ReadOnlySpan<byte> name)
    {
        for (var i = 0; i < FieldNames.Length; i++)
        {
            if (FieldNames[i].Length == name.Length && name.SequenceEqual(FieldNames[i])) return i;
        }
        return -1;
    }

    /// <summary>
    /// Points <paramref name="slot"/> at the current string's bytes, unescaped into the scratch buffer when needed. False
    /// when its escapes do not make valid text (a lone surrogate such as <c>\ud800</c>, which the reader lets through).
    /// </summary>
    private bool CaptureString(ref Utf8JsonReader reader, ref Slot slot, int recordStart)
    {
        slot.Kind = SlotKind.String;
        if (!reader.ValueIsEscaped)
        {
            slot.InScratch = false;
            slot.Offset = recordStart + (int)reader.TokenStartIndex + 1;
            slot.Length = reader.ValueSpan.Length;
            return true;
        }
        var needed = _scratchUsed + reader.ValueSpan.Length;
        if (needed > _scratch.Length) Array.Resize(ref _scratch, Math.Max(_scratch.Length * 2, needed));
        int written;
        try
        {
            written = reader.CopyString(_scratch.AsSpan(_scratchUsed));
        }
        catch (InvalidOperationException)
        {
            slot.Kind = SlotKind.Null;
            return false;
        }
        slot.InScratch = true;
        slot.Offset = _scratchUsed;
        slot.Length = written;
        _scratchUsed += written;
        return true;
    }

    private ReadOnlySpan<byte> SlotBytes(in Slot slot, ReadOnlySpan<byte> data) =>
        slot.InScratch ? _scratch.AsSpan(slot.Offset, slot.Length) : data.Slice(slot.Offset, slot.Length);

    /// <summary>
    /// Where to resume after a syntax error at <paramref name="start"/>: the next line whose first non-blank byte opens
    /// an object or array. -1 when that is not in the buffer yet and more data may come.
    /// </summary>
    private static int FindResync(ReadOnlySpan<byte> data, int start, bool isFinal)
    {
        var pos = start;
        while (true)
        {
            var newline = data[pos..].IndexOf((byte)'\n');
            if (newline < 0) return isFinal ? data.Length : -1;
            pos += newline + 1;
            var p = pos;
            while (p < data.Length && (data[p] == ' ' || data[p] == '\t' || data[p] == '\r')) p++;
            if (p >= data.Length) return isFinal ? data.Length : -1;
            if (data[p] == '{' || data[p] == '[') return pos;
        }
    }

    /// <summary><see cref="SkipWhitespace"/> without a call when there is nothing to skip, as between most tokens.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SkipSpace(ReadOnlySpan<byte> data, int pos) =>
        (uint)pos < (uint)data.Length && data[pos] > (byte)' ' ? pos : SkipWhitespace(data, pos);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int SkipWhitespace(ReadOnlySpan<byte> data, int pos)
    {
        while (pos < data.Length)
        {
            var b = data[pos];
            if (b != ' ' && b != '\n' && b != '\r' && b != '\t') break;
            pos++;
        }
        return pos;
    }

    /// <summary>
    /// Rejects the bytes from a syntax error at <paramref name="start"/> to where reading resumes, one rejected record per
    /// line in it that starts at its first column with anything but <c>}</c>, <c>]</c> or <c>,</c>: thirty lines of
    /// garbage count as thirty rejected records against the threshold, while the indented lines of one broken
    /// pretty-printed object stay one.
    /// </summary>
    private void RejectUnreadable(ReadOnlySpan<byte> data, int start, int end)
    {
        var reason = $"not valid JSON: {_syntaxError}";
        var piece = start;
        var pos = start;
        while (true)
        {
            var newline = data[pos..end].IndexOf((byte)'\n');
            if (newline < 0) break;
            pos += newline + 1;
            if (pos >= end) break;
            var b = data[pos];
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)'}' or (byte)']' or (byte)',') continue;
            Reject(data, piece, pos - piece, reason);
            reason = "not valid JSON: the line does not start a JSON object";
            piece = pos;
        }
        Reject(data, piece, end - piece, reason);
    }

    private void Reject(ReadOnlySpan<byte> data, int start, int length, string reason)
    {
        _aggregate.Rejected++;
        // Rejects come in file order: count on from the last one, not from the buffer's start each time.
        _linesCounted += data[_countedTo..start].Count((byte)'\n');
        _countedTo = start;
        var line = _linesCounted + 1;
        var text = data.Slice(start, length).TrimEnd("\r\n \t"u8);
        _rejects.Add(_file, line, _bufferOffset + start, reason, text);
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartArray => "an array",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };

    /// <summary>
    /// The first sentence of a System.Text.Json message, cut at its first line break and at 120 characters: the message
    /// quotes the literal it choked on, which can run past the record into the following lines.
    /// </summary>
    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        var sentence = cut > 0 ? message[..cut] : message.TrimEnd('.');
        var lineBreak = sentence.IndexOfAny(['\r', '\n']);
        if (lineBreak >= 0) sentence = sentence[..lineBreak] + "...'";
        return sentence.Length <= 120 ? sentence : sentence[..117] + "...";
    }
}
