"""Tally's raw-data contract in pure Python: what the Glue job's Spark workers apply to each whole raw file.

It is a second implementation of the rules the C# engine applies (src/Tally/Engine/RawFileReader.cs, Iso8601.cs,
RejectLog.cs), and both are tested against the same contract vectors (tests/contract/manifest.json). Standard library
only, so the Glue job ships it as one extra Python file (``--extra-py-files``).

What a file may be:
  * gzip or zstd, told from its first bytes, never from its name; anything else that does not look like text (bzip2,
    zip, Parquet, UTF-16, binary) is one rejected record naming what it looks like. zstd is decompressed by Python's
    own ``compression.zstd`` (Python 3.14 and later), else by running the ``zstd`` command; where neither exists a zstd
    file is one rejected record saying so. Damaged compressed data keeps what was decompressed before the damage, and
    the rest of the file is one rejected record (line 0).
  * JSON Lines, JSON objects one after another (pretty-printed, spanning lines, or back to back with no separator),
    or JSON arrays of objects; an optional UTF-8 BOM, CRLF and blank lines.

What a record must be: strict RFC 8259 JSON (no NaN or Infinity, no single quotes, no trailing commas, no comments,
no control characters in strings, nesting at most 64 deep, valid UTF-8 everywhere, also in values that are not read),
and a JSON object whose declared fields, when present and not null, have their declared types:

  int64      a JSON integer that fits in 64 bits (1.0 and 1e2 are not integers)
  double     any JSON number that is a finite 64-bit float (-0 is read as 0)
  boolean    true or false
  string     a JSON string (a lone surrogate escape such as \\ud800 is not text)
  timestamp  a JSON string holding an ISO-8601 date-time, as Tally.Core's Iso8601 accepts it (see parse_utc_ticks)

A declared nested name such as ``geo.country`` needs ``geo`` to be an object or null (null: every field inside is null).
Extra fields are ignored; missing fields and nulls are null; of a key given twice, the last value counts.

What happens to the rest: a record that breaks the contract is rejected, with its file, 1-based line, 0-based byte
offset (in the decompressed text, a BOM included), reason and text. After a syntax error reading resumes at the next
line that starts (after blanks) with ``{`` or ``[``, and each line skipped that starts at its first column with
anything but a blank, ``}``, ``]`` or ``,`` is one more rejected record: thirty lines of garbage are thirty, the
indented lines of one broken pretty-printed object are one. A record cut by the end of the file is one rejected
record. In an array, a trailing comma, an empty element (``[,`` or ``,,``) and the end of the file before ``]`` are
one rejected record each; once a syntax error has been met inside an array its punctuation is not checked again.
A valid record whose event time lies outside the hour is still counted, and counted again as ``outside_window``.

Thread-safe: nothing here holds state between calls. Nothing here imports Spark.
"""

import json
import math
import re
import shutil
import subprocess
import zlib
from collections import namedtuple
from datetime import date, timezone

FIELD_TYPES = ("string", "int64", "double", "boolean", "timestamp")

# .NET's DateTime ticks: 100 ns units since 0001-01-01T00:00:00 UTC, as Tally.Core's Iso8601 returns them.
TICKS_PER_SECOND = 10_000_000
TICKS_PER_HOUR = 3600 * TICKS_PER_SECOND
_TICKS_PER_DAY = 86400 * TICKS_PER_SECOND
_MAX_TICKS = 3_155_378_975_999_999_999  # DateTime.MaxValue
UNIX_EPOCH_TICKS = 621_355_968_000_000_000

# Utf8JsonReader's default limit, which the C# engine keeps: a record nested deeper is not valid JSON.
MAX_DEPTH = 64


class Field(namedtuple("Field", "name column type")):
    """One declared field: its JSON name (a dotted path such as ``geo.country``), column and type (FIELD_TYPES)."""

    __slots__ = ()

    @property
    def path(self):
        return tuple(self.name.split("."))


