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
    std::fs::write(bundle.join("item_get.json"), r#"{"item": {"item_id": "a"}}"#).unwrap();
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
        (&["diagnose", "--rules", "rules.yaml", "bundle"][..], "rules.yaml:5:"),
        (&["rules", "test", "bomb.test.yaml"][..], "bomb.test.yaml:4:"),
    ] {
        let output = run_in(&dir, args);
        let shown = text(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {shown}");
        assert!(shown.contains(expected), "{args:?}: {shown}");
        assert!(shown.contains(at), "{args:?}: {shown}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
