//! Throughput of batch diagnosis on generated bundles (`balance-doctor generate`, seed 42):
//!
//! 1. `parse_floor`: read the JSON Lines file and parse every line into `serde_json::Value`,
//!    nothing else: the floor any JSON tool pays;
//! 2. `diagnose_jsonl/1_thread` and `/all_threads`: `diagnose --format jsonl` end to end
//!    (read, parse, evaluate the default pack, write JSON Lines to a sink);
//! 3. `evaluate_only`: evaluating the default pack over already-parsed bundles.
//!
//! Run with `cargo bench --bench throughput`; `BENCH_BUNDLES=N` changes the input size
//! (default 2,000). Throughput is reported in bytes of input per second.

use std::fs::File;
use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::time::Duration;

use balance_doctor::batch::{self, BatchOptions, Input, RecordFormat};
use balance_doctor_engine::{Bundle, EvaluateOptions};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn input(count: u64) -> PathBuf {
    let path = std::env::temp_dir().join(format!("balance-doctor-bench-{count}.jsonl"));
    if !path.exists() {
        let mut file = std::io::BufWriter::new(File::create(&path).unwrap());
        balance_doctor::generate::write_jsonl(count, 42, &mut file).unwrap();
    }
    path
}

fn throughput(c: &mut Criterion) {
    let count: u64 = std::env::var("BENCH_BUNDLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let path = input(count);
    let bytes = std::fs::metadata(&path).unwrap().len();
    let rules = balance_doctor::default_rule_set().unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    let mut group = c.benchmark_group("batch");
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));

    group.bench_function("parse_floor", |b| {
        b.iter(|| {
            let reader = BufReader::with_capacity(1 << 16, File::open(&path).unwrap());
            for line in reader.lines() {
                let value: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
                black_box(value);
            }
        })
    });
    for (name, threads) in [
        ("diagnose_jsonl/1_thread", 1),
        ("diagnose_jsonl/all_threads", cores),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let options = BatchOptions {
                    as_of: None,
                    now: jiff::Timestamp::UNIX_EPOCH,
                    explain: false,
                    threads,
                    chunk: 256,
                    format: RecordFormat::Jsonl,
                    ..BatchOptions::default()
                };
                let report = batch::run(
                    &rules,
                    vec![Input::Jsonl(path.clone())],
                    &mut std::io::sink(),
                    &options,
                    &mut |_, _, _| {},
                )
                .unwrap();
                assert_eq!(report.records, count);
            })
        });
    }
    let bundles: Vec<Bundle> = BufReader::new(File::open(&path).unwrap())
        .lines()
        .map(|line| Bundle::from_json(&line.unwrap()).unwrap())
        .collect();
    group.bench_function("evaluate_only", |b| {
        b.iter(|| {
            for bundle in &bundles {
                black_box(rules.evaluate_with(
                    bundle,
                    bundle.as_of().unwrap(),
                    &EvaluateOptions::default(),
                ));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
