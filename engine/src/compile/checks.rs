//! What a condition checks about values: `path` tests (operators, quantifier or count,
//! captures) and comparisons between two references.

use super::names::bad_name;
use super::operators::{modifier_names, operator_names};
use super::{Compiler, Scoped, compact_index};
use crate::compiled::{Check, Compare, NumCmp, Quant, Test};
use crate::error::ProblemKind;
use crate::spec::ConditionSpec;
use crate::vocab::{CompareOp, Quantifier};

/// Makes a capture name (`as:`) known to the rule's message, also when its condition is
/// reported as wrong, so that the message's `{name}` is not reported as unknown too.
pub(super) fn register_capture(scope: &mut Scoped, name: Option<&str>) {
    if let Some(name) = name {
        if !scope.captures.iter().any(|known| known == name) {
            scope.captures.push(name.to_owned());
        }
        if scope.in_join && !scope.pair_captures.iter().any(|known| known == name) {
            scope.pair_captures.push(name.to_owned());
        }
    }
}

impl<'f> Compiler<'f> {
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

    /// A capture name (`as:` at `{field}.as`), registered for the rule's message: its index, or
    /// `Err` when the name is reported as bad (it is still registered when it can be, so that
    /// the message's `{name}` does not also get reported).
    pub(super) fn compile_capture(
        &mut self,
        scope: &mut Scoped,
        name: Option<&str>,
        field: &str,
    ) -> Result<Option<u32>, ()> {
        let Some(name) = name else {
            return Ok(None);
        };
        let at = format!("{field}.as");
        let mut ok = true;
        if let Some(message) = bad_name(name) {
            self.report(scope, ProblemKind::InvalidName, &at, message);
            ok = false;
        }
        register_capture(scope, Some(name));
        match compact_index(self.capture_id(name), "capture names") {
            Ok(id) if ok => Ok(Some(id)),
            Ok(_) => Err(()),
            Err(message) => {
                self.report(scope, ProblemKind::TooLarge, &at, message);
                Err(())
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
        let capture = self
            .compile_capture(scope, spec.capture.as_deref(), field)
            .unwrap_or_else(|()| {
                ok = false;
                None
            });
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
                    Quant::Count(compiled.into_boxed_slice())
                }
            };
            Check::Values(ops?.into_boxed_slice(), quant)
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
        let mut margin = Some(jiff::SignedDuration::ZERO);
        if let Some(value) = &compare.margin {
            let margin_field = format!("{field}.margin");
            if matches!(compare.op, CompareOp::Before | CompareOp::After) {
                margin = self.duration(scope, value, &margin_field);
            } else {
                self.report(
                    scope,
                    ProblemKind::Shape,
                    &margin_field,
                    "`margin` only applies to `op: before` and `op: after`: remove it".to_owned(),
                );
                margin = None;
            }
        }
        Some(Compare {
            left: left?,
            right: right?,
            op: compare.op,
            tolerance: crate::number::Tolerance::new(tolerance?)?,
            margin: margin?,
            quantifier: compare.quantifier.unwrap_or_default(),
            if_missing: compare.if_missing.unwrap_or(false),
        })
    }
}
