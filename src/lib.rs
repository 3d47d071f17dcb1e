//! The `balance-doctor` command line, as a library so that tests and tools reuse its file
//! handling. Everything that touches files, the clock or the terminal lives here; the rules
//! engine itself is the pure `balance-doctor-engine` crate.

pub mod batch;
pub mod cli;
pub mod discover;
pub mod generate;
pub mod input;
pub mod render;
pub mod summary;
pub mod testing;

/// Whether a write failed only because the reader of the output went away (as with
/// `| head`): the run then ends quietly, with the output written so far.
pub(crate) fn output_closed(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::BrokenPipe
}

/// A write's result, with a closed output (see [`output_closed`]) counted as success.
pub(crate) fn unless_output_closed(result: std::io::Result<()>) -> std::io::Result<()> {
    match result {
        Err(error) if output_closed(&error) => Ok(()),
        other => other,
    }
}

/// The embedded default rule pack.
pub const DEFAULT_RULES: &str = include_str!("../rules/default.yaml");
/// The name the embedded pack is reported under.
pub const DEFAULT_RULES_NAME: &str = "<default>/rules/default.yaml";

/// Compiles the embedded default rule pack.
pub fn default_rule_set()
-> Result<balance_doctor_engine::RuleSet, balance_doctor_engine::RuleErrors> {
    balance_doctor_engine::compile(&[balance_doctor_engine::RuleText {
        name: DEFAULT_RULES_NAME,
        text: DEFAULT_RULES,
    }])
}
