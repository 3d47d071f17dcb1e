//! Stage 2: [`RuleFile`](crate::spec::RuleFile)s -> [`RuleSet`]. All fallible work happens
//! here, and every problem is collected before compilation fails.
//!
//! The submodules follow the work in order: [`names`] registers documents, parameters,
//! sources, named conditions and rule ids; [`references`] compiles sources, labels, `requires`
//! and `name:$.path` references; [`rules`] one rule; [`conditions`] its condition tree, with
//! named conditions compiled once per distinct use; [`checks`] `path` tests and comparisons;
//! [`operators`] the table of a test's operators; [`parameters`] operands and `$name`
//! parameters; [`describe`] the short texts explanation traces show. Every problem carries a
//! [`ProblemKind`] and an [`Origin`]; decisions are taken on those, never on a message.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::compiled::{Cond, Rule, RuleSet};
use crate::error::{Origin, Problem, ProblemKind, RuleErrors};
use crate::extends::{ExtendsRequest, RuleSource};
use crate::load::ParsedFile;
use crate::path::{CompiledPath, PathError};
use crate::spec::{ConditionSpec, RuleOverride};

mod checks;
mod conditions;
mod describe;
mod names;
mod operators;
mod parameters;
mod references;
mod rules;
#[cfg(test)]
mod tests;

use conditions::NamedUse;
use parameters::Params;

/// The text of one rules file and the name to report it under.
#[derive(Debug, Clone, Copy)]
pub struct RuleText<'a> {
    /// A path, or a label such as `<default>` for an embedded pack.
    pub name: &'a str,
    /// The YAML text.
    pub text: &'a str,
}

