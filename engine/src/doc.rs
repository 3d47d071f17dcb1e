//! Documents as evaluation reads them: [`Doc`], a JSON value whose objects are one sorted
//! list of members ([`Members`]) instead of a B-tree map.
//!
//! A bundle's documents and context are `Doc`s, built by the projected parse
//! ([`crate::projection`]) or converted from a `serde_json::Value` ([`Doc::from`]). An object
//! is one allocation, its members sorted by key with each key once (the last of a key given
//! twice wins, as in a `serde_json::Map`), so a document iterates, compares and serializes
//! exactly as the `serde_json::Value` of the same text: `Doc::from(value).to_value() == value`
//! for every value, and `serde_json::to_string` gives the same text for both.

use std::fmt;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{Map, Number, Value};

pub use crate::arena::{List, Str};

/// A JSON value of a document.
///
/// ```
/// use balance_doctor_engine::Doc;
/// use serde_json::json;
///
/// let doc = Doc::from(json!({"b": [1, 2], "a": {"x": "y"}}));
/// assert_eq!(doc.get("a").and_then(|a| a.get("x")).and_then(Doc::as_str), Some("y"));
/// assert_eq!(doc.get("b").and_then(Doc::as_array).map(<[Doc]>::len), Some(2));
/// assert_eq!(doc.to_value(), json!({"a": {"x": "y"}, "b": [1, 2]}));
/// assert_eq!(doc.to_string(), r#"{"a":{"x":"y"},"b":[1,2]}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Doc {
    /// `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, exactly as `serde_json` reads it.
    Number(Number),
    /// A string.
    String(Str),
    /// An array.
    Array(List<Doc>),
    /// An object: its members sorted by key, each key once.
    Object(Members),
}

/// An object's members: one list, sorted by key, each key once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Members {
    list: List<(Str, Doc)>,
}

/// Whether `a` sorts strictly before `b`, deciding on the first bytes when they differ.
#[inline]
fn key_before(a: &str, b: &str) -> bool {
    match (a.as_bytes().first(), b.as_bytes().first()) {
        (Some(x), Some(y)) if x != y => x < y,
        _ => a < b,
    }
}

/// Sorts the members of `list` from `start` on by key (only when they are not already), in
/// place: members with one key stay in input order, and the last one is kept.
pub(crate) fn sort_members(list: &mut Vec<(Str, Doc)>, start: usize) {
    let sorted = list[start..]
        .windows(2)
        .all(|pair| key_before(&pair[0].0, &pair[1].0));
    if sorted {
        return;
    }
    // Stable, so that the last of a run of equal keys is the one given last.
    list[start..].sort_by(|a, b| a.0.cmp(&b.0));
    // The last member of each run moves down to `kept`; the others end past it.
    let mut kept = start;
    for at in start..list.len() {
        if at + 1 < list.len() && list[at].0 == list[at + 1].0 {
            continue;
        }
        list.swap(kept, at);
        kept += 1;
    }
    list.truncate(kept);
}

/// Up to how many members a lookup scans in order; larger objects are searched by halves.
const LINEAR: usize = 32;

impl Members {
    /// The members of an object given in input order: sorted by key (only when they are not
    /// already), the last of a key given twice kept.
    pub fn from_vec(list: Vec<(Box<str>, Doc)>) -> Members {
        // Same size and alignment: collected in place, without allocating.
        Members::from_list(
            list.into_iter()
                .map(|(key, value)| (Str::from(key), value))
                .collect(),
        )
    }

    /// [`Members::from_vec`] of keys that are already `Str`s.
    pub(crate) fn from_list(mut list: Vec<(Str, Doc)>) -> Members {
        sort_members(&mut list, 0);
        Members {
            list: List::from(list),
        }
    }

    /// Members already sorted by key, each key once ([`sort_members`]).
    pub(crate) fn from_sorted(list: List<(Str, Doc)>) -> Members {
        debug_assert!(list.windows(2).all(|pair| pair[0].0 < pair[1].0));
        Members { list }
    }

    /// How many members the object has.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether the object has no member.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The value of member `key`.
    #[inline]
    pub fn get(&self, key: &str) -> Option<&Doc> {
        self.get_key_value(key).map(|(_, value)| value)
    }

    /// The member `key`, its key borrowed from the object.
    #[inline(always)]
    pub fn get_key_value(&self, key: &str) -> Option<(&str, &Doc)> {
        let found = if self.list.len() <= LINEAR {
            // Lengths and first bytes tell most keys apart before their bytes are compared.
            let first = key.as_bytes().first();
            let mut found = None;
            for member in &self.list {
                let name = member.0.as_bytes();
                if name.len() == key.len()
                    && name.first() == first
                    && crate::short::same(name, key.as_bytes())
                {
                    found = Some(member);
                    break;
                }
            }
            found
        } else {
            self.list
                .binary_search_by(|(name, _)| (**name).cmp(key))
                .ok()
                .map(|at| &self.list[at])
        };
        found.map(|(name, value)| (&**name, value))
    }

