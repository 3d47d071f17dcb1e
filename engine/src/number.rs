//! Exact decimal arithmetic for numbers read from JSON and YAML.
//!
//! Money amounts are written in decimal (`110.01`) but stored by serde_json as binary floats,
//! where `110.01 - 110.00` is `0.010000000000005116`. Differences and tolerances are therefore
//! computed on the shortest decimal text that reads back as the same float, which is the text
//! the bundle most likely held; numbers too large for a decimal fall back to floats.
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Number;

use crate::doc::Doc;

/// The exact decimal a JSON number stands for, when it fits in 28 significant digits.
pub(crate) fn decimal(value: &Doc) -> Option<Decimal> {
    match value {
        Doc::Number(number) => decimal_of_number(number),
        _ => None,
    }
}

fn decimal_of_number(number: &Number) -> Option<Decimal> {
    if let Some(integer) = number.as_i64() {
        return Some(Decimal::from(integer));
    }
    if let Some(integer) = number.as_u64() {
        return Some(Decimal::from(integer));
    }
    decimal_of_f64(number.as_f64()?)
}

/// The decimal whose shortest text reads back as `value` (`0.1` for the float nearest 0.1).
pub(crate) fn decimal_of_f64(value: f64) -> Option<Decimal> {
    if !value.is_finite() {
        return None;
    }
    // `Display` for f64 prints the shortest text that round-trips, without an exponent.
    Decimal::from_str(&value.to_string()).ok()
}

/// Whether two JSON numbers are the same number, compared exactly whatever their form: `1` is
/// `1.0`, but `9007199254740993` is not `9007199254740992`, although both read as one `f64`.
pub(crate) fn same_number(left: &Number, right: &Number) -> bool {
    match (exact_integer(left), exact_integer(right)) {
        (Some(l), Some(r)) => l == r,
        (None, None) => left.as_f64() == right.as_f64(),
        _ => false,
    }
}

/// The integer a number is exactly, when it is one: an integer, or a float with no fraction
/// below 2^127 in magnitude (every such float is an `i128` exactly).
pub(crate) fn exact_integer(number: &Number) -> Option<i128> {
    if let Some(integer) = number.as_i64() {
        return Some(integer.into());
    }
    if let Some(integer) = number.as_u64() {
        return Some(integer.into());
    }
    let float = number.as_f64()?;
    const LIMIT: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0; // 2^127
    (float.fract() == 0.0 && float.abs() < LIMIT).then_some(float as i128)
}

/// `|left - right|`, exactly when both are decimals, else in floating point.
pub(crate) enum Distance {
    Exact(Decimal),
    Approximate(f64),
}

/// The distance between two JSON numbers, or `None` when either is not a number.
pub(crate) fn distance(left: &Doc, right: &Doc) -> Option<Distance> {
    if let (Doc::Number(l), Doc::Number(r)) = (left, right) {
        // The same number is no distance from itself: no decimal is needed to tell.
        if l == r {
            return Some(Distance::Exact(Decimal::ZERO));
        }
    }
    if let (Some(l), Some(r)) = (decimal(left), decimal(right)) {
        if let Some(difference) = l.checked_sub(r) {
            return Some(Distance::Exact(difference.abs()));
        }
    }
    let (l, r) = (left.as_f64()?, right.as_f64()?);
    Some(Distance::Approximate((l - r).abs()))
}

impl Distance {
    /// Whether the distance is at most `tolerance`.
    pub(crate) fn within(&self, tolerance: &Tolerance) -> bool {
        match self {
            Distance::Exact(distance) => *distance <= tolerance.exact,
            Distance::Approximate(distance) => *distance <= tolerance.approximate,
        }
    }
}

/// A compiled `tolerance`, as a decimal and as a float for numbers beyond decimals.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tolerance {
    exact: Decimal,
    approximate: f64,
}

