"""Tally's Glue Spark job: aggregate one UTC hour of raw web-page hits into every configured table.

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
  --max_rejected_share  optional; the run fails when more than this share of records is malformed (default 0.01)

For each table the job writes exactly one object, <output_prefix>/<table>/year=YYYY/month=MM/day=DD/hour=HH/part-00000.<ext>,
by copying Spark's staged file over it (a reader sees the old object or the new one), then removes any other object
in that partition. Reruns replace the hour, never duplicate it; an hour without input gets an empty file.

The parsing and path logic below is pure Python (tested without Spark); Spark and boto3 are imported in main() only.

What it does not do yet: it reads the seed's fields only, and computes the default hitcount only. A declared source
other than the seed's (--source) or a table with other metrics makes the run fail at its start, with one sentence
saying so, rather than write tables that lack the declared columns. Reading declared fields (nested paths, the five
types, the event time's outside_window check) and the sum, min, max and count_distinct metrics come with the job's
rebuilt parsing; until then the aggregated tables the CDK app declares for such a declaration get no files from Glue.
"""

import json
import re
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

# The raw record (DESIGN.md): JSON name and catalog type, in the seed's column order.
RAW_FIELDS = (
    ("GroupID", "bigint"),
    ("CountryCode", "string"),
    ("UserAgent", "string"),
    ("Language", "string"),
    ("Domain", "string"),
    ("Timestamp", "string"),
)
COUNT_COLUMN = "hitcount"
# The seed's source schema as SourceSchema.ToJson writes it: (JSON name, column, type), and the event time.
SEED_SOURCE_FIELDS = (
    ("GroupID", "groupid", "int64"),
    ("CountryCode", "countrycode", "string"),
    ("UserAgent", "useragent", "string"),
    ("Language", "language", "string"),
    ("Domain", "domain", "string"),
    ("Timestamp", "timestamp", "timestamp"),
)
SEED_EVENT_TIME = "Timestamp"
FIELD_TYPES = ("string", "int64", "double", "boolean", "timestamp")
METRIC_FUNCTIONS = ("count", "sum", "min", "max", "count_distinct")
# The metric of a spec without "metrics": one count column, hitcount.
DEFAULT_METRICS = ((COUNT_COLUMN, "count", None),)
PART_FILE_STEM = "part-00000"
FORMATS = ("parquet", "json")
REQUIRED_ARGS = ("specs", "bucket", "raw_prefix", "output_prefix", "temp_prefix", "target_hour")
DEFAULT_MAX_REJECTED_SHARE = 0.01
# The raw files Tally reads (DataLayout.IsRawDataFile); Spark already skips names starting with '.' or '_'.
RAW_FILE_GLOB = "*.{json,jsonl,ndjson,json.gz,jsonl.gz,ndjson.gz}"

_TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,127}$")
_HOUR = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2})(?::(\d{2})(?::(\d{2})(?:\.0+)?)?)?(Z|z|[+-]\d{2}:\d{2})?$"
)


class JobArgumentError(ValueError):
    """An argument of the job is missing or not valid; the message says which and why."""


@dataclass(frozen=True)
class Source:
    """The declared source schema: fields as (JSON name, column, type) tuples, and the event time's JSON name or None."""

    fields: tuple
    event_time: object = None

    @property
    def is_seed(self):
        return self.fields == SEED_SOURCE_FIELDS and self.event_time == SEED_EVENT_TIME


SEED_SOURCE = Source(SEED_SOURCE_FIELDS, SEED_EVENT_TIME)


@dataclass(frozen=True)
class Spec:
    """One aggregation: count the hour's valid records grouped by group_by (raw JSON names) into table.

    metrics holds the declared (column, function, field) tuples; only DEFAULT_METRICS is computed yet.
    """

    table: str
    group_by: tuple
    format: str
    metrics: tuple = DEFAULT_METRICS

    @property
    def columns(self):
        """The stored columns: group-by columns in the raw schema's order (lower case), then hitcount."""
        return [name.lower() for name, _ in RAW_FIELDS if name in self.group_by] + [COUNT_COLUMN]

    @property
    def sort_columns(self):
        """The output rows' sort order: the group-by columns in group_by order."""
        return [name.lower() for name in self.group_by]

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


def parse_specs(text):
    """Parses and validates the specs JSON (the rules of Tally.Core's AggregationSpec.Validate).

    Group-by names are matched to the raw fields in any case and returned with the raw JSON names.
    Raises JobArgumentError with the first problem found.
    """
    try:
        items = json.loads(text)
    except ValueError as e:
        raise JobArgumentError("The aggregation specs are not valid JSON: %s" % e)
    if not isinstance(items, list):
        raise JobArgumentError("The aggregation specs must be a JSON array.")
    if not items:
        raise JobArgumentError("At least one aggregation must be configured.")
    by_lower = {name.lower(): name for name, _ in RAW_FIELDS}
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
            field = by_lower.get(name.lower()) if isinstance(name, str) else None
            if field is None:
                raise JobArgumentError(
                    "Table '%s' groups by '%s', which is not a raw field (%s)."
                    % (table, name, ", ".join(n for n, _ in RAW_FIELDS))
                )
            if field in fields:
                raise JobArgumentError("Table '%s' groups by the same field twice." % table)
            fields.append(field)
        fmt = item.get("format")
        if not isinstance(fmt, str) or fmt.lower() not in FORMATS:
            raise JobArgumentError("Table '%s' has format '%s'; use parquet or json." % (table, fmt))
        specs.append(Spec(table, tuple(fields), fmt.lower(), _parse_metrics(table, item.get("metrics"))))
    return specs


