//! Batch diagnosis: many inputs, one output record per bundle, in input order, in parallel.
//!
//! Inputs (found by [`crate::discover`]) are bundle files, bundle directories, JSON Lines
//! files (`.jsonl`, `.ndjson`: one bundle per line) and `-` (stdin: JSON Lines, or one
//! pretty-printed bundle, see [`StdinFormat`]). Records are read by one thread in chunks,
//! evaluated by worker threads (each takes whole chunks), and written in order as each chunk
//! completes, so output starts before the input ends. Memory does not grow with the input: a
//! chunk holds at most 256 records, at most `threads + 2` chunks are held at once (read ahead,
//! being evaluated, or finished and waiting to be written), and together they hold at most
//! [`READ_AHEAD_BYTES`] of input (or one larger record per chunk); a record larger than the
//! limit (`--max-input-size`) is skipped without being held. A record that cannot be read or
//! parsed yields an error record in its place: the output has exactly one record per input
//! record. Blank lines in JSON Lines are no record: they are skipped and counted
//! ([`RunReport::blank_lines`]).

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Write};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, sync_channel};

use anyhow::Result;
use balance_doctor_engine::{Bundle, Diagnosis, EvaluateOptions, Projection, RuleSet, Severity};
use jiff::Timestamp;
use serde::Serialize;

pub use crate::discover::Input;
use crate::input::{self, AsOfOrigin, JsonLines, Line};
use crate::render::{DiagnosedRecord, FailedRecord, JsonReport, JsonlRecord, RuleTexts};

/// Input bytes a chunk of records may hold (a chunk always takes at least one record).
pub const CHUNK_BYTES: u64 = 4 << 20;

/// Input bytes all chunks held at once may hold together: with many threads, each chunk holds
/// less (`READ_AHEAD_BYTES / (threads + 2)`, at most [`CHUNK_BYTES`]), so that the read-ahead
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
    Json(String),
    Dir(PathBuf),
    Failed(String),
}

struct Record {
    origin: RecordOrigin,
    payload: Payload,
    /// Input bytes the record took (for progress).
    bytes: u64,
}

/// Reads records from inputs in order.
struct Records<'a> {
    inputs: Box<dyn Iterator<Item = Input> + Send + 'a>,
    lines: Option<(String, JsonLines<Box<dyn BufRead + Send>>)>,
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
            inputs: Box::new(inputs),
            lines: None,
            max_input_bytes: options.max_input_bytes,
            stdin: options.stdin,
            blank_lines,
        }
    }

    fn next_line(&mut self) -> Option<Record> {
        let (file, lines) = self.lines.as_mut()?;
        match lines.next_line() {
            Some(line) => Some(line_record(file, line, self.max_input_bytes)),
            None => {
                self.blank_lines
                    .fetch_add(lines.blank_lines(), Ordering::Relaxed);
                self.lines = None;
                None
            }
        }
    }

    /// Stdin: JSON Lines, or one bundle (see [`StdinFormat`]).
    fn stdin(&mut self) -> Option<Record> {
        let reader: Box<dyn BufRead + Send> =
            Box::new(BufReader::with_capacity(1 << 16, io::stdin()));
        let mut lines = JsonLines::new(reader, self.max_input_bytes);
        let whole = |lines: &mut JsonLines<_>, text: String| {
            let payload = match lines.read_rest(text) {
                Ok(text) => Payload::Json(text),
                Err(message) => Payload::Failed(message),
            };
            let bytes = match &payload {
                Payload::Json(text) => text.len() as u64,
                _ => 0,
            };
            Some(Record {
                origin: origin_of("-"),
                payload,
                bytes,
            })
        };
        match self.stdin {
            StdinFormat::Jsonl => {}
            StdinFormat::Bundle => return whole(&mut lines, String::new()),
            StdinFormat::Auto => match lines.next_line() {
                None => {
                    self.blank_lines
                        .fetch_add(lines.blank_lines(), Ordering::Relaxed);
                    return None;
                }
                Some(Line::Text { text, .. }) if text.trim() == "{" => {
                    return whole(&mut lines, text + "\n");
                }
                Some(first) => {
                    let record = line_record("-", first, self.max_input_bytes);
                    self.lines = Some(("-".to_owned(), lines));
                    return Some(record);
                }
            },
        }
        self.lines = Some(("-".to_owned(), lines));
        None
    }
}

/// The record of one JSON Lines line.
fn line_record(file: &str, line: Line, limit: u64) -> Record {
    let (line, payload, bytes) = match line {
        Line::Text { line, text, bytes } => (line, Payload::Json(text), bytes),
        Line::TooLong { line, bytes } => (
            line,
            Payload::Failed(format!(
                "the line holds {bytes} bytes, more than {}, the most read from one record: it was skipped; split the bundle, or raise the limit with --max-input-size",
                input::format_size(limit)
            )),
            bytes,
        ),
        Line::NotUtf8 { line, bytes } => (
            line,
            Payload::Failed("the line is not valid UTF-8".to_owned()),
            bytes,
        ),
        Line::Failed { line, error } => (
            line,
            Payload::Failed(format!("reading stopped: {error}")),
            0,
        ),
    };
    Record {
        origin: RecordOrigin {
            file: file.to_owned(),
            line: Some(line),
        },
        payload,
        bytes,
    }
}

