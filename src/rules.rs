//! Rules files from disk: the reader the engine resolves `extends` through.
//!
//! The engine reads no files: it asks a reader for each `extends` entry other than `default`
//! (the embedded pack). This one reads, as regular files of bounded size, only
//!
//! - files under the folder of the file that extends them, and
//! - rules files the user passed,
//!
//! unless [`ReadOptions::extends_anywhere`] allows any path. So a rules file cannot make the
//! program read `/etc/passwd` or `/dev/stdin` and echo what it found.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::input::{DEFAULT_MAX_INPUT_BYTES, read_file_limited};
use anyhow::{Context, Result};
use balance_doctor_engine::{
    DEFAULT_PACK, ExtendsRequest, RuleErrors, RuleSet, RuleSource, RuleText, compile_with,
};

/// How rules files are read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Let `extends` name any readable file, not only files under the extending file's folder
    /// and rules files passed by the user.
    pub extends_anywhere: bool,
}

/// Reads the rules files at `paths` (the embedded pack when there is none), resolves their
/// `extends` and compiles them. The outer error is a passed file that cannot be read; the
/// inner one the rules' problems, each located.
pub fn compile_files(
    paths: &[PathBuf],
    options: ReadOptions,
) -> Result<std::result::Result<RuleSet, RuleErrors>> {
    if paths.is_empty() {
        return Ok(compile_with(
            &[DEFAULT_PACK],
            balance_doctor_engine::no_reader,
        ));
    }
    let mut reader = FileReader::new(options);
    let mut roots = Vec::new();
    for path in paths {
        let text = read_rules_file(path)
            .with_context(|| format!("cannot read rules file {}", path.display()))?;
        let name = reader.name_of(path);
        roots.push((name, text));
    }
    let texts: Vec<RuleText<'_>> = roots
        .iter()
        .map(|(name, text)| RuleText { name, text })
        .collect();
    Ok(compile_with(&texts, |request: ExtendsRequest<'_>| {
        reader.read(request)
    }))
}

/// The `extends` reader over files (see the module documentation for what it reads).
#[derive(Debug)]
pub struct FileReader {
    options: ReadOptions,
    /// Canonical path -> the name the file is reported under, for every file met.
    names: HashMap<PathBuf, String>,
    /// Name -> canonical path, to find an extending file's folder.
    paths: HashMap<String, PathBuf>,
    /// Canonical paths of the rules files the user passed.
    passed: Vec<PathBuf>,
}

impl FileReader {
    /// A reader with no file passed yet.
    pub fn new(options: ReadOptions) -> FileReader {
        FileReader {
            options,
            names: HashMap::new(),
            paths: HashMap::new(),
            passed: Vec::new(),
        }
    }

    /// Records `path` as a file the user passed, and returns the name it is reported under
    /// (its path as given).
    pub fn name_of(&mut self, path: &Path) -> String {
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.passed.push(canonical.clone());
        self.remember(canonical, path.display().to_string())
    }

    fn remember(&mut self, canonical: PathBuf, name: String) -> String {
        let name = self.names.entry(canonical.clone()).or_insert(name).clone();
        self.paths.entry(name.clone()).or_insert(canonical);
        name
    }

    /// Resolves one `extends` entry: a path relative to the extending file's folder.
    pub fn read(&mut self, request: ExtendsRequest<'_>) -> Result<RuleSource, String> {
        let from = self
            .paths
            .get(request.from)
            .cloned()
            .unwrap_or_else(|| PathBuf::from(request.from));
        let folder = from.parent().map(Path::to_path_buf).unwrap_or_default();
        let shown_folder = Path::new(request.from)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let shown = shown_folder.join(request.entry);
        let canonical = std::fs::canonicalize(folder.join(request.entry))
            .map_err(|error| format!("{}: {error}", shown.display()))?;
        let allowed = self.options.extends_anywhere
            || canonical.starts_with(&folder)
            || self.passed.contains(&canonical);
        if !allowed {
            return Err(format!(
                "{} is outside the folder of {}: pass it with --rules too, or allow any path with --extends-anywhere",
                shown.display(),
                request.from
            ));
        }
        let text = read_rules_file(&canonical).map_err(|error| format!("{error:#}"))?;
        let name = self.remember(canonical, shown.display().to_string());
        Ok(RuleSource { name, text })
    }
}

/// Reads a rules file with [`read_file_limited`]: a regular file (not a device, a pipe or a
/// folder) of bounded size.
fn read_rules_file(path: &Path) -> Result<String> {
    read_file_limited(path, DEFAULT_MAX_INPUT_BYTES)
}
