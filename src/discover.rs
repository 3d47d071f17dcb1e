//! Finding the inputs of a run: what each `diagnose` argument is, and what a searched folder
//! holds. `diagnose` with one input and batch runs (`--format jsonl`, `--summary`) classify
//! through this one module, so they always agree.
//!
//! An argument is:
//! - `-`: stdin (JSON Lines, or one pretty-printed bundle: see [`crate::batch::StdinFormat`]);
//! - a regular file: a JSON Lines file when named `*.jsonl` or `*.ndjson`, else a bundle JSON
//!   file;
//! - a folder: searched, with every folder below it (see below);
//! - anything else (a FIFO, a device, a socket, a missing path): refused, with one error record
//!   that says what it is. Only regular files are ever opened; a stream goes through `-`.
//!
//! In a searched folder, each folder is classified on its own files, never on its subfolders':
//! - `bundle.yaml`, `bundle.yml` or `bundle.json` is bundle metadata;
//! - a `*.json` file whose value is an object with a `documents` key (or an `as_of`, or a
//!   misspelt `documents` such as `documnets`: no captured response has these) is a bundle in
//!   the single-file form, and is diagnosed on its own (a misspelt one is refused, with a "did
//!   you mean");
//! - any other `*.json` file is a captured document;
//! - `*.jsonl` and `*.ndjson` files are JSON Lines inputs.
//!
//! A folder with metadata or at least one document is a bundle directory, diagnosed as one
//! bundle. If it also holds bundle files, it is refused (its error record names them) and
//! those files are still diagnosed each on its own: nothing is merged. Subfolders are always
//! searched, also below a bundle directory. Within a folder, its own bundle comes first, then
//! its bundle and JSON Lines files in name order, then its subfolders in name order.
//!
//! Symbolic links are followed. A link back to a folder that contains it (a loop), a link to
//! nothing, and a folder or file reached a second time (through another link, or named again)
//! are skipped, each with a warning that names it; the walk is lazy, so the first results come
//! before the whole tree is listed. A file you name is always read, even twice.

use std::collections::{HashMap, VecDeque};
use std::fs;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use crate::input;

/// One input, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Input {
    /// Stdin (`-`).
    Stdin,
    /// A JSON Lines file.
    Jsonl(PathBuf),
    /// A single-bundle JSON file.
    BundleFile(PathBuf),
    /// A bundle directory.
    BundleDir(PathBuf),
    /// Something that names no usable input; it becomes one error record with this message.
    Unusable(PathBuf, String),
}

impl std::fmt::Display for Input {
    /// The path and what it was taken for (`-` for stdin), or the path and why it is unusable.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Input::Stdin => f.write_str("- (stdin)"),
            Input::Jsonl(path) => write!(f, "{} (JSON Lines)", path.display()),
            Input::BundleFile(path) => write!(f, "{} (bundle file)", path.display()),
            Input::BundleDir(path) => write!(f, "{} (bundle directory)", path.display()),
            Input::Unusable(path, why) => write!(f, "{}: {why}", path.display()),
        }
    }
}

/// The inputs of a run, found lazily from the arguments, in order (see the module docs).
pub struct Inputs {
    arguments: VecDeque<PathBuf>,
    walk: Option<Walk>,
    pending: VecDeque<Input>,
    /// Each folder and file found so far, by its canonical path, with the path it was found at.
    seen: HashMap<PathBuf, PathBuf>,
    max_file_bytes: u64,
    warn: Box<dyn FnMut(String) + Send>,
}

type Entries = walkdir::FilterEntry<walkdir::IntoIter, fn(&walkdir::DirEntry) -> bool>;

struct Walk {
    root: PathBuf,
    entries: Entries,
    found: bool,
}

impl Inputs {
    /// The inputs named by `arguments`. `max_file_bytes` bounds what is read of a JSON file to
    /// tell a bundle file from a document; `warn` receives a message for each link skipped.
    pub fn new(
        arguments: Vec<PathBuf>,
        max_file_bytes: u64,
        warn: impl FnMut(String) + Send + 'static,
    ) -> Inputs {
        Inputs {
            arguments: arguments.into(),
            walk: None,
            pending: VecDeque::new(),
            seen: HashMap::new(),
            max_file_bytes,
            warn: Box::new(warn),
        }
    }

