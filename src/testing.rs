//! `balance-doctor rules test`: declarative test cases for rules, written in YAML next to them.
//!
//! ```yaml
//! # my-rules.test.yaml
//! cases:
//!   - name: an Item without webhook is flagged
//!     bundle: ../fixtures/no-webhook          # a bundle directory or JSON file, relative to this file
//!     fires: [no-webhook]
//!     silent: [auth-only-item]
//!     evidence:
//!       - { rule: no-webhook, document: item_get, path: "$['item']['webhook']", value: null }
//!   - name: an inline bundle that must stay quiet
//!     as_of: "2026-11-20T12:00:00Z"
//!     inline:
//!       documents:
//!         item_get: { item: { item_id: i-1, webhook: "https://example.com/hook" } }
//!     nothing: true
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use balance_doctor_engine::{
    Bundle, BundleSpec, ConditionTrace, Diagnosis, EvaluateOptions, RuleOutcome, RuleSet,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A test file: a list of cases.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// The cases, run in order.
    pub cases: Vec<TestCase>,
}

/// One bundle and what the rules must make of it.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    /// Unique within the file; shown in reports.
    pub name: String,
    /// What the case is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A bundle directory or bundle JSON file, relative to the test file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<String>,
    /// The bundle itself (`as_of`, `context`, `documents`), instead of `bundle`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<BundleSpec>,
    /// Evaluation time; overrides the bundle's own `as_of`. One of the two is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
    /// Rules that must fire.
    #[serde(default)]
    pub fires: Vec<String>,
    /// Rules that must not fire (near misses).
    #[serde(default)]
    pub silent: Vec<String>,
    /// Rules that must be reported as not evaluated.
    #[serde(default)]
    pub not_evaluated: Vec<String>,
    /// No rule may fire at all.
    #[serde(default)]
    pub nothing: bool,
    /// Evidence that must appear in the named rule's finding.
    #[serde(default)]
    pub evidence: Vec<ExpectedEvidence>,
}

/// One piece of evidence a finding must carry.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectedEvidence {
    /// The rule whose finding must carry it.
    pub rule: String,
    /// The document it is in.
    pub document: String,
    /// Its normalized path; any path when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Its value; any value when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// The outcome of a whole run.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TestReport {
    /// Every case, in file and case order.
    pub cases: Vec<CaseReport>,
    /// Per rule: how many cases saw it fire, and saw it evaluated but silent.
    pub coverage: Vec<RuleCoverage>,
    /// Share of enabled rules seen both firing and silent, in percent.
    pub coverage_percent: f64,
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
}

/// One case's outcome.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CaseReport {
    /// The test file.
    pub file: String,
    /// The case name.
    pub name: String,
    /// Whether every expectation held.
    pub passed: bool,
    /// Each expectation that did not hold, in words.
    pub failures: Vec<String>,
    /// Rules that fired.
    pub fired: Vec<String>,
}

/// How often one rule was seen.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RuleCoverage {
    /// The rule id.
    pub rule: String,
    /// Cases where it fired.
    pub fired: usize,
    /// Cases where it was evaluated and stayed silent.
    pub silent: usize,
}

/// The JSON Schema (draft-07) of test files.
pub fn json_schema() -> String {
    let schema = schemars::generate::SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<TestFile>();
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// Test files under `paths`: files as given, directories searched for `*.test.yaml`.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            collect(path, &mut files)?;
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            bail!("{}: no such test file or directory", path.display());
        }
    }
    if files.is_empty() {
        bail!(
            "no test files (`*.test.yaml`) under {}: write one, see `balance-doctor rules test --help`",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(files)
}

/// The `*.test.yaml` files below `dir`, in name order. Links are followed; a link back to a
/// folder that contains it (a loop) is skipped with a warning.
fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => match error.loop_ancestor() {
                Some(ancestor) => {
                    let path = error.path().unwrap_or(dir);
                    crate::note!(
                        "warning: skipped {}: a link to {}, a folder that contains it (a loop)",
                        path.display(),
                        ancestor.display()
                    );
                    continue;
                }
                None => {
                    return Err(
                        anyhow::Error::new(error).context(format!("cannot list {}", dir.display()))
                    );
                }
            },
        };
        let name = entry.file_name().to_str().unwrap_or_default();
        if !entry.file_type().is_dir()
            && (name.ends_with(".test.yaml") || name.ends_with(".test.yml"))
        {
            files.push(entry.into_path());
        }
    }
    Ok(())
}

