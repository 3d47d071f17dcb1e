//! Compiled JSONPaths and the located values they select.
//!
//! A path is parsed once, at compile time, by jsonpath-rust. A path made only of names,
//! indexes and wildcards (nearly every path a rule uses) is lowered to a list of steps and
//! walked directly over documents ([`Doc`]), recording the route as borrowed segments; the
//! RFC 9535 normalized path string is built only for values that end up in the output. So is a
//! filter that only compares members of the current value with strings, booleans or `null`
//! (`[?@.kind == 'a' && (@.code == 'b' || @.code != null)]`, every filter the default pack
//! writes). Other paths (other filters, slices, descendants) are evaluated by
//! jsonpath-rust.

use std::fmt::Write as _;

use crate::doc::Doc;
use jsonpath_rust::parser::model::{
    Comparable, Comparison, Filter, FilterAtom, FnArg, JpQuery, Literal, Segment, Selector,
    SingularQuery, SingularQuerySegment, Test as FilterTest, TestFunction,
};
use serde_json::Value;

/// A JSONPath compiled once.
#[derive(Debug, Clone)]
pub(crate) struct CompiledPath {
    kind: PathKind,
}

#[derive(Debug, Clone)]
enum PathKind {
    Steps(Vec<Step>),
    General(JpQuery),
}

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(i64),
    Wildcard,
    /// `['a','b']`, `[0,2]`: each selector in turn.
    Union(Vec<Step>),
    /// `[?...]`: the children (elements, or members in key order) the test holds for.
    Filter(Box<Test>),
}

/// A filter's test that is walked directly: comparisons of a member (or element) of the
/// current value with a literal string, boolean or `null`, combined with `&&`, `||` and `!`.
#[derive(Debug, Clone)]
enum Test {
    Any(Vec<Test>),
    All(Vec<Test>),
    Not(Box<Test>),
    /// `@.a.b == literal` (`equal`) or `@.a.b != literal`. As in RFC 9535, a value that is
    /// not there is equal to no literal (and so differs from each), `null` included.
    Compare {
        at: Vec<Step>,
        literal: Doc,
        equal: bool,
    },
}

/// One step of what a path reads, for [`crate::projection`]: named members, or any child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Access {
    Keys(Vec<String>),
    /// Any child; of each, a filter reads the values at `tests` (their scalars only: a
    /// filter compares with literal scalars, so an object or array there is as good empty).
    AnyChild {
        tests: Vec<Vec<Access>>,
    },
}

fn simple(selector: &Selector) -> Option<Step> {
    match selector {
        Selector::Name(name) => Some(Step::Key(name.clone())),
        Selector::Index(index) => Some(Step::Index(*index)),
        Selector::Wildcard => Some(Step::Wildcard),
        Selector::Filter(filter) => test_of(filter).map(|test| Step::Filter(Box::new(test))),
        Selector::Slice(..) => None,
    }
}

/// The filter as a [`Test`], when it is one that is walked directly.
fn test_of(filter: &Filter) -> Option<Test> {
    match filter {
        Filter::Or(items) => items
            .iter()
            .map(test_of)
            .collect::<Option<_>>()
            .map(Test::Any),
        Filter::And(items) => items
            .iter()
            .map(test_of)
            .collect::<Option<_>>()
            .map(Test::All),
        Filter::Atom(FilterAtom::Filter { expr, not }) => {
            let test = test_of(expr)?;
            Some(if *not {
                Test::Not(Box::new(test))
            } else {
                test
            })
        }
        Filter::Atom(FilterAtom::Comparison(comparison)) => {
            let (left, right, equal) = match &**comparison {
                Comparison::Eq(left, right) => (left, right, true),
                Comparison::Ne(left, right) => (left, right, false),
                _ => return None,
            };
            let (query, literal) = match (left, right) {
                (Comparable::SingularQuery(query), Comparable::Literal(literal))
                | (Comparable::Literal(literal), Comparable::SingularQuery(query)) => {
                    (query, literal)
                }
                _ => return None,
            };
            // Numbers are left to jsonpath-rust, which compares them as floats.
            let literal = match literal {
                Literal::String(text) => Doc::String(text.as_str().into()),
                Literal::Bool(value) => Doc::Bool(*value),
                Literal::Null => Doc::Null,
                Literal::Int(_) | Literal::Float(_) => return None,
            };
            let SingularQuery::Current(segments) = query else {
                return None;
            };
            let at = segments
                .iter()
                .map(|segment| match segment {
                    SingularQuerySegment::Name(name) => Step::Key(name.clone()),
                    SingularQuerySegment::Index(index) => Step::Index(*index),
                })
                .collect();
            Some(Test::Compare { at, literal, equal })
        }
        Filter::Atom(FilterAtom::Test { .. }) => None,
    }
}

impl Test {
    fn holds(&self, value: &Doc) -> bool {
        match self {
            Test::Any(items) => items.iter().any(|test| test.holds(value)),
            Test::All(items) => items.iter().all(|test| test.holds(value)),
            Test::Not(test) => !test.holds(value),
            Test::Compare { at, literal, equal } => {
                let mut here = Some(value);
                for step in at {
                    here = here.and_then(|value| match step {
                        Step::Key(key) => value.get(key),
                        Step::Index(index) => value
                            .as_array()
                            .and_then(|items| items.get(resolve_index(*index, items.len())?)),
                        _ => None,
                    });
                }
                here.is_some_and(|found| found == literal) == *equal
            }
        }
    }

    /// The values the test reads below the value it is given, for the projection.
    fn reads(&self, out: &mut Vec<Vec<Access>>) {
        match self {
            Test::Any(items) | Test::All(items) => items.iter().for_each(|test| test.reads(out)),
            Test::Not(test) => test.reads(out),
            Test::Compare { at, .. } => out.push(at.iter().map(access_of).collect()),
        }
    }
}

