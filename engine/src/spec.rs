//! Stage 1: the serde mirror of a rules file.
//!
//! These types are exactly what the YAML says, with no invariants. They are produced by
//! `load::parse` and consumed by [`compile`](crate::compile); evaluation never sees them. They
//! are private to the crate: the rules file's public contract is its JSON Schema
//! ([`json_schema`](crate::json_schema)), published under `schemas/rules.schema.json` and
//! generated from them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::vocab::{CompareOp, Confidence, JsonType, Pick, Quantifier, Severity};

/// A whole rules file: shared definitions plus the rules.
///
/// ```yaml
/// version: 1
/// params:
///   overdue_after: 48h
/// sources:
///   item:
///     description: the Item object, from whichever response carried it
///     first_of: [item_get:$.item, accounts_get:$.item]
/// rules:
///   - id: no-webhook
///     title: No webhook is registered
///     severity: info
///     requires: [item]
///     when: { path: item:$.webhook, missing: true }
///     message: Item has no webhook
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleFile {
    /// Version of the rule language; only `1` exists.
    #[serde(default = "default_version")]
    pub(crate) version: u32,
    /// Rule files this one builds on, loaded before it: `default` (the embedded pack) or
    /// names the embedder's reader resolves (the command line: paths relative to this file's
    /// folder, read only under that folder or when passed with `--rules`). An entry that
    /// cannot be resolved is an error.
    #[serde(default)]
    pub(crate) extends: Vec<String>,
    /// Changes to rules defined in this or another loaded file, by rule id.
    #[serde(default)]
    pub(crate) overrides: BTreeMap<String, RuleOverride>,
    /// Known document names, each with a note saying what to capture (shown when a rule cannot
    /// be evaluated for lack of it).
    #[serde(default)]
    pub(crate) documents: BTreeMap<String, String>,
    /// Parameters shared by every rule of every loaded file; a later file's value replaces an
    /// earlier one, and a rule's own `params` (then `overrides`) replace both.
    #[serde(default)]
    pub(crate) params: BTreeMap<String, serde_json::Value>,
    /// Named sources: a value found in whichever of several places was captured.
    #[serde(default)]
    pub(crate) sources: BTreeMap<String, SourceSpec>,
    /// Values every diagnosis reports about its bundle, by name (`item_id: item:$.item_id`):
    /// the first non-null value each reference finds. Batch output and summaries use them.
    #[serde(default)]
    pub(crate) labels: BTreeMap<String, String>,
    /// Object keys whose values are secrets or personal data: a value under any of these keys
    /// (at any depth) is shown as `[redacted]` in evidence, messages, labels and explanations.
    /// The lists of all loaded files add up.
    #[serde(default)]
    pub(crate) redact: Vec<String>,
    /// Named conditions that rules reuse with `{condition: <name>}`.
    #[serde(default)]
    pub(crate) conditions: BTreeMap<String, ConditionSpec>,
    /// The rules, in the order findings of equal severity are reported.
    #[serde(default)]
    pub(crate) rules: Vec<RuleSpec>,
}

fn default_version() -> u32 {
    1
}

/// What a file may change in a rule it did not write.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleOverride {
    /// A new severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) severity: Option<Severity>,
    /// A new confidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) confidence: Option<Confidence>,
    /// Switch the rule off (`false`) or on (`true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) enabled: Option<bool>,
    /// New values for parameters the rule uses (its own or the files').
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) params: BTreeMap<String, serde_json::Value>,
}

/// A named source. Exactly one of `first_of`, `first_present_of` and `all_of` is given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SourceSpec {
    /// What the source stands for; shown when a rule needs it and it is missing.
    #[serde(default)]
    pub(crate) description: Option<String>,
    /// References tried in order; the first that matches at least one non-null value wins.
    #[serde(default)]
    pub(crate) first_of: Option<Vec<String>>,
    /// References whose matches are all taken, in order (a union).
    #[serde(default)]
    pub(crate) all_of: Option<Vec<String>>,
    /// References tried in order; the first whose path is present (matches a value, even
    /// `null`) wins, with its non-null values: `item_get:$.item.error` is present on a normal
    /// /item/get, error or not, so the response is the authority, and later candidates are
    /// only read when it is absent (not captured, or an error body without `item`).
    #[serde(default)]
    pub(crate) first_present_of: Option<Vec<String>>,
    /// Keep only the first or the last value found (for example the most recent of a list of
    /// webhooks, oldest first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pick: Option<Pick>,
}

