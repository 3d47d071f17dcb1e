//! Cost bounded by construction: each input that once took gigabytes, minutes or the stack is
//! refused with a located message, or handled within a limit. The sizes here are the worst
//! cases found by trying; `/usr/bin/time -v` figures are in the commit messages.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "balance-doctor-limits-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_balance-doctor"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// 41 KB of YAML whose aliases expand to about 900 MB.
fn alias_bomb(indent: &str) -> String {
    let mut text = format!("{indent}a0: &a0 [\"{}\"]\n", "x".repeat(40_000));
    for level in 1..3 {
        let aliases = vec![format!("*a{}", level - 1); 150].join(", ");
        text.push_str(&format!("{indent}a{level}: &a{level} [{aliases}]\n"));
    }
    text
}

#[test]
fn yaml_aliases_are_budgeted_in_every_yaml_read() {
    let dir = scratch("aliases");
    let bundle = dir.join("bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::write(
        bundle.join("bundle.yaml"),
        format!(
            "as_of: 2026-11-20T12:00:00Z\ncontext:\n  bomb:\n{}",
            alias_bomb("    ")
        ),
    )
    .unwrap();
    std::fs::write(
        bundle.join("item_get.json"),
        r#"{"item": {"item_id": "a"}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("rules.yaml"),
        format!("params:\n  big:\n{}rules: []\n", alias_bomb("    ")),
    )
    .unwrap();
    std::fs::write(
        dir.join("bomb.test.yaml"),
        format!("x-big:\n{}cases: []\n", alias_bomb("  ")),
    )
    .unwrap();
    let expected = "YAML aliases (`*name`) here expand the text by more than 16 MiB";
    for (args, at) in [
        (&["diagnose", "bundle"][..], "bundle/bundle.yaml:6:"),
        (&["rules", "check", "rules.yaml"][..], "rules.yaml:5:"),
        (
            &["diagnose", "--rules", "rules.yaml", "bundle"][..],
            "rules.yaml:5:",
        ),
        (
            &["rules", "test", "bomb.test.yaml"][..],
            "bomb.test.yaml:4:",
        ),
    ] {
        let output = run_in(&dir, args);
        let shown = text(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {shown}");
        assert!(shown.contains(expected), "{args:?}: {shown}");
        assert!(shown.contains(at), "{args:?}: {shown}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A chain of `length` named conditions, each using the next, and a rule that uses the first.
fn named_chain(length: usize) -> String {
    let mut text = String::from("conditions:\n  c0: { path: doc:$.a, exists: true }\n");
    for index in 1..length {
        text.push_str(&format!("  c{index}: {{ condition: c{} }}\n", index - 1));
    }
    text.push_str(&format!(
        "rules:\n  - id: deep\n    title: deep\n    severity: info\n    when: {{ condition: c{} }}\n    message: found\n",
        length - 1
    ));
    text
}

#[test]
fn deep_rule_structures_are_refused_with_a_location() {
    let dir = scratch("depth");
    let mut sources = String::from("sources:\n  s0: { first_of: ['doc:$.a'] }\n");
    for index in 1..5_000 {
        sources.push_str(&format!(
            "  s{index}: {{ first_of: ['s{}:$'] }}\n",
            index - 1
        ));
    }
    sources.push_str("rules:\n  - id: deep\n    title: deep\n    severity: info\n    when: { path: 's4999:$', exists: true }\n    message: found\n");
    let long_path = format!(
        "rules:\n  - id: deep\n    title: deep\n    severity: info\n    when: {{ path: 'doc:${}', exists: true }}\n    message: found\n",
        ".a".repeat(60_000)
    );
    let nested_filter = format!(
        "rules:\n  - id: deep\n    title: deep\n    severity: info\n    when: {{ path: 'doc:$.a{}{}', exists: true }}\n    message: found\n",
        "[?@.b".repeat(40),
        "]".repeat(40)
    );
    for (name, rules, expected) in [
        (
            "named.yaml",
            named_chain(5_000),
            "named.yaml:4938:10: conditions.c4936: conditions nest more than 64 deep here",
        ),
        (
            "sources.yaml",
            sources,
            "sources read each other 101 deep (s100 -> s99 -> s98 -> ... -> s2 -> s1 -> s0), more than 16",
        ),
        (
            "path.yaml",
            long_path,
            "path.yaml:5:19: rule deep: rules[0].when.path: this JSONPath is 120001 characters long, more than 2000",
        ),
        (
            "filter.yaml",
            nested_filter,
            "rules[0].when.path: this JSONPath nests brackets and parentheses 40 deep, more than 32",
        ),
    ] {
        std::fs::write(dir.join(name), rules).unwrap();
        let output = run_in(&dir, &["rules", "check", name]);
        let shown = text(&output);
        assert_eq!(output.status.code(), Some(2), "{name}: {shown}");
        assert!(shown.contains(expected), "{name}: {shown}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_deepest_accepted_rules_evaluate_in_batch_workers() {
    let dir = scratch("deep-ok");
    // 62 named conditions + the rule's own condition node: within the limit of 64.
    std::fs::write(dir.join("rules.yaml"), named_chain(62)).unwrap();
    let line = r#"{"as_of": "2026-11-20T12:00:00Z", "documents": {"doc": {"a": 1}}}"#;
    std::fs::write(dir.join("in.jsonl"), format!("{line}\n{line}\n{line}\n")).unwrap();
    let args = [
        "diagnose",
        "--rules",
        "rules.yaml",
        "--format",
        "jsonl",
        "--threads",
        "2",
        "--explain",
        "in.jsonl",
    ];
    let output = run_in(&dir, &args);
    let shown = text(&output);
    assert_eq!(output.status.code(), Some(0), "{shown}");
    assert_eq!(shown.matches("\"rule\":\"deep\"").count(), 6, "{shown}");
    std::fs::write(dir.join("rules.yaml"), named_chain(64)).unwrap();
    let output = run_in(&dir, &args);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn error_messages_echo_a_short_escaped_prefix_of_input_values() {
    let dir = scratch("echo");
    let regex = format!("({}", "a".repeat(1_000_000));
    std::fs::write(
        dir.join("rules.yaml"),
        format!(
            "rules:\n  - id: re\n    title: re\n    severity: info\n    when: {{ path: 'doc:$.a', regex: '{regex}' }}\n    message: m\n  - id: \"bad\\u202eid\"\n    title: t\n    severity: info\n    when: {{ path: 'doc:$.a', exists: true }}\n    message: m\n"
        ),
    )
    .unwrap();
    let output = run_in(&dir, &["rules", "check", "rules.yaml"]);
    let shown = text(&output);
    assert_eq!(output.status.code(), Some(2), "{shown}");
    assert!(
        shown.len() < 2_000,
        "{} bytes: {}",
        shown.len(),
        &shown[..500]
    );
    assert!(shown.contains("... (999941 more characters)`"), "{shown}");
    assert!(shown.contains("bad\\u{202e}id"), "{shown}");
    assert!(!shown.contains('\u{202e}'), "{shown}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn terminal_output_escapes_controls_and_bidi_overrides_in_evidence() {
    let dir = scratch("terminal");
    std::fs::write(
        dir.join("rules.yaml"),
        "rules:\n  - id: shown\n    title: shown\n    severity: info\n    values: { v: 'doc:$.v' }\n    when: { path: 'doc:$.v', exists: true }\n    message: 'v {v}'\n",
    )
    .unwrap();
    let planted = "a\u{9b}31mB\u{85}C\u{202e}D\u{2028}E\u{1b}[2J";
    let bundle =
        serde_json::json!({"as_of": "2026-11-20T12:00:00Z", "documents": {"doc": {"v": planted}}});
    std::fs::write(dir.join("bundle.json"), bundle.to_string()).unwrap();
    for extra in [&[][..], &["--explain"][..]] {
        let mut args = vec![
            "diagnose",
            "--rules",
            "rules.yaml",
            "--color",
            "never",
            "bundle.json",
        ];
        args.extend(extra);
        let output = run_in(&dir, &args);
        let shown = text(&output);
        assert_eq!(output.status.code(), Some(0), "{shown}");
        for c in ['\u{9b}', '\u{85}', '\u{202e}', '\u{2028}', '\u{1b}'] {
            assert!(
                !shown.contains(c),
                "{args:?}: U+{:04X} reached the terminal",
                c as u32
            );
        }
        assert!(
            shown.contains(r#"doc $['v'] = "a\u{9b}31mB\u{85}C\u{202e}D\u{2028}E\u001b[2J""#),
            "{args:?}: {shown}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_compare_between_many_values_on_both_sides_tests_a_bounded_number_of_pairs() {
    let dir = scratch("compare");
    std::fs::write(
        dir.join("rules.yaml"),
        "rules:\n  - id: both-sides-many\n    title: both\n    severity: info\n    when: { compare: { left: 'doc:$.a[*]', op: equals, right: 'doc:$.b[*]' } }\n    message: m\n  - id: one-side-many\n    title: one\n    severity: info\n    when: { compare: { left: 'doc:$.one', op: equals, right: 'doc:$.many[*]' } }\n    message: m\n",
    )
    .unwrap();
    // 3,000 values a side, 9 million pairs; the only equal pair is the last one.
    let mut a = vec![1; 3_000];
    let mut b = vec![2; 3_000];
    a[2_999] = 3;
    b[2_999] = 3;
    // One value against 20,000: every pair is tested, and the last one is equal.
    let mut many = vec![0; 20_000];
    many[19_999] = 7;
    let bundle = serde_json::json!({
        "as_of": "2026-11-20T12:00:00Z",
        "documents": {"doc": {"a": a, "b": b, "one": 7, "many": many}},
    });
    std::fs::write(dir.join("bundle.json"), bundle.to_string()).unwrap();
    let output = run_in(
        &dir,
        &[
            "diagnose",
            "--rules",
            "rules.yaml",
            "--format",
            "json",
            "--explain",
            "bundle.json",
        ],
    );
    let shown = text(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        &shown[..shown.len().min(2_000)]
    );
    let diagnosis: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let fired: Vec<&str> = diagnosis["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| finding["rule"].as_str().unwrap())
        .collect();
    // 10,000 pairs more than the 6,000 values are tested, in document order; the equal pair
    // is not among them.
    assert_eq!(
        fired,
        ["one-side-many"],
        "{}",
        &shown[..shown.len().min(2_000)]
    );
    assert!(
        shown.contains(
            "8984000 more pairs were not tested (at most 10000 more than the 6000 values)"
        ),
        "{}",
        &shown[..shown.len().min(2_000)]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
