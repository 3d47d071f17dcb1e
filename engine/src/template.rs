//! Message templates: literal text with `{name}` placeholders, parsed at compile time.
//!
//! A placeholder names a rule value or parameter and may apply filters, left to right:
//! - `age`: a timestamp as its distance before `as_of` (`3 days`);
//! - `relative`: a timestamp relative to `as_of` (`in 3 days`, `2 hours ago`);
//! - `oldest` / `newest`: of several timestamps, only the earliest / the latest;
//! - `minus:<name>`: each number minus the number at the same position of value `<name>`, exactly
//!   in decimal and signed (`+43.17`): the difference between paired amounts;
//! - `each:<pattern>`: each value shown through `<pattern>`, where `*` stands for the value
//!   (`{product|each:/*/refresh|or:}` shows `/investments/refresh`, or nothing); repeats are
//!   told after the pattern, so a pattern without `*` shows once;
//! - `or:<text>`: the text to show when the value is missing (default `unknown`).
//!
//! `{each pair}` ... `{end each}` shows the text between once per join pair that captured a
//! value it shows, each time with that pair's captures (rules/README.md §11).
//!
//! `{{` and `}}` stand for literal braces.

use std::borrow::Cow;

use jiff::Timestamp;
use serde_json::Value;

use crate::doc::Doc;
use crate::time::push_humanized;

/// Starts the part of a message shown once per join pair ([`Part::Each`]).
const EACH: &str = "each pair";
/// Ends it.
const END: &str = "end each";

/// A parsed message template.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    parts: Vec<Part>,
    /// Room a message is given at first ([`Template::room`]), so that it seldom grows.
    room: usize,
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    /// Index into the rule's values, then the filters.
    Value(usize, Filters),
    /// A parameter, rendered at compile time.
    Constant(String),
    /// `{each pair}...{end each}`: the parts, shown once per join pair that captured a value
    /// they show.
    Each(Vec<Part>),
}

#[derive(Debug, Clone, Default)]
struct Filters {
    time: Option<TimeFilter>,
    /// Index of the value to subtract, position by position.
    minus: Option<usize>,
    /// The pattern each rendered value is shown through (`*` is the value).
    each: Option<String>,
    pick: Option<Extreme>,
    fallback: Option<String>,
}

#[derive(Debug, Clone, Copy)]
enum Extreme {
    Oldest,
    Newest,
}

#[derive(Debug, Clone, Copy)]
enum TimeFilter {
    Age,
    Relative,
}

/// How a placeholder name resolves.
pub(crate) enum Name {
    Value(usize),
    Param(Value),
}

