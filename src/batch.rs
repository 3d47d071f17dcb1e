//! Batch diagnosis: many inputs, one output record per bundle, in input order, in parallel.
//!
//! Inputs (found by [`crate::discover`]) are bundle files, bundle directories, JSON Lines
//! files (`.jsonl`, `.ndjson`: one bundle per line) and `-` (stdin: JSON Lines, or one
//! pretty-printed bundle, see [`StdinFormat`]). Records are processed in small groups, each
//! parsed, then evaluated, then written, one stage at a time (`process_group`). On one
//! thread, a group takes only records that can be read without waiting, and the output is
//! flushed whenever reading would wait for more input (so results stream from a pipe). With more, `threads` worker threads take turns reading a chunk of
//! records (under a lock held only while reading) and evaluate it, and the calling thread
//! writes finished chunks in input order as each completes, so output starts before the input
//! ends. Memory does not grow with the input: a chunk holds at most 256 records, each worker
//! has two chunks (each being filled, or finished and waiting to be written) and reads only
//! into a free one, and the chunks being evaluated hold at most [`READ_AHEAD_BYTES`] of
//! input together (or one larger record per chunk); a record larger than the limit
//! (`--max-input-size`) is skipped without being held. Buffers are reused (each thread evaluates in its own
//! [`Scratch`]), and while a run goes on
//! whatever a worker allocates for a chunk is freed by that worker (a JSON Lines file's reader
//! and name, and the last chunks at the end of a run, may be freed by another thread). A record that cannot be read or
//! parsed yields an error record in its place: the output has exactly one record per input
//! record. Blank lines in JSON Lines are no record: they are skipped and counted
//! ([`RunReport::blank_lines`]).

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Write};
use std::ops::Range;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use anyhow::Result;
use balance_doctor_engine::{
    Bundle, Diagnosis, EvaluateOptions, Projection, RuleSet, Scratch, Severity,
};
use jiff::Timestamp;
use serde::Serialize;

pub use crate::discover::Input;
use crate::input::{self, Appended, AsOfOrigin, JsonLines};
use crate::render::{DiagnosedRecord, FailedRecord, JsonReport, JsonlRecord, RuleTexts};

/// Input bytes a chunk of records may hold (a chunk always takes at least one record).
pub const CHUNK_BYTES: u64 = 4 << 20;

/// Input bytes the chunks being evaluated may hold together: with many threads, each chunk
/// holds less (`READ_AHEAD_BYTES / threads`, at most [`CHUNK_BYTES`]), so that the input held
/// does not grow with `--threads`.
pub const READ_AHEAD_BYTES: u64 = 16 << 20;

/// How stdin (`-`) is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[non_exhaustive]
pub enum StdinFormat {
    /// One pretty-printed bundle when the first line that is not blank is a lone `{` (as
    /// `jq` and JSON pretty-printers write), JSON Lines otherwise.
    #[default]
    Auto,
    /// JSON Lines: one bundle per line.
    Jsonl,
    /// One bundle, the whole of stdin, in any layout.
    Bundle,
}

/// Where a record came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RecordOrigin {
    /// The file or directory (`-` for stdin).
    pub file: String,
    /// The 1-based line, for JSON Lines input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

impl std::fmt::Display for RecordOrigin {
    /// `file:line`, or `file` alone when there is no line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.file),
            None => f.write_str(&self.file),
        }
    }
}

/// What one record holds before evaluation.
enum Payload {
    /// A JSON Lines line: where its text is in the chunk's input text.
    Line(Range<usize>),
    /// The text of a whole file (or of stdin, for one bundle).
    Text(String),
    Dir(PathBuf),
    Failed(String),
}

struct Record {
    /// The file, shared by all of its records.
    file: Arc<str>,
    line: Option<u64>,
    payload: Payload,
    /// Input bytes the record took (for progress).
    bytes: u64,
}

impl Record {
    /// How much the record counts towards a group's [`GROUP_BYTES`]: its input bytes, or the
    /// whole allowance for a bundle directory, whose size is known only once it is read.
    fn weight(&self) -> u64 {
        match self.payload {
            Payload::Dir(_) => GROUP_BYTES,
            _ => self.bytes.max(1),
        }
    }
}

/// The lines of a JSON Lines input being read.
type Lines = JsonLines<Box<dyn BufRead + Send>>;

/// Reads records from inputs in order.
struct Records<'a> {
    inputs: std::iter::Peekable<Box<dyn Iterator<Item = Input> + Send + 'a>>,
    /// The JSON Lines input being read, and its name.
    lines: Option<(Arc<str>, Lines)>,
    max_input_bytes: u64,
    stdin: StdinFormat,
    blank_lines: &'a AtomicU64,
}

