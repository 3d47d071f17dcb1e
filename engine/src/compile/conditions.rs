//! Conditions: their kinds, named conditions (compiled once per distinct use), `path` tests,
//! comparisons and joins.

use std::collections::HashSet;

use serde_json::Value;

use super::describe::{compare_phrase, describe_expectation};
use super::names::bad_name;
use super::operators::{modifier_names, operator_names};
use super::{Compiler, Scoped};
use crate::compiled::{Check, Compare, Cond, CondKind, Join, NumCmp, Quant, Test};
use crate::error::{Origin, Problem, ProblemKind};
use crate::path::CompiledPath;
use crate::spec::ConditionSpec;
use crate::suggest::closest;
use crate::vocab::{CompareOp, Quantifier};

impl<'f> Compiler<'f> {
    pub(super) fn compile_cond(
        &mut self,
        scope: &mut Scoped,
        spec: &'f ConditionSpec,
        field: &str,
    ) -> Option<Cond> {
        let kinds: Vec<&str> = [
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
                    format!("a condition has one kind but this one has `{first}` and `{second}`: put them in `all: [...]` or `any: [...]`"),);
                return None;
            }
        };
        if kind != "path" {
            if let Some(operator) = operators.first() {
                self.report(
                    scope,
                    ProblemKind::Shape,
                    &format!("{field}.{operator}"),
                    format!("`{operator}` only goes with `path`, not with `{kind}`"),
                );
                return None;
            }
        }
        let list =
            |compiler: &mut Self, scope: &mut Scoped, items: &'f [ConditionSpec], key: &str| {
                if items.is_empty() {
                    compiler.report(
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
                    .map(|(index, item)| {
                        compiler.compile_cond(scope, item, &format!("{field}.{key}[{index}]"))
                    })
                    .collect();
                compiled.into_iter().collect::<Option<Vec<Cond>>>()
            };
        let kind = match kind {
            "all" => CondKind::All(list(
                self,
                scope,
                spec.all.as_deref().unwrap_or_default(),
                "all",
            )?),
            "any" => CondKind::Any(list(
                self,
                scope,
                spec.any.as_deref().unwrap_or_default(),
                "any",
            )?),
            "not" => {
                let inner = spec.not.as_deref()?;
                CondKind::Not(Box::new(self.compile_cond(
                    scope,
                    inner,
                    &format!("{field}.not"),
                )?))
            }
            "condition" => {
                let name = spec.condition.as_deref()?;
                let Some((file, named)) = self.conditions.get(name).copied() else {
                    if self.left_out(name) {
                        return None;
                    }
                    let known: Vec<&str> = self.conditions.keys().copied().collect();
                    let hint = closest(name, &known)
                        .map(|best| format!("did you mean `{best}`?"))
                        .unwrap_or_else(|| "define it under `conditions:`".to_owned());
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
                CondKind::Named(self.named_condition(scope, name, file, named)?)
            }
            "fired" => {
                let id = spec.fired.as_deref()?;
                let Some(index) = self.rule_ids.get(id).copied() else {
                    if self.left_out(id) {
                        return None;
                    }
                    let known: Vec<&str> = self.rule_ids.keys().copied().collect();
                    let hint = closest(id, &known)
                        .map(|best| format!("did you mean `{best}`?"))
                        .unwrap_or_else(|| "use the id of a rule in the loaded files".to_owned());
                    self.report(
                        scope,
                        ProblemKind::UnknownRule,
                        &format!("{field}.fired"),
                        format!("unknown rule `{id}`: {hint}"),
                    );
                    return None;
                };
                scope.fired.insert(index);
                CondKind::Fired(index)
            }
            "path" => CondKind::Test(Box::new(self.compile_test(scope, spec, field)?)),
            "compare" => CondKind::Compare(Box::new(self.compile_compare(scope, spec, field)?)),
            _ => {
                let join = spec.join.as_deref()?;
                if scope.in_join {
                    self.report(
                        scope,
                        ProblemKind::JoinScope,
                        &format!("{field}.join"),
                        "joins cannot be nested: join once and test the pair in `where`".to_owned(),
                    );
                    return None;
                }
                let join_field = format!("{field}.join");
                let left = self.compile_ref(scope, &join.left, &format!("{join_field}.left"));
                let right = self.compile_ref(scope, &join.right, &format!("{join_field}.right"));
                let on = match CompiledPath::compile(&join.on) {
                    Ok(path) => Some(path),
                    Err(error) => {
                        self.report(
 scope,
 ProblemKind::InvalidReference,
 &format!("{join_field}.on"),
                            format!(
                                "invalid JSONPath `{}`: {}: write the key's path relative to each element, such as `$.account_id`",
                                join.on, error.message
                            ),);
                        None
                    }
                };
                let outer_bindings = scope.bindings;
                scope.in_join = true;
                scope.bindings = true;
                let where_ = self.compile_cond(scope, &join.where_, &format!("{join_field}.where"));
                scope.in_join = false;
                scope.bindings = outer_bindings;
                CondKind::Join(Box::new(Join {
                    left: left?,
                    right: right?,
                    on: on?,
                    on_text: join.on.clone(),
                    where_: where_?,
                    quantifier: join.quantifier.unwrap_or_default(),
                }))
            }
        };
        let description = match &kind {
            CondKind::All(_) => "all".to_owned(),
            CondKind::Any(_) => "any".to_owned(),
            CondKind::Not(_) => "not".to_owned(),
            CondKind::Named(_) => format!(
                "condition {}",
                spec.condition.as_deref().unwrap_or_default()
            ),
            CondKind::Fired(_) => format!("fired {}", spec.fired.as_deref().unwrap_or_default()),
            CondKind::Test(test) => format!(
                "{} {}",
                test.target.text,
                describe_expectation(spec, scope.params)
            ),
            CondKind::Compare(compare) => format!(
                "{} {} {}",
                compare.left.text,
                compare_phrase(compare.op),
                compare.right.text
            ),
            CondKind::Join(join) => format!(
                "join {} with {} on {}",
                join.left.text, join.right.text, join.on_text
            ),
        };
        Some(Cond {
            field: field.to_owned(),
            description,
            kind,
        })
    }

    /// The index of a capture name among all rules' captures.
    pub(super) fn capture_id(&mut self, name: &str) -> usize {
        match self.capture_names.iter().position(|known| known == name) {
            Some(id) => id,
            None => {
                self.capture_names.push(name.to_owned());
                self.capture_names.len() - 1
            }
        }
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
                inner.in_join = scope.in_join;
                inner.bindings = scope.bindings;
                inner.named_stack = scope.named_stack.clone();
                inner.named_stack.push(name.to_owned());
                let (problems, warnings) = (self.problems.len(), self.warnings.len());
                let compiled = self.compile_cond(&mut inner, spec, &format!("conditions.{name}"));
                // A second use with other parameters finds the same problems again, save
                // those that depend on the parameters.
                let reported = self.named_reported.entry(name).or_default();
                let mut fresh = |problem: &Problem| {
                    reported.insert((problem.file.clone(), problem.field.clone(), problem.kind))
                };
                let mut index = problems;
                while index < self.problems.len() {
                    if fresh(&self.problems[index]) {
                        index += 1;
                    } else {
                        self.problems.remove(index);
                    }
                }
                let mut index = warnings;
                while index < self.warnings.len() {
                    if fresh(&self.warnings[index]) {
                        index += 1;
                    } else {
                        self.warnings.remove(index);
                    }
                }
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
                        self.named_conds.push(cond);
                        self.named_conds.len() - 1
                    }),
                    fired: inner.fired,
                    captures: inner.captures,
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
            let mut index = before;
            while index < self.problems.len() {
                if self.problems[index].kind == ProblemKind::UnknownParameter {
                    self.problems.remove(index);
                } else {
                    index += 1;
                }
            }
        }
    }

    pub(super) fn compile_test(
        &mut self,
        scope: &mut Scoped,
        spec: &ConditionSpec,
        field: &str,
    ) -> Option<Test> {
        let target = self.compile_ref(scope, spec.path.as_deref()?, &format!("{field}.path"));
        // Registered first, so that the message's `{name}` is known even when the test fails.
        let mut ok = true;
        let capture = match &spec.capture {
            None => None,
            Some(name) => {
                if let Some(message) = bad_name(name) {
                    let at = format!("{field}.as");
                    self.report(scope, ProblemKind::InvalidName, &at, message);
                    ok = false;
                }
                if !scope.captures.contains(name) {
                    scope.captures.push(name.clone());
                }
                Some(self.capture_id(name))
            }
        };
        let operators = operator_names(spec);
        let (file, origin) = (scope.file, scope.origin.clone());
        let mut fail = |compiler: &mut Self, key: &str, message: String| {
            let at = format!("{field}.{key}");
            compiler.problem(file, origin.clone(), ProblemKind::Shape, &at, message);
            ok = false;
        };
        if operators.is_empty() && spec.count.is_none() {
            fail(
                self,
                "path",
                "a `path` test needs an operator, such as `exists: true`, `equals`, `one_of` or `older_than`, or a `count`".to_owned(),
            );
            return None;
        }
        let existence = match (spec.exists, spec.missing) {
            (Some(exists), None) => Some(exists),
            (None, Some(missing)) => Some(!missing),
            (Some(_), Some(_)) => {
                fail(
                    self,
                    "missing",
                    "`exists` and `missing` say the same thing: keep one".to_owned(),
                );
                None
            }
            (None, None) => None,
        };
        let check = if let Some(exists) = existence {
            if let Some(other) = operators
                .iter()
                .find(|o| **o != "exists" && **o != "missing")
            {
                fail(
                    self,
                    other,
                    format!(
                        "`{other}` cannot be combined with `exists`/`missing`: use `all: [...]`"
                    ),
                );
            }
            if spec.quantifier.is_some() || spec.count.is_some() {
                let key = if spec.quantifier.is_some() {
                    "quantifier"
                } else {
                    "count"
                };
                fail(
                    self,
                    key,
                    format!("`{key}` has no effect with `exists`/`missing`: remove it"),
                );
            }
            if let Some(key) = ["if_missing", "pick"]
                .into_iter()
                .find(|key| modifier_names(spec).contains(key))
            {
                fail(
                    self,
                    key,
                    format!("`{key}` has no effect with `exists`/`missing`: remove it"),
                );
            }
            Check::Exists(exists)
        } else {
            let ops = self.compile_ops(scope, spec, field);
            let quant = match (&spec.quantifier, &spec.count) {
                (Some(_), Some(_)) => {
                    fail(
                        self,
                        "count",
                        "give either `quantifier` or `count`, not both".to_owned(),
                    );
                    Quant::Any
                }
                (Some(Quantifier::Any) | None, None) => Quant::Any,
                (Some(Quantifier::All), None) => Quant::All,
                (Some(Quantifier::None), None) => Quant::None,
                (None, Some(count)) => {
                    let bounds = [
                        ("equals", &count.equals, NumCmp::Eq),
                        ("gt", &count.gt, NumCmp::Gt),
                        ("gte", &count.gte, NumCmp::Gte),
                        ("lt", &count.lt, NumCmp::Lt),
                        ("lte", &count.lte, NumCmp::Lte),
                    ];
                    let mut compiled = Vec::new();
                    for (key, value, cmp) in bounds {
                        if let Some(value) = value {
                            let bound_field = format!("{field}.count.{key}");
                            if let Some(number) = self.number(scope, value, &bound_field) {
                                compiled.push((cmp, number));
                            }
                        }
                    }
                    let any_bound = [&count.equals, &count.gt, &count.gte, &count.lt, &count.lte]
                        .iter()
                        .any(|bound| bound.is_some());
                    if !any_bound {
                        fail(
                            self,
                            "count",
                            "`count` needs a bound such as `gte: 2`".to_owned(),
                        );
                    }
                    Quant::Count(compiled)
                }
            };
            Check::Values(ops?, quant)
        };
        if !ok {
            return None;
        }
        Some(Test {
            target: target?,
            check,
            pick: spec.pick,
            capture,
            if_absent: spec.if_absent.unwrap_or(false),
            if_missing: spec.if_missing,
        })
    }

    pub(super) fn compile_compare(
        &mut self,
        scope: &mut Scoped,
        spec: &ConditionSpec,
        field: &str,
    ) -> Option<Compare> {
        let compare = spec.compare.as_ref()?;
        let field = format!("{field}.compare");
        let left = self.compile_ref(scope, &compare.left, &format!("{field}.left"));
        let right = self.compile_ref(scope, &compare.right, &format!("{field}.right"));
        let mut tolerance = Some(0.0);
        if let Some(value) = &compare.tolerance {
            let tolerance_field = format!("{field}.tolerance");
            if !matches!(compare.op, CompareOp::Equals | CompareOp::Differs) {
                self.report(
                    scope,
                    ProblemKind::Shape,
                    &tolerance_field,
                    "`tolerance` only applies to `op: equals` and `op: differs`: remove it"
                        .to_owned(),
                );
                tolerance = None;
            } else {
                tolerance = self.number(scope, value, &tolerance_field);
                if tolerance.is_some_and(|t| t < 0.0) {
                    self.report(
                        scope,
                        ProblemKind::InvalidOperand,
                        &tolerance_field,
                        "`tolerance` cannot be negative".to_owned(),
                    );
                    tolerance = None;
                }
            }
        }
        Some(Compare {
            left: left?,
            right: right?,
            op: compare.op,
            tolerance: tolerance?,
            quantifier: compare.quantifier.unwrap_or_default(),
            if_missing: compare.if_missing.unwrap_or(false),
        })
    }
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
}
