"""The shared contract vectors (tests/contract/manifest.json) read by the Glue job's pure-Python parser.

The C# engine's suite reads the same manifest (tests/Tally.Tests/Engine/ContractVectorTests.cs): every vector's counts,
rejected lines, reasons (as prefixes), offsets where given, the valid records' values and the threshold's verdict.
"""

import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import aggregate_hits as job  # noqa: E402
import tally_contract as contract  # noqa: E402

CONTRACT = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "contract")
# Where the C# suite puts each vector too: a minute folder of the manifest's hour.
MINUTE_FOLDER = "raw_data/year=2026/month=11/day=24/hour=13/minute=07/"


def load_manifest():
    with open(os.path.join(CONTRACT, "manifest.json"), encoding="utf-8") as f:
        return json.load(f)


def zstd_available():
    return contract._zstd_backend() is not None


class ContractVectorTests(unittest.TestCase):
    def test_every_vector_gives_its_expected_counts_lines_reasons_and_values(self):
        manifest = load_manifest()
        hour = job.parse_target_hour(manifest["hour"])
        sources = {name: job.parse_source(json.dumps(schema)) for name, schema in manifest["sources"].items()}
        sources["seed"] = job.SEED_SOURCE
        self.assertGreater(len(manifest["vectors"]), 40)
        for vector in manifest["vectors"]:
            with self.subTest(vector=vector["file"]):
                with open(os.path.join(CONTRACT, "files", vector["file"]), "rb") as f:
                    data = f.read()
                if data[:4] == b"\x28\xb5\x2f\xfd" and not zstd_available():
                    self.skipTest("no zstd module (Python 3.14+) and no zstd command here")
                validator = contract.Validator(sources[vector.get("source", "seed")], hour.start)
                name = vector["file"].rsplit("/", 1)[-1]
                if contract.is_raw_data_name(name):
                    result = contract.read_file(MINUTE_FOLDER + name, data, validator)
                else:
                    result = contract.FileResult([], [], 0)
                self.assert_matches(vector, result)

    def assert_matches(self, vector, result):
        actual = {
            "records": len(result.records),
            "rejected": len(result.rejects),
            "outside_window": result.outside_window,
            "rejects": [(r.line, r.reason) for r in result.rejects],
        }
        self.assertEqual(
            (vector["records"], vector["rejected"], vector["outside_window"]),
            (actual["records"], actual["rejected"], actual["outside_window"]),
            "records, rejected, outside_window; rejects were %s" % actual["rejects"],
        )
        self.assertEqual([r["line"] for r in vector["rejects"]], [r.line for r in result.rejects], actual["rejects"])
        for expected, reject in zip(vector["rejects"], result.rejects):
            self.assertTrue(reject.reason.startswith(expected["reason"]), "line %d: %r" % (reject.line, reject.reason))
            if "offset" in expected:
                self.assertEqual(expected["offset"], reject.offset, "line %d" % reject.line)
            self.assertEqual(MINUTE_FOLDER + vector["file"].rsplit("/", 1)[-1], reject.file)
        if "values" in vector:
            self.assertEqual([tuple(v) for v in vector["values"]], result.records)
        problem = contract.rejected_share_problem(len(result.records), len(result.rejects), vector.get("threshold", 1.0))
        self.assertEqual(vector.get("status", "succeeded"), "failed" if problem else "succeeded")

    def test_each_rejects_offset_is_where_its_text_starts_in_the_decompressed_file(self):
        manifest = load_manifest()
        hour = job.parse_target_hour(manifest["hour"])
        for vector in manifest["vectors"]:
            if vector.get("source") or vector["file"].startswith("compressed/"):
                continue
            with self.subTest(vector=vector["file"]):
                with open(os.path.join(CONTRACT, "files", vector["file"]), "rb") as f:
                    data = f.read()
                result = contract.read_file("k", data, contract.Validator(job.SEED_SOURCE, hour.start))
                for reject in result.rejects:
                    shown = reject.record.encode("utf-8")
                    if "\ufffd" not in reject.record:
                        self.assertEqual(shown, data[reject.offset:reject.offset + len(shown)], reject)
                    self.assertEqual(reject.line, data[:reject.offset].count(b"\n") + 1, reject)


class ManifestTests(unittest.TestCase):
    def test_every_file_in_the_folder_is_a_vector_and_every_vector_a_file(self):
        manifest = load_manifest()
        root = os.path.join(CONTRACT, "files")
        on_disk = sorted(
            os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
            for folder, _, names in os.walk(root)
            for name in names
        )
        self.assertEqual(on_disk, sorted(v["file"] for v in manifest["vectors"]))

    def test_counts_agree_with_the_listed_rejects_and_values(self):
        for vector in load_manifest()["vectors"]:
            with self.subTest(vector=vector["file"]):
                self.assertEqual(vector["rejected"], len(vector["rejects"]))
                if "values" in vector:
                    self.assertEqual(vector["records"], len(vector["values"]))
                self.assertTrue(set(vector.get("requires", [])) <= {"compression-by-magic", "any-file-name"})


if __name__ == "__main__":
    unittest.main()
