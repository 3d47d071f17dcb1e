//! Parsing only what the rules read.
//!
//! A compiled rule set knows every path it can follow into every document. [`Projection`]
//! gathers them into one tree per document; [`Projection::parse_bundle`] then builds
//! documents ([`Doc`]) only along those trees and skips everything else without building it,
//! with the strict scanner of [`crate::scan`] (a skipped part is checked exactly as strictly as
//! a built one). Skipped object members are left out; array elements are always kept (as
//! skeletons if nothing in them is read), so indexes and normalized paths are unchanged.
//!
//! A value that a rule only tests for its type, its presence or a scalar property (`type`,
//! `exists`, `missing`, `regex`, ...) is built as a skeleton; if it is an object or an array,
//! its text is kept beside the bundle ([`RawPart`]) so that evidence, the only place its
//! content shows, is read from it when a finding is output, built only as far as it is shown.
//!
//! [`Bundle::from_json`] is the same parse keeping everything: a bundle is accepted or refused
//! by one code path whatever the rules read. Evaluating a projected bundle gives exactly the
//! diagnosis the full bundle gives: property tests and a differential fuzz target check it.

use std::borrow::Cow;
use std::collections::BTreeMap;

use foldhash::HashMap;

use serde_json::Value;

use crate::arena::{Arena, Str};
use crate::bundle::{Bundle, Parts};
use crate::compiled::{Check, Cond, CondKind, JoinTest, Op, Ref, RuleSet, Scope};
use crate::doc::Doc;
use crate::error::BundleError;
use crate::path::{Access, Node, Seg, normalized_path};
use crate::scan::{Scan, ScanError, Scanner, Stacks};

/// What of each document the rules of one [`RuleSet`] can read.
#[derive(Debug, Clone, Default)]
pub struct Projection {
    documents: HashMap<String, Keep>,
}

/// What to keep of a value.
#[derive(Debug, Clone, PartialEq)]
enum Keep {
    /// The whole value.
    All,
    /// Only these members (objects), and for every other member and every element `any`.
    /// With nothing listed the value is kept as a skeleton: scalars whole, objects empty,
    /// arrays with every element as a skeleton. With `raw`, an object or array also keeps its
    /// text, for evidence.
    Some {
        members: Members,
        any: Option<Box<Keep>>,
        raw: bool,
        /// With `raw`: the normalized path of this value when it is reached from the
        /// document by member names alone (its own member list's names, never `any`), worked
        /// out once here instead of for every bundle ([`Keep::name_paths`]).
        path: Option<Box<str>>,
        /// Whether this value or a value below it has `raw`: only then does the parse keep
        /// the route to it, which a kept text's path may be made from ([`Keep::routes`]).
        routed: bool,
    },
}

/// The members of a tree by name: a list ordered by the names' lengths, with a mask of those
/// lengths, so that most keys of the input, which are not among them, are passed over with
/// one bit test, and the others are compared only with the names of their length.
#[derive(Debug, Clone, PartialEq)]
struct Members {
    list: Vec<(String, Keep)>,
    /// Bit `n` is set when a name is `n` bytes long (bit 63: 63 bytes or more).
    lengths: u64,
    /// Where in `list` the names of each length (as `length_bit` counts them) begin; `None`
    /// while there is no name (kept apart, so that a tree stays small).
    starts: Option<Box<[usize; 64]>>,
}

impl Members {
    const fn new() -> Members {
        Members {
            list: Vec::new(),
            lengths: 0,
            starts: None,
        }
    }

    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The tree of member `key`, added as a skeleton if it is not there.
    fn entry(&mut self, key: &str) -> &mut Keep {
        let at = match self.list.iter().position(|(name, _)| name == key) {
            Some(at) => at,
            None => {
                // After the names as long or shorter, so that each length's names stay
                // together and `starts` stays true.
                let class = length_class(key);
                let at = self
                    .list
                    .partition_point(|(name, _)| length_class(name) <= class);
                self.list.insert(at, (key.to_owned(), Keep::skeleton()));
                self.lengths |= length_bit(key);
                let starts = self.starts.get_or_insert_with(|| Box::new([0; 64]));
                for start in &mut starts[class + 1..] {
                    *start += 1;
                }
                at
            }
        };
        &mut self.list[at].1
    }

