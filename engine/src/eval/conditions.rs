//! The condition evaluator: `all`, `any`, `not`, named conditions, `fired`, `path` tests,
//! comparisons and joins.

use super::MAX_SEEN;
use super::evaluator::{Evaluator, Outcome, absent_name};
use super::values::{JoinKey, compare_values, holds, quantified};
use crate::compiled::{Check, Compare, Cond, CondKind, Join, Quant, Test};
use crate::path::{Node, Nodes, Routes};
use crate::vocab::{Pick, Quantifier};

/// Pairs of elements a join tests per key value: elements sharing one key are not paired
/// without bound (1,000 accounts with one id would make a million pairs).
const MAX_PAIRS_PER_KEY: usize = 100;

/// Pairs a `compare` tests beyond one per value: with many values on both sides, every left
/// value against every right value is not tested without bound (10,000 on each side would
/// make 100 million pairs). With one value on a side, every pair is tested.
const MAX_COMPARE_PAIRS: usize = 10_000;

impl<'a> Evaluator<'a> {
    pub(super) fn condition(&mut self, cond: &'a Cond) -> Outcome<'a> {
        match &cond.kind {
            CondKind::All(items) => {
                let checkpoint = self.checkpoint();
                let mut evidence = Nodes::new();
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
                self.finish(cond, pass, evidence, children, || None, &[])
            }
            CondKind::Any(items) => {
                let mut evidence = Nodes::new();
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
                self.finish(cond, pass, evidence, children, || None, &[])
            }
            CondKind::Not(inner) => {
                let checkpoint = self.checkpoint();
                let outcome = self.condition(inner);
                // What passed under a `not` is not what the rule found.
                self.rollback(&checkpoint);
                let children = outcome.trace.into_iter().collect();
                self.finish(cond, !outcome.pass, Nodes::new(), children, || None, &[])
            }
            CondKind::Named(id) if !self.explain && self.set.reusable[*id] => {
                if let Some((pass, evidence)) = &self.named[*id] {
                    let evidence = Nodes::from_slice(evidence);
                    return self.finish(cond, *pass, evidence, Vec::new(), || None, &[]);
                }
                let outcome = self.condition(&self.set.conditions[*id]);
                self.named[*id] = Some((outcome.pass, outcome.evidence.as_slice().into()));
                self.finish(
                    cond,
                    outcome.pass,
                    outcome.evidence,
                    Vec::new(),
                    || None,
                    &[],
                )
            }
            CondKind::Named(id) => {
                let outcome = self.condition(&self.set.conditions[*id]);
                let children = outcome.trace.into_iter().collect();
                self.finish(cond, outcome.pass, outcome.evidence, children, || None, &[])
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
                self.finish(cond, pass, Nodes::new(), Vec::new(), note, &[])
            }
            CondKind::Test(test) => self.test(cond, test),
            CondKind::Compare(compare) => self.compare(cond, compare),
            CondKind::Join(join) => self.join(cond, join),
        }
    }

    fn test(&mut self, cond: &Cond, test: &'a Test) -> Outcome<'a> {
        let Some(mut values) = self.resolve(&test.target) else {
            let note = || Some(format!("{} is absent", absent_name(&test.target)));
            return self.finish(cond, test.if_absent, Nodes::new(), Vec::new(), note, &[]);
        };
        let nulls: Nodes<'a> = if matches!(test.check, Check::Exists(false)) {
            values
                .iter()
                .filter(|n| n.value.is_null())
                .cloned()
                .collect()
        } else {
            Nodes::new()
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
                    (false, _) => Nodes::new(),
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
                    (pass, Nodes::new(), Some("nothing matched"))
                } else {
                    let passing: Nodes<'a> = values
                        .iter()
                        .filter(|node| ops.iter().all(|op| holds(op, node.value, self.as_of)))
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
                        (false, _) => Nodes::new(),
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
        self.finish(cond, pass, evidence, Vec::new(), note, &values)
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
            let seen = if self.explain { seen() } else { Nodes::new() };
            return self.finish(
                cond,
                compare.if_missing,
                Nodes::new(),
                Vec::new(),
                note,
                &seen,
            );
        }
        // Each value is evidence once, however many pairs it passed in: memory stays linear.
        // At most `MAX_COMPARE_PAIRS` pairs more than there are values are tested, in document
        // order (each left value with each right value); the others are counted: work stays
        // linear too.
        let budget = MAX_COMPARE_PAIRS + left.len() + right.len();
        let untested = left
            .len()
            .saturating_mul(right.len())
            .saturating_sub(budget);
        let mut passing = Nodes::new();
        let mut right_shown = vec![false; right.len()];
        let mut total = 0;
        let mut passed = 0;
        'pairs: for l in &left {
            let mut left_shown = false;
            for (r, shown) in right.iter().zip(&mut right_shown) {
                if total == budget {
                    break 'pairs;
                }
                total += 1;
                if compare_values(compare.op, l.value, r.value, &compare.tolerance) {
                    passed += 1;
                    if !left_shown {
                        passing.push(*l);
                        left_shown = true;
                    }
                    if !*shown {
                        passing.push(*r);
                        *shown = true;
                    }
                }
            }
        }
        let pass = quantified(compare.quantifier, passed, total);
        let evidence = match (pass, compare.quantifier) {
            (false, _) => Nodes::new(),
            (true, Quantifier::None) => seen(),
            (true, _) => passing,
        };
        let seen = if self.explain { seen() } else { Nodes::new() };
        let note = || {
            (untested > 0).then(|| {
                format!(
                    "{untested} more pairs were not tested (at most {MAX_COMPARE_PAIRS} more than the {} values)",
                    left.len() + right.len()
                )
            })
        };
        self.finish(cond, pass, evidence, Vec::new(), note, &seen)
    }

