//! Rules files from disk: the reader the engine resolves `extends` through.
//!
//! Which rules a run uses is decided here too ([`choose`]): `--rules`, else the
//! `BALANCE_DOCTOR_RULES` environment variable, else a `balance-doctor.yaml` found in the
//! current folder or the nearest parent folder that has one, else the embedded pack.
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
use anyhow::Result;
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
            .map_err(|error| anyhow::anyhow!("rules file {}: {}", path.display(), error.problem))?;
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

    /// Records that the rules text reported as `name`, which was not read from a file (an
    /// embedder passed it, as the Python package's `RuleSet.from_text` does), resolves its
    /// `extends` entries as a file in `folder` would: files under that folder.
    pub fn text_in(&mut self, name: &str, folder: &Path) {
        let folder = std::fs::canonicalize(folder).unwrap_or_else(|_| folder.to_path_buf());
        // Only this path's parent is used: the folder the text's entries are relative to.
        self.paths
            .insert(name.to_owned(), folder.join("(rules text)"));
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
                "{} is outside the folder of {}: pass it too (with --rules, or as another file of `rules check`), or allow any path with --extends-anywhere",
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
fn read_rules_file(path: &Path) -> Result<String, crate::input::ReadError> {
    read_file_limited(path, DEFAULT_MAX_INPUT_BYTES)
}

/// The environment variable that names rules files when `--rules` is not given: paths
/// separated like `PATH` (`:` on Unix, `;` on Windows), relative to the current folder.
pub const RULES_ENV: &str = "BALANCE_DOCTOR_RULES";

/// The names of a project's configuration file, looked for in the current folder, then in each
/// parent folder up to the root; the first folder holding one wins.
pub const CONFIG_FILES: [&str; 2] = ["balance-doctor.yaml", ".balance-doctor.yaml"];

/// A project's configuration file (`balance-doctor.yaml`): its rules choice, so that every run
/// in the project uses it without `--rules`.
///
/// ```yaml
/// rules: [rules/team.yaml]      # relative to this file's folder
/// tests: [rules/tests]          # what `rules test` runs when given no path (optional)
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Rules files, relative to the configuration file's folder.
    #[serde(default)]
    pub rules: Vec<PathBuf>,
    /// Test files or folders for `rules test`, relative to the configuration file's folder.
    #[serde(default)]
    pub tests: Vec<PathBuf>,
}

/// Where the rules of a run came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChoiceOrigin {
    /// `--rules`.
    Flag,
    /// The [`RULES_ENV`] environment variable.
    Environment,
    /// A configuration file, at this path.
    Config(PathBuf),
    /// Nothing chose: the embedded pack.
    Default,
}

impl std::fmt::Display for ChoiceOrigin {
    /// Where the choice came from, as a message would say it: `--rules`,
    /// `BALANCE_DOCTOR_RULES`, the configuration file's path, or `the embedded default pack`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChoiceOrigin::Flag => f.write_str("--rules"),
            ChoiceOrigin::Environment => f.write_str(RULES_ENV),
            ChoiceOrigin::Config(path) => write!(f, "{}", path.display()),
            ChoiceOrigin::Default => f.write_str("the embedded default pack"),
        }
    }
}

/// The rules a run uses, and the tests that go with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesChoice {
    /// The rules files (empty: the embedded pack).
    pub files: Vec<PathBuf>,
    /// Where the choice came from.
    pub origin: ChoiceOrigin,
    /// Test files or folders the configuration file names (`tests:`), made relative to it.
    pub tests: Vec<PathBuf>,
}

/// Decides which rules a run uses, in this order: `flag` (`--rules`), the environment
/// variable's value `env` ([`RULES_ENV`]), the first configuration file ([`CONFIG_FILES`]) in
/// `cwd` or a parent of it, the embedded pack. The caller reads the environment and the
/// current folder, so that this stays testable.
pub fn choose(flag: &[PathBuf], env: Option<&std::ffi::OsStr>, cwd: &Path) -> Result<RulesChoice> {
    if !flag.is_empty() {
        return Ok(RulesChoice {
            files: flag.to_vec(),
            origin: ChoiceOrigin::Flag,
            tests: Vec::new(),
        });
    }
    if let Some(value) = env.filter(|value| !value.is_empty()) {
        let files: Vec<PathBuf> = std::env::split_paths(value)
            .filter(|path| !path.as_os_str().is_empty())
            .collect();
        if !files.is_empty() {
            return Ok(RulesChoice {
                files,
                origin: ChoiceOrigin::Environment,
                tests: Vec::new(),
            });
        }
    }
    if let Some(path) = find_config(cwd) {
        let text = read_file_limited(&path, DEFAULT_MAX_INPUT_BYTES)?;
        let config: Config = serde_yaml::from_str(&text).map_err(|error| {
            let at = error
                .location()
                .map(|l| format!(":{}:{}", l.line(), l.column()))
                .unwrap_or_default();
            anyhow::anyhow!(
                "{}{at}: {}: a configuration file holds `rules:` (and optionally `tests:`), lists of paths relative to it",
                path.display(),
                balance_doctor_engine::serde_message(&error.to_string())
            )
        })?;
        let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let relative = |paths: Vec<PathBuf>| paths.into_iter().map(|p| folder.join(p)).collect();
        return Ok(RulesChoice {
            files: relative(config.rules),
            tests: relative(config.tests),
            origin: ChoiceOrigin::Config(path),
        });
    }
    Ok(RulesChoice {
        files: Vec::new(),
        origin: ChoiceOrigin::Default,
        tests: Vec::new(),
    })
}

