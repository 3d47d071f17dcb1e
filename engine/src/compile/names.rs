//! Names: documents, parameters, sources, named conditions and rule ids are registered
//! and checked before anything refers to them; overrides are matched to rules.

use std::collections::HashMap;

use super::Compiler;
use super::parameters::Site;
use crate::error::{Origin, ProblemKind};
use crate::load::ParsedFile;
use crate::suggest::did_you_mean;

impl<'f> Compiler<'f> {
    /// Registers every source, condition, rule id and document name, reporting duplicates.
    pub(super) fn collect_names(&mut self) {
        let files = self.files;
        // A file that defines the same rules as an earlier one (the same pack loaded twice):
        // one problem says so, instead of one per source, condition and rule defined twice.
        let copies = self.report_copies();
        let mut rule_count = 0;
        // Where each rule id was first defined (file, index in its `rules`), located only for a
        // duplicate: locating indexes the file's text, a second YAML parse.
        let mut first_rule_at: HashMap<&str, (&ParsedFile, usize)> = HashMap::new();
        for (file_index, file) in files.iter().enumerate() {
            for (name, how_to_get) in &file.spec.documents {
                if let Some(message) = bad_name(name) {
                    self.problem(
                        file_index,
                        Origin::File,
                        ProblemKind::InvalidName,
                        &format!("documents.{name}"),
                        message,
                    );
                } else if RESERVED.contains(&name.as_str()) {
                    self.problem(
                        file_index,
                        Origin::File,
                        ProblemKind::InvalidName,
                        &format!("documents.{name}"),
                        format!("`{name}` is reserved and cannot name a document: rename it"),
                    );
                }
                self.documents.insert(name, how_to_get);
            }
            for (name, value) in &file.spec.params {
                if let Some(message) = bad_name(name) {
                    self.problem(
                        file_index,
                        Origin::File,
                        ProblemKind::InvalidName,
                        &format!("params.{name}"),
                        message,
                    );
                }
                self.check_param_value(file_index, Origin::File, &format!("params.{name}"), value);
                let site = Site {
                    file: file_index,
                    field: format!("params.{name}"),
                    origin: Origin::File,
                };
                self.params.insert(name, value, site);
            }
            for name in file.spec.sources.keys() {
                let field = format!("sources.{name}");
                if let Some(message) = bad_name(name) {
                    self.problem(
                        file_index,
                        Origin::Source(name.clone()),
                        ProblemKind::InvalidName,
                        &field,
                        message,
                    );
                } else if RESERVED.contains(&name.as_str()) {
                    self.problem(
                        file_index,
                        Origin::Source(name.clone()),
                        ProblemKind::InvalidName,
                        &field,
                        format!("`{name}` is reserved and cannot name a source: rename it"),
                    );
                } else if let Some(&(_, first)) = self.sources.get(name.as_str()) {
                    if copies.contains(&file_index) {
                        continue;
                    }
                    self.problem(
                        file_index,
                        Origin::Source(name.clone()),
                        ProblemKind::DuplicateName,
                        &field,
                        format!(
                            "source `{name}` is defined in two files (first in {}): keep one",
                            files[first].name
                        ),
                    );
                } else {
                    let id = self.sources.len();
                    self.sources.insert(name, (id, file_index));
                }
            }
            for (name, spec) in &file.spec.conditions {
                if let Some(message) = bad_name(name) {
                    self.problem(
                        file_index,
                        Origin::Condition(name.clone()),
                        ProblemKind::InvalidName,
                        &format!("conditions.{name}"),
                        message,
                    );
                } else if let Some(&(first, _)) = self.conditions.get(name.as_str()) {
                    if copies.contains(&file_index) {
                        continue;
                    }
                    self.problem(
                        file_index,
                        Origin::Condition(name.clone()),
                        ProblemKind::DuplicateName,
                        &format!("conditions.{name}"),
                        format!(
                            "condition `{name}` is defined in two files (first in {}): keep one",
                            files[first].name
                        ),
                    );
                } else {
                    self.conditions.insert(name, (file_index, spec));
                }
            }
            for (rule, rule_index) in file.spec.rules.iter().zip(&file.rule_indexes) {
                let field = format!("rules[{rule_index}].id");
                if let Some(message) = bad_rule_id(&rule.id) {
                    self.problem(
                        file_index,
                        Origin::Rule(rule.id.clone()),
                        ProblemKind::InvalidName,
                        &field,
                        message,
                    );
                }
                match first_rule_at.get(rule.id.as_str()) {
                    Some(_) if copies.contains(&file_index) => {}
                    Some(&(first_file, first_index)) => {
                        let first_field = format!("rules[{first_index}].id");
                        let first = match first_file.location(&first_field) {
                            Some(location) => format!("{}:{}", first_file.name, location.line),
                            None => first_file.name.clone(),
                        };
                        let message = format!(
                            "duplicate rule id `{}` (first defined at {first}): rename this one, or change the first with `overrides:`",
                            rule.id
                        );
                        self.problem(
                            file_index,
                            Origin::Rule(rule.id.clone()),
                            ProblemKind::DuplicateName,
                            &field,
                            message,
                        );
                    }
                    None => {
                        first_rule_at.insert(&rule.id, (file, *rule_index));
                        self.rule_ids.insert(&rule.id, rule_count);
                    }
                }
                rule_count += 1;
            }
        }
    }

