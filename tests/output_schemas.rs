//! Every JSON output of the binary matches its committed schema under `schemas/`: the schema
//! is a promise about real output. `diagnose --format json` (with and without `--explain`) on
//! every fixture, each `--format jsonl` record (diagnoses and error records) over every
//! fixture, generated bundles and broken inputs, `--summary-format json`, and
//! `rules test --format json`. The committed files are what `balance-doctor schema` prints.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_balance-doctor"));
    command.current_dir(support::root());
    command
}

fn run(args: &[&str]) -> Output {
    binary()
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run balance-doctor {args:?}: {e}"))
}

fn stdout(output: &Output) -> &str {
    std::str::from_utf8(&output.stdout).expect("the output is UTF-8")
}

/// A validator for the committed `schemas/<name>.schema.json`.
fn validator(name: &str) -> jsonschema::Validator {
    let path = support::root().join(format!("schemas/{name}.schema.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::draft7::new(&schema).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Fails with every violation, each with where it is in the instance.
fn assert_valid(validator: &jsonschema::Validator, instance: &Value, what: &str) {
    let problems: Vec<String> = validator
        .iter_errors(instance)
        .map(|error| format!("  at {}: {error}", error.instance_path()))
        .collect();
    assert!(
        problems.is_empty(),
        "{what} does not match its schema:\n{}",
        problems.join("\n")
    );
}

fn temp_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("output-schemas-{}-{name}", std::process::id()))
}

fn fixture_args() -> Vec<String> {
    support::fixture_dirs()
        .iter()
        .map(|dir| dir.display().to_string())
        .collect()
}

/// `count` generated bundles, written by the binary itself.
fn generated(count: u64, seed: u64) -> PathBuf {
    let output = run(&[
        "generate",
        "--count",
        &count.to_string(),
        "--seed",
        &seed.to_string(),
    ]);
    assert!(output.status.success());
    let path = temp_path(&format!("generated-{seed}.jsonl"));
    std::fs::write(&path, &output.stdout).unwrap();
    path
}

/// Records that fail for different reasons, and bundles that exercise optional fields (no
/// `as_of`, an unread document, no labels).
fn broken_and_unusual() -> PathBuf {
    let lines = [
        "{not json",
        r#"[1, 2]"#,
        r#"{"as_of": "yesterday", "documents": {}}"#,
        r#"{"documents": {"context": {}}}"#,
        r#"{"documets": {}}"#,
        r#"{"documents": {}}"#,
        r#"{"as_of": "2026-11-20T12:00:00Z", "documents": {"item_gte": {"item": {}}}}"#,
        r#"{"as_of": "2026-11-20T12:00:00Z", "context": {"balance_source": "accounts_get"}, "documents": {"accounts_get": {"accounts": []}}}"#,
    ];
    let path = temp_path("broken.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

fn jsonl_records(output: &Output) -> Vec<Value> {
    stdout(output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

#[test]
fn committed_output_schemas_are_what_the_binary_prints() {
    for name in [
        "rules",
        "bundle",
        "diagnosis",
        "tests",
        "record",
        "summary",
        "test-report",
    ] {
        let output = run(&["schema", name]);
        assert!(output.status.success());
        let path = support::root().join(format!("schemas/{name}.schema.json"));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == stdout(&output),
            "{} is out of date: run `cargo run -- schema {name} > schemas/{name}.schema.json`",
            path.display()
        );
    }
}

#[test]
fn json_output_of_every_fixture_matches_the_diagnosis_schema() {
    let validator = validator("diagnosis");
    for dir in support::fixture_dirs() {
        let dir = dir.display().to_string();
        for explain in [false, true] {
            let mut args = vec!["diagnose", "--format", "json", &dir];
            if explain {
                args.push("--explain");
            }
            let output = run(&args);
            assert!(
                matches!(output.status.code(), Some(0 | 1)),
                "{args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let report: Value = serde_json::from_str(stdout(&output)).unwrap();
            assert_eq!(report["explain"].is_array(), explain, "{args:?}");
            assert_valid(&validator, &report, &format!("{args:?}"));
        }
    }
}

#[test]
fn every_jsonl_record_matches_the_record_schema() {
    let validator = validator("record");
    let broken = broken_and_unusual();
    let missing = temp_path("no-such-file.jsonl");
    // 3,000 generated bundles, and 500 with the (larger) explanation.
    for (explain, count) in [(false, 3000), (true, 500)] {
        let generated = generated(count, 7);
        let mut inputs = fixture_args();
        inputs.push(generated.display().to_string());
        inputs.push(broken.display().to_string());
        inputs.push(missing.display().to_string());
        inputs.push("tests/bad-bundles".to_owned());
        let mut args = vec!["diagnose", "--format", "jsonl", "--as-of"];
        args.push("2026-11-20T12:00:00Z");
        if explain {
            args.push("--explain");
        }
        args.extend(inputs.iter().map(String::as_str));
        let output = run(&args);
        assert_eq!(output.status.code(), Some(2), "some inputs fail");
        let records = jsonl_records(&output);
        let errors = records.iter().filter(|r| r.get("error").is_some()).count();
        let diagnosed = records.len() - errors;
        assert!(errors >= 6, "only {errors} error records");
        assert!(
            diagnosed >= count as usize + support::fixture_dirs().len(),
            "{diagnosed}"
        );
        assert!(
            records
                .iter()
                .any(|r| r.get("unread_documents").is_some() && r.get("labels").is_none()),
            "a record with unread documents and no labels is checked too"
        );
        for record in &records {
            assert_eq!(
                record["explain"].is_array(),
                explain && record.get("error").is_none()
            );
            assert_valid(&validator, record, &format!("record {record}"));
        }
    }
}

#[test]
fn a_clock_as_of_and_a_stdin_record_match_the_record_schema() {
    let validator = validator("record");
    let mut command = binary();
    command.args(["diagnose", "--format", "jsonl", "-"]);
    let output = support::output_with_stdin(
        command,
        b"{\"documents\": {\"item_get\": {\"item\": {\"item_id\": \"x\"}}}}\n",
    );
    let records = jsonl_records(&output);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["as_of_from"], "clock");
    assert_valid(&validator, &records[0], "a stdin record");
}

#[test]
fn summary_json_matches_the_summary_schema() {
    let validator = validator("summary");
    let generated = generated(2000, 11);
    let broken = broken_and_unusual();
    let mut inputs = fixture_args();
    inputs.push(generated.display().to_string());
    inputs.push(broken.display().to_string());
    let mut args = vec!["diagnose", "--summary", "--summary-format", "json"];
    args.extend(inputs.iter().map(String::as_str));
    let output = run(&args);
    assert_eq!(output.status.code(), Some(2), "some inputs fail");
    let summary: Value = serde_json::from_str(stdout(&output)).unwrap();
    assert!(summary["bundles"]["failed"].as_u64() > Some(0));
    assert_valid(
        &validator,
        &summary,
        "the summary of fixtures and generated bundles",
    );
    // An empty run, and one where every input failed, too.
    for inputs in [vec![broken.as_path()], vec![Path::new("tests/bad-bundles")]] {
        let mut args: Vec<&str> = vec!["diagnose", "--summary", "--summary-format", "json"];
        args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
        let output = run(&args);
        let summary: Value = serde_json::from_str(stdout(&output)).unwrap();
        assert_valid(&validator, &summary, &format!("the summary of {inputs:?}"));
    }
}

#[test]
fn rules_test_json_matches_the_test_report_schema() {
    let validator = validator("test-report");
    for args in [
        vec!["rules", "test", "--format", "json", "rules/tests"],
        vec!["rules", "test", "--format", "json", "tests/rule-tests"],
    ] {
        let output = run(&args);
        let report: Value = serde_json::from_str(stdout(&output)).unwrap_or_else(|e| {
            panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&output.stderr))
        });
        assert_valid(&validator, &report, &format!("{args:?}"));
    }
}
