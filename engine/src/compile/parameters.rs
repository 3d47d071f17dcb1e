//! Operands: `$name` parameters resolved, then read as numbers, lists or durations.

use serde_json::Value;

use super::names::bad_name;
use super::{Compiler, Scoped};
use crate::error::ProblemKind;
use crate::suggest::closest;
use crate::time::parse_duration;

impl<'f> Compiler<'f> {
    /// The operand, with a `$name` parameter reference replaced by the parameter's value.
    pub(super) fn param(
        &mut self,
        scope: &mut Scoped,
        value: &Value,
        field: &str,
    ) -> Option<Value> {
        if let Value::Array(items) = value {
            return items
                .iter()
                .map(|item| self.param(scope, item, field))
                .collect::<Option<Vec<Value>>>()
                .map(Value::Array);
        }
        let Some(name) = value.as_str().and_then(|s| s.strip_prefix('$')) else {
            return Some(value.clone());
        };
        if bad_name(name).is_some() {
            return Some(value.clone());
        }
        scope.read_params.push(name.to_owned());
        match scope.params.get(name) {
            Some(value) => Some(value.clone()),
            None => {
                let known: Vec<&str> = scope.params.keys().map(String::as_str).collect();
                let hint = closest(name, &known)
                    .map(|best| format!("did you mean `${best}`?"))
                    .unwrap_or_else(|| {
                        "declare it under the rule's `params:` or the file's `params:`".to_owned()
                    });
                self.report(
                    scope,
                    ProblemKind::UnknownParameter,
                    field,
                    format!("unknown parameter `${name}`: {hint}"),
                );
                None
            }
        }
    }

    pub(super) fn number(&mut self, scope: &mut Scoped, value: &Value, field: &str) -> Option<f64> {
        let resolved = self.param(scope, value, field)?;
        match resolved.as_f64() {
            Some(number) => Some(number),
            None => {
                self.report(
                    scope,
                    ProblemKind::InvalidOperand,
                    field,
                    format!("expected a number, found {}", describe(value, &resolved)),
                );
                None
            }
        }
    }

    pub(super) fn list(
        &mut self,
        scope: &mut Scoped,
        value: &Value,
        field: &str,
    ) -> Option<Vec<Value>> {
        match self.param(scope, value, field)? {
            Value::Array(items) => Some(items),
            other => {
                self.report(
                    scope,
                    ProblemKind::InvalidOperand,
                    field,
                    format!(
                        "expected a list such as `[A, B]`, found {}",
                        describe(value, &other)
                    ),
                );
                None
            }
        }
    }

    pub(super) fn duration(
        &mut self,
        scope: &mut Scoped,
        original: &Value,
        field: &str,
    ) -> Option<jiff::SignedDuration> {
        let resolved = self.param(scope, original, field)?;
        let parsed = match &resolved {
            Value::String(text) => parse_duration(text),
            Value::Number(number) if number.as_f64() == Some(0.0) => Ok(jiff::SignedDuration::ZERO),
            Value::Number(number) if number.as_f64().is_some_and(|n| n < 0.0) => Err(format!(
                "`{number}` is negative: durations count back from `as_of`, so write a positive one such as `36h`"
            )),
            Value::Number(number) => Err(format!(
                "`{number}` has no unit: write a duration such as `{number}h` or `{number}d`"
            )),
            _ => Err(format!(
                "expected a duration such as `36h` or `7d`, found {}",
                describe(original, &resolved)
            )),
        };
        match parsed {
            Ok(duration) => Some(duration),
            Err(message) => {
                let message = if *original != resolved {
                    format!(
                        "parameter {}: {message}",
                        original.as_str().unwrap_or_default()
                    )
                } else {
                    message
                };
                self.report(scope, ProblemKind::InvalidOperand, field, message);
                None
            }
        }
    }
}

pub(super) fn describe(original: &Value, resolved: &Value) -> String {
    if original == resolved {
        format!("`{resolved}`")
    } else {
        format!(
            "`{resolved}` (parameter {})",
            original.as_str().unwrap_or_default()
        )
    }
}
