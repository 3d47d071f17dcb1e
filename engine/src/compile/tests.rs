//! Compiler tests that need its internals.

use super::*;
use crate::compiled::{CondKind, Scope};
use crate::error::reworded;

/// Files that exercise every kind of problem, warnings and named conditions.
const FILES: [(&str, &str); 19] = [
    ("default.yaml", include_str!("../../../rules/default.yaml")),
    (
        "bad-duration-and-param.yaml",
        include_str!("../../../tests/rule-errors/bad-duration-and-param.yaml"),
    ),
    (
        "bad-jsonpath.yaml",
        include_str!("../../../tests/rule-errors/bad-jsonpath.yaml"),
    ),
    (
        "condition-shape.yaml",
        include_str!("../../../tests/rule-errors/condition-shape.yaml"),
    ),
    (
        "duplicate-ids.yaml",
        include_str!("../../../tests/rule-errors/duplicate-ids.yaml"),
    ),
    (
        "duplicate-keys.yaml",
        include_str!("../../../tests/rule-errors/duplicate-keys.yaml"),
    ),
    (
        "empty.yaml",
        include_str!("../../../tests/rule-errors/empty.yaml"),
    ),
    (
        "fired-cycle.yaml",
        include_str!("../../../tests/rule-errors/fired-cycle.yaml"),
    ),
    (
        "missing-when.yaml",
        include_str!("../../../tests/rule-errors/missing-when.yaml"),
    ),
    (
        "not-yaml.yaml",
        include_str!("../../../tests/rule-errors/not-yaml.yaml"),
    ),
    (
        "source-cycle.yaml",
        include_str!("../../../tests/rule-errors/source-cycle.yaml"),
    ),
    (
        "unknown-key-typo.yaml",
        include_str!("../../../tests/rule-errors/unknown-key-typo.yaml"),
    ),
    (
        "unknown-operator-and-severity.yaml",
        include_str!("../../../tests/rule-errors/unknown-operator-and-severity.yaml"),
    ),
    (
        "unknown-references.yaml",
        include_str!("../../../tests/rule-errors/unknown-references.yaml"),
    ),
    (
        "wrong-value-types.yaml",
        include_str!("../../../tests/rule-errors/wrong-value-types.yaml"),
    ),
    (
        "yaml-indentation.yaml",
        include_str!("../../../tests/rule-errors/yaml-indentation.yaml"),
    ),
    (
        "extends-not-a-list.yaml",
        include_str!("../../../tests/rule-errors/extends-not-a-list.yaml"),
    ),
    ("named.yaml", NAMED),
    ("unused.yaml", UNUSED),
];

/// A named condition used by rules with different parameters, an undeclared document in
/// `requires`, and an operand error next to a capture.
const NAMED: &str = r#"
documents: { item_get: the Item }
params: { late: 2d }
conditions:
  stale:
    path: item_get:$.status.last_update
    older_than: $late
    as: when
  typo:
    path: item_gte:$.item
    exists: true
rules:
  - id: a
    title: A
    severity: info
    when: { all: [{ condition: stale }, { condition: typo }] }
    message: "{when}"
  - id: b
    title: B
    severity: info
    params: { late: 3 }
    requires: [item_got]
    when: { all: [{ condition: stale }, { condition: typo }] }
    message: "{when}"
  - id: c
    title: C
    severity: info
    when: { path: "item_get:$.x", gt: nope, as: state }
    message: "{state}"
"#;

/// A named condition no rule uses, with a parameter that no file declares.
const UNUSED: &str = r#"
conditions:
  alone: { path: "item_get:$.x", older_than: $nowhere }
rules:
  - { id: a, title: A, severity: info, when: { path: "item_get:$.x", exists: true }, message: m }
"#;