    /// The members in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Doc)> + '_ {
        self.list.iter().map(|(name, value)| (&**name, value))
    }

    /// Whether the members lie in an arena.
    #[cfg(test)]
    pub(crate) fn list_in_arena(&self) -> bool {
        self.list.in_arena()
    }

    /// The members in key order, as stored.
    pub fn as_slice(&self) -> &[(Str, Doc)] {
        &self.list
    }
}

impl Doc {
    /// The value of member `key`, when this is an object that has one.
    #[inline]
    pub fn get(&self, key: &str) -> Option<&Doc> {
        match self {
            Doc::Object(members) => members.get(key),
            _ => None,
        }
    }

    /// The members, when this is an object.
    pub fn as_object(&self) -> Option<&Members> {
        match self {
            Doc::Object(members) => Some(members),
            _ => None,
        }
    }

    /// The elements, when this is an array.
    pub fn as_array(&self) -> Option<&[Doc]> {
        match self {
            Doc::Array(items) => Some(items.as_slice()),
            _ => None,
        }
    }

    /// The text, when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Doc::String(text) => Some(text),
            _ => None,
        }
    }

    /// The number, when this is one.
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Doc::Number(number) => Some(number),
            _ => None,
        }
    }

    /// The number as an `f64`, when this is a number (as `serde_json::Value::as_f64`).
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number().and_then(Number::as_f64)
    }

    /// The number as an `i64`, when it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }

    /// The boolean, when this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Doc::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Doc::Null)
    }

    /// Whether this is an object.
    pub fn is_object(&self) -> bool {
        matches!(self, Doc::Object(_))
    }

    /// Whether this is an array.
    pub fn is_array(&self) -> bool {
        matches!(self, Doc::Array(_))
    }

    /// Whether this is a string.
    pub fn is_string(&self) -> bool {
        matches!(self, Doc::String(_))
    }

    /// Whether this is a number.
    pub fn is_number(&self) -> bool {
        matches!(self, Doc::Number(_))
    }

    /// Whether this is `true` or `false`.
    pub fn is_boolean(&self) -> bool {
        matches!(self, Doc::Bool(_))
    }

    /// The same value as a `serde_json::Value`.
    pub fn to_value(&self) -> Value {
        match self {
            Doc::Null => Value::Null,
            Doc::Bool(b) => Value::Bool(*b),
            Doc::Number(number) => Value::Number(number.clone()),
            Doc::String(text) => Value::String(String::from(&**text)),
            Doc::Array(items) => Value::Array(items.iter().map(Doc::to_value).collect()),
            Doc::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(key, value)| (key.to_owned(), value.to_value()))
                    .collect(),
            ),
        }
    }

    /// Whether this equals `value` as `serde_json::Value`s compare (numbers by their kind and
    /// value, `1` differing from `1.0`; objects whatever their key order), without converting.
    #[inline]
    pub fn eq_value(&self, value: &Value) -> bool {
        match (self, value) {
            (Doc::Null, Value::Null) => true,
            (Doc::Bool(l), Value::Bool(r)) => l == r,
            (Doc::Number(l), Value::Number(r)) => l == r,
            (Doc::String(l), Value::String(r)) => crate::short::same(l.as_bytes(), r.as_bytes()),
            (Doc::Array(_), Value::Array(_)) | (Doc::Object(_), Value::Object(_)) => {
                self.eq_container(value)
            }
            _ => false,
        }
    }

    /// [`Doc::eq_value`] of an array or an object.
    fn eq_container(&self, value: &Value) -> bool {
        match (self, value) {
            (Doc::Array(l), Value::Array(r)) => {
                l.len() == r.len() && l.iter().zip(r).all(|(l, r)| l.eq_value(r))
            }
            (Doc::Object(l), Value::Object(r)) => {
                // Both iterate in key order, each key once.
                l.len() == r.len()
                    && l.iter()
                        .zip(r)
                        .all(|((lk, lv), (rk, rv))| lk == rk && lv.eq_value(rv))
            }
            _ => false,
        }
    }
}

/// `null`, what indexing finds where there is nothing.
static NULL: Doc = Doc::Null;

impl std::ops::Index<&str> for Doc {
    type Output = Doc;

    /// The member `key`, or `null` when this is not an object or has no such member (as
    /// indexing a `serde_json::Value`).
    fn index(&self, key: &str) -> &Doc {
        self.get(key).unwrap_or(&NULL)
    }
}

