"""Tests of tally_contract's parts that the shared vectors do not spell out: the ISO-8601 rule as Tally.Core's Iso8601Facts
states it, what first bytes say, the quarantine line, zstd without a decompressor, and shipping a Validator to Spark."""

import gzip
import json
import os
import pickle
import sys
import unittest
from datetime import datetime, timedelta, timezone
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import tally_contract as contract  # noqa: E402

HOUR = datetime(2026, 11, 24, 13, tzinfo=timezone.utc)


def utc(year, month, day, hour, minute, second=0, extra_ticks=0):
    """Ticks of a UTC instant, built independently of the parser: days and seconds since 0001-01-01."""
    since = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc) - datetime(1, 1, 1, tzinfo=timezone.utc)
    return (since.days * 86400 + since.seconds) * 10_000_000 + extra_ticks


class Iso8601Tests(unittest.TestCase):
    """The cases of tests/Tally.Core.Tests/Iso8601Facts.cs, the C# rule's own tests."""

    ACCEPTED = {
        "2026-11-24T13:45:30.123Z": utc(2026, 11, 24, 13, 45, 30, 1_230_000),
        "2026-11-24T13:45:30Z": utc(2026, 11, 24, 13, 45, 30),
        "2026-11-24T13:45Z": utc(2026, 11, 24, 13, 45),
        "2026-11-24T13:45": utc(2026, 11, 24, 13, 45),
        "2026-11-24T13:45:30": utc(2026, 11, 24, 13, 45, 30),
        "2026-11-24T13:45:30.5": utc(2026, 11, 24, 13, 45, 30, 5_000_000),
        "2026-11-24T13:45:30+05:30": utc(2026, 11, 24, 8, 15, 30),
        "2026-11-24T13:45:30+0530": utc(2026, 11, 24, 8, 15, 30),
        "2026-11-24T13:45:30+05": utc(2026, 11, 24, 8, 45, 30),
        "2026-11-24T13:45:30-08:00": utc(2026, 11, 24, 21, 45, 30),
        "2026-11-24T13:45:30-0800": utc(2026, 11, 24, 21, 45, 30),
        "2026-11-24T13:45:30-08": utc(2026, 11, 24, 21, 45, 30),
        "2026-11-24T13:45:30+00:00": utc(2026, 11, 24, 13, 45, 30),
        "2026-11-24T13:45:30-00:00": utc(2026, 11, 24, 13, 45, 30),
        "2026-11-24T13:45+01:00": utc(2026, 11, 24, 12, 45),
        "2026-11-24T13:45:30+23:59": utc(2026, 11, 23, 13, 46, 30),
        "2026-11-24T01:00:00+02:00": utc(2026, 11, 23, 23, 0),
        "2026-12-31T23:30:00-01:00": utc(2027, 1, 1, 0, 30),
        "2024-03-01T00:30:00+01:00": utc(2024, 2, 29, 23, 30),
        "2026-11-24T13:45:30.1Z": utc(2026, 11, 24, 13, 45, 30, 1_000_000),
        "2026-11-24T13:45:30.1234567Z": utc(2026, 11, 24, 13, 45, 30, 1_234_567),
        "2026-11-24T13:45:30.123456789Z": utc(2026, 11, 24, 13, 45, 30, 1_234_567),
        "2026-11-24T13:45:30.99999999999Z": utc(2026, 11, 24, 13, 45, 30, 9_999_999),
        "2026-11-24T13:45:30.000000000000000000000000001Z": utc(2026, 11, 24, 13, 45, 30),
        "2026-11-24T13:45:30,5Z": utc(2026, 11, 24, 13, 45, 30, 5_000_000),
        "2026-11-24t13:45:30z": utc(2026, 11, 24, 13, 45, 30),
        "2026-11-24 13:45:30Z": utc(2026, 11, 24, 13, 45, 30),
        "2024-02-29T00:00:00Z": utc(2024, 2, 29, 0, 0),
        "2000-02-29T23:59:59.9999999Z": utc(2000, 2, 29, 23, 59, 59, 9_999_999),
        "0001-01-01T00:00:00Z": 0,
        "9999-12-31T23:59:59.9999999Z": 3_155_378_975_999_999_999,
        "2026-11-24T13:45:30.250-03:30": utc(2026, 11, 24, 17, 15, 30, 2_500_000),
        "2026-11-24T13:45:30.5+05:30": utc(2026, 11, 24, 8, 15, 30, 5_000_000),
    }

    REJECTED = (
        "", "garbage", "2026-11-24", "2026-11-24T", "2026-11-24T13", "2026-11-24T13Z", "2026-11-24T13:4",
        "2026-11-24T13:45:3", "2026-11-24T13:45:", "2026-00-24T13:45:30Z", "2026-13-24T13:45:30Z", "2026-11-00T13:45:30Z",
        "2026-11-31T13:45:30Z", "2026-02-29T13:45:30Z", "2026-02-30T13:45:30Z", "2100-02-29T13:45:30Z",
        "2026-11-24T24:00:00Z", "2026-11-24T13:60:00Z", "2026-11-24T23:59:60Z", "0000-01-01T00:00:00Z",
        "2026/11/24T13:45:30Z", "2026-11-24X13:45:30Z", "2026-11-4T13:45:30Z", "2026-11-24T1:45:30Z",
        "2026-11-24T13.45.30Z", "20261124T134530Z", "2026-11-24T13:45:30Z ", "\uff12\uff10\uff12\uff16-11-24T13:45:30Z",
        "2026-11-24T13:45:30Zjunk", "2026-11-24T13:45:30ZZ", "2026-11-24T13:45:30+05:30Z", "2026-11-24T13:45:30+05:30:00",
        "2026-11-24T13:45:30 UTC", "2026-11-24T13:45:30GMT", "2026-11-24T13:45:30.Z", "2026-11-24T13:45:30.",
        "2026-11-24T13:45.5Z", "2026-11-24T13:45:30.12a", "2026-11-24T13:45:30+", "2026-11-24T13:45:30+5",
        "2026-11-24T13:45:30+05:", "2026-11-24T13:45:30+05:3", "2026-11-24T13:45:30+053", "2026-11-24T13:45:30+24:00",
        "2026-11-24T13:45:30+05:60", "2026-11-24T13:45:30*05:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00",
        "2026-1-24T13:45:30Z", "26-11-24T13:45:30Z", " 2026-11-24T13:45:30Z", "+2026-11-24T13:45:30Z", "2026-11-24T13:45:30.1-",
        "2026-11-24T13:45:30." + "1" * 44 + "Z", "\u20ac" * 64, "2026-11-24T13:45:30Z\n",
    )

    def test_reads_the_accepted_forms_to_utc_ticks(self):
        for text, ticks in self.ACCEPTED.items():
            with self.subTest(text=text):
                self.assertEqual(ticks, contract.parse_utc_ticks(text))

    def test_rejects_what_is_not_a_strict_iso_date_time(self):
        for text in self.REJECTED:
            with self.subTest(text=text):
                self.assertIsNone(contract.parse_utc_ticks(text))

    def test_ticks_and_microseconds_of_an_aware_datetime(self):
        instant = datetime(2026, 11, 24, 14, 5, 6, 789012, tzinfo=timezone(timedelta(hours=1)))
        self.assertEqual(contract.parse_utc_ticks("2026-11-24T13:05:06.789012Z"), contract.ticks_of(instant))
        self.assertEqual(int(instant.timestamp()) * 1_000_000 + 789012, contract.unix_micros(contract.ticks_of(instant)))
        self.assertEqual(-1, contract.unix_micros(contract.UNIX_EPOCH_TICKS - 1))


