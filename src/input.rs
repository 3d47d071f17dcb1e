//! Reading bundles and other files from disk (rules files and `extends`: [`crate::rules`]).
//!
//! Every file the CLI reads goes through [`read_file_limited`]: it opens only regular files
//! (never a FIFO, a device or a socket, which could block or never end) and reads at most a
//! given number of bytes, so that no input can hang the program or exhaust its memory.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use balance_doctor_engine::{Bundle, without_serde_position};
use serde_json::Value;

/// Where the evaluation time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AsOfOrigin {
    /// `--as-of`.
    Flag,
    /// The bundle's `as_of`.
    Bundle,
    /// Neither was given: the current time.
    Clock,
}

impl AsOfOrigin {
    /// The name output uses (`as_of_from`): `flag`, `bundle` or `clock`.
    pub fn as_str(self) -> &'static str {
        match self {
            AsOfOrigin::Flag => "flag",
            AsOfOrigin::Bundle => "bundle",
            AsOfOrigin::Clock => "clock",
        }
    }
}

impl std::fmt::Display for AsOfOrigin {
    /// The name output uses (see [`AsOfOrigin::as_str`]).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// The most bytes read from one file, or one JSON Lines record, unless told otherwise
/// (`diagnose --max-input-size`): 64 MiB.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 64 << 20;

/// Why a file could not be read, without its path: a caller that names the file in its own
/// words (`rules file X: cannot read it: ...`) shows this alone.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadProblem {
    /// Opening or reading failed.
    #[error("cannot read it: {0}")]
    Io(std::io::Error),
    /// The file is larger than the limit (in bytes).
    #[error(
        "is larger than {}, the most read from one input: check that it is the file you meant, or raise the limit with `diagnose --max-input-size`",
        format_size(*.0)
    )]
    TooLarge(u64),
    /// The text is not UTF-8: valid up to this byte.
    #[error("not valid UTF-8 text (at byte {0}): save it as UTF-8")]
    NotUtf8(usize),
    /// Not a regular file: what it is instead (see [`file_kind`]).
    #[error(
        "is {0}, not a regular file: balance-doctor reads only regular files (to read a stream, pipe it into `-`)"
    )]
    NotRegular(&'static str),
}

/// A file that could not be read: its path, then the problem (`cannot read X: ...`,
/// `X is larger than ...`, `X: not valid UTF-8 text ...`, `X is a FIFO ...`).
#[derive(Debug)]
pub struct ReadError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong, without the path.
    pub problem: ReadProblem,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.path.display();
        match &self.problem {
            ReadProblem::Io(error) => write!(f, "cannot read {path}: {error}"),
            ReadProblem::NotUtf8(_) => write!(f, "{path}: {}", self.problem),
            problem => write!(f, "{path} {problem}"),
        }
    }
}

impl std::error::Error for ReadError {}

impl ReadError {
    fn new(path: &Path, problem: ReadProblem) -> ReadError {
        ReadError {
            path: path.to_owned(),
            problem,
        }
    }
}

/// Reads a whole regular file as UTF-8 text, refusing more than `limit` bytes.
///
/// This is the one way the CLI reads a file: bundle files and directories (documents and
/// `bundle.yaml`), rules files and their `extends`, and test files. The file is opened without
/// blocking and checked through the open handle, so a FIFO, a device (`/dev/zero`), a socket or
/// a folder is refused with an error that says what it is, and never read; a larger file is
/// refused without being read past the limit. The error names the path; its `problem` alone
/// does not, for a caller that names the file itself. A UTF-8 byte-order mark at the start
/// (which some Windows editors write, and which neither JSON nor YAML parsers accept) is
/// dropped, so that positions count from the first character an editor shows.
pub fn read_file_limited(path: &Path, limit: u64) -> Result<String, ReadError> {
    let file = open_regular_file(path)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|error| ReadError::new(path, ReadProblem::Io(error)))?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::new(path, ReadProblem::TooLarge(limit)));
    }
    if bytes.starts_with(BYTE_ORDER_MARK) {
        bytes.drain(..BYTE_ORDER_MARK.len());
    }
    String::from_utf8(bytes).map_err(|error| {
        ReadError::new(path, ReadProblem::NotUtf8(error.utf8_error().valid_up_to()))
    })
}

