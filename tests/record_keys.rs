//! A bundle's `id` is copied unchanged to its output record (and to its error record when it
//! can still be read), so that records join back to their inputs after any split.

mod support;

use std::process::Command;

use serde_json::{Value, json};

fn jsonl(input: &str, extra: &[&str]) -> Vec<Value> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_balance-doctor"));
    command
        .current_dir(support::root())
        .args([
            "diagnose",
            "--format",
            "jsonl",
            "--as-of",
            "2026-11-20T12:00:00Z",
        ])
        .args(extra)
        .arg("-");
    let output = support::output_with_stdin(command, input.as_bytes());
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn ids_are_copied_to_diagnosed_and_error_records() {
    let lines = [
        json!({"id": "row-1", "documents": {"item_get": {"item": {"item_id": "a"}}}}),
        json!({"id": 17, "documents": {}}),
        json!({"id": 1.5e3, "as_of": "yesterday", "documents": {}}),
        json!({"documents": {}}),
        json!({"id": "row-5", "documents": {"context": {}}}),
        json!({"id": true, "documents": {}}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let records = jsonl(&text, &["--threads", "2"]);
    assert_eq!(records.len(), lines.len());
    let ids: Vec<&Value> = records.iter().map(|r| &r["id"]).collect();
    assert_eq!(
        ids,
        [
            &json!("row-1"),
            &json!(17),
            &json!(1500.0),
            &Value::Null,
            &json!("row-5"),
            &Value::Null
        ]
    );
    let failed: Vec<bool> = records.iter().map(|r| r.get("error").is_some()).collect();
    assert_eq!(failed, [false, false, true, false, true, true]);
    let message = records[5]["error"].as_str().unwrap();
    assert!(
        message.starts_with("id: `id` must be a string or a number"),
        "{message}"
    );
}

#[test]
fn the_single_bundle_json_output_and_the_directory_form_carry_the_id() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("record-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("bundle.yaml"),
        "id: item-42\nas_of: 2026-11-20T12:00:00Z\n",
    )
    .unwrap();
    std::fs::write(dir.join("item_get.json"), r#"{"item": {"item_id": "a"}}"#).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_balance-doctor"))
        .args(["diagnose", "--format", "json"])
        .arg(&dir)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["id"], "item-42");
}
