//! Properties of evaluation over generated bundles: it never panics, it is deterministic and
//! blind to object key order, and a time threshold that fires at some age fires at every
//! greater age.
//!
//! Generated documents mix arbitrary JSON with Plaid-shaped responses (error codes, product
//! lists, timestamps near `as_of`) so that the default rules actually fire.

mod support;

use balance_doctor_engine::{
    Bundle, Diagnosis, EvaluateOptions, RuleSet, RuleText, Scratch, compile,
};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const AS_OF: i64 = 1_795_000_000; // 2026-11-18

fn timestamp(offset_hours: i64) -> String {
    Timestamp::from_second(AS_OF + offset_hours * 3_600)
        .unwrap()
        .to_string()
}

fn keys() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("item".to_owned()),
        Just("error".to_owned()),
        Just("error_code".to_owned()),
        Just("status".to_owned()),
        Just("transactions".to_owned()),
        Just("accounts".to_owned()),
        Just("balances".to_owned()),
        Just("current".to_owned()),
        Just("products".to_owned()),
        Just("webhook".to_owned()),
        Just("last_successful_update".to_owned()),
        "[a-z_]{1,8}",
    ]
}

fn scalars() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        (-2_000i64..2_000).prop_map(|h| Value::from(timestamp(h))),
        prop_oneof![
            Just("ITEM_LOGIN_REQUIRED"),
            Just("transactions"),
            Just("auth"),
            Just("accounts_get"),
            Just("NOT_READY"),
            Just("user_present_required"),
            Just(""),
        ]
        .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ]
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    scalars().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(keys(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn error_codes() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!("ITEM_LOGIN_REQUIRED")),
        Just(json!("USER_SETUP_REQUIRED")),
        Just(json!("INSTITUTION_DOWN")),
        Just(json!("MFA_NOT_SUPPORTED")),
        Just(json!("ITEM_NOT_SUPPORTED")),
        Just(json!("PRODUCT_NOT_READY")),
        Just(json!("USER_PERMISSION_REVOKED")),
    ]
}

fn products() -> impl Strategy<Value = Value> {
    prop::sample::subsequence(
        vec![
            "auth",
            "identity",
            "transactions",
            "investments",
            "liabilities",
        ],
        0..4,
    )
    .prop_map(|p| json!(p))
}

fn optional_time() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        (-400i64..400).prop_map(|h| json!(timestamp(h)))
    ]
}

/// The time of something already done (an update, the Item's creation): before as_of, as in
/// a capture evaluated when it was taken, except now and then (a capture evaluated too early,
/// which `time-after-as-of` reports).
fn past_time() -> impl Strategy<Value = Value> {
    prop_oneof![
        2 => Just(Value::Null),
        15 => (-400i64..=0).prop_map(|h| json!(timestamp(h))),
        1 => (1i64..400).prop_map(|h| json!(timestamp(h))),
    ]
}

/// An /item/get body with the real shape: `status` beside `item`.
fn item_get() -> impl Strategy<Value = Value> {
    (
        error_codes(),
        products(),
        past_time(),
        past_time(),
        optional_time(),
        prop_oneof![Just(Value::Null), Just(json!("https://example.com/hook")), Just(json!(""))],
        prop_oneof![Just("background"), Just("user_present_required")],
        (
            past_time(),
            past_time(),
            prop::sample::select(vec!["ins_3", "ins_109508"]),
        ),
    )
        .prop_map(|(code, products, success, failure, consent, webhook, update_type, (created, investments, institution))| {
            let error = if code.is_null() {
                Value::Null
            } else {
                json!({"error_type": "ITEM_ERROR", "error_code": code, "error_code_reason": null,
                       "error_message": "generated", "display_message": null})
            };
            json!({
                "item": {"item_id": "item-generated", "error": error, "products": products,
                         "billed_products": products, "available_products": [],
                         "webhook": webhook, "consent_expiration_time": consent,
                         "update_type": update_type, "created_at": created,
                         "institution_id": institution},
                "status": {"transactions": {"last_successful_update": success,
                                            "last_failed_update": failure},
                           "investments": {"last_successful_update": investments,
                                           "last_failed_update": null}},
                "request_id": "req"
            })
        })
}