impl Iterator for Records<'_> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        loop {
            if self.lines.is_some() {
                if let Some(record) = self.next_line() {
                    return Some(record);
                }
                continue;
            }
            let input = self.inputs.next()?;
            let (file, payload) = match input {
                Input::Stdin => {
                    if let Some(record) = self.stdin() {
                        return Some(record);
                    }
                    continue;
                }
                Input::Jsonl(path) => match input::open_regular_file(&path) {
                    Ok(file) => {
                        let reader: Box<dyn BufRead + Send> =
                            Box::new(BufReader::with_capacity(1 << 16, file));
                        self.lines = Some((
                            path.display().to_string(),
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
                        Ok(text) => Payload::Json(text),
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
                Payload::Json(text) => text.len() as u64,
                _ => 0,
            };
            return Some(Record {
                origin: origin_of(&file),
                payload,
                bytes,
            });
        }
    }
}

fn origin_of(file: &str) -> RecordOrigin {
    RecordOrigin {
        file: file.to_owned(),
        line: None,
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
    /// Records per chunk handed to the workers (a chunk also stops at [`CHUNK_BYTES`], or less
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
    let projection = &projection;
    let texts = &RuleTexts::new(rules);
    let mut emit =
        |processed: Processed, out: &mut dyn Write, report: &mut RunReport| -> io::Result<()> {
            report.records += 1;
            if matches!(processed.outcome, Outcome::Failed(_)) {
                report.failed += 1;
            }
            out.write_all(&processed.text)?;
            observe(&processed.origin, &processed.outcome, processed.bytes);
            Ok(())
        };
    if options.threads <= 1 {
        for record in Records::new(inputs, options, blank_lines) {
            let processed = process(rules, projection, texts, record, options);
            if let Err(error) =
                emit(processed, out, &mut report).and_then(|_| flush_if_line(out, options))
            {
                return closed_or(error, report);
            }
        }
        if let Err(error) = out.flush() {
            return closed_or(error, report);
        }
        return Ok(report);
    }
    // One reader thread reads chunks; `threads` workers each take whole chunks and evaluate
    // their records one after another; this thread writes finished chunks in input order.
    // Every thread blocks on a channel when it has nothing to do (none spins), and a chunk is
    // read only with a credit, which comes back once that chunk is written: at most
    // `threads + 2` chunks are held at once (read ahead, being evaluated, or finished and
    // waiting for an earlier one), however long the input.
    let workers = options.threads;
    let in_flight = workers + 2;
    let (credit_sender, credits) = sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        // The channel has room for every credit: this cannot block or fail.
        let _ = credit_sender.send(());
    }
    let (chunk_sender, chunks) = sync_channel::<(u64, Vec<Record>)>(in_flight);
    let chunks = Mutex::new(chunks);
    let (done_sender, done) = channel::<(u64, std::thread::Result<Vec<Processed>>)>();
    let largest = options.chunk.max(1);
    let chunk_bytes = CHUNK_BYTES.min(READ_AHEAD_BYTES / in_flight as u64);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut records = Records::new(inputs, options, blank_lines);
            // Chunks start at one record and double: the first results appear at once even
            // when records trickle in, and large inputs still go in large chunks. A chunk also
            // ends once it holds `chunk_bytes` of input, so that large records do not multiply
            // the memory the read-ahead takes.
            let mut chunk = 1;
            for sequence in 0u64.. {
                // A credit: the chunk read now has a place until it is written. None comes
                // once the writer has stopped.
                if credits.recv().is_err() {
                    break;
                }
                let mut batch: Vec<Record> = Vec::new();
                let mut bytes = 0;
                while batch.len() < chunk && bytes < chunk_bytes {
                    let Some(record) = records.next() else { break };
                    bytes += record.bytes;
                    batch.push(record);
                }
                chunk = (chunk * 2).min(largest);
                if batch.is_empty() || chunk_sender.send((sequence, batch)).is_err() {
                    break;
                }
            }
        });
        for _ in 0..workers {
            let done_sender = done_sender.clone();
            let chunks = &chunks;
            scope.spawn(move || {
                loop {
                    // The lock is held only while waiting for the next chunk, never while
                    // evaluating one. A poisoned lock means another worker panicked: stop.
                    let next = match chunks.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(_) => break,
                    };
                    let Ok((sequence, batch)) = next else { break };
                    // A panic (a bug) goes to the writer, which stops the run and raises it:
                    // otherwise the writer would wait for this chunk for ever.
                    let processed = std::panic::catch_unwind(AssertUnwindSafe(|| {
                        batch
                            .into_iter()
                            .map(|record| process(rules, projection, texts, record, options))
                            .collect::<Vec<Processed>>()
                    }));
                    if done_sender.send((sequence, processed)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_sender);
        // Write finished chunks in order; each written chunk gives its credit back.
        let mut finished: BTreeMap<u64, Vec<Processed>> = BTreeMap::new();
        let mut written = 0u64;
        while let Ok((sequence, processed)) = done.recv() {
            let processed = match processed {
                Ok(processed) => processed,
                Err(panic) => {
                    drop(credit_sender);
                    drop(done);
                    std::panic::resume_unwind(panic);
                }
            };
            finished.insert(sequence, processed);
            while let Some(processed) = finished.remove(&written) {
                let result = processed
                    .into_iter()
                    .try_for_each(|item| emit(item, out, &mut report))
                    .and_then(|()| out.flush());
                if let Err(error) = result {
                    // Stop reading: the reader gets no more credits and ends, the workers
                    // finish the chunks they hold and end when their results have nowhere
                    // to go.
                    drop(credit_sender);
                    drop(done);
                    return closed_or(error, report);
                }
                written += 1;
                // The reader may have ended (all input read): then nobody needs credits.
                let _ = credit_sender.send(());
            }
        }
        Ok(report)
    })
}

