//! Conditions: their kinds, named conditions (compiled once per distinct use), `path` tests,
//! comparisons and joins.

use std::collections::HashSet;

use serde_json::Value;

use super::checks::register_capture;
use super::describe::describe_condition;
use super::operators::{modifier_names, operator_names};
use super::{Compiler, Scoped};
use crate::compiled::{Cond, CondKind, CondText, Join, JoinTest};
use crate::error::{Origin, Problem, ProblemKind};
use crate::spec::ConditionSpec;
use crate::spec::JoinSide;
use crate::suggest::did_you_mean;

/// How deep conditions may nest, counting `all`, `any`, `not`, joins and every named
/// condition on the way: evaluation recurses this deep and no deeper.
pub(super) const MAX_CONDITION_DEPTH: usize = 64;

impl<'f> Compiler<'f> {
    pub(super) fn compile_cond(
        &mut self,
        scope: &mut Scoped,
        spec: &'f ConditionSpec,
        field: &str,
    ) -> Option<Cond> {
        if scope.depth >= MAX_CONDITION_DEPTH {
            self.report_too_deep(scope, field);
            return None;
        }
        scope.depth += 1;
        let compiled = self.compile_cond_kind(scope, spec, field);
        scope.depth -= 1;
        compiled
    }

    fn report_too_deep(&mut self, scope: &Scoped, field: &str) {
        let stack = &scope.named_stack;
        let through = match stack.len() {
            0 => String::new(),
            1..=6 => format!(" (through {})", stack.join(" -> ")),
            n => format!(
                " (through {} -> ... -> {}, {n} named conditions)",
                stack[..3].join(" -> "),
                stack[n - 3..].join(" -> ")
            ),
        };
        self.report(
            scope,
            ProblemKind::TooLarge,
            field,
            format!("conditions nest more than {MAX_CONDITION_DEPTH} deep here{through}: flatten them, for example with `all:` or `any:` lists of named conditions"),
        );
    }

    /// The height of a compiled condition: how deep evaluating it recurses.
    pub(super) fn height(&self, cond: &Cond) -> usize {
        1 + match &cond.kind {
            CondKind::All(items) | CondKind::Any(items) => items
                .iter()
                .map(|item| self.height(item))
                .max()
                .unwrap_or(0),
            CondKind::Not(inner) => self.height(inner),
            CondKind::Named(id) => self.named_heights[*id],
            CondKind::Join(join) => match &join.test {
                JoinTest::Pairs(where_) => self.height(where_),
                JoinTest::Unmatched { .. } => 0,
            },
            CondKind::Fired(_) | CondKind::Test(_) | CondKind::Compare(_) => 0,
        }
    }

    fn compile_cond_kind(
        &mut self,
        scope: &mut Scoped,
        spec: &'f ConditionSpec,
        field: &str,
    ) -> Option<Cond> {
        let Some(kind) = self.kind_of(scope, spec, field) else {
            register_capture(scope, spec.capture.as_deref());
            return None;
        };
        let kind = match kind {
            "all" => CondKind::All(self.compile_list(scope, spec.all.as_deref(), field, "all")?),
            "any" => CondKind::Any(self.compile_list(scope, spec.any.as_deref(), field, "any")?),
            "not" => {
                let inner = spec.not.as_deref()?;
                let inner = self.compile_cond(scope, inner, &format!("{field}.not"))?;
                CondKind::Not(Box::new(inner))
            }
            "condition" => CondKind::Named(self.compile_condition_ref(scope, spec, field)?),
            "fired" => CondKind::Fired(self.compile_fired(scope, spec, field)?),
            "path" => CondKind::Test(Box::new(self.compile_test(scope, spec, field)?)),
            "compare" => CondKind::Compare(Box::new(self.compile_compare(scope, spec, field)?)),
            _ => CondKind::Join(Box::new(self.compile_join(scope, spec, field)?)),
        };
        Some(Cond {
            text: Box::new(CondText {
                field: field.to_owned(),
                description: describe_condition(&kind, spec, scope.params),
            }),
            kind,
        })
    }