/// /accounts/balance/get as Capital One answers it: `last_updated_datetime` on each balance.
fn realtime_accounts(seed: f64) -> Value {
    json!({"accounts": [
        {"account_id": "acc-1", "balances": {"current": seed, "available": seed,
         "last_updated_datetime": timestamp(-((seed as i64).abs() % 100))}}
    ], "item": {"item_id": "item-generated", "webhook": null, "billed_products": ["auth"]}})
}

fn accounts(seed: f64) -> Value {
    json!({"accounts": [
        {"account_id": "acc-1", "balances": {"current": seed, "available": seed}},
        {"account_id": "acc-2", "balances": {"current": 10.0, "available": null}}
    ], "item": {"item_id": "item-generated", "webhook": null, "billed_products": ["auth"]}})
}

/// An error body, as any endpoint but /item/get answers a failed call.
fn error_body() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        ("RATE_LIMIT_EXCEEDED", "BALANCE_LIMIT"),
        ("RATE_LIMIT_EXCEEDED", "TRANSACTIONS_REFRESH_LIMIT"),
        ("INVALID_REQUEST", "INVALID_FIELD"),
        ("INVALID_INPUT", "ADDITIONAL_CONSENT_REQUIRED"),
        ("ITEM_ERROR", "PRODUCTS_NOT_SUPPORTED"),
        ("ITEM_ERROR", "PRODUCT_NOT_READY"),
        ("ITEM_ERROR", "ITEM_LOGIN_REQUIRED"),
        ("INSTITUTION_ERROR", "INSTITUTION_NOT_RESPONDING"),
        (
            "TRANSACTIONS_ERROR",
            "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION",
        ),
        ("INVALID_RESULT", "LAST_UPDATED_DATETIME_OUT_OF_RANGE"),
    ])
    .prop_map(|(error_type, error_code)| {
        json!({"error_type": error_type, "error_code": error_code, "error_code_reason": null,
               "error_message": "generated", "display_message": null, "request_id": "req"})
    })
}

/// A list of webhooks, oldest first, from the kinds Plaid sends about an Item.
fn webhooks() -> impl Strategy<Value = Value> {
    let one = prop_oneof![
        Just(
            json!({"webhook_type": "ITEM", "webhook_code": "ERROR", "item_id": "item-generated",
                    "error": {"error_type": "ITEM_ERROR", "error_code": "ITEM_LOGIN_REQUIRED"},
                    "environment": "production"})
        ),
        Just(
            json!({"webhook_type": "ITEM", "webhook_code": "LOGIN_REPAIRED", "item_id": "item-generated",
                    "environment": "production"})
        ),
        Just(
            json!({"webhook_type": "ITEM", "webhook_code": "USER_ACCOUNT_REVOKED", "item_id": "item-generated",
                    "account_id": "acc-1", "environment": "production"})
        ),
        Just(
            json!({"webhook_type": "ITEM", "webhook_code": "NEW_ACCOUNTS_AVAILABLE", "item_id": "item-generated",
                    "environment": "sandbox"})
        ),
        (-400i64..400).prop_map(
            |h| json!({"webhook_type": "ITEM", "webhook_code": "PENDING_EXPIRATION",
                    "item_id": "item-generated", "consent_expiration_time": timestamp(h)})
        ),
        Just(
            json!({"webhook_type": "TRANSACTIONS", "webhook_code": "DEFAULT_UPDATE", "item_id": "item-generated",
                    "new_transactions": 2, "error": {"error_type": "INSTITUTION_ERROR",
                    "error_code": "INSTITUTION_DOWN"}})
        ),
        Just(
            json!({"webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE",
                    "item_id": "item-generated"})
        ),
    ];
    prop::collection::vec(one, 0..4).prop_map(Value::Array)
}

/// /institutions/get_by_id with a status for logins and transactions updates.
fn institution() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec!["HEALTHY", "DEGRADED", "DOWN"]),
        prop::sample::select(vec!["HEALTHY", "DEGRADED", "DOWN"]),
        0.0f64..1.0,
        prop::sample::select(vec!["NORMAL", "DELAYED", "STOPPED"]),
    )
        .prop_map(|(logins, updates, success, interval)| {
            json!({"institution": {"institution_id": "ins_3", "name": "Generated Bank", "status": {
                "item_logins": {"status": logins, "breakdown": {"success": success}},
                "transactions_updates": {"status": updates,
                    "breakdown": {"success": success, "refresh_interval": interval}}}}})
        })
}

