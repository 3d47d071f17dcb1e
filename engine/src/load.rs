//! Rule text -> [`RuleFile`]: YAML parsing with every problem located.
//!
//! The text is parsed once into a YAML value, then each rule, source and named condition is
//! deserialized on its own, so one bad rule does not hide the problems of the next.

use serde::de::DeserializeOwned;
use serde_yaml::{Mapping, Value};

use crate::error::{Origin, Problem, ProblemKind};
use crate::positions::{self, Positions};
use crate::serde_text::{self, without_serde_position};
use crate::spec::RuleFile;

/// A rules file parsed, with what is needed to locate later problems in it.
#[derive(Debug)]
pub(crate) struct ParsedFile {
    pub(crate) name: String,
    /// The entries that deserialized; entries that did not were reported and left out.
    pub(crate) spec: RuleFile,
    /// For each rule kept in `spec.rules`, its index in the file.
    pub(crate) rule_indexes: Vec<usize>,
    /// Ids of rules and names of conditions that were left out, so that references to them
    /// are not reported a second time as unknown.
    pub(crate) left_out: std::collections::HashSet<String>,
    positions: LazyPositions,
}

/// Where each field path starts in a file's text, indexed on first use: only a problem needs a
/// location, and indexing is a second YAML parse (a quarter of compiling the default pack).
#[derive(Debug)]
pub(crate) struct LazyPositions {
    text: String,
    index: std::cell::OnceCell<Positions>,
}

impl LazyPositions {
    fn new(text: &str) -> LazyPositions {
        LazyPositions {
            text: text.to_owned(),
            index: std::cell::OnceCell::new(),
        }
    }

    fn index(&self) -> &Positions {
        self.index.get_or_init(|| positions::index(&self.text))
    }

    pub(crate) fn find(&self, path: &str) -> Option<positions::Location> {
        self.index().find(path)
    }

    pub(crate) fn find_key(&self, path: &str) -> Option<positions::Location> {
        self.index().find_key(path)
    }
}

impl ParsedFile {
    /// A problem at `field`, located in this file, attributed to `rule` when given.
    pub(crate) fn problem(
        &self,
        origin: Origin,
        kind: ProblemKind,
        field: &str,
        message: String,
    ) -> Problem {
        let location = self.location(field);
        Problem::new(&self.name, location, origin, kind, field, message)
    }

    /// Where `field` (or the nearest enclosing field) starts in this file.
    pub(crate) fn location(&self, field: &str) -> Option<positions::Location> {
        self.positions.find(field)
    }
}

/// Parses what can be parsed. The file is `None` when nothing usable is left (not YAML, not a
/// map); otherwise it holds the entries that deserialized, and the problems list the others.
pub(crate) fn parse(name: &str, text: &str) -> (Option<ParsedFile>, Vec<Problem>) {
    if let Err(error) = crate::yaml_budget::check_alias_expansion(text) {
        let problem = Problem::new(
            name,
            Some(error.location),
            Origin::File,
            ProblemKind::TooLarge,
            "",
            error.message,
        );
        return (None, vec![problem]);
    }
    parse_within_budget(name, text)
}

