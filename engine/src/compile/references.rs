//! References (`name:$.path`), sources, labels and `requires`: what a rule reads and where.

use std::collections::BTreeMap;

use super::names::bad_name;
use super::parameters::Params;
use super::{Compiler, Scoped, chain_lengths, compact_index, find_cycle};

/// How many sources a chain of sources (a source reading another) may go through: evaluation
/// resolves them recursively, this deep and no deeper.
pub(super) const MAX_SOURCE_DEPTH: usize = 16;

/// How long a JSONPath may be, and how deeply its brackets and parentheses may nest.
const MAX_PATH_LENGTH: usize = 2_000;
const MAX_PATH_NESTING: usize = 32;
use crate::compiled::{Ref, Requirement, Scope, Source, SourceMode};
use crate::error::{Origin, ProblemKind};
use crate::suggest::did_you_mean;

impl<'f> Compiler<'f> {
    /// Labels of all files; a later file's label replaces an earlier one of the same name.
    pub(super) fn compile_labels(&mut self) -> Vec<(String, Ref)> {
        let mut labels: BTreeMap<String, Ref> = BTreeMap::new();
        let no_params = Params::default();
        let files = self.files;
        for (file_index, file) in files.iter().enumerate() {
            for (name, text) in &file.spec.labels {
                let field = format!("labels.{name}");
                if let Some(message) = bad_name(name) {
                    self.problem(
                        file_index,
                        Origin::File,
                        ProblemKind::InvalidName,
                        &field,
                        message,
                    );
                    continue;
                }
                let mut scope = Scoped::new(file_index, Origin::File, &no_params);
                if let Some(reference) = self.compile_ref(&mut scope, text, &field) {
                    labels.insert(name.clone(), reference);
                }
            }
        }
        labels.into_iter().collect()
    }

    pub(super) fn compile_sources(&mut self) -> Vec<Source> {
        let mut named: Vec<(&str, usize, usize)> = self
            .sources
            .iter()
            .map(|(name, (id, file))| (*name, *id, *file))
            .collect();
        named.sort_by_key(|(_, id, _)| *id);
        let no_params = Params::default();
        let mut compiled = Vec::new();
        let mut edges: Vec<Vec<usize>> = Vec::new();
        for (name, _, file_index) in named {
            let spec = &self.files[file_index].spec.sources[name];
            let field = format!("sources.{name}");
            let given: Vec<(SourceMode, &Vec<String>, &str)> = [
                (SourceMode::FirstFound, &spec.first_of, "first_of"),
                (
                    SourceMode::FirstPresent,
                    &spec.first_present_of,
                    "first_present_of",
                ),
                (SourceMode::All, &spec.all_of, "all_of"),
            ]
            .into_iter()
            .filter_map(|(mode, list, key)| list.as_ref().map(|list| (mode, list, key)))
            .collect();
            let (mode, candidates, key) = match given.as_slice() {
                [(mode, list, key)] => (*mode, list.as_slice(), *key),
                _ => {
                    self.problem(
                        file_index,
                        Origin::Source(name.to_owned()),
                        ProblemKind::Shape,
                        &field,
                        "a source needs exactly one of `first_of`, `first_present_of` or `all_of`"
                            .to_owned(),
                    );
                    (SourceMode::FirstFound, &[][..], "first_of")
                }
            };
            if candidates.is_empty() && given.len() == 1 {
                let example = self.example_reference();
                self.problem(
                    file_index,
                    Origin::Source(name.to_owned()),
                    ProblemKind::Shape,
                    &format!("{field}.{key}"),
                    format!("`{key}` needs at least one reference such as {example}"),
                );
            }
            let mut scope = Scoped::new(file_index, Origin::Source(name.to_owned()), &no_params);
            let refs: Vec<Ref> = candidates
                .iter()
                .enumerate()
                .filter_map(|(index, text)| {
                    self.compile_ref(&mut scope, text, &format!("{field}.{key}[{index}]"))
                })
                .collect();
            edges.push(
                refs.iter()
                    .filter_map(|r| match r.scope {
                        Scope::Source(id) => Some(id),
                        _ => None,
                    })
                    .collect(),
            );
            compiled.push(Source {
                mode,
                candidates: refs,
                pick: spec.pick,
            });
        }
        if let Some(cycle) = find_cycle(&edges) {
            let names = self.source_names();
            let text: Vec<&str> = cycle.iter().map(|id| names[*id]).collect();
            let (_, file) = self.sources[names[cycle[0]]];
            self.problem(
                file,
                Origin::Source(names[cycle[0]].to_owned()),
                ProblemKind::Cycle,
                &format!("sources.{}", names[cycle[0]]),
                format!(
                    "sources refer to each other in a cycle: {}: break the cycle",
                    text.join(" -> ")
                ),
            );
        } else {
            self.check_source_depth(&edges);
        }
        compiled
    }

