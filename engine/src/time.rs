//! Durations as rules write them (`36h`, `7d`, `1d12h`) and timestamps as Plaid sends them.

use jiff::{SignedDuration, Timestamp};

use crate::doc::Doc;

/// Parses a duration written as one or more `<whole number><unit>` parts, units `s`, `m`, `h`,
/// `d` (24 hours) and `w` (7 days): `90m`, `36h`, `7d`, `1d12h`. `0` alone is zero.
pub(crate) fn parse_duration(text: &str) -> Result<SignedDuration, String> {
    let help = "write a duration as a number and a unit (s, m, h, d, w), such as `36h` or `7d`";
    if text == "0" {
        return Ok(SignedDuration::ZERO);
    }
    if text.is_empty() {
        return Err(format!("empty duration: {help}"));
    }
    let mut total: i64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: i64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(format!("`{text}` is not a duration: {help}")),
        };
        if digits.is_empty() {
            return Err(format!("`{text}` is not a duration: {help}"));
        }
        let amount: i64 = digits
            .parse()
            .map_err(|_| format!("`{text}` is too large a duration"))?;
        total = amount
            .checked_mul(unit)
            .and_then(|seconds| total.checked_add(seconds))
            .filter(|seconds| *seconds <= MAX_SECONDS)
            .ok_or_else(|| format!("`{text}` is too large a duration (at most 100 years)"))?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(format!("`{text}` has no unit after `{digits}`: {help}"));
    }
    Ok(SignedDuration::from_secs(total))
}

const MAX_SECONDS: i64 = 100 * 365 * 86_400;

/// The timestamp a JSON value holds, if it is an RFC 3339 string with an offset.
pub(crate) fn timestamp_of(value: &Doc) -> Option<Timestamp> {
    parse_rfc3339(value.as_str()?)
}

/// `text` as a timestamp, if it is one in RFC 3339's form: `2026-11-20T12:00:00Z`, with
/// seconds, an optional fraction and an offset of at most 23:59 (`Z` or `+02:00`), `T` or
/// a space between date and time. jiff reads more (no seconds, `+24:00`, `+0200`, a time
/// zone annotation such as `[UTC]`), which RFC 3339 and Plaid's times never write: such a
/// text is not a timestamp here, so that `timestamp: false` finds it.
pub(crate) fn parse_rfc3339(text: &str) -> Option<Timestamp> {
    if !rfc3339_shape(text.as_bytes()) {
        return None;
    }
    match text.parse() {
        Ok(at) => Some(at),
        // RFC 3339 allows any number of fraction digits, jiff nine (nanoseconds): the others
        // are below what a time can hold here, and are dropped.
        Err(_) => {
            let fraction = text.get(20..)?;
            let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
            (text.as_bytes()[19] == b'.' && digits > 9).then_some(())?;
            format!("{}{}", &text[..29], &fraction[digits..])
                .parse()
                .ok()
        }
    }
}

/// Whether `text` has RFC 3339's `date-time` form (section 5.6; the ranges of the date and
/// the time are jiff's to check).
fn rfc3339_shape(text: &[u8]) -> bool {
    let digits = |range: std::ops::Range<usize>| {
        text.get(range)
            .is_some_and(|part| part.iter().all(u8::is_ascii_digit))
    };
    let fixed = text.len() >= 20
        && digits(0..4)
        && text[4] == b'-'
        && digits(5..7)
        && text[7] == b'-'
        && digits(8..10)
        && matches!(text[10], b'T' | b't' | b' ')
        && digits(11..13)
        && text[13] == b':'
        && digits(14..16)
        && text[16] == b':'
        && digits(17..19);
    if !fixed {
        return false;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let count = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if count == 0 {
            return false;
        }
        rest = &fraction[count..];
    }
    match rest {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            let two = |a: u8, b: u8| {
                (a.is_ascii_digit() && b.is_ascii_digit()).then(|| (a - b'0') * 10 + (b - b'0'))
            };
            matches!((two(*h1, *h2), two(*m1, *m2)), (Some(hours), Some(minutes)) if hours <= 23 && minutes <= 59)
        }
        _ => false,
    }
}

/// Writes a duration in words after `out`'s text, as digits and words pushed (this runs for
/// every time a message shows): the largest unit of which there are two or more (`3 days`,
/// `30 hours`, `119 minutes`), and, below ten of it, the next unit too (`2 days 23 hours`,
/// `2 hours 55 minutes`), so that rounding down never hides more than a tenth of an age. The
/// sign is dropped: callers say `ago` or `in`.
pub(crate) fn push_humanized(out: &mut String, duration: SignedDuration) {
    const UNITS: [(u64, &str); 4] = [
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
        (1, "second"),
    ];
    let seconds = duration.as_secs().unsigned_abs();
    let top = UNITS
        .iter()
        .position(|&(size, _)| seconds >= 2 * size)
        .unwrap_or(UNITS.len() - 1);
    let (size, unit) = UNITS[top];
    let amount = seconds / size;
    push_count(out, amount, unit);
    if let Some(&(next_size, next_unit)) = UNITS.get(top + 1).filter(|_| amount < 10) {
        let rest = seconds % size / next_size;
        if rest > 0 {
            out.push(' ');
            push_count(out, rest, next_unit);
        }
    }
}

