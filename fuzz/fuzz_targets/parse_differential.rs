//! Differential: any text parsed whole (`Bundle::from_json`) and projected
//! (`Projection::parse_bundle`, building only what the rules read) must be accepted or refused
//! alike, and alike as serde reads a bundle; when accepted, both must give the same diagnosis,
//! explanation included, under the default pack and under a rule set that reads through every
//! kind of reference (sources, unions, filters walked directly and by jsonpath-rust, joins,
//! counts, type tests).
#![no_main]

use std::sync::OnceLock;

use balance_doctor_engine::{
    Bundle, BundleSpec, EvaluateOptions, Projection, RuleSet, RuleText, compile,
};
use libfuzzer_sys::fuzz_target;

const READER: &str = r#"
sources:
  item: { first_of: ["a:$.item", "b:$.item"] }
rules:
  - id: typed
    title: Typed
    severity: info
    when:
      all:
        - { path: "a:$.list", type: array }
        - { path: "b:$.obj", exists: true }
        - { path: "a:$.list[*]", type: object, quantifier: any }
    message: typed
  - id: unions
    title: Unions
    severity: info
    requires: [item]
    values: { whole: "c:$.obj" }
    when: { path: "a:$.obj['p','q'].r", exists: true }
    message: "{whole}"
  - id: filters
    title: Filters
    severity: info
    when: { path: "b:$.list[?@.x > 1].y", exists: true, as: y }
    message: "{y}"
  - id: walked-filters
    title: Filters walked directly
    severity: info
    when:
      any:
        - { path: "c:$.list[?@.x == 'y' || !(@.id != null) || @.n[0].m == 'y']", exists: true }
        - { path: "c:$[?@.name == 'x' && @.x != true].p", equals: 1, as: p }
    message: "walked {p}"
  - id: joined
    title: Joined
    severity: info
    when:
      join:
        left: "a:$.list[*]"
        right: "b:$.list[*]"
        on: $.id
        where: { compare: { left: "left:$.x", op: differs, right: "right:$.x" } }
    message: joined
"#;

fn rule_sets() -> &'static [(RuleSet, Projection)] {
    static SETS: OnceLock<Vec<(RuleSet, Projection)>> = OnceLock::new();
    SETS.get_or_init(|| {
        let pack = include_str!("../../rules/default.yaml");
        [("default.yaml", pack), ("reader.yaml", READER)]
            .into_iter()
            .map(|(name, text)| {
                let rules = compile(&[RuleText { name, text }]).expect("the rules compile");
                let projection = rules.projection();
                (rules, projection)
            })
            .collect()
    })
}

fn serde_accepts(text: &str) -> bool {
    text.trim_start().starts_with('{')
        // A bundle in the single-file form must have `documents`.
        && serde_json::from_str::<serde_json::Value>(text)
            .is_ok_and(|value| value.get("documents").is_some())
        && serde_json::from_str::<BundleSpec>(text).is_ok_and(|spec| Bundle::from_spec(spec).is_ok())
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let full = Bundle::from_json(text);
    assert_eq!(full.is_ok(), serde_accepts(text), "full parse vs serde: {text:?}");
    for (rules, projection) in rule_sets() {
        let projected = projection.parse_bundle(text);
        match (&full, &projected) {
            (Ok(full), Ok(projected)) => {
                let as_of = full.as_of().unwrap_or(jiff::Timestamp::UNIX_EPOCH);
                let options = EvaluateOptions { explain: true };
                assert_eq!(
                    rules.evaluate_with(full, as_of, &options),
                    rules.evaluate_with(projected, as_of, &options),
                    "diagnosis: {text:?}"
                );
            }
            (Err(full), Err(projected)) => assert_eq!(full, projected, "message: {text:?}"),
            _ => panic!("projected vs full acceptance differ: {text:?}"),
        }
    }
});
