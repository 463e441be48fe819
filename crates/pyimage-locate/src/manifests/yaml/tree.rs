//! The document tree: an arena of compact nodes (20 bytes each) whose scalar values are, wherever the value is
//! written as is, a span of the parsed text rather than a copy, and whose collections are runs of one shared list
//! of 32-bit node indexes. [`super::parse`] refuses a text too large for 32-bit offsets before building one.

use std::collections::{HashMap, HashSet};

use saphyr_parser::ScalarStyle;

use crate::dockerfile::Span;

/// A node of the tree.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Scalar(StoredScalar),
    Sequence(Children),
    /// Keys and values alternate.
    Mapping(Children),
    /// An alias to an anchor saphyr did not know (never expected; kept so indexes stay valid).
    Missing,
}

/// A run of [`Document::children`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Children {
    start: u32,
    len: u32,
}

/// A scalar as stored: its value is a [`TextRef`], its raw span in 32-bit offsets.
#[derive(Debug, Clone)]
pub(crate) struct StoredScalar {
    value: TextRef,
    raw_start: u32,
    raw_end: u32,
    style: ScalarStyle,
}

/// Bytes of the parsed text (a value written as is: nearly every one) or, with [`OWNED`] set in `len`, of the
/// document's buffer of values that differ from their bytes (escapes, folding, block scalars).
#[derive(Debug, Clone, Copy)]
struct TextRef {
    start: u32,
    len: u32,
}

/// The bit of [`TextRef::len`] that says the bytes are in [`Document::owned`].
const OWNED: u32 = 1 << 31;

/// Largest text (and buffer of values) a tree addresses: lengths keep their top bit for [`OWNED`].
pub(super) const MAX_TEXT: usize = (OWNED - 1) as usize;

/// A scalar with its value and where it is written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scalar<'a> {
    pub(crate) value: &'a str,
    pub(crate) style: ScalarStyle,
    /// The scalar as saphyr spans it, in bytes (quotes, tag and anchor included).
    pub(crate) raw: Span,
}

/// One parsed document: an arena of nodes and its root.
#[derive(Debug, Clone, Default)]
pub(crate) struct Document<'t> {
    /// The text parsed.
    text: &'t str,
    /// The values not written as is, one after the other.
    owned: String,
    nodes: Vec<Node>,
    /// The members of every collection, each collection's a run.
    children: Vec<u32>,
    pub(crate) root: Option<usize>,
}

/// Longest chain of `<<` merges followed (anchors can refer to themselves).
const MAX_MERGE_DEPTH: usize = 16;

impl<'t> Document<'t> {
    pub(crate) fn node(&self, index: usize) -> Option<&Node> {
        self.nodes.get(index)
    }

