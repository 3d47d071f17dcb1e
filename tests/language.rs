//! Small, inline checks of rule-language features that no default rule needs to prove:
//! captures, `later_than`, `type`, large joins, the evidence cap, unread documents.

use balance_doctor_engine::{Bundle, Diagnosis, RuleText, compile};
use serde_json::json;

fn diagnose(rules: &str, bundle: serde_json::Value) -> Diagnosis {
    let rule_set = compile(&[RuleText {
        name: "inline.yaml",
        text: rules,
    }])
    .unwrap_or_else(|e| panic!("{e}"));
    let bundle = Bundle::from_json(&bundle.to_string()).unwrap();
    rule_set.evaluate(&bundle, "2026-11-20T12:00:00Z".parse().unwrap())
}

#[test]
fn a_capture_shows_only_the_values_that_passed() {
    let rules = r#"
sources:
  codes: { all_of: ["a:$.error_code", "b:$.error_code", "c:$.error_code"] }
rules:
  - id: login
    title: Login
    severity: error
    when: { path: "codes:$", one_of: [ITEM_LOGIN_REQUIRED], as: code }
    message: "codes {code}"
"#;
    let diagnosis = diagnose(
        rules,
        json!({"documents": {"a": {"error_code": "INSTITUTION_DOWN"}, "b": {"error_code": "ITEM_LOGIN_REQUIRED"}, "c": {"error_code": "ITEM_LOGIN_REQUIRED"}}}),
    );
    let finding = &diagnosis.findings[0];
    assert_eq!(finding.message, "codes ITEM_LOGIN_REQUIRED");
    let documents: Vec<&str> = finding
        .evidence
        .iter()
        .map(|e| e.document.as_str())
        .collect();
    assert_eq!(documents, ["b", "c"]);
}

#[test]
fn later_than_and_type() {
    let rules = r#"
rules:
  - id: far
    title: Far
    severity: info
    when: { path: "d:$.at", later_than: 7d }
    message: far
  - id: listed
    title: Listed
    severity: info
    when: { path: "d:$.hooks", type: array }
    message: listed
"#;
    let fired = |bundle| -> Vec<String> {
        diagnose(rules, bundle)
            .findings
            .into_iter()
            .map(|f| f.rule)
            .collect()
    };
    assert_eq!(
        fired(json!({"documents": {"d": {"at": "2026-12-01T00:00:00Z", "hooks": []}}})),
        ["far", "listed"]
    );
    assert!(
        fired(json!({"documents": {"d": {"at": "2026-11-25T00:00:00Z", "hooks": {}}}})).is_empty()
    );
}

#[test]
fn a_join_of_many_accounts_is_linear_and_its_evidence_is_capped() {
    let rules = r#"
rules:
  - id: differs
    title: Differs
    severity: warning
    when:
      join:
        left: "a:$.accounts[*]"
        right: "b:$.accounts[*]"
        on: $.id
        where: { compare: { left: "left:$.v", op: differs, right: "right:$.v" } }
    message: differs
"#;
    let count = 20_000;
    let left: Vec<_> = (0..count).map(|i| json!({"id": i, "v": i})).collect();
    let right: Vec<_> = (0..count)
        .rev()
        .map(|i| json!({"id": i as f64, "v": i + 1}))
        .collect();
    let start = std::time::Instant::now();
    let diagnosis = diagnose(
        rules,
        json!({"documents": {"a": {"accounts": left}, "b": {"accounts": right}}}),
    );
    let finding = &diagnosis.findings[0];
    assert_eq!(finding.evidence.len(), 50);
    // Each pair gives 4 pieces (two keys, two values).
    assert_eq!(finding.omitted_evidence, 4 * count - 50);
    // Quadratic pairing would take minutes here; this is a sanity bound, not a benchmark.
    assert!(start.elapsed().as_secs() < 30);
}

#[test]
fn documents_no_rule_reads_are_reported_with_a_suggestion() {
    let rules = r#"
rules:
  - id: has-item
    title: Has item
    severity: info
    requires: [item_get]
    when: { path: "item_get:$.item", exists: true }
    message: item
"#;
    let diagnosis = diagnose(
        rules,
        json!({"documents": {"Item_Get": {"item": {}}, "notes": {}}}),
    );
    let unread: Vec<(String, Option<String>)> = diagnosis
        .unread_documents
        .iter()
        .map(|d| (d.name.clone(), d.did_you_mean.clone()))
        .collect();
    assert_eq!(
        unread,
        [
            ("Item_Get".to_owned(), Some("item_get".to_owned())),
            ("notes".to_owned(), None)
        ]
    );
    assert_eq!(diagnosis.not_evaluated[0].rule, "has-item");
}