impl<'a> Records<'a> {
    fn new(
        inputs: impl Iterator<Item = Input> + Send + 'a,
        options: &BatchOptions,
        blank_lines: &'a AtomicU64,
    ) -> Records<'a> {
        Records {
            inputs: (Box::new(inputs) as Box<dyn Iterator<Item = Input> + Send + 'a>).peekable(),
            lines: None,
            max_input_bytes: options.max_input_bytes,
            stdin: options.stdin,
            blank_lines,
        }
    }

    fn next_line(&mut self, text: &mut String) -> Option<Record> {
        let (file, lines) = self.lines.as_mut()?;
        let start = text.len();
        match lines.append_line(text) {
            Some(line) => Some(line_record(
                file,
                line,
                start..text.len(),
                self.max_input_bytes,
            )),
            None => {
                self.blank_lines
                    .fetch_add(lines.blank_lines(), Ordering::Relaxed);
                self.lines = None;
                None
            }
        }
    }

    /// Stdin: JSON Lines, or one bundle (see [`StdinFormat`]).
    fn stdin(&mut self, text: &mut String) -> Option<Record> {
        let reader: Box<dyn BufRead + Send> =
            Box::new(BufReader::with_capacity(1 << 16, io::stdin()));
        let mut lines = JsonLines::new(reader, self.max_input_bytes);
        let stdin: Arc<str> = Arc::from("-");
        let whole = |lines: &mut JsonLines<_>, first: String| {
            let payload = match lines.read_rest(first) {
                Ok(text) => Payload::Text(text),
                Err(message) => Payload::Failed(message),
            };
            let bytes = match &payload {
                Payload::Text(text) => text.len() as u64,
                _ => 0,
            };
            Some(Record {
                file: Arc::clone(&stdin),
                line: None,
                payload,
                bytes,
            })
        };
        match self.stdin {
            StdinFormat::Jsonl => {}
            StdinFormat::Bundle => return whole(&mut lines, String::new()),
            StdinFormat::Auto => {
                let start = text.len();
                match lines.append_line(text) {
                    None => {
                        self.blank_lines
                            .fetch_add(lines.blank_lines(), Ordering::Relaxed);
                        return None;
                    }
                    Some(Appended::Text { .. }) if text[start..].trim() == "{" => {
                        let first = text[start..].to_owned() + "\n";
                        text.truncate(start);
                        return whole(&mut lines, first);
                    }
                    Some(first) => {
                        let mut record =
                            line_record(&stdin, first, start..text.len(), self.max_input_bytes);
                        if let Some(message) = cut_object_hint(&text[start..]) {
                            text.truncate(start);
                            record.payload = Payload::Failed(message);
                        }
                        self.lines = Some((stdin, lines));
                        return Some(record);
                    }
                }
            }
        }
        self.lines = Some((stdin, lines));
        None
    }

    /// Whether the next record can be read without waiting for the input: false when the
    /// reader's buffer is used up (a pipe may then wait for its writer) or stdin comes next.
    /// One thread flushes its output then, so that records that came in are written before it
    /// waits for more.
    fn buffered(&mut self) -> bool {
        match &self.lines {
            Some((_, lines)) => lines.buffered(),
            None => !matches!(self.inputs.peek(), Some(Input::Stdin)),
        }
    }

    /// The next record; the text of a JSON Lines record is appended to `text`.
    fn next(&mut self, text: &mut String) -> Option<Record> {
        loop {
            if self.lines.is_some() {
                if let Some(record) = self.next_line(text) {
                    return Some(record);
                }
                continue;
            }
            let input = self.inputs.next()?;
            let (file, payload) = match input {
                Input::Stdin => {
                    if let Some(record) = self.stdin(text) {
                        return Some(record);
                    }
                    continue;
                }
                Input::Jsonl(path) => match input::open_regular_file(&path) {
                    Ok(file) => {
                        let reader: Box<dyn BufRead + Send> =
                            Box::new(BufReader::with_capacity(1 << 16, file));
                        self.lines = Some((
                            Arc::from(path.display().to_string()),
                            JsonLines::new(reader, self.max_input_bytes),
                        ));
                        continue;
                    }
                    Err(error) => (
                        path.display().to_string(),
                        Payload::Failed(format!("{error:#}")),
                    ),
                },
                Input::BundleFile(path) => {
                    let payload = match input::read_file_limited(&path, self.max_input_bytes) {
                        Ok(text) => Payload::Text(text),
                        Err(error) => Payload::Failed(format!("{error:#}")),
                    };
                    (path.display().to_string(), payload)
                }
                Input::BundleDir(path) => (path.display().to_string(), Payload::Dir(path)),
                Input::Unusable(path, message) => {
                    (path.display().to_string(), Payload::Failed(message))
                }
            };
            let bytes = match &payload {
                Payload::Text(text) => text.len() as u64,
                _ => 0,
            };
            return Some(Record {
                file: Arc::from(file),
                line: None,
                payload,
                bytes,
            });
        }
    }
}

