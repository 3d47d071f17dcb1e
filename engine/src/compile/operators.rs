//! The operators of a `path` test, from the rules file to compiled [`Op`]s.

use regex::Regex;
use serde_json::Value;

use super::{Compiler, Scoped};
use crate::compiled::{NumCmp, Op};
use crate::error::ProblemKind;
use crate::spec::ConditionSpec;

impl<'f> Compiler<'f> {
    pub(super) fn compile_ops(
        &mut self,
        scope: &mut Scoped,
        spec: &ConditionSpec,
        field: &str,
    ) -> Option<Vec<Op>> {
        let mut ops = Vec::new();
        let mut ok = true;
        let at = |key: &str| format!("{field}.{key}");
        if let Some(value) = &spec.equals {
            match self.param(scope, value, &at("equals")) {
                Some(value) => ops.push(Op::Equals(value)),
                None => ok = false,
            }
        }
        type ListOp = fn(Vec<Value>) -> Op;
        let lists: [(&str, &Option<Value>, ListOp); 4] = [
            ("one_of", &spec.one_of, Op::OneOf),
            ("none_of", &spec.none_of, Op::NoneOf),
            ("contains_any", &spec.contains_any, Op::ContainsAny),
            ("contains_none", &spec.contains_none, Op::ContainsNone),
        ];
        for (key, value, make) in lists {
            if let Some(value) = value {
                match self.list(scope, value, &at(key)) {
                    Some(items) => ops.push(make(items)),
                    None => ok = false,
                }
            }
        }
        if let Some(value) = &spec.contains {
            match self.param(scope, value, &at("contains")) {
                Some(value) => ops.push(Op::Contains(value)),
                None => ok = false,
            }
        }
        let numbers = [
            ("gt", &spec.gt, NumCmp::Gt),
            ("gte", &spec.gte, NumCmp::Gte),
            ("lt", &spec.lt, NumCmp::Lt),
            ("lte", &spec.lte, NumCmp::Lte),
        ];
        for (key, value, cmp) in numbers {
            if let Some(value) = value {
                match self.number(scope, value, &at(key)) {
                    Some(number) => ops.push(Op::Number(cmp, number)),
                    None => ok = false,
                }
            }
        }
        if let Some(pattern) = &spec.regex {
            match self.param(scope, &Value::String(pattern.clone()), &at("regex")) {
                Some(Value::String(pattern)) => match Regex::new(&pattern) {
                    Ok(regex) => ops.push(Op::Regex(regex)),
                    Err(error) => {
                        let detail = error.to_string();
                        let detail = detail.lines().last().unwrap_or_default().trim();
                        let detail = detail.strip_prefix("error: ").unwrap_or(detail).to_owned();
                        self.report(
                            scope,
                            ProblemKind::InvalidOperand,
                            &at("regex"),
                            format!("invalid regular expression `{pattern}`: {detail}"),
                        );
                        ok = false;
                    }
                },
                Some(other) => {
                    self.report(
                        scope,
                        ProblemKind::InvalidOperand,
                        &at("regex"),
                        format!("expected a regular expression (a string), found {other}"),
                    );
                    ok = false;
                }
                None => ok = false,
            }
        }
        if let Some(kind) = spec.json_type {
            ops.push(Op::Type(kind));
        }
        type TimeOp = fn(jiff::SignedDuration) -> Op;
        let times: [(&str, &Option<Value>, TimeOp); 4] = [
            ("older_than", &spec.older_than, Op::OlderThan),
            ("newer_than", &spec.newer_than, Op::NewerThan),
            ("within_after", &spec.within_after, Op::WithinAfter),
            ("later_than", &spec.later_than, Op::LaterThan),
        ];
        for (key, value, make) in times {
            if let Some(text) = value {
                match self.duration(scope, text, &at(key)) {
                    Some(duration) => ops.push(make(duration)),
                    None => ok = false,
                }
            }
        }
        ok.then_some(ops)
    }
}

pub(super) fn operator_names(spec: &ConditionSpec) -> Vec<&'static str> {
    [
        ("exists", spec.exists.is_some()),
        ("missing", spec.missing.is_some()),
        ("equals", spec.equals.is_some()),
        ("one_of", spec.one_of.is_some()),
        ("none_of", spec.none_of.is_some()),
        ("contains", spec.contains.is_some()),
        ("contains_any", spec.contains_any.is_some()),
        ("contains_none", spec.contains_none.is_some()),
        ("gt", spec.gt.is_some()),
        ("gte", spec.gte.is_some()),
        ("lt", spec.lt.is_some()),
        ("lte", spec.lte.is_some()),
        ("regex", spec.regex.is_some()),
        ("older_than", spec.older_than.is_some()),
        ("newer_than", spec.newer_than.is_some()),
        ("within_after", spec.within_after.is_some()),
        ("later_than", spec.later_than.is_some()),
        ("type", spec.json_type.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, present)| present.then_some(name))
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