    pub(crate) fn scalar(&self, index: usize) -> Option<Scalar<'_>> {
        let Node::Scalar(stored) = self.node(index)? else {
            return None;
        };
        let TextRef { start, len } = stored.value;
        let (from, start, len) = if len & OWNED != 0 {
            (self.owned.as_str(), start as usize, (len & !OWNED) as usize)
        } else {
            (self.text, start as usize, len as usize)
        };
        Some(Scalar {
            value: from.get(start..start + len).unwrap_or(""),
            style: stored.style,
            raw: Span::new(stored.raw_start as usize, stored.raw_end as usize),
        })
    }

    /// Every scalar, in the order read.
    pub(crate) fn scalars(&self) -> impl Iterator<Item = Scalar<'_>> {
        (0..self.nodes.len()).filter_map(|index| self.scalar(index))
    }

    fn children(&self, run: Children) -> &[u32] {
        let start = run.start as usize;
        self.children
            .get(start..start + run.len as usize)
            .unwrap_or(&[])
    }

    /// The items of a sequence (none for any other node).
    pub(crate) fn sequence(&self, index: usize) -> impl ExactSizeIterator<Item = usize> + '_ {
        let items = match self.node(index) {
            Some(&Node::Sequence(run)) => self.children(run),
            _ => &[],
        };
        items.iter().map(|&item| item as usize)
    }

    /// The `(key, value)` pairs written in a mapping (none for any other node).
    fn pairs(&self, index: usize) -> impl DoubleEndedIterator<Item = (usize, usize)> + '_ {
        let members = match self.node(index) {
            Some(&Node::Mapping(run)) => self.children(run),
            _ => &[],
        };
        members
            .chunks_exact(2)
            .map(|pair| (pair[0] as usize, pair[1] as usize))
    }

    /// The entries of a mapping, in order (keys as scalars only).
    pub(crate) fn entries(&self, index: usize) -> Vec<(&str, usize)> {
        let mut out = Vec::new();
        let mut merged = HashSet::new();
        self.collect_entries(index, 0, &mut out, &mut merged);
        out
    }

    /// `merged` holds the mappings already merged in: merging one again adds nothing (its keys are all set by
    /// then), and skipping it keeps `<<: [*a, *a, …]` bombs linear.
    fn collect_entries<'a>(
        &'a self,
        index: usize,
        depth: usize,
        out: &mut Vec<(&'a str, usize)>,
        merged_before: &mut HashSet<usize>,
    ) {
        let mut merged = Vec::new();
        for (key, value) in self.pairs(index) {
            let Some(key) = self.scalar(key) else {
                continue;
            };
            if key.value == "<<" && key.style == ScalarStyle::Plain {
                merged.push(value);
            } else {
                out.push((key.value, value));
            }
        }
        // Merged entries count only where the mapping itself does not set the key.
        if depth < MAX_MERGE_DEPTH {
            for source in merged {
                let sources: Vec<usize> = match self.node(source) {
                    Some(Node::Sequence(_)) => self.sequence(source).collect(),
                    _ => vec![source],
                };
                for source in sources {
                    if !merged_before.insert(source) {
                        continue;
                    }
                    let mut inherited = Vec::new();
                    self.collect_entries(source, depth + 1, &mut inherited, merged_before);
                    for (key, value) in inherited {
                        if !out.iter().any(|(k, _)| *k == key) {
                            out.push((key, value));
                        }
                    }
                }
            }
        }
    }

    /// The value of `key` in a mapping.
    pub(crate) fn get(&self, index: usize, key: &str) -> Option<usize> {
        self.entries(index)
            .into_iter()
            .find(|(k, _)| *k == key)
            .map(|(_, value)| value)
    }

    /// The string value of `key` in a mapping, if it is a scalar.
    pub(crate) fn get_str(&self, index: usize, key: &str) -> Option<&str> {
        self.scalar(self.get(index, key)?).map(|s| s.value)
    }

    /// The key node of `key` written in the mapping itself (merged keys are not written there), with its value.
    pub(crate) fn own_entry(&self, index: usize, key: &str) -> Option<(usize, usize)> {
        self.pairs(index)
            .rev()
            .find(|&(k, _)| self.scalar(k).is_some_and(|s| s.value == key))
    }
}

/// A value or offset past what 32 bits address: [`super::parse`] refuses such texts first, so this is a bound
/// kept, never met.
#[derive(Debug)]
pub(super) struct TooLarge;

fn id(n: usize) -> Result<u32, TooLarge> {
    u32::try_from(n).map_err(|_| TooLarge)
}

/// An open collection while building.
#[derive(Debug)]
struct Open {
    node: usize,
    /// Where its members start in [`Builder::pending`].
    first: usize,
}

/// Builds a [`Document`] from events without recursion (nesting depth is the input's to choose).
#[derive(Debug, Default)]
pub(super) struct Builder<'t> {
    document: Document<'t>,
    open: Vec<Open>,
    /// The members of the open collections, innermost last; moved to the document's children on close.
    pending: Vec<u32>,
    anchors: HashMap<usize, usize>,
    /// The column of the outermost open flow collection's `[` or `{`.
    pub(super) outermost_flow_column: Option<usize>,
    /// Where that collection is in `open`: closing it (and only that) clears the column, so a close is O(1) — a
    /// search of `open` on every close made 32 KiB of `? ` (16,000 nested mappings) take 2.8 s, quadratically.
    outermost_flow_depth: Option<usize>,
}

