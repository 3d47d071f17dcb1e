//! The one place tests call the engine: load the default pack once, read fixture folders,
//! diagnose them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use balance_doctor_engine::{Diagnosis, EvaluateOptions, RuleSet};
use serde::Deserialize;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The embedded default pack, compiled once per test binary.
pub fn default_rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| match balance_doctor::default_rule_set() {
        Ok(rules) => rules,
        Err(errors) => panic!("the default pack does not compile:\n{errors}"),
    })
}

/// What a fixture folder says must and must not fire (`expect.yaml`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    #[serde(default)]
    pub fires: Vec<String>,
    #[serde(default)]
    pub silent: Vec<String>,
}

pub fn expectation(dir: &Path) -> Expectation {
    let path = dir.join("expect.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: every fixture needs an expect.yaml",
            path.display()
        )
    });
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Diagnoses a fixture folder with the default pack at the bundle's own `as_of`.
pub fn check(dir: &Path, options: &EvaluateOptions) -> Diagnosis {
    let bundle = balance_doctor::input::read_bundle(dir)
        .unwrap_or_else(|e| panic!("{}: {e:#}", dir.display()));
    let as_of = bundle
        .as_of
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
