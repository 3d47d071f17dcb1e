//! `--summary`: what a batch run found, across all bundles.
//!
//! Counts are of diagnosed bundles (Items). Institutions and last-update ages come from the
//! rule files' labels named `institution` (an id to group by), `institution_name` (its name,
//! when captured), `item_id` and `last_success`, when the rules declare them (the default
//! pack does).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use balance_doctor_engine::{Diagnosis, Severity, duration_in_words};
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::Serialize;

use crate::batch::{Outcome, RecordOrigin};

/// How many institutions, oldest Items, failed inputs and files the summary lists.
const TOP: usize = 10;
/// With this many diagnosed Items or more, institutions with fewer than
/// [`INSTITUTION_MIN_ITEMS`] Items are not ranked: a share of one or two Items says little.
const RANK_ONLY_LARGE_FROM: u64 = 100;
const INSTITUTION_MIN_ITEMS: u64 = 5;

/// Running totals of a batch run.
#[derive(Debug, Default)]
pub struct Summary {
    read: u64,
    failed: u64,
    diagnosed: u64,
    /// The first failed inputs, with their errors.
    failures: Vec<FailedInput>,
    /// File -> failed records in it.
    failed_by_file: BTreeMap<String, u64>,
    /// Rule id -> (severity, title, Items where it fired).
    rules: HashMap<String, (Severity, String, u64)>,
    /// Rule id -> (severity, title, Items where it was not evaluated).
    not_evaluated: HashMap<String, (Severity, String, u64)>,
    /// Missing input -> (how to get it, Items lacking it, rules that need it).
    missing: BTreeMap<String, (String, u64, Vec<String>)>,
    /// Items by their worst finding: error, warning, info, none.
    worst: [u64; 4],
    /// Rule id of each Item's first finding -> Items; Items without a finding are `worst[3]`.
    primary: HashMap<String, u64>,
    /// Institution id -> its name (when captured), Items, Items with a warning or worse.
    institutions: HashMap<String, (Option<String>, u64, u64)>,
    /// The oldest last successful updates seen: (update time, item id, as_of).
    oldest: Vec<(Timestamp, String, Timestamp)>,
}

/// The summary as data, for JSON and for rendering.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SummaryReport {
    /// Bundles read, failed and diagnosed.
    pub bundles: BundleCounts,
    /// The inputs that could not be diagnosed: the first ones with their errors, and where
    /// the others are.
    pub failures: Failures,
    /// Per rule: Items where it fired, most first.
    pub rules: Vec<RuleCount>,
    /// Items by their worst finding: error, warning, info, none.
    pub severities: Vec<SeverityCount>,
    /// Each Item's primary cause (its first finding, the most severe), as a distribution over
    /// rules, most first; `rule` is absent for Items without a finding.
    pub primary_causes: Vec<PrimaryCount>,
    /// Per rule: Items where it could not be evaluated, most first.
    pub not_evaluated: Vec<RuleCount>,
    /// What to capture: each missing document or source, the Items that lack it, and how to get
    /// it; most first.
    pub missing_inputs: Vec<MissingCount>,
    /// Institutions with the largest share of their Items having a warning or an error.
    pub institutions: Institutions,
    /// The Items whose last successful update is oldest, relative to their `as_of`.
    pub oldest_last_success: Vec<OldItem>,
}

/// Bundle totals.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BundleCounts {
    /// Records read.
    pub read: u64,
    /// Records that could not be diagnosed.
    pub failed: u64,
    /// Records diagnosed.
    pub diagnosed: u64,
}

/// The failed inputs.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Failures {
    /// The first failed inputs (at most 10), in input order.
    pub first: Vec<FailedInput>,
    /// Failed inputs not listed in `first`.
    pub more: u64,
    /// Files with failed records, most failures first (at most 10): where the others are.
    pub files: Vec<FileFailures>,
    /// Files with failed records not listed in `files`.
    pub more_files: u64,
}

/// One input that failed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FailedInput {
    /// Where it was read from.
    pub origin: RecordOrigin,
    /// Why it failed.
    pub error: String,
}

/// A file's count of failed records.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FileFailures {
    /// The file (`-` for stdin).
    pub file: String,
    /// Its records that failed.
    pub failed: u64,
}

