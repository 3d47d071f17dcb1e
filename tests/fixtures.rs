//! One snapshot of the full diagnosis per fixture folder, plus the folder's own expectations.
//! Kept in its own test binary: insta's glob! collects failures process-wide.

mod support;

use std::collections::BTreeSet;

use balance_doctor_engine::EvaluateOptions;

#[test]
fn every_fixture_diagnosis_matches_its_snapshot_and_expectations() {
    insta::glob!("../fixtures", "*", |dir| {
        // The pattern also yields the fixtures folder itself.
        if !dir.is_dir() || dir == support::root().join("fixtures") {
            return;
        }
        let diagnosis = support::check(dir, &EvaluateOptions::default());
        let expected = support::expectation(dir);
        let fired: BTreeSet<&str> = diagnosis.findings.iter().map(|f| f.rule.as_str()).collect();
        for rule in &expected.fires {
            assert!(
                fired.contains(rule.as_str()),
                "{}: `{rule}` should fire; fired: {fired:?}",
                dir.display()
            );
        }
        for rule in &expected.silent {
            assert!(
                !fired.contains(rule.as_str()),
                "{}: `{rule}` must stay silent; fired: {fired:?}",
                dir.display()
            );
        }
        insta::assert_json_snapshot!("diagnosis", diagnosis);
    });
}

#[test]
fn explanations_agree_with_findings() {
    for dir in support::fixture_dirs() {
        let plain = support::check(&dir, &EvaluateOptions::default());
        let explained = support::check(&dir, &EvaluateOptions { explain: true });
        assert_eq!(plain.findings, explained.findings, "{}", dir.display());
        let traces = explained.explain.expect("explain was asked for");
        let fired_in_trace: Vec<&str> = traces
            .iter()
            .filter(|t| t.outcome == balance_doctor_engine::RuleOutcome::Fired)
            .map(|t| t.rule.as_str())
            .collect();
        let mut fired: Vec<&str> = plain.findings.iter().map(|f| f.rule.as_str()).collect();
        fired.sort_unstable();
        let mut fired_in_trace = fired_in_trace;
        fired_in_trace.sort_unstable();
        assert_eq!(fired, fired_in_trace, "{}", dir.display());
    }
}
