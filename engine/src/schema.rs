//! JSON Schemas (draft-07) of the three serialized contracts, generated from the same types
//! the loader reads and the evaluator writes.

use schemars::generate::SchemaSettings;

use crate::spec::RuleFile;
use crate::{BundleSpec, Diagnosis};

/// Which contract a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchemaKind {
    /// A rules file (YAML).
    Rules,
    /// A bundle in its single-file JSON form.
    Bundle,
    /// The diagnosis JSON.
    Diagnosis,
}

/// The pretty-printed JSON Schema of `kind`, ending with a newline.
pub fn json_schema(kind: SchemaKind) -> String {
    // Input formats are described as they are read; the diagnosis as it is written, so that
    // a field left out when empty (`skip_serializing_if`) is not required.
    let input = SchemaSettings::draft07();
    let schema = match kind {
        SchemaKind::Rules => input.into_generator().into_root_schema_for::<RuleFile>(),
        SchemaKind::Bundle => {
            // `documents` has a default only for a bundle directory's metadata file (which must
            // not hold it); a bundle in the single-file form must have it.
            let mut schema = input.into_generator().into_root_schema_for::<BundleSpec>();
            schema.insert("required".to_owned(), serde_json::json!(["documents"]));
            schema
        }
        SchemaKind::Diagnosis => input
            .for_serialize()
            .into_generator()
            .into_root_schema_for::<Diagnosis>(),
    };
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

impl SchemaKind {
    /// The contract's name, as in `schemas/<name>.schema.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            SchemaKind::Rules => "rules",
            SchemaKind::Bundle => "bundle",
            SchemaKind::Diagnosis => "diagnosis",
        }
    }
}

impl std::fmt::Display for SchemaKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}
