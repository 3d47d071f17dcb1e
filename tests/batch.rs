//! Batch diagnosis through the binary: many inputs, JSON Lines in and out, error records in
//! place, ordered parallel output, streaming, summaries, closed pipes.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_balance-doctor"));
    command.current_dir(support::root());
    command
}

/// Every fixture as one JSON Lines record, in folder order.
fn fixture_lines() -> Vec<String> {
    support::fixture_dirs()
        .iter()
        .map(|dir| {
            let bundle = balance_doctor::input::read_bundle(dir).unwrap();
            bundle.to_value().to_string()
        })
        .collect()
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("bd-batch-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn one_output_record_per_input_record_in_order_with_errors_in_place() {
    let mut lines = fixture_lines();
    lines.insert(2, "{not json".to_owned());
    // A blank line holds no record: it is skipped (and counted), the others keep their line.
    lines.insert(4, String::new());
    lines.insert(6, r#"{"as_of": "yesterday", "documents": {}}"#.to_owned());
    lines.insert(8, r#"{"documents": {"context": {}}}"#.to_owned());
    let path = temp_file("mixed.jsonl", &(lines.join("\n") + "\n"));
    let output = binary()
        .args(["diagnose", "--format", "jsonl"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "some records failed");
    let records: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(records.len(), lines.len() - 1);
    let record_lines: Vec<usize> = (0..lines.len()).filter(|index| *index != 4).collect();
    for (record, index) in records.iter().zip(&record_lines) {
        assert_eq!(record["origin"]["line"], *index as u64 + 1);
        let failed = [2, 6, 8].contains(index);
        assert_eq!(record.get("error").is_some(), failed, "{record}");
        if !failed {
            assert!(record["labels"]["item_id"].is_string() || record["findings"].is_array());
        }
    }
    let errors: Vec<&str> = [2, 5, 7]
        .iter()
        .map(|i| records[*i]["error"].as_str().unwrap())
        .collect();
    insta::assert_snapshot!(errors.join("\n"));
    std::fs::remove_file(path).unwrap();
}

#[test]
fn parallel_output_is_identical_to_sequential_output() {
    let mut text = String::new();
    for _ in 0..20 {
        for line in fixture_lines() {
            text.push_str(&line);
            text.push('\n');
        }
    }
    let path = temp_file("many.jsonl", &text);
    let run = |threads: &str| {
        let output = binary()
            .args(["diagnose", "--format", "jsonl", "--threads", threads])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0));
        output.stdout
    };
    let sequential = run("1");
    assert_eq!(
        sequential.iter().filter(|b| **b == b'\n').count(),
        20 * support::fixture_dirs().len()
    );
    assert!(sequential == run("4"), "4 threads changed the output");
    assert!(sequential == run("2"), "2 threads changed the output");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn a_tree_of_bundle_directories_is_found_in_name_order() {
    let output = binary()
        .args(["diagnose", "--format", "jsonl", "fixtures"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let files: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let record: serde_json::Value = serde_json::from_str(line).unwrap();
            record["origin"]["file"].as_str().unwrap().to_owned()
        })
        .collect();
    let expected: Vec<String> = support::fixture_dirs()
        .iter()
        .map(|dir| format!("fixtures/{}", dir.file_name().unwrap().to_string_lossy()))
        .collect();
    assert_eq!(files, expected);
}

#[test]
fn stdin_streams_results_before_the_input_ends() {
    // On one thread too: there the output is flushed whenever reading would wait for input.
    for threads in ["1", "2"] {
        let mut child = binary()
            .args(["diagnose", "--format", "jsonl", "--threads", threads, "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        // Lines are read on a thread of their own, so that a run that holds its output back
        // fails the test (after a minute) instead of hanging it.
        let (sender, lines_out) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in stdout.lines() {
                if sender.send(line.unwrap()).is_err() {
                    break;
                }
            }
        });
        let lines = fixture_lines();
        // Three records in, three results out, while stdin is still open.
        for line in &lines[..3] {
            writeln!(stdin, "{line}").unwrap();
        }
        stdin.flush().unwrap();
        for expected_line in 1..=3u64 {
            let Ok(line) = lines_out.recv_timeout(std::time::Duration::from_secs(60)) else {
                child.kill().unwrap();
                panic!(
                    "--threads {threads}: no result for line {expected_line} while stdin is open"
                );
            };
            let record: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert_eq!(record["origin"]["file"], "-");
            assert_eq!(record["origin"]["line"], expected_line);
        }
        drop(stdin);
        assert!(child.wait().unwrap().success());
        reader.join().unwrap();
        assert_eq!(lines_out.try_iter().count(), 0, "--threads {threads}");
    }
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    let mut text = String::new();
    for _ in 0..200 {
        for line in fixture_lines() {
            text.push_str(&line);
            text.push('\n');
        }
    }
    let path = temp_file("closed.jsonl", &text);
    let mut child = binary()
        .args(["diagnose", "--format", "jsonl"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    drop(stdout);
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn summaries_in_every_format() {
    let human = binary()
        .args(["diagnose", "--summary", "fixtures"])
        .output()
        .unwrap();
    assert_eq!(human.status.code(), Some(0));
    insta::assert_snapshot!("summary_human", String::from_utf8(human.stdout).unwrap());
    let json = binary()
        .args([
            "diagnose",
            "--summary",
            "--summary-format",
            "json",
            "fixtures",
        ])
        .output()
        .unwrap();
    insta::assert_snapshot!("summary_json", String::from_utf8(json.stdout).unwrap());
    let markdown = binary()
        .args([
            "diagnose",
            "--summary",
            "--summary-format",
            "markdown",
            "fixtures",
        ])
        .output()
        .unwrap();
    insta::assert_snapshot!(
        "summary_markdown",
        String::from_utf8(markdown.stdout).unwrap()
    );
    // With per-bundle output, the summary goes to stderr.
    let both = binary()
        .args(["diagnose", "--format", "jsonl", "--summary", "fixtures"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(both.stdout).unwrap();
    assert_eq!(stdout.lines().count(), support::fixture_dirs().len());
    let expected = format!("bundles: {} read", support::fixture_dirs().len());
    assert!(
        String::from_utf8(both.stderr)
            .unwrap()
            .starts_with(&expected)
    );
}

#[test]
fn several_bundles_need_a_streaming_format() {
    let output = binary()
        .args([
            "diagnose",
            "--format",
            "json",
            "fixtures/no-webhook",
            "fixtures/several-causes",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("--format jsonl")
    );
    // Human reports one after another are fine.
    let human = binary()
        .args(["diagnose", "fixtures/no-webhook", "fixtures/several-causes"])
        .output()
        .unwrap();
    assert_eq!(human.status.code(), Some(0));
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(text.contains("fixtures/no-webhook\n") && text.contains("fixtures/several-causes\n"));
}

// ---- Inputs: how paths are found and read (issue 9: nothing lost, nothing merged, nothing
// twice; issue 10: bounded reads). Links and FIFOs are made at test time in a temp folder.

/// A fresh, empty folder for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bd-batch-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A copy of a fixture folder (a bundle directory) at `to`.
fn copy_fixture(name: &str, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(support::root().join("fixtures").join(name)).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
}

/// A fixture in the single-file form (one JSON object with `documents`).
fn bundle_file(name: &str) -> String {
    let bundle =
        balance_doctor::input::read_bundle(&support::root().join("fixtures").join(name)).unwrap();
    bundle.to_value().to_string()
}

struct Run {
    code: Option<i32>,
    records: Vec<serde_json::Value>,
    stderr: String,
}

/// Runs `diagnose --format jsonl` with `arguments`, failing the test if the run does not end
/// within a minute (a loop or a blocking read would otherwise hang the suite: this guards
/// against a hang, it measures no speed).
fn run_jsonl(arguments: &[&std::ffi::OsStr], stdin: Option<&str>) -> Run {
    let mut child = binary()
        .args(["diagnose", "--format", "jsonl"])
        .args(arguments)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        let text = text.to_owned();
        std::thread::spawn(move || pipe.write_all(text.as_bytes()));
    }
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).unwrap();
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).unwrap();
        text
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("diagnose {arguments:?} did not end: it loops or blocks on a read");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let records = out
        .join()
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    Run {
        code: status.code(),
        records,
        stderr: err.join().unwrap(),
    }
}

/// Each record's origin, `file` relative to `base`, with `:line` for JSON Lines.
fn origins(records: &[serde_json::Value], base: &std::path::Path) -> Vec<String> {
    let base = format!("{}/", base.display());
    records
        .iter()
        .map(|record| {
            let file = record["origin"]["file"].as_str().unwrap();
            let file = file.strip_prefix(&base).unwrap_or(file);
            match record["origin"]["line"].as_u64() {
                Some(line) => format!("{file}:{line}"),
                None => file.to_owned(),
            }
        })
        .collect()
}

#[test]
fn a_mixed_tree_yields_each_bundle_on_its_own_never_merged() {
    let tree = temp_dir("mixed-tree");
    copy_fixture("no-webhook", &tree.join("a-bundle"));
    std::fs::write(tree.join("b.json"), bundle_file("several-causes")).unwrap();
    std::fs::write(tree.join("c.json"), bundle_file("fresh-item-4h")).unwrap();
    copy_fixture("no-webhook", &tree.join("d-folder/e-bundle"));
    let two_lines = format!(
        "{}\n{}\n",
        bundle_file("fresh-item-4h"),
        bundle_file("no-webhook")
    );
    std::fs::write(tree.join("d-folder/f.jsonl"), two_lines).unwrap();
    copy_fixture("several-causes", &tree.join("g-bundle"));
    copy_fixture("fresh-item-4h", &tree.join("g-bundle/sub"));
    copy_fixture("no-webhook", &tree.join("h-mixed"));
    std::fs::write(tree.join("h-mixed/i.json"), bundle_file("several-causes")).unwrap();
    std::fs::write(tree.join("notes.txt"), "not an input").unwrap();

    let run = run_jsonl(&[tree.as_os_str()], None);
    assert_eq!(
        origins(&run.records, &tree),
        [
            "b.json",
            "c.json",
            "a-bundle",
            "d-folder/f.jsonl:1",
            "d-folder/f.jsonl:2",
            "d-folder/e-bundle",
            "g-bundle",
            "g-bundle/sub",
            "h-mixed",
            "h-mixed/i.json",
        ]
    );
    // Only the folder that mixes one bundle's documents with a bundle file is refused, and
    // its error names that file; the file itself is diagnosed on its own.
    for record in &run.records {
        let mixed = record["origin"]["file"]
            .as_str()
            .unwrap()
            .ends_with("h-mixed");
        assert_eq!(record.get("error").is_some(), mixed, "{record}");
    }
    let error = run.records[8]["error"].as_str().unwrap();
    assert!(
        error.contains("i.json") && error.contains("move"),
        "{error}"
    );
    assert_eq!(run.code, Some(2));
    // Each is diagnosed as itself: a bundle file as its fixture folder is.
    let findings = |index: usize| run.records[index]["findings"].clone();
    let fixture = run_jsonl(
        &[support::root().join("fixtures/several-causes").as_os_str()],
        None,
    );
    assert_eq!(findings(1 - 1), fixture.records[0]["findings"]);
    assert_eq!(findings(6), fixture.records[0]["findings"]);
    assert_eq!(findings(9), fixture.records[0]["findings"]);
    std::fs::remove_dir_all(tree).unwrap();
}

#[test]
fn diagnose_with_one_folder_finds_what_a_batch_run_finds() {
    let tree = temp_dir("one-folder");
    copy_fixture("no-webhook", &tree.join("x"));
    std::fs::write(tree.join("x/y.json"), bundle_file("several-causes")).unwrap();
    // `diagnose x` is not one bundle: the readable output shows both inputs, as the batch
    // run does, and fails on the mixed folder.
    let output = binary()
        .args(["diagnose", "--color", "never"])
        .arg(tree.join("x"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("mixes one bundle's documents"), "{text}");
    assert!(text.contains("x/y.json\n"), "{text}");
    let run = run_jsonl(&[tree.join("x").as_os_str()], None);
    assert_eq!(origins(&run.records, &tree), ["x", "x/y.json"]);
    std::fs::remove_dir_all(tree).unwrap();
}

#[test]
fn a_bundle_file_with_a_misspelt_documents_key_is_refused_as_a_bundle_not_read_as_a_document() {
    let tree = temp_dir("misspelt-documents");
    let misspelt = bundle_file("several-causes").replacen("\"documents\"", "\"documnets\"", 1);
    assert!(misspelt.contains("documnets"));
    std::fs::write(tree.join("a.json"), bundle_file("no-webhook")).unwrap();
    std::fs::write(tree.join("b.json"), &misspelt).unwrap();
    std::fs::write(tree.join("c.json"), bundle_file("fresh-item-4h")).unwrap();
    // Beside other bundle files: b.json gets its own error record, with the "did you mean",
    // and the folder is not taken for a bundle that mixes documents with bundle files.
    let run = run_jsonl(&[tree.as_os_str()], None);
    assert_eq!(origins(&run.records, &tree), ["a.json", "b.json", "c.json"]);
    let error = run.records[1]["error"].as_str().unwrap();
    assert!(error.contains("did you mean `documents`?"), "{error}");
    assert!(run.records[0].get("findings").is_some() && run.records[2].get("findings").is_some());
    assert_eq!(run.code, Some(2));
    // Alone in its folder: refused too, not diagnosed as a bundle holding one document `b`.
    let alone = tree.join("alone");
    std::fs::create_dir(&alone).unwrap();
    std::fs::write(alone.join("b.json"), &misspelt).unwrap();
    let run = run_jsonl(&[alone.as_os_str()], None);
    assert_eq!(origins(&run.records, &alone), ["b.json"]);
    assert!(
        run.records[0]["error"]
            .as_str()
            .unwrap()
            .contains("did you mean `documents`?")
    );
    assert_eq!(run.code, Some(2));
    std::fs::remove_dir_all(tree).unwrap();
}

#[test]
fn a_bundle_without_documents_is_an_error_record() {
    let run = run_jsonl(
        &[std::ffi::OsStr::new("-")],
        Some("{}\n{\"as_of\": \"2026-11-20T12:00:00Z\", \"context\": {}}\n{\"documents\": {}}\n"),
    );
    assert_eq!(run.records.len(), 3);
    for record in &run.records[..2] {
        let error = record["error"].as_str().unwrap();
        assert!(error.starts_with("a bundle needs `documents`"), "{error}");
    }
    // An empty `documents` is a bundle, for rules that read only `context`.
    assert!(
        run.records[2].get("findings").is_some(),
        "{}",
        run.records[2]
    );
    assert_eq!(run.code, Some(2));
}

#[cfg(unix)]
#[test]
fn a_looped_tree_reads_each_bundle_once_and_names_the_links_it_skipped() {
    use std::os::unix::fs::symlink;
    let tree = temp_dir("looped-tree");
    copy_fixture("no-webhook", &tree.join("a"));
    copy_fixture("several-causes", &tree.join("x/b"));
    for name in ["up1", "up2", "up3"] {
        symlink("..", tree.join("x").join(name)).unwrap();
    }
    symlink("../a", tree.join("x/alias")).unwrap();
    symlink("nowhere", tree.join("x/broken")).unwrap();
    std::fs::write(tree.join("c.json"), bundle_file("fresh-item-4h")).unwrap();
    symlink("c.json", tree.join("d.json")).unwrap();

    let run = run_jsonl(&[tree.as_os_str()], None);
    assert_eq!(origins(&run.records, &tree), ["c.json", "a", "x/b"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for skipped in ["x/up1", "x/up2", "x/up3"] {
        assert!(
            run.stderr
                .contains(&format!("skipped {}/{skipped}: a link to", tree.display()))
                && run.stderr.contains("(a loop)"),
            "{}",
            run.stderr
        );
    }
    assert!(
        run.stderr.contains("x/alias: the same folder as"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("d.json: the same file as"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("x/broken: a link to something that does not exist")
    );
    // A folder named again after its tree was searched is skipped too, with no error record.
    let again = run_jsonl(&[tree.as_os_str(), tree.join("a").as_os_str()], None);
    assert_eq!(origins(&again.records, &tree), ["c.json", "a", "x/b"]);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(
        again.stderr.contains("a: the same folder as"),
        "{}",
        again.stderr
    );
    std::fs::remove_dir_all(tree).unwrap();
}

#[cfg(unix)]
#[test]
fn fifos_and_devices_are_refused_never_read() {
    use std::os::unix::fs::symlink;
    let mkfifo = |path: &std::path::Path| {
        assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
    };
    let tree = temp_dir("fifo-tree");
    copy_fixture("no-webhook", &tree.join("a-fifo-document"));
    mkfifo(&tree.join("a-fifo-document/extra.json"));
    copy_fixture("no-webhook", &tree.join("b-fifo-metadata"));
    std::fs::remove_file(tree.join("b-fifo-metadata/bundle.yaml")).unwrap();
    mkfifo(&tree.join("b-fifo-metadata/bundle.yaml"));
    copy_fixture("no-webhook", &tree.join("c-device-document"));
    symlink("/dev/null", tree.join("c-device-document/extra.json")).unwrap();
    mkfifo(&tree.join("d.jsonl"));
    copy_fixture("no-webhook", &tree.join("e-fine"));
    let elsewhere = temp_dir("fifo-argument");
    let fifo_argument = elsewhere.join("f-argument.json");
    mkfifo(&fifo_argument);

    let run = run_jsonl(&[tree.as_os_str(), fifo_argument.as_os_str()], None);
    assert_eq!(
        origins(&run.records, &tree),
        [
            "d.jsonl",
            "a-fifo-document",
            "b-fifo-metadata",
            "c-device-document",
            "e-fine",
            &fifo_argument.display().to_string(),
        ]
    );
    let errors: Vec<&str> = run
        .records
        .iter()
        .filter_map(|record| record["error"].as_str())
        .collect();
    assert_eq!(errors.len(), 5, "{errors:?}");
    for (error, what) in errors.iter().zip([
        "d.jsonl is a FIFO",
        // A bundle folder's file: the bundle's error names it, the reader's message follows.
        "a-fifo-document/extra.json: is a FIFO",
        "b-fifo-metadata/bundle.yaml: is a FIFO",
        "c-device-document/extra.json: is a character device",
        "f-argument.json is a FIFO",
    ]) {
        assert!(error.contains(what), "{error}");
        assert!(error.contains("regular file"), "{error}");
    }
    assert!(run.records[4]["findings"].is_array());
    assert_eq!(run.code, Some(2));
    // Rules files and what they extend are read the same way.
    mkfifo(&elsewhere.join("fifo.yaml"));
    std::fs::write(
        elsewhere.join("rules.yaml"),
        "extends:\n  - fifo.yaml\nrules: []\n",
    )
    .unwrap();
    for rules in [elsewhere.join("rules.yaml"), PathBuf::from("/dev/zero")] {
        let run = run_jsonl(
            &[
                "--rules".as_ref(),
                rules.as_os_str(),
                tree.join("e-fine").as_os_str(),
            ],
            None,
        );
        assert_eq!(run.code, Some(2));
        assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
    }
    std::fs::remove_dir_all(tree).unwrap();
    std::fs::remove_dir_all(elsewhere).unwrap();
}

#[test]
fn files_and_records_over_the_size_limit_are_refused_and_the_run_goes_on() {
    let dir = temp_dir("size-limit");
    let small = bundle_file("no-webhook");
    let large = format!(
        r#"{{"documents": {{"notes": {{"text": "{}"}}}}}}"#,
        "a".repeat(100_000)
    );
    std::fs::write(dir.join("large.json"), &large).unwrap();
    std::fs::write(
        dir.join("lines.jsonl"),
        format!("{small}\n{large}\n{small}\n"),
    )
    .unwrap();
    let run = run_jsonl(
        &[
            "--max-input-size".as_ref(),
            "64K".as_ref(),
            dir.join("lines.jsonl").as_os_str(),
            dir.join("large.json").as_os_str(),
        ],
        None,
    );
    assert_eq!(
        origins(&run.records, &dir),
        [
            "lines.jsonl:1",
            "lines.jsonl:2",
            "lines.jsonl:3",
            "large.json"
        ]
    );
    assert!(run.records[0]["findings"].is_array());
    assert!(run.records[2]["findings"].is_array());
    let line_error = run.records[1]["error"].as_str().unwrap();
    assert!(
        line_error.contains(&format!("{} bytes", large.len() + 1))
            && line_error.contains("64 KiB")
            && line_error.contains("--max-input-size"),
        "{line_error}"
    );
    let file_error = run.records[3]["error"].as_str().unwrap();
    assert!(file_error.contains("larger than 64 KiB"), "{file_error}");
    assert_eq!(run.code, Some(2));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn blank_lines_are_skipped_and_counted_and_every_line_ending_ends_a_line() {
    let lines = fixture_lines();
    // LF, CRLF, a lone CR (old Mac files), blank and whitespace-only lines, no final ending.
    let text = format!(
        "{}\n\n{}\r\n \t\r\n{}\r{}\r\r{}",
        lines[0], lines[1], lines[2], lines[3], lines[4]
    );
    let path = temp_file("endings.jsonl", &text);
    let run = run_jsonl(&[path.as_os_str()], None);
    let name = path.file_name().unwrap().to_str().unwrap();
    let expected: Vec<String> = [1, 3, 5, 6, 8]
        .iter()
        .map(|line| format!("{}:{line}", path.display()))
        .collect();
    assert_eq!(
        origins(&run.records, std::path::Path::new("/nowhere")),
        expected
    );
    assert!(
        run.records.iter().all(|r| r.get("error").is_none()),
        "{name}"
    );
    assert_eq!(run.code, Some(0));
    assert!(run.stderr.contains("3 blank line(s)"), "{}", run.stderr);
    std::fs::remove_file(path).unwrap();
}

proptest::proptest! {
    /// However the input is cut into reads, lines end at LF, CRLF and lone CR, blank lines are
    /// skipped, and line numbers count every ending.
    #[test]
    fn json_lines_split_like_a_plain_reading(
        text in "[ab\r\n \t]{0,40}",
        capacity in 1usize..8,
    ) {
        use balance_doctor::input::{JsonLines, Line};
        let mut expected = Vec::new();
        let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
        for (index, line) in normalized.split('\n').enumerate() {
            if !line.trim_matches([' ', '\t']).is_empty() {
                expected.push((index as u64 + 1, line.to_owned()));
            }
        }
        let reader = std::io::BufReader::with_capacity(capacity, text.as_bytes());
        let mut lines = JsonLines::new(reader, 1 << 20);
        let mut found = Vec::new();
        while let Some(line) = lines.next_line() {
            match line {
                Line::Text { line, text, .. } => found.push((line, text)),
                other => panic!("{other:?}"),
            }
        }
        proptest::prop_assert_eq!(found, expected);
    }

    /// Reading lines into one reused text (as a batch run does) reads what reading each line
    /// into a string of its own reads: the same lines, kinds, numbers, sizes and blank lines,
    /// whatever the reads, the limit and the bytes (UTF-8 or not).
    #[test]
    fn appended_lines_are_the_lines(
        bytes in proptest::collection::vec(
            proptest::sample::select(vec![b'a', b'\r', b'\n', b' ', b'\t', 0xff, 0xc3, 0xa9]),
            0..60,
        ),
        capacity in 1usize..8,
        limit in 0u64..12,
        prefix in proptest::sample::select(vec!["", "before"]),
    ) {
        use balance_doctor::input::{Appended, JsonLines, Line};
        let reader = std::io::BufReader::with_capacity(capacity, bytes.as_slice());
        let mut lines = JsonLines::new(reader, limit);
        let mut expected = Vec::new();
        while let Some(line) = lines.next_line() {
            expected.push(format!("{line:?}"));
        }
        let expected_blank = lines.blank_lines();
        let reader = std::io::BufReader::with_capacity(capacity, bytes.as_slice());
        let mut lines = JsonLines::new(reader, limit);
        // An empty text too: a long first line is then moved into it, not copied.
        let mut text = prefix.to_owned();
        let mut found = Vec::new();
        loop {
            let start = text.len();
            let Some(appended) = lines.append_line(&mut text) else { break };
            let line = match appended {
                Appended::Text { line, bytes, .. } => Line::Text { line, text: text[start..].to_owned(), bytes },
                Appended::TooLong { line, bytes } => Line::TooLong { line, bytes },
                Appended::NotUtf8 { line, bytes } => Line::NotUtf8 { line, bytes },
                Appended::Failed { line, error } => Line::Failed { line, error },
                other => panic!("a kind of line this test does not know: {other:?}"),
            };
            if !matches!(line, Line::Text { .. }) {
                proptest::prop_assert_eq!(text.len(), start);
            }
            found.push(format!("{line:?}"));
        }
        proptest::prop_assert!(text.starts_with(prefix));
        proptest::prop_assert_eq!(found, expected);
        proptest::prop_assert_eq!(lines.blank_lines(), expected_blank);
    }
}

/// `buffered` tells whether the next line can start without reading the input again: a run on
/// one thread flushes its output when it cannot.
#[test]
fn json_lines_tell_when_the_next_line_needs_another_read() {
    use balance_doctor::input::JsonLines;
    let mut text = String::new();
    let mut lines = JsonLines::new(std::io::BufReader::with_capacity(64, &b"a\nb\n"[..]), 10);
    assert!(!lines.buffered(), "nothing read yet");
    lines.append_line(&mut text).unwrap();
    assert!(lines.buffered(), "`b` is in the buffer");
    lines.append_line(&mut text).unwrap();
    assert!(!lines.buffered(), "the buffer is used up");
    assert!(lines.append_line(&mut text).is_none());
    assert!(!lines.buffered());
    // A buffer of two bytes holds `a\n` exactly: the next line needs a read.
    let mut lines = JsonLines::new(std::io::BufReader::with_capacity(2, &b"a\nb\n"[..]), 10);
    lines.append_line(&mut text).unwrap();
    assert!(!lines.buffered());
    // A line read in pieces (longer than the buffer) ends with the rest of the buffer.
    let mut lines = JsonLines::new(
        std::io::BufReader::with_capacity(4, &b"abcdef\ngh\n"[..]),
        10,
    );
    text.clear();
    lines.append_line(&mut text).unwrap();
    assert!(lines.buffered(), "`g` came with the end of the first line");
    assert_eq!(text, "abcdef");
}

#[test]
fn a_byte_order_mark_before_the_first_record_is_dropped() {
    let bundle = bundle_file("no-webhook");
    let expected = run_jsonl(&[std::ffi::OsStr::new("-")], Some(&format!("{bundle}\n")));
    assert_eq!(expected.code, Some(0));
    let with_mark = format!("\u{feff}{bundle}\n{bundle}\n");
    // From stdin, and from a JSON Lines file: both records are diagnosed.
    let path = temp_file("bom.jsonl", &with_mark);
    for run in [
        run_jsonl(&[std::ffi::OsStr::new("-")], Some(&with_mark)),
        run_jsonl(&[path.as_os_str()], None),
    ] {
        assert_eq!(run.code, Some(0));
        assert_eq!(run.records.len(), 2);
        for record in &run.records {
            assert_eq!(
                record["findings"], expected.records[0]["findings"],
                "{record}"
            );
        }
    }
    // Only at the start: a mark that begins a later line is an error of that line.
    let run = run_jsonl(
        &[std::ffi::OsStr::new("-")],
        Some(&format!("{bundle}\n\u{feff}{bundle}\n")),
    );
    assert!(run.records[1].get("error").is_some(), "{}", run.records[1]);
    // A pretty-printed bundle after a mark is still recognised as one bundle.
    let pretty =
        serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&bundle).unwrap())
            .unwrap();
    let run = run_jsonl(
        &[std::ffi::OsStr::new("-")],
        Some(&format!("\u{feff}{pretty}\n")),
    );
    assert_eq!(run.records.len(), 1);
    assert_eq!(run.records[0]["findings"], expected.records[0]["findings"]);
}

#[test]
fn a_first_line_that_leaves_an_object_open_says_how_to_read_one_bundle() {
    let bundle = bundle_file("no-webhook");
    let pretty =
        serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&bundle).unwrap())
            .unwrap();
    // The first member on the opening line, as some printers write it: not a lone `{`.
    let pretty = pretty.replacen("{\n  ", "{", 1);
    assert!(!pretty.starts_with("{\n"));
    let run = run_jsonl(&[std::ffi::OsStr::new("-")], Some(&pretty));
    let first = run.records[0]["error"].as_str().unwrap();
    assert!(first.contains("pass --stdin-format bundle"), "{first}");
    // A JSON Lines record, complete on its line, and a line that is no object get no hint.
    let run = run_jsonl(&[std::ffi::OsStr::new("-")], Some("[1, 2\n"));
    let error = run.records[0]["error"].as_str().unwrap();
    assert!(!error.contains("--stdin-format"), "{error}");
    let run = run_jsonl(
        &[std::ffi::OsStr::new("-")],
        Some(&format!("{bundle}\n{{\"as_of\": 1,\n")),
    );
    assert!(run.records[0].get("findings").is_some());
    let error = run.records[1]["error"].as_str().unwrap();
    assert!(!error.contains("--stdin-format"), "{error}");
}

#[test]
fn one_pretty_printed_bundle_on_stdin() {
    let path = temp_file(
        "pretty.json",
        &serde_json::to_string_pretty(
            &serde_json::from_str::<serde_json::Value>(&bundle_file("several-causes")).unwrap(),
        )
        .unwrap(),
    );
    let pretty = std::fs::read_to_string(&path).unwrap();
    let from_file = binary()
        .args(["diagnose", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(from_file.status.code(), Some(0));
    let with_stdin = |arguments: &[&str], input: &str| {
        let mut command = binary();
        command.args(arguments).stderr(Stdio::piped());
        support::output_with_stdin(command, input.as_bytes())
    };
    // --format json: the same diagnosis as from the file, pretty-printed or on one line.
    for input in [pretty.as_str(), &bundle_file("several-causes")] {
        let output = with_stdin(&["diagnose", "--format", "json", "-"], input);
        assert_eq!(output.status.code(), Some(0));
        assert_eq!(output.stdout, from_file.stdout);
    }
    // Detected as one bundle in the other formats too.
    let run = run_jsonl(&["-".as_ref()], Some(&pretty));
    assert_eq!(run.records.len(), 1);
    assert_eq!(run.records[0]["origin"], serde_json::json!({"file": "-"}));
    assert!(run.records[0]["findings"].is_array());
    let human = with_stdin(&["diagnose", "--color", "never", "-"], &pretty);
    assert_eq!(human.status.code(), Some(0));
    assert!(String::from_utf8(human.stdout).unwrap().starts_with("-\n"));
    // More than one bundle is refused by --format json.
    let two = format!(
        "{}\n{}\n",
        bundle_file("no-webhook"),
        bundle_file("no-webhook")
    );
    let output = with_stdin(&["diagnose", "--format", "json", "-"], &two);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("--format jsonl")
    );
    // --stdin-format jsonl reads a pretty bundle as lines (each an error record).
    let run = run_jsonl(
        &["--stdin-format".as_ref(), "jsonl".as_ref(), "-".as_ref()],
        Some(&pretty),
    );
    assert!(run.records.len() > 1);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn threads_are_bounded() {
    for threads in ["0", "100000"] {
        let output = binary()
            .args(["diagnose", "--threads", threads, "fixtures"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains("1..=256"), "{stderr}");
    }
}

/// A decimal is read as the nearest float (serde_json's `float_roundtrip`), as Python and
/// most JSON readers read it, so evidence shows it as written: without that feature,
/// `3640.1800000000003` came out as `3640.18`, and a bundle given to the Python binding as a
/// dict could be diagnosed differently from its JSON text.
#[test]
fn long_decimals_are_read_exactly() {
    let generated = binary()
        .args(["generate", "--count", "26", "--seed", "7"])
        .output()
        .unwrap();
    let text = String::from_utf8(generated.stdout).unwrap();
    // The app reads the cached balance, so that cached-differs-from-realtime shows both figures
    // (it stays silent for an app that shows the real-time one).
    let line = text.lines().nth(25).unwrap().replace(
        r#""balance_source":"accounts_balance_get""#,
        r#""balance_source":"accounts_get""#,
    );
    assert!(
        line.contains(r#""balance_source":"accounts_get""#),
        "{line}"
    );
    assert!(line.contains(r#""available":3640.1800000000003"#), "{line}");
    let mut command = binary();
    command.args([
        "diagnose",
        "--format",
        "jsonl",
        "--as-of",
        "2026-11-20T12:00:00Z",
        "-",
    ]);
    let output = support::output_with_stdin(command, format!("{line}\n").as_bytes());
    let record = String::from_utf8(output.stdout).unwrap();
    assert!(record.contains(r#""value":3640.1800000000003"#), "{record}");
    assert!(!record.contains(r#""value":3640.18,"#), "{record}");
}

/// The workers read only a bounded number of chunks ahead of the output, however long the
/// input: with a writer that stalls on its first write, reading stops once each worker holds
/// its two chunks. Unbounded reading would read all 20,000 inputs meanwhile.
#[test]
fn read_ahead_is_bounded_while_the_output_stalls() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use balance_doctor::batch::{self, BatchOptions};
    use balance_doctor::discover::Input;

    struct Stalling {
        pulled: Arc<AtomicUsize>,
        pulled_at_first_write: Option<usize>,
    }
    impl std::io::Write for Stalling {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            if self.pulled_at_first_write.is_none() {
                // Give the workers time to run ahead if nothing holds them back.
                std::thread::sleep(std::time::Duration::from_millis(300));
                self.pulled_at_first_write = Some(self.pulled.load(Ordering::SeqCst));
            }
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let rules = balance_doctor_engine::default_rule_set().unwrap();
    for threads in [2, 3] {
        let pulled = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&pulled);
        let inputs = (0..20_000).map(move |i| {
            counter.fetch_add(1, Ordering::SeqCst);
            Input::Unusable(format!("input-{i}").into(), "not a bundle".to_owned())
        });
        let mut out = Stalling {
            pulled: Arc::clone(&pulled),
            pulled_at_first_write: None,
        };
        let options = BatchOptions {
            threads,
            ..BatchOptions::default()
        };
        let report = batch::run(&rules, inputs, &mut out, &options, &mut |_, _, _| {}).unwrap();
        assert_eq!(report.records, 20_000);
        // Chunks grow 1, 2, 4, ...: the first two per worker.
        let bound: usize = (0..2 * threads).map(|k| 1usize << k).sum();
        let pulled = out.pulled_at_first_write.unwrap();
        assert!(
            pulled <= bound,
            "{threads} threads: {pulled} inputs were read before the first record was written (at most {bound})"
        );
    }
}

/// Inputs for the library-level runs below: JSON Lines with records that parse, records that
/// do not, lines that are not UTF-8 and blank lines, around inputs that cannot be used.
fn mixed_inputs() -> (Vec<balance_doctor::discover::Input>, PathBuf, usize) {
    use balance_doctor::discover::Input;
    let mut text = Vec::new();
    let mut records = 0;
    for round in 0..12 {
        for (index, line) in fixture_lines().iter().enumerate() {
            // A line cut short, or one that is not UTF-8 and a blank line, before some.
            match (round + index) % 7 {
                0 => text.extend_from_slice(b"{\"id\": \"cut\", \"documents\": {\n"),
                1 => text.extend_from_slice(b"\xff\xfe not UTF-8\n\n"),
                _ => {}
            }
            records += 1 + usize::from((round + index) % 7 < 2);
            text.extend_from_slice(line.as_bytes());
            text.extend_from_slice(b"\n");
        }
    }
    let path = std::env::temp_dir().join(format!("bd-batch-{}-library.jsonl", std::process::id()));
    std::fs::write(&path, text).unwrap();
    let inputs = vec![
        Input::Unusable("first".into(), "not a bundle".to_owned()),
        Input::Jsonl(path.clone()),
        Input::Unusable("between".into(), "not a bundle".to_owned()),
        Input::Jsonl(path.clone()),
        Input::Jsonl(path.with_extension("missing")),
    ];
    // Two unusable inputs, the file twice, a missing file.
    (inputs, path, 2 + 2 * records + 1)
}

/// What a library-level run wrote, what `observe` saw (in its order), and the report.
fn run_library(
    inputs: Vec<balance_doctor::discover::Input>,
    options: &balance_doctor::batch::BatchOptions,
) -> (Vec<u8>, Vec<String>, String) {
    let rules = balance_doctor_engine::default_rule_set().unwrap();
    let mut out = Vec::new();
    let mut seen = Vec::new();
    let report = balance_doctor::batch::run(
        &rules,
        inputs,
        &mut out,
        options,
        &mut |origin, outcome, bytes| seen.push(format!("{origin} {outcome} {bytes}")),
    )
    .unwrap();
    let report = format!(
        "{} records, {} failed, {} blank lines",
        report.records, report.failed, report.blank_lines
    );
    (out, seen, report)
}

/// However many workers and however small the chunks, the output, what `observe` sees and the
/// report are those of one thread: every record once, in input order, error records in place.
#[test]
fn many_threads_and_tiny_chunks_keep_input_order() {
    use balance_doctor::batch::{BatchOptions, RecordFormat};
    let (inputs, path, records) = mixed_inputs();
    for format in [RecordFormat::Jsonl, RecordFormat::Markdown] {
        for keep_diagnoses in [false, true] {
            let options = |threads, chunk| BatchOptions {
                threads,
                chunk,
                format,
                keep_diagnoses,
                ..BatchOptions::default()
            };
            let (out, seen, report) = run_library(inputs.clone(), &options(1, 256));
            assert_eq!(seen.len(), records, "{report}");
            assert!(seen[0].starts_with("first failed: "), "{}", seen[0]);
            assert!(
                seen.iter()
                    .any(|s| s.contains("library.jsonl:1 failed: not valid JSON"))
            );
            assert!(
                seen.iter()
                    .any(|s| s.contains("failed: the line is not valid UTF-8"))
            );
            assert!(seen.iter().any(|s| s.contains("diagnosed: ")));
            if format == RecordFormat::Jsonl {
                assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), records);
            }
            for (threads, chunk) in [(2, 1), (2, 3), (3, 2), (8, 1), (17, 5), (4, 256)] {
                let parallel = run_library(inputs.clone(), &options(threads, chunk));
                assert!(
                    parallel.0 == out,
                    "{threads} threads, chunks of {chunk}: the output changed"
                );
                assert_eq!(parallel.1, seen, "{threads} threads, chunks of {chunk}");
                assert_eq!(parallel.2, report, "{threads} threads, chunks of {chunk}");
            }
        }
    }
    std::fs::remove_file(path).unwrap();
}

/// A panic (a bug) while reading the input or in `observe` is raised by `run`, on one thread as
/// on many, and never leaves the run waiting for ever.
#[test]
fn a_panic_is_raised_not_waited_on() {
    use balance_doctor::batch::{self, BatchOptions};
    use balance_doctor::discover::Input;
    let rules = balance_doctor_engine::default_rule_set().unwrap();
    for threads in [1, 2, 5] {
        let options = BatchOptions {
            threads,
            ..BatchOptions::default()
        };
        let inputs = (0..5_000).map(|i| {
            assert!(i != 700, "reading failed");
            Input::Unusable(format!("input-{i}").into(), "not a bundle".to_owned())
        });
        let raised = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            batch::run(&rules, inputs, &mut Vec::new(), &options, &mut |_, _, _| {})
        }));
        assert!(raised.is_err(), "{threads} threads: a panic in reading");
        let inputs = (0..5_000)
            .map(|i| Input::Unusable(format!("input-{i}").into(), "not a bundle".to_owned()));
        let mut seen = 0;
        let raised = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            batch::run(&rules, inputs, &mut Vec::new(), &options, &mut |_, _, _| {
                seen += 1;
                assert!(seen != 300, "observing failed");
            })
        }));
        assert!(raised.is_err(), "{threads} threads: a panic in observe");
    }
}