/// The error of stdin's first line when it opens a JSON object that it does not close, as the
/// first line of a bundle pretty-printed with its first member on the same line does (`{"as_of":
/// ...,`): every line after it would fail too, so it says how to read stdin as one bundle.
fn cut_object_hint(line: &str) -> Option<String> {
    if !line.trim_start().starts_with('{') {
        return None;
    }
    let error = serde_json::from_str::<serde::de::IgnoredAny>(line).err()?;
    error.is_eof().then(|| {
        "not valid JSON: the line ends inside a JSON object; if stdin is one pretty-printed bundle, pass --stdin-format bundle".to_owned()
    })
}

/// The record of one JSON Lines line, whose text (if any) is at `range` of the chunk's text.
fn line_record(file: &Arc<str>, line: Appended, range: Range<usize>, limit: u64) -> Record {
    let (line, payload, bytes) = match line {
        Appended::Text { line, bytes, .. } => (line, Payload::Line(range), bytes),
        Appended::TooLong { line, bytes } => (
            line,
            Payload::Failed(format!(
                "the line holds {bytes} bytes, more than {}, the most read from one record: it was skipped; split the bundle, or raise the limit with --max-input-size",
                input::format_size(limit)
            )),
            bytes,
        ),
        Appended::NotUtf8 { line, bytes } => (
            line,
            Payload::Failed("the line is not valid UTF-8".to_owned()),
            bytes,
        ),
        Appended::Failed { line, error } => (
            line,
            Payload::Failed(format!("reading stopped: {error}")),
            0,
        ),
    };
    Record {
        file: Arc::clone(file),
        line: Some(line),
        payload,
        bytes,
    }
}

impl std::fmt::Display for StdinFormat {
    /// The `--stdin-format` value: `auto`, `jsonl` or `bundle`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            StdinFormat::Auto => "auto",
            StdinFormat::Jsonl => "jsonl",
            StdinFormat::Bundle => "bundle",
        })
    }
}

/// How a run renders each record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordFormat {
    /// One JSON object per line.
    Jsonl,
    /// The readable report, one after another.
    Human(crate::render::Palette),
    /// Markdown reports, one after another.
    Markdown,
    /// Nothing per record (a summary only).
    Nothing,
}

impl std::fmt::Display for RecordFormat {
    /// The `--format` it comes from (`jsonl`, `human`, `markdown`), or `nothing`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            RecordFormat::Jsonl => "jsonl",
            RecordFormat::Human(_) => "human",
            RecordFormat::Markdown => "markdown",
            RecordFormat::Nothing => "nothing",
        })
    }
}

/// Options of a batch run.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// `--as-of`, overriding every bundle's own.
    pub as_of: Option<Timestamp>,
    /// The time used for bundles without an `as_of` when no `--as-of` is given.
    pub now: Timestamp,
    /// Add the explanation to each diagnosis.
    pub explain: bool,
    /// Worker threads; 1 runs everything on the calling thread.
    pub threads: usize,
    /// Records per chunk a worker reads at a time (a chunk also stops at [`CHUNK_BYTES`], or less
    /// with many threads: see [`READ_AHEAD_BYTES`]).
    pub chunk: usize,
    /// How each record is written.
    pub format: RecordFormat,
    /// The most bytes read from one file or one JSON Lines record (`--max-input-size`).
    pub max_input_bytes: u64,
    /// How stdin is read (`--stdin-format`).
    pub stdin: StdinFormat,
    /// Whether `observe` sees each record's whole diagnosis ([`Outcome::Diagnosed`]), or only
    /// what it came to ([`Outcome::Written`]). Without it, each diagnosis is dropped by the
    /// thread that made it: handing every diagnosis to the writing thread only to be freed
    /// there took about a third more CPU time on two threads.
    pub keep_diagnoses: bool,
}

impl Default for BatchOptions {
    fn default() -> BatchOptions {
        BatchOptions {
            as_of: None,
            now: Timestamp::UNIX_EPOCH,
            explain: false,
            threads: 1,
            chunk: 256,
            format: RecordFormat::Jsonl,
            max_input_bytes: input::DEFAULT_MAX_INPUT_BYTES,
            stdin: StdinFormat::Auto,
            keep_diagnoses: true,
        }
    }
}

