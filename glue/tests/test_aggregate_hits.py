"""Tests of the Glue job's pure parts: arguments, specs, the target hour, the partition paths and the rows it gives Spark.
No Spark needed."""

import json
import os
import sys
import unittest
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import aggregate_hits as job  # noqa: E402
import tally_contract as contract  # noqa: E402

REQUIRED = [
    "--specs", "[]", "--bucket", "b", "--raw_prefix", "raw_data", "--output_prefix", "aggregated_data",
    "--temp_prefix", "glue-temp/staging", "--target_hour", "2026-11-24T13",
]


def hour(text):
    return job.parse_target_hour(text)


def read(name):
    with open(os.path.join(HERE, name)) as f:
        return f.read().strip()


class ParseArgsTests(unittest.TestCase):
    def test_reads_space_and_equals_forms_and_keeps_glue_arguments(self):
        args = job.parse_args(["script.py"] + REQUIRED + ["--JOB_RUN_ID", "jr_1", "--job-bookmark-option=job-bookmark-disable"])
        self.assertEqual("b", args["bucket"])
        self.assertEqual("2026-11-24T13", args["target_hour"])
        self.assertEqual("jr_1", args["JOB_RUN_ID"])
        self.assertEqual("job-bookmark-disable", args["job-bookmark-option"])

    def test_fails_naming_every_missing_argument(self):
        with self.assertRaises(job.JobArgumentError) as e:
            job.parse_args(["--bucket", "b", "--target_hour", ""])
        for name in ("--specs", "--raw_prefix", "--output_prefix", "--temp_prefix", "--target_hour"):
            self.assertIn(name, str(e.exception))

    def test_value_may_contain_spaces_and_equals_signs(self):
        args = job.parse_args(REQUIRED + ["--note", "a=b c"])
        self.assertEqual("a=b c", args["note"])

    def test_max_rejected_share_defaults_to_one_percent_and_is_validated(self):
        self.assertEqual(0.01, job.parse_max_rejected_share({}))
        self.assertEqual(0.05, job.parse_max_rejected_share({"max_rejected_share": "0.05"}))
        for bad in ("-0.1", "1.5", "lots"):
            with self.assertRaises(job.JobArgumentError):
                job.parse_max_rejected_share({"max_rejected_share": bad})


class ParseSpecsTests(unittest.TestCase):
    def test_reads_the_csharp_defaults_as_the_cdk_app_serializes_them(self):
        with open(os.path.join(HERE, "default_specs.json")) as f:
            specs = job.parse_specs(f.read())
        self.assertEqual(
            [
                job.Spec("hits_by_country", ("CountryCode",), "parquet"),
                job.Spec("hits_by_domain_and_groupid", ("Domain", "GroupID"), "json"),
                job.Spec("hits_by_useragent", ("UserAgent",), "parquet"),
            ],
            specs,
        )

    def test_columns_follow_the_raw_schema_order_and_rows_sort_by_group_order(self):
        spec = job.parse_specs('[{"table": "t", "groupBy": ["Domain", "GroupID"], "format": "json"}]')[0]
        self.assertEqual(["groupid", "domain", "hitcount"], spec.columns)
        self.assertEqual(["domain", "groupid"], spec.sort_columns)
        self.assertEqual("json", spec.extension)

    def test_matches_field_names_and_format_in_any_case(self):
        spec = job.parse_specs('[{"table": "t", "groupBy": ["countrycode"], "format": "PARQUET"}]')[0]
        self.assertEqual(("CountryCode",), spec.group_by)
        self.assertEqual("parquet", spec.format)

    def test_rejects_invalid_specs_with_the_reason(self):
        cases = {
            "not json": "not valid JSON",
            "{}": "JSON array",
            "[]": "At least one",
            "[1]": "JSON object",
            '[{"table": "Bad-Name", "groupBy": ["Domain"], "format": "json"}]': "not a valid table name",
            '[{"table": "t", "groupBy": ["Domain"], "format": "json"}, {"table": "t", "groupBy": ["Domain"], "format": "json"}]': "twice",
            '[{"table": "t", "groupBy": [], "format": "json"}]': "no group-by",
            '[{"table": "t", "groupBy": ["Referrer"], "format": "json"}]': "not a raw field",
            '[{"table": "t", "groupBy": ["Domain", "domain"], "format": "json"}]': "same field twice",
            '[{"table": "t", "groupBy": ["Domain"], "format": "csv"}]': "use parquet or json",
        }
        for text, reason in cases.items():
            with self.subTest(text=text):
                with self.assertRaises(job.JobArgumentError) as e:
                    job.parse_specs(text)
                self.assertIn(reason, str(e.exception))