/// What compiling one file gives, without the messages' wording.
fn outcome(name: &str, text: &str) -> (Vec<String>, Option<usize>) {
    let shape = |problem: &Problem| {
        format!(
            "{} {:?} {:?} {:?} {}",
            problem.file, problem.location, problem.origin, problem.kind, problem.field
        )
    };
    match compile(&[RuleText { name, text }]) {
        Ok(set) => (
            set.warnings.iter().map(shape).collect(),
            Some(set.rules.len()),
        ),
        Err(errors) => {
            let problems = errors.problems.iter().chain(&errors.warnings);
            (problems.map(shape).collect(), None)
        }
    }
}

#[test]
fn rewording_every_message_changes_nothing_else() {
    for (name, text) in FILES {
        let plain = outcome(name, text);
        let reworded = reworded::during(|| outcome(name, text));
        assert_eq!(plain, reworded, "{name}");
    }
    let reworded = reworded::during(|| {
        compile(&[RuleText {
            name: "named.yaml",
            text: NAMED,
        }])
    });
    let errors = reworded.expect_err("named.yaml has problems");
    assert!(
        errors
            .problems
            .iter()
            .all(|p| p.message.starts_with("reworded: "))
    );
}

#[test]
fn a_named_condition_is_compiled_once_per_parameter_values() {
    let text = NAMED.replace("params: { late: 3 }", "params: { late: 2d }");
    let errors = compile(&[RuleText {
        name: "named.yaml",
        text: &text,
    }])
    .unwrap_err();
    // One warning for the typo in the shared condition, one for `requires`.
    let fields: Vec<&str> = errors.warnings.iter().map(|w| w.field.as_str()).collect();
    assert_eq!(fields, ["conditions.typo.path", "rules[1].requires[0]"]);
}

#[test]
fn an_operand_error_does_not_make_the_capture_unknown() {
    let errors = compile(&[RuleText {
        name: "named.yaml",
        text: NAMED,
    }])
    .unwrap_err();
    let templates: Vec<String> = errors
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::Template)
        .map(Problem::to_string)
        .collect();
    assert!(templates.is_empty(), "{templates:#?}");
}

#[test]
fn a_bad_parameter_value_is_reported_once_where_it_was_set() {
    let pack = r#"
params: { overdue_after: 2d }
rules:
  - id: one
    title: One
    severity: info
    when: { path: "item_get:$.a", older_than: $overdue_after }
    message: m
  - id: two
    title: Two
    severity: info
    when: { path: "item_get:$.b", older_than: $overdue_after }
    message: m
"#;
    let user = "params:\n  overdue_after: 3 days\noverrides:\n  two: { params: { overdue_after: soon } }\n";
    let errors = compile(&[
        RuleText {
            name: "pack.yaml",
            text: pack,
        },
        RuleText {
            name: "mine.yaml",
            text: user,
        },
    ])
    .unwrap_err();
    let places: Vec<String> = errors
        .problems
        .iter()
        .map(|p| {
            format!(
                "{} {:?} {} {:?}",
                p.file,
                p.location.map(|l| l.line),
                p.field,
                p.kind
            )
        })
        .collect();
    assert_eq!(
        places,
        [
            "mine.yaml Some(2) params.overdue_after InvalidParameterValue",
            "mine.yaml Some(4) overrides.two.params.overdue_after InvalidParameterValue",
        ]
    );
}

#[test]
fn a_shared_named_condition_captures_for_every_rule_that_uses_it() {
    let rules = r#"
conditions:
  failed: { path: "item_get:$.errors[*].code", one_of: [A, B], as: code }
rules:
  - id: first
    title: First
    severity: info
    when: { condition: failed }
    message: "first {code}"
  - id: second
    title: Second
    severity: info
    when:
      all:
        - { path: "item_get:$.name", exists: true, as: name }
        - { condition: failed }
    message: "second {name} {code}"
"#;
    let set = compile(&[RuleText {
        name: "shared.yaml",
        text: rules,
    }])
    .unwrap();
    let bundle = crate::Bundle::from_json(
        r#"{"documents": {"item_get": {"name": "n", "errors": [{"code": "A"}, {"code": "C"}]}}}"#,
    )
    .unwrap();
    let diagnosis = set.evaluate(&bundle, "2026-11-20T12:00:00Z".parse().unwrap());
    let messages: Vec<&str> = diagnosis
        .findings
        .iter()
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(messages, ["first A", "second n A"]);
    assert_eq!(set.conditions.len(), 1);
}

