"""Tally's Glue Spark job: aggregate one UTC hour of raw records into every configured table.

Arguments (Glue passes them as ``--name value``):
  --specs               the aggregation specs as JSON, as Tally.Core's AggregationSpec.ToJson writes them:
                        [{"table": "...", "groupBy": ["Field", ...], "format": "parquet"|"json"}, ...], with
                        "metrics": [{"column": "...", "function": "sum", "field": "..."}] when not the default hitcount
  --source              optional; the source schema as JSON, as Tally.Core's SourceSchema.ToJson writes it:
                        {"fields": [{"name": "geo.country", "column": "geo_country", "type": "string"}, ...],
                        "event_time": "ts"}; the seed's six fields when absent (the CDK app passes it only then)
  --bucket              the data bucket
  --raw_prefix          the raw data prefix (raw_data)
  --output_prefix       the aggregated tables' prefix (aggregated_data)
  --temp_prefix         where Spark's output is staged before it replaces the hour's file
  --target_hour         the UTC hour to aggregate, 2026-11-24T13 (the state machine passes the Lambda's answer)
  --max_rejected_share  optional; the run fails when more than this share of records is rejected (default 0.01)
  --quarantine_prefix   optional; where the rejected records go (default quarantine), as the C# engine writes them:
                        <prefix>/year=YYYY/month=MM/day=DD/hour=HH/rejected.jsonl

What it does, in this order:
  1. Reads every raw file of the hour's minute folders (padded or not; every name not starting with '.' or '_') whole,
     with Spark's binaryFiles, and parses each through tally_contract, the same contract as the C# engine's: file
     shapes, gzip and zstd by their first bytes, strict JSON, the declared fields' types, rejects with reasons,
     outside_window. Spark only distributes the files.
  2. Writes the rejected records, one JSON line each, to the quarantine file (or removes it when there are none).
  3. Fails the run when rejected / (records + rejected) exceeds --max_rejected_share, leaving the tables as they were.
  4. Aggregates the valid records with Spark: group by, then count, sum, min, max and count_distinct over the declared
     columns (an int64 sum that does not fit in 64 bits fails the run); rows sorted by the group-by columns.
  5. For each table writes exactly one object, <output_prefix>/<table>/year=YYYY/month=MM/day=DD/hour=HH/part-00000.<ext>,
     by copying Spark's staged file over it (a reader sees the old object or the new one), then removes any other object
     in that partition. Reruns replace the hour, never duplicate it; an hour without input gets an empty file.

Packaging: the job needs tally_contract.py beside this script, given to Glue as ``--extra-py-files s3://.../tally_contract.py``
(Glue puts it on the Python path of the driver and of every executor). Everything above main()'s Spark part is pure
Python, tested without Spark; Spark and boto3 are imported in main() only. The Spark part cannot run offline: it is
kept to the few calls above, and is verified only by running the job on a real AWS account.
"""

import json
import re
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import tally_contract as contract
from tally_contract import FIELD_TYPES, SEED_SOURCE, Source

COUNT_COLUMN = "hitcount"
METRIC_FUNCTIONS = ("count", "sum", "min", "max", "count_distinct")
# The metric of a spec without "metrics": one count column, hitcount.
DEFAULT_METRICS = ((COUNT_COLUMN, "count", None),)
PART_FILE_STEM = "part-00000"
FORMATS = ("parquet", "json")
REQUIRED_ARGS = ("specs", "bucket", "raw_prefix", "output_prefix", "temp_prefix", "target_hour")
DEFAULT_MAX_REJECTED_SHARE = 0.01
DEFAULT_QUARANTINE_PREFIX = "quarantine"
# The DataFrame's columns beside the declared ones; declared columns are lower-case letters, digits and '_', so a
# name with '-' never collides with one.
REJECTED_COLUMN = "tally-rejected"
OUTSIDE_COLUMN = "tally-outside-window"
MICROS_SUFFIX = "-utc-micros"

_TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,127}$")
_HOUR = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2})(?::(\d{2})(?::(\d{2})(?:\.0+)?)?)?(Z|z|[+-]\d{2}:\d{2})?$"
)
_MINUTE_FOLDER = re.compile(r"minute=([0-9]{1,9})")
_S3_PATH = re.compile(r"s3[an]?://([^/]+)/(.*)", re.DOTALL)


