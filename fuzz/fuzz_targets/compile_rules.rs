//! Rule text of any shape must compile or be refused with problems, never panic.
#![no_main]

use balance_doctor_engine::{RuleText, compile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(errors) = compile(&[RuleText { name: "fuzz.yaml", text }]) {
            let _ = errors.to_string();
        }
    }
});