/// Items whose worst finding has one severity (`none`: no finding).
#[derive(Debug, Serialize, JsonSchema)]
pub struct SeverityCount {
    /// `error`, `warning`, `info` or `none`.
    pub severity: &'static str,
    /// Items.
    pub items: u64,
    /// `items` over diagnosed Items, 0 to 1.
    pub share: f64,
}

/// One rule's count.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RuleCount {
    /// The rule id.
    pub rule: String,
    /// Its severity.
    pub severity: Severity,
    /// Its title.
    pub title: String,
    /// Items where it fired (or was not evaluated, under `not_evaluated`).
    pub items: u64,
    /// `items` over diagnosed Items, 0 to 1.
    pub share: f64,
}

/// How many Items have one rule as their primary cause.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PrimaryCount {
    /// The rule id; absent for the Items without any finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Its severity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Items whose first finding it is.
    pub items: u64,
    /// `items` over diagnosed Items, 0 to 1.
    pub share: f64,
}

/// A document or source that Items lack, so that rules could not be evaluated.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MissingCount {
    /// The document or source name.
    pub name: String,
    /// What to capture to provide it.
    pub how_to_get: String,
    /// Items that lack it (for at least one rule).
    pub items: u64,
    /// `items` over diagnosed Items, 0 to 1.
    pub share: f64,
    /// The rules that need it.
    pub rules: Vec<String>,
}

/// Institutions ranked by the share of their Items that have a warning or an error.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Institutions {
    /// Institutions with at least `min_items` Items, largest share first, then most Items
    /// (at most 10).
    pub top: Vec<InstitutionCount>,
    /// Only institutions with this many diagnosed Items are ranked (5 when the run has 100
    /// Items or more, else 1).
    pub min_items: u64,
    /// Institutions seen (with the `institution` label).
    pub seen: u64,
    /// Items without an `institution` label.
    pub items_without_institution: u64,
}

/// An institution's Items and the share of them that have a warning or an error.
#[derive(Debug, Serialize, JsonSchema)]
pub struct InstitutionCount {
    /// The `institution` label (its id in the default pack).
    pub institution: String,
    /// The `institution_name` label, when captured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its diagnosed Items.
    pub items: u64,
    /// Of those, Items with a warning or an error.
    pub stale_items: u64,
    /// `stale_items` over `items`, 0 to 1.
    pub stale_share: f64,
}

/// An Item with an old last successful update.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OldItem {
    /// The `item_id` label.
    pub item_id: String,
    /// The `last_success` label.
    pub last_success: String,
    /// Its age at the bundle's `as_of`, in seconds.
    pub age_seconds: i64,
    /// The same in words.
    pub age: String,
}

/// The `worst` counter a record's most severe finding counts in.
fn worst_bucket(worst: Option<Severity>) -> usize {
    match worst {
        Some(Severity::Error) => 0,
        Some(Severity::Warning) => 1,
        Some(_) => 2,
        None => 3,
    }
}

fn label_text(diagnosis: &Diagnosis, name: &str) -> Option<String> {
    diagnosis.labels.get(name).map(|v| match v.as_str() {
        Some(s) => s.to_owned(),
        None => v.to_string(),
    })
}

