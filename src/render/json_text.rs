//! JSON text written straight into a buffer, byte for byte what `serde_json::to_writer` writes
//! (compact), for `diagnose --format jsonl` (see `render::jsonl_diagnosed`). Strings and values
//! are written by the engine's escaper ([`balance_doctor_engine::json_text`]), which the engine
//! also writes shown values with; these are the record's other pieces.

pub(super) use balance_doctor_engine::json_text::{string, value};

/// Writes `name` in quotes as it is: for the names of enum values (`error`, `fired`), which
/// need no escape.
pub(super) fn name(out: &mut Vec<u8>, name: &'static str) {
    debug_assert!(
        !name
            .bytes()
            .any(|byte| byte < 0x20 || byte == b'"' || byte == b'\\'),
        "{name:?} needs escaping"
    );
    out.push(b'"');
    out.extend_from_slice(name.as_bytes());
    out.push(b'"');
}

/// Writes a JSON array of `items`, each written by `write`.
pub(super) fn list<T>(out: &mut Vec<u8>, items: &[T], mut write: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write(out, item);
    }
    out.push(b']');
}

/// Writes a list of strings.
pub(super) fn strings(out: &mut Vec<u8>, items: &[String]) {
    list(out, items, |out, item| string(out, item));
}

/// Writes an unsigned integer as serde_json does (with itoa).
pub(super) fn integer(out: &mut Vec<u8>, number: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(number).as_bytes());
}

/// Writes a value's `Display` text as a JSON string, as serde's `collect_str` does.
pub(super) fn display_string(out: &mut Vec<u8>, value: &impl std::fmt::Display) {
    string(out, &value.to_string());
}
