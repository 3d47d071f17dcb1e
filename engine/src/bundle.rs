//! The input: what was captured about one Item.

use std::collections::BTreeMap;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::doc::{Doc, Members};
use crate::error::{BundleError, Location};
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
    /// A key of your choosing (a string or a number), copied unchanged to the bundle's output
    /// record, so that each record can be joined back to its input wherever it was processed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "id_schema")]
    pub id: Option<Value>,
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
    /// Required in the single-file form (`{}` when the rules read only `context`); a bundle
    /// directory's metadata file must not have it.
    #[serde(default)]
    pub documents: BTreeMap<String, Value>,
}

fn id_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": ["string", "number"] })
}

/// A validated bundle, ready to evaluate: its evaluation time parsed, its document names
/// usable. The only ways to make one are [`Bundle::from_json`], [`Bundle::from_value`],
/// [`Bundle::from_spec`] and [`Bundle::from_dir`], so an invalid bundle cannot be built.
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    /// The caller's key for the bundle (a string or a number), if any.
    pub(crate) id: Option<Value>,
    /// The evaluation time the bundle carries, if any.
    pub(crate) as_of: Option<Timestamp>,
    /// The bundle's context (an object, empty when none was given).
    pub(crate) context: Doc,
    /// Documents by name.
    pub(crate) documents: BTreeMap<String, Doc>,
    /// The text of objects and arrays that a projected parse built as skeletons, for
    /// evidence ([`crate::projection`]).
    pub(crate) raw: Vec<crate::projection::RawPart>,
    /// The text of the keys and strings of `context` and `documents` when the bundle was
    /// parsed from JSON text (`crate::arena`): it must live as long as they do, so it is never
    /// taken out of the bundle, and neither are they.
    pub(crate) arena: crate::arena::Arena,
}

/// A bundle as read, before validation: [`BundleSpec`] with documents and context as
/// [`Doc`]s (what the projected parse builds).
#[derive(Debug, Default)]
pub(crate) struct Parts {
    pub(crate) id: Option<Value>,
    pub(crate) as_of: Option<String>,
    pub(crate) context: Option<Doc>,
    pub(crate) documents: BTreeMap<String, Doc>,
}

/// Names a document cannot take, because rules use them for something else.
pub const RESERVED_NAMES: [&str; 3] = ["context", "left", "right"];

/// The file names of a bundle directory's metadata (at most one may be present).
pub const METADATA_FILES: [&str; 3] = ["bundle.json", "bundle.yaml", "bundle.yml"];

impl Default for Bundle {
    /// A bundle with no document, no context and no evaluation time.
    fn default() -> Bundle {
        Bundle {
            id: None,
            as_of: None,
            context: Doc::Object(Members::default()),
            documents: BTreeMap::new(),
            raw: Vec::new(),
            arena: crate::arena::Arena::none(),
        }
    }
}

impl Bundle {
    /// The caller's key for the bundle (`id`: a string or a number), copied to its output.
    pub fn id(&self) -> Option<&Value> {
        self.id.as_ref()
    }

    /// The evaluation time the bundle carries (`as_of`), if any.
    pub fn as_of(&self) -> Option<Timestamp> {
        self.as_of
    }

    /// The bundle's context: an object, empty when none was given.
    pub fn context(&self) -> &Doc {
        &self.context
    }

    /// The documents, by name. A document is a [`Doc`] (`Doc::to_value` gives it as a
    /// `serde_json::Value`). In a bundle read by [`crate::Projection::parse_bundle`], a
    /// document holds only what the rules read (a document no rule reads is `null`).
    pub fn documents(&self) -> &BTreeMap<String, Doc> {
        &self.documents
    }

    /// The document named `name`, if captured.
    pub fn document(&self, name: &str) -> Option<&Doc> {
        self.documents.get(name)
    }

    /// Adds or replaces a document (a [`Doc`] or a `serde_json::Value`), checking its name
    /// like every other.
    pub fn insert_document(
        &mut self,
        name: &str,
        value: impl Into<Doc>,
    ) -> Result<(), BundleError> {
        check_document_name(name)?;
        self.raw.retain(|part| &*part.document != name);
        self.documents.insert(name.to_owned(), value.into());
        Ok(())
    }

