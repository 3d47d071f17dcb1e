//! Parsing only what the rules read must not change any diagnosis: for every fixture, for
//! generated Plaid-shaped bundles, and for arbitrary documents, the diagnosis of the projected
//! bundle (explanation included) equals the diagnosis of the fully parsed one.

mod support;

use balance_doctor_engine::{Bundle, BundleSpec, EvaluateOptions, RuleSet, RuleText, compile};
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

/// A disabled rule is never evaluated, so what only it reads is not built, whether it is
/// switched off in its own text or by an override; the diagnosis, its explanation included,
/// is the full parse's, and what only a disabled rule reads is not reported as unread.
#[test]
fn projection_leaves_out_what_only_disabled_rules_read() {
    let text = r#"{"documents": {"a": {"x": 1, "y": {"z": 2}}, "b": {"x": 1}, "c": {"x": 1}},
        "context": {"k": 1}}"#;
    let rules = compile(&[RuleText {
        name: "disabled.yaml",
        text: r#"
overrides:
  reads-c: { enabled: false }
rules:
  - id: reads-a
    title: t
    severity: info
    confidence: low
    when: { path: "a:$.x", equals: 1 }
    message: m
  - id: reads-b
    title: t
    severity: info
    confidence: low
    enabled: false
    when: { all: [{ path: "b:$.x", equals: 1 }, { path: "context:$.k", exists: true }] }
    message: m
  - id: reads-c
    title: t
    severity: info
    confidence: low
    when: { path: "c:$.x", equals: 1 }
    message: m
"#,
    }])
    .unwrap();
    let projected = rules.projection().parse_bundle(text).unwrap();
    let documents = projected.documents();
    assert_eq!(
        documents["a"].get("x"),
        Some(&balance_doctor_engine::Doc::from(json!(1)))
    );
    assert!(documents["a"].get("y").is_none());
    assert!(documents["b"].is_null());
    assert!(documents["c"].is_null());
    same_diagnosis(&rules, text);
    // What a disabled rule reads still counts as read, as for `unread_documents`.
    let diagnosis = rules.evaluate(&projected, "2026-11-20T12:00:00Z".parse().unwrap());
    assert!(diagnosis.unread_documents.is_empty());
    assert!(diagnosis.unread_context_keys.is_empty());
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
  - id: walked-filters
    title: Filters walked directly, read as skeletons
    severity: info
    when:
      any:
        - { path: "e:$.list[?@.x == 'y' || !(@.id != null) || @.n[0].m == 'y']", exists: true }
        - { path: "e:$[?@.name == 'x' && @.x != true].p", equals: 1, as: p }
        - { path: "e:$.obj[?@ == 'id']", type: string }
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
  - id: unmatched
    title: Unmatched
    severity: info
    when:
      join: { left: "b:$.list[*]", right: "c:$..list[*]", on: $.id, unmatched: left }
      as: ids
    message: "{ids}"
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
            Just("n".to_owned()),
            Just("m".to_owned()),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A filter walked directly reads the members it compares, and the projection keeps them