/// The UTF-8 encoding of U+FEFF, which some editors write at the start of a text file.
const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

/// Opens a file for reading only if it is a regular file (following symbolic links). The open
/// does not block on a FIFO; the type is checked on the open handle, so the file cannot be
/// swapped for another between the check and the read.
pub fn open_regular_file(path: &Path) -> Result<File, ReadError> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let io = |error| ReadError::new(path, ReadProblem::Io(error));
    let file = options.open(path).map_err(io)?;
    let metadata = file.metadata().map_err(io)?;
    if !metadata.is_file() {
        return Err(ReadError::new(
            path,
            ReadProblem::NotRegular(file_kind(&metadata.file_type())),
        ));
    }
    Ok(file)
}

/// What a file that is not a regular file is, for messages.
pub fn file_kind(file_type: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a folder"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// A byte count as people write it: `64 MiB`, `512 KiB`, `100 bytes`.
pub fn format_size(bytes: u64) -> String {
    for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        if bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return format!("{} {unit}", bytes >> shift);
        }
    }
    format!("{bytes} bytes")
}

/// Parses a size: a number of bytes, optionally followed by `K`, `M` or `G` (binary
/// multiples, with or without `iB`/`B`): `64M`, `64MiB`, `512k`, `1000000`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => {
            return Err(format!(
                "`{text}` is not a size: write a number of bytes, optionally with K, M or G (such as 64M)"
            ));
        }
    };
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size: start with a number (such as 64M)"))?;
    match number.checked_mul(1 << shift) {
        Some(0) => Err("the size must be at least one byte".to_owned()),
        Some(bytes) => Ok(bytes),
        None => Err(format!("`{text}` is too large")),
    }
}

/// Refuses a YAML text whose aliases expand past the engine's budget
/// ([`balance_doctor_engine::check_alias_expansion`]), with the file, line and column.
pub(crate) fn check_yaml(path: &Path, text: &str) -> Result<()> {
    balance_doctor_engine::check_alias_expansion(text).map_err(|error| {
        anyhow::anyhow!(
            "{}:{}:{}: {}",
            path.display(),
            error.location.line,
            error.location.column,
            error.message
        )
    })
}

/// Reads a bundle from a directory (one `<document>.json` per document) or a bundle JSON file,
/// with the default size limit per file.
pub fn read_bundle(path: &Path) -> Result<Bundle> {
    read_bundle_limited(path, DEFAULT_MAX_INPUT_BYTES)
}

/// Reads a bundle from a directory or a bundle JSON file, refusing any file larger than `limit`
/// bytes and anything that is not a regular file (see [`read_file_limited`]).
pub fn read_bundle_limited(path: &Path, limit: u64) -> Result<Bundle> {
    let metadata =
        fs::metadata(path).with_context(|| format!("cannot read bundle {}", path.display()))?;
    if metadata.is_dir() {
        read_bundle_dir(path, limit)
    } else {
        let text = read_file_limited(path, limit)?;
        parse_bundle_text(&path.display().to_string(), &text)
    }
}

/// Parses one bundle in the single-file JSON form; `label` names it in messages (a path, or
/// `-` for stdin). JSON syntax errors are reported with their line and column.
pub fn parse_bundle_text(label: &str, text: &str) -> Result<Bundle> {
    // The same parse as a batch line's: accepted or refused by `Bundle::from_json` alone, a
    // JSON syntax error then worded with its line and column.
    Bundle::from_json(text).map_err(|refused| match serde_json::from_str::<Value>(text) {
        Err(error) => anyhow::anyhow!(
            "{label}:{}:{}: not valid JSON: {}",
            error.line(),
            error.column(),
            without_serde_position(&error.to_string())
        ),
        Ok(_) => anyhow::Error::new(refused).context(format!("invalid bundle {label}")),
    })
}

