//! `--summary`: what a batch run found, across all bundles.
//!
//! Counts are of diagnosed bundles (Items). Institutions and last-update ages come from the
//! rule files' labels named `institution`, `item_id` and `last_success`, when the rules
//! declare them (the default pack does).

use std::collections::HashMap;
use std::fmt::Write as _;

use balance_doctor_engine::Severity;
use jiff::Timestamp;
use serde::Serialize;

use crate::batch::Outcome;

/// How many institutions and oldest Items the summary lists.
const TOP: usize = 10;

/// Running totals of a batch run.
#[derive(Debug, Default)]
pub struct Summary {
    read: u64,
    failed: u64,
    diagnosed: u64,
    /// Rule id -> (severity, title, Items where it fired, first seen order).
    rules: HashMap<String, (Severity, String, u64, usize)>,
    /// Items by their worst finding: error, warning, info, none.
    worst: [u64; 4],
    primary: HashMap<String, u64>,
    /// Institution -> Items with a finding of warning severity or worse.
    institutions: HashMap<String, u64>,
    /// The oldest last successful updates seen: (update time, item id).
    oldest: Vec<(Timestamp, String, Timestamp)>,
}

/// The summary as data, for JSON and for rendering.
#[derive(Debug, Serialize)]
pub struct SummaryReport {
    /// Bundles read, failed and diagnosed.
    pub bundles: BundleCounts,
    /// Per rule: Items where it fired, most first.
    pub rules: Vec<RuleCount>,
    /// Items by their worst finding: error, warning, info, none.
    pub severities: Vec<SeverityCount>,
    /// The rule that most often comes first in an Item's findings.
    pub primary_cause: Option<RuleCount>,
    /// Institutions with the most Items that have a warning or an error.
    pub top_institutions: Vec<InstitutionCount>,
    /// The Items whose last successful update is oldest, relative to their `as_of`.
    pub oldest_last_success: Vec<OldItem>,
}

/// Bundle totals.
#[derive(Debug, Serialize)]
pub struct BundleCounts {
    /// Records read.
    pub read: u64,
    /// Records that could not be diagnosed.
    pub failed: u64,
    /// Records diagnosed.
    pub diagnosed: u64,
}

/// Items whose worst finding has one severity (`none`: no finding).
#[derive(Debug, Serialize)]
pub struct SeverityCount {
    /// `error`, `warning`, `info` or `none`.
    pub severity: &'static str,
    /// Items.
    pub items: u64,
    /// `items` over diagnosed Items, 0 to 1.
    pub share: f64,
}

/// One rule's count.
#[derive(Debug, Serialize)]
pub struct RuleCount {
    /// The rule id.
    pub rule: String,
    /// Its severity.
    pub severity: Severity,
    /// Its title.
    pub title: String,
    /// Items where it fired (or came first, for the primary cause).
    pub items: u64,
    /// `items` over diagnosed Items.
    pub share: f64,
}

/// An institution's count of stale Items.
#[derive(Debug, Serialize)]
pub struct InstitutionCount {
    /// The `institution` label.
    pub institution: String,
    /// Items with a warning or an error.
    pub stale_items: u64,
}

/// An Item with an old last successful update.
#[derive(Debug, Serialize)]
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

impl Summary {
    /// Adds one record's outcome.
    pub fn add(&mut self, outcome: &Outcome) {
        self.read += 1;
        let Outcome::Diagnosed(diagnosis) = outcome else {
            self.failed += 1;
            return;
        };
        self.diagnosed += 1;
        for finding in &diagnosis.findings {
            let order = self.rules.len();
            let entry = self
                .rules
                .entry(finding.rule.clone())
                .or_insert_with(|| (finding.severity, finding.title.clone(), 0, order));
            entry.2 += 1;
        }
        let worst = diagnosis.findings.iter().map(|f| f.severity).min();
        self.worst[match worst {
            Some(Severity::Error) => 0,
            Some(Severity::Warning) => 1,
            Some(_) => 2,
            None => 3,
        }] += 1;
        if let Some(first) = diagnosis.findings.first() {
            *self.primary.entry(first.rule.clone()).or_default() += 1;
        }
        let text = |name: &str| {
            diagnosis.labels.get(name).map(|v| match v.as_str() {
                Some(s) => s.to_owned(),
                None => v.to_string(),
            })
        };
        if worst.is_some_and(|s| s <= Severity::Warning) {
            if let Some(institution) = text("institution") {
                *self.institutions.entry(institution).or_default() += 1;
            }
        }
        let updated: Option<Timestamp> = text("last_success").and_then(|t| t.parse().ok());
        if let Some(updated) = updated {
            let item = text("item_id").unwrap_or_else(|| "(no item_id)".to_owned());
            self.oldest.push((updated, item, diagnosis.as_of));
            // Keep the TOP oldest, by age at their own as_of.
            self.oldest.sort_by_key(|(at, item, as_of)| {
                (std::cmp::Reverse(as_of.duration_since(*at)), item.clone())
            });
            self.oldest.truncate(TOP);
        }
    }

