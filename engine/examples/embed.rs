//! Embedding the engine: the default pack plus a team's rules (one of them `extends` another,
//! resolved from memory), compiled once and evaluated from several threads.
//!
//! Run with `cargo run -p balance-doctor-engine --example embed`. CI runs it too.

// An example program prints; the library itself never does (see engine/clippy.toml).
#![allow(clippy::disallowed_macros)]

use std::collections::HashMap;

use balance_doctor_engine::{
    Bundle, EvaluateOptions, ExtendsRequest, RuleSource, RuleText, Scratch, Severity, Timestamp,
    compile_with,
};

/// A team's layer over the pack: a looser overdue threshold, and one rule of its own.
const TEAM: &str = r#"
extends: [default]
params:
  overdue_after: 10d
rules:
  - id: item-at-test-bank
    title: The Item is at the team's test bank
    severity: info
    requires: [item]
    values: { bank: "item:$.institution_id" }
    when: { path: "item:$.institution_id", equals: ins_109508 }
    message: "Item at {bank}, the sandbox bank: its data is synthetic"
"#;

/// What the embedding program compiles: it extends the team's file by name.
const LOCAL: &str = r#"
extends: [team.yaml]
overrides:
  no-webhook: { severity: warning }
"#;

fn bundle(item_id: &str, webhook: Option<&str>, last_update: &str) -> Bundle {
    Bundle::from_value(serde_json::json!({
        "documents": {
            "item_get": {
                "item": {
                    "item_id": item_id,
                    "institution_id": "ins_109508",
                    "webhook": webhook,
                    "error": null,
                    "products": ["transactions"],
                    "billed_products": ["transactions"],
                    "available_products": []
                },
                "status": {
                    "transactions": {
                        "last_successful_update": last_update,
                        "last_failed_update": null
                    }
                },
                "request_id": "req-1"
            }
        }
    }))
    .expect("a valid bundle")
}

fn main() -> std::process::ExitCode {
    // 1. Compile once. `default` is the pack embedded in the engine; the reader resolves every
    //    other `extends` entry: here from a map in memory, in the CLI from files.
    let files = HashMap::from([("team.yaml", TEAM)]);
    let reader = |request: ExtendsRequest<'_>| {
        files
            .get(request.entry)
            .map(|text| RuleSource {
                name: request.entry.to_owned(),
                text: (*text).to_owned(),
            })
            .ok_or_else(|| format!("no rules file named `{}`", request.entry))
    };
    let rule_set = match compile_with(
        &[RuleText {
            name: "local.yaml",
            text: LOCAL,
        }],
        reader,
    ) {
        Ok(rule_set) => rule_set,
        Err(errors) => {
            // Every problem, located: file:line:column: rule <id>: <field>: message.
            eprintln!("{errors}");
            return std::process::ExitCode::from(2);
        }
    };
    println!(
        "{} rules from {}",
        rule_set.rules().len(),
        rule_set.files().join(" + ")
    );

    // 2. Evaluate from several threads: a RuleSet is Send + Sync, evaluation needs no lock.
    // Each thread keeps one Scratch, the working memory its evaluations reuse.
    let as_of: Timestamp = "2026-11-20T12:00:00Z".parse().expect("a timestamp");
    let bundles: Vec<Bundle> = (0..8)
        .map(|index| {
            let webhook = (index % 2 == 0).then_some("https://example.com/hook");
            bundle(&format!("item-{index}"), webhook, "2026-11-01T08:00:00Z")
        })
        .collect();
    let options = EvaluateOptions::default();
    let diagnoses: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = bundles
            .chunks(2)
            .map(|chunk| {
                let rule_set = &rule_set;
                let options = &options;
                scope.spawn(move || {
                    let mut scratch = Scratch::new(rule_set);
                    chunk
                        .iter()
                        .map(|bundle| {
                            rule_set.evaluate_with_scratch(bundle, as_of, options, &mut scratch)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().expect("no evaluation panics"))
            .collect()
    });

    // 3. Read the findings: plain data, sorted by severity then rule order.
    for (bundle, diagnosis) in bundles.iter().zip(&diagnoses) {
        let item = &bundle.document("item_get").expect("captured")["item"]["item_id"];
        println!("{item}:");
        for finding in &diagnosis.findings {
            println!(
                "  {:<7} {:<24} {}",
                finding.severity, finding.rule, finding.message
            );
        }
    }
    // What this example promises, checked so that CI notices if it stops being true.
    let fired = |index: usize, rule: &str| diagnoses[index].findings.iter().any(|f| f.rule == rule);
    assert!(diagnoses.iter().all(|d| {
        d.findings
            .iter()
            .any(|f| f.rule == "item-at-test-bank" && f.severity == Severity::Info)
    }));
    assert!(fired(1, "no-webhook") && !fired(0, "no-webhook"));
    let no_webhook = diagnoses[1]
        .findings
        .iter()
        .find(|f| f.rule == "no-webhook");
    assert_eq!(no_webhook.map(|f| f.severity), Some(Severity::Warning));
    println!("ok: {} bundles on 4 threads", diagnoses.len());
    std::process::ExitCode::SUCCESS
}
