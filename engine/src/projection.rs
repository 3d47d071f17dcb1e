//! Parsing only what the rules read.
//!
//! A compiled rule set knows every path it can follow into every document. [`Projection`]
//! gathers them into one tree per document; [`Projection::parse_bundle`] then builds
//! `serde_json::Value`s only along those trees and skips everything else without
//! allocating (serde's `IgnoredAny` still checks the JSON is well formed). Skipped object
//! members are left out; array elements are always kept (as skeletons if nothing in them is
//! read), so indexes and normalized paths are unchanged. Evaluating a projected bundle gives
//! exactly the diagnosis the full bundle gives: a property test checks it.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::bundle::{Bundle, BundleSpec};
use crate::compiled::{Cond, CondKind, Ref, RuleSet, Scope};
use crate::error::BundleError;
use crate::path::Access;

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
    /// arrays with every element as a skeleton.
    Some {
        members: BTreeMap<String, Keep>,
        any: Option<Box<Keep>>,
    },
}

impl Keep {
    fn skeleton() -> Keep {
        Keep::Some {
            members: BTreeMap::new(),
            any: None,
        }
    }

    /// Adds a path to the tree; `everything` keeps all of the value at its end.
    fn insert(&mut self, steps: &[Access], everything: bool) {
        let Keep::Some { members, any } = self else {
            return;
        };
        let Some((step, rest)) = steps.split_first() else {
            if everything {
                *self = Keep::All;
            }
            return;
        };
        match step {
            Access::Keys(keys) => {
                for key in keys {
                    members
                        .entry(key.clone())
                        .or_insert_with(Keep::skeleton)
                        .insert(rest, everything);
                }
            }
            Access::AnyChild => any
                .get_or_insert_with(|| Box::new(Keep::skeleton()))
                .insert(rest, everything),
        }
    }

    /// Adds everything `other` keeps.
    fn merge(&mut self, other: &Keep) {
        match (&mut *self, other) {
            (Keep::All, _) => {}
            (this, Keep::All) => *this = Keep::All,
            (
                Keep::Some { members, any },
                Keep::Some {
                    members: more,
                    any: more_any,
                },
            ) => {
                for (key, keep) in more {
                    members
                        .entry(key.clone())
                        .or_insert_with(Keep::skeleton)
                        .merge(keep);
                }
                if let Some(more_any) = more_any {
                    any.get_or_insert_with(|| Box::new(Keep::skeleton()))
                        .merge(more_any);
                }
            }
        }
    }

    /// Folds `any` into every named member, so that parsing looks one place up per member.
    fn settle(&mut self) {
        if let Keep::Some { members, any } = self {
            if let Some(any) = any.as_deref_mut() {
                any.settle();
            }
            for keep in members.values_mut() {
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
}

impl Reader<'_> {
    /// Records that `reference` is read, followed by `then`, keeping everything at the end
    /// when `everything`.
    fn read(
        &mut self,
        reference: &Ref,
        then: &[Access],
        everything: bool,
        join: Option<(&Ref, &Ref)>,
        depth: usize,
    ) {
        if depth > 64 {
            return;
        }
        let (mut steps, all_below) = reference.path.access();
        let everything = all_below || everything;
        if !all_below {
            steps.extend_from_slice(then);
        }
        match &reference.scope {
            Scope::Document(name) => self
                .documents
                .entry(name.clone())
                .or_insert_with(Keep::skeleton)
                .insert(&steps, everything),
            Scope::Context => {}
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
            CondKind::Test(test) => self.read(&test.target, &[], true, join, 0),
            CondKind::Compare(compare) => {
                self.read(&compare.left, &[], true, join, 0);
                self.read(&compare.right, &[], true, join, 0);
            }
            CondKind::Join(inner) => {
                let (on, _) = inner.on.access();
                for side in [&inner.left, &inner.right] {
                    // The elements themselves, as skeletons, and their keys.
                    self.read(side, &[], false, join, 0);
                    self.read(side, &on, true, join, 0);
                }
                self.condition(&inner.where_, Some((&inner.left, &inner.right)));
            }
        }
    }
}

impl RuleSet {
    /// What of each document the rules can read, for [`Projection::parse_bundle`].
    pub fn projection(&self) -> Projection {
        let mut reader = Reader {
            set: self,
            documents: HashMap::new(),
        };
        for rule in &self.rules {
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
                            reader.read(candidate, &[], false, None, 0);
                        }
                    }
                    _ => {}
                }
            }
            for (_, reference) in &rule.values {
                reader.read(reference, &[], true, None, 0);
            }
            reader.condition(&rule.when, None);
        }
        for (_, reference) in &self.labels {
            reader.read(reference, &[], true, None, 0);
        }
        let mut documents = reader.documents;
        for keep in documents.values_mut() {
            keep.settle();
        }
        Projection { documents }
    }
}

