//! Stage 2: [`RuleFile`]s -> [`RuleSet`]. All fallible work happens here, and every problem
//! is collected before compilation fails.

use std::collections::{BTreeMap, HashMap, HashSet};

use regex::Regex;
use serde_json::Value;

use crate::compiled::{
    Check, Compare, Cond, CondKind, Join, NumCmp, Op, Quant, Ref, Requirement, Rule, RuleSet,
    Scope, Source, Test,
};
use crate::error::{Origin, Problem, ProblemKind, RuleErrors};
use crate::load::{self, ParsedFile};
use crate::path::CompiledPath;
use crate::spec::{ConditionSpec, RuleOverride, RuleSpec};
use crate::suggest::closest;
use crate::template::{Name, Template};
use crate::time::parse_duration;
use crate::vocab::{CompareOp, Quantifier};

/// The text of one rules file and the name to report it under.
#[derive(Debug, Clone, Copy)]
pub struct RuleText<'a> {
    /// A path, or a label such as `<default>` for an embedded pack.
    pub name: &'a str,
    /// The YAML text.
    pub text: &'a str,
}

/// Names that address something other than a document.
const RESERVED: [&str; 3] = ["context", "left", "right"];

/// Parses, validates and compiles rules files into one [`RuleSet`].
///
/// Files are layered in the order given: sources, named conditions and labels are shared by
/// all files; file-level parameters too, a later file's value replacing an earlier one; a
/// file's `overrides` change rules of any loaded file. Every problem in every file is
/// reported at once.
pub fn compile(files: &[RuleText<'_>]) -> Result<RuleSet, RuleErrors> {
    let mut problems = Vec::new();
    let mut parsed = Vec::new();
    for file in files {
        let (file, found) = load::parse(file.name, file.text);
        parsed.extend(file);
        problems.extend(found);
    }
    let mut compiler = Compiler::new(&parsed);
    let set = compiler.run();
    problems.append(&mut compiler.problems);
    if problems.is_empty() {
        Ok(set)
    } else {
        let order: HashMap<&str, usize> = files
            .iter()
            .enumerate()
            .map(|(index, file)| (file.name, index))
            .collect();
        problems.sort_by_key(|p| (order.get(p.file.as_str()).copied(), p.location));
        Err(RuleErrors {
            problems,
            warnings: set.warnings,
        })
    }
}

struct Compiler<'f> {
    files: &'f [ParsedFile],
    problems: Vec<Problem>,
    /// Source name -> (id, file index).
    sources: HashMap<&'f str, (usize, usize)>,
    /// Condition name -> (file index, spec).
    conditions: HashMap<&'f str, (usize, &'f ConditionSpec)>,
    /// Rule id -> index into the rule list.
    rule_ids: HashMap<&'f str, usize>,
    /// Document name -> what to capture.
    documents: BTreeMap<&'f str, &'f str>,
    /// Named conditions some rule uses, each with its compilations.
    named: HashMap<&'f str, Vec<NamedUse>>,
    /// The compiled named conditions, shared by every rule that uses them.
    named_conds: Vec<Cond>,
    /// Per named condition, the problems already reported: (file, field, kind).
    named_reported: HashMap<&'f str, HashSet<(String, String, ProblemKind)>>,
    /// Capture names (`as:`) of all rules; a test's capture is an index into it.
    capture_names: Vec<String>,
    /// Parameters of all files, a later file's value replacing an earlier one.
    params: BTreeMap<String, Value>,
    /// Rule id -> the overrides for it, in file order.
    overrides: HashMap<&'f str, Vec<(usize, &'f RuleOverride)>>,
    /// Problems that do not stop compilation.
    warnings: Vec<Problem>,
    /// Document names some reference or requirement reads.
    read_documents: std::collections::BTreeSet<String>,
}

/// Where a condition is being compiled.
struct Scoped<'s> {
    file: usize,
    /// Who the problems found here belong to.
    origin: Origin,
    params: &'s BTreeMap<String, Value>,
    in_join: bool,
    /// `left:`/`right:` may be used (inside a join, or in a named condition checked alone).
    bindings: bool,
    named_stack: Vec<String>,
    fired: HashSet<usize>,
    /// Capture names (`as:`) met so far in the rule.
    captures: Vec<String>,
    /// Names of the parameters read so far.
    read_params: Vec<String>,
}

/// One compilation of a named condition, for the uses that read the same parameter values
/// from the same place (in a join or not).
#[derive(Clone)]
struct NamedUse {
    in_join: bool,
    bindings: bool,
    /// The parameters it reads, with their values (`None`: not declared).
    params: Vec<(String, Option<Value>)>,
    /// Index into the compiled named conditions; `None` when it did not compile.
    id: Option<usize>,
    /// Rules it tests with `fired`.
    fired: HashSet<usize>,
    /// Its capture names (`as:`).
    captures: Vec<String>,
}