class Source(namedtuple("Source", "fields event_time")):
    """The declared source schema: Field tuples in column order, and the event time's JSON name or None."""

    __slots__ = ()

    def __new__(cls, fields, event_time=None):
        return super().__new__(cls, tuple(Field(*f) for f in fields), event_time)

    def find(self, name):
        """The field ``name`` names, as Tally.Core's SourceSchema.Find does: its JSON name, else its column, exactly; else
        the one field whose name or column equals it in any case. None when there is none, or several in any case."""
        for f in self.fields:
            if f.name == name:
                return f
        for f in self.fields:
            if f.column == name:
                return f
        lower = name.lower()
        matches = [f for f in self.fields if f.name.lower() == lower or f.column.lower() == lower]
        return matches[0] if len(matches) == 1 else None


SEED_SOURCE = Source(
    (
        ("GroupID", "groupid", "int64"),
        ("CountryCode", "countrycode", "string"),
        ("UserAgent", "useragent", "string"),
        ("Language", "language", "string"),
        ("Domain", "domain", "string"),
        ("Timestamp", "timestamp", "timestamp"),
    ),
    "Timestamp",
)


class Reject(namedtuple("Reject", "file line offset reason record")):
    """One rejected record: file key, 1-based line (0 for the undecompressable rest of a file), 0-based byte offset in
    the decompressed text, reason, and the record's text (invalid UTF-8 shown as U+FFFD)."""

    __slots__ = ()

    def to_json_line(self):
        """The record's line of the quarantine file, as the C# engine's RejectLog writes it (no newline)."""
        return json.dumps(
            {"file": self.file, "line": self.line, "offset": self.offset, "reason": self.reason, "record": self.record},
            ensure_ascii=False,
            separators=(",", ":"),
        )


class Record(namedtuple("Record", "values outside_window")):
    """One valid record: its declared values in the schema's field order (str, int, float, bool or None; a timestamp
    as its text), and whether its event time lies outside the hour."""

    __slots__ = ()


FileResult = namedtuple("FileResult", "records rejects outside_window")
FileResult.__doc__ = "One file read whole: the valid records' value tuples, the Reject tuples, the outside_window count."


# ---------------------------------------------------------------------------------------------------------------------
# Timestamps


_ISO8601 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})"
    r"(?::([0-9]{2})(?:[.,]([0-9]+))?)?"
    r"(?:([Zz])|([+-])([0-9]{2})(?::?([0-9]{2}))?)?"
)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def parse_utc_ticks(text):
    """The UTC instant an ISO-8601 date-time names, in .NET ticks (100 ns since 0001-01-01), or None.

    The rule of Tally.Core's Iso8601.TryParseUtcTicks: ``YYYY-MM-DDThh:mm[:ss[.fraction]]`` then ``Z``, ``±hh:mm``,
    ``±hhmm``, ``±hh`` or nothing (UTC); ``t``/``z`` in lower case and a space for the ``T`` too; ``,`` or ``.`` before a
    fraction of any length, truncated beyond 100 ns; no leap seconds; at most 64 characters; the instant within years
    1 to 9999 once converted to UTC.
    """
    if not 16 <= len(text) <= 64:
        return None
    m = _ISO8601.fullmatch(text)
    if m is None:
        return None
    year, month, day, hour, minute = int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5])
    second = int(m[6]) if m[6] else 0
    if year < 1 or not 1 <= month <= 12 or hour > 23 or minute > 59 or second > 59:
        return None
    leap = month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= day <= _DAYS_IN_MONTH[month - 1] + leap:
        return None
    offset = 0
    if m[9]:
        offset_hours, offset_minutes = int(m[10]), int(m[11] or 0)
        if offset_hours > 23 or offset_minutes > 59:
            return None
        offset = (offset_hours * 60 + offset_minutes) * 60 * TICKS_PER_SECOND
        if m[9] == "-":
            offset = -offset
    fraction = int((m[7] or "")[:7].ljust(7, "0"))
    local = (date(year, month, day).toordinal() - 1) * _TICKS_PER_DAY + ((hour * 60 + minute) * 60 + second) * TICKS_PER_SECOND
    utc = local + fraction - offset
    return utc if 0 <= utc <= _MAX_TICKS else None


