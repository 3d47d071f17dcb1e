//! The parse-only floor: read a JSON Lines file and parse every line into
//! `serde_json::Value`, reusing one line buffer, nothing else (as `../shared/bench/floor` and
//! `benches/throughput.rs` measure it). `cargo run --release --example parse_floor -- FILE`
//! prints the number of lines; compare its time with `balance-doctor diagnose --format jsonl`.

use std::io::{BufRead, BufReader};

fn main() -> std::io::Result<()> {
    let path = std::env::args()
        .nth(1)
        .expect("usage: parse_floor FILE.jsonl");
    let mut input = BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let (mut line, mut lines) = (String::new(), 0u64);
    while {
        line.clear();
        input.read_line(&mut line)? > 0
    } {
        let text = line.trim_end();
        if text.is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(text).expect("valid JSON");
        std::hint::black_box(&value);
        lines += 1;
    }
    println!("{lines}");
    Ok(())
}