    /// Sets the evaluation time the bundle carries.
    pub fn set_as_of(&mut self, as_of: Option<Timestamp>) {
        self.as_of = as_of;
    }

    /// The bundle in its single-file JSON form (what [`Bundle::from_value`] reads back).
    pub fn to_value(&self) -> Value {
        let mut object = Map::new();
        if let Some(id) = &self.id {
            object.insert("id".into(), id.clone());
        }
        if let Some(as_of) = self.as_of {
            object.insert("as_of".into(), Value::String(as_of.to_string()));
        }
        object.insert("context".into(), self.context.to_value());
        let documents = self
            .documents
            .iter()
            .map(|(name, document)| (name.clone(), document.to_value()))
            .collect();
        object.insert("documents".into(), Value::Object(documents));
        Value::Object(object)
    }

    /// Validates a bundle spec: the timestamp parses and every document name is usable.
    pub fn from_spec(spec: BundleSpec) -> Result<Bundle, BundleError> {
        Bundle::from_parts(Parts {
            id: spec.id,
            as_of: spec.as_of,
            context: spec
                .context
                .map(|context| Doc::from(Value::Object(context))),
            documents: spec
                .documents
                .into_iter()
                .map(|(name, document)| (name, Doc::from(document)))
                .collect(),
        })
    }

    /// Validates a bundle's parts: the timestamp parses and every document name is usable.
    pub(crate) fn from_parts(parts: Parts) -> Result<Bundle, BundleError> {
        if let Some(id) = &parts.id {
            check_id(id)?;
        }
        let as_of = parts.as_of.as_deref().map(parse_as_of).transpose()?;
        for name in parts.documents.keys() {
            check_document_name(name)?;
        }
        Ok(Bundle {
            id: parts.id,
            as_of,
            context: parts
                .context
                .unwrap_or_else(|| Doc::Object(Members::default())),
            documents: parts.documents,
            raw: Vec::new(),
            arena: crate::arena::Arena::none(),
        })
    }

    /// Validates a bundle given as a JSON value in the single-file form.
    ///
    /// ```
    /// use balance_doctor_engine::Bundle;
    ///
    /// let bundle = Bundle::from_value(serde_json::json!({
    ///     "as_of": "2026-11-20T12:00:00Z",
    ///     "documents": {"item_get": {"item": {"item_id": "item-1"}}}
    /// })).unwrap();
    /// assert_eq!(bundle.as_of().unwrap().to_string(), "2026-11-20T12:00:00Z");
    /// assert!(bundle.document("item_get").is_some());
    /// assert!(Bundle::from_value(serde_json::json!({"documents": {"left": {}}})).is_err());
    /// ```
    pub fn from_value(value: Value) -> Result<Bundle, BundleError> {
        if !value.is_object() {
            return Err(BundleError::new(
                "",
                "a bundle must be a JSON object with `documents` (and optionally `as_of`, `context`)",
            ));
        }
        let has_documents = value.get("documents").is_some();
        let spec: BundleSpec = serde_path_to_error::deserialize(value)
            .map_err(|error| spec_error(error.path().to_string(), &error.inner().to_string()))?;
        if !has_documents {
            return Err(BundleError::new("", MISSING_DOCUMENTS));
        }
        Bundle::from_spec(spec)
    }

    /// Parses the single-file JSON form. This is [`crate::Projection::parse_bundle`] keeping
    /// everything: the same code accepts or refuses a bundle whatever the rules read.
    pub fn from_json(text: &str) -> Result<Bundle, BundleError> {
        crate::projection::parse(text, None)
    }

