//! The evaluator's state for one bundle: inputs resolved at most once, captures, and how a
//! condition's outcome and trace are recorded.

use std::rc::Rc;

use jiff::Timestamp;

use super::{MAX_SEEN, to_evidence};
use crate::bundle::Bundle;
use crate::compiled::{Cond, Ref, Requirement, RuleSet, Scope, SourceMode};
use crate::diagnosis::ConditionTrace;
use crate::path::{Node, Nodes, ROOT, Routes};
use crate::vocab::Pick;

pub(super) struct Evaluator<'a> {
    pub(super) set: &'a RuleSet,
    pub(super) bundle: &'a Bundle,
    pub(super) as_of: Timestamp,
    pub(super) explain: bool,
    /// Per source: not resolved yet (`None`), absent (`Some(None)`), or its values.
    pub(super) sources: Vec<Option<Option<Rc<[Node<'a>]>>>>,
    pub(super) fired: Vec<bool>,
    pub(super) not_evaluated: Vec<bool>,
    /// The pair a join is testing.
    pub(super) bindings: Option<(Node<'a>, Node<'a>)>,
    /// Per capture name (`as:`), the values that passed in the rule being evaluated.
    pub(super) captured: Vec<Vec<Node<'a>>>,
    /// The captures of the rule being evaluated (indexes into `captured`).
    pub(super) rule_captures: &'a [usize],
    /// Every route walked in this evaluation.
    pub(super) routes: Routes<'a>,
    /// Per named condition that is reusable (`RuleSet::reusable`): its outcome, once
    /// evaluated (only when not explaining, since a trace is built per use).
    pub(super) named: Vec<Option<(bool, Rc<[Node<'a>]>)>>,
}

pub(super) struct Outcome<'a> {
    pub(super) pass: bool,
    pub(super) evidence: Nodes<'a>,
    pub(super) trace: Option<ConditionTrace>,
}

impl<'a> Evaluator<'a> {
    pub(super) fn has(&mut self, requirement: &'a Requirement) -> bool {
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
    pub(super) fn source(&mut self, id: usize) -> Option<Rc<[Node<'a>]>> {
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
            let matched = !nodes.is_empty();
            out.extend(nodes.into_iter().filter(|n| !n.value.is_null()));
            match source.mode {
                SourceMode::FirstFound if out.len() > before => break,
                SourceMode::FirstPresent if matched => break,
                _ => {}
            }
        }
        match source.pick {
            Some(Pick::First) => out.truncate(1),
            Some(Pick::Last) => {
                let keep = out.len().saturating_sub(1);
                out.drain(..keep);
            }
            None => {}
        }
        let resolved: Option<Rc<[Node<'a>]>> = present.then(|| out.into());
        self.sources[id] = Some(resolved.clone());
        resolved
    }

    /// Every value `reference` selects, or `None` when its document or source is absent.
    pub(super) fn resolve(&mut self, reference: &'a Ref) -> Option<Nodes<'a>> {
        let mut out = Nodes::new();
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

    pub(super) fn non_null(&mut self, reference: &'a Ref) -> Nodes<'a> {
        let mut nodes = self.resolve(reference).unwrap_or_default();
        nodes.retain(|node| !node.value.is_null());
        nodes
    }

    /// How many values each capture of the rule being evaluated holds now.
    pub(super) fn checkpoint(&self) -> Vec<usize> {
        let captures = self.rule_captures.iter();
        captures.map(|id| self.captured[*id].len()).collect()
    }

    /// Forgets values captured since `checkpoint`.
    pub(super) fn rollback(&mut self, checkpoint: &[usize]) {
        for (id, length) in self.rule_captures.iter().zip(checkpoint) {
            self.captured[*id].truncate(*length);
        }
    }

    /// The outcome, with its trace when explaining: the values `seen` (the first
    /// [`MAX_SEEN`]) and a `note` that runs only when explaining.
    pub(super) fn finish(
        &self,
        cond: &Cond,
        pass: bool,
        evidence: Nodes<'a>,
        children: Vec<ConditionTrace>,
        note: impl FnOnce() -> Option<String>,
        seen: &[Node<'a>],
    ) -> Outcome<'a> {
        let trace = self.explain.then(|| ConditionTrace {
            field: cond.field.clone(),
            test: cond.description.clone(),
            result: pass,
            note: note(),
            seen: to_evidence(seen, &self.routes, &self.set.redact, MAX_SEEN, self.bundle).0,
            children,
        });
        Outcome {
            pass,
            evidence,
            trace,
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
