//! Throughput of batch diagnosis against the parse-only floor, on two generators' data:
//!
//! - `generate/...`: the project's own `balance-doctor generate` (seed 42; `BENCH_BUNDLES`
//!   bundles, default 2,000);
//! - `shared/...`: the independent generator of `../shared/bench` (`gen.py` then
//!   `convert.py`, seed 42; `BENCH_SHARED_BUNDLES` bundles, default 5,000), skipped with a note
//!   when that folder or `python3` is not there. Its eight rules (`r1-r8.yaml`) run too.
//!
//! Each group has:
//! 1. `floor`: every line parsed into `serde_json::Value` with one reused line buffer, nothing
//!    else (the floor any JSON tool pays, as `../shared/bench/floor` and
//!    `examples/parse_floor` measure it);
//! 2. `pack/1_thread`, `pack/all_threads`: `diagnose --format jsonl` end to end (read, parse,
//!    evaluate the default pack, write JSON Lines to a sink); `r1-r8/...` the same with the
//!    eight rules.
//!
//! Run with `cargo bench --bench throughput` (the release profile: thin LTO, one codegen
//! unit; mimalloc, as the binary). Throughput is in bundles per second; a ratio to the floor
//! is the figure to compare across machines.

use std::fs::File;
use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use balance_doctor::batch::{self, BatchOptions, Input, RecordFormat};

/// The binary's allocator, options included, so that these figures are the binary's.
#[path = "../src/allocator.rs"]
mod allocator;
use balance_doctor_engine::{RuleSet, RuleText, compile};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn count_from(variable: &str, default: u64) -> u64 {
    std::env::var(variable)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The project's own generator's bundles.
fn generated(count: u64) -> PathBuf {
    let path = std::env::temp_dir().join(format!("balance-doctor-bench-{count}.jsonl"));
    if !path.exists() {
        let mut file = std::io::BufWriter::new(File::create(&path).unwrap());
        balance_doctor::generate::write_jsonl(count, 42, &mut file).unwrap();
    }
    path
}

/// The independent generator's bundles, in the single-file form, if it can be run.
fn shared(count: u64, bench: &Path) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = root.join("target/shared-bench");
    let data = work.join(format!("bundles-{count}.jsonl"));
    if data.exists() {
        return Some(data);
    }
    std::fs::create_dir_all(&work).ok()?;
    let raw = work.join(format!("gen-{count}.jsonl"));
    let generated = Command::new("python3")
        .arg(bench.join("gen.py"))
        .arg(count.to_string())
        .args(["--seed", "42", "--out"])
        .arg(&raw)
        .output()
        .ok()?
        .status
        .success();
    let converted = generated
        && Command::new("python3")
            .arg(bench.join("convert.py"))
            .arg(&raw)
            .arg(&data)
            .status()
            .ok()?
            .success();
    converted.then_some(data)
}

/// Parses every line into a `Value`, reusing one line buffer.
fn floor(path: &Path) -> u64 {
    let mut input = BufReader::with_capacity(1 << 20, File::open(path).unwrap());
    let (mut line, mut lines) = (String::new(), 0);
    while {
        line.clear();
        input.read_line(&mut line).unwrap() > 0
    } {
        let text = line.trim_end();
        if text.is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        black_box(&value);
        lines += 1;
    }
    lines
}

fn diagnose(rules: &RuleSet, path: &Path, threads: usize) -> u64 {
    let options = BatchOptions {
        as_of: None,
        now: jiff::Timestamp::UNIX_EPOCH,
        explain: false,
        threads,
        chunk: 256,
        format: RecordFormat::Jsonl,
        // As the binary without `--summary`.
        keep_diagnoses: false,
        ..BatchOptions::default()
    };
    let report = batch::run(
        rules,
        vec![Input::Jsonl(path.to_path_buf())],
        &mut std::io::sink(),
        &options,
        &mut |_, _, _| {},
    )
    .unwrap();
    report.records
}

fn group(c: &mut Criterion, name: &str, path: &Path, rule_sets: &[(&str, &RuleSet)]) {
    let count = floor(path);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(count));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("floor", |b| b.iter(|| assert_eq!(floor(path), count)));
    for (rules_name, rules) in rule_sets {
        for (threads_name, threads) in [("1_thread", 1), ("all_threads", cores)] {
            group.bench_function(format!("{rules_name}/{threads_name}"), |b| {
                b.iter(|| assert_eq!(diagnose(rules, path, threads), count))
            });
        }
    }
    group.finish();
}

fn throughput(c: &mut Criterion) {
    let pack = balance_doctor::default_rule_set().unwrap();
    let path = generated(count_from("BENCH_BUNDLES", 2_000));
    group(c, "generate", &path, &[("pack", &pack)]);

    let bench = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench");
    let shared_data = bench
        .exists()
        .then(|| shared(count_from("BENCH_SHARED_BUNDLES", 5_000), &bench))
        .flatten();
    let Some(path) = shared_data else {
        eprintln!("shared: skipped ({} or python3 not found)", bench.display());
        return;
    };
    let text = std::fs::read_to_string(bench.join("r1-r8.yaml")).unwrap();
    let eight = compile(&[RuleText {
        name: "r1-r8.yaml",
        text: &text,
    }])
    .unwrap();
    group(c, "shared", &path, &[("pack", &pack), ("r1-r8", &eight)]);
}

criterion_group!(benches, throughput);
criterion_main!(benches);
