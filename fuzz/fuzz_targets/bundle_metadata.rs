//! Any text as a bundle directory's metadata (`bundle.yaml`, and the same bytes as
//! `bundle.json`) must be read or refused with an error, never panic, and never take more
//! than the YAML alias budget allows; a bundle that is read must evaluate under the default
//! pack, with an explanation, without panicking.
#![no_main]

use std::sync::OnceLock;

use balance_doctor_engine::{Bundle, EvaluateOptions, RuleSet, RuleText, compile};
use libfuzzer_sys::fuzz_target;

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| {
        let text = include_str!("../../rules/default.yaml");
        compile(&[RuleText { name: "default.yaml", text }]).expect("the default pack compiles")
    })
}

/// A small document beside the metadata, so that a metadata file that is read gives a bundle.
const ITEM_GET: &str = r#"{"item": {"item_id": "i", "webhook": null, "error": null,
  "products": ["transactions"], "billed_products": ["transactions"]},
  "status": {"transactions": {"last_successful_update": "2026-11-18T07:00:00Z"}}}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for metadata in ["bundle.yaml", "bundle.json"] {
        let names = [metadata, "item_get.json"];
        let read = |name: &str| match name {
            "item_get.json" => Ok(ITEM_GET.to_owned()),
            _ => Ok(text.to_owned()),
        };
        let Ok(bundle) = Bundle::from_dir(names, read) else { continue };
        let as_of = bundle.as_of().unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let _ = rules().evaluate_with(&bundle, as_of, &EvaluateOptions { explain: true });
    }
});
