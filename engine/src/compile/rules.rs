//! One rule: parameters and overrides, requirements, values, condition and message.

use std::collections::HashSet;

use super::names::bad_name;
use super::parameters::{Params, Site};
use super::{Compiler, Scoped};
use crate::compiled::Rule;
use crate::error::{Origin, ProblemKind};
use crate::spec::RuleSpec;
use crate::suggest::did_you_mean;
use crate::template::{Name, Template};

impl<'f> Compiler<'f> {
    pub(super) fn compile_rule(
        &mut self,
        file_index: usize,
        field: &str,
        spec: &'f RuleSpec,
    ) -> Option<(Rule, HashSet<usize>)> {
        let file = &self.files[file_index];
        let rule_id = spec.id.as_str();
        if spec.title.trim().is_empty() {
            self.problem(
                file_index,
                Origin::Rule(rule_id.to_owned()),
                ProblemKind::Shape,
                &format!("{field}.title"),
                "the title is empty: say in a few words what the cause is".to_owned(),
            );
        }
        let mut params = self.params.clone();
        for (name, value) in &spec.params {
            if let Some(message) = bad_name(name) {
                self.problem(
                    file_index,
                    Origin::Rule(rule_id.to_owned()),
                    ProblemKind::InvalidName,
                    &format!("{field}.params.{name}"),
                    message,
                );
            }
            self.check_param_value(
                file_index,
                Origin::Rule(rule_id.to_owned()),
                &format!("{field}.params.{name}"),
                value,
            );
            let site = Site {
                file: file_index,
                field: format!("{field}.params.{name}"),
                origin: Origin::Rule(rule_id.to_owned()),
            };
            params.insert(name, value, site);
        }
        let (mut severity, mut confidence, mut enabled) =
            (spec.severity, spec.confidence, spec.enabled);
        let mut overridden_by = Vec::new();
        for (override_file, change) in self.overrides.get(rule_id).cloned().unwrap_or_default() {
            severity = change.severity.unwrap_or(severity);
            confidence = change.confidence.unwrap_or(confidence);
            enabled = change.enabled.unwrap_or(enabled);
            for (name, value) in &change.params {
                if params.get(name).is_some() {
                    self.check_param_value(
                        override_file,
                        Origin::File,
                        &format!("overrides.{rule_id}.params.{name}"),
                        value,
                    );
                    let site = Site {
                        file: override_file,
                        field: format!("overrides.{rule_id}.params.{name}"),
                        origin: Origin::File,
                    };
                    params.insert(name, value, site);
                } else {
                    let known: Vec<&str> = params.names().collect();
                    let hint = did_you_mean(name, &known, || {
                        format!(
                            "it has {}",
                            if known.is_empty() {
                                "none".to_owned()
                            } else {
                                known.join(", ")
                            }
                        )
                    });
                    self.problem(
                        override_file,
                        Origin::File,
                        ProblemKind::UnknownParameter,
                        &format!("overrides.{rule_id}.params.{name}"),
                        format!("rule `{rule_id}` has no parameter `{name}`: {hint}"),
                    );
                }
            }
            let name = self.files[override_file].name.clone();
            if !overridden_by.contains(&name) {
                overridden_by.push(name);
            }
        }
        let mut scope = Scoped::new(file_index, Origin::Rule(rule_id.to_owned()), &params);
        let requires = self.compile_requires(&mut scope, field, &spec.requires);
        let mut values = Vec::new();
        for (name, text) in &spec.values {
            let value_field = format!("{field}.values.{name}");
            if let Some(message) = bad_name(name) {
                self.problem(
                    file_index,
                    Origin::Rule(rule_id.to_owned()),
                    ProblemKind::InvalidName,
                    &value_field,
                    message,
                );
            }
            if let Some(reference) = self.compile_ref(&mut scope, text, &value_field) {
                values.push((name.clone(), reference));
            }
        }
        let when = self.compile_cond(&mut scope, &spec.when, &format!("{field}.when"));
        let captures = std::mem::take(&mut scope.captures);
        for capture in &captures {
            if values.iter().any(|(name, _)| name == capture) {
                self.problem(
                    file_index,
                    Origin::Rule(rule_id.to_owned()),
                    ProblemKind::DuplicateName,
                    &format!("{field}.values.{capture}"),
                    format!("`{capture}` is both a value and a test's `as:` name: rename one"),
                );
            }
        }
        let shown_params = std::cell::RefCell::new(Vec::new());
        let message = Template::parse(&spec.message, |name| {
            if let Some(index) = values.iter().position(|(n, _)| n == name) {
                return Some(Name::Value(index));
            }
            if let Some(index) = captures.iter().position(|n| n == name) {
                return Some(Name::Value(values.len() + index));
            }
            let value = params.get(name)?;
            shown_params.borrow_mut().push(name.to_owned());
            Some(Name::Param(value.clone()))
        });
        scope.read_params.extend(shown_params.into_inner());
        self.params_read.extend(scope.read_params.iter().cloned());
        self.warn_about_unread_overrides(rule_id, &params, &scope.read_params);
        let message = match message {
            Ok(message) => {
                self.warn_if_no_pair_shown(&message, &scope, values.len(), &captures, field);
                Some(message)
            }
            Err(errors) => {
                for error in errors {
                    self.problem(
                        file_index,
                        Origin::Rule(rule_id.to_owned()),
                        ProblemKind::Template,
                        &format!("{field}.message"),
                        error,
                    );
                }
                None
            }
        };
        let fired = std::mem::take(&mut scope.fired);
        let captures = captures.iter().map(|name| self.capture_id(name)).collect();
        Some((
            Rule {
                id: spec.id.clone(),
                file: file.name.clone(),
                title: spec.title.clone(),
                severity,
                confidence,
                enabled,
                overridden_by,
                description: spec.description.clone(),
                rationale: spec.rationale.clone(),
                remediation: spec.remediation.as_slice().into(),
                references: spec.references.as_slice().into(),
                requires,
                superseded_by: Vec::new(),
                supersedes_any: false,
                values,
                captures,
                when: when?,
                message: message?,
            },
            fired,
        ))
    }

