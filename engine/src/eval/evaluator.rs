//! The evaluator's state for one bundle: inputs resolved at most once, captures, and how a
//! condition's outcome and trace are recorded.

use jiff::Timestamp;

use super::values::Times;
use super::{MAX_SEEN, to_evidence};
use crate::bundle::Bundle;
use crate::compiled::{Cond, Ref, Requirement, RuleSet, Scope, SourceMode};
use crate::diagnosis::ConditionTrace;
use crate::doc::Doc;
use crate::path::{Node, ROOT, Routes};
use crate::vocab::Pick;

pub(super) struct Evaluator<'a> {
    pub(super) set: &'a RuleSet,
    pub(super) bundle: &'a Bundle,
    pub(super) as_of: Timestamp,
    pub(super) explain: bool,
    /// Every value selected in this evaluation, in runs that [`Span`]s name: what a source, a
    /// reference or a reusable named condition found is kept here once, and read by index.
    pub(super) found: Vec<Node<'a>>,
    /// Per document slot ([`Ref::document`]): the document's name and value, or `None` when
    /// the bundle does not have it ([`documents`]).
    pub(super) documents: Vec<Captured<'a>>,
    /// Per source: not resolved yet (`None`), absent (`Some(None)`), or its values.
    pub(super) sources: Vec<Option<Option<Span>>>,
    /// Per reference slot ([`Ref::slot`]): not resolved yet (`None`), absent (`Some(None)`),
    /// or the values it selects. The same values at the same places, however often read.
    pub(super) resolved: Vec<Option<Option<Span>>>,
    pub(super) fired: Vec<bool>,
    pub(super) not_evaluated: Vec<bool>,
    /// The pair a join is testing.
    pub(super) bindings: Option<(Node<'a>, Node<'a>)>,
    /// The values that passed under a capture name (`as:`, its index) in the rule being
    /// evaluated, with the join pair they passed in ([`Evaluator::pair`]), in the order they
    /// passed: a checkpoint is a length.
    pub(super) captured: Vec<(u32, u32, Node<'a>)>,
    /// The join pair being tested: 0 outside any join, else its number in this evaluation
    /// (from 1), so that a message can show what each pair captured together.
    pub(super) pair: u32,
    /// How many join pairs this evaluation has tested.
    pub(super) pairs: u32,
    /// Every route walked in this evaluation.
    pub(super) routes: Routes<'a>,
    /// Per named condition that is reusable (`RuleSet::reusable`): its outcome and evidence,
    /// once evaluated (only when not explaining, since a trace is built per use).
    pub(super) named: Vec<Option<(bool, Span)>>,
    /// The evidence of the rule being evaluated: a condition that passes appends its
    /// evidence, one that fails leaves it as it was.
    pub(super) evidence: Vec<Node<'a>>,
    /// Timestamps of found values, parsed once each.
    pub(super) times: Times<'a>,
}

/// A document of the bundle, its name and value, or `None` when it was not captured.
pub(super) type Captured<'a> = Option<(&'a str, &'a Doc)>;

/// A run of values in [`Evaluator::found`].
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Span {
    start: usize,
    end: usize,
}

impl Span {
    pub(super) fn range(self) -> std::ops::Range<usize> {
        self.start..self.end
    }

    /// The values appended to `found` since it had `start` values.
    pub(super) fn since(start: usize, found: &[Node<'_>]) -> Span {
        Span {
            start,
            end: found.len(),
        }
    }
}

/// A condition's result; its evidence is on [`Evaluator::evidence`].
pub(super) struct Outcome {
    pub(super) pass: bool,
    /// The trace, when explaining.
    pub(super) trace: Option<Box<ConditionTrace>>,
}

impl<'a> Evaluator<'a> {
    pub(super) fn has(&mut self, requirement: &'a Requirement) -> bool {
        match &requirement.scope {
            Scope::Document(name) => self.document(requirement.document, name).is_some(),
            Scope::Context => self
                .bundle
                .context
                .as_object()
                .is_some_and(|context| !context.is_empty()),
            Scope::Source(id) => self
                .source(*id)
                .is_some_and(|span| self.found[span.range()].iter().any(|n| !n.value.is_null())),
            Scope::Left | Scope::Right => false,
        }
    }

    /// The document `name`, found at its slot.
    fn document(&self, slot: Option<usize>, name: &str) -> Captured<'a> {
        match slot {
            Some(slot) => self.documents[slot],
            None => self
                .bundle
                .documents
                .get_key_value(name)
                .map(|(name, value)| (name.as_str(), value)),
        }
    }