/// A named condition is evaluated once per bundle only when its outcome depends on nothing but
/// the bundle: not when it captures, tests `fired`, reads a join pair or holds a join, directly
/// or through another named condition.
#[test]
fn only_bundle_only_named_conditions_are_reused() {
    let rules = r#"
documents: { item_get: the item }
conditions:
  plain: { path: "item_get:$.name", exists: true }
  through_plain: { any: [ { condition: plain }, { not: { path: "item_get:$.x", equals: 1 } } ] }
  compared: { compare: { left: "item_get:$.a", op: lt, right: "item_get:$.b" } }
  capturing: { path: "item_get:$.name", exists: true, as: name }
  through_capturing: { all: [ { condition: capturing } ] }
  after_first: { fired: first }
  pair: { path: "left:$.id", exists: true }
  joined:
    join:
      left: "item_get:$.l[*]"
      right: "item_get:$.r[*]"
      on: $.id
      where: { condition: pair }
rules:
  - id: first
    title: First
    severity: info
    when: { all: [ { condition: through_plain }, { condition: compared } ] }
    message: "first"
  - id: second
    title: Second
    severity: info
    when:
      any:
        - { condition: through_capturing }
        - { condition: after_first }
        - { condition: joined }
    message: "second {name}"
"#;
    let set = compile(&[RuleText {
        name: "reuse.yaml",
        text: rules,
    }])
    .unwrap();
    let reused: std::collections::BTreeMap<&str, bool> = set
        .conditions
        .iter()
        .zip(&set.reusable)
        .map(|(cond, reusable)| (cond.text.field.trim_start_matches("conditions."), *reusable))
        .collect();
    let expected = [
        ("after_first", false),
        ("capturing", false),
        ("compared", true),
        ("joined", false),
        ("pair", false),
        ("plain", true),
        ("through_capturing", false),
        ("through_plain", true),
    ];
    assert_eq!(reused, expected.into_iter().collect());
}

/// What reusing a named condition must not change: a condition read per join pair, one that
/// captures for each rule that uses it, and one that tests `fired` (true only after the rule
/// fired) are evaluated at every use.
#[test]
fn named_conditions_that_depend_on_more_than_the_bundle_are_evaluated_at_each_use() {
    let rules = r#"
documents: { item_get: the item }
conditions:
  pair_differs: { compare: { left: "left:$.v", op: differs, right: "right:$.v" } }
  named: { path: "item_get:$.name", exists: true, as: name }
  after_first: { fired: first }
rules:
  - id: before
    title: Before
    severity: info
    when: { not: { condition: after_first } }
    message: "before"
  - id: first
    title: First
    severity: info
    when:
      join:
        left: "item_get:$.l[*]"
        right: "item_get:$.r[*]"
        on: $.id
        quantifier: all
        where: { condition: pair_differs }
    message: "first"
  - id: some_pair
    title: Some pair
    severity: info
    when:
      join:
        left: "item_get:$.l[*]"
        right: "item_get:$.r[*]"
        on: $.id
        where: { condition: pair_differs }
    message: "some pair"
  - id: after
    title: After
    severity: info
    when: { all: [ { condition: after_first }, { condition: named } ] }
    message: "after {name}"
  - id: also_named
    title: Also named
    severity: info
    when: { condition: named }
    message: "also {name}"
"#;
    let set = compile(&[RuleText {
        name: "each-use.yaml",
        text: rules,
    }])
    .unwrap();
    let fired = |bundle: &str| {
        let bundle = crate::Bundle::from_json(bundle).unwrap();
        let diagnosis = set.evaluate(&bundle, "2026-11-20T12:00:00Z".parse().unwrap());
        let mut messages: Vec<String> = diagnosis.findings.into_iter().map(|f| f.message).collect();
        messages.sort();
        messages
    };
    // The first pair is equal, the second differs: `all` pairs fails, some pair passes.
    let two_pairs = r#"{"documents": {"item_get": {"name": "n",
        "l": [{"id": 1, "v": 1}, {"id": 2, "v": 2}], "r": [{"id": 1, "v": 1}, {"id": 2, "v": 3}]}}}"#;
    assert_eq!(fired(two_pairs), ["also n", "before", "some pair"]);
    // Every pair differs: `first` fires, so `after` does, with its capture, and `before` does
    // not (rules that test `fired` are evaluated after the rule they test).
    let differing = r#"{"documents": {"item_get": {"name": "n",
        "l": [{"id": 1, "v": 1}], "r": [{"id": 1, "v": 2}]}}}"#;
    assert_eq!(
        fired(differing),
        ["after n", "also n", "first", "some pair"]
    );
}

