//! Where each field of a YAML text starts, by field path (`rules[3].when.all[1].path`).
//!
//! serde gives the YAML's values but not their positions, so compile errors found after
//! deserialization look their line and column up here. The index is a tree with one entry per
//! node, named by its own segment (`.when`, `[1]`), so that it stays linear in the text
//! however deep the nesting: a field path is only put together when it is looked up.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};

/// A 1-based line and column in a rules file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// A node of the index: where its value starts and, for a map member, where its key starts.
#[derive(Debug, Default, Clone, Copy)]
struct Entry {
    value: Option<Location>,
    key: Option<Location>,
}

/// Node id; `0` is the document itself.
type NodeId = u32;

/// Field path -> position of the value at that path, and of the key that names it.
#[derive(Debug, Default)]
pub(crate) struct Positions {
    /// (parent, segment) -> child, where the segment is `.name` (`name` at the top), `[3]`.
    children: HashMap<(NodeId, Box<str>), NodeId>,
    entries: Vec<Entry>,
}

impl Positions {
    /// Position of the value at `path`, else of the nearest enclosing field that has one.
    pub(crate) fn find(&self, path: &str) -> Option<Location> {
        let (trail, _) = self.walk(path);
        trail
            .iter()
            .rev()
            .find_map(|id| self.entries[*id as usize].value)
    }

    /// Position of the key that names the field at `path` (for "unknown field" errors).
    pub(crate) fn find_key(&self, path: &str) -> Option<Location> {
        let (trail, whole) = self.walk(path);
        let exact = trail.last().filter(|_| whole);
        exact
            .and_then(|id| self.entries[*id as usize].key)
            .or_else(|| self.find(path))
    }

    /// The nodes along `path` from the document, and whether all of `path` was found.
    fn walk(&self, path: &str) -> (Vec<NodeId>, bool) {
        let mut trail = Vec::new();
        if self.entries.is_empty() {
            return (trail, false);
        }
        trail.push(0);
        let mut at: NodeId = 0;
        let mut rest = path;
        while !rest.is_empty() {
            // The next segment ends at a `.` or `[` (a key may hold either: try each end).
            let ends = rest
                .char_indices()
                .skip(1)
                .filter(|(_, c)| *c == '.' || *c == '[')
                .map(|(index, _)| index)
                .chain([rest.len()]);
            let next = ends.into_iter().find_map(|end| {
                let child = self.children.get(&(at, Box::from(&rest[..end])))?;
                Some((*child, end))
            });
            let Some((child, end)) = next else {
                return (trail, false);
            };
            trail.push(child);
            at = child;
            rest = &rest[end..];
        }
        (trail, true)
    }

    fn child(&mut self, parent: NodeId, segment: String) -> NodeId {
        let next = NodeId::try_from(self.entries.len()).unwrap_or(NodeId::MAX);
        let id = *self
            .children
            .entry((parent, segment.into_boxed_str()))
            .or_insert(next);
        if id == next {
            self.entries.push(Entry::default());
        }
        id
    }
}

enum Frame {
    Map {
        id: NodeId,
        pending_key: Option<NodeId>,
    },
    Seq {
        id: NodeId,
        next: usize,
    },
}

/// The segment that names a map member: `.name`, or `name` at the top.
fn member_segment(parent: NodeId, key: &str) -> String {
    if parent == 0 {
        key.to_owned()
    } else {
        format!(".{key}")
    }
}

/// Where the field at `field` (a field path such as `cases[1].inline`) is in the YAML `text`:
/// the key that names it (a map member), else where its value starts, else the nearest
/// enclosing field that has a position. For a tool that finds a problem in a YAML file of its
/// own after deserializing it (`rules test` reads test files so). `None` when the text is not
/// YAML.
pub fn yaml_field_location(text: &str, field: &str) -> Option<Location> {
    index(text).find_key(field)
}

