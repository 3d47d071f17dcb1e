//! Rendering a diagnosis for people (human, Markdown) and programs (JSON).
//!
//! The JSON outputs are contracts, each published as a JSON Schema generated from the types
//! below (`balance-doctor schema diagnosis|record|summary`, committed under `schemas/`):
//!
//! - `diagnose --format json`: a [`JsonReport`], the diagnosis plus `as_of_from`;
//! - `diagnose --format jsonl`: one [`JsonlRecord`] per line, a diagnosed record (the same
//!   object plus `origin`) or an error record (`origin` and `error`);
//! - `--summary-format json`: a [`crate::summary::SummaryReport`];
//! - `rules test --format json`: a [`crate::testing::TestReport`].

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use balance_doctor_engine::{ConditionTrace, Diagnosis, RuleOutcome, Severity};
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::Serialize;

use crate::batch::RecordOrigin;
use crate::input::AsOfOrigin;

mod json_text;

/// What `diagnose --format json` prints for one bundle.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "Diagnosis")]
pub struct JsonReport<'a> {
    /// The bundle's `id`, copied unchanged, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "id_schema")]
    pub id: Option<&'a serde_json::Value>,
    /// The diagnosis.
    #[serde(flatten)]
    pub diagnosis: &'a Diagnosis,
    /// Where `as_of` came from: `flag` (`--as-of`), `bundle` (its `as_of`) or `clock`.
    pub as_of_from: AsOfOrigin,
}

/// One line of `diagnose --format jsonl`: a diagnosis, or an error in its place.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
#[schemars(title = "Record")]
#[non_exhaustive]
pub enum JsonlRecord<'a> {
    /// A bundle that was diagnosed.
    Diagnosed(DiagnosedRecord<'a>),
    /// An input record that could not be read, parsed or validated.
    Failed(FailedRecord<'a>),
}

impl std::fmt::Display for JsonlRecord<'_> {
    /// Where the record came from and what it came to: `file:line: diagnosed: <n> finding(s)`,
    /// or `file:line: <error>`. The record itself is its JSON (`serde_json::to_string`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JsonlRecord::Diagnosed(record) => match record.report.diagnosis.findings.len() {
                1 => write!(f, "{}: diagnosed: 1 finding", record.origin),
                count => write!(f, "{}: diagnosed: {count} findings", record.origin),
            },
            JsonlRecord::Failed(record) => write!(f, "{}: {}", record.origin, record.error),
        }
    }
}

/// A diagnosed record: the diagnosis, where it came from and where its `as_of` came from.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DiagnosedRecord<'a> {
    /// The input file and line the bundle was read from.
    pub origin: &'a RecordOrigin,
    /// The diagnosis, with `as_of_from`.
    #[serde(flatten)]
    pub report: JsonReport<'a>,
}

/// An error record, in place of the diagnosis of an input record that failed.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FailedRecord<'a> {
    /// The input file and line the record was read from.
    pub origin: &'a RecordOrigin,
    /// The input's `id`, when it could still be read from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "id_schema")]
    pub id: Option<&'a serde_json::Value>,
    /// What went wrong, and what to do.
    pub error: &'a str,
}

fn id_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "The bundle's `id` (a string or a number), copied unchanged.",
        "type": ["string", "number"]
    })
}

/// The outputs that have a published JSON Schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutputSchema {
    /// `diagnose --format json`.
    Diagnosis,
    /// One line of `diagnose --format jsonl`.
    Record,
    /// `diagnose --summary --summary-format json`.
    Summary,
    /// `rules test --format json`.
    TestReport,
}

impl std::fmt::Display for OutputSchema {
    /// The name `balance-doctor schema` takes for it (`diagnosis`, `record`, `summary`,
    /// `test-report`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            OutputSchema::Diagnosis => "diagnosis",
            OutputSchema::Record => "record",
            OutputSchema::Summary => "summary",
            OutputSchema::TestReport => "test-report",
        })
    }
}

