//! Per-bundle evaluation time of the default pack, and rule compile time.
//!
//! `cargo bench --bench evaluate` prints, for a few typical fixtures and for all of them in
//! turn, the median time of one evaluation over many runs (bundles already parsed), plus the
//! time to compile the default pack. Plain `std::time` measurement: no timing assertion.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use balance_doctor_engine::{Bundle, EvaluateOptions, RuleSet};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// Median over `rounds` rounds of the mean time per call of `work` run `per_round` times.
fn measure(rounds: usize, per_round: u32, mut work: impl FnMut()) -> Duration {
    for _ in 0..per_round {
        work();
    }
    let samples = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_round {
                work();
            }
            start.elapsed() / per_round
        })
        .collect();
    median(samples)
}

fn load(dir: &Path) -> Bundle {
    balance_doctor::input::read_bundle(dir).expect("fixture loads")
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let compile_time = measure(31, 20, || {
        black_box(balance_doctor::default_rule_set().expect("default pack compiles"));
    });
    println!("compile default pack: {:>10.1?}", compile_time);

    let rules: RuleSet = balance_doctor::default_rule_set().unwrap();
    let plain = EvaluateOptions::default();
    let explain = EvaluateOptions { explain: true };
    for name in [
        "healthy-transactions-item",
        "cached-differs-from-realtime",
        "several-causes",
        "login-required-oauth",
    ] {
        let bundle = load(&root.join("fixtures").join(name));
        let as_of = bundle.as_of().unwrap();
        let evaluate = measure(51, 2_000, || {
            black_box(rules.evaluate_with(black_box(&bundle), as_of, &plain));
        });
        let explained = measure(21, 500, || {
            black_box(rules.evaluate_with(black_box(&bundle), as_of, &explain));
        });
        println!("evaluate {name:<32} {evaluate:>10.1?}   with --explain {explained:>10.1?}");
    }

    let mut bundles = Vec::new();
    for entry in std::fs::read_dir(root.join("fixtures")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            bundles.push(load(&path));
        }
    }
    let count = bundles.len() as u32;
    let all = measure(21, 50, || {
        for bundle in &bundles {
            black_box(rules.evaluate_with(black_box(bundle), bundle.as_of().unwrap(), &plain));
        }
    }) / count;
    println!("evaluate, mean over all {count} fixtures   {all:>10.1?} per bundle");
}
