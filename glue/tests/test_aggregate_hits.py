"""Tests of the Glue job's pure parts: arguments, specs, the target hour and the partition paths. No Spark needed."""

import json
import os
import sys
import unittest
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import aggregate_hits as job  # noqa: E402

REQUIRED = [
    "--specs", "[]", "--bucket", "b", "--raw_prefix", "raw_data", "--output_prefix", "aggregated_data",
    "--temp_prefix", "glue-temp/staging", "--target_hour", "2026-11-24T13",
]


def hour(text):
    return job.parse_target_hour(text)


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

    def test_only_the_default_hitcount_is_supported_yet(self):
        specs = job.parse_specs(
            '[{"table": "a", "groupBy": ["Domain"], "format": "json"},'
            ' {"table": "b", "groupBy": ["GroupID"], "format": "json", "metrics": [{"column": "n", "function": "count"}]}]'
        )
        self.assertIsNone(job.unsupported_metrics(specs[:1]))
        self.assertIn("Table 'b' declares the metrics n (count)", job.unsupported_metrics(specs))


class ParseSourceTests(unittest.TestCase):
    def test_is_the_seeds_source_when_absent_or_empty(self):
        self.assertEqual(job.SEED_SOURCE, job.parse_source(None))
        self.assertEqual(job.SEED_SOURCE, job.parse_source(" "))
        self.assertTrue(job.SEED_SOURCE.is_seed)
        self.assertEqual([name for name, _ in job.RAW_FIELDS], [name for name, _, _ in job.SEED_SOURCE.fields])

    def test_reads_the_seeds_schema_as_the_csharp_core_serializes_it(self):
        with open(os.path.join(HERE, "seed_source.json")) as f:
            source = job.parse_source(f.read())
        self.assertTrue(source.is_seed)
        self.assertIsNone(job.unsupported_source(source))

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
        self.assertFalse(source.is_seed)
        self.assertIn("does not read yet", job.unsupported_source(source))

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


class MainRefusesWhatItCannotComputeTests(unittest.TestCase):
    """main() checks the declaration before it imports Spark or boto3, so these run without them."""

    def argv(self, specs_file, *extra):
        with open(os.path.join(HERE, specs_file)) as f:
            specs = f.read().strip()
        return [a if a != "[]" else specs for a in REQUIRED] + list(extra)

    def test_a_declared_source_fails_the_run_at_its_start_naming_its_fields(self):
        with open(os.path.join(HERE, "custom_source.json")) as f:
            argv = self.argv("custom_specs.json", "--source", f.read().strip())
        with self.assertRaises(job.JobArgumentError) as e:
            job.main(argv)
        self.assertIn("EventId, ts, bytes", str(e.exception))

    def test_declared_metrics_over_the_seeds_fields_fail_the_run_at_its_start(self):
        specs = '[{"table": "t", "groupBy": ["Domain"], "format": "json", "metrics": [{"column": "s", "function": "sum", "field": "GroupID"}]}]'
        argv = [a if a != "[]" else specs for a in REQUIRED]
        with self.assertRaises(job.JobArgumentError) as e:
            job.main(argv)
        self.assertIn("Table 't' declares the metrics s (sum)", str(e.exception))


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

    def test_staging_prefix_is_per_run_and_table(self):
        spec = job.Spec("t", ("Domain",), "json")
        self.assertEqual("glue-temp/staging/jr_1/t/", job.staging_prefix("glue-temp/staging/", "jr_1", spec))

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
    def test_fails_only_above_the_threshold(self):
        self.assertIsNone(job.rejected_share_problem(0, 0, 0.01))
        self.assertIsNone(job.rejected_share_problem(100, 1, 0.01))
        self.assertIn("2 of 100 records", job.rejected_share_problem(100, 2, 0.01))


if __name__ == "__main__":
    unittest.main()