pub use balance_doctor_engine::is_single_file_bundle;

/// Reads a bundle directory through [`Bundle::from_dir`]: the engine decides which files
/// matter and what they mean, this lists the folder and reads what it asks for, with
/// [`read_file_limited`]. Sub-folders are never documents (a tree search looks into them on its
/// own); any other entry is offered, and one that is not a regular file is refused when read.
fn read_bundle_dir(dir: &Path, limit: u64) -> Result<Bundle> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir)
        .with_context(|| format!("cannot list bundle directory {}", dir.display()))?
    {
        let entry =
            entry.with_context(|| format!("cannot list bundle directory {}", dir.display()))?;
        let path = entry.path();
        if let Some(name) = entry.file_name().to_str()
            && !path.is_dir()
        {
            names.push(name.to_owned());
        }
    }
    Bundle::from_dir(&names, |name| {
        let path = dir.join(name);
        // The bundle's error names the document's path, so the reader's problem comes alone.
        read_file_limited(&path, limit).map_err(|error| error.problem.to_string())
    })
    .map_err(|mut error| match error.file.take() {
        Some(file) => {
            error.file = Some(dir.join(file).display().to_string());
            anyhow::anyhow!("{error}")
        }
        None => anyhow::anyhow!("invalid bundle {}: {error}", dir.display()),
    })
}

/// One line of a JSON Lines input, as [`JsonLines`] reads it: with its text (`T = String`,
/// [`JsonLines::next_line`]), or without it (`T = ()`, [`Appended`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum Line<T = String> {
    /// A line with text (its ending removed): one record.
    Text {
        /// The 1-based line number.
        line: u64,
        /// The line's text.
        text: T,
        /// Bytes the line took in the input, ending included.
        bytes: u64,
    },
    /// A line longer than the limit: read to its end and discarded, never held in memory.
    TooLong {
        /// The 1-based line number.
        line: u64,
        /// Bytes the line took in the input, ending included.
        bytes: u64,
    },
    /// A line that is not valid UTF-8.
    NotUtf8 {
        /// The 1-based line number.
        line: u64,
        /// Bytes the line took in the input, ending included.
        bytes: u64,
    },
    /// Reading failed; nothing more is read from this input.
    Failed {
        /// The 1-based number of the line being read.
        line: u64,
        /// What failed.
        error: std::io::Error,
    },
}

impl<T> std::fmt::Display for Line<T> {
    /// `line <n>` and what it holds (its size, not its text, which can be long).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Line::Text { line, bytes, .. } => write!(f, "line {line}: {bytes} bytes of text"),
            Line::TooLong { line, bytes } => {
                write!(f, "line {line}: {bytes} bytes, longer than the limit")
            }
            Line::NotUtf8 { line, bytes } => write!(f, "line {line}: {bytes} bytes, not UTF-8"),
            Line::Failed { line, error } => write!(f, "line {line}: cannot be read: {error}"),
        }
    }
}

/// Reads JSON Lines, one record per line, each line holding at most `limit` bytes.
///
/// A line ends at `\n`, `\r\n` or a lone `\r` (old Mac files), and line numbers count every
/// ending. Blank lines (nothing but spaces and tabs) are no record: they are skipped and
/// counted ([`JsonLines::blank_lines`]). A line over the limit is read to its end in pieces,
/// without being kept, and reported as [`Line::TooLong`], and reading goes on with the next.
/// A UTF-8 byte-order mark at the start of the input is dropped.
pub struct JsonLines<R> {
    reader: R,
    limit: u64,
    line: u64,
    /// The last line ended with `\r`: a `\n` right after it belongs to the same ending.
    after_cr: bool,
    blank_lines: u64,
    done: bool,
    /// The bytes of the line being read, reused from line to line by
    /// [`JsonLines::append_line`].
    kept: Vec<u8>,
    /// The reader's buffer still held bytes after the last line was read.
    buffered: bool,
}

