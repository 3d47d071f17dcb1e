//! Batch diagnosis: many inputs, one output record per bundle, in input order, in parallel.
//!
//! Inputs are bundle files, bundle directories (a tree of them is searched), JSON Lines files
//! (`.jsonl`, `.ndjson`: one bundle per line) and `-` (JSON Lines on stdin). Records are read by
//! one thread in chunks, evaluated in parallel, and written in order as each chunk completes,
//! so output starts before the input ends and memory does not grow with the input. A record
//! that cannot be read or parsed yields an error record in its place: the output has exactly
//! one record per input record.

use std::collections::{BTreeMap, VecDeque};
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{TryRecvError, sync_channel};

use anyhow::Result;
use balance_doctor_engine::{Bundle, BundleSpec, Diagnosis, EvaluateOptions, Projection, RuleSet};
use jiff::Timestamp;
use rayon::prelude::*;
use serde::Serialize;

use crate::input::{self, AsOfOrigin};

/// One input argument, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// JSON Lines on stdin (`-`).
    Stdin,
    /// A JSON Lines file.
    Jsonl(PathBuf),
    /// A single-bundle JSON file.
    BundleFile(PathBuf),
    /// A bundle directory.
    BundleDir(PathBuf),
    /// An argument that names nothing usable; it becomes one error record.
    Unusable(PathBuf, String),
}

/// Where a record came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordOrigin {
    /// The file or directory (`-` for stdin).
    pub file: String,
    /// The 1-based line, for JSON Lines input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

/// Input bytes of the files among `inputs`, when every input is a file (so that progress
/// can show a share and an estimate of the time left).
pub fn total_bytes(inputs: &[Input]) -> Option<u64> {
    inputs
        .iter()
        .map(|input| match input {
            Input::Jsonl(path) | Input::BundleFile(path) => {
                fs::metadata(path).ok().map(|m| m.len())
            }
            Input::Unusable(..) => Some(0),
            Input::Stdin | Input::BundleDir(_) => None,
        })
        .sum()
}

/// Classifies arguments: `-`, `.jsonl`/`.ndjson` files, other files, bundle directories, and
/// directory trees (searched for bundle directories, in name order).
pub fn expand_inputs(arguments: &[PathBuf]) -> Vec<Input> {
    let mut inputs = Vec::new();
    for argument in arguments {
        if argument.as_os_str() == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        match fs::metadata(argument) {
            Err(error) => inputs.push(Input::Unusable(
                argument.clone(),
                format!("cannot read {}: {error}", argument.display()),
            )),
            Ok(meta) if meta.is_dir() => {
                let before = inputs.len();
                find_bundle_dirs(argument, &mut inputs);
                if inputs.len() == before {
                    inputs.push(Input::Unusable(
                        argument.clone(),
                        format!(
                            "{} holds no bundle: no `<document>.json` file in it or below it; capture at least one response, such as item_get.json",
                            argument.display()
                        ),
                    ));
                }
            }
            Ok(_) => {
                let extension = argument
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or_default();
                if matches!(extension, "jsonl" | "ndjson") {
                    inputs.push(Input::Jsonl(argument.clone()));
                } else {
                    inputs.push(Input::BundleFile(argument.clone()));
                }
            }
        }
    }
    inputs
}

