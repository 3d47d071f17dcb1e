//! What a condition tests, in short, for explanation traces.

use serde_json::Value;

use super::operators::{OPERATORS, Operand};
use super::parameters::Params;
use crate::compiled::{CondKind, JoinTest};
use crate::spec::ConditionSpec;
use crate::vocab::{CompareOp, Quantifier};

/// What a condition tests, in short: `all`, `item:$.webhook missing true`.
pub(super) fn describe_condition(kind: &CondKind, spec: &ConditionSpec, params: &Params) -> String {
    match kind {
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
            describe_expectation(spec, params)
        ),
        CondKind::Compare(compare) => {
            let mut text = format!(
                "{} {} {}",
                compare.left.text,
                compare_phrase(compare.op),
                compare.right.text
            );
            // `by more than 5m`, or `by more than $clock_skew (= 5m)`.
            if let Some(margin) = spec.compare.as_ref().and_then(|c| c.margin.as_ref()) {
                let written = plain(margin);
                let resolved = written
                    .strip_prefix('$')
                    .and_then(|name| params.get(name))
                    .map(|value| format!(" (= {})", plain(value)))
                    .unwrap_or_default();
                text.push_str(&format!(" by more than {written}{resolved}"));
            }
            text
        }
        CondKind::Join(join) => match join.test {
            JoinTest::Pairs(_) => format!(
                "join {} with {} on {}",
                join.left.text, join.right.text, join.on_text
            ),
            // Compiling put the unmatched side on the left: the rule's order is shown.
            JoinTest::Unmatched { swapped, .. } => {
                let (left, right, side) = if swapped {
                    (&join.right, &join.left, "right")
                } else {
                    (&join.left, &join.right, "left")
                };
                format!(
                    "join {} with {} on {}, unmatched {side}",
                    left.text, right.text, join.on_text
                )
            }
        },
    }
}

/// The expectation of a test in compact text, for traces: `one_of ["A","B"] and older_than 2d`.
fn describe_expectation(spec: &ConditionSpec, params: &Params) -> String {
    // A parameter shows its name and the value it had in this rule.
    let show_one = |value: &Value| {
        let text = plain(value);
        match value
            .as_str()
            .and_then(|v| v.strip_prefix('$'))
            .and_then(|n| params.get(n))
        {
            Some(resolved) => format!("{text} (= {})", plain(resolved)),
            None if value.is_string() && !value.as_str().is_some_and(|v| v.starts_with('$')) => {
                value.to_string()
            }
            None => text,
        }
    };
    let show = |value: &Value| match value {
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(show_one).collect();
            format!("[{}]", items.join(", "))
        }
        other => show_one(other),
    };
    let time = |value: &Value| match value.as_str() {
        Some(text) if !text.starts_with('$') => text.to_owned(),
        _ => show(value),
    };
    let mut parts = Vec::new();
    let mut push = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            parts.push(format!("{key} {value}"));
        }
    };
    for operator in &OPERATORS {
        let Some(operand) = (operator.operand)(spec) else {
            continue;
        };
        let text = match operator.kind {
            Operand::Flag | Operand::Type | Operand::Bool(_) => plain(&operand),
            Operand::Duration(_) => time(&operand),
            _ => show(&operand),
        };
        push(operator.key, Some(text));
    }
    if let Some(count) = &spec.count {
        let bounds = [
            ("=", &count.equals),
            (">", &count.gt),
            (">=", &count.gte),
            ("<", &count.lt),
            ("<=", &count.lte),
        ];
        let bounds: Vec<String> = bounds
            .iter()
            .filter_map(|(op, value)| value.as_ref().map(|v| format!("{op} {}", show(v))))
            .collect();
        push("count", Some(bounds.join(" and ")));
    }
    push("if_absent", spec.if_absent.map(|b| b.to_string()));
    push("if_missing", spec.if_missing.map(|b| b.to_string()));
    let mut text = parts.join(" and ");
    if let Some(pick) = spec.pick {
        text = format!("{pick} value: {text}");
    }
    match spec.quantifier {
        Some(Quantifier::All) => format!("every value: {text}"),
        Some(Quantifier::None) => format!("no value: {text}"),
        _ => text,
    }
}

/// How a comparison reads in a trace: `left > right`, `left differs from right`.
fn compare_phrase(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Equals => "equals",
        CompareOp::Differs => "differs from",
        CompareOp::Gt => ">",
        CompareOp::Gte => ">=",
        CompareOp::Lt => "<",
        CompareOp::Lte => "<=",
        CompareOp::Before => "before",
        CompareOp::After => "after",
    }
}

pub(super) fn plain(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}