class JobArgumentError(ValueError):
    """An argument of the job is missing or not valid; the message says which and why."""


@dataclass(frozen=True)
class Spec:
    """One aggregation: group the hour's valid records by group_by (JSON names of the source's fields) into table.

    metrics holds (column, function, field) tuples, field a JSON name (None for count); source is the schema the names
    belong to.
    """

    table: str
    group_by: tuple
    format: str
    metrics: tuple = DEFAULT_METRICS
    source: Source = SEED_SOURCE

    @property
    def columns(self):
        """The stored columns: group-by columns in the source's field order, then the metrics in declared order."""
        return [f.column for f in self.source.fields if f.name in self.group_by] + [m[0] for m in self.metrics]

    @property
    def sort_columns(self):
        """The output rows' sort order: the group-by columns in group_by order."""
        return [self.source.find(name).column for name in self.group_by]

    @property
    def extension(self):
        return "parquet" if self.format == "parquet" else "json"


@dataclass(frozen=True, order=True)
class Hour:
    """One whole UTC hour."""

    start: datetime

    @property
    def partition_values(self):
        """year, month, day, hour as zero-padded strings."""
        s = self.start
        return ("%04d" % s.year, "%02d" % s.month, "%02d" % s.day, "%02d" % s.hour)

    @property
    def partition_path(self):
        y, m, d, h = self.partition_values
        return "year=%s/month=%s/day=%s/hour=%s" % (y, m, d, h)

    def __str__(self):
        return self.start.strftime("%Y-%m-%dT%H")


def parse_args(argv):
    """Reads ``--name value`` and ``--name=value`` pairs (Glue's own arguments included) into a dict.

    Raises JobArgumentError when a required argument is missing or empty.
    """
    args = {}
    i = 0
    while i < len(argv):
        token = argv[i]
        if token.startswith("--") and len(token) > 2:
            name = token[2:]
            if "=" in name:
                name, value = name.split("=", 1)
            elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                i += 1
                value = argv[i]
            else:
                value = ""
            args[name] = value
        i += 1
    missing = [name for name in REQUIRED_ARGS if not args.get(name, "").strip()]
    if missing:
        raise JobArgumentError("Missing job argument(s): %s." % ", ".join("--" + name for name in missing))
    return args


def parse_specs(text, source=SEED_SOURCE):
    """Parses and validates the specs JSON against the source schema (the rules of Tally.Core's AggregationSpec.Resolve
    that the job depends on). Names of group-by and metric fields are matched as SourceSchema.Find does (JSON name or
    column, in any case when unambiguous) and returned as JSON names. Raises JobArgumentError with the first problem.
    """
    try:
        items = json.loads(text)
    except ValueError as e:
        raise JobArgumentError("The aggregation specs are not valid JSON: %s" % e)
    if not isinstance(items, list):
        raise JobArgumentError("The aggregation specs must be a JSON array.")
    if not items:
        raise JobArgumentError("At least one aggregation must be configured.")
    names = ", ".join(f.name for f in source.fields)
    specs, tables = [], set()
    for item in items:
        if not isinstance(item, dict):
            raise JobArgumentError("Each aggregation spec must be a JSON object.")
        table = item.get("table")
        if not isinstance(table, str) or not _TABLE_NAME.match(table):
            raise JobArgumentError(
                "'%s' is not a valid table name: use lower-case letters, digits and underscores, starting with a letter." % table
            )
        if table in tables:
            raise JobArgumentError("Table '%s' is configured twice." % table)
        tables.add(table)
        group_by = item.get("groupBy")
        if not isinstance(group_by, list) or not group_by:
            raise JobArgumentError("Table '%s' has no group-by fields." % table)
        fields = []
        for name in group_by:
            field = source.find(name) if isinstance(name, str) else None
            if field is None:
                raise JobArgumentError("Table '%s' groups by '%s', which is not a raw field (%s)." % (table, name, names))
            if field.name in fields:
                raise JobArgumentError("Table '%s' groups by the same field twice." % table)
            fields.append(field.name)
        fmt = item.get("format")
        if not isinstance(fmt, str) or fmt.lower() not in FORMATS:
            raise JobArgumentError("Table '%s' has format '%s'; use parquet or json." % (table, fmt))
        metrics = tuple(_resolve_metric(table, m, source, names) for m in _parse_metrics(table, item.get("metrics")))
        specs.append(Spec(table, tuple(fields), fmt.lower(), metrics, source))
    return specs