class DetectTests(unittest.TestCase):
    def test_tells_the_kind_from_the_first_bytes(self):
        cases = {
            b"\x1f\x8b\x08\x00": ("gzip", None),
            b"\x28\xb5\x2f\xfd\x00": ("zstd", None),
            b"\x5a\x2a\x4d\x18\x00": ("zstd", None),  # a skippable frame
            b"": ("json", None),
            b" \r\n\t": ("json", None),
            b"\xef\xbb\xbf\n[": ("json", None),
            b"not json\n": ("unknown", None),
            b"BZh91AY&SY": ("unknown", "bzip2 data"),
            b"PK\x03\x04": ("unknown", "a zip archive"),
            b"PAR1\x15": ("unknown", "a Parquet file"),
            b"\xff\xfe{\x00": ("unknown", "UTF-16 text (Tally reads UTF-8)"),
            b"\x00\x01\x02": ("unknown", "binary data of no kind Tally knows"),
            b"caf\xc3": ("unknown", "binary data of no kind Tally knows"),
        }
        for head, expected in cases.items():
            with self.subTest(head=head):
                self.assertEqual(expected, contract.detect(head, True))

    def test_a_head_cut_inside_a_utf8_sequence_is_still_text(self):
        self.assertEqual(("unknown", None), contract.detect(b"caf\xc3", False))

    def test_a_file_of_several_gzip_members_is_read_whole(self):
        data = gzip.compress(b'{"GroupID": 1}\n', mtime=0) + gzip.compress(b'{"GroupID": 2}\n', mtime=0)
        result = contract.read_file("k", data, contract.Validator(contract.SEED_SOURCE, HOUR))
        self.assertEqual([1, 2], [values[0] for values in result.records])

    def test_bytes_after_the_last_gzip_member_are_damage(self):
        data = gzip.compress(b'{"GroupID": 1}\n', mtime=0) + b"trailing"
        result = contract.read_file("k", data, contract.Validator(contract.SEED_SOURCE, HOUR))
        self.assertEqual(1, len(result.records))
        self.assertEqual([(0, len(b'{"GroupID": 1}\n'))], [(r.line, r.offset) for r in result.rejects])
        self.assertIn("corrupt gzip data", result.rejects[0].reason)

    @unittest.skipIf(sys.version_info >= (3, 14), "Python 3.14 decompresses zstd itself")
    def test_without_a_zstd_command_a_zstd_file_is_one_rejected_record_saying_why(self):
        with mock.patch.dict(os.environ, {"PATH": ""}):
            result = contract.read_file("k", b"\x28\xb5\x2f\xfd" + b"\x00" * 20, contract.Validator(contract.SEED_SOURCE, HOUR))
        self.assertEqual([], result.records)
        self.assertEqual([(1, 0)], [(r.line, r.offset) for r in result.rejects])
        self.assertIn("there is no zstd command", result.rejects[0].reason)


