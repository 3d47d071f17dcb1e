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

/// The app's read time is shown as an age only when it is before `as_of`: evaluated 3 minutes
/// before it (within `clock_skew`, so no rule says the evaluation time is early), the rules
/// that name it do not say the app read the balance "in 3 minutes".
#[test]
fn a_read_time_after_as_of_is_not_shown_as_a_future_read() {
    let dir = support::root().join("fixtures/app-did-not-reread");
    let bundle = balance_doctor::input::read_bundle(&dir).unwrap();
    let as_of: balance_doctor_engine::Timestamp = "2026-11-18T10:41:00Z".parse().unwrap();
    // The message of app-did-not-reread, evaluated at `as_of`.
    let reread_at = |as_of| {
        let diagnosis = support::default_rules().evaluate(&bundle, as_of);
        diagnosis
            .findings
            .into_iter()
            .find(|finding| finding.rule == "app-did-not-reread")
            .expect("app-did-not-reread fires")
            .message
    };
    let reread = reread_at(as_of);
    assert!(
        reread.contains("at or after the evaluation time"),
        "{reread}"
    );
    assert!(!reread.contains("in 3 minutes"), "{reread}");
    // At the bundle's own as_of, the age is shown.
    let reread = reread_at(bundle.as_of().unwrap());
    assert!(reread.contains("2 days 1 hour ago"), "{reread}");
}