    /// The totals as data.
    pub fn report(&self) -> SummaryReport {
        let share = |items: u64| {
            if self.diagnosed == 0 {
                0.0
            } else {
                items as f64 / self.diagnosed as f64
            }
        };
        let mut rules: Vec<RuleCount> = self
            .rules
            .iter()
            .map(|(rule, (severity, title, items, _))| RuleCount {
                rule: rule.clone(),
                severity: *severity,
                title: title.clone(),
                items: *items,
                share: share(*items),
            })
            .collect();
        rules.sort_by(|a, b| {
            b.items
                .cmp(&a.items)
                .then(a.severity.cmp(&b.severity))
                .then(a.rule.cmp(&b.rule))
        });
        let severities = ["error", "warning", "info", "none"]
            .into_iter()
            .zip(self.worst)
            .map(|(severity, items)| SeverityCount {
                severity,
                items,
                share: share(items),
            })
            .collect();
        let primary_cause = self
            .primary
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(rule, items)| {
                let (severity, title, _, _) = &self.rules[rule];
                RuleCount {
                    rule: rule.clone(),
                    severity: *severity,
                    title: title.clone(),
                    items: *items,
                    share: share(*items),
                }
            });
        let mut top_institutions: Vec<InstitutionCount> = self
            .institutions
            .iter()
            .map(|(institution, stale_items)| InstitutionCount {
                institution: institution.clone(),
                stale_items: *stale_items,
            })
            .collect();
        top_institutions.sort_by(|a, b| {
            b.stale_items
                .cmp(&a.stale_items)
                .then(a.institution.cmp(&b.institution))
        });
        top_institutions.truncate(TOP);
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
        SummaryReport {
            bundles: BundleCounts {
                read: self.read,
                failed: self.failed,
                diagnosed: self.diagnosed,
            },
            rules,
            severities,
            primary_cause,
            top_institutions,
            oldest_last_success,
        }
    }
}

fn words(seconds: i64) -> String {
    let days = seconds / 86_400;
    if days >= 2 {
        format!("{days} days")
    } else {
        format!("{} hours", seconds / 3_600)
    }
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

/// A compact table with a bar chart of causes.
pub fn human(report: &SummaryReport) -> String {
    let mut out = String::new();
    let b = &report.bundles;
    let _ = writeln!(
        out,
        "bundles: {} read, {} failed, {} diagnosed",
        b.read, b.failed, b.diagnosed
    );
    let _ = writeln!(out);
    let max = report.rules.first().map_or(0, |r| r.items);
    let _ = writeln!(
        out,
        "{:<30} {:<8} {:>8} {:>7}",
        "cause", "severity", "items", "share"
    );
    for rule in &report.rules {
        let _ = writeln!(
            out,
            "{:<30} {:<8} {:>8} {:>7}  {}",
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
    if let Some(primary) = &report.primary_cause {
        let _ = writeln!(
            out,
            "most common primary cause: {} ({} items, {})",
            primary.rule,
            primary.items,
            percent(primary.share)
        );
    }
    if !report.top_institutions.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "institutions with the most stale items (warning or worse):"
        );
        for institution in &report.top_institutions {
            let _ = writeln!(
                out,
                "  {:<20} {:>8}",
                institution.institution, institution.stale_items
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
    if let Some(primary) = &report.primary_cause {
        let _ = writeln!(
            out,
            "Most common primary cause: `{}` ({} items, {}).",
            primary.rule,
            primary.items,
            percent(primary.share)
        );
    }
    if !report.top_institutions.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "| institution | stale items |");
        let _ = writeln!(out, "| --- | ---: |");
        for institution in &report.top_institutions {
            let _ = writeln!(
                out,
                "| {} | {} |",
                institution.institution, institution.stale_items
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
