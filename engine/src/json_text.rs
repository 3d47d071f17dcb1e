//! JSON text written straight into a buffer, byte for byte what `serde_json::to_writer` writes
//! (compact): strings escaped as serde_json escapes them, values as it serializes them.
//!
//! The engine writes the values a diagnosis shows ([`crate::ShownValue`]) with these, and the
//! command line its JSON Lines records. serde_json's escaper looks at a string one byte at a
//! time through a table, which made escaping the largest part of writing a record. This one
//! tests sixteen bytes at a time (the scanner's `specials16`: SSE2 on x86-64), then eight, and
//! copies the runs that need no escape whole.

use serde_json::{Number, Value};

/// Where JSON text is written: a `Vec<u8>` (the command line's output) or a `String` (a shown
/// value's text), which takes only whole characters, since every piece written is one.
pub(crate) trait Out {
    /// Room for `more` bytes.
    fn room(&mut self, more: usize);
    /// Appends `text`.
    fn text(&mut self, text: &str);
    /// Appends one ASCII byte.
    fn ascii(&mut self, byte: u8);
}

impl Out for Vec<u8> {
    #[inline]
    fn room(&mut self, more: usize) {
        self.reserve(more);
    }
    #[inline]
    fn text(&mut self, text: &str) {
        crate::short::append(self, text.as_bytes());
    }
    #[inline]
    fn ascii(&mut self, byte: u8) {
        self.push(byte);
    }
}

impl Out for String {
    #[inline]
    fn room(&mut self, more: usize) {
        self.reserve(more);
    }
    #[inline]
    fn text(&mut self, text: &str) {
        crate::short::append_str(self, text);
    }
    #[inline]
    fn ascii(&mut self, byte: u8) {
        self.push(char::from(byte));
    }
}

/// Writes `text` as a JSON string, quotes included. Escaped like serde_json: `\"`, `\\`,
/// `\b`, `\f`, `\n`, `\r`, `\t`, and `\u00xx` (lowercase hex) for the other bytes below 0x20;
/// everything else (`/`, DEL, non-ASCII) is copied as it is.
pub fn string(out: &mut Vec<u8>, text: &str) {
    write_string(out, text);
}

/// Writes a value as serde_json serializes it: numbers as `Number`'s `Display` writes them
/// (the same text as its serialization), object members in the map's order.
pub fn value(out: &mut Vec<u8>, value: &Value) {
    write_value(out, value);
}

/// [`string`], into any [`Out`].
pub(crate) fn write_string(out: &mut impl Out, text: &str) {
    let bytes = text.as_bytes();
    out.room(bytes.len() + 2);
    out.ascii(b'"');
    // `text[copied..at]` needs no escape and is not written yet. Every index it is cut at is
    // that of an ASCII byte (or the end), so every piece is whole characters.
    let mut copied = 0;
    let mut at = 0;
    loop {
        let special = if let Some(words) = bytes[at..].first_chunk::<16>() {
            // The scanner's test of sixteen bytes (SSE2 on x86-64): the lowest bit set is the
            // first byte to escape.
            match crate::scan::specials16(words) {
                0 => {
                    at += 16;
                    continue;
                }
                flags => at + flags.trailing_zeros() as usize,
            }
        } else if let Some(word) = bytes[at..].first_chunk::<8>() {
            match special_bytes(u64::from_le_bytes(*word)) {
                0 => {
                    at += 8;
                    continue;
                }
                flags => at + first_flagged(flags),
            }
        } else if let Some(word) = bytes.last_chunk::<8>() {
            // Fewer than eight bytes left: the last eight, less those looked at already.
            let start = bytes.len() - 8;
            let unseen = u64::MAX.checked_shl(8 * (at - start) as u32).unwrap_or(0);
            match special_bytes(u64::from_le_bytes(*word)) & unseen {
                0 => break,
                flags => start + first_flagged(flags),
            }
        } else {
            // A string shorter than eight bytes.
            match bytes[at..].iter().position(|&byte| is_special(byte)) {
                Some(offset) => at + offset,
                None => break,
            }
        };
        out.text(&text[copied..special]);
        escape(out, bytes[special]);
        at = special + 1;
        copied = at;
    }
    out.text(&text[copied..]);
    out.ascii(b'"');
}

/// [`value`], into any [`Out`].
pub(crate) fn write_value(out: &mut impl Out, value: &Value) {
    match value {
        Value::Null => out.text("null"),
        Value::Bool(true) => out.text("true"),
        Value::Bool(false) => out.text("false"),
        Value::Number(number) => write_number(out, number),
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.ascii(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.ascii(b',');
                }
                write_value(out, item);
            }
            out.ascii(b']');
        }
        Value::Object(members) => {
            out.ascii(b'{');
            for (index, (key, member)) in members.iter().enumerate() {
                if index > 0 {
                    out.ascii(b',');
                }
                write_string(out, key);
                out.ascii(b':');
                write_value(out, member);
            }
            out.ascii(b'}');
        }
    }
}

