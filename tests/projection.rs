//! Parsing only what the rules read must not change any diagnosis: for every fixture, for
//! generated Plaid-shaped bundles, and for arbitrary documents, the diagnosis of the projected
//! bundle (explanation included) equals the diagnosis of the fully parsed one.

mod support;

use balance_doctor_engine::{Bundle, EvaluateOptions, RuleSet, RuleText, compile};
use proptest::prelude::*;
use serde_json::{Value, json};

fn same_diagnosis(rules: &RuleSet, text: &str) {
    let full = Bundle::from_json(text).expect("the full parser accepts it");
    let projected = rules
        .projection()
        .parse_bundle(text)
        .expect("the projected parser accepts what the full parser accepts");
    let as_of = full
        .as_of()
        .unwrap_or_else(|| "2026-11-20T12:00:00Z".parse().unwrap());
    let options = EvaluateOptions { explain: true };
    assert_eq!(
        rules.evaluate_with(&full, as_of, &options),
        rules.evaluate_with(&projected, as_of, &options),
        "{text}"
    );
}

fn bundle_text(dir: &std::path::Path) -> String {
    let bundle = balance_doctor::input::read_bundle(dir).unwrap();
    bundle.to_value().to_string()
}

#[test]
fn every_fixture_diagnoses_the_same_projected() {
    for dir in support::fixture_dirs() {
        same_diagnosis(support::default_rules(), &bundle_text(&dir));
    }
}

#[test]
fn generated_bundles_diagnose_the_same_projected() {
    let mut rng = balance_doctor::generate::Rng::new(7);
    for _ in 0..3_000 {
        let text = balance_doctor::generate::bundle(&mut rng).to_string();
        same_diagnosis(support::default_rules(), &text);
    }
}

#[test]
fn projection_drops_what_no_rule_reads() {
    let text = bundle_text(&support::root().join("fixtures/cached-read-from-transactions-sync"));
    let projected = support::default_rules()
        .projection()
        .parse_bundle(&text)
        .unwrap();
    let full = Bundle::from_json(&text).unwrap();
    assert!(full.documents()["transactions_sync"].get("added").is_some());
    assert!(
        projected.documents()["transactions_sync"]
            .get("added")
            .is_none()
    );
    assert_eq!(projected.documents().len(), full.documents().len());
}

/// A rule set that reads documents through every kind of reference.
const RULES: &str = r#"
sources:
  item: { first_of: ["a:$.item", "b:$.item"] }
  all_x: { all_of: ["a:$.list[*].x", "b:$..x"] }
labels:
  name: "item:$.name"
rules:
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
  - id: counted
    title: Counted
    severity: info
    when: { path: "all_x:$", count: { gte: 2 } }
    message: counted
"#;

fn json_values() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-3i64..3).prop_map(Value::from),
        prop_oneof![Just("x"), Just("y"), Just("id"), Just("")].prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 48, 5, |inner| {
        let keys = prop_oneof![
            Just("item".to_owned()),
            Just("name".to_owned()),
            Just("list".to_owned()),
            Just("x".to_owned()),
            Just("y".to_owned()),
            Just("id".to_owned()),
            Just("obj".to_owned()),
            Just("p".to_owned()),
            Just("q".to_owned()),
            Just("r".to_owned()),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_documents_diagnose_the_same_projected(a in json_values(), b in json_values(), c in json_values(), d in json_values()) {
        let rules = compile(&[RuleText { name: "projection.yaml", text: RULES }]).unwrap();
        let text = json!({"documents": {"a": a, "b": b, "c": c, "unread": d}}).to_string();
        same_diagnosis(&rules, &text);
    }

    #[test]
    fn projected_parsing_never_panics_and_agrees_on_rejection(text in "(?s).{0,200}") {
        let projected = support::default_rules().projection().parse_bundle(&text);
        let full = Bundle::from_json(&text);
        prop_assert_eq!(projected.is_ok(), full.is_ok(), "{}", text);
    }
}

#[test]
fn only_objects_are_bundles() {
    for text in ["[]", "null", "1", "\"x\"", "[{}]", "{}!", "{} {}"] {
        assert!(Bundle::from_json(text).is_err(), "{text}");
        assert!(
            support::default_rules()
                .projection()
                .parse_bundle(text)
                .is_err(),
            "{text}"
        );
    }
}