/// A directory holding `*.json` files is a bundle; any other directory is searched.
fn find_bundle_dirs(dir: &Path, inputs: &mut Vec<Input>) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            inputs.push(Input::Unusable(
                dir.to_path_buf(),
                format!("cannot list {}: {error}", dir.display()),
            ));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let is_bundle = paths.iter().any(|p| {
        p.is_file()
            && (p.extension().is_some_and(|e| e == "json")
                || p.file_name()
                    .is_some_and(|n| n == "bundle.yaml" || n == "bundle.yml"))
    });
    if is_bundle {
        inputs.push(Input::BundleDir(dir.to_path_buf()));
        return;
    }
    for path in paths {
        if path.is_dir() {
            find_bundle_dirs(&path, inputs);
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
struct Records {
    inputs: VecDeque<Input>,
    lines: Option<(RecordOrigin, Box<dyn BufRead + Send>)>,
}

impl Records {
    fn new(inputs: Vec<Input>) -> Records {
        Records {
            inputs: inputs.into(),
            lines: None,
        }
    }

    /// Bytes consumed so far are not tracked; records are.
    fn next_line(&mut self) -> Option<Record> {
        let (origin, reader) = self.lines.as_mut()?;
        let mut buffer = Vec::new();
        origin.line = Some(origin.line.unwrap_or(0) + 1);
        let at = origin.clone();
        match reader.read_until(b'\n', &mut buffer) {
            Ok(0) => {
                self.lines = None;
                None
            }
            Ok(read) => {
                let bytes = read as u64;
                while buffer.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    buffer.pop();
                }
                let payload = match String::from_utf8(buffer) {
                    Ok(text) if text.trim().is_empty() => Payload::Failed(
                        "empty line: each line must hold one bundle as a JSON object".to_owned(),
                    ),
                    Ok(text) => Payload::Json(text),
                    Err(_) => Payload::Failed("the line is not valid UTF-8".to_owned()),
                };
                Some(Record {
                    origin: at,
                    payload,
                    bytes,
                })
            }
            Err(error) => {
                self.lines = None;
                Some(Record {
                    origin: at,
                    payload: Payload::Failed(format!("reading stopped: {error}")),
                    bytes: 0,
                })
            }
        }
    }
}

impl Iterator for Records {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        loop {
            if self.lines.is_some() {
                if let Some(record) = self.next_line() {
                    return Some(record);
                }
                continue;
            }
            let input = self.inputs.pop_front()?;
            let (file, payload) = match input {
                Input::Stdin => {
                    let reader: Box<dyn BufRead + Send> =
                        Box::new(BufReader::with_capacity(1 << 16, io::stdin()));
                    self.lines = Some((origin_of("-"), reader));
                    continue;
                }
                Input::Jsonl(path) => match File::open(&path) {
                    Ok(file) => {
                        let reader: Box<dyn BufRead + Send> =
                            Box::new(BufReader::with_capacity(1 << 16, file));
                        self.lines = Some((origin_of(&path.display().to_string()), reader));
                        continue;
                    }
                    Err(error) => (
                        path.display().to_string(),
                        Payload::Failed(format!("cannot read {}: {error}", path.display())),
                    ),
                },
                Input::BundleFile(path) => {
                    let mut text = String::new();
                    let payload =
                        match File::open(&path).and_then(|mut f| f.read_to_string(&mut text)) {
                            Ok(_) => Payload::Json(text),
                            Err(error) => {
                                Payload::Failed(format!("cannot read {}: {error}", path.display()))
                            }
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

/// How a run renders each record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// Records per chunk handed to the workers.
    pub chunk: usize,
    /// How each record is written.
    pub format: RecordFormat,
}

/// What one record came to, for the summary.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The record could not be read, parsed or validated.
    Failed,
    /// The record was diagnosed.
    Diagnosed(Box<Diagnosis>),
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
}

#[derive(Serialize)]
struct DiagnosedRecord<'a> {
    origin: &'a RecordOrigin,
    #[serde(flatten)]
    diagnosis: &'a Diagnosis,
    as_of_from: AsOfOrigin,
}

#[derive(Serialize)]
struct FailedRecord<'a> {
    origin: &'a RecordOrigin,
    error: &'a str,
}

/// Reads, evaluates and writes every record of `inputs`; `observe` sees each outcome in
/// order (for a summary or a progress bar).
pub fn run(
    rules: &RuleSet,
    inputs: Vec<Input>,
    out: &mut dyn Write,
    options: &BatchOptions,
    observe: &mut dyn FnMut(&RecordOrigin, &Outcome, u64),
) -> Result<RunReport> {
    let mut report = RunReport::default();
    let projection = rules.projection();
    let projection = &projection;
    let mut emit =
        |processed: Processed, out: &mut dyn Write, report: &mut RunReport| -> io::Result<()> {
            report.records += 1;
            if matches!(processed.outcome, Outcome::Failed) {
                report.failed += 1;
            }
            out.write_all(&processed.text)?;
            observe(&processed.origin, &processed.outcome, processed.bytes);
            Ok(())
        };
    if options.threads <= 1 {
        for record in Records::new(inputs) {
            let processed = process(rules, projection, record, options);
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
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .build()?;
    let (sender, receiver) = sync_channel::<Vec<Record>>(2);
    let largest = options.chunk.max(1);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut records = Records::new(inputs);
            // Chunks start at one record and double: the first results appear at once even
            // when records trickle in, and large inputs still go in large chunks.
            let mut chunk = 1;
            loop {
                let batch: Vec<Record> = records.by_ref().take(chunk).collect();
                chunk = (chunk * 2).min(largest);
                if batch.is_empty() || sender.send(batch).is_err() {
                    break;
                }
            }
        });
        // Up to two chunks are evaluated on the pool while this thread writes the finished
        // ones in order, so workers do not wait for the output.
        let (done_sender, done_receiver) = std::sync::mpsc::channel::<(u64, Vec<Processed>)>();
        let mut finished: BTreeMap<u64, Vec<Processed>> = BTreeMap::new();
        let (mut submitted, mut written) = (0u64, 0u64);
        pool.in_place_scope(|work| {
            let mut write_next = |finished: &mut BTreeMap<u64, Vec<Processed>>,
                                  written: &mut u64,
                                  report: &mut RunReport|
             -> io::Result<()> {
                while let Some(processed) = finished.remove(written) {
                    for item in processed {
                        emit(item, out, report)?;
                    }
                    out.flush()?;
                    *written += 1;
                }
                Ok(())
            };
            let mut reading = true;
            loop {
                // Write what has finished, in order.
                while let Ok((sequence, processed)) = done_receiver.try_recv() {
                    finished.insert(sequence, processed);
                }
                if let Err(error) = write_next(&mut finished, &mut written, &mut report) {
                    // Stop reading; the chunks in flight finish and are dropped.
                    drop(receiver);
                    return closed_or(error, report);
                }
                if !reading && submitted == written {
                    return Ok(report);
                }
                let in_flight = submitted - written;
                let next = if !reading || in_flight >= 2 {
                    None
                } else if in_flight == 0 {
                    // Nothing to write: wait for input.
                    Some(receiver.recv().map_err(|_| TryRecvError::Disconnected))
                } else {
                    Some(receiver.try_recv())
                };
                match next {
                    Some(Ok(batch)) => {
                        let done = done_sender.clone();
                        let sequence = submitted;
                        work.spawn(move |_| {
                            let processed = batch
                                .into_par_iter()
                                .map(|record| process(rules, projection, record, options))
                                .collect();
                            let _ = done.send((sequence, processed));
                        });
                        submitted += 1;
                    }
                    Some(Err(TryRecvError::Disconnected)) => reading = false,
                    // Input not ready or enough in flight: wait a little for a result.
                    Some(Err(TryRecvError::Empty)) | None => {
                        if in_flight > 0 {
                            if let Ok((sequence, processed)) =
                                done_receiver.recv_timeout(std::time::Duration::from_millis(2))
                            {
                                finished.insert(sequence, processed);
                            }
                        }
                    }
                }
            }
        })
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
    record: Record,
    options: &BatchOptions,
) -> Processed {
    let bytes = record.bytes;
    let bundle = match record.payload {
        Payload::Json(text) => parse_bundle(&text, projection),
        Payload::Dir(path) => input::read_bundle(&path).map_err(|e| format!("{e:#}")),
        Payload::Failed(message) => Err(message),
    };
    let bundle = match bundle {
        Ok(bundle) => bundle,
        Err(message) => return failed(record.origin, &message, options.format, bytes),
    };
    let (as_of, as_of_from) = match (options.as_of, bundle.as_of) {
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
                diagnosis: &diagnosis,
                as_of_from,
            };
            // Serializing plain data into memory cannot fail.
            let _ = serde_json::to_writer(&mut text, &line);
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
        outcome: Outcome::Diagnosed(Box::new(diagnosis)),
        bytes,
    }
}

fn label(origin: &RecordOrigin) -> String {
    match origin.line {
        Some(line) => format!("{}:{line}", origin.file),
        None => origin.file.clone(),
    }
}

/// Parses a bundle's JSON text: first building only what the rules read, then, if that
/// fails, fully, for a message that says where the problem is.
fn parse_bundle(text: &str, projection: &Projection) -> Result<Bundle, String> {
    if let Ok(bundle) = projection.parse_bundle(text) {
        return Ok(bundle);
    }
    if let Ok(spec) = serde_json::from_str::<BundleSpec>(text) {
        return Bundle::from_spec(spec).map_err(|e| e.to_string());
    }
    if let Err(error) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
        return Err(format!(
            "not valid JSON: {} (column {})",
            balance_doctor_engine::without_serde_position(&error.to_string()),
            error.column()
        ));
    }
    match Bundle::from_json(text) {
        Ok(bundle) => Ok(bundle),
        Err(error) => Err(error.to_string()),
    }
}

fn failed(origin: RecordOrigin, message: &str, format: RecordFormat, bytes: u64) -> Processed {
    let mut text = Vec::new();
    match format {
        RecordFormat::Jsonl => {
            let _ = serde_json::to_writer(
                &mut text,
                &FailedRecord {
                    origin: &origin,
                    error: message,
                },
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
        outcome: Outcome::Failed,
        bytes,
    }
}