/// (as skeletons) even when nothing else reads them: the filters find what they find in the
/// full parse, and the elements they select are shown whole.
#[test]
fn filters_read_the_members_they_compare() {
    let rules = compile(&[RuleText {
        name: "projection.yaml",
        text: RULES,
    }])
    .unwrap();
    for text in [
        r#"{"documents": {"e": {"list": [{"x": "y", "more": [1, {"r": 2}]}, {"x": "z"}]}}}"#,
        r#"{"documents": {"e": {"list": [{"id": null, "x": {"deep": "y"}}]}}}"#,
        r#"{"documents": {"e": {"item": {"name": "x", "x": false, "p": 1}}}}"#,
        r#"{"documents": {"e": {"list": [{"n": [{"m": "y"}], "x": "z"}]}}}"#,
        r#"{"documents": {"e": {"obj": {"q": "id"}}}}"#,
    ] {
        same_diagnosis(&rules, text);
        let bundle = rules.projection().parse_bundle(text).unwrap();
        let diagnosis = rules.evaluate(&bundle, "2026-11-20T12:00:00Z".parse().unwrap());
        assert!(
            diagnosis
                .findings
                .iter()
                .any(|f| f.rule == "walked-filters"),
            "{text}: {diagnosis:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_documents_diagnose_the_same_projected(a in json_values(), b in json_values(), c in json_values(), d in json_values(), e in json_values()) {
        let rules = compile(&[RuleText { name: "projection.yaml", text: RULES }]).unwrap();
        let text = json!({"documents": {"a": a, "b": b, "c": c, "e": e, "unread": d}}).to_string();
        same_diagnosis(&rules, &text);
    }

    #[test]
    fn projected_parsing_never_panics_and_agrees_on_rejection(text in "(?s).{0,200}") {
        let projected = support::default_rules().projection().parse_bundle(&text);
        let full = Bundle::from_json(&text);
        prop_assert_eq!(projected.is_ok(), full.is_ok(), "{}", text);
    }
}

/// serde's reading of a bundle: the reference the one scanner must agree with. A bundle in the
/// single-file form must have `documents` (the spec's default serves a directory's metadata).
fn serde_accepts(text: &str) -> bool {
    text.trim_start().starts_with('{')
        && serde_json::from_str::<serde_json::Value>(text)
            .is_ok_and(|value| value.get("documents").is_some())
        && serde_json::from_str::<BundleSpec>(text)
            .is_ok_and(|spec| Bundle::from_spec(spec).is_ok())
}

/// A projected parse, a full parse and serde accept and refuse the same texts, and accepted
/// texts diagnose the same projected and full.
fn same_acceptance(rules: &RuleSet, text: &str) {
    let projected = rules.projection().parse_bundle(text);
    let full = Bundle::from_json(text);
    assert_eq!(projected.is_ok(), full.is_ok(), "projected vs full: {text}");
    assert_eq!(full.is_ok(), serde_accepts(text), "full vs serde: {text}");
    match (&projected, &full) {
        (Ok(_), Ok(_)) => same_diagnosis(rules, text),
        (Err(projected), Err(full)) => assert_eq!(projected, full, "messages: {text}"),
        _ => {}
    }
}

#[test]
fn what_no_rule_reads_is_checked_as_strictly_as_what_rules_read() {
    let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
    let parts = [
        "[]".to_owned(),
        "[null,null,{},{}]".to_owned(),
        "1e400".to_owned(),
        "-1e400".to_owned(),
        "1e-400".to_owned(),
        format!("1{}", "0".repeat(400)),
        r#""\ud800""#.to_owned(),
        r#""\udc00x""#.to_owned(),
        r#""\ud800\udc00""#.to_owned(),
        r#"{"a":"\u0000\/"}"#.to_owned(),
        "\"\u{1}\"".to_owned(),
        "01".to_owned(),
        "[1,]".to_owned(),
        deep(124),
        deep(125),
        deep(126),
        deep(200),
    ];
    let rules = support::default_rules();
    for whole in [
        "[]",
        "[null,null,{},{}]",
        "{}",
        "null",
        "{\"documents\":null}",
    ] {
        same_acceptance(rules, whole);
    }
    for part in &parts {
        for (document, at) in [
            ("unread_doc", "$"),
            ("item_get", "item"),
            ("item_get", "other"),
        ] {
            let body = if at == "$" {
                part.clone()
            } else {
                format!(r#"{{"{at}": {part}, "request_id": "r"}}"#)
            };
            same_acceptance(
                rules,
                &format!(r#"{{"documents": {{"{document}": {body}}}}}"#),
            );
            same_acceptance(
                rules,
                &format!(
                    r#"{{"documents": {{"accounts_get": {{"accounts": []}}, "{document}": {body}}}}}"#
                ),
            );
        }
        same_acceptance(
            rules,
            &format!(r#"{{"context": {{"x": {part}}}, "documents": {{}}}}"#),
        );
        same_acceptance(rules, &format!(r#"{{"as_of": {part}, "documents": {{}}}}"#));
    }
}

/// A member whose key is written with escapes is read as the text of its key: the projected
/// parse finds the members the rules read by that text, and keeps the last of a key given twice.
#[test]
fn keys_with_escapes_are_read_as_their_text() {
    let rules = compile(&[RuleText {
        name: "rules.yaml",
        text: RULES,
    }])
    .unwrap();
    for obj in [
        r#"{"p": {"r": 1}}"#,
        r#"{"\u0070": {"r": 1}}"#,
        r#"{"p": {"\u0072": 1}, "q": {"\/": 2}}"#,
        r#"{"\u0070": {"r": 1}, "p": {"s": 1}}"#,
        r#"{"p": {"s": 1}, "\u0070": {"r": 1}}"#,
        r#"{"\u0070\u0071": {"r": 1}, "q\n": {"r": 1}}"#,
    ] {
        let text = format!(
            r#"{{"documents": {{"a": {{"item": {{"name": "n"}}, "obj": {obj}}}, "c": {{"\u006fbj": {obj}}}}}}}"#
        );
        same_acceptance(&rules, &text);
    }
}

/// Text made of JSON tokens, often almost a bundle.
fn bundle_like_text() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just(",".to_owned()),
        Just(":".to_owned()),
        Just(" ".to_owned()),
        Just("\"documents\"".to_owned()),
        Just("\"item_get\"".to_owned()),
        Just("\"item\"".to_owned()),
        Just("\"error\"".to_owned()),
        Just("\"unread\"".to_owned()),
        Just("\"as_of\"".to_owned()),
        Just("\"context\"".to_owned()),
        Just("\"2026-11-20T12:00:00Z\"".to_owned()),
        Just("\"\\ud800\"".to_owned()),
        Just("\"\\u00e9\\n\"".to_owned()),
        Just("1e400".to_owned()),
        Just("-0.5e3".to_owned()),
        Just("12".to_owned()),
        Just("01".to_owned()),
        Just("null".to_owned()),
        Just("true".to_owned()),
    ];
    prop::collection::vec(token, 0..40).prop_map(|tokens| tokens.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn projected_full_and_serde_agree_on_every_text(body in bundle_like_text(), unread in bundle_like_text()) {
        let rules = support::default_rules();
        same_acceptance(rules, &body);
        same_acceptance(rules, &format!(r#"{{"documents": {{"item_get": {body}}}}}"#));
        same_acceptance(rules, &format!(r#"{{"documents": {{"item_get": {{"item": {body}}}, "unread": {unread}}}}}"#));
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

/// Every case the differential fuzz target found (and the issue-9 cases it guards), replayed
/// by stable `cargo test`: `fuzz/regressions/parse_differential/`.
#[test]
fn fuzz_regressions_replay() {
    let dir = support::root().join("fuzz/regressions/parse_differential");
    let reader = compile(&[RuleText {
        name: "projection.yaml",
        text: RULES,
    }])
    .unwrap();
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Ok(text) = String::from_utf8(std::fs::read(&path).unwrap()) else {
            continue;
        };
        same_acceptance(support::default_rules(), &text);
        same_acceptance(&reader, &text);
        replayed += 1;
    }
    assert!(replayed >= 7, "{replayed} cases in {}", dir.display());
}

/// The rules of the `shown_differential` fuzz target: objects and arrays of document `d`
/// tested only for their kind or presence, kept as text by the projected parse and shown
/// from it (redacted and cut while read), never built whole.
fn shown_rules() -> RuleSet {
    let text = std::fs::read_to_string(support::root().join("fuzz/shown.yaml")).unwrap();
    compile(&[RuleText {
        name: "shown.yaml",
        text: &text,
    }])
    .unwrap()
}

/// A projected parse shows kept text exactly as a full parse shows the built value, for the
/// fuzz target's seeds and everything it found.
#[test]
fn kept_text_is_shown_as_the_whole_value() {
    let rules = shown_rules();
    let mut replayed = 0;
    for dir in ["seeds", "regressions"] {
        let dir = support::root()
            .join("fuzz")
            .join(dir)
            .join("shown_differential");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let Ok(value) = String::from_utf8(std::fs::read(entry.unwrap().path()).unwrap()) else {
                continue;
            };
            same_acceptance(&rules, &format!(r#"{{"documents": {{"d": {value}}}}}"#));
            replayed += 1;
        }
    }
    assert!(replayed >= 7, "{replayed} cases");
}

/// JSON text with keys given twice (also through an escape), keys `redact:` lists, and
/// objects and arrays longer than what is shown.
fn text_with_repeated_keys() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("1".to_owned()),
        Just("-2.5e3".to_owned()),
        Just("\"s\"".to_owned()),
        Just("\"\\u00e9\\n\"".to_owned()),
        (498usize..503).prop_map(|n| format!("\"{}\"", "é".repeat(n))),
    ];
    leaf.prop_recursive(5, 100, 14, |inner| {
        let key = prop::sample::select(vec![
            "a",
            "b",
            "c",
            "d",
            "e",
            "f",
            "g",
            "h",
            "i",
            "j",
            "k",
            "x",
            "secret",
            "...",
            "",
            "\\u0061",
            "s\\u0065cret",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..14)
                .prop_map(|items| format!("[{}]", items.join(", "))),
            prop::collection::vec((key, inner), 0..15).prop_map(|members| {
                let members: Vec<String> = members
                    .into_iter()
                    .map(|(key, value)| format!("\"{key}\": {value}"))
                    .collect();
                format!("{{{}}}", members.join(", "))
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn kept_text_with_repeated_keys_is_shown_as_the_whole_value(value in text_with_repeated_keys()) {
        let text = format!(r#"{{"documents": {{"d": {value}}}}}"#);
        prop_assert!(Bundle::from_json(&text).is_ok(), "{}", text);
        same_diagnosis(&shown_rules(), &text);
    }
}
