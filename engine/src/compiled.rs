//! Stage 2 types: validated rules with every JSONPath, regex, duration and template built.
//!
//! Nothing here is deserialized; [`compile`](crate::compile) is the only way to make them.

use std::sync::Arc;

use jiff::SignedDuration;
use regex::Regex;
use serde_json::Value;

use crate::path::CompiledPath;
use crate::template::Template;
use crate::vocab::{CompareOp, Confidence, JsonType, Pick, Quantifier, Severity};

/// A compiled, immutable rule set: build it once, evaluate it on any number of bundles, from
/// any number of threads (`Send + Sync`).
#[derive(Debug)]
pub struct RuleSet {
    pub(crate) rules: Vec<Rule>,
    /// Named conditions, compiled once for all the rules that use them.
    pub(crate) conditions: Vec<Cond>,
    /// Per named condition: whether its outcome depends on nothing but the bundle (see
    /// [`reusable_conditions`]), so that it is evaluated once per bundle however many rules
    /// use it.
    pub(crate) reusable: Vec<bool>,
    /// Indexes into `rules`, in an order where every rule comes after the rules it tests with
    /// `fired`.
    pub(crate) evaluation_order: Vec<usize>,
    pub(crate) sources: Vec<Source>,
    /// How many distinct references (scope and JSONPath) read the bundle alone: each
    /// [`Ref::slot`] is below this, and evaluation resolves each at most once per bundle.
    pub(crate) ref_slots: usize,
    /// Pack-level labels, in name order.
    pub(crate) labels: Vec<(String, Ref)>,
    /// Every document name some reference or requirement reads, in name order, with its
    /// slot: each [`Ref::document`] and [`Requirement::document`] is one of these slots, below
    /// `read_documents.len()`. Evaluation finds the bundle's documents by walking this list
    /// and the bundle's (both in name order) once.
    pub(crate) read_documents: Vec<(String, usize)>,
    /// The keys of the bundle's `context` that the rules can read, in name order (`None`:
    /// any key), to list the others as unread ([`RuleSet::context_keys`]).
    pub(crate) context_keys: Option<Box<[String]>>,
    /// Object keys whose values are never shown (`redact:` of every loaded file).
    pub(crate) redact: crate::eval::Redact,
    pub(crate) warnings: Vec<crate::error::Problem>,
    /// The names of the files compiled, in layering order (`extends` resolved).
    pub(crate) files: Vec<String>,
}

/// Public facts about one compiled rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleInfo {
    /// The rule's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its severity.
    pub severity: Severity,
    /// The file it was loaded from.
    pub file: String,
    /// False when the rule is switched off with `enabled: false`.
    pub enabled: bool,
    /// Files whose `overrides` changed the rule, in load order.
    pub overridden_by: Vec<String>,
    /// What the rule detects.
    pub description: Option<String>,
    /// Why it matters.
    pub rationale: Option<String>,
    /// What to do, one step per entry.
    pub remediation: Vec<String>,
    /// Articles and documentation pages that back the rule.
    pub references: Vec<String>,
}

impl RuleSet {
    /// The rules, in report order (file order).
    pub fn rules(&self) -> impl ExactSizeIterator<Item = RuleInfo> + '_ {
        self.rules.iter().map(|rule| RuleInfo {
            id: rule.id.clone(),
            title: rule.title.clone(),
            severity: rule.severity,
            file: rule.file.clone(),
            enabled: rule.enabled,
            overridden_by: rule.overridden_by.clone(),
            description: rule.description.clone(),
            rationale: rule.rationale.clone(),
            remediation: rule.remediation.to_vec(),
            references: rule.references.to_vec(),
        })
    }

    /// Problems that did not stop compilation, such as a reference to a document no loaded
    /// file declares.
    pub fn warnings(&self) -> &[crate::error::Problem] {
        &self.warnings
    }

    /// The names of the rules files compiled, in layering order: each file after the files
    /// it `extends`.
    pub fn files(&self) -> &[String] {
        &self.files
    }
}

