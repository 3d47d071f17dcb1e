"""Diagnose bundles on Spark in process: the `balance_doctor` Python package inside
`mapInArrow`, no subprocess.

Each partition's Arrow batches of bundle lines go to `RuleSet.evaluate_many` in the executor's
Python worker (`threads=1`: Spark already runs one task per core; the GIL is released while
Rust evaluates). Each bundle line yields one record line: the command line's JSON Lines record
without `origin` (`id`, diagnosis, `as_of_from`, or `id` and `error`). The records are read
with the shipped Spark schema (`record_schema.json`, no inference), written to Parquet, and
counted per cause, as `pipe_route.py` does.

    spark-submit --master 'local[2]' examples/spark/in_process.py \\
        --as-of 2026-11-20T12:00:00Z --output /tmp/diagnoses-in-process bundles.jsonl

Every executor needs, in the Python that runs its tasks, pyspark's Arrow dependencies (pandas
and pyarrow, see requirements.txt) and the `balance_doctor` wheel built for its platform. See
README.md beside this file.
"""

import argparse
import os
import sys
import time

from pyspark.sql import SparkSession, functions as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def diagnose_batches(batches, as_of):
    """mapInArrow function: Arrow batches with a `value` column of bundle lines in, batches
    with a `record` column of record lines out, one for one and in order. The rules are
    compiled once per partition (the embedded default pack)."""
    import balance_doctor
    import pyarrow as pa

    rules = balance_doctor.RuleSet()
    for batch in batches:
        lines = batch.column("value").to_pylist()
        records = list(
            rules.evaluate_many(lines, as_of=as_of, threads=1, errors="record", as_json=True)
        )
        if len(records) != len(lines):
            raise RuntimeError(f"{len(lines)} bundle lines in, {len(records)} records out")
        yield pa.RecordBatch.from_arrays([pa.array(records, pa.string())], names=["record"])


def bundle_lines(spark, inputs, partitions=None):
    """The bundle lines of `inputs` (a `value` column): blank lines hold no bundle and are
    dropped, as the command line skips them."""
    lines = spark.read.text(inputs)
    if partitions and lines.rdd.getNumPartitions() < partitions:
        lines = lines.repartition(partitions)
    return lines.where(F.trim("value") != "")


def record_lines(bundles, as_of):
    """One row per bundle line, in a `record` column: its record line."""
    return bundles.mapInArrow(lambda batches: diagnose_batches(batches, as_of), "record string")


def run(spark, inputs, output, as_of, partitions=None):
    """Diagnoses every bundle line of `inputs`; writes `output`/records (Parquet, one row per
    bundle line) and `output`/primary_causes and `output`/causes (Parquet). Returns figures."""
    started = time.monotonic()
    # The executors' Python workers import these modules to run diagnose_batches.
    for module in (common.__file__, __file__):
        spark.sparkContext.addPyFile(os.path.abspath(module))
    bundles = bundle_lines(spark, inputs, partitions)
    records = common.parse_records(record_lines(bundles, as_of))
    figures = common.write_outputs(spark, records, output)
    figures["bundle_lines"] = bundles.count()
    figures["partitions"] = bundles.rdd.getNumPartitions()
    figures["seconds"] = round(time.monotonic() - started, 1)
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="+", help="JSON Lines files of bundles (any Hadoop path)")
    parser.add_argument("--output", required=True, help="folder for the Parquet outputs")
    parser.add_argument(
        "--as-of", required=True,
        help="evaluation time (RFC 3339), the same on every executor",
    )
    parser.add_argument("--partitions", type=int, help="minimum number of input partitions")
    args = parser.parse_args()
    spark = SparkSession.builder.appName("balance-doctor in process").getOrCreate()
    figures = run(spark, args.inputs, args.output, args.as_of, partitions=args.partitions)
    common.print_figures(figures)
    spark.stop()


if __name__ == "__main__":
    main()
