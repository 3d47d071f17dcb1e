//! The condition evaluator: `all`, `any`, `not`, named conditions, `fired`, `path` tests,
//! comparisons and joins.

use super::MAX_SEEN;
use super::evaluator::{Evaluator, Outcome, Span, absent_name};
use super::values::{JoinKey, compare_values, holds, quantified};
use crate::compiled::{Check, Compare, Cond, CondKind, Join, JoinTest, Quant, Test};
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
    /// Evaluates `cond`: when it passes, its evidence is appended to `self.evidence`; when it
    /// fails, `self.evidence` is left as it was.
    pub(super) fn condition(&mut self, cond: &'a Cond) -> Outcome {
        self.dispatch(cond)
    }

    /// [`Evaluator::condition`], inlined where `all` and `any` evaluate their items: each of
    /// those places jumps to the kinds it evaluates from a branch of its own, which learns
    /// them (one jump for every condition mispredicted most changes of kind).
    #[inline(always)]
    fn dispatch(&mut self, cond: &'a Cond) -> Outcome {
        match &cond.kind {
            CondKind::All(items) => self.all(cond, items),
            CondKind::Any(items) => self.any(cond, items),
            CondKind::Not(inner) => self.not(cond, inner),
            CondKind::Named(id) => self.named(cond, *id),
            CondKind::Fired(index) => self.fired(cond, *index),
            CondKind::Test(test) => self.test(cond, test),
            CondKind::Compare(compare) => self.compare(cond, compare),
            CondKind::Join(join) => self.join(cond, join),
        }
    }

    /// `all`: every item passes (when not explaining, evaluation stops at the first that fails).
    #[inline(never)]
    fn all(&mut self, cond: &'a Cond, items: &'a [Cond]) -> Outcome {
        let checkpoint = self.checkpoint();
        let start = self.evidence.len();
        let mut children = Vec::new();
        let mut pass = true;
        for item in items {
            let outcome = self.dispatch(item);
            if let Some(trace) = outcome.trace {
                children.push(*trace);
            }
            if !outcome.pass {
                pass = false;
                if !self.explain {
                    break;
                }
            }
        }
        if !pass {
            self.evidence.truncate(start);
            // A failed `all` captures nothing, even when explaining evaluates on.
            self.rollback(checkpoint);
        }
        self.finish(cond, pass, children, || None, &[])
    }

    /// `any`: some item passes (every item is evaluated, for its evidence and captures).
    #[inline(never)]
    fn any(&mut self, cond: &'a Cond, items: &'a [Cond]) -> Outcome {
        let mut children = Vec::new();
        let mut pass = false;
        for item in items {
            let outcome = self.dispatch(item);
            if let Some(trace) = outcome.trace {
                children.push(*trace);
            }
            pass |= outcome.pass;
        }
        self.finish(cond, pass, children, || None, &[])
    }

    /// `not`: the inner condition fails; what passed under it is forgotten.
    #[inline(never)]
    fn not(&mut self, cond: &'a Cond, inner: &'a Cond) -> Outcome {
        // What passed under a `not` is not what the rule found.
        let outcome = self.aside(inner);
        let children = outcome.trace.map(|trace| *trace).into_iter().collect();
        self.finish(cond, !outcome.pass, children, || None, &[])
    }

    /// Evaluates `cond` and leaves the evidence stack and the captures as they were: what it
    /// passed on is not what a rule found (under a `not`; a rule that stood down, evaluated
    /// only to know whether it holds down the rules it supersedes).
    #[inline]
    pub(super) fn aside(&mut self, cond: &'a Cond) -> Outcome {
        let checkpoint = self.checkpoint();
        let start = self.evidence.len();
        let outcome = self.condition(cond);
        self.evidence.truncate(start);
        self.rollback(checkpoint);
        outcome
    }

    /// A named condition: evaluated once per bundle when it is reusable and not explaining.
    #[inline(never)]
    fn named(&mut self, cond: &'a Cond, id: usize) -> Outcome {
        if !self.explain && self.set.reusable[id] {
            if let Some((pass, evidence)) = self.named[id] {
                self.evidence
                    .extend_from_slice(&self.found[evidence.range()]);
                return self.finish(cond, pass, Vec::new(), || None, &[]);
            }
            let start = self.evidence.len();
            let outcome = self.condition(&self.set.conditions[id]);
            let kept = self.found.len();
            self.found.extend_from_slice(&self.evidence[start..]);
            self.named[id] = Some((outcome.pass, Span::since(kept, &self.found)));
            return self.finish(cond, outcome.pass, Vec::new(), || None, &[]);
        }
        let outcome = self.condition(&self.set.conditions[id]);
        let children = outcome.trace.map(|trace| *trace).into_iter().collect();
        self.finish(cond, outcome.pass, children, || None, &[])
    }

    /// `fired`: whether the rule fired (it was evaluated before this one).
    #[inline(never)]
    fn fired(&mut self, cond: &'a Cond, index: usize) -> Outcome {
        let pass = self.fired[index];
        let note = || {
            let rule = &self.set.rules[index];
            if self.not_evaluated[index] {
                Some(format!("rule {} was not evaluated", rule.id))
            } else if !rule.enabled {
                Some(format!("rule {} is disabled", rule.id))
            } else {
                None
            }
        };
        self.finish(cond, pass, Vec::new(), note, &[])
    }

    #[inline(never)]
    fn test(&mut self, cond: &Cond, test: &'a Test) -> Outcome {
        let Some(span) = self.resolve(&test.target) else {
            let note = || Some(format!("{} is absent", absent_name(&test.target)));
            return self.finish(cond, test.if_absent, Vec::new(), note, &[]);
        };
        let found = &self.found[span.range()];
        // The values tested: those that are not null, then the one `pick` keeps.
        let non_null: Nodes<'a>;
        let mut values = found;
        if found.iter().any(|n| n.value.is_null()) {
            non_null = found
                .iter()
                .filter(|n| !n.value.is_null())
                .copied()
                .collect();
            values = &non_null;
        }
        match test.pick {
            Some(Pick::First) => values = &values[..values.len().min(1)],
            Some(Pick::Last) => values = &values[values.len().saturating_sub(1)..],
            None => {}
        }
        let start = self.evidence.len();
        let (pass, note) = match &test.check {
            Check::Exists(wanted) => {
                let pass = values.is_empty() != *wanted;
                match (pass, *wanted) {
                    (false, _) => {}
                    (true, true) => self.evidence.extend_from_slice(values),
                    // A null that was found is evidence of absence.
                    (true, false) => self
                        .evidence
                        .extend(found.iter().filter(|n| n.value.is_null()).copied()),
                }
                (pass, values.is_empty().then_some("nothing matched"))
            }
            Check::Values(ops, quant) => {
                let counting = matches!(quant, Quant::Count(_));
                if values.is_empty() && !(counting && test.if_missing.is_none()) {
                    let pass = test.if_missing.unwrap_or(matches!(quant, Quant::None));
                    (pass, Some("nothing matched"))
                } else {
                    let as_of = self.as_of;
                    let times = &mut self.times;
                    let passing = values
                        .iter()
                        .filter(|node| ops.iter().all(|op| holds(op, node.value, as_of, times)));
                    self.evidence.extend(passing.copied());
                    let passed = self.evidence.len() - start;
                    let pass = match quant {
                        Quant::Any => passed > 0,
                        Quant::All => passed == values.len(),
                        Quant::None => passed == 0,
                        Quant::Count(bounds) => bounds
                            .iter()
                            .all(|(cmp, bound)| cmp.holds(passed as f64, *bound)),
                    };
                    match (pass, quant) {
                        (false, _) => self.evidence.truncate(start),
                        (true, Quant::None) => {
                            self.evidence.truncate(start);
                            self.evidence.extend_from_slice(values);
                        }
                        (true, _) => {}
                    }
                    (pass, None)
                }
            }
        };
        // A capture holds values that passed: none for `missing` or `quantifier: none`.
        let captures_values = match &test.check {
            Check::Exists(wanted) => *wanted,
            Check::Values(_, quant) => !matches!(quant, Quant::None),
        };
        if let (true, true, Some(index)) = (pass, captures_values, test.capture) {
            let pair = self.pair;
            let passed = self.evidence[start..]
                .iter()
                .map(|node| (index, pair, *node));
            self.captured.extend(passed);
        }
        let note = || note.map(str::to_owned);
        self.finish(cond, pass, Vec::new(), note, values)
    }

    #[inline(never)]
    fn compare(&mut self, cond: &Cond, compare: &'a Compare) -> Outcome {
        let left = self.non_null(&compare.left);
        let right = self.non_null(&compare.right);
        let (left, right) = (&self.found[left.range()], &self.found[right.range()]);
        let seen = || {
            let mut seen = Nodes::from_slice(left);
            seen.extend_from_slice(right);
            seen
        };
        if left.is_empty() || right.is_empty() {
            let note = || Some("one side matched nothing".to_owned());
            let seen = if self.explain { seen() } else { Nodes::new() };
            return self.finish(cond, compare.if_missing, Vec::new(), note, &seen);
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
        let start = self.evidence.len();
        let mut right_shown: smallvec::SmallVec<[bool; 16]> =
            smallvec::smallvec![false; right.len()];
        let mut total = 0;
        let mut passed = 0;
        'pairs: for l in left {
            let mut left_shown = false;
            for (r, shown) in right.iter().zip(&mut right_shown) {
                if total == budget {
                    break 'pairs;
                }
                total += 1;
                if compare_values(compare, l.value, r.value) {
                    passed += 1;
                    if !left_shown {
                        self.evidence.push(*l);
                        left_shown = true;
                    }
                    if !*shown {
                        self.evidence.push(*r);
                        *shown = true;
                    }
                }
            }
        }
        let pass = quantified(compare.quantifier, passed, total);
        match (pass, compare.quantifier) {
            (false, _) => self.evidence.truncate(start),
            (true, Quantifier::None) => {
                self.evidence.truncate(start);
                self.evidence.extend_from_slice(left);
                self.evidence.extend_from_slice(right);
            }
            (true, _) => {}
        }
        let seen = if self.explain { seen() } else { Nodes::new() };
        let note = || {
            (untested > 0).then(|| {
                format!(
                    "{untested} more pairs were not tested (at most {MAX_COMPARE_PAIRS} more than the {} values)",
                    left.len() + right.len()
                )
            })
        };
        self.finish(cond, pass, Vec::new(), note, &seen)
    }

    #[inline(never)]
    fn join(&mut self, cond: &Cond, join: &'a Join) -> Outcome {
        let where_ = match &join.test {
            JoinTest::Pairs(where_) => where_,
            JoinTest::Unmatched { capture, .. } => return self.unmatched(cond, join, *capture),
        };
        let checkpoint = self.checkpoint();
        let start = self.evidence.len();
        let left = self.non_null(&join.left);
        let right = self.non_null(&join.right);
        // Right elements by key, so that pairing is linear; pairs keep document order. At
        // most `MAX_PAIRS_PER_KEY` pairs are tested per key; the others are counted.
        let mut by_key: foldhash::HashMap<JoinKey, (Vec<(usize, Node<'a>)>, usize)> =
            foldhash::HashMap::default();
        for at in right.range() {
            let r = self.found[at];
            if let Some(key) = join_key(join, r, &mut self.routes) {
                by_key
                    .entry(JoinKey::of(key.value))
                    .or_default()
                    .0
                    .push((at, key));
            }
        }
        let mut children = Vec::new();
        let mut total = 0;
        let mut passed = 0;
        let mut untested = 0;
        for at in left.range() {
            let l = self.found[at];
            let Some(left_key) = join_key(join, l, &mut self.routes) else {
                continue;
            };
            let Some((matches, tested)) = by_key.get_mut(&JoinKey::of(left_key.value)) else {
                continue;
            };
            let room = MAX_PAIRS_PER_KEY - *tested;
            untested += matches.len().saturating_sub(room);
            let matches = &matches[..matches.len().min(room)];
            *tested += matches.len();
            for (at, right_key) in matches {
                let r = self.found[*at];
                total += 1;
                self.pairs += 1;
                let outer_pair = std::mem::replace(&mut self.pair, self.pairs);
                let outer = self.bindings.replace((l, r));
                let checkpoint = self.checkpoint();
                // The keys come first in the evidence of a pair that passes.
                let mark = self.evidence.len();
                self.evidence.push(left_key);
                self.evidence.push(*right_key);
                let outcome = self.condition(where_);
                if !outcome.pass {
                    self.evidence.truncate(mark);
                    self.rollback(checkpoint);
                }
                self.bindings = outer;
                self.pair = outer_pair;
                if children.len() < MAX_SEEN {
                    children.extend(outcome.trace.map(|trace| *trace));
                }
                if outcome.pass {
                    passed += 1;
                }
            }
        }
        let pass = quantified(join.quantifier, passed, total);
        if !pass || join.quantifier == Quantifier::None {
            self.evidence.truncate(start);
            self.rollback(checkpoint);
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
        self.finish(cond, pass, children, note, &[])
    }

    /// A join with `unmatched`: the elements of `left` whose key no element of `right` has
    /// pass, and their keys are the evidence (and the capture's values).
    #[inline(never)]
    fn unmatched(&mut self, cond: &Cond, join: &'a Join, capture: Option<u32>) -> Outcome {
        let start = self.evidence.len();
        let left = self.non_null(&join.left);
        // With nothing to test, the other side is not read (most bundles, for the pack).
        let right = if left.range().is_empty() {
            Span::default()
        } else {
            self.non_null(&join.right)
        };
        let partners: foldhash::HashSet<JoinKey> = right
            .range()
            .filter_map(|at| join_key(join, self.found[at], &mut self.routes))
            .map(|key| JoinKey::of(key.value))
            .collect();
        let mut total = 0;
        for at in left.range() {
            let Some(key) = join_key(join, self.found[at], &mut self.routes) else {
                continue;
            };
            total += 1;
            if !partners.contains(&JoinKey::of(key.value)) {
                self.evidence.push(key);
            }
        }
        let passed = self.evidence.len() - start;
        let pass = quantified(join.quantifier, passed, total);
        let keep = pass && join.quantifier != Quantifier::None;
        if let (true, Some(index)) = (keep, capture) {
            let pair = self.pair;
            let keys = self.evidence[start..].iter().map(|key| (index, pair, *key));
            self.captured.extend(keys);
        }
        let note = || {
            Some(if total == 0 {
                "no element of the unmatched side had a key".to_owned()
            } else {
                format!("{passed} of the {total} elements with a key had no partner")
            })
        };
        // Nothing was captured unless kept, so there is nothing to roll back.
        let outcome = self.finish(cond, pass, Vec::new(), note, &self.evidence[start..]);
        if !keep {
            self.evidence.truncate(start);
        }
        outcome
    }
}

/// An element's join key: the first non-null value `on` selects in it.
fn join_key<'a>(join: &Join, element: Node<'a>, routes: &mut Routes<'a>) -> Option<Node<'a>> {
    let mut keys = Nodes::new();
    join.on.select(element, routes, &mut keys);
    keys.into_iter().find(|key| !key.value.is_null())
}