#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) id: String,
    pub(crate) file: String,
    pub(crate) title: String,
    pub(crate) severity: Severity,
    pub(crate) confidence: Confidence,
    /// A disabled rule never fires and is not reported.
    pub(crate) enabled: bool,
    /// Files whose `overrides` changed this rule.
    pub(crate) overridden_by: Vec<String>,
    pub(crate) description: Option<String>,
    pub(crate) rationale: Option<String>,
    /// Shared by every finding of the rule.
    pub(crate) remediation: Arc<[String]>,
    pub(crate) references: Arc<[String]>,
    pub(crate) requires: Vec<Requirement>,
    /// Rules whose firing makes this one stand down (they `supersede` it).
    pub(crate) superseded_by: Vec<usize>,
    /// Whether this rule supersedes another: then, when it stands down itself, it is still
    /// evaluated, and when it holds it keeps holding down the rules it supersedes.
    pub(crate) supersedes_any: bool,
    /// Named values for the message and the evidence.
    pub(crate) values: Vec<(String, Ref)>,
    /// The tests' captures (`as:`), in the order the message refers to them, as indexes
    /// into the rule set's capture names.
    pub(crate) captures: Vec<usize>,
    pub(crate) when: Cond,
    pub(crate) message: Template,
}

/// Something a rule needs before it can be evaluated.
#[derive(Debug)]
pub(crate) struct Requirement {
    pub(crate) name: String,
    pub(crate) scope: Scope,
    /// For a document, its slot among the names read ([`RuleSet::read_documents`]).
    pub(crate) document: Option<usize>,
    /// What to capture when it is missing.
    pub(crate) how_to_get: String,
}

#[derive(Debug)]
pub(crate) struct Source {
    pub(crate) mode: SourceMode,
    pub(crate) candidates: Vec<Ref>,
    pub(crate) pick: Option<Pick>,
}

/// How a source combines its candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SourceMode {
    /// `first_of`: the first candidate that finds a non-null value.
    FirstFound,
    /// `first_present_of`: the first candidate whose path matches anything, `null` included.
    FirstPresent,
    /// `all_of`: every candidate's values.
    All,
}

/// Where a reference starts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Scope {
    Document(String),
    Context,
    Source(usize),
    /// The left element of the pair a join is testing.
    Left,
    /// The right element of the pair a join is testing.
    Right,
}

/// `name:$.json.path`, compiled.
///
/// In memory, what evaluation reads first when a reference was resolved already (its
/// `slot`) comes first (`repr(C)`): a [`Test`] holds it in its first cache line.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct Ref {
    /// For a reference that reads the bundle alone (not `left:`/`right:`), its index among
    /// the rule set's distinct references: references with the same scope and JSONPath text
    /// share it, so that evaluation selects their values once per bundle.
    pub(crate) slot: Option<u32>,
    /// For a reference to a document, the document's slot among the names read
    /// ([`RuleSet::read_documents`]).
    pub(crate) document: Option<usize>,
    pub(crate) scope: Scope,
    pub(crate) path: CompiledPath,
    /// The text as written, for traces.
    pub(crate) text: String,
}

/// A compiled condition: what evaluation reads (`kind`), with the texts only traces read
/// kept apart, so that the conditions of a list take half a cache line each (two to a line
/// when the list starts on a line; it is only 8-byte aligned).
#[derive(Debug)]
pub(crate) struct Cond {
    pub(crate) kind: CondKind,
    pub(crate) text: Box<CondText>,
}

/// What a trace says of a condition.
#[derive(Debug)]
pub(crate) struct CondText {
    /// Field path in the rules file, for traces.
    pub(crate) field: String,
    /// What the condition tests, in short, for traces: `all`, `item:$.webhook missing true`.
    pub(crate) description: String,
}

#[derive(Debug)]
pub(crate) enum CondKind {
    All(Box<[Cond]>),
    Any(Box<[Cond]>),
    Not(Box<Cond>),
    /// Index into the rule set's named conditions.
    Named(usize),
    Fired(usize),
    Test(Box<Test>),
    Compare(Box<Compare>),
    Join(Box<Join>),
}

/// A `path` test. Everything evaluation reads to test values already resolved (the check,
/// the modifiers and the target's slot) is in its first 64 bytes, one cache line: fields in
/// this order (`repr(C)`), the whole aligned to a line.
#[derive(Debug)]
#[repr(C, align(64))]
pub(crate) struct Test {
    pub(crate) check: Check,
    /// Index into the rule set's capture names: where the passing values go.
    pub(crate) capture: Option<u32>,
    pub(crate) pick: Option<Pick>,
    pub(crate) if_absent: bool,
    pub(crate) if_missing: Option<bool>,
    pub(crate) target: Ref,
}

// What the layout promises: the hot part of a test in one line, two conditions to a line.
const _: () = assert!(
    std::mem::offset_of!(Test, target) + std::mem::offset_of!(Ref, slot) + size_of::<Option<u32>>()
        <= 64
);
const _: () = assert!(size_of::<Cond>() <= 32);

