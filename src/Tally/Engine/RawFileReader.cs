using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.Win32.SafeHandles;

namespace Tally.Engine;

/// <summary>
/// Reads one raw file as a stream and feeds each record to an <see cref="HourAggregate"/>: JSON Lines, JSON objects one
/// after another (pretty-printed or not), or JSON arrays of objects, with an optional UTF-8 BOM, CRLF and blank lines.
/// Each record is parsed from one complete span of the buffer; a record cut by the end of the buffer is parsed again
/// after the refill, so nothing is counted twice. A record that breaks the contract goes to the <see cref="RejectLog"/>;
/// after a syntax error reading resumes at the next line that starts an object (each unindented line skipped is one
/// rejected record). Memory is one buffer (1 MiB, grown
/// only for a larger record). A file may also be read as byte ranges (<see cref="ReadRangeAsync"/>, planned by
/// <see cref="FileSplits"/>). Not thread-safe: one per worker, reused across files.
/// </summary>
internal sealed class RawFileReader
{
    /// <summary>The default read buffer: 1 MiB.</summary>
    public const int DefaultBufferBytes = 1 << 20;
    private const int MaxRecordBytes = 64 << 20;

    /// <summary>How deep a record may nest, itself included: System.Text.Json's default, which the general path applies.</summary>
    private const int MaxDepth = 64;

    private readonly HourAggregate _aggregate;
    private readonly RejectLog _rejects;
    private readonly FieldLevel _root;         // the declared names, level by level of nesting
    private readonly RawFieldType[] _types;    // per schema field
    private readonly string[] _names;          // per schema field: its declared name, for reasons
    private readonly int _eventTimeField;      // schema index of the event time, or -1 for no check
    private readonly long _hourStartTicks;    // the hour, as UTC ticks [start, end): compared per record
    private readonly long _hourEndTicks;
    private readonly ulong _hourPrefixHead;   // "yyyy-MM-" of the hour
    private readonly ulong _hourPrefixTail;   // "ddTHH" of the hour, in the low five bytes
    private readonly Slot[] _slots;
    private byte[] _buffer;
    private byte[] _scratch = new byte[4096];
    private int _scratchUsed;

    // Per file.
    private string _file = "";
    private ArrayState _array;
    private int _arrayMark;         // in an array: after its '[', its last value, or at its last ','; where a refill resumes
    private long _bufferOffset;     // file offset of _buffer[0]
    private long _linesCounted;     // newlines before _buffer[_countedTo], from the range's start
    private int _countedTo;         // where in _buffer the line count has reached (only rejects need line numbers)
    private SafeFileHandle? _rereadable; // the file, when its bytes can be read again: lines are then counted only once a reject needs them
    private bool _linesUnknown;     // with _rereadable: the newlines before _buffer[0] are not counted yet
    private long _rangeStart;       // file offset where this range starts: its lines are counted from there
    private string? _syntaxError;
    private List<PendingReject>? _pending; // rejects of a range after the file's first: renumbered by the caller
    private long _limit;            // file offset where this range ends: no record starting there or later is read
    private long _stoppedAt;        // file offset where reading stopped at _limit, or -1