/// What one record came to, for the summary.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Outcome {
    /// The record could not be read, parsed or validated: why.
    Failed(String),
    /// The record was diagnosed.
    Diagnosed(Box<Diagnosis>),
    /// The record was diagnosed, and its diagnosis not kept
    /// ([`BatchOptions::keep_diagnoses`] off): how many findings it has, and the severity of
    /// the most severe.
    Written {
        /// Its number of findings.
        findings: usize,
        /// The severity of its most severe finding, if any.
        worst: Option<Severity>,
    },
}

impl std::fmt::Display for Outcome {
    /// `failed: <why>`, or `diagnosed: <n> finding(s)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Failed(why) => write!(f, "failed: {why}"),
            Outcome::Diagnosed(diagnosis) => diagnosed(f, diagnosis.findings.len()),
            Outcome::Written { findings, .. } => diagnosed(f, *findings),
        }
    }
}

fn diagnosed(f: &mut std::fmt::Formatter<'_>, findings: usize) -> std::fmt::Result {
    match findings {
        1 => f.write_str("diagnosed: 1 finding"),
        count => write!(f, "diagnosed: {count} findings"),
    }
}

impl Outcome {
    /// The severity of the record's most severe finding (`None` without findings, or when it
    /// failed).
    pub fn worst(&self) -> Option<Severity> {
        match self {
            Outcome::Failed(_) => None,
            Outcome::Diagnosed(diagnosis) => diagnosis.worst(),
            Outcome::Written { worst, .. } => *worst,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    /// Records read.
    pub records: u64,
    /// Records that failed.
    pub failed: u64,
    /// Whether the reader of the output went away before the end (a closed pipe).
    pub output_closed: bool,
    /// Blank lines skipped in JSON Lines input (they hold no record).
    pub blank_lines: u64,
}

/// Reads, evaluates and writes every record of `inputs`; `observe` sees each outcome in
/// order (for a summary or a progress bar).
pub fn run(
    rules: &RuleSet,
    inputs: impl IntoIterator<Item = Input, IntoIter: Send>,
    out: &mut dyn Write,
    options: &BatchOptions,
    observe: &mut dyn FnMut(&RecordOrigin, &Outcome, u64),
) -> Result<RunReport> {
    let blank_lines = AtomicU64::new(0);
    let report = run_records(
        rules,
        inputs.into_iter(),
        &blank_lines,
        out,
        options,
        observe,
    )?;
    Ok(RunReport {
        blank_lines: blank_lines.into_inner(),
        ..report
    })
}

fn run_records(
    rules: &RuleSet,
    inputs: impl Iterator<Item = Input> + Send,
    blank_lines: &AtomicU64,
    out: &mut dyn Write,
    options: &BatchOptions,
    observe: &mut dyn FnMut(&RecordOrigin, &Outcome, u64),
) -> Result<RunReport> {
    let mut report = RunReport::default();
    let projection = rules.projection();
    let cx = &Context {
        rules,
        projection: &projection,
        texts: &RuleTexts::new(rules),
        options,
    };
    let mut origin = OriginBuf::default();
    if options.threads <= 1 {
        // One record at a time, through one input text, one chunk and one evaluation scratch,
        // all reused.
        let mut records = Records::new(inputs, options, blank_lines);
        let mut input = String::new();
        let mut chunk = Chunk::new(0);
        let mut scratch = Vec::new();
        let mut stages = Stages::default();
        let mut group = Vec::with_capacity(GROUP);
        loop {
            chunk.clear(KEEP_BYTES);
            recycle(&mut input, KEEP_BYTES);
            // Before reading may wait (a pipe), what is written so far goes out.
            if !records.buffered()
                && let Err(error) = out.flush()
            {
                return closed_or(error, report);
            }
            // A group takes the records that can be read without waiting, up to its bounds:
            // a record that comes in alone is written at once.
            let mut weight = 0;
            while group.len() < GROUP
                && weight < GROUP_BYTES
                && (group.is_empty() || records.buffered())
            {
                let Some(record) = records.next(&mut input) else {
                    break;
                };
                weight += record.weight();
                group.push(record);
            }
            if group.is_empty() {
                break;
            }
            process_group(
                cx,
                group.drain(..),
                &input,
                &mut origin,
                &mut chunk,
                &mut scratch,
                &mut stages,
            );
            if let Err(error) = chunk.write(out, &mut report, &mut origin, observe) {
                return closed_or(error, report);
            }
        }
        if let Err(error) = out.flush() {
            return closed_or(error, report);
        }
        return Ok(report);
    }
    // `threads` workers take turns reading a chunk of records (under a lock, held only while
    // reading) and evaluate it into a chunk of their own; this thread writes finished chunks in
    // input order and gives each back to the worker that filled it. Each worker has
    // `CHUNKS_PER_WORKER` chunks and reads only into one that is free, so at most that many
    // chunks per worker are held at once (being filled, or finished and waiting to be written),
    // however long the input; the input of one chunk per worker is held, only while it is
    // evaluated. Everything a worker allocates for a chunk (input text, output text, outcomes)
    // is reused or freed by that worker: freeing on another thread made mimalloc give pages
    // back and fault them in again. Every thread blocks when it has nothing to do (none spins).
    let workers = options.threads;
    let chunk_bytes = CHUNK_BYTES.min(READ_AHEAD_BYTES / workers as u64);
    let keep = usize::try_from(2 * chunk_bytes).unwrap_or(usize::MAX);
    let reading = Mutex::new(Reading {
        records: Records::new(inputs, options, blank_lines),
        sequence: 0,
        chunk: 1,
        done: false,
    });
    let (done_sender, done) = channel::<std::thread::Result<Chunk>>();
    let mut free_chunks = Vec::with_capacity(workers);
    std::thread::scope(|scope| {
        for owner in 0..workers {
            let (give_back, free) = channel::<Chunk>();
            for _ in 0..CHUNKS_PER_WORKER {
                // The worker holds the receiver: this cannot fail.
                let _ = give_back.send(Chunk::new(owner));
            }
            free_chunks.push(give_back);
            let worker = Worker {
                cx,
                reading: &reading,
                free,
                done: done_sender.clone(),
                chunk_bytes,
                largest: options.chunk.max(1),
                keep,
            };
            scope.spawn(move || worker.run());
        }
        drop(done_sender);
        // Write finished chunks in order; each written chunk goes back to its worker.
        let mut finished: BTreeMap<u64, Chunk> = BTreeMap::new();
        let mut written = 0u64;
        while let Ok(chunk) = done.recv() {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(panic) => {
                    // A worker panicked (a bug): stop the others, and raise it.
                    drop(free_chunks);
                    drop(done);
                    std::panic::resume_unwind(panic);
                }
            };
            finished.insert(chunk.sequence, chunk);
            while let Some(chunk) = finished.remove(&written) {
                let result = chunk
                    .write(out, &mut report, &mut origin, observe)
                    .and_then(|()| out.flush());
                if let Err(error) = result {
                    // Stop: the workers get no chunk back and end once they have evaluated
                    // the chunk they hold, if any.
                    drop(free_chunks);
                    drop(done);
                    return closed_or(error, report);
                }
                written += 1;
                // The worker may have ended (all input read): then the chunk is dropped.
                let _ = free_chunks[chunk.owner].send(chunk);
            }
        }
        Ok(report)
    })
}

/// Chunks each worker has: one being filled while the other waits to be written keeps both
/// cores busy; more only held more memory.
const CHUNKS_PER_WORKER: usize = 2;

/// Bytes of input or output text a reused buffer keeps on one thread, where it holds one
/// group of records at a time: a buffer that grew larger for large records is given back.
const KEEP_BYTES: usize = 1 << 20;

/// Empties `buffer` for reuse, or gives it back if it grew beyond `keep` bytes.
fn recycle(buffer: &mut String, keep: usize) {
    if buffer.capacity() > keep {
        *buffer = String::new();
    }
    buffer.clear();
}

/// What every record's evaluation reads.
struct Context<'a> {
    rules: &'a RuleSet,
    projection: &'a Projection,
    texts: &'a RuleTexts,
    options: &'a BatchOptions,
}