/// A line as [`JsonLines::append_line`] reads it: a [`Line`] whose text went to the end of
/// the caller's text (a line that is not UTF-8 appends nothing).
pub type Appended = Line<()>;

/// Line bytes kept for the next line: a larger buffer (a rare long line) is given back.
const KEPT_BYTES: usize = 1 << 20;

fn blank(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == b' ' || b == b'\t')
}

impl<R: std::io::BufRead> JsonLines<R> {
    /// Lines of `reader`, each of at most `limit` bytes.
    pub fn new(reader: R, limit: u64) -> JsonLines<R> {
        JsonLines {
            reader,
            limit,
            line: 0,
            after_cr: false,
            blank_lines: 0,
            done: false,
            kept: Vec::new(),
            buffered: false,
        }
    }

    /// Drops a UTF-8 byte-order mark at the start of the input, as [`read_file_limited`] does
    /// at the start of a file: some Windows tools write one, and JSON has no place for it. (A
    /// mark that the first read splits is left, and its line gets an error record.)
    fn skip_byte_order_mark(&mut self) {
        loop {
            match self.reader.fill_buf() {
                Ok(available) => {
                    if available.starts_with(BYTE_ORDER_MARK) {
                        self.reader.consume(BYTE_ORDER_MARK.len());
                    }
                    return;
                }
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                // Read again, and reported, with the line.
                Err(_) => return,
            }
        }
    }

    /// Whether the reader's buffer still holds bytes after the lines read so far, so that the
    /// next line starts without asking the input for more (which may wait, on a pipe). A
    /// caller that writes output flushes it when this is false: records that came in are
    /// then written before the run waits for more.
    pub fn buffered(&self) -> bool {
        self.buffered && !self.done
    }

    /// Blank lines skipped so far.
    pub fn blank_lines(&self) -> u64 {
        self.blank_lines
    }

    /// The rest of the input after the lines read so far, appended to `text`, as long as the
    /// whole stays within the limit (for one bundle spread over many lines).
    pub fn read_rest(&mut self, mut text: String) -> Result<String, String> {
        self.done = true;
        let mut rest = Vec::new();
        let room = self.limit.saturating_sub(text.len() as u64);
        if let Err(error) = (&mut self.reader)
            .take(room.saturating_add(1))
            .read_to_end(&mut rest)
        {
            return Err(format!("reading stopped: {error}"));
        }
        if rest.len() as u64 > room {
            return Err(format!(
                "the bundle is larger than {}, the most read from one input: raise the limit with --max-input-size",
                format_size(self.limit)
            ));
        }
        let rest =
            String::from_utf8(rest).map_err(|_| "the input is not valid UTF-8".to_owned())?;
        text.push_str(&rest);
        Ok(text)
    }

    /// The next line that is not blank, or `None` at the end of the input.
    pub fn next_line(&mut self) -> Option<Line> {
        loop {
            return Some(match self.read_line(None)? {
                Appended::Text { .. } if blank(&self.kept) => {
                    self.blank_lines += 1;
                    continue;
                }
                Appended::Text {
                    line,
                    text: (),
                    bytes,
                } => match String::from_utf8(std::mem::take(&mut self.kept)) {
                    Ok(text) => Line::Text { line, text, bytes },
                    Err(_) => Line::NotUtf8 { line, bytes },
                },
                Appended::TooLong { line, bytes } => Line::TooLong { line, bytes },
                Appended::NotUtf8 { line, bytes } => Line::NotUtf8 { line, bytes },
                Appended::Failed { line, error } => Line::Failed { line, error },
            });
        }
    }