/// Indexes the first YAML document in `text`. A text the YAML parser rejects gives an empty
/// index: the serde pass reports that error with its own position.
pub(crate) fn index(text: &str) -> Positions {
    let mut positions = Positions::default();
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    loop {
        let Ok((event, mark)) = parser.next_token() else {
            return positions;
        };
        let location = Location {
            line: mark.line(),
            column: mark.col() + 1,
        };
        let is_node_start = matches!(
            event,
            Event::Scalar(..)
                | Event::SequenceStart(..)
                | Event::MappingStart(..)
                | Event::Alias(_)
        );
        // The node this event starts, if it is a value (not a key).
        let mut node = None;
        if is_node_start {
            match stack.last_mut() {
                None => {
                    if positions.entries.is_empty() {
                        positions.entries.push(Entry::default());
                    }
                    node = Some(0);
                }
                Some(Frame::Seq { id, next }) => {
                    let (parent, index) = (*id, *next);
                    *next += 1;
                    node = Some(positions.child(parent, format!("[{index}]")));
                }
                Some(Frame::Map { id, pending_key }) => match pending_key.take() {
                    Some(member) => node = Some(member),
                    None => {
                        // This node is a key.
                        let parent = *id;
                        let key = match &event {
                            Event::Scalar(value, ..) => value.clone(),
                            _ => String::from("<complex key>"),
                        };
                        let member = positions.child(parent, member_segment(parent, &key));
                        let entry = &mut positions.entries[member as usize];
                        entry.key.get_or_insert(location);
                        *pending_key = Some(member);
                        if matches!(event, Event::Scalar(..) | Event::Alias(_)) {
                            continue;
                        }
                        // A complex key: its contents go under a node of their own.
                        node = Some(positions.child(parent, String::from(".<complex key>")));
                    }
                },
            }
        }
        if let Some(id) = node {
            positions.entries[id as usize].value.get_or_insert(location);
        }
        match event {
            Event::MappingStart(..) => stack.push(Frame::Map {
                id: node.unwrap_or_default(),
                pending_key: None,
            }),
            Event::SequenceStart(..) => stack.push(Frame::Seq {
                id: node.unwrap_or_default(),
                next: 0,
            }),
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
            }
            Event::DocumentEnd | Event::StreamEnd => return positions,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_values_and_keys() {
        let text = "rules:\n  - id: a\n    when:\n      all:\n        - path: x:$.a\n    id: b\n";
        let positions = index(text);
        assert_eq!(
            positions.find("rules[0].when.all[0].path"),
            Some(Location {
                line: 5,
                column: 17
            })
        );
        assert_eq!(
            positions.find("rules[0].when.all[0].path.deeper"),
            Some(Location {
                line: 5,
                column: 17
            })
        );
        assert_eq!(
            positions.find_key("rules[0].when"),
            Some(Location { line: 3, column: 5 })
        );
    }

    #[test]
    fn keys_with_dots_and_brackets_are_found() {
        let text = "params:\n  a.b: 1\n  c[0]: 2\n";
        let positions = index(text);
        assert_eq!(
            positions.find_key("params.a.b"),
            Some(Location { line: 2, column: 3 })
        );
        assert_eq!(
            positions.find("params.c[0]"),
            Some(Location { line: 3, column: 9 })
        );
    }

    #[test]
    fn deep_nesting_with_long_keys_stays_linear() {
        // 120 levels of 1,000-character keys (YAML's longest implicit key): an index of whole
        // paths would hold 120 paths of up to 120,000 characters.
        let key = "k".repeat(1_000);
        let mut text = String::new();
        for level in 0..120 {
            text.push_str(&" ".repeat(level));
            text.push_str(&key);
            text.push_str(":\n");
        }
        let positions = index(&text);
        let stored: usize = positions.children.keys().map(|(_, s)| s.len()).sum();
        assert!(
            stored < 2 * text.len(),
            "{stored} bytes for {} of text",
            text.len()
        );
        let deepest = format!("{key}{}", format!(".{key}").repeat(119));
        assert_eq!(positions.find_key(&deepest).map(|l| l.line), Some(120));
    }
}
