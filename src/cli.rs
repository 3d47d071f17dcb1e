//! Command-line arguments and the commands they run.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use balance_doctor_engine::{EvaluateOptions, RuleSet, SchemaKind, Severity, json_schema};
use clap::{Parser, Subcommand, ValueEnum};

use crate::DEFAULT_RULES;
use crate::batch::{self, BatchOptions, Input, RecordFormat, StdinFormat};
use crate::discover;
use crate::input::{self, AsOfOrigin};
use crate::render;
use crate::rules::ReadOptions;
use crate::summary::Summary;

/// Explains why a Plaid Item's balance is out of date, from captured API responses.
#[derive(Debug, Parser)]
#[command(name = "balance-doctor", version, about)]
pub struct Args {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum Command {
    /// Diagnose captured bundles: a directory of `<document>.json` files, a bundle JSON file,
    /// JSON Lines, folders of these, or stdin.
    #[command(after_help = EXIT_CODES)]
    Diagnose(DiagnoseArgs),
    /// Work with rule files.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Write synthetic, realistic bundles as JSON Lines (for benchmarks and load tests).
    Generate {
        /// How many bundles.
        #[arg(long, default_value_t = 10_000)]
        count: u64,
        /// The seed: the same seed gives the same bundles.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Print the JSON Schema of a file format (also committed under `schemas/`).
    Schema {
        /// Which format.
        #[arg(value_enum)]
        kind: SchemaArg,
    },
    /// Print a shell completion script, such as
    /// `balance-doctor completions bash > ~/.local/share/bash-completion/completions/balance-doctor`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or with --dir write one page per command into a folder, such
    /// as `balance-doctor man --dir ~/.cargo/share/man/man1`.
    Man {
        /// Write `balance-doctor.1` and a page per subcommand (`balance-doctor-diagnose.1`, ...)
        /// into this folder instead of printing the main page.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// The exit codes of `diagnose`, shown in its help.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  done: no finding at or above --fail-on
  1  a finding at or above --fail-on
  2  an error: a bundle that cannot be read or is invalid (in a batch: any
     record that failed), broken rules, or a bad argument";

/// The file formats `schema` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[non_exhaustive]
pub enum SchemaArg {
    /// Rules files.
    Rules,
    /// Bundles (single-file JSON form).
    Bundle,
    /// What `diagnose --format json` prints.
    Diagnosis,
    /// One line of `diagnose --format jsonl` (a diagnosis or an error record).
    Record,
    /// What `diagnose --summary --summary-format json` prints.
    Summary,
    /// Rule test files (`*.test.yaml`).
    Tests,
    /// What `rules test --format json` prints.
    TestReport,
}

/// The arguments of `diagnose`.
#[derive(Debug, clap::Args)]
pub struct DiagnoseArgs {
    /// Bundles to diagnose: bundle directories (`<document>.json` files plus an optional
    /// `bundle.yaml`), bundle JSON files, JSON Lines files (`.jsonl`, `.ndjson`: one bundle per
    /// line), folders holding any of these (searched, with every folder below), or `-` for
    /// stdin (JSON Lines, or one pretty-printed bundle: see --stdin-format). Only regular files
    /// are opened.
    #[arg(required = true, value_name = "BUNDLE")]
    pub inputs: Vec<PathBuf>,
    /// Which rules to use.
    #[command(flatten)]
    pub rules: RulesArgs,
    /// Evaluation time (RFC 3339), overriding the bundle's `as_of`. Without either, the
    /// current time is used and the output says so.
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<String>,
    /// Output format (default: human, or nothing per bundle with --summary).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Also aggregate the run: bundles, causes, severities, institutions, oldest updates.
    /// Printed to stdout when no --format is given, else to stderr after the records.
    #[arg(long)]
    pub summary: bool,
    /// Format of the summary.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Human)]
    pub summary_format: SummaryFormat,
    /// Worker threads for many bundles, 1 to 256 (default: every core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=MAX_THREADS))]
    pub threads: Option<u16>,
    /// The most bytes read from one file (a bundle file, a document, `bundle.yaml`) or one
    /// JSON Lines record; a larger one becomes an error record and the run goes on. `K`, `M`
    /// and `G` multiply by 1024.
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = input::parse_size)]
    pub max_input_size: u64,
    /// How stdin (`-`) is read: `auto` takes one pretty-printed bundle when the first line
    /// that is not blank is a lone `{`, JSON Lines otherwise.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = StdinFormat::Auto)]
    pub stdin_format: StdinFormat,
    /// Show, for every rule, the deciding conditions and the values they saw.
    #[arg(long)]
    pub explain: bool,
    /// Exit with 1 when a finding has this severity or a worse one.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
    /// Colour in the human format: `auto` colours a terminal, unless NO_COLOR is set (and
    /// follows CLICOLOR_FORCE and TERM=dumb).
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

/// The most worker threads `--threads` accepts.
pub const MAX_THREADS: i64 = 256;

/// Which rules to use, for every command that loads rules.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RulesArgs {
    /// Rule files to use instead of the embedded default pack (repeatable). Without it: the
    /// files in BALANCE_DOCTOR_RULES (separated like PATH), else the `rules:` of the first
    /// `balance-doctor.yaml` (or `.balance-doctor.yaml`) in the current folder or a parent,
    /// else the embedded pack.
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// Let `extends` in rule files read any file, not only files under the extending file's
    /// folder and rule files passed with --rules.
    #[arg(long)]
    pub extends_anywhere: bool,
}

impl RulesArgs {
    fn read_options(&self) -> ReadOptions {
        ReadOptions {
            extends_anywhere: self.extends_anywhere,
        }
    }
}

/// The formats of `--summary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[non_exhaustive]
pub enum SummaryFormat {
    /// A compact table with a bar chart.
    Human,
    /// JSON.
    Json,
    /// Markdown.
    Markdown,
}

/// When to colour the human format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[non_exhaustive]
pub enum Color {
    /// Colour when writing to a terminal and NO_COLOR is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The `rules` commands.
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum RulesCommand {
    /// Validate rule files and report every problem (exit 0 when clean, 2 otherwise).
    Check {
        /// The rule files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Let `extends` read any file, not only files under the extending file's folder and
        /// the files given here.
        #[arg(long)]
        extends_anywhere: bool,
    },
    /// List the rules: id, severity, title and rules file (disabled ones marked).
    List {
        /// Which rules to list.
        #[command(flatten)]
        rules: RulesArgs,
    },
    /// Print the embedded default rule pack.
    Show,
    /// Run declarative test cases (`*.test.yaml`) against the rules, with per-rule coverage.
    ///
    /// Exit 0 when every case passes (and coverage is at least --min-coverage), 1 otherwise,
    /// 2 when a test file cannot be read.
    Test {
        /// Test files, or directories searched for `*.test.yaml`. Without any: the
        /// configuration file's `tests:`, else `<name>.test.yaml` beside each rules file (or,
        /// without one, the `tests/` folder beside it), else (embedded pack) `rules/tests` in a
        /// checkout of the repository.
        paths: Vec<PathBuf>,
        /// Which rules to test.
        #[command(flatten)]
        rules: RulesArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = TestFormat::Human)]
        format: TestFormat,
        /// Fail unless at least this percentage of rules was seen both firing and silent
        /// (0 to 100).
        #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
        min_coverage: Option<f64>,
    },
}

/// The formats of the `rules test` report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[non_exhaustive]
pub enum TestFormat {
    /// A line per case, failures in detail, the coverage table.
    Human,
    /// The whole report as JSON.
    Json,
    /// JUnit XML, for CI systems.
    Junit,
}

/// The output formats of `diagnose`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[non_exhaustive]
pub enum Format {
    /// A readable report.
    Human,
    /// One JSON object (the diagnosis format, plus `as_of_from`); one bundle only.
    Json,
    /// One JSON object per line and per bundle, in input order, tagged with its origin.
    Jsonl,
    /// A Markdown report to paste into a ticket.
    Markdown,
}

/// The severities `--fail-on` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[non_exhaustive]
pub enum FailOn {
    /// Exit 1 when a finding is an error.
    Error,
    /// Exit 1 when a finding is a warning or an error.
    Warning,
    /// Exit 1 on any finding.
    Info,
}

impl FailOn {
    fn severity(self) -> Severity {
        match self {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
            FailOn::Info => Severity::Info,
        }
    }
}

crate::display_as_argument!(SchemaArg, SummaryFormat, Color, TestFormat, Format, FailOn);

impl std::fmt::Display for Command {
    /// The command as typed, without its arguments: `diagnose`, `rules test`, `man`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Diagnose(_) => f.pad("diagnose"),
            Command::Rules(command) => f.pad(&format!("rules {command}")),
            Command::Generate { .. } => f.pad("generate"),
            Command::Schema { .. } => f.pad("schema"),
            Command::Completions { .. } => f.pad("completions"),
            Command::Man { .. } => f.pad("man"),
        }
    }
}

