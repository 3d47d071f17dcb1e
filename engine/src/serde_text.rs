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
    pub(crate) message: String,
}

/// Rewrites serde's `message` into one that says what to do.
pub(crate) fn explain(message: &str) -> Explained<'_> {
    let raw = without_serde_position(message);
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
            message,
        };
    }
    if let Some(rest) = raw.strip_prefix("unknown variant `") {
        let name = rest.split('`').next().unwrap_or_default();
        let expected: Vec<&str> = rest.split('`').skip(2).step_by(2).collect();
        let hint = did_you_mean(name, &expected, || {
            format!("use one of {}", quoted(rest).join(", "))
        });
        return Explained {
            kind: ProblemKind::InvalidValue,
            unknown_key: None,
            message: format!("unknown value `{name}`: {hint}"),
        };
    }
    let one_text = raw
        .strip_prefix("invalid type: string \"")
        .and_then(|rest| rest.strip_suffix("\", expected a sequence"));
    if let Some(text) = one_text {
        return Explained {
            kind: ProblemKind::InvalidValue,
            unknown_key: None,
            message: format!(
                "expected a list, found the text `{text}`: write it as a list, `[{text}]`"
            ),
        };
    }
    if let Some(rest) = raw.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        return Explained {
            kind: ProblemKind::MissingKey,
            unknown_key: None,
            message: format!("missing key `{name}`: add it"),
        };
    }
    Explained {
        kind: ProblemKind::InvalidValue,
        unknown_key: None,
        message: raw.to_owned(),
    }
}
