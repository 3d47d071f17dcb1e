//! What a condition tests, in short, for explanation traces.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::spec::ConditionSpec;
use crate::vocab::{CompareOp, Quantifier};

/// The expectation of a test in compact text, for traces: `one_of ["A","B"] and older_than 2d`.
pub(super) fn describe_expectation(
    spec: &ConditionSpec,
    params: &BTreeMap<String, Value>,
) -> String {
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
    push("exists", spec.exists.map(|b| b.to_string()));
    push("missing", spec.missing.map(|b| b.to_string()));
    push("equals", spec.equals.as_ref().map(show));
    push("one_of", spec.one_of.as_ref().map(show));
    push("none_of", spec.none_of.as_ref().map(show));
    push("contains", spec.contains.as_ref().map(show));
    push("contains_any", spec.contains_any.as_ref().map(show));
    push("contains_none", spec.contains_none.as_ref().map(show));
    push("gt", spec.gt.as_ref().map(show));
    push("gte", spec.gte.as_ref().map(show));
    push("lt", spec.lt.as_ref().map(show));
    push("lte", spec.lte.as_ref().map(show));
    push(
        "regex",
        spec.regex.as_ref().map(|r| show(&Value::String(r.clone()))),
    );
    push("older_than", spec.older_than.as_ref().map(time));
    push("newer_than", spec.newer_than.as_ref().map(time));
    push("within_after", spec.within_after.as_ref().map(time));
    push("later_than", spec.later_than.as_ref().map(time));
    push("type", spec.json_type.map(|t| t.to_string()));
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
pub(super) fn compare_phrase(op: CompareOp) -> &'static str {
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