/// The pretty-printed JSON Schema (draft-07) of an output, ending with a newline. Outputs are
/// described as they are written: a field left out when empty is not required.
pub fn output_schema(kind: OutputSchema) -> String {
    let generator = SchemaSettings::draft07().for_serialize().into_generator();
    let schema = match kind {
        OutputSchema::Diagnosis => generator.into_root_schema_for::<JsonReport<'static>>(),
        OutputSchema::Record => generator.into_root_schema_for::<JsonlRecord<'static>>(),
        OutputSchema::Summary => generator.into_root_schema_for::<crate::summary::SummaryReport>(),
        OutputSchema::TestReport => generator.into_root_schema_for::<crate::testing::TestReport>(),
    };
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// One JSON object: the diagnosis plus where its `as_of` came from.
pub fn json(
    out: &mut impl Write,
    id: Option<&serde_json::Value>,
    diagnosis: &Diagnosis,
    as_of_from: AsOfOrigin,
) -> io::Result<()> {
    let report = JsonReport {
        id,
        diagnosis,
        as_of_from,
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}

fn as_of_note(from: AsOfOrigin) -> &'static str {
    match from {
        AsOfOrigin::Flag => "from --as-of",
        AsOfOrigin::Bundle => "from the bundle",
        AsOfOrigin::Clock => "the current time: the bundle has no as_of and no --as-of was given",
    }
}

/// Styles for the human report; plain text when colour is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    error: Style,
    warning: Style,
    info: Style,
    strong: Style,
    dim: Style,
}

impl Palette {
    /// Colours for a terminal.
    pub fn colored() -> Palette {
        Palette {
            error: AnsiColor::Red.on_default().bold(),
            warning: AnsiColor::Yellow.on_default().bold(),
            info: AnsiColor::Cyan.on_default().bold(),
            strong: Style::new().bold(),
            dim: Style::new().dimmed(),
        }
    }

    /// No styling at all.
    pub fn plain() -> Palette {
        Palette {
            error: Style::new(),
            warning: Style::new(),
            info: Style::new(),
            strong: Style::new(),
            dim: Style::new(),
        }
    }

    fn severity(&self, severity: Severity) -> Style {
        match severity {
            Severity::Error => self.error,
            Severity::Warning => self.warning,
            // Severities added later read as information until they get a colour.
            _ => self.info,
        }
    }
}

/// A readable report.
pub fn human(
    out: &mut impl Write,
    label: &str,
    diagnosis: &Diagnosis,
    as_of_from: AsOfOrigin,
    palette: Palette,
) -> io::Result<()> {
    let Palette { strong, dim, .. } = palette;
    writeln!(out, "{strong}{}{strong:#}", safe(label))?;
    writeln!(
        out,
        "as of {} ({})",
        diagnosis.as_of,
        as_of_note(as_of_from)
    )?;
    if !diagnosis.labels.is_empty() {
        let labels: Vec<String> = diagnosis
            .labels
            .iter()
            .map(|(name, value)| format!("{name} {}", safe(&plain(value))))
            .collect();
        writeln!(out, "{dim}{}{dim:#}", labels.join(", "))?;
    }
    for finding in &diagnosis.findings {
        let style = palette.severity(finding.severity);
        writeln!(out)?;
        writeln!(
            out,
            "{style}{:<7}{style:#} {strong}{}{strong:#}  {dim}[{}, confidence {}{}]{dim:#}",
            finding.severity.as_str(),
            safe(&finding.title),
            finding.rule,
            finding.confidence.as_str(),
            if finding.rule_file == crate::DEFAULT_RULES_NAME {
                String::new()
            } else {
                format!(", from {}", finding.rule_file)
            }
        )?;
        writeln!(out, "  {}", safe(&finding.message))?;
        if !finding.evidence.is_empty() {
            writeln!(out, "  evidence:")?;
            for evidence in &finding.evidence {
                writeln!(
                    out,
                    "    {dim}{} {}{dim:#} = {}",
                    safe(&evidence.document),
                    safe(&evidence.path),
                    safe(&evidence.value.to_string())
                )?;
            }
            if finding.omitted_evidence > 0 {
                writeln!(out, "    ... and {} more", finding.omitted_evidence)?;
            }
        }
        if !finding.remediation.is_empty() {
            writeln!(out, "  what to do:")?;
            for step in finding.remediation.iter() {
                writeln!(out, "    - {step}")?;
            }
        }
        if !finding.references.is_empty() {
            writeln!(out, "  references:")?;
            for reference in finding.references.iter() {
                writeln!(out, "    {reference}")?;
            }
        }
    }
    if !diagnosis.not_evaluated.is_empty() {
        writeln!(out)?;
        writeln!(out, "not evaluated (capture more to check these):")?;
        for rule in &diagnosis.not_evaluated {
            let needs: Vec<String> = rule
                .missing
                .iter()
                .map(|m| format!("{}: {dim}{}{dim:#}", m.name, m.how_to_get))
                .collect();
            writeln!(out, "  {} needs {}", rule.rule, needs.join("; and "))?;
        }
    }
    let documents = diagnosis
        .unread_documents
        .iter()
        .map(|d| (d.name.as_str(), d.did_you_mean.as_deref()));
    human_unread(out, "documents no rule reads:", documents)?;
    let keys = diagnosis
        .unread_context_keys
        .iter()
        .map(|k| (k.name.as_str(), k.did_you_mean.as_deref()));
    human_unread(out, "context keys no rule reads:", keys)?;
    if let Some(traces) = &diagnosis.explain {
        writeln!(out)?;
        writeln!(out, "explanation:")?;
        for trace in traces {
            writeln!(
                out,
                "  {strong}{}{strong:#} ({})",
                trace.rule,
                outcome(trace.outcome)
            )?;
            for missing in &trace.missing {
                writeln!(out, "    missing {}: {}", missing.name, missing.how_to_get)?;
            }
            if let Some(by) = &trace.superseded_by {
                writeln!(out, "    stood down: {}", stood_down(traces, by))?;
            }
            if let Some(condition) = &trace.condition {
                write_trace(out, condition, 2)?;
            }
        }
    }
    writeln!(out)?;
    writeln!(out, "{}", summary(diagnosis))
}