/// The first configuration file in `cwd` or its nearest parent that has one.
fn find_config(cwd: &Path) -> Option<PathBuf> {
    cwd.ancestors().find_map(|folder| {
        CONFIG_FILES
            .iter()
            .map(|name| folder.join(name))
            .find(|path| path.is_file())
    })
}

/// What `rules test` runs when given no path: the configuration file's `tests:`; else, for
/// each rules file, `<name>.test.yaml` beside it, or when there is none the `tests/` folder
/// beside it (a rules file with its own cases at the root of a project does not also run the
/// project's `tests/`); for the embedded pack, `rules/tests` if the current folder is a
/// checkout of the repository. Never a path relative to the current folder otherwise.
pub fn tests_for(choice: &RulesChoice) -> Result<Vec<PathBuf>> {
    if !choice.tests.is_empty() {
        return Ok(choice.tests.clone());
    }
    if choice.files.is_empty() {
        let checkout = PathBuf::from("rules/tests");
        if checkout.is_dir() {
            return Ok(vec![checkout]);
        }
        anyhow::bail!(
            "the embedded pack's test cases are not installed with the program: pass test files or folders, or choose rules with --rules, {RULES_ENV} or a balance-doctor.yaml"
        );
    }
    let mut found = Vec::new();
    for file in &choice.files {
        let folder = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let stem = file
            .file_name()
            .and_then(|name| name.to_str())
            .map(|name| {
                name.trim_end_matches(".yaml")
                    .trim_end_matches(".yml")
                    .to_owned()
            })
            .unwrap_or_default();
        let beside = folder.join(format!("{stem}.test.yaml"));
        let tests = folder.join("tests");
        let cases = if beside.is_file() {
            beside
        } else if tests.is_dir() {
            tests
        } else {
            continue;
        };
        if !found.contains(&cases) {
            found.push(cases);
        }
    }
    if found.is_empty() {
        let names: Vec<String> = choice
            .files
            .iter()
            .map(|file| file.display().to_string())
            .collect();
        anyhow::bail!(
            "no test cases next to {}: put them in `<name>.test.yaml` beside the rules file or in a `tests/` folder beside it, or pass test files",
            names.join(", ")
        );
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("bd-choose-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_flag_wins_then_the_environment_then_the_nearest_config_then_the_pack() {
        let root = temp("order");
        let deep = root.join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(
            root.join("balance-doctor.yaml"),
            "rules: [team.yaml]\ntests: [cases]\n",
        )
        .unwrap();
        let flag = [PathBuf::from("mine.yaml")];
        let env = std::ffi::OsString::from("x.yaml");

        let chosen = choose(&flag, Some(&env), &deep).unwrap();
        assert_eq!(
            (chosen.origin, chosen.files),
            (ChoiceOrigin::Flag, flag.to_vec())
        );
        let chosen = choose(&[], Some(&env), &deep).unwrap();
        assert_eq!(chosen.origin, ChoiceOrigin::Environment);
        assert_eq!(chosen.files, [PathBuf::from("x.yaml")]);
        let chosen = choose(&[], None, &deep).unwrap();
        assert_eq!(
            chosen.origin,
            ChoiceOrigin::Config(root.join("balance-doctor.yaml"))
        );
        assert_eq!(chosen.files, [root.join("team.yaml")]);
        assert_eq!(tests_for(&chosen).unwrap(), [root.join("cases")]);
        std::fs::remove_file(root.join("balance-doctor.yaml")).unwrap();
        // The temporary folder's parents hold no configuration file.
        let chosen = choose(&[], Some(std::ffi::OsStr::new("")), &deep).unwrap();
        assert_eq!(chosen.origin, ChoiceOrigin::Default);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_config_with_an_unknown_key_says_where() {
        let root = temp("unknown");
        std::fs::write(root.join(".balance-doctor.yaml"), "rulez: [a.yaml]\n").unwrap();
        let error = choose(&[], None, &root).unwrap_err().to_string();
        assert!(error.contains(".balance-doctor.yaml:1:1"), "{error}");
        assert!(error.contains("rulez"), "{error}");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn tests_are_found_next_to_the_rules_not_in_the_current_folder() {
        let root = temp("tests");
        std::fs::create_dir_all(root.join("team/tests")).unwrap();
        std::fs::write(root.join("team/rules.test.yaml"), "cases: []\n").unwrap();
        let choice = RulesChoice {
            files: vec![root.join("team/rules.yaml")],
            origin: ChoiceOrigin::Flag,
            tests: Vec::new(),
        };
        // Its own cases win over the folder's `tests/`, which may hold anything.
        assert_eq!(
            tests_for(&choice).unwrap(),
            [root.join("team/rules.test.yaml")]
        );
        let pack = RulesChoice {
            files: vec![root.join("team/pack.yaml"), root.join("team/rules.yaml")],
            ..choice.clone()
        };
        assert_eq!(
            tests_for(&pack).unwrap(),
            [root.join("team/tests"), root.join("team/rules.test.yaml")]
        );
        let lonely = RulesChoice {
            files: vec![root.join("other.yaml")],
            ..choice
        };
        assert!(tests_for(&lonely).is_err());
        std::fs::remove_dir_all(root).unwrap();
    }
}
