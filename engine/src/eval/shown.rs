//! What of a found value reaches the output: secrets masked, large values cut down.
//!
//! Every value that leaves evaluation (evidence, explanation traces, messages, labels) goes
//! through [`shown`]. A value under a key of the rules' `redact:` list, at any depth of its
//! path or inside it, becomes [`REDACTED`]. Objects and arrays are never copied whole: at
//! most [`MAX_ITEMS`] members or items, nested containers below [`MAX_DEPTH`] summarised
//! (`{object of 4 keys}`), long texts cut, each cut with a count of what was left out.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::path::{RouteId, Routes};

/// The object keys whose values are never shown (`redact:` of every loaded file).
pub(crate) type Redact = foldhash::HashSet<String>;

/// What a masked value is shown as.
pub(crate) const REDACTED: &str = "[redacted]";

/// Members of an object (items of an array) shown; the rest are counted.
const MAX_ITEMS: usize = 10;

/// Containers nested deeper than this inside a shown value are summarised.
const MAX_DEPTH: usize = 2;

/// Characters of a text shown; the rest are counted.
const MAX_TEXT: usize = 500;

/// `value`, found at the normalized `path`, as it may be shown.
pub(crate) fn shown(value: &Value, path: &str, redact: &Redact) -> Value {
    if !redact.is_empty() && path_names(path).any(|name| redact.contains(&name)) {
        return Value::String(REDACTED.to_owned());
    }
    capped(value, redact, 0)
}

/// `value`, found at `route`, as it may be shown, borrowed when it is shown as it is (a
/// scalar not under a `redact:` key and not cut): no path is built and nothing is copied.
pub(crate) fn shown_at<'v>(
    value: &'v Value,
    routes: &Routes<'_>,
    route: RouteId,
    redact: &Redact,
) -> Cow<'v, Value> {
    let redacted = !redact.is_empty()
        && routes.any_name(
            route,
            |name| redact.contains(name),
            |raw, test| path_names(raw).any(|name| test(&name)),
        );
    if redacted {
        return Cow::Owned(Value::String(REDACTED.to_owned()));
    }
    match value {
        Value::String(text) if text.len() <= MAX_TEXT => Cow::Borrowed(value),
        Value::Null | Value::Bool(_) | Value::Number(_) => Cow::Borrowed(value),
        _ => Cow::Owned(capped(value, redact, 0)),
    }
}

fn capped(value: &Value, redact: &Redact, depth: usize) -> Value {
    match value {
        Value::String(text) => match text.char_indices().nth(MAX_TEXT) {
            Some((cut, _)) => {
                let left_out = text[cut..].chars().count();
                Value::String(format!("{}... ({left_out} more characters)", &text[..cut]))
            }
            None => value.clone(),
        },
        Value::Array(items) if depth >= MAX_DEPTH => {
            Value::String(format!("[array of {} items]", items.len()))
        }
        Value::Object(members) if depth >= MAX_DEPTH => {
            Value::String(format!("{{object of {} keys}}", members.len()))
        }
        Value::Array(items) => {
            let mut out: Vec<Value> = items
                .iter()
                .take(MAX_ITEMS)
                .map(|item| capped(item, redact, depth + 1))
                .collect();
            if items.len() > MAX_ITEMS {
                out.push(Value::String(format!(
                    "... {} more items",
                    items.len() - MAX_ITEMS
                )));
            }
            Value::Array(out)
        }
        Value::Object(members) => {
            let mut out = Map::new();
            for (key, member) in members.iter().take(MAX_ITEMS) {
                let member = if redact.contains(key) {
                    Value::String(REDACTED.to_owned())
                } else {
                    capped(member, redact, depth + 1)
                };
                out.insert(key.clone(), member);
            }
            if members.len() > MAX_ITEMS {
                out.insert(
                    "...".to_owned(),
                    Value::String(format!("{} more keys", members.len() - MAX_ITEMS)),
                );
            }
            Value::Object(out)
        }
        other => other.clone(),
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
    use serde_json::json;

    fn keys(names: &[&str]) -> Redact {
        names.iter().map(|name| (*name).to_owned()).collect()
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
            json!({"access_token": REDACTED, "owners": ["{object of 1 keys}"], "id": 1})
        );
    }

    /// `shown_at` (names read off the route) shows what `shown` (names read back from the
    /// normalized path) shows, for walked names, indexes and jsonpath-rust's raw suffixes.
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
                let at = shown_at(value, &routes, route, &redact);
                assert_eq!(*at, shown(value, &path, &redact), "{path} {value}");
                let borrowed = matches!(at, Cow::Borrowed(_));
                let scalar = !value.is_object() && !value.is_array();
                if borrowed {
                    assert!(scalar && *at == *value, "{path} {value}");
                }
            }
        }
        assert_eq!(
            *shown_at(&json!("s"), &routes, token, &redact),
            json!(REDACTED)
        );
        assert_eq!(
            *shown_at(&json!("s"), &routes, first, &redact),
            json!(REDACTED)
        );
        assert_eq!(
            *shown_at(&json!("s"), &routes, quoted, &redact),
            json!(REDACTED)
        );
        assert!(matches!(
            shown_at(&json!("s"), &routes, plain, &redact),
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
}