#[test]
fn captures_in_failed_branches_are_forgotten_even_when_explaining() {
    let rules = r#"
rules:
  - id: captured
    title: Captured
    severity: info
    when:
      any:
        - all:
            - { path: "d:$.a", exists: true, as: seen }
            - { path: "d:$.missing", exists: true }
        - not: { path: "d:$.b", exists: true, as: seen }
        - { path: "d:$.c", exists: true, as: seen }
    message: "seen {seen}"
"#;
    let rule_set = compile(&[RuleText {
        name: "inline.yaml",
        text: rules,
    }])
    .unwrap();
    let bundle =
        Bundle::from_json(&json!({"documents": {"d": {"a": "A", "c": "C"}}}).to_string()).unwrap();
    let as_of = "2026-11-20T12:00:00Z".parse().unwrap();
    for explain in [false, true] {
        let options = balance_doctor_engine::EvaluateOptions { explain };
        let diagnosis = rule_set.evaluate_with(&bundle, as_of, &options);
        assert_eq!(
            diagnosis.findings[0].message, "seen C",
            "explain: {explain}"
        );
    }
}

#[test]
fn captures_hold_only_passing_values_and_failed_joins_capture_nothing() {
    let rules = r#"
rules:
  - id: none-quantifier
    title: None
    severity: info
    when: { path: "d:$.codes[*]", equals: Z, quantifier: none, as: c }
    message: "c={c|or:none}"
  - id: missing
    title: Missing
    severity: info
    when: { path: "d:$.gone", missing: true, as: m }
    message: "m={m|or:none}"
  - id: failed-join
    title: Failed join
    severity: info
    when:
      any:
        - join:
            left: "d:$.l[*]"
            right: "d:$.r[*]"
            on: $.id
            quantifier: all
            where: { path: "left:$.v", equals: 1, as: j }
        - { path: "d:$.num", equals: 3 }
    message: "j={j|or:none}"
  - id: empties
    title: Empties
    severity: info
    values: { mm: "d:$.mixed[*]" }
    when: { path: "d:$.num", equals: 3 }
    message: "mm={mm}"
"#;
    let bundle = json!({"documents": {"d": {
        "codes": ["A", "B"], "gone": null, "num": 3, "mixed": [[], "x", ""],
        "l": [{"id": 1, "v": 1}, {"id": 2, "v": 2}], "r": [{"id": 1}, {"id": 2}]
    }}});
    let messages: Vec<String> = diagnose(rules, bundle)
        .findings
        .into_iter()
        .map(|f| f.message)
        .collect();
    assert_eq!(messages, ["c=none", "m=none", "j=none", "mm=x"]);
}

#[test]
fn first_present_of_stops_at_the_first_present_path_and_pick_keeps_the_last() {
    let rules = r#"
sources:
  state:
    first_present_of: ["item_get:$.item.error", "body:$", "latest_hook:$.error"]
  latest_hook:
    all_of: ["webhooks:$[?@.webhook_type == 'ITEM']"]
    pick: last
rules:
  - id: broken
    title: Broken
    severity: error
    when: { path: "state:$.error_code", exists: true, as: code }
    message: "code {code}"
"#;
    let fired = |bundle: serde_json::Value| {
        diagnose(rules, bundle)
            .findings
            .first()
            .map(|f| f.message.clone())
    };
    // A normal /item/get is the authority even when its error is null: the body's code is not
    // the Item's state.
    let healthy = json!({"item": {"error": null}});
    let body = json!({"error_code": "RATE_LIMIT_EXCEEDED"});
    assert_eq!(
        fired(json!({"documents": {"item_get": healthy, "body": body}})),
        None
    );
    // A failed /item/get (an error body, no `item`) says nothing: the next candidate speaks.
    let failed = json!({"error_code": "INTERNAL_SERVER_ERROR"});
    assert_eq!(
        fired(json!({"documents": {"item_get": failed, "body": body}})).as_deref(),
        Some("code RATE_LIMIT_EXCEEDED")
    );
    // Without /item/get, the next present candidate speaks.
    assert_eq!(
        fired(json!({"documents": {"body": body}})).as_deref(),
        Some("code RATE_LIMIT_EXCEEDED")
    );
    // With neither, the last ITEM webhook speaks: an error, then a repair, is a repair.
    let error = json!({"webhook_type": "ITEM", "webhook_code": "ERROR", "error": {"error_code": "ITEM_LOGIN_REQUIRED"}});
    let repaired = json!({"webhook_type": "ITEM", "webhook_code": "LOGIN_REPAIRED", "error": null});
    assert_eq!(
        fired(json!({"documents": {"webhooks": [error, repaired]}})),
        None
    );
    assert_eq!(
        fired(json!({"documents": {"webhooks": [repaired, error]}})).as_deref(),
        Some("code ITEM_LOGIN_REQUIRED")
    );
}

