//! A request-level error never changes what the default pack says about the Item: for every
//! fixture and every request-level code Plaid documents, adding one failed call (an error body
//! in place of a response the fixture did not capture) keeps every other finding as it was (the
//! same rules, severity, confidence, title and evidence), and adds only the finding that names
//! the failed request. A message may take the failed call into account: the advice to call
//! `/transactions/refresh` is dropped when that very call answered PRODUCTS_NOT_SUPPORTED.

mod support;

use balance_doctor_engine::EvaluateOptions;
use serde_json::{Value, json};

/// Rules that describe one request; only these may appear when a failed call is added.
const REQUEST_RULES: &[&str] = &[
    "rate-limited",
    "request-invalid",
    "product-not-supported",
    "sync-pagination-restart",
    "product-not-ready",
    "product-consent-required",
    "realtime-balance-lagging",
    "request-failed-at-institution",
];

/// (document the failed call is captured as, error_type, error_code): the request-level codes
/// of issue 7, each on an endpoint that returns it.
const FAILED_CALLS: &[(&str, &str, &str)] = &[
    (
        "accounts_balance_get",
        "RATE_LIMIT_EXCEEDED",
        "BALANCE_LIMIT",
    ),
    (
        "accounts_balance_get",
        "RATE_LIMIT_EXCEEDED",
        "ACCOUNTS_BALANCE_GET_LIMIT",
    ),
    (
        "accounts_balance_get",
        "RATE_LIMIT_EXCEEDED",
        "INSTITUTION_RATE_LIMIT",
    ),
    (
        "accounts_balance_get",
        "ITEM_ERROR",
        "PRODUCTS_NOT_SUPPORTED",
    ),
    ("accounts_balance_get", "INVALID_REQUEST", "INVALID_FIELD"),
    ("accounts_balance_get", "INVALID_REQUEST", "MISSING_FIELDS"),
    (
        "accounts_balance_get",
        "INVALID_INPUT",
        "INVALID_ACCOUNT_ID",
    ),
    (
        "accounts_balance_get",
        "INVALID_RESULT",
        "LAST_UPDATED_DATETIME_OUT_OF_RANGE",
    ),
    (
        "transactions_sync",
        "TRANSACTIONS_ERROR",
        "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION",
    ),
    ("transactions_get", "ITEM_ERROR", "PRODUCT_NOT_READY"),
    (
        "transactions_refresh",
        "RATE_LIMIT_EXCEEDED",
        "TRANSACTIONS_REFRESH_LIMIT",
    ),
    (
        "transactions_refresh",
        "ITEM_ERROR",
        "PRODUCTS_NOT_SUPPORTED",
    ),
    ("investments_refresh", "RATE_LIMIT_EXCEEDED", "RATE_LIMIT"),
    ("accounts_balance_get", "API_ERROR", "INTERNAL_SERVER_ERROR"),
    ("transactions_sync", "API_ERROR", "PLANNED_MAINTENANCE"),
];

fn error_body(error_type: &str, error_code: &str) -> Value {
    json!({
        "error_type": error_type,
        "error_code": error_code,
        "error_code_reason": null,
        "error_message": "added by the request-level invariance test",
        "display_message": null,
        "request_id": "req-added"
    })
}

#[test]
fn a_failed_request_keeps_every_other_finding() {
    let rules = support::default_rules();
    let mut checked = 0;
    let mut problems = Vec::new();
    for dir in support::fixture_dirs() {
        let bundle = balance_doctor::input::read_bundle(&dir).unwrap();
        let as_of = bundle.as_of().unwrap();
        let before = rules.evaluate_with(&bundle, as_of, &EvaluateOptions::default());
        for (document, error_type, error_code) in FAILED_CALLS {
            if bundle.documents().contains_key(*document) {
                continue;
            }
            let mut with_error = bundle.clone();
            with_error
                .insert_document(document, error_body(error_type, error_code))
                .unwrap();
            let after = rules.evaluate_with(&with_error, as_of, &EvaluateOptions::default());
            let others = |findings: &[balance_doctor_engine::Finding]| {
                findings
                    .iter()
                    .filter(|f| !REQUEST_RULES.contains(&f.rule.as_str()))
                    .map(|f| {
                        let evidence: Vec<_> = f
                            .evidence
                            .iter()
                            .filter(|e| e.document != *document)
                            .cloned()
                            .collect();
                        (
                            f.rule.clone(),
                            f.severity,
                            f.confidence,
                            f.title.clone(),
                            evidence,
                        )
                    })
                    .collect::<Vec<_>>()
            };
            let (kept, now) = (others(&before.findings), others(&after.findings));
            if kept != now {
                problems.push(format!(
                    "{} + {document} {error_code}: {kept:?} became {now:?}",
                    dir.file_name().unwrap().to_string_lossy(),
                ));
            }
            let named = after
                .findings
                .iter()
                .filter(|f| REQUEST_RULES.contains(&f.rule.as_str()))
                .any(|f| f.evidence.iter().any(|e| e.document == *document));
            if !named {
                problems.push(format!(
                    "{} + {document} {error_code}: no request-level finding names the failed call",
                    dir.file_name().unwrap().to_string_lossy(),
                ));
            }
            checked += 1;
        }
    }
    assert!(checked > 500, "only {checked} combinations were checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
