"""balance-doctor in Spark, in process: the Python package inside `mapInPandas`, no subprocess.

Each Spark task compiles the rules once and evaluates its rows with `evaluate_many`, which
releases the GIL and keeps row order; one Spark task per core, so `threads=1`. Bad rows become
`{"error": ...}` records instead of failing the job, as in the command line's JSON Lines.

    spark-submit examples/spark/in_process.py BUNDLES.jsonl OUT_DIR [--as-of 2026-11-20T12:00:00Z]

needs `pip install pyspark pandas pyarrow` and the `balance_doctor` wheel on every worker
(`maturin build --release -m python/Cargo.toml`, then `pip install target/wheels/*.whl`).
"""

import argparse

import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def diagnose(batches, as_of, rules_file=None):
    """mapInPandas function: a `value` column of bundle JSON lines in, `diagnosis` JSON out."""
    import balance_doctor

    rules = (
        balance_doctor.RuleSet.from_files(rules_file) if rules_file else balance_doctor.RuleSet()
    )
    for frame in batches:
        diagnoses = rules.evaluate_many(
            frame["value"], as_of=as_of, threads=1, errors="record", as_json=True
        )
        yield pd.DataFrame({"diagnosis": list(diagnoses)})


def diagnoses_of(spark, path, as_of, rules_file=None):
    lines = spark.read.text(path).filter(F.length(F.trim("value")) > 0)
    return lines.mapInPandas(
        lambda batches: diagnose(batches, as_of, rules_file), schema="diagnosis string"
    )


def primary_causes(diagnoses):
    """Items per primary cause (each Item's first finding), and the failed records."""
    cause = F.coalesce(
        F.get_json_object("diagnosis", "$.findings[0].rule"),
        F.when(F.get_json_object("diagnosis", "$.error").isNotNull(), F.lit("(error)")),
        F.lit("(no finding)"),
    )
    return diagnoses.groupBy(cause.alias("cause")).count().orderBy(F.desc("count"), "cause")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bundles")
    parser.add_argument("out")
    parser.add_argument("--as-of", default="2026-11-20T12:00:00Z")
    parser.add_argument("--rules")
    args = parser.parse_args()
    spark = SparkSession.builder.appName("balance-doctor in process").getOrCreate()
    diagnoses = diagnoses_of(spark, args.bundles, args.as_of, args.rules)
    diagnoses.write.mode("overwrite").text(args.out)
    primary_causes(spark.read.text(args.out).withColumnRenamed("value", "diagnosis")).show()
    spark.stop()


if __name__ == "__main__":
    main()
