//! Differential: any text as the value of a document whose objects and arrays the rules of
//! `fuzz/shown.yaml` only test for their kind or presence. The projected parse keeps them as
//! text and shows them (evidence, explanations) from the text, building only what is shown;
//! the full parse builds them whole and caps them. Both must accept or refuse alike and show
//! exactly the same: keys given twice, escapes, long texts, counts, `redact:` at any depth.
#![no_main]

use std::sync::OnceLock;

use balance_doctor_engine::{Bundle, EvaluateOptions, Projection, RuleSet, RuleText, compile};
use libfuzzer_sys::fuzz_target;

fn rules() -> &'static (RuleSet, Projection) {
    static RULES: OnceLock<(RuleSet, Projection)> = OnceLock::new();
    RULES.get_or_init(|| {
        let text = include_str!("../shown.yaml");
        let rules = compile(&[RuleText {
            name: "shown.yaml",
            text,
        }])
        .expect("the rules compile");
        let projection = rules.projection();
        (rules, projection)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    let text = format!(r#"{{"documents": {{"d": {value}}}}}"#);
    let (rules, projection) = rules();
    match (Bundle::from_json(&text), projection.parse_bundle(&text)) {
        (Ok(full), Ok(projected)) => {
            let as_of = jiff::Timestamp::UNIX_EPOCH;
            let options = EvaluateOptions { explain: true };
            assert_eq!(
                rules.evaluate_with(&full, as_of, &options),
                rules.evaluate_with(&projected, as_of, &options),
                "diagnosis: {text:?}"
            );
        }
        (Err(full), Err(projected)) => assert_eq!(full, projected, "message: {text:?}"),
        _ => panic!("projected vs full acceptance differ: {text:?}"),
    }
});