impl Summary {
    /// Adds one record's outcome.
    pub fn add(&mut self, origin: &RecordOrigin, outcome: &Outcome) {
        self.read += 1;
        let diagnosis = match outcome {
            Outcome::Failed(error) => {
                self.failed += 1;
                *self.failed_by_file.entry(origin.file.clone()).or_default() += 1;
                if self.failures.len() < TOP {
                    self.failures.push(FailedInput {
                        origin: origin.clone(),
                        error: error.clone(),
                    });
                }
                return;
            }
            Outcome::Diagnosed(diagnosis) => diagnosis,
            // A run that gathers a summary keeps diagnoses (`BatchOptions::keep_diagnoses`);
            // without one, only the count and the severity are known.
            Outcome::Written { worst, .. } => {
                self.diagnosed += 1;
                self.worst[worst_bucket(*worst)] += 1;
                return;
            }
        };
        self.diagnosed += 1;
        for finding in &diagnosis.findings {
            self.rules
                .entry(finding.rule.clone())
                .or_insert_with(|| (finding.severity, finding.title.clone(), 0))
                .2 += 1;
        }
        let mut lacking: Vec<&str> = Vec::new();
        for rule in &diagnosis.not_evaluated {
            self.not_evaluated
                .entry(rule.rule.clone())
                .or_insert_with(|| (rule.severity, rule.title.clone(), 0))
                .2 += 1;
            for missing in &rule.missing {
                let entry = self
                    .missing
                    .entry(missing.name.clone())
                    .or_insert_with(|| (missing.how_to_get.clone(), 0, Vec::new()));
                if !lacking.contains(&missing.name.as_str()) {
                    lacking.push(&missing.name);
                    entry.1 += 1;
                }
                if !entry.2.contains(&rule.rule) {
                    entry.2.push(rule.rule.clone());
                }
            }
        }
        let worst = diagnosis.worst();
        self.worst[worst_bucket(worst)] += 1;
        if let Some(first) = diagnosis.findings.first() {
            *self.primary.entry(first.rule.clone()).or_default() += 1;
        }
        if let Some(institution) = label_text(diagnosis, "institution") {
            let name = label_text(diagnosis, "institution_name");
            let entry = self.institutions.entry(institution).or_default();
            if entry.0.is_none() {
                entry.0 = name;
            }
            entry.1 += 1;
            if worst.is_some_and(|s| s <= Severity::Warning) {
                entry.2 += 1;
            }
        }
        let updated: Option<Timestamp> =
            label_text(diagnosis, "last_success").and_then(|t| t.parse().ok());
        if let Some(updated) = updated {
            let item =
                label_text(diagnosis, "item_id").unwrap_or_else(|| "(no item_id)".to_owned());
            self.oldest.push((updated, item, diagnosis.as_of));
            // Keep the TOP oldest, by age at their own as_of.
            self.oldest.sort_by_key(|(at, item, as_of)| {
                (std::cmp::Reverse(as_of.duration_since(*at)), item.clone())
            });
            self.oldest.truncate(TOP);
        }
    }

    fn share(&self, items: u64) -> f64 {
        if self.diagnosed == 0 {
            0.0
        } else {
            items as f64 / self.diagnosed as f64
        }
    }

    fn rule_counts(&self, counts: &HashMap<String, (Severity, String, u64)>) -> Vec<RuleCount> {
        let mut rules: Vec<RuleCount> = counts
            .iter()
            .map(|(rule, (severity, title, items))| RuleCount {
                rule: rule.clone(),
                severity: *severity,
                title: title.clone(),
                items: *items,
                share: self.share(*items),
            })
            .collect();
        rules.sort_by(|a, b| {
            b.items
                .cmp(&a.items)
                .then(a.severity.cmp(&b.severity))
                .then(a.rule.cmp(&b.rule))
        });
        rules
    }

    /// The totals as data.
    pub fn report(&self) -> SummaryReport {
        let severities = ["error", "warning", "info", "none"]
            .into_iter()
            .zip(self.worst)
            .map(|(severity, items)| SeverityCount {
                severity,
                items,
                share: self.share(items),
            })
            .collect();
        let mut primary_causes: Vec<PrimaryCount> = self
            .primary
            .iter()
            .map(|(rule, items)| PrimaryCount {
                rule: Some(rule.clone()),
                severity: self.rules.get(rule).map(|r| r.0),
                items: *items,
                share: self.share(*items),
            })
            .collect();
        if self.worst[3] > 0 {
            primary_causes.push(PrimaryCount {
                rule: None,
                severity: None,
                items: self.worst[3],
                share: self.share(self.worst[3]),
            });
        }
        primary_causes.sort_by(|a, b| {
            b.items
                .cmp(&a.items)
                .then(a.rule.is_none().cmp(&b.rule.is_none()))
                .then(a.rule.cmp(&b.rule))
        });
        let mut missing_inputs: Vec<MissingCount> = self
            .missing
            .iter()
            .map(|(name, (how_to_get, items, rules))| MissingCount {
                name: name.clone(),
                how_to_get: how_to_get.clone(),
                items: *items,
                share: self.share(*items),
                rules: rules.clone(),
            })
            .collect();
        missing_inputs.sort_by(|a, b| b.items.cmp(&a.items).then(a.name.cmp(&b.name)));
        let oldest_last_success = self
            .oldest
            .iter()
            .map(|(at, item, as_of)| {
                let age = as_of.duration_since(*at);
                OldItem {
                    item_id: item.clone(),
                    last_success: at.to_string(),
                    age_seconds: age.as_secs(),
                    age: words(age.as_secs()),
                }
            })
            .collect();
        let mut files: Vec<FileFailures> = self
            .failed_by_file
            .iter()
            .map(|(file, failed)| FileFailures {
                file: file.clone(),
                failed: *failed,
            })
            .collect();
        files.sort_by(|a, b| b.failed.cmp(&a.failed).then(a.file.cmp(&b.file)));
        let more_files = files.len().saturating_sub(TOP) as u64;
        files.truncate(TOP);
        SummaryReport {
            bundles: BundleCounts {
                read: self.read,
                failed: self.failed,
                diagnosed: self.diagnosed,
            },
            failures: Failures {
                first: self.failures.clone(),
                more: self.failed - self.failures.len() as u64,
                files,
                more_files,
            },
            rules: self.rule_counts(&self.rules),
            severities,
            primary_causes,
            not_evaluated: self.rule_counts(&self.not_evaluated),
            missing_inputs,
            institutions: self.institutions(),
            oldest_last_success,
        }
    }