#[test]
fn a_rule_that_fires_makes_the_rules_it_supersedes_stand_down() {
    let rules = r#"
rules:
  - id: general
    title: General
    severity: error
    when: { path: "body:$.error_code", exists: true }
    message: general
  - id: specific
    title: Specific
    severity: warning
    supersedes: [general]
    when: { path: "body:$.error_code", equals: RATE_LIMIT_EXCEEDED }
    message: specific
  - id: after
    title: After
    severity: info
    when: { fired: general }
    message: after
"#;
    let ids = |code: &str| {
        diagnose(rules, json!({"documents": {"body": {"error_code": code}}}))
            .findings
            .iter()
            .map(|f| f.rule.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids("RATE_LIMIT_EXCEEDED"), ["specific"]);
    assert_eq!(ids("ITEM_LOCKED"), ["general", "after"]);
    let rule_set = compile(&[RuleText {
        name: "inline.yaml",
        text: rules,
    }])
    .unwrap();
    let bundle = Bundle::from_json(
        &json!({"documents": {"body": {"error_code": "RATE_LIMIT_EXCEEDED"}}}).to_string(),
    )
    .unwrap();
    let explained = rule_set.evaluate_with(
        &bundle,
        "2026-11-20T12:00:00Z".parse().unwrap(),
        &balance_doctor_engine::EvaluateOptions { explain: true },
    );
    let general = explained
        .explain
        .unwrap()
        .into_iter()
        .find(|t| t.rule == "general")
        .unwrap();
    assert_eq!(general.superseded_by.as_deref(), Some("specific"));
}

/// A rule that stands down still holds down what it supersedes when it holds, as it would
/// if it had fired; when it does not hold, what it supersedes fires as usual.
#[test]
fn a_rule_that_stands_down_still_holds_down_what_it_supersedes() {
    let rules = r#"
rules:
  - id: catch-all
    title: Catch-all
    severity: error
    when: { path: "body:$.error_code", exists: true }
    message: catch-all
  - id: cause
    title: Cause
    severity: info
    supersedes: [catch-all]
    when: { path: "body:$.recent", equals: true }
    message: cause
  - id: doubt
    title: Doubt
    severity: warning
    supersedes: [cause]
    when: { path: "body:$.doubt", equals: true }
    message: doubt
  - id: direct
    title: Direct
    severity: info
    supersedes: [catch-all]
    when: { path: "body:$.direct", equals: true }
    message: direct
"#;
    let diagnosis = |body: serde_json::Value, explain: bool| {
        let rule_set = compile(&[RuleText {
            name: "inline.yaml",
            text: rules,
        }])
        .unwrap();
        let bundle = Bundle::from_json(&json!({"documents": {"body": body}}).to_string()).unwrap();
        rule_set.evaluate_with(
            &bundle,
            "2026-11-20T12:00:00Z".parse().unwrap(),
            &balance_doctor_engine::EvaluateOptions { explain },
        )
    };
    let ids = |body: serde_json::Value| {
        diagnosis(body, false)
            .findings
            .iter()
            .map(|f| f.rule.clone())
            .collect::<Vec<_>>()
    };
    let code = "INSTITUTION_DOWN";
    // `doubt` stands `cause` down; `cause` holds, so `catch-all` stays down too.
    assert_eq!(
        ids(json!({"error_code": code, "recent": true, "doubt": true})),
        ["doubt"]
    );
    // `cause` does not hold: nothing explains the error, and the catch-all speaks.
    assert_eq!(
        ids(json!({"error_code": code, "recent": false, "doubt": true})),
        ["catch-all", "doubt"]
    );
    assert_eq!(ids(json!({"error_code": code, "recent": true})), ["cause"]);
    // The explanation names who stood each rule down; explaining changes nothing else.
    let body = json!({"error_code": code, "recent": true, "doubt": true});
    let explained = diagnosis(body.clone(), true);
    assert_eq!(explained.findings, diagnosis(body, false).findings);
    fn trace<'d>(
        diagnosis: &'d balance_doctor_engine::Diagnosis,
        rule: &str,
    ) -> &'d balance_doctor_engine::RuleTrace {
        let traces = diagnosis.explain.as_ref().unwrap();
        traces.iter().find(|t| t.rule == rule).unwrap()
    }
    assert_eq!(
        trace(&explained, "cause").superseded_by.as_deref(),
        Some("doubt")
    );
    assert_eq!(
        trace(&explained, "catch-all").superseded_by.as_deref(),
        Some("cause")
    );
    // The held rule's trace shows the condition that holds.
    let cause = trace(&explained, "cause");
    assert!(cause.condition.as_ref().is_some_and(|c| c.result));
    // A rule that fired is named before one that only holds.
    let body = json!({"error_code": code, "recent": true, "doubt": true, "direct": true});
    let explained = diagnosis(body, true);
    assert_eq!(
        trace(&explained, "catch-all").superseded_by.as_deref(),
        Some("direct")
    );
}