def ticks_of(instant):
    """The .NET ticks of an aware datetime (UTC or any offset), exact to the microsecond."""
    utc = instant.astimezone(timezone.utc)
    seconds = (utc.date().toordinal() - 1) * 86400 + utc.hour * 3600 + utc.minute * 60 + utc.second
    return seconds * TICKS_PER_SECOND + utc.microsecond * 10


def unix_micros(ticks):
    """Microseconds since 1970-01-01 UTC of .NET ticks, rounded down (as the C# engine writes Parquet timestamps)."""
    return (ticks - UNIX_EPOCH_TICKS) // 10


# ---------------------------------------------------------------------------------------------------------------------
# Files: what their first bytes say, and their text


_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_BOM = b"\xef\xbb\xbf"
HEAD_BYTES = 4096
# Magic numbers of formats Tally does not read, so that a rejected file says what it is (RawFileDecoder's list).
_OTHER_FORMATS = (
    (b"\xfd7zXZ\x00", "xz data"),
    (b"PK\x03\x04", "a zip archive"),
    (b"PK\x05\x06", "a zip archive"),
    (b"\x04\x22\x4d\x18", "lz4 data"),
    (b"\xff\x06\x00\x00sNaPpY", "Snappy framed data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"PAR1", "a Parquet file"),
    (b"\xff\xfe", "UTF-16 text (Tally reads UTF-8)"),
    (b"\xfe\xff", "UTF-16 text (Tally reads UTF-8)"),
)
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1f]")

Decoded = namedtuple("Decoded", "kind text damage unreadable")
Decoded.__doc__ = """A file's text: kind (json, gzip, zstd or unknown); text (bytes, decompressed, BOM included);
damage, why the text ends before the file does (or None); unreadable, why there is no text at all (or None)."""


def detect(head, is_whole_file):
    """The kind of a file whose first bytes are ``head`` (HEAD_BYTES of them, or the whole file when shorter), and for
    binary data of an unknown kind what it looks like (None for gzip, zstd and text, which is read line by line)."""
    if head.startswith(_GZIP_MAGIC):
        return "gzip", None
    # A zstd frame (magic 0xFD2FB528) or a skippable frame (0x184D2A50 to 0x184D2A5F), little-endian.
    if head.startswith(_ZSTD_MAGIC) or (len(head) >= 4 and head[0] & 0xF0 == 0x50 and head[1:4] == b"\x2a\x4d\x18"):
        return "zstd", None
    text = head[3:] if head.startswith(_BOM) else head
    stripped = text.lstrip(b" \t\r\n")
    if not stripped or stripped[:1] in (b"{", b"["):
        return "json", None
    if len(head) >= 4 and head.startswith(b"BZh") and 0x31 <= head[3] <= 0x39:
        return "unknown", "bzip2 data"
    for magic, what in _OTHER_FORMATS:
        if head.startswith(magic):
            return "unknown", what
    return "unknown", None if _is_text(head, is_whole_file) else "binary data of no kind Tally knows"


def _is_text(head, is_whole_file):
    """UTF-8 without control characters other than tab, line breaks and form feed; a sequence cut by the end of a head
    that is not the whole file is not held against it."""
    if _CONTROL.search(head):
        return False
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as e:
        return not is_whole_file and e.reason == "unexpected end of data"


