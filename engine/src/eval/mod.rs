//! Stage 3: evaluation of a [`RuleSet`] over a [`Bundle`].
//!
//! Evaluation cannot fail: a missing document, a path that matches nothing or a value of the
//! wrong type is a documented non-match, visible in the explanation.

use std::borrow::Cow;
use std::ops::Range;

use jiff::Timestamp;

use crate::bundle::Bundle;
use crate::compiled::{Rule, RuleSet};
use crate::diagnosis::{
    ConditionTrace, DIAGNOSIS_VERSION, Diagnosis, Evidence, Finding, MissingInput, NotEvaluated,
    RuleOutcome, RuleTrace, UnreadContextKey, UnreadDocument,
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
        let mut run = self.start(bundle, as_of, options, scratch);
        for &index in &self.evaluation_order {
            self.step(&mut run, index);
        }
        self.finish(run, scratch)
    }

    /// Evaluates every rule over each bundle of a group, each at its own time: the diagnoses
    /// are those [`RuleSet::evaluate_with_scratch`] gives bundle by bundle, in the same order.
    /// Each rule is evaluated over every bundle of the group before the next rule, so that a
    /// rule's compiled form and code serve the whole group while they are in the processor's
    /// caches. `scratches` holds one [`Scratch`] per bundle (it grows to the group's size and
    /// is kept, like a scratch, from one group to the next).
    pub fn evaluate_group_with_scratch(
        &self,
        group: &[(&Bundle, Timestamp)],
        options: &EvaluateOptions,
        scratches: &mut Vec<Scratch>,
    ) -> Vec<Diagnosis> {
        if scratches.len() < group.len() {
            scratches.resize_with(group.len(), || Scratch::new(self));
        }
        let mut runs: Vec<Run<'_>> = group
            .iter()
            .zip(scratches.iter_mut())
            .map(|(&(bundle, as_of), scratch)| self.start(bundle, as_of, options, scratch))
            .collect();
        for &index in &self.evaluation_order {
            for run in &mut runs {
                self.step(run, index);
            }
        }
        runs.into_iter()
            .zip(scratches.iter_mut())
            .map(|(run, scratch)| self.finish(run, scratch))
            .collect()
    }

    /// An evaluation of `bundle` that has evaluated no rule yet.
    fn start<'a>(
        &'a self,
        bundle: &'a Bundle,
        as_of: Timestamp,
        options: &EvaluateOptions,
        scratch: &mut Scratch,
    ) -> Run<'a> {
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
            pair: 0,
            pairs: 0,
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
        Run {
            evaluator,
            unread,
            not_evaluated: Vec::new(),
            traces: Vec::new(),
            fired: smallvec::SmallVec::new(),
            holding: smallvec::SmallVec::new(),
        }
    }

    /// Evaluates the rule at `index` (the next in evaluation order) in `run`.
    fn step<'a>(&'a self, run: &mut Run<'a>, index: usize) {
        let Run {
            evaluator,
            not_evaluated,
            traces,
            fired,
            holding,
            ..
        } = run;
        let explain = evaluator.explain;
        let rule = &self.rules[index];
        if !rule.enabled {
            if explain {
                traces.push((
                    index,
                    trace(&rule.id, RuleOutcome::Disabled, Vec::new(), None),
                ));
            }
            return;
        }
        // A rule that fired names the stand-down before one that stood down but holds.
        let by = rule
            .superseded_by
            .iter()
            .find(|&&by| evaluator.fired[by])
            .or_else(|| rule.superseded_by.iter().find(|by| holding.contains(by)));
        if let Some(&by) = by {
            // A rule that stands down still explains what it supersedes when it holds:
            // it is evaluated (without a finding) only to know that.
            let mut condition = None;
            if rule.supersedes_any
                && rule
                    .requires
                    .iter()
                    .all(|requirement| evaluator.has(requirement))
            {
                let outcome = evaluator.aside(&rule.when);
                if outcome.pass {
                    holding.push(index);
                }
                condition = outcome.trace.map(|trace| *trace);
            }
            if explain {
                let mut stood_down =
                    trace(&rule.id, RuleOutcome::Superseded, Vec::new(), condition);
                stood_down.superseded_by = Some(self.rules[by].id.clone());
                traces.push((index, stood_down));
            }
            return;
        }
        if !rule
            .requires
            .iter()
            .all(|requirement| evaluator.has(requirement))
        {
            evaluator.not_evaluated[index] = true;
            let entry = not_evaluated_entry(rule, evaluator);
            if explain {
                let missing = entry.missing.clone();
                traces.push((
                    index,
                    trace(&rule.id, RuleOutcome::NotEvaluated, missing, None),
                ));
            }
            not_evaluated.push((index, entry));
            return;
        }
        let evidence = evaluator.evidence.len();
        let captured = evaluator.captured.len();
        let outcome = evaluator.condition(&rule.when);
        if explain {
            traces.push((index, rule_trace(&rule.id, outcome.pass, outcome.trace)));
        }
        if !outcome.pass {
            // A condition that fails leaves the stacks as they were; said again here.
            evaluator.evidence.truncate(evidence);
            evaluator.captured.truncate(captured);
            return;
        }
        evaluator.fired[index] = true;
        fired.push(Fired {
            index,
            evidence: evidence..evaluator.evidence.len(),
            captured: captured..evaluator.captured.len(),
        });
    }

    /// The diagnosis of an evaluation that has evaluated every rule; its lists go back to
    /// `scratch`.
    fn finish<'a>(&'a self, run: Run<'a>, scratch: &mut Scratch) -> Diagnosis {
        let Run {
            mut evaluator,
            unread,
            mut not_evaluated,
            mut traces,
            mut fired,
            holding: _,
        } = run;
        let bundle = evaluator.bundle;
        let as_of = evaluator.as_of;
        let explain = evaluator.explain;
        // Findings by severity, then rule order.
        fired.sort_by_key(|fired| (self.rules[fired.index].severity, fired.index));
        let findings = findings(self, &mut evaluator, &fired, bundle, as_of);
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
        let unread_context_keys = unread_context_keys(self, bundle);
        // Labels come in name order: the map is built from them at once.
        let labels = self
            .labels
            .iter()
            .filter_map(|(name, reference)| {
                let span = evaluator.non_null(reference);
                let node = evaluator.found[span.range()].first()?;
                let shown =
                    shown::shown_at(node.value, &evaluator.routes, node.route, &self.redact);
                Some((name.clone(), shown.to_value()))
            })
            .collect();
        not_evaluated.sort_by_key(|(index, _)| *index);
        traces.sort_by_key(|(index, _)| *index);
        scratch.give_back(evaluator, unread);
        Diagnosis {
            version: DIAGNOSIS_VERSION,
            as_of,
            labels,
            unread_documents,
            unread_context_keys,
            findings,
            not_evaluated: not_evaluated.into_iter().map(|(_, n)| n).collect(),
            explain: explain.then(|| traces.into_iter().map(|(_, t)| t).collect()),
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

/// The trace of a rule that was evaluated.
#[cold]
fn rule_trace(rule: &str, pass: bool, condition: Option<Box<ConditionTrace>>) -> RuleTrace {
    let outcome = if pass {
        RuleOutcome::Fired
    } else {
        RuleOutcome::Silent
    };
    trace(rule, outcome, Vec::new(), condition.map(|trace| *trace))
}

/// A rule that misses something it requires: what it misses.
#[cold]
#[inline(never)]
fn not_evaluated_entry<'a>(rule: &'a Rule, evaluator: &mut Evaluator<'a>) -> NotEvaluated {
    let missing = rule
        .requires
        .iter()
        .filter(|requirement| !evaluator.has(requirement))
        .map(|requirement| MissingInput {
            name: requirement.name.clone(),
            how_to_get: requirement.how_to_get.clone(),
        })
        .collect();
    NotEvaluated {
        rule: rule.id.clone(),
        severity: rule.severity,
        title: rule.title.clone(),
        missing,
    }
}

