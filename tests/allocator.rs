//! The binary's allocator options (`src/allocator.rs`): on Linux a constructor that runs before
//! mimalloc initializes sets the defaults of two memory options. mimalloc prints every option it
//! settled on when `MIMALLOC_VERBOSE` is set; these tests read that list.
#![cfg(target_os = "linux")]

use std::collections::BTreeMap;
use std::process::Command;

/// Runs `balance-doctor --version` with `MIMALLOC_VERBOSE=1` and the given `MIMALLOC_*`
/// variables (no others from the test's environment), and returns the options mimalloc printed.
fn mimalloc_options(environment: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_balance-doctor"));
    command.arg("--version");
    for (name, _) in std::env::vars_os() {
        if name
            .to_string_lossy()
            .to_ascii_uppercase()
            .starts_with("MIMALLOC_")
        {
            command.env_remove(name);
        }
    }
    command
        .env("MIMALLOC_VERBOSE", "1")
        .envs(environment.iter().copied());
    let output = command.output().expect("the binary runs");
    assert!(output.status.success(), "{output:?}");
    // Lines such as `option 'purge_delay': 0 ` and `option 'arena_reserve': 1048576 KiB`.
    let options: BTreeMap<String, String> = String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter_map(|line| {
            let (name, value) = line.strip_prefix("option '")?.split_once("': ")?;
            let value = value.split_whitespace().next().unwrap_or_default();
            Some((name.to_owned(), value.to_owned()))
        })
        .collect();
    // The list was read: the option that asked for it is in it.
    assert_eq!(
        options.get("verbose").map(String::as_str),
        Some("1"),
        "no option list in stderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    options
}

fn option<'a>(options: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    options.get(name).map(String::as_str)
}

#[test]
fn freed_memory_goes_back_soon_and_there_are_no_transparent_huge_pages() {
    let options = mimalloc_options(&[]);
    // mimalloc v3's own defaults are 1000 ms and 1.
    assert_eq!(option(&options, "purge_delay"), Some("10"));
    assert_eq!(option(&options, "allow_thp"), Some("0"));
}

#[test]
fn the_environment_still_decides() {
    let options = mimalloc_options(&[("MIMALLOC_PURGE_DELAY", "250"), ("MIMALLOC_ALLOW_THP", "1")]);
    assert_eq!(option(&options, "purge_delay"), Some("250"));
    assert_eq!(option(&options, "allow_thp"), Some("1"));
}