    /// The tree of member `key`, if it has one.
    #[inline]
    fn get(&self, key: &str) -> Option<&Keep> {
        if self.lengths & length_bit(key) == 0 {
            return None;
        }
        let class = length_class(key);
        self.list
            .get(self.starts.as_deref()?[class]..)?
            .iter()
            .take_while(|(name, _)| length_class(name) == class)
            .find(|(name, _)| crate::short::same(name.as_bytes(), key.as_bytes()))
            .map(|(_, keep)| keep)
    }
}

/// A name's length as `Members` groups names: its length in bytes, 63 for 63 or more.
#[inline]
fn length_class(key: &str) -> usize {
    key.len().min(63)
}

#[inline]
fn length_bit(key: &str) -> u64 {
    1 << length_class(key)
}

/// What a reference needs of the values at its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// A skeleton (the kind, and scalars whole).
    Skeleton,
    /// A skeleton, and the whole value if it is shown as evidence.
    Shown,
    /// The whole value.
    All,
}

impl Keep {
    fn skeleton() -> Keep {
        Keep::Some {
            members: Members::new(),
            any: None,
            raw: false,
            path: None,
            routed: false,
        }
    }

    /// Adds a path to the tree, keeping at its end what `need` says.
    fn insert(&mut self, steps: &[Access], need: Need) {
        let Keep::Some {
            members, any, raw, ..
        } = self
        else {
            return;
        };
        let Some((step, rest)) = steps.split_first() else {
            match need {
                Need::All => *self = Keep::All,
                Need::Shown => *raw = true,
                Need::Skeleton => {}
            }
            return;
        };
        let everything = need;
        match step {
            Access::Keys(keys) => {
                for key in keys {
                    members.entry(key).insert(rest, everything);
                }
            }
            Access::AnyChild { tests } => {
                let child = any.get_or_insert_with(|| Box::new(Keep::skeleton()));
                for test in tests {
                    child.insert(test, Need::Skeleton);
                }
                child.insert(rest, everything);
            }
        }
    }

    /// Adds everything `other` keeps.
    fn merge(&mut self, other: &Keep) {
        match (&mut *self, other) {
            (Keep::All, _) => {}
            (this, Keep::All) => *this = Keep::All,
            (
                Keep::Some {
                    members, any, raw, ..
                },
                Keep::Some {
                    members: more,
                    any: more_any,
                    raw: more_raw,
                    ..
                },
            ) => {
                *raw |= *more_raw;
                for (key, keep) in &more.list {
                    members.entry(key).merge(keep);
                }
                if let Some(more_any) = more_any {
                    any.get_or_insert_with(|| Box::new(Keep::skeleton()))
                        .merge(more_any);
                }
            }
        }
    }

    /// Sets `path` on every node with `raw` that member names alone lead to from the document,
    /// `names` being the names leading here.
    fn name_paths(&mut self, names: &mut Vec<String>) {
        if let Keep::Some {
            members, raw, path, ..
        } = self
        {
            if *raw {
                let segments: Vec<Seg<'_>> = names.iter().map(|name| Seg::Key(name)).collect();
                *path = Some(normalized_path(&segments).into());
            }
            for (name, keep) in &mut members.list {
                names.push(name.clone());
                keep.name_paths(names);
                names.pop();
            }
        }
    }