def _parse_metrics(table, items):
    """The (column, function, field) tuples of a spec's "metrics", field as written; DEFAULT_METRICS when there is none."""
    if items is None:
        return DEFAULT_METRICS
    if not isinstance(items, list) or not items:
        raise JobArgumentError("Table '%s' has metrics that are not a non-empty JSON array." % table)
    metrics = []
    for item in items:
        function = item.get("function") if isinstance(item, dict) else None
        if not isinstance(function, str) or function.lower() not in METRIC_FUNCTIONS:
            raise JobArgumentError(
                "Table '%s' has a metric of function '%s'; use %s." % (table, function, ", ".join(METRIC_FUNCTIONS))
            )
        metrics.append((item.get("column"), function.lower(), item.get("field")))
    return tuple(metrics)


def _resolve_metric(table, metric, source, names):
    column, function, name = metric
    if not isinstance(column, str) or not column:
        raise JobArgumentError("Table '%s' has a metric without a column." % table)
    if function == "count":
        return (column, function, None)
    field = source.find(name) if isinstance(name, str) else None
    if field is None:
        raise JobArgumentError("Table '%s', metric '%s': field '%s' is not a raw field (%s)." % (table, column, name, names))
    if function == "sum" and field.type not in ("int64", "double"):
        raise JobArgumentError("Table '%s', metric '%s': sum over '%s', a %s field; sum needs an int64 or double field."
                               % (table, column, field.name, field.type))
    return (column, function, field.name)


def parse_source(text):
    """Parses the optional --source JSON (Tally.Core's SourceSchema.ToJson) into a Source; SEED_SOURCE when absent.

    Checks its shape only: the CDK app validated the declaration with Tally.Core's rules before passing it.
    Raises JobArgumentError with the first problem found.
    """
    if text is None or not text.strip():
        return SEED_SOURCE
    try:
        item = json.loads(text)
    except ValueError as e:
        raise JobArgumentError("The source schema (--source) is not valid JSON: %s" % e)
    fields = item.get("fields") if isinstance(item, dict) else None
    if not isinstance(fields, list) or not fields:
        raise JobArgumentError("The source schema (--source) must be a JSON object with a non-empty \"fields\" array.")
    parsed = []
    for field in fields:
        values = tuple(field.get(key) if isinstance(field, dict) else None for key in ("name", "column", "type"))
        if not all(isinstance(v, str) and v for v in values) or values[2] not in FIELD_TYPES:
            raise JobArgumentError(
                "Every field of the source schema (--source) needs a name, a column and a type (%s), not %s."
                % (", ".join(FIELD_TYPES), json.dumps(field))
            )
        parsed.append(values)
    event_time = item.get("event_time")
    if event_time is not None and event_time not in [name for name, _, _ in parsed]:
        raise JobArgumentError("The source schema's event_time '%s' is not one of its fields." % event_time)
    return Source(tuple(parsed), event_time)


