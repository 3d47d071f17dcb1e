//! `balance-doctor`: explains why a Plaid Item's balance is out of date.
//!
//! The binary is a thin shell over `balance-doctor-engine`: it reads files, picks the
//! evaluation time, renders the diagnosis and maps the outcome to an exit code
//! (0: done, 1: a finding at or above `--fail-on`, 2: an error in the input or the rules).

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use balance_doctor::cli;
use clap::Parser;

/// The binary's allocator, mimalloc with its memory options: see the file.
mod allocator;

fn main() -> ExitCode {
    let outcome = match cli::Args::try_parse() {
        Ok(args) => cli::run(args),
        // `--help`, `-h`, `--version` and `<command> --help` are output like any other: a
        // failed write is decided below, not ignored as clap's own `exit` would.
        Err(shown) if !shown.use_stderr() => shown
            .print()
            .and_then(|()| std::io::stdout().flush())
            .context(balance_doctor::WRITING_OUTPUT)
            .map(|()| ExitCode::SUCCESS),
        // A usage error: clap's message on stderr, exit 2.
        Err(usage) => usage.exit(),
    };
    match outcome {
        Ok(code) => code,
        // `| head` went away: what was written is all that was wanted.
        Err(error) if balance_doctor::failed_on_closed_output(&error) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "error: {error:#}");
            ExitCode::from(2)
        }
    }
}