    /// Reads the directory form through `read`, which returns the text of a file of the
    /// directory by name, or why it cannot.
    ///
    /// `names` are the names of the directory's regular files. Only the metadata
    /// ([`METADATA_FILES`], at most one) and the `<document>.json` files are read; other names
    /// are skipped, except a name plainly meant to be read (`item_get.JSON`, `bundel.yaml`),
    /// which is an error that says what to rename. A `*.json` file in the single-file bundle form (an object with
    /// `documents`, see [`is_single_file_bundle`]) is not a document: a folder of those is not
    /// one bundle, and a folder mixing them with documents is refused. An error names the file (`BundleError::file`) and, for JSON and YAML
    /// syntax and for a metadata key of the wrong type, the line and column. The engine reads nothing itself: `read` may read a
    /// folder on disk, an archive or a map in memory.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use balance_doctor_engine::Bundle;
    ///
    /// let files = BTreeMap::from([
    ///     ("bundle.yaml", "as_of: 2026-11-20T12:00:00Z\n"),
    ///     ("item_get.json", r#"{"item": {"item_id": "item-1"}}"#),
    ///     ("notes.txt", "not read"),
    /// ]);
    /// let bundle = Bundle::from_dir(files.keys().copied(), |name| {
    ///     files.get(name).map(|text| text.to_string()).ok_or_else(|| "no such file".to_owned())
    /// })
    /// .unwrap();
    /// assert_eq!(bundle.documents().len(), 1);
    /// assert!(bundle.as_of().is_some());
    /// ```
    pub fn from_dir<N, R>(names: N, mut read: R) -> Result<Bundle, BundleError>
    where
        N: IntoIterator,
        N::Item: AsRef<str>,
        R: FnMut(&str) -> Result<String, String>,
    {
        let mut names: Vec<String> = names.into_iter().map(|n| n.as_ref().to_owned()).collect();
        names.sort();
        let mut read = |name: &str| {
            read(name).map_err(|reason| BundleError::new("", reason).in_file(name, None))
        };
        let metadata: Vec<&String> = names
            .iter()
            .filter(|name| METADATA_FILES.contains(&name.as_str()))
            .collect();
        let mut metadata_text = String::new();
        let mut spec = match metadata.as_slice() {
            [] => BundleSpec::default(),
            [name] => {
                metadata_text = read(name)?;
                metadata_spec(name, &metadata_text)?
            }
            [first, second, ..] => {
                return Err(BundleError::new(
                    "",
                    format!("{first} and {second} both describe the bundle: keep one"),
                )
                .in_file(second, None));
            }
        };
        if !spec.documents.is_empty() {
            return Err(BundleError::new(
                "",
                "`documents` does not belong in a bundle directory's metadata: put each document in its own `<name>.json` file",
            )
            .in_file(metadata[0], metadata_location(&metadata_text, "documents")));
        }
        let misnamed: Vec<String> = names.iter().filter_map(|name| misnamed(name)).collect();
        if !misnamed.is_empty() {
            return Err(BundleError::new(
                "",
                format!(
                    "the bundle directory holds {} that would not be read: {}; rename, or move out of the folder",
                    if misnamed.len() == 1 {
                        "a file"
                    } else {
                        "files"
                    },
                    misnamed.join("; ")
                ),
            ));
        }
        let mut bundle_files: Vec<&str> = Vec::new();
        for name in &names {
            let Some(document) = name.strip_suffix(".json") else {
                continue;
            };
            if METADATA_FILES.contains(&name.as_str()) {
                continue;
            }
            // The file names the document: the field would say it twice.
            check_document_name(document)
                .map_err(|error| BundleError::new("", error.message).in_file(name, None))?;
            let text = read(name)?;
            let value: Value =
                serde_json::from_str(&text).map_err(|error| json_error(name, &error))?;
            if is_single_file_bundle(&value) {
                bundle_files.push(name.as_str());
                continue;
            }
            spec.documents.insert(document.to_owned(), value);
        }
        if !bundle_files.is_empty() && (!metadata.is_empty() || !spec.documents.is_empty()) {
            return Err(BundleError::new(
                "",
                format!(
                    "the folder mixes one bundle's documents with bundles in the single-file form ({}: each has `documents` or `as_of` at its top, and is a bundle of its own): a bundle directory holds one bundle only; move those files out of it",
                    bundle_files.join(", ")
                ),
            ));
        }
        if spec.documents.is_empty() {
            if !bundle_files.is_empty() {
                return Err(BundleError::new(
                    "",
                    format!(
                        "not one bundle but a folder of {} bundle file(s) ({}): read each as a bundle of its own",
                        bundle_files.len(),
                        bundle_files.join(", ")
                    ),
                ));
            }
            return Err(BundleError::new(
                "",
                "the directory holds no `<document>.json` file: capture at least one response, such as item_get.json",
            ));
        }
        let label = metadata.first().map(|name| name.as_str());
        Bundle::from_spec(spec).map_err(|error| match label {
            Some(name) if !error.field.starts_with("documents.") => {
                let location = metadata_location(&metadata_text, &error.field);
                error.in_file(name, location)
            }
            _ => error,
        })
    }
}

