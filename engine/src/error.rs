//! Errors a user can cause, each with an address: file, line and column, rule id, field path.

use std::fmt;

use serde::Serialize;

pub use crate::positions::Location;

/// One problem in a rules file.
///
/// Displayed as `file:line:column: rule <id>: <field path>: <message>`, leaving out the parts
/// that are not known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file name the text was loaded under.
    pub file: String,
    /// Where in the file, when known.
    pub location: Option<Location>,
    /// The id of the rule concerned, when the problem is inside a rule.
    pub rule: Option<String>,
    /// Field path from the top of the file, such as `rules[3].when.all[1].path`.
    pub field: String,
    /// What is wrong and what to do, lowercase, without a trailing period.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(location) = self.location {
            write!(f, ":{}:{}", location.line, location.column)?;
        }
        write!(f, ":")?;
        if let Some(rule) = &self.rule {
            write!(f, " rule {rule}:")?;
        }
        if !self.field.is_empty() {
            write!(f, " {}:", self.field)?;
        }
        write!(f, " {}", self.message)
    }
}

/// Every problem found while loading and compiling rules; compilation reports them all at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RuleErrors {
    /// The problems, in file order.
    pub problems: Vec<Problem>,
    /// Problems that alone would not have stopped compilation (see `RuleSet::warnings`).
    pub warnings: Vec<Problem>,
}

impl fmt::Display for RuleErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.problems.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// A problem with a bundle: its shape, a document name, or a timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct BundleError {
    /// Where in the bundle (`as_of`, `documents.item_get`, `context`).
    pub field: String,
    /// What is wrong and what to do.
    pub message: String,
}
