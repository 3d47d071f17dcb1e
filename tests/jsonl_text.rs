//! `diagnose --format jsonl` writes each diagnosed record through `render::jsonl_diagnosed`,
//! which writes the JSON by hand (its own string escaper, each rule's repeated texts from
//! `RuleTexts`, escaped once per run). Its text must be exactly the serialization of the
//! published `JsonlRecord::Diagnosed`: checked here on every fixture, with and without an
//! explanation, an `id`, a line and each `as_of` origin; on findings whose texts are not their
//! rule's (which are escaped as they are); and on diagnoses given every optional field and
//! texts and values that need escaping (labels, unread documents, evidence, notes, missing
//! inputs, superseded rules).

mod support;

use balance_doctor::batch::RecordOrigin;
use balance_doctor::input::AsOfOrigin;
use balance_doctor::render::{
    DiagnosedRecord, JsonReport, JsonlRecord, RuleTexts, jsonl_diagnosed,
};
use balance_doctor_engine::{
    ConditionTrace, Diagnosis, EvaluateOptions, Evidence, MissingInput, UnreadDocument,
};
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
        jsonl_diagnosed(&mut fast, &record, texts);
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
                let mut remediation = finding.remediation.to_vec();
                remediation.push("one more \"step\"".to_owned());
                finding.remediation = remediation.into();
                finding.omitted_evidence = 3;
            }
            for entry in &mut changed.not_evaluated {
                entry.title = format!("{}\n(changed)", entry.title);
            }
            both(&changed, &texts, None);
            let mut references = diagnosis.clone();
            for finding in &mut references.findings {
                finding.references = Vec::new().into();
            }
            both(&references, &texts, None);
            both(&odd(&diagnosis), &texts, Some(&json!("id \"\u{1}\" é")));
        }
    }
    assert!(
        findings > 50,
        "the fixtures hold findings to compare ({findings})"
    );
}

/// Texts that need escaping (quotes, backslashes, every kind of control character) next to
/// ones that do not (`/`, DEL, non-ASCII), at various offsets within an eight-byte word.
const ODD: &str = "\"q\" back\\slash\u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f} /\u{7f} é \u{2028} 🙂";

fn odd_value() -> serde_json::Value {
    json!({
        "number": [0, 7, -3, u64::MAX, i64::MIN, 0.5, -1.25e-7, 1e300, 3640.18, 100.0],
        "text": ODD, "none": null, "yes": true, "no": false, "empty": {}, "list": [],
        ODD: [{"nested": [ODD]}]
    })
}

fn odd_evidence() -> Evidence {
    Evidence {
        document: format!("doc {ODD}"),
        path: "$['a\\'b']['\"']".to_owned(),
        value: odd_value().into(),
    }
}

fn odd_missing() -> MissingInput {
    MissingInput {
        name: format!("name {ODD}"),
        how_to_get: format!("capture {ODD}"),
    }
}

fn odd_trace(trace: &mut ConditionTrace) {
    trace.field.push_str(ODD);
    trace.test.insert_str(0, ODD);
    trace.note = Some(format!("note {ODD}"));
    trace.seen.push(odd_evidence());
    for child in &mut trace.children {
        odd_trace(child);
    }
}

/// `diagnosis` with every optional field filled and odd texts and values everywhere.
fn odd(diagnosis: &Diagnosis) -> Diagnosis {
    let mut odd = diagnosis.clone();
    odd.labels.insert(ODD.to_owned(), odd_value());
    odd.labels.insert("plain".to_owned(), json!(ODD));
    odd.unread_documents = vec![
        UnreadDocument {
            name: format!("item_gte {ODD}"),
            did_you_mean: Some("item_get".to_owned()),
        },
        UnreadDocument {
            name: "notes.json".to_owned(),
            did_you_mean: None,
        },
    ];
    for finding in &mut odd.findings {
        finding.message.push_str(ODD);
        finding.evidence.push(odd_evidence());
        finding.omitted_evidence = usize::MAX;
    }
    for entry in &mut odd.not_evaluated {
        entry.missing.push(odd_missing());
    }
    for trace in odd.explain.iter_mut().flatten() {
        trace.missing.push(odd_missing());
        trace.superseded_by = Some(format!("rule {ODD}"));
        if let Some(condition) = &mut trace.condition {
            odd_trace(condition);
        }
    }
    odd
}
