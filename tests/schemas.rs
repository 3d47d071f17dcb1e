//! The committed JSON Schemas of the input formats under `schemas/` match the code; the
//! default pack validates against its own schema's basic shape. (`output_schemas.rs` checks
//! the output schemas, and every output against them.)

mod support;

use balance_doctor_engine::{SchemaKind, json_schema};

#[test]
fn committed_schemas_match_the_code() {
    for (kind, file) in [
        (SchemaKind::Rules, "rules.schema.json"),
        (SchemaKind::Bundle, "bundle.schema.json"),
    ] {
        let path = support::root().join("schemas").join(file);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == json_schema(kind),
            "{} is out of date: run `cargo run -- schema {} > schemas/{file}`",
            path.display(),
            file.trim_end_matches(".schema.json")
        );
    }
}

#[test]
fn default_rule_file_names_its_schema() {
    let first_line = balance_doctor::DEFAULT_RULES
        .lines()
        .next()
        .unwrap_or_default();
    assert_eq!(
        first_line,
        "# yaml-language-server: $schema=../schemas/rules.schema.json"
    );
    assert!(
        support::root()
            .join("rules/../schemas/rules.schema.json")
            .is_file()
    );
}

#[test]
fn committed_test_file_schema_matches_the_code() {
    let path = support::root().join("schemas/tests.schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == balance_doctor::testing::json_schema(),
        "{} is out of date: run `cargo run -- schema tests > schemas/tests.schema.json`",
        path.display()
    );
}