impl std::ops::Index<usize> for Doc {
    type Output = Doc;

    /// The element at `index`, or `null` when this is not an array or is shorter.
    fn index(&self, index: usize) -> &Doc {
        self.as_array()
            .and_then(|items| items.get(index))
            .unwrap_or(&NULL)
    }
}

impl PartialEq<Value> for Doc {
    fn eq(&self, other: &Value) -> bool {
        self.eq_value(other)
    }
}

impl From<Value> for Doc {
    fn from(value: Value) -> Doc {
        match value {
            Value::Null => Doc::Null,
            Value::Bool(b) => Doc::Bool(b),
            Value::Number(number) => Doc::Number(number),
            Value::String(text) => Doc::String(Str::from(text)),
            Value::Array(items) => Doc::Array(List::from(
                items.into_iter().map(Doc::from).collect::<Vec<Doc>>(),
            )),
            // A `Map` iterates in key order, each key once: already as `Members` keeps them.
            Value::Object(map) => Doc::Object(Members::from_list(
                map.into_iter()
                    .map(|(key, value)| (Str::from(key), Doc::from(value)))
                    .collect(),
            )),
        }
    }
}

impl From<Doc> for Value {
    fn from(doc: Doc) -> Value {
        match doc {
            Doc::Null => Value::Null,
            Doc::Bool(b) => Value::Bool(b),
            Doc::Number(number) => Value::Number(number),
            Doc::String(text) => Value::String(text.as_str().to_owned()),
            Doc::Array(items) => {
                Value::Array(items.into_vec().into_iter().map(Value::from).collect())
            }
            Doc::Object(members) => Value::Object(
                members
                    .list
                    .into_vec()
                    .into_iter()
                    .map(|(key, value)| (key.as_str().to_owned(), Value::from(value)))
                    .collect::<Map<String, Value>>(),
            ),
        }
    }
}

impl From<&str> for Doc {
    fn from(text: &str) -> Doc {
        Doc::String(text.into())
    }
}

impl From<String> for Doc {
    fn from(text: String) -> Doc {
        Doc::String(Str::from(text))
    }
}

impl From<bool> for Doc {
    fn from(b: bool) -> Doc {
        Doc::Bool(b)
    }
}

impl From<i64> for Doc {
    fn from(n: i64) -> Doc {
        Doc::Number(n.into())
    }
}

impl From<f64> for Doc {
    /// A number, or `null` for a NaN or an infinity (as `serde_json::Value::from`).
    fn from(n: f64) -> Doc {
        Number::from_f64(n).map_or(Doc::Null, Doc::Number)
    }
}

impl From<Vec<Doc>> for Doc {
    fn from(items: Vec<Doc>) -> Doc {
        Doc::Array(List::from(items))
    }
}