/// Reads a test file.
pub fn read_test_file(path: &Path) -> Result<TestFile> {
    let text = crate::input::read_file_limited(path, crate::input::DEFAULT_MAX_INPUT_BYTES)?;
    crate::input::check_yaml(path, &text)?;
    let deserializer = serde_yaml::Deserializer::from_str(&text);
    let file: TestFile = serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let at = error
            .inner()
            .location()
            .map(|l| format!(":{}:{}", l.line(), l.column()))
            .unwrap_or_default();
        let message = balance_doctor_engine::serde_message(&error.inner().to_string());
        anyhow::anyhow!("{}{at}: {}: {message}", path.display(), error.path())
    })?;
    // An inline bundle is a bundle in the single-file form, which needs `documents`
    // (`diagnose` refuses one without): the typed parse cannot tell a missing key from `{}`,
    // so the text is read again, only when an inline bundle has no documents.
    let maybe_missing = file.cases.iter().any(|case| {
        case.inline
            .as_ref()
            .is_some_and(|bundle| bundle.documents.is_empty())
    });
    if maybe_missing
        && let Ok(serde_yaml::Value::Mapping(top)) =
            serde_yaml::from_str::<serde_yaml::Value>(&text)
        && let Some(serde_yaml::Value::Sequence(cases)) = top.get("cases")
    {
        for (index, case) in cases.iter().enumerate() {
            if let Some(inline) = case.get("inline")
                && inline.get("documents").is_none()
            {
                let field = format!("cases[{index}].inline");
                let at = balance_doctor_engine::yaml_field_location(&text, &field)
                    .map(|at| format!(":{}:{}", at.line, at.column))
                    .unwrap_or_default();
                bail!(
                    "{}{at}: {field}: an inline bundle needs `documents`, as a bundle file does: an object of the captured responses by name (`{{}}` when the rules read only `context`)",
                    path.display()
                );
            }
        }
    }
    // An empty file would pass and check nothing, as an empty folder of tests would (refused).
    if file.cases.is_empty() {
        bail!(
            "{}: `cases` is empty, so the file checks nothing: add a case (see `balance-doctor rules test --help`)",
            path.display()
        );
    }
    let mut names = BTreeSet::new();
    for case in &file.cases {
        if !names.insert(case.name.as_str()) {
            bail!(
                "{}: two cases are named `{}`: rename one",
                path.display(),
                case.name
            );
        }
    }
    Ok(file)
}