/// [`parse`] of a text whose aliases are known to be within the budget (the embedded pack,
/// which a test checks): the budget's scan is a YAML parse of its own.
pub(crate) fn parse_within_budget(name: &str, text: &str) -> (Option<ParsedFile>, Vec<Problem>) {
    let at = |kind, field: &str, location, message: String| {
        Problem::new(name, location, Origin::File, kind, field, message)
    };
    let value: Value = match serde_yaml::from_str(text) {
        Ok(value) => value,
        Err(error) => {
            let location = error.location().map(|l| within(text, l.line(), l.column()));
            let raw = without_serde_position(&error.to_string()).to_owned();
            let mut location = location;
            let (kind, message) = match raw.split_once(": duplicate entry with key ") {
                Some((field, key)) => {
                    // The parser locates the map; the second key is what to remove.
                    let name = key.trim_matches('"');
                    let second = location.and_then(|map| second_key_at(text, map, name));
                    let field = match second {
                        Some(_) => join_path(field, name),
                        None => field.to_owned(),
                    };
                    location = second.or(location);
                    (
                        ProblemKind::DuplicateKey,
                        format!("{field}: the key {key} appears twice in the same map: remove one"),
                    )
                }
                None => match yaml_hint(&raw) {
                    Some(hint) => (
                        ProblemKind::Syntax,
                        format!("not valid YAML: {raw}: {hint}"),
                    ),
                    None => (ProblemKind::Syntax, format!("not valid YAML: {raw}")),
                },
            };
            return (None, vec![at(kind, "", location, message)]);
        }
    };
    let positions = LazyPositions::new(text);
    let mut problems: Vec<Problem> = Vec::new();

    let Value::Mapping(mut top) = value.clone() else {
        let message = if value.is_null() {
            "the file is empty: a rules file is a map with at least `rules:`"
        } else {
            "a rules file must be a map with keys such as `rules:`, `sources:`, `conditions:`"
        };
        problems.push(at(
            ProblemKind::Syntax,
            "",
            Some(positions::Location { line: 1, column: 1 }),
            message.into(),
        ));
        return (None, problems);
    };
    let mut context = Context {
        file: name,
        value: &value,
        positions: &positions,
        problems: &mut problems,
    };

    // Sections deserialized entry by entry, so that every bad entry is reported.
    let mut left_out = std::collections::HashSet::new();
    let rules = take_sequence(&mut top, "rules", &mut context);
    for (index, rule) in rules.iter().enumerate() {
        if rule.is_none() {
            if let Some(id) = value
                .get("rules")
                .and_then(|r| r.get(index))
                .and_then(|r| r.get("id"))
            {
                left_out.extend(id.as_str().map(str::to_owned));
            }
        }
    }
    let rule_indexes = (0..rules.len()).filter(|i| rules[*i].is_some()).collect();
    let rules = rules.into_iter().flatten().collect();
    let sources = take_map(&mut top, "sources", &mut context, &mut left_out);
    let conditions = take_map(&mut top, "conditions", &mut context, &mut left_out);
    // An override left out names no rule that other entries could miss: nothing to record.
    let overrides = take_map(
        &mut top,
        "overrides",
        &mut context,
        &mut std::collections::HashSet::new(),
    );
    let spec: Option<RuleFile> = context.deserialize(Value::Mapping(top), "");
    let Some(mut spec) = spec else {
        return (None, problems);
    };
    spec.rules = rules;
    spec.sources = sources;
    spec.conditions = conditions;
    spec.overrides = overrides;
    if spec.version != 1 {
        context.problems.push(at(
            ProblemKind::UnsupportedVersion,
            "version",
            positions.find("version"),
            format!(
                "unsupported version {}: this balance-doctor reads version 1",
                spec.version
            ),
        ));
    }
    let parsed = ParsedFile {
        name: name.to_owned(),
        spec,
        rule_indexes,
        left_out,
        positions,
    };
    (Some(parsed), problems)
}

struct Context<'a> {
    file: &'a str,
    value: &'a Value,
    positions: &'a LazyPositions,
    problems: &'a mut Vec<Problem>,
}

impl Context<'_> {
    /// A top-level section of the wrong shape.
    fn shape(&mut self, key: &str, message: String) {
        let location = self.positions.find(key);
        let problem = Problem::new(
            self.file,
            location,
            Origin::File,
            ProblemKind::InvalidValue,
            key,
            message,
        );
        self.problems.push(problem);
    }

    fn deserialize<T: DeserializeOwned>(&mut self, value: Value, prefix: &str) -> Option<T> {
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(parsed) => Some(parsed),
            Err(error) => {
                let inner = error.path().to_string();
                let field = join_path(prefix, if inner == "." { "" } else { &inner });
                let raw = error.inner().to_string();
                let (field, kind, message) = explain_serde_error(&field, &raw);
                let location = if kind == ProblemKind::UnknownKey {
                    self.positions.find_key(&field)
                } else {
                    self.positions.find(&field)
                };
                let origin = origin_of(self.value, &field);
                let problem = Problem::new(self.file, location, origin, kind, &field, message);
                self.problems.push(problem);
                None
            }
        }
    }
}

fn take_sequence<T: DeserializeOwned>(
    top: &mut Mapping,
    key: &str,
    context: &mut Context,
) -> Vec<Option<T>> {
    match top.remove(key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Sequence(items)) => items
            .into_iter()
            .enumerate()
            .map(|(index, item)| context.deserialize(item, &format!("{key}[{index}]")))
            .collect(),
        Some(_) => {
            context.shape(key, format!("`{key}` must be a list (`- id: ...` entries)"));
            Vec::new()
        }
    }
}