impl<'s> Scoped<'s> {
    fn new(file: usize, origin: Origin, params: &'s BTreeMap<String, Value>) -> Self {
        Scoped {
            file,
            origin,
            params,
            in_join: false,
            bindings: false,
            named_stack: Vec::new(),
            fired: HashSet::new(),
            captures: Vec::new(),
            read_params: Vec::new(),
        }
    }

    /// Allows `left:`/`right:`, for named conditions checked alone.
    fn with_bindings(mut self) -> Self {
        self.bindings = true;
        self
    }

    /// Starts inside the named condition `name`, for cycle reports.
    fn naming(mut self, stack: Vec<String>) -> Self {
        self.named_stack = stack;
        self
    }
}

impl<'f> Compiler<'f> {
    fn new(files: &'f [ParsedFile]) -> Self {
        Compiler {
            files,
            problems: Vec::new(),
            sources: HashMap::new(),
            conditions: HashMap::new(),
            rule_ids: HashMap::new(),
            documents: BTreeMap::new(),
            named: HashMap::new(),
            named_conds: Vec::new(),
            named_reported: HashMap::new(),
            capture_names: Vec::new(),
            params: BTreeMap::new(),
            overrides: HashMap::new(),
            warnings: Vec::new(),
            read_documents: std::collections::BTreeSet::new(),
        }
    }

    fn problem(
        &mut self,
        file: usize,
        origin: Origin,
        kind: ProblemKind,
        field: &str,
        message: String,
    ) {
        let problem = self.files[file].problem(origin, kind, field, message);
        self.problems.push(problem);
    }

    /// A problem where `scope` is compiling.
    fn report(&mut self, scope: &Scoped, kind: ProblemKind, field: &str, message: String) {
        self.problem(scope.file, scope.origin.clone(), kind, field, message);
    }

    fn run(&mut self) -> RuleSet {
        self.collect_names();
        self.collect_overrides();
        let sources = self.compile_sources();
        let labels = self.compile_labels();
        let mut rules = Vec::new();
        let mut dependencies = Vec::new();
        for (file_index, file) in self.files.iter().enumerate() {
            for (spec, rule_index) in file.spec.rules.iter().zip(&file.rule_indexes) {
                let field = format!("rules[{rule_index}]");
                if let Some((rule, fired)) = self.compile_rule(file_index, &field, spec) {
                    rules.push((rule, spec.enabled));
                    dependencies.push(fired);
                }
            }
        }
        self.check_unused_conditions();
        let evaluation_order = self.order_rules(&rules, &dependencies);
        let rules = rules.into_iter().map(|(rule, _)| rule).collect();
        let warnings = std::mem::take(&mut self.warnings);
        RuleSet {
            rules,
            conditions: std::mem::take(&mut self.named_conds),
            capture_count: self.capture_names.len(),
            evaluation_order,
            sources,
            labels,
            read_documents: std::mem::take(&mut self.read_documents),
            warnings,
        }
    }

    /// Registers every source, condition, rule id and document name, reporting duplicates.
    fn collect_names(&mut self) {
        let files = self.files;
        let mut rule_count = 0;
        let mut first_rule_at: HashMap<&str, String> = HashMap::new();
        for (file_index, file) in files.iter().enumerate() {
            for (name, capture) in &file.spec.documents {
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
                self.documents.insert(name, capture);
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
                self.params.insert(name.clone(), value.clone());
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
                } else if self.sources.contains_key(name.as_str()) {
                    self.problem(
                        file_index,
                        Origin::Source(name.clone()),
                        ProblemKind::DuplicateName,
                        &field,
                        format!("source `{name}` is defined in two files: keep one"),
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
                } else if self.conditions.insert(name, (file_index, spec)).is_some() {
                    self.problem(
                        file_index,
                        Origin::Condition(name.clone()),
                        ProblemKind::DuplicateName,
                        &format!("conditions.{name}"),
                        format!("condition `{name}` is defined in two files: keep one"),
                    );
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
                    Some(first) => {
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
                        let at = match file.location(&field) {
                            Some(location) => format!("{}:{}", file.name, location.line),
                            None => file.name.clone(),
                        };
                        first_rule_at.insert(&rule.id, at);
                        self.rule_ids.insert(&rule.id, rule_count);
                    }
                }
                rule_count += 1;
            }
        }
    }