/// Parses, validates and compiles rules files into one [`RuleSet`].
///
/// Files are layered in the order given, each after the files it `extends`: sources, named
/// conditions and labels are shared by all files; file-level parameters too, a later file's
/// value replacing an earlier one; a file's `overrides` change rules of any loaded file. Every
/// problem in every file is reported at once.
///
/// `extends: [default]` loads the embedded pack ([`DEFAULT_PACK`](crate::DEFAULT_PACK)); any
/// other `extends` entry is an error here: use [`compile_with`] and a reader to resolve files.
pub fn compile(files: &[RuleText<'_>]) -> Result<RuleSet, RuleErrors> {
    compile_with(files, crate::extends::no_reader)
}

/// [`compile`], with `read` resolving the `extends` entries other than `default`.
///
/// The reader is called once per entry, with the entry and the name of the file that holds it,
/// and returns the file's name and text, or why it cannot. The engine stays I/O-free: whatever
/// reading means (files, a map in memory, a database) is the caller's. An entry the reader
/// cannot resolve is a located problem (`ProblemKind::UnresolvedExtends`); files that extend
/// each other in a cycle are one too.
///
/// ```
/// use balance_doctor_engine::{compile_with, ExtendsRequest, RuleSource, RuleText};
///
/// let base = "rules:\n  - { id: base-rule, title: Base, severity: info, when: { path: 'item_get:$.item', exists: true }, message: m }\n";
/// let local = "extends: [default, base.yaml]\nrules: []\n";
/// let read = |request: ExtendsRequest<'_>| match request.entry {
///     "base.yaml" => Ok(RuleSource { name: "base.yaml".into(), text: base.into() }),
///     other => Err(format!("no file named {other}")),
/// };
/// let rule_set = compile_with(&[RuleText { name: "local.yaml", text: local }], read).unwrap();
/// assert!(rule_set.rules().any(|rule| rule.id == "base-rule"));
/// assert_eq!(rule_set.files().len(), 3); // the default pack, base.yaml, local.yaml
/// ```
pub fn compile_with<R>(files: &[RuleText<'_>], read: R) -> Result<RuleSet, RuleErrors>
where
    R: FnMut(ExtendsRequest<'_>) -> Result<RuleSource, String>,
{
    let crate::extends::Resolved {
        files: parsed,
        names,
        mut problems,
    } = crate::extends::resolve(files, read);
    if problems
        .iter()
        .any(|problem| problem.kind == ProblemKind::UnresolvedExtends)
    {
        // Without the files it builds on, a file's other problems would mostly be echoes
        // (unknown rules in `overrides`, unknown sources): report what to fix first.
        problems.retain(|problem| problem.kind == ProblemKind::UnresolvedExtends);
        return Err(RuleErrors {
            problems,
            warnings: Vec::new(),
        });
    }
    let mut compiler = Compiler::new(&parsed);
    let set = compiler.run();
    problems.append(&mut compiler.problems);
    if problems.is_empty() {
        Ok(set)
    } else {
        let order: HashMap<&str, usize> = names
            .iter()
            .enumerate()
            .map(|(index, name)| (name.as_str(), index))
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
    /// Per compiled named condition, its height (see `height`).
    named_heights: Vec<usize>,
    /// Per named condition, the problems already reported: (file, field, kind).
    named_reported: HashMap<&'f str, HashSet<(String, String, ProblemKind)>>,
    /// Capture names (`as:`) of all rules; a test's capture is an index into it.
    capture_names: Vec<String>,
    /// Parameters of all files, a later file's value replacing an earlier one.
    params: Params,
    /// Parameter settings (file, field) already reported for a bad value.
    reported_params: HashSet<(usize, String)>,
    /// Names of the parameters some rule, condition or message reads.
    params_read: HashSet<String>,
    /// Rule id -> the overrides for it, in file order.
    overrides: HashMap<&'f str, Vec<(usize, &'f RuleOverride)>>,
    /// Problems that do not stop compilation.
    warnings: Vec<Problem>,
    /// Document names some reference or requirement reads.
    read_documents: std::collections::BTreeSet<String>,
    /// Per distinct reference that reads the bundle alone (scope, JSONPath text): its slot.
    ref_slots: HashMap<(crate::compiled::Scope, String), usize>,
    /// Per document name a reference or requirement reads: its slot.
    document_slots: HashMap<String, usize>,
    /// Per JSONPath text, its compilation: a pack writes the same paths many times (the
    /// default pack 331 paths, 78 texts), and parsing one costs about 20K instructions.
    paths: HashMap<String, Result<CompiledPath, PathError>>,
}

/// Where a condition is being compiled.
struct Scoped<'s> {
    file: usize,
    /// Who the problems found here belong to.
    origin: Origin,
    params: &'s Params,
    in_join: bool,
    /// `left:`/`right:` may be used (inside a join, or in a named condition checked alone).
    bindings: bool,
    named_stack: Vec<String>,
    /// How many conditions enclose the one being compiled, named conditions included.
    depth: usize,
    fired: HashSet<usize>,
    /// Capture names (`as:`) met so far in the rule.
    captures: Vec<String>,
    /// Those of them met in a join's `where`, which capture one value per join pair.
    pair_captures: Vec<String>,
    /// Names of the parameters read so far.
    read_params: Vec<String>,
    /// The rule whose parameters are in scope, inside the named conditions it uses too.
    rule: Option<String>,
}

impl<'s> Scoped<'s> {
    fn new(file: usize, origin: Origin, params: &'s Params) -> Self {
        let rule = match &origin {
            Origin::Rule(id) => Some(id.clone()),
            _ => None,
        };
        Scoped {
            rule,
            file,
            origin,
            params,
            in_join: false,
            bindings: false,
            named_stack: Vec::new(),
            depth: 0,
            fired: HashSet::new(),
            captures: Vec::new(),
            pair_captures: Vec::new(),
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
    /// `text` compiled as a JSONPath, parsed once per text.
    fn path(&mut self, text: &str) -> Result<CompiledPath, PathError> {
        if let Some(compiled) = self.paths.get(text) {
            return compiled.clone();
        }
        let compiled = CompiledPath::compile(text);
        self.paths.insert(text.to_owned(), compiled.clone());
        compiled
    }

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
            named_heights: Vec::new(),
            named_reported: HashMap::new(),
            capture_names: Vec::new(),
            params: Params::default(),
            reported_params: HashSet::new(),
            params_read: HashSet::new(),
            overrides: HashMap::new(),
            warnings: Vec::new(),
            read_documents: std::collections::BTreeSet::new(),
            ref_slots: HashMap::new(),
            document_slots: HashMap::new(),
            paths: HashMap::new(),
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
        self.check_unread_params();
        self.link_supersedes(&mut rules, &mut dependencies);
        let evaluation_order = self.order_rules(&rules, &dependencies);
        let rules = rules.into_iter().map(|(rule, _)| rule).collect();
        let warnings = std::mem::take(&mut self.warnings);
        let conditions = std::mem::take(&mut self.named_conds);
        let reusable = crate::compiled::reusable_conditions(&conditions);
        let mut set = RuleSet {
            rules,
            conditions,
            reusable,
            evaluation_order,
            sources,
            ref_slots: self.ref_slots.len(),
            labels,
            read_documents: self.read_document_slots(),
            redact: self
                .files
                .iter()
                .flat_map(|file| file.spec.redact.iter().cloned())
                .collect(),
            warnings,
            files: self.files.iter().map(|file| file.name.clone()).collect(),
            context_keys: None,
        };
        set.context_keys = set.context_keys();
        set
    }

    /// Every document name read, in name order, with its slot (the one its references and
    /// requirements were given).
    fn read_document_slots(&mut self) -> Vec<(String, usize)> {
        let names = std::mem::take(&mut self.read_documents);
        names
            .into_iter()
            .map(|name| {
                let next = self.document_slots.len();
                let slot = *self.document_slots.entry(name.clone()).or_insert(next);
                (name, slot)
            })
            .collect()
    }

    /// Evaluation order: a rule after every rule it tests with `fired` and every rule that
    /// supersedes it; file order otherwise.
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
                format!("rules depend on each other through `fired` or `supersedes` in a cycle: {}: remove one of these `fired` tests or `supersedes` entries", ids.join(" -> ")),
            );
            return (0..rules.len()).collect();
        }
        // Each rule after its dependencies (depth first, post-order, without recursion).
        let mut order = Vec::new();
        let mut placed = vec![false; rules.len()];
        for root in 0..rules.len() {
            if placed[root] {
                continue;
            }
            placed[root] = true;
            let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
            while let Some((node, next)) = stack.last_mut() {
                match edges[*node].get(*next) {
                    Some(&dep) => {
                        *next += 1;
                        if !placed[dep] {
                            placed[dep] = true;
                            stack.push((dep, 0));
                        }
                    }
                    None => {
                        order.push(*node);
                        stack.pop();
                    }
                }
            }
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

/// `index` (of a capture name, a reference slot) as the `u32` the compiled rules keep it in, or
/// what to say when there are more than `u32::MAX` of `what` (a rules text of gigabytes).
fn compact_index(index: usize, what: &str) -> Result<u32, String> {
    u32::try_from(index).map_err(|_| {
        format!(
            "more than {} {what} in the rules: split them into smaller rule sets",
            u32::MAX
        )
    })
}

/// A cycle in a directed graph given as adjacency lists, as the list of nodes along it.
/// Depth first, without recursion: a chain of any length is walked on the heap.
fn find_cycle(edges: &[Vec<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut marks = vec![Mark::New; edges.len()];
    for root in 0..edges.len() {
        if marks[root] != Mark::New {
            continue;
        }
        marks[root] = Mark::Active;
        // The path from `root`, each node with the index of its next edge to follow.
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some((node, next)) = stack.last_mut() {
            let Some(&child) = edges[*node].get(*next) else {
                marks[*node] = Mark::Done;
                stack.pop();
                continue;
            };
            *next += 1;
            match marks[child] {
                Mark::Active => {
                    let start = stack.iter().position(|(n, _)| *n == child).unwrap_or(0);
                    let mut cycle: Vec<usize> = stack[start..].iter().map(|(n, _)| *n).collect();
                    cycle.push(child);
                    return Some(cycle);
                }
                Mark::New => {
                    marks[child] = Mark::Active;
                    stack.push((child, 0));
                }
                Mark::Done => {}
            }
        }
    }
    None
}

/// In a graph without cycles, the length of the longest chain from each node (1 for a node
/// without edges), computed without recursion.
fn chain_lengths(edges: &[Vec<usize>]) -> Vec<usize> {
    let mut lengths = vec![0; edges.len()];
    for root in 0..edges.len() {
        if lengths[root] > 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some((node, next)) = stack.last_mut() {
            match edges[*node].get(*next) {
                Some(&child) => {
                    *next += 1;
                    if lengths[child] == 0 {
                        stack.push((child, 0));
                    }
                }
                None => {
                    let longest = edges[*node].iter().map(|c| lengths[*c]).max();
                    lengths[*node] = 1 + longest.unwrap_or(0);
                    stack.pop();
                }
            }
        }
    }
    lengths
}
