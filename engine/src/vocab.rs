//! The shared vocabulary of the three stages: words a rules file uses that compiled rules and
//! diagnoses keep (severity, confidence, quantifier, comparison, pick, JSON type).
//!
//! Each enum has one spelling, the one rules files use, given by `as_str()` and `Display`.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One `as_str()` (the spelling rules files use) and a `Display` that writes it.
macro_rules! spelled {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            /// The name rules files and output use.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }
    };
}

/// How bad a finding is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// The Item is broken or the data cannot be trusted until something is done.
    Error,
    /// The balance is, or will soon be, stale; action is advised.
    Warning,
    /// Context that helps explain the balance's age; no action strictly needed.
    Info,
}

/// How sure a rule is that its cause is the real one when it fires.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Confidence {
    /// The captured data states the cause outright (an error code, a product list).
    High,
    /// The cause is inferred from timing or missing data.
    #[default]
    Medium,
    /// A plausible contributor, not proof.
    Low,
}

/// How the matched values of a `path` test combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Quantifier {
    /// At least one value passes.
    #[default]
    Any,
    /// Every value passes (and there is at least one).
    All,
    /// No value passes.
    None,
}

/// A JSON type, for the `type` operator (null counts as missing, so it is not one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum JsonType {
    /// A JSON object.
    Object,
    /// A JSON array.
    Array,
    /// A JSON string.
    String,
    /// A JSON number.
    Number,
    /// `true` or `false`.
    Boolean,
}

/// Which single value a `path` test keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Pick {
    /// The first value matched, in document order.
    First,
    /// The last value matched, in document order.
    Last,
}

/// A comparison between two values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CompareOp {
    /// Equal JSON values (numbers within `tolerance`).
    #[default]
    Equals,
    /// Not equal (numbers: differ by more than `tolerance`).
    Differs,
    /// Numbers: left > right.
    Gt,
    /// Numbers: left >= right.
    Gte,
    /// Numbers: left < right.
    Lt,
    /// Numbers: left <= right.
    Lte,
    /// Timestamps: left is earlier than right.
    Before,
    /// Timestamps: left is later than right.
    After,
}

spelled!(Severity { Error => "error", Warning => "warning", Info => "info" });
spelled!(Confidence { High => "high", Medium => "medium", Low => "low" });
spelled!(Quantifier { Any => "any", All => "all", None => "none" });
spelled!(JsonType {
    Object => "object",
    Array => "array",
    String => "string",
    Number => "number",
    Boolean => "boolean",
});
spelled!(Pick { First => "first", Last => "last" });
spelled!(CompareOp {
    Equals => "equals",
    Differs => "differs",
    Gt => "gt",
    Gte => "gte",
    Lt => "lt",
    Lte => "lte",
    Before => "before",
    After => "after",
});