def parse_target_hour(text):
    """Parses 2026-11-24T13, optionally with :00, :00:00 and Z or an offset (converted to UTC).

    Minutes and seconds, when given, must be zero. Raises JobArgumentError otherwise.
    """
    match = _HOUR.match((text or "").strip())
    if not match:
        raise JobArgumentError("--target_hour '%s' is not an hour; write it as yyyy-MM-ddTHH in UTC, e.g. 2026-11-24T13." % text)
    year, month, day, hour, minute, second, offset = match.groups()
    if (minute and int(minute) != 0) or (second and int(second) != 0):
        raise JobArgumentError("--target_hour '%s' is not a whole hour." % text)
    tz = timezone.utc
    if offset and offset.upper() != "Z":
        sign = -1 if offset[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
    try:
        start = datetime(int(year), int(month), int(day), int(hour), tzinfo=tz)
    except ValueError:
        raise JobArgumentError("--target_hour '%s' is not a valid date and hour." % text)
    return Hour(start.astimezone(timezone.utc))


def parse_max_rejected_share(args):
    """The optional --max_rejected_share, a share between 0 and 1 (default 0.01)."""
    text = args.get("max_rejected_share", "").strip()
    if not text:
        return DEFAULT_MAX_REJECTED_SHARE
    try:
        share = float(text)
    except ValueError:
        share = -1.0
    if not 0.0 <= share <= 1.0:
        raise JobArgumentError("--max_rejected_share '%s' must be a share between 0 and 1 (0.01 = 1 %%)." % text)
    return share


def _value_alternatives(value, width):
    """A partition value as written (zero-padded) and as it may be found (unpadded), as a Hadoop glob."""
    padded, plain = "%0*d" % (width, value), str(value)
    return padded if padded == plain else "{%s,%s}" % (padded, plain)


def raw_hour_glob(bucket, raw_prefix, hour):
    """The partition predicate, as a path glob: every minute folder of the hour under the raw prefix.

    Partition values match with or without zero padding (month=01 and month=1), as DESIGN.md requires;
    the hour of a record is the hour of its folder, as the seed's Glue partition predicate has it.
    """
    s = hour.start
    return "s3://%s/%s/year=%s/month=%s/day=%s/hour=%s/minute=*/" % (
        bucket,
        raw_prefix.strip("/"),
        _value_alternatives(s.year, 4),
        _value_alternatives(s.month, 2),
        _value_alternatives(s.day, 2),
        _value_alternatives(s.hour, 2),
    )


def object_key(path, bucket):
    """The object key of a path Spark lists (s3://bucket/raw_data/...), as the C# engine names files in rejects."""
    match = _S3_PATH.fullmatch(path)
    return match.group(2) if match and match.group(1) == bucket else path


def is_raw_data_key(key):
    """Whether a key the hour's glob found is a raw data file: directly in a minute=0..59 folder (padded or not), its
    name not starting with '.' or '_' (Hive's rule, which Spark's listing applies too)."""
    parts = key.split("/")
    minute = _MINUTE_FOLDER.fullmatch(parts[-2]) if len(parts) >= 2 else None
    return minute is not None and int(minute.group(1)) <= 59 and contract.is_raw_data_name(parts[-1])


def dataframe_columns(source):
    """The parsed records' DataFrame columns as (name, type): each declared field's column (a timestamp as its text),
    the UTC microseconds of each timestamp field (for min and max), then whether the record lies outside the hour and,
    for a rejected record, its quarantine line. Types are FIELD_TYPES' words and "micros"."""
    stamps = [f for f in source.fields if f.type == "timestamp"]
    return (
        [(f.column, f.type) for f in source.fields]
        + [(f.column + MICROS_SUFFIX, "micros") for f in stamps]
        + [(OUTSIDE_COLUMN, "boolean"), (REJECTED_COLUMN, "string")]
    )


def dataframe_rows(key, data, validator):
    """One raw file's rows for the DataFrame of dataframe_columns(validator.source): a row per valid record, and a row
    per rejected record whose declared columns are null and whose REJECTED_COLUMN holds its quarantine line."""
    fields = validator.source.fields
    stamps = [i for i, f in enumerate(fields) if f.type == "timestamp"]
    empty = (None,) * (len(fields) + len(stamps))
    for item in contract.iter_file(key, data, validator):
        if type(item) is contract.Record:
            values = item.values
            micros = tuple(None if values[i] is None else contract.unix_micros(contract.parse_utc_ticks(values[i])) for i in stamps)
            yield values + micros + (item.outside_window, None)
        else:
            yield empty + (False, item.to_json_line())


def file_rows(path, data, bucket, validator):
    """The DataFrame rows of one file binaryFiles read (its path and bytes): dataframe_rows, or none when the path is not
    a raw data file of the hour (see is_raw_data_key)."""
    key = object_key(path, bucket)
    return dataframe_rows(key, data, validator) if is_raw_data_key(key) else ()


def quarantine_file_key(quarantine_prefix, hour):
    """The hour's quarantine file: <prefix>/year=YYYY/month=MM/day=DD/hour=HH/rejected.jsonl (DataLayout.QuarantineFile)."""
    return "%s/%s/rejected.jsonl" % (quarantine_prefix.strip("/"), hour.partition_path)


def table_partition_prefix(output_prefix, spec, hour):
    """The key prefix of the table's partition for the hour, ending with '/'."""
    return "%s/%s/%s/" % (output_prefix.strip("/"), spec.table, hour.partition_path)


def table_file_key(output_prefix, spec, hour):
    """The one object of the table for the hour: .../hour=HH/part-00000.<ext>."""
    return "%s%s.%s" % (table_partition_prefix(output_prefix, spec, hour), PART_FILE_STEM, spec.extension)


def staging_prefix(temp_prefix, run_id, name):
    """Where Spark writes one output (a table's, or the quarantine's) before it is copied into place, ending with '/'."""
    return "%s/%s/%s/" % (temp_prefix.strip("/"), run_id, name)


def pick_part_file(keys):
    """The one data file Spark wrote among the staged keys (part-*, not a checksum), or None when it wrote none.

    Raises RuntimeError when there are several (the output is coalesced to one partition).
    """
    parts = [k for k in keys if k.rsplit("/", 1)[-1].startswith("part-") and not k.endswith(".crc")]
    if len(parts) > 1:
        raise RuntimeError("Spark wrote %d data files where one was expected: %s" % (len(parts), ", ".join(sorted(parts))))
    return parts[0] if parts else None


def stale_keys(existing_keys, final_key):
    """The objects of a partition to remove after the new file is in place: all but the new file."""
    return sorted(k for k in existing_keys if k != final_key)


def main(argv=None):
    """The Glue entry point. The arguments are checked before Spark and boto3 are imported."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    source = parse_source(args.get("source"))
    specs = parse_specs(args["specs"], source)
    hour = parse_target_hour(args["target_hour"])
    max_rejected = parse_max_rejected_share(args)
    quarantine_key = quarantine_file_key(args.get("quarantine_prefix") or DEFAULT_QUARANTINE_PREFIX, hour)
    validator = contract.Validator(source, hour.start)
    run_id = args.get("JOB_RUN_ID") or uuid.uuid4().hex
    report = _run_on_spark(args, source, specs, hour, max_rejected, quarantine_key, validator, run_id)
    print(json.dumps(report, sort_keys=True))


def _run_on_spark(args, source, specs, hour, max_rejected, quarantine_key, validator, run_id):
    # The only part that needs Spark and AWS: not run by the tests, verified on a real account only. Keep it thin.
    import boto3
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    spark = SparkSession.builder.appName("tally-aggregate-hits").getOrCreate()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")  # as the C# engine writes them
    s3 = boto3.client("s3")
    bucket, sc = args["bucket"], spark.sparkContext

    # 1. Whole files through the contract, on the executors.
    raw_glob = raw_hour_glob(bucket, args["raw_prefix"], hour)
    glob_path = sc._jvm.org.apache.hadoop.fs.Path(raw_glob)
    matches = glob_path.getFileSystem(sc._jsc.hadoopConfiguration()).globStatus(glob_path)
    files = sc.binaryFiles(raw_glob) if matches is not None and len(matches) > 0 else sc.emptyRDD()
    rows = files.flatMap(lambda item: file_rows(item[0], item[1], bucket, validator))
    spark_type = {"string": T.StringType, "int64": T.LongType, "double": T.DoubleType, "boolean": T.BooleanType,
                  "timestamp": T.StringType, "micros": T.LongType}
    schema = T.StructType([T.StructField(name, spark_type[kind](), True) for name, kind in dataframe_columns(source)])
    parsed = spark.createDataFrame(rows, schema).cache()
    rejected_line = F.col(REJECTED_COLUMN)
    counts = parsed.agg(
        F.count(F.when(rejected_line.isNull(), 1)).alias("records"),
        F.count(rejected_line).alias("rejected"),
        F.count(F.when(F.col(OUTSIDE_COLUMN), 1)).alias("outside_window"),
    ).first()
    report = {"target_hour": str(hour), "records": counts["records"], "rejected": counts["rejected"],
              "outside_window": counts["outside_window"], "quarantine": None, "tables": {}}

    # 2. The quarantine file, replaced whole.
    if counts["rejected"]:
        staged = staging_prefix(args["temp_prefix"], run_id, "quarantine")
        parsed.filter(rejected_line.isNotNull()).select(rejected_line).coalesce(1).write.mode("overwrite").text(
            "s3://%s/%s" % (bucket, staged))
        _replace_with_staged(s3, bucket, staged, quarantine_key)
        report["quarantine"] = "s3://%s/%s" % (bucket, quarantine_key)
    else:
        s3.delete_object(Bucket=bucket, Key=quarantine_key)

    # 3. The threshold.
    problem = contract.rejected_share_problem(counts["records"], counts["rejected"], max_rejected)
    if problem:
        raise RuntimeError("Hour %s: %s The tables were left unchanged. See %s." % (hour, problem, report["quarantine"]))

    # 4 and 5. Each table, aggregated by Spark, then copied into place.
    valid = parsed.filter(rejected_line.isNull())
    for spec in specs:
        aggregated = (
            valid.groupBy(*spec.sort_columns)
            .agg(*[_metric_column(F, spec, metric) for metric in spec.metrics])
            .select(*spec.columns)
            .coalesce(1)
            .sortWithinPartitions(*[F.col(c).asc_nulls_first() for c in spec.sort_columns])
        )
        staged = staging_prefix(args["temp_prefix"], run_id, spec.table)
        writer = aggregated.write.mode("overwrite").format(spec.format)
        if spec.format == "json":
            writer = writer.option("ignoreNullFields", "false").option("timestampFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
        writer.save("s3://%s/%s" % (bucket, staged))
        final_key = table_file_key(args["output_prefix"], spec, hour)
        if not _replace_with_staged(s3, bucket, staged, final_key):
            if spec.format != "json":
                raise RuntimeError("Spark wrote no Parquet file for table %s." % spec.table)
            s3.put_object(Bucket=bucket, Key=final_key, Body=b"")
        _delete_keys(s3, bucket, stale_keys(_list_keys(s3, bucket, table_partition_prefix(args["output_prefix"], spec, hour)), final_key))
        report["tables"][spec.table] = {"rows": aggregated.count(), "key": final_key}
    return report


def _metric_column(F, spec, metric):
    """The Spark aggregate of one metric, named by its column."""
    column, function, name = metric
    if function == "count":
        return F.count(F.lit(1)).cast("bigint").alias(column)
    field = spec.source.find(name)
    value = F.col(field.column)
    if function == "count_distinct":
        return F.countDistinct(value).cast("bigint").alias(column)
    if function == "sum" and field.type == "int64":
        total = F.sum(value.cast("decimal(38,0)"))
        fits = total.isNull() | total.between(-(2 ** 63), 2 ** 63 - 1)
        overflow = "Table %s: the sum %s does not fit in a 64-bit integer." % (spec.table, column)
        return F.when(fits, total.cast("bigint")).otherwise(F.raise_error(F.lit(overflow))).alias(column)
    if function == "sum":
        return F.sum(value).alias(column)
    extreme = F.min if function == "min" else F.max
    if field.type == "timestamp":
        # By instant, not by text: the UTC microseconds beside the text, back to a timestamp.
        return F.timestamp_micros(extreme(F.col(field.column + MICROS_SUFFIX))).alias(column)
    return extreme(value).alias(column)


def _replace_with_staged(s3, bucket, staged, final_key):
    """Copies the one file Spark staged under ``staged`` to final_key and removes the staged objects; False when Spark
    staged no data file (then final_key is left as it was)."""
    staged_keys = _list_keys(s3, bucket, staged)
    part = pick_part_file(staged_keys)
    if part is not None:
        s3.copy_object(Bucket=bucket, Key=final_key, CopySource={"Bucket": bucket, "Key": part})
    _delete_keys(s3, bucket, staged_keys)
    return part is not None


def _list_keys(s3, bucket, prefix):
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


def _delete_keys(s3, bucket, keys):
    for i in range(0, len(keys), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[i : i + 1000]], "Quiet": True})


if __name__ == "__main__":
    main()
