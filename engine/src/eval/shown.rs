//! What of a found value reaches the output: secrets masked, large values cut down.
//!
//! Every value that leaves evaluation (evidence, explanation traces, messages, labels) goes
//! through here. A value under a key of the rules' `redact:` list, at any depth of its path or
//! inside it, becomes [`REDACTED`]. Objects and arrays are never copied whole: at most
//! [`MAX_ITEMS`] members or items, nested containers below [`MAX_DEPTH`] summarised
//! (`{object of 4 keys}`), long texts cut, each cut with a count of what was left out.
//!
//! Evidence values ([`shown_found`]) are written as JSON text ([`ShownValue`]), never built as
//! a `serde_json::Value`: members are written in key order, as a `serde_json::Map` holds them.
//! An object or array kept as text by the projected parse is written from that text, as far as
//! it is shown: what lies beyond the cut is checked and counted, never built.

use std::borrow::Cow;
use std::ops::Range;

use crate::diagnosis::ShownValue;
use crate::doc::Doc;
use crate::json_text::{write_number, write_string};
use crate::path::{RouteId, Routes};
use crate::scan::{Scan, Scanner};

/// The object keys whose values are never shown (`redact:` of every loaded file).
///
/// Most names asked about are not among them: a name whose length, first and last bytes
/// match no key's ([`sketch`]) is answered without hashing it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Redact {
    keys: foldhash::HashSet<String>,
    /// Bit [`sketch`] of every key set.
    sketches: u128,
}

impl Redact {
    /// Whether values under `name` are never shown.
    #[inline]
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.sketches != 0 && self.sketches & (1 << sketch(name)) != 0 && self.keys.contains(name)
    }

    /// Whether there is no such key.
    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl FromIterator<String> for Redact {
    fn from_iter<I: IntoIterator<Item = String>>(keys: I) -> Redact {
        let keys: foldhash::HashSet<String> = keys.into_iter().collect();
        let sketches = keys.iter().fold(0, |bits, key| bits | 1 << sketch(key));
        Redact { keys, sketches }
    }
}

/// A number below 128 made from a name's length and its first and last bytes: equal names
/// have equal sketches.
#[inline]
fn sketch(name: &str) -> u32 {
    let bytes = name.as_bytes();
    let (first, last) = match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) => (u32::from(first), u32::from(last)),
        _ => (0, 0),
    };
    ((bytes.len() as u32).wrapping_mul(31) ^ first.wrapping_mul(7) ^ last.rotate_left(3)) & 127
}

/// What a masked value is shown as.
pub(crate) const REDACTED: &str = "[redacted]";

/// Members of an object (items of an array) shown; the rest are counted.
const MAX_ITEMS: usize = 10;

/// Containers nested deeper than this inside a shown value are summarised.
const MAX_DEPTH: usize = 2;

/// Characters of a text shown; the rest are counted.
const MAX_TEXT: usize = 500;

/// The most room reserved at first for a shown value's text.
const MAX_ROOM: usize = 4096;

/// The key of the member that counts the members left out of a shown object.
const MORE_KEYS: &str = "...";

/// Whether the value found at `route` is under a `redact:` key: names read off the route,
/// no path built. A route asked about before is answered here, from what it remembers.
#[inline]
fn redacted_at(routes: &Routes<'_>, route: RouteId, redact: &Redact) -> bool {
    if redact.is_empty() {
        return false;
    }
    match routes.named(route) {
        Some(answer) => answer,
        None => redacted_along(routes, route, redact),
    }
}

/// [`redacted_at`] of a route not asked about before.
#[inline(never)]
fn redacted_along(routes: &Routes<'_>, route: RouteId, redact: &Redact) -> bool {
    routes.any_name(
        route,
        |name| redact.contains(name),
        |raw, test| path_names(raw).any(|name| test(&name)),
    )
}

/// `value`, found at `route`, as it may be shown, borrowed when it is shown as it is (a
/// scalar not under a `redact:` key and not cut): no path is built and nothing is copied.
pub(crate) fn shown_at<'v>(
    value: &'v Doc,
    routes: &Routes<'_>,
    route: RouteId,
    redact: &Redact,
) -> Cow<'v, Doc> {
    if redacted_at(routes, route, redact) {
        return Cow::Owned(Doc::from(REDACTED));
    }
    match value {
        Doc::String(text) if text.len() <= MAX_TEXT => Cow::Borrowed(value),
        Doc::Null | Doc::Bool(_) | Doc::Number(_) => Cow::Borrowed(value),
        _ => Cow::Owned(capped_doc(value, redact, 0)),
    }
}