/// Runs every case of every file against `rules`.
pub fn run(rules: &RuleSet, files: &[PathBuf]) -> Result<TestReport> {
    let enabled: Vec<String> = rules.rules().filter(|r| r.enabled).map(|r| r.id).collect();
    let known: BTreeSet<&str> = enabled.iter().map(String::as_str).collect();
    let mut coverage: BTreeMap<&str, (usize, usize)> =
        enabled.iter().map(|id| (id.as_str(), (0, 0))).collect();
    let mut cases = Vec::new();
    for path in files {
        let file = read_test_file(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        for case in &file.cases {
            let mut report = CaseReport {
                file: path.display().to_string(),
                name: case.name.clone(),
                passed: true,
                failures: Vec::new(),
                fired: Vec::new(),
            };
            for id in case
                .fires
                .iter()
                .chain(&case.silent)
                .chain(&case.not_evaluated)
            {
                if !known.contains(id.as_str()) {
                    report.failures.push(unknown_rule(id, &known));
                }
            }
            match load_case(case, base) {
                Err(error) => report.failures.push(format!("{error:#}")),
                Ok((bundle, as_of)) => {
                    let diagnosis =
                        rules.evaluate_with(&bundle, as_of, &EvaluateOptions { explain: true });
                    for trace in diagnosis.explain.iter().flatten() {
                        if let Some(counts) = coverage.get_mut(trace.rule.as_str()) {
                            match trace.outcome {
                                RuleOutcome::Fired => counts.0 += 1,
                                RuleOutcome::Silent => counts.1 += 1,
                                _ => {}
                            }
                        }
                    }
                    check(case, &diagnosis, &mut report);
                }
            }
            report.passed = report.failures.is_empty();
            cases.push(report);
        }
    }
    let coverage: Vec<RuleCoverage> = enabled
        .iter()
        .map(|id| {
            let (fired, silent) = coverage[id.as_str()];
            RuleCoverage {
                rule: id.clone(),
                fired,
                silent,
            }
        })
        .collect();
    let complete = coverage
        .iter()
        .filter(|c| c.fired > 0 && c.silent > 0)
        .count();
    let coverage_percent = if coverage.is_empty() {
        100.0
    } else {
        100.0 * complete as f64 / coverage.len() as f64
    };
    let passed = cases.iter().filter(|c| c.passed).count();
    Ok(TestReport {
        failed: cases.len() - passed,
        passed,
        cases,
        coverage,
        coverage_percent,
    })
}

fn load_case(case: &TestCase, base: &Path) -> Result<(Bundle, jiff::Timestamp)> {
    let bundle = match (&case.bundle, &case.inline) {
        (Some(path), None) => crate::input::read_bundle(&base.join(path))?,
        (None, Some(spec)) => Bundle::from_spec(spec.clone()).context("inline bundle")?,
        _ => bail!("give the case exactly one of `bundle: <path>` and `inline: <bundle>`"),
    };
    let as_of = match (&case.as_of, bundle.as_of()) {
        (Some(text), _) => balance_doctor_engine::parse_as_of(text)
            .map_err(|e| anyhow::anyhow!("as_of: {}", e.message))?,
        (None, Some(as_of)) => as_of,
        (None, None) => bail!("no evaluation time: give the case an `as_of`, or the bundle one"),
    };
    Ok((bundle, as_of))
}

/// The failure for a case naming a rule that is not loaded, with the closest loaded id.
fn unknown_rule(id: &str, known: &BTreeSet<&str>) -> String {
    let known: Vec<&str> = known.iter().copied().collect();
    let hint = balance_doctor_engine::closest(id, &known)
        .map(|best| format!(": did you mean `{best}`?"))
        .unwrap_or_default();
    format!("names rule `{id}`, which is not loaded (or is disabled){hint}")
}

fn check(case: &TestCase, diagnosis: &Diagnosis, report: &mut CaseReport) {
    let fired: BTreeSet<&str> = diagnosis.findings.iter().map(|f| f.rule.as_str()).collect();
    report.fired = fired.iter().map(|s| (*s).to_owned()).collect();
    let trace_of = |rule: &str| diagnosis.explain.iter().flatten().find(|t| t.rule == rule);
    for id in &case.fires {
        if fired.contains(id.as_str()) {
            continue;
        }
        let mut text = format!("expected `{id}` to fire; it did not");
        if let Some(trace) = trace_of(id) {
            match trace.outcome {
                RuleOutcome::NotEvaluated => {
                    let missing: Vec<&str> =
                        trace.missing.iter().map(|m| m.name.as_str()).collect();
                    let _ = write!(text, " (not evaluated: missing {})", missing.join(", "));
                }
                RuleOutcome::Superseded => {
                    let by = trace.superseded_by.as_deref().unwrap_or("another rule");
                    text = format!(
                        "expected `{id}` to fire; it stood down: `{by}` holds and supersedes it (its `supersedes:` lists `{id}`)"
                    );
                }
                _ => {
                    if let Some(condition) = &trace.condition {
                        text.push_str("; why:");
                        explain_failure(condition, 2, &mut text);
                    }
                }
            }
        }
        report.failures.push(text);
    }
    let forbidden: Vec<&String> = if case.nothing {
        Vec::new()
    } else {
        case.silent.iter().collect()
    };
    for finding in &diagnosis.findings {
        if case.nothing || forbidden.iter().any(|id| **id == finding.rule) {
            let reason = if case.nothing {
                "no rule may fire (`nothing: true`)"
            } else {
                "listed under `silent`"
            };
            report.failures.push(format!(
                "`{}` fired but {reason}: {}",
                finding.rule, finding.message
            ));
        }
    }
    for id in &case.not_evaluated {
        if !diagnosis.not_evaluated.iter().any(|n| n.rule == *id) {
            report.failures.push(format!(
                "expected `{id}` to be not evaluated; it was evaluated"
            ));
        }
    }
    for expected in &case.evidence {
        let Some(finding) = diagnosis.findings.iter().find(|f| f.rule == expected.rule) else {
            report.failures.push(format!(
                "expected evidence from `{}`, which did not fire",
                expected.rule
            ));
            continue;
        };
        let found = finding.evidence.iter().any(|e| {
            e.document == expected.document
                && expected.path.as_ref().is_none_or(|p| *p == e.path)
                && expected.value.as_ref().is_none_or(|v| {
                    serde_json::to_value(&e.value).is_ok_and(|shown| same_value(v, &shown))
                })
        });
        if !found {
            let seen: Vec<String> = finding
                .evidence
                .iter()
                .map(|e| format!("{} {} = {}", e.document, e.path, e.value))
                .collect();
            report.failures.push(format!(
                "`{}` lacks the evidence {} {} = {}; it has: {}",
                expected.rule,
                expected.document,
                expected.path.as_deref().unwrap_or("(any path)"),
                expected
                    .value
                    .as_ref()
                    .map_or("(any value)".to_owned(), Value::to_string),
                seen.join("; ")
            ));
        }
    }
}

/// Whether an expected evidence value is the value shown: numbers by value (`2100` is
/// `2100.0`, as `equals` compares them), everything else as written.
fn same_value(expected: &Value, shown: &Value) -> bool {
    match (expected, shown) {
        (Value::Number(a), Value::Number(b)) => {
            a == b || a.as_f64().is_some_and(|a| b.as_f64() == Some(a))
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_value(a, b))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, a)| b.get(key).is_some_and(|b| same_value(a, b)))
        }
        _ => expected == shown,
    }
}

