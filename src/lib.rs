//! The `balance-doctor` command line, as a library so that tests and tools reuse its file
//! handling. Everything that touches files, the clock or the terminal lives here; the rules
//! engine itself is the pure `balance-doctor-engine` crate.

#![warn(missing_docs)]

/// A line on stderr. A failure to write it is ignored: there is nowhere left to report it,
/// and a note must never stop a run or crash it (as `eprintln!` would).
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
pub(crate) use note;

/// `Display` for `clap::ValueEnum`s: the value as typed on the command line (`jsonl`,
/// `test-report`), so that what is printed can be passed back as an argument.
#[cfg(feature = "cli")]
macro_rules! display_as_argument {
    ($($name:ty),+ $(,)?) => {$(
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match clap::ValueEnum::to_possible_value(self) {
                    Some(value) => f.pad(value.get_name()),
                    // No variant is skipped (`#[value(skip)]`); if one were, its Rust name.
                    None => write!(f, "{self:?}"),
                }
            }
        }
    )+};
}
#[cfg(feature = "cli")]
pub(crate) use display_as_argument;

pub mod batch;
#[cfg(feature = "cli")]
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

/// Whether a command failed only because its output was closed (see `output_closed`): the
/// one place that decides it, for every command, is `main`, which then exits 0 quietly.
/// Any other failed write is an error (exit 2) that says so.
pub fn failed_on_closed_output(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(output_closed)
    })
}

/// What a failed write to stdout is reported as (`error: cannot write the output: ...`).
pub const WRITING_OUTPUT: &str = "cannot write the output";

/// Writes `bytes` to stdout and flushes it; a failure is an error that names the output.
#[cfg(feature = "cli")]
pub(crate) fn write_stdout(bytes: impl AsRef<[u8]>) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(bytes.as_ref())
        .and_then(|()| out.flush())
        .context(WRITING_OUTPUT)
}

/// The embedded default rule pack (the engine's [`DEFAULT_PACK`](balance_doctor_engine::DEFAULT_PACK)).
pub const DEFAULT_RULES: &str = balance_doctor_engine::DEFAULT_PACK.text;
/// The name the embedded pack is reported under.
pub const DEFAULT_RULES_NAME: &str = balance_doctor_engine::DEFAULT_PACK.name;

pub use balance_doctor_engine::default_rule_set;