def decode(data):
    """A raw file's bytes as its text (a Decoded): decompressed when its first bytes are gzip's or zstd's."""
    kind, binary = detect(data[:HEAD_BYTES], len(data) < HEAD_BYTES)
    if binary is not None:
        first = " ".join("%02X" % b for b in data[:8])
        return Decoded(kind, b"", None, "%s, not JSON text, gzip or zstd (first bytes %s)" % (binary, first))
    if kind == "gzip":
        text, damage = _gunzip(data)
        return Decoded(kind, text, damage, None)
    if kind == "zstd":
        return _unzstd(data)
    return Decoded(kind, data, None, None)


def _gunzip(data):
    """Every gzip member's data, and why decompression stopped early (None when it did not). Unlike .NET's GZipStream,
    which ends quietly at the end of a cut file, a member cut short is damage."""
    out = []
    rest = data
    while rest:
        if not rest.startswith(_GZIP_MAGIC):
            return b"".join(out), "corrupt gzip data (bytes after the last member that do not start another)"
        inflater = zlib.decompressobj(31)
        try:
            out.append(inflater.decompress(rest))
            out.append(inflater.flush())
        except zlib.error as e:
            return b"".join(out), "corrupt gzip data (%s)" % e
        if not inflater.eof:
            return b"".join(out), "the file ends inside a gzip member (truncated)"
        rest = inflater.unused_data
    return b"".join(out), None


def _zstd_backend():
    """What decompresses zstd here: Python's compression.zstd module (3.14+), else the path of the zstd command, else None."""
    try:
        from compression import zstd  # Python 3.14 and later
        return zstd
    except ImportError:
        return shutil.which("zstd")


