//! Working memory that one caller reuses from one evaluation to the next.

use super::evaluator::{Captured, Evaluator, Span};
use crate::compiled::RuleSet;
use crate::path::{Node, Routes};

/// Working memory for evaluations, reused from one bundle to the next: pass the same one to
/// [`RuleSet::evaluate_with_scratch`] for every bundle, and an evaluation allocates its
/// working lists (the values found, per-rule and per-reference slots, the routes walked, the
/// evidence of the rule being evaluated) once, not once per bundle. It changes nothing in what an
/// evaluation returns.
///
/// A scratch holds nothing from one evaluation to the next but memory: every evaluation starts
/// by emptying it and sizing it for the rule set it is given, so one scratch serves any rule
/// set, in any order. It is [`Send`] but not [`Sync`]: one caller uses it at a time, so each
/// thread that evaluates keeps its own (as regex-automata's `meta::Cache` does), while the
/// [`RuleSet`] is shared. After an evaluation that made a list larger than
/// [`Scratch::KEEP_BYTES`] (a huge bundle), that list is given back, so a long run holds no
/// more memory than its largest ordinary bundle needs.
///
/// ```
/// use balance_doctor_engine::{Bundle, EvaluateOptions, RuleText, Scratch, compile};
///
/// let rule_set = compile(&[RuleText {
///     name: "rules.yaml",
///     text: r#"
/// rules:
///   - id: no_accounts
///     title: No accounts
///     severity: warning
///     when: { path: "accounts_get:$.accounts[*]", count: { equals: 0 } }
///     message: the Item has no accounts
/// "#,
/// }])
/// .unwrap();
/// let as_of = "2026-01-01T00:00:00Z".parse().unwrap();
/// let options = EvaluateOptions::default();
/// let mut scratch = Scratch::new(&rule_set);
/// for accounts in [0, 2, 0] {
///     let bundle = Bundle::from_json(&format!(
///         r#"{{"documents": {{"accounts_get": {{"accounts": [{}]}}}}}}"#,
///         vec!["{}"; accounts].join(",")
///     ))
///     .unwrap();
///     let diagnosis = rule_set.evaluate_with_scratch(&bundle, as_of, &options, &mut scratch);
///     // The same diagnosis as an evaluation with fresh memory.
///     assert_eq!(diagnosis, rule_set.evaluate_with(&bundle, as_of, &options));
///     assert_eq!(diagnosis.findings.len(), usize::from(accounts == 0));
/// }
/// ```
pub struct Scratch {
    // Every list is empty between evaluations: the `'static` lists hold no value, only the
    // memory that the next evaluation's lists (borrowing its bundle) reuse ([`emptied`]).
    pub(super) found: Vec<Node<'static>>,
    pub(super) documents: Vec<Captured<'static>>,
    pub(super) unread: Vec<&'static str>,
    pub(super) sources: Vec<Option<Option<Span>>>,
    pub(super) resolved: Vec<Option<Option<Span>>>,
    pub(super) fired: Vec<bool>,
    pub(super) not_evaluated: Vec<bool>,
    pub(super) captured: Vec<(u32, u32, Node<'static>)>,
    /// `None` until the first evaluation (and after one that panicked).
    pub(super) routes: Option<Routes<'static>>,
    pub(super) named: Vec<Option<(bool, Span)>>,
    pub(super) evidence: Vec<Node<'static>>,
}

impl Scratch {
    /// The most bytes one of a scratch's lists keeps after an evaluation: a list that grew
    /// larger (for a huge bundle) is given back, and the next evaluation starts it afresh.
    pub const KEEP_BYTES: usize = 1 << 20;

    /// Memory sized for evaluations by `rule_set` (any other rule set may use it too).
    pub fn new(rule_set: &RuleSet) -> Scratch {
        let mut scratch = Scratch::default();
        scratch.sources.reserve(rule_set.sources.len());
        scratch.resolved.reserve(rule_set.ref_slots);
        scratch.fired.reserve(rule_set.rules.len());
        scratch.not_evaluated.reserve(rule_set.rules.len());
        scratch.named.reserve(rule_set.conditions.len());
        scratch.documents.reserve(rule_set.read_documents.len());
        scratch
    }

