//! Operands: `$name` parameters resolved, then read as numbers, lists or durations.
//!
//! A parameter remembers where its value was set, so that a value that does not suit an
//! operator is reported there (in the user's own file, say), once, rather than at every use.

use std::collections::BTreeMap;

use serde_json::Value;

use super::names::bad_name;
use super::{Compiler, Scoped};
use crate::error::{Origin, ProblemKind};
use crate::suggest::closest;
use crate::time::parse_duration;

/// Where a parameter's value was set.
#[derive(Debug, Clone)]
pub(super) struct Site {
    pub(super) file: usize,
    /// Field path of the value, such as `params.overdue_after`.
    pub(super) field: String,
    pub(super) origin: Origin,
}

/// Parameter values by name, each with where it was set.
#[derive(Debug, Clone, Default)]
pub(super) struct Params(BTreeMap<String, (Value, Site)>);

impl Params {
    pub(super) fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).map(|(value, _)| value)
    }

    pub(super) fn site(&self, name: &str) -> Option<&Site> {
        self.0.get(name).map(|(_, site)| site)
    }

    /// Sets `name`, replacing an earlier value.
    pub(super) fn insert(&mut self, name: &str, value: &Value, site: Site) {
        self.0.insert(name.to_owned(), (value.clone(), site));
    }

    pub(super) fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

impl<'f> Compiler<'f> {
    /// Warns about a file's top-level parameter that nothing loaded with it reads: most
    /// likely a misspelt name (`overdue_afer`), whose value would silently change nothing.
    pub(super) fn check_unread_params(&mut self) {
        let mut read: Vec<&str> = self.params_read.iter().map(String::as_str).collect();
        read.sort_unstable();
        let mut warnings = Vec::new();
        for file in self.files {
            for name in file.spec.params.keys() {
                if self.params_read.contains(name) {
                    continue;
                }
                let hint = match closest(name, &read) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => "remove it, or read it in a rule (`$name`)".to_owned(),
                };
                warnings.push(file.problem(
                    Origin::File,
                    ProblemKind::UnknownParameter,
                    &format!("params.{name}"),
                    format!(
                        "no rule, condition or message reads the parameter `{name}`, so its value changes nothing: {hint}"
                    ),
                ));
            }
        }
        self.warnings.extend(warnings);
    }

    /// Refuses a parameter value that names another parameter (`more: [$base, C]`): values are
    /// used as written, so `$base` would silently be the text `$base`. Lists compose where
    /// they are used (`none_of: [$base, C]`).
    pub(super) fn check_param_value(
        &mut self,
        file: usize,
        origin: Origin,
        field: &str,
        value: &Value,
    ) {
        let items = match value {
            Value::Array(items) => items.as_slice(),
            other => std::slice::from_ref(other),
        };
        let named = items.iter().find_map(|item| {
            let name = item.as_str()?.strip_prefix('$')?;
            bad_name(name).is_none().then_some(name)
        });
        if let Some(name) = named {
            self.problem(
                file,
                origin,
                ProblemKind::InvalidParameterValue,
                field,
                format!(
                    "a parameter's value cannot use another parameter (`${name}`): it would be the text `${name}`; compose where the value is used, such as `none_of: [${name}, OTHER]`, or write the items out here"
                ),
            );
        }
    }

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
        self.params_read.insert(name.to_owned());
        match scope.params.get(name) {
            Some(value) => Some(value.clone()),
            None => {
                let known: Vec<&str> = scope.params.names().collect();
                let hint = closest(name, &known)
                    .map(|best| format!("did you mean `${best}`?"))
                    .unwrap_or_else(|| match (&scope.origin, &scope.rule) {
                        // In a named condition, the parameters are those of the rule using it.
                        (Origin::Condition(condition), Some(rule)) => format!(
                            "rule `{rule}` uses condition `{condition}` without it: declare `{name}` under rule `{rule}`'s `params:` or the file's `params:`"
                        ),
                        _ => "declare it under the rule's `params:` or the file's `params:`"
                            .to_owned(),
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
                let message = format!("expected a number, found `{resolved}`");
                self.bad_operand(scope, value, field, message);
                None
            }
        }
    }

    /// A list operand (`one_of`, `none_of`, `contains_any`, `contains_none`): a list, or a
    /// `$name` parameter holding one. An element that is a `$name` parameter holding a list
    /// contributes its elements, so lists compose (`none_of: [$request_level_codes, OTHER]`).
    pub(super) fn list(
        &mut self,
        scope: &mut Scoped,
        value: &Value,
        field: &str,
    ) -> Option<Vec<Value>> {
        if let Value::Array(items) = value {
            let mut list = Vec::with_capacity(items.len());
            let mut ok = true;
            for item in items {
                let is_param = item.as_str().is_some_and(|text| text.starts_with('$'));
                match self.param(scope, item, field) {
                    Some(Value::Array(inner)) if is_param => list.extend(inner),
                    Some(resolved) => list.push(resolved),
                    None => ok = false,
                }
            }
            return ok.then_some(list);
        }
        match self.param(scope, value, field)? {
            Value::Array(items) => Some(items),
            other => {
                let message = format!("expected a list such as `[A, B]`, found `{other}`");
                self.bad_operand(scope, value, field, message);
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
                "expected a duration such as `36h` or `7d`, found `{resolved}`"
            )),
        };
        match parsed {
            Ok(duration) => Some(duration),
            Err(message) => {
                self.bad_operand(scope, original, field, message);
                None
            }
        }
    }

    /// An operand that does not suit its operator: reported where it was written, which for a
    /// `$name` parameter is where the parameter's value was set (once per setting).
    pub(super) fn bad_operand(
        &mut self,
        scope: &Scoped,
        original: &Value,
        field: &str,
        message: String,
    ) {
        let parameter = original.as_str().and_then(|text| text.strip_prefix('$'));
        let Some((name, site)) =
            parameter.and_then(|name| Some((name, scope.params.site(name)?.clone())))
        else {
            self.report(scope, ProblemKind::InvalidOperand, field, message);
            return;
        };
        if !self.reported_params.insert((site.file, site.field.clone())) {
            return;
        }
        let user = match &scope.origin {
            Origin::Rule(id) => format!("rule `{id}`"),
            Origin::Condition(condition) => format!("condition `{condition}`"),
            _ => "a test".to_owned(),
        };
        let message = format!("{message} (parameter `{name}`, used by {user} at {field})");
        self.problem(
            site.file,
            site.origin,
            ProblemKind::InvalidParameterValue,
            &site.field,
            message,
        );
    }
}
