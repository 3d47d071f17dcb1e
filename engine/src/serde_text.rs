//! serde's error messages, made readable: the position serde appends is cut off (callers
//! report positions their own way), and unknown keys and values get a "did you mean".
//!
//! The rules loader, bundles and the CLI's own files (test files, bundle metadata) all go
//! through here, so that the same mistake reads the same everywhere.

use crate::error::ProblemKind;
use crate::suggest::{closest, did_you_mean};

/// `message` without the " at line N column M" that serde appends.
pub fn without_serde_position(message: &str) -> &str {
    message
        .find(" at line ")
        .map_or(message, |cut| &message[..cut])
}

/// What serde's own messages start with.
const SERDE_STARTS: [&str; 7] = [
    "unknown field `",
    "unknown variant `",
    "invalid type: ",
    "missing field `",
    "invalid value: ",
    "invalid length ",
    "duplicate field `",
];

/// `message` without the field path (`cases[0]: `) that a YAML deserializer puts before
/// serde's own message: callers give the field path their own way, and the message is only
/// recognised (and explained) from its start.
fn without_field_prefix(message: &str) -> &str {
    match message.split_once(": ") {
        Some((path, rest))
            if !path.contains(' ') && SERDE_STARTS.iter().any(|s| rest.starts_with(s)) =>
        {
            rest
        }
        _ => message,
    }
}

/// serde's `message` rewritten to say what to do, such as "unknown key `documets`: did you
/// mean `documents`?", without its position.
pub fn serde_message(message: &str) -> String {
    explain(message).message
}

/// A serde message, explained.
pub(crate) struct Explained<'m> {
    pub(crate) kind: ProblemKind,
    /// For an unknown key, the key.
    pub(crate) unknown_key: Option<&'m str>,
    /// Whether the value has the wrong type (a list where a text goes, ...).
    pub(crate) wrong_type: bool,
    pub(crate) message: String,
}

impl Explained<'_> {
    /// A message about a value (no unknown key), of the right type unless said otherwise.
    fn new(kind: ProblemKind, message: String) -> Self {
        Explained {
            kind,
            unknown_key: None,
            wrong_type: false,
            message,
        }
    }

    fn of_wrong_type(self) -> Self {
        Explained {
            wrong_type: true,
            ..self
        }
    }
}

/// Rewrites serde's `message` into one that says what to do.
pub(crate) fn explain(message: &str) -> Explained<'_> {
    let raw = without_field_prefix(without_serde_position(message));
    let quoted = |rest: &'_ str| -> Vec<String> {
        rest.split('`')
            .skip(2)
            .step_by(2)
            .map(|s| format!("`{s}`"))
            .collect()
    };
    if let Some(rest) = raw.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or_default();
        let expected: Vec<&str> = rest.split('`').skip(2).step_by(2).collect();
        let message = match closest(name, &expected) {
            Some(best) => format!("unknown key `{name}`: did you mean `{best}`?"),
            None if expected.is_empty() => format!("unknown key `{name}`: remove it"),
            None => format!(
                "unknown key `{name}`: expected one of {}",
                quoted(rest).join(", ")
            ),
        };
        return Explained {
            kind: ProblemKind::UnknownKey,
            unknown_key: Some(name),
            wrong_type: false,
            message,
        };
    }
    if let Some(rest) = raw.strip_prefix("unknown variant `") {
        let name = rest.split('`').next().unwrap_or_default();
        let expected: Vec<&str> = rest.split('`').skip(2).step_by(2).collect();
        let hint = did_you_mean(name, &expected, || {
            format!("use one of {}", quoted(rest).join(", "))
        });
        return Explained::new(
            ProblemKind::InvalidValue,
            format!("unknown value `{name}`: {hint}"),
        );
    }
    let one_text = raw
        .strip_prefix("invalid type: string \"")
        .and_then(|rest| rest.strip_suffix("\", expected a sequence"));
    if let Some(text) = one_text {
        return Explained::new(
            ProblemKind::InvalidValue,
            format!("expected a list, found the text `{text}`: write it as a list, `[{text}]`"),
        )
        .of_wrong_type();
    }
    if let Some(rest) = raw.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        return Explained::new(
            ProblemKind::MissingKey,
            format!("missing key `{name}`: add it"),
        );
    }
    if let Some(rest) = raw.strip_prefix("duplicate field `") {
        let name = rest.split('`').next().unwrap_or_default();
        return Explained::new(
            ProblemKind::DuplicateKey,
            format!("the key `{name}` appears twice in the same map: remove one"),
        );
    }
    if let Some((found, expected)) = raw
        .strip_prefix("invalid type: ")
        .and_then(|rest| rest.split_once(", expected "))
    {
        return Explained::new(ProblemKind::InvalidValue, wrong_type(found, expected))
            .of_wrong_type();
    }
    Explained::new(ProblemKind::InvalidValue, raw.to_owned())
}

/// serde's "invalid type: `found`, expected `expected`" in a rule author's words: serde names
/// the Rust type it wanted (`struct ConditionSpec`, `a Value::Tagged enum`), which means
/// nothing to someone writing YAML or JSON, and says nothing of what to write instead.
fn wrong_type(found: &str, expected: &str) -> String {
    let text = found
        .strip_prefix("string \"")
        .and_then(|rest| rest.strip_suffix('"'));
    let found_words = match (text, found) {
        (Some(text), _) => format!("the text \"{text}\""),
        (None, "sequence") => "a list".to_owned(),
        (None, "map") => "a map".to_owned(),
        (None, "unit value") => "an empty value (null)".to_owned(),
        (None, other) => match other.split_once(' ') {
            Some(("integer" | "floating", rest)) => format!(
                "the number {}",
                rest.trim_start_matches("point ").trim_matches('`')
            ),
            Some(("boolean", value)) => value.trim_matches('`').to_owned(),
            _ => other.to_owned(),
        },
    };
    let expected_words = match expected {
        "a boolean" => "true or false",
        "a string" => "a text",
        "a sequence" => "a list",
        "struct ConditionSpec" => {
            "a condition (a map with one of `all`, `any`, `not`, `condition`, `fired`, `path`, `compare` or `join`)"
        }
        "struct CountSpec" => "a count (a map such as `{gte: 1}`)",
        "a Value::Tagged enum" => "one name",
        other if other.starts_with("struct ") => "a map",
        "u64" | "u32" | "usize" | "u16" | "u8" => "a whole number",
        "i64" | "i32" => "a whole number",
        "f64" | "f32" => "a number",
        other => other,
    };
    let hint = match (expected, found, text) {
        ("a boolean", _, Some("true" | "false")) => Some("write it without quotes"),
        ("a boolean", _, Some(text)) if text.starts_with('$') => {
            Some("a parameter cannot stand here: write true or false")
        }
        ("a boolean", _, Some(_)) => {
            Some("write true or false (YAML reads `yes`, `no`, `on` and `off` as text)")
        }
        ("struct ConditionSpec", _, Some(_)) => Some(
            "write the condition as a map, one key per line, such as `path: item_get:$.item.error` and `exists: true`",
        ),
        ("struct ConditionSpec", "sequence", None) => {
            Some("to combine several conditions, put the list under `all:` or `any:`")
        }
        _ => None,
    };
    match hint {
        Some(hint) => format!("expected {expected_words}, found {found_words}: {hint}"),
        None => format!("expected {expected_words}, found {found_words}"),
    }
}