#[test]
fn supersedes_names_are_checked() {
    let text = r#"
rules:
  - id: one
    title: One
    severity: info
    supersedes: [tow, one]
    when: { path: "a:$", exists: true }
    message: one
  - id: two
    title: Two
    severity: info
    supersedes: [one]
    when: { path: "a:$", exists: true }
    message: two
"#;
    let error = compile(&[RuleText {
        name: "inline.yaml",
        text,
    }])
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("unknown rule `tow`: did you mean `two`?"),
        "{error}"
    );
    assert!(error.contains("cannot supersede itself"), "{error}");
}

/// `margin`: the left time must lie more than it before (after) the right one; exactly the
/// margin apart is not enough, and a parameter can give it.
#[test]
fn a_time_comparison_margin_asks_for_more_than_the_margin() {
    let rules = r#"
params:
  skew: 5m
rules:
  - id: before
    title: Before
    severity: warning
    when:
      compare: { left: "a:$.at", op: before, right: "b:$.at", margin: $skew }
    message: before
  - id: after
    title: After
    severity: warning
    when:
      compare: { left: "a:$.at", op: after, right: "b:$.at", margin: 90s }
    message: after
"#;
    let fired = |a: &str, b: &str| -> Vec<String> {
        diagnose(
            rules,
            json!({"documents": {"a": {"at": a}, "b": {"at": b}}}),
        )
        .findings
        .iter()
        .map(|finding| finding.rule.clone())
        .collect()
    };
    let noon = "2026-12-01T12:00:00Z";
    assert_eq!(fired("2026-12-01T11:54:59Z", noon), ["before"]);
    assert!(fired("2026-12-01T11:55:00Z", noon).is_empty());
    assert!(fired("2026-12-01T11:58:30Z", noon).is_empty());
    assert!(fired("2026-12-01T12:01:30Z", noon).is_empty());
    assert_eq!(fired("2026-12-01T12:01:31Z", noon), ["after"]);
    // The same instant in another offset: 13:01:31+01:00 is 12:01:31Z.
    assert_eq!(fired("2026-12-01T13:01:31+01:00", noon), ["after"]);
}

#[test]
fn money_differences_are_exact() {
    let rules = r#"
rules:
  - id: differs
    title: Differs
    severity: warning
    when:
      compare: { left: "a:$.current", op: differs, right: "b:$.current", tolerance: 0.01 }
    message: differs
"#;
    let fires = |a: f64, b: f64| {
        !diagnose(
            rules,
            json!({"documents": {"a": {"current": a}, "b": {"current": b}}}),
        )
        .findings
        .is_empty()
    };
    assert!(!fires(110.00, 110.01));
    assert!(!fires(110.01, 110.00));
    assert!(fires(110.00, 110.02));
    assert!(!fires(0.1 + 0.2, 0.3));
}

