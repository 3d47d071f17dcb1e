//! Replays, on stable `cargo test`, every input kept under `fuzz/regressions/<target>/`: what a
//! fuzz campaign found and the worst cases built by hand for each limit. Each goes through the
//! same code as its cargo-fuzz target and must be read or refused, never panic.

mod support;

use std::path::PathBuf;

use balance_doctor_engine::{Bundle, EvaluateOptions, RuleText, compile};

fn cases(target: &str) -> Vec<PathBuf> {
    let dir = support::root().join("fuzz/regressions").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.map(|entry| entry.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

fn text(path: &PathBuf) -> Option<String> {
    String::from_utf8(std::fs::read(path).unwrap()).ok()
}

#[test]
fn compile_rules_regressions_compile_or_report() {
    for path in cases("compile_rules") {
        let Some(text) = text(&path) else { continue };
        let _ = compile(&[RuleText {
            name: "fuzz.yaml",
            text: &text,
        }]);
    }
}

#[test]
fn evaluate_bundle_regressions_evaluate() {
    let rules = support::default_rules();
    for path in cases("evaluate_bundle") {
        let Some(text) = text(&path) else { continue };
        let Ok(bundle) = Bundle::from_json(&text) else {
            continue;
        };
        let as_of = bundle.as_of().unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let _ = rules.evaluate_with(&bundle, as_of, &EvaluateOptions { explain: true });
    }
}

#[test]
fn bundle_metadata_regressions_are_read_or_refused() {
    let rules = support::default_rules();
    let item_get = r#"{"item": {"item_id": "i", "webhook": null, "error": null}}"#;
    let mut seen = 0;
    for path in cases("bundle_metadata") {
        let Some(text) = text(&path) else { continue };
        for metadata in ["bundle.yaml", "bundle.json"] {
            let read = |name: &str| match name {
                "item_get.json" => Ok(item_get.to_owned()),
                _ => Ok(text.clone()),
            };
            let Ok(bundle) = Bundle::from_dir([metadata, "item_get.json"], read) else {
                continue;
            };
            let as_of = bundle.as_of().unwrap_or(jiff::Timestamp::UNIX_EPOCH);
            let _ = rules.evaluate_with(&bundle, as_of, &EvaluateOptions { explain: true });
        }
        seen += 1;
    }
    assert!(seen > 0, "fuzz/regressions/bundle_metadata holds cases");
}