def _parse_metrics(table, items):
    """The (column, function, field) tuples of a spec's "metrics"; DEFAULT_METRICS when there is none."""
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


def unsupported_source(source):
    """One sentence saying that this job cannot read the declared source yet, or None for the seed's."""
    if source.is_seed:
        return None
    return (
        "The source schema (--source) declares fields other than the seed's (%s), which this Glue job does not "
        "read yet; only the seed's source can be aggregated on Glue for now."
        % ", ".join(name for name, _, _ in source.fields)
    )


def unsupported_metrics(specs):
    """One sentence naming the first table whose metrics this job cannot compute yet, or None when all are hitcount."""
    for spec in specs:
        if spec.metrics != DEFAULT_METRICS:
            return (
                "Table '%s' declares the metrics %s, which this Glue job does not compute yet; only the default "
                "hitcount can be aggregated on Glue for now."
                % (spec.table, ", ".join("%s (%s)" % (column, function) for column, function, _ in spec.metrics))
            )
    return None


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


def table_partition_prefix(output_prefix, spec, hour):
    """The key prefix of the table's partition for the hour, ending with '/'."""
    return "%s/%s/%s/" % (output_prefix.strip("/"), spec.table, hour.partition_path)


def table_file_key(output_prefix, spec, hour):
    """The one object of the table for the hour: .../hour=HH/part-00000.<ext>."""
    return "%s%s.%s" % (table_partition_prefix(output_prefix, spec, hour), PART_FILE_STEM, spec.extension)


def staging_prefix(temp_prefix, run_id, spec):
    """Where Spark writes the table's output before it is copied into place, ending with '/'."""
    return "%s/%s/%s/" % (temp_prefix.strip("/"), run_id, spec.table)


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


def rejected_share_problem(total, rejected, max_share):
    """A one-sentence reason to fail the run when the rejected share exceeds max_share, else None."""
    if total == 0 or rejected / float(total) <= max_share:
        return None
    return "%d of %d records (%.2f %%) were rejected, more than the allowed %.2f %%." % (
        rejected, total, 100.0 * rejected / total, 100.0 * max_share
    )


def main(argv=None):
    """The Glue entry point. Spark and boto3 are imported here so the pure parts import without them."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # The source first: specs over declared fields do not resolve against the seed's.
    problem = unsupported_source(parse_source(args.get("source")))
    if problem:
        raise JobArgumentError(problem)
    specs = parse_specs(args["specs"])
    problem = unsupported_metrics(specs)
    if problem:
        raise JobArgumentError(problem)
    hour = parse_target_hour(args["target_hour"])
    max_rejected = parse_max_rejected_share(args)
    bucket = args["bucket"]
    run_id = args.get("JOB_RUN_ID") or uuid.uuid4().hex

    import boto3
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    spark = SparkSession.builder.appName("tally-aggregate-hits").getOrCreate()
    s3 = boto3.client("s3")
    corrupt = "_corrupt_record"
    schema = StructType(
        [StructField(name, LongType() if kind == "bigint" else StringType(), True) for name, kind in RAW_FIELDS]
        + [StructField(corrupt, StringType(), True)]
    )

    raw_glob = raw_hour_glob(bucket, args["raw_prefix"], hour)
    jvm = spark.sparkContext._jvm
    glob_path = jvm.org.apache.hadoop.fs.Path(raw_glob)
    matches = glob_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).globStatus(glob_path)
    if matches is not None and len(matches) > 0:
        df = (
            spark.read.schema(schema)
            .option("mode", "PERMISSIVE")
            .option("columnNameOfCorruptRecord", corrupt)
            .option("pathGlobFilter", RAW_FILE_GLOB)
            .json(raw_glob)
        )
    else:
        df = spark.createDataFrame([], schema)
    df = df.select(*[name for name, _ in RAW_FIELDS], corrupt).cache()
    total = df.count()
    rejected = df.filter(F.col(corrupt).isNotNull()).count()
    problem = rejected_share_problem(total, rejected, max_rejected)
    if problem:
        raise RuntimeError("Hour %s: %s" % (hour, problem))
    valid = df.filter(F.col(corrupt).isNull())

    report = {"target_hour": str(hour), "records": total, "rejected": rejected, "tables": {}}
    for spec in specs:
        aggregated = (
            valid.groupBy(*[F.col(name).alias(name.lower()) for name in spec.group_by])
            .agg(F.count(F.lit(1)).cast("bigint").alias(COUNT_COLUMN))
            .select(*spec.columns)
            .coalesce(1)
            .sortWithinPartitions(*spec.sort_columns)
        )
        staged = staging_prefix(args["temp_prefix"], run_id, spec)
        writer = aggregated.write.mode("overwrite").format(spec.format)
        if spec.format == "json":
            writer = writer.option("ignoreNullFields", "false")
        writer.save("s3://%s/%s" % (bucket, staged))

        final_key = table_file_key(args["output_prefix"], spec, hour)
        staged_keys = _list_keys(s3, bucket, staged)
        part = pick_part_file(staged_keys)
        if part is not None:
            s3.copy_object(Bucket=bucket, Key=final_key, CopySource={"Bucket": bucket, "Key": part})
        elif spec.format == "json":
            s3.put_object(Bucket=bucket, Key=final_key, Body=b"")
        else:
            raise RuntimeError("Spark wrote no Parquet file for table %s." % spec.table)
        old = stale_keys(_list_keys(s3, bucket, table_partition_prefix(args["output_prefix"], spec, hour)), final_key)
        _delete_keys(s3, bucket, old + staged_keys)
        report["tables"][spec.table] = {"rows": aggregated.count(), "key": final_key}

    print(json.dumps(report, sort_keys=True))


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