def _unzstd(data):
    """A zstd file's frames, decompressed by _zstd_backend(); one rejected record saying why when there is none."""
    backend = _zstd_backend()
    if backend is None:
        return Decoded("zstd", b"", None, "zstd data, which cannot be decompressed here: Python before 3.14 has no zstd "
                                          "module and there is no zstd command")
    if not isinstance(backend, str):
        out, rest = [], data
        while rest:
            decompressor = backend.ZstdDecompressor()
            try:
                out.append(decompressor.decompress(rest))
            except backend.ZstdError as e:
                return Decoded("zstd", b"".join(out), "corrupt zstd data (%s)" % e, None)
            if not decompressor.eof:
                return Decoded("zstd", b"".join(out), "the file ends inside a zstd frame (truncated)", None)
            rest = decompressor.unused_data
        return Decoded("zstd", b"".join(out), None, None)
    done = subprocess.run([backend, "-d", "-c", "-q"], input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if done.returncode == 0:
        return Decoded("zstd", done.stdout, None, None)
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    message = lines[-1] if lines else "exit code %d" % done.returncode
    if "premature end" in message or "truncated" in message:
        return Decoded("zstd", done.stdout, "the file ends inside a zstd frame (truncated)", None)
    return Decoded("zstd", done.stdout, "corrupt zstd data (%s)" % message.split(" : ", 1)[-1].strip(), None)


# ---------------------------------------------------------------------------------------------------------------------
# The scanner: JSON values one after another, arrays, syntax errors and where reading resumes


class _Object(list):
    """A JSON object as its (key, value) pairs in document order, duplicates kept (a list subclass, so that arrays,
    which are plain lists, are told apart)."""

    __slots__ = ()


class _NotJson(Exception):
    """NaN, Infinity or -Infinity, which Python's json accepts and RFC 8259 does not."""


def _no_constants(name):
    raise _NotJson(name)


def _long_int(text):
    # Python refuses to convert integers of more than 4300 digits; such a number is a float (infinite) to the contract.
    return int(text) if len(text) < 4000 else float(text)


_DECODER = json.JSONDecoder(object_pairs_hook=_Object, parse_constant=_no_constants, strict=True)
_LONG_INT_DECODER = json.JSONDecoder(object_pairs_hook=_Object, parse_constant=_no_constants, parse_int=_long_int, strict=True)
_WHITESPACE = re.compile(r"[ \t\r\n]*")
_RESYNC = re.compile(r"\n[ \t\r]*[{\[]")
_PIECE = re.compile(r"\n(?=[^ \t\r\n}\],])")
_NUMBER_DELIMITERS = frozenset(",}] \t\r\n/")


def _scan_value(text, pos):
    """The JSON value at ``pos``: (value, end), or raises _SyntaxError."""
    try:
        try:
            return _DECODER.scan_once(text, pos)
        except json.JSONDecodeError:
            raise
        except ValueError:
            return _LONG_INT_DECODER.scan_once(text, pos)
    except StopIteration as e:
        raise _SyntaxError(_explain(text, e.value, "Expecting value"), _ends_before(text, e.value, "Expecting value"))
    except json.JSONDecodeError as e:
        raise _SyntaxError(_explain(text, e.pos, e.msg), _ends_before(text, e.pos, e.msg))
    except _NotJson as e:
        raise _SyntaxError("%s is not a JSON number" % e)
    except RecursionError:
        raise _SyntaxError("nested deeper than %d levels" % MAX_DEPTH)


# Python's json messages, as sentences of the contract.
_MESSAGES = {
    "Expecting value": "a value was expected",
    "Expecting ',' delimiter": "',' or the end of the object or array was expected",
    "Expecting ':' delimiter": "':' was expected after a property name",
    "Expecting property name enclosed in double quotes": "a property name in double quotes was expected",
    "Invalid control character at": "a control character is in a string",
    "Unterminated string starting at": "a string does not end",
    "Invalid \\escape": "a string has an invalid escape",
    "Invalid \\uXXXX escape": "a string has an invalid \\u escape",
}


def _ends_before(text, pos, message):
    """Whether the data ends where the next token should be (a truncated record), rather than inside a token or at a
    wrong one (not valid JSON), as the C# engine tells them apart."""
    return message.startswith("Expecting") and _WHITESPACE.match(text, pos).end() >= len(text)


def _explain(text, pos, message):
    message = _MESSAGES.get(message, message)
    if pos is not None and pos < len(text) and message != _MESSAGES["Unterminated string starting at"]:
        found = text[pos]
        if "\udc80" <= found <= "\udcff":
            message += " at the byte 0x%02X, which is not UTF-8" % (ord(found) - 0xDC00)
        else:
            message += " at %s" % json.dumps(found, ensure_ascii=True)
    return message


class _SyntaxError(Exception):
    """Not valid JSON: why, and whether it is only that the data ended too soon."""

    def __init__(self, message, truncated=False):
        super().__init__(message)
        self.message = message
        self.truncated = truncated


def _depth(value):
    """How deeply ``value`` nests objects and arrays (a scalar is 0, {} is 1)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, list):
            deepest = max(deepest, depth)
            children = (v for _, v in item) if type(item) is _Object else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, list))
    return deepest


# Pieces the scanner yields: a value (start, end, value) or a problem (start, end, reason), end exclusive, in characters.
_VALUE, _PROBLEM = 0, 1
_TRUNCATED = "truncated record at the end of the file"


def scan(text):
    """The pieces of a file's text (a str, without BOM), in file order: (_VALUE, start, end, value) for each JSON value
    at the top level or as an element of a top-level array, (_PROBLEM, start, end, reason) for each piece that is not
    valid JSON (see the module's docstring for how the rest of a broken record is skipped)."""
    n = len(text)
    pos = 0
    array = None  # None outside an array; else "first" (after '['), "value" (after ','), "comma" (after a value), "damaged"
    comma = 0
    while True:
        pos = _WHITESPACE.match(text, pos).end()
        if pos >= n:
            if array in ("first", "value", "comma"):
                end = len(text.rstrip(" \t\r\n"))
                yield _PROBLEM, end, end, "truncated JSON array at the end of the file: its ']' is missing"
            return
        c = text[pos]
        if array is not None:
            if c == "]":
                if array == "value":
                    yield _PROBLEM, comma, comma + 1, "not valid JSON: a trailing comma before ']'"
                array = None
                pos += 1
                continue
            if c == ",":
                if array in ("first", "value"):
                    yield _PROBLEM, pos, pos + 1, "not valid JSON: a comma where a record should be"
                elif array == "comma":
                    array, comma = "value", pos
                pos += 1
                continue
        elif c == "[":
            array = "first"
            pos += 1
            continue
        try:
            if array == "comma":
                raise _SyntaxError("',' or ']' was expected after a record in an array")
            value, end = _scan_value(text, pos)
            if type(value) in (int, float) and end < n and text[end] not in _NUMBER_DELIMITERS:
                raise _SyntaxError("a number ends in %s" % json.dumps(text[end], ensure_ascii=True))
            if isinstance(value, list) and _count_openers(text, pos, end) > MAX_DEPTH and _depth(value) > MAX_DEPTH:
                raise _SyntaxError("nested deeper than %d levels" % MAX_DEPTH)
        except _SyntaxError as e:
            if e.truncated:
                yield _PROBLEM, pos, n, _TRUNCATED
                return
            resync = _RESYNC.search(text, pos)
            resume = resync.start() + 1 if resync else n
            yield from _unreadable(text, pos, resume, "not valid JSON: " + e.message)
            pos = resume
            if array is not None:
                array = "damaged"
            continue
        yield _VALUE, pos, end, value
        pos = end
        if array is not None and array != "damaged":
            array = "comma"


def _count_openers(text, start, end):
    return text.count("{", start, end) + text.count("[", start, end)


def _unreadable(text, start, end, reason):
    """The problem pieces of text[start:end], skipped after a syntax error: one per line in it that starts at its first
    column with anything but a blank, '}', ']' or ','."""
    piece = start
    for m in _PIECE.finditer(text, start, end):
        if m.end() >= end:
            break
        yield _PROBLEM, piece, m.end(), reason
        reason = "not valid JSON: the line does not start a JSON object"
        piece = m.end()
    yield _PROBLEM, piece, end, reason


# ---------------------------------------------------------------------------------------------------------------------
# The validator: one parsed value against the declared schema


_INVALID_UTF8 = re.compile("[\udc80-\udcff]")  # what 'surrogateescape' decodes an invalid byte to
_SURROGATE = re.compile("[\ud800-\udfff]")
_NOT_ESCAPED_INVALID = re.compile("[\ud800-\udc7f\udd00-\udfff]")


def _describe(value):
    if type(value) is _Object:
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is True or value is False:
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


class _Level:
    """The declared keys of one level of nesting: key -> a _Level (an object holding fields) or, for a value, the
    tuple (field index, type, name, whether it is the event time)."""

    def __init__(self, fields, depth, event):
        self.keys = {}
        groups = {}
        for index, field in fields:
            groups.setdefault(field.path[depth], []).append((index, field))
        for key, group in groups.items():
            leaf = [(index, field.type, field.name, field.name == event) for index, field in group if len(field.path) == depth + 1]
            self.keys[key] = leaf[0] if leaf else _Level(group, depth + 1, event)

    def names(self):
        """The declared names of the fields inside this level, for a reason."""
        for entry in self.keys.values():
            if type(entry) is _Level:
                yield from entry.names()
            else:
                yield entry[2]


class Validator:
    """Checks parsed records against a source schema and an hour; immutable, so it may be shared."""

    def __init__(self, source, hour_start):
        """source: a Source; hour_start: the hour's start as an aware datetime (the hour is [start, start + 1 h))."""
        self.source = source
        self._root = _Level(list(enumerate(source.fields)), 0, source.event_time)
        self._count = len(source.fields)
        self._start = ticks_of(hour_start)
        self._end = self._start + TICKS_PER_HOUR
        # "yyyy-MM-ddTHH:" of the hour: a plain timestamp with it (mm:ssZ or mm:ss.fffZ) lies inside without more work.
        self._prefix = hour_start.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:")

    def check(self, value, escapes=True, invalid_utf8=True):
        """(values, outside_window) for a valid record, or a str, the reason to reject it.

        escapes: whether the record's text may hold a \\u escape; invalid_utf8: whether it may hold bytes that are not
        UTF-8 (decoded by 'surrogateescape' to U+DC80..U+DCFF). False for either skips the checks it needs.
        """
        if type(value) is not _Object:
            return "not a JSON object (found %s)" % _describe(value)
        slots = [None] * self._count
        state = [None]  # the event time's ticks, or None
        reason = self._object(value, self._root, slots, state, escapes, invalid_utf8)
        if reason is not None:
            return reason
        ticks = state[0]
        return tuple(slots), ticks is not None and not self._start <= ticks < self._end

    def _object(self, pairs, level, slots, state, escapes, invalid):
        keys = level.keys
        plain = not (escapes or invalid)
        for key, value in pairs:
            entry = keys.get(key)
            if entry is None:
                if invalid:
                    if _INVALID_UTF8.search(key):
                        return "a key is not valid UTF-8"
                    if _holds_invalid_utf8(value):
                        return "a value that is not read is not valid UTF-8"
                continue
            if type(entry) is _Level:
                if type(value) is _Object:
                    reason = self._object(value, entry, slots, state, escapes, invalid)
                    if reason is not None:
                        return reason
                elif value is not None:
                    return "%s is not an object (found %s), so it cannot hold %s" % (key, _describe(value), ", ".join(entry.names()))
                continue
            index, kind, name, is_event = entry
            if value is None:
                slots[index] = None
                if is_event:
                    state[0] = None
                continue
            if kind == "string":
                if type(value) is not str:
                    return "%s is not a string (found %s)" % (name, _describe(value))
                if not plain:
                    problem = _text_problem(value, escapes, invalid)
                    if problem == "escape":
                        return "%s has an escape that is not valid text (a lone surrogate)" % name
                    if problem == "utf8":
                        return "%s is not valid UTF-8" % name
                slots[index] = value
            elif kind == "timestamp":
                if type(value) is not str:
                    return "%s is not an ISO-8601 date-time string (found %s)" % (name, _describe(value))
                if not plain and _text_problem(value, escapes, invalid) == "escape":
                    return "%s has an escape that is not valid text (a lone surrogate)" % name
                if is_event and value.startswith(self._prefix) and _PLAIN_MINUTES.fullmatch(value, 14):
                    ticks = self._start
                else:
                    ticks = parse_utc_ticks(value)
                    if ticks is None:
                        return "%s is not an ISO-8601 date-time" % name
                slots[index] = value
                if is_event:
                    state[0] = ticks
            elif kind == "int64":
                if type(value) is int and -0x8000000000000000 <= value <= 0x7FFFFFFFFFFFFFFF:
                    slots[index] = value
                elif type(value) in (int, float):
                    return "%s is not a 64-bit integer" % name
                else:
                    return "%s is not an integer (found %s)" % (name, _describe(value))
            elif kind == "double":
                if type(value) not in (int, float):
                    return "%s is not a number (found %s)" % (name, _describe(value))
                try:
                    number = float(value) + 0.0  # -0 is 0, as SQL compares them
                except OverflowError:
                    number = math.inf
                if not math.isfinite(number):
                    return "%s is not a finite 64-bit floating-point number" % name
                slots[index] = number
            else:  # boolean
                if value is not True and value is not False:
                    return "%s is not a boolean (found %s)" % (name, _describe(value))
                slots[index] = value
        return None


# The minutes and seconds of a timestamp of the hour written the usual way: mm:ssZ or mm:ss.fffZ.
_PLAIN_MINUTES = re.compile(r"[0-5][0-9]:[0-5][0-9](?:\.[0-9]{3})?Z")


def _text_problem(value, escapes, invalid):
    """None for valid text; "escape" for a lone surrogate from a \\u escape; "utf8" for bytes that were not UTF-8.
    (A \\udc80..\\udcff escape in a record that also holds invalid bytes is taken for the latter: rejected either way.)"""
    if not (escapes or invalid) or not _SURROGATE.search(value):
        return None
    if not invalid or _NOT_ESCAPED_INVALID.search(value):
        return "escape"
    return "utf8"


def _holds_invalid_utf8(value):
    if isinstance(value, str):
        return _INVALID_UTF8.search(value) is not None
    if type(value) is _Object:
        return any(_INVALID_UTF8.search(k) or _holds_invalid_utf8(v) for k, v in value)
    if isinstance(value, list):
        return any(_holds_invalid_utf8(v) for v in value)
    return False


# ---------------------------------------------------------------------------------------------------------------------
# A whole file


class _Positions:
    """Lines and byte offsets of character positions met in increasing order (rejects come in file order)."""

    def __init__(self, text, ascii_only, base):
        self._text, self._ascii = text, ascii_only
        self._pos, self._byte, self._line = 0, base, 1

    def locate(self, pos):
        text = self._text
        self._line += text.count("\n", self._pos, pos)
        self._byte += pos - self._pos if self._ascii else len(text[self._pos:pos].encode("utf-8", "surrogateescape"))
        self._pos = pos
        return self._line, self._byte


def _shown(text):
    """A record's text as the quarantine shows it: trailing blanks trimmed, invalid UTF-8 as U+FFFD."""
    text = text.rstrip("\r\n \t")
    if _INVALID_UTF8.search(text):
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text


def iter_file(key, data, validator):
    """Reads one whole raw file: yields a Record for each valid record and a Reject for each rejected one, in file order
    (the rejected rest of a damaged compressed file last).

    key: the file's key (raw_data/year=.../name), named in rejects; data: its bytes as stored; validator: a Validator.
    """
    decoded = decode(data)
    if decoded.unreadable is not None:
        yield Reject(key, 1, 0, decoded.unreadable, "")
        return
    raw = decoded.text
    base = 3 if raw.startswith(_BOM) else 0
    body = raw[base:]
    try:
        text, invalid = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, invalid = body.decode("utf-8", "surrogateescape"), True
    positions = _Positions(text, len(text) == len(body), base)
    check = validator.check
    for kind, start, end, item in scan(text):
        if kind == _VALUE:
            escapes = text.find("\\u", start, end) >= 0
            bad = invalid and _INVALID_UTF8.search(text, start, end) is not None
            outcome = check(item, escapes, bad)
            if type(outcome) is tuple:
                yield Record(*outcome)
                continue
            reason = outcome
        else:
            reason = item
        line, offset = positions.locate(start)
        yield Reject(key, line, offset, reason, _shown(text[start:end]))
    if decoded.damage is not None:
        yield Reject(key, 0, len(raw), "the rest of the file cannot be decompressed: " + decoded.damage, "")


def read_file(key, data, validator):
    """iter_file's outcome collected: a FileResult of the valid records' value tuples, the Rejects and the
    outside_window count."""
    records, rejects, outside = [], [], 0
    for item in iter_file(key, data, validator):
        if type(item) is Record:
            records.append(item.values)
            outside += item.outside_window
        else:
            rejects.append(item)
    return FileResult(records, rejects, outside)


def is_raw_data_name(name):
    """Whether a file in a raw minute= folder is data: every name is, whatever its extension (Kinesis Firehose writes
    names without one), except those starting with '.' or '_' (Hive's rule for hidden and marker files)."""
    return bool(name) and not name.startswith((".", "_"))


def rejected_share_problem(records, rejected, max_share):
    """One sentence saying why the run fails when rejected / (records + rejected) exceeds max_share, else None."""
    seen = records + rejected
    if seen == 0 or rejected / float(seen) <= max_share:
        return None
    return "%d of %d records (%.2f %%) were rejected, more than the threshold of %.2f %%." % (
        rejected, seen, 100.0 * rejected / seen, 100.0 * max_share
    )