impl Template {
    /// Parses `text`, resolving names with `lookup`. Errors say what is wrong and what to do.
    pub(crate) fn parse(
        text: &str,
        lookup: impl Fn(&str) -> Option<Name>,
    ) -> Result<Template, Vec<String>> {
        let mut parts = Vec::new();
        let mut errors = Vec::new();
        // An open `{each pair}`: where its parts begin in `parts`, and its character.
        let mut section: Option<(usize, usize)> = None;
        let mut literal = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((start, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|(_, c)| *c) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().map(|(_, c)| *c) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => errors.push(format!(
                    "unmatched `}}` at character {}: write `}}}}` for a literal brace",
                    character(text, start)
                )),
                '{' => {
                    let rest = &text[start + 1..];
                    let Some(end) = rest.find('}') else {
                        errors.push(format!(
                            "unclosed `{{` at character {}: close it with `}}` or write `{{{{`",
                            character(text, start)
                        ));
                        break;
                    };
                    let inner = &rest[..end];
                    for _ in 0..inner.chars().count() + 1 {
                        chars.next();
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    match inner.trim() {
                        EACH => match section {
                            Some((_, opened)) => errors.push(format!(
                                "`{{{EACH}}}` at character {} is inside the `{{{EACH}}}` at character {opened}: end the first with `{{{END}}}` before starting another",
                                character(text, start)
                            )),
                            None => section = Some((parts.len(), character(text, start))),
                        },
                        END => match section.take() {
                            Some((at, _)) => {
                                let repeated = parts.split_off(at);
                                parts.push(Part::Each(repeated));
                            }
                            None => errors.push(format!(
                                "`{{{END}}}` at character {} ends no `{{{EACH}}}`: remove it, or start the repeated part with `{{{EACH}}}`",
                                character(text, start)
                            )),
                        },
                        _ => match (near_marker(inner), parse_placeholder(inner, &lookup)) {
                            (_, Ok(part)) => parts.push(part),
                            (Some(marker), Err(_)) => {
                                errors.push(format!(
                                    "`{{{inner}}}` at character {} is neither a value nor a marker: write the marker exactly, as `{{{marker}}}` (one space, lower case, no filters)",
                                    character(text, start)
                                ));
                                // Read as the marker it was meant to be, so that its partner
                                // does not get an error of its own.
                                match marker {
                                    EACH if section.is_none() => {
                                        section = Some((parts.len(), character(text, start)));
                                    }
                                    END => section = None,
                                    _ => {}
                                }
                            }
                            (None, Err(error)) => errors.push(error),
                        },
                    }
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        if let Some((_, opened)) = section {
            errors.push(format!(
                "the `{{{EACH}}}` at character {opened} is not ended: end the repeated part with `{{{END}}}`"
            ));
        }
        if errors.is_empty() {
            let room = Template::room(&parts);
            Ok(Template { parts, room })
        } else {
            Err(errors)
        }
    }

    /// Bytes for the message's texts, and 32 for each value (an id, an amount, a time): growing
    /// a message from nothing reallocated it four or five times.
    fn room(parts: &[Part]) -> usize {
        parts
            .iter()
            .map(|part| match part {
                Part::Text(text) | Part::Constant(text) => text.len(),
                Part::Value(..) => 32,
                Part::Each(parts) => Template::room(parts),
            })
            .sum()
    }

    /// The values that each `{each pair}` section shows (`minus:` operands included), one
    /// list per section, in the order of the sections.
    pub(crate) fn each_pair_sections(&self) -> Vec<Vec<usize>> {
        self.parts
            .iter()
            .filter_map(|part| match part {
                Part::Each(repeated) => Some(
                    repeated
                        .iter()
                        .filter_map(|part| match part {
                            Part::Value(index, filters) => Some(
                                std::iter::once(*index)
                                    .chain(filters.minus)
                                    .collect::<Vec<_>>(),
                            ),
                            _ => None,
                        })
                        .flatten()
                        .collect(),
                ),
                _ => None,
            })
            .collect()
    }

    /// Fills the template; `values[i]` holds the matches of the rule's i-th value.
    #[cfg(test)]
    pub(crate) fn render(&self, values: &[Vec<&Doc>], as_of: Timestamp) -> String {
        let values: Vec<&[&Doc]> = values.iter().map(Vec::as_slice).collect();
        self.render_with(&values, &[], as_of, &mut crate::time::timestamp_of)
    }

    /// [`Template::render`], where `time_of` gives the timestamp a value holds
    /// ([`crate::time::timestamp_of`]): evaluation answers from the times its tests already
    /// parsed. `pairs[i]`, when not empty, gives the join pair of each of `values[i]` (0 for
    /// none), for `{each pair}` and `minus`.
    pub(crate) fn render_with(
        &self,
        values: &[&[&Doc]],
        pairs: &[&[u32]],
        as_of: Timestamp,
        time_of: &mut dyn FnMut(&Doc) -> Option<Timestamp>,
    ) -> String {
        let mut out = String::with_capacity(self.room);
        let fill = Fill {
            values,
            pairs,
            as_of,
        };
        render_parts(&mut out, &self.parts, fill, time_of);
        // A text of at most `MAX_MESSAGE` bytes has at most as many characters: not counted.
        if out.len() <= MAX_MESSAGE {
            return out;
        }
        if let Some((cut, _)) = out.char_indices().nth(MAX_MESSAGE) {
            let left_out = out[cut..].chars().count();
            out.truncate(cut);
            out.push_str(&format!("... ({left_out} more characters)"));
        }
        out
    }
}

/// Appends `parts`, filled from `values` (see [`Template::render_with`]), to `out`. Inlined
/// where a message is rendered (the closure that reads times is then called directly); a
/// section's repetitions call it out of line, through [`render_each`].
#[inline(always)]
fn render_parts(
    out: &mut String,
    parts: &[Part],
    fill: Fill<'_, '_>,
    time_of: &mut dyn FnMut(&Doc) -> Option<Timestamp>,
) {
    let as_of = fill.as_of;
    for part in parts {
        match part {
            Part::Text(text) | Part::Constant(text) => out.push_str(text),
            Part::Each(repeated) => render_each(out, repeated, fill, time_of),
            Part::Value(index, filters) => {
                let (mut found, own_pairs) = fill.get(*index);
                let rendered_differences: Vec<&Doc>;
                let extreme;
                if let Some(pick) = filters.pick {
                    let stamped = found.iter().filter_map(|v| time_of(v).map(|at| (at, *v)));
                    extreme = match pick {
                        Extreme::Oldest => stamped.min_by_key(|(at, _)| *at),
                        Extreme::Newest => stamped.max_by_key(|(at, _)| *at),
                    };
                    if let Some((_, value)) = &extreme {
                        found = std::slice::from_ref(value);
                    }
                }
                let differences: Vec<Doc>;
                if let Some(other) = filters.minus {
                    let (other_values, other_pairs) = fill.get(other);
                    // Captured in a join's pairs, both sides: each value with the one of its
                    // pair, wherever a pair that captured nothing on one side left a gap.
                    differences =
                        if filters.pick.is_none() && in_pairs(own_pairs) && in_pairs(other_pairs) {
                            found
                                .iter()
                                .zip(own_pairs)
                                .filter_map(|(left, pair)| {
                                    let at = other_pairs.iter().position(|other| other == pair)?;
                                    difference(left, other_values[at])
                                })
                                .collect()
                        } else {
                            found
                                .iter()
                                .zip(other_values)
                                .filter_map(|(left, right)| difference(left, right))
                                .collect()
                        };
                    rendered_differences = differences.iter().collect();
                    found = &rendered_differences;
                }
                if found.is_empty() {
                    out.push_str(filters.fallback.as_deref().unwrap_or("unknown"));
                    continue;
                }
                // The same value read from several documents is shown once; at most
                // `MAX_SHOWN` distinct values, and a count of the others.
                // With no more values than are shown, every distinct text is shown: the
                // texts shown so far tell repeats, without hashing.
                let few = found.len() <= MAX_SHOWN;
                let mut distinct = std::collections::HashSet::new();
                // Strings are shown as they are, borrowed; most placeholders show a few.
                let mut rendered: smallvec::SmallVec<[Cow<'_, str>; 4]> = smallvec::SmallVec::new();
                let mut left_out = 0;
                for value in found {
                    let mut text = render_one(value, filters.time, as_of, time_of);
                    if text.is_empty() {
                        continue;
                    }
                    // Repeats are told after the pattern: one without `*` shows no value, so
                    // it is shown once however many values there are.
                    if let Some(pattern) = &filters.each {
                        text = Cow::Owned(pattern.replace('*', &text));
                    }
                    let repeated = if few {
                        rendered.contains(&text)
                    } else {
                        !distinct.insert(text.clone())
                    };
                    if repeated {
                        continue;
                    }
                    if rendered.len() == MAX_SHOWN {
                        left_out += 1;
                    } else {
                        rendered.push(text);
                    }
                }
                if rendered.is_empty() {
                    // Only empty strings or lists: show the fallback.
                    out.push_str(filters.fallback.as_deref().unwrap_or("unknown"));
                    continue;
                }
                for (at, text) in rendered.iter().enumerate() {
                    if at > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(text);
                }
                if left_out > 0 {
                    out.push_str(&format!(" and {left_out} more"));
                }
            }
        }
    }
}

/// `{each pair}`: `repeated` once per join pair that captured a value it shows, in the order
/// the pairs were tested, each time with that pair's values (and the values captured in no
/// pair), the distinct repetitions joined with `; `; once with every value when none was
/// captured in a pair.
#[inline(never)]
fn render_each(
    out: &mut String,
    repeated: &[Part],
    fill: Fill<'_, '_>,
    time_of: &mut dyn FnMut(&Doc) -> Option<Timestamp>,
) {
    let mut numbers: Vec<u32> = Vec::new();
    for part in repeated {
        if let Part::Value(index, filters) = part {
            for at in std::iter::once(*index).chain(filters.minus) {
                numbers.extend(fill.get(at).1.iter().filter(|pair| **pair != 0));
            }
        }
    }
    numbers.sort_unstable();
    numbers.dedup();
    if numbers.is_empty() {
        render_parts(out, repeated, fill, time_of);
        return;
    }
    // A repetition that reads as one already shown is left out, as a placeholder leaves out
    // a repeated text: the same account listed by two cached responses shows once.
    let mut shown: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut left_out = 0;
    for pair in &numbers {
        let own: Vec<(Vec<&Doc>, Vec<u32>)> = (0..fill.values.len())
            .map(|at| {
                let (found, found_pairs) = fill.get(at);
                if found_pairs.is_empty() {
                    // Not captured (a rule's `values`): shown in every repetition.
                    return (found.to_vec(), Vec::new());
                }
                found
                    .iter()
                    .zip(found_pairs)
                    .filter(|(_, p)| **p == 0 || *p == pair)
                    .map(|(value, p)| (*value, *p))
                    .unzip()
            })
            .collect();
        let own_values: Vec<&[&Doc]> = own.iter().map(|(found, _)| found.as_slice()).collect();
        let own_pairs: Vec<&[u32]> = own.iter().map(|(_, p)| p.as_slice()).collect();
        let mut text = String::new();
        let own_fill = Fill {
            values: &own_values,
            pairs: &own_pairs,
            as_of: fill.as_of,
        };
        render_parts(&mut text, repeated, own_fill, time_of);
        if !seen.insert(text.clone()) {
            continue;
        }
        if shown.len() == MAX_SHOWN {
            left_out += 1;
        } else {
            shown.push(text);
        }
    }
    out.push_str(&shown.join("; "));
    if left_out > 0 {
        out.push_str(&format!("; and {left_out} more"));
    }
}

/// What a message is filled from: each value's values, the join pair of each (0 for none;
/// a list may be empty, for values not captured), and the evaluation time.
#[derive(Clone, Copy)]
struct Fill<'s, 'd> {
    values: &'s [&'s [&'d Doc]],
    pairs: &'s [&'s [u32]],
    as_of: Timestamp,
}

impl<'s, 'd> Fill<'s, 'd> {
    /// Value `index`'s values, and their pairs: one per value, or none when they have none.
    fn get(&self, index: usize) -> (&'s [&'d Doc], &'s [u32]) {
        let found = self.values.get(index).copied().unwrap_or_default();
        let pairs = self
            .pairs
            .get(index)
            .copied()
            .filter(|pairs| pairs.len() == found.len())
            .unwrap_or_default();
        (found, pairs)
    }
}

/// Whether values with these pairs ([`Fill::get`]) were all captured in a join pair.
fn in_pairs(pairs: &[u32]) -> bool {
    !pairs.is_empty() && pairs.iter().all(|pair| *pair != 0)
}

/// The 1-based character (not byte) at which byte `at` of `text` is.
fn character(text: &str, at: usize) -> usize {
    text[..at].chars().count() + 1
}

/// The section marker that `inner` was probably meant to be (`{Each  pair}`,
/// `{each pair|or:x}`), if any.
fn near_marker(inner: &str) -> Option<&'static str> {
    let name = inner.split('|').next().unwrap_or_default();
    let words: Vec<String> = name.split_whitespace().map(str::to_lowercase).collect();
    [EACH, END]
        .into_iter()
        .find(|marker| marker.split(' ').eq(words.iter().map(String::as_str)))
}

/// Distinct values a placeholder shows; the others are counted (`and 3 more`).
const MAX_SHOWN: usize = 20;

/// Characters of a message; the rest are counted.
const MAX_MESSAGE: usize = 4_000;

fn parse_placeholder(inner: &str, lookup: &impl Fn(&str) -> Option<Name>) -> Result<Part, String> {
    let mut pieces = inner.split('|');
    let name = pieces.next().unwrap_or_default().trim();
    let mut filters = Filters::default();
    for filter in pieces {
        let filter = filter.trim();
        match filter {
            "age" => filters.time = Some(TimeFilter::Age),
            "relative" => filters.time = Some(TimeFilter::Relative),
            "oldest" => filters.pick = Some(Extreme::Oldest),
            "newest" => filters.pick = Some(Extreme::Newest),
            other => {
                if let Some(text) = other.strip_prefix("or:") {
                    filters.fallback = Some(text.to_owned());
                } else if let Some(pattern) = other.strip_prefix("each:") {
                    filters.each = Some(pattern.to_owned());
                } else if let Some(subtrahend) = other.strip_prefix("minus:") {
                    let subtrahend = subtrahend.trim();
                    match lookup(subtrahend) {
                        Some(Name::Value(index)) => filters.minus = Some(index),
                        _ => {
                            return Err(format!(
                                "`minus:{subtrahend}` in `{{{inner}}}` names no value of this rule: name a value under `values:` or an `as:` capture"
                            ));
                        }
                    }
                } else {
                    return Err(format!(
                        "unknown filter `{other}` in `{{{inner}}}`: use `age`, `relative`, `oldest`, `newest`, `minus:<name>`, `each:<pattern>` or `or:<text>`"
                    ));
                }
            }
        }
    }
    match lookup(name) {
        Some(Name::Value(index)) => Ok(Part::Value(index, filters)),
        Some(Name::Param(value)) => Ok(Part::Constant(render_plain(&Doc::from(value)))),
        None => Err(format!(
            "`{{{inner}}}` names `{name}`, which is neither a value nor a parameter of this rule: declare it under `values:` or `params:`"
        )),
    }
}

/// `left - right` as an exact, signed decimal string (`+43.17`), when both are numbers.
fn difference(left: &Doc, right: &Doc) -> Option<Doc> {
    let (l, r) = (
        crate::number::decimal(left)?,
        crate::number::decimal(right)?,
    );
    let difference = l.checked_sub(r)?.normalize();
    let sign = if difference.is_sign_positive() && !difference.is_zero() {
        "+"
    } else {
        ""
    };
    Some(Doc::from(format!("{sign}{difference}")))
}

/// How a placeholder shows one value: a string borrowed as it is, anything else written.
fn render_one<'v>(
    value: &'v Doc,
    time: Option<TimeFilter>,
    as_of: Timestamp,
    time_of: &mut dyn FnMut(&Doc) -> Option<Timestamp>,
) -> Cow<'v, str> {
    let Some(filter) = time else {
        return plain(value);
    };
    let Some(at) = time_of(value) else {
        return plain(value);
    };
    let elapsed = as_of.duration_since(at);
    // One string, written piece by piece (this runs for every time a message shows).
    let mut out = String::with_capacity(24);
    match filter {
        TimeFilter::Age => push_humanized(&mut out, elapsed),
        TimeFilter::Relative if elapsed.is_negative() => {
            out.push_str("in ");
            push_humanized(&mut out, elapsed);
        }
        TimeFilter::Relative => {
            push_humanized(&mut out, elapsed);
            out.push_str(" ago");
        }
    }
    Cow::Owned(out)
}