/// The input, read by one worker at a time.
struct Reading<'a> {
    records: Records<'a>,
    /// The sequence number of the next chunk.
    sequence: u64,
    /// Records in the next chunk: chunks start at one record and double, so that the first
    /// results appear at once even when records trickle in, and large inputs still go in
    /// large chunks.
    chunk: usize,
    /// All input has been read.
    done: bool,
}

struct Worker<'scope, 'a> {
    cx: &'scope Context<'scope>,
    reading: &'scope Mutex<Reading<'a>>,
    /// This worker's chunks, once written (none comes once the writer has stopped).
    free: Receiver<Chunk>,
    done: Sender<std::thread::Result<Chunk>>,
    /// A chunk ends once it holds this much input.
    chunk_bytes: u64,
    /// The most records in a chunk.
    largest: usize,
    /// Bytes a reused buffer keeps.
    keep: usize,
}

impl Worker<'_, '_> {
    fn run(self) {
        let mut input = String::new();
        let mut records: Vec<Record> = Vec::new();
        let mut origin = OriginBuf::default();
        let mut scratch = Vec::new();
        let mut stages = Stages::default();
        while let Ok(mut chunk) = self.free.recv() {
            chunk.clear(self.keep);
            recycle(&mut input, self.keep);
            {
                // A poisoned lock means another worker panicked while reading: stop (the
                // panic is raised when the threads are joined).
                let Ok(mut reading) = self.reading.lock() else {
                    break;
                };
                let reading = &mut *reading;
                let mut bytes = 0;
                while !reading.done && records.len() < reading.chunk && bytes < self.chunk_bytes {
                    match reading.records.next(&mut input) {
                        Some(record) => {
                            bytes += record.bytes;
                            records.push(record);
                        }
                        None => reading.done = true,
                    }
                }
                if records.is_empty() {
                    break;
                }
                chunk.sequence = reading.sequence;
                reading.sequence += 1;
                reading.chunk = (reading.chunk * 2).min(self.largest);
            }
            // A panic (a bug) goes to the writer, which stops the run and raises it:
            // otherwise the writer would wait for this chunk for ever.
            let evaluated = std::panic::catch_unwind(AssertUnwindSafe(|| {
                while !records.is_empty() {
                    let mut weight = 0;
                    let mut take = 0;
                    while take < records.len().min(GROUP) && weight < GROUP_BYTES {
                        weight += records[take].weight();
                        take += 1;
                    }
                    process_group(
                        self.cx,
                        records.drain(..take),
                        &input,
                        &mut origin,
                        &mut chunk,
                        &mut scratch,
                        &mut stages,
                    );
                }
            }));
            if self.done.send(evaluated.map(|()| chunk)).is_err() {
                break;
            }
        }
    }
}