/// The message for a bundle text the scanner refused: serde's reading of it, which names the
/// field, or the scanner's own when serde finds nothing wrong.
pub(crate) fn explain_rejection(text: &str, error: &crate::scan::ScanError) -> BundleError {
    match serde_reading(text) {
        Err(explained) => explained,
        Ok(_) => BundleError::from(error.clone()),
    }
}

/// The bundle as serde reads it: used only to word a rejection.
fn serde_reading(text: &str) -> Result<BundleSpec, BundleError> {
    let first = text.trim_start().chars().next();
    if first.is_some_and(|c| c != '{') {
        let is_json = serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok();
        return Err(BundleError::new(
            "",
            if is_json {
                "a bundle must be a JSON object with `documents` (and optionally `as_of`, `context`)"
            } else {
                "not valid JSON: a bundle is a JSON object with `documents`"
            },
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let spec: BundleSpec = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|error| spec_error(error.path().to_string(), &error.inner().to_string()))?;
    deserializer.end().map_err(|error| {
        BundleError::new(
            "",
            format!(
                "not a valid bundle: {}: a bundle is one JSON object",
                without_serde_position(&error.to_string())
            ),
        )
    })?;
    let has_documents =
        serde_json::from_str::<Value>(text).is_ok_and(|value| value.get("documents").is_some());
    if !has_documents {
        return Err(BundleError::new("", MISSING_DOCUMENTS));
    }
    Ok(spec)
}

/// What is wrong with the name of a file in a bundle directory that is not read but was
/// plainly meant to be: a document whose extension is `.json` in other letters
/// (`item_get.JSON`), or a misspelt metadata file (`bundel.yaml`, `bundle.yam`). Any other
/// file (notes, a README, an editor's backup ending in `~`) is skipped without a word.
fn misnamed(name: &str) -> Option<String> {
    // Read: the metadata, and every `*.json` file (a document, or a bundle file).
    if METADATA_FILES.contains(&name) || name.ends_with(".json") || name.ends_with('~') {
        return None;
    }
    let (stem, extension) = name.rsplit_once('.')?;
    if extension.eq_ignore_ascii_case("json") && !stem.is_empty() {
        return Some(format!(
            "{name} (a document's file ends in `.json`, in small letters: {stem}.json)"
        ));
    }
    let lower = name.to_ascii_lowercase();
    let (lower_stem, lower_extension) = lower.rsplit_once('.')?;
    const EXTENSIONS: [&str; 3] = ["json", "yaml", "yml"];
    let metadata_like = EXTENSIONS.contains(&lower_extension)
        || (lower_stem == "bundle"
            && crate::suggest::closest(lower_extension, &EXTENSIONS).is_some());
    match crate::suggest::closest(&lower, &METADATA_FILES) {
        Some(best) if metadata_like => Some(format!("{name} (did you mean `{best}`?)")),
        _ => None,
    }
}

/// Why a bundle in the single-file form without a `documents` key is refused.
pub(crate) const MISSING_DOCUMENTS: &str = "a bundle needs `documents`: an object of the captured responses by name, such as {\"item_get\": {...}} (`{}` when the rules read only `context`)";

/// Whether a JSON value is a bundle in the single-file form rather than one captured document:
/// an object with a member that [`is_bundle_member`] recognises. A bundle directory's
/// documents never are.
pub fn is_single_file_bundle(value: &Value) -> bool {
    value.as_object().is_some_and(|object| {
        object
            .iter()
            .any(|(key, value)| is_bundle_member(key, value.is_null()))
    })
}

/// Whether a top-level member marks a JSON object as a bundle in the single-file form rather
/// than a captured response: a `documents` key that is not null, an `as_of` key, or a
/// misspelling of `documents` (such as `documnets`; no Plaid response has any of these). A
/// misspelt bundle is then refused as a bundle, with a "did you mean", instead of being read
/// as a document and diagnosed as a bundle without its own documents and evaluation time.
pub fn is_bundle_member(key: &str, is_null: bool) -> bool {
    match key {
        "documents" => !is_null,
        "as_of" => true,
        _ => crate::suggest::closest(key, &["documents"]).is_some(),
    }
}

/// A bundle spec read from a directory's metadata file (`bundle.json` or `bundle.yaml`). A
/// syntax error is reported at its line and column, a key of the wrong type at the key's.
fn metadata_spec(name: &str, text: &str) -> Result<BundleSpec, BundleError> {
    let spec_error_at = |field: String, message: &str| {
        let error = spec_error(field, message);
        let location = metadata_location(text, &error.field);
        error.in_file(name, location)
    };
    if name.ends_with(".json") {
        serde_json::from_str::<Value>(text).map_err(|error| json_error(name, &error))?;
        let mut deserializer = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|error| spec_error_at(error.path().to_string(), &error.inner().to_string()))
    } else {
        crate::yaml_budget::check_alias_expansion(text).map_err(|error| {
            BundleError::new("", error.message).in_file(name, Some(error.location))
        })?;
        let value: serde_yaml::Value = serde_yaml::from_str(text).map_err(|error| {
            let location = error.location().map(|l| Location {
                line: l.line(),
                column: l.column(),
            });
            BundleError::new(
                "",
                format!(
                    "not valid YAML: {}",
                    without_serde_position(&error.to_string())
                ),
            )
            .in_file(name, location)
        })?;
        // Through a `Value`, so that YAML's scalars keep their types (`as_of: 5` is a number,
        // not the string "5"); the positions come from an index of the text.
        serde_path_to_error::deserialize(value)
            .map_err(|error| spec_error_at(error.path().to_string(), &error.inner().to_string()))
    }
}

/// Where the key of `field` (`as_of`, `context.x`) is in a metadata file's text (JSON is read as
/// YAML), for an error found after deserializing it; `None` for the whole file.
fn metadata_location(text: &str, field: &str) -> Option<Location> {
    if field.is_empty() {
        return None;
    }
    crate::positions::index(text).find_key(field)
}

fn json_error(name: &str, error: &serde_json::Error) -> BundleError {
    let location = Location {
        line: error.line(),
        column: error.column(),
    };
    BundleError::new(
        "",
        format!(
            "not valid JSON: {}",
            without_serde_position(&error.to_string())
        ),
    )
    .in_file(name, Some(location))
}

/// A serde error about a bundle's keys, explained, with its field path.
fn spec_error(field: String, message: &str) -> BundleError {
    let explained = crate::serde_text::explain(message);
    let field = if field == "." { String::new() } else { field };
    let field = match explained.unknown_key {
        Some(name) if !field.ends_with(name) => crate::load::join_path(&field, name),
        _ => field,
    };
    let hint = type_hint(&field).filter(|_| explained.wrong_type);
    let message = match hint {
        Some(hint) => format!("not a valid bundle: {}: {hint}", explained.message),
        None => format!("not a valid bundle: {}", explained.message),
    };
    BundleError::new(field, message)
}

/// What to write instead, for a top-level bundle key of the wrong type.
fn type_hint(field: &str) -> Option<&'static str> {
    match field {
        "documents" => Some(
            "write `documents` as an object from each document's name to its response body, such as {\"<name>\": {...}}",
        ),
        "context" => Some(
            "write `context` as an object of names and values, such as {\"<name>\": \"<value>\"}",
        ),
        "as_of" => Some(
            "write the evaluation time as an RFC 3339 text with an offset, such as \"2026-11-20T12:00:00Z\"",
        ),
        "description" => Some("write `description` as a text"),
        _ => None,
    }
}