/// The failing branch of a condition tree, one line per level.
fn explain_failure(trace: &ConditionTrace, depth: usize, out: &mut String) {
    let _ = write!(out, "\n{}no  {}", "  ".repeat(depth), trace.test);
    if let Some(note) = &trace.note {
        let _ = write!(out, "  ({note})");
    }
    for seen in trace.seen.iter().take(3) {
        let _ = write!(
            out,
            "\n{}    saw {} {} = {}",
            "  ".repeat(depth),
            seen.document,
            seen.path,
            seen.value
        );
    }
    for child in trace.children.iter().filter(|c| !c.result) {
        explain_failure(child, depth + 1, out);
    }
}

/// Human report: one line per case, failures in detail, the coverage table, a closing count.
pub fn human(report: &TestReport, out: &mut String) {
    let mut file = "";
    for case in &report.cases {
        if case.file != file {
            file = &case.file;
            let _ = writeln!(out, "{file}");
        }
        let mark = if case.passed { "ok  " } else { "FAIL" };
        let _ = writeln!(out, "  {mark} {}", case.name);
        for failure in &case.failures {
            for (index, line) in failure.lines().enumerate() {
                let lead = if index == 0 { "- " } else { "  " };
                let _ = writeln!(out, "         {lead}{line}");
            }
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "coverage: {:.0}% of rules seen both firing and silent",
        report.coverage_percent
    );
    let _ = writeln!(out, "  {:<32} {:>6} {:>6}", "rule", "fired", "silent");
    for rule in &report.coverage {
        let gap = if rule.fired == 0 || rule.silent == 0 {
            "  <- not covered"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  {:<32} {:>6} {:>6}{gap}",
            rule.rule, rule.fired, rule.silent
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{} passed, {} failed", report.passed, report.failed);
}

/// JUnit XML: one test suite per file, one test case per case.
pub fn junit(report: &TestReport, out: &mut String) {
    let mut by_file: BTreeMap<&str, Vec<&CaseReport>> = BTreeMap::new();
    for case in &report.cases {
        by_file.entry(case.file.as_str()).or_default().push(case);
    }
    let _ = writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        out,
        r#"<testsuites name="balance-doctor rules test" tests="{}" failures="{}">"#,
        report.cases.len(),
        report.failed
    );
    for (file, cases) in by_file {
        let failures = cases.iter().filter(|c| !c.passed).count();
        let _ = writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{failures}">"#,
            xml(file),
            cases.len()
        );
        for case in cases {
            let _ = write!(
                out,
                r#"    <testcase classname="{}" name="{}""#,
                xml(file),
                xml(&case.name)
            );
            if case.passed {
                let _ = writeln!(out, "/>");
            } else {
                let _ = writeln!(out, ">");
                let message = case
                    .failures
                    .first()
                    .map(String::as_str)
                    .unwrap_or_default();
                let first_line = message.lines().next().unwrap_or_default();
                let _ = writeln!(
                    out,
                    r#"      <failure message="{}">{}</failure>"#,
                    xml(first_line),
                    xml(&case.failures.join("\n"))
                );
                let _ = writeln!(out, "    </testcase>");
            }
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    let _ = writeln!(out, "</testsuites>");
}

fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_rule_id_gets_a_did_you_mean() {
        let known: BTreeSet<&str> = ["no-webhook", "overdue-refresh"].into_iter().collect();
        assert_eq!(
            unknown_rule("no-webhok", &known),
            "names rule `no-webhok`, which is not loaded (or is disabled): did you mean `no-webhook`?"
        );
        assert_eq!(
            unknown_rule("something-else", &known),
            "names rule `something-else`, which is not loaded (or is disabled)"
        );
    }

    #[test]
    fn expected_evidence_values_compare_numbers_by_value() {
        use serde_json::json;
        assert!(same_value(&json!(2100), &json!(2100.0)));
        assert!(same_value(&json!(100.0), &json!(100)));
        assert!(same_value(
            &json!({"a": [1, 2.5]}),
            &json!({"a": [1.0, 2.5]})
        ));
        assert!(!same_value(&json!(2100), &json!(2100.5)));
        assert!(!same_value(&json!("2100"), &json!(2100)));
        assert!(!same_value(&json!([1]), &json!([1, 2])));
        assert!(!same_value(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
    }

    #[test]
    fn a_test_file_without_cases_is_refused() {
        let dir = std::env::temp_dir().join(format!("bd-empty-cases-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("empty.test.yaml");
        std::fs::write(&path, "cases: []\n").unwrap();
        let error = read_test_file(&path).unwrap_err().to_string();
        assert!(error.contains("`cases` is empty"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A misspelt or missing key of a test file reads as one in a rules file does: the field
    /// path once, then what to do ("did you mean"), not serde's message after a second path.
    #[test]
    fn test_file_key_mistakes_say_what_to_do() {
        let dir = std::env::temp_dir().join(format!("bd-test-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (text, expected) in [
            (
                "cases:\n  - name: a\n    bundle: b.json\n    fire: [x]\n",
                "a.test.yaml:4:5: cases[0].fire: unknown key `fire`: did you mean `fires`?",
            ),
            (
                "cases:\n  - bundle: b.json\n    fires: [x]\n",
                "a.test.yaml:2:5: cases[0]: missing key `name`: add it",
            ),
            (
                "cases:\n  - name: a\n    bundle: b.json\n    fires: x\n",
                "a.test.yaml:4:12: cases[0].fires: expected a list, found the text `x`: write it as a list, `[x]`",
            ),
            (
                "cases:\n  - name: a\n    inline: { as_of: \"2026-11-20T12:00:00Z\" }\n    nothing: true\n",
                "a.test.yaml:3:5: cases[0].inline: an inline bundle needs `documents`, as a bundle file does: an object of the captured responses by name (`{}` when the rules read only `context`)",
            ),
        ] {
            let path = dir.join("a.test.yaml");
            std::fs::write(&path, text).unwrap();
            let error = read_test_file(&path).unwrap_err().to_string();
            assert!(error.ends_with(expected), "{error}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