/// What a source holds: the values of the candidates its mode reads that are not null, in
/// candidate order, then the one `pick` keeps; absent only when none of its documents is.
#[test]
fn sources_keep_non_null_values_in_candidate_order_and_pick_one() {
    let rules = r#"
sources:
  first: { first_of: ["a:$.v[*]", "b:$.v[*]", "c:$.v[*]"] }
  every: { all_of: ["a:$.v[*]", "b:$.v[*]", "c:$.v[*]"] }
  present: { first_present_of: ["a:$.v[*]", "b:$.v[*]", "c:$.v[*]"] }
  earliest: { all_of: ["a:$.v[*]", "b:$.v[*]", "c:$.v[*]"], pick: first }
  latest: { all_of: ["a:$.v[*]", "b:$.v[*]", "c:$.v[*]"], pick: last }
  latest_of_one: { first_of: ["a:$.v[*]"], pick: last }
rules:
  - id: shown
    title: Shown
    severity: info
    when: { path: "a:$", exists: true, if_absent: true }
    values:
      first: first:$
      every: every:$
      present: present:$
      earliest: earliest:$
      latest: latest:$
      latest_of_one: latest_of_one:$
    message: "first {first|or:-}; every {every|or:-}; present {present|or:-}; earliest {earliest|or:-}; latest {latest|or:-}; latest_of_one {latest_of_one|or:-}"
"#;
    let message = |documents: serde_json::Value| {
        let diagnosis = diagnose(rules, json!({ "documents": documents }));
        diagnosis.findings[0].message.clone()
    };
    assert_eq!(
        message(json!({"a": {"v": [null, null]}, "b": {"v": [null, 1, null, 2]}, "c": {"v": [3]}})),
        "first 1, 2; every 1, 2, 3; present -; earliest 1; latest 3; latest_of_one -"
    );
    assert_eq!(
        message(json!({"a": {"v": [4, null, 5]}, "c": {"v": [null]}})),
        "first 4, 5; every 4, 5; present 4, 5; earliest 4; latest 5; latest_of_one 5"
    );
    assert_eq!(
        message(json!({"a": {"v": []}, "b": {"v": [6]}})),
        "first 6; every 6; present 6; earliest 6; latest 6; latest_of_one -"
    );
    assert_eq!(
        message(json!({"c": {"v": [null, 7, 8]}})),
        "first 7, 8; every 7, 8; present 7, 8; earliest 7; latest 8; latest_of_one -"
    );
}

/// `left:` and `right:` read the pair being tested: each pair its own values, however often
/// (and through however many named conditions) its `where` reads them.
#[test]
fn join_pairs_read_their_own_values_however_often_read() {
    let rules = r#"
conditions:
  left_is_known: { path: "left:$.v", one_of: [one, two, three] }
rules:
  - id: pairs
    title: Pairs
    severity: warning
    when:
      join:
        left: "a:$.items[*]"
        right: "b:$.items[*]"
        on: $.id
        quantifier: all
        where:
          all:
            - { path: "left:$.v", one_of: [one, two, three], as: first }
            - { condition: left_is_known }
            - { compare: { left: "right:$.w", op: equals, right: "left:$.w" } }
            - { path: "left:$.v", exists: true, as: again }
            - { path: "right:$.w", exists: true, as: weight }
    message: "first {first}; again {again}; weight {weight}"
"#;
    let bundle = |third_weight: u32| {
        json!({"documents": {
            "a": {"items": [{"id": 1, "v": "one", "w": 1}, {"id": 2, "v": "two", "w": 2}, {"id": 3, "v": "three", "w": 3}]},
            "b": {"items": [{"id": 3, "w": third_weight}, {"id": 2, "w": 2}, {"id": 1, "w": 1}]},
        }})
    };
    let diagnosis = diagnose(rules, bundle(3));
    assert_eq!(
        diagnosis.findings[0].message,
        "first one, two, three; again one, two, three; weight 1, 2, 3"
    );
    // One pair's weights differ: with `quantifier: all`, the rule stays silent.
    assert!(diagnose(rules, bundle(4)).findings.is_empty());
}