    /// Warns about an override of a parameter that the rule never reads (it may be declared at
    /// the file level, for other rules): the override changes nothing. `params` are the rule's
    /// own, overrides applied: one an override set but the rule does not have is already an
    /// error.
    fn warn_about_unread_overrides(&mut self, rule_id: &str, params: &Params, read: &[String]) {
        let mut reads: Vec<&str> = read.iter().map(String::as_str).collect();
        reads.sort_unstable();
        reads.dedup();
        let reads = if reads.is_empty() {
            "none".to_owned()
        } else {
            reads.join(", ")
        };
        for (override_file, change) in self.overrides.get(rule_id).cloned().unwrap_or_default() {
            for name in change.params.keys() {
                if read.contains(name) || params.get(name).is_none() {
                    continue;
                }
                let problem = self.files[override_file].problem(
                    Origin::File,
                    ProblemKind::UnknownParameter,
                    &format!("overrides.{rule_id}.params.{name}"),
                    format!(
                        "rule `{rule_id}` does not read the parameter `{name}`, so this changes nothing: it reads {reads}"
                    ),
                );
                self.warnings.push(problem);
            }
        }
    }

    /// An `{each pair}` section none of whose values is captured in a join's `where` is shown
    /// once, as if its markers were not there: most likely a capture was meant to be taken in
    /// the join (a warning, as the message still renders).
    fn warn_if_no_pair_shown(
        &mut self,
        message: &Template,
        scope: &Scoped,
        values: usize,
        captures: &[String],
        field: &str,
    ) {
        let in_pairs = |index: &usize| {
            index
                .checked_sub(values)
                .and_then(|capture| captures.get(capture))
                .is_some_and(|name| scope.pair_captures.contains(name))
        };
        let sections = message.each_pair_sections();
        if sections.iter().all(|shown| shown.iter().any(in_pairs)) {
            return;
        }
        let problem = self.files[scope.file].problem(
            scope.origin.clone(),
            ProblemKind::Template,
            &format!("{field}.message"),
            "an `{each pair}` section shows no value captured in a join's `where`, so it is \
             shown once, as if its markers were not there: capture the values it shows with \
             `as:` on tests inside the join's `where` (of `left:` or `right:`), or remove the \
             markers"
                .to_owned(),
        );
        self.warnings.push(problem);
    }

    /// Resolves every rule's `supersedes` list: each listed rule learns which rules make it
    /// stand down, and is evaluated after them (an edge in `dependencies`).
    pub(super) fn link_supersedes(
        &mut self,
        rules: &mut [(Rule, bool)],
        dependencies: &mut [HashSet<usize>],
    ) {
        if rules.len() != self.rule_ids.len() {
            return;
        }
        let files = self.files;
        for (file_index, file) in files.iter().enumerate() {
            for (spec, rule_index) in file.spec.rules.iter().zip(&file.rule_indexes) {
                let Some(&by) = self.rule_ids.get(spec.id.as_str()) else {
                    continue;
                };
                for (position, id) in spec.supersedes.iter().enumerate() {
                    let field = format!("rules[{rule_index}].supersedes[{position}]");
                    let origin = Origin::Rule(spec.id.clone());
                    let Some(target) = self.rule_index(id, file_index, origin.clone(), &field)
                    else {
                        continue;
                    };
                    if target == by {
                        self.problem(
                            file_index,
                            origin,
                            ProblemKind::Cycle,
                            &field,
                            "a rule cannot supersede itself: remove this entry".to_owned(),
                        );
                        continue;
                    }
                    if !rules[target].0.superseded_by.contains(&by) {
                        rules[target].0.superseded_by.push(by);
                    }
                    rules[by].0.supersedes_any = true;
                    dependencies[target].insert(by);
                }
            }
        }
    }

    /// The index of the rule `id` names (in `fired:` or `supersedes:`), or `None` after
    /// reporting an unknown id at `field` (with a did-you-mean). Ids of rules that failed to
    /// parse were reported already and are not reported again.
    pub(super) fn rule_index(
        &mut self,
        id: &str,
        file: usize,
        origin: Origin,
        field: &str,
    ) -> Option<usize> {
        if let Some(&index) = self.rule_ids.get(id) {
            return Some(index);
        }
        if !self.left_out(id) {
            let known: Vec<&str> = self.rule_ids.keys().copied().collect();
            let hint = did_you_mean(id, &known, || {
                "use the id of a rule in the loaded files".to_owned()
            });
            self.problem(
                file,
                origin,
                ProblemKind::UnknownRule,
                field,
                format!("unknown rule `{id}`: {hint}"),
            );
        }
        None
    }
}