/// Where index `index` (negative: from the end) of a list of `len` lies, if in it.
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    if index < 0 {
        len.checked_sub(index.unsigned_abs() as usize)
    } else {
        usize::try_from(index).ok().filter(|i| *i < len)
    }
}

fn lower(segment: &Segment) -> Option<Step> {
    match segment {
        Segment::Selector(selector) => simple(selector),
        Segment::Selectors(selectors) => selectors
            .iter()
            .map(|s| match s {
                Selector::Wildcard => None,
                other => simple(other),
            })
            .collect::<Option<Vec<Step>>>()
            .map(Step::Union),
        Segment::Descendant(_) => None,
    }
}

fn access_of(step: &Step) -> Access {
    match step {
        Step::Key(key) => Access::Keys(vec![key.clone()]),
        Step::Union(items) if items.iter().all(|s| matches!(s, Step::Key(_))) => Access::Keys(
            items
                .iter()
                .filter_map(|s| match s {
                    Step::Key(key) => Some(key.clone()),
                    _ => None,
                })
                .collect(),
        ),
        // Any child, and of each what the filters among the selectors compare.
        _ => {
            let selectors = match step {
                Step::Union(items) => items.as_slice(),
                single => std::slice::from_ref(single),
            };
            let mut tests = Vec::new();
            for selector in selectors {
                if let Step::Filter(test) = selector {
                    test.reads(&mut tests);
                }
            }
            Access::AnyChild { tests }
        }
    }
}

/// One segment of a normalized path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg<'a> {
    Key(&'a str),
    Index(usize),
    /// An already-normalized suffix such as `['a'][0]`, from jsonpath-rust.
    Raw(String),
}

/// The values a path or a condition found: most find one or two, kept without allocating.
pub(crate) type Nodes<'a> = smallvec::SmallVec<[Node<'a>; 4]>;

/// Where a value sits: an index into [`Routes`]. `ROOT` is the document itself.
pub(crate) type RouteId = u32;

/// The document root's route.
pub(crate) const ROOT: RouteId = 0;

/// The routes walked during one evaluation, as a tree of segments with parent links: a
/// node's route is one number, and its normalized path is rebuilt only when it is output.
#[derive(Debug)]
pub(crate) struct Routes<'a> {
    links: Vec<Link<'a>>,
}

#[derive(Debug)]
struct Link<'a> {
    parent: RouteId,
    /// What [`Routes::any_name`] answered for this route, once asked.
    named: std::cell::Cell<Named>,
    segment: Seg<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    NotAsked,
    No,
    Yes,
}

impl Default for Routes<'_> {
    fn default() -> Self {
        Routes {
            // A bundle's evaluation by the default pack walks about 100 routes.
            links: {
                let mut links = Vec::with_capacity(128);
                links.push(Link::root());
                links
            },
        }
    }
}

impl Routes<'_> {
    /// These routes' memory, holding the root alone again, for another evaluation (whose
    /// routes borrow another bundle); memory that grew beyond `keep` bytes is given back.
    pub(crate) fn recycled<'b>(self, keep: usize) -> Routes<'b> {
        if self.memory_usage() > keep {
            return Routes::default();
        }
        let mut links = crate::eval::emptied(self.links);
        links.push(Link::root());
        Routes { links }
    }

    /// The bytes of memory the routes hold (not counting jsonpath-rust's suffixes).
    pub(crate) fn memory_usage(&self) -> usize {
        self.links.capacity() * size_of::<Link<'_>>()
    }
}

impl Link<'_> {
    fn root() -> Self {
        Link {
            parent: ROOT,
            named: std::cell::Cell::new(Named::No),
            segment: Seg::Raw(String::new()),
        }
    }
}

impl<'a> Routes<'a> {
    /// The route `parent` followed by `segment`.
    pub(crate) fn push(&mut self, parent: RouteId, segment: Seg<'a>) -> RouteId {
        self.links.push(Link {
            parent,
            named: std::cell::Cell::new(Named::NotAsked),
            segment,
        });
        RouteId::try_from(self.links.len() - 1).unwrap_or(ROOT)
    }

    /// Whether any member name along `route` satisfies `test`, without building the path:
    /// names of walked steps are tested as they are, and an already-normalized suffix from
    /// jsonpath-rust is read back (`names`).
    ///
    /// The answer is remembered for the route and the routes above it, and read back when
    /// they are asked again: every call on one `Routes` must ask the same question (the
    /// rule set's `redact:` names).
    pub(crate) fn any_name(
        &self,
        route: RouteId,
        mut test: impl FnMut(&str) -> bool,
        names: impl Fn(&str, &mut dyn FnMut(&str) -> bool) -> bool,
    ) -> bool {
        // The routes not asked yet, from `route` up to the first one that was (or the root).
        let mut unasked: smallvec::SmallVec<[RouteId; 16]> = smallvec::SmallVec::new();
        let mut at = route;
        let mut found = false;
        while at != ROOT {
            let link = &self.links[at as usize];
            match link.named.get() {
                Named::NotAsked => {}
                Named::No => break,
                Named::Yes => {
                    found = true;
                    break;
                }
            }
            unasked.push(at);
            at = link.parent;
        }
        // Down from there: a route has a name that passes when the route above it has one, or
        // its own segment does.
        for &at in unasked.iter().rev() {
            let link = &self.links[at as usize];
            found = found
                || match &link.segment {
                    Seg::Key(key) => test(key),
                    Seg::Index(_) => false,
                    Seg::Raw(raw) => names(raw, &mut test),
                };
            link.named.set(if found { Named::Yes } else { Named::No });
        }
        found
    }