#[test]
fn a_list_parameter_inside_a_list_contributes_its_elements() {
    let rules = r#"
params:
  known: [A, B]
  extra: C
rules:
  - id: unknown
    title: Unknown
    severity: info
    params:
      more: [D]
    when: { path: "d:$.codes[*]", none_of: [$known, $extra, $more, E], as: code }
    message: "unknown {code}"
  - id: known
    title: Known
    severity: info
    when: { path: "d:$.codes[*]", one_of: [$known], quantifier: all }
    message: known
"#;
    let fired = |codes: serde_json::Value| -> Vec<String> {
        diagnose(rules, json!({"documents": {"d": {"codes": codes}}}))
            .findings
            .iter()
            .map(|f| f.message.clone())
            .collect()
    };
    assert_eq!(fired(json!(["A", "B"])), ["known"]);
    assert_eq!(fired(json!(["A", "C", "D", "E"])), Vec::<String>::new());
    assert_eq!(fired(json!(["B", "F"])), ["unknown F"]);
    // Spliced, not nested: a list value equal to the parameter's list is not one of its elements.
    assert_eq!(fired(json!([["A", "B"]])), ["unknown A, B"]);
}

#[test]
fn every_unknown_parameter_in_a_list_is_reported() {
    let rules = r#"
params:
  known: [A]
rules:
  - id: r
    title: R
    severity: info
    when: { path: "d:$.code", one_of: [$knwn, B, $other] }
    message: m
"#;
    let error = compile(&[RuleText {
        name: "inline.yaml",
        text: rules,
    }])
    .expect_err("unknown parameters are errors")
    .to_string();
    assert!(
        error.contains("unknown parameter `$knwn`: did you mean `$known`?"),
        "{error}"
    );
    assert!(error.contains("unknown parameter `$other`"), "{error}");
}

#[test]
fn context_keys_no_rule_reads_are_listed_with_the_closest_key_read() {
    let rules = r#"
sources:
  read_at: { first_of: ["context:$.read_at"] }
rules:
  - id: source
    title: Source
    severity: info
    when: { path: "context:$.balance_source", exists: true }
    message: source
  - id: read
    title: Read
    severity: info
    when: { path: "read_at:$", exists: true }
    message: read
"#;
    let unread = |context: serde_json::Value| -> Vec<(String, Option<String>)> {
        diagnose(rules, json!({"context": context, "documents": {}}))
            .unread_context_keys
            .into_iter()
            .map(|key| (key.name, key.did_you_mean))
            .collect()
    };
    // Keys read directly and through a source are read; null values are keys too.
    assert_eq!(unread(json!({"balance_source": "a", "read_at": null})), []);
    assert_eq!(
        unread(json!({"balance_sorce": "a", "ticket": 7, "read_at": "x"})),
        [
            (
                "balance_sorce".to_owned(),
                Some("balance_source".to_owned())
            ),
            ("ticket".to_owned(), None)
        ]
    );
    assert_eq!(unread(json!(null)), []);
}

#[test]
fn no_context_key_is_unread_when_a_rule_can_read_any() {
    for path in ["context:$", "context:$[*]", "context:$..x"] {
        let rules = format!(
            r#"
rules:
  - id: any
    title: Any
    severity: info
    values: {{ all: "{path}" }}
    when: {{ path: "context:$.known", exists: true }}
    message: "{{all}}"
"#
        );
        let diagnosis = diagnose(&rules, json!({"context": {"other": 1}, "documents": {}}));
        assert_eq!(diagnosis.unread_context_keys, [], "{path}");
    }
}

