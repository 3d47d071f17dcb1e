//! `extends`: the rules files a file builds on, found through a reader the caller passes.
//!
//! The engine reads no files. `default` names the embedded pack ([`DEFAULT_PACK`]); every
//! other entry goes to the caller's reader (the CLI's reads files, with limits), and an entry
//! no reader resolves is a located compile error, never skipped.

use std::collections::HashSet;

use crate::compile::RuleText;
use crate::error::{Origin, Problem, ProblemKind};
use crate::load::{self, ParsedFile};

/// The default rule pack, embedded in the engine: what `extends: [default]` names, and what
/// [`default_rule_set`](crate::default_rule_set) compiles.
pub const DEFAULT_PACK: RuleText<'static> = RuleText {
    name: "<default>/rules/default.yaml",
    text: include_str!("../default.yaml"),
};

/// An `extends` entry for a reader to resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExtendsRequest<'a> {
    /// The entry as written, such as `base.yaml` or `../shared/pack.yaml`.
    pub entry: &'a str,
    /// The name of the file whose `extends` holds the entry, as given to
    /// [`compile_with`](crate::compile_with) or returned by the reader.
    pub from: &'a str,
}

/// A rules file a reader found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSource {
    /// The name problems are reported under. It identifies the file: a reader returns the same
    /// name whenever it finds the same file, which is then loaded once.
    pub name: String,
    /// The YAML text.
    pub text: String,
}

/// The reader [`compile`](crate::compile) uses: it resolves nothing, so only `default` can be
/// extended.
pub fn no_reader(request: ExtendsRequest<'_>) -> Result<RuleSource, String> {
    Err(format!(
        "no rules files can be read here, only `default` (the embedded pack): to extend `{}`, compile with a reader (`compile_with`) or pass the file's text yourself",
        request.entry
    ))
}

