"""What every Spark route shares: the shipped Spark schema of a balance-doctor JSON Lines
record, turning record lines into a DataFrame without inference, the Parquet outputs and the
per-cause counts.

A route is anything that turns bundle lines into record lines, one for one (`pipe_route.py`
runs the binary on each partition, `in_process.py` the Python package in each task).
"""

import json
import os

from pyspark.sql import DataFrame, functions as F, types as T

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA_FILE = os.path.join(HERE, "record_schema.json")


def record_schema() -> T.StructType:
    """The shipped schema of one record (`record_schema.json`): every field of
    `schemas/record.schema.json`, diagnosed and error records alike. Values that can be any
    JSON (`id`, `labels`, `findings.evidence.value`, `explain.condition`) are strings: a JSON
    string as its text, anything else as its JSON text."""
    with open(schema_file(), encoding="utf-8") as file:
        return T.StructType.fromJson(json.load(file))


def schema_file():
    """`record_schema.json` beside this file, else as shipped with `--files` (a driver run in
    cluster mode has only what was shipped)."""
    if os.path.isfile(SCHEMA_FILE):
        return SCHEMA_FILE
    try:
        from pyspark import SparkFiles

        shipped = SparkFiles.get("record_schema.json")
        if os.path.isfile(shipped):
            return shipped
    except Exception:  # no active SparkContext
        pass
    return "record_schema.json"


def records_frame(spark, record_lines) -> DataFrame:
    """`parse_records` of an RDD of record lines."""
    return parse_records(
        spark.createDataFrame(record_lines.map(lambda line: (line,)), "record string")
    )


def parse_records(raw: DataFrame) -> DataFrame:
    """One row per row of `raw`'s `record` column (record lines): `record`, the line exactly
    as balance-doctor wrote it, and the fields of the shipped schema as columns. A line that
    does not fit the schema fails the job (FAILFAST) instead of turning into nulls."""
    parsed = F.from_json("record", record_schema(), {"mode": "FAILFAST"})
    return raw.select("record", parsed.alias("parsed")).select("record", "parsed.*")


def write_outputs(spark, records: DataFrame, output) -> dict:
    """Writes `output`/records (Parquet, one row per record), `output`/primary_causes and
    `output`/causes (Parquet, the counts); returns the records, error records and primary
    causes counted."""
    records_path = os.path.join(output, "records")
    records.write.mode("overwrite").parquet(records_path)
    written = spark.read.parquet(records_path)
    primary = primary_cause_counts(written)
    primary.write.mode("overwrite").parquet(os.path.join(output, "primary_causes"))
    cause_counts(written).write.mode("overwrite").parquet(os.path.join(output, "causes"))
    return {
        "records": written.count(),
        "errors": written.where("error IS NOT NULL").count(),
        "primary_causes": [tuple(row) for row in primary.collect()],
    }


def print_figures(figures):
    """What a route's command prints: lines in, records out, partitions, time, then the Items
    per primary cause."""
    print(
        f"{figures['bundle_lines']} bundle lines in, {figures['records']} records out "
        f"({figures['errors']} error records), {figures['partitions']} partitions, "
        f"{figures['seconds']} s"
    )
    for cause, count in figures["primary_causes"]:
        print(f"  {cause:<32} {count:>8}")


def primary_cause_counts(records: DataFrame) -> DataFrame:
    """Items per primary cause (each Item's first, most severe, finding), with `(no finding)`
    and `(error)` for records that have none or failed."""
    primary = (
        F.when(F.col("error").isNotNull(), F.lit("(error)"))
        .when(F.size("findings") == 0, F.lit("(no finding)"))
        .otherwise(F.col("findings")[0]["rule"])
    )
    return (
        records.groupBy(primary.alias("primary_cause"))
        .count()
        .orderBy(F.desc("count"), "primary_cause")
    )


def cause_counts(records: DataFrame) -> DataFrame:
    """Items per rule that fired (an Item with several findings counts once for each)."""
    return (
        records.where(F.col("error").isNull())
        .select(F.explode("findings.rule").alias("rule"))
        .groupBy("rule")
        .count()
        .orderBy(F.desc("count"), "rule")
    )
