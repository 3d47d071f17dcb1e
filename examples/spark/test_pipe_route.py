"""The pipe route in Spark local mode, on generated bundles: every input line yields exactly
one Parquet row, equal to the balance-doctor CLI's own record for it, parsed with the shipped
schema without losing a field; and the per-cause counts agree with the CLI's records.

    BALANCE_DOCTOR=target/release/balance-doctor python -m unittest discover -s examples/spark -v

SPARK_TEST_BUNDLES (default 2000) sets how many generated bundles.
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

from pyspark.sql import SparkSession, types as T  # noqa: E402

import common  # noqa: E402
import pipe_route  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.path.abspath(
    os.environ.get("BALANCE_DOCTOR", os.path.join(ROOT, "target/release/balance-doctor"))
)
AS_OF = "2026-11-20T12:00:00Z"
COUNT = int(os.environ.get("SPARK_TEST_BUNDLES", "2000"))

# Lines that fail, blank lines (skipped by both), and ids of both kinds.
EXTRA = [
    '{"id": "bad-as-of", "as_of": "yesterday", "documents": {}}',
    '{"id": "reserved-name", "documents": {"context": {}}}',
    '{"id": 99, "documents": {}}',
    "",
    '{"id": "unread", "documents": {"item_gte": {"item": {}}}}',
    '{"id": "unread-context", "context": {"balance_sorce": "accounts_get"}, "documents": {}}',
    "{not json",
    "   ",
]


def without_origin(record):
    record = dict(record)
    record.pop("origin", None)
    return record


def key_of(record):
    return json.dumps(record.get("id"))


def uncovered(value, spark_type, path="$"):
    """Paths of `value` that `spark_type` has no place for (they would be dropped)."""
    if value is None or isinstance(spark_type, T.StringType):
        return []
    if isinstance(spark_type, T.StructType):
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__} where the schema has a struct"]
        fields = {field.name: field.dataType for field in spark_type.fields}
        gaps = []
        for key, item in value.items():
            if key not in fields:
                gaps.append(f"{path}.{key}")
            else:
                gaps += uncovered(item, fields[key], f"{path}.{key}")
        return gaps
    if isinstance(spark_type, T.ArrayType):
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        return [g for item in value for g in uncovered(item, spark_type.elementType, path + "[]")]
    if isinstance(spark_type, T.MapType):
        return [g for k, item in value.items() for g in uncovered(item, spark_type.valueType, f"{path}.{k}")]
    if isinstance(spark_type, (T.LongType, T.IntegerType)):
        return [] if isinstance(value, int) and not isinstance(value, bool) else [f"{path}: not an integer"]
    return [f"{path}: unexpected type {spark_type}"]


class PipeRouteTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(BINARY, os.X_OK):
            raise AssertionError(
                f"no balance-doctor binary at {BINARY}: build it (cargo build --release) or set BALANCE_DOCTOR"
            )
        cls.work = tempfile.mkdtemp(prefix="balance-doctor-spark-")
        generated = subprocess.run(
            [BINARY, "generate", "--count", str(COUNT), "--seed", "9"],
            check=True, capture_output=True, text=True,
        ).stdout.splitlines()
        # Each generated bundle gets an id, put first in its object, text otherwise unchanged.
        lines = ['{"id":"g%d",%s' % (i, line[1:]) for i, line in enumerate(generated)]
        for i, extra in enumerate(EXTRA):
            lines.insert(1 + i * (len(lines) // len(EXTRA)), extra)
        cls.lines = lines
        # Three input files, each split into several partitions.
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
        cls.spark = (
            SparkSession.builder.master("local[2]")
            .appName("balance-doctor-test")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .getOrCreate()
        )
        cls.spark.sparkContext.setLogLevel("ERROR")
        cls.spark.sparkContext.addFile(BINARY)
        cls.output = os.path.join(cls.work, "out")
        started = time.monotonic()
        cls.figures = pipe_route.run(
            cls.spark, cls.inputs, cls.output, AS_OF, os.path.basename(BINARY), partitions=6
        )
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
        spark_records = [json.loads(row["record"]) for row in self.rows]
        by_key = collections.defaultdict(list)
        for record in self.cli:
            by_key[key_of(record)].append(without_origin(record))
        spark_by_key = collections.defaultdict(list)
        for record in spark_records:
            spark_by_key[key_of(record)].append(without_origin(record))
        self.assertEqual(set(by_key), set(spark_by_key))
        agree = 0
        for key, expected in by_key.items():
            got = spark_by_key[key]
            self.assertEqual(len(got), len(expected), key)
            if key != "null":
                self.assertEqual(len(got), 1, f"id {key} is not unique")
            self.assertEqual(
                sorted(json.dumps(r, sort_keys=True) for r in got),
                sorted(json.dumps(r, sort_keys=True) for r in expected),
                key,
            )
            agree += len(got)
        self.assertEqual(agree, len(nonblank))
        # The ids are what makes the join possible: lines restart in every partition.
        lines = collections.Counter(
            (r["origin"]["file"], r["origin"].get("line")) for r in spark_records
        )
        self.assertGreater(max(lines.values()), 1, "origin.line repeats across partitions")
        errors = sum(1 for r in spark_records if "error" in r)
        print(
            f"\nspark pipe route: {len(nonblank)} bundle lines in, {len(self.rows)} rows out, "
            f"{agree} equal to the CLI's records ({errors} error records), "
            f"{self.figures['partitions']} partitions, {self.seconds:.1f} s "
            f"(job {self.figures['seconds']} s)",
            file=sys.stderr,
        )

    def test_the_shipped_schema_has_a_place_for_every_field(self):
        schema = common.record_schema()
        gaps = collections.Counter(g for record in self.cli for g in uncovered(record, schema))
        self.assertEqual(dict(gaps), {})

    def test_columns_hold_the_parsed_values(self):
        cli = {key_of(r): r for r in self.cli if "id" in r}
        for row in self.rows:
            record = json.loads(row["record"])
            if "id" not in record:
                continue
            expected = cli[key_of(record)]
            id_text = expected["id"] if isinstance(expected["id"], str) else json.dumps(expected["id"])
            self.assertEqual(row["id"], id_text)
            self.assertEqual(row["error"], expected.get("error"))
            if "error" in expected:
                continue
            self.assertEqual([f["rule"] for f in row["findings"]], [f["rule"] for f in expected["findings"]])
            self.assertEqual(
                [n["rule"] for n in row["not_evaluated"]], [n["rule"] for n in expected["not_evaluated"]]
            )
            self.assertEqual(dict(row["labels"] or {}), {
                k: v if isinstance(v, str) else json.dumps(v) for k, v in expected.get("labels", {}).items()
            })
            for finding, expected_finding in zip(row["findings"], expected["findings"]):
                for evidence, expected_evidence in zip(finding["evidence"], expected_finding["evidence"]):
                    value = expected_evidence["value"]
                    if value is None:
                        self.assertIsNone(evidence["value"])
                    elif isinstance(value, str):
                        self.assertEqual(evidence["value"], value)
                    else:
                        self.assertEqual(json.loads(evidence["value"]), value)

    def test_per_cause_counts_agree_with_the_cli(self):
        check_cause_counts(self)


def check_cause_counts(test):
    """The job's per-cause counts (`primary_causes`, the `causes` output) are the CLI's."""
    expected = collections.Counter()
    for record in test.cli:
        if "error" in record:
            expected["(error)"] += 1
        elif not record["findings"]:
            expected["(no finding)"] += 1
        else:
            expected[record["findings"][0]["rule"]] += 1
    test.assertEqual(dict(test.figures["primary_causes"]), dict(expected))
    causes = test.spark.read.parquet(os.path.join(test.output, "causes")).collect()
    fired = collections.Counter(
        f["rule"] for r in test.cli if "error" not in r for f in r["findings"]
    )
    test.assertEqual({row["rule"]: row["count"] for row in causes}, dict(fired))


if __name__ == "__main__":
    unittest.main()