/// One rule: metadata, what it needs, when it fires and what it says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleSpec {
    /// Stable public id (`kebab-case`); users override and test against it.
    pub(crate) id: String,
    /// One-line title of the cause.
    pub(crate) title: String,
    /// `error`, `warning` or `info`.
    pub(crate) severity: Severity,
    /// `high`, `medium` (default) or `low`.
    #[serde(default)]
    pub(crate) confidence: Confidence,
    /// Set to `false` to switch the rule off.
    #[serde(default = "default_true")]
    pub(crate) enabled: bool,
    /// What the rule detects.
    #[serde(default)]
    pub(crate) description: Option<String>,
    /// Why it matters for a stale balance.
    #[serde(default)]
    pub(crate) rationale: Option<String>,
    /// What to do, one step per entry.
    #[serde(default)]
    pub(crate) remediation: Vec<String>,
    /// Articles and documentation pages that back the rule.
    #[serde(default)]
    pub(crate) references: Vec<String>,
    /// Documents or sources that must be present for the rule to be evaluated at all.
    #[serde(default)]
    pub(crate) requires: Vec<String>,
    /// Ids of rules (in any loaded file) that stand down when this rule fires: a more specific
    /// cause takes the place of a general one. The listed rules are evaluated after this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) supersedes: Vec<String>,
    /// Parameters with their defaults, usable as `$name` in conditions and `{name}` in the message.
    #[serde(default)]
    pub(crate) params: BTreeMap<String, serde_json::Value>,
    /// Named values (references) shown in the message and added to the evidence.
    #[serde(default)]
    pub(crate) values: BTreeMap<String, String>,
    /// The condition under which the rule fires.
    pub(crate) when: ConditionSpec,
    /// Message template: `{value}`, `{value|age}`, `{value|relative}`, `{value|or:text}`.
    pub(crate) message: String,
}

fn default_true() -> bool {
    true
}

/// A condition. Exactly one kind is given: `all`, `any`, `not`, `condition`, `fired`, `path`
/// (with operators), `compare` or `join`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConditionSpec {
    /// True when every listed condition is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) all: Option<Vec<ConditionSpec>>,
    /// True when at least one listed condition is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) any: Option<Vec<ConditionSpec>>,
    /// True when the inner condition is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) not: Option<Box<ConditionSpec>>,
    /// The name of a condition under `conditions:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) condition: Option<String>,
    /// True when the rule with this id fired in the same evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) fired: Option<String>,
    /// A test on the values a reference matches (`document:$.json.path`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) path: Option<String>,
    /// Compares the values of two references.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) compare: Option<CompareSpec>,
    /// Pairs the elements of two references on a key and tests each pair.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) join: Option<Box<JoinSpec>>,

    /// With `path`: how many matched values must pass: `any` (default), `all` or `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) quantifier: Option<Quantifier>,
    /// With `path`: a name for the values that passed the test, usable in the rule's message
    /// as `{name}` (instead of a `values:` entry that would show every value matched). With a
    /// `join` that has `unmatched`: the keys of the elements that passed.
    #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
    pub(crate) capture: Option<String>,
    /// With `path`: test only the first or the last non-null value matched (for example the
    /// most recent of a list of webhooks, oldest first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pick: Option<Pick>,
    /// With `path`: bounds on the number of matched values that pass (instead of a quantifier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) count: Option<CountSpec>,
    /// With `path`: the result when the document or source is absent (default `false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) if_absent: Option<bool>,
    /// With `path`: the result when the path matches no non-null value in a present document
    /// (default: `false` for `any`/`all`, `true` for `none`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) if_missing: Option<bool>,

    /// Operator: at least one non-null value matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) exists: Option<bool>,
    /// Operator: nothing matched, or only nulls (same as `exists: false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) missing: Option<bool>,
    /// Operator: the value equals this JSON value (numbers compare numerically).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) equals: Option<serde_json::Value>,
    /// Operator: the value equals one of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) one_of: Option<serde_json::Value>,
    /// Operator: the value equals none of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) none_of: Option<serde_json::Value>,
    /// Operator: the value is an array containing this element.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) contains: Option<serde_json::Value>,
    /// Operator: the value is an array containing at least one of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) contains_any: Option<serde_json::Value>,
    /// Operator: the value is an array containing none of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) contains_none: Option<serde_json::Value>,
    /// Operator: the value is a number greater than this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) gt: Option<serde_json::Value>,
    /// Operator: the value is a number greater than or equal to this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) gte: Option<serde_json::Value>,
    /// Operator: the value is a number less than this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) lt: Option<serde_json::Value>,
    /// Operator: the value is a number less than or equal to this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) lte: Option<serde_json::Value>,
    /// Operator: the value is a string matching this regular expression (Rust `regex` syntax).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) regex: Option<String>,
    /// Operator: the value is a timestamp more than this duration before `as_of`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) older_than: Option<serde_json::Value>,
    /// Operator: the value is a timestamp less than this duration before `as_of` (or after it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) newer_than: Option<serde_json::Value>,
    /// Operator: the value is a timestamp between `as_of` and `as_of` plus this duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) within_after: Option<serde_json::Value>,
    /// Operator: the value is a timestamp more than this duration after `as_of`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) later_than: Option<serde_json::Value>,
    /// Operator: the value has this JSON type.
    #[serde(
        default,
        rename = "type",
        deserialize_with = "json_type_not_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) json_type: Option<JsonType>,
    /// Operator: `true`, the value is a time the time operators can read (an RFC 3339 text
    /// with an offset); `false`, it is not (a date alone, no offset, epoch seconds, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) timestamp: Option<bool>,
}