    /// What [`Routes::any_name`] answered for `route` when it was asked, if it was.
    #[inline]
    pub(crate) fn named(&self, route: RouteId) -> Option<bool> {
        match self.links.get(route as usize)?.named.get() {
            Named::NotAsked => None,
            Named::No => Some(false),
            Named::Yes => Some(true),
        }
    }

    /// The RFC 9535 normalized path of a route, such as `$['accounts'][0]['balances']`.
    ///
    /// Written in one allocation of the path's length (more only when a name needs escapes).
    pub(crate) fn normalized_path(&self, route: RouteId) -> String {
        let mut segments: smallvec::SmallVec<[&Seg<'a>; 8]> = smallvec::SmallVec::new();
        let mut length = 1;
        let mut at = route;
        while at != ROOT {
            let link = &self.links[at as usize];
            length += segment_length(&link.segment);
            segments.push(&link.segment);
            at = link.parent;
        }
        let mut out = String::with_capacity(length);
        out.push('$');
        for segment in segments.into_iter().rev() {
            push_segment(&mut out, segment);
        }
        out
    }
}

/// The RFC 9535 normalized path of a list of segments, such as `$['accounts'][0]`.
pub(crate) fn normalized_path(segments: &[Seg<'_>]) -> String {
    let mut out = String::from("$");
    for segment in segments {
        push_segment(&mut out, segment);
    }
    out
}

/// The length of a segment's normalized text when its name needs no escape (escapes only
/// add to it): `['name']`, `[12]`.
fn segment_length(segment: &Seg<'_>) -> usize {
    match segment {
        Seg::Key(key) => key.len() + 4,
        Seg::Index(index) => index.checked_ilog10().unwrap_or(0) as usize + 3,
        Seg::Raw(raw) => raw.len(),
    }
}

#[inline]
fn push_segment(out: &mut String, segment: &Seg<'_>) {
    match segment {
        Seg::Key(key) => {
            out.push('[');
            out.push('\'');
            if crate::json_text::needs_escape(key.as_bytes(), b'\'') {
                push_escaped_name(out, key);
            } else {
                crate::short::append_str(out, key);
            }
            out.push('\'');
            out.push(']');
        }
        Seg::Index(index) => {
            out.push('[');
            push_decimal(out, *index);
            out.push(']');
        }
        Seg::Raw(raw) => out.push_str(raw),
    }
}

/// Appends a member name that needs escapes, escaped as RFC 9535 normalized paths escape it
/// (section 2.7, as jsonpath-rust does too): `\'` and `\\`, the short escapes `\b`, `\f`, `\n`,
/// `\r` and `\t`, and `\u00xx` in lowercase hex for the other controls below 0x20.
#[cold]
fn push_escaped_name(out: &mut String, key: &str) {
    for c in key.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// Appends `n` in decimal, without the formatting machinery (paths are built per evidence).
fn push_decimal(out: &mut String, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[at..].iter().map(|&d| char::from(d)));
}

/// A value found in a document, with the route to it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node<'a> {
    /// The document (or `context`) the value is in.
    pub(crate) doc: &'a str,
    pub(crate) value: &'a Doc,
    pub(crate) route: RouteId,
}

/// Why a JSONPath was refused, with the 1-based column in the path text when known.
#[derive(Debug, Clone)]
pub(crate) struct PathError {
    pub(crate) column: Option<usize>,
    pub(crate) message: String,
}

/// Checks the patterns of the `match()` and `search()` calls in a path's filters: jsonpath-rust
/// compiles them when a filter runs and treats a pattern that does not compile as "no match",
/// so a typo would silently match nothing instead of being reported when the rules load.
fn check_patterns_in(segments: &[Segment]) -> Result<(), PathError> {
    segments.iter().try_for_each(check_segment)
}

fn check_segment(segment: &Segment) -> Result<(), PathError> {
    match segment {
        Segment::Descendant(inner) => check_segment(inner),
        Segment::Selector(selector) => check_selector(selector),
        Segment::Selectors(selectors) => selectors.iter().try_for_each(check_selector),
    }
}

fn check_selector(selector: &Selector) -> Result<(), PathError> {
    match selector {
        Selector::Filter(filter) => check_filter(filter),
        _ => Ok(()),
    }
}

fn check_filter(filter: &Filter) -> Result<(), PathError> {
    match filter {
        Filter::Or(filters) | Filter::And(filters) => filters.iter().try_for_each(check_filter),
        Filter::Atom(FilterAtom::Filter { expr, .. }) => check_filter(expr),
        Filter::Atom(FilterAtom::Test { expr, .. }) => check_test(expr),
        Filter::Atom(FilterAtom::Comparison(comparison)) => {
            let (left, right) = match comparison.as_ref() {
                Comparison::Eq(l, r)
                | Comparison::Ne(l, r)
                | Comparison::Gt(l, r)
                | Comparison::Gte(l, r)
                | Comparison::Lt(l, r)
                | Comparison::Lte(l, r) => (l, r),
            };
            [left, right].into_iter().try_for_each(|side| match side {
                Comparable::Function(function) => check_function(function),
                _ => Ok(()),
            })
        }
    }
}

fn check_test(test: &FilterTest) -> Result<(), PathError> {
    match test {
        FilterTest::RelQuery(segments) => check_patterns_in(segments),
        FilterTest::AbsQuery(query) => check_patterns_in(&query.segments),
        FilterTest::Function(function) => check_function(function),
    }
}

fn check_function(function: &TestFunction) -> Result<(), PathError> {
    let check_arg = |arg: &FnArg| match arg {
        FnArg::Literal(_) => Ok(()),
        FnArg::Test(test) => check_test(test),
        FnArg::Filter(filter) => check_filter(filter),
    };
    match function {
        TestFunction::Match(value, pattern) | TestFunction::Search(value, pattern) => {
            check_arg(value)?;
            if let FnArg::Literal(Literal::String(text)) = pattern {
                let name = if matches!(function, TestFunction::Match(..)) {
                    "match"
                } else {
                    "search"
                };
                regex::Regex::new(text).map_err(|error| PathError {
                    column: None,
                    message: format!(
                        "the pattern `{text}` of {name}() is not a valid regular expression ({}), so it would never match",
                        regex_error_summary(&error)
                    ),
                })?;
            }
            check_arg(pattern)
        }
        TestFunction::Length(arg) => check_arg(arg),
        TestFunction::Value(arg) | TestFunction::Count(arg) => check_arg(arg),
        TestFunction::Custom(_, args) => args.iter().try_for_each(check_arg),
    }
}

/// What a rule of jsonpath-rust's grammar (`json_path_9535.pest`, named by its `Debug` text)
/// stands for, in the words of a rule author: pest names the rules it expected where a path
/// went wrong, and `atom_expr` or `comparable` mean nothing to someone writing a path.
fn grammar_words(rule: &str) -> String {
    let words = match rule {
        "jp_query" | "main" => "a path that starts with `$`",
        "segments" | "segment" | "child_segment" | "descendant_segment" => {
            "a segment such as `.name`, `['name']`, `[0]`, `[*]` or `[?@.key]`"
        }
        "bracketed_selection" | "selector" => {
            "a selector such as `'name'`, `0`, `*` or `?@.key == 'value'`"
        }
        "filter_selector" | "logical_expr" | "logical_expr_and" | "atom_expr" | "paren_expr"
        | "test_expr" | "test" => {
            "a filter expression (a comparison such as `@.type == 'credit'`, a key that must exist such as `@.mask`, or a function: length, count, value, match or search)"
        }
        "comp_expr" => "a comparison such as `@.type == 'credit'`",
        "comparable" | "literal" => {
            "a value to compare (a text in quotes, a number, true, false, null, a query such as `@.key`, or a function)"
        }
        "singular_query" | "rel_singular_query" | "abs_singular_query" => {
            "a query of one value, such as `@.key` or `$.key`"
        }
        "comp_op" => "a comparison operator (`==`, `!=`, `<`, `<=`, `>`, `>=`)",
        "function_expr" | "function_name_one_arg" | "function_name_two_arg" => {
            "a function (length, count, value, match or search)"
        }
        "member_name_shorthand" | "name_first" | "name_char" => "a member name",
        "name_selector" | "string" => "a text in quotes",
        "index_selector" | "int" | "number" => "a number",
        "slice_selector" | "start" | "end" | "step" => "a slice such as `[0:2]`",
        "EOI" => "the end of the path",
        "wildcard_selector" => "`*`",
        "ALPHA" | "LCALPHA" => "a letter",
        "DIGIT" => "a digit",
        "WHITESPACE" => "a space",
        "name_segment" | "index_segment" | "singular_query_segments" => {
            "a segment such as `.name`, `['name']` or `[0]`"
        }
        "not_op" => "`!`",
        "bool" => "true or false",
        "null" => "null",
        "function_argument" => "an argument",
        other => return format!("`{other}`"),
    };
    words.to_owned()
}

/// The 1-based column of the first `[` of `text` that no `]` closes, brackets inside quotes
/// not counted: pest then reports what it expected next, which does not say that.
fn unclosed_bracket(text: &str) -> Option<usize> {
    let mut open = Vec::new();
    let mut quotes = Quotes::default();
    for (column, c) in text.chars().enumerate() {
        if quotes.quoted(c) {
            continue;
        }
        match c {
            '[' => open.push(column + 1),
            ']' => {
                open.pop()?;
            }
            _ => {}
        }
    }
    open.first().copied()
}

/// Which characters of a path text, read one at a time, lie in a quoted text.
#[derive(Default)]
struct Quotes {
    quote: Option<char>,
    escaped: bool,
}

impl Quotes {
    /// Whether `c`, the next character, is part of a quoted text (its quotes included).
    fn quoted(&mut self, c: char) -> bool {
        match self.quote {
            Some(q) => {
                if self.escaped {
                    self.escaped = false;
                } else if c == '\\' {
                    self.escaped = true;
                } else if c == q {
                    self.quote = None;
                }
                true
            }
            None if c == '\'' || c == '"' => {
                self.quote = Some(c);
                true
            }
            None => false,
        }
    }
}

/// The functions a filter can call: jsonpath-rust's grammar names only these.
const FUNCTIONS: [&str; 5] = ["length", "count", "value", "match", "search"];

/// "unknown function `foo`", when the path went wrong (at 1-based `column`) at a name followed
/// by `(` that is not a function of the grammar.
fn unknown_function(text: &str, column: usize) -> Option<String> {
    let rest = text.get(column.checked_sub(1)?..)?;
    let rest = rest.trim_start_matches(['!', ' ']);
    let name_end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
    let name = &rest[..name_end];
    if name.is_empty() || !rest[name_end..].trim_start().starts_with('(') {
        return None;
    }
    if FUNCTIONS.contains(&name) {
        return None;
    }
    let hint = crate::suggest::did_you_mean(name, &FUNCTIONS, || {
        format!("the functions are {}", FUNCTIONS.join(", "))
    });
    Some(format!("unknown function `{name}` ({hint})"))
}

/// The number of arguments each function of [`FUNCTIONS`] takes, and what they are.
fn arity(name: &str) -> Option<(usize, &'static str)> {
    Some(match name {
        "length" | "count" | "value" => (1, "a query such as `@.key`"),
        "match" | "search" => (
            2,
            "a query such as `@.key` and a regular expression in quotes",
        ),
        _ => return None,
    })
}

/// "`match()` takes 2 arguments ..., found 3", and the 1-based column of the function's
/// name, for the first call in `text` of a function of the grammar with another number of
/// arguments than it takes (pest then says only what it expected where the extra argument
/// starts). Quoted texts and nested parentheses are read past.
fn wrong_arguments(text: &str) -> Option<(usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut at = 0;
    let mut quotes = Quotes::default();
    while at < chars.len() {
        let c = chars[at];
        if quotes.quoted(c) {
            at += 1;
            continue;
        }
        let starts_name = c.is_ascii_alphabetic()
            && (at == 0 || !(chars[at - 1].is_ascii_alphanumeric() || chars[at - 1] == '_'));
        if !starts_name {
            at += 1;
            continue;
        }
        let start = at;
        while at < chars.len() && (chars[at].is_ascii_alphanumeric() || chars[at] == '_') {
            at += 1;
        }
        let name: String = chars[start..at].iter().collect();
        let Some((takes, what)) = arity(&name) else {
            continue;
        };
        let mut open = at;
        while open < chars.len() && chars[open] == ' ' {
            open += 1;
        }
        if chars.get(open) != Some(&'(') {
            continue;
        }
        // Count the arguments up to the matching `)`: commas at depth one, outside quotes.
        let mut depth = 0;
        let mut commas = 0;
        let mut empty = true;
        let mut inner = Quotes::default();
        let mut end = None;
        let mut i = open;
        while i < chars.len() {
            let c = chars[i];
            if inner.quoted(c) {
                empty = false;
                i += 1;
                continue;
            }
            match c {
                '(' | '[' => depth += 1,
                ')' | ']' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(i);
                        break;
                    }
                }
                ',' if depth == 1 => commas += 1,
                ' ' => {}
                _ => empty = false,
            }
            i += 1;
        }
        // An unclosed call is reported as such elsewhere.
        end?;
        let found = if empty && commas == 0 { 0 } else { commas + 1 };
        if found != takes {
            let plural = if takes == 1 { "" } else { "s" };
            // A third argument is most likely flags, as other regular expression APIs take.
            let flags = if takes == 2 && found == 3 {
                ": flags go inside the pattern, such as `'(?i)plaid'`"
            } else {
                ""
            };
            return Some((
                start + 1,
                format!("`{name}()` takes {takes} argument{plural} ({what}), found {found}{flags}"),
            ));
        }
    }
    None
}