/// A duration in words, as [`RuleSet::evaluate`](crate::RuleSet::evaluate)'s messages write
/// ages (`2 hours 55 minutes`, `36 days`), for reports that show ages of their own.
pub fn duration_in_words(duration: SignedDuration) -> String {
    let mut out = String::new();
    push_humanized(&mut out, duration);
    out
}

/// `3 days`, `1 hour`: a count and its unit, plural unless the count is one (also the counts
/// of shown values: `1 more key`).
pub(crate) fn push_count(out: &mut String, amount: u64, unit: &str) {
    out.push_str(itoa::Buffer::new().format(amount));
    out.push(' ');
    out.push_str(unit);
    if amount != 1 {
        out.push('s');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_read_in_rfc_3339_form_only() {
        for text in [
            "2026-11-20T12:00:00Z",
            "2026-11-20t12:00:00z",
            "2026-11-20 12:00:00Z",
            "2020-01-15T13:25:17.766Z",
            "2020-01-15T13:25:17+02:00",
            "2020-01-15T13:25:17.123456789-23:59",
            "2020-01-15T13:25:17.1234567891234Z",
        ] {
            assert!(parse_rfc3339(text).is_some(), "{text}");
        }
        assert_eq!(
            parse_rfc3339("2020-01-15T13:25:17.1234567891234+01:00"),
            parse_rfc3339("2020-01-15T13:25:17.123456789+01:00")
        );
        for text in [
            "2026-11-20T12:00Z",
            "2026-11-20T12:00:00+24:00",
            "2026-11-20T12:00:00+02:60",
            "2026-11-20T12:00:00+0200",
            "2026-11-20T12:00:00Z[UTC]",
            "2026-11-20T12:00:00",
            "2026-11-20T12:00:00.Z",
            "2026-11-20",
            "2026-13-20T12:00:00Z",
            "2026-11-20T12:00:00ZZ",
            "+2026-11-20T12:00:00Z",
            "",
        ] {
            assert!(parse_rfc3339(text).is_none(), "{text}");
        }
    }

    #[test]
    fn durations_parse_and_print() {
        assert_eq!(
            parse_duration("36h").unwrap(),
            SignedDuration::from_hours(36)
        );
        assert_eq!(
            parse_duration("1d12h").unwrap(),
            SignedDuration::from_hours(36)
        );
        assert_eq!(
            parse_duration("2w").unwrap(),
            SignedDuration::from_hours(336)
        );
        assert_eq!(parse_duration("0").unwrap(), SignedDuration::ZERO);
        for bad in [
            "",
            "h",
            "36",
            "3x",
            "-1h",
            "1.5h",
            "999999999999999999999d",
            "99999999w",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        let humanize = |duration| {
            let mut out = String::from("~");
            push_humanized(&mut out, duration);
            out
        };
        let cases = [
            (SignedDuration::from_hours(73), "~3 days 1 hour"),
            (SignedDuration::from_hours(30), "~30 hours"),
            (SignedDuration::from_secs(60), "~60 seconds"),
            (SignedDuration::from_hours(-50), "~2 days 2 hours"),
            (SignedDuration::from_secs(1), "~1 second"),
            (SignedDuration::from_secs(-119), "~119 seconds"),
            (SignedDuration::from_secs(0), "~0 seconds"),
            (SignedDuration::from_secs(7_199), "~119 minutes"),
            (SignedDuration::from_secs(7_200), "~2 hours"),
            (SignedDuration::from_secs(10_500), "~2 hours 55 minutes"),
            (
                SignedDuration::from_secs(2 * 86_400 + 86_399),
                "~2 days 23 hours",
            ),
            (
                SignedDuration::from_secs(9 * 86_400 + 3_600),
                "~9 days 1 hour",
            ),
            (SignedDuration::from_secs(10 * 86_400 + 86_399), "~10 days"),
            (SignedDuration::from_secs(150), "~2 minutes 30 seconds"),
            (SignedDuration::from_secs(MAX_SECONDS), "~36500 days"),
        ];
        for (duration, words) in cases {
            assert_eq!(humanize(duration), words, "{duration:?}");
        }
        assert_eq!(
            duration_in_words(SignedDuration::from_hours(49)),
            "2 days 1 hour"
        );
    }

    #[test]
    fn timestamps_with_and_without_fractions() {
        assert!(timestamp_of(&Doc::from("2019-02-15T15:52:39Z")).is_some());
        assert!(timestamp_of(&Doc::from("2020-01-15T13:25:17.766Z")).is_some());
        assert!(timestamp_of(&Doc::from("2020-01-15T13:25:17+02:00")).is_some());
        assert!(timestamp_of(&Doc::from("2020-01-15")).is_none());
        assert!(timestamp_of(&Doc::from(5_i64)).is_none());
    }
}