    fn institutions(&self) -> Institutions {
        let min_items = if self.diagnosed >= RANK_ONLY_LARGE_FROM {
            INSTITUTION_MIN_ITEMS
        } else {
            1
        };
        let mut top: Vec<InstitutionCount> = self
            .institutions
            .iter()
            .filter(|(_, (_, items, _))| *items >= min_items)
            .map(
                |(institution, (name, items, stale_items))| InstitutionCount {
                    institution: institution.clone(),
                    name: name.clone(),
                    items: *items,
                    stale_items: *stale_items,
                    stale_share: *stale_items as f64 / *items as f64,
                },
            )
            .collect();
        // Shares compare exactly as fractions: a/b > c/d when a*d > c*b.
        top.sort_by(|a, b| {
            (b.stale_items * a.items)
                .cmp(&(a.stale_items * b.items))
                .then(b.items.cmp(&a.items))
                .then(a.institution.cmp(&b.institution))
        });
        top.truncate(TOP);
        let labelled: u64 = self.institutions.values().map(|(_, items, _)| items).sum();
        Institutions {
            top,
            min_items,
            seen: self.institutions.len() as u64,
            items_without_institution: self.diagnosed - labelled,
        }
    }
}

/// `1 item`, `2 items`.
fn count(count: u64, unit: &str) -> String {
    if count == 1 {
        format!("1 {unit}")
    } else {
        format!("{count} {unit}s")
    }
}

/// An age in words, as the messages write ages: `3 days`, `2 hours 55 minutes`.
fn words(seconds: i64) -> String {
    duration_in_words(jiff::SignedDuration::from_secs(seconds.max(0)))
}

fn bar(items: u64, max: u64) -> String {
    const WIDTH: u64 = 30;
    if max == 0 {
        return String::new();
    }
    let eighths = (items * WIDTH * 8).div_ceil(max);
    let mut out = "█".repeat((eighths / 8) as usize);
    let partial = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"][(eighths % 8) as usize];
    out.push_str(partial);
    out
}

/// `error 14 (31.8%), warning 16 (36.4%), ...`
fn severities(report: &SummaryReport) -> String {
    let parts: Vec<String> = report
        .severities
        .iter()
        .map(|s| format!("{} {} ({})", s.severity, s.items, percent(s.share)))
        .collect();
    parts.join(", ")
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

fn origin_text(origin: &RecordOrigin) -> String {
    match origin.line {
        Some(line) => format!("{}:{line}", origin.file),
        None => origin.file.clone(),
    }
}

/// The width of a column of names: 30 characters, or the longest name when one is longer (a
/// rule id has no length limit), so that the columns after it stay aligned.
pub(crate) fn name_width<'a>(names: impl IntoIterator<Item = &'a str>) -> usize {
    names
        .into_iter()
        .map(|name| name.chars().count())
        .fold(30, usize::max)
}

fn primary_name(primary: &PrimaryCount) -> &str {
    primary.rule.as_deref().unwrap_or("(no finding)")
}

fn institution_name(institution: &InstitutionCount) -> String {
    match &institution.name {
        Some(name) if *name != institution.institution => {
            format!("{name} ({})", institution.institution)
        }
        _ => institution.institution.clone(),
    }
}