    fn argument(&mut self, argument: PathBuf) -> Option<Input> {
        if argument.as_os_str() == "-" {
            return Some(Input::Stdin);
        }
        let metadata = match fs::metadata(&argument) {
            Ok(metadata) => metadata,
            Err(error) => {
                let message = format!("cannot read {}: {error}", argument.display());
                return Some(Input::Unusable(argument, message));
            }
        };
        if metadata.is_dir() {
            let entries = walkdir::WalkDir::new(&argument)
                .follow_links(true)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(is_folder as fn(&walkdir::DirEntry) -> bool);
            self.walk = Some(Walk {
                root: argument,
                entries,
                found: false,
            });
            return None;
        }
        if !metadata.is_file() {
            let message = format!(
                "{} is {}, not a regular file or a folder: balance-doctor opens only regular files; pipe a stream into `-` instead",
                argument.display(),
                input::file_kind(&metadata.file_type()),
            );
            return Some(Input::Unusable(argument, message));
        }
        if let Ok(canonical) = fs::canonicalize(&argument) {
            self.seen
                .entry(canonical)
                .or_insert_with(|| argument.clone());
        }
        Some(if is_json_lines(&argument) {
            Input::Jsonl(argument)
        } else {
            Input::BundleFile(argument)
        })
    }

    /// Classifies one folder of a walk; returns whether its subfolders are to be searched.
    fn folder(&mut self, dir: &Path, depth: usize) -> bool {
        if let Ok(canonical) = fs::canonicalize(dir) {
            if let Some(first) = self.seen.get(&canonical) {
                (self.warn)(format!(
                    "skipped {}: the same folder as {}, already searched",
                    dir.display(),
                    first.display()
                ));
                // A folder named again is not "a folder without bundles".
                if let (0, Some(walk)) = (depth, &mut self.walk) {
                    walk.found = true;
                }
                return false;
            }
            self.seen.insert(canonical, dir.to_path_buf());
        }
        let listing = match list_folder(dir, self.max_file_bytes) {
            Ok(listing) => listing,
            Err(error) => {
                self.pending.push_back(Input::Unusable(
                    dir.to_path_buf(),
                    format!("cannot list {}: {error}", dir.display()),
                ));
                return false;
            }
        };
        if listing.is_bundle {
            self.pending.push_back(Input::BundleDir(dir.to_path_buf()));
        }
        for input in listing.inputs {
            let path = match &input {
                Input::Jsonl(path) | Input::BundleFile(path) => path,
                _ => {
                    self.pending.push_back(input);
                    continue;
                }
            };
            if let Ok(canonical) = fs::canonicalize(path) {
                if let Some(first) = self.seen.get(&canonical) {
                    (self.warn)(format!(
                        "skipped {}: the same file as {}, already read",
                        path.display(),
                        first.display()
                    ));
                    continue;
                }
                self.seen.insert(canonical, path.clone());
            }
            self.pending.push_back(input);
        }
        true
    }

    fn walk_error(&mut self, error: &walkdir::Error) {
        let path = error
            .path()
            .map_or_else(|| "?".to_owned(), |p| p.display().to_string());
        let reason = match error.loop_ancestor() {
            Some(ancestor) => format!(
                "a link to {}, a folder that contains it (a loop)",
                ancestor.display()
            ),
            None => match error.io_error() {
                Some(io) if io.kind() == std::io::ErrorKind::NotFound => {
                    "a link to something that does not exist".to_owned()
                }
                Some(io) => io.to_string(),
                None => error.to_string(),
            },
        };
        (self.warn)(format!("skipped {path}: {reason}"));
    }
}

impl Iterator for Inputs {
    type Item = Input;