class ParseSpecsMetricsTests(unittest.TestCase):
    def test_a_spec_without_metrics_has_the_default_hitcount(self):
        spec = job.parse_specs('[{"table": "t", "groupBy": ["Domain"], "format": "json"}]')[0]
        self.assertEqual(job.DEFAULT_METRICS, spec.metrics)
        self.assertEqual(["domain", "hitcount"], spec.columns)

    def test_reads_declared_metrics_as_the_cdk_app_serializes_them(self):
        with open(os.path.join(HERE, "custom_specs.json")) as f:
            items = json.load(f)
        self.assertEqual(
            (
                ("hits", "count", None),
                ("total_bytes", "sum", "bytes"),
                ("min_latency", "min", "latency"),
                ("last_seen", "max", "ts"),
                ("cities", "count_distinct", "city"),
            ),
            job._parse_metrics("traffic_by_country", items[0]["metrics"]),
        )
        self.assertEqual(job.DEFAULT_METRICS, job._parse_metrics("hits_by_page", items[1].get("metrics")))

    def test_rejects_metrics_of_unknown_functions_or_shape(self):
        cases = {
            '[{"table": "t", "groupBy": ["Domain"], "format": "json", "metrics": [{"column": "m", "function": "avg"}]}]': "function 'avg'",
            '[{"table": "t", "groupBy": ["Domain"], "format": "json", "metrics": []}]': "non-empty JSON array",
            '[{"table": "t", "groupBy": ["Domain"], "format": "json", "metrics": "hitcount"}]': "non-empty JSON array",
        }
        for text, reason in cases.items():
            with self.subTest(text=text):
                with self.assertRaises(job.JobArgumentError) as e:
                    job.parse_specs(text)
                self.assertIn(reason, str(e.exception))

    def test_resolves_metric_fields_against_the_declared_source(self):
        specs = job.parse_specs(read("custom_specs.json"), job.parse_source(read("custom_source.json")))
        self.assertEqual(
            (
                ("hits", "count", None),
                ("total_bytes", "sum", "bytes"),
                ("min_latency", "min", "Latency"),
                ("last_seen", "max", "ts"),
                ("cities", "count_distinct", "geo.city.name"),
            ),
            specs[0].metrics,
        )
        self.assertEqual(("geo.Country",), specs[0].group_by)
        self.assertEqual(["country", "hits", "total_bytes", "min_latency", "last_seen", "cities"], specs[0].columns)
        self.assertEqual(("page.url", "cached"), specs[1].group_by)
        self.assertEqual(["cached", "page_url", "hitcount"], specs[1].columns)
        self.assertEqual(["page_url", "cached"], specs[1].sort_columns)

    def test_rejects_metrics_over_fields_the_source_does_not_have_or_cannot_sum(self):
        source = job.parse_source(read("custom_source.json"))
        cases = {
            '[{"table": "t", "groupBy": ["country"], "format": "json", "metrics": [{"column": "m", "function": "max", "field": "GroupID"}]}]': "field 'GroupID' is not a raw field",
            '[{"table": "t", "groupBy": ["country"], "format": "json", "metrics": [{"column": "m", "function": "sum", "field": "ts"}]}]': "sum over 'ts', a timestamp field",
            '[{"table": "t", "groupBy": ["GroupID"], "format": "json"}]': "groups by 'GroupID', which is not a raw field (EventId, ts",
        }
        for text, reason in cases.items():
            with self.subTest(text=text):
                with self.assertRaises(job.JobArgumentError) as e:
                    job.parse_specs(text, source)
                self.assertIn(reason, str(e.exception))


