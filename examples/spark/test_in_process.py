"""The in-process route in Spark local mode, on the pipe route test's generated bundles: every
input line yields exactly one Parquet row whose record equals the balance-doctor CLI's own
record for it (without `origin`, which only the CLI has), parsed with the shipped schema; the
per-cause counts agree with the CLI's records; and no task starts a process.

    BALANCE_DOCTOR=target/release/balance-doctor python -m unittest discover -s examples/spark -v

Needs the `balance_doctor` package, pandas and pyarrow in the Python that runs this (the
workers run the same Python). SPARK_TEST_BUNDLES (default 2000) sets how many bundles.
"""

import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pyspark.sql import SparkSession  # noqa: E402

import common  # noqa: E402
import in_process  # noqa: E402
import test_pipe_route as pipe_test  # noqa: E402

BINARY = pipe_test.BINARY
AS_OF = pipe_test.AS_OF
COUNT = pipe_test.COUNT


def no_process(batches, as_of):
    """`diagnose_batches`, failing the task if anything in it starts a process."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"the in-process route started a process: {args}")

    patched = [(subprocess, "Popen"), (os, "fork"), (os, "posix_spawn"), (os, "execv")]
    saved = [(module, name, getattr(module, name)) for module, name in patched]
    for module, name in patched:
        setattr(module, name, refuse)
    try:
        yield from in_process.diagnose_batches(batches, as_of)
    finally:
        for module, name, value in saved:
            setattr(module, name, value)


class InProcessTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(BINARY, os.X_OK):
            raise AssertionError(
                f"no balance-doctor binary at {BINARY}: build it (cargo build --release) or set BALANCE_DOCTOR"
            )
        cls.work = tempfile.mkdtemp(prefix="balance-doctor-spark-in-process-")
        generated = subprocess.run(
            [BINARY, "generate", "--count", str(COUNT), "--seed", "9"],
            check=True, capture_output=True, text=True,
        ).stdout.splitlines()
        lines = ['{"id":"g%d",%s' % (i, line[1:]) for i, line in enumerate(generated)]
        for i, extra in enumerate(pipe_test.EXTRA):
            lines.insert(1 + i * (len(lines) // len(pipe_test.EXTRA)), extra)
        cls.lines = lines
        cls.inputs = []
        third = len(lines) // 3 + 1
        for part in range(3):
            path = os.path.join(cls.work, f"bundles-{part}.jsonl")
            with open(path, "w", encoding="utf-8") as file:
                file.write("\n".join(lines[part * third:(part + 1) * third]) + "\n")
            cls.inputs.append(path)
        cli = subprocess.run(
            [BINARY, "diagnose", "--format", "jsonl", "--as-of", AS_OF, *cls.inputs],
            capture_output=True, text=True,
        )
        assert cli.returncode == 2, cli.stderr  # some lines fail on purpose
        cls.cli = [json.loads(line) for line in cli.stdout.splitlines()]
        # Local workers run this Python, which has balance_doctor, pandas and pyarrow.
        os.environ["PYSPARK_PYTHON"] = sys.executable
        cls.spark = (
            SparkSession.builder.master("local[2]")
            .appName("balance-doctor-in-process-test")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "4")
            # Small Arrow batches, so that a partition is several batches.
            .config("spark.sql.execution.arrow.maxRecordsPerBatch", "300")
            .getOrCreate()
        )
        cls.spark.sparkContext.setLogLevel("ERROR")
        cls.output = os.path.join(cls.work, "out")
        started = time.monotonic()
        cls.figures = in_process.run(cls.spark, cls.inputs, cls.output, AS_OF, partitions=6)
        cls.seconds = time.monotonic() - started
        cls.rows = cls.spark.read.parquet(os.path.join(cls.output, "records")).collect()

    @classmethod
    def tearDownClass(cls):
        cls.spark.stop()
        shutil.rmtree(cls.work, ignore_errors=True)

    def test_every_input_line_yields_one_row_equal_to_the_cli_record(self):
        nonblank = [line for line in self.lines if line.strip()]
        self.assertEqual(len(self.cli), len(nonblank))
        self.assertEqual(len(self.rows), len(nonblank))
        self.assertEqual(self.figures["bundle_lines"], len(nonblank))
        self.assertGreaterEqual(self.figures["partitions"], 6)
        records = [json.loads(row["record"]) for row in self.rows]
        self.assertFalse([r for r in records if "origin" in r])
        expected = collections.Counter(
            json.dumps(pipe_test.without_origin(r), sort_keys=True) for r in self.cli
        )
        got = collections.Counter(json.dumps(r, sort_keys=True) for r in records)
        self.assertEqual(got, expected)
        # Every id is unique, so each row joins back to its input line by id.
        ids = collections.Counter(pipe_test.key_of(r) for r in records if "id" in r)
        self.assertEqual(max(ids.values()), 1)
        self.assertEqual(len(ids), len(nonblank) - 1)  # `{not json` has no id
        errors = sum(1 for r in records if "error" in r)
        self.assertEqual(errors, 3)
        print(
            f"\nspark in-process route: {len(nonblank)} bundle lines in, {len(self.rows)} rows "
            f"out, all equal to the CLI's records ({errors} error records), "
            f"{self.figures['partitions']} partitions, {self.seconds:.1f} s",
            file=sys.stderr,
        )

    def test_columns_hold_the_parsed_values(self):
        schema = common.record_schema()
        records = [json.loads(row["record"]) for row in self.rows]
        gaps = collections.Counter(
            g for record in records for g in pipe_test.uncovered(record, schema)
        )
        self.assertEqual(dict(gaps), {})
        cli = {pipe_test.key_of(r): r for r in self.cli if "id" in r}
        for row, record in zip(self.rows, records):
            self.assertIsNone(row["origin"])
            if "id" not in record:
                continue
            expected = cli[pipe_test.key_of(record)]
            id_text = expected["id"] if isinstance(expected["id"], str) else json.dumps(expected["id"])
            self.assertEqual(row["id"], id_text)
            self.assertEqual(row["error"], expected.get("error"))
            if "error" not in expected:
                self.assertEqual(
                    [f["rule"] for f in row["findings"]], [f["rule"] for f in expected["findings"]]
                )
                self.assertEqual(row["as_of"], expected["as_of"])

    def test_per_cause_counts_agree_with_the_cli(self):
        pipe_test.check_cause_counts(self)

    def test_no_task_starts_a_process(self):
        # The workers import no_process from this module, and so what it imports.
        for module in (pipe_test.pipe_route.__file__, pipe_test.__file__, __file__):
            self.spark.sparkContext.addPyFile(os.path.abspath(module))
        bundles = in_process.bundle_lines(self.spark, self.inputs)
        rows = bundles.mapInArrow(lambda batches: no_process(batches, AS_OF), "record string")
        self.assertEqual(rows.count(), len([line for line in self.lines if line.strip()]))
