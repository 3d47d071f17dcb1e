//! Stage 3 output: plain data describing what was found, in a deterministic order.
//!
//! The JSON form of [`Diagnosis`] is a versioned contract, described by
//! `json_schema(SchemaKind::Diagnosis)` (the command line's `schemas/diagnosis.schema.json` is
//! the same object plus its `as_of_from`). Fields shown only when not empty (`labels`,
//! `unread_documents`, `explain`, `omitted_evidence`) are optional in the schema:
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
    pub value: Value,
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
    /// The rule that fired and made this one stand down, for superseded rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
    /// The condition tree with each node's result, for evaluated rules.
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