    /// The values a source stands for, or `None` when none of its documents is present.
    pub(super) fn source(&mut self, id: usize) -> Option<Span> {
        if let Some(resolved) = self.sources[id] {
            return resolved;
        }
        let source = &self.set.sources[id];
        // The candidates read, in order, up to the one the mode stops at.
        let mut read: smallvec::SmallVec<[Span; 8]> = smallvec::SmallVec::new();
        for candidate in &source.candidates {
            let Some(span) = self.resolve(candidate) else {
                continue;
            };
            read.push(span);
            let found = &self.found[span.range()];
            match source.mode {
                SourceMode::FirstFound if found.iter().any(|n| !n.value.is_null()) => break,
                SourceMode::FirstPresent if !found.is_empty() => break,
                _ => {}
            }
        }
        let resolved = match read.as_slice() {
            [] => None,
            // One candidate's values, none of them null, all kept: they are the source's.
            [span]
                if source.pick.is_none()
                    && !self.found[span.range()].iter().any(|n| n.value.is_null()) =>
            {
                Some(*span)
            }
            spans => {
                // Their values that are not null, then the one `pick` keeps.
                let start = self.found.len();
                for span in spans {
                    for at in span.range() {
                        let node = self.found[at];
                        if !node.value.is_null() {
                            self.found.push(node);
                        }
                    }
                }
                let end = self.found.len();
                match source.pick {
                    Some(Pick::First) => self.found.truncate(end.min(start + 1)),
                    Some(Pick::Last) if end > start => {
                        self.found[start] = self.found[end - 1];
                        self.found.truncate(start + 1);
                    }
                    _ => {}
                }
                Some(Span::since(start, &self.found))
            }
        };
        self.sources[id] = Some(resolved);
        resolved
    }

    /// Every value `reference` selects, or `None` when its document or source is absent:
    /// selected once per bundle for a reference that reads the bundle alone.
    pub(super) fn resolve(&mut self, reference: &'a Ref) -> Option<Span> {
        let Some(slot) = reference.slot else {
            return self.select(reference);
        };
        let slot = slot as usize;
        if let Some(resolved) = self.resolved[slot] {
            return resolved;
        }
        let resolved = self.select(reference);
        self.resolved[slot] = Some(resolved);
        resolved
    }

    /// Every value `reference` selects, walked now and appended to `found`.
    fn select(&mut self, reference: &'a Ref) -> Option<Span> {
        let base = match &reference.scope {
            Scope::Document(name) => {
                let (name, value) = self.document(reference.document, name)?;
                Node {
                    doc: name,
                    value,
                    route: ROOT,
                }
            }
            Scope::Context => Node {
                doc: "context",
                value: &self.bundle.context,
                route: ROOT,
            },
            Scope::Source(id) => {
                let bases = self.source(*id)?;
                if reference.path.is_root() {
                    // `source:$` selects each of the source's values, where they are.
                    return Some(bases);
                }
                let start = self.found.len();
                for at in bases.range() {
                    let base = self.found[at];
                    reference
                        .path
                        .select(base, &mut self.routes, &mut self.found);
                }
                return Some(Span::since(start, &self.found));
            }
            Scope::Left => self.bindings?.0,
            Scope::Right => self.bindings?.1,
        };
        let start = self.found.len();
        reference
            .path
            .select(base, &mut self.routes, &mut self.found);
        Some(Span::since(start, &self.found))
    }

    /// The values `reference` selects that are not `null` (none when it is absent).
    pub(super) fn non_null(&mut self, reference: &'a Ref) -> Span {
        let Some(span) = self.resolve(reference) else {
            return Span::default();
        };
        if !self.found[span.range()].iter().any(|n| n.value.is_null()) {
            return span;
        }
        let start = self.found.len();
        for at in span.range() {
            let node = self.found[at];
            if !node.value.is_null() {
                self.found.push(node);
            }
        }
        Span::since(start, &self.found)
    }

    /// How many values the rule being evaluated has captured so far.
    pub(super) fn checkpoint(&self) -> usize {
        self.captured.len()
    }

    /// Forgets values captured since `checkpoint`.
    pub(super) fn rollback(&mut self, checkpoint: usize) {
        self.captured.truncate(checkpoint);
    }

