//! Every command ends cleanly when its output fails: a closed pipe (`| head`) is a quiet exit
//! 0, any other write error (a full disk, here `/dev/full`) is exit 2 with a message, and
//! nothing panics. `main` decides it, in one place, for clap's help and version text too.

mod support;

use std::process::{Command, Stdio};

const COMMANDS: &[&[&str]] = &[
    &["diagnose", "fixtures/several-causes"],
    &["diagnose", "--format", "json", "fixtures/several-causes"],
    &[
        "diagnose",
        "--format",
        "markdown",
        "--explain",
        "fixtures/several-causes",
    ],
    &["diagnose", "--format", "jsonl", "--explain", "fixtures"],
    &["diagnose", "--format", "human", "fixtures"],
    &["diagnose", "--summary", "fixtures"],
    &[
        "diagnose",
        "--summary",
        "--summary-format",
        "json",
        "fixtures",
    ],
    &["rules", "list"],
    &["rules", "show"],
    &["rules", "check", "rules/default.yaml"],
    &["rules", "test"],
    &["rules", "test", "--format", "junit"],
    &["schema", "rules"],
    &["schema", "diagnosis"],
    &["generate", "--count", "2000"],
    &["completions", "bash"],
    &["man"],
    // Printed by clap, but decided in the same place as every other output.
    &["--help"],
    &["-h"],
    &["--version"],
    &["-V"],
    &["help"],
    &["help", "diagnose"],
    &["diagnose", "--help"],
    &["diagnose", "-h"],
    &["rules", "--help"],
    &["rules", "check", "--help"],
    &["rules", "help", "test"],
];

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_balance-doctor"));
    command.args(args).current_dir(support::root());
    command
}

#[test]
fn a_full_disk_is_exit_2_with_a_message() {
    for args in COMMANDS {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full exists");
        let output = command(args)
            .stdout(full)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: cannot write the output: No space left on device"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_closed_pipe_is_a_quiet_exit_0() {
    for args in COMMANDS {
        let mut child = command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away at once: every write the command makes meets a closed pipe
        // (or, for what fits the pipe's buffer before this, nothing at all).
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}
