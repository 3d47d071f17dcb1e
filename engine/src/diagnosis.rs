//! Stage 3 output: plain data describing what was found, in a deterministic order.
//!
//! The JSON form of [`Diagnosis`] is a versioned contract, described by
//! `json_schema(SchemaKind::Diagnosis)` (the command line's `schemas/diagnosis.schema.json` is
//! the same object plus its `as_of_from`). Fields shown only when not empty (`labels`,
//! `unread_documents`, `unread_context_keys`, `explain`, `omitted_evidence`) are optional in
//! the schema:
//!
//! ```json
//! {
//!   "version": 2,
//!   "as_of": "2026-11-20T12:00:00Z",
//!   "findings": [{
//!     "rule": "no-webhook", "severity": "info", "confidence": "high",
//!     "title": "No webhook is registered",
//!     "message": "Item eVBn... has no webhook URL",
//!     "evidence": [{"document": "item_get", "path": "$['item']['webhook']", "value": null}],
//!     "remediation": ["..."], "references": ["https://..."]
//!   }],
//!   "not_evaluated": [{"rule": "cached-balance-read", "missing": [{"name": "balance_source", "how_to_get": "..."}]}]
//! }
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::vocab::{Confidence, Severity};

/// Version of the diagnosis format.
pub const DIAGNOSIS_VERSION: u32 = 2;

/// The result of evaluating a rule set over one bundle.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Diagnosis {
    /// Format version, currently 2.
    pub version: u32,
    /// The evaluation time every age and deadline was measured against.
    #[schemars(with = "String")]
    pub as_of: Timestamp,
    /// The rule files' labels that found a value in this bundle (such as `item_id`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, Value>,
    /// Rules that fired: by severity (error, warning, info), then in rule order.
    pub findings: Vec<Finding>,
    /// Rules that could not be evaluated, with what to capture so that they can be.
    pub not_evaluated: Vec<NotEvaluated>,
    /// Documents of the bundle that no rule reads (a misnamed file, for example).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unread_documents: Vec<UnreadDocument>,
    /// Keys of the bundle's `context` that no rule reads (a misspelt key, for example).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unread_context_keys: Vec<UnreadContextKey>,
    /// Per-rule explanation, present when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<Vec<RuleTrace>>,
}

impl Diagnosis {
    /// The severity of the most severe finding (`None` without findings): what `--fail-on`
    /// and a batch run's summary read.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|finding| finding.severity).min()
    }
}

/// One cause found.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Finding {
    /// The rule's id.
    pub rule: String,
    /// The rules file that defines the rule.
    pub rule_file: String,
    /// `error`, `warning` or `info`.
    pub severity: Severity,
    /// How sure the rule is of its cause.
    pub confidence: Confidence,
    /// The rule's title.
    pub title: String,
    /// The rule's message, filled with captured values.
    pub message: String,
    /// The values that made the rule fire, and the rule's named values (at most 50).
    pub evidence: Vec<Evidence>,
    /// How many further pieces of evidence were left out.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub omitted_evidence: usize,
    // Remediation and references are shared by the rule and its findings (not copied).
    /// What to do.
    pub remediation: Arc<[String]>,
    /// Where to read more.
    pub references: Arc<[String]>,
}

/// A key of the bundle's `context` that no rule reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct UnreadContextKey {
    /// The key.
    pub name: String,
    /// A key the rules do read that it looks like.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub did_you_mean: Option<String>,
}

/// A document no rule reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct UnreadDocument {
    /// Its name in the bundle.
    pub name: String,
    /// A name the rules do read that it looks like.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub did_you_mean: Option<String>,
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

/// A value found in a document.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Evidence {
    /// The document name (or `context`).
    pub document: String,
    /// RFC 9535 normalized path of the value in the document.
    pub path: String,
    /// The value itself.
    // As it may be shown (secrets masked, large values cut down): see `ShownValue`.
    #[schemars(with = "Value")]
    pub value: ShownValue,
}

/// A value as a diagnosis shows it ([`Evidence::value`]), kept as its JSON text: compact, byte
/// for byte what `serde_json::to_string` writes for the value. The engine writes that text
/// straight from the document (or from the text the projected parse kept), so a value is never
/// built as a `serde_json::Value` only to be written out; [`ShownValue::to_value`] builds one.
///
/// It equals the `serde_json::Value` it shows (`evidence.value == json!("ins_1")`), displays as
/// that value does (its JSON text), and serializes as that value does.
#[derive(Clone)]
pub struct ShownValue(Shown);

#[derive(Clone)]
enum Shown {
    /// JSON text written by the engine (at most three levels deep, since shown values are
    /// capped), which `serde_json` always reads back.
    Text(String),
    /// A value given by the caller ([`ShownValue::from`]), kept as it is.
    Value(Value),
}

impl ShownValue {
    /// A shown value from its JSON text, written by the engine's `json_text`.
    pub(crate) fn from_text(text: String) -> ShownValue {
        ShownValue(Shown::Text(text))
    }

    /// The value's JSON text (compact, as `serde_json::to_string` writes it).
    pub fn json(&self) -> std::borrow::Cow<'_, str> {
        match &self.0 {
            Shown::Text(text) => std::borrow::Cow::Borrowed(text),
            Shown::Value(value) => std::borrow::Cow::Owned(value.to_string()),
        }
    }

    /// The value as a `serde_json::Value`.
    pub fn to_value(&self) -> Value {
        match &self.0 {
            // Text the engine wrote is JSON three levels deep at most: reading it back cannot
            // fail (a property test of `eval::shown` reads back every value it writes).
            Shown::Text(text) => serde_json::from_str(text).unwrap_or_default(),
            Shown::Value(value) => value.clone(),
        }
    }
}