    fn next(&mut self) -> Option<Input> {
        loop {
            if let Some(input) = self.pending.pop_front() {
                if let Some(walk) = &mut self.walk {
                    walk.found = true;
                }
                return Some(input);
            }
            if let Some(walk) = &mut self.walk {
                match walk.entries.next() {
                    Some(Ok(entry)) => {
                        if !self.folder(entry.path(), entry.depth()) {
                            if let Some(walk) = &mut self.walk {
                                walk.entries.skip_current_dir();
                            }
                        }
                    }
                    Some(Err(error)) => self.walk_error(&error),
                    None => {
                        let walk = self.walk.take()?;
                        if !walk.found {
                            let message = format!(
                                "{} holds no bundle: no `<document>.json`, bundle file or JSON Lines file in it or below it; capture at least one response, such as item_get.json",
                                walk.root.display()
                            );
                            return Some(Input::Unusable(walk.root, message));
                        }
                    }
                }
                continue;
            }
            let argument = self.arguments.pop_front()?;
            if let Some(input) = self.argument(argument) {
                return Some(input);
            }
        }
    }
}

/// Input bytes of the arguments, when every one is a regular file (so that progress can show
/// a share and an estimate of the time left).
pub fn total_bytes(arguments: &[PathBuf]) -> Option<u64> {
    arguments
        .iter()
        .map(|argument| {
            let metadata = fs::metadata(argument).ok()?;
            metadata.is_file().then_some(metadata.len())
        })
        .sum()
}

fn is_folder(entry: &walkdir::DirEntry) -> bool {
    entry.file_type().is_dir()
}

fn is_json_lines(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("jsonl" | "ndjson")
    )
}

/// What one folder holds itself (subfolders aside).
struct Listing {
    /// It has bundle metadata or at least one document.
    is_bundle: bool,
    /// Its bundle files and JSON Lines files, in name order.
    inputs: Vec<Input>,
}

fn list_folder(dir: &Path, max_file_bytes: u64) -> std::io::Result<Listing> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    paths.sort();
    let mut listing = Listing {
        is_bundle: false,
        inputs: Vec::new(),
    };
    for path in paths {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let metadata = fs::metadata(&path);
        if metadata.as_ref().is_ok_and(fs::Metadata::is_dir) {
            continue;
        }
        if matches!(name, "bundle.yaml" | "bundle.yml" | "bundle.json") {
            listing.is_bundle = true;
        } else if is_json_lines(&path) {
            match metadata {
                Ok(metadata) if metadata.is_file() => listing.inputs.push(Input::Jsonl(path)),
                Ok(metadata) => {
                    let message = format!(
                        "{} is {}, not a regular file: balance-doctor opens only regular files; pipe a stream into `-` instead",
                        path.display(),
                        input::file_kind(&metadata.file_type())
                    );
                    listing.inputs.push(Input::Unusable(path, message));
                }
                // A link to nothing: the walk warns about it.
                Err(_) => {}
            }
        } else if path.extension().is_some_and(|e| e == "json") {
            // A document that cannot be read (not a regular file, too large, not JSON) still
            // makes its folder a bundle directory: reading the bundle reports why.
            if metadata.is_ok_and(|m| m.is_file()) && is_bundle_file(&path, max_file_bytes) {
                listing.inputs.push(Input::BundleFile(path));
            } else {
                listing.is_bundle = true;
            }
        }
    }
    Ok(listing)
}

/// Whether a JSON file holds a bundle in the single-file form (an object with a `documents`
/// key that is not null, an `as_of`, or a misspelt `documents`, as
/// [`input::is_single_file_bundle`] says of a parsed value), read without building its values.
fn is_bundle_file(path: &Path, max_file_bytes: u64) -> bool {
    use serde::Deserializer as _;
    use serde::de::{IgnoredAny, MapAccess, Visitor};

    struct HasDocuments;
    impl<'de> Visitor<'de> for HasDocuments {
        type Value = bool;
        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
            let mut found = false;
            while let Some(key) = map.next_key::<String>()? {
                let value = map.next_value::<Option<IgnoredAny>>()?;
                found |= balance_doctor_engine::is_bundle_member(&key, value.is_none());
            }
            Ok(found)
        }
    }
    let Ok(file) = input::open_regular_file(path) else {
        return false;
    };
    let reader = BufReader::new(file.take(max_file_bytes));
    serde_json::Deserializer::from_reader(reader)
        .deserialize_map(HasDocuments)
        .unwrap_or(false)
}
