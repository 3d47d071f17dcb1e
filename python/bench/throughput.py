"""Throughput per core of the Python binding against the command line, on the same file.

    python python/bench/throughput.py [--count 20000] [--binary target/release/balance-doctor]

Generates `--count` bundles with `balance-doctor generate --seed 42`, then diagnoses them on one
thread: the CLI (`diagnose --format jsonl --threads 1`, output to /dev/null), and the binding
(`evaluate_many(threads=1)` over the file's lines, JSON text out and dicts out). Prints bundles
per second of wall time and of CPU time (user + system): the CPU figure is the per-core
throughput, and holds up better than wall time on a busy machine. Each figure is the best of
`--repeat` runs.
"""

import argparse
import os
import pathlib
import resource
import subprocess
import tempfile
import time

import balance_doctor

AS_OF = "2026-11-20T12:00:00Z"


def cpu(who):
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def best(runs, count, action):
    results = []
    for _ in range(runs):
        wall, cpu_time = action()
        results.append((count / wall, count / cpu_time))
    return max(r[0] for r in results), max(r[1] for r in results)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    default_binary = pathlib.Path(__file__).resolve().parents[2] / "target/release/balance-doctor"
    parser.add_argument("--binary", default=str(default_binary))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "bundles.jsonl")
        with open(path, "w") as out:
            subprocess.run(
                [args.binary, "generate", "--count", str(args.count), "--seed", "42"],
                stdout=out, check=True,
            )
        size = os.path.getsize(path)
        print(f"{args.count} bundles, {size / 1e6:.1f} MB, {size / args.count / 1e3:.1f} KB each")

        def cli():
            before_wall, before_cpu = time.perf_counter(), cpu(resource.RUSAGE_CHILDREN)
            subprocess.run(
                [args.binary, "diagnose", "--format", "jsonl", "--threads", "1",
                 "--as-of", AS_OF, path],
                stdout=subprocess.DEVNULL, check=True,
            )
            return time.perf_counter() - before_wall, cpu(resource.RUSAGE_CHILDREN) - before_cpu

        rules = balance_doctor.RuleSet()

        def binding(as_json):
            def run():
                before_wall, before_cpu = time.perf_counter(), cpu(resource.RUSAGE_SELF)
                with open(path) as lines:
                    seen = 0
                    for _ in rules.evaluate_many(lines, as_of=AS_OF, threads=1, as_json=as_json):
                        seen += 1
                assert seen == args.count
                return time.perf_counter() - before_wall, cpu(resource.RUSAGE_SELF) - before_cpu
            return run

        rows = [
            ("CLI diagnose --format jsonl --threads 1", cli),
            ("Python evaluate_many(threads=1, as_json=True)", binding(True)),
            ("Python evaluate_many(threads=1) -> dicts", binding(False)),
        ]
        print(f"{'route':48} {'bundles/s (wall)':>17} {'bundles/CPU-s':>14}")
        for name, action in rows:
            wall, per_cpu = best(args.repeat, args.count, action)
            print(f"{name:48} {wall:17,.0f} {per_cpu:14,.0f}")


if __name__ == "__main__":
    main()