impl std::fmt::Display for RulesCommand {
    /// The `rules` command as typed, without its arguments: `check`, `list`, `show`, `test`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            RulesCommand::Check { .. } => "check",
            RulesCommand::List { .. } => "list",
            RulesCommand::Show => "show",
            RulesCommand::Test { .. } => "test",
        })
    }
}

/// Runs a command: the exit code it ends with, or an error (exit 2, printed by `main`).
pub fn run(args: Args) -> Result<ExitCode> {
    match args.command {
        Command::Diagnose(args) => diagnose(args),
        Command::Rules(RulesCommand::Check {
            files,
            extends_anywhere,
        }) => check(&files, ReadOptions { extends_anywhere }),
        Command::Rules(RulesCommand::List { rules }) => {
            let rule_set = load_rules(&rules)?;
            let mut out = std::io::stdout().lock();
            let rules: Vec<_> = rule_set.rules().collect();
            let width = crate::summary::name_width(rules.iter().map(|r| r.id.as_str()));
            for rule in rules {
                let state = if rule.enabled { "" } else { " [disabled]" };
                let overridden = if rule.overridden_by.is_empty() {
                    String::new()
                } else {
                    format!(", overridden in {}", rule.overridden_by.join(", "))
                };
                writeln!(
                    out,
                    "{:<width$} {:<8} {}  ({}{overridden}){state}",
                    rule.id,
                    rule.severity.as_str(),
                    rule.title,
                    rule.file
                )
                .context(crate::WRITING_OUTPUT)?;
            }
            out.flush().context(crate::WRITING_OUTPUT)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { kind } => {
            let text = match kind {
                SchemaArg::Rules => json_schema(SchemaKind::Rules),
                SchemaArg::Bundle => json_schema(SchemaKind::Bundle),
                SchemaArg::Diagnosis => render::output_schema(render::OutputSchema::Diagnosis),
                SchemaArg::Record => render::output_schema(render::OutputSchema::Record),
                SchemaArg::Summary => render::output_schema(render::OutputSchema::Summary),
                SchemaArg::Tests => crate::testing::json_schema(),
                SchemaArg::TestReport => render::output_schema(render::OutputSchema::TestReport),
            };
            crate::write_stdout(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules(RulesCommand::Test {
            paths,
            rules,
            format,
            min_coverage,
        }) => test(&paths, &rules, format, min_coverage),
        Command::Generate { count, seed } => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
            crate::generate::write_jsonl(count, seed, &mut out)
                .and_then(|()| out.flush())
                .context(crate::WRITING_OUTPUT)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            let mut command = <Args as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut command, "balance-doctor", &mut out);
            crate::write_stdout(&out)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { dir } => {
            let command = <Args as clap::CommandFactory>::command();
            match dir {
                Some(dir) => {
                    std::fs::create_dir_all(&dir).map_err(|error| {
                        anyhow::anyhow!("cannot create {}: {error}", dir.display())
                    })?;
                    clap_mangen::generate_to(command, &dir).map_err(|error| {
                        anyhow::anyhow!("cannot write the man pages to {}: {error}", dir.display())
                    })?;
                }
                None => {
                    let mut out = Vec::new();
                    clap_mangen::Man::new(command).render(&mut out)?;
                    crate::write_stdout(&out)?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules(RulesCommand::Show) => {
            crate::write_stdout(DEFAULT_RULES)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn diagnose(args: DiagnoseArgs) -> Result<ExitCode> {
    let rule_set = load_rules(&args.rules)?;
    let as_of = args
        .as_of
        .as_deref()
        .map(|text| {
            balance_doctor_engine::parse_as_of(text)
                .map_err(|error| anyhow::anyhow!("--as-of: {}", error.message))
        })
        .transpose()?;
    // `diagnose` with one input and batch runs find their inputs the same way; the first two
    // tell whether there is only one.
    let mut found = discover::Inputs::new(args.inputs.clone(), args.max_input_size, |warning| {
        crate::note!("warning: {warning}")
    });
    let first: Vec<Input> = found.by_ref().take(2).collect();
    let single = matches!(
        first.as_slice(),
        [Input::BundleDir(_) | Input::BundleFile(_) | Input::Unusable(..)]
    );
    let format = match (args.format, args.summary) {
        (Some(format), _) => Some(format),
        (None, true) => None,
        (None, false) => Some(Format::Human),
    };
    if first == [Input::Stdin] && !args.summary && format == Some(Format::Json) {
        let bundle = read_stdin_bundle(args.max_input_size);
        return diagnose_one(&args, &rule_set, "-", bundle, as_of, Format::Json);
    }
    if single && !args.summary && format != Some(Format::Jsonl) {
        let (label, bundle) = match &first[0] {
            Input::BundleDir(path) | Input::BundleFile(path) => (
                path.display().to_string(),
                input::read_bundle_limited(path, args.max_input_size),
            ),
            Input::Unusable(path, message) => (
                path.display().to_string(),
                Err(anyhow::anyhow!("{message}")),
            ),
            Input::Stdin | Input::Jsonl(_) => unreachable!("not a single bundle"),
        };
        return diagnose_one(
            &args,
            &rule_set,
            &label,
            bundle,
            as_of,
            format.unwrap_or(Format::Human),
        );
    }
    let record_format = match format {
        None => RecordFormat::Nothing,
        Some(Format::Jsonl) => RecordFormat::Jsonl,
        Some(Format::Markdown) => RecordFormat::Markdown,
        Some(Format::Human) => RecordFormat::Human(palette(args.color)),
        Some(Format::Json) => {
            let why = match first.as_slice() {
                [Input::Jsonl(path)] => format!(
                    "{} is a JSON Lines file, a batch whatever its number of lines",
                    path.display()
                ),
                _ => "the inputs hold more than one bundle".to_owned(),
            };
            bail!(
                "--format json prints the diagnosis of one bundle (a bundle file, a bundle folder or `-`), but {why}: use --format jsonl, which prints one JSON object per bundle"
            )
        }
    };
    let threads = args.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        usize::from,
    );
    let options = BatchOptions {
        as_of,
        now: jiff::Timestamp::now(),
        explain: args.explain,
        threads: threads.clamp(1, MAX_THREADS as usize),
        chunk: 256,
        format: record_format,
        max_input_bytes: args.max_input_size,
        stdin: args.stdin_format,
        // Only the summary reads whole diagnoses.
        keep_diagnoses: args.summary,
    };
    let mut summary = Summary::default();
    let fail_on = args.fail_on.map(FailOn::severity);
    let mut failing_finding = false;
    let total_bytes = discover::total_bytes(&args.inputs);
    let progress = progress_bar(total_bytes);
    let inputs = first.into_iter().chain(found);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let report = batch::run(
        &rule_set,
        inputs,
        &mut out,
        &options,
        &mut |origin, outcome, bytes| {
            // A hidden bar is not updated at all: each update costs as much as a small
            // rule's evaluation (indicatif re-estimates the rate), for nothing shown.
            if let Some(progress) = &progress {
                progress.inc(if total_bytes.is_some() { bytes } else { 1 });
            }
            failing_finding |=
                fail_on.is_some_and(|limit| outcome.worst().is_some_and(|worst| worst <= limit));
            // The summary is gathered only when it is asked for: this closure runs on the
            // one thread that writes the output.
            if args.summary {
                summary.add(origin, outcome);
            }
        },
    )?;
    if let Some(progress) = progress {
        progress.finish_and_clear();
    }
    if report.blank_lines > 0 {
        crate::note!(
            "note: {} blank line(s) in JSON Lines input skipped (a blank line holds no bundle)",
            report.blank_lines
        );
    }
    if report.output_closed {
        return Ok(ExitCode::SUCCESS);
    }
    // An empty input would otherwise print nothing and pass, as if every bundle were fine (an
    // empty folder is refused the same way, by discovery).
    if report.records == 0 {
        let names: Vec<String> = args
            .inputs
            .iter()
            .map(|path| match path.to_str() {
                Some("-") => "standard input".to_owned(),
                _ => path.display().to_string(),
            })
            .collect();
        bail!(
            "no bundle was read: {} holds none (no bytes, or only blank lines); give at least one bundle",
            names.join(", ")
        );
    }
    if args.summary {
        let summary = summary.report();
        let text = match args.summary_format {
            SummaryFormat::Human => crate::summary::human(&summary),
            SummaryFormat::Markdown => crate::summary::markdown(&summary),
            SummaryFormat::Json => format!("{}\n", serde_json::to_string_pretty(&summary)?),
        };
        if format.is_none() {
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .context(crate::WRITING_OUTPUT)?;
        } else {
            out.flush().context(crate::WRITING_OUTPUT)?;
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
    }
    if report.failed > 0 {
        // The error records are in the output, which is often a file: say so where the user
        // looks when the exit code is 2.
        crate::note!(
            "error: {} of {} record(s) could not be diagnosed; each has an error record in its place in the output",
            report.failed,
            report.records
        );
    }
    Ok(if report.failed > 0 {
        ExitCode::from(2)
    } else if failing_finding {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A progress bar on stderr when it is a terminal, none otherwise: bytes with a share and
/// the time left when the input size is known, else a count of bundles and their rate.
fn progress_bar(total: Option<u64>) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let (bar, template) = match total {
        Some(total) => (
            indicatif::ProgressBar::new(total),
            "{bar:30} {percent:>3}% {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
        ),
        None => (
            indicatif::ProgressBar::no_length(),
            "{spinner} {pos} bundles ({per_sec}, {elapsed})",
        ),
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    Some(bar)
}

fn palette(color: Color) -> render::Palette {
    let colored = match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => !matches!(
            anstream::AutoStream::choice(&std::io::stdout()),
            anstream::ColorChoice::Never
        ),
    };
    if colored {
        render::Palette::colored()
    } else {
        render::Palette::plain()
    }
}

/// One bundle from stdin for `--format json`: the whole of stdin (within the size limit) must
/// hold exactly one JSON value, pretty-printed or on one line.
fn read_stdin_bundle(limit: u64) -> Result<balance_doctor_engine::Bundle> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        bail!(
            "stdin holds more than {}, the most read from one input: raise the limit with --max-input-size",
            input::format_size(limit)
        );
    }
    let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("stdin is not valid UTF-8"))?;
    let values = serde_json::Deserializer::from_str(&text)
        .into_iter::<serde::de::IgnoredAny>()
        .take(2)
        .take_while(Result::is_ok)
        .count();
    if values == 0 && text.trim().is_empty() {
        bail!("stdin is empty: pipe one bundle into `diagnose --format json -`");
    }
    if values > 1 {
        bail!(
            "stdin holds more than one bundle: --format json prints one; for many use --format jsonl (one JSON object per line)"
        );
    }
    input::parse_bundle_text("-", &text)
}

/// One bundle in a readable, JSON or Markdown form; a bad bundle is an error (exit 2).
fn diagnose_one(
    args: &DiagnoseArgs,
    rule_set: &RuleSet,
    label: &str,
    bundle: Result<balance_doctor_engine::Bundle>,
    as_of: Option<jiff::Timestamp>,
    format: Format,
) -> Result<ExitCode> {
    let bundle = bundle?;
    let (as_of, as_of_from) = match (as_of, bundle.as_of()) {
        (Some(as_of), _) => (as_of, AsOfOrigin::Flag),
        (None, Some(as_of)) => (as_of, AsOfOrigin::Bundle),
        (None, None) => (jiff::Timestamp::now(), AsOfOrigin::Clock),
    };
    let options = EvaluateOptions {
        explain: args.explain,
    };
    let diagnosis = rule_set.evaluate_with(&bundle, as_of, &options);
    let mut out = std::io::stdout().lock();
    let written = match format {
        Format::Json => render::json(&mut out, bundle.id(), &diagnosis, as_of_from),
        Format::Markdown => render::markdown(&mut out, label, &diagnosis, as_of_from),
        Format::Human | Format::Jsonl => {
            render::human(&mut out, label, &diagnosis, as_of_from, palette(args.color))
        }
    };
    written
        .and_then(|_| out.flush())
        .context(crate::WRITING_OUTPUT)?;
    let failed = args.fail_on.is_some_and(|limit| {
        diagnosis
            .worst()
            .is_some_and(|worst| worst <= limit.severity())
    });
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A percentage from 0 to 100, for `--min-coverage` (`NaN` would turn the gate off, and more
/// than 100 could never be met).
fn parse_percent(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(value) if (0.0..=100.0).contains(&value) => Ok(value),
        _ => Err(format!("`{text}` is not a percentage from 0 to 100")),
    }
}

fn test(
    paths: &[PathBuf],
    rules: &RulesArgs,
    format: TestFormat,
    min_coverage: Option<f64>,
) -> Result<ExitCode> {
    let choice = choose_rules(rules)?;
    let rule_set = load_chosen(&choice, rules)?;
    let paths = if paths.is_empty() {
        crate::rules::tests_for(&choice)?
    } else {
        paths.to_vec()
    };
    let files = crate::testing::discover(&paths)?;
    let report = crate::testing::run(&rule_set, &files)?;
    let mut text = String::new();
    match format {
        TestFormat::Human => crate::testing::human(&report, &mut text),
        TestFormat::Json => {
            text = serde_json::to_string_pretty(&report)?;
            text.push('\n');
        }
        TestFormat::Junit => crate::testing::junit(&report, &mut text),
    }
    let below = min_coverage.filter(|min| report.coverage_percent < *min);
    if let Some(min) = below {
        let gaps: Vec<&str> = report
            .coverage
            .iter()
            .filter(|c| c.fired == 0 || c.silent == 0)
            .map(|c| c.rule.as_str())
            .collect();
        let message = format!(
            "coverage {:.0}% is below --min-coverage {min}: add cases where these fire and where they stay silent: {}",
            report.coverage_percent,
            gaps.join(", ")
        );
        if format == TestFormat::Human {
            text.push_str(&message);
            text.push('\n');
        } else {
            crate::note!("{message}");
        }
    }
    crate::write_stdout(&text)?;
    Ok(if report.failed > 0 || below.is_some() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn check(files: &[PathBuf], options: ReadOptions) -> Result<ExitCode> {
    match crate::rules::compile_files(files, options)? {
        Ok(rule_set) => {
            for warning in rule_set.warnings() {
                crate::note!("warning: {warning}");
            }
            let warnings = match rule_set.warnings().len() {
                0 => String::new(),
                count => format!(", {count} warning(s)"),
            };
            crate::write_stdout(format!(
                "{} rule(s) in {} file(s): no problems found{warnings}\n",
                rule_set.rules().len(),
                rule_set.files().len()
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            crate::note!("{errors}");
            for warning in &errors.warnings {
                crate::note!("warning: {warning}");
            }
            crate::note!(
                "{} problem(s) found, {} warning(s)",
                errors.problems.len(),
                errors.warnings.len()
            );
            Ok(ExitCode::from(2))
        }
    }
}

/// Compiles the chosen rule files, or the embedded pack when none is given.
fn load_rules(rules: &RulesArgs) -> Result<RuleSet> {
    load_chosen(&choose_rules(rules)?, rules)
}

/// Which rules `--rules`, the environment or a configuration file chose (see
/// [`crate::rules::choose`]).
fn choose_rules(rules: &RulesArgs) -> Result<crate::rules::RulesChoice> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let env = std::env::var_os(crate::rules::RULES_ENV);
    crate::rules::choose(&rules.rules, env.as_deref(), &cwd)
}

/// Compiles the chosen rules files, or the embedded pack when none was chosen.
fn load_chosen(choice: &crate::rules::RulesChoice, rules: &RulesArgs) -> Result<RuleSet> {
    match crate::rules::compile_files(&choice.files, rules.read_options())? {
        Ok(rule_set) => Ok(rule_set),
        Err(errors) => bail!(
            "the rules have {} problem(s):\n{errors}\nrun `balance-doctor rules check <FILE>` after fixing them",
            errors.problems.len()
        ),
    }
}