class ParseSourceTests(unittest.TestCase):
    def test_is_the_seeds_source_when_absent_or_empty(self):
        self.assertEqual(job.SEED_SOURCE, job.parse_source(None))
        self.assertEqual(job.SEED_SOURCE, job.parse_source(" "))
        self.assertEqual(
            ["GroupID", "CountryCode", "UserAgent", "Language", "Domain", "Timestamp"], [f.name for f in job.SEED_SOURCE.fields]
        )

    def test_reads_the_seeds_schema_as_the_csharp_core_serializes_it(self):
        self.assertEqual(job.SEED_SOURCE, job.parse_source(read("seed_source.json")))

    def test_reads_a_declared_schema_as_the_cdk_app_serializes_it(self):
        with open(os.path.join(HERE, "custom_source.json")) as f:
            source = job.parse_source(f.read())
        self.assertEqual(
            (
                ("EventId", "event_id", "string"),
                ("ts", "event_time", "timestamp"),
                ("bytes", "bytes", "int64"),
                ("Latency", "latency", "double"),
                ("cached", "cached", "boolean"),
                ("geo.Country", "country", "string"),
                ("geo.city.name", "city", "string"),
                ("page.url", "page_url", "string"),
                ("page.Referrer-Url", "referrer", "string"),
            ),
            source.fields,
        )
        self.assertEqual("ts", source.event_time)

    def test_a_schema_without_event_time_has_none(self):
        source = job.parse_source('{"fields": [{"name": "a", "column": "a", "type": "string"}]}')
        self.assertIsNone(source.event_time)

    def test_rejects_a_schema_of_the_wrong_shape_with_the_reason(self):
        cases = {
            "not json": "not valid JSON",
            "[]": "\"fields\" array",
            '{"fields": []}': "\"fields\" array",
            '{"fields": [{"name": "a", "type": "string"}]}': "needs a name, a column and a type",
            '{"fields": [{"name": "a", "column": "a", "type": "integer"}]}': "needs a name, a column and a type",
            '{"fields": [{"name": "a", "column": "a", "type": "string"}], "event_time": "b"}': "event_time 'b'",
        }
        for text, reason in cases.items():
            with self.subTest(text=text):
                with self.assertRaises(job.JobArgumentError) as e:
                    job.parse_source(text)
                self.assertIn(reason, str(e.exception))


class MainChecksTheDeclarationBeforeSparkTests(unittest.TestCase):
    """main() checks every argument before it imports Spark or boto3, so these run without them."""

    def test_a_table_over_a_field_the_declared_source_lacks_fails_the_run_at_its_start(self):
        specs = '[{"table": "t", "groupBy": ["Domain"], "format": "json"}]'
        argv = [a if a != "[]" else specs for a in REQUIRED] + ["--source", read("custom_source.json")]
        with self.assertRaises(job.JobArgumentError) as e:
            job.main(argv)
        self.assertIn("groups by 'Domain', which is not a raw field", str(e.exception))

    def test_a_sum_over_text_fails_the_run_at_its_start(self):
        specs = '[{"table": "t", "groupBy": ["Domain"], "format": "json", "metrics": [{"column": "s", "function": "sum", "field": "UserAgent"}]}]'
        with self.assertRaises(job.JobArgumentError) as e:
            job.main([a if a != "[]" else specs for a in REQUIRED])
        self.assertIn("sum over 'UserAgent', a string field", str(e.exception))