    /// Sets `routed` on every node with `raw` at or below it; returns whether `self` has it.
    fn routes(&mut self) -> bool {
        match self {
            Keep::All => false,
            Keep::Some {
                members,
                any,
                raw,
                routed,
                ..
            } => {
                let mut below = *raw;
                if let Some(any) = any.as_deref_mut() {
                    below |= any.routes();
                }
                for (_, keep) in &mut members.list {
                    below |= keep.routes();
                }
                *routed = below;
                below
            }
        }
    }

    /// Whether parsing keeps the route to this value (see `routed`).
    #[inline]
    fn routed(&self) -> bool {
        matches!(self, Keep::Some { routed: true, .. })
    }

    /// Folds `any` into every named member, so that parsing looks one place up per member.
    fn settle(&mut self) {
        if let Keep::Some { members, any, .. } = self {
            if let Some(any) = any.as_deref_mut() {
                any.settle();
            }
            for (_, keep) in &mut members.list {
                if let Some(any) = any.as_deref() {
                    keep.merge(any);
                }
                keep.settle();
            }
        }
    }
}

/// A path into a scope, before sources and join bindings are resolved.
struct Reader<'s> {
    set: &'s RuleSet,
    documents: HashMap<String, Keep>,
    /// What the rules read of the bundle's `context`, which is never projected (it is small
    /// and parsed whole): only to tell which of its keys no rule reads.
    context: Keep,
    /// Only `context` is wanted: the documents' trees are not built.
    context_only: bool,
}

impl Reader<'_> {
    /// Records that `reference` is read, followed by `then`, keeping at the end what `need`
    /// says.
    fn read(
        &mut self,
        reference: &Ref,
        then: &[Access],
        need: Need,
        join: Option<(&Ref, &Ref)>,
        depth: usize,
    ) {
        if depth > 64 {
            return;
        }
        let (mut steps, all_below) = reference.path.access();
        let everything = if all_below { Need::All } else { need };
        if !all_below {
            steps.extend_from_slice(then);
        }
        match &reference.scope {
            Scope::Document(_) if self.context_only => {}
            Scope::Document(name) => self
                .documents
                .entry(name.clone())
                .or_insert_with(Keep::skeleton)
                .insert(&steps, everything),
            Scope::Context => self.context.insert(&steps, everything),
            Scope::Source(id) => {
                for candidate in &self.set.sources[*id].candidates {
                    self.read(candidate, &steps, everything, join, depth + 1);
                }
            }
            Scope::Left => {
                if let Some((left, _)) = join {
                    self.read(left, &steps, everything, None, depth + 1);
                }
            }
            Scope::Right => {
                if let Some((_, right)) = join {
                    self.read(right, &steps, everything, None, depth + 1);
                }
            }
        }
    }

    fn condition(&mut self, cond: &Cond, join: Option<(&Ref, &Ref)>) {
        match &cond.kind {
            CondKind::All(items) | CondKind::Any(items) => {
                for item in items {
                    self.condition(item, join);
                }
            }
            CondKind::Not(inner) => self.condition(inner, join),
            CondKind::Named(id) => {
                let set = self.set;
                self.condition(&set.conditions[*id], join);
            }
            CondKind::Fired(_) => {}
            CondKind::Test(test) => {
                let need = if test.capture.is_some() || !shape_is_enough(&test.check) {
                    Need::All
                } else {
                    Need::Shown
                };
                self.read(&test.target, &[], need, join, 0)
            }
            CondKind::Compare(compare) => {
                self.read(&compare.left, &[], Need::All, join, 0);
                self.read(&compare.right, &[], Need::All, join, 0);
            }
            CondKind::Join(inner) => {
                // A general `on` path reads everything below its simple prefix.
                let (on, _) = inner.on.access();
                for side in [&inner.left, &inner.right] {
                    // The elements themselves, as skeletons, and their keys.
                    self.read(side, &[], Need::Skeleton, join, 0);
                    self.read(side, &on, Need::All, join, 0);
                }
                if let JoinTest::Pairs(where_) = &inner.test {
                    self.condition(where_, Some((&inner.left, &inner.right)));
                }
            }
        }
    }
}

