//! The `balance-doctor` command line, as a library so that tests and tools reuse its file
//! handling. Everything that touches files, the clock or the terminal lives here; the rules
//! engine itself is the pure `balance-doctor-engine` crate.

#![warn(missing_docs)]

pub mod batch;
pub mod cli;
pub mod discover;
pub mod generate;
pub mod input;
pub mod render;
pub mod rules;
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

/// The embedded default rule pack (the engine's [`DEFAULT_PACK`](balance_doctor_engine::DEFAULT_PACK)).
pub const DEFAULT_RULES: &str = balance_doctor_engine::DEFAULT_PACK.text;
/// The name the embedded pack is reported under.
pub const DEFAULT_RULES_NAME: &str = balance_doctor_engine::DEFAULT_PACK.name;

pub use balance_doctor_engine::default_rule_set;