    /// The files that define the same rules (two or more, the same ids) as an earlier file,
    /// each reported once: the same pack loaded twice, as a copy of a file that another loaded
    /// file extends. A file that repeats only some of another's rules gets a problem per
    /// duplicate, which says how to change one rule instead.
    fn report_copies(&mut self) -> std::collections::HashSet<usize> {
        let files = self.files;
        fn ids(file: &ParsedFile) -> std::collections::BTreeSet<&str> {
            file.spec
                .rules
                .iter()
                .map(|rule| rule.id.as_str())
                .collect()
        }
        let all: Vec<_> = files.iter().map(ids).collect();
        let mut copies = std::collections::HashSet::new();
        for (later, file) in files.iter().enumerate() {
            if all[later].len() < 2 {
                continue;
            }
            let Some(first) = all[..later].iter().position(|first| *first == all[later]) else {
                continue;
            };
            copies.insert(later);
            // Located in the file the user can change: not in the embedded pack.
            let (at, other) = if file.name == crate::extends::DEFAULT_PACK.name {
                (first, later)
            } else {
                (later, first)
            };
            self.problem(
                at,
                Origin::File,
                ProblemKind::DuplicateName,
                "rules",
                format!(
                    "this file defines the same rules as {}: the same pack is loaded twice (such as a copy of a file that another loaded file `extends`): load it once",
                    files[other].name
                ),
            );
        }
        copies
    }

    /// Registers every file's `overrides`, reporting overrides of rules no file defines.
    pub(super) fn collect_overrides(&mut self) {
        let files = self.files;
        for (file_index, file) in files.iter().enumerate() {
            for (id, change) in &file.spec.overrides {
                if self.rule_ids.contains_key(id.as_str()) {
                    self.overrides
                        .entry(id)
                        .or_default()
                        .push((file_index, change));
                } else if !self.left_out(id) {
                    let known: Vec<&str> = self.rule_ids.keys().copied().collect();
                    let hint = did_you_mean(id, &known, || {
                        "overrides change rules of loaded files: check the id and `extends`"
                            .to_owned()
                    });
                    self.problem(
                        file_index,
                        Origin::File,
                        ProblemKind::UnknownRule,
                        &format!("overrides.{id}"),
                        format!("no loaded file defines rule `{id}`: {hint}"),
                    );
                }
            }
        }
    }
}

/// Names that address something other than a document.
pub(super) const RESERVED: [&str; 3] = ["context", "left", "right"];

/// Names of documents, sources, conditions, values and parameters: letters, digits, `_`, `-`.
pub(super) fn bad_name(name: &str) -> Option<String> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    (!valid).then(|| format!("`{name}` is not a valid name: use letters, digits, `_` and `-` only"))
}

pub(super) fn bad_rule_id(id: &str) -> Option<String> {
    let valid = id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    (!valid).then(|| {
        format!("`{id}` is not a valid rule id: start with a letter or digit, then use letters, digits, `-`, `_` or `.`")
    })
}