/// The last line of a `regex` error, which says what is wrong (`unclosed group`).
pub(crate) fn regex_error_summary(error: &regex::Error) -> String {
    let detail = error.to_string();
    let detail = detail.lines().last().unwrap_or_default().trim();
    detail.strip_prefix("error: ").unwrap_or(detail).to_owned()
}

impl CompiledPath {
    /// Parses `text` (which must start with `$`).
    pub(crate) fn compile(text: &str) -> Result<CompiledPath, PathError> {
        let query = jsonpath_rust::parser::parse_json_path(text).map_err(|error| match error {
            jsonpath_rust::parser::errors::JsonPathError::PestError(pest) => {
                let column = match pest.line_col {
                    pest::error::LineColLocation::Pos((_, column)) => column,
                    pest::error::LineColLocation::Span((_, column), _) => column,
                };
                let pest = pest.renamed_rules(|rule| grammar_words(&format!("{rule:?}")));
                let mut message = pest.variant.message().to_string();
                let mut column = column;
                if let Some(hint) = unknown_function(text, column) {
                    message = hint;
                } else if let Some(open) = unclosed_bracket(text) {
                    message = format!("the `[` at column {open} is not closed: add its `]`");
                } else if let Some((at, hint)) = wrong_arguments(text) {
                    column = at;
                    message = hint;
                }
                PathError {
                    column: Some(column),
                    message,
                }
            }
            other => PathError {
                column: None,
                message: other.to_string(),
            },
        })?;
        check_patterns_in(&query.segments)?;
        let steps: Option<Vec<Step>> = query.segments.iter().map(lower).collect();
        let kind = match steps {
            Some(steps) => PathKind::Steps(steps),
            None => PathKind::General(query),
        };
        Ok(CompiledPath { kind })
    }