    /// The one kind of condition `spec` is (`all`, `path`, ...), or `None` when it has none,
    /// several, or operators that need a `path` (reported).
    fn kind_of(
        &mut self,
        scope: &Scoped,
        spec: &ConditionSpec,
        field: &str,
    ) -> Option<&'static str> {
        let kinds: Vec<&'static str> = [
            ("all", spec.all.is_some()),
            ("any", spec.any.is_some()),
            ("not", spec.not.is_some()),
            ("condition", spec.condition.is_some()),
            ("fired", spec.fired.is_some()),
            ("path", spec.path.is_some()),
            ("compare", spec.compare.is_some()),
            ("join", spec.join.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect();
        let mut operators = operator_names(spec);
        operators.extend(modifier_names(spec));
        let kind = match kinds.as_slice() {
            [] => {
                let message = if operators.is_empty() {
                    "empty condition: give one of `all`, `any`, `not`, `condition`, `fired`, `path`, `compare` or `join`".to_owned()
                } else {
                    format!(
                        "`{}` tests a value: add `path: <document>:<JSONPath>` beside it",
                        operators[0]
                    )
                };
                self.report(scope, ProblemKind::Shape, field, message);
                return None;
            }
            [kind] => *kind,
            [first, second, ..] => {
                self.report(
                    scope,
                    ProblemKind::Shape,
                    field,
                    format!("a condition has one kind but this one has `{first}` and `{second}`: put them in `all: [...]` or `any: [...]`"),
                );
                return None;
            }
        };
        if kind != "path" {
            // `as` beside a join names its unmatched elements' keys (checked with the join).
            let misplaced = operators
                .iter()
                .find(|name| !(kind == "join" && **name == "as"));
            if let Some(operator) = misplaced {
                self.report(
                    scope,
                    ProblemKind::Shape,
                    &format!("{field}.{operator}"),
                    format!("`{operator}` only goes with `path`, not with `{kind}`"),
                );
                return None;
            }
        }
        Some(kind)
    }

    /// The items of `all` or `any`.
    fn compile_list(
        &mut self,
        scope: &mut Scoped,
        items: Option<&'f [ConditionSpec]>,
        field: &str,
        key: &str,
    ) -> Option<Box<[Cond]>> {
        let items = items.unwrap_or_default();
        if items.is_empty() {
            self.report(
                scope,
                ProblemKind::Shape,
                &format!("{field}.{key}"),
                format!("`{key}` needs at least one condition"),
            );
            return None;
        }
        let compiled: Vec<Option<Cond>> = items
            .iter()
            .enumerate()
            .map(|(index, item)| self.compile_cond(scope, item, &format!("{field}.{key}[{index}]")))
            .collect();
        compiled.into_iter().collect()
    }

    /// `condition: <name>`: the index of the named condition, compiled for this use.
    fn compile_condition_ref(
        &mut self,
        scope: &mut Scoped,
        spec: &ConditionSpec,
        field: &str,
    ) -> Option<usize> {
        let name = spec.condition.as_deref()?;
        let Some((name, (file, named))) =
            self.conditions.get_key_value(name).map(|(k, v)| (*k, *v))
        else {
            if self.left_out(name) {
                return None;
            }
            let known: Vec<&str> = self.conditions.keys().copied().collect();
            let hint = did_you_mean(name, &known, || "define it under `conditions:`".to_owned());
            self.report(
                scope,
                ProblemKind::UnknownCondition,
                &format!("{field}.condition"),
                format!("unknown condition `{name}`: {hint}"),
            );
            return None;
        };
        if scope.named_stack.iter().any(|n| n == name) {
            let mut chain = scope.named_stack.clone();
            chain.push(name.to_owned());
            self.report(
                scope,
                ProblemKind::Cycle,
                &format!("{field}.condition"),
                format!(
                    "named conditions refer to each other in a cycle: {}: break the cycle",
                    chain.join(" -> ")
                ),
            );
            return None;
        }
        let id = self.named_condition(scope, name, file, named)?;
        // Compiled for a shallower use, it may reach too deep from here.
        if scope.depth + self.named_heights[id] > MAX_CONDITION_DEPTH {
            let mut deeper = Scoped::new(scope.file, scope.origin.clone(), scope.params);
            deeper.named_stack = scope.named_stack.clone();
            deeper.named_stack.push(name.to_owned());
            self.report_too_deep(&deeper, &format!("{field}.condition"));
            return None;
        }
        Some(id)
    }