class ParseTargetHourTests(unittest.TestCase):
    def test_accepts_the_forms_of_hour_window(self):
        cases = {
            "2026-11-24T13": "2026-11-24T13",
            "2026-11-24T13Z": "2026-11-24T13",
            "2026-11-24T13:00": "2026-11-24T13",
            "2026-11-24T13:00:00Z": "2026-11-24T13",
            "2026-11-24T13:00:00.000Z": "2026-11-24T13",
            " 2026-11-24T13 ": "2026-11-24T13",
            "2026-11-24T15:00:00+02:00": "2026-11-24T13",
            "2026-11-24T20:00-05:00": "2026-11-25T01",
            "2026-01-01T00:30:00+01:00": None,
        }
        for text, expected in cases.items():
            with self.subTest(text=text):
                if expected is None:
                    with self.assertRaises(job.JobArgumentError):
                        hour(text)
                else:
                    self.assertEqual(expected, str(hour(text)))

    def test_returns_utc(self):
        self.assertEqual(datetime(2026, 11, 24, 13, tzinfo=timezone.utc), hour("2026-11-24T15:00+02:00").start)

    def test_rejects_what_is_not_a_whole_valid_hour(self):
        for text in ("", "2026-11-24", "2026-11-24T13:30", "2026-11-24T13:00:05Z", "2026-02-30T01", "2026-11-24T24", "yesterday", None):
            with self.subTest(text=text):
                with self.assertRaises(job.JobArgumentError):
                    hour(text)


class PartitionTests(unittest.TestCase):
    def test_raw_glob_selects_the_hour_with_padded_and_unpadded_values(self):
        self.assertEqual(
            "s3://b/raw_data/year=2026/month={02,2}/day={03,3}/hour={04,4}/minute=*/",
            job.raw_hour_glob("b", "raw_data/", hour("2026-02-03T04")),
        )

    def test_raw_glob_needs_no_alternatives_for_two_digit_values(self):
        self.assertEqual(
            "s3://b/raw_data/year=2026/month=11/day=24/hour=13/minute=*/",
            job.raw_hour_glob("b", "raw_data", hour("2026-11-24T13")),
        )

    def test_midnight_matches_hour_00_and_0(self):
        self.assertIn("/hour={00,0}/", job.raw_hour_glob("b", "raw_data", hour("2026-11-24T00")))

    def test_table_file_is_the_single_zero_padded_part_file(self):
        spec = job.Spec("hits_by_country", ("CountryCode",), "parquet")
        self.assertEqual(
            "aggregated_data/hits_by_country/year=2026/month=01/day=05/hour=07/part-00000.parquet",
            job.table_file_key("aggregated_data/", spec, hour("2026-01-05T07")),
        )
        json_spec = job.Spec("hits_by_domain_and_groupid", ("Domain", "GroupID"), "json")
        self.assertTrue(job.table_file_key("aggregated_data", json_spec, hour("2026-01-05T07")).endswith("/hour=07/part-00000.json"))

    def test_staging_prefix_is_per_run_and_output(self):
        self.assertEqual("glue-temp/staging/jr_1/t/", job.staging_prefix("glue-temp/staging/", "jr_1", "t"))

    def test_quarantine_file_is_the_csharp_engines(self):
        self.assertEqual(
            "quarantine/year=2026/month=01/day=05/hour=07/rejected.jsonl",
            job.quarantine_file_key("quarantine/", hour("2026-01-05T07")),
        )

    def test_pick_part_file_ignores_markers_and_checksums(self):
        keys = ["s/t/_SUCCESS", "s/t/.part-00000-x.crc", "s/t/part-00000-x-c000.snappy.parquet"]
        self.assertEqual("s/t/part-00000-x-c000.snappy.parquet", job.pick_part_file(keys))
        self.assertIsNone(job.pick_part_file(["s/t/_SUCCESS"]))
        with self.assertRaises(RuntimeError):
            job.pick_part_file(["s/t/part-00000-a.json", "s/t/part-00001-a.json"])

    def test_stale_keys_are_everything_in_the_partition_but_the_new_file(self):
        final = "aggregated_data/t/year=2026/month=11/day=24/hour=13/part-00000.json"
        existing = [final, "aggregated_data/t/year=2026/month=11/day=24/hour=13/part-00000-old-c000.json"]
        self.assertEqual([existing[1]], job.stale_keys(existing, final))
        self.assertEqual([], job.stale_keys([final], final))


