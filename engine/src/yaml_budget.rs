//! A budget on what YAML aliases expand to, checked before any YAML is deserialized.
//!
//! An alias (`*name`) repeats the node its anchor (`&name`) marks, and aliases of anchors that
//! hold aliases multiply: a few kilobytes can stand for gigabytes. The YAML parser's own guard
//! counts alias jumps, not what they expand to, so every YAML text the program reads (rules
//! files, bundle metadata, rule tests) is first scanned here, in one pass over its events,
//! summing the size each node would have once expanded.

use yaml_rust2::parser::{Event, Parser};

use crate::positions::Location;

/// What aliases may add to a text, in weighted size: each node counts a fixed weight (64) plus
/// the length of its text. 16 MiB is about 260,000 repeated nodes, or 16 MB of repeated text.
pub const MAX_ALIAS_EXPANSION: u64 = 16 * 1024 * 1024;

/// The weight of one node, about what it costs in memory once deserialized.
const NODE_WEIGHT: u64 = 64;

/// Aliases in a YAML text would expand past [`MAX_ALIAS_EXPANSION`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasExpansionError {
    /// Where the alias that went over the budget is.
    pub location: Location,
    /// What is wrong and what to do.
    pub message: String,
}

/// Checks that the aliases of `text` expand to at most [`MAX_ALIAS_EXPANSION`] more than the
/// text itself. Text the YAML parser rejects passes: the deserializer reports it, located.
pub fn check_alias_expansion(text: &str) -> Result<(), AliasExpansionError> {
    let mut parser = Parser::new_from_str(text);
    // Per anchor id, the expanded size of the node it marks.
    let mut anchors: Vec<u64> = Vec::new();
    // Open collections: their anchor id and the expanded size when they started.
    let mut open: Vec<(usize, u64)> = Vec::new();
    let mut expanded: u64 = 0;
    let mut added: u64 = 0;
    loop {
        let Ok((event, mark)) = parser.next_token() else {
            return Ok(());
        };
        let record = |anchors: &mut Vec<u64>, id: usize, size: u64| {
            if id > 0 {
                if anchors.len() <= id {
                    anchors.resize(id + 1, 0);
                }
                anchors[id] = size;
            }
        };
        match event {
            Event::Scalar(value, _, anchor, _) => {
                let size = NODE_WEIGHT + value.len() as u64;
                expanded += size;
                record(&mut anchors, anchor, size);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                open.push((anchor, expanded));
                expanded += NODE_WEIGHT;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((anchor, start)) = open.pop() {
                    record(&mut anchors, anchor, expanded - start);
                }
            }
            Event::Alias(id) => {
                let size = anchors.get(id).copied().unwrap_or(0);
                expanded += size;
                added = added.saturating_add(size);
                if added > MAX_ALIAS_EXPANSION {
                    return Err(AliasExpansionError {
                        location: Location {
                            line: mark.line(),
                            column: mark.col() + 1,
                        },
                        message: format!(
                            "YAML aliases (`*name`) here expand the text by more than {} MiB: repeat less, or write the values out",
                            MAX_ALIAS_EXPANSION / (1024 * 1024)
                        ),
                    });
                }
            }
            Event::StreamEnd => return Ok(()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bomb(levels: usize, width: usize, leaf: usize) -> String {
        let mut text = format!("a0: &a0 [\"{}\"]\n", "x".repeat(leaf));
        for level in 1..levels {
            let aliases = vec![format!("*a{}", level - 1); width].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{aliases}]\n"));
        }
        text
    }

    #[test]
    fn small_repetition_passes_and_nested_expansion_is_refused() {
        assert!(check_alias_expansion("a: &x [1, 2]\nb: *x\nc: *x\n").is_ok());
        assert!(check_alias_expansion(&bomb(3, 10, 1000)).is_ok());
        // 41 KB of text that expands to 900 MB.
        let error = check_alias_expansion(&bomb(3, 150, 40_000)).unwrap_err();
        assert_eq!(error.location.line, 3, "{error:?}");
        // Many levels of small nodes: the node weight counts.
        assert!(check_alias_expansion(&bomb(8, 10, 1)).is_err());
        // Not YAML: left to the deserializer.
        assert!(check_alias_expansion("a: [").is_ok());
    }
}