/// Every reference and requirement that reads one document (by any path) shares its slot; a
/// source, `context` and a join pair have none; an evaluation that reads a document by
/// several references and a requirement sees it as the same document.
#[test]
fn references_to_one_document_share_its_slot() {
    let rules = r#"
documents: { item_get: the item, accounts_get: the accounts }
sources:
  item: { description: the item, first_of: [ "item_get:$.item", "accounts_get:$.item" ] }
rules:
  - id: first
    title: First
    severity: info
    requires: [item_get, accounts_get]
    when:
      all:
        - { path: "item_get:$.item.name", exists: true }
        - { path: "accounts_get:$.accounts[*]", exists: true }
        - { path: "item:$.name", equals: a }
        - { path: "context:$.x", exists: false }
        - join: { left: "item_get:$.l[*]", right: "accounts_get:$.r[*]", on: $.id, where: { path: "left:$.id", exists: true } }
    message: "first"
"#;
    let set = compile(&[RuleText {
        name: "slots.yaml",
        text: rules,
    }])
    .unwrap();
    let names: Vec<&str> = set
        .read_documents
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(names, ["accounts_get", "item_get"]);
    let mut by_name: std::collections::BTreeMap<String, std::collections::BTreeSet<usize>> =
        Default::default();
    let mut record = |scope: &Scope, document: Option<usize>| match scope {
        Scope::Document(name) => {
            let slot = document.expect("a document reference has a slot");
            by_name.entry(name.clone()).or_default().insert(slot);
        }
        _ => assert_eq!(document, None, "{scope:?}"),
    };
    let rule = &set.rules[0];
    for requirement in &rule.requires {
        record(&requirement.scope, requirement.document);
    }
    for source in &set.sources {
        for candidate in &source.candidates {
            record(&candidate.scope, candidate.document);
        }
    }
    let CondKind::All(items) = &rule.when.kind else {
        panic!("{:?}", rule.when.kind);
    };
    for item in items {
        match &item.kind {
            CondKind::Test(test) => record(&test.target.scope, test.target.document),
            CondKind::Join(join) => {
                record(&join.left.scope, join.left.document);
                record(&join.right.scope, join.right.document);
                let crate::compiled::JoinTest::Pairs(where_) = &join.test else {
                    panic!("{:?}", join.test);
                };
                let CondKind::Test(test) = &where_.kind else {
                    panic!("{:?}", where_.kind);
                };
                record(&test.target.scope, test.target.document);
            }
            other => panic!("{other:?}"),
        }
    }
    // One slot per name, and different names in different slots.
    assert_eq!(by_name.len(), 2);
    let slots: std::collections::BTreeSet<usize> = by_name
        .values()
        .map(|slots| {
            assert_eq!(slots.len(), 1, "{by_name:?}");
            *slots.first().unwrap()
        })
        .collect();
    assert_eq!(slots, [0, 1].into_iter().collect());
    // The names read carry the same slots.
    for (name, slot) in &set.read_documents {
        assert_eq!(by_name[name], [*slot].into_iter().collect(), "{name}");
    }
}

