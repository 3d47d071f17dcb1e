//! Values against operators: equality of JSON values, comparisons, join keys.

use jiff::Timestamp;
use serde_json::Value;

use crate::compiled::{Compare, Op};
use crate::doc::Doc;
use crate::time::timestamp_of;
use crate::vocab::{CompareOp, JsonType, Quantifier};

/// Timestamps read from found values, remembered by the value's place in the bundle: several
/// rules test the same document time, which is then parsed once per evaluation. Up to
/// [`Times::MAX`] values are remembered; others are parsed each time they are tested.
#[derive(Default)]
pub(super) struct Times<'a> {
    seen: smallvec::SmallVec<[(&'a Doc, Option<Timestamp>); Times::MAX]>,
}

impl<'a> Times<'a> {
    const MAX: usize = 16;

    /// The timestamp `value` holds ([`timestamp_of`]), parsed the first time it is asked for.
    pub(super) fn of(&mut self, value: &'a Doc) -> Option<Timestamp> {
        if !value.is_string() {
            return None;
        }
        // The values live as long as the bundle: one place is one value, never another.
        if let Some((_, at)) = self
            .seen
            .iter()
            .find(|(seen, _)| std::ptr::eq(*seen, value))
        {
            return *at;
        }
        let at = timestamp_of(value);
        if self.seen.len() < Times::MAX {
            self.seen.push((value, at));
        }
        at
    }

    /// The timestamp `value` holds ([`timestamp_of`]): read back when `value` is one of the
    /// values remembered, else parsed (and not remembered: it may live shorter than them).
    pub(super) fn known(&self, value: &Doc) -> Option<Timestamp> {
        match self
            .seen
            .iter()
            .find(|(seen, _)| std::ptr::eq(*seen, value))
        {
            Some((_, at)) => *at,
            None => timestamp_of(value),
        }
    }
}

/// Whether `value` passes the operator `op` at the time `as_of` (its timestamp read through
/// `times`).
pub(super) fn holds<'a>(op: &Op, value: &'a Doc, as_of: Timestamp, times: &mut Times<'a>) -> bool {
    match op {
        Op::Equals(expected) => json_eq(value, expected),
        Op::OneOf(list) => list.iter().any(|item| json_eq(value, item)),
        Op::NoneOf(list) => !list.iter().any(|item| json_eq(value, item)),
        Op::Contains(item) => value
            .as_array()
            .is_some_and(|items| items.iter().any(|v| json_eq(v, item))),
        Op::ContainsAny(list) => value.as_array().is_some_and(|items| {
            items
                .iter()
                .any(|v| list.iter().any(|item| json_eq(v, item)))
        }),
        Op::ContainsNone(list) => value.as_array().is_some_and(|items| {
            !items
                .iter()
                .any(|v| list.iter().any(|item| json_eq(v, item)))
        }),
        Op::Number(cmp, bound) => value.as_f64().is_some_and(|n| cmp.holds(n, *bound)),
        Op::Regex(regex) => value.as_str().is_some_and(|text| regex.is_match(text)),
        Op::OlderThan(limit) => times
            .of(value)
            .is_some_and(|at| as_of.duration_since(at) > *limit),
        Op::NewerThan(limit) => times
            .of(value)
            .is_some_and(|at| as_of.duration_since(at) < *limit),
        Op::WithinAfter(limit) => times.of(value).is_some_and(|at| {
            let ahead = at.duration_since(as_of);
            !ahead.is_negative() && ahead <= *limit
        }),
        Op::LaterThan(limit) => times
            .of(value)
            .is_some_and(|at| at.duration_since(as_of) > *limit),
        Op::Timestamp(wanted) => times.of(value).is_some() == *wanted,
        Op::Type(kind) => match kind {
            JsonType::Object => value.is_object(),
            JsonType::Array => value.is_array(),
            JsonType::String => value.is_string(),
            JsonType::Number => value.is_number(),
            JsonType::Boolean => value.is_boolean(),
        },
    }
}

pub(super) fn quantified(quantifier: Quantifier, passed: usize, total: usize) -> bool {
    match quantifier {
        Quantifier::Any => passed > 0,
        Quantifier::All => total > 0 && passed == total,
        Quantifier::None => passed == 0,
    }
}

pub(super) fn compare_values(compare: &Compare, left: &Doc, right: &Doc) -> bool {
    let (op, tolerance) = (compare.op, &compare.tolerance);
    let numbers = left.as_f64().zip(right.as_f64());
    match op {
        CompareOp::Equals => match crate::number::distance(left, right) {
            Some(distance) => distance.within(tolerance),
            None => left == right,
        },
        CompareOp::Differs => match crate::number::distance(left, right) {
            Some(distance) => !distance.within(tolerance),
            None => left != right,
        },
        CompareOp::Gt => numbers.is_some_and(|(l, r)| l > r),
        CompareOp::Gte => numbers.is_some_and(|(l, r)| l >= r),
        CompareOp::Lt => numbers.is_some_and(|(l, r)| l < r),
        CompareOp::Lte => numbers.is_some_and(|(l, r)| l <= r),
        // With a margin, the left time must lie more than it before (after) the right one; a
        // bound beyond the range of times has no time before (after) it.
        CompareOp::Before | CompareOp::After => match (timestamp_of(left), timestamp_of(right)) {
            (Some(l), Some(r)) if op == CompareOp::Before => {
                r.checked_sub(compare.margin).is_ok_and(|bound| l < bound)
            }
            (Some(l), Some(r)) => r.checked_add(compare.margin).is_ok_and(|bound| l > bound),
            _ => false,
        },
    }
}

