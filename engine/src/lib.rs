//! balance-doctor's engine: declarative YAML rules over captured API responses.
//!
//! The pipeline has three stages, each with its own types:
//!
//! 1. **rule text -> `RuleFile`**: the serde mirror of the YAML, private to the crate (the
//!    format's public contract is its JSON Schema, [`json_schema`]);
//! 2. **`RuleFile`s -> [`RuleSet`]** ([`compile`]): validated, every JSONPath, regex,
//!    duration and message template built once; all problems are reported together;
//! 3. **[`RuleSet`] x [`Bundle`] x `as_of` -> [`Diagnosis`]** ([`RuleSet::evaluate`]): pure,
//!    infallible, deterministic; the rule set is `Send + Sync` and reusable.
//!
//! The engine does no I/O and never reads the clock: the caller passes text, JSON values and the
//! evaluation time. Domain knowledge lives in the rules, not here.
//!
//! ```
//! use balance_doctor_engine::{compile, Bundle, RuleText, Severity};
//!
//! let rules = r#"
//! sources:
//!   item:
//!     first_of: [item_get:$.item, accounts_get:$.item]
//! rules:
//!   - id: no-webhook
//!     title: No webhook is registered
//!     severity: info
//!     requires: [item]
//!     values: { item_id: "item:$.item_id" }
//!     when: { path: "item:$.webhook", missing: true }
//!     message: "Item {item_id} has no webhook, so the app is never told about new data"
//! "#;
//! let rule_set = compile(&[RuleText { name: "example.yaml", text: rules }]).unwrap();
//!
//! let bundle = Bundle::from_json(r#"{
//!   "documents": {
//!     "accounts_get": {"item": {"item_id": "item-1", "webhook": null}, "accounts": []}
//!   }
//! }"#).unwrap();
//! let as_of = "2026-11-20T12:00:00Z".parse().unwrap();
//! let diagnosis = rule_set.evaluate(&bundle, as_of);
//!
//! let finding = &diagnosis.findings[0];
//! assert_eq!(finding.rule, "no-webhook");
//! assert_eq!(finding.severity, Severity::Info);
//! assert_eq!(finding.message, "Item item-1 has no webhook, so the app is never told about new data");
//! // The evidence names the document, the normalized path and the value seen.
//! assert_eq!(finding.evidence[0].document, "accounts_get");
//! assert_eq!(finding.evidence[0].path, "$['item']['webhook']");
//! assert_eq!(finding.evidence[0].value, serde_json::Value::Null);
//! ```
//!
//! The rule language is documented in `rules/README.md` of the repository.

#![warn(missing_docs)]

mod arena;
mod bundle;
mod compile;
mod compiled;
mod diagnosis;
mod doc;
mod error;
mod eval;
mod extends;
pub mod json_text;
mod load;
mod number;
mod path;
mod positions;
mod projection;
mod scan;
mod schema;
mod serde_text;
mod short;
mod spec;
mod suggest;
mod template;
mod time;
mod vocab;
mod yaml_budget;

pub use arena::{List, Str};
pub use bundle::{
    Bundle, BundleSpec, METADATA_FILES, RESERVED_NAMES, check_document_name, is_bundle_member,
    is_single_file_bundle, parse_as_of,
};
pub use compile::{RuleText, compile, compile_with};
pub use compiled::{RuleInfo, RuleSet};
pub use diagnosis::{
    ConditionTrace, DIAGNOSIS_VERSION, Diagnosis, Evidence, Finding, MissingInput, NotEvaluated,
    RuleOutcome, RuleTrace, ShownValue, UnreadContextKey, UnreadDocument,
};
pub use doc::{Doc, Members};
pub use error::{BundleError, Location, Origin, Problem, ProblemKind, RuleErrors};
pub use eval::{EvaluateOptions, Scratch};
pub use extends::{DEFAULT_PACK, ExtendsRequest, RuleSource, no_reader};
/// The type [`duration_in_words`] takes, re-exported for the same reason.
pub use jiff::SignedDuration;
/// The evaluation time's type in [`RuleSet::evaluate`], re-exported so that embedders need not
/// depend on `jiff` themselves.
pub use jiff::Timestamp;
pub use positions::yaml_field_location;
pub use projection::Projection;
pub use schema::{SchemaKind, json_schema};
pub use serde_text::{serde_message, without_serde_position};
pub use suggest::closest;
pub use time::duration_in_words;
pub use vocab::{CompareOp, Confidence, JsonType, Pick, Quantifier, Severity};
pub use yaml_budget::{AliasExpansionError, MAX_ALIAS_EXPANSION, check_alias_expansion};

/// Compiles the embedded default pack ([`DEFAULT_PACK`]).
pub fn default_rule_set() -> Result<RuleSet, RuleErrors> {
    compile(&[DEFAULT_PACK])
}

#[cfg(test)]
mod send_sync {
    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn rule_set_is_send_and_sync() {
        assert_send_sync::<super::RuleSet>();
        assert_send_sync::<super::Diagnosis>();
    }
}