/// A [`RecordOrigin`] reused from record to record: the file's name is copied only when the
/// file changes.
struct OriginBuf {
    origin: RecordOrigin,
    file: Option<Arc<str>>,
}

impl Default for OriginBuf {
    fn default() -> OriginBuf {
        OriginBuf {
            origin: RecordOrigin {
                file: String::new(),
                line: None,
            },
            file: None,
        }
    }
}

impl OriginBuf {
    fn set(&mut self, file: &Arc<str>, line: Option<u64>) -> &RecordOrigin {
        if !self
            .file
            .as_ref()
            .is_some_and(|known| Arc::ptr_eq(known, file))
        {
            self.origin.file.clear();
            self.origin.file.push_str(file);
            self.file = Some(Arc::clone(file));
        }
        self.origin.line = line;
        &self.origin
    }
}

/// What one record of a chunk came to.
struct Entry {
    file: Arc<str>,
    line: Option<u64>,
    outcome: Outcome,
    bytes: u64,
}

/// The outputs of consecutive records, one after another, and what each came to. Chunks are
/// reused: emptied (their outcomes dropped) by the thread that fills them.
struct Chunk {
    sequence: u64,
    /// The worker the chunk goes back to once written.
    owner: usize,
    text: Vec<u8>,
    entries: Vec<Entry>,
}

impl Chunk {
    fn new(owner: usize) -> Chunk {
        Chunk {
            sequence: 0,
            owner,
            text: Vec::new(),
            entries: Vec::new(),
        }
    }

    /// Empties the chunk for the next records; its text is given back if it grew beyond
    /// `keep` bytes.
    fn clear(&mut self, keep: usize) {
        self.entries.clear();
        if self.text.capacity() > keep {
            self.text = Vec::new();
        }
        self.text.clear();
    }

    /// Writes the records' output, then shows `observe` each record's outcome. One write for
    /// the whole chunk: a `BufWriter` passes a chunk larger than its buffer straight on instead
    /// of copying it record by record.
    fn write(
        &self,
        out: &mut dyn Write,
        report: &mut RunReport,
        origin: &mut OriginBuf,
        observe: &mut dyn FnMut(&RecordOrigin, &Outcome, u64),
    ) -> io::Result<()> {
        for entry in &self.entries {
            report.records += 1;
            if matches!(entry.outcome, Outcome::Failed(_)) {
                report.failed += 1;
            }
        }
        out.write_all(&self.text)?;
        for entry in &self.entries {
            observe(
                origin.set(&entry.file, entry.line),
                &entry.outcome,
                entry.bytes,
            );
        }
        Ok(())
    }
}

/// A closed output (a pipe whose reader exited) ends the run quietly; other errors are errors.
fn closed_or(error: io::Error, mut report: RunReport) -> Result<RunReport> {
    if crate::output_closed(&error) {
        report.output_closed = true;
        Ok(report)
    } else {
        Err(anyhow::Error::new(error).context("cannot write the output"))
    }
}

/// Records in a group (see [`process_group`]). 16 measured best on a machine with 64 KiB of
/// L1 instruction cache (50,000 shared-bench bundles, one pinned core, best of seven
/// interleaved runs, the pack: groups of 4, 8, 16 and 32 took 784, 772, 761 and 796 ms;
/// evaluating bundle by bundle, as before rule-major groups, 780 ms).
const GROUP: usize = 16;

