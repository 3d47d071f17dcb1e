//! Stage 3: evaluation of a [`RuleSet`] over a [`Bundle`].
//!
//! Evaluation cannot fail: a missing document, a path that matches nothing or a value of the
//! wrong type is a documented non-match, visible in the explanation.

use std::collections::HashSet;
use std::rc::Rc;

use jiff::Timestamp;
use serde_json::Value;

use crate::bundle::Bundle;
use crate::compiled::{
    Check, Compare, Cond, CondKind, Join, Op, Quant, Ref, Requirement, RuleSet, Scope, Test,
};
use crate::diagnosis::{
    ConditionTrace, DIAGNOSIS_VERSION, Diagnosis, Evidence, Finding, MissingInput, NotEvaluated,
    RuleOutcome, RuleTrace, UnreadDocument,
};
use crate::path::{Node, ROOT, Routes};
use crate::time::timestamp_of;
use crate::vocab::{CompareOp, JsonType, Pick, Quantifier};

/// Options for [`RuleSet::evaluate_with`].
#[derive(Debug, Clone, Default)]
pub struct EvaluateOptions {
    /// Also return, per rule, each condition's result and the values it saw.
    pub explain: bool,
}

/// How many values an explanation lists per condition before it stops.
const MAX_SEEN: usize = 20;

/// How many pieces of evidence a finding lists; the rest are counted in `omitted_evidence`.
const MAX_EVIDENCE: usize = 50;

impl RuleSet {
    /// Evaluates every rule over `bundle` at the time `as_of`.
    pub fn evaluate(&self, bundle: &Bundle, as_of: Timestamp) -> Diagnosis {
        self.evaluate_with(bundle, as_of, &EvaluateOptions::default())
    }

    /// Evaluates every rule, with options (such as an explanation of every rule).
    pub fn evaluate_with(
        &self,
        bundle: &Bundle,
        as_of: Timestamp,
        options: &EvaluateOptions,
    ) -> Diagnosis {
        let mut evaluator = Evaluator {
            set: self,
            bundle,
            as_of,
            explain: options.explain,
            sources: vec![None; self.sources.len()],
            fired: vec![false; self.rules.len()],
            not_evaluated: vec![false; self.rules.len()],
            bindings: None,
            captured: vec![Vec::new(); self.capture_count],
            routes: Routes::default(),
        };
        let mut findings: Vec<(usize, Finding)> = Vec::new();
        let mut not_evaluated: Vec<(usize, NotEvaluated)> = Vec::new();
        let mut traces: Vec<(usize, RuleTrace)> = Vec::new();
        for &index in &self.evaluation_order {
            let rule = &self.rules[index];
            if !rule.enabled {
                if options.explain {
                    traces.push((
                        index,
                        trace(&rule.id, RuleOutcome::Disabled, Vec::new(), None),
                    ));
                }
                continue;
            }
            let missing: Vec<MissingInput> = rule
                .requires
                .iter()
                .filter(|requirement| !evaluator.has(requirement))
                .map(|requirement| MissingInput {
                    name: requirement.name.clone(),
                    capture: requirement.capture.clone(),
                })
                .collect();
            if !missing.is_empty() {
                evaluator.not_evaluated[index] = true;
                if options.explain {
                    traces.push((
                        index,
                        trace(&rule.id, RuleOutcome::NotEvaluated, missing.clone(), None),
                    ));
                }
                not_evaluated.push((
                    index,
                    NotEvaluated {
                        rule: rule.id.clone(),
                        severity: rule.severity,
                        title: rule.title.clone(),
                        missing,
                    },
                ));
                continue;
            }
            for id in &rule.captures {
                evaluator.captured[*id].clear();
            }
            let outcome = evaluator.condition(&rule.when);
            if options.explain {
                let result = if outcome.pass {
                    RuleOutcome::Fired
                } else {
                    RuleOutcome::Silent
                };
                traces.push((index, trace(&rule.id, result, Vec::new(), outcome.trace)));
            }
            if !outcome.pass {
                continue;
            }
            evaluator.fired[index] = true;
            let mut evidence = outcome.evidence;
            let mut values = Vec::with_capacity(rule.values.len() + rule.captures.len());
            for (_, reference) in &rule.values {
                let found = evaluator.non_null(reference);
                values.push(found.iter().map(|node| node.value).collect::<Vec<_>>());
                evidence.extend(found);
            }
            for id in &rule.captures {
                let captured = &evaluator.captured[*id];
                values.push(captured.iter().map(|node| node.value).collect());
            }
            let mut evidence = to_evidence(&evidence, &evaluator.routes);
            let omitted_evidence = evidence.len().saturating_sub(MAX_EVIDENCE);
            evidence.truncate(MAX_EVIDENCE);
            findings.push((
                index,
                Finding {
                    rule: rule.id.clone(),
                    source: rule.file.clone(),
                    severity: rule.severity,
                    confidence: rule.confidence,
                    title: rule.title.clone(),
                    message: rule.message.render(&values, as_of),
                    evidence,
                    omitted_evidence,
                    remediation: rule.remediation.clone(),
                    references: rule.references.clone(),
                },
            ));
        }
        let unread_documents = bundle
            .documents
            .keys()
            .filter(|name| !self.read_documents.contains(*name))
            .map(|name| {
                let known: Vec<&str> = self.read_documents.iter().map(String::as_str).collect();
                UnreadDocument {
                    name: name.clone(),
                    did_you_mean: crate::suggest::closest(name, &known)
                        .or_else(|| {
                            let lower = name.to_lowercase().replace('-', "_");
                            known.iter().copied().find(|k| *k == lower)
                        })
                        .map(str::to_owned),
                }
            })
            .collect();
        let mut labels = std::collections::BTreeMap::new();
        for (name, reference) in &self.labels {
            if let Some(node) = evaluator.non_null(reference).into_iter().next() {
                labels.insert(name.clone(), node.value.clone());
            }
        }
        findings.sort_by_key(|(index, finding)| (finding.severity, *index));
        not_evaluated.sort_by_key(|(index, _)| *index);
        traces.sort_by_key(|(index, _)| *index);
        Diagnosis {
            version: DIAGNOSIS_VERSION,
            as_of,
            labels,
            unread_documents,
            findings: findings.into_iter().map(|(_, f)| f).collect(),
            not_evaluated: not_evaluated.into_iter().map(|(_, n)| n).collect(),
            explain: options
                .explain
                .then(|| traces.into_iter().map(|(_, t)| t).collect()),
        }
    }
}