/// A join key, hashable, equal exactly when the values are [`json_eq`], with one exception:
/// an array or object key is its JSON text, so one holding `-0.0` and one holding `0.0` are
/// different keys although [`json_eq`] finds them equal (numbers alone are compared by value:
/// `-0.0`, `0.0` and `0` are one key, `1.0` and `1` another).
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) enum JoinKey<'a> {
    /// A number that is an integer (written with or without a fraction), exactly.
    Integer(i128),
    /// Any other number, by the bits of its `f64`.
    Float(u64),
    /// A string key, borrowed from the document (ids, the usual keys, are never copied).
    Text(&'a str),
    Other(String),
}

impl<'a> JoinKey<'a> {
    pub(super) fn of(value: &'a Doc) -> JoinKey<'a> {
        match value {
            Doc::Number(n) => match crate::number::exact_integer(n) {
                Some(integer) => JoinKey::Integer(integer),
                None => n.as_f64().map_or_else(
                    || JoinKey::Other(n.to_string()),
                    |float| JoinKey::Float(float.to_bits()),
                ),
            },
            Doc::String(text) => JoinKey::Text(text),
            other => JoinKey::Other(other.to_string()),
        }
    }
}

/// JSON equality of a document's value and a rule's operand, where numbers compare by value,
/// exactly (`1` equals `1.0`; integers beyond 2^53 are not rounded to floats first); inside
/// arrays and objects, as `serde_json::Value`s compare.
pub(super) fn json_eq(left: &Doc, right: &Value) -> bool {
    match (left, right) {
        (Doc::Number(l), Value::Number(r)) => crate::number::same_number(l, r),
        _ => left.eq_value(right),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn remembered_times_are_those_parsed_afresh() {
        let texts = [
            json!("2025-09-05T21:57:42Z"),
            json!("2020-01-15T13:25:17.766+02:00"),
            json!("2025-09-05T21:57:42Z"),
            json!("2025-09-05"),
            json!("not a time"),
            json!(""),
            json!(1_757_109_462),
            json!(null),
            json!(["2025-09-05T21:57:42Z"]),
        ];
        // More values than are remembered, some texts at several places.
        let docs: Vec<Doc> = (0..3 * Times::MAX)
            .map(|n| match n % 4 {
                0 => Doc::from(texts[n % texts.len()].clone()),
                _ => Doc::from(format!("2025-09-{:02}T21:57:{:02}Z", 1 + n % 28, n % 60)),
            })
            .chain(texts.iter().cloned().map(Doc::from))
            .collect();
        let mut times = Times::default();
        for _ in 0..3 {
            for doc in &docs {
                assert_eq!(times.of(doc), timestamp_of(doc), "{doc}");
                // Read back by place, or parsed: a copy elsewhere is parsed, not remembered.
                assert_eq!(times.known(doc), timestamp_of(doc), "{doc}");
                assert_eq!(times.known(&doc.clone()), timestamp_of(doc), "{doc}");
            }
        }
        assert_eq!(times.seen.len(), Times::MAX);
        assert!(times.of(&docs[0]).is_some() && times.of(&docs[4]).is_none());
    }

    /// What `json_eq` is over two `serde_json::Value`s: numbers by the exact decimal they
    /// stand for, written out in full here (an integral float without its fraction, `-0` as
    /// `0`), not through `exact_integer`.
    fn value_eq(left: &Value, right: &Value) -> bool {
        let exact = |n: &serde_json::Number| match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 => match format!("{f:.0}") {
                text if text == "-0" => "0".to_owned(),
                text => text,
            },
            Some(f) if n.is_f64() => format!("{f:e}"),
            _ => n.to_string(),
        };
        match (left, right) {
            (Value::Number(l), Value::Number(r)) => exact(l) == exact(r),
            _ => left == right,
        }
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            prop::sample::select(vec![
                json!(null),
                json!(true),
                json!(false),
                json!(0),
                json!(-0.0),
                json!(0.0),
                json!(1),
                json!(1.0),
                json!(-1),
                json!(u64::MAX),
                json!(i64::MIN),
                json!(18446744073709551615.0),
                json!(9_007_199_254_740_993_u64),
                json!(9_007_199_254_740_992_u64),
                json!(9_007_199_254_740_992.0),
                json!(0.5),
                json!(-0.5),
                json!("a"),
                json!("1"),
                json!(""),
            ]),
            any::<i32>().prop_map(|n| json!(n)),
            // The same integers written as floats, and floats near them.
            any::<i32>().prop_map(|n| json!(f64::from(n))),
            any::<i16>().prop_map(|n| json!(f64::from(n) / 4.0)),
        ]
    }

    fn json() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-c]", inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

        #[test]
        fn equality_with_an_operand_is_that_of_values(left in json(), right in json()) {
            for (l, r) in [(&left, &right), (&left, &left)] {
                prop_assert_eq!(json_eq(&Doc::from(l.clone()), r), value_eq(l, r), "{} {}", l, r);
            }
        }

        #[test]
        fn join_keys_are_equal_when_values_are(left in leaf(), right in leaf()) {
            let (l, r) = (Doc::from(left.clone()), Doc::from(right.clone()));
            prop_assert_eq!(JoinKey::of(&l) == JoinKey::of(&r), value_eq(&left, &right));
        }
    }
}