    /// Registers every file's `overrides`, reporting overrides of rules no file defines.
    fn collect_overrides(&mut self) {
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
                    let hint = closest(id, &known)
                        .map(|best| format!("did you mean `{best}`?"))
                        .unwrap_or_else(|| {
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

    /// Labels of all files; a later file's label replaces an earlier one of the same name.
    fn compile_labels(&mut self) -> Vec<(String, Ref)> {
        let mut labels: BTreeMap<String, Ref> = BTreeMap::new();
        let no_params = BTreeMap::new();
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

    fn compile_sources(&mut self) -> Vec<Source> {
        let mut named: Vec<(&str, usize, usize)> = self
            .sources
            .iter()
            .map(|(name, (id, file))| (*name, *id, *file))
            .collect();
        named.sort_by_key(|(_, id, _)| *id);
        let no_params = BTreeMap::new();
        let mut compiled = Vec::new();
        let mut edges: Vec<Vec<usize>> = Vec::new();
        for (name, _, file_index) in named {
            let spec = &self.files[file_index].spec.sources[name];
            let field = format!("sources.{name}");
            let (first_only, candidates, key) = match (&spec.first_of, &spec.all_of) {
                (Some(list), None) => (true, list.as_slice(), "first_of"),
                (None, Some(list)) => (false, list.as_slice(), "all_of"),
                _ => {
                    self.problem(
                        file_index,
                        Origin::Source(name.to_owned()),
                        ProblemKind::Shape,
                        &field,
                        "a source needs exactly one of `first_of` or `all_of`".to_owned(),
                    );
                    (true, &[][..], "first_of")
                }
            };
            if candidates.is_empty() && (spec.first_of.is_some() != spec.all_of.is_some()) {
                self.problem(
                    file_index,
                    Origin::Source(name.to_owned()),
                    ProblemKind::Shape,
                    &format!("{field}.{key}"),
                    format!("`{key}` needs at least one reference such as `item_get:$.item`"),
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
                first_only,
                candidates: refs,
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
        }
        compiled
    }

    fn source_names(&self) -> Vec<&'f str> {
        let mut names = vec![""; self.sources.len()];
        for (name, (id, _)) in &self.sources {
            names[*id] = name;
        }
        names
    }

    fn compile_rule(
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
            params.insert(name.clone(), value.clone());
        }
        let (mut severity, mut confidence, mut enabled) =
            (spec.severity, spec.confidence, spec.enabled);
        let mut overridden_by = Vec::new();
        for (override_file, change) in self.overrides.get(rule_id).cloned().unwrap_or_default() {
            severity = change.severity.unwrap_or(severity);
            confidence = change.confidence.unwrap_or(confidence);
            enabled = change.enabled.unwrap_or(enabled);
            for (name, value) in &change.params {
                if params.contains_key(name) {
                    params.insert(name.clone(), value.clone());
                } else {
                    let known: Vec<&str> = params.keys().map(String::as_str).collect();
                    let hint = closest(name, &known)
                        .map(|best| format!("did you mean `{best}`?"))
                        .unwrap_or_else(|| {
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
        let message = Template::parse(&spec.message, |name| {
            if let Some(index) = values.iter().position(|(n, _)| n == name) {
                return Some(Name::Value(index));
            }
            if let Some(index) = captures.iter().position(|n| n == name) {
                return Some(Name::Value(values.len() + index));
            }
            params.get(name).map(|value| Name::Param(value.clone()))
        });
        let message = match message {
            Ok(message) => Some(message),
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
                remediation: spec.remediation.clone(),
                references: spec.references.clone(),
                requires,
                values,
                captures,
                when: when?,
                message: message?,
            },
            fired,
        ))
    }

    fn compile_requires(
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
            let (scope_of, capture) = if name == "context" {
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
                let capture = match self.documents.get(name.as_str()) {
                    Some(capture) => (*capture).to_owned(),
                    None => format!("the `{name}` document"),
                };
                self.warn_if_undeclared(
                    scope,
                    name,
                    &item_field,
                    "this rule can never be evaluated",
                );
                self.read_documents.insert(name.clone());
                (Scope::Document(name.clone()), capture)
            };
            out.push(Requirement {
                name: name.clone(),
                scope: scope_of,
                capture,
            });
        }
        out
    }

    /// What to capture so that a source has a value: its description and the documents its
    /// references (and those of the sources it builds on) read.
    fn describe_source(&self, name: &str, file: usize) -> String {
        let mut documents = Vec::new();
        self.source_documents(name, file, &mut vec![name.to_owned()], &mut documents);
        let list = documents.join(", ");
        match &self.files[file].spec.sources[name].description {
            Some(description) => format!("{description}, from one of: {list}"),
            None => format!("one of: {list}"),
        }
    }

    fn source_documents(
        &self,
        name: &str,
        file: usize,
        visiting: &mut Vec<String>,
        out: &mut Vec<String>,
    ) {
        let spec = &self.files[file].spec.sources[name];
        for text in spec.first_of.iter().chain(spec.all_of.iter()).flatten() {
            let Some((reference, path)) = text.split_once(':') else {
                continue;
            };
            match self.sources.get(reference) {
                Some((_, source_file)) if !visiting.iter().any(|v| v == reference) => {
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

    fn compile_ref(&mut self, scope: &mut Scoped, text: &str, field: &str) -> Option<Ref> {
        let Some((name, path)) = text.split_once(':') else {
            self.report(
 scope,
 ProblemKind::InvalidReference,
 field,
                format!(
                    "`{text}` is not a reference: write `<document or source>:<JSONPath>`, such as `item_get:$.item.error`"
                ),);
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
        let path = match CompiledPath::compile(path_text) {
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
                    ),);
                return None;
            }
        };
        Some(Ref {
            scope: reference_scope,
            path,
            text: text.to_owned(),
        })
    }

    /// When the loaded files declare their documents, a reference to any other name is most
    /// likely a typo: the rule would never see a value there.
    fn warn_if_undeclared(&mut self, scope: &Scoped, name: &str, field: &str, consequence: &str) {
        if self.documents.is_empty() || self.documents.contains_key(name) {
            return;
        }
        let mut known: Vec<&str> = self.documents.keys().copied().collect();
        known.extend(self.sources.keys().copied());
        let hint = match closest(name, &known) {
            Some(best) => format!("did you mean `{best}`?"),
            None => "declare it under `documents:` if bundles really carry it".to_owned(),
        };
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

    fn compile_cond(
        &mut self,
        scope: &mut Scoped,
        spec: &'f ConditionSpec,
        field: &str,
    ) -> Option<Cond> {
        let kinds: Vec<&str> = [
            ("all", spec.all.is_some()),
            ("any", spec.any.is_some()),
            ("not", spec.not.is_some()),
            ("condition", spec.condition.is_some()),
            ("fired", spec.fired.is_some()),
            ("path", spec.path.is_some()),
            ("compare", spec.compare.is_some()),
            ("join", spec.join.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect();
        let mut operators = operator_names(spec);
        operators.extend(modifier_names(spec));
        let kind = match kinds.as_slice() {
            [] => {
                let message = if operators.is_empty() {
                    "empty condition: give one of `all`, `any`, `not`, `condition`, `fired`, `path`, `compare` or `join`".to_owned()
                } else {
                    format!(
                        "`{}` tests a value: add `path: <document>:<JSONPath>` beside it",
                        operators[0]
                    )
                };
                self.report(scope, ProblemKind::Shape, field, message);
                return None;
            }
            [kind] => *kind,
            [first, second, ..] => {
                self.report(
 scope,
 ProblemKind::Shape,
 field,
                    format!("a condition has one kind but this one has `{first}` and `{second}`: put them in `all: [...]` or `any: [...]`"),);
                return None;
            }
        };
        if kind != "path" {
            if let Some(operator) = operators.first() {
                self.report(
                    scope,
                    ProblemKind::Shape,
                    &format!("{field}.{operator}"),
                    format!("`{operator}` only goes with `path`, not with `{kind}`"),
                );
                return None;
            }
        }
        let list =
            |compiler: &mut Self, scope: &mut Scoped, items: &'f [ConditionSpec], key: &str| {
                if items.is_empty() {
                    compiler.report(
                        scope,
                        ProblemKind::Shape,
                        &format!("{field}.{key}"),
                        format!("`{key}` needs at least one condition"),
                    );
                    return None;
                }
                let compiled: Vec<Option<Cond>> = items
                    .iter()
                    .enumerate()
                    .map(|(index, item)| {
                        compiler.compile_cond(scope, item, &format!("{field}.{key}[{index}]"))
                    })
                    .collect();
                compiled.into_iter().collect::<Option<Vec<Cond>>>()
            };
        let kind = match kind {
            "all" => CondKind::All(list(
                self,
                scope,
                spec.all.as_deref().unwrap_or_default(),
                "all",
            )?),
            "any" => CondKind::Any(list(
                self,
                scope,
                spec.any.as_deref().unwrap_or_default(),
                "any",
            )?),
            "not" => {
                let inner = spec.not.as_deref()?;
                CondKind::Not(Box::new(self.compile_cond(
                    scope,
                    inner,
                    &format!("{field}.not"),
                )?))
            }
            "condition" => {
                let name = spec.condition.as_deref()?;
                let Some((file, named)) = self.conditions.get(name).copied() else {
                    if self.left_out(name) {
                        return None;
                    }
                    let known: Vec<&str> = self.conditions.keys().copied().collect();
                    let hint = closest(name, &known)
                        .map(|best| format!("did you mean `{best}`?"))
                        .unwrap_or_else(|| "define it under `conditions:`".to_owned());
                    self.report(
                        scope,
                        ProblemKind::UnknownCondition,
                        &format!("{field}.condition"),
                        format!("unknown condition `{name}`: {hint}"),
                    );
                    return None;
                };
                if scope.named_stack.iter().any(|n| n == name) {
                    let mut chain = scope.named_stack.clone();
                    chain.push(name.to_owned());
                    self.report(
                        scope,
                        ProblemKind::Cycle,
                        &format!("{field}.condition"),
                        format!(
                            "named conditions refer to each other in a cycle: {}: break the cycle",
                            chain.join(" -> ")
                        ),
                    );
                    return None;
                }
                CondKind::Named(self.named_condition(scope, name, file, named)?)
            }
            "fired" => {
                let id = spec.fired.as_deref()?;
                let Some(index) = self.rule_ids.get(id).copied() else {
                    if self.left_out(id) {
                        return None;
                    }
                    let known: Vec<&str> = self.rule_ids.keys().copied().collect();
                    let hint = closest(id, &known)
                        .map(|best| format!("did you mean `{best}`?"))
                        .unwrap_or_else(|| "use the id of a rule in the loaded files".to_owned());
                    self.report(
                        scope,
                        ProblemKind::UnknownRule,
                        &format!("{field}.fired"),
                        format!("unknown rule `{id}`: {hint}"),
                    );
                    return None;
                };
                scope.fired.insert(index);
                CondKind::Fired(index)
            }
            "path" => CondKind::Test(Box::new(self.compile_test(scope, spec, field)?)),
            "compare" => CondKind::Compare(Box::new(self.compile_compare(scope, spec, field)?)),
            _ => {
                let join = spec.join.as_deref()?;
                if scope.in_join {
                    self.report(
                        scope,
                        ProblemKind::JoinScope,
                        &format!("{field}.join"),
                        "joins cannot be nested: join once and test the pair in `where`".to_owned(),
                    );
                    return None;
                }
                let join_field = format!("{field}.join");
                let left = self.compile_ref(scope, &join.left, &format!("{join_field}.left"));
                let right = self.compile_ref(scope, &join.right, &format!("{join_field}.right"));
                let on = match CompiledPath::compile(&join.on) {
                    Ok(path) => Some(path),
                    Err(error) => {
                        self.report(
 scope,
 ProblemKind::InvalidReference,
 &format!("{join_field}.on"),
                            format!(
                                "invalid JSONPath `{}`: {}: write the key's path relative to each element, such as `$.account_id`",
                                join.on, error.message
                            ),);
                        None
                    }
                };
                let outer_bindings = scope.bindings;
                scope.in_join = true;
                scope.bindings = true;
                let where_ = self.compile_cond(scope, &join.where_, &format!("{join_field}.where"));
                scope.in_join = false;
                scope.bindings = outer_bindings;
                CondKind::Join(Box::new(Join {
                    left: left?,
                    right: right?,
                    on: on?,
                    on_text: join.on.clone(),
                    where_: where_?,
                    quantifier: join.quantifier.unwrap_or_default(),
                }))
            }
        };
        let description = match &kind {
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
                describe_expectation(spec, scope.params)
            ),
            CondKind::Compare(compare) => format!(
                "{} {} {}",
                compare.left.text,
                compare_phrase(compare.op),
                compare.right.text
            ),
            CondKind::Join(join) => format!(
                "join {} with {} on {}",
                join.left.text, join.right.text, join.on_text
            ),
        };
        Some(Cond {
            field: field.to_owned(),
            description,
            kind,
        })
    }

    /// The index of a capture name among all rules' captures.
    fn capture_id(&mut self, name: &str) -> usize {
        match self.capture_names.iter().position(|known| known == name) {
            Some(id) => id,
            None => {
                self.capture_names.push(name.to_owned());
                self.capture_names.len() - 1
            }
        }
    }

    /// A named condition, compiled once for each distinct use: the values of the parameters
    /// it reads and whether it sits in a join. Its problems are reported once.
    fn named_condition(
        &mut self,
        scope: &mut Scoped,
        name: &'f str,
        file: usize,
        spec: &'f ConditionSpec,
    ) -> Option<usize> {
        let fits = |use_: &NamedUse| {
            use_.in_join == scope.in_join
                && use_.bindings == scope.bindings
                && use_
                    .params
                    .iter()
                    .all(|(param, value)| scope.params.get(param) == value.as_ref())
        };
        let known = self
            .named
            .get(name)
            .and_then(|uses| uses.iter().find(|u| fits(u)));
        let use_ = match known {
            Some(use_) => use_.clone(),
            None => {
                let mut inner = Scoped::new(file, Origin::Condition(name.to_owned()), scope.params);
                inner.in_join = scope.in_join;
                inner.bindings = scope.bindings;
                inner.named_stack = scope.named_stack.clone();
                inner.named_stack.push(name.to_owned());
                let (problems, warnings) = (self.problems.len(), self.warnings.len());
                let compiled = self.compile_cond(&mut inner, spec, &format!("conditions.{name}"));
                // A second use with other parameters finds the same problems again, save
                // those that depend on the parameters.
                let reported = self.named_reported.entry(name).or_default();
                let mut fresh = |problem: &Problem| {
                    reported.insert((problem.file.clone(), problem.field.clone(), problem.kind))
                };
                let mut index = problems;
                while index < self.problems.len() {
                    if fresh(&self.problems[index]) {
                        index += 1;
                    } else {
                        self.problems.remove(index);
                    }
                }
                let mut index = warnings;
                while index < self.warnings.len() {
                    if fresh(&self.warnings[index]) {
                        index += 1;
                    } else {
                        self.warnings.remove(index);
                    }
                }
                inner.read_params.sort();
                inner.read_params.dedup();
                let use_ = NamedUse {
                    in_join: scope.in_join,
                    bindings: scope.bindings,
                    params: inner
                        .read_params
                        .iter()
                        .map(|param| (param.clone(), scope.params.get(param).cloned()))
                        .collect(),
                    id: compiled.map(|cond| {
                        self.named_conds.push(cond);
                        self.named_conds.len() - 1
                    }),
                    fired: inner.fired,
                    captures: inner.captures,
                };
                self.named.entry(name).or_default().push(use_.clone());
                use_
            }
        };
        scope.fired.extend(use_.fired.iter().copied());
        scope
            .read_params
            .extend(use_.params.iter().map(|(param, _)| param.clone()));
        for capture in &use_.captures {
            if !scope.captures.contains(capture) {
                scope.captures.push(capture.clone());
            }
        }
        use_.id
    }

    fn compile_test(
        &mut self,
        scope: &mut Scoped,
        spec: &ConditionSpec,
        field: &str,
    ) -> Option<Test> {
        let target = self.compile_ref(scope, spec.path.as_deref()?, &format!("{field}.path"));
        // Registered first, so that the message's `{name}` is known even when the test fails.
        let mut ok = true;
        let capture = match &spec.capture {
            None => None,
            Some(name) => {
                if let Some(message) = bad_name(name) {
                    let at = format!("{field}.as");
                    self.report(scope, ProblemKind::InvalidName, &at, message);
                    ok = false;
                }
                if !scope.captures.contains(name) {
                    scope.captures.push(name.clone());
                }
                Some(self.capture_id(name))
            }
        };
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
                    Quant::Count(compiled)
                }
            };
            Check::Values(ops?, quant)
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

    fn compile_ops(
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

    fn compile_compare(
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
        Some(Compare {
            left: left?,
            right: right?,
            op: compare.op,
            tolerance: tolerance?,
            quantifier: compare.quantifier.unwrap_or_default(),
            if_missing: compare.if_missing.unwrap_or(false),
        })
    }

    /// The operand, with a `$name` parameter reference replaced by the parameter's value.
    fn param(&mut self, scope: &mut Scoped, value: &Value, field: &str) -> Option<Value> {
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

    fn number(&mut self, scope: &mut Scoped, value: &Value, field: &str) -> Option<f64> {
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

    fn list(&mut self, scope: &mut Scoped, value: &Value, field: &str) -> Option<Vec<Value>> {
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

    fn duration(
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

    /// Named conditions no rule uses are still checked, with their file's parameters.
    fn check_unused_conditions(&mut self) {
        let mut names: Vec<(&'f str, usize, &'f ConditionSpec)> = self
            .conditions
            .iter()
            .map(|(name, (file, spec))| (*name, *file, *spec))
            .collect();
        names.sort_by_key(|(name, _, _)| *name);
        for (name, file, spec) in names {
            if self.named.contains_key(name) {
                continue;
            }
            let params = &self.params.clone();
            // `left:`/`right:` can only be judged where the condition is used.
            let mut scope = Scoped::new(file, Origin::Condition(name.to_owned()), params)
                .with_bindings()
                .naming(vec![name.to_owned()]);
            let before = self.problems.len();
            self.compile_cond(&mut scope, spec, &format!("conditions.{name}"));
            // Parameters may be supplied by the rules that use the condition.
            let mut index = before;
            while index < self.problems.len() {
                if self.problems[index].kind == ProblemKind::UnknownParameter {
                    self.problems.remove(index);
                } else {
                    index += 1;
                }
            }
        }
    }

    /// Evaluation order: a rule after every rule it tests with `fired`; file order otherwise.
    fn order_rules(
        &mut self,
        rules: &[(Rule, bool)],
        dependencies: &[HashSet<usize>],
    ) -> Vec<usize> {
        if rules.len() != self.rule_ids.len() || !self.problems.is_empty() {
            return (0..rules.len()).collect();
        }
        let edges: Vec<Vec<usize>> = dependencies
            .iter()
            .map(|deps| {
                let mut deps: Vec<usize> = deps.iter().copied().collect();
                deps.sort_unstable();
                deps
            })
            .collect();
        if let Some(cycle) = find_cycle(&edges) {
            let ids: Vec<&str> = cycle
                .iter()
                .map(|index| rules[*index].0.id.as_str())
                .collect();
            let (file, field) = self.rule_field(cycle[0]);
            self.problem(
 file,
 Origin::Rule(ids[0].to_owned()),
 ProblemKind::Cycle,
 &format!("{field}.when"),
                format!("rules depend on each other through `fired` in a cycle: {}: remove one of these `fired` tests", ids.join(" -> ")),);
            return (0..rules.len()).collect();
        }
        let mut order = Vec::new();
        let mut placed = vec![false; rules.len()];
        fn visit(index: usize, edges: &[Vec<usize>], placed: &mut [bool], order: &mut Vec<usize>) {
            if placed[index] {
                return;
            }
            placed[index] = true;
            for dep in &edges[index] {
                visit(*dep, edges, placed, order);
            }
            order.push(index);
        }
        for index in 0..rules.len() {
            visit(index, &edges, &mut placed, &mut order);
        }
        order
    }

    /// Whether `name` is a rule or condition that failed to parse (and was reported already).
    fn left_out(&self, name: &str) -> bool {
        self.files.iter().any(|file| file.left_out.contains(name))
    }

    fn rule_field(&self, global_index: usize) -> (usize, String) {
        let mut remaining = global_index;
        for (file_index, file) in self.files.iter().enumerate() {
            if remaining < file.spec.rules.len() {
                return (
                    file_index,
                    format!("rules[{}]", file.rule_indexes[remaining]),
                );
            }
            remaining -= file.spec.rules.len();
        }
        (0, String::new())
    }
}

/// A cycle in a directed graph given as adjacency lists, as the list of nodes along it.
fn find_cycle(edges: &[Vec<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    fn visit(
        node: usize,
        edges: &[Vec<usize>],
        marks: &mut [Mark],
        stack: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        marks[node] = Mark::Active;
        stack.push(node);
        for next in &edges[node] {
            match marks[*next] {
                Mark::Active => {
                    let start = stack.iter().position(|n| n == next).unwrap_or(0);
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(*next);
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(cycle) = visit(*next, edges, marks, stack) {
                        return Some(cycle);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks[node] = Mark::Done;
        None
    }
    let mut marks = vec![Mark::New; edges.len()];
    for node in 0..edges.len() {
        if marks[node] == Mark::New {
            if let Some(cycle) = visit(node, edges, &mut marks, &mut Vec::new()) {
                return Some(cycle);
            }
        }
    }
    None
}

fn operator_names(spec: &ConditionSpec) -> Vec<&'static str> {
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
fn modifier_names(spec: &ConditionSpec) -> Vec<&'static str> {
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

/// The expectation of a test in compact text, for traces: `one_of ["A","B"] and older_than 2d`.
fn describe_expectation(spec: &ConditionSpec, params: &BTreeMap<String, Value>) -> String {
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

fn plain(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

fn describe(original: &Value, resolved: &Value) -> String {
    if original == resolved {
        format!("`{resolved}`")
    } else {
        format!(
            "`{resolved}` (parameter {})",
            original.as_str().unwrap_or_default()
        )
    }
}

/// Names of documents, sources, conditions, values and parameters: letters, digits, `_`, `-`.
fn bad_name(name: &str) -> Option<String> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    (!valid).then(|| format!("`{name}` is not a valid name: use letters, digits, `_` and `-` only"))
}

fn bad_rule_id(id: &str) -> Option<String> {
    let valid = id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    (!valid).then(|| {
        format!("`{id}` is not a valid rule id: start with a letter or digit, then use letters, digits, `-`, `_` or `.`")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::reworded;

    /// Files that exercise every kind of problem, warnings and named conditions.
    const FILES: [(&str, &str); 17] = [
        ("default.yaml", include_str!("../../rules/default.yaml")),
        (
            "bad-duration-and-param.yaml",
            include_str!("../../tests/rule-errors/bad-duration-and-param.yaml"),
        ),
        (
            "bad-jsonpath.yaml",
            include_str!("../../tests/rule-errors/bad-jsonpath.yaml"),
        ),
        (
            "condition-shape.yaml",
            include_str!("../../tests/rule-errors/condition-shape.yaml"),
        ),
        (
            "duplicate-ids.yaml",
            include_str!("../../tests/rule-errors/duplicate-ids.yaml"),
        ),
        (
            "duplicate-keys.yaml",
            include_str!("../../tests/rule-errors/duplicate-keys.yaml"),
        ),
        (
            "empty.yaml",
            include_str!("../../tests/rule-errors/empty.yaml"),
        ),
        (
            "fired-cycle.yaml",
            include_str!("../../tests/rule-errors/fired-cycle.yaml"),
        ),
        (
            "missing-when.yaml",
            include_str!("../../tests/rule-errors/missing-when.yaml"),
        ),
        (
            "not-yaml.yaml",
            include_str!("../../tests/rule-errors/not-yaml.yaml"),
        ),
        (
            "source-cycle.yaml",
            include_str!("../../tests/rule-errors/source-cycle.yaml"),
        ),
        (
            "unknown-key-typo.yaml",
            include_str!("../../tests/rule-errors/unknown-key-typo.yaml"),
        ),
        (
            "unknown-operator-and-severity.yaml",
            include_str!("../../tests/rule-errors/unknown-operator-and-severity.yaml"),
        ),
        (
            "unknown-references.yaml",
            include_str!("../../tests/rule-errors/unknown-references.yaml"),
        ),
        (
            "wrong-value-types.yaml",
            include_str!("../../tests/rule-errors/wrong-value-types.yaml"),
        ),
        ("named.yaml", NAMED),
        ("unused.yaml", UNUSED),
    ];

    /// A named condition used by rules with different parameters, an undeclared document in
    /// `requires`, and an operand error next to a capture.
    const NAMED: &str = r#"
documents: { item_get: the Item }
params: { late: 2d }
conditions:
  stale:
    path: item_get:$.status.last_update
    older_than: $late
    as: when
  typo:
    path: item_gte:$.item
    exists: true
rules:
  - id: a
    title: A
    severity: info
    when: { all: [{ condition: stale }, { condition: typo }] }
    message: "{when}"
  - id: b
    title: B
    severity: info
    params: { late: 3 }
    requires: [item_got]
    when: { all: [{ condition: stale }, { condition: typo }] }
    message: "{when}"
  - id: c
    title: C
    severity: info
    when: { path: "item_get:$.x", gt: nope, as: state }
    message: "{state}"
"#;

    /// A named condition no rule uses, with a parameter that no file declares.
    const UNUSED: &str = r#"
conditions:
  alone: { path: "item_get:$.x", older_than: $nowhere }
rules:
  - { id: a, title: A, severity: info, when: { path: "item_get:$.x", exists: true }, message: m }
"#;

    /// What compiling one file gives, without the messages' wording.
    fn outcome(name: &str, text: &str) -> (Vec<String>, Option<usize>) {
        let shape = |problem: &Problem| {
            format!(
                "{} {:?} {:?} {:?} {}",
                problem.file, problem.location, problem.origin, problem.kind, problem.field
            )
        };
        match compile(&[RuleText { name, text }]) {
            Ok(set) => (
                set.warnings.iter().map(shape).collect(),
                Some(set.rules.len()),
            ),
            Err(errors) => {
                let problems = errors.problems.iter().chain(&errors.warnings);
                (problems.map(shape).collect(), None)
            }
        }
    }

    #[test]
    fn rewording_every_message_changes_nothing_else() {
        for (name, text) in FILES {
            let plain = outcome(name, text);
            let reworded = reworded::during(|| outcome(name, text));
            assert_eq!(plain, reworded, "{name}");
        }
        let reworded = reworded::during(|| {
            compile(&[RuleText {
                name: "named.yaml",
                text: NAMED,
            }])
        });
        let errors = reworded.expect_err("named.yaml has problems");
        assert!(
            errors
                .problems
                .iter()
                .all(|p| p.message.starts_with("reworded: "))
        );
    }

    #[test]
    fn a_named_condition_is_compiled_once_per_parameter_values() {
        let text = NAMED.replace("params: { late: 3 }", "params: { late: 2d }");
        let errors = compile(&[RuleText {
            name: "named.yaml",
            text: &text,
        }])
        .unwrap_err();
        // One warning for the typo in the shared condition, one for `requires`.
        let fields: Vec<&str> = errors.warnings.iter().map(|w| w.field.as_str()).collect();
        assert_eq!(fields, ["conditions.typo.path", "rules[1].requires[0]"]);
    }

    #[test]
    fn an_operand_error_does_not_make_the_capture_unknown() {
        let errors = compile(&[RuleText {
            name: "named.yaml",
            text: NAMED,
        }])
        .unwrap_err();
        let templates: Vec<String> = errors
            .problems
            .iter()
            .filter(|p| p.kind == ProblemKind::Template)
            .map(Problem::to_string)
            .collect();
        assert!(templates.is_empty(), "{templates:#?}");
    }
}