    /// The next line that is not blank, as [`JsonLines::next_line`] reads it, but with its text
    /// appended to `text` instead of returned in a `String` of its own: a batch run reads a
    /// chunk's lines into one buffer that it reuses, allocating nothing per line, and a line
    /// that is whole in the reader's buffer is copied once, from there.
    pub fn append_line(&mut self, text: &mut String) -> Option<Appended> {
        loop {
            let start = text.len();
            let line = self.read_line(Some(text))?;
            if matches!(line, Appended::Text { .. }) && blank(&text.as_bytes()[start..]) {
                text.truncate(start);
                self.blank_lines += 1;
                continue;
            }
            return Some(line);
        }
    }

    /// The next line. The text of a line ([`Appended::Text`]) is appended to `text` when it is
    /// given (a line that is not UTF-8 is then [`Appended::NotUtf8`]); otherwise its bytes,
    /// not checked for UTF-8, are left in `kept`.
    fn read_line(&mut self, mut text: Option<&mut String>) -> Option<Appended> {
        if self.done {
            return None;
        }
        self.line += 1;
        let line = self.line;
        if self.kept.capacity() > KEPT_BYTES {
            self.kept = Vec::new();
        }
        self.kept.clear();
        if line == 1 {
            self.skip_byte_order_mark();
        }
        let mut length: u64 = 0;
        let mut ending: u64 = 0;
        let mut over = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(available) => available,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    self.done = true;
                    return Some(Appended::Failed { line, error });
                }
            };
            if available.is_empty() {
                self.done = true;
                if length == 0 {
                    return None;
                }
                break;
            }
            let mut start = 0;
            if std::mem::take(&mut self.after_cr) && available[0] == b'\n' {
                start = 1;
                ending += 1;
            }
            let found = memchr::memchr2(b'\n', b'\r', &available[start..]);
            let piece = &available[start..start + found.unwrap_or(available.len() - start)];
            if let (Some(text), Some(_), 0) = (text.as_deref_mut(), found, length) {
                if piece.len() as u64 <= self.limit {
                    // The whole line is in the reader's buffer: straight into `text`.
                    let read = simdutf8::basic::from_utf8(piece).map(|piece| text.push_str(piece));
                    let bytes = piece.len() as u64 + ending + 1;
                    let ends = start + piece.len();
                    self.after_cr = available[ends] == b'\r';
                    self.buffered = available.len() > ends + 1;
                    self.reader.consume(ends + 1);
                    return Some(match read {
                        Ok(()) => Appended::Text {
                            line,
                            text: (),
                            bytes,
                        },
                        Err(_) => Appended::NotUtf8 { line, bytes },
                    });
                }
            }
            length += piece.len() as u64;
            if length > self.limit {
                over = true;
                self.kept = Vec::new();
            } else {
                self.kept.extend_from_slice(piece);
            }
            let mut consumed = start + piece.len();
            if found.is_some() {
                self.after_cr = available[consumed] == b'\r';
                consumed += 1;
                ending += 1;
            }
            self.buffered = available.len() > consumed;
            self.reader.consume(consumed);
            if found.is_some() {
                break;
            }
        }
        let bytes = length + ending;
        if over {
            return Some(Appended::TooLong { line, bytes });
        }
        let Some(text) = text else {
            return Some(Appended::Text {
                line,
                text: (),
                bytes,
            });
        };
        if text.is_empty() && self.kept.len() > text.capacity() {
            // A line longer than the reader's buffer, first in `text`: moved, not copied, so
            // that it is not held twice.
            return Some(match String::from_utf8(std::mem::take(&mut self.kept)) {
                Ok(kept) => {
                    *text = kept;
                    Appended::Text {
                        line,
                        text: (),
                        bytes,
                    }
                }
                Err(_) => Appended::NotUtf8 { line, bytes },
            });
        }
        Some(match simdutf8::basic::from_utf8(&self.kept) {
            Ok(kept) => {
                text.push_str(kept);
                Appended::Text {
                    line,
                    text: (),
                    bytes,
                }
            }
            Err(_) => Appended::NotUtf8 { line, bytes },
        })
    }
}
