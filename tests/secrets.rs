//! No secret or personal data reaches any output: tokens, account and routing numbers and the
//! owners' names, emails, phones and addresses are planted in every object of every document
//! (and the context) of every fixture, and every output format is scanned for them, with and
//! without `--explain`, and the run summary in each of its formats.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

/// What every planted value starts with; none may appear in any output.
const MARK: &str = "SECRETVALUE";

/// Adds secrets under every key of the pack's `redact:` list to every object in `value`.
fn plant(value: &mut Value, counter: &mut usize) {
    match value {
        Value::Object(members) => {
            for child in members.values_mut() {
                plant(child, counter);
            }
            let mut next = || {
                *counter += 1;
                format!("{MARK}{counter}")
            };
            members.insert("access_token".into(), json!(next()));
            members.insert("public_token".into(), json!(next()));
            members.insert("link_token".into(), json!(next()));
            members.insert("processor_token".into(), json!(next()));
            members.insert(
                "numbers".into(),
                json!({"ach": [{"account": next(), "routing": next(), "wire_routing": next()}]}),
            );
            members.insert("account".into(), json!(next()));
            members.insert("routing".into(), json!(next()));
            members.insert("wire_routing".into(), json!(next()));
            members.insert("iban".into(), json!(next()));
            members.insert("bic".into(), json!(next()));
            members.insert(
                "owners".into(),
                json!([{"names": [next()], "emails": [{"data": next()}]}]),
            );
            members.insert("names".into(), json!([next(), next()]));
            members.insert("emails".into(), json!([{"data": next(), "primary": true}]));
            members.insert("phone_numbers".into(), json!([{"data": next()}]));
            members.insert(
                "addresses".into(),
                json!([{"data": {"street": next(), "city": next(), "postal_code": next()}}]),
            );
        }
        Value::Array(items) => {
            for item in items {
                plant(item, counter);
            }
        }
        _ => {}
    }
}

/// A fixture folder as a single-file bundle, with secrets planted everywhere.
fn planted_bundle(dir: &Path, counter: &mut usize) -> Value {
    let mut documents = serde_json::Map::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    let mut as_of = Value::Null;
    let mut context = json!({});
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        if let Some(document) = name.strip_suffix(".json") {
            let mut value: Value = serde_json::from_str(&text).unwrap();
            plant(&mut value, counter);
            documents.insert(document.to_owned(), value);
        } else if name == "bundle.yaml" {
            let meta: Value = serde_yaml::from_str(&text).unwrap();
            as_of = meta.get("as_of").cloned().unwrap_or(Value::Null);
            context = meta.get("context").cloned().unwrap_or(json!({}));
        }
    }
    plant(&mut context, counter);
    json!({"as_of": as_of, "context": context, "documents": documents})
}

fn run(args: &[&str], dir: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_balance-doctor"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs");
    assert!(
        output.status.code().is_some_and(|code| code < 2),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn assert_no_secret(output: &str, what: &str) {
    if let Some(at) = output.find(MARK) {
        let start = output[..at]
            .char_indices()
            .rev()
            .nth(300)
            .map_or(0, |(i, _)| i);
        panic!(
            "{what}: a planted secret appears in the output:\n...{}",
            &output[start..(at + 40).min(output.len())]
        );
    }
}

#[test]
fn no_planted_secret_reaches_any_output_format() {
    let dir = std::env::temp_dir().join(format!("balance-doctor-secrets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut counter = 0;
    let mut lines = String::new();
    let mut files = Vec::new();
    for fixture in support::fixture_dirs() {
        let bundle = planted_bundle(&fixture, &mut counter);
        let name = format!("{}.json", fixture.file_name().unwrap().to_string_lossy());
        std::fs::write(dir.join(&name), serde_json::to_string(&bundle).unwrap()).unwrap();
        lines.push_str(&serde_json::to_string(&bundle).unwrap());
        lines.push('\n');
        files.push(name);
    }
    assert!(counter > 1000, "secrets were planted: {counter}");
    std::fs::write(dir.join("all.jsonl"), &lines).unwrap();
    for format in ["human", "markdown", "jsonl"] {
        for explain in [false, true] {
            let mut args = vec!["diagnose", "--format", format, "all.jsonl"];
            if explain {
                args.push("--explain");
            }
            let output = run(&args, &dir);
            assert!(output.len() > 10_000, "{args:?} printed little");
            assert_no_secret(&output, &args.join(" "));
        }
    }
    for summary in ["human", "json", "markdown"] {
        let args = [
            "diagnose",
            "--summary",
            "--summary-format",
            summary,
            "all.jsonl",
        ];
        assert_no_secret(&run(&args, &dir), &args.join(" "));
    }
    for file in &files {
        for format in ["json", "human", "markdown"] {
            let args = ["diagnose", "--explain", "--format", format, file.as_str()];
            assert_no_secret(&run(&args, &dir), &args.join(" "));
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