/// Where the failed inputs not listed are, in words.
fn failures_elsewhere(failures: &Failures) -> Option<String> {
    if failures.more == 0 {
        return None;
    }
    let files: Vec<String> = failures
        .files
        .iter()
        .map(|f| format!("{} ({})", f.file, f.failed))
        .collect();
    let more_files = match failures.more_files {
        0 => String::new(),
        count => format!(" and {count} more file(s)"),
    };
    Some(format!(
        "{} more failed; by file: {}{more_files}. Each is an error record (with an \"error\" key) in the --format jsonl output",
        failures.more,
        files.join(", ")
    ))
}

/// A compact table with a bar chart of causes.
pub fn human(report: &SummaryReport) -> String {
    let mut out = String::new();
    let b = &report.bundles;
    let _ = writeln!(
        out,
        "bundles: {} read, {} failed, {} diagnosed",
        b.read, b.failed, b.diagnosed
    );
    if !report.failures.first.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "failed inputs:");
        for failure in &report.failures.first {
            let _ = writeln!(out, "  {}: {}", origin_text(&failure.origin), failure.error);
        }
        if let Some(elsewhere) = failures_elsewhere(&report.failures) {
            let _ = writeln!(out, "  {elsewhere}");
        }
    }
    let _ = writeln!(out);
    let max = report.rules.first().map_or(0, |r| r.items);
    let width = name_width(report.rules.iter().map(|r| r.rule.as_str()));
    let _ = writeln!(
        out,
        "{:<width$} {:<8} {:>8} {:>7}",
        "cause", "severity", "items", "share"
    );
    for rule in &report.rules {
        let _ = writeln!(
            out,
            "{:<width$} {:<8} {:>8} {:>7}  {}",
            rule.rule,
            rule.severity.as_str(),
            rule.items,
            percent(rule.share),
            bar(rule.items, max)
        );
    }
    if report.rules.is_empty() {
        let _ = writeln!(out, "(no rule fired)");
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "worst finding per item: {}", severities(report));
    if !report.primary_causes.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "primary cause per item (its most severe finding):");
        let max = report.primary_causes.first().map_or(0, |p| p.items);
        let width = name_width(report.primary_causes.iter().take(TOP).map(primary_name));
        for primary in report.primary_causes.iter().take(TOP) {
            let _ = writeln!(
                out,
                "  {:<width$} {:>8} {:>7}  {}",
                primary_name(primary),
                primary.items,
                percent(primary.share),
                bar(primary.items, max)
            );
        }
        let rest = &report.primary_causes[report.primary_causes.len().min(TOP)..];
        if !rest.is_empty() {
            let items: u64 = rest.iter().map(|p| p.items).sum();
            let _ = writeln!(
                out,
                "  {:<width$} {:>8} {:>7}  ({} more causes; all in --summary-format json)",
                "(others)",
                items,
                percent(items as f64 / b.diagnosed.max(1) as f64),
                rest.len()
            );
        }
    }
    if !report.not_evaluated.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "rules not evaluated (items):");
        let width = name_width(report.not_evaluated.iter().map(|r| r.rule.as_str()));
        for rule in &report.not_evaluated {
            let _ = writeln!(
                out,
                "  {:<width$} {:>8} {:>7}",
                rule.rule,
                rule.items,
                percent(rule.share)
            );
        }
        let _ = writeln!(out, "what to capture so that they can be:");
        for missing in &report.missing_inputs {
            let _ = writeln!(
                out,
                "  {} (lacking in {}, {}; needed by {}): {}",
                missing.name,
                count(missing.items, "item"),
                percent(missing.share),
                missing.rules.join(", "),
                missing.how_to_get
            );
        }
    }
    let institutions = &report.institutions;
    if !institutions.top.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "institutions by share of their items with a warning or an error{}:",
            if institutions.min_items > 1 {
                format!(" (those with {} items or more)", institutions.min_items)
            } else {
                String::new()
            }
        );
        for institution in &institutions.top {
            let _ = writeln!(
                out,
                "  {:<40} {:>7} of {:>6} items",
                institution_name(institution),
                percent(institution.stale_share),
                institution.items
            );
        }
    }
    if !report.oldest_last_success.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "oldest last successful updates:");
        for item in &report.oldest_last_success {
            let _ = writeln!(
                out,
                "  {:<40} {}  {}",
                item.item_id, item.last_success, item.age
            );
        }
    }
    out
}