fn take_map<T: DeserializeOwned>(
    top: &mut Mapping,
    key: &str,
    context: &mut Context,
    left_out: &mut std::collections::HashSet<String>,
) -> std::collections::BTreeMap<String, T> {
    let mut out = std::collections::BTreeMap::new();
    match top.remove(key) {
        None | Some(Value::Null) => {}
        Some(Value::Mapping(entries)) => {
            for (name, entry) in entries {
                let Some(name) = name.as_str().map(str::to_owned) else {
                    context.shape(key, format!("the names under `{key}` must be strings"));
                    continue;
                };
                match context.deserialize(entry, &format!("{key}.{name}")) {
                    Some(parsed) => {
                        out.insert(name, parsed);
                    }
                    None => {
                        left_out.insert(name);
                    }
                }
            }
        }
        Some(_) => context.shape(
            key,
            format!("`{key}` must be a map of names to definitions"),
        ),
    }
    out
}

pub(crate) fn join_path(prefix: &str, inner: &str) -> String {
    match (prefix.is_empty(), inner.is_empty()) {
        (_, true) => prefix.to_owned(),
        (true, false) => inner.to_owned(),
        (false, false) if inner.starts_with('[') => format!("{prefix}{inner}"),
        (false, false) => format!("{prefix}.{inner}"),
    }
}

/// What a field path points into: a rule (its id read from the raw YAML), a named condition,
/// a source, or the file.
fn origin_of(value: &Value, field: &str) -> Origin {
    let named = |prefix: &str| {
        let rest = field.strip_prefix(prefix)?;
        Some(rest.split(['.', '[']).next().unwrap_or(rest).to_owned())
    };
    if let Some(name) = named("conditions.") {
        return Origin::Condition(name);
    }
    if let Some(name) = named("sources.") {
        return Origin::Source(name);
    }
    rule_id_for(value, field).map_or(Origin::File, Origin::Rule)
}

/// The id of the rule a field path points into (`rules[3]...`), read from the raw YAML.
fn rule_id_for(value: &Value, field: &str) -> Option<String> {
    let rest = field.strip_prefix("rules[")?;
    let index: usize = rest[..rest.find(']')?].parse().ok()?;
    value
        .get("rules")?
        .get(index)?
        .get("id")?
        .as_str()
        .map(str::to_owned)
}

/// A YAML parser position kept inside the text: a parser that runs off the end reports the
/// line after the last, which an editor cannot show, so that becomes the end of the last line.
/// Where `key` is given the second time in the block map whose first key is at `map`: its
/// keys start at `map`'s column, on that line and the next ones, until a line starts to the
/// left of it. In a flow map (`{a: 1, a: 2}`, which `map` locates at its `{`), its keys are
/// those after the `{` and after each comma at its own depth. `None` for a key written in
/// another form.
fn second_key_at(text: &str, map: positions::Location, key: &str) -> Option<positions::Location> {
    let column = map.column;
    let first_line = text.lines().nth(map.line.checked_sub(1)?)?;
    if first_line
        .chars()
        .nth(column.checked_sub(1)?)
        .is_some_and(|c| c == '{')
    {
        return second_flow_key_at(text, map, key);
    }
    let mut seen = 0;
    for (index, line) in text.lines().enumerate().skip(map.line.checked_sub(1)?) {
        let at = if index + 1 == map.line {
            line.char_indices()
                .nth(column.checked_sub(1)?)
                .map(|(byte, _)| &line[byte..])?
        } else {
            let trimmed = line.trim_start_matches(' ');
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let indent = line.len() - trimmed.len();
            if indent + 1 < column {
                return None;
            }
            if indent + 1 > column {
                continue;
            }
            trimmed
        };
        if starts_with_key(at, key) {
            seen += 1;
            if seen == 2 {
                return Some(positions::Location {
                    line: index + 1,
                    column,
                });
            }
        }
    }
    None
}

/// Whether `text` starts with the map key `key`, plain or quoted, then its colon.
fn starts_with_key(text: &str, key: &str) -> bool {
    [key.to_owned(), format!("\"{key}\""), format!("'{key}'")]
        .iter()
        .any(|form| {
            text.strip_prefix(form.as_str())
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
}

/// [`second_key_at`] in the flow map whose `{` is at `map`.
fn second_flow_key_at(
    text: &str,
    map: positions::Location,
    key: &str,
) -> Option<positions::Location> {
    let mut seen = 0;
    let mut depth = 0usize;
    let mut quote = None;
    // Whether the next text at depth one starts a key: after the `{` or a comma.
    let mut key_next = false;
    for (index, line) in text.lines().enumerate().skip(map.line.saturating_sub(1)) {
        let skip = if index + 1 == map.line {
            map.column.saturating_sub(1)
        } else {
            0
        };
        for (column, (byte, c)) in line.char_indices().enumerate().skip(skip) {
            if let Some(q) = quote {
                if c == q {
                    quote = None;
                }
                continue;
            }
            if c == '#' && (byte == 0 || line[..byte].ends_with([' ', '\t'])) {
                break;
            }
            if key_next && depth == 1 && c != ' ' && c != '\t' {
                key_next = false;
                if starts_with_key(&line[byte..], key) {
                    seen += 1;
                    if seen == 2 {
                        return Some(positions::Location {
                            line: index + 1,
                            column: column + 1,
                        });
                    }
                }
            }
            match c {
                '\'' | '"' => quote = Some(c),
                '{' | '[' => {
                    depth += 1;
                    key_next = depth == 1;
                }
                '}' | ']' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return None;
                    }
                }
                ',' if depth == 1 => key_next = true,
                _ => {}
            }
        }
    }
    None
}