    /// Whether the path is `$` alone: it selects the value it starts from, and nothing else.
    pub(crate) fn is_root(&self) -> bool {
        matches!(&self.kind, PathKind::Steps(steps) if steps.is_empty())
    }

    /// What the path reads: the steps of its simple prefix, and whether everything below the
    /// prefix may be read (a filter, a slice or a descendant segment follows).
    pub(crate) fn access(&self) -> (Vec<Access>, bool) {
        match &self.kind {
            PathKind::Steps(steps) => (steps.iter().map(access_of).collect(), false),
            PathKind::General(query) => (
                query
                    .segments
                    .iter()
                    .map_while(lower)
                    .map(|step| access_of(&step))
                    .collect(),
                true,
            ),
        }
    }

    /// Appends to `out` every value this path selects below `base`.
    pub(crate) fn select<'a, O: Extend<Node<'a>>>(
        &self,
        base: Node<'a>,
        routes: &mut Routes<'a>,
        out: &mut O,
    ) {
        match &self.kind {
            PathKind::Steps(steps) => walk(steps, base, routes, out),
            PathKind::General(query) => {
                // jsonpath-rust reads `serde_json::Value`s: the value below `base` is converted
                // for the query, and each value found is the `Doc` at the same place.
                let value = base.value.to_value();
                let Ok(found) = jsonpath_rust::query::js_path_process(query, &value) else {
                    return;
                };
                if found.is_empty() {
                    return;
                }
                let mut places = foldhash::HashMap::default();
                same_places(&value, base.value, &mut places);
                for found in found {
                    let Some(&value) = places.get(&std::ptr::from_ref(found.val)) else {
                        // Every value found is a value of the tree queried.
                        debug_assert!(false, "jsonpath-rust found a value outside the tree");
                        continue;
                    };
                    let suffix = found.path.strip_prefix('$').unwrap_or(&found.path);
                    let route = if suffix.is_empty() {
                        base.route
                    } else {
                        routes.push(base.route, Seg::Raw(suffix.to_owned()))
                    };
                    out.extend(Some(Node {
                        doc: base.doc,
                        value,
                        route,
                    }));
                }
            }
        }
    }
}