    /// The bytes of memory the scratch holds (not counting what its lists' values own: they
    /// hold none between evaluations).
    pub fn memory_usage(&self) -> usize {
        fn bytes<T>(list: &Vec<T>) -> usize {
            list.capacity() * size_of::<T>()
        }
        bytes(&self.found)
            + bytes(&self.documents)
            + bytes(&self.unread)
            + bytes(&self.sources)
            + bytes(&self.resolved)
            + bytes(&self.fired)
            + bytes(&self.not_evaluated)
            + bytes(&self.captured)
            + self.routes.as_ref().map_or(0, Routes::memory_usage)
            + bytes(&self.named)
            + bytes(&self.evidence)
    }
}

impl Scratch {
    /// Keeps the lists of an evaluation that is over, emptied (or given back when too large).
    pub(super) fn give_back(&mut self, evaluator: Evaluator<'_>, unread: Vec<&str>) {
        let Evaluator {
            found,
            documents,
            sources,
            resolved,
            fired,
            not_evaluated,
            captured,
            routes,
            named,
            evidence,
            set: _,
            bundle: _,
            as_of: _,
            explain: _,
            bindings: _,
            times: _,
            pair: _,
            pairs: _,
        } = evaluator;
        self.found = kept(found);
        self.documents = kept(documents);
        self.unread = kept(unread);
        self.sources = kept(sources);
        self.resolved = kept(resolved);
        self.fired = kept(fired);
        self.not_evaluated = kept(not_evaluated);
        self.captured = kept(captured);
        self.routes = Some(routes.recycled(Scratch::KEEP_BYTES));
        self.named = kept(named);
        self.evidence = kept(evidence);
    }
}

impl Default for Scratch {
    /// A scratch that holds no memory yet: the first evaluation allocates it.
    fn default() -> Scratch {
        Scratch {
            found: Vec::new(),
            documents: Vec::new(),
            unread: Vec::new(),
            sources: Vec::new(),
            resolved: Vec::new(),
            fired: Vec::new(),
            not_evaluated: Vec::new(),
            captured: Vec::new(),
            routes: None,
            named: Vec::new(),
            evidence: Vec::new(),
        }
    }
}

impl std::fmt::Debug for Scratch {
    /// How much memory the scratch holds (it holds no values between evaluations).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scratch")
            .field("memory_usage", &self.memory_usage())
            .finish_non_exhaustive()
    }
}

/// `list`, emptied, as a list of `U` in the same memory: `U` is `T` with another lifetime
/// here, so that a list that borrowed one bundle serves the next. The standard library
/// collects an emptied vector's iterator into the vector's own allocation when the two
/// element types have the same layout (a test below checks it still does).
pub(crate) fn emptied<T, U>(mut list: Vec<T>) -> Vec<U> {
    list.clear();
    list.into_iter().filter_map(|_| None).collect()
}

/// `list` emptied, unless it grew beyond [`Scratch::KEEP_BYTES`]: then no memory.
fn kept<T, U>(list: Vec<T>) -> Vec<U> {
    if list.capacity() * size_of::<T>() > Scratch::KEEP_BYTES {
        return Vec::new();
    }
    emptied(list)
}

/// `list` emptied and sized: `len` copies of `value`, in the list's memory.
pub(super) fn refilled<T: Clone>(list: &mut Vec<T>, len: usize, value: T) {
    list.clear();
    list.resize(len, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emptied_list_keeps_its_memory() {
        let text = String::from("borrowed");
        let mut list: Vec<(&str, usize)> = Vec::with_capacity(100);
        list.push((&text, 1));
        let at = list.as_ptr() as usize;
        let reused: Vec<(&'static str, usize)> = emptied(list);
        assert!(reused.is_empty());
        assert_eq!(reused.capacity(), 100);
        assert_eq!(reused.as_ptr() as usize, at);
    }

    #[test]
    fn a_list_grown_too_large_is_given_back() {
        let large: Vec<u64> = Vec::with_capacity(Scratch::KEEP_BYTES / 8 + 1);
        // `with_capacity` may give more than asked, never less: the list is beyond the limit.
        assert!(large.capacity() * size_of::<u64>() > Scratch::KEEP_BYTES);
        assert_eq!(kept::<u64, u64>(large).capacity(), 0);
        let ordinary: Vec<u64> = Vec::with_capacity(Scratch::KEEP_BYTES / 8);
        assert_eq!(
            kept::<u64, u64>(ordinary).capacity(),
            Scratch::KEEP_BYTES / 8
        );
    }

    #[test]
    fn a_scratch_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<Scratch>();
    }
}