/// The files to compile, in layering order: each file after the files it extends (depth
/// first, each file once, by name), with the problems found resolving and parsing them.
pub(crate) fn resolve<R>(roots: &[RuleText<'_>], read: R) -> Resolved
where
    R: FnMut(ExtendsRequest<'_>) -> Result<RuleSource, String>,
{
    let mut resolver = Resolver {
        read,
        ordered: Vec::new(),
        names: Vec::new(),
        problems: Vec::new(),
        loaded: HashSet::new(),
        stack: Vec::new(),
    };
    for root in roots {
        resolver.visit(root.name, root.text);
    }
    Resolved {
        files: resolver.ordered,
        names: resolver.names,
        problems: resolver.problems,
    }
}

/// What [`resolve`] found.
pub(crate) struct Resolved {
    /// The files that parsed, in layering order.
    pub(crate) files: Vec<ParsedFile>,
    /// The names of all files read, those that did not parse included, in layering order.
    pub(crate) names: Vec<String>,
    pub(crate) problems: Vec<Problem>,
}

struct Resolver<R> {
    read: R,
    ordered: Vec<ParsedFile>,
    names: Vec<String>,
    problems: Vec<Problem>,
    /// Names of the files parsed (or being parsed).
    loaded: HashSet<String>,
    /// Names of the files being resolved, to report cycles.
    stack: Vec<String>,
}

impl<R> Resolver<R>
where
    R: FnMut(ExtendsRequest<'_>) -> Result<RuleSource, String>,
{
    fn visit(&mut self, name: &str, text: &str) {
        if !self.loaded.insert(name.to_owned()) {
            return;
        }
        let (parsed, problems) = if text == DEFAULT_PACK.text {
            load::parse_within_budget(name, text)
        } else {
            load::parse(name, text)
        };
        self.problems.extend(problems);
        let Some(parsed) = parsed else {
            self.names.push(name.to_owned());
            return;
        };
        self.stack.push(name.to_owned());
        for (index, entry) in parsed.spec.extends.iter().enumerate() {
            let field = format!("extends[{index}]");
            let found = if entry == "default" {
                Ok(RuleSource {
                    name: DEFAULT_PACK.name.to_owned(),
                    text: DEFAULT_PACK.text.to_owned(),
                })
            } else {
                (self.read)(ExtendsRequest { entry, from: name })
            };
            let source = match found {
                Ok(source) => source,
                Err(reason) => {
                    let message = format!("extends `{entry}`, which cannot be read: {reason}");
                    self.problems.push(parsed.problem(
                        Origin::File,
                        ProblemKind::UnresolvedExtends,
                        &field,
                        message,
                    ));
                    continue;
                }
            };
            if let Some(start) = self.stack.iter().position(|n| *n == source.name) {
                let mut chain: Vec<&str> = self.stack[start..].iter().map(String::as_str).collect();
                chain.push(&source.name);
                let message = format!(
                    "rules files extend each other in a cycle: {}: remove one `extends`",
                    chain.join(" -> ")
                );
                self.problems.push(parsed.problem(
                    Origin::File,
                    ProblemKind::Cycle,
                    &field,
                    message,
                ));
                continue;
            }
            self.visit(&source.name, &source.text);
        }
        self.stack.pop();
        self.names.push(name.to_owned());
        self.ordered.push(parsed);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::{compile, compile_with};

    const LOCAL: &str = r#"
extends: [default]
rules:
  - id: local-rule
    title: Local
    severity: info
    when: { path: "item_get:$.item", exists: true }
    message: m
"#;

    #[test]
    fn the_pack_is_within_the_alias_budget_whose_scan_it_skips() {
        assert!(crate::yaml_budget::check_alias_expansion(DEFAULT_PACK.text).is_ok());
    }

    #[test]
    fn extends_default_brings_the_pack_before_the_file() {
        let rule_set = compile(&[RuleText {
            name: "local.yaml",
            text: LOCAL,
        }])
        .unwrap();
        let files: Vec<String> = rule_set.rules().map(|rule| rule.file).collect();
        assert_eq!(files.first().map(String::as_str), Some(DEFAULT_PACK.name));
        assert_eq!(files.last().map(String::as_str), Some("local.yaml"));
        assert!(rule_set.rules().count() > 10);
    }

    #[test]
    fn an_entry_no_reader_resolves_is_a_located_error() {
        let text = "extends:\n  - default\n  - base.yaml\nrules: []\n";
        let errors = compile(&[RuleText {
            name: "local.yaml",
            text,
        }])
        .unwrap_err();
        assert_eq!(errors.problems.len(), 1, "{errors}");
        let problem = &errors.problems[0];
        assert_eq!(problem.kind, ProblemKind::UnresolvedExtends);
        assert_eq!(problem.field, "extends[1]");
        assert_eq!(problem.location.map(|l| l.line), Some(3));
    }

    #[test]
    fn a_reader_resolves_entries_once_each_and_reports_cycles() {
        let files: HashMap<&str, &str> = HashMap::from([
            ("a.yaml", "extends: [b.yaml, c.yaml]\nrules: []\n"),
            ("b.yaml", "extends: [c.yaml]\nrules: []\n"),
            ("c.yaml", "rules: []\n"),
        ]);
        let mut requests = Vec::new();
        let rule_set = compile_with(
            &[RuleText {
                name: "a.yaml",
                text: files["a.yaml"],
            }],
            |request: ExtendsRequest<'_>| {
                requests.push((request.entry.to_owned(), request.from.to_owned()));
                files
                    .get(request.entry)
                    .map(|text| RuleSource {
                        name: request.entry.to_owned(),
                        text: (*text).to_owned(),
                    })
                    .ok_or_else(|| "not found".to_owned())
            },
        )
        .unwrap();
        assert_eq!(rule_set.files(), ["c.yaml", "b.yaml", "a.yaml"]);
        assert_eq!(requests.len(), 3, "{requests:?}");

        let cyclic = |request: ExtendsRequest<'_>| {
            let next = if request.entry == "a.yaml" {
                "extends: [b.yaml]\n"
            } else {
                "extends: [a.yaml]\n"
            };
            Ok(RuleSource {
                name: request.entry.to_owned(),
                text: next.to_owned(),
            })
        };
        let errors = compile_with(
            &[RuleText {
                name: "a.yaml",
                text: "extends: [b.yaml]\n",
            }],
            cyclic,
        )
        .unwrap_err();
        assert_eq!(errors.problems.len(), 1, "{errors}");
        assert_eq!(errors.problems[0].kind, ProblemKind::Cycle);
        assert!(
            errors.problems[0]
                .message
                .contains("a.yaml -> b.yaml -> a.yaml"),
            "{errors}"
        );
    }
}