impl Serialize for Doc {
    /// As the `serde_json::Value` of the same text serializes.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Doc::Null => serializer.serialize_unit(),
            Doc::Bool(b) => serializer.serialize_bool(*b),
            Doc::Number(number) => number.serialize(serializer),
            Doc::String(text) => serializer.serialize_str(text),
            Doc::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Doc::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (key, value) in members.iter() {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

impl fmt::Display for Doc {
    /// Compact JSON text, as `serde_json::Value`'s `Display` writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn a_key_given_twice_keeps_its_last_value() {
        let members = Members::from_vec(vec![
            ("b".into(), Doc::from(1_i64)),
            ("a".into(), Doc::from(2_i64)),
            ("b".into(), Doc::from(3_i64)),
            ("a".into(), Doc::from(4_i64)),
            ("c".into(), Doc::Null),
        ]);
        let keys: Vec<&str> = members.iter().map(|(key, _)| key).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        assert_eq!(members.get("a"), Some(&Doc::from(4_i64)));
        assert_eq!(members.get("b"), Some(&Doc::from(3_i64)));
        assert_eq!(
            serde_json::from_str::<Value>(r#"{"b":1,"a":2,"b":3,"a":4,"c":null}"#).unwrap(),
            Doc::Object(members).to_value()
        );
    }

    #[test]
    fn lookups_find_every_key_small_or_large() {
        for size in [0, 1, 2, LINEAR, LINEAR + 1, 40] {
            let members: Vec<(Box<str>, Doc)> = (0..size)
                .rev()
                .map(|n| (format!("k{n}").into_boxed_str(), Doc::from(n as i64)))
                .collect();
            let members = Members::from_vec(members);
            for n in 0..size {
                assert_eq!(members.get(&format!("k{n}")), Some(&Doc::from(n as i64)));
            }
            for missing in ["", "k", "k-1", "z", "k00"] {
                assert_eq!(members.get(missing), None, "{missing}");
            }
        }
    }

    #[test]
    fn text_and_equality_are_those_of_values() {
        let value = json!({"z": [1, 1.0, -0.0, "é\"\n", null, true], "a": {}, "": [[]]});
        let doc = Doc::from(value.clone());
        assert_eq!(doc.to_string(), value.to_string());
        assert!(doc == value);
        assert!(doc["z"][3] == json!("é\"\n"));
        assert!(doc["z"][9].is_null() && doc["y"].is_null() && doc["z"]["a"].is_null());
        assert!(!Doc::from(json!(1)).eq_value(&json!(1.0)));
        assert!(!Doc::from(json!({"a": 1})).eq_value(&json!({"a": 1, "b": 2})));
        assert!(!Doc::from(json!({"a": 1, "c": 2})).eq_value(&json!({"a": 1, "b": 2})));
    }

    /// JSON texts with keys given twice, in any order, and numbers of every kind.
    fn json_text() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            prop::sample::select(vec![
                "null",
                "true",
                "false",
                "0",
                "-0",
                "1",
                "1.0",
                "-0.0",
                "12.5",
                "1e3",
                "18446744073709551615",
                "-9223372036854775808",
                "18446744073709551616",
                "\"\"",
                "\"a\"",
                "\"\\u00e9\"",
            ])
            .prop_map(str::to_owned),
            any::<i64>().prop_map(|n| n.to_string()),
            "[a-c]{0,3}".prop_map(|text| format!("\"{text}\"")),
        ];
        leaf.prop_recursive(4, 64, 12, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..12)
                    .prop_map(|items| format!("[{}]", items.join(","))),
                prop::collection::vec(("[a-d]{0,2}|k[0-9]{1,2}", inner), 0..14).prop_map(
                    |members| {
                        let members: Vec<String> = members
                            .into_iter()
                            .map(|(key, value)| format!("\"{key}\":{value}"))
                            .collect();
                        format!("{{{}}}", members.join(","))
                    }
                ),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Sorting members in place from `start` on (as the parse does on its stack) leaves
        /// what lies below `start` as it was, and above it what a map keeps of the same
        /// members: sorted by key, the last value of a key given twice.
        #[test]
        fn members_sorted_in_place_are_those_a_map_keeps(
            below in proptest::collection::vec(("[a-c]{0,2}", any::<i64>()), 0..4),
            members in proptest::collection::vec(("[a-d]{0,2}", any::<i64>()), 0..12),
        ) {
            let entry = |(key, n): &(String, i64)| (Str::from(key.as_str()), Doc::from(*n));
            let mut list: Vec<(Str, Doc)> = below.iter().chain(&members).map(entry).collect();
            sort_members(&mut list, below.len());
            let map: std::collections::BTreeMap<String, i64> = members.iter().cloned().collect();
            let expected: Vec<(Str, Doc)> = map.iter().map(|(k, n)| entry(&(k.clone(), *n))).collect();
            let kept: Vec<(Str, Doc)> = below.iter().map(entry).collect();
            prop_assert_eq!(&list[..below.len()], &kept[..]);
            prop_assert_eq!(&list[below.len()..], &expected[..]);
        }

        #[test]
        fn values_convert_both_ways_unchanged(text in json_text()) {
            let value: Value = serde_json::from_str(&text).unwrap();
            let doc = Doc::from(value.clone());
            prop_assert_eq!(doc.to_value(), value.clone());
            prop_assert_eq!(Value::from(doc.clone()), value.clone());
            prop_assert_eq!(doc.to_string(), value.to_string());
            prop_assert!(doc == value);
            // Built by the scanner, as a bundle's documents are.
            let scanned = crate::scan::Scanner::new(&text).doc().unwrap();
            prop_assert_eq!(&scanned, &doc);
        }

        #[test]
        fn lookups_find_what_values_find(text in json_text(), key in "[a-d]{0,2}|k[0-9]{1,2}") {
            let value: Value = serde_json::from_str(&text).unwrap();
            let doc = Doc::from(value.clone());
            let found = doc.get(&key).map(Doc::to_value);
            prop_assert_eq!(found.as_ref(), value.get(&key));
        }

        #[test]
        fn equality_with_values_is_equality_of_values(left in json_text(), right in json_text()) {
            let left: Value = serde_json::from_str(&left).unwrap();
            let right: Value = serde_json::from_str(&right).unwrap();
            for (l, r) in [(&left, &right), (&left, &left), (&right, &right)] {
                let doc = Doc::from(l.clone());
                prop_assert_eq!(doc.eq_value(r), l == r);
                let other = Doc::from(r.clone());
                prop_assert_eq!(doc == other, l == r);
            }
        }
    }
}