    fn join(&mut self, cond: &Cond, join: &'a Join) -> Outcome<'a> {
        let checkpoint = self.checkpoint();
        let left = self.non_null(&join.left);
        let right = self.non_null(&join.right);
        let key_of = |node: Node<'a>, routes: &mut Routes<'a>| {
            let mut keys = Nodes::new();
            join.on.select(node, routes, &mut keys);
            keys.into_iter().find(|key| !key.value.is_null())
        };
        // Right elements by key, so that pairing is linear; pairs keep document order. At
        // most `MAX_PAIRS_PER_KEY` pairs are tested per key; the others are counted.
        let mut by_key: foldhash::HashMap<JoinKey, (Vec<(usize, Node<'a>)>, usize)> =
            foldhash::HashMap::default();
        for (index, r) in right.iter().enumerate() {
            if let Some(key) = key_of(*r, &mut self.routes) {
                by_key
                    .entry(JoinKey::of(key.value))
                    .or_default()
                    .0
                    .push((index, key));
            }
        }
        let mut evidence = Nodes::new();
        let mut children = Vec::new();
        let mut total = 0;
        let mut passed = 0;
        let mut untested = 0;
        for l in &left {
            let Some(left_key) = key_of(*l, &mut self.routes) else {
                continue;
            };
            let Some((matches, tested)) = by_key.get_mut(&JoinKey::of(left_key.value)) else {
                continue;
            };
            let room = MAX_PAIRS_PER_KEY - *tested;
            untested += matches.len().saturating_sub(room);
            let matches = &matches[..matches.len().min(room)];
            *tested += matches.len();
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
        let note = || {
            if untested > 0 {
                Some(format!(
                    "{untested} more pairs with equal keys were not tested (at most {MAX_PAIRS_PER_KEY} per key)"
                ))
            } else {
                (total == 0).then(|| "no pair of elements had equal keys".to_owned())
            }
        };
        self.finish(cond, pass, evidence, children, note, &[])
    }
}