impl From<Value> for ShownValue {
    /// A value shown as it is (for evidence made by hand, in tests or by an embedder).
    fn from(value: Value) -> ShownValue {
        ShownValue(Shown::Value(value))
    }
}

impl PartialEq for ShownValue {
    fn eq(&self, other: &ShownValue) -> bool {
        match (&self.0, &other.0) {
            // The same text is the same value; different texts are almost always different
            // values, but not always (`-0.0` and `0.0` are equal numbers), so they are read
            // back and compared as values.
            (Shown::Text(a), Shown::Text(b)) => a == b || self.to_value() == other.to_value(),
            _ => self.to_value() == other.to_value(),
        }
    }
}

impl PartialEq<Value> for ShownValue {
    fn eq(&self, other: &Value) -> bool {
        match &self.0 {
            Shown::Value(value) => value == other,
            Shown::Text(_) => self.to_value() == *other,
        }
    }
}

impl PartialEq<ShownValue> for Value {
    fn eq(&self, other: &ShownValue) -> bool {
        other == self
    }
}

impl std::fmt::Debug for ShownValue {
    /// The value's JSON text.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ShownValue({})", self.json())
    }
}

impl std::fmt::Display for ShownValue {
    /// The value's JSON text, as the value's own `Display` writes it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.json())
    }
}

impl Serialize for ShownValue {
    /// As the value serializes.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Shown::Text(_) => self.to_value().serialize(serializer),
            Shown::Value(value) => value.serialize(serializer),
        }
    }
}

/// A rule that needs something the bundle does not have.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct NotEvaluated {
    /// The rule's id.
    pub rule: String,
    /// Its severity, had it fired.
    pub severity: Severity,
    /// Its title.
    pub title: String,
    /// What is missing.
    pub missing: Vec<MissingInput>,
}

/// A required document or source that the bundle lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MissingInput {
    /// The document or source name the rule requires.
    pub name: String,
    /// What to capture to provide it: the document's note in the rules file, or a source's
    /// description and the documents it reads.
    pub how_to_get: String,
}

/// How one rule came out, and why.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RuleTrace {
    /// The rule's id.
    pub rule: String,
    /// `fired`, `silent`, `not_evaluated` or `disabled`.
    pub outcome: RuleOutcome,
    /// What was missing, for rules not evaluated.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<MissingInput>,
    /// The rule that made this one stand down, for superseded rules: one that fired, else
    /// one that stood down itself but whose condition holds (its trace has the condition).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
    /// The condition tree with each node's result, for evaluated rules (and for a superseded
    /// rule evaluated to know whether it holds down the rules it supersedes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<ConditionTrace>,
}

/// The outcome of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RuleOutcome {
    /// The rule's condition held.
    Fired,
    /// The rule's condition did not hold.
    Silent,
    /// A required document or source was missing.
    NotEvaluated,
    /// The rule is switched off (`enabled: false`).
    Disabled,
    /// A rule that `supersedes` it fired, so it stood down without being evaluated.
    Superseded,
}

/// One condition's result in an explanation.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ConditionTrace {
    /// Field path of the condition in its rules file.
    pub field: String,
    /// What the condition tests, in short: `all`, `item:$.webhook missing true`, `fired x`.
    pub test: String,
    /// Whether it held.
    pub result: bool,
    /// Why, when the values alone do not say (a document absent, nothing matched).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The values the condition looked at.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub seen: Vec<Evidence>,
    /// Sub-conditions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<ConditionTrace>,
}

impl RuleOutcome {
    /// The name the diagnosis JSON uses (`fired`, `not_evaluated`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            RuleOutcome::Fired => "fired",
            RuleOutcome::Silent => "silent",
            RuleOutcome::NotEvaluated => "not_evaluated",
            RuleOutcome::Disabled => "disabled",
            RuleOutcome::Superseded => "superseded",
        }
    }
}

impl std::fmt::Display for RuleOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::ShownValue;

    /// Shown values are equal exactly when the values they show are, whichever way each was
    /// made: from text the engine wrote or from a `Value`.
    #[test]
    fn shown_values_are_equal_as_their_values_are() {
        let texts = [
            "0.0",
            "-0.0",
            "1",
            "1.0",
            "\"a\"",
            "[0.0]",
            "[-0.0]",
            "{\"x\":-0.0}",
            "{\"x\":0.0}",
        ];
        for a in texts {
            for b in texts {
                let (va, vb): (Value, Value) = (
                    serde_json::from_str(a).unwrap(),
                    serde_json::from_str(b).unwrap(),
                );
                let expected = va == vb;
                let (ta, tb) = (
                    ShownValue::from_text(a.to_owned()),
                    ShownValue::from_text(b.to_owned()),
                );
                // Made from a `Value`, to compare text with value inside `ShownValue`.
                let (sa, sb) = (ShownValue::from(va.clone()), ShownValue::from(vb.clone()));
                assert_eq!(ta == tb, expected, "{a} == {b} (texts)");
                assert_eq!(ta == sb, expected, "{a} == {b} (text, value)");
                assert_eq!(sa == tb, expected, "{a} == {b} (value, text)");
                assert_eq!(ta == vb, expected, "{a} == {b} (text against Value)");
            }
        }
        assert_eq!(ShownValue::from_text("-0.0".to_owned()), json!(0.0));
    }
}
