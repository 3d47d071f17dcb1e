//! The input: what was captured about one Item.

use std::collections::BTreeMap;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::BundleError;
use crate::serde_text::without_serde_position;

/// A bundle as written on disk (the single-file JSON form), before validation.
///
/// ```json
/// {
///   "as_of": "2026-11-20T12:00:00Z",
///   "context": {"balance_source": "accounts_get"},
///   "documents": {
///     "item_get": {"item": {"item_id": "..."}, "status": null, "request_id": "..."},
///     "webhooks": [{"webhook_type": "ITEM", "webhook_code": "ERROR", "...": "..."}]
///   }
/// }
/// ```
///
/// In the directory form, `bundle.json` or `bundle.yaml` holds the same keys but
/// `documents`, and each document is a file `<name>.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleSpec {
    /// The time to evaluate the bundle at (RFC 3339, with an offset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
    /// Free text saying what the bundle shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Facts about the bundle that no response says, such as `balance_source`: the document
    /// the app read the stale balance from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Map<String, Value>>,
    /// Document name -> raw JSON body of one API response (or a list, for `webhooks`).
    #[serde(default)]
    pub documents: BTreeMap<String, Value>,
}

/// A validated bundle, ready to evaluate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bundle {
    /// The evaluation time the bundle carries, if any.
    pub as_of: Option<Timestamp>,
    /// The bundle's context (an object, empty when none was given).
    pub context: Value,
    /// Documents by name.
    pub documents: BTreeMap<String, Value>,
}

/// Names a document cannot take, because rules use them for something else.
pub const RESERVED_NAMES: [&str; 3] = ["context", "left", "right"];

impl Bundle {
    /// Validates a bundle spec: the timestamp parses and every document name is usable.
    pub fn from_spec(spec: BundleSpec) -> Result<Bundle, BundleError> {
        let as_of = spec.as_of.as_deref().map(parse_as_of).transpose()?;
        for name in spec.documents.keys() {
            check_document_name(name)?;
        }
        Ok(Bundle {
            as_of,
            context: Value::Object(spec.context.unwrap_or_default()),
            documents: spec.documents,
        })
    }

    /// Parses the single-file JSON form.
    pub fn from_json(text: &str) -> Result<Bundle, BundleError> {
        // serde would read a struct from a JSON array; a bundle is an object.
        let first = text.trim_start().chars().next();
        if first.is_some_and(|c| c != '{') {
            let is_json = serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok();
            return Err(BundleError {
                field: String::new(),
                message: if is_json {
                    "a bundle must be a JSON object with `documents` (and optionally `as_of`, `context`)".to_owned()
                } else {
                    "not valid JSON: a bundle is a JSON object with `documents`".to_owned()
                },
            });
        }
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let spec: BundleSpec =
            serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
                let field = error.path().to_string();
                let message = error.inner().to_string();
                let explained = crate::serde_text::explain(&message);
                let field = if field == "." { String::new() } else { field };
                BundleError {
                    field: match explained.unknown_key {
                        Some(name) if !field.ends_with(name) => {
                            crate::load::join_path(&field, name)
                        }
                        _ => field,
                    },
                    message: format!("not a valid bundle: {}", explained.message),
                }
            })?;
        deserializer.end().map_err(|error| BundleError {
            field: String::new(),
            message: format!(
                "not a valid bundle: {}: a bundle is one JSON object",
                without_serde_position(&error.to_string())
            ),
        })?;
        Bundle::from_spec(spec)
    }
}

/// Parses an RFC 3339 evaluation time, with a message that says how to write one.
pub fn parse_as_of(text: &str) -> Result<Timestamp, BundleError> {
    text.parse().map_err(|_| BundleError {
        field: "as_of".to_owned(),
        message: format!(
            "`{text}` is not an RFC 3339 timestamp: write it with a date, a time and an offset, such as `2026-11-20T12:00:00Z`"
        ),
    })
}

/// Checks that `name` can name a document: letters, digits, `_` and `-`, and not reserved.
pub fn check_document_name(name: &str) -> Result<(), BundleError> {
    let field = format!("documents.{name}");
    if RESERVED_NAMES.contains(&name) {
        return Err(BundleError {
            field,
            message: format!("`{name}` is reserved and cannot name a document: rename it"),
        });
    }
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        return Err(BundleError {
            field,
            message: format!(
                "`{name}` cannot name a document: use letters, digits, `_` and `-` only"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_about_the_whole_bundle_have_no_empty_field() {
        let error = Bundle::from_json("[1]").unwrap_err();
        assert!(error.to_string().starts_with("a bundle must be"), "{error}");
        let error = Bundle::from_json(r#"{"documents": {}} x"#).unwrap_err();
        assert!(!error.to_string().contains(" at line "), "{error}");
    }

    #[test]
    fn an_unknown_key_gets_a_did_you_mean_and_no_serde_position() {
        let error = Bundle::from_json(r#"{"documets": {}}"#).unwrap_err();
        assert_eq!(
            error.to_string(),
            "documets: not a valid bundle: unknown key `documets`: did you mean `documents`?"
        );
    }
}