/// Capture ids and reference slots are kept as `u32`: an index past `u32::MAX` is a problem
/// to report, never a wrapped id that would share another one's slot.
#[test]
fn indexes_past_u32_are_refused_not_wrapped() {
    assert_eq!(compact_index(0, "capture names"), Ok(0));
    assert_eq!(compact_index(41, "capture names"), Ok(41));
    let largest = usize::try_from(u32::MAX).unwrap();
    assert_eq!(compact_index(largest, "capture names"), Ok(u32::MAX));
    // `usize` has more than 32 bits on the targets the tests run on (64-bit).
    if let Some(past) = largest.checked_add(1) {
        let message = compact_index(past, "distinct references").unwrap_err();
        assert!(message.contains("distinct references"), "{message}");
        assert!(!message.ends_with('.'), "{message}");
    }
}

/// An `{each pair}` section is warned about when none of its values is captured in a join's
/// `where` (directly or through a named condition used there): it would show once.
#[test]
fn an_each_pair_section_without_pair_captures_is_warned_about() {
    let pack = r#"
conditions:
  named_account: { path: "left:$.name", exists: true, as: named }
rules:
  - id: outside
    title: Outside
    severity: info
    when:
      all:
        - { path: "accounts_get:$.accounts[*].name", exists: true, as: account }
        - join: { left: "accounts_get:$.accounts[*]", right: "accounts_balance_get:$.accounts[*]", on: $.account_id, where: { path: "left:$.mask", exists: true } }
    message: "{each pair}{account}{end each}"
  - id: inside
    title: Inside
    severity: info
    when:
      join: { left: "accounts_get:$.accounts[*]", right: "accounts_balance_get:$.accounts[*]", on: $.account_id, where: { path: "left:$.name", exists: true, as: account } }
    message: "{each pair}{account}{end each}"
  - id: through-a-named-condition
    title: Named
    severity: info
    when:
      join: { left: "accounts_get:$.accounts[*]", right: "accounts_balance_get:$.accounts[*]", on: $.account_id, where: { condition: named_account } }
    message: "{each pair}{named}{end each}"
  - id: no-section
    title: None
    severity: info
    when: { path: "accounts_get:$.accounts[*].name", exists: true, as: account }
    message: "{account}"
"#;
    let set = compile(&[RuleText {
        name: "pairs.yaml",
        text: pack,
    }])
    .expect("the pack compiles");
    let warned: Vec<(&str, ProblemKind)> = set
        .warnings
        .iter()
        .map(|w| (w.field.as_str(), w.kind))
        .collect();
    assert_eq!(warned, [("rules[0].message", ProblemKind::Template)]);
}

