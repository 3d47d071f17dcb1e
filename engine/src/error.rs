//! Errors a user can cause, each with an address: file, line and column, rule id, field path.

use std::fmt;

use serde::Serialize;

pub use crate::positions::Location;

/// One problem in a rules file.
///
/// Displayed as `file:line:column: rule <id>: <field path>: <message>`, leaving out the parts
/// that are not known. Code that acts on problems decides on [`ProblemKind`] and [`Origin`],
/// never on the message, whose wording may change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file name the text was loaded under.
    pub file: String,
    /// Where in the file, when known.
    pub location: Option<Location>,
    /// What the problem belongs to: a rule, a named condition, a source or the file itself.
    pub origin: Origin,
    /// What kind of problem it is.
    pub kind: ProblemKind,
    /// Field path from the top of the file, such as `rules[3].when.all[1].path`.
    pub field: String,
    /// What is wrong and what to do, lowercase, without a trailing period.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(
        file: &str,
        location: Option<Location>,
        origin: Origin,
        kind: ProblemKind,
        field: &str,
        message: String,
    ) -> Problem {
        #[cfg(test)]
        let message = reworded::apply(message);
        Problem {
            file: file.to_owned(),
            location,
            origin,
            kind,
            field: excerpt(field, MAX_FIELD).into_owned(),
            message: tame(&message),
        }
    }

    /// The id of the rule concerned, when the problem is inside a rule.
    pub fn rule(&self) -> Option<&str> {
        match &self.origin {
            Origin::Rule(id) => Some(id),
            _ => None,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(location) = self.location {
            write!(f, ":{}:{}", location.line, location.column)?;
        }
        write!(f, ":")?;
        if let Some(rule) = self.rule() {
            write!(f, " rule {}:", excerpt(rule, MAX_QUOTED))?;
        }
        if !self.field.is_empty() {
            write!(f, " {}:", self.field)?;
        }
        write!(f, " {}", self.message)
    }
}

/// What a problem belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "in", content = "name")]
#[non_exhaustive]
pub enum Origin {
    /// The file itself: its top-level keys, documents, parameters, labels or overrides.
    File,
    /// The rule with this id.
    Rule(String),
    /// The named condition (`conditions:`) with this name.
    Condition(String),
    /// The source (`sources:`) with this name.
    Source(String),
}

/// What kind of problem a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProblemKind {
    /// The text is not YAML, or not a map of the rule language's sections.
    Syntax,
    /// A key appears twice in the same map.
    DuplicateKey,
    /// A key the rule language does not have.
    UnknownKey,
    /// A required key is absent.
    MissingKey,
    /// A value of the wrong type, or not one of the allowed words.
    InvalidValue,
    /// `version` is not one this engine reads.
    UnsupportedVersion,
    /// A name or rule id with characters that are not allowed, or a reserved name.
    InvalidName,
    /// Two definitions with the same name or id.
    DuplicateName,
    /// A rule id (`fired`, `overrides`) that no loaded file defines.
    UnknownRule,
    /// A `condition:` that names no named condition.
    UnknownCondition,
    /// A parameter (`$name`, or one set in `overrides`) that is not declared.
    UnknownParameter,
    /// A parameter's value does not suit an operator that uses it.
    InvalidParameterValue,
    /// A malformed reference (`name:$.path`) or JSONPath.
    InvalidReference,
    /// A reference to a name that is neither a declared document nor a source (a warning).
    UndeclaredDocument,
    /// Keys that do not go together, or a list or text that must not be empty.
    Shape,
    /// An operator's operand is not what it needs (a number, list, duration, regex).
    InvalidOperand,
    /// `left:`/`right:` outside a join, or a join inside a join.
    JoinScope,
    /// Sources, named conditions or `fired` tests that refer to each other in a cycle.
    Cycle,
    /// A message template that does not parse or names something unknown.
    Template,
    /// An `extends` entry that names no file the reader could give.
    UnresolvedExtends,
    /// Past a limit that bounds the cost of loading or evaluating: YAML aliases that expand too
    /// much, conditions or sources nested too deep, a JSONPath too long or too nested.
    TooLarge,
}

impl fmt::Display for Origin {
    /// `file`, `rule <id>`, `condition <name>`, `source <name>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File => f.write_str("file"),
            Origin::Rule(id) => write!(f, "rule {id}"),
            Origin::Condition(name) => write!(f, "condition {name}"),
            Origin::Source(name) => write!(f, "source {name}"),
        }
    }
}

impl ProblemKind {
    /// The kind's name, as serialized (`unknown_key`, `cycle`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::Syntax => "syntax",
            ProblemKind::DuplicateKey => "duplicate_key",
            ProblemKind::UnknownKey => "unknown_key",
            ProblemKind::MissingKey => "missing_key",
            ProblemKind::InvalidValue => "invalid_value",
            ProblemKind::UnsupportedVersion => "unsupported_version",
            ProblemKind::InvalidName => "invalid_name",
            ProblemKind::DuplicateName => "duplicate_name",
            ProblemKind::UnknownRule => "unknown_rule",
            ProblemKind::UnknownCondition => "unknown_condition",
            ProblemKind::UnknownParameter => "unknown_parameter",
            ProblemKind::InvalidParameterValue => "invalid_parameter_value",
            ProblemKind::InvalidReference => "invalid_reference",
            ProblemKind::UndeclaredDocument => "undeclared_document",
            ProblemKind::Shape => "shape",
            ProblemKind::InvalidOperand => "invalid_operand",
            ProblemKind::JoinScope => "join_scope",
            ProblemKind::Cycle => "cycle",
            ProblemKind::Template => "template",
            ProblemKind::UnresolvedExtends => "unresolved_extends",
            ProblemKind::TooLarge => "too_large",
        }
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
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