#[test]
fn an_unmatched_join_passes_for_the_elements_without_a_partner_and_captures_their_keys() {
    let rules = r#"
rules:
  - id: left-alone
    title: Left alone
    severity: info
    when:
      join: { left: "d:$.l[*]", right: "e:$.r[*]", on: $.id, unmatched: left }
      as: ids
    message: "ids {ids}"
  - id: right-alone
    title: Right alone
    severity: info
    when:
      join: { left: "d:$.l[*]", right: "e:$.r[*]", on: $.id, unmatched: right }
      as: ids
    message: "ids {ids}"
  - id: every-left-has-a-partner
    title: Every left has a partner
    severity: info
    when:
      join: { left: "d:$.l[*]", right: "e:$.r[*]", on: $.id, unmatched: left, quantifier: none }
    message: paired
"#;
    let run = |bundle: serde_json::Value| -> Vec<(String, String, Vec<String>)> {
        diagnose(rules, bundle)
            .findings
            .into_iter()
            .map(|f| {
                let evidence = f
                    .evidence
                    .iter()
                    .map(|e| format!("{} {} = {}", e.document, e.path, e.value))
                    .collect();
                (f.rule, f.message, evidence)
            })
            .collect()
    };
    // Keys 1 and 3 have no partner on the right (2 has; the keyless element is skipped, and
    // numbers match by value); 4 has none on the left.
    let found = run(json!({"documents": {
        "d": {"l": [{"id": 1}, {"id": 2}, {"other": 9}, {"id": 3}]},
        "e": {"r": [{"id": 2.0}, {"id": 4}]}
    }}));
    assert_eq!(
        found,
        [
            (
                "left-alone".to_owned(),
                "ids 1, 3".to_owned(),
                vec![
                    "d $['l'][0]['id'] = 1".to_owned(),
                    "d $['l'][3]['id'] = 3".to_owned()
                ]
            ),
            (
                "right-alone".to_owned(),
                "ids 4".to_owned(),
                vec!["e $['r'][1]['id'] = 4".to_owned()]
            ),
        ]
    );
    // Every element paired: only the `quantifier: none` rule fires, with no evidence.
    let found = run(json!({"documents": {
        "d": {"l": [{"id": "a"}]}, "e": {"r": [{"id": "a"}]}
    }}));
    assert_eq!(
        found,
        [(
            "every-left-has-a-partner".to_owned(),
            "paired".to_owned(),
            vec![]
        )]
    );
    // An absent right side leaves every left element without a partner.
    let found = run(json!({"documents": {"d": {"l": [{"id": "a"}]}}}));
    assert_eq!(found[0].1, "ids a");
    assert_eq!(found.len(), 1);
}

#[test]
fn an_unmatched_join_is_checked_when_compiled() {
    let problems = |when: &str| -> String {
        let text = format!(
            "rules:\n  - id: r\n    title: R\n    severity: info\n    when:\n{when}    message: m\n"
        );
        match compile(&[RuleText {
            name: "inline.yaml",
            text: &text,
        }]) {
            Ok(_) => String::new(),
            Err(errors) => errors.to_string(),
        }
    };
    let both = problems(
        "      join: { left: \"d:$.l[*]\", right: \"d:$.r[*]\", on: $.id, unmatched: left, where: { path: \"left:$.v\", exists: true } }\n",
    );
    assert!(both.contains("when.join.where"), "{both}");
    assert!(both.contains("remove one of them"), "{both}");
    let neither = problems("      join: { left: \"d:$.l[*]\", right: \"d:$.r[*]\", on: $.id }\n");
    assert!(neither.contains("needs `where`"), "{neither}");
    let capture_of_pairs = problems(
        "      join: { left: \"d:$.l[*]\", right: \"d:$.r[*]\", on: $.id, where: { path: \"left:$.v\", exists: true } }\n      as: x\n",
    );
    assert!(capture_of_pairs.contains("when.as"), "{capture_of_pairs}");
    assert!(capture_of_pairs.contains("unmatched"), "{capture_of_pairs}");
    // A message that shows the capture of a join reported as wrong gets no second problem.
    for join in [
        "{ left: \"d:$.l[*]\", right: \"d:$.r[*]\", on: $.id, where: { path: \"left:$.v\", exists: true } }",
        "{ left: \"d:$.l[*]\", right: \"d:$.r[*]\", on: $.id }",
        "{ left: \"d:$.l[*]\", right: \"d:$.r[*]\", on: $.id, unmatched: left }\n      pick: first",
    ] {
        let text = format!(
            "rules:\n  - id: r\n    title: R\n    severity: info\n    when:\n      join: {join}\n      as: x\n    message: \"{{x}}\"\n"
        );
        let errors = compile(&[RuleText {
            name: "inline.yaml",
            text: &text,
        }])
        .err()
        .map(|errors| errors.to_string())
        .unwrap_or_default();
        assert!(!errors.is_empty(), "{join}");
        assert!(!errors.contains("message"), "{join}: {errors}");
    }
    let side = problems(
        "      join: { left: \"d:$.l[*]\", right: \"d:$.r[*]\", on: $.id, unmatched: middle }\n",
    );
    assert!(side.contains("unmatched"), "{side}");
    assert!(
        problems("      join: { left: \"d:$.l[*]\", right: \"d:$.r[*]\", on: $.id, unmatched: right }\n      as: x\n").is_empty()
    );
}