/// Streams the first records promptly when reading line by line on one thread.
fn flush_if_line(out: &mut dyn Write, options: &BatchOptions) -> io::Result<()> {
    if options.format == RecordFormat::Jsonl {
        Ok(())
    } else {
        out.flush()
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

struct Processed {
    origin: RecordOrigin,
    text: Vec<u8>,
    outcome: Outcome,
    bytes: u64,
}

fn process(
    rules: &RuleSet,
    projection: &Projection,
    texts: &RuleTexts,
    record: Record,
    options: &BatchOptions,
) -> Processed {
    let bytes = record.bytes;
    let bundle = match record.payload {
        Payload::Json(text) => parse_record(&text, projection),
        Payload::Dir(path) => input::read_bundle_limited(&path, options.max_input_bytes)
            .map_err(|e| (format!("{e:#}"), None)),
        Payload::Failed(message) => Err((message, None)),
    };
    let bundle = match bundle {
        Ok(bundle) => bundle,
        Err((message, id)) => {
            return failed(record.origin, id.as_ref(), &message, options.format, bytes);
        }
    };
    let (as_of, as_of_from) = match (options.as_of, bundle.as_of()) {
        (Some(as_of), _) => (as_of, AsOfOrigin::Flag),
        (None, Some(as_of)) => (as_of, AsOfOrigin::Bundle),
        (None, None) => (options.now, AsOfOrigin::Clock),
    };
    let diagnosis = rules.evaluate_with(
        &bundle,
        as_of,
        &EvaluateOptions {
            explain: options.explain,
        },
    );
    let mut text = Vec::with_capacity(2048);
    match options.format {
        RecordFormat::Jsonl => {
            let line = DiagnosedRecord {
                origin: &record.origin,
                report: JsonReport {
                    id: bundle.id(),
                    diagnosis: &diagnosis,
                    as_of_from,
                },
            };
            crate::render::jsonl_diagnosed(&mut text, &line, texts);
            text.push(b'\n');
        }
        RecordFormat::Human(palette) => {
            let _ = crate::render::human(
                &mut text,
                &label(&record.origin),
                &diagnosis,
                as_of_from,
                palette,
            );
            text.push(b'\n');
        }
        RecordFormat::Markdown => {
            let _ =
                crate::render::markdown(&mut text, &label(&record.origin), &diagnosis, as_of_from);
            text.push(b'\n');
        }
        RecordFormat::Nothing => {}
    }
    Processed {
        origin: record.origin,
        text,
        outcome: if options.keep_diagnoses {
            Outcome::Diagnosed(Box::new(diagnosis))
        } else {
            Outcome::Written {
                findings: diagnosis.findings.len(),
                worst: diagnosis.worst(),
            }
        },
        bytes,
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

fn failed(
    origin: RecordOrigin,
    id: Option<&serde_json::Value>,
    message: &str,
    format: RecordFormat,
    bytes: u64,
) -> Processed {
    let mut text = Vec::new();
    match format {
        RecordFormat::Jsonl => {
            let _ = serde_json::to_writer(
                &mut text,
                &JsonlRecord::Failed(FailedRecord {
                    origin: &origin,
                    id,
                    error: message,
                }),
            );
            text.push(b'\n');
        }
        RecordFormat::Human(_) | RecordFormat::Markdown => {
            text.extend_from_slice(format!("{}\nerror: {message}\n\n", label(&origin)).as_bytes());
        }
        RecordFormat::Nothing => {}
    }
    Processed {
        origin,
        text,
        outcome: Outcome::Failed(message.to_owned()),
        bytes,
    }
}
