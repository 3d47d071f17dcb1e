//! Rendering a diagnosis for people (human) and programs (JSON).

use std::io::{self, Write};

use balance_doctor_engine::{ConditionTrace, Diagnosis, RuleOutcome, Severity};
use serde::Serialize;

use crate::input::AsOfSource;

#[derive(Serialize)]
struct JsonReport<'a> {
    #[serde(flatten)]
    diagnosis: &'a Diagnosis,
    as_of_source: AsOfSource,
}

/// One JSON object: the diagnosis plus where its `as_of` came from.
pub fn json(
    out: &mut impl Write,
    diagnosis: &Diagnosis,
    as_of_source: AsOfSource,
) -> io::Result<()> {
    let report = JsonReport {
        diagnosis,
        as_of_source,
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}

fn as_of_note(source: AsOfSource) -> &'static str {
    match source {
        AsOfSource::Flag => "from --as-of",
        AsOfSource::Bundle => "from the bundle",
        AsOfSource::Clock => "the current time: the bundle has no as_of and no --as-of was given",
    }
}

/// A readable report.
pub fn human(
    out: &mut impl Write,
    label: &str,
    diagnosis: &Diagnosis,
    as_of_source: AsOfSource,
) -> io::Result<()> {
    writeln!(out, "{label}")?;
    writeln!(
        out,
        "as of {} ({})",
        diagnosis.as_of,
        as_of_note(as_of_source)
    )?;
    for finding in &diagnosis.findings {
        writeln!(out)?;
        writeln!(
            out,
            "{:<7} {}  [{}, confidence {}{}]",
            finding.severity.as_str(),
            finding.title,
            finding.rule,
            format!("{:?}", finding.confidence).to_lowercase(),
            if finding.source == crate::DEFAULT_RULES_NAME {
                String::new()
            } else {
                format!(", from {}", finding.source)
            }
        )?;
        writeln!(out, "  {}", finding.message)?;
        if !finding.evidence.is_empty() {
            writeln!(out, "  evidence:")?;
            for evidence in &finding.evidence {
                writeln!(
                    out,
                    "    {} {} = {}",
                    evidence.document, evidence.path, evidence.value
                )?;
            }
        }
        if !finding.remediation.is_empty() {
            writeln!(out, "  what to do:")?;
            for step in &finding.remediation {
                writeln!(out, "    - {step}")?;
            }
        }
        if !finding.references.is_empty() {
            writeln!(out, "  references:")?;
            for reference in &finding.references {
                writeln!(out, "    {reference}")?;
            }
        }
    }
    if !diagnosis.not_evaluated.is_empty() {
        writeln!(out)?;
        writeln!(out, "not evaluated (capture more to check these):")?;
        for rule in &diagnosis.not_evaluated {
            for missing in &rule.missing {
                writeln!(
                    out,
                    "  {}: needs {}: {}",
                    rule.rule, missing.name, missing.capture
                )?;
            }
        }
    }
    if let Some(traces) = &diagnosis.explain {
        writeln!(out)?;
        writeln!(out, "explanation:")?;
        for trace in traces {
            let outcome = match trace.outcome {
                RuleOutcome::Fired => "fired",
                RuleOutcome::Silent => "silent",
                RuleOutcome::NotEvaluated => "not evaluated",
                RuleOutcome::Disabled => "disabled",
            };
            writeln!(out, "  {} ({outcome})", trace.rule)?;
            for missing in &trace.missing {
                writeln!(out, "    missing {}: {}", missing.name, missing.capture)?;
            }
            if let Some(condition) = &trace.condition {
                write_trace(out, condition, 2)?;
            }
        }
    }
    let count = |severity| {
        diagnosis
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    };
    writeln!(out)?;
    writeln!(
        out,
        "{} finding(s): {} error, {} warning, {} info; {} rule(s) not evaluated",
        diagnosis.findings.len(),
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
        diagnosis.not_evaluated.len()
    )
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
            seen.document, seen.path, seen.value
        )?;
    }
    for child in &trace.children {
        write_trace(out, child, depth + 1)?;
    }
    Ok(())
}