/// A problem with a bundle: its shape, a document name, a timestamp, or a file of a bundle
/// directory.
///
/// Displayed as `<file>:<line>:<column>: <field>: <message>`, leaving out the parts that are
/// not known (the message alone when the whole bundle is at fault).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct BundleError {
    /// The file of a bundle directory at fault ([`Bundle::from_dir`](crate::Bundle::from_dir)),
    /// by the name it was read under.
    pub file: Option<String>,
    /// Where in that file, for syntax errors.
    pub location: Option<Location>,
    /// Where in the bundle (`as_of`, `documents.item_get`, `context`), empty for the whole.
    pub field: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl BundleError {
    /// An error at `field` (empty for the whole bundle).
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> BundleError {
        BundleError {
            file: None,
            location: None,
            field: excerpt(&field.into(), MAX_FIELD).into_owned(),
            message: tame(&message.into()),
        }
    }

    /// The same error, attributed to a file of a bundle directory.
    pub fn in_file(mut self, file: &str, location: Option<Location>) -> BundleError {
        self.file = Some(file.to_owned());
        self.location = location;
        self
    }
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}")?;
            if let Some(location) = self.location {
                write!(f, ":{}:{}", location.line, location.column)?;
            }
            write!(f, ": ")?;
        }
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// In tests, every message can be reworded, to check that no decision depends on wording.
#[cfg(test)]
pub(crate) mod reworded {
    use std::cell::Cell;

    thread_local! {
        static ON: Cell<bool> = const { Cell::new(false) };
    }

    pub(crate) fn apply(message: String) -> String {
        if ON.with(Cell::get) {
            format!("reworded: {}", message.chars().rev().collect::<String>())
        } else {
            message
        }
    }

    /// Runs `f` with every problem message reworded.
    pub(crate) fn during<T>(f: impl FnOnce() -> T) -> T {
        ON.with(|on| on.set(true));
        let result = f();
        ON.with(|on| on.set(false));
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_spells_kinds_as_serialized() {
        for kind in [
            ProblemKind::Syntax,
            ProblemKind::InvalidParameterValue,
            ProblemKind::UnresolvedExtends,
        ] {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::String(kind.to_string())
            );
        }
        assert_eq!(Origin::Rule("x".into()).to_string(), "rule x");
    }
}

/// Characters of a quoted input value (`` `...` `` or `"..."`) a message echoes.
const MAX_QUOTED: usize = 60;
/// Characters of a field path a problem shows.
const MAX_FIELD: usize = 200;
/// Characters of a whole message.
const MAX_MESSAGE: usize = 2_000;

/// A message that echoes input values made safe to show: each quoted value (between backticks
/// or double quotes) cut to a short prefix with a count of what was left out, control
/// characters and bidirectional overrides escaped, and the whole bounded.
pub(crate) fn tame(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(MAX_MESSAGE + 64));
    let mut rest = message;
    while let Some(open) = rest.find(['`', '"']) {
        let quote = &rest[open..=open];
        out.push_str(&excerpt(&rest[..open], MAX_MESSAGE));
        out.push_str(quote);
        let inside = &rest[open + 1..];
        let close = inside.find(quote).unwrap_or(inside.len());
        out.push_str(&excerpt(&inside[..close], MAX_QUOTED));
        rest = &inside[close..];
        if let Some(after) = rest.strip_prefix(quote) {
            out.push_str(quote);
            rest = after;
        }
    }
    out.push_str(&excerpt(rest, MAX_MESSAGE));
    excerpt(&out, MAX_MESSAGE).into_owned()
}

/// At most `limit` characters of `text`, then `... (N more characters)`, with control
/// characters and bidirectional overrides escaped (`\u{202e}`).
pub(crate) fn excerpt(text: &str, limit: usize) -> std::borrow::Cow<'_, str> {
    let cut = text.char_indices().nth(limit).map(|(at, _)| at);
    let shown = &text[..cut.unwrap_or(text.len())];
    if cut.is_none() && !shown.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(shown.len() + 32);
    for c in shown.chars() {
        if hidden(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if let Some(at) = cut {
        let left_out = text[at..].chars().count();
        out.push_str(&format!("... ({left_out} more characters)"));
    }
    std::borrow::Cow::Owned(out)
}

/// Characters that act instead of showing: controls (C0, C1), bidirectional controls and
/// line or paragraph separators.
pub(crate) fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod excerpt_tests {
    use super::*;

    #[test]
    fn quoted_input_is_cut_and_escaped() {
        let regex = "a".repeat(1_000_000);
        let message = format!("invalid regular expression `({regex}`: unclosed group");
        let shown = tame(&message);
        assert!(shown.len() < 200, "{shown}");
        assert!(
            shown.contains("... (999941 more characters)`: unclosed group"),
            "{shown}"
        );
        assert_eq!(
            tame("unknown key `a\u{202e}b`"),
            "unknown key `a\\u{202e}b`"
        );
        assert_eq!(tame("plain `x` and \"y\""), "plain `x` and \"y\"");
        assert_eq!(tame("open `quote"), "open `quote");
    }
}