    /// The outcome, with its trace when explaining: the values `seen` (the first
    /// [`MAX_SEEN`]) and a `note` that runs only when explaining.
    #[inline]
    pub(super) fn finish(
        &self,
        cond: &Cond,
        pass: bool,
        children: Vec<ConditionTrace>,
        note: impl FnOnce() -> Option<String>,
        seen: &[Node<'a>],
    ) -> Outcome {
        if !self.explain {
            return Outcome { pass, trace: None };
        }
        self.traced(cond, pass, children, note(), seen)
    }

    /// [`Evaluator::finish`] when explaining, kept out of line.
    #[cold]
    #[inline(never)]
    fn traced(
        &self,
        cond: &Cond,
        pass: bool,
        children: Vec<ConditionTrace>,
        note: Option<String>,
        seen: &[Node<'a>],
    ) -> Outcome {
        let trace = Box::new(ConditionTrace {
            field: cond.text.field.clone(),
            test: cond.text.description.clone(),
            result: pass,
            note,
            seen: to_evidence(seen, &self.routes, &self.set.redact, MAX_SEEN, self.bundle).0,
            children,
        });
        Outcome {
            pass,
            trace: Some(trace),
        }
    }
}

/// The bundle's documents by slot ([`RuleSet::read_documents`]) into `slots`, and the names
/// of those no reference or requirement reads into `unread`, in name order (both emptied
/// first): the names read and the bundle's documents are both in name order, and walked once
/// together.
pub(super) fn documents<'a>(
    set: &RuleSet,
    bundle: &'a Bundle,
    slots: &mut Vec<Captured<'a>>,
    unread: &mut Vec<&'a str>,
) {
    super::scratch::refilled(slots, set.read_documents.len(), None);
    unread.clear();
    let mut read = set.read_documents.iter().peekable();
    for (name, value) in &bundle.documents {
        while read.next_if(|(known, _)| known < name).is_some() {}
        match read.next_if(|(known, _)| known == name) {
            Some((_, slot)) => slots[*slot] = Some((name.as_str(), value)),
            None => unread.push(name.as_str()),
        }
    }
}

pub(super) fn absent_name(reference: &Ref) -> String {
    let name = reference.text.split(':').next().unwrap_or_default();
    match reference.scope {
        Scope::Source(_) => format!("source {name} (none of its documents was captured)"),
        _ => format!("document {name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::{RuleText, compile};
    use proptest::prelude::*;

    const NAMES: [&str; 10] = [
        "a",
        "aa",
        "ab",
        "b",
        "b_c",
        "item_get",
        "item_gets",
        "y",
        "z",
        "zz",
    ];

    proptest! {
        /// Walking the names read and the bundle's documents together finds what a lookup by
        /// name finds, and leaves unread exactly the documents no rule reads, in name order.
        #[test]
        fn documents_by_slot_are_those_found_by_name(
            read in prop::sample::subsequence(NAMES.to_vec(), 1..=NAMES.len()),
            present in prop::sample::subsequence(NAMES.to_vec(), 0..=NAMES.len()),
            shuffle in any::<bool>(),
        ) {
            // Rules read the chosen names, in an order other than the names' own.
            let mut order = read.clone();
            if shuffle {
                order.reverse();
            }
            let tests: Vec<String> = order
                .iter()
                .map(|name| format!("{{ path: \"{name}:$.x\", exists: true }}"))
                .collect();
            let text = format!(
                "rules:\n  - {{ id: r, title: R, severity: info, when: {{ any: [{}] }}, message: m }}\n",
                tests.join(", ")
            );
            let set = compile(&[RuleText { name: "r.yaml", text: &text }]).unwrap();
            let mut bundle = Bundle::default();
            for name in &present {
                bundle.insert_document(name, serde_json::json!({ "x": *name })).unwrap();
            }
            let (mut slots, mut unread) = (Vec::new(), Vec::new());
            documents(&set, &bundle, &mut slots, &mut unread);
            prop_assert_eq!(slots.len(), read.len());
            for (name, slot) in &set.read_documents {
                let expected = bundle
                    .documents
                    .get_key_value(name)
                    .map(|(name, value)| (name.as_str(), value));
                prop_assert_eq!(slots[*slot].map(|(n, _)| n), expected.map(|(n, _)| n));
                let same = match (slots[*slot], expected) {
                    (Some((_, l)), Some((_, r))) => std::ptr::eq(l, r),
                    (l, r) => l.is_none() && r.is_none(),
                };
                prop_assert!(same, "{}", name);
            }
            let expected: Vec<&str> = bundle
                .documents
                .keys()
                .map(String::as_str)
                .filter(|name| !read.contains(name))
                .collect();
            prop_assert_eq!(unread, expected);
        }
    }
}