/// Text for a Markdown table cell: pipes and markup escaped, on one line.
fn md_cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '*' | '<' | '>' | '[' | ']' | '|' | '\\' | '`' | '_' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

/// The same as Markdown, with the bar chart in a code block.
pub fn markdown(report: &SummaryReport) -> String {
    let mut out = String::new();
    let b = &report.bundles;
    let _ = writeln!(out, "## balance-doctor summary");
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} bundles read, {} failed, {} diagnosed.",
        b.read, b.failed, b.diagnosed
    );
    if !report.failures.first.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "| failed input | error |");
        let _ = writeln!(out, "| --- | --- |");
        for failure in &report.failures.first {
            let _ = writeln!(
                out,
                "| {} | {} |",
                md_cell(&origin_text(&failure.origin)),
                md_cell(&failure.error)
            );
        }
        if let Some(elsewhere) = failures_elsewhere(&report.failures) {
            let _ = writeln!(out);
            let _ = writeln!(out, "{}.", md_cell(&elsewhere));
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "| cause | severity | items | share |");
    let _ = writeln!(out, "| --- | --- | ---: | ---: |");
    for rule in &report.rules {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            rule.rule,
            rule.severity.as_str(),
            rule.items,
            percent(rule.share)
        );
    }
    let max = report.rules.first().map_or(0, |r| r.items);
    if max > 0 {
        let _ = writeln!(out);
        let _ = writeln!(out, "```text");
        for rule in &report.rules {
            let _ = writeln!(out, "{:<30} {}", rule.rule, bar(rule.items, max));
        }
        let _ = writeln!(out, "```");
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "Worst finding per item: {}.", severities(report));
    if !report.primary_causes.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "| primary cause | items | share |");
        let _ = writeln!(out, "| --- | ---: | ---: |");
        for primary in &report.primary_causes {
            let name = match &primary.rule {
                Some(rule) => format!("`{rule}`"),
                None => "(no finding)".to_owned(),
            };
            let _ = writeln!(
                out,
                "| {name} | {} | {} |",
                primary.items,
                percent(primary.share)
            );
        }
    }
    if !report.not_evaluated.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "| not evaluated | items | share |");
        let _ = writeln!(out, "| --- | ---: | ---: |");
        for rule in &report.not_evaluated {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} |",
                rule.rule,
                rule.items,
                percent(rule.share)
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "| missing | items | needed by | how to get |");
        let _ = writeln!(out, "| --- | ---: | --- | --- |");
        for missing in &report.missing_inputs {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                missing.name,
                missing.items,
                md_cell(&missing.rules.join(", ")),
                md_cell(&missing.how_to_get)
            );
        }
    }
    let institutions = &report.institutions;
    if !institutions.top.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "| institution | items | with a warning or an error |");
        let _ = writeln!(out, "| --- | ---: | ---: |");
        for institution in &institutions.top {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                md_cell(&institution_name(institution)),
                institution.items,
                percent(institution.stale_share)
            );
        }
    }
    if !report.oldest_last_success.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "| item | last successful update | age |");
        let _ = writeln!(out, "| --- | --- | --- |");
        for item in &report.oldest_last_success {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} |",
                item.item_id, item.last_success, item.age
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_in_words_agree_in_number() {
        assert_eq!(words(3_600), "60 minutes");
        assert_eq!(words(7_199), "119 minutes");
        assert_eq!(words(7_200), "2 hours");
        assert_eq!(words(10_500), "2 hours 55 minutes");
        assert_eq!(words(60), "60 seconds");
        assert_eq!(words(1), "1 second");
        assert_eq!(words(-5), "0 seconds");
        assert_eq!(words(47 * 3_600), "47 hours");
        assert_eq!(words(2 * 86_400), "2 days");
    }

    #[test]
    fn a_name_longer_than_the_column_widens_it() {
        assert_eq!(name_width(["capture-problem", "item-error"]), 30);
        assert_eq!(name_width(std::iter::empty()), 30);
        let long = "a-rule-id-of-thirty-three-letters";
        assert_eq!(name_width(["item-error", long]), 33);
        let line = format!("{:<width$} {}", long, "warning", width = name_width([long]));
        assert_eq!(line, format!("{long} warning"));
    }
}
