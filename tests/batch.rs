//! Batch diagnosis through the binary: many inputs, JSON Lines in and out, error records in
//! place, ordered parallel output, streaming, summaries, closed pipes.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_balance-doctor"));
    command.current_dir(support::root());
    command
}

/// Every fixture as one JSON Lines record, in folder order.
fn fixture_lines() -> Vec<String> {
    support::fixture_dirs()
        .iter()
        .map(|dir| {
            let bundle = balance_doctor::input::read_bundle(dir).unwrap();
            serde_json::json!({
                "as_of": bundle.as_of.map(|t| t.to_string()),
                "context": bundle.context,
                "documents": bundle.documents,
            })
            .to_string()
        })
        .collect()
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("bd-batch-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn one_output_record_per_input_record_in_order_with_errors_in_place() {
    let mut lines = fixture_lines();
    lines.insert(2, "{not json".to_owned());
    lines.insert(4, String::new());
    lines.insert(6, r#"{"as_of": "yesterday", "documents": {}}"#.to_owned());
    lines.insert(8, r#"{"documents": {"context": {}}}"#.to_owned());
    let path = temp_file("mixed.jsonl", &(lines.join("\n") + "\n"));
    let output = binary()
        .args(["diagnose", "--format", "jsonl"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "some records failed");
    let records: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(records.len(), lines.len());
    for (index, record) in records.iter().enumerate() {
        assert_eq!(record["origin"]["line"], index as u64 + 1);
        let failed = [2, 4, 6, 8].contains(&index);
        assert_eq!(record.get("error").is_some(), failed, "{record}");
        if !failed {
            assert!(record["labels"]["item_id"].is_string() || record["findings"].is_array());
        }
    }
    let errors: Vec<&str> = [2, 4, 6, 8]
        .iter()
        .map(|i| records[*i]["error"].as_str().unwrap())
        .collect();
    insta::assert_snapshot!(errors.join("\n"));
    std::fs::remove_file(path).unwrap();
}

#[test]
fn parallel_output_is_identical_to_sequential_output() {
    let mut text = String::new();
    for _ in 0..20 {
        for line in fixture_lines() {
            text.push_str(&line);
            text.push('\n');
        }
    }
    let path = temp_file("many.jsonl", &text);
    let run = |threads: &str| {
        let output = binary()
            .args(["diagnose", "--format", "jsonl", "--threads", threads])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0));
        output.stdout
    };
    let sequential = run("1");
    assert_eq!(
        sequential.iter().filter(|b| **b == b'\n').count(),
        20 * support::fixture_dirs().len()
    );
    assert!(sequential == run("4"), "4 threads changed the output");
    assert!(sequential == run("2"), "2 threads changed the output");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn a_tree_of_bundle_directories_is_found_in_name_order() {
    let output = binary()
        .args(["diagnose", "--format", "jsonl", "fixtures"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let files: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let record: serde_json::Value = serde_json::from_str(line).unwrap();
            record["origin"]["file"].as_str().unwrap().to_owned()
        })
        .collect();
    let expected: Vec<String> = support::fixture_dirs()
        .iter()
        .map(|dir| format!("fixtures/{}", dir.file_name().unwrap().to_string_lossy()))
        .collect();
    assert_eq!(files, expected);
}

#[test]
fn stdin_streams_results_before_the_input_ends() {
    let mut child = binary()
        .args(["diagnose", "--format", "jsonl", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let lines = fixture_lines();
    // Three records in, three results out, while stdin is still open.
    for line in &lines[..3] {
        writeln!(stdin, "{line}").unwrap();
    }
    stdin.flush().unwrap();
    for expected_line in 1..=3u64 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let record: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(record["origin"]["file"], "-");
        assert_eq!(record["origin"]["line"], expected_line);
    }
    drop(stdin);
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.is_empty());
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    let mut text = String::new();
    for _ in 0..200 {
        for line in fixture_lines() {
            text.push_str(&line);
            text.push('\n');
        }
    }
    let path = temp_file("closed.jsonl", &text);
    let mut child = binary()
        .args(["diagnose", "--format", "jsonl"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    drop(stdout);
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn summaries_in_every_format() {
    let human = binary()
        .args(["diagnose", "--summary", "fixtures"])
        .output()
        .unwrap();
    assert_eq!(human.status.code(), Some(0));
    insta::assert_snapshot!("summary_human", String::from_utf8(human.stdout).unwrap());
    let json = binary()
        .args([
            "diagnose",
            "--summary",
            "--summary-format",
            "json",
            "fixtures",
        ])
        .output()
        .unwrap();
    insta::assert_snapshot!("summary_json", String::from_utf8(json.stdout).unwrap());
    let markdown = binary()
        .args([
            "diagnose",
            "--summary",
            "--summary-format",
            "markdown",
            "fixtures",
        ])
        .output()
        .unwrap();
    insta::assert_snapshot!(
        "summary_markdown",
        String::from_utf8(markdown.stdout).unwrap()
    );
    // With per-bundle output, the summary goes to stderr.
    let both = binary()
        .args(["diagnose", "--format", "jsonl", "--summary", "fixtures"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(both.stdout).unwrap();
    assert_eq!(stdout.lines().count(), support::fixture_dirs().len());
    let expected = format!("bundles: {} read", support::fixture_dirs().len());
    assert!(
        String::from_utf8(both.stderr)
            .unwrap()
            .starts_with(&expected)
    );
}

#[test]
fn several_bundles_need_a_streaming_format() {
    let output = binary()
        .args([
            "diagnose",
            "--format",
            "json",
            "fixtures/no-webhook",
            "fixtures/several-causes",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("--format jsonl")
    );
    // Human reports one after another are fine.
    let human = binary()
        .args(["diagnose", "fixtures/no-webhook", "fixtures/several-causes"])
        .output()
        .unwrap();
    assert_eq!(human.status.code(), Some(0));
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(text.contains("fixtures/no-webhook\n") && text.contains("fixtures/several-causes\n"));
}