/// A group also ends once its records hold this much input ([`Record::weight`]), so that
/// large records are not held many at a time.
const GROUP_BYTES: u64 = 1 << 20;

/// Where a record of a group came from, carried through its stages.
struct Meta {
    file: Arc<str>,
    line: Option<u64>,
    bytes: u64,
}

/// Why a record yields an error record: the message, and the record's `id` when it could be
/// read.
type Failure = (String, Option<serde_json::Value>);

/// An evaluated record: its bundle, its diagnosis and where its evaluation time came from.
type Diagnosed = (Bundle, Diagnosis, AsOfOrigin);

/// What the records of a group have come to, stage by stage: lists reused from group to group
/// (emptied as each stage takes them).
#[derive(Default)]
struct Stages {
    parsed: Vec<(Meta, Result<Bundle, Failure>)>,
    diagnosed: Vec<(Meta, Result<Diagnosed, Failure>)>,
}

/// Parses the records of a group, then evaluates them (rule by rule over the whole group:
/// [`RuleSet::evaluate_group_with_scratch`]), then writes their output and outcomes to
/// `chunk`, in order. One stage at a time over the whole group keeps that stage's code (and
/// the compiled rules, for evaluation) in the processor's caches instead of evicting them
/// record by record: on 2,000 bundles of `../shared/bench` (callgrind, one thread), groups of
/// 32 took the cost model (instructions plus weighted cache misses and mispredicts) of the
/// default pack from 557.7 M to 528 M and of `r1-r8.yaml` from 224.5 M to 203 M, with
/// instruction-cache misses down by a third to two thirds. The text of JSON Lines records is
/// in `input`.
fn process_group(
    cx: &Context,
    records: impl Iterator<Item = Record>,
    input: &str,
    origin: &mut OriginBuf,
    chunk: &mut Chunk,
    scratch: &mut Vec<Scratch>,
    stages: &mut Stages,
) {
    let Stages { parsed, diagnosed } = stages;
    // Left over only if an earlier group panicked part way (a bug, which ends the run).
    parsed.clear();
    diagnosed.clear();
    for record in records {
        let Record {
            file,
            line,
            payload,
            bytes,
        } = record;
        parsed.push((
            Meta { file, line, bytes },
            parse_payload(cx, payload, input),
        ));
    }
    // Every rule over the group's bundles, one rule at a time, each at its evaluation time
    // (read once per bundle: its origin is written with the diagnosis).
    let times: Vec<(Timestamp, AsOfOrigin)> = parsed
        .iter()
        .filter_map(|(_, bundle)| bundle.as_ref().ok())
        .map(|bundle| as_of(cx, bundle))
        .collect();
    let group: Vec<(&Bundle, Timestamp)> = parsed
        .iter()
        .filter_map(|(_, bundle)| bundle.as_ref().ok())
        .zip(&times)
        .map(|(bundle, &(at, _))| (bundle, at))
        .collect();
    let diagnoses = cx.rules.evaluate_group_with_scratch(
        &group,
        &EvaluateOptions {
            explain: cx.options.explain,
        },
        scratch,
    );
    drop(group);
    // One diagnosis and one time per bundle that parsed, in order.
    let mut diagnoses = diagnoses.into_iter().zip(times);
    for (meta, bundle) in parsed.drain(..) {
        diagnosed.push((
            meta,
            bundle.map(|bundle| {
                let (diagnosis, (_, from)) = diagnoses.next().expect("a diagnosis per bundle");
                (bundle, diagnosis, from)
            }),
        ));
    }
    for (meta, result) in diagnosed.drain(..) {
        let outcome = write_record(
            cx,
            result,
            origin.set(&meta.file, meta.line),
            &mut chunk.text,
        );
        chunk.entries.push(Entry {
            file: meta.file,
            line: meta.line,
            outcome,
            bytes: meta.bytes,
        });
    }
}

/// The bundle a record holds, parsed (building only what the rules read) or read from its
/// directory.
fn parse_payload(cx: &Context, payload: Payload, input: &str) -> Result<Bundle, Failure> {
    match payload {
        Payload::Line(range) => parse_record(&input[range], cx.projection),
        Payload::Text(whole) => parse_record(&whole, cx.projection),
        Payload::Dir(path) => input::read_bundle_limited(&path, cx.options.max_input_bytes)
            .map_err(|e| (format!("{e:#}"), None)),
        Payload::Failed(message) => Err((message, None)),
    }
}