/// An evaluation of one bundle under way: the evaluator, and what the rules evaluated so far
/// came to.
struct Run<'a> {
    evaluator: Evaluator<'a>,
    /// The bundle's documents that no rule reads.
    unread: Vec<&'a str>,
    not_evaluated: Vec<(usize, NotEvaluated)>,
    traces: Vec<(usize, RuleTrace)>,
    /// The rules that fired, in evaluation order, with where their evidence and captures
    /// lie on the evaluator's stacks: the stacks are not emptied from one rule to the next,
    /// so that the findings are built after the loop, one after the other.
    fired: smallvec::SmallVec<[Fired; 8]>,
    /// Rules that stood down but hold: they still hold down the rules they supersede.
    holding: smallvec::SmallVec<[usize; 4]>,
}

/// A rule that fired: where its evidence lies on [`Evaluator::evidence`] and its captures on
/// [`Evaluator::captured`].
struct Fired {
    index: usize,
    evidence: Range<usize>,
    captured: Range<usize>,
}

/// The findings of the rules that `fired`, in that order. Built together, after every rule
/// was evaluated (most rules do not fire): the code that builds them runs in one stretch per
/// bundle, not between the evaluations of other rules.
#[inline(never)]
fn findings<'a>(
    set: &'a RuleSet,
    evaluator: &mut Evaluator<'a>,
    fired: &[Fired],
    bundle: &'a Bundle,
    as_of: Timestamp,
) -> Vec<Finding> {
    let mut findings = Vec::with_capacity(fired.len());
    if fired.is_empty() {
        return findings;
    }
    // The values a finding's message shows, all its values one after the other: one list
    // that every finding reuses.
    let mut shown: Vec<Cow<'a, Doc>> = Vec::with_capacity(16);
    for fired in fired {
        findings.push(finding(set, evaluator, fired, bundle, as_of, &mut shown));
    }
    findings
}

