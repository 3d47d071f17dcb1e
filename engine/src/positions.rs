//! Where each field of a YAML text starts, by field path (`rules[3].when.all[1].path`).
//!
//! serde gives the YAML's values but not their positions, so compile errors found after
//! deserialization look their line and column up here.

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

/// Field path -> position of the value at that path, and of the key that names it.
#[derive(Debug, Default)]
pub(crate) struct Positions {
    values: HashMap<String, Location>,
    keys: HashMap<String, Location>,
}

impl Positions {
    /// Position of the value at `path`, else of the nearest enclosing field that has one.
    pub(crate) fn find(&self, path: &str) -> Option<Location> {
        let mut path = path;
        loop {
            if let Some(location) = self.values.get(path) {
                return Some(*location);
            }
            path = parent_path(path)?;
        }
    }

    /// Position of the key that names the field at `path` (for "unknown field" errors).
    pub(crate) fn find_key(&self, path: &str) -> Option<Location> {
        self.keys.get(path).copied().or_else(|| self.find(path))
    }
}

fn parent_path(path: &str) -> Option<&str> {
    let cut = path.rfind(['.', '['])?;
    Some(&path[..cut])
}

enum Frame {
    Map {
        path: String,
        pending_key: Option<String>,
    },
    Seq {
        path: String,
        next: usize,
    },
}

fn child_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
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
        // Decide the path of the node this event starts, if it is a value position.
        let is_node_start = matches!(
            event,
            Event::Scalar(..)
                | Event::SequenceStart(..)
                | Event::MappingStart(..)
                | Event::Alias(_)
        );
        let mut node_path = None;
        if is_node_start {
            match stack.last_mut() {
                None => node_path = Some(String::new()),
                Some(Frame::Seq { path, next }) => {
                    node_path = Some(format!("{path}[{next}]"));
                    *next += 1;
                }
                Some(Frame::Map { path, pending_key }) => match pending_key.take() {
                    Some(key) => node_path = Some(child_path(path, &key)),
                    None => {
                        // This node is a key.
                        let key = match &event {
                            Event::Scalar(value, ..) => value.clone(),
                            _ => String::from("<complex key>"),
                        };
                        positions
                            .keys
                            .entry(child_path(path, &key))
                            .or_insert(location);
                        *pending_key = Some(key);
                        if !matches!(event, Event::Scalar(..) | Event::Alias(_)) {
                            // A complex key: skip its contents by treating it as a value.
                            node_path = Some(String::from("<complex key>"));
                        } else {
                            continue;
                        }
                    }
                },
            }
        }
        if let Some(path) = &node_path {
            positions.values.entry(path.clone()).or_insert(location);
        }
        match event {
            Event::MappingStart(..) => stack.push(Frame::Map {
                path: node_path.unwrap_or_default(),
                pending_key: None,
            }),
            Event::SequenceStart(..) => stack.push(Frame::Seq {
                path: node_path.unwrap_or_default(),
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
}
