//! The one place tests call the engine: load the default pack once, read fixture folders,
//! diagnose them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use balance_doctor_engine::{Diagnosis, EvaluateOptions, RuleSet};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the binary with `args` in `dir`, with `NO_COLOR` unset (colour follows the flags).
pub fn run_in(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_balance-doctor"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("the binary runs")
}

/// The embedded default pack, compiled once per test binary.
pub fn default_rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| match balance_doctor::default_rule_set() {
        Ok(rules) => rules,
        Err(errors) => panic!("the default pack does not compile:\n{errors}"),
    })
}

/// The default pack's test files (`rules/tests/*.test.yaml`), in name order.
pub fn default_case_files() -> Vec<std::path::PathBuf> {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(root().join("rules/tests"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".test.yaml"))
        .collect();
    files.sort();
    files
}

/// The default pack's test cases (every `rules/tests/*.test.yaml`), which hold each
/// fixture's expectations.
pub fn default_cases() -> balance_doctor::testing::TestFile {
    let mut all = balance_doctor::testing::TestFile { cases: Vec::new() };
    for file in default_case_files() {
        let read =
            balance_doctor::testing::read_test_file(&file).unwrap_or_else(|e| panic!("{e:#}"));
        all.cases.extend(read.cases);
    }
    all
}

/// Diagnoses a fixture folder with the default pack at the bundle's own `as_of`.
pub fn check(dir: &Path, options: &EvaluateOptions) -> Diagnosis {
    let bundle = balance_doctor::input::read_bundle(dir)
        .unwrap_or_else(|e| panic!("{}: {e:#}", dir.display()));
    let as_of = bundle
        .as_of()
        .unwrap_or_else(|| panic!("{}: fixtures must carry an as_of", dir.display()));
    default_rules().evaluate_with(&bundle, as_of, options)
}

/// Every fixture folder, sorted.
pub fn fixture_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures"))
        .expect("fixtures/ exists")
        .map(|entry| entry.expect("readable fixtures/").path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Runs `command` with `input` on its stdin and its stdout captured (stderr as the caller set
/// it), and waits for it.
pub fn output_with_stdin(mut command: std::process::Command, input: &[u8]) -> std::process::Output {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}