/// Text from captured data made safe for a terminal: control characters (escape sequences,
/// new lines) are shown escaped instead of acting.
fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(acts) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if acts(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Characters a terminal acts on instead of showing: C0 and C1 controls (ESC, CSI `U+009B`,
/// NEL `U+0085`), bidirectional controls (`U+202E` reverses what follows) and line and
/// paragraph separators (`U+2028`, `U+2029`).
fn acts(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn plain(value: &serde_json::Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

/// Why a rule stood down: the rule `by` that supersedes it fired, or holds though it stood
/// down itself (for the rule its own trace names).
fn stood_down(traces: &[balance_doctor_engine::RuleTrace], by: &str) -> String {
    match traces.iter().find(|trace| trace.rule == by) {
        Some(trace) if trace.outcome == RuleOutcome::Superseded => match &trace.superseded_by {
            Some(first) => {
                format!("{by} holds and supersedes it (it stood down itself, for {first})")
            }
            None => format!("{by} holds and supersedes it"),
        },
        _ => format!("{by} fired and supersedes it"),
    }
}

fn outcome(outcome: RuleOutcome) -> &'static str {
    match outcome {
        RuleOutcome::Fired => "fired",
        RuleOutcome::Silent => "silent",
        RuleOutcome::NotEvaluated => "not evaluated",
        RuleOutcome::Disabled => "disabled",
        RuleOutcome::Superseded => "superseded",
        other => other.as_str(),
    }
}

fn summary(diagnosis: &Diagnosis) -> String {
    let count = |severity| {
        diagnosis
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    };
    format!(
        "{} finding(s): {} error, {} warning, {} info; {} rule(s) not evaluated",
        diagnosis.findings.len(),
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
        diagnosis.not_evaluated.len()
    )
}

/// A Markdown report to paste into a support ticket.
pub fn markdown(
    out: &mut impl Write,
    label: &str,
    diagnosis: &Diagnosis,
    as_of_from: AsOfOrigin,
) -> io::Result<()> {
    writeln!(out, "## balance-doctor: {}", md_text(label))?;
    writeln!(out)?;
    writeln!(
        out,
        "Evaluated as of **{}** ({}). {}.",
        diagnosis.as_of,
        as_of_note(as_of_from),
        summary(diagnosis)
    )?;
    if diagnosis.findings.is_empty() {
        writeln!(out)?;
        writeln!(out, "No cause found in the captured responses.")?;
    }
    for finding in &diagnosis.findings {
        writeln!(out)?;
        writeln!(
            out,
            "### {}: {} (`{}`)",
            finding.severity.as_str(),
            md_text(&finding.title),
            finding.rule
        )?;
        writeln!(out)?;
        writeln!(out, "{}", md_text(&finding.message))?;
        writeln!(out)?;
        writeln!(out, "Confidence: {}.", finding.confidence.as_str())?;
        if !finding.evidence.is_empty() {
            writeln!(out)?;
            writeln!(out, "| document | path | value |")?;
            writeln!(out, "| --- | --- | --- |")?;
            for evidence in &finding.evidence {
                writeln!(
                    out,
                    "| {} | {} | {} |",
                    md_cell(&evidence.document),
                    md_code_cell(&evidence.path),
                    md_code_cell(&evidence.value.to_string())
                )?;
            }
        }
        if !finding.remediation.is_empty() {
            writeln!(out)?;
            writeln!(out, "**What to do**")?;
            writeln!(out)?;
            for step in finding.remediation.iter() {
                writeln!(out, "- {}", md_text(step))?;
            }
        }
        if !finding.references.is_empty() {
            writeln!(out)?;
            let links: Vec<String> = finding
                .references
                .iter()
                .map(|r| format!("<{r}>"))
                .collect();
            writeln!(out, "References: {}", links.join(", "))?;
        }
    }
    if !diagnosis.not_evaluated.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Not evaluated")?;
        writeln!(out)?;
        writeln!(out, "| rule | needs | how to get |")?;
        writeln!(out, "| --- | --- | --- |")?;
        for rule in &diagnosis.not_evaluated {
            for missing in &rule.missing {
                writeln!(
                    out,
                    "| `{}` | {} | {} |",
                    rule.rule,
                    md_code_cell(&missing.name),
                    md_cell(&missing.how_to_get)
                )?;
            }
        }
    }
    if let Some(traces) = &diagnosis.explain {
        writeln!(out)?;
        writeln!(out, "### Explanation")?;
        writeln!(out)?;
        writeln!(out, "```text")?;
        for trace in traces {
            writeln!(out, "{} ({})", trace.rule, outcome(trace.outcome))?;
            for missing in &trace.missing {
                writeln!(out, "  missing {}: {}", missing.name, missing.how_to_get)?;
            }
            if let Some(by) = &trace.superseded_by {
                writeln!(out, "  stood down: {}", stood_down(traces, by))?;
            }
            if let Some(condition) = &trace.condition {
                write_trace(out, condition, 1)?;
            }
        }
        writeln!(out, "```")?;
    }
    Ok(())
}

/// Text safe to place in Markdown prose: characters that would start markup are escaped.
fn md_text(text: &str) -> String {
    let text = safe(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '<' | '>' | '[' | ']' | '|' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Text for a table cell inside a code span: pipes escaped, control characters escaped, and
/// a code span long enough for any backticks inside.
fn md_code_cell(text: &str) -> String {
    let text = safe(text).replace('|', "\\|");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Text for a plain table cell: markup escaped.
fn md_cell(text: &str) -> String {
    md_text(text)
}

fn write_trace(out: &mut impl Write, trace: &ConditionTrace, depth: usize) -> io::Result<()> {
    let indent = "  ".repeat(depth);
    let mark = if trace.result { "yes" } else { "no " };
    write!(out, "{indent}{mark} {}", trace.test)?;
    if let Some(note) = &trace.note {
        write!(out, "  ({note})")?;
    }
    writeln!(out)?;
    for seen in &trace.seen {
        writeln!(
            out,
            "{indent}      saw {} {} = {}",
            safe(&seen.document),
            safe(&seen.path),
            safe(&seen.value.to_string())
        )?;
    }
    for child in &trace.children {
        write_trace(out, child, depth + 1)?;
    }
    Ok(())
}

/// The JSON text of what every finding (and every `not_evaluated` entry) of a rule repeats:
/// its file, title, remediation and references, escaped once per run instead of once per
/// finding. A text that differs from its rule's is escaped as it is.
pub struct RuleTexts {
    by_rule: foldhash::HashMap<String, RuleText>,
}

struct RuleText {
    /// The rule id's JSON (found by the id, so it is the id's).
    id: Vec<u8>,
    file: Known<String>,
    title: Known<String>,
    remediation: KnownList,
    references: KnownList,
}

/// A list of texts that findings share with their rule (`Arc<[String]>`) and its JSON.
struct KnownList {
    known: Known<Vec<String>>,
    /// The first list that was found equal to `known`, kept alive: a finding's list that is
    /// this one (the same allocation, which cannot have changed) is known without comparing
    /// its texts, as every finding's list of the rule set is.
    shared: std::sync::OnceLock<std::sync::Arc<[String]>>,
}

impl KnownList {
    fn new(value: Vec<String>) -> KnownList {
        KnownList {
            known: Known::new(value, json_text::strings),
            shared: std::sync::OnceLock::new(),
        }
    }

    /// Writes `list`: this JSON when it is this list, else `list` written afresh.
    fn write(known: Option<&KnownList>, out: &mut Vec<u8>, list: &std::sync::Arc<[String]>) {
        match known {
            Some(known)
                if known
                    .shared
                    .get()
                    .is_some_and(|shared| std::sync::Arc::ptr_eq(shared, list)) =>
            {
                out.extend_from_slice(&known.known.json);
            }
            Some(known) if *known.known.value == **list => {
                // Only the first list found equal is kept; any other is compared each time.
                let _ = known.shared.set(std::sync::Arc::clone(list));
                out.extend_from_slice(&known.known.json);
            }
            _ => json_text::strings(out, list),
        }
    }
}

/// A text and its JSON.
struct Known<T> {
    value: T,
    json: Vec<u8>,
}

impl<T: std::ops::Deref<Target: PartialEq>> Known<T> {
    fn new(value: T, write: fn(&mut Vec<u8>, &T::Target)) -> Known<T> {
        let mut json = Vec::new();
        write(&mut json, &value);
        Known { value, json }
    }

    /// Writes `value`: this JSON when it is this text, else `value` written afresh.
    fn write(
        known: Option<&Known<T>>,
        out: &mut Vec<u8>,
        value: &T::Target,
        write: fn(&mut Vec<u8>, &T::Target),
    ) {
        match known {
            Some(known) if *known.value == *value => out.extend_from_slice(&known.json),
            _ => write(out, value),
        }
    }
}

impl RuleTexts {
    /// The texts of every rule of `rules`.
    pub fn new(rules: &balance_doctor_engine::RuleSet) -> RuleTexts {
        let by_rule = rules
            .rules()
            .map(|rule| {
                let mut id = Vec::new();
                json_text::string(&mut id, &rule.id);
                let text = RuleText {
                    id,
                    file: Known::new(rule.file, json_text::string),
                    title: Known::new(rule.title, json_text::string),
                    remediation: KnownList::new(rule.remediation),
                    references: KnownList::new(rule.references),
                };
                (rule.id, text)
            })
            .collect();
        RuleTexts { by_rule }
    }
}

/// Writes one `diagnose --format jsonl` line for a diagnosed bundle (without its newline):
/// the text `serde_json::to_writer` writes for [`JsonlRecord::Diagnosed`], written field by
/// field, with each rule's repeated texts from `texts` (`tests/jsonl_text.rs` compares the
/// two on every fixture).
pub fn jsonl_diagnosed(out: &mut Vec<u8>, record: &DiagnosedRecord<'_>, texts: &RuleTexts) {
    // Every struct is taken apart whole, so that a field added to one fails to compile here
    // until it is written.
    let DiagnosedRecord { origin, report } = record;
    let JsonReport {
        id,
        diagnosis,
        as_of_from,
    } = report;
    let Diagnosis {
        version,
        as_of,
        labels,
        findings,
        not_evaluated,
        unread_documents,
        unread_context_keys,
        explain,
    } = diagnosis;
    let RecordOrigin { file, line } = origin;
    out.extend_from_slice(br#"{"origin":{"file":"#);
    json_text::string(out, file);
    if let Some(line) = line {
        out.extend_from_slice(br#","line":"#);
        json_text::integer(out, *line);
    }
    out.push(b'}');
    if let Some(id) = id {
        out.extend_from_slice(br#","id":"#);
        json_text::value(out, id);
    }
    out.extend_from_slice(br#","version":"#);
    json_text::integer(out, u64::from(*version));
    out.extend_from_slice(br#","as_of":"#);
    json_text::display_string(out, as_of);
    if !labels.is_empty() {
        out.extend_from_slice(br#","labels":{"#);
        for (index, (name, value)) in labels.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            json_text::string(out, name);
            out.push(b':');
            json_text::value(out, value);
        }
        out.push(b'}');
    }
    out.extend_from_slice(br#","findings":"#);
    json_text::list(out, findings, |out, finding| {
        jsonl_finding(out, finding, texts);
    });
    out.extend_from_slice(br#","not_evaluated":"#);
    json_text::list(out, not_evaluated, |out, entry| {
        jsonl_not_evaluated(out, entry, texts);
    });
    if !unread_documents.is_empty() {
        out.extend_from_slice(br#","unread_documents":"#);
        json_text::list(out, unread_documents, |out, document| {
            jsonl_unread(out, &document.name, document.did_you_mean.as_deref());
        });
    }
    if !unread_context_keys.is_empty() {
        out.extend_from_slice(br#","unread_context_keys":"#);
        json_text::list(out, unread_context_keys, |out, key| {
            jsonl_unread(out, &key.name, key.did_you_mean.as_deref());
        });
    }
    if let Some(explain) = explain {
        out.extend_from_slice(br#","explain":"#);
        json_text::list(out, explain, jsonl_rule_trace);
    }
    out.extend_from_slice(br#","as_of_from":"#);
    json_text::name(out, as_of_from.as_str());
    out.push(b'}');
}

fn jsonl_finding(out: &mut Vec<u8>, finding: &balance_doctor_engine::Finding, texts: &RuleTexts) {
    let balance_doctor_engine::Finding {
        rule,
        rule_file,
        severity,
        confidence,
        title,
        message,
        evidence,
        omitted_evidence,
        remediation,
        references,
    } = finding;
    let text = texts.by_rule.get(rule);
    out.extend_from_slice(br#"{"rule":"#);
    rule_id(out, rule, text);
    out.extend_from_slice(br#","rule_file":"#);
    Known::write(text.map(|t| &t.file), out, rule_file, json_text::string);
    out.extend_from_slice(br#","severity":"#);
    json_text::name(out, severity.as_str());
    out.extend_from_slice(br#","confidence":"#);
    json_text::name(out, confidence.as_str());
    out.extend_from_slice(br#","title":"#);
    Known::write(text.map(|t| &t.title), out, title, json_text::string);
    out.extend_from_slice(br#","message":"#);
    json_text::string(out, message);
    out.extend_from_slice(br#","evidence":"#);
    json_text::list(out, evidence, jsonl_evidence);
    if *omitted_evidence != 0 {
        out.extend_from_slice(br#","omitted_evidence":"#);
        json_text::integer(out, *omitted_evidence as u64);
    }
    out.extend_from_slice(br#","remediation":"#);
    KnownList::write(text.map(|t| &t.remediation), out, remediation);
    out.extend_from_slice(br#","references":"#);
    KnownList::write(text.map(|t| &t.references), out, references);
    out.push(b'}');
}

/// Writes a rule id: its JSON from `text` when the id has one (it was found by the id).
fn rule_id(out: &mut Vec<u8>, rule: &str, text: Option<&RuleText>) {
    match text {
        Some(text) => out.extend_from_slice(&text.id),
        None => json_text::string(out, rule),
    }
}

fn jsonl_evidence(out: &mut Vec<u8>, evidence: &balance_doctor_engine::Evidence) {
    let balance_doctor_engine::Evidence {
        document,
        path,
        value,
    } = evidence;
    out.extend_from_slice(br#"{"document":"#);
    json_text::string(out, document);
    out.extend_from_slice(br#","path":"#);
    json_text::string(out, path);
    out.extend_from_slice(br#","value":"#);
    // Shown values are JSON text already (written by the engine's escaper).
    out.extend_from_slice(value.json().as_bytes());
    out.push(b'}');
}

fn jsonl_not_evaluated(
    out: &mut Vec<u8>,
    entry: &balance_doctor_engine::NotEvaluated,
    texts: &RuleTexts,
) {
    let balance_doctor_engine::NotEvaluated {
        rule,
        severity,
        title,
        missing,
    } = entry;
    let text = texts.by_rule.get(rule);
    out.extend_from_slice(br#"{"rule":"#);
    rule_id(out, rule, text);
    out.extend_from_slice(br#","severity":"#);
    json_text::name(out, severity.as_str());
    out.extend_from_slice(br#","title":"#);
    Known::write(text.map(|t| &t.title), out, title, json_text::string);
    out.extend_from_slice(br#","missing":"#);
    json_text::list(out, missing, jsonl_missing);
    out.push(b'}');
}

fn jsonl_missing(out: &mut Vec<u8>, missing: &balance_doctor_engine::MissingInput) {
    let balance_doctor_engine::MissingInput { name, how_to_get } = missing;
    out.extend_from_slice(br#"{"name":"#);
    json_text::string(out, name);
    out.extend_from_slice(br#","how_to_get":"#);
    json_text::string(out, how_to_get);
    out.push(b'}');
}

fn jsonl_rule_trace(out: &mut Vec<u8>, trace: &balance_doctor_engine::RuleTrace) {
    let balance_doctor_engine::RuleTrace {
        rule,
        outcome,
        missing,
        superseded_by,
        condition,
    } = trace;
    out.extend_from_slice(br#"{"rule":"#);
    json_text::string(out, rule);
    out.extend_from_slice(br#","outcome":"#);
    json_text::name(out, outcome.as_str());
    if !missing.is_empty() {
        out.extend_from_slice(br#","missing":"#);
        json_text::list(out, missing, jsonl_missing);
    }
    if let Some(superseded_by) = superseded_by {
        out.extend_from_slice(br#","superseded_by":"#);
        json_text::string(out, superseded_by);
    }
    if let Some(condition) = condition {
        out.extend_from_slice(br#","condition":"#);
        jsonl_condition(out, condition);
    }
    out.push(b'}');
}

fn jsonl_condition(out: &mut Vec<u8>, trace: &ConditionTrace) {
    let ConditionTrace {
        field,
        test,
        result,
        note,
        seen,
        children,
    } = trace;
    out.extend_from_slice(br#"{"field":"#);
    json_text::string(out, field);
    out.extend_from_slice(br#","test":"#);
    json_text::string(out, test);
    out.extend_from_slice(if *result {
        br#","result":true"#
    } else {
        br#","result":false"#
    });
    if let Some(note) = note {
        out.extend_from_slice(br#","note":"#);
        json_text::string(out, note);
    }
    if !seen.is_empty() {
        out.extend_from_slice(br#","seen":"#);
        json_text::list(out, seen, jsonl_evidence);
    }
    if !children.is_empty() {
        out.extend_from_slice(br#","children":"#);
        json_text::list(out, children, jsonl_condition);
    }
    out.push(b'}');
}

/// A list of names no rule reads (documents, context keys), each with its suggestion, under
/// `title`; nothing when there is none.
fn human_unread<'d>(
    out: &mut impl Write,
    title: &str,
    names: impl ExactSizeIterator<Item = (&'d str, Option<&'d str>)>,
) -> io::Result<()> {
    if names.len() == 0 {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "{title}")?;
    for (name, did_you_mean) in names {
        match did_you_mean {
            Some(close) => writeln!(out, "  {} (did you mean {close}?)", safe(name))?,
            None => writeln!(out, "  {}", safe(name))?,
        }
    }
    Ok(())
}

/// One `{"name": ..., "did_you_mean": ...}` entry of `unread_documents` or
/// `unread_context_keys` (the suggestion only when there is one).
fn jsonl_unread(out: &mut Vec<u8>, name: &str, did_you_mean: Option<&str>) {
    out.extend_from_slice(br#"{"name":"#);
    json_text::string(out, name);
    if let Some(did_you_mean) = did_you_mean {
        out.extend_from_slice(br#","did_you_mean":"#);
        json_text::string(out, did_you_mean);
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::KnownList;

    fn written(known: Option<&KnownList>, list: &Arc<[String]>) -> String {
        let mut out = Vec::new();
        KnownList::write(known, &mut out, list);
        String::from_utf8(out).unwrap()
    }

    /// A list is written as serde_json writes it whether it is the rule's own (the same
    /// allocation, or an equal copy) or differs from it, before and after the rule's is kept.
    #[test]
    fn known_lists_are_written_as_they_are() {
        let texts = vec!["a \"step\"".to_owned(), "b\n".to_owned()];
        let known = KnownList::new(texts.clone());
        let rules: Arc<[String]> = texts.clone().into();
        let copy: Arc<[String]> = texts.clone().into();
        let other: Arc<[String]> = vec!["a \"step\"".to_owned()].into();
        let expected = |list: &Arc<[String]>| serde_json::to_string(&**list).unwrap();
        for _ in 0..2 {
            for list in [&other, &rules, &copy, &rules, &other] {
                assert_eq!(written(Some(&known), list), expected(list));
                assert_eq!(written(None, list), expected(list));
            }
        }
        // The first equal list met is the one kept.
        assert!(Arc::ptr_eq(known.shared.get().unwrap(), &rules));
    }
}