/// A number as `Number`'s `Display` writes it (the text of its serialization): integers with
/// itoa, as serde_json does, floats with serde_json's float formatter.
pub(crate) fn write_number(out: &mut impl Out, number: &Number) {
    if let Some(unsigned) = number.as_u64() {
        out.text(itoa::Buffer::new().format(unsigned));
    } else if let Some(signed) = number.as_i64() {
        out.text(itoa::Buffer::new().format(signed));
    } else {
        // Writing into a buffer cannot fail.
        let _ = std::fmt::Write::write_fmt(&mut Fmt(out), format_args!("{number}"));
    }
}

/// An [`Out`] as a `fmt::Write`, for `Display` texts.
struct Fmt<'o, O>(&'o mut O);

impl<O: Out> std::fmt::Write for Fmt<'_, O> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.0.text(text);
        Ok(())
    }
}

/// Whether JSON needs `byte` escaped.
fn is_special(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// A word whose eight bytes are each `byte`.
const fn repeated(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

/// The high bit of each byte of `word` that is below 0x20, `"` or `\`, and no other bit.
/// Each byte is tested on its own: no sum below carries over into the next byte.
fn special_bytes(word: u64) -> u64 {
    special_bytes_quoted(word, b'"')
}

/// Whether `text` has a byte below 0x20, a `quote` (an ASCII byte) or a `\\`: [`special_bytes`]
/// with another quote, eight bytes at a time (for the names in normalized paths, quoted with
/// `'`).
#[inline]
pub(crate) fn needs_escape(text: &[u8], quote: u8) -> bool {
    let mut at = 0;
    while let Some(word) = text[at..].first_chunk::<8>() {
        if special_bytes_quoted(u64::from_le_bytes(*word), quote) != 0 {
            return true;
        }
        at += 8;
    }
    if at == text.len() {
        return false;
    }
    match text.last_chunk::<8>() {
        // The last eight bytes, some of them looked at already.
        Some(last) => special_bytes_quoted(u64::from_le_bytes(*last), quote) != 0,
        None => text
            .iter()
            .any(|&byte| byte < 0x20 || byte == quote || byte == b'\\'),
    }
}

/// [`special_bytes`] with `quote` (an ASCII byte) in place of `"`.
/// Not the scanner's `scan::specials`, which takes only `"` and whose borrows flag a plain byte
/// after a special one (a space after `\u{1}`): [`write_string`] masks off the bytes it has
/// escaped already and needs every flag exact.
#[inline]
fn special_bytes_quoted(word: u64, quote: u8) -> u64 {
    let low = word & repeated(0x7f);
    // Each byte's high bit is set unless the byte, less its high bit, is below 0x20 (is the
    // quote, is `\`).
    let not_control = low + repeated(0x80 - 0x20);
    let not_quote = (low ^ repeated(quote)) + repeated(0x7f);
    let not_backslash = (low ^ repeated(b'\\')) + repeated(0x7f);
    // A byte with its high bit set (part of a non-ASCII character) is never special.
    !(not_control & not_quote & not_backslash | word) & repeated(0x80)
}

/// The index of the lowest byte flagged in `flags` (which has a flag).
fn first_flagged(flags: u64) -> usize {
    (flags.trailing_zeros() / 8) as usize
}

fn escape(out: &mut impl Out, byte: u8) {
    let short = match byte {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x0c => b'f',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        _ => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.text("\\u00");
            out.ascii(HEX[usize::from(byte >> 4)]);
            out.ascii(HEX[usize::from(byte & 0x0f)]);
            return;
        }
    };
    out.ascii(b'\\');
    out.ascii(short);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    /// `text` escaped into a `Vec<u8>`, checked to be what escaping into a `String` gives.
    fn escaped(text: &str) -> String {
        let mut out = Vec::new();
        super::string(&mut out, text);
        let mut into_string = String::new();
        super::write_string(&mut into_string, text);
        let out = String::from_utf8(out).unwrap();
        assert_eq!(out, into_string);
        out
    }

    fn written(value: &serde_json::Value) -> String {
        let mut out = Vec::new();
        super::value(&mut out, value);
        let mut into_string = String::new();
        super::write_value(&mut into_string, value);
        let out = String::from_utf8(out).unwrap();
        assert_eq!(out, into_string);
        out
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for text in [
            "",
            "plain",
            "exactly8",
            "\"",
            "\\",
            "a\"b\\c/d\u{7f}e",
            "\u{0}\u{1}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1e}\u{1f} ",
            "tab\there, then a long run with no escape at all: 0123456789abcdef\n",
            "déjà vu \u{2028} 🙂 \"quoted\"",
            "seven\n!",
            "\"\"\"\"\"\"\"\"\"",
        ] {
            assert_eq!(
                escaped(text),
                serde_json::to_string(text).unwrap(),
                "{text:?}"
            );
        }
        // Every byte below 0x80 on its own, at every offset within a word.
        for byte in 0..0x80u8 {
            for offset in 0..9 {
                let text = format!("{}{}xyz", "a".repeat(offset), char::from(byte));
                assert_eq!(escaped(&text), serde_json::to_string(&text).unwrap());
            }
        }
    }

    #[test]
    fn special_bytes_are_flagged_exactly() {
        let fillers = [
            0x00, 0x1f, 0x20, 0x21, b'"', 0x23, b'\\', 0x5d, b'a', 0x7f, 0x80, 0xff,
        ];
        for byte in 0..=255u8 {
            for filler in fillers {
                for position in 0..8 {
                    let mut word = [filler; 8];
                    word[position] = byte;
                    let expected = word
                        .iter()
                        .enumerate()
                        .filter(|(_, byte)| super::is_special(**byte))
                        .fold(0u64, |flags, (index, _)| flags | 0x80 << (8 * index));
                    let flags = super::special_bytes(u64::from_le_bytes(word));
                    assert_eq!(flags, expected, "{word:02x?}");
                    // And as either half of sixteen bytes, as the escaper tests them
                    // (`scan::specials16`: its lowest bit set is the first special byte).
                    for half in 0..2 {
                        let mut words = [filler; 16];
                        words[8 * half..8 * half + 8].copy_from_slice(&word);
                        let first = words.iter().position(|byte| super::is_special(*byte));
                        let flags = crate::scan::specials16(&words);
                        assert_eq!(
                            (flags != 0).then(|| flags.trailing_zeros() as usize),
                            first,
                            "{words:02x?}"
                        );
                    }
                }
            }
        }
    }

    /// `needs_escape` finds a control byte, the quote or a backslash at any position of a
    /// text of any length, and nothing in a text without one.
    #[test]
    fn texts_needing_escapes_are_found() {
        for quote in [b'"', b'\''] {
            for length in 0..40 {
                let plain = "aé/".repeat(length).into_bytes();
                let plain = &plain[..length.min(plain.len())];
                // Cut at a character boundary or not: bytes are tested one by one.
                assert!(!super::needs_escape(plain, quote), "{plain:?}");
                for position in 0..length {
                    for special in [0x00, 0x1f, quote, b'\\'] {
                        let mut text = plain.to_vec();
                        text[position] = special;
                        assert!(super::needs_escape(&text, quote), "{text:?}");
                    }
                    let mut other = plain.to_vec();
                    other[position] = if quote == b'"' { b'\'' } else { b'"' };
                    assert!(!super::needs_escape(&other, quote), "{other:?}");
                }
            }
        }
    }

    #[test]
    fn escapes_are_found_at_every_position_of_short_and_long_strings() {
        for length in 1..26 {
            for position in 0..length {
                for special in ['"', '\\', '\n', '\u{1}', '\u{1f}'] {
                    let mut text: Vec<char> =
                        "abcdefghijklmnopqrstuvwxyz"[..length].chars().collect();
                    text[position] = special;
                    let one: String = text.iter().collect();
                    assert_eq!(escaped(&one), serde_json::to_string(&one).unwrap());
                    // And a second one at every later position.
                    for later in position + 1..length {
                        let mut two = text.clone();
                        two[later] = '\t';
                        let two: String = two.iter().collect();
                        assert_eq!(escaped(&two), serde_json::to_string(&two).unwrap());
                    }
                }
            }
        }
    }

    #[test]
    fn values_are_written_as_serde_json_serializes_them() {
        let value = json!({
            "null": null, "yes": true, "no": false,
            "numbers": [0, 7, -3, u64::MAX, i64::MIN, 0.5, -1.25e-7, 1e300, 3640.18, 2.0, 100.0],
            "text": "a \"b\" \n", "empty": {}, "none": [], "nested": [{"k\u{1}": [[]]}]
        });
        assert_eq!(written(&value), serde_json::to_string(&value).unwrap());
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            any::<String>().prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
                prop::collection::btree_map(any::<String>(), inner, 0..6)
                    .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_string_is_escaped_as_serde_json_escapes_it(text in any::<String>()) {
            prop_assert_eq!(escaped(&text), serde_json::to_string(&text).unwrap());
        }

        #[test]
        fn control_heavy_strings_are_escaped_as_serde_json_escapes_them(
            text in "[\\x00-\\x21\"\\\\/a\\x7fé🙂]{0,40}"
        ) {
            prop_assert_eq!(escaped(&text), serde_json::to_string(&text).unwrap());
        }

        #[test]
        fn any_word_is_flagged_exactly(word in any::<[u8; 8]>()) {
            let expected = word
                .iter()
                .enumerate()
                .filter(|(_, byte)| super::is_special(**byte))
                .fold(0u64, |flags, (index, _)| flags | 0x80 << (8 * index));
            prop_assert_eq!(super::special_bytes(u64::from_le_bytes(word)), expected);
        }

        #[test]
        fn the_first_of_any_sixteen_bytes_is_found(words in any::<[u8; 16]>()) {
            let first = words.iter().position(|byte| super::is_special(*byte));
            let flags = crate::scan::specials16(&words);
            prop_assert_eq!((flags != 0).then(|| flags.trailing_zeros() as usize), first);
        }

        #[test]
        fn any_value_is_written_as_serde_json_serializes_it(value in json_value()) {
            prop_assert_eq!(written(&value), serde_json::to_string(&value).unwrap());
        }
    }
}