class RejectedShareTests(unittest.TestCase):
    def test_fails_only_above_the_threshold_of_all_records_read(self):
        self.assertIsNone(contract.rejected_share_problem(0, 0, 0.01))
        self.assertIsNone(contract.rejected_share_problem(99, 1, 0.01))
        self.assertIn("2 of 100 records (2.00 %)", contract.rejected_share_problem(98, 2, 0.01))
        self.assertIsNone(contract.rejected_share_problem(0, 5, 1.0))


class RawFilesTests(unittest.TestCase):
    def test_object_key_is_the_key_in_the_bucket(self):
        key = "raw_data/year=2026/month=11/day=24/hour=13/minute=07/x.json"
        for scheme in ("s3", "s3a", "s3n"):
            self.assertEqual(key, job.object_key("%s://b/%s" % (scheme, key), "b"))
        self.assertEqual("s3://other/" + key, job.object_key("s3://other/" + key, "b"))

    def test_every_name_in_a_minute_folder_is_data_but_hidden_and_marker_files(self):
        folder = "raw_data/year=2026/month=11/day=24/hour=13/"
        for name in ("minute=07/x.json", "minute=7/firehose-1-2026-11-24-13-07-41-abc", "minute=59/x.json.gz", "minute=00/x.zst"):
            self.assertTrue(job.is_raw_data_key(folder + name), name)
        for name in ("minute=07/_SUCCESS", "minute=07/.x.json.crc", "minute=60/x.json", "minute=ab/x.json", "x.json", "minute=07/"):
            self.assertFalse(job.is_raw_data_key(folder + name), name)


class DataFrameRowsTests(unittest.TestCase):
    def test_columns_are_the_declared_ones_then_timestamps_in_microseconds_then_the_jobs_own(self):
        self.assertEqual(
            [("groupid", "int64"), ("countrycode", "string"), ("useragent", "string"), ("language", "string"),
             ("domain", "string"), ("timestamp", "timestamp"), ("timestamp-utc-micros", "micros"),
             ("tally-outside-window", "boolean"), ("tally-rejected", "string")],
            job.dataframe_columns(job.SEED_SOURCE),
        )

    def test_a_row_per_record_valid_or_rejected_with_its_quarantine_line(self):
        data = (
            b'{"GroupID": 1, "Timestamp": "2026-11-24T13:00:00.5+01:00"}\n'
            b'{"GroupID": "x"}\n'
            b'{"CountryCode": "DE"}\n'
        )
        validator = contract.Validator(job.SEED_SOURCE, hour("2026-11-24T13").start)
        key = "raw_data/year=2026/month=11/day=24/hour=13/minute=07/x.json"
        rows = list(job.file_rows("s3://b/" + key, data, "b", validator))
        micros = int(datetime(2026, 11, 24, 12, 0, 0, 500000, tzinfo=timezone.utc).timestamp()) * 1_000_000 + 500_000
        self.assertEqual((1, None, None, None, None, "2026-11-24T13:00:00.5+01:00", micros, True, None), rows[0])
        self.assertEqual((None,) * 7 + (False,), rows[1][:8])
        self.assertEqual(
            {"file": key, "line": 2, "offset": 59, "reason": "GroupID is not an integer (found a string)", "record": '{"GroupID": "x"}'},
            json.loads(rows[1][8]),
        )
        self.assertEqual((None, "DE", None, None, None, None, None, False, None), rows[2])
        self.assertEqual([], list(job.file_rows("s3://b/raw_data/year=2026/month=11/day=24/hour=13/minute=07/_SUCCESS", data, "b", validator)))


if __name__ == "__main__":
    unittest.main()
