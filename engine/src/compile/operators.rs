//! The operators of a `path` test, from the rules file to compiled [`Op`]s.
//!
//! [`OPERATORS`] is the one list of them: the key, where the rules file holds its operand and
//! what kind of operand it takes. Checking, compiling and describing a test all walk it. A new
//! operator is a row here, a field of `ConditionSpec`, an [`Op`] and its case in evaluation.

use jiff::SignedDuration;
use regex::Regex;
use serde_json::Value;

use super::{Compiler, Scoped};
use crate::compiled::{NumCmp, Op};
use crate::spec::ConditionSpec;

/// One operator of a `path` test.
pub(super) struct Operator {
    /// Its key in the rules file.
    pub(super) key: &'static str,
    /// Its operand as written (before `$name` parameters are resolved), when given.
    pub(super) operand: fn(&ConditionSpec) -> Option<Value>,
    /// What the operand must be, and how it becomes an [`Op`].
    pub(super) kind: Operand,
}

/// What an operator's operand must be.
#[derive(Clone, Copy)]
pub(super) enum Operand {
    /// `true` or `false` (`exists`, `missing`): the test itself handles these.
    Flag,
    /// Any JSON value.
    Value(fn(Value) -> Op),
    /// A list of JSON values.
    List(fn(Vec<Value>) -> Op),
    /// A number.
    Number(NumCmp),
    /// A regular expression.
    Regex,
    /// A duration such as `36h`, counted from `as_of`.
    Duration(fn(SignedDuration) -> Op),
    /// A JSON type name.
    Type,
    /// `true` or `false`, the operand of an operator that tests a value.
    Bool(fn(bool) -> Op),
}

/// Every operator, in the order traces list them.
pub(super) const OPERATORS: [Operator; 19] = [
    Operator {
        key: "exists",
        operand: |spec| spec.exists.map(Value::Bool),
        kind: Operand::Flag,
    },
    Operator {
        key: "missing",
        operand: |spec| spec.missing.map(Value::Bool),
        kind: Operand::Flag,
    },
    Operator {
        key: "equals",
        operand: |spec| spec.equals.clone(),
        kind: Operand::Value(Op::Equals),
    },
    Operator {
        key: "one_of",
        operand: |spec| spec.one_of.clone(),
        kind: Operand::List(Op::OneOf),
    },
    Operator {
        key: "none_of",
        operand: |spec| spec.none_of.clone(),
        kind: Operand::List(Op::NoneOf),
    },
    Operator {
        key: "contains",
        operand: |spec| spec.contains.clone(),
        kind: Operand::Value(Op::Contains),
    },
    Operator {
        key: "contains_any",
        operand: |spec| spec.contains_any.clone(),
        kind: Operand::List(Op::ContainsAny),
    },
    Operator {
        key: "contains_none",
        operand: |spec| spec.contains_none.clone(),
        kind: Operand::List(Op::ContainsNone),
    },
    Operator {
        key: "gt",
        operand: |spec| spec.gt.clone(),
        kind: Operand::Number(NumCmp::Gt),
    },
    Operator {
        key: "gte",
        operand: |spec| spec.gte.clone(),
        kind: Operand::Number(NumCmp::Gte),
    },
    Operator {
        key: "lt",
        operand: |spec| spec.lt.clone(),
        kind: Operand::Number(NumCmp::Lt),
    },
    Operator {
        key: "lte",
        operand: |spec| spec.lte.clone(),
        kind: Operand::Number(NumCmp::Lte),
    },
    Operator {
        key: "regex",
        operand: |spec| spec.regex.clone().map(Value::String),
        kind: Operand::Regex,
    },
    Operator {
        key: "older_than",
        operand: |spec| spec.older_than.clone(),
        kind: Operand::Duration(Op::OlderThan),
    },
    Operator {
        key: "newer_than",
        operand: |spec| spec.newer_than.clone(),
        kind: Operand::Duration(Op::NewerThan),
    },
    Operator {
        key: "within_after",
        operand: |spec| spec.within_after.clone(),
        kind: Operand::Duration(Op::WithinAfter),
    },
    Operator {
        key: "later_than",
        operand: |spec| spec.later_than.clone(),
        kind: Operand::Duration(Op::LaterThan),
    },
    Operator {
        key: "type",
        operand: |spec| {
            spec.json_type
                .map(|kind| Value::String(kind.as_str().to_owned()))
        },
        kind: Operand::Type,
    },
    Operator {
        key: "timestamp",
        operand: |spec| spec.timestamp.map(Value::Bool),
        kind: Operand::Bool(Op::Timestamp),
    },
];

impl<'f> Compiler<'f> {
    /// The value operators of a `path` test (all but `exists`/`missing`), or `None` when one
    /// of them is wrong (and reported).
    pub(super) fn compile_ops(
        &mut self,
        scope: &mut Scoped,
        spec: &ConditionSpec,
        field: &str,
    ) -> Option<Vec<Op>> {
        let mut ops = Vec::new();
        let mut ok = true;
        for operator in &OPERATORS {
            let Some(operand) = (operator.operand)(spec) else {
                continue;
            };
            let at = format!("{field}.{}", operator.key);
            let op = match operator.kind {
                Operand::Flag => continue,
                Operand::Value(make) => self.param(scope, &operand, &at).map(make),
                Operand::List(make) => self.list(scope, &operand, &at).map(make),
                Operand::Number(cmp) => self
                    .number(scope, &operand, &at)
                    .map(|number| Op::Number(cmp, number)),
                Operand::Regex => self.regex(scope, &operand, &at).map(Op::Regex),
                Operand::Duration(make) => self.duration(scope, &operand, &at).map(make),
                Operand::Type => spec.json_type.map(Op::Type),
                Operand::Bool(make) => operand.as_bool().map(make),
            };
            match op {
                Some(op) => ops.push(op),
                None => ok = false,
            }
        }
        ok.then_some(ops)
    }

    fn regex(&mut self, scope: &mut Scoped, operand: &Value, field: &str) -> Option<Regex> {
        match self.param(scope, operand, field)? {
            Value::String(pattern) => match Regex::new(&pattern) {
                Ok(regex) => Some(regex),
                Err(error) => {
                    let detail = crate::path::regex_error_summary(&error);
                    let message = format!("invalid regular expression `{pattern}`: {detail}");
                    self.bad_operand(scope, operand, field, message);
                    None
                }
            },
            other => {
                let message = format!("expected a regular expression (a string), found {other}");
                self.bad_operand(scope, operand, field, message);
                None
            }
        }
    }
}

/// The keys of the operators `spec` gives, in table order.
pub(super) fn operator_names(spec: &ConditionSpec) -> Vec<&'static str> {
    OPERATORS
        .iter()
        .filter(|operator| (operator.operand)(spec).is_some())
        .map(|operator| operator.key)
        .collect()
}

/// Keys that modify a `path` test rather than test a value.
pub(super) fn modifier_names(spec: &ConditionSpec) -> Vec<&'static str> {
    [
        ("as", spec.capture.is_some()),
        ("pick", spec.pick.is_some()),
        ("quantifier", spec.quantifier.is_some()),
        ("count", spec.count.is_some()),
        ("if_absent", spec.if_absent.is_some()),
        ("if_missing", spec.if_missing.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, present)| present.then_some(name))
    .collect()
}