#[test]
fn a_parameter_nothing_reads_is_warned_about_and_one_that_names_a_parameter_is_refused() {
    let base = r#"
params:
  cadence: 24h
  overdue_after: 48h
  shown: 3d
conditions:
  late: { path: "item_get:$.status.transactions.last_successful_update", older_than: $overdue_after }
rules:
  - id: late
    title: Late
    severity: info
    when: { condition: late }
    message: "late (usual {shown})"
  - id: quiet
    title: Quiet
    severity: info
    params: { window: 1h }
    when: { path: "item_get:$.status.last_webhook.sent_at", older_than: $window }
    message: quiet
"#;
    // `overdue_afer` is misspelt; `cadence` is declared but read by nothing; the override of
    // `shown` for `quiet` changes nothing (only `late`'s message reads it), while that of
    // `window`, which `quiet` reads, is fine.
    let mine = r#"
params:
  overdue_afer: 7d
overrides:
  quiet: { params: { shown: 1d, window: 2h } }
"#;
    let set = compile(&[
        RuleText {
            name: "base.yaml",
            text: base,
        },
        RuleText {
            name: "mine.yaml",
            text: mine,
        },
    ])
    .expect("the files compile");
    let warned: Vec<(&str, &str, &str)> = set
        .warnings
        .iter()
        .map(|w| (w.file.as_str(), w.field.as_str(), w.message.as_str()))
        .collect();
    assert_eq!(warned.len(), 3, "{warned:#?}");
    for (file, field, says) in [
        ("base.yaml", "params.cadence", "changes nothing"),
        (
            "mine.yaml",
            "params.overdue_afer",
            "did you mean `overdue_after`?",
        ),
        (
            "mine.yaml",
            "overrides.quiet.params.shown",
            "it reads window",
        ),
    ] {
        assert!(
            warned
                .iter()
                .any(|(f, d, message)| *f == file && *d == field && message.contains(says)),
            "{file} {field}: {warned:#?}"
        );
    }
    // A parameter's value that names another parameter would be that text: refused.
    let composed = r#"
params:
  more: [$codes, OTHER]
"#;
    let problems = compile(&[
        RuleText {
            name: "base.yaml",
            text: base,
        },
        RuleText {
            name: "composed.yaml",
            text: composed,
        },
    ])
    .expect_err("a parameter naming a parameter is refused")
    .problems;
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].field, "params.more");
    assert!(
        problems[0]
            .message
            .contains("cannot use another parameter (`$codes`)")
    );
}

/// The pack loaded twice (a copy of it beside a file that extends it) is one problem, on the
/// second copy, not one per source, condition and rule; a file that repeats only some of
/// another's rules still gets a problem per rule, which says how to change one.
#[test]
fn the_same_pack_loaded_twice_is_one_problem() {
    let pack = include_str!("../../../rules/default.yaml");
    let errors = compile(&[
        RuleText {
            name: "copy.yaml",
            text: pack,
        },
        RuleText {
            name: "<default>/rules/default.yaml",
            text: pack,
        },
    ])
    .unwrap_err();
    let shown: Vec<String> = errors
        .problems
        .iter()
        .map(|p| format!("{} {} {:?}", p.file, p.field, p.kind))
        .collect();
    // Located in the copy, the file the user can change, not in the embedded pack.
    assert_eq!(shown, ["copy.yaml rules DuplicateName"]);
    assert!(
        errors.problems[0].message.contains(
            "defines the same rules as <default>/rules/default.yaml: the same pack is loaded twice"
        ),
        "{}",
        errors.problems[0].message
    );
    // Two copies of a file that is not the pack: the second is the one to drop.
    let errors = compile(&[
        RuleText {
            name: "a.yaml",
            text: pack,
        },
        RuleText {
            name: "b.yaml",
            text: pack,
        },
    ])
    .unwrap_err();
    assert_eq!(errors.problems.len(), 1, "{errors}");
    assert_eq!(errors.problems[0].file, "b.yaml");

    let rule = |id: &str| {
        format!(
            "  - id: {id}\n    title: T\n    severity: info\n    when: {{ path: \"d:$.x\", exists: true }}\n    message: m\n"
        )
    };
    let some = format!("rules:\n{}{}", rule("a"), rule("b"));
    let one = format!("rules:\n{}{}", rule("a"), rule("c"));
    let errors = compile(&[
        RuleText {
            name: "some.yaml",
            text: &some,
        },
        RuleText {
            name: "one.yaml",
            text: &one,
        },
    ])
    .unwrap_err();
    assert_eq!(errors.problems.len(), 1, "{errors}");
    assert!(
        errors.problems[0]
            .message
            .starts_with("duplicate rule id `a`")
    );
}