    /// `fired: <rule id>`: the index of the rule.
    fn compile_fired(
        &mut self,
        scope: &mut Scoped,
        spec: &ConditionSpec,
        field: &str,
    ) -> Option<usize> {
        let id = spec.fired.as_deref()?;
        let index = self.rule_index(
            id,
            scope.file,
            scope.origin.clone(),
            &format!("{field}.fired"),
        )?;
        scope.fired.insert(index);
        Some(index)
    }

    fn compile_join(
        &mut self,
        scope: &mut Scoped,
        spec: &'f ConditionSpec,
        field: &str,
    ) -> Option<Join> {
        // Known to the message even when the join is reported as wrong below.
        register_capture(scope, spec.capture.as_deref());
        let join = spec.join.as_deref()?;
        let join_field = format!("{field}.join");
        if scope.in_join {
            self.report(
                scope,
                ProblemKind::JoinScope,
                &join_field,
                "joins cannot be nested: join once and test the pair in `where`".to_owned(),
            );
            return None;
        }
        let left = self.compile_ref(scope, &join.left, &format!("{join_field}.left"));
        let right = self.compile_ref(scope, &join.right, &format!("{join_field}.right"));
        if let Err(message) = super::references::check_path_size(&join.on) {
            self.report(
                scope,
                ProblemKind::TooLarge,
                &format!("{join_field}.on"),
                message,
            );
            return None;
        }
        let on = match self.path(&join.on) {
            Ok(path) => Some(path),
            Err(error) => {
                self.report(
                    scope,
                    ProblemKind::InvalidReference,
                    &format!("{join_field}.on"),
                    format!(
                        "invalid JSONPath `{}`: {}: write the key's path relative to each element, such as `$.account_id`",
                        join.on, error.message
                    ),
                );
                None
            }
        };
        let (left, right, test) = match (join.unmatched, &join.where_) {
            (None, Some(where_)) => {
                let misplaced_capture = spec.capture.is_some();
                if misplaced_capture {
                    self.report(
                        scope,
                        ProblemKind::Shape,
                        &format!("{field}.as"),
                        "`as` beside a `join` names the keys of its unmatched elements: add `unmatched: left` (or `right`) to the join, or capture inside `where`".to_owned(),
                    );
                }
                let outer_bindings = scope.bindings;
                scope.in_join = true;
                scope.bindings = true;
                let where_ = self.compile_cond(scope, where_, &format!("{join_field}.where"));
                scope.in_join = false;
                scope.bindings = outer_bindings;
                if misplaced_capture {
                    return None;
                }
                (left, right, JoinTest::Pairs(where_?))
            }
            (Some(side), None) => {
                let capture = self
                    .compile_capture(scope, spec.capture.as_deref(), field)
                    .ok()?;
                let swapped = side == JoinSide::Right;
                let test = JoinTest::Unmatched { swapped, capture };
                if swapped {
                    (right, left, test)
                } else {
                    (left, right, test)
                }
            }
            (None, None) => {
                self.report(
                    scope,
                    ProblemKind::Shape,
                    &join_field,
                    "a join needs `where` (the test of each pair of elements with equal keys) or `unmatched: left` / `unmatched: right` (the elements with no partner)".to_owned(),
                );
                return None;
            }
            (Some(_), Some(_)) => {
                self.report(
                    scope,
                    ProblemKind::Shape,
                    &format!("{join_field}.where"),
                    "`where` tests pairs, and the elements `unmatched` selects have no partner: remove one of them".to_owned(),
                );
                return None;
            }
        };
        Some(Join {
            left: left?,
            right: right?,
            on: on?,
            on_text: join.on.clone(),
            test,
            quantifier: join.quantifier.unwrap_or_default(),
        })
    }