/// [`render_plain`], a string borrowed.
fn plain(value: &Doc) -> Cow<'_, str> {
    match value {
        Doc::String(text) => Cow::Borrowed(text),
        other => Cow::Owned(render_plain(other)),
    }
}

/// Strings as they are, arrays of scalars as a comma-separated list, anything else as JSON.
pub(crate) fn render_plain(value: &Doc) -> String {
    match value {
        Doc::String(text) => String::from(&**text),
        Doc::Array(items) if items.iter().all(|v| !v.is_array() && !v.is_object()) => items
            .iter()
            .map(render_plain)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lookup(name: &str) -> Option<Name> {
        match name {
            "when" => Some(Name::Value(0)),
            "codes" => Some(Name::Value(1)),
            "times" => Some(Name::Value(2)),
            "cached" => Some(Name::Value(3)),
            "live" => Some(Name::Value(4)),
            "limit" => Some(Name::Param(json!("48h"))),
            _ => None,
        }
    }

    #[test]
    fn renders_values_filters_and_braces() {
        let template = Template::parse(
            "{{x}} updated {when|age} ago ({when|relative}), codes {codes|or:none}, limit {limit}, first {times|oldest|age}",
            lookup,
        )
        .unwrap();
        let as_of: Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
        let when = Doc::from("2026-11-17T11:00:00Z");
        let (recent, old) = (
            Doc::from("2026-11-20T11:00:00Z"),
            Doc::from("2026-11-10T12:00:00Z"),
        );
        let text = template.render(&[vec![&when, &when], vec![], vec![&recent, &old]], as_of);
        assert_eq!(
            text,
            "{x} updated 3 days 1 hour ago (3 days 1 hour ago), codes none, limit 48h, first 10 days"
        );
    }

    #[test]
    fn relative_times_say_ago_or_in() {
        let template = Template::parse("{when|relative}; {when|age}", lookup).unwrap();
        let as_of: Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
        for (when, text) in [
            ("2026-11-21T12:00:00Z", "in 24 hours; 24 hours"),
            ("2026-11-20T12:00:01Z", "in 1 second; 1 second"),
            ("2026-11-20T12:00:00Z", "0 seconds ago; 0 seconds"),
            ("2026-11-20T11:58:00Z", "2 minutes ago; 2 minutes"),
            ("2016-11-20T12:00:00Z", "3652 days ago; 3652 days"),
        ] {
            let when = Doc::from(when);
            assert_eq!(template.render(&[vec![&when]], as_of), text);
        }
    }

    #[test]
    fn strings_numbers_and_lists_are_shown_once_each() {
        let template = Template::parse("codes {codes}; {codes|each:<*>}", lookup).unwrap();
        let as_of: Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
        let values = [
            Doc::from("a"),
            Doc::from(1_i64),
            Doc::from("a"),
            Doc::from(json!([1, "x"])),
            Doc::from(""),
            Doc::from("1"),
            Doc::from(json!({"k": "é"})),
        ];
        let found: Vec<&Doc> = values.iter().collect();
        assert_eq!(
            template.render(&[vec![], found], as_of),
            r#"codes a, 1, 1, x, {"k":"é"}; <a>, <1>, <1, x>, <{"k":"é"}>"#
        );
    }

    #[test]
    fn differences_are_exact_and_signed() {
        let template = Template::parse("{cached|minus:live|or:none}", lookup).unwrap();
        let as_of: Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
        let (a, b, c, d) = (
            Doc::from(110.01),
            Doc::from(110.0),
            Doc::from(2141.45),
            Doc::from(2184.62),
        );
        let text = template.render(&[vec![], vec![], vec![], vec![&a, &c], vec![&b, &d]], as_of);
        assert_eq!(text, "+0.01, -43.17");
        let text = template.render(&[vec![], vec![], vec![], vec![&a], vec![]], as_of);
        assert_eq!(text, "none");
        assert!(Template::parse("{cached|minus:limit}", lookup).is_err());
    }

    #[test]
    fn each_shows_values_through_a_pattern_and_nothing_when_missing() {
        let template = Template::parse("x {codes|each:/*/refresh|or:-} y", lookup).unwrap();
        let as_of: Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
        let (a, b) = (Doc::from("transactions"), Doc::from("investments"));
        let text = template.render(&[vec![], vec![&a, &b]], as_of);
        assert_eq!(text, "x /transactions/refresh, /investments/refresh y");
        assert_eq!(template.render(&[vec![], vec![]], as_of), "x - y");
    }

    /// A pattern without `*` shows none of the values: it is shown once, however many
    /// distinct values there are, and not at all without one.
    #[test]
    fn a_pattern_without_a_star_is_shown_once() {
        let template = Template::parse("x{codes|each:, it succeeded|or:} y", lookup).unwrap();
        let as_of: Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
        let (a, b) = (Doc::from(json!([1, 2])), Doc::from(json!({"k": 1})));
        let text = template.render(&[vec![], vec![&a, &b, &a]], as_of);
        assert_eq!(text, "x, it succeeded y");
        assert_eq!(template.render(&[vec![], vec![]], as_of), "x y");
        // Repeats are still told by the value where the pattern shows it.
        let template = Template::parse("{codes|each:(*)}", lookup).unwrap();
        let text = template.render(&[vec![], vec![&a, &b, &a]], as_of);
        assert_eq!(text, r#"(1, 2), ({"k":1})"#);
    }

    #[test]
    fn many_distinct_values_are_shown_once_each_up_to_a_count() {
        let template = Template::parse("codes {codes}", lookup).unwrap();
        let as_of: Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
        let values: Vec<Doc> = (0..200_000).map(|n| Doc::from(format!("R{n}"))).collect();
        let mut found: Vec<&Doc> = values.iter().collect();
        found.extend(values.iter());
        let text = template.render(&[vec![], found], as_of);
        assert!(text.starts_with("codes R0, R1, "), "{text}");
        assert!(text.ends_with(" and 199980 more"), "{text}");
        let long = Doc::from("y".repeat(10_000));
        let text = template.render(&[vec![], vec![&long]], as_of);
        assert!(
            text.ends_with("... (6006 more characters)"),
            "{}",
            &text[3900..]
        );
    }

    /// Values captured in three join pairs: `codes` (index 1) in pairs 1, 2 and 3, `cached`
    /// (3) in pairs 1 and 3, `live` (4) in pairs 1, 2 and 3; `when` (0) in no pair.
    #[test]
    fn each_pair_shows_every_pair_with_its_own_values() {
        let as_of: Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
        let docs = [
            Doc::from("checking"),
            Doc::from("savings"),
            Doc::from("card"),
            Doc::from(100.0),
            Doc::from(100.0),
            Doc::from(90.0),
            Doc::from(95.0),
            Doc::from(110.0),
            Doc::from("item-1"),
        ];
        let [checking, savings, card, c1, c3, l1, l2, l3, item] = &docs;
        let values: [&[&Doc]; 5] = [
            &[item],
            &[checking, savings, card],
            &[],
            &[c1, c3],
            &[l1, l2, l3],
        ];
        let pairs: [&[u32]; 5] = [&[], &[1, 2, 3], &[], &[1, 3], &[1, 2, 3]];
        let render = |text: &str| {
            Template::parse(text, lookup).unwrap().render_with(
                &values,
                &pairs,
                as_of,
                &mut crate::time::timestamp_of,
            )
        };
        // Equal figures of two pairs are both shown, each beside its own pair's; a pair that
        // captured nothing under a name shows the fallback, and `minus` pairs by pair.
        assert_eq!(
            render(
                "{when}: {each pair}{codes} {cached|or:-} {live} {cached|minus:live|or:n/a}{end each}."
            ),
            "item-1: checking 100.0 90.0 +10; savings - 95.0 n/a; card 100.0 110.0 -10."
        );
        // Outside the section, repeated texts are shown once and `minus` still pairs by pair.
        assert_eq!(
            render("{codes}; {cached}; {cached|minus:live}"),
            "checking, savings, card; 100.0; +10, -10"
        );
        // Without values captured in pairs, the section is shown once, with every value.
        assert_eq!(render("[{each pair}{when}{end each}]"), "[item-1]");
        // Pairs that read the same (one account in two cached responses) show once.
        let same: [&[&Doc]; 5] = [&[], &[checking, savings, checking], &[], &[c1, c3, c1], &[]];
        let text = Template::parse("{each pair}{codes} {cached}{end each}", lookup)
            .unwrap()
            .render_with(
                &same,
                &[&[], &[1, 2, 3], &[], &[1, 2, 3], &[]],
                as_of,
                &mut crate::time::timestamp_of,
            );
        assert_eq!(text, "checking 100.0; savings 100.0");
    }

    #[test]
    fn each_pair_shows_at_most_a_count_of_pairs() {
        let as_of: Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
        let docs: Vec<Doc> = (0..25).map(|n| Doc::from(format!("a{n}"))).collect();
        let found: Vec<&Doc> = docs.iter().collect();
        let numbers: Vec<u32> = (1..=25).collect();
        let template = Template::parse("{each pair}{codes}{end each}", lookup).unwrap();
        let text = template.render_with(
            &[&[], &found],
            &[&[], &numbers],
            as_of,
            &mut crate::time::timestamp_of,
        );
        assert!(text.starts_with("a0; a1; "), "{text}");
        assert!(text.ends_with("; a19; and 5 more"), "{text}");
    }

    #[test]
    fn each_pair_sections_must_be_closed_and_not_nested() {
        for (text, wanted) in [
            ("{each pair}{codes}", "is not ended"),
            ("{codes}{end each}", "ends no `{each pair}`"),
            (
                "{each pair}{each pair}{codes}{end each}{end each}",
                "is inside the `{each pair}`",
            ),
        ] {
            let errors = Template::parse(text, lookup).unwrap_err();
            assert!(
                errors.iter().any(|e| e.contains(wanted)),
                "{text}: {errors:?}"
            );
        }
        assert!(Template::parse("{ each pair }{codes}{ end each }", lookup).is_ok());
        // Near misses are told apart from unknown names; places count characters.
        for text in [
            "é {Each  Pair}{codes}{end each}",
            "é {each pair|or:x}{codes}{end each}",
        ] {
            // One error each: the `{end each}` that follows gets none of its own.
            let errors = Template::parse(text, lookup).unwrap_err();
            assert!(
                errors.len() == 1
                    && errors[0].contains("at character 3")
                    && errors[0].contains("as `{each pair}`"),
                "{text}: {errors:?}"
            );
        }
        let errors = Template::parse("{each pair}{codes}{end each|x}", lookup).unwrap_err();
        assert!(
            errors.len() == 1 && errors[0].contains("as `{end each}`"),
            "{errors:?}"
        );
        let errors = Template::parse("Café — {codes}{end each}", lookup).unwrap_err();
        assert!(errors[0].contains("at character 15"), "{errors:?}");
    }

    #[test]
    fn reports_unknown_names_and_filters() {
        let errors = Template::parse("{nope} {when|weird} {open", lookup).unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
    }
}