/// Bounds on a count; every given bound must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CountSpec {
    /// Exactly this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) equals: Option<serde_json::Value>,
    /// More than this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) gt: Option<serde_json::Value>,
    /// At least this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) gte: Option<serde_json::Value>,
    /// Fewer than this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) lt: Option<serde_json::Value>,
    /// At most this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) lte: Option<serde_json::Value>,
}

/// Compares every non-null value of `left` with every non-null value of `right`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CompareSpec {
    /// Reference to the left-hand values.
    pub(crate) left: String,
    /// The comparison.
    pub(crate) op: CompareOp,
    /// Reference to the right-hand values.
    pub(crate) right: String,
    /// For `equals`/`differs` on numbers: differences up to this much count as equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tolerance: Option<serde_json::Value>,
    /// For `before`/`after` on times: the left time must lie more than this duration before
    /// (after) the right one, such as `5m` or `$clock_skew` (times from two machines' clocks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) margin: Option<serde_json::Value>,
    /// How many (left, right) pairs must pass: `any` (default), `all` or `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) quantifier: Option<Quantifier>,
    /// The result when either side matches no non-null value (default `false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) if_missing: Option<bool>,
}

/// Pairs elements of `left` and `right` whose keys are equal and tests each pair with `where`,
/// in which `left:$...` and `right:$...` address the two elements of the pair; or, with
/// `unmatched`, tests the elements of one side whose key no element of the other side has.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct JoinSpec {
    /// Reference to the left elements (for example `accounts_get:$.accounts[*]`).
    pub(crate) left: String,
    /// Reference to the right elements.
    pub(crate) right: String,
    /// JSONPath, relative to each element, of the key both sides are paired on.
    pub(crate) on: String,
    /// The test applied to each pair (required, unless `unmatched` is given).
    #[serde(rename = "where", default, skip_serializing_if = "Option::is_none")]
    pub(crate) where_: Option<ConditionSpec>,
    /// Instead of testing pairs (no `where`): the elements of this side (`left` or `right`)
    /// whose key no element of the other side has pass, and their keys are the evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) unmatched: Option<JoinSide>,
    /// How many pairs (with `unmatched`: elements with a key) must pass: `any` (default),
    /// `all` or `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) quantifier: Option<Quantifier>,
}

/// A side of a join.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum JoinSide {
    /// The elements of `left`.
    Left,
    /// The elements of `right`.
    Right,
}

/// `type:`, refusing `type: null`: null is not a type the operator tests (a null value counts
/// as missing), and without this the key would read as absent and the test as one with no
/// operator.
fn json_type_not_null<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<JsonType>, D::Error> {
    match Option::<JsonType>::deserialize(deserializer)? {
        Some(json_type) => Ok(Some(json_type)),
        None => Err(serde::de::Error::custom(
            "`null` is not a type: a null value counts as missing, so test it with `missing: true` (or `exists: false`)",
        )),
    }
}
