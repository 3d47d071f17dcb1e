//! Reading bundles and rule files from disk.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use balance_doctor_engine::{
    Bundle, BundleSpec, RuleText, check_document_name, serde_message, without_serde_position,
};

use crate::{DEFAULT_RULES, DEFAULT_RULES_NAME};
use serde_json::Value;

/// Where the evaluation time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AsOfOrigin {
    /// `--as-of`.
    Flag,
    /// The bundle's `as_of`.
    Bundle,
    /// Neither was given: the current time.
    Clock,
}

pub fn rule_text<'a>(name: &'a str, text: &'a str) -> RuleText<'a> {
    RuleText { name, text }
}

/// Reads rule files, keeping each path as its display name. No `extends` is followed.
pub fn read_rule_files(files: &[PathBuf]) -> Result<Vec<(String, String)>> {
    files
        .iter()
        .map(|path| {
            let text = fs::read_to_string(path)
                .with_context(|| format!("cannot read rules file {}", path.display()))?;
            Ok((path.display().to_string(), text))
        })
        .collect()
}

/// The rule files to compile, in layering order: with no path, the embedded default pack;
/// otherwise each path after the files it `extends` (depth first, each file once). `default`
/// in `extends` names the embedded pack; other entries are paths relative to the file.
pub fn resolve_rule_files(paths: &[PathBuf]) -> Result<Vec<(String, String)>> {
    if paths.is_empty() {
        return Ok(vec![(
            DEFAULT_RULES_NAME.to_owned(),
            DEFAULT_RULES.to_owned(),
        )]);
    }
    let mut resolver = Resolver::default();
    for path in paths {
        resolver.visit(RuleOrigin::Path(path.clone()), None)?;
    }
    Ok(resolver.ordered)
}

#[derive(Debug, Clone)]
enum RuleOrigin {
    Default,
    Path(PathBuf),
}

#[derive(Default)]
struct Resolver {
    ordered: Vec<(String, String)>,
    loaded: std::collections::HashSet<PathBuf>,
    /// Files being resolved, to report `extends` cycles.
    stack: Vec<(PathBuf, String)>,
}

impl Resolver {
    fn visit(&mut self, origin: RuleOrigin, extended_by: Option<&str>) -> Result<()> {
        let (key, name, text) = match &origin {
            RuleOrigin::Default => (
                PathBuf::from(DEFAULT_RULES_NAME),
                DEFAULT_RULES_NAME.to_owned(),
                DEFAULT_RULES.to_owned(),
            ),
            RuleOrigin::Path(path) => {
                let text = fs::read_to_string(path).with_context(|| match extended_by {
                    Some(by) => format!("{by}: extends {}, which cannot be read", path.display()),
                    None => format!("cannot read rules file {}", path.display()),
                })?;
                let key = fs::canonicalize(path).unwrap_or_else(|_| path.clone());
                (key, path.display().to_string(), text)
            }
        };
        if self.loaded.contains(&key) {
            return Ok(());
        }
        if let Some(start) = self.stack.iter().position(|(k, _)| *k == key) {
            let mut chain: Vec<&str> = self.stack[start..]
                .iter()
                .map(|(_, n)| n.as_str())
                .collect();
            chain.push(&name);
            bail!(
                "rules files extend each other in a cycle: {}: remove one `extends`",
                chain.join(" -> ")
            );
        }
        self.stack.push((key.clone(), name.clone()));
        let base = match &origin {
            RuleOrigin::Path(path) => path.parent().map(Path::to_path_buf).unwrap_or_default(),
            RuleOrigin::Default => PathBuf::new(),
        };
        for extended in extends_of(&text) {
            let origin = if extended == "default" {
                RuleOrigin::Default
            } else {
                RuleOrigin::Path(base.join(&extended))
            };
            self.visit(origin, Some(&name))?;
        }
        self.stack.pop();
        self.loaded.insert(key);
        self.ordered.push((name, text));
        Ok(())
    }
}

/// The `extends` list of a rules file's text. A file that is not valid YAML, or whose
/// `extends` is malformed, yields none here: compiling it reports the problem with its line.
fn extends_of(text: &str) -> Vec<String> {
    let Ok(value) = serde_yaml::from_str::<serde_yaml::Value>(text) else {
        return Vec::new();
    };
    match value.get("extends") {
        Some(serde_yaml::Value::Sequence(items)) => items
            .iter()
            .filter_map(|item| item.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// Reads a bundle from a directory (one `<document>.json` per document) or a bundle JSON file.
pub fn read_bundle(path: &Path) -> Result<Bundle> {
    let metadata =
        fs::metadata(path).with_context(|| format!("cannot read bundle {}", path.display()))?;
    if metadata.is_dir() {
        read_bundle_dir(path)
    } else {
        let text = fs::read_to_string(path)
            .with_context(|| format!("cannot read bundle {}", path.display()))?;
        // Report JSON syntax errors with their line and column.
        serde_json::from_str::<Value>(&text).map_err(|error| json_error(path, &error))?;
        Bundle::from_json(&text).with_context(|| format!("invalid bundle {}", path.display()))
    }
}

fn json_error(path: &Path, error: &serde_json::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "{}:{}:{}: not valid JSON: {}",
        path.display(),
        error.line(),
        error.column(),
        without_serde_position(&error.to_string())
    )
}

fn read_bundle_dir(dir: &Path) -> Result<Bundle> {
    let mut spec = BundleSpec::default();
    let mut documents = BTreeMap::new();
    let mut metadata_file: Option<PathBuf> = None;
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("cannot list bundle directory {}", dir.display()))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .with_context(|| format!("cannot list bundle directory {}", dir.display()))?;
    entries.sort();
    for path in entries {
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let is_metadata = matches!(file_name, "bundle.json" | "bundle.yaml" | "bundle.yml");
        if is_metadata {
            if let Some(first) = &metadata_file {
                bail!(
                    "{} and {} both describe the bundle: keep one",
                    first.display(),
                    path.display()
                );
            }
            let text = fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            spec = if file_name == "bundle.json" {
                serde_json::from_str::<Value>(&text).map_err(|e| json_error(&path, &e))?;
                serde_json::from_str(&text).map_err(|e| {
                    anyhow::anyhow!("{}: {}", path.display(), serde_message(&e.to_string()))
                })?
            } else {
                serde_yaml::from_str(&text).map_err(|e| {
                    let at = e
                        .location()
                        .map(|l| format!(":{}:{}", l.line(), l.column()))
                        .unwrap_or_default();
                    anyhow::anyhow!("{}{at}: {}", path.display(), serde_message(&e.to_string()))
                })?
            };
            if !spec.documents.is_empty() {
                bail!(
                    "{}: `documents` does not belong in a bundle directory's metadata: put each document in its own `<name>.json` file",
                    path.display()
                );
            }
            metadata_file = Some(path);
            continue;
        }
        if path.extension().and_then(|e| e.to_str()) != Some("json") || !path.is_file() {
            continue;
        }
        let name = file_name.trim_end_matches(".json");
        check_document_name(name)
            .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.message))?;
        let text =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let value: Value = serde_json::from_str(&text).map_err(|e| json_error(&path, &e))?;
        documents.insert(name.to_owned(), value);
    }
    if documents.is_empty() {
        bail!(
            "{} holds no `<document>.json` file: capture at least one response, such as item_get.json",
            dir.display()
        );
    }
    spec.documents = documents;
    let label = metadata_file.unwrap_or_else(|| dir.to_path_buf());
    Bundle::from_spec(spec).with_context(|| format!("invalid bundle {}", label.display()))
}
