//! Stage 3: evaluation of a [`RuleSet`] over a [`Bundle`].
//!
//! Evaluation cannot fail: a missing document, a path that matches nothing or a value of the
//! wrong type is a documented non-match, visible in the explanation.

use std::borrow::Cow;

use jiff::Timestamp;

use crate::bundle::Bundle;
use crate::compiled::RuleSet;
use crate::diagnosis::{
    ConditionTrace, DIAGNOSIS_VERSION, Diagnosis, Evidence, Finding, MissingInput, NotEvaluated,
    RuleOutcome, RuleTrace, UnreadDocument,
};
use crate::doc::Doc;
use crate::path::{Node, Routes};

mod conditions;
mod evaluator;
mod scratch;
mod shown;
mod values;

use evaluator::Evaluator;
pub use scratch::Scratch;
pub(crate) use scratch::emptied;
use scratch::refilled;
pub(crate) use shown::Redact;

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
        self.evaluate_with_scratch(bundle, as_of, options, &mut Scratch::default())
    }

    /// [`RuleSet::evaluate_with`] in working memory that the caller reuses from one bundle to
    /// the next (one [`Scratch`] per thread): the same diagnosis, without allocating the
    /// evaluation's working lists for every bundle.
    pub fn evaluate_with_scratch(
        &self,
        bundle: &Bundle,
        as_of: Timestamp,
        options: &EvaluateOptions,
        scratch: &mut Scratch,
    ) -> Diagnosis {
        // Every list is emptied and sized for this rule set, whatever the scratch was used for.
        let mut slots = emptied(std::mem::take(&mut scratch.documents));
        let mut unread = emptied(std::mem::take(&mut scratch.unread));
        evaluator::documents(self, bundle, &mut slots, &mut unread);
        let mut found = emptied(std::mem::take(&mut scratch.found));
        // Room for what an evaluation finds: with the default pack, the bench bundles'
        // evaluations did not grow it (callgrind).
        found.reserve(256);
        let mut evidence = emptied(std::mem::take(&mut scratch.evidence));
        evidence.reserve(32);
        let mut evaluator = Evaluator {
            set: self,
            bundle,
            as_of,
            explain: options.explain,
            found,
            documents: slots,
            sources: std::mem::take(&mut scratch.sources),
            resolved: std::mem::take(&mut scratch.resolved),
            fired: std::mem::take(&mut scratch.fired),
            not_evaluated: std::mem::take(&mut scratch.not_evaluated),
            bindings: None,
            captured: emptied(std::mem::take(&mut scratch.captured)),
            routes: scratch
                .routes
                .take()
                .map_or_else(Routes::default, |routes| routes.recycled(usize::MAX)),
            named: std::mem::take(&mut scratch.named),
            evidence,
            times: Default::default(),
        };
        refilled(&mut evaluator.sources, self.sources.len(), None);
        refilled(&mut evaluator.resolved, self.ref_slots, None);
        refilled(&mut evaluator.fired, self.rules.len(), false);
        refilled(&mut evaluator.not_evaluated, self.rules.len(), false);
        refilled(&mut evaluator.named, self.conditions.len(), None);
        // The diagnosis's lists are its own: they are not kept in the scratch.
        let mut findings: Vec<(usize, Finding)> = Vec::new();
        let mut not_evaluated: Vec<(usize, NotEvaluated)> = Vec::new();
        let mut traces: Vec<(usize, RuleTrace)> = Vec::new();
        // The values a finding's message shows, all its values one after the other: one list
        // that every finding reuses.
        let mut shown: Vec<Cow<'_, Doc>> = Vec::with_capacity(16);
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
            if let Some(&by) = rule.superseded_by.iter().find(|&&by| evaluator.fired[by]) {
                if options.explain {
                    let mut stood_down = trace(&rule.id, RuleOutcome::Superseded, Vec::new(), None);
                    stood_down.superseded_by = Some(self.rules[by].id.clone());
                    traces.push((index, stood_down));
                }
                continue;
            }
            let missing: Vec<MissingInput> = rule
                .requires
                .iter()
                .filter(|requirement| !evaluator.has(requirement))
                .map(|requirement| MissingInput {
                    name: requirement.name.clone(),
                    how_to_get: requirement.how_to_get.clone(),
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
            evaluator.captured.clear();
            evaluator.evidence.clear();
            let outcome = evaluator.condition(&rule.when);
            if options.explain {
                let result = if outcome.pass {
                    RuleOutcome::Fired
                } else {
                    RuleOutcome::Silent
                };
                let condition = outcome.trace.map(|trace| *trace);
                traces.push((index, trace(&rule.id, result, Vec::new(), condition)));
            }
            if !outcome.pass {
                continue;
            }
            evaluator.fired[index] = true;
            let mut evidence = std::mem::take(&mut evaluator.evidence);
            // Where each value's shown values end in `shown`.
            let mut ends: smallvec::SmallVec<[usize; 8]> = smallvec::SmallVec::new();
            shown.clear();
            for (_, reference) in &rule.values {
                let span = evaluator.non_null(reference);
                let found = &evaluator.found[span.range()];
                push_shown(&mut shown, found, &evaluator.routes, &self.redact);
                ends.push(shown.len());
                evidence.extend_from_slice(found);
            }
            for id in &rule.captures {
                let captured = evaluator
                    .captured
                    .iter()
                    .filter(|(capture, _)| capture == id)
                    .map(|(_, node)| node);
                push_shown(&mut shown, captured, &evaluator.routes, &self.redact);
                ends.push(shown.len());
            }
            let shown_docs: Vec<&Doc> = shown.iter().map(Cow::as_ref).collect();
            let mut start = 0;
            let values: smallvec::SmallVec<[&[&Doc]; 8]> = ends
                .iter()
                .map(|&end| {
                    let value = &shown_docs[start..end];
                    start = end;
                    value
                })
                .collect();
            let (shown_evidence, omitted_evidence) = to_evidence(
                &evidence,
                &evaluator.routes,
                &self.redact,
                MAX_EVIDENCE,
                bundle,
            );
            // The buffer serves the next rule.
            evaluator.evidence = evidence;
            findings.push((
                index,
                Finding {
                    rule: rule.id.clone(),
                    rule_file: rule.file.clone(),
                    severity: rule.severity,
                    confidence: rule.confidence,
                    title: rule.title.clone(),
                    message: rule
                        .message
                        .render_with(&values, as_of, &mut |value| evaluator.times.known(value)),
                    evidence: shown_evidence,
                    omitted_evidence,
                    remediation: rule.remediation.clone(),
                    references: rule.references.clone(),
                },
            ));
        }
        let unread_documents = unread
            .iter()
            .map(|&name| {
                let known: Vec<&str> = self
                    .read_documents
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .collect();
                UnreadDocument {
                    name: name.to_owned(),
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
            let span = evaluator.non_null(reference);
            if let Some(node) = evaluator.found[span.range()].first() {
                let routes = &evaluator.routes;
                let shown = shown::shown_at(node.value, routes, node.route, &self.redact);
                labels.insert(name.clone(), shown.to_value());
            }
        }
        findings.sort_by_key(|(index, finding)| (finding.severity, *index));
        not_evaluated.sort_by_key(|(index, _)| *index);
        traces.sort_by_key(|(index, _)| *index);
        scratch.give_back(evaluator, unread);
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
        superseded_by: None,
        condition,
    }
}

/// Where a found value is: its document's name and the value, by address.
type Place = (*const u8, *const Doc);

/// Up to how many found values [`to_evidence`] tells apart without hashing.
const FEW_PLACES: usize = 32;

/// Evidence without repeats, paths rendered, values as they may be shown (see [`shown`]): at
/// most `limit` pieces, and how many others there were.
///
/// An object or array that the projected parse built as a skeleton is read from its kept
/// text here, only when it is output, and built only as far as it is shown.
fn to_evidence(
    nodes: &[Node<'_>],
    routes: &Routes<'_>,
    redact: &Redact,
    limit: usize,
    bundle: &Bundle,
) -> (Vec<Evidence>, usize) {
    // The same value of the same document is the same place: no path is built to tell. A
    // few places are told apart by looking through them, more with a hash set.
    let few = nodes.len() <= FEW_PLACES;
    let mut seen_few: smallvec::SmallVec<[Place; FEW_PLACES]> = smallvec::SmallVec::new();
    let mut seen_many: foldhash::HashSet<Place> = foldhash::HashSet::default();
    let mut out = Vec::with_capacity(nodes.len().min(limit));
    let mut left_out = 0;
    for node in nodes {
        let place: Place = (node.doc.as_ptr(), std::ptr::from_ref(node.value));
        let first = if few {
            let first = !seen_few.contains(&place);
            if first {
                seen_few.push(place);
            }
            first
        } else {
            seen_many.insert(place)
        };
        if !first {
            continue;
        }
        if out.len() == limit {
            left_out += 1;
            continue;
        }
        let path = routes.normalized_path(node.route);
        let kept = crate::projection::kept_text(&bundle.raw, node, &path);
        let value = shown::shown_found(node.value, kept, routes, node.route, redact);
        out.push(Evidence {
            document: node.doc.to_owned(),
            value,
            path,
        });
    }
    (out, left_out)
}

/// Appends the values of `nodes` as they may be shown in a message (borrowed when shown as
/// they are) to `shown`.
fn push_shown<'n, 'a: 'n>(
    shown: &mut Vec<Cow<'a, Doc>>,
    nodes: impl IntoIterator<Item = &'n Node<'a>>,
    routes: &Routes<'_>,
    redact: &Redact,
) {
    shown.extend(
        nodes
            .into_iter()
            .map(|node| shown::shown_at(node.value, routes, node.route, redact)),
    );
}
