//! Any bundle text must parse or be refused; any parsed bundle must evaluate under the default
//! pack, with and without an explanation, without panicking.
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

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(bundle) = Bundle::from_json(text) else { return };
    let as_of = bundle.as_of().unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let _ = rules().evaluate_with(&bundle, as_of, &EvaluateOptions { explain: true });
});