fn trace(
    rule: &str,
    outcome: RuleOutcome,
    missing: Vec<MissingInput>,
    condition: Option<ConditionTrace>,
) -> RuleTrace {
    RuleTrace {
        rule: rule.to_owned(),
        outcome,
        missing,
        condition,
    }
}

/// Evidence without repeats, paths rendered.
fn to_evidence(nodes: &[Node<'_>], routes: &Routes<'_>) -> Vec<Evidence> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(nodes.len());
    for node in nodes {
        let path = routes.normalized_path(node.route);
        if seen.insert((node.doc, path.clone())) {
            out.push(Evidence {
                document: node.doc.to_owned(),
                path,
                value: node.value.clone(),
            });
        }
    }
    out
}

struct Evaluator<'a> {
    set: &'a RuleSet,
    bundle: &'a Bundle,
    as_of: Timestamp,
    explain: bool,
    /// Per source: not resolved yet (`None`), absent (`Some(None)`), or its values.
    sources: Vec<Option<Option<Rc<[Node<'a>]>>>>,
    fired: Vec<bool>,
    not_evaluated: Vec<bool>,
    /// The pair a join is testing.
    bindings: Option<(Node<'a>, Node<'a>)>,
    /// Per capture name (`as:`), the values that passed in the rule being evaluated.
    captured: Vec<Vec<Node<'a>>>,
    /// Every route walked in this evaluation.
    routes: Routes<'a>,
}

struct Outcome<'a> {
    pass: bool,
    evidence: Vec<Node<'a>>,
    trace: Option<ConditionTrace>,
}

impl<'a> Evaluator<'a> {
    fn has(&mut self, requirement: &'a Requirement) -> bool {
        match &requirement.scope {
            Scope::Document(name) => self.bundle.documents.contains_key(name),
            Scope::Context => self
                .bundle
                .context
                .as_object()
                .is_some_and(|context| !context.is_empty()),
            Scope::Source(id) => self
                .source(*id)
                .is_some_and(|nodes| nodes.iter().any(|n| !n.value.is_null())),
            Scope::Left | Scope::Right => false,
        }
    }