fn plaid_bundle() -> impl Strategy<Value = Value> {
    (
        (
            prop::option::of(item_get()),
            prop::option::of(prop_oneof![
                (-1_000.0f64..1_000.0).prop_map(accounts),
                error_body()
            ]),
            prop::option::of(prop_oneof![
                (-1_000.0f64..1_000.0).prop_map(accounts),
                (-1_000.0f64..1_000.0).prop_map(realtime_accounts),
                error_body()
            ]),
            prop::option::of(prop_oneof![
                Just(json!("accounts_get")),
                Just(json!("accounts_balance_get")),
                Just(json!(42))
            ]),
        ),
        (
            prop::option::of(prop_oneof![webhooks(), arbitrary_json()]),
            prop::option::of(prop_oneof![
                error_body(),
                Just(
                    json!({"transactions_update_status": "NOT_READY", "accounts": [],
                            "added": [], "modified": [], "removed": [], "next_cursor": "",
                            "has_more": false, "request_id": "req"})
                )
            ]),
            prop::option::of(prop_oneof![
                Just(json!({"request_id": "req"})),
                error_body()
            ]),
            prop::option::of(institution()),
            prop::option::of((-400i64..400).prop_map(timestamp)),
        ),
    )
        .prop_map(
            |(
                (item_get, cached, realtime, balance_source),
                (hooks, sync, refresh, institution, read_at),
            )| {
                let mut documents = Map::new();
                let named = [
                    ("item_get", item_get),
                    ("accounts_get", cached),
                    ("accounts_balance_get", realtime),
                    ("webhooks", hooks),
                    ("transactions_sync", sync),
                    ("transactions_refresh", refresh),
                    ("institutions_get_by_id", institution),
                ];
                for (name, doc) in named {
                    if let Some(doc) = doc {
                        documents.insert(name.into(), doc);
                    }
                }
                let mut context = Map::new();
                if let Some(balance_source) = balance_source {
                    context.insert("balance_source".into(), balance_source);
                }
                if let Some(at) = read_at {
                    context.insert("balance_read_at".into(), json!(at));
                }
                json!({"context": context, "documents": documents})
            },
        )
}

fn any_bundle() -> impl Strategy<Value = Value> {
    let document_names = prop_oneof![
        Just("item_get".to_owned()),
        Just("accounts_get".to_owned()),
        Just("accounts_balance_get".to_owned()),
        Just("transactions_sync".to_owned()),
        Just("institutions_get_by_id".to_owned()),
        Just("webhooks".to_owned()),
        "[a-z_]{1,10}",
    ];
    prop_oneof![
        plaid_bundle(),
        (
            prop::collection::btree_map(document_names, arbitrary_json(), 0..6),
            arbitrary_json(),
        )
            .prop_map(|(documents, context)| {
                let context = if context.is_object() {
                    context
                } else {
                    json!({})
                };
                json!({"context": context, "documents": documents})
            }),
    ]
}

fn bundle_of(value: &Value) -> Option<Bundle> {
    Bundle::from_json(&value.to_string()).ok()
}

fn diagnose(bundle: &Bundle, as_of: Timestamp) -> Diagnosis {
    support::default_rules().evaluate_with(bundle, as_of, &EvaluateOptions { explain: true })
}