impl RuleSet {
    /// What of each document the rules can read, for [`Projection::parse_bundle`].
    pub fn projection(&self) -> Projection {
        let mut documents = self.reader(false).documents;
        for keep in documents.values_mut() {
            keep.settle();
            keep.name_paths(&mut Vec::new());
            keep.routes();
        }
        Projection { documents }
    }

    /// The keys of the bundle's `context` that a reference can read, in name order; `None`
    /// when a reference can read any key (`context:$[*]`, `context:$..key`, or the whole
    /// context as a value).
    pub(crate) fn context_keys(&self) -> Option<Box<[String]>> {
        match self.reader(true).context {
            Keep::All | Keep::Some { any: Some(_), .. } => None,
            Keep::Some { members, .. } => {
                let mut keys: Vec<String> = members.list.into_iter().map(|(key, _)| key).collect();
                keys.sort_unstable();
                Some(keys.into())
            }
        }
    }

    /// Every reference of the enabled rules and of the labels, walked once (with `context_only`,
    /// only the bundle's `context` is recorded, as every loaded rule reads it, enabled or not).
    fn reader(&self, context_only: bool) -> Reader<'_> {
        let mut reader = Reader {
            set: self,
            documents: HashMap::default(),
            context: Keep::skeleton(),
            context_only,
        };
        // A disabled rule is never evaluated, so nothing only it reads is built; but the keys
        // of `context` it reads are read, as the documents it names are (`unread_documents`
        // lists the names no loaded rule reads, disabled or not).
        for rule in self
            .rules
            .iter()
            .filter(|rule| context_only || rule.enabled)
        {
            for requirement in &rule.requires {
                match &requirement.scope {
                    Scope::Document(name) => {
                        reader
                            .documents
                            .entry(name.clone())
                            .or_insert_with(Keep::skeleton);
                    }
                    Scope::Source(id) => {
                        for candidate in &self.sources[*id].candidates {
                            reader.read(candidate, &[], Need::Skeleton, None, 0);
                        }
                    }
                    _ => {}
                }
            }
            for (_, reference) in &rule.values {
                reader.read(reference, &[], Need::All, None, 0);
            }
            reader.condition(&rule.when, None);
        }
        for (_, reference) in &self.labels {
            reader.read(reference, &[], Need::All, None, 0);
        }
        reader
    }
}

/// Whether a test's check decides the same on a skeleton as on the whole value: type,
/// presence, numbers, regexes and times read only scalars or the kind; equality and
/// containment against scalars never hold for an object or an array, whatever it holds.
fn shape_is_enough(check: &Check) -> bool {
    let scalar = |value: &Value| !value.is_object() && !value.is_array();
    match check {
        Check::Exists(_) => true,
        Check::Values(ops, _) => ops.iter().all(|op| match op {
            Op::Equals(value) | Op::Contains(value) => scalar(value),
            Op::OneOf(list) | Op::NoneOf(list) | Op::ContainsAny(list) | Op::ContainsNone(list) => {
                list.iter().all(scalar)
            }
            Op::Number(..)
            | Op::Regex(_)
            | Op::OlderThan(_)
            | Op::NewerThan(_)
            | Op::WithinAfter(_)
            | Op::LaterThan(_)
            | Op::Type(_)
            | Op::Timestamp(_) => true,
        }),
    }
}

/// The text of an object or array that was built as a skeleton, for evidence.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawPart {
    pub(crate) document: Str,
    /// Its normalized path, such as `$['accounts']`.
    pub(crate) path: Str,
    pub(crate) json: Str,
}