    public RawFileReader(SourceSchema schema, HourAggregate aggregate, RejectLog rejects, HourWindow hour, int bufferBytes = DefaultBufferBytes)
    {
        _buffer = new byte[Math.Max(16, bufferBytes)];
        _aggregate = aggregate;
        _rejects = rejects;
        _root = FieldLevel.Build(schema);
        _types = schema.Fields.Select(f => f.Type).ToArray();
        _names = schema.Fields.Select(f => f.Name).ToArray();
        _eventTimeField = schema.EventTime is { } time ? schema.IndexOf(time) : -1;
        _slots = new Slot[schema.Fields.Count];
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
    /// <param name="rereadable">The file itself when <paramref name="stream"/> gives its bytes as they are (a local
    /// file that is not compressed): then no line is counted unless a record is rejected, when the bytes before it are read
    /// again to count them. Null for a stream that cannot be read again (compressed, or from S3): its lines are counted as it
    /// is read.</param>
    /// <returns>The number of bytes read from the (decompressed) stream.</returns>
    public async Task<long> ReadAsync(Stream stream, string file, SafeFileHandle? rereadable, CancellationToken cancellationToken) =>
        (await ReadRangeAsync(stream, file, 0, long.MaxValue, null, rereadable, cancellationToken).ConfigureAwait(false)).BytesRead;

    /// <summary>
    /// Reads the records of <paramref name="file"/> that start in <c>[start, limit)</c>: <paramref name="stream"/> is the
    /// file from byte <paramref name="start"/> on (a record that starts before <paramref name="limit"/> is read to its end,
    /// past it if need be). A range that does not start the file (<paramref name="start"/> &gt; 0) has no BOM, begins
    /// outside any array, counts its lines from 1 and sends its rejects to <paramref name="pending"/>, for the caller to
    /// renumber once the lines before the range are known; offsets are the file's.
    /// </summary>
    /// <returns>Bytes read, where reading stopped (the first record start or byte at or after <paramref name="limit"/>, or
    /// the end), the lines (newlines) before that point from <paramref name="start"/> (-1 when they were not counted: see
    /// <paramref name="rereadable"/>), and whether reading stopped there at the top level of the file, outside any array:
    /// only then is the next range's start state the one an unsplit read would have had.</returns>
    internal async Task<RangeEnd> ReadRangeAsync(Stream stream, string file, long start, long limit, List<PendingReject>? pending, SafeFileHandle? rereadable,
        CancellationToken cancellationToken)
    {
        _file = file;
        _pending = pending;
        _limit = limit;
        _stoppedAt = -1;
        _array = ArrayState.None;
        _bufferOffset = start;
        _rangeStart = start;
        _linesCounted = 0;
        _countedTo = 0;
        _rereadable = rereadable;
        _linesUnknown = false;
        var filled = 0;
        var eof = false;
        var atStart = start == 0;
        while (true)
        {
            while (!eof && filled < _buffer.Length)
            {
                var n = await stream.ReadAsync(_buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
                if (n == 0) eof = true;
                else filled += n;
            }
            var first = 0;
            if (atStart)
            {
                if (filled >= 3 && _buffer[0] == 0xEF && _buffer[1] == 0xBB && _buffer[2] == 0xBF) first = 3;
                atStart = false;
            }
            var consumed = Process(_buffer.AsSpan(0, filled), first, eof);
            if (_stoppedAt >= 0) return new RangeEnd(_bufferOffset + filled - start, _stoppedAt, LinesTo(consumed), _array == ArrayState.None);
            if (eof) return new RangeEnd(_bufferOffset + filled - start, _bufferOffset + filled, LinesTo(filled), _array == ArrayState.None);

            var remaining = filled - consumed;
            if (consumed == 0)
            {
                // One record fills the whole buffer: grow it.
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }
            else
            {
                // The lines of what is let go of are counted now, unless the file can be read again to count them later.
                if (_rereadable is null) _linesCounted += _buffer.AsSpan(_countedTo, consumed - _countedTo).Count((byte)'\n');
                else _linesUnknown = true;
                _countedTo = 0;
                _bufferOffset += consumed;
                Buffer.BlockCopy(_buffer, consumed, _buffer, 0, remaining);
            }
            filled = remaining;
        }
    }

    /// <summary>The newlines from the range's start to <c>_buffer[end]</c>, or -1 when they were not counted.</summary>
    private long LinesTo(int end) => _linesUnknown ? -1 : _linesCounted + _buffer.AsSpan(_countedTo, end - _countedTo).Count((byte)'\n');

    /// <summary>
    /// Counts the newlines before the buffer by reading the file again, from the range's start: the first reject after the
    /// buffer was refilled needs them. The rest of the file is counted as it is read, as for a file that cannot be read again.
    /// </summary>
    private void CountSkippedLines()
    {
        _linesCounted = CountNewlines(_rereadable!, _rangeStart, _bufferOffset);
        _linesUnknown = false;
        _rereadable = null;
    }

    /// <summary>The newlines in bytes <c>[from, to)</c> of <paramref name="file"/>.</summary>
    /// <exception cref="IOException">When the file cannot be read, or has become shorter than <paramref name="to"/>.</exception>
    internal static long CountNewlines(SafeFileHandle file, long from, long to)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(DefaultBufferBytes);
        try
        {
            long lines = 0;
            for (var at = from; at < to;)
            {
                var n = RandomAccess.Read(file, buffer.AsSpan(0, (int)Math.Min(buffer.Length, to - at)), at);
                if (n == 0) throw new IOException($"The file ended at byte {at:N0} while its lines were counted up to byte {to:N0}: it was changed while it was read.");
                lines += buffer.AsSpan(0, n).Count((byte)'\n');
                at += n;
            }
            return lines;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>How a <see cref="ReadRangeAsync"/> ended: see there.</summary>
    internal readonly record struct RangeEnd(long BytesRead, long StoppedAt, long Lines, bool AtTopLevel);

    /// <summary>A rejected record of a range that does not start its file, its line counted from the range's start (1-based).</summary>
    internal readonly record struct PendingReject(long Line, long Offset, string Reason, byte[] Record);

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
        // Where the file's top-level array stands is kept across refills at _arrayMark, the start of this buffer.
        if (_array is not (ArrayState.None or ArrayState.Lenient)) _arrayMark = pos;
        while (true)
        {
            pos = SkipWhitespace(data, pos);
            if (_bufferOffset + pos >= _limit && pos < data.Length)
            {
                _stoppedAt = _bufferOffset + pos;
                return pos;
            }
            if (pos >= data.Length)
            {
                if (isFinal && _array is not (ArrayState.None or ArrayState.Lenient))
                {
                    Reject(data, _arrayMark, data.Length - _arrayMark, "truncated: the file ends inside a JSON array (its ']' is missing)");
                    _array = ArrayState.None;
                }
                return Stop(pos);
            }
            var b = data[pos];
            var outcome = Outcome.Done;
            var length = 0;
            if (_array != ArrayState.None)
            {
                if (_array == ArrayState.Lenient && b is (byte)',' or (byte)']')
                {
                    if (b == ']') _array = ArrayState.None;
                    pos++;
                    continue;
                }
                if (b == ',')
                {
                    // RFC 8259 has no empty elements: '[,' and ',,' are each one rejected record.
                    if (_array != ArrayState.AfterValue) Reject(data, pos, 1, "not valid JSON: an empty element in an array (a ',' where a value belongs)");
                    _array = ArrayState.AfterComma;
                    _arrayMark = pos++;
                    continue;
                }
                if (b == ']')
                {
                    if (_array == ArrayState.AfterComma) Reject(data, _arrayMark, pos + 1 - _arrayMark, "not valid JSON: a ',' before the end of an array");
                    _array = ArrayState.None;
                    pos++;
                    continue;
                }
                if (_array == ArrayState.AfterValue)
                {
                    _syntaxError = "a value follows the one before it in an array without a ',' between them";
                    outcome = Outcome.SyntaxError;
                }
            }
            else if (b == '[')
            {
                _array = ArrayState.AfterOpen;
                _arrayMark = ++pos;
                continue;
            }

            if (outcome == Outcome.Done) outcome = ParseRecord(data, pos, isFinal, out length);
            if (outcome == Outcome.Done)
            {
                pos += length;
                if (_array is not (ArrayState.None or ArrayState.Lenient))
                {
                    _array = ArrayState.AfterValue;
                    _arrayMark = pos;
                }
                continue;
            }
            var tooLarge = data.Length - pos >= MaxRecordBytes;
            if (outcome == Outcome.NeedMoreData)
            {
                if (!isFinal && !tooLarge) return Stop(pos);
                Reject(data, pos, data.Length - pos, tooLarge ? "record larger than 64 MiB" : "truncated record at the end of the file");
                _array = ArrayState.None;
                return data.Length;
            }
            var resync = FindResync(data, pos, isFinal || tooLarge);
            if (resync < 0) return Stop(pos);
            RejectUnreadable(data, pos, resync);
            pos = resync;
            // Inside an array, where the broken value ended is unknown: its ',' and ']' are no longer checked.
            if (_array != ArrayState.None) _array = ArrayState.Lenient;
        }
    }

    /// <summary>
    /// Where this buffer's reading stops for more data, at <paramref name="pos"/>: inside an array, back at its mark instead,
    /// so that what comes after the last value or ',' is read again with the next refill (a ',' is read again as the first
    /// one after a value).
    /// </summary>
    private int Stop(int pos)
    {
        if (_array is ArrayState.None or ArrayState.Lenient) return pos;
        if (_array == ArrayState.AfterComma) _array = ArrayState.AfterValue;
        return Math.Min(pos, _arrayMark);
    }

    /// <summary>Where reading stands inside a top-level JSON array of the file.</summary>
    private enum ArrayState
    {
        None,
        AfterOpen,   // after '[' (or after a syntax error inside it): a value or ']'
        AfterValue,  // after a value: ',' or ']'
        AfterComma,  // after ',': a value
        Lenient,     // after a syntax error inside it: values, and ',' and ']' taken as they come
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

            ResetSlots();
            _scratchUsed = 0;
            var record = new RecordState();
            if (!ReadObject(ref reader, _root, data, start, ref record)) return Outcome.NeedMoreData;
            length = (int)reader.BytesConsumed;
            if (record.Reason is not null)
            {
                Reject(data, start, length, record.Reason);
                return Outcome.Done;
            }
            if (record.HasEventTime && (record.EventTicks < _hourStartTicks || record.EventTicks >= _hourEndTicks)) _aggregate.OutsideWindow++;
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

    /// <summary>Marks every slot missing before a record: each reader of a slot looks at its kind first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ResetSlots()
    {
        foreach (ref var slot in _slots.AsSpan()) slot.Kind = SlotKind.Missing;
    }

    /// <summary>What the general path has found in the record so far: the first reason to reject it, and its event time.</summary>
    private struct RecordState
    {
        public string? Reason;
        public long EventTicks;
        public bool HasEventTime;
    }

    /// <summary>
    /// Reads the object the reader has just entered, whose declared keys are <paramref name="level"/>'s, to its end: the
    /// declared values into their slots, nested declared objects level by level, every other value skipped (the reader
    /// still checks its syntax). False when the data ends before the object does.
    /// </summary>
    private bool ReadObject(ref Utf8JsonReader reader, FieldLevel level, ReadOnlySpan<byte> data, int start, ref RecordState record)
    {
        while (true)
        {
            if (!reader.Read()) return false;
            if (reader.TokenType == JsonTokenType.EndObject) return true;
            var key = MatchKey(ref reader, level);
            if (key < 0 && !Utf8.IsValid(reader.ValueSpan)) record.Reason ??= "a key is not valid UTF-8";
            if (!reader.Read()) return false;
            if (key < 0)
            {
                if (!SkipChecked(ref reader, ref record)) return false;
                continue;
            }
            var token = reader.TokenType;
            if (level.Children[key] is { } child)
            {
                if (token == JsonTokenType.StartObject)
                {
                    if (!ReadObject(ref reader, child, data, start, ref record)) return false;
                }
                else
                {
                    // null: the fields inside are null. Anything else cannot hold them.
                    if (token != JsonTokenType.Null) record.Reason ??= $"{Encoding.UTF8.GetString(level.Names[key])} is not an object (found {Describe(token)}), so it cannot hold {string.Join(", ", FieldsUnder(child))}";
                    if (!reader.TrySkip()) return false;
                }
                continue;
            }

            var field = level.Fields[key];
            ref var slot = ref _slots[field];
            if (token == JsonTokenType.Null)
            {
                slot.Kind = SlotKind.Null;
                if (field == _eventTimeField) record.HasEventTime = false;
                continue;
            }
            var name = _names[field];
            switch (_types[field])
            {
                case RawFieldType.Int64:
                    if (token == JsonTokenType.Number && reader.TryGetInt64(out var value))
                    {
                        slot.Kind = SlotKind.Int64;
                        slot.Int64 = value;
                    }
                    else
                    {
                        record.Reason ??= token == JsonTokenType.Number ? $"{name} is not a 64-bit integer" : $"{name} is not an integer (found {Describe(token)})";
                    }
                    break;
                case RawFieldType.Double:
                    if (token == JsonTokenType.Number && reader.TryGetDouble(out var number) && double.IsFinite(number))
                    {
                        slot.Kind = SlotKind.Double;
                        slot.Int64 = BitConverter.DoubleToInt64Bits(number + 0.0); // -0 is 0, as SQL compares them
                    }
                    else
                    {
                        record.Reason ??= token == JsonTokenType.Number ? $"{name} is not a finite 64-bit floating-point number" : $"{name} is not a number (found {Describe(token)})";
                    }
                    break;
                case RawFieldType.Boolean:
                    if (token is JsonTokenType.True or JsonTokenType.False)
                    {
                        slot.Kind = SlotKind.Boolean;
                        slot.Int64 = token == JsonTokenType.True ? 1 : 0;
                    }
                    else
                    {
                        record.Reason ??= $"{name} is not a boolean (found {Describe(token)})";
                    }
                    break;
                case RawFieldType.String:
                    if (token == JsonTokenType.String)
                    {
                        if (!CaptureString(ref reader, ref slot, start)) record.Reason ??= $"{name} has an escape that is not valid text (a lone surrogate)";
                        else if (!Utf8.IsValid(SlotBytes(in slot, data))) record.Reason ??= $"{name} is not valid UTF-8";
                    }
                    else
                    {
                        record.Reason ??= $"{name} is not a string (found {Describe(token)})";
                    }
                    break;
                default: // Timestamp
                    if (token == JsonTokenType.String)
                    {
                        if (!CaptureString(ref reader, ref slot, start)) record.Reason ??= $"{name} has an escape that is not valid text (a lone surrogate)";
                        else if (!Iso8601.TryParseUtcTicks(SlotBytes(in slot, data), out var ticks)) record.Reason ??= $"{name} is not an ISO-8601 date-time";
                        else if (field == _eventTimeField)
                        {
                            record.EventTicks = ticks;
                            record.HasEventTime = true;
                        }
                    }
                    else
                    {
                        record.Reason ??= $"{name} is not an ISO-8601 date-time string (found {Describe(token)})";
                    }
                    break;
            }
            if (token is JsonTokenType.StartObject or JsonTokenType.StartArray && !reader.TrySkip()) return false;
        }
    }

    /// <summary>
    /// Skips the value the reader is at, an undeclared one, checking that its strings and keys are UTF-8 (the reader
    /// checks the syntax, not the encoding); false when the data ends before the value does.
    /// </summary>
    private static bool SkipChecked(ref Utf8JsonReader reader, ref RecordState record)
    {
        var token = reader.TokenType;
        if (token == JsonTokenType.String)
        {
            if (!Utf8.IsValid(reader.ValueSpan)) record.Reason ??= "a value that is not read is not valid UTF-8";
            return true;
        }
        if (token is not (JsonTokenType.StartObject or JsonTokenType.StartArray)) return true;
        var depth = reader.CurrentDepth;
        while (true)
        {
            if (!reader.Read()) return false;
            switch (reader.TokenType)
            {
                case JsonTokenType.String or JsonTokenType.PropertyName:
                    if (!Utf8.IsValid(reader.ValueSpan)) record.Reason ??= "a value that is not read is not valid UTF-8";
                    break;
                case JsonTokenType.EndObject or JsonTokenType.EndArray when reader.CurrentDepth == depth:
                    return true;
            }
        }
    }

    /// <summary>The declared names of the fields inside <paramref name="level"/>, for a reason.</summary>
    private IEnumerable<string> FieldsUnder(FieldLevel level) =>
        level.Fields.Zip(level.Children).SelectMany(k => k.Second is { } child ? FieldsUnder(child) : [_names[k.First]]);

    /// <summary>
    /// The fast path for the common record: an object whose strings have no escapes, whose nested objects are only the
    /// declared ones, and whose values hold no arrays or undeclared objects. It counts the record and returns true only
    /// when the record is complete and valid; anything else (escapes, undeclared nesting, type errors, syntax errors, the
    /// end of the buffer) returns false with no side effect, and the general <see cref="Utf8JsonReader"/> path decides.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryReadFlatRecord(ReadOnlySpan<byte> data, int start, out int length)
    {
        length = 0;
        if (data[start] != '{') return false;
        ResetSlots();
        long eventTicks = 0;
        var hasEventTime = false;
        var end = ScanObject(data, start, _root, 1, ref eventTicks, ref hasEventTime);
        if (end < 0) return false;
        length = end - start;
        if (hasEventTime && (eventTicks < _hourStartTicks || eventTicks >= _hourEndTicks)) _aggregate.OutsideWindow++;
        _aggregate.Add(_slots, data, _scratch);
        return true;
    }

    /// <summary>
    /// Scans the object at <paramref name="p"/> (its <c>{</c>), whose declared keys are <paramref name="level"/>'s, into the
    /// slots; returns the position after its <c>}</c>, or -1 when the general path must decide. <paramref name="depth"/> is
    /// the object's nesting depth (the record is 1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int ScanObject(ReadOnlySpan<byte> data, int p, FieldLevel level, int depth, ref long eventTicks, ref bool hasEventTime)
    {
        p = SkipSpace(data, p + 1);
        if (p >= data.Length) return -1;
        if (data[p] == '}') return p + 1;
        while (true)
        {
            if (p >= data.Length || data[p] != '"') return -1;
            var nameStart = p + 1;
            // The key its first letter names, when the bytes are exactly that name and its closing quote; else the scan.
            var key = level.GuessQuotedKey(data, nameStart, out var nameLength);
            if (key < 0)
            {
                nameLength = StringEnd(data, nameStart, out var asciiName);
                if (nameLength < 0 || data[nameStart + nameLength] != '"') return -1;
                var name = data.Slice(nameStart, nameLength);
                if (!asciiName && !Utf8.IsValid(name)) return -1;
                key = level.Find(name);
            }
            p = SkipSpace(data, nameStart + nameLength + 1);
            if (p >= data.Length || data[p] != ':') return -1;
            p = SkipSpace(data, p + 1);
            if (p >= data.Length) return -1;
            var field = key < 0 ? -1 : level.Fields[key];
            var b = data[p];
            if (b == '"')
            {
                var valueStart = p + 1;
                var valueLength = StringEnd(data, valueStart, out var ascii);
                if (valueLength < 0 || data[valueStart + valueLength] != '"') return -1;
                p = valueStart + valueLength + 1;
                if (field >= 0)
                {
                    var value = data.Slice(valueStart, valueLength);
                    switch (_types[field])
                    {
                        case RawFieldType.String:
                            if (!ascii && !Utf8.IsValid(value)) return -1;
                            break;
                        case RawFieldType.Timestamp:
                            if (field == _eventTimeField)
                            {
                                if (IsPlainTimestampOfTheHour(value)) eventTicks = _hourStartTicks;
                                else if (!Iso8601.TryParseUtcTicks(value, out eventTicks)) return -1;
                                hasEventTime = true;
                            }
                            else if (!Iso8601.TryParseUtcTicks(value, out _))
                            {
                                return -1;
                            }
                            break;
                        default:
                            return -1;
                    }
                    ref var slot = ref _slots[field];
                    slot.Kind = SlotKind.String;
                    slot.InScratch = false;
                    slot.Offset = valueStart;
                    slot.Length = valueLength;
                }
                else if (key >= 0 || (!ascii && !Utf8.IsValid(data.Slice(valueStart, valueLength))))
                {
                    return -1; // a string where declared fields were to be inside an object, or one that is not UTF-8
                }
            }
            else if (b == 'n')
            {
                if (!data[p..].StartsWith("null"u8)) return -1;
                p += 4;
                if (field >= 0)
                {
                    _slots[field].Kind = SlotKind.Null;
                    if (field == _eventTimeField) hasEventTime = false;
                }
            }
            else if (b == '-' || unchecked((uint)(b - '0')) <= 9)
            {
                if (field < 0)
                {
                    if (key >= 0 || !TrySkipNumber(data, ref p)) return -1;
                }
                else if (_types[field] == RawFieldType.Int64)
                {
                    if (!TryReadInteger(data, ref p, out var value)) return -1;
                    _slots[field].Kind = SlotKind.Int64;
                    _slots[field].Int64 = value;
                }
                else if (_types[field] == RawFieldType.Double)
                {
                    var numberStart = p;
                    if (!TrySkipNumber(data, ref p)
                        || !double.TryParse(data[numberStart..p], NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                        || !double.IsFinite(value))
                    {
                        return -1;
                    }
                    _slots[field].Kind = SlotKind.Double;
                    _slots[field].Int64 = BitConverter.DoubleToInt64Bits(value + 0.0); // -0 is 0, as SQL compares them
                }
                else
                {
                    return -1;
                }
            }
            else if (b is (byte)'t' or (byte)'f')
            {
                var isTrue = b == 't';
                if (!data[p..].StartsWith(isTrue ? "true"u8 : "false"u8)) return -1;
                p += isTrue ? 4 : 5;
                if (field >= 0)
                {
                    if (_types[field] != RawFieldType.Boolean) return -1;
                    _slots[field].Kind = SlotKind.Boolean;
                    _slots[field].Int64 = isTrue ? 1 : 0;
                }
                else if (key >= 0)
                {
                    return -1;
                }
            }
            else if (b == '{' && key >= 0 && level.Children[key] is { } child)
            {
                if (depth == MaxDepth) return -1;
                p = ScanObject(data, p, child, depth + 1, ref eventTicks, ref hasEventTime);
                if (p < 0) return -1;
            }
            else if (b is (byte)'{' or (byte)'[' && key < 0)
            {
                p = SkipNested(data, p, depth);
                if (p < 0) return -1;
            }
            else
            {
                return -1;
            }
            p = SkipSpace(data, p);
            if (p >= data.Length) return -1;
            if (data[p] == ',')
            {
                p = SkipSpace(data, p + 1);
                continue;
            }
            if (data[p] != '}') return -1;
            return p + 1;
        }
    }

    /// <summary>
    /// Moves past the undeclared object or array at <paramref name="p"/>, inside containers <paramref name="outer"/> deep,
    /// checking its syntax as it goes: plain strings, numbers, literals and nesting up to <see cref="MaxDepth"/> in all.
    /// Returns the position after it, or -1 for the general path to decide (an escape, a syntax error, deeper nesting, the
    /// end of the buffer).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int SkipNested(ReadOnlySpan<byte> data, int p, int outer)
    {
        Span<bool> isObject = stackalloc bool[MaxDepth]; // per open level: an object (keys and values) or an array
        var depth = 0;
        while (true)
        {
            // A value starts at p.
            var b = data[p];
            if (b is (byte)'{' or (byte)'[')
            {
                if (outer + depth == MaxDepth) return -1;
                isObject[depth++] = b == '{';
                p = SkipSpace(data, p + 1);
                if (p >= data.Length) return -1;
                if (data[p] == (b == '{' ? '}' : ']'))
                {
                    p++;
                    depth--;
                }
                else
                {
                    if (b == '{' && (p = SkipKey(data, p)) < 0) return -1;
                    continue;
                }
            }
            else if (b == '"')
            {
                var length = StringEnd(data, p + 1, out var ascii);
                if (length < 0 || data[p + 1 + length] != '"' || (!ascii && !Utf8.IsValid(data.Slice(p + 1, length)))) return -1;
                p += length + 2;
            }
            else if (b == '-' || unchecked((uint)(b - '0')) <= 9)
            {
                if (!TrySkipNumber(data, ref p)) return -1;
            }
            else if (data[p..].StartsWith("true"u8) || data[p..].StartsWith("null"u8))
            {
                p += 4;
            }
            else if (data[p..].StartsWith("false"u8))
            {
                p += 5;
            }
            else
            {
                return -1;
            }

            // After a value: close what ends here, until a comma opens the next value.
            while (true)
            {
                if (depth == 0) return p;
                p = SkipSpace(data, p);
                if (p >= data.Length) return -1;
                if (data[p] == ',')
                {
                    p = SkipSpace(data, p + 1);
                    if (p >= data.Length) return -1;
                    if (isObject[depth - 1] && (p = SkipKey(data, p)) < 0) return -1;
                    break;
                }
                if (data[p] != (isObject[depth - 1] ? '}' : ']')) return -1;
                p++;
                depth--;
            }
        }

        // A key and its colon at p: the position of its value, or -1.
        static int SkipKey(ReadOnlySpan<byte> data, int p)
        {
            if (data[p] != '"') return -1;
            var nameLength = StringEnd(data, p + 1, out var ascii);
            if (nameLength < 0 || data[p + 1 + nameLength] != '"' || (!ascii && !Utf8.IsValid(data.Slice(p + 1, nameLength)))) return -1;
            p = SkipSpace(data, p + nameLength + 2);
            if (p >= data.Length || data[p] != ':') return -1;
            p = SkipSpace(data, p + 1);
            return p < data.Length ? p : -1;
        }
    }

    /// <summary>
    /// Moves past a JSON number (RFC 8259: <c>-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?</c>); false when the bytes
    /// are not one, or when it reaches the end of <paramref name="data"/> (more digits may follow).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TrySkipNumber(ReadOnlySpan<byte> data, ref int p)
    {
        var i = p;
        if (data[i] == '-') i++;
        if (i >= data.Length) return false;
        if (data[i] == '0') i++;
        else if (!SkipDigits(data, ref i)) return false;
        if (i < data.Length && data[i] == '.')
        {
            i++;
            if (!SkipDigits(data, ref i)) return false;
        }
        if (i < data.Length && (data[i] | 0x20) == 'e')
        {
            i++;
            if (i < data.Length && data[i] is (byte)'+' or (byte)'-') i++;
            if (!SkipDigits(data, ref i)) return false;
        }
        if (i >= data.Length) return false;
        p = i;
        return true;

        static bool SkipDigits(ReadOnlySpan<byte> data, ref int i)
        {
            var first = i;
            while (i < data.Length && unchecked((uint)(data[i] - '0')) <= 9) i++;
            return i > first;
        }
    }

    /// <inheritdoc cref="StringScan.End"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int StringEnd(ReadOnlySpan<byte> data, int start, out bool ascii) => StringScan.End(data, start, out ascii);

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

    private static int MatchKey(ref Utf8JsonReader reader, FieldLevel level)
    {
        if (reader.ValueIsEscaped)
        {
            Span<byte> unescaped = stackalloc byte[256];
            if (reader.ValueSpan.Length > unescaped.Length) return -1;
            try
            {
                return level.Find(unescaped[..reader.CopyString(unescaped)]);
            }
            catch (InvalidOperationException)
            {
                return -1; // Not valid text (a lone surrogate escape), so none of the declared names: skipped like any other.
            }
        }
        return level.Find(reader.ValueSpan);
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
        if (_linesUnknown) CountSkippedLines();
        // Rejects come in file order: count on from the last one, not from the buffer's start each time.
        _linesCounted += data[_countedTo..start].Count((byte)'\n');
        _countedTo = start;
        var line = _linesCounted + 1;
        var text = data.Slice(start, length).TrimEnd("\r\n \t"u8);
        if (_pending is null) _rejects.Add(_file, line, _bufferOffset + start, reason, text);
        else _pending.Add(new PendingReject(line, _bufferOffset + start, reason, text.ToArray()));
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