impl<'t> Builder<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        Builder {
            document: Document {
                text,
                ..Document::default()
            },
            ..Builder::default()
        }
    }

    /// The document, with collections still open left empty.
    pub(super) fn finish(mut self) -> Document<'t> {
        self.document.nodes.shrink_to_fit();
        self.document.children.shrink_to_fit();
        self.document.owned.shrink_to_fit();
        self.document
    }

    fn push(&mut self, node: Node, anchor: usize) -> Result<usize, TooLarge> {
        let index = self.document.nodes.len();
        id(index)?;
        self.document.nodes.push(node);
        if anchor != 0 {
            self.anchors.insert(anchor, index);
        }
        Ok(index)
    }

    fn attach(&mut self, index: usize) -> Result<(), TooLarge> {
        if self.open.is_empty() {
            if self.document.root.is_none() {
                self.document.root = Some(index);
            }
        } else {
            self.pending.push(id(index)?);
        }
        Ok(())
    }

    /// Adds a scalar whose value is `value`, found as is at byte `written` of the text when `written` is set.
    pub(super) fn scalar(
        &mut self,
        value: &str,
        written: Option<usize>,
        style: ScalarStyle,
        raw: Span,
        anchor: usize,
    ) -> Result<(), TooLarge> {
        let value = match written {
            Some(_) | None if value.len() > MAX_TEXT => return Err(TooLarge),
            Some(at) => TextRef {
                start: id(at)?,
                len: id(value.len())?,
            },
            None => {
                let start = self.document.owned.len();
                if start + value.len() > MAX_TEXT {
                    return Err(TooLarge);
                }
                self.document.owned.push_str(value);
                TextRef {
                    start: id(start)?,
                    len: id(value.len())? | OWNED,
                }
            }
        };
        let node = Node::Scalar(StoredScalar {
            value,
            raw_start: id(raw.start)?,
            raw_end: id(raw.end)?,
            style,
        });
        let index = self.push(node, anchor)?;
        self.attach(index)
    }

    pub(super) fn open(
        &mut self,
        mapping: bool,
        anchor: usize,
        flow_column: Option<usize>,
    ) -> Result<(), TooLarge> {
        let run = Children::default();
        let node = if mapping {
            Node::Mapping(run)
        } else {
            Node::Sequence(run)
        };
        let index = self.push(node, anchor)?;
        self.attach(index)?;
        self.open.push(Open {
            node: index,
            first: self.pending.len(),
        });
        if self.outermost_flow_column.is_none() && flow_column.is_some() {
            self.outermost_flow_column = flow_column;
            self.outermost_flow_depth = Some(self.open.len() - 1);
        }
        Ok(())
    }

    /// How many collections are open.
    pub(super) fn depth(&self) -> usize {
        self.open.len()
    }

    pub(super) fn close(&mut self) -> Result<(), TooLarge> {
        if let Some(open) = self.open.pop() {
            let members = self.pending.get(open.first..).unwrap_or(&[]);
            let run = Children {
                start: id(self.document.children.len())?,
                len: id(members.len())?,
            };
            self.document.children.extend_from_slice(members);
            self.pending.truncate(open.first);
            if let Some(Node::Sequence(children) | Node::Mapping(children)) =
                self.document.nodes.get_mut(open.node)
            {
                *children = run;
            }
        }
        if self
            .outermost_flow_depth
            .is_some_and(|depth| self.open.len() <= depth)
        {
            self.outermost_flow_column = None;
            self.outermost_flow_depth = None;
        }
        Ok(())
    }

    pub(super) fn alias(&mut self, anchor: usize) -> Result<(), TooLarge> {
        match self.anchors.get(&anchor) {
            Some(&index) => self.attach(index),
            None => {
                let index = self.push(Node::Missing, 0)?;
                self.attach(index)
            }
        }
    }
}

/// The Pod walk of [`crate::pod`] over a document: nodes are indexes, mappings read with merge keys.
impl crate::pod::Tree for Document<'_> {
    type Node = usize;

    fn get(&self, node: usize, key: &str) -> Option<usize> {
        Document::get(self, node, key)
    }

    fn items(&self, node: usize) -> Vec<usize> {
        self.sequence(node).collect()
    }
}
