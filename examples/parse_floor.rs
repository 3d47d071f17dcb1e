//! The parse-only floor: read a JSON Lines file and parse every line into
//! `serde_json::Value`, nothing else. `cargo run --release --example parse_floor -- FILE`
//! prints the number of lines; compare its time with `balance-doctor diagnose --format jsonl`.

use std::io::{BufRead, BufReader};

fn main() -> std::io::Result<()> {
    let path = std::env::args()
        .nth(1)
        .expect("usage: parse_floor FILE.jsonl");
    let reader = BufReader::with_capacity(1 << 16, std::fs::File::open(path)?);
    let mut lines = 0u64;
    for line in reader.lines() {
        let value: serde_json::Value = serde_json::from_str(&line?).expect("valid JSON");
        std::hint::black_box(value);
        lines += 1;
    }
    println!("{lines}");
    Ok(())
}