/// The kept text of `node` when the projected parse built it as a skeleton (already checked
/// when the bundle was parsed), for [`crate::eval`] to show; `None` when `node.value` is whole.
pub(crate) fn kept_text<'r>(raw: &'r [RawPart], node: &Node<'_>, path: &str) -> Option<&'r str> {
    if raw.is_empty() || !(node.value.is_object() || node.value.is_array()) {
        return None;
    }
    // The last part kept for the path: with a key given twice (a document name or a member),
    // the last value is the one that counts, as in the full parse; the earlier one's text
    // was kept too, in parse order.
    raw.iter()
        .rfind(|part| &*part.document == node.doc && &*part.path == path)
        .map(|part| &*part.json)
}

impl Projection {
    /// Parses a bundle's single-file JSON form, building only what the rules read. Accepts
    /// and refuses exactly what [`Bundle::from_json`] does, with the same messages.
    pub fn parse_bundle(&self, text: &str) -> Result<Bundle, BundleError> {
        parse(text, Some(self))
    }
}

/// Parses a bundle, keeping what `projection` reads (everything without one).
pub(crate) fn parse(text: &str, projection: Option<&Projection>) -> Result<Bundle, BundleError> {
    let (parts, raw, arena) = Stacks::reused(|stacks| {
        // Every key, string and list kept goes into the arena, which the bundle owns with the
        // documents that point into it (`crate::arena`). Keys and strings are no longer than
        // their JSON, and parts of the text that do not overlap: the text's length holds them
        // all. A projected parse also keeps texts of skeletons (parts of the text too), their
        // paths and document names, which as much again holds but for texts kept inside one
        // another. Lists take 32 bytes an element and 48 a member: more than the text of
        // compact JSON built whole. Four times the text is one block for every bundle
        // measured: the default pack's parse filled 2.6 times the text on average and 3.1
        // at most on 50,000 `../shared/bench` bundles (1.8 and 3.2 on 2,000 `generate` ones,
        // `r1-r8.yaml`'s 0.9 and 1.1); the arena grows by further blocks when it is not.
        stacks.arena = Arena::with_capacity(4 * text.len());
        let mut parser = Parser {
            scan: Scanner::new(text),
            // Room for the usual depth and number of kept texts (the pack keeps about ten
            // texts a shared-bench bundle), so that neither grows by copies.
            route: Vec::with_capacity(8),
            raw: Vec::with_capacity(if projection.is_some() { 16 } else { 0 }),
            stacks,
        };
        let parts = parser.bundle(projection);
        let raw = parser.raw;
        (parts, raw, std::mem::take(&mut stacks.arena))
    });
    match parts {
        Ok(parts) => {
            let mut bundle = Bundle::from_parts(parts)?;
            bundle.raw = raw;
            bundle.arena = arena;
            Ok(bundle)
        }
        Err(error) => Err(crate::bundle::explain_rejection(text, &error)),
    }
}

static SKELETON: Keep = Keep::Some {
    members: Members::new(),
    any: None,
    raw: false,
    path: None,
    routed: false,
};

/// One step of the route to the value being built.
enum Step<'t> {
    Key(Cow<'t, str>),
    Index(usize),
}

struct Parser<'t, 's> {
    scan: Scanner<'t>,
    route: Vec<Step<'t>>,
    raw: Vec<RawPart>,
    /// Members and elements of the objects and arrays being built.
    stacks: &'s mut Stacks,
}

