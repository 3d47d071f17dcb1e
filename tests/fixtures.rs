//! One snapshot of the full diagnosis per fixture folder; the default pack's test cases.
//! Kept in its own test binary: insta's glob! collects failures process-wide.

mod support;

use balance_doctor_engine::EvaluateOptions;

#[test]
fn every_fixture_diagnosis_matches_its_snapshot() {
    insta::glob!("../fixtures", "*", |dir| {
        // The pattern also yields the fixtures folder itself.
        if !dir.is_dir() || dir == support::root().join("fixtures") {
            return;
        }
        let diagnosis = support::check(dir, &EvaluateOptions::default());
        insta::assert_json_snapshot!("diagnosis", diagnosis);
    });
}

#[test]
fn the_default_pack_passes_its_own_test_cases_with_full_coverage() {
    let files = support::default_case_files();
    let report = balance_doctor::testing::run(support::default_rules(), &files).unwrap();
    let failures: Vec<String> = report
        .cases
        .iter()
        .filter(|case| !case.passed)
        .map(|case| format!("{}:\n  {}", case.name, case.failures.join("\n  ")))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(report.coverage_percent, 100.0, "{:#?}", report.coverage);
}

#[test]
fn every_fixture_has_a_test_case() {
    let cases = support::default_cases();
    for dir in support::fixture_dirs() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let wanted = format!("../../fixtures/{name}");
        assert!(
            cases
                .cases
                .iter()
                .any(|case| case.bundle.as_deref() == Some(wanted.as_str())),
            "fixtures/{name} has no case in rules/tests/*.test.yaml"
        );
    }
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