/// `value` as it may be shown, `depth` levels down a shown value, built (for a long text, an
/// object or an array in a message or a label): what [`capped`] writes, as a value.
fn capped_doc(value: &Doc, redact: &Redact, depth: usize) -> Doc {
    match value {
        Doc::String(text) => match cut(text) {
            Some(cut) => Doc::from(cut),
            None => value.clone(),
        },
        Doc::Array(items) if depth >= MAX_DEPTH => {
            Doc::from(format!("[array of {}]", count_of(items.len(), "item")))
        }
        Doc::Object(members) if depth >= MAX_DEPTH => {
            Doc::from(format!("{{object of {}}}", count_of(members.len(), "key")))
        }
        Doc::Array(items) => {
            let mut out: Vec<Doc> = items
                .iter()
                .take(MAX_ITEMS)
                .map(|item| capped_doc(item, redact, depth + 1))
                .collect();
            if items.len() > MAX_ITEMS {
                let more = items.len() - MAX_ITEMS;
                out.push(Doc::from(format!("... {}", count_of(more, "more item"))));
            }
            Doc::Array(crate::arena::List::from(out))
        }
        Doc::Object(members) => {
            let mut out: Vec<(Box<str>, Doc)> = members
                .iter()
                .take(MAX_ITEMS)
                .map(|(key, member)| {
                    let member = if redact.contains(key) {
                        Doc::from(REDACTED)
                    } else {
                        capped_doc(member, redact, depth + 1)
                    };
                    (Box::from(key), member)
                })
                .collect();
            if members.len() > MAX_ITEMS {
                let more = members.len() - MAX_ITEMS;
                // Sorted into place by `from_vec`, in place of a shown member of that key
                // (the last of a key given twice is kept).
                out.push((Box::from(MORE_KEYS), Doc::from(count_of(more, "more key"))));
            }
            Doc::Object(crate::doc::Members::from_vec(out))
        }
        Doc::Null | Doc::Bool(_) | Doc::Number(_) => value.clone(),
    }
}

/// `value`, found at `route`, as it may be shown (for evidence and explanations), as JSON
/// text. With `kept`, the JSON text of the whole value when `value` is only its skeleton (the
/// projected parse kept the text), it is what the value built from the text would show, but
/// read from the text only as far as it is shown ([`from_text`]).
pub(crate) fn shown_found(
    value: &Doc,
    kept: Option<&str>,
    routes: &Routes<'_>,
    route: RouteId,
    redact: &Redact,
) -> ShownValue {
    if redacted_at(routes, route, redact) {
        let mut out = String::with_capacity(REDACTED.len() + 2);
        write_string(&mut out, REDACTED);
        return ShownValue::from_text(out);
    }
    // Room for the text, so that it is seldom moved as it grows: a text's own length and
    // quotes (and some escapes), a few numbers' digits, or a kept text's length (what is
    // shown of a container is usually no longer than its text).
    let room = match (kept, value) {
        (Some(json), _) => json.len().min(MAX_ROOM),
        (None, Doc::String(text)) => text.len().min(MAX_TEXT * 4) + 8,
        (None, Doc::Array(_) | Doc::Object(_)) => MAX_ROOM / 4,
        (None, Doc::Null | Doc::Bool(_) | Doc::Number(_)) => 24,
    };
    let mut out = String::with_capacity(room);
    match kept {
        Some(json) => from_text(&mut out, json, value, redact),
        None => capped(&mut out, value, redact, 0),
    }
    ShownValue::from_text(out)
}

/// Writes `capped` of the value whose JSON text is `json` (of `fallback` when the text is not
/// a JSON value), read from the text only as far as it is shown: members and items beyond the
/// cut, members under a `redact:` key and containers below [`MAX_DEPTH`] are checked and
/// counted, never built.
fn from_text(out: &mut String, json: &str, fallback: &Doc, redact: &Redact) {
    let start = out.len();
    if capped_text(out, &mut Scanner::new(json), redact, 0).is_err() {
        out.truncate(start);
        capped(out, fallback, redact, 0);
    }
}