impl Tolerance {
    /// The tolerance `value` (not negative, finite), or `None` when it has no decimal form.
    pub(crate) fn new(value: f64) -> Option<Tolerance> {
        Some(Tolerance {
            exact: decimal_of_f64(value)?,
            approximate: value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn within(left: Value, right: Value, tolerance: f64) -> bool {
        distance(&Doc::from(left), &Doc::from(right))
            .unwrap()
            .within(&Tolerance::new(tolerance).unwrap())
    }

    #[test]
    fn a_cent_is_within_a_cent() {
        // As floats, 110.01 - 110.00 is 0.010000000000005116, more than 0.01.
        assert!((110.01_f64 - 110.00_f64).abs() > 0.01);
        assert!(within(json!(110.01), json!(110.00), 0.01));
        assert!(within(json!(110.00), json!(110.01), 0.01));
        assert!(!within(json!(110.00), json!(110.02), 0.01));
        assert!(within(json!(0.3), json!(0.1), 0.2));
        assert!(within(json!(-5), json!(-5.0), 0.0));
        assert!(!within(json!(1_000_000.01), json!(1_000_000), 0.0));
    }

    /// What `distance` gave before it told equal numbers apart without decimals.
    fn decimal_distance(left: &Doc, right: &Doc) -> Option<Distance> {
        if let (Some(l), Some(r)) = (decimal(left), decimal(right)) {
            if let Some(difference) = l.checked_sub(r) {
                return Some(Distance::Exact(difference.abs()));
            }
        }
        let (l, r) = (left.as_f64()?, right.as_f64()?);
        Some(Distance::Approximate((l - r).abs()))
    }

    #[test]
    fn equal_numbers_are_within_every_tolerance_as_their_decimals_are() {
        let numbers = [
            json!(0),
            json!(-0.0),
            json!(0.1),
            json!(110.01),
            json!(-7),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1e300),
            json!(-1.7976931348623157e308),
        ];
        for number in &numbers {
            let number = &Doc::from(number.clone());
            for tolerance in [0.0, -0.0, 0.005, 1.0, 1e20] {
                let tolerance = Tolerance::new(tolerance).unwrap();
                let fast = distance(number, number).unwrap().within(&tolerance);
                let slow = decimal_distance(number, number).unwrap().within(&tolerance);
                assert!(fast && slow, "{number}");
            }
        }
    }

    #[test]
    fn huge_numbers_fall_back_to_floats() {
        assert!(within(json!(1e300), json!(1e300), 0.0));
        assert!(!within(json!(1e300), json!(-1e300), 1.0));
        assert!(within(json!(u64::MAX), json!(u64::MAX), 0.0));
    }

    #[test]
    fn numbers_are_the_same_exactly() {
        let same = |l: serde_json::Value, r: serde_json::Value| match (l, r) {
            (serde_json::Value::Number(l), serde_json::Value::Number(r)) => same_number(&l, &r),
            _ => unreachable!(),
        };
        assert!(same(json!(1), json!(1.0)));
        assert!(same(json!(0), json!(-0.0)));
        assert!(same(json!(-7), json!(-7.0)));
        assert!(same(json!(0.1), json!(0.1)));
        assert!(same(json!(1e300), json!(1e300)));
        // Two integers that are one f64 (2^53 + 1 rounds to 2^53) are not the same number.
        assert!(!same(
            json!(9_007_199_254_740_993_u64),
            json!(9_007_199_254_740_992_u64)
        ));
        assert!(!same(
            json!(9_007_199_254_740_993_u64),
            json!(9_007_199_254_740_992.0)
        ));
        assert!(!same(json!(u64::MAX), json!(18_446_744_073_709_551_615.0)));
        assert!(!same(json!(1), json!(1.5)));
        assert_eq!(
            exact_integer(&serde_json::Number::from(u64::MAX)),
            Some(u64::MAX.into())
        );
        assert_eq!(
            exact_integer(serde_json::Number::from_f64(-0.0).as_ref().unwrap()),
            Some(0)
        );
        assert_eq!(
            exact_integer(serde_json::Number::from_f64(1e300).as_ref().unwrap()),
            None
        );
    }

    #[test]
    fn only_numbers_have_a_distance() {
        assert!(distance(&Doc::from("1"), &Doc::from(1_i64)).is_none());
        assert!(distance(&Doc::Null, &Doc::from(1_i64)).is_none());
    }
}
