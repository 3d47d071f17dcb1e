//! `balance-doctor`: explains why a Plaid Item's balance is out of date.
//!
//! The binary is a thin shell over `balance-doctor-engine`: it reads files, picks the
//! evaluation time, renders the diagnosis and maps the outcome to an exit code
//! (0: done, 1: a finding at or above `--fail-on`, 2: an error in the input or the rules).

use std::io::Write as _;
use std::process::ExitCode;

use balance_doctor::cli;
use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    match cli::run(args) {
        Ok(code) => code,
        // `| head` went away: what was written is all that was wanted.
        Err(error) if balance_doctor::failed_on_closed_output(&error) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "error: {error:#}");
            ExitCode::from(2)
        }
    }
}