    /// A named condition, compiled once for each distinct use: the values of the parameters
    /// it reads and whether it sits in a join. Its problems are reported once.
    pub(super) fn named_condition(
        &mut self,
        scope: &mut Scoped,
        name: &'f str,
        file: usize,
        spec: &'f ConditionSpec,
    ) -> Option<usize> {
        let fits = |use_: &NamedUse| {
            use_.in_join == scope.in_join
                && use_.bindings == scope.bindings
                && use_
                    .params
                    .iter()
                    .all(|(param, value)| scope.params.get(param) == value.as_ref())
        };
        let known = self
            .named
            .get(name)
            .and_then(|uses| uses.iter().find(|u| fits(u)));
        let use_ = match known {
            Some(use_) => use_.clone(),
            None => {
                let mut inner = Scoped::new(file, Origin::Condition(name.to_owned()), scope.params);
                inner.rule = scope.rule.clone();
                inner.in_join = scope.in_join;
                inner.bindings = scope.bindings;
                inner.named_stack = scope.named_stack.clone();
                inner.named_stack.push(name.to_owned());
                inner.depth = scope.depth;
                let (problems, warnings) = (self.problems.len(), self.warnings.len());
                let compiled = self.compile_cond(&mut inner, spec, &format!("conditions.{name}"));
                // A second use with other parameters finds the same problems again, save
                // those that depend on the parameters.
                let reported = self.named_reported.entry(name).or_default();
                let mut fresh = |problem: &Problem| {
                    reported.insert((problem.file.clone(), problem.field.clone(), problem.kind))
                };
                retain_from(&mut self.problems, problems, &mut fresh);
                retain_from(&mut self.warnings, warnings, &mut fresh);
                inner.read_params.sort();
                inner.read_params.dedup();
                let use_ = NamedUse {
                    in_join: scope.in_join,
                    bindings: scope.bindings,
                    params: inner
                        .read_params
                        .iter()
                        .map(|param| (param.clone(), scope.params.get(param).cloned()))
                        .collect(),
                    id: compiled.map(|cond| {
                        self.named_heights.push(self.height(&cond));
                        self.named_conds.push(cond);
                        self.named_conds.len() - 1
                    }),
                    fired: inner.fired,
                    captures: inner.captures,
                    pair_captures: inner.pair_captures,
                };
                self.named.entry(name).or_default().push(use_.clone());
                use_
            }
        };
        scope.fired.extend(use_.fired.iter().copied());
        scope
            .read_params
            .extend(use_.params.iter().map(|(param, _)| param.clone()));
        for capture in &use_.captures {
            if !scope.captures.contains(capture) {
                scope.captures.push(capture.clone());
            }
        }
        for capture in &use_.pair_captures {
            if !scope.pair_captures.contains(capture) {
                scope.pair_captures.push(capture.clone());
            }
        }
        use_.id
    }

    /// Named conditions no rule uses are still checked, with their file's parameters.
    pub(super) fn check_unused_conditions(&mut self) {
        let mut names: Vec<(&'f str, usize, &'f ConditionSpec)> = self
            .conditions
            .iter()
            .map(|(name, (file, spec))| (*name, *file, *spec))
            .collect();
        names.sort_by_key(|(name, _, _)| *name);
        for (name, file, spec) in names {
            if self.named.contains_key(name) {
                continue;
            }
            let params = &self.params.clone();
            // `left:`/`right:` can only be judged where the condition is used.
            let mut scope = Scoped::new(file, Origin::Condition(name.to_owned()), params)
                .with_bindings()
                .naming(vec![name.to_owned()]);
            let before = self.problems.len();
            self.compile_cond(&mut scope, spec, &format!("conditions.{name}"));
            // Parameters may be supplied by the rules that use the condition.
            retain_from(&mut self.problems, before, |problem| {
                problem.kind != ProblemKind::UnknownParameter
            });
        }
    }
}

/// Keeps, of the problems from index `from` on, those `keep` accepts.
fn retain_from(problems: &mut Vec<Problem>, from: usize, mut keep: impl FnMut(&Problem) -> bool) {
    let mut added = problems.split_off(from);
    added.retain(|problem| keep(problem));
    problems.append(&mut added);
}

/// One compilation of a named condition, for the uses that read the same parameter values
/// from the same place (in a join or not).
#[derive(Clone)]
pub(super) struct NamedUse {
    in_join: bool,
    bindings: bool,
    /// The parameters it reads, with their values (`None`: not declared).
    params: Vec<(String, Option<Value>)>,
    /// Index into the compiled named conditions; `None` when it did not compile.
    id: Option<usize>,
    /// Rules it tests with `fired`.
    fired: HashSet<usize>,
    /// Its capture names (`as:`).
    captures: Vec<String>,
    /// Those of them taken in a join's `where` (all of them, in a join).
    pair_captures: Vec<String>,
}
