"""Spark: the in-process route (the Python package in mapInPandas) against the pipe route
(`rdd.pipe` through the binary), on the same generated file, in local mode.

    python examples/spark/compare.py [--count 20000] [--cores 2] [--binary target/release/balance-doctor]

Generates `--count` bundles (`balance-doctor generate --seed 42`), runs each route over them
(`--repeat` times, best time kept), checks that both find the same primary causes, and prints
rows, seconds, rows per second and rows per second per core. Needs pyspark, pandas, pyarrow,
Java 17 and the balance_doctor wheel in the running Python.
"""

import argparse
import math
import os
import pathlib
import subprocess
import sys
import tempfile
import time

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from in_process import diagnoses_of, primary_causes  # noqa: E402

AS_OF = "2026-11-20T12:00:00Z"


def timed(action, repeat):
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    default_binary = pathlib.Path(__file__).resolve().parents[2] / "target/release/balance-doctor"
    parser.add_argument("--binary", default=str(default_binary))
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)

    scratch = tempfile.mkdtemp(prefix="balance-doctor-spark-")
    path = os.path.join(scratch, "bundles.jsonl")
    with open(path, "w") as out:
        subprocess.run(
            [binary, "generate", "--count", str(args.count), "--seed", "42"], stdout=out, check=True
        )
    size = os.path.getsize(path)
    partitions = args.cores * 2
    # Local workers run this Python (with pandas, pyarrow and balance_doctor), not the PATH's.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (
        SparkSession.builder.master(f"local[{args.cores}]")
        .appName("balance-doctor routes")
        .config("spark.sql.files.maxPartitionBytes", str(math.ceil(size / partitions)))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    # The workers unpickle diagnose() from its module: ship it.
    spark.sparkContext.addPyFile(str(pathlib.Path(__file__).resolve().parent / "in_process.py"))

    command = f"{binary} diagnose --format jsonl --threads 1 --as-of {AS_OF} -"
    piped = spark.sparkContext.textFile(path, partitions).pipe(command)
    in_process = diagnoses_of(spark, path, AS_OF)

    rows_piped = piped.count()
    rows_in_process = in_process.count()
    assert rows_piped == rows_in_process == args.count, (rows_piped, rows_in_process)
    causes_piped = primary_causes(
        spark.createDataFrame(piped.map(lambda line: (line,)), "diagnosis string")
    ).collect()
    causes_in_process = primary_causes(in_process).collect()
    assert causes_piped == causes_in_process, (causes_piped, causes_in_process)

    results = [
        ("pipe: rdd.pipe(balance-doctor ... --threads 1 -)", timed(piped.count, args.repeat)),
        (
            "in process: mapInPandas + evaluate_many",
            timed(lambda: in_process.write.format("noop").mode("overwrite").save(), args.repeat),
        ),
    ]
    print(f"{args.count} bundles ({size / 1e6:.1f} MB), local[{args.cores}], {partitions} partitions")
    print("top causes (both routes):", [(r["cause"], r["count"]) for r in causes_piped[:3]])
    print(f"{'route':52} {'seconds':>8} {'rows/s':>8} {'rows/s/core':>12}")
    for name, seconds in results:
        rate = args.count / seconds
        print(f"{name:52} {seconds:8.2f} {rate:8,.0f} {rate / args.cores:12,.0f}")
    spark.stop()


if __name__ == "__main__":
    main()