    /// The values a source stands for, or `None` when none of its documents is present.
    fn source(&mut self, id: usize) -> Option<Rc<[Node<'a>]>> {
        if let Some(resolved) = &self.sources[id] {
            return resolved.clone();
        }
        let source = &self.set.sources[id];
        let mut present = false;
        let mut out = Vec::new();
        for candidate in &source.candidates {
            let Some(nodes) = self.resolve(candidate) else {
                continue;
            };
            present = true;
            let before = out.len();
            out.extend(nodes.into_iter().filter(|n| !n.value.is_null()));
            if source.first_only && out.len() > before {
                break;
            }
        }
        let resolved: Option<Rc<[Node<'a>]>> = present.then(|| out.into());
        self.sources[id] = Some(resolved.clone());
        resolved
    }

    /// Every value `reference` selects, or `None` when its document or source is absent.
    fn resolve(&mut self, reference: &'a Ref) -> Option<Vec<Node<'a>>> {
        let mut out = Vec::new();
        match &reference.scope {
            Scope::Document(name) => {
                let (name, value) = self.bundle.documents.get_key_value(name)?;
                let base = Node {
                    doc: name,
                    value,
                    route: ROOT,
                };
                reference.path.select(base, &mut self.routes, &mut out);
            }
            Scope::Context => {
                let base = Node {
                    doc: "context",
                    value: &self.bundle.context,
                    route: ROOT,
                };
                reference.path.select(base, &mut self.routes, &mut out);
            }
            Scope::Source(id) => {
                let bases = self.source(*id)?;
                for base in bases.iter() {
                    reference.path.select(*base, &mut self.routes, &mut out);
                }
            }
            Scope::Left => reference
                .path
                .select(self.bindings?.0, &mut self.routes, &mut out),
            Scope::Right => reference
                .path
                .select(self.bindings?.1, &mut self.routes, &mut out),
        }
        Some(out)
    }

    fn non_null(&mut self, reference: &'a Ref) -> Vec<Node<'a>> {
        let mut nodes = self.resolve(reference).unwrap_or_default();
        nodes.retain(|node| !node.value.is_null());
        nodes
    }

    fn condition(&mut self, cond: &'a Cond) -> Outcome<'a> {
        match &cond.kind {
            CondKind::All(items) => {
                let checkpoint = self.checkpoint();
                let mut evidence = Vec::new();
                let mut children = Vec::new();
                let mut pass = true;
                for item in items {
                    let outcome = self.condition(item);
                    children.extend(outcome.trace);
                    if outcome.pass {
                        evidence.extend(outcome.evidence);
                    } else {
                        pass = false;
                        if !self.explain {
                            break;
                        }
                    }
                }
                if !pass {
                    evidence.clear();
                    // A failed `all` captures nothing, even when explaining evaluates on.
                    self.rollback(&checkpoint);
                }
                self.finish(cond, pass, evidence, children, || None)
            }
            CondKind::Any(items) => {
                let mut evidence = Vec::new();
                let mut children = Vec::new();
                let mut pass = false;
                for item in items {
                    let outcome = self.condition(item);
                    children.extend(outcome.trace);
                    if outcome.pass {
                        pass = true;
                        evidence.extend(outcome.evidence);
                    }
                }
                self.finish(cond, pass, evidence, children, || None)
            }
            CondKind::Not(inner) => {
                let checkpoint = self.checkpoint();
                let outcome = self.condition(inner);
                // What passed under a `not` is not what the rule found.
                self.rollback(&checkpoint);
                let children = outcome.trace.into_iter().collect();
                self.finish(cond, !outcome.pass, Vec::new(), children, || None)
            }
            CondKind::Named(id) => {
                let outcome = self.condition(&self.set.conditions[*id]);
                let children = outcome.trace.into_iter().collect();
                self.finish(cond, outcome.pass, outcome.evidence, children, || None)
            }
            CondKind::Fired(index) => {
                let pass = self.fired[*index];
                let note = || {
                    let rule = &self.set.rules[*index];
                    if self.not_evaluated[*index] {
                        Some(format!("rule {} was not evaluated", rule.id))
                    } else if !rule.enabled {
                        Some(format!("rule {} is disabled", rule.id))
                    } else {
                        None
                    }
                };
                self.finish(cond, pass, Vec::new(), Vec::new(), note)
            }
            CondKind::Test(test) => self.test(cond, test),
            CondKind::Compare(compare) => self.compare(cond, compare),
            CondKind::Join(join) => self.join(cond, join),
        }
    }

    /// The outcome, with its trace when explaining. `note` runs only when explaining.
    /// How many values each capture holds now.
    fn checkpoint(&self) -> Vec<usize> {
        self.captured.iter().map(Vec::len).collect()
    }

    /// Forgets values captured since `checkpoint`.
    fn rollback(&mut self, checkpoint: &[usize]) {
        for (captured, length) in self.captured.iter_mut().zip(checkpoint) {
            captured.truncate(*length);
        }
    }

    fn finish(
        &self,
        cond: &Cond,
        pass: bool,
        evidence: Vec<Node<'a>>,
        children: Vec<ConditionTrace>,
        note: impl FnOnce() -> Option<String>,
    ) -> Outcome<'a> {
        self.finish_seen(cond, pass, evidence, children, note, &[])
    }

    fn finish_seen(
        &self,
        cond: &Cond,
        pass: bool,
        evidence: Vec<Node<'a>>,
        children: Vec<ConditionTrace>,
        note: impl FnOnce() -> Option<String>,
        seen: &[Node<'a>],
    ) -> Outcome<'a> {
        let trace = self.explain.then(|| ConditionTrace {
            field: cond.field.clone(),
            test: cond.description.clone(),
            result: pass,
            note: note(),
            seen: to_evidence(&seen[..seen.len().min(MAX_SEEN)], &self.routes),
            children,
        });
        Outcome {
            pass,
            evidence,
            trace,
        }
    }

    fn test(&mut self, cond: &Cond, test: &'a Test) -> Outcome<'a> {
        let Some(mut values) = self.resolve(&test.target) else {
            let note = || Some(format!("{} is absent", absent_name(&test.target)));
            return self.finish(cond, test.if_absent, Vec::new(), Vec::new(), note);
        };
        let nulls: Vec<Node<'a>> = if matches!(test.check, Check::Exists(false)) {
            values
                .iter()
                .filter(|n| n.value.is_null())
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        values.retain(|node| !node.value.is_null());
        match test.pick {
            Some(Pick::First) => values.truncate(1),
            Some(Pick::Last) => {
                let last = values.pop();
                values = last.into_iter().collect();
            }
            None => {}
        }
        let (pass, evidence, note) = match &test.check {
            Check::Exists(wanted) => {
                let pass = values.is_empty() != *wanted;
                let evidence = match (pass, *wanted) {
                    (false, _) => Vec::new(),
                    (true, true) => values.clone(),
                    // A null that was found is evidence of absence.
                    (true, false) => nulls,
                };
                let note = values.is_empty().then_some("nothing matched");
                (pass, evidence, note)
            }
            Check::Values(ops, quant) => {
                let counting = matches!(quant, Quant::Count(_));
                if values.is_empty() && !(counting && test.if_missing.is_none()) {
                    let pass = test.if_missing.unwrap_or(matches!(quant, Quant::None));
                    (pass, Vec::new(), Some("nothing matched"))
                } else {
                    let passing: Vec<Node<'a>> = values
                        .iter()
                        .filter(|node| ops.iter().all(|op| self.holds(op, node.value)))
                        .cloned()
                        .collect();
                    let pass = match quant {
                        Quant::Any => !passing.is_empty(),
                        Quant::All => passing.len() == values.len(),
                        Quant::None => passing.is_empty(),
                        Quant::Count(bounds) => bounds
                            .iter()
                            .all(|(cmp, bound)| cmp.holds(passing.len() as f64, *bound)),
                    };
                    let evidence = match (pass, quant) {
                        (false, _) => Vec::new(),
                        (true, Quant::None) => values.clone(),
                        (true, _) => passing,
                    };
                    (pass, evidence, None)
                }
            }
        };
        // A capture holds values that passed: none for `missing` or `quantifier: none`.
        let captures_values = match &test.check {
            Check::Exists(wanted) => *wanted,
            Check::Values(_, quant) => !matches!(quant, Quant::None),
        };
        if let (true, true, Some(index)) = (pass, captures_values, test.capture) {
            self.captured[index].extend(evidence.iter().cloned());
        }
        let note = || note.map(str::to_owned);
        self.finish_seen(cond, pass, evidence, Vec::new(), note, &values)
    }

    fn holds(&self, op: &Op, value: &Value) -> bool {
        match op {
            Op::Equals(expected) => json_eq(value, expected),
            Op::OneOf(list) => list.iter().any(|item| json_eq(value, item)),
            Op::NoneOf(list) => !list.iter().any(|item| json_eq(value, item)),
            Op::Contains(item) => value
                .as_array()
                .is_some_and(|items| items.iter().any(|v| json_eq(v, item))),
            Op::ContainsAny(list) => value.as_array().is_some_and(|items| {
                items
                    .iter()
                    .any(|v| list.iter().any(|item| json_eq(v, item)))
            }),
            Op::ContainsNone(list) => value.as_array().is_some_and(|items| {
                !items
                    .iter()
                    .any(|v| list.iter().any(|item| json_eq(v, item)))
            }),
            Op::Number(cmp, bound) => value.as_f64().is_some_and(|n| cmp.holds(n, *bound)),
            Op::Regex(regex) => value.as_str().is_some_and(|text| regex.is_match(text)),
            Op::OlderThan(limit) => {
                timestamp_of(value).is_some_and(|at| self.as_of.duration_since(at) > *limit)
            }
            Op::NewerThan(limit) => {
                timestamp_of(value).is_some_and(|at| self.as_of.duration_since(at) < *limit)
            }
            Op::WithinAfter(limit) => timestamp_of(value).is_some_and(|at| {
                let ahead = at.duration_since(self.as_of);
                !ahead.is_negative() && ahead <= *limit
            }),
            Op::LaterThan(limit) => {
                timestamp_of(value).is_some_and(|at| at.duration_since(self.as_of) > *limit)
            }
            Op::Type(kind) => match kind {
                JsonType::Object => value.is_object(),
                JsonType::Array => value.is_array(),
                JsonType::String => value.is_string(),
                JsonType::Number => value.is_number(),
                JsonType::Boolean => value.is_boolean(),
            },
        }
    }

    fn compare(&mut self, cond: &Cond, compare: &'a Compare) -> Outcome<'a> {
        let left = self.non_null(&compare.left);
        let right = self.non_null(&compare.right);
        let seen = || {
            let mut seen = left.clone();
            seen.extend(right.iter().cloned());
            seen
        };
        if left.is_empty() || right.is_empty() {
            let note = || Some("one side matched nothing".to_owned());
            let seen = if self.explain { seen() } else { Vec::new() };
            return self.finish_seen(
                cond,
                compare.if_missing,
                Vec::new(),
                Vec::new(),
                note,
                &seen,
            );
        }
        let mut passing = Vec::new();
        let mut total = 0;
        let mut passed = 0;
        for l in &left {
            for r in &right {
                total += 1;
                if compare_values(compare.op, l.value, r.value, compare.tolerance) {
                    passed += 1;
                    passing.push(*l);
                    passing.push(*r);
                }
            }
        }
        let pass = quantified(compare.quantifier, passed, total);
        let evidence = match (pass, compare.quantifier) {
            (false, _) => Vec::new(),
            (true, Quantifier::None) => seen(),
            (true, _) => passing,
        };
        let seen = if self.explain { seen() } else { Vec::new() };
        self.finish_seen(cond, pass, evidence, Vec::new(), || None, &seen)
    }

    fn join(&mut self, cond: &Cond, join: &'a Join) -> Outcome<'a> {
        let checkpoint = self.checkpoint();
        let left = self.non_null(&join.left);
        let right = self.non_null(&join.right);
        let key_of = |node: Node<'a>, routes: &mut Routes<'a>| {
            let mut keys = Vec::new();
            join.on.select(node, routes, &mut keys);
            keys.into_iter().find(|key| !key.value.is_null())
        };
        // Right elements by key, so that pairing is linear; pairs keep document order.
        let mut by_key: std::collections::HashMap<JoinKey, Vec<(usize, Node<'a>)>> =
            std::collections::HashMap::new();
        for (index, r) in right.iter().enumerate() {
            if let Some(key) = key_of(*r, &mut self.routes) {
                by_key
                    .entry(JoinKey::of(key.value))
                    .or_default()
                    .push((index, key));
            }
        }
        let mut evidence = Vec::new();
        let mut children = Vec::new();
        let mut total = 0;
        let mut passed = 0;
        for l in &left {
            let Some(left_key) = key_of(*l, &mut self.routes) else {
                continue;
            };
            let Some(matches) = by_key.get(&JoinKey::of(left_key.value)) else {
                continue;
            };
            for (index, right_key) in matches {
                let r = &right[*index];
                total += 1;
                let outer = self.bindings.replace((*l, *r));
                let checkpoint = self.checkpoint();
                let outcome = self.condition(&join.where_);
                if !outcome.pass {
                    self.rollback(&checkpoint);
                }
                self.bindings = outer;
                if children.len() < MAX_SEEN {
                    children.extend(outcome.trace);
                }
                if outcome.pass {
                    passed += 1;
                    evidence.push(left_key);
                    evidence.push(*right_key);
                    evidence.extend(outcome.evidence);
                }
            }
        }
        let pass = quantified(join.quantifier, passed, total);
        if !pass || join.quantifier == Quantifier::None {
            evidence.clear();
            self.rollback(&checkpoint);
        }
        let note = || (total == 0).then(|| "no pair of elements had equal keys".to_owned());
        self.finish(cond, pass, evidence, children, note)
    }
}

fn quantified(quantifier: Quantifier, passed: usize, total: usize) -> bool {
    match quantifier {
        Quantifier::Any => passed > 0,
        Quantifier::All => total > 0 && passed == total,
        Quantifier::None => passed == 0,
    }
}

fn absent_name(reference: &Ref) -> String {
    let name = reference.text.split(':').next().unwrap_or_default();
    match reference.scope {
        Scope::Source(_) => format!("source {name} (none of its documents was captured)"),
        _ => format!("document {name}"),
    }
}

fn compare_values(op: CompareOp, left: &Value, right: &Value, tolerance: f64) -> bool {
    let numbers = left.as_f64().zip(right.as_f64());
    match op {
        CompareOp::Equals => match numbers {
            Some((l, r)) => (l - r).abs() <= tolerance,
            None => left == right,
        },
        CompareOp::Differs => match numbers {
            Some((l, r)) => (l - r).abs() > tolerance,
            None => left != right,
        },
        CompareOp::Gt => numbers.is_some_and(|(l, r)| l > r),
        CompareOp::Gte => numbers.is_some_and(|(l, r)| l >= r),
        CompareOp::Lt => numbers.is_some_and(|(l, r)| l < r),
        CompareOp::Lte => numbers.is_some_and(|(l, r)| l <= r),
        CompareOp::Before | CompareOp::After => match (timestamp_of(left), timestamp_of(right)) {
            (Some(l), Some(r)) if op == CompareOp::Before => l < r,
            (Some(l), Some(r)) => l > r,
            _ => false,
        },
    }
}

/// A join key, hashable, equal exactly when the values are [`json_eq`].
#[derive(Debug, PartialEq, Eq, Hash)]
enum JoinKey {
    Number(u64),
    Text(String),
    Other(String),
}

impl JoinKey {
    fn of(value: &Value) -> JoinKey {
        match value {
            // `+ 0.0` folds -0.0 into 0.0, which compare equal.
            Value::Number(n) => match n.as_f64() {
                Some(f) => JoinKey::Number((f + 0.0).to_bits()),
                None => JoinKey::Other(n.to_string()),
            },
            Value::String(text) => JoinKey::Text(text.clone()),
            other => JoinKey::Other(other.to_string()),
        }
    }
}

/// JSON equality where numbers compare by value (`1` equals `1.0`).
fn json_eq(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(l), Value::Number(r)) => match (l.as_f64(), r.as_f64()) {
            (Some(l), Some(r)) => l == r,
            _ => l == r,
        },
        _ => left == right,
    }
}