/// The time a bundle is evaluated at, from the options or the bundle (else the run's clock),
/// and where it came from.
fn as_of(cx: &Context, bundle: &Bundle) -> (Timestamp, AsOfOrigin) {
    let options = cx.options;
    match (options.as_of, bundle.as_of()) {
        (Some(as_of), _) => (as_of, AsOfOrigin::Flag),
        (None, Some(as_of)) => (as_of, AsOfOrigin::Bundle),
        (None, None) => (options.now, AsOfOrigin::Clock),
    }
}

/// Appends a record's output (its diagnosis, or its error record) to `text`, and says what it
/// came to.
fn write_record(
    cx: &Context,
    result: Result<Diagnosed, Failure>,
    origin: &RecordOrigin,
    text: &mut Vec<u8>,
) -> Outcome {
    let options = cx.options;
    let (bundle, diagnosis, as_of_from) = match result {
        Ok(diagnosed) => diagnosed,
        Err((message, id)) => {
            failed(text, origin, id.as_ref(), &message, options.format);
            return Outcome::Failed(message);
        }
    };
    match options.format {
        RecordFormat::Jsonl => {
            let line = DiagnosedRecord {
                origin,
                report: JsonReport {
                    id: bundle.id(),
                    diagnosis: &diagnosis,
                    as_of_from,
                },
            };
            crate::render::jsonl_diagnosed(text, &line, cx.texts);
            text.push(b'\n');
        }
        RecordFormat::Human(palette) => {
            let _ = crate::render::human(text, &label(origin), &diagnosis, as_of_from, palette);
            text.push(b'\n');
        }
        RecordFormat::Markdown => {
            let _ = crate::render::markdown(text, &label(origin), &diagnosis, as_of_from);
            text.push(b'\n');
        }
        RecordFormat::Nothing => {}
    }
    if options.keep_diagnoses {
        Outcome::Diagnosed(Box::new(diagnosis))
    } else {
        Outcome::Written {
            findings: diagnosis.findings.len(),
            worst: diagnosis.worst(),
        }
    }
}

fn label(origin: &RecordOrigin) -> String {
    match origin.line {
        Some(line) => format!("{}:{line}", origin.file),
        None => origin.file.clone(),
    }
}

/// Parses a bundle's JSON text, building only what the rules read. The projected parse accepts
/// exactly what `Bundle::from_json` (and so `diagnose FILE`) accepts; on a refusal, a JSON
/// syntax error is worded with its column.
/// Parses one record's JSON text as a batch run does, building only what `projection` reads:
/// the bundle, or the message of its error record with the record's `id` when that can still
/// be read (so that the error record joins back to its input). The Python binding parses with
/// this too, so that its error records say what the command line's say.
pub fn parse_record(
    text: &str,
    projection: &Projection,
) -> Result<Bundle, (String, Option<serde_json::Value>)> {
    parse_bundle(text, projection).map_err(|message| (message, id_of(text)))
}

fn parse_bundle(text: &str, projection: &Projection) -> Result<Bundle, String> {
    projection.parse_bundle(text).map_err(|error| {
        match serde_json::from_str::<serde_json::Value>(text) {
            // A record of several lines (a pretty-printed bundle on stdin, a text given to
            // the Python binding): where in it. A JSON Lines record is one line.
            Err(syntax) if syntax.line() > 1 => format!(
                "not valid JSON: {} (line {}, column {})",
                balance_doctor_engine::without_serde_position(&syntax.to_string()),
                syntax.line(),
                syntax.column()
            ),
            Err(syntax) => format!(
                "not valid JSON: {} (column {})",
                balance_doctor_engine::without_serde_position(&syntax.to_string()),
                syntax.column()
            ),
            Ok(_) => error.to_string(),
        }
    })
}

/// The `id` of a record that failed, when its text is still a JSON object with a usable
/// `id`, so that its error record can be joined back to it too.
fn id_of(text: &str) -> Option<serde_json::Value> {
    #[derive(serde::Deserialize)]
    struct IdOnly {
        #[serde(default)]
        id: Option<serde_json::Value>,
    }
    let id = serde_json::from_str::<IdOnly>(text).ok()?.id?;
    (id.is_string() || id.is_number()).then_some(id)
}

/// Appends the error record of a record that failed to `text`.
fn failed(
    text: &mut Vec<u8>,
    origin: &RecordOrigin,
    id: Option<&serde_json::Value>,
    message: &str,
    format: RecordFormat,
) {
    match format {
        RecordFormat::Jsonl => {
            let _ = serde_json::to_writer(
                &mut *text,
                &JsonlRecord::Failed(FailedRecord {
                    origin,
                    id,
                    error: message,
                }),
            );
            text.push(b'\n');
        }
        RecordFormat::Human(_) | RecordFormat::Markdown => {
            text.extend_from_slice(format!("{}\nerror: {message}\n\n", label(origin)).as_bytes());
        }
        RecordFormat::Nothing => {}
    }
}