impl<'t> Parser<'t, '_> {
    fn bundle(&mut self, projection: Option<&Projection>) -> Scan<Parts> {
        let mut spec = Parts::default();
        if self.scan.peek() != Some(b'{') {
            return self.scan.fail("a bundle is a JSON object");
        }
        self.scan.enter()?;
        let mut seen = [false; 5];
        if self.scan.first_member()? {
            loop {
                let key = self.scan.key()?;
                let slot = match key.as_ref() {
                    "as_of" => 0,
                    "description" => 1,
                    "context" => 2,
                    "documents" => 3,
                    "id" => 4,
                    _ => return self.scan.fail("unknown key"),
                };
                if std::mem::replace(&mut seen[slot], true) {
                    return self.scan.fail("duplicate key");
                }
                match slot {
                    0 => spec.as_of = self.optional_string()?,
                    // Checked, not kept.
                    1 => {
                        self.optional_string()?;
                    }
                    2 => {
                        spec.context = match self.scan.peek() {
                            Some(b'n') => self.null_or_fail()?,
                            Some(b'{') => Some(self.scan.doc_in(self.stacks)?),
                            _ => return self.scan.fail("`context` must be an object"),
                        }
                    }
                    4 => {
                        // Checked (a string or a number) by `Bundle::from_spec`.
                        spec.id = match self.scan.doc_in(self.stacks).map(Value::from)? {
                            Value::Null => None,
                            id => Some(id),
                        }
                    }
                    _ => spec.documents = self.documents(projection)?,
                }
                if !self.scan.next_member()? {
                    break;
                }
            }
        }
        if !self.scan.at_end() {
            return self.scan.fail("trailing characters");
        }
        if !seen[3] {
            return self.scan.fail(crate::bundle::MISSING_DOCUMENTS);
        }
        Ok(spec)
    }

    fn null_or_fail<T>(&mut self) -> Scan<Option<T>> {
        match self.scan.scalar()? {
            Value::Null => Ok(None),
            _ => self.scan.fail("expected null"),
        }
    }

    fn optional_string(&mut self) -> Scan<Option<String>> {
        match self.scan.peek() {
            Some(b'"') | Some(b'n') => match self.scan.scalar()? {
                Value::String(text) => Ok(Some(text)),
                _ => Ok(None),
            },
            _ => self.scan.fail("expected a string or null"),
        }
    }

    fn documents(&mut self, projection: Option<&Projection>) -> Scan<BTreeMap<String, Doc>> {
        let mut documents = BTreeMap::new();
        if self.scan.peek() != Some(b'{') {
            return self.scan.fail("`documents` must be an object");
        }
        self.scan.enter()?;
        if self.scan.first_member()? {
            loop {
                let name = self.scan.key()?;
                let value = match projection {
                    None => self.scan.doc_in(self.stacks)?,
                    Some(projection) => match projection.documents.get(name.as_ref()) {
                        Some(keep) => self.build(keep, &name, true)?,
                        // No rule reads it: only its presence matters.
                        None => {
                            self.scan.skip()?;
                            Doc::Null
                        }
                    },
                };
                documents.insert(name.into_owned(), value);
                if !self.scan.next_member()? {
                    break;
                }
            }
        }
        Ok(documents)
    }

    /// Builds what `keep` says of the value at the cursor, in `document`; `named` when member
    /// names of the trees alone led here from the document (so `keep`'s `path` is this
    /// value's).
    #[inline(never)]
    fn build(&mut self, keep: &Keep, document: &str, named: bool) -> Scan<Doc> {
        let Keep::Some {
            members,
            any,
            raw,
            path,
            ..
        } = keep
        else {
            return self.scan.doc_in(self.stacks);
        };
        let start = self.scan.at;
        let value = match self.scan.peek() {
            Some(b'{') => {
                self.scan.enter()?;
                let start = self.stacks.members_start();
                if self.scan.first_member()? {
                    let skeleton = members.is_empty() && any.is_none();
                    loop {
                        if skeleton {
                            self.scan.skip_key()?;
                            self.scan.skip_value()?;
                        } else {
                            let key = self.scan.key()?;
                            let (keep, named) = match members.get(&key) {
                                Some(keep) => (Some(keep), named),
                                None => (any.as_deref(), false),
                            };
                            match keep {
                                // The route is kept only where a kept text may need it.
                                Some(keep) if keep.routed() => {
                                    self.build_routed_member(key, keep, document, named)?
                                }
                                Some(keep) => {
                                    let value = self.build(keep, document, named)?;
                                    let key = self.stacks.arena.push(&key);
                                    self.stacks.push_member(key, value);
                                }
                                None => self.scan.skip_value()?,
                            }
                        }
                        if !self.scan.next_member()? {
                            break;
                        }
                    }
                }
                self.stacks.object(start)
            }
            Some(b'[') => {
                self.scan.enter()?;
                let element = any.as_deref().unwrap_or(&SKELETON);
                let routed = element.routed();
                let start = self.stacks.items_start();
                if self.scan.first_element()? {
                    loop {
                        let value = if routed {
                            let index = self.stacks.items_start() - start;
                            self.build_routed_element(index, element, document)?
                        } else {
                            self.build(element, document, false)?
                        };
                        self.stacks.push_item(value);
                        if !self.scan.next_element()? {
                            break;
                        }
                    }
                }
                self.stacks.array(start)
            }
            _ => return self.scan.doc_scalar(&mut self.stacks.arena),
        };
        if *raw {
            self.keep_text(start, path.as_deref().filter(|_| named), document);
        }
        Ok(value)
    }

    /// Builds member `key` (as [`Parser::build`]) with `key` on the route, and pushes it.
    #[inline(never)]
    fn build_routed_member(
        &mut self,
        key: Cow<'t, str>,
        keep: &Keep,
        document: &str,
        named: bool,
    ) -> Scan<()> {
        self.route.push(Step::Key(key.clone()));
        let value = self.build(keep, document, named);
        self.route.pop();
        let key = self.stacks.arena.push(&key);
        self.stacks.push_member(key, value?);
        Ok(())
    }

    /// Builds element `index` (as [`Parser::build`]) with `index` on the route.
    #[inline(never)]
    fn build_routed_element(&mut self, index: usize, keep: &Keep, document: &str) -> Scan<Doc> {
        self.route.push(Step::Index(index));
        let value = self.build(keep, document, false);
        self.route.pop();
        value
    }

    /// Keeps the text from `start` to the cursor, of a value built as a skeleton, for
    /// evidence: at `path`, or at the route when it has none.
    #[inline(never)]
    fn keep_text(&mut self, start: usize, path: Option<&str>, document: &str) {
        let json = self
            .stacks
            .arena
            .push(self.scan.text[start..self.scan.at].trim_start());
        let path = match path {
            Some(path) => self.stacks.arena.push(path),
            _ => {
                let segments: smallvec::SmallVec<[Seg<'_>; 8]> = self
                    .route
                    .iter()
                    .map(|step| match step {
                        Step::Key(key) => Seg::Key(key),
                        Step::Index(index) => Seg::Index(*index),
                    })
                    .collect();
                self.stacks.arena.push(&normalized_path(&segments))
            }
        };
        self.raw.push(RawPart {
            document: self.stacks.arena.push(document),
            path,
            json,
        });
    }
}

impl From<ScanError> for BundleError {
    fn from(error: ScanError) -> BundleError {
        BundleError::new(
            "",
            format!(
                "not a valid bundle: {} (byte {})",
                error.message,
                error.at + 1
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{Keep, Members};

    proptest! {
        /// Whatever the order names are added in, and however many share a length (long names
        /// share one group), a lookup finds exactly the names added, each with its own tree.
        #[test]
        fn lookups_find_exactly_the_names_added(
            names in proptest::collection::vec("[ab]{0,4}|[ab]{61,66}", 0..24),
            probes in proptest::collection::vec("[ab]{0,4}|[ab]{61,66}", 0..24),
        ) {
            let mut members = Members::new();
            for (index, name) in names.iter().enumerate() {
                if let Keep::Some { raw, .. } = members.entry(name) {
                    // Marks the first name added: the only tree whose `raw` is set.
                    *raw |= index == 0;
                }
            }
            for probe in names.iter().chain(&probes) {
                let found = members.get(probe);
                prop_assert_eq!(found.is_some(), names.contains(probe), "{}", probe);
                if let Some(Keep::Some { raw, .. }) = found {
                    prop_assert_eq!(*raw, *probe == names[0]);
                }
            }
        }
    }
}
