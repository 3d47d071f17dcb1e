//! The release binary as a user runs it: stdout, stderr and exit code, snapshotted for good and
//! broken inputs.

mod support;

use std::path::Path;
use std::process::Command;

/// Runs the binary from the repository root and renders what a user sees.
fn run(args: &[&str]) -> String {
    let output = support::run_in(&support::root(), args);
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        output
            .status
            .code()
            .map_or("signal".to_owned(), |c| c.to_string()),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A fresh folder of its own under the temporary directory, for a test's input files.
fn scratch(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bd-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn exit_code(args: &[&str]) -> i32 {
    Command::new(env!("CARGO_BIN_EXE_balance-doctor"))
        .args(args)
        .current_dir(support::root())
        .output()
        .expect("the binary runs")
        .status
        .code()
        .expect("an exit code")
}

#[test]
fn diagnose_prints_a_readable_report() {
    insta::assert_snapshot!(run(&["diagnose", "fixtures/several-causes"]));
}

#[test]
fn diagnose_explains_every_rule() {
    insta::assert_snapshot!(run(&[
        "diagnose",
        "--explain",
        "fixtures/login-repaired-webhook"
    ]));
}

#[test]
fn diagnose_json_is_the_diagnosis_plus_where_as_of_came_from() {
    let output = Command::new(env!("CARGO_BIN_EXE_balance-doctor"))
        .args([
            "diagnose",
            "--format",
            "json",
            "--as-of",
            "2026-12-01T00:00:00Z",
        ])
        .arg("fixtures/consent-expiring-soon")
        .current_dir(support::root())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["as_of"], "2026-12-01T00:00:00Z");
    assert_eq!(report["as_of_from"], "flag");
    assert_eq!(report["version"], 2);
    // Eleven days later the consent expiration time has passed, so the warning about an
    // upcoming expiry is gone. The capture, read as of that time, also holds a real-time balance
    // call that succeeded, which a lapsed consent would have refused: the responses disagree
    // (`item-state-conflict`), rather than a confident `consent-expired`.
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(!rules.contains(&"consent-expiring"), "{rules:?}");
    assert!(rules.contains(&"item-state-conflict"), "{rules:?}");
    assert!(!rules.contains(&"consent-expired"), "{rules:?}");
}

#[test]
fn without_any_as_of_the_current_time_is_used_and_said() {
    let dir = scratch("no-as-of");
    std::fs::write(
        dir.join("item_get.json"),
        r#"{"item": {"item_id": "i-1", "webhook": null, "error": null, "products": ["transactions"], "billed_products": ["transactions"], "available_products": [], "consent_expiration_time": null, "update_type": "background"}, "status": null, "request_id": "r"}"#,
    )
    .unwrap();
    let output = run(&["diagnose", "--format", "json", dir.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(output.starts_with("exit: 0"), "{output}");
    assert!(output.contains(r#""as_of_from": "clock""#), "{output}");
}

#[test]
fn fail_on_sets_the_exit_code() {
    // several-causes has warnings and an info finding, no error.
    assert_eq!(exit_code(&["diagnose", "fixtures/several-causes"]), 0);
    assert_eq!(
        exit_code(&["diagnose", "--fail-on", "error", "fixtures/several-causes"]),
        0
    );
    assert_eq!(
        exit_code(&[
            "diagnose",
            "--fail-on",
            "warning",
            "fixtures/several-causes"
        ]),
        1
    );
    assert_eq!(
        exit_code(&["diagnose", "--fail-on", "info", "fixtures/several-causes"]),
        1
    );
    assert_eq!(
        exit_code(&[
            "diagnose",
            "--fail-on",
            "info",
            "fixtures/healthy-transactions-item"
        ]),
        0
    );
}

/// In a batch run (several inputs, worker threads), `--fail-on` reads each record's worst
/// severity whether the diagnoses are kept (`--summary`) or dropped by the workers.
#[test]
fn fail_on_sets_the_exit_code_of_a_batch() {
    let healthy = "fixtures/healthy-transactions-item";
    let several = "fixtures/several-causes";
    for summary in [&[][..], &["--summary"][..]] {
        for (limit, inputs, expected) in [
            ("warning", [healthy, several], 1),
            ("error", [healthy, several], 0),
            ("info", [healthy, healthy], 0),
        ] {
            let mut args = vec!["diagnose", "--format", "jsonl", "--threads", "2"];
            args.extend(summary);
            args.extend(["--fail-on", limit]);
            args.extend(inputs);
            assert_eq!(exit_code(&args), expected, "{args:?}");
        }
    }
}

#[test]
fn broken_bundles_exit_2_with_a_message_that_says_where() {
    let mut report = String::new();
    for case in [
        "tests/bad-bundles/not-json",
        "tests/bad-bundles/reserved-name",
        "tests/bad-bundles/empty-dir",
        "tests/bad-bundles/bad-as-of",
        "tests/bad-bundles/two-metadata",
        "tests/bad-bundles/documents-in-metadata",
        "tests/bad-bundles/unknown-key.json",
        "tests/bad-bundles/does-not-exist",
    ] {
        report.push_str(&format!("=== {case}\n{}", run(&["diagnose", case])));
    }
    report.push_str(&format!(
        "=== bad --as-of\n{}",
        run(&["diagnose", "--as-of", "last tuesday", "fixtures/no-webhook"])
    ));
    insta::assert_snapshot!(report);
}

#[test]
fn an_edited_copy_of_the_rules_changes_the_diagnosis_without_a_rebuild() {
    let dir = scratch("edited-rules");
    let default = std::fs::read_to_string(support::root().join("rules/default.yaml")).unwrap();
    let fires = |rules: &Path, fixture: &str, rule: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_balance-doctor"))
            .args(["diagnose", "--format", "json", "--rules"])
            .arg(rules)
            .arg(fixture)
            .current_dir(support::root())
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule)
            .cloned()
    };
    let unchanged = dir.join("unchanged.yaml");
    std::fs::write(&unchanged, &default).unwrap();
    assert!(
        fires(
            &unchanged,
            "fixtures/overdue-refresh",
            "integration-problem"
        )
        .is_some()
    );

    // A threshold: five days is no longer overdue when the limit is ten.
    let threshold = dir.join("threshold.yaml");
    std::fs::write(
        &threshold,
        default.replace("overdue_after: 48h", "overdue_after: 10d"),
    )
    .unwrap();
    assert!(
        fires(
            &threshold,
            "fixtures/overdue-refresh",
            "integration-problem"
        )
        .is_none()
    );

    // A severity.
    let severity = dir.join("severity.yaml");
    let edited = default.replacen(
        "  - id: no-webhook\n    title: No webhook URL is registered for the Item\n    severity: info",
        "  - id: no-webhook\n    title: No webhook URL is registered for the Item\n    severity: error",
        1,
    );
    assert_ne!(
        edited, default,
        "the no-webhook rule's header moved: update this test"
    );
    std::fs::write(&severity, edited).unwrap();
    let finding = fires(&severity, "fixtures/no-webhook", "no-webhook").unwrap();
    assert_eq!(finding["severity"], "error");

    // A new rule, written in YAML alone.
    let added = dir.join("added.yaml");
    std::fs::write(
        &added,
        format!(
            "{default}\n  - id: chase-item\n    title: The Item is at Chase\n    severity: info\n    requires: [item]\n    values: {{ bank: \"item:$.institution_id\" }}\n    when: {{ path: \"item:$.institution_id\", equals: ins_56 }}\n    message: \"Institution {{bank}}\"\n"
        ),
    )
    .unwrap();
    let chase = std::fs::read_dir(support::root().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            std::fs::read_to_string(p.join("item_get.json")).is_ok_and(|t| t.contains("\"ins_56\""))
        })
        .expect("a fixture at Chase");
    let finding = fires(&added, chase.to_str().unwrap(), "chase-item").unwrap();
    assert_eq!(finding["message"], "Institution ins_56");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_broken_rules_file_exits_2_and_lists_every_problem() {
    insta::assert_snapshot!(run(&[
        "rules",
        "check",
        "tests/rule-errors/wrong-value-types.yaml"
    ]));
    insta::assert_snapshot!(
        "diagnose_with_broken_rules",
        run(&[
            "diagnose",
            "--rules",
            "tests/rule-errors/unknown-key-typo.yaml",
            "fixtures/no-webhook"
        ])
    );
}

#[test]
fn rules_check_and_list_work_on_the_default_pack() {
    insta::assert_snapshot!(run(&["rules", "check", "rules/default.yaml"]));
    insta::assert_snapshot!(run(&["rules", "list"]));
    assert_eq!(exit_code(&["rules", "show"]), 0);
}

#[test]
fn rule_files_extend_and_override_the_default_pack() {
    insta::assert_snapshot!(
        "compose_list",
        run(&["rules", "list", "--rules", "tests/compose/personal.yaml"])
    );
    insta::assert_snapshot!(
        "compose_broken",
        run(&["rules", "check", "tests/compose/broken-overrides.yaml"])
    );
    insta::assert_snapshot!(
        "compose_cycle",
        run(&["rules", "check", "tests/compose/loop-a.yaml"])
    );

    let diagnose = |rules: &str, fixture: &str| -> serde_json::Value {
        let output = Command::new(env!("CARGO_BIN_EXE_balance-doctor"))
            .args(["diagnose", "--format", "json", "--rules", rules, fixture])
            .current_dir(support::root())
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let finding = |report: &serde_json::Value, rule: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule)
            .cloned()
    };
    // Five days without an update is overdue by default, not with the team's 10d.
    let default = diagnose("rules/default.yaml", "fixtures/overdue-refresh");
    assert!(finding(&default, "integration-problem").is_some());
    let team = diagnose("tests/compose/team.yaml", "fixtures/overdue-refresh");
    assert!(finding(&team, "integration-problem").is_none());
    // The team's tolerance of 100 hides a 43.17 difference.
    let team = diagnose(
        "tests/compose/team.yaml",
        "fixtures/cached-differs-from-realtime",
    );
    assert!(finding(&team, "cached-differs-from-realtime").is_none());
    // Disabled by the team.
    let cadence = diagnose("tests/compose/team.yaml", "fixtures/refresh-cadence-30h");
    assert!(finding(&cadence, "refresh-cadence").is_none());
    // The personal layer's severity wins over the team's; the rule still comes from the pack.
    let personal = diagnose("tests/compose/personal.yaml", "fixtures/no-webhook");
    let no_webhook = finding(&personal, "no-webhook").unwrap();
    assert_eq!(no_webhook["severity"], "error");
    assert_eq!(no_webhook["rule_file"], "<default>/rules/default.yaml");
    // A rule in a file that extends the pack makes a pack rule stand down with `supersedes`.
    let pack = diagnose("rules/default.yaml", "fixtures/unexplained-item-error");
    assert!(finding(&pack, "item-error").is_some());
    let team = diagnose(
        "tests/compose/supersede.yaml",
        "fixtures/unexplained-item-error",
    );
    assert!(finding(&team, "item-error").is_none());
    assert!(finding(&team, "known-unsupported-bank").is_some());
    // Elsewhere the pack rule still fires.
    let other = diagnose(
        "tests/compose/supersede.yaml",
        "fixtures/mfa-change-login-required",
    );
    assert!(finding(&other, "reauthentication-required").is_some());
}

#[test]
fn rules_test_runs_the_default_cases_and_reports_failures_readably() {
    let passing = run(&["rules", "test", "--min-coverage", "100"]);
    assert!(passing.starts_with("exit: 0"), "{passing}");
    assert!(passing.contains("coverage: 100%"), "{passing}");
    insta::assert_snapshot!(
        "rules_test_failures",
        run(&["rules", "test", "tests/rule-tests"])
    );
    insta::assert_snapshot!(
        "rules_test_junit",
        run(&[
            "rules",
            "test",
            "--format",
            "junit",
            "tests/rule-tests/wrong.test.yaml"
        ])
    );
    let json = run(&["rules", "test", "--format", "json", "tests/rule-tests"]);
    assert!(json.starts_with("exit: 1"), "{json}");
    // Coverage below the minimum fails even when every case passes.
    let low = run(&[
        "rules",
        "test",
        "--min-coverage",
        "100",
        "--rules",
        "tests/compose/team.yaml",
        "rules/tests/default.test.yaml",
    ]);
    assert!(low.starts_with("exit: 1"), "{low}");
    assert!(low.contains("chase-item"), "{low}");
    assert_eq!(exit_code(&["rules", "test", "tests/no-such-dir"]), 2);
    // A minimum that is no percentage is refused, not taken as a gate that never (NaN) or
    // always (150) fails.
    for bad in ["NaN", "150", "inf"] {
        let refused = run(&["rules", "test", "--min-coverage", bad]);
        assert!(refused.starts_with("exit: 2"), "{refused}");
        assert!(
            refused.contains("is not a percentage from 0 to 100"),
            "{refused}"
        );
    }
}

#[test]
fn failed_records_are_counted_on_stderr() {
    let dir = scratch("mixed");
    let mixed = dir.join("mixed.jsonl");
    std::fs::write(
        &mixed,
        "{\"documents\": {}}\nnot json\n{\"documents\": {}}\n",
    )
    .unwrap();
    let output = support::run_in(
        &support::root(),
        &["diagnose", "--format", "jsonl", mixed.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("1 of 3 record(s) could not be diagnosed"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_byte_order_mark_at_the_start_of_a_file_is_dropped() {
    let dir = scratch("bom");
    let root = support::root();
    let mut bundle =
        b"\xEF\xBB\xBF{\"as_of\": \"2026-11-20T12:00:00Z\", \"documents\": {\"item_get\": "
            .to_vec();
    bundle.extend(std::fs::read(root.join("fixtures/several-causes/item_get.json")).unwrap());
    bundle.extend(b"}}");
    let bundle_path = dir.join("bundle.json");
    std::fs::write(&bundle_path, &bundle).unwrap();
    let diagnosed = run(&[
        "diagnose",
        "--format",
        "json",
        bundle_path.to_str().unwrap(),
    ]);
    assert!(diagnosed.starts_with("exit: 0"), "{diagnosed}");
    let mut rules = b"\xEF\xBB\xBF".to_vec();
    rules.extend(std::fs::read(root.join("rules/default.yaml")).unwrap());
    let rules_path = dir.join("rules.yaml");
    std::fs::write(&rules_path, &rules).unwrap();
    let checked = run(&["rules", "check", rules_path.to_str().unwrap()]);
    assert!(checked.starts_with("exit: 0"), "{checked}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_empty_input_is_an_error() {
    // An input with no bundle (here only blank lines) is an error, not a silent pass.
    let dir = scratch("empty");
    let empty = dir.join("empty.jsonl");
    std::fs::write(&empty, "\n\n").unwrap();
    let refused = run(&["diagnose", "--format", "jsonl", empty.to_str().unwrap()]);
    assert!(refused.starts_with("exit: 2"), "{refused}");
    assert!(refused.contains("no bundle was read"), "{refused}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn markdown_and_colour_formats() {
    insta::assert_snapshot!(
        "markdown_report",
        run(&[
            "diagnose",
            "--format",
            "markdown",
            "fixtures/consent-expired-oauth"
        ])
    );
    let always = run(&["diagnose", "--color", "always", "fixtures/no-webhook"]);
    assert!(always.contains("\u{1b}["), "{always}");
    // Not a terminal: no colour unless asked for.
    let auto = run(&["diagnose", "fixtures/no-webhook"]);
    assert!(!auto.contains('\u{1b}'), "{auto}");
    let never = run(&["diagnose", "--color", "never", "fixtures/no-webhook"]);
    assert_eq!(never, auto);
}

#[test]
fn captured_text_cannot_forge_report_lines_or_terminal_codes() {
    let dir = scratch("inject");
    std::fs::write(
        dir.join("item_get.json"),
        r#"{"item": {"item_id": "\u001b[2J\u001b[31mHACKED\nerror   fake finding", "webhook": null, "error": null, "products": ["auth"], "billed_products": ["auth"], "available_products": [], "consent_expiration_time": null, "update_type": "background"}, "status": null, "request_id": "r"}"#,
    )
    .unwrap();
    std::fs::write(dir.join("bundle.yaml"), "as_of: \"2026-11-20T12:00:00Z\"\n").unwrap();
    for format in ["human", "markdown"] {
        let output = run(&["diagnose", "--format", format, dir.to_str().unwrap()]);
        assert!(!output.contains('\u{1b}'), "{format}: {output}");
        assert!(
            !output.contains("\nerror   fake finding"),
            "{format}: {output}"
        );
        assert!(output.contains("HACKED"), "{format}: {output}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn extends_reads_only_the_folder_and_the_files_passed() {
    insta::assert_snapshot!(
        "extends_outside_folder",
        run(&["rules", "check", "tests/compose/escape/parent.yaml"])
    );
    insta::assert_snapshot!(
        "extends_system_files",
        run(&["rules", "check", "tests/compose/escape/system.yaml"])
    );
    // A file passed by the user may be extended from anywhere.
    let passed = [
        "rules",
        "list",
        "--rules",
        "tests/compose/team.yaml",
        "--rules",
        "tests/compose/escape/parent.yaml",
    ];
    assert_eq!(exit_code(&passed), 0, "{}", run(&passed));
    let anywhere = [
        "rules",
        "check",
        "--extends-anywhere",
        "tests/compose/escape/parent.yaml",
    ];
    assert_eq!(exit_code(&anywhere), 0, "{}", run(&anywhere));
    // Even then, a device is not read.
    let output = run(&[
        "rules",
        "check",
        "--extends-anywhere",
        "tests/compose/escape/system.yaml",
    ]);
    assert!(
        output.contains("extends `/dev/stdin`, which cannot be read")
            && output.contains("not a regular file"),
        "{output}"
    );
}

#[cfg(unix)]
#[test]
fn rules_test_skips_a_link_loop_in_a_searched_folder() {
    let dir = std::env::temp_dir().join(format!("bd-rules-test-loop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let fixture = support::root().join("fixtures/no-webhook");
    std::fs::write(
        dir.join("sub/one.test.yaml"),
        format!(
            "cases:\n  - name: one\n    bundle: {}\n    fires: [no-webhook]\n",
            fixture.display()
        ),
    )
    .unwrap();
    std::os::unix::fs::symlink("..", dir.join("sub/up")).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_balance-doctor"))
        .args(["rules", "test"])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    assert!(stderr.contains("sub/up: a link to"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn completions_man_pages_and_exit_codes_come_from_the_arguments() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = run(&["completions", shell]);
        assert!(output.starts_with("exit: 0\n"), "{output}");
        assert!(output.contains("diagnose"), "{shell}: {output}");
    }
    let page = run(&["man"]);
    assert!(page.contains(".TH balance-doctor 1"), "{page}");
    let dir = std::env::temp_dir().join(format!("balance-doctor-man-{}", std::process::id()));
    let written = run(&["man", "--dir", dir.to_str().unwrap()]);
    assert!(written.starts_with("exit: 0\n"), "{written}");
    let page = std::fs::read_to_string(dir.join("balance-doctor-diagnose.1")).unwrap();
    assert!(page.contains("Exit codes"), "{page}");
    std::fs::remove_dir_all(&dir).unwrap();
    let help = run(&["diagnose", "--help"]);
    assert!(
        help.contains("Exit codes:\n  0  done: no finding at or above --fail-on\n"),
        "{help}"
    );
}

#[test]
fn rules_come_from_the_flag_the_environment_or_the_nearest_config_and_tests_from_beside_them() {
    let team = support::root().join("tests/compose/team.yaml");
    let project = std::env::temp_dir().join(format!("bd-config-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&project);
    std::fs::create_dir_all(project.join("deep/er")).unwrap();
    let in_project = |args: &[&str], env: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_balance-doctor"));
        command
            .args(args)
            .current_dir(project.join("deep/er"))
            .env_remove("BALANCE_DOCTOR_RULES");
        if let Some(value) = env {
            command.env("BALANCE_DOCTOR_RULES", value);
        }
        let output = command.output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    // The environment variable chooses, and `rules test` finds team.test.yaml beside team.yaml.
    let (code, stdout, stderr) = in_project(&["rules", "test"], team.to_str());
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("2 passed"), "{stdout}");
    // With neither flag nor variable nor config, the embedded pack's tests are not found from
    // an unrelated folder: an error that says what to do, not a path relative to it.
    let (code, _, stderr) = in_project(&["rules", "test"], None);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("pass test files or folders"), "{stderr}");
    // A configuration file two folders up chooses the rules for every command.
    std::fs::write(
        project.join("balance-doctor.yaml"),
        format!("rules: [{}]\n", team.display()),
    )
    .unwrap();
    let (code, stdout, stderr) = in_project(&["rules", "list"], None);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("chase-item"), "{stdout}");
    let (code, stdout, stderr) = in_project(&["rules", "test"], None);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    // --rules wins over the configuration file.
    let (code, stdout, _) = in_project(
        &[
            "rules",
            "list",
            "--rules",
            team.with_file_name("supersede.yaml").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, Some(0));
    assert!(!stdout.contains("chase-item") && stdout.contains("known-unsupported-bank"));
    std::fs::remove_dir_all(&project).unwrap();
}

/// A file that cannot be read is named once in the error, not once by the bundle or the rules
/// and again by the reader.
#[test]
fn unreadable_files_are_named_once() {
    let dir = std::env::temp_dir().join(format!("bd-named-once-{}", std::process::id()));
    let bundle = dir.join("bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::write(bundle.join("item_get.json"), b"\xff\xfe{}").unwrap();
    let missing = dir.join("missing.yaml");
    let cases: [(Vec<String>, String); 3] = [
        (
            vec!["diagnose".into(), bundle.display().to_string()],
            format!(
                "error: {}: not valid UTF-8 text (at byte 0): save it as UTF-8",
                bundle.join("item_get.json").display()
            ),
        ),
        (
            vec![
                "diagnose".into(),
                "--max-input-size".into(),
                "100".into(),
                "fixtures/overdue-refresh".into(),
            ],
            "error: fixtures/overdue-refresh/bundle.yaml: is larger than 100 bytes".into(),
        ),
        (
            vec![
                "diagnose".into(),
                "--rules".into(),
                missing.display().to_string(),
                "fixtures/overdue-refresh".into(),
            ],
            format!(
                "error: rules file {}: cannot read it: No such file or directory",
                missing.display()
            ),
        ),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = run(&args);
        assert!(
            output.contains(&expected),
            "{args:?} should print {expected:?}, printed:\n{output}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn json_format_refuses_a_batch_and_says_why() {
    let dir = scratch("json-batch");
    let jsonl = dir.join("one.jsonl");
    std::fs::write(&jsonl, "{\"documents\": {}}\n").unwrap();
    let one_line = run(&["diagnose", "--format", "json", &jsonl.display().to_string()]);
    assert!(one_line.starts_with("exit: 2\n"), "{one_line}");
    assert!(
        one_line.contains(&format!(
            "{} is a JSON Lines file, a batch whatever its number of lines: use --format jsonl",
            jsonl.display()
        )),
        "{one_line}"
    );
    let two = run(&[
        "diagnose",
        "--format",
        "json",
        "fixtures/overdue-refresh",
        "fixtures/fresh-item-4h",
    ]);
    assert!(two.starts_with("exit: 2\n"), "{two}");
    assert!(
        two.contains("but the inputs hold more than one bundle: use --format jsonl"),
        "{two}"
    );
    // The same one-line file is fine as a batch.
    let batch = run(&[
        "diagnose",
        "--format",
        "jsonl",
        &jsonl.display().to_string(),
    ]);
    assert!(batch.starts_with("exit: 0\n"), "{batch}");
    std::fs::remove_dir_all(&dir).unwrap();
}
