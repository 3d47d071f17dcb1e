"""Throughput per core of balance-doctor's routes on the same generated file: the command line
on one thread, the Python binding on one thread, and on Spark in local mode the pipe route
(`pipe_route.diagnose_partition`, one `balance-doctor` process per partition) and the
in-process route (`in_process.diagnose_batches`, the Python package in `mapInArrow`).

    python examples/spark/compare.py [--count 20000] [--cores 1 2] [--repeat 2] \\
        [--binary target/release/balance-doctor]

Generates `--count` bundles (`balance-doctor generate --seed 42`), checks once that both Spark
routes give the CLI's records (without `origin`), then times each route (`--repeat` runs, the
best kept): bundle lines in, record lines out, nothing written (Spark's `count` of the record
lines, through the noop sink for the DataFrame). Prints, per route, the wall time, bundles per
second of wall time per core (`local[N]`: N cores; the CLI and the binding: one), and bundles
per CPU second: the CPU time of every process involved (the CLI process; this Python for the
binding; for Spark the JVM and everything under it, Python workers and piped processes
included, read from /proc, Linux only). On a busy machine the CPU figure holds up better than
wall time. Needs the Python that runs it to have pyspark, pandas, pyarrow and balance_doctor
(Spark's local workers run it too), and Java 17. Spark's own start is not timed; each job is.
"""

import argparse
import json
import math
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

from pyspark.sql import SparkSession

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import in_process  # noqa: E402
import pipe_route  # noqa: E402

AS_OF = "2026-11-20T12:00:00Z"


TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu(root):
    """CPU seconds used by process `root` and every process under it, waited-for children
    included (utime, stime, cutime and cstime of each live process, from /proc)."""
    parents, times = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = sum(int(value) for value in fields[11:15])
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        total += times.get(pid, 0)
        pending += [child for child, parent in parents.items() if parent == pid]
    return total / TICKS


def self_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def best(repeat, action, cpu):
    """The shortest wall time and the least CPU time (`cpu()` before and after) of `repeat`
    runs of `action`."""
    walls, cpus = [], []
    for _ in range(repeat):
        cpu_before, start = cpu(), time.perf_counter()
        action()
        walls.append(time.perf_counter() - start)
        cpus.append(cpu() - cpu_before)
    return min(walls), min(cpus)


def without_origin(line):
    record = json.loads(line)
    record.pop("origin", None)
    return json.dumps(record, sort_keys=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--cores", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--binary", default=str(HERE.parents[1] / "target/release/balance-doctor"))
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)

    scratch = tempfile.mkdtemp(prefix="balance-doctor-compare-")
    path = os.path.join(scratch, "bundles.jsonl")
    with open(path, "w") as out:
        subprocess.run(
            [binary, "generate", "--count", str(args.count), "--seed", "42"], stdout=out, check=True
        )
    size = os.path.getsize(path)
    print(f"{args.count} bundles, {size / 1e6:.1f} MB ({path})", flush=True)

    cli_command = [
        binary, "diagnose", "--format", "jsonl", "--threads", "1", "--as-of", AS_OF, path,
    ]
    cli_records = subprocess.run(cli_command, capture_output=True, text=True, check=True).stdout
    expected = sorted(without_origin(line) for line in cli_records.splitlines())
    assert len(expected) == args.count

    results = []
    measured = best(args.repeat, lambda: subprocess.run(
        cli_command, stdout=subprocess.DEVNULL, check=True
    ), children_cpu)
    results.append(("CLI: diagnose --format jsonl --threads 1", 1, measured))

    import balance_doctor

    rules = balance_doctor.RuleSet()

    def binding():
        with open(path) as lines:
            seen = sum(
                1 for _ in rules.evaluate_many(lines, as_of=AS_OF, threads=1, as_json=True)
            )
        assert seen == args.count

    results.append((
        "binding: evaluate_many(threads=1, as_json)", 1, best(args.repeat, binding, self_cpu)
    ))

    # Local workers run this Python (with pandas, pyarrow and balance_doctor), not the PATH's.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    for cores in args.cores:
        partitions = cores * 2
        spark = (
            SparkSession.builder.master(f"local[{cores}]")
            .appName("balance-doctor routes")
            .config("spark.sql.files.maxPartitionBytes", str(math.ceil(size / partitions)))
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        jvm = spark.sparkContext._gateway.proc.pid

        def spark_cpu():
            return tree_cpu(jvm) + self_cpu()

        for module in (pipe_route.__file__, in_process.__file__, HERE / "common.py"):
            spark.sparkContext.addPyFile(str(module))
        spark.sparkContext.addFile(binary)
        name = os.path.basename(binary)
        piped = (
            spark.sparkContext.textFile(path, partitions)
            .filter(lambda line: line.strip() != "")
            .mapPartitions(lambda part: pipe_route.diagnose_partition(part, AS_OF, name))
        )
        in_process_records = in_process.record_lines(in_process.bundle_lines(spark, path), AS_OF)
        if cores == args.cores[-1]:
            # Both routes give the CLI's records (checked once, not timed).
            assert sorted(without_origin(line) for line in piped.collect()) == expected
            got = sorted(
                without_origin(row["record"]) for row in in_process_records.collect()
            )
            assert got == expected
            print(f"local[{cores}]: both routes gave the CLI's {len(expected)} records", flush=True)

        def pipe_job():
            assert piped.count() == args.count

        def in_process_job():
            in_process_records.write.format("noop").mode("overwrite").save()

        results.append((
            f"Spark local[{cores}] pipe route ({piped.getNumPartitions()} partitions)",
            cores, best(args.repeat, pipe_job, spark_cpu),
        ))
        results.append((
            f"Spark local[{cores}] in-process route "
            f"({in_process_records.rdd.getNumPartitions()} partitions)",
            cores, best(args.repeat, in_process_job, spark_cpu),
        ))
        spark.stop()

    print(
        f"{'route':58} {'wall s':>7} {'bundles/s':>10} {'per core':>9} {'CPU s':>7} "
        f"{'per CPU s':>10}"
    )
    for name, cores, (wall, cpu) in results:
        rate = args.count / wall
        print(
            f"{name:58} {wall:7.2f} {rate:10,.0f} {rate / cores:9,.0f} {cpu:7.2f} "
            f"{args.count / cpu:10,.0f}"
        )


if __name__ == "__main__":
    main()
