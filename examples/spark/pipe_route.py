"""Diagnose bundles on Spark by piping JSON Lines through the balance-doctor binary.

Each partition of bundle lines goes through one `balance-doctor diagnose --format jsonl -`
process on its executor, started by its absolute path (`SparkFiles.get`): Spark's own
`rdd.pipe` starts commands with an empty environment, so a bare `balance-doctor` is not found
unless it sits in /bin or /usr/bin. The record lines are read with the shipped Spark schema
(`record_schema.json`, no inference), written to Parquet, and counted per cause.

    spark-submit --master 'local[2]' examples/spark/pipe_route.py \\
        --binary target/release/balance-doctor --as-of 2026-11-20T12:00:00Z \\
        --output /tmp/diagnoses bundles.jsonl

On a cluster, ship the binary with `--files /path/to/balance-doctor` (built for the executors'
platform) and leave out `--binary`. See README.md beside this file.
"""

import argparse
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time

from pyspark import SparkFiles
from pyspark.sql import SparkSession

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

BINARY_NAME = "balance-doctor"


def executable(path):
    """The shipped binary, executable: Spark sets the bit on files it fetches, but a file
    system mounted without it still needs a copy."""
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{path}: the balance-doctor binary was not shipped to this executor: pass "
            "--files /path/to/balance-doctor to spark-submit (or --binary to this script)"
        )
    if os.access(path, os.X_OK):
        return path
    try:
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
        return path
    except OSError:
        copy = os.path.join(tempfile.mkdtemp(), BINARY_NAME)
        shutil.copy(path, copy)
        os.chmod(copy, 0o755)
        return copy


def diagnose_partition(lines, as_of, binary_name=BINARY_NAME):
    """Runs one balance-doctor process over a partition's bundle lines and yields its record
    lines: exactly one per input line, in order, or the task fails."""
    binary = executable(SparkFiles.get(binary_name))
    command = [
        binary, "diagnose", "--format", "jsonl", "--threads", "1", "--as-of", as_of, "-",
    ]
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, env={}
        )
        sent = [0]

        def feed():
            try:
                for line in lines:
                    process.stdin.write(line.encode("utf-8") + b"\n")
                    sent[0] += 1
            finally:
                process.stdin.close()

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        received = 0
        for record in process.stdout:
            received += 1
            yield record.decode("utf-8").rstrip("\n")
        feeder.join()
        code = process.wait()
        errors.seek(0)
        message = errors.read().decode("utf-8", "replace")
    # 0: diagnosed, 1: a finding at --fail-on (unused here), 2: some record failed (it has
    # its error record); anything else is the process failing.
    if code not in (0, 1, 2):
        raise RuntimeError(f"{binary} exited with {code}: {message}")
    if received != sent[0]:
        raise RuntimeError(f"{sent[0]} bundle lines in, {received} records out: {message}")


def run(spark, inputs, output, as_of, binary_name=BINARY_NAME, partitions=None):
    """Diagnoses every bundle line of `inputs`; writes `output`/records (Parquet, one row per
    bundle line) and `output`/primary_causes and `output`/causes (Parquet). Returns figures."""
    started = time.monotonic()
    # The executors' Python workers import these modules to run diagnose_partition.
    for module in (common.__file__, __file__):
        spark.sparkContext.addPyFile(os.path.abspath(module))
    lines = spark.sparkContext.textFile(",".join(inputs), minPartitions=partitions)
    # Blank lines hold no bundle (the binary skips them too): drop them so that every line
    # sent yields one record.
    bundles = lines.filter(lambda line: line.strip() != "")
    record_lines = bundles.mapPartitions(
        lambda part: diagnose_partition(part, as_of, binary_name)
    )
    figures = common.write_outputs(spark, common.records_frame(spark, record_lines), output)
    figures["bundle_lines"] = bundles.count()
    figures["partitions"] = lines.getNumPartitions()
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
    parser.add_argument(
        "--binary",
        help="path of the balance-doctor binary to ship (else ship it with --files)",
    )
    parser.add_argument("--partitions", type=int, help="minimum number of input partitions")
    args = parser.parse_args()
    spark = SparkSession.builder.appName("balance-doctor").getOrCreate()
    if args.binary:
        spark.sparkContext.addFile(os.path.abspath(args.binary))
    binary_name = BINARY_NAME
    if args.binary:
        binary_name = os.path.basename(args.binary)
    figures = run(
        spark, args.inputs, args.output, args.as_of, binary_name, partitions=args.partitions
    )
    common.print_figures(figures)
    spark.stop()


if __name__ == "__main__":
    main()