/// Checks that a bundle's `id` is a string or a number, the kinds of key a join can use.
fn check_id(id: &Value) -> Result<(), BundleError> {
    if id.is_string() || id.is_number() {
        return Ok(());
    }
    Err(BundleError::new(
        "id",
        format!(
            "`id` must be a string or a number (it is copied to the output record to join it back to its input), not {id}"
        ),
    ))
}

/// Parses an RFC 3339 evaluation time, with a message that says how to write one.
pub fn parse_as_of(text: &str) -> Result<Timestamp, BundleError> {
    crate::time::parse_rfc3339(text).ok_or_else(|| {
        BundleError::new(
            "as_of",
            format!(
                "`{text}` is not an RFC 3339 timestamp: write it with a date, a time with seconds and an offset of at most 23:59, such as `2026-11-20T12:00:00Z`"
            ),
        )
    })
}

/// Checks that `name` can name a document: letters, digits, `_` and `-`, and not reserved.
pub fn check_document_name(name: &str) -> Result<(), BundleError> {
    // The field is worded only for an error: every bundle's every document name is checked.
    let field = || format!("documents.{name}");
    if RESERVED_NAMES.contains(&name) {
        return Err(BundleError::new(
            field(),
            format!("`{name}` is reserved and cannot name a document: rename it"),
        ));
    }
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !valid {
        return Err(BundleError::new(
            field(),
            format!("`{name}` cannot name a document: use letters, digits, `_` and `-` only"),
        ));
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
    fn a_misnamed_file_in_a_bundle_directory_is_an_error_and_other_files_are_not() {
        let read = |files: &[(&str, &str)]| {
            Bundle::from_dir(files.iter().map(|(name, _)| *name), |name| {
                let text = files.iter().find(|(n, _)| *n == name).map(|(_, t)| *t);
                text.map(str::to_owned)
                    .ok_or_else(|| "no such file".to_owned())
            })
        };
        let document = r#"{"item": {"item_id": "item-1"}}"#;
        for (name, says) in [
            ("bundel.yaml", "bundel.yaml (did you mean `bundle.yaml`?)"),
            ("Bundle.yaml", "Bundle.yaml (did you mean `bundle.yaml`?)"),
            ("bundle.yam", "bundle.yam (did you mean `bundle.yaml`?)"),
            (
                "item_get.JSON",
                "item_get.JSON (a document's file ends in `.json`",
            ),
            ("accounts_get.Json", "accounts_get.Json (a document's"),
        ] {
            let error = read(&[("item_get.json", document), (name, "as_of: x")]).unwrap_err();
            assert!(error.to_string().contains(says), "{name}: {error}");
            assert!(error.to_string().contains("rename"), "{error}");
        }
        for name in [
            "notes.txt",
            "README.md",
            "bundle.yaml~",
            ".DS_Store",
            "capture.har",
            "bundle.txt",
            "item_get.yaml",
            "bundle.yaml.bak",
            ".bundle.yaml.swp",
        ] {
            let bundle = read(&[("item_get.json", document), (name, "x")]);
            assert!(bundle.is_ok(), "{name}: {:?}", bundle.err());
        }
    }

    #[test]
    fn a_bundle_needs_a_documents_key_which_may_be_empty() {
        for text in ["{}", r#"{"as_of": "2026-11-20T12:00:00Z", "context": {}}"#] {
            let error = Bundle::from_json(text).unwrap_err();
            assert_eq!(error.to_string(), MISSING_DOCUMENTS, "{text}");
            let value: Value = serde_json::from_str(text).unwrap();
            let error = Bundle::from_value(value).unwrap_err();
            assert_eq!(error.to_string(), MISSING_DOCUMENTS, "{text}");
        }
        assert!(Bundle::from_json(r#"{"documents": {}}"#).is_ok());
        assert!(Bundle::from_value(serde_json::json!({"documents": {}})).is_ok());
    }

    #[test]
    fn bundle_keys_and_misspelt_documents_mark_a_bundle_file_and_plaid_keys_do_not() {
        for key in [
            "documents",
            "as_of",
            "documnets",
            "document",
            "Documents",
            "docments",
        ] {
            assert!(is_bundle_member(key, false), "{key}");
        }
        assert!(!is_bundle_member("documents", true));
        // The top-level keys of Plaid's responses and error bodies, and a bundle's other keys
        // (which a captured response might share).
        for key in [
            "item",
            "status",
            "request_id",
            "accounts",
            "institution",
            "added",
            "modified",
            "removed",
            "next_cursor",
            "has_more",
            "transactions",
            "total_transactions",
            "error_type",
            "error_code",
            "error_message",
            "display_message",
            "causes",
            "suggested_action",
            "documentation_url",
            "error_code_reason",
            "identity",
            "holdings",
            "securities",
            "liabilities",
            "numbers",
            "context",
            "description",
            "id",
            "payment_risk_assessment",
            "transactions_update_status",
            "investments",
        ] {
            assert!(!is_bundle_member(key, false), "{key}");
        }
        assert!(is_single_file_bundle(&serde_json::json!({"documnets": {}})));
        assert!(is_single_file_bundle(&serde_json::json!({"as_of": null})));
        assert!(!is_single_file_bundle(
            &serde_json::json!({"documents": null, "item": {}})
        ));
        assert!(!is_single_file_bundle(
            &serde_json::json!([{"documents": {}}])
        ));
    }

    #[test]
    fn an_unknown_key_gets_a_did_you_mean_and_no_serde_position() {
        let error = Bundle::from_json(r#"{"documets": {}}"#).unwrap_err();
        assert_eq!(
            error.to_string(),
            "documets: not a valid bundle: unknown key `documets`: did you mean `documents`?"
        );
    }

    #[test]
    fn a_key_of_the_wrong_type_says_what_to_write_instead() {
        for (text, field, hint) in [
            (
                r#"{"documents": [1, 2]}"#,
                "documents",
                "write `documents` as an object",
            ),
            (
                r#"{"documents": {}, "context": [1]}"#,
                "context",
                "write `context` as an object",
            ),
            (
                r#"{"documents": {}, "as_of": 5}"#,
                "as_of",
                "RFC 3339 text with an offset",
            ),
            (
                r#"{"documents": {}, "description": 5}"#,
                "description",
                "as a text",
            ),
        ] {
            let error = Bundle::from_json(text).unwrap_err();
            assert_eq!(error.field, field, "{text}");
            assert!(error.message.contains(hint), "{text}: {}", error.message);
        }
        // Not every mistake at these keys is one of type: an unknown key keeps its own advice.
        let error = Bundle::from_json(r#"{"documets": {}}"#).unwrap_err();
        assert!(!error.message.contains("write"), "{}", error.message);
    }

    #[test]
    fn a_metadata_key_of_the_wrong_type_is_reported_at_its_line_and_column() {
        let error_of = |name: &str, text: &str| {
            let files = [(name, text), ("item_get.json", "{}")];
            Bundle::from_dir([name, "item_get.json"], |wanted| {
                let (_, text) = files.iter().find(|(n, _)| *n == wanted).unwrap();
                Ok(text.to_string())
            })
            .unwrap_err()
        };
        let at = |line, column| Some(Location { line, column });
        let error = error_of("bundle.yaml", "description: x\nas_of:\n  - 1\n");
        assert_eq!(error.field, "as_of");
        assert_eq!(error.location, at(2, 1));
        assert_eq!(
            error.message,
            "not a valid bundle: expected a text, found a list: write the evaluation time as an RFC 3339 text with an offset, such as \"2026-11-20T12:00:00Z\""
        );
        // YAML's scalars keep their types: a number is not a string.
        for (text, field, line) in [
            ("description: 5\n", "description", 1),
            ("as_of: 5\n", "as_of", 1),
            ("context: {1: a}\n", "context.?", 1),
            ("description: x\nid: [1]\n", "id", 2),
            ("description: x\n\nas_of: yesterday\n", "as_of", 3),
            ("description: x\ndocuments: {item_get: {}}\n", "", 2),
        ] {
            let error = error_of("bundle.yaml", text);
            assert_eq!(error.field, field, "{text}");
            assert_eq!(
                error.location.map(|l| l.line),
                Some(line),
                "{text}: {error}"
            );
        }
        let error = error_of("bundle.json", "{\"description\": \"x\",\n \"as_of\": 5}");
        assert_eq!(error.field, "as_of");
        assert_eq!(error.location, at(2, 2));
        assert!(!error.message.contains(" at line "), "{}", error.message);
        let error = error_of("bundle.json", "{\"description\": \"x\",\n \"id\": {}}");
        assert_eq!((error.field.as_str(), error.location), ("id", at(2, 2)));
        // An empty metadata file, or one that is only `null`, describes nothing.
        for text in ["", "~\n", "null\n"] {
            let files = [("bundle.yaml", text), ("item_get.json", "{}")];
            Bundle::from_dir(["bundle.yaml", "item_get.json"], |wanted| {
                let (_, text) = files.iter().find(|(n, _)| *n == wanted).unwrap();
                Ok(text.to_string())
            })
            .unwrap_or_else(|e| panic!("{text:?}: {e}"));
        }
    }
}