class RejectTests(unittest.TestCase):
    def test_the_quarantine_line_is_the_csharp_engines_compact_json_with_text_as_is(self):
        reject = contract.Reject("raw_data/x.json", 3, 42, "Domain is not a string (found a number)", '{"Domain": 5, "k": "é\n"}')
        line = reject.to_json_line()
        self.assertEqual(
            '{"file":"raw_data/x.json","line":3,"offset":42,"reason":"Domain is not a string (found a number)",'
            '"record":"{\\"Domain\\": 5, \\"k\\": \\"é\\n\\"}"}',
            line,
        )
        self.assertEqual(list(reject._asdict().items()), list(json.loads(line).items()))

    def test_bytes_that_are_not_utf8_show_as_replacement_characters(self):
        result = contract.read_file("k", b'{"Domain": "caf\xc3"}\n', contract.Validator(contract.SEED_SOURCE, HOUR))
        self.assertEqual('{"Domain": "caf\ufffd"}', result.rejects[0].record)


class ShippingTests(unittest.TestCase):
    def test_a_validator_survives_pickling_as_spark_ships_it_to_executors(self):
        source = contract.Source((("geo.country", "country", "string"), ("ts", "ts", "timestamp")), "ts")
        shipped = pickle.loads(pickle.dumps(contract.Validator(source, HOUR)))
        data = b'{"geo": {"country": "DE"}, "ts": "2026-11-24T12:00:00Z"}\n{"geo": 1}\n'
        result = contract.read_file("k", data, shipped)
        self.assertEqual([("DE", "2026-11-24T12:00:00Z")], result.records)
        self.assertEqual(1, result.outside_window)
        self.assertEqual(["geo is not an object (found a number), so it cannot hold geo.country"], [r.reason for r in result.rejects])


if __name__ == "__main__":
    unittest.main()