fn within(text: &str, line: usize, column: usize) -> positions::Location {
    let lines = text.lines().count().max(1);
    if line <= lines {
        return positions::Location { line, column };
    }
    let last = text.lines().last().unwrap_or_default();
    positions::Location {
        line: lines,
        column: last.chars().count() + 1,
    }
}

/// What to do about the YAML parser's most common complaints, which are about indentation and
/// unclosed brackets or quotes.
fn yaml_hint(raw: &str) -> Option<&'static str> {
    let hints = [
        (
            "did not find expected '-' indicator",
            "this line is indented differently from the list around it: start each entry with `- ` at the column of the others, and indent its keys under the first",
        ),
        (
            "did not find expected key",
            "this line is indented differently from the keys around it: start keys of the same map at the same column",
        ),
        (
            "mapping values are not allowed in this context",
            "a `key:` is indented under a value that is not a map, or an unquoted text holds `: `: align the key with the others, or quote the text",
        ),
        (
            "found a tab character",
            "indent with spaces: YAML does not allow tabs for indentation",
        ),
        (
            "found unexpected end of stream",
            "the file ends inside a quoted text: close the quote (`\"` or `'`)",
        ),
        (
            "did not find expected ',' or '}'",
            "a `{ ... }` is not closed, or two of its entries lack a `,` between them",
        ),
        (
            "did not find expected ',' or ']'",
            "a `[ ... ]` is not closed, or two of its items lack a `,` between them",
        ),
    ];
    hints
        .into_iter()
        .find(|(complaint, _)| raw.starts_with(complaint))
        .map(|(_, hint)| hint)
}

/// serde's message, explained (see [`serde_text::explain`]), with the field path extended by
/// the offending key for unknown keys.
fn explain_serde_error(field: &str, raw: &str) -> (String, ProblemKind, String) {
    let explained = serde_text::explain(raw);
    let field = match explained.unknown_key {
        Some(name) if !field.ends_with(name) => join_path(field, name),
        _ => field.to_owned(),
    };
    (field, explained.kind, explained.message)
}

#[cfg(test)]
mod duplicate_key_tests {
    use super::*;

    fn at(line: usize, column: usize) -> positions::Location {
        positions::Location { line, column }
    }

    #[test]
    fn the_second_key_of_a_block_map_is_found() {
        let text = "rules:\n  - id: r\n    # severity: a comment\n    severity: info\n    when:\n      severity: x\n    severity: error\n";
        assert_eq!(second_key_at(text, at(2, 5), "severity"), Some(at(7, 5)));
        // A key that starts the same way is another key; a map that ends first has no second.
        let text = "a:\n  exists_x: 1\n  exists: 2\nb:\n  exists: 3\n";
        assert_eq!(second_key_at(text, at(2, 3), "exists"), None);
        // Quoted keys are keys.
        let text = "m:\n  'k': 1\n  \"k\" : 2\n";
        assert_eq!(second_key_at(text, at(2, 3), "k"), Some(at(3, 3)));
    }

    #[test]
    fn a_column_of_zero_finds_nothing() {
        assert_eq!(second_key_at("a: 1\na: 2\n", at(1, 0), "a"), None);
    }

    #[test]
    fn the_second_key_of_a_flow_map_is_found() {
        let text = "when: {path: a, path: b}\n";
        assert_eq!(second_key_at(text, at(1, 7), "path"), Some(at(1, 17)));
        // Keys of nested maps, texts in quotes and comments are not the map's keys; a map
        // may span lines.
        let text = "- {id: r, when: {id: x}, t: 'id: y', # id: z\n   \"id\": s}\n";
        assert_eq!(second_key_at(text, at(1, 3), "id"), Some(at(2, 4)));
        // A map that ends first has no second.
        let text = "a: {k: 1}\nb: {k: 2}\n";
        assert_eq!(second_key_at(text, at(1, 4), "k"), None);
    }
}