/// JSON text of `value` with every object's keys written in the order `shuffle` gives.
fn write_shuffled(value: &Value, shuffle: &mut impl FnMut(usize) -> Vec<usize>, out: &mut String) {
    match value {
        Value::Object(map) => {
            let entries: Vec<(&String, &Value)> = map.iter().collect();
            out.push('{');
            for (position, index) in shuffle(entries.len()).into_iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(entries[index].0.as_str()).to_string());
                out.push(':');
                write_shuffled(entries[index].1, shuffle, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (position, item) in items.iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                write_shuffled(item, shuffle, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// A rule set other than the pack, with other numbers of rules, documents, references and
/// sources, and a join, captures, values and labels: a scratch sized for one serves the other.
const OTHER_RULES: &str = r#"
sources:
  accounts:
    all_of: ["accounts_get:$.accounts[*]", "accounts_balance_get:$.accounts[*]"]
labels:
  item_id: item_get:$.item.item_id
rules:
  - id: differs
    title: Cached and real-time balances differ
    severity: warning
    values: { ids: "accounts_get:$.accounts[*].account_id" }
    when:
      join:
        left: accounts_get:$.accounts[*]
        right: accounts_balance_get:$.accounts[*]
        on: $.account_id
        where:
          compare: { left: "left:$.balances.current", op: differs, right: "right:$.balances.current" }
    message: "{ids} differ"
  - id: coded
    title: An error code
    severity: info
    requires: [accounts]
    when:
      any:
        - { path: "item_get:$.item.error.error_code", exists: true, as: code }
        - { path: "accounts:$.balances.current", type: number, as: code }
    message: "codes {code}"
"#;

fn other_rules() -> &'static RuleSet {
    static RULES: std::sync::OnceLock<RuleSet> = std::sync::OnceLock::new();
    RULES.get_or_init(|| {
        compile(&[RuleText {
            name: "other.yaml",
            text: OTHER_RULES,
        }])
        .unwrap()
    })
}

/// A bundle whose evaluation finds many values: `accounts` accounts in both account lists.
fn many_accounts(accounts: usize, seed: f64) -> Value {
    let list: Vec<Value> = (0..accounts)
        .map(|n| json!({"account_id": format!("a{n}"), "balances": {"current": seed + n as f64}}))
        .collect();
    let realtime: Vec<Value> = (0..accounts)
        .map(|n| json!({"account_id": format!("a{n}"), "balances": {"current": seed + (n % 3) as f64}}))
        .collect();
    json!({"documents": {
        "item_get": {"item": {"item_id": "item-1", "error": {"error_code": "ITEM_LOCKED"}}},
        "accounts_get": {"accounts": list},
        "accounts_balance_get": {"accounts": realtime},
    }})
}

/// One step of a sequence of evaluations through one scratch: a bundle, the rule set (the
/// pack or [`OTHER_RULES`]), whether to explain, and the evaluation time.
fn evaluations() -> impl Strategy<Value = (Value, bool, bool, i64)> {
    (
        prop_oneof![
            4 => any_bundle(),
            1 => (0usize..300, -1_000.0f64..1_000.0).prop_map(|(n, seed)| many_accounts(n, seed)),
        ],
        any::<bool>(),
        any::<bool>(),
        -2_000i64..2_000,
    )
}

/// Evaluates each step through `scratch` and with fresh memory, and asserts both diagnoses
/// (explanations included) are the same.
fn same_through_one_scratch(
    steps: &[(Value, bool, bool, i64)],
    scratch: &mut Scratch,
) -> Result<(), TestCaseError> {
    for (value, other, explain, hours) in steps {
        let Some(bundle) = bundle_of(value) else {
            continue;
        };
        let rules = if *other {
            other_rules()
        } else {
            support::default_rules()
        };
        let as_of = Timestamp::from_second(AS_OF + hours * 3_600).unwrap();
        let options = EvaluateOptions { explain: *explain };
        let reused = rules.evaluate_with_scratch(&bundle, as_of, &options, scratch);
        prop_assert_eq!(&reused, &rules.evaluate_with(&bundle, as_of, &options));
    }
    Ok(())
}

/// A scratch reused for bundles of every size, by two rule sets, with and without the
/// explanation, after one that grew too large for a scratch to keep: every diagnosis is the
/// one fresh memory gives, and the memory kept stays bounded.
#[test]
fn a_scratch_reused_after_a_huge_bundle_changes_nothing() {
    let huge = many_accounts(20_000, 1.0);
    // Each step, and whether its bundle is the huge one.
    let steps = [
        ((many_accounts(3, 0.5), false, true, 0), false),
        ((huge.clone(), false, false, 0), true),
        ((many_accounts(2, 0.5), true, true, 1), false),
        ((huge, true, true, 0), true),
        ((many_accounts(5, 0.5), false, false, -5), false),
        ((json!({"documents": {}}), true, false, 0), false),
    ];
    let mut scratch = Scratch::new(other_rules());
    for (step, is_huge) in &steps {
        let before = scratch.memory_usage();
        same_through_one_scratch(std::slice::from_ref(step), &mut scratch).unwrap();
        let after = scratch.memory_usage();
        if *is_huge {
            // A list the scratch keeps is emptied in its own memory, never shrunk, so the
            // scratch holds less than before only if a list was given back, which happens only
            // to a list that grew beyond the limit: the huge bundle did make one grow.
            assert!(
                after < before,
                "no list grew beyond {} bytes: {before} -> {after}",
                Scratch::KEEP_BYTES
            );
        }
        // Every list that grew beyond the limit was given back: what the scratch keeps is a
        // few ordinary bundles' worth.
        assert!(after <= Scratch::KEEP_BYTES, "{scratch:?}");
    }
}

proptest! {
    // Each case evaluates up to ten bundles twice.
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Evaluating a sequence of bundles through one scratch (made for either rule set) gives
    /// each bundle exactly the diagnosis of an evaluation in fresh memory.
    #[test]
    fn a_reused_scratch_changes_no_diagnosis(
        steps in prop::collection::vec(evaluations(), 1..10),
        made_for_other in any::<bool>(),
    ) {
        let mut scratch = if made_for_other {
            Scratch::new(other_rules())
        } else {
            Scratch::new(support::default_rules())
        };
        same_through_one_scratch(&steps, &mut scratch)?;
    }
}

/// A group evaluated at once: the rule set (the pack or [`OTHER_RULES`]), whether to explain,
/// and its bundles with their evaluation times (in hours from [`AS_OF`]).
type Group = (bool, bool, Vec<(Value, i64)>);

/// Evaluates each group at once through `scratches` and each of its bundles alone in fresh
/// memory, and asserts the diagnoses (explanations included) are the same, in order.
fn same_as_a_group(groups: &[Group], scratches: &mut Vec<Scratch>) -> Result<(), TestCaseError> {
    for (other, explain, members) in groups {
        let rules = if *other {
            other_rules()
        } else {
            support::default_rules()
        };
        let options = EvaluateOptions { explain: *explain };
        let bundles: Vec<(Bundle, Timestamp)> = members
            .iter()
            .filter_map(|(value, hours)| {
                let as_of = Timestamp::from_second(AS_OF + hours * 3_600).unwrap();
                Some((bundle_of(value)?, as_of))
            })
            .collect();
        let group: Vec<(&Bundle, Timestamp)> = bundles
            .iter()
            .map(|(bundle, as_of)| (bundle, *as_of))
            .collect();
        let diagnoses = rules.evaluate_group_with_scratch(&group, &options, scratches);
        prop_assert_eq!(diagnoses.len(), group.len());
        for ((bundle, as_of), diagnosis) in group.iter().zip(&diagnoses) {
            prop_assert_eq!(diagnosis, &rules.evaluate_with(bundle, *as_of, &options));
        }
        // The scratches serve the largest group so far, one per bundle.
        prop_assert!(scratches.len() >= group.len());
    }
    Ok(())
}

proptest! {
    // Each case evaluates up to six groups of up to eight bundles twice.
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Evaluating groups of bundles rule by rule (each rule over the whole group before the
    /// next), through scratches reused from group to group by either rule set, gives each
    /// bundle exactly the diagnosis of its own evaluation in fresh memory: nothing of one
    /// bundle's evaluation reaches another's.
    #[test]
    fn a_group_evaluation_changes_no_diagnosis(
        groups in prop::collection::vec(
            (
                any::<bool>(),
                any::<bool>(),
                prop::collection::vec(
                    (evaluations().prop_map(|(value, ..)| value), -2_000i64..2_000),
                    0..8,
                ),
            ),
            1..6,
        ),
    ) {
        let mut scratches = Vec::new();
        same_as_a_group(&groups, &mut scratches)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn evaluation_never_panics_on_any_bundle(bundle in any_bundle(), hours in -100_000i64..100_000) {
        if let Some(bundle) = bundle_of(&bundle) {
            let as_of = Timestamp::from_second(AS_OF + hours * 3_600).unwrap();
            let diagnosis = diagnose(&bundle, as_of);
            // Every rule is accounted for once in the explanation.
            prop_assert_eq!(diagnosis.explain.unwrap().len(), support::default_rules().rules().len());
        }
    }

    #[test]
    fn diagnosis_is_deterministic_and_ignores_key_order(bundle in plaid_bundle(), seed in any::<u64>()) {
        let bundle_value = bundle;
        let Some(bundle) = bundle_of(&bundle_value) else { return Ok(()) };
        let as_of = Timestamp::from_second(AS_OF).unwrap();
        let first = diagnose(&bundle, as_of);
        prop_assert_eq!(&first, &diagnose(&bundle, as_of));

        let mut state = seed | 1;
        let mut shuffle = |n: usize| {
            let mut order: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                order.swap(i, (state % (i as u64 + 1)) as usize);
            }
            order
        };
        let mut text = String::new();
        write_shuffled(&bundle_value, &mut shuffle, &mut text);
        let reordered = Bundle::from_json(&text).unwrap();
        prop_assert_eq!(first, diagnose(&reordered, as_of));
    }

    /// Explaining evaluates every use of a named condition; without it, a named condition that
    /// depends only on the bundle is evaluated once and reused. Both must find the same.
    #[test]
    fn explaining_changes_nothing_but_the_explanation(bundle in plaid_bundle(), hours in -2_000i64..2_000) {
        let Some(bundle) = bundle_of(&bundle) else { return Ok(()) };
        let as_of = Timestamp::from_second(AS_OF + hours * 3_600).unwrap();
        let mut explained = diagnose(&bundle, as_of);
        prop_assert!(explained.explain.take().is_some());
        prop_assert_eq!(explained, support::default_rules().evaluate(&bundle, as_of));
    }

    #[test]
    fn an_age_threshold_that_fires_keeps_firing_later(
        bundle in plaid_bundle(),
        earlier in -200i64..200,
        later_by in 0i64..2_000,
    ) {
        let Some(bundle) = bundle_of(&bundle) else { return Ok(()) };
        let at = |hours| Timestamp::from_second(AS_OF + hours * 3_600).unwrap();
        let fired = |diagnosis: &Diagnosis, rule: &str| diagnosis.findings.iter().any(|f| f.rule == rule);
        let before = diagnose(&bundle, at(earlier));
        let after = diagnose(&bundle, at(earlier + later_by));
        // The overdue branch of integration-problem only depends on age; its other branches
        // do not depend on time at all. Later it still fires, unless a rule that supersedes it
        // fired by then (an expired consent, for one, is the cause behind the silence), or the
        // consent time has passed by then while a real-time call succeeded: the responses then
        // disagree (item-state-conflict, whose evidence holds the consent time), and the
        // lapse, not the bank, is the likely cause.
        let superseded = |diagnosis: &Diagnosis, rule: &str| {
            diagnosis.explain.as_ref().is_some_and(|traces| {
                traces.iter().any(|t| t.rule == rule && t.outcome == balance_doctor_engine::RuleOutcome::Superseded)
            })
        };
        let lapsed_in_conflict = |diagnosis: &Diagnosis| {
            diagnosis.findings.iter().any(|f| {
                f.rule == "item-state-conflict"
                    && f.evidence.iter().any(|e| e.path.ends_with("['consent_expiration_time']"))
            })
        };
        if fired(&before, "integration-problem") {
            prop_assert!(
                fired(&after, "integration-problem")
                    || superseded(&after, "integration-problem")
                    || lapsed_in_conflict(&after)
            );
        }
    }

    #[test]
    fn older_than_is_monotonic_in_age(threshold_hours in 0i64..500, age_hours in -500i64..500, more in 0i64..500) {
        let rules = format!(
            "rules:\n  - id: old\n    title: Old\n    severity: info\n    when: {{ path: \"doc:$.at\", older_than: {threshold_hours}h }}\n    message: old\n"
        );
        let rule_set = compile(&[RuleText { name: "generated.yaml", text: &rules }]).unwrap();
        let bundle = Bundle::from_json(&json!({"documents": {"doc": {"at": timestamp(0)}}}).to_string()).unwrap();
        let at = |hours: i64| Timestamp::from_second(AS_OF).unwrap() + SignedDuration::from_hours(hours);
        let fires = |as_of| !rule_set.evaluate(&bundle, as_of).findings.is_empty();
        prop_assert_eq!(fires(at(age_hours)), age_hours > threshold_hours);
        if fires(at(age_hours)) {
            prop_assert!(fires(at(age_hours + more)));
        }
    }
}

/// The generated bundles are only worth something if rules fire on them: over a fixed sample,
/// most default rules must fire at least once.
#[test]
fn generated_bundles_make_the_default_rules_fire() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = plaid_bundle();
    let mut fired = std::collections::BTreeSet::new();
    let as_of = Timestamp::from_second(AS_OF).unwrap();
    for _ in 0..2_000 {
        let value = strategy.new_tree(&mut runner).unwrap().current();
        if let Some(bundle) = bundle_of(&value) {
            for finding in diagnose(&bundle, as_of).findings {
                fired.insert(finding.rule);
            }
        }
    }
    let all: Vec<String> = support::default_rules().rules().map(|r| r.id).collect();
    let silent: Vec<&String> = all.iter().filter(|id| !fired.contains(*id)).collect();
    assert!(
        silent.len() <= 2,
        "rules that never fired on generated bundles: {silent:?}"
    );
}