#[derive(Debug)]
pub(crate) enum Check {
    /// `exists: true` (at least one non-null value) or `exists: false` / `missing: true`.
    Exists(bool),
    /// Per-value operators (all must hold for a value to pass), then a quantifier.
    Values(Box<[Op]>, Quant),
}

#[derive(Debug)]
pub(crate) enum Quant {
    Any,
    All,
    None,
    Count(Box<[(NumCmp, f64)]>),
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum NumCmp {
    Eq,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl NumCmp {
    pub(crate) fn holds(self, left: f64, right: f64) -> bool {
        match self {
            NumCmp::Eq => left == right,
            NumCmp::Gt => left > right,
            NumCmp::Gte => left >= right,
            NumCmp::Lt => left < right,
            NumCmp::Lte => left <= right,
        }
    }
}

#[derive(Debug)]
pub(crate) enum Op {
    Equals(Value),
    OneOf(Vec<Value>),
    NoneOf(Vec<Value>),
    Contains(Value),
    ContainsAny(Vec<Value>),
    ContainsNone(Vec<Value>),
    Number(NumCmp, f64),
    Regex(Regex),
    OlderThan(SignedDuration),
    NewerThan(SignedDuration),
    WithinAfter(SignedDuration),
    LaterThan(SignedDuration),
    Type(JsonType),
    /// Whether the value is a readable timestamp (`true`) or not (`false`).
    Timestamp(bool),
}

#[derive(Debug)]
pub(crate) struct Compare {
    pub(crate) left: Ref,
    pub(crate) right: Ref,
    pub(crate) op: CompareOp,
    pub(crate) tolerance: crate::number::Tolerance,
    /// How much earlier (`before`) or later (`after`) the left time must be: zero by default.
    pub(crate) margin: jiff::SignedDuration,
    pub(crate) quantifier: Quantifier,
    pub(crate) if_missing: bool,
}

#[derive(Debug)]
pub(crate) struct Join {
    pub(crate) left: Ref,
    pub(crate) right: Ref,
    pub(crate) on: CompiledPath,
    pub(crate) on_text: String,
    pub(crate) test: JoinTest,
    pub(crate) quantifier: Quantifier,
}

/// What a join tests.
#[derive(Debug)]
pub(crate) enum JoinTest {
    /// Each pair of elements with equal keys, with `where`.
    Pairs(Cond),
    /// Each element of `left` (the side the rule named, put on the left when compiling) whose
    /// key no element of `right` has; its key is the evidence, and the capture's values.
    Unmatched {
        /// Whether the rule said `unmatched: right` (for descriptions).
        swapped: bool,
        /// Index into the rule set's capture names (`as:` beside the join).
        capture: Option<u32>,
    },
}

/// Per named condition, whether its outcome (pass and evidence) depends only on the bundle
/// and `as_of`: it captures nothing (`as:`), tests no rule with `fired` (which changes as rules
/// fire), reads no join pair (`left:`, `right:`) and holds no join. Such a condition gives the
/// same outcome wherever it is used, so evaluation reuses it.
pub(crate) fn reusable_conditions(conditions: &[Cond]) -> Vec<bool> {
    fn reusable(cond: &Cond, conditions: &[Cond], known: &mut [Option<bool>]) -> bool {
        let bundle_only = |reference: &Ref| !matches!(reference.scope, Scope::Left | Scope::Right);
        match &cond.kind {
            CondKind::All(items) | CondKind::Any(items) => {
                items.iter().all(|item| reusable(item, conditions, known))
            }
            CondKind::Not(inner) => reusable(inner, conditions, known),
            CondKind::Named(id) => named(*id, conditions, known),
            CondKind::Fired(_) | CondKind::Join(_) => false,
            CondKind::Test(test) => test.capture.is_none() && bundle_only(&test.target),
            CondKind::Compare(compare) => bundle_only(&compare.left) && bundle_only(&compare.right),
        }
    }
    fn named(id: usize, conditions: &[Cond], known: &mut [Option<bool>]) -> bool {
        if let Some(answer) = known.get(id).copied().flatten() {
            return answer;
        }
        // Compilation refused cycles; an entry being decided counts as not reusable.
        if let Some(slot) = known.get_mut(id) {
            *slot = Some(false);
        }
        let answer = conditions
            .get(id)
            .is_some_and(|cond| reusable(cond, conditions, known));
        if let Some(slot) = known.get_mut(id) {
            *slot = Some(answer);
        }
        answer
    }
    let mut known = vec![None; conditions.len()];
    (0..conditions.len())
        .map(|id| named(id, conditions, &mut known))
        .collect()
}
