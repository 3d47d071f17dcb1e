//! `diagnose --format jsonl` writes each diagnosed record through `render::jsonl_diagnosed`,
//! which writes each rule's repeated texts from `RuleTexts` (escaped once per run). Its text
//! must be exactly the serialization of the published `JsonlRecord::Diagnosed`: checked here on
//! every fixture, with and without an explanation, an `id`, a line and each `as_of` origin,
//! and on findings whose texts are not their rule's (which fall back to plain serialization).

mod support;

use balance_doctor::batch::RecordOrigin;
use balance_doctor::input::AsOfOrigin;
use balance_doctor::render::{
    DiagnosedRecord, JsonReport, JsonlRecord, RuleTexts, jsonl_diagnosed,
};
use balance_doctor_engine::{Diagnosis, EvaluateOptions};
use serde_json::json;

fn both(diagnosis: &Diagnosis, texts: &RuleTexts, id: Option<&serde_json::Value>) {
    for (line, as_of_from) in [
        (Some(7), AsOfOrigin::Bundle),
        (None, AsOfOrigin::Flag),
        (Some(1), AsOfOrigin::Clock),
    ] {
        let origin = RecordOrigin {
            file: "in \"quoted\".jsonl".to_owned(),
            line,
        };
        let record = DiagnosedRecord {
            origin: &origin,
            report: JsonReport {
                id,
                diagnosis,
                as_of_from,
            },
        };
        let mut fast = Vec::new();
        jsonl_diagnosed(&mut fast, &record, texts).unwrap();
        let plain = serde_json::to_vec(&JsonlRecord::Diagnosed(record)).unwrap();
        assert_eq!(
            String::from_utf8(fast).unwrap(),
            String::from_utf8(plain).unwrap()
        );
    }
}

#[test]
fn jsonl_records_are_the_published_serialization() {
    let rules = support::default_rules();
    let texts = RuleTexts::new(rules);
    let mut findings = 0;
    for dir in support::fixture_dirs() {
        for explain in [false, true] {
            let diagnosis = support::check(&dir, &EvaluateOptions { explain });
            findings += diagnosis.findings.len();
            both(&diagnosis, &texts, None);
            if !explain {
                both(&diagnosis, &texts, Some(&json!("case-1")));
                both(&diagnosis, &texts, Some(&json!(12)));
            }

            // A finding that is not as its rule says is written as it is.
            let mut changed = diagnosis.clone();
            for finding in &mut changed.findings {
                finding.title.push_str(" \u{1}changed");
                finding.remediation.push("one more \"step\"".to_owned());
                finding.omitted_evidence = 3;
            }
            for entry in &mut changed.not_evaluated {
                entry.title = format!("{}\n(changed)", entry.title);
            }
            both(&changed, &texts, None);
            let mut references = diagnosis.clone();
            for finding in &mut references.findings {
                finding.references.clear();
            }
            both(&references, &texts, None);
        }
    }
    assert!(
        findings > 50,
        "the fixtures hold findings to compare ({findings})"
    );
}