    /// Reports the first source that starts a chain of sources longer than
    /// [`MAX_SOURCE_DEPTH`], with the chain.
    fn check_source_depth(&mut self, edges: &[Vec<usize>]) {
        let lengths = chain_lengths(edges);
        let Some(first) = (0..edges.len()).find(|id| lengths[*id] > MAX_SOURCE_DEPTH) else {
            return;
        };
        let names = self.source_names();
        let mut chain = vec![names[first]];
        let mut at = first;
        while let Some(&next) = edges[at].iter().max_by_key(|next| lengths[**next]) {
            chain.push(names[next]);
            at = next;
        }
        let shown = if chain.len() > 6 {
            format!(
                "{} -> ... -> {}",
                chain[..3].join(" -> "),
                chain[chain.len() - 3..].join(" -> ")
            )
        } else {
            chain.join(" -> ")
        };
        let (_, file) = self.sources[names[first]];
        self.problem(
            file,
            Origin::Source(names[first].to_owned()),
            ProblemKind::TooLarge,
            &format!("sources.{}", names[first]),
            format!(
                "sources read each other {} deep ({shown}), more than {MAX_SOURCE_DEPTH}: read the documents directly in fewer steps",
                lengths[first]
            ),
        );
    }

    pub(super) fn source_names(&self) -> Vec<&'f str> {
        let mut names = vec![""; self.sources.len()];
        for (name, (id, _)) in &self.sources {
            names[*id] = name;
        }
        names
    }

    pub(super) fn compile_requires(
        &mut self,
        scope: &mut Scoped,
        field: &str,
        names: &[String],
    ) -> Vec<Requirement> {
        let mut out = Vec::new();
        for (index, name) in names.iter().enumerate() {
            let item_field = format!("{field}.requires[{index}]");
            if let Some(message) = bad_name(name) {
                self.report(scope, ProblemKind::InvalidName, &item_field, message);
                continue;
            }
            let (scope_of, how_to_get) = if name == "context" {
                (Scope::Context, "the bundle's `context`".to_owned())
            } else if name == "left" || name == "right" {
                self.report(
                    scope,
                    ProblemKind::JoinScope,
                    &item_field,
                    format!(
                        "`{name}` only exists inside a join's `where`: require a document or source"
                    ),
                );
                continue;
            } else if let Some((id, file)) = self.sources.get(name.as_str()).copied() {
                (Scope::Source(id), self.describe_source(name, file))
            } else {
                let how_to_get = match self.documents.get(name.as_str()) {
                    Some(how_to_get) => (*how_to_get).to_owned(),
                    None => format!("the `{name}` document"),
                };
                self.warn_if_undeclared(
                    scope,
                    name,
                    &item_field,
                    "this rule can never be evaluated",
                );
                self.read_documents.insert(name.clone());
                (Scope::Document(name.clone()), how_to_get)
            };
            out.push(Requirement {
                name: name.clone(),
                document: self.document_slot(&scope_of),
                scope: scope_of,
                how_to_get,
            });
        }
        out
    }

    /// What to capture so that a source has a value: its description and the documents its
    /// references (and those of the sources it builds on) read.
    pub(super) fn describe_source(&self, name: &str, file: usize) -> String {
        let mut documents = Vec::new();
        self.source_documents(name, file, &mut vec![name.to_owned()], &mut documents);
        let list = documents.join(", ");
        match &self.files[file].spec.sources[name].description {
            Some(description) => format!("{description}, from one of: {list}"),
            None => format!("one of: {list}"),
        }
    }

    pub(super) fn source_documents(
        &self,
        name: &str,
        file: usize,
        visiting: &mut Vec<String>,
        out: &mut Vec<String>,
    ) {
        let spec = &self.files[file].spec.sources[name];
        let lists = [&spec.first_of, &spec.first_present_of, &spec.all_of];
        for text in lists.into_iter().flatten().flatten() {
            let Some((reference, path)) = text.split_once(':') else {
                continue;
            };
            match self.sources.get(reference) {
                Some((_, source_file))
                    if !visiting.iter().any(|v| v == reference)
                        && visiting.len() <= MAX_SOURCE_DEPTH =>
                {
                    visiting.push(reference.to_owned());
                    self.source_documents(reference, *source_file, visiting, out);
                    visiting.pop();
                }
                Some(_) => {}
                None => {
                    let shown = if reference == "context" {
                        format!("context:{}", path.trim())
                    } else {
                        reference.to_owned()
                    };
                    if !out.contains(&shown) {
                        out.push(shown);
                    }
                }
            }
        }
    }

    pub(super) fn compile_ref(
        &mut self,
        scope: &mut Scoped,
        text: &str,
        field: &str,
    ) -> Option<Ref> {
        let Some((name, path)) = text.split_once(':') else {
            let example = self.example_reference();
            self.report(
                scope,
                ProblemKind::InvalidReference,
                field,
                format!(
                    "`{text}` is not a reference: write `<document or source>:<JSONPath>`, such as {example}"
                ),
            );
            return None;
        };
        if let Some(message) = bad_name(name) {
            self.report(
                scope,
                ProblemKind::InvalidReference,
                field,
                format!("in `{text}`: {message}"),
            );
            return None;
        }
        let path_text = path.trim_start();
        if !path_text.starts_with('$') {
            self.report(
                scope,
                ProblemKind::InvalidReference,
                field,
                format!("in `{text}`: the JSONPath must start with `$`, such as `{name}:$.item`"),
            );
            return None;
        }
        let reference_scope = match name {
            "context" => Scope::Context,
            "left" | "right" if !scope.bindings => {
                self.report(
                    scope,
                    ProblemKind::JoinScope,
                    field,
                    format!("`{name}:` only exists inside a join's `where`"),
                );
                return None;
            }
            "left" => Scope::Left,
            "right" => Scope::Right,
            other => match self.sources.get(other) {
                Some((id, _)) => Scope::Source(*id),
                None => {
                    self.warn_if_undeclared(scope, other, field, "this can never match");
                    self.read_documents.insert(other.to_owned());
                    Scope::Document(other.to_owned())
                }
            },
        };
        if let Err(message) = check_path_size(path_text) {
            self.report(scope, ProblemKind::TooLarge, field, message);
            return None;
        }
        let path = match self.path(path_text) {
            Ok(path) => path,
            Err(error) => {
                let at = error
                    .column
                    .map(|column| format!(" at column {column}"))
                    .unwrap_or_default();
                self.report(
                    scope,
                    ProblemKind::InvalidReference,
                    field,
                    format!(
                        "invalid JSONPath `{path_text}`{at}: {}: see RFC 9535, for example `$.accounts[*].balances.current`",
                        error.message
                    ),
                );
                return None;
            }
        };
        let slot = match reference_scope {
            Scope::Left | Scope::Right => None,
            _ => {
                let next = self.ref_slots.len();
                let key = (reference_scope.clone(), path_text.to_owned());
                let slot = *self.ref_slots.entry(key).or_insert(next);
                match compact_index(slot, "distinct references") {
                    Ok(slot) => Some(slot),
                    Err(message) => {
                        self.report(scope, ProblemKind::TooLarge, field, message);
                        return None;
                    }
                }
            }
        };
        Some(Ref {
            document: self.document_slot(&reference_scope),
            scope: reference_scope,
            path,
            text: text.to_owned(),
            slot,
        })
    }

    /// For a document, its slot: one per distinct name, in the order names are first read.
    fn document_slot(&mut self, scope: &Scope) -> Option<usize> {
        let Scope::Document(name) = scope else {
            return None;
        };
        let next = self.document_slots.len();
        Some(*self.document_slots.entry(name.clone()).or_insert(next))
    }

    /// A reference for a message's example, made of the loaded rules' own names (a declared
    /// document, else a source, else a document some reference reads), so that the engine
    /// names no API of its own.
    fn example_reference(&self) -> String {
        let sources = self.source_names();
        let name = self
            .documents
            .keys()
            .next()
            .copied()
            .or_else(|| sources.first().copied())
            .or_else(|| self.read_documents.iter().next().map(String::as_str));
        format!("`{}:$.field`", name.unwrap_or("<document>"))
    }

    /// When the loaded files declare their documents, a reference to any other name is most
    /// likely a typo: the rule would never see a value there.
    pub(super) fn warn_if_undeclared(
        &mut self,
        scope: &Scoped,
        name: &str,
        field: &str,
        consequence: &str,
    ) {
        if self.documents.is_empty() || self.documents.contains_key(name) {
            return;
        }
        let mut known: Vec<&str> = self.documents.keys().copied().collect();
        known.extend(self.sources.keys().copied());
        let hint = did_you_mean(name, &known, || {
            "declare it under `documents:` if bundles really carry it".to_owned()
        });
        let problem = self.files[scope.file].problem(
            scope.origin.clone(),
            ProblemKind::UndeclaredDocument,
            field,
            format!(
                "`{name}` is neither a declared document nor a source, so {consequence}: {hint}"
            ),
        );
        self.warnings.push(problem);
    }
}

/// Refuses a JSONPath longer than [`MAX_PATH_LENGTH`] characters or nested deeper than
/// [`MAX_PATH_NESTING`] brackets and parentheses, before it is parsed.
pub(super) fn check_path_size(path: &str) -> Result<(), String> {
    let length = path.chars().count();
    if length > MAX_PATH_LENGTH {
        return Err(format!(
            "this JSONPath is {length} characters long, more than {MAX_PATH_LENGTH}: shorten it, or read part of the way with a source"
        ));
    }
    let (mut depth, mut deepest, mut quote) = (0usize, 0usize, None);
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') => {
                chars.next();
            }
            (Some(open), c) if c == open => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[' | '(') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (None, ']' | ')') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > MAX_PATH_NESTING {
        return Err(format!(
            "this JSONPath nests brackets and parentheses {deepest} deep, more than {MAX_PATH_NESTING}: simplify its filters"
        ));
    }
    Ok(())
}