impl Projection {
    /// Parses a bundle's single-file JSON form, building only what the rules read. Errors
    /// say less than [`Bundle::from_json`]'s: on an error, parse again with it for the message.
    pub fn parse_bundle(&self, text: &str) -> Result<Bundle, BundleError> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let spec = BundleSeed(self)
            .deserialize(&mut deserializer)
            .and_then(|spec| deserializer.end().map(|()| spec))
            .map_err(|error| BundleError::new("", format!("not a valid bundle: {error}")))?;
        Bundle::from_spec(spec)
    }
}

struct BundleSeed<'p>(&'p Projection);

impl<'de> DeserializeSeed<'de> for BundleSeed<'_> {
    type Value = BundleSpec;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<BundleSpec, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BundleSeed<'_> {
    type Value = BundleSpec;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a bundle object with `documents`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<BundleSpec, A::Error> {
        let mut spec = BundleSpec::default();
        let mut seen = [false; 4];
        while let Some(key) = map.next_key::<String>()? {
            let slot = match key.as_str() {
                "as_of" => 0,
                "description" => 1,
                "context" => 2,
                "documents" => 3,
                other => {
                    return Err(de::Error::unknown_field(
                        other,
                        &["as_of", "description", "context", "documents"],
                    ));
                }
            };
            if std::mem::replace(&mut seen[slot], true) {
                return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
            }
            match slot {
                0 => spec.as_of = map.next_value()?,
                1 => spec.description = map.next_value()?,
                2 => spec.context = map.next_value()?,
                _ => spec.documents = map.next_value_seed(DocumentsSeed(self.0))?,
            }
        }
        Ok(spec)
    }
}

struct DocumentsSeed<'p>(&'p Projection);

impl<'de> DeserializeSeed<'de> for DocumentsSeed<'_> {
    type Value = BTreeMap<String, Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocumentsSeed<'_> {
    type Value = BTreeMap<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of document names to response bodies")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut documents = BTreeMap::new();
        while let Some(name) = map.next_key::<String>()? {
            let value = match self.0.documents.get(&name) {
                Some(keep) => map.next_value_seed(ValueSeed(keep))?,
                // No rule reads it: only its presence matters.
                None => {
                    map.next_value::<IgnoredAny>()?;
                    Value::Null
                }
            };
            documents.insert(name, value);
        }
        Ok(documents)
    }
}

/// An object key, borrowed from the input when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(value))
    }
}

static SKELETON: Keep = Keep::Some {
    members: BTreeMap::new(),
    any: None,
};

struct ValueSeed<'k>(&'k Keep);

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        match self.0 {
            Keep::All => serde::Deserialize::deserialize(deserializer),
            Keep::Some { members, any } => deserializer.deserialize_any(ValueVisitor {
                members,
                any: any.as_deref(),
            }),
        }
    }
}

/// Builds a value keeping `members` (and, for other members and elements, `any`).
struct ValueVisitor<'k> {
    members: &'k BTreeMap<String, Keep>,
    any: Option<&'k Keep>,
}

impl<'de> Visitor<'de> for ValueVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let element = self.any.unwrap_or(&SKELETON);
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(ValueSeed(element))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        // Keys are borrowed from the input where they can be: skipped members cost nothing.
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match self.members.get(key.as_ref()).or(self.any) {
                Some(keep) => {
                    let value = map.next_value_seed(ValueSeed(keep))?;
                    out.insert(key.into_owned(), value);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }
}