/// The finding of one rule that fired.
fn finding<'a>(
    set: &'a RuleSet,
    evaluator: &mut Evaluator<'a>,
    fired: &Fired,
    bundle: &'a Bundle,
    as_of: Timestamp,
    shown: &mut Vec<Cow<'a, Doc>>,
) -> Finding {
    let rule = &set.rules[fired.index];
    // The rule's evidence, then its values, copied past the top of the stack, and taken
    // off it again once shown.
    let top = evaluator.evidence.len();
    evaluator
        .evidence
        .extend_from_within(fired.evidence.clone());
    // Where each value's shown values end in `shown`.
    let mut ends: smallvec::SmallVec<[usize; 8]> = smallvec::SmallVec::new();
    shown.clear();
    for (_, reference) in &rule.values {
        let span = evaluator.non_null(reference);
        let found = &evaluator.found[span.range()];
        push_shown(shown, found, &evaluator.routes, &set.redact);
        ends.push(shown.len());
        evaluator.evidence.extend_from_slice(found);
    }
    // The join pair of each shown value (0: none), for the message's `{each pair}`.
    let mut pairs: smallvec::SmallVec<[u32; 16]> = smallvec::smallvec![0; shown.len()];
    let captured = &evaluator.captured[fired.captured.clone()];
    for id in &rule.captures {
        let captured = captured
            .iter()
            .filter(|(capture, _, _)| *capture as usize == *id);
        push_shown(
            shown,
            captured.clone().map(|(_, _, node)| node),
            &evaluator.routes,
            &set.redact,
        );
        pairs.extend(captured.map(|(_, pair, _)| *pair));
        ends.push(shown.len());
    }
    let shown_docs: smallvec::SmallVec<[&Doc; 16]> = shown.iter().map(Cow::as_ref).collect();
    let mut start = 0;
    let mut value_pairs: smallvec::SmallVec<[&[u32]; 8]> = smallvec::SmallVec::new();
    let values: smallvec::SmallVec<[&[&Doc]; 8]> = ends
        .iter()
        .map(|&end| {
            value_pairs.push(&pairs[start..end]);
            let value = &shown_docs[start..end];
            start = end;
            value
        })
        .collect();
    let (evidence, omitted_evidence) = to_evidence(
        &evaluator.evidence[top..],
        &evaluator.routes,
        &set.redact,
        MAX_EVIDENCE,
        bundle,
    );
    let times = &evaluator.times;
    let message = rule
        .message
        .render_with(&values, &value_pairs, as_of, &mut |value| {
            times.known(value)
        });
    evaluator.evidence.truncate(top);
    Finding {
        rule: rule.id.clone(),
        rule_file: rule.file.clone(),
        severity: rule.severity,
        confidence: rule.confidence,
        title: rule.title.clone(),
        message,
        evidence,
        omitted_evidence,
        remediation: rule.remediation.clone(),
        references: rule.references.clone(),
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

/// The keys of the bundle's `context` that no rule reads, in key order, each with the closest
/// key that is read: a misspelt key would otherwise be ignored without a word.
#[inline(never)]
fn unread_context_keys(set: &RuleSet, bundle: &Bundle) -> Vec<UnreadContextKey> {
    let (Some(read), Some(context)) = (set.context_keys.as_deref(), bundle.context().as_object())
    else {
        return Vec::new();
    };
    if context.iter().all(|(key, _)| is_read(read, key)) {
        return Vec::new();
    }
    listed_unread(read, context)
}

/// Whether `key` is among the sorted keys `read`.
fn is_read(read: &[String], key: &str) -> bool {
    read.binary_search_by(|name| name.as_str().cmp(key)).is_ok()
}

/// The unread keys of `context`, with suggestions (out of line: most bundles have none).
#[cold]
fn listed_unread(read: &[String], context: &crate::doc::Members) -> Vec<UnreadContextKey> {
    let known: Vec<&str> = read.iter().map(String::as_str).collect();
    context
        .iter()
        .filter(|(key, _)| !is_read(read, key))
        .map(|(key, _)| UnreadContextKey {
            name: key.to_owned(),
            did_you_mean: crate::suggest::closest(key, &known).map(str::to_owned),
        })
        .collect()
}