/// Writes `capped` of the value at the cursor, read from the text in one pass: fails exactly
/// where building the value ([`Scanner::value`]) fails, since every part is either read or
/// skipped by the same scanner. Written in part when it fails.
fn capped_text<'t>(
    out: &mut String,
    scan: &mut Scanner<'t>,
    redact: &Redact,
    depth: usize,
) -> Scan<()> {
    match scan.peek() {
        Some(b'"') => {
            scan.at += 1;
            let text = scan.string_body()?;
            read_string(out, &text, matches!(text, Cow::Borrowed(_)), MAX_TEXT);
        }
        Some(b'{') if depth >= MAX_DEPTH => {
            scan.enter()?;
            let mut keys = Vec::new();
            if scan.first_member()? {
                loop {
                    keys.push(scan.key()?);
                    scan.skip()?;
                    if !scan.next_member()? {
                        break;
                    }
                }
            }
            summary(out, "{object of ", distinct(keys), "key", "}");
        }
        Some(b'[') if depth >= MAX_DEPTH => {
            let mut count = 0;
            scan.enter()?;
            if scan.first_element()? {
                loop {
                    scan.skip()?;
                    count += 1;
                    if !scan.next_element()? {
                        break;
                    }
                }
            }
            summary(out, "[array of ", count, "item", "]");
        }
        Some(b'{') => {
            scan.enter()?;
            out.push('{');
            // Each member shown is written after `base` as it is read, as `"key":value` (after
            // a comma unless it is the first written).
            let base = out.len();
            // The members shown so far: the MAX_ITEMS smallest keys, sorted as in a
            // `serde_json::Map`, each with where the text of its last member is (the one a
            // parse keeps). A key once left out never comes back: the keys shown only get
            // smaller.
            let mut shown: Vec<(Cow<'t, str>, Range<usize>)> = Vec::new();
            // The keys of members left out, only counted (repeats included).
            let mut others = Vec::new();
            // Whether the members shown came in key order, each once and none left out since:
            // then they are written as they are shown (as the members of most objects are).
            let mut in_order = true;
            if scan.first_member()? {
                loop {
                    let key = scan.key()?;
                    match shown.binary_search_by(|(shown, _)| shown.as_ref().cmp(&key)) {
                        Ok(at) => {
                            in_order = false;
                            let plain = matches!(key, Cow::Borrowed(_));
                            shown[at].1 = member(out, base, scan, &key, plain, redact, depth)?;
                        }
                        Err(at) if at < MAX_ITEMS => {
                            let plain = matches!(key, Cow::Borrowed(_));
                            let text = member(out, base, scan, &key, plain, redact, depth)?;
                            if shown.len() == MAX_ITEMS {
                                in_order = false;
                                others.extend(shown.pop().map(|(key, _)| key));
                            }
                            in_order &= at == shown.len();
                            shown.insert(at, (key, text));
                        }
                        Err(_) => {
                            scan.skip()?;
                            others.push(key);
                        }
                    }
                    if !scan.next_member()? {
                        break;
                    }
                }
            }
            let count = shown.len() + distinct(others);
            if !(in_order && count <= MAX_ITEMS) {
                // Written again from what was written, in key order.
                let written = out.split_off(base);
                let members = shown.iter().map(|(key, range)| {
                    let text = &written[range.start - base..range.end - base];
                    (key.as_ref(), text.strip_prefix(',').unwrap_or(text))
                });
                members_shown(out, members, count, |out, _, text| out.push_str(text));
            }
            out.push('}');
        }
        Some(b'[') => {
            let mut count = 0;
            scan.enter()?;
            out.push('[');
            if scan.first_element()? {
                loop {
                    if count < MAX_ITEMS {
                        if count > 0 {
                            out.push(',');
                        }
                        capped_text(out, scan, redact, depth + 1)?;
                    } else {
                        scan.skip()?;
                    }
                    count += 1;
                    if !scan.next_element()? {
                        break;
                    }
                }
            }
            more_items(out, count);
            out.push(']');
        }
        _ => scalar(out, &scan.doc_scalar(&mut crate::arena::Arena::none())?),
    }
    Ok(())
}

/// Writes the member `key` of an object at `depth`, its value read from the cursor, as
/// `"key":value`, after a comma when something was written after `base`: where in `out` it
/// was written.
fn member(
    out: &mut String,
    base: usize,
    scan: &mut Scanner<'_>,
    key: &str,
    plain: bool,
    redact: &Redact,
    depth: usize,
) -> Scan<Range<usize>> {
    let start = out.len();
    if start > base {
        out.push(',');
    }
    read_string(out, key, plain, usize::MAX);
    out.push(':');
    if redact.contains(key) {
        scan.skip()?;
        write_string(out, REDACTED);
    } else {
        capped_text(out, scan, redact, depth + 1)?;
    }
    Ok(start..out.len())
}

/// Writes the members of an object (without its braces), the first [`MAX_ITEMS`] of `count`
/// in key order, each written as `"key":value` by `write`: when there are more, with a member
/// [`MORE_KEYS`] that counts the others, at its place in key order (in place of a shown member
/// of that key), as inserting it into a `serde_json::Map` would put it.
fn members_shown<'k, V>(
    out: &mut String,
    members: impl Iterator<Item = (&'k str, V)>,
    count: usize,
    mut write: impl FnMut(&mut String, &'k str, V),
) {
    let mut more = count > MAX_ITEMS;
    let mut first = true;
    for (key, value) in members {
        if more && key >= MORE_KEYS {
            more = false;
            more_keys(out, &mut first, count);
            if key == MORE_KEYS {
                continue;
            }
        }
        if !std::mem::take(&mut first) {
            out.push(',');
        }
        write(out, key, value);
    }
    if more {
        more_keys(out, &mut first, count);
    }
}

/// Writes the member that counts the keys of an object beyond [`MAX_ITEMS`] of `count`.
fn more_keys(out: &mut String, first: &mut bool, count: usize) {
    if !std::mem::take(first) {
        out.push(',');
    }
    out.push_str("\"...\":\"");
    push_count(out, count - MAX_ITEMS, "more key");
    out.push('"');
}

/// Writes, when an array has more than [`MAX_ITEMS`] of `count` items (the ones written), the
/// item that counts the others.
fn more_items(out: &mut String, count: usize) {
    if count > MAX_ITEMS {
        out.push_str(",\"... ");
        push_count(out, count - MAX_ITEMS, "more item");
        out.push('"');
    }
}

/// Writes the text that stands for a container below [`MAX_DEPTH`]: `{object of 4 keys}`.
fn summary(out: &mut String, before: &str, count: usize, unit: &str, after: &str) {
    out.push('"');
    out.push_str(before);
    push_count(out, count, unit);
    out.push_str(after);
    out.push('"');
}

/// `1 key`, `4 more keys`: a count and its unit, plural unless the count is one.
fn count_of(count: usize, unit: &str) -> String {
    let mut out = String::new();
    push_count(&mut out, count, unit);
    out
}

/// [`crate::time::push_count`] for a count of shown values.
fn push_count(out: &mut String, count: usize, unit: &str) {
    crate::time::push_count(out, count as u64, unit);
}

/// Writes a text, cut at [`MAX_TEXT`] characters.
fn shown_string(out: &mut String, text: &str) {
    match cut(text) {
        Some(cut) => write_string(out, &cut),
        None => write_string(out, text),
    }
}

/// Writes a string read from JSON text (cut at `max` bytes' worth of characters when it is
/// longer). A `plain` one, which the scanner borrowed from the text, had no escape, so it has
/// no quote, no backslash and no control character, and is copied as it is.
fn read_string(out: &mut String, text: &str, plain: bool, max: usize) {
    if plain && text.len() <= max {
        debug_assert!(
            !text.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\'),
            "{text:?} needs escaping"
        );
        out.reserve(text.len() + 2);
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else if max == MAX_TEXT {
        shown_string(out, text);
    } else {
        write_string(out, text);
    }
}

/// Writes a scalar (a container is written as `null`; callers pass only scalars).
fn scalar(out: &mut String, value: &Doc) {
    match value {
        Doc::Bool(true) => out.push_str("true"),
        Doc::Bool(false) => out.push_str("false"),
        Doc::Number(number) => write_number(out, number),
        Doc::String(text) => shown_string(out, text),
        Doc::Null | Doc::Array(_) | Doc::Object(_) => out.push_str("null"),
    }
}

/// How many different keys `keys` holds.
fn distinct(mut keys: Vec<Cow<'_, str>>) -> usize {
    if keys.len() > 1 {
        keys.sort_unstable();
        keys.dedup();
    }
    keys.len()
}

/// `text` cut at [`MAX_TEXT`] characters with a count of the rest, if it is longer.
fn cut(text: &str) -> Option<String> {
    if text.len() <= MAX_TEXT {
        return None;
    }
    let (cut, _) = text.char_indices().nth(MAX_TEXT)?;
    let left_out = text[cut..].chars().count();
    Some(format!(
        "{}... ({})",
        &text[..cut],
        count_of(left_out, "more character")
    ))
}

/// Writes `value` as it may be shown, `depth` levels down a shown value.
fn capped(out: &mut String, value: &Doc, redact: &Redact, depth: usize) {
    match value {
        Doc::Array(items) if depth >= MAX_DEPTH => {
            summary(out, "[array of ", items.len(), "item", "]");
        }
        Doc::Object(members) if depth >= MAX_DEPTH => {
            summary(out, "{object of ", members.len(), "key", "}");
        }
        Doc::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().take(MAX_ITEMS).enumerate() {
                if index > 0 {
                    out.push(',');
                }
                capped(out, item, redact, depth + 1);
            }
            more_items(out, items.len());
            out.push(']');
        }
        Doc::Object(members) => {
            out.push('{');
            let shown = members.iter().take(MAX_ITEMS);
            members_shown(out, shown, members.len(), |out, key, member| {
                write_string(out, key);
                out.push(':');
                if redact.contains(key) {
                    write_string(out, REDACTED);
                } else {
                    capped(out, member, redact, depth + 1);
                }
            });
            out.push('}');
        }
        scalar_value => scalar(out, scalar_value),
    }
}

/// The member names along an RFC 9535 normalized path (`$['a'][0]['b']` gives `a`, `b`), or
/// along a suffix of one (`['a'][0]`).
fn path_names(path: &str) -> impl Iterator<Item = String> + '_ {
    let mut rest = path.strip_prefix('$').unwrap_or(path);
    std::iter::from_fn(move || {
        loop {
            let inner = rest.strip_prefix('[')?;
            let Some(quoted) = inner.strip_prefix('\'') else {
                // An index: skip to its end.
                let end = inner.find(']')?;
                rest = &inner[end + 1..];
                continue;
            };
            let mut name = String::new();
            let mut chars = quoted.char_indices();
            while let Some((at, c)) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some((_, 'u')) => {
                            let hex: String = chars.by_ref().take(4).map(|(_, c)| c).collect();
                            let code = u32::from_str_radix(&hex, 16).ok();
                            name.extend(code.and_then(char::from_u32));
                        }
                        Some((_, 'b')) => name.push('\u{8}'),
                        Some((_, 'f')) => name.push('\u{c}'),
                        Some((_, 'n')) => name.push('\n'),
                        Some((_, 'r')) => name.push('\r'),
                        Some((_, 't')) => name.push('\t'),
                        Some((_, escaped)) => name.push(escaped),
                        None => return None,
                    },
                    '\'' => {
                        rest = quoted[at + 1..].strip_prefix(']')?;
                        return Some(name);
                    }
                    c => name.push(c),
                }
            }
            return None;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, Value, json};

    /// What a value shows, built as a `serde_json::Value` (as evidence was before it was
    /// written as text): the reference the text is held to.
    fn capped_value(value: &Doc, redact: &Redact, depth: usize) -> Value {
        match value {
            Doc::String(text) => Value::String(match cut(text) {
                Some(cut) => cut,
                None => String::from(&**text),
            }),
            Doc::Array(items) if depth >= MAX_DEPTH => {
                Value::String(format!("[array of {}]", count_of(items.len(), "item")))
            }
            Doc::Object(members) if depth >= MAX_DEPTH => {
                Value::String(format!("{{object of {}}}", count_of(members.len(), "key")))
            }
            Doc::Array(items) => {
                let mut out: Vec<Value> = items
                    .iter()
                    .take(MAX_ITEMS)
                    .map(|item| capped_value(item, redact, depth + 1))
                    .collect();
                if items.len() > MAX_ITEMS {
                    out.push(Value::String(format!(
                        "... {}",
                        count_of(items.len() - MAX_ITEMS, "more item")
                    )));
                }
                Value::Array(out)
            }
            Doc::Object(members) => {
                let mut out = Map::new();
                for (key, member) in members.iter().take(MAX_ITEMS) {
                    let member = if redact.contains(key) {
                        Value::String(REDACTED.to_owned())
                    } else {
                        capped_value(member, redact, depth + 1)
                    };
                    out.insert(key.to_owned(), member);
                }
                if members.len() > MAX_ITEMS {
                    out.insert(
                        "...".to_owned(),
                        Value::String(count_of(members.len() - MAX_ITEMS, "more key")),
                    );
                }
                Value::Object(out)
            }
            other => other.to_value(),
        }
    }

    /// `value`, found at the normalized `path`, as it may be shown: what `shown_found` writes,
    /// with the names read back from the path, built as a value (the reference).
    fn shown(value: &Value, path: &str, redact: &Redact) -> Value {
        if !redact.is_empty() && path_names(path).any(|name| redact.contains(&name)) {
            return Value::String(REDACTED.to_owned());
        }
        capped_value(&Doc::from(value.clone()), redact, 0)
    }

    /// What `capped` writes for `value`, checked to be the JSON text of the reference value
    /// (and to read back as it).
    fn capped_json(value: &Doc, redact: &Redact) -> String {
        let mut out = String::new();
        capped(&mut out, value, redact, 0);
        let reference = capped_value(value, redact, 0);
        assert_eq!(out, serde_json::to_string(&reference).unwrap());
        assert_eq!(ShownValue::from_text(out.clone()), reference);
        // Built for messages and labels, it is the same value.
        assert_eq!(capped_doc(value, redact, 0).to_value(), reference);
        out
    }

    /// What `from_text` writes.
    fn text_shown(json: &str, fallback: &Doc, redact: &Redact) -> String {
        let mut out = String::new();
        from_text(&mut out, json, fallback, redact);
        out
    }

    fn keys(names: &[&str]) -> Redact {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    /// A name is a redacted key exactly when it is one of the keys, whatever the sketches of
    /// other names.
    #[test]
    fn redacted_keys_are_found_by_name() {
        let names = [
            "access_token",
            "names",
            "it's",
            "",
            "a",
            "nam",
            "namez",
            "zames",
            "access_tokeN",
            "emails",
            "numbers",
            "é",
            "ée",
        ];
        for count in 0..names.len() {
            let redact = keys(&names[..count]);
            for name in names {
                assert_eq!(
                    redact.contains(name),
                    names[..count].contains(&name),
                    "{name:?}"
                );
            }
            assert_eq!(redact.is_empty(), count == 0);
        }
    }

    #[test]
    fn names_along_a_normalized_path() {
        let names: Vec<String> = path_names("$['a'][0]['b\\'c']['\\u0001x'][12]").collect();
        assert_eq!(names, ["a", "b'c", "\u{1}x"]);
        assert_eq!(path_names("$").count(), 0);
    }

    #[test]
    fn secrets_are_masked_on_the_path_and_inside() {
        let redact = keys(&["access_token", "names"]);
        let value = json!({"access_token": "s", "owners": [{"names": ["Jo"]}], "id": 1});
        assert_eq!(
            shown(&json!("s"), "$['item']['access_token']", &redact),
            json!(REDACTED)
        );
        assert_eq!(
            shown(&json!("Jo"), "$['owners'][0]['names'][0]", &redact),
            json!(REDACTED)
        );
        assert_eq!(
            shown(&value, "$", &redact),
            json!({"access_token": REDACTED, "owners": ["{object of 1 key}"], "id": 1})
        );
    }

    /// `shown_at` and `shown_found` (names read off the route) show what `shown` (names read
    /// back from the normalized path) shows, for walked names, indexes and jsonpath-rust's raw
    /// suffixes, also from kept text.
    #[test]
    fn shown_at_a_route_agrees_with_shown_at_its_path() {
        use crate::path::{ROOT, Seg};
        let redact = keys(&["access_token", "names", "it's"]);
        let mut routes = Routes::default();
        let item = routes.push(ROOT, Seg::Key("item"));
        let token = routes.push(item, Seg::Key("access_token"));
        let owners = routes.push(ROOT, Seg::Raw("['owners'][0]['names']".to_owned()));
        let first = routes.push(owners, Seg::Index(0));
        let quoted = routes.push(ROOT, Seg::Raw("['it\\'s']".to_owned()));
        let plain = routes.push(item, Seg::Key("item_id"));
        let raw_plain = routes.push(ROOT, Seg::Raw("['a'][3]".to_owned()));
        let long = json!("y".repeat(MAX_TEXT + 1));
        let values = [
            json!("s"),
            json!(12.5),
            json!(null),
            json!({"access_token": "t", "id": 1}),
            json!([1, 2, 3]),
            long,
        ];
        for route in [ROOT, item, token, owners, first, quoted, plain, raw_plain] {
            let path = routes.normalized_path(route);
            for value in &values {
                let doc = Doc::from(value.clone());
                let at = shown_at(&doc, &routes, route, &redact);
                assert_eq!(
                    at.to_value(),
                    shown(value, &path, &redact),
                    "{path} {value}"
                );
                let found = shown_found(&doc, None, &routes, route, &redact);
                let reference = serde_json::to_string(&at.to_value()).unwrap();
                assert_eq!(found.json(), reference, "{path} {value}");
                assert_eq!(found, at.to_value(), "{path} {value}");
                // Shown from its text, when the projected parse kept it beside a skeleton.
                let text = value.to_string();
                let skeleton = Doc::from(json!({}));
                let kept = shown_found(&skeleton, Some(&text), &routes, route, &redact);
                assert_eq!(kept.json(), reference, "{path} {value}");
                let borrowed = matches!(at, Cow::Borrowed(_));
                let scalar = !value.is_object() && !value.is_array();
                if borrowed {
                    assert!(scalar && *at == *value, "{path} {value}");
                }
            }
        }
        let s = Doc::from("s");
        assert_eq!(
            shown_at(&s, &routes, token, &redact).to_value(),
            json!(REDACTED)
        );
        assert_eq!(
            shown_at(&s, &routes, first, &redact).to_value(),
            json!(REDACTED)
        );
        assert_eq!(
            shown_at(&s, &routes, quoted, &redact).to_value(),
            json!(REDACTED)
        );
        assert!(matches!(
            shown_at(&s, &routes, plain, &redact),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn large_values_are_capped_with_counts() {
        let long = "x".repeat(MAX_TEXT + 7);
        let shown_text = shown(&json!(long), "$", &Redact::default());
        assert!(
            shown_text
                .as_str()
                .unwrap()
                .ends_with("... (7 more characters)")
        );
        let items: Vec<u32> = (0..25).collect();
        let shown_list = shown(&json!(items), "$", &Redact::default());
        assert_eq!(shown_list.as_array().unwrap().len(), MAX_ITEMS + 1);
        assert_eq!(shown_list[MAX_ITEMS], json!("... 15 more items"));
    }

    /// What evidence showed before `from_text`: the whole value built, then capped (written,
    /// and checked against the value built as before).
    fn from_built(json: &str, fallback: &Doc, redact: &Redact) -> String {
        let whole = Scanner::new(json).doc().ok();
        capped_json(whole.as_ref().unwrap_or(fallback), redact)
    }

    #[test]
    fn kept_text_is_shown_as_its_built_value() {
        let redact = keys(&["secret", "..."]);
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let long = "é".repeat(MAX_TEXT + 3);
        let mut cases = vec![
            r#"{"b":1,"a":2,"b":{"x":[1,2]},"\u0061":3}"#.to_owned(),
            r#"{"secret":{"x":1},"c":[{"secret":2,"k":{"z":{},"z":[]}}]}"#.to_owned(),
            r#"{"a":{"b":{"z":1,"z":2},"c":{"z":1,"\u007a":2,"y":3},"d":[{"z":1,"z":{}}]}}"#
                .to_owned(),
            r#"{"...":1,"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j":1}"#.to_owned(),
            r#" [ { "x" : [ [ 1 ] , { "y" : 2 , "y" : 3 } ] } , "\ud83d\ude00" ] "#.to_owned(),
            format!(
                r#"{{"t":"{long}","u":["{long}"],"v":"{}"}}"#,
                "\\n".repeat(MAX_TEXT)
            ),
            format!(
                "[{}]",
                (0..25).map(|n| n.to_string()).collect::<Vec<_>>().join(",")
            ),
            r#"{"a":[1e400]}"#.to_owned(),
            r#"{"a":"\ud800"}"#.to_owned(),
            r#"{"a":{"b":{"c":01}}}"#.to_owned(),
            r#"{"a":1,}"#.to_owned(),
            r#"[1,2"#.to_owned(),
            String::new(),
        ];
        for n in 124..130 {
            cases.push(format!(r#"{{"a":[{{"b":{}}}]}}"#, deep(n)));
            cases.push(format!(r#"[{{"b":{}}}]"#, deep(n)));
        }
        let fallback = Doc::from(json!({"fallback": [1]}));
        for case in &cases {
            assert_eq!(
                text_shown(case, &fallback, &redact),
                from_built(case, &fallback, &redact),
                "{case}"
            );
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Keys that collide (`a` given twice or escaped as `\u0061`), sort before and after
        /// `...`, and are redacted.
        fn key() -> impl Strategy<Value = String> {
            prop_oneof![
                3 => prop::sample::select(vec!["a", "\\u0061", "b"])
                    .prop_map(|key| format!("\"{key}\"")),
                6 => prop::sample::select(vec![
                    "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "", "...",
                    "secret", "\\u0061", "s\\u00e9cret", "A", "\\\"q",
                ])
                .prop_map(|key| format!("\"{key}\"")),
                1 => "[a-z]{1,3}".prop_map(|key| format!("\"{key}\"")),
            ]
        }

        fn leaf() -> impl Strategy<Value = String> {
            let long = (
                prop::sample::select(vec!["x", "é", "😀", "\\n", "\\u00e9", "\\ud83d\\ude00"]),
                (MAX_TEXT - 3)..(MAX_TEXT + 4),
            )
                .prop_map(|(c, n)| format!("\"{}\"", c.repeat(n)));
            prop_oneof![
                prop::sample::select(vec![
                    "null",
                    "true",
                    "false",
                    "0",
                    "-0",
                    "12",
                    "-7",
                    "12.5",
                    "1e3",
                    "-1.5E-2",
                    "18446744073709551616",
                    "-9223372036854775809",
                    "1.7976931348623157e308",
                    "\"\"",
                    "\"s\"",
                    "\"a\\\"b\"",
                    "\"\\u0000\"",
                    "\"{object of 1 key}\"",
                ])
                .prop_map(str::to_owned),
                long,
                any::<i64>().prop_map(|n| n.to_string()),
                any::<f64>()
                    .prop_filter("finite", |n| n.is_finite())
                    .prop_map(|n| format!("{n:e}")),
                "[ -~é]{0,12}".prop_map(|text| Value::String(text).to_string()),
            ]
        }

        /// JSON texts with keys given twice, escapes, long texts and whitespace.
        fn json_text() -> impl Strategy<Value = String> {
            leaf().prop_recursive(5, 120, 14, |inner| {
                let space = prop::sample::select(vec!["", " ", "\n\t "]);
                prop_oneof![
                    (prop::collection::vec(inner.clone(), 0..14), space.clone()).prop_map(
                        |(items, space)| format!(
                            "[{space}{}{space}]",
                            items.join(&format!("{space},"))
                        )
                    ),
                    (prop::collection::vec((key(), inner), 0..16), space).prop_map(
                        |(members, space)| {
                            let members: Vec<String> = members
                                .into_iter()
                                .map(|(key, value)| format!("{key}{space}:{space}{value}"))
                                .collect();
                            format!("{{{space}{}}}", members.join(","))
                        }
                    ),
                ]
            })
        }

        fn redact() -> impl Strategy<Value = Redact> {
            prop::sample::subsequence(vec!["a", "secret", "sécret", "...", "b", "\"q", ""], 0..4)
                .prop_map(|names| keys(&names))
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

            #[test]
            fn kept_text_is_shown_as_its_built_value(text in json_text(), redact in redact()) {
                let fallback = Doc::from(json!([]));
                prop_assert!(Scanner::new(&text).value().is_ok(), "not JSON: {}", text);
                prop_assert_eq!(
                    text_shown(&text, &fallback, &redact),
                    from_built(&text, &fallback, &redact),
                    "{}", text
                );
            }

            #[test]
            fn broken_text_is_shown_as_the_fallback_as_before(
                text in json_text(),
                cut in any::<prop::sample::Index>(),
                junk in "(?s).{0,8}",
                redact in redact(),
            ) {
                let mut end = cut.index(text.len() + 1);
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                let fallback = Doc::from(json!({"k": [1, 2]}));
                for broken in [&text[..end], &format!("{}{junk}{}", &text[..end], &text[end..])] {
                    prop_assert_eq!(
                        text_shown(broken, &fallback, &redact),
                        from_built(broken, &fallback, &redact),
                        "{}", broken
                    );
                }
            }
        }
    }
}