/// Every value of `value` (its converted copy, [`Doc::to_value`]) by its address, with the
/// `Doc` at the same place: the two have the same shape, members in the same (key) order.
fn same_places<'a>(
    value: &Value,
    doc: &'a Doc,
    out: &mut foldhash::HashMap<*const Value, &'a Doc>,
) {
    out.insert(std::ptr::from_ref(value), doc);
    match (value, doc) {
        (Value::Array(values), Doc::Array(docs)) => {
            for (value, doc) in values.iter().zip(docs.iter()) {
                same_places(value, doc, out);
            }
        }
        (Value::Object(map), Doc::Object(members)) => {
            for ((_, value), (_, doc)) in map.iter().zip(members.iter()) {
                same_places(value, doc, out);
            }
        }
        _ => {}
    }
}

/// Appends to `out` every value `steps` select below `at`: names and indexes are followed in
/// a loop, and only a wildcard or a union branches (by recursion).
fn walk<'a, O: Extend<Node<'a>>>(
    mut steps: &[Step],
    mut at: Node<'a>,
    routes: &mut Routes<'a>,
    out: &mut O,
) {
    loop {
        let Some((step, rest)) = steps.split_first() else {
            out.extend(Some(at));
            return;
        };
        let (value, segment) = match step {
            Step::Key(key) => {
                let Some((key, value)) = at.value.as_object().and_then(|o| o.get_key_value(key))
                else {
                    return;
                };
                (value, Seg::Key(key))
            }
            Step::Index(index) => {
                let Some(items) = at.value.as_array() else {
                    return;
                };
                let Some(i) = resolve_index(*index, items.len()) else {
                    return;
                };
                (&items[i], Seg::Index(i))
            }
            Step::Union(items) => {
                for item in items {
                    let mut found = Nodes::new();
                    walk(std::slice::from_ref(item), at, routes, &mut found);
                    for node in found {
                        walk(rest, node, routes, out);
                    }
                }
                return;
            }
            Step::Wildcard | Step::Filter(_) => {
                let test = if let Step::Filter(test) = step {
                    Some(&**test)
                } else {
                    None
                };
                let mut child = |value: &'a Doc, segment: Seg<'a>| {
                    if test.is_some_and(|test| !test.holds(value)) {
                        return;
                    }
                    let route = routes.push(at.route, segment);
                    let node = Node {
                        doc: at.doc,
                        value,
                        route,
                    };
                    walk(rest, node, routes, out);
                };
                match at.value {
                    Doc::Array(items) => {
                        for (i, value) in items.iter().enumerate() {
                            child(value, Seg::Index(i));
                        }
                    }
                    Doc::Object(members) => {
                        for (key, value) in members.iter() {
                            child(value, Seg::Key(key));
                        }
                    }
                    _ => {}
                }
                return;
            }
        };
        at = Node {
            doc: at.doc,
            value,
            route: routes.push(at.route, segment),
        };
        steps = rest;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn paths(path: &str, value: &Value) -> Vec<(String, Value)> {
        let compiled = CompiledPath::compile(path).unwrap();
        let value = Doc::from(value.clone());
        let base = Node {
            doc: "d",
            value: &value,
            route: ROOT,
        };
        let mut routes = Routes::default();
        let mut out = Nodes::new();
        compiled.select(base, &mut routes, &mut out);
        out.iter()
            .map(|n| (routes.normalized_path(n.route), n.value.to_value()))
            .collect()
    }

    /// What jsonpath-rust finds for `path` in `doc`: each value's normalized path and value.
    fn jsonpath_rust_paths(path: &str, doc: &Value) -> Vec<(String, Value)> {
        jsonpath_rust::query::js_path(path, doc)
            .unwrap()
            .into_iter()
            .map(|r| (r.path, r.val.clone()))
            .collect()
    }

    #[test]
    fn a_filter_pattern_that_does_not_compile_is_refused_when_the_path_is() {
        for path in [
            "$.a[?match(@.x, 'A[0-9')]",
            "$.a[?search(@.x, '[')]",
            "$.a[?@.y == 1 && !match(@.x, '(')]",
            "$..b[?(search(@.x, 'ok') || match(@.z, '*'))]",
        ] {
            let error = CompiledPath::compile(path)
                .err()
                .unwrap_or_else(|| panic!("{path}"));
            assert!(
                error.message.contains("not a valid regular expression"),
                "{path}: {}",
                error.message
            );
        }
        for path in ["$.a[?match(@.x, 'A[0-9]+')]", "$.a[?search(@.x, '^x|y$')]"] {
            assert!(CompiledPath::compile(path).is_ok(), "{path}");
        }
    }

    #[test]
    fn direct_and_general_paths_agree_with_jsonpath_rust() {
        let doc =
            json!({"accounts": [{"id": "a", "b": {"c": 1}}, {"id": "b", "b": {"c": 2}}], "o'k": 3});
        for path in [
            "$.accounts[*].b.c",
            "$.accounts[-1].id",
            "$.accounts[5].id",
            "$['o\\'k']",
            "$.accounts[?@.id == 'b'].b.c",
            "$..c",
            "$.*",
            "$['accounts','o\\'k']",
            "$.accounts[1,0].id",
            "$.accounts[-2].b.c",
            "$.accounts[*].b",
            "$.accounts[0].b.c.d",
            "$.accounts.id",
            "$.accounts[2]",
            "$.accounts[-3]",
            "$.*[0].id",
            "$.*.*",
            "$['accounts','o\\'k'][*]",
            "$.accounts[?@.id != 'b'].id",
            "$.accounts[?@.b.c == null]",
            "$.accounts[?!(@.id == 'a')].id",
            "$.*[?@.id == 'a' || @.b == true]",
        ] {
            let ours = paths(path, &doc);
            let theirs = jsonpath_rust_paths(path, &doc);
            assert_eq!(ours, theirs, "{path}");
        }
    }

    /// Member names that need escapes, each with its RFC 9535 normalized path (section 2.7):
    /// `'` and `\` escaped, the five controls with a short escape as such, the other controls
    /// as `\u00xx` in lowercase hex, DEL and non-ASCII characters as they are.
    const ESCAPED_NAMES: [(&str, &str); 10] = [
        ("o'k", r"$['o\'k']"),
        ("back\\slash", r"$['back\\slash']"),
        ("line\nfeed", r"$['line\nfeed']"),
        ("tab\tbed", r"$['tab\tbed']"),
        ("\u{8}\u{c}\r", r"$['\b\f\r']"),
        ("one\u{1}", r"$['one\u0001']"),
        ("\u{1f}last", r"$['\u001flast']"),
        ("\u{0}\u{b}\u{e}\u{1a}", r"$['\u0000\u000b\u000e\u001a']"),
        ("déjà \u{7f}🙂", "$['déjà \u{7f}🙂']"),
        ("a'\\\n\t\u{1}\u{1f}é", r"$['a\'\\\n\t\u0001\u001fé']"),
    ];

    #[test]
    fn names_are_escaped_as_rfc_9535_normalized_paths_escape_them() {
        for (name, expected) in ESCAPED_NAMES {
            assert_eq!(normalized_path(&[Seg::Key(name)]), expected, "{name:?}");
            let mut routes = Routes::default();
            let route = routes.push(ROOT, Seg::Key(name));
            assert_eq!(routes.normalized_path(route), expected, "{name:?}");
        }
    }

    /// The paths of members whose names need escapes, walked (by name, by wildcard) or found by
    /// jsonpath-rust (a descendant segment, a filter), are the paths jsonpath-rust gives.
    #[test]
    fn escaped_names_agree_with_jsonpath_rust() {
        let mut members = serde_json::Map::new();
        for (index, (name, _)) in ESCAPED_NAMES.iter().enumerate() {
            members.insert((*name).to_owned(), json!({"n": index}));
        }
        let doc = json!({"top": members});
        let mut queries = vec![
            "$.top.*".to_owned(),
            "$.top.*.n".to_owned(),
            "$..n".to_owned(),
            "$.top[?@.n >= 0]".to_owned(),
        ];
        for (name, _) in ESCAPED_NAMES {
            // The name as a JSON string literal is a valid double-quoted name selector.
            queries.push(format!("$.top[{}].n", serde_json::to_string(name).unwrap()));
        }
        for path in &queries {
            let ours = paths(path, &doc);
            let theirs = jsonpath_rust_paths(path, &doc);
            assert!(!ours.is_empty(), "{path}");
            assert_eq!(ours, theirs, "{path}");
        }
    }

    #[test]
    fn unions_follow_rfc_9535_order() {
        // Per input node, then per selector (jsonpath-rust orders this one differently), after
        // a wildcard or a filter that is walked directly.
        let doc = json!({"accounts": [{"id": "a", "b": 1}, {"id": "b", "b": 2}]});
        for path in [
            "$.accounts[*]['id','b']",
            "$.accounts[?@.id != 'c']['id','b']",
        ] {
            let found: Vec<String> = paths(path, &doc)
                .into_iter()
                .map(|(path, _)| path)
                .collect();
            assert_eq!(
                found,
                [
                    "$['accounts'][0]['id']",
                    "$['accounts'][0]['b']",
                    "$['accounts'][1]['id']",
                    "$['accounts'][1]['b']"
                ],
                "{path}"
            );
        }
    }

    /// A filter that compares with a string, a boolean or `null` is walked directly; one that
    /// compares numbers, tests existence or calls a function is left to jsonpath-rust.
    #[test]
    fn filters_with_literal_scalars_are_walked_directly() {
        for (path, walked) in [
            ("$[?@.institution_id == null]", true),
            (
                "$.webhooks[?@.webhook_type == 'ITEM' && (@.webhook_code == 'ERROR' || @.webhook_code == 'LOGIN_REPAIRED')].webhook_code",
                true,
            ),
            ("$.a[?!(@.b != true)]", true),
            ("$.a[?'x' == @[0]]", true),
            ("$.a[?@.b == 'x', ?@.c == 'y']", true),
            ("$.a[?@.b == 1]", false),
            ("$.a[?@.b]", false),
            ("$.a[?@.b == @.c]", false),
            ("$.a[?@.b == $.c]", false),
            ("$.a[?length(@.b) == 1]", false),
            ("$.a[?@.b > 'x']", false),
        ] {
            let compiled = CompiledPath::compile(path).unwrap();
            assert_eq!(
                matches!(compiled.kind, PathKind::Steps(_)),
                walked,
                "{path}"
            );
            // Only a path jsonpath-rust runs may read everything below its prefix.
            assert_eq!(compiled.access().1, !walked, "{path}");
        }
    }

    /// A small JSON value of the kinds filters compare: the names `a`, `b`, `t`, strings
    /// `x`/`y`, booleans, nulls and numbers, nested two levels.
    fn filter_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            prop_oneof![Just("x"), Just("y"), Just("")].prop_map(|s| json!(s)),
            (-2i64..3).prop_map(|n| json!(n)),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![Just("a"), Just("b"), Just("t")].prop_map(str::to_owned),
                    inner,
                    0..4
                )
                .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    /// A filter test of the kinds walked directly, as JSONPath text.
    fn filter_text() -> impl Strategy<Value = String> {
        let query = prop_oneof![
            Just("@".to_owned()),
            Just("@.a".to_owned()),
            Just("@.t".to_owned()),
            Just("@.a.b".to_owned()),
            Just("@[0]".to_owned()),
            Just("@[-1]".to_owned()),
            Just("@.b[1]".to_owned()),
        ];
        let literal = prop_oneof![
            Just("'x'"),
            Just("'y'"),
            Just("true"),
            Just("false"),
            Just("null")
        ];
        let atom = (
            query,
            prop_oneof![Just("=="), Just("!=")],
            literal,
            any::<bool>(),
        )
            .prop_map(|(query, op, literal, flipped)| {
                if flipped {
                    format!("{literal} {op} {query}")
                } else {
                    format!("{query} {op} {literal}")
                }
            });
        atom.prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} && {b}")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} || {b}")),
                inner.clone().prop_map(|a| format!("({a})")),
                inner.prop_map(|a| format!("!({a})")),
            ]
        })
    }

    proptest! {
        /// A filter walked directly selects what jsonpath-rust selects, with the same paths,
        /// in the same order, wherever it stands in a path.
        #[test]
        fn filters_walked_directly_agree_with_jsonpath_rust(
            doc in filter_value(),
            test in filter_text(),
            shape in 0..4usize,
        ) {
            let path = match shape {
                0 => format!("$[?{test}]"),
                1 => format!("$.*[?{test}]"),
                2 => format!("$[?{test}].a"),
                _ => format!("$[?{test}][*]"),
            };
            let compiled = CompiledPath::compile(&path).unwrap();
            prop_assert!(matches!(compiled.kind, PathKind::Steps(_)), "{}", path);
            prop_assert_eq!(paths(&path, &doc), jsonpath_rust_paths(&path, &doc), "{}", path);
        }
    }

    #[test]
    fn only_a_lone_dollar_is_the_root() {
        assert!(CompiledPath::compile("$").unwrap().is_root());
        for path in ["$.a", "$[0]", "$[*]", "$..a", "$[?@.a == 1]", "$['a','b']"] {
            assert!(!CompiledPath::compile(path).unwrap().is_root(), "{path}");
        }
    }

    #[test]
    fn syntax_errors_have_a_column() {
        let error = CompiledPath::compile("$.accounts[").unwrap_err();
        assert!(error.column.is_some(), "{error:?}");
    }

    /// A syntax error says what was expected in a rule author's words, never by the name of a
    /// rule of the parser's grammar (`atom_expr`, `comparable`, `jp_query`).
    #[test]
    fn syntax_errors_say_what_was_expected_in_words() {
        let cases = [
            ("$.accounts[?@.x ==]", "a value to compare"),
            ("id", "a path that starts with `$`"),
            ("$.a[?]", "a filter expression"),
            (
                "$.a[?foo(@.x)]",
                "unknown function `foo` (the functions are length, count",
            ),
            (
                "$.a[?lenght(@.x) > 1]",
                "unknown function `lenght` (did you mean `length`?)",
            ),
            ("$.a[?@.x === 1]", "a value to compare"),
            ("$.a[0", "the `[` at column 4 is not closed: add its `]`"),
            ("$.accounts[*", "the `[` at column 11 is not closed"),
            ("$.a[?@.b == ']'", "the `[` at column 4 is not closed"),
            ("$.a.[0]", "`*`"),
        ];
        for (path, expected) in cases {
            let error = CompiledPath::compile(path).unwrap_err();
            assert!(error.message.contains(expected), "{path}: {error:?}");
            for internal in [
                "_expr",
                "comparable",
                "jp_query",
                "_selector",
                "segments",
                "ALPHA",
            ] {
                assert!(!error.message.contains(internal), "{path}: {error:?}");
            }
        }
    }

    /// A function called with another number of arguments than it takes is named, with its
    /// arguments, at its name.
    #[test]
    fn a_function_with_the_wrong_number_of_arguments_says_so() {
        for (path, column, message) in [
            (
                "$.a[?match(@.name, 'a', 'b')]",
                6,
                "`match()` takes 2 arguments (a query such as `@.key` and a regular expression in quotes), found 3: flags go inside the pattern, such as `'(?i)plaid'`",
            ),
            (
                "$.a[?length(@.x, 1) > 2]",
                6,
                "`length()` takes 1 argument (a query such as `@.key`), found 2",
            ),
            (
                "$.a[?@.b && count() > 2]",
                13,
                "`count()` takes 1 argument (a query such as `@.key`), found 0",
            ),
        ] {
            let error = CompiledPath::compile(path).err().unwrap();
            assert_eq!(error.column, Some(column), "{path}");
            assert_eq!(error.message, message, "{path}");
        }
        // Commas inside quotes or inside a nested call are not arguments.
        assert_eq!(wrong_arguments("$.a[?match(@.n, 'x(,)')]"), None);
        assert_eq!(wrong_arguments("$.a[?length(value(@.x)) > 1]"), None);
        assert!(CompiledPath::compile("$.a[?search(@.n, 'a,b')]").is_ok());
    }

    /// The grammar's rules that pest reports have words of their own; an unknown one is shown
    /// as its name, quoted.
    #[test]
    fn grammar_words_name_no_grammar_rule() {
        for rule in [
            "jp_query",
            "segments",
            "selector",
            "atom_expr",
            "comparable",
            "comp_op",
            "test",
            "function_expr",
            "member_name_shorthand",
            "name_selector",
            "int",
            "slice_selector",
            "EOI",
        ] {
            let words = grammar_words(rule);
            assert_ne!(words, format!("`{rule}`"));
            assert!(
                !words.contains('_') && !words.contains("EOI"),
                "{rule}: {words}"
            );
        }
        assert_eq!(grammar_words("some_new_rule"), "`some_new_rule`");
    }
}
