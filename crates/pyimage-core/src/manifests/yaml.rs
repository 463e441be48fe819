//! A YAML document tree with byte spans, built from `saphyr-parser` events.
//!
//! The locators only need to follow a few keys, but they need the exact bytes of the scalar they end at. saphyr
//! reports positions in characters (and a quoted scalar's span includes its quotes, and any tag or anchor before
//! it); this module turns those into byte spans of the scalar as written. Aliases point at the anchored node, so an
//! `image: *img` is reported where `&img` defines it, and `<<` merge keys are followed.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::dockerfile::Span;

/// A node of the tree.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Scalar(Scalar),
    Sequence(Vec<usize>),
    Mapping(Vec<(usize, usize)>),
    /// An alias to an anchor saphyr did not know (never expected; kept so indexes stay valid).
    Missing,
}

/// A scalar with its value and where it is written.
#[derive(Debug, Clone)]
pub(crate) struct Scalar {
    pub(crate) value: String,
    pub(crate) style: ScalarStyle,
    /// The scalar as saphyr spans it, in bytes (quotes, tag and anchor included).
    pub(crate) raw: Span,
}

/// One parsed document: an arena of nodes and its root.
#[derive(Debug, Clone, Default)]
pub(crate) struct Document {
    pub(crate) nodes: Vec<Node>,
    pub(crate) root: Option<usize>,
}

/// Longest chain of `<<` merges followed (anchors can refer to themselves).
const MAX_MERGE_DEPTH: usize = 16;

impl Document {
    pub(crate) fn node(&self, index: usize) -> Option<&Node> {
        self.nodes.get(index)
    }

    pub(crate) fn scalar(&self, index: usize) -> Option<&Scalar> {
        match self.node(index)? {
            Node::Scalar(scalar) => Some(scalar),
            _ => None,
        }
    }

    pub(crate) fn sequence(&self, index: usize) -> &[usize] {
        match self.node(index) {
            Some(Node::Sequence(items)) => items,
            _ => &[],
        }
    }

    /// The entries of a mapping, in order (keys as scalars only).
    pub(crate) fn entries(&self, index: usize) -> Vec<(&str, usize)> {
        let mut out = Vec::new();
        self.collect_entries(index, 0, &mut out);
        out
    }

    fn collect_entries<'a>(&'a self, index: usize, depth: usize, out: &mut Vec<(&'a str, usize)>) {
        let Some(Node::Mapping(pairs)) = self.node(index) else {
            return;
        };
        let mut merged = Vec::new();
        for &(key, value) in pairs {
            let Some(key) = self.scalar(key) else {
                continue;
            };
            if key.value == "<<" && key.style == ScalarStyle::Plain {
                merged.push(value);
            } else {
                out.push((key.value.as_str(), value));
            }
        }
        // Merged entries count only where the mapping itself does not set the key.
        if depth < MAX_MERGE_DEPTH {
            for source in merged {
                let sources: Vec<usize> = match self.node(source) {
                    Some(Node::Sequence(items)) => items.clone(),
                    _ => vec![source],
                };
                for source in sources {
                    let mut inherited = Vec::new();
                    self.collect_entries(source, depth + 1, &mut inherited);
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
        self.scalar(self.get(index, key)?).map(|s| s.value.as_str())
    }
}

/// A YAML syntax error, positioned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) message: String,
    pub(crate) offset: usize,
    pub(crate) line: usize,
    pub(crate) column: usize,
}

/// Byte offset of every character index (plus one past the end), for converting saphyr's character positions.
struct CharOffsets(Vec<usize>);

impl CharOffsets {
    fn new(text: &str) -> Self {
        let mut offsets: Vec<usize> = text.char_indices().map(|(at, _)| at).collect();
        offsets.push(text.len());
        CharOffsets(offsets)
    }

    fn byte(&self, char_index: usize) -> usize {
        self.0
            .get(char_index)
            .or(self.0.last())
            .copied()
            .unwrap_or(0)
    }
}

/// Parses all documents; stops at the first syntax error, keeping the documents completed before it.
pub(crate) fn parse(text: &str) -> (Vec<Document>, Option<SyntaxError>) {
    let offsets = CharOffsets::new(text);
    let mut documents = Vec::new();
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder::default();
    while let Some(event) = parser.next_event() {
        let (event, span) = match event {
            Ok(event) => event,
            Err(error) => {
                let marker = error.marker();
                return (
                    documents,
                    Some(SyntaxError {
                        message: error.info().to_owned(),
                        offset: offsets.byte(marker.index()),
                        line: marker.line(),
                        column: marker.col() + 1,
                    }),
                );
            }
        };
        let raw = Span::new(
            offsets.byte(span.start.index()),
            offsets.byte(span.end.index()),
        );
        match event {
            Event::DocumentStart(_) => builder = Builder::default(),
            Event::DocumentEnd => documents.push(std::mem::take(&mut builder).finish()),
            Event::Scalar(value, style, anchor, _) => {
                let node = Node::Scalar(Scalar {
                    value: value.into_owned(),
                    style,
                    raw,
                });
                builder.add(node, anchor);
            }
            Event::SequenceStart(anchor, _) => builder.open(Node::Sequence(Vec::new()), anchor),
            Event::MappingStart(anchor, _) => builder.open(Node::Mapping(Vec::new()), anchor),
            Event::SequenceEnd | Event::MappingEnd => builder.close(),
            Event::Alias(anchor) => builder.alias(anchor),
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
    }
    (documents, None)
}

/// Builds a [`Document`] from events without recursion (nesting depth is the input's to choose).
#[derive(Debug, Default)]
struct Builder {
    document: Document,
    /// Open collections, with the pending key of a mapping.
    open: Vec<(usize, Option<usize>)>,
    anchors: HashMap<usize, usize>,
}

impl Builder {
    fn finish(self) -> Document {
        self.document
    }

    fn push(&mut self, node: Node, anchor: usize) -> usize {
        let index = self.document.nodes.len();
        self.document.nodes.push(node);
        if anchor != 0 {
            self.anchors.insert(anchor, index);
        }
        index
    }

    fn attach(&mut self, index: usize) {
        let Some((parent, pending_key)) = self.open.last_mut() else {
            if self.document.root.is_none() {
                self.document.root = Some(index);
            }
            return;
        };
        let parent = *parent;
        match self.document.nodes.get_mut(parent) {
            Some(Node::Sequence(items)) => items.push(index),
            Some(Node::Mapping(pairs)) => match pending_key.take() {
                Some(key) => pairs.push((key, index)),
                None => *pending_key = Some(index),
            },
            _ => {}
        }
    }

    fn add(&mut self, node: Node, anchor: usize) {
        let index = self.push(node, anchor);
        self.attach(index);
    }

    fn open(&mut self, node: Node, anchor: usize) {
        let index = self.push(node, anchor);
        self.attach(index);
        self.open.push((index, None));
    }

    fn close(&mut self) {
        self.open.pop();
    }

    fn alias(&mut self, anchor: usize) {
        match self.anchors.get(&anchor) {
            Some(&index) => self.attach(index),
            None => self.add(Node::Missing, 0),
        }
    }
}

/// Why a scalar cannot be rewritten by replacing its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotRewritable {
    /// A `|` or `>` block scalar.
    BlockScalar,
    /// Escapes (`\"`, `''`) or line folding: the bytes are not the value.
    Escaped,
}

/// The bytes of a scalar's content as written (inside the quotes for quoted scalars, without tag or anchor), and
/// whether replacing them replaces the value exactly.
///
/// saphyr's end marker is not always the scalar's end (after a quoted scalar it can include the blanks and comment
/// that follow; after a block scalar, the next indentation), so the end is found here from the text itself.
pub(crate) fn content_span(text: &str, scalar: &Scalar) -> (Span, Option<NotRewritable>) {
    let raw_text = text.get(scalar.raw.range()).unwrap_or("");
    let start = scalar.raw.start + properties_len(raw_text);
    let rest = text.get(start..).unwrap_or("");
    let span = match scalar.style {
        ScalarStyle::Literal | ScalarStyle::Folded => {
            let trimmed = raw_text.trim_end_matches([' ', '\t', '\r', '\n']);
            return (
                Span::new(scalar.raw.start, scalar.raw.start + trimmed.len()),
                Some(NotRewritable::BlockScalar),
            );
        }
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
            match quoted_content_len(rest, scalar.style == ScalarStyle::DoubleQuoted) {
                Some(len) => Span::new(start + 1, start + 1 + len),
                None => scalar.raw,
            }
        }
        ScalarStyle::Plain => {
            if rest.starts_with(scalar.value.as_str()) {
                Span::new(start, start + scalar.value.len())
            } else {
                let trimmed = raw_text.trim_end_matches([' ', '\t', '\r', '\n']);
                Span::new(
                    start.min(scalar.raw.start + trimmed.len()),
                    scalar.raw.start + trimmed.len(),
                )
            }
        }
    };
    let written = text.get(span.range()).unwrap_or("");
    let rewritable = if written == scalar.value {
        None
    } else {
        Some(NotRewritable::Escaped)
    };
    (span, rewritable)
}

/// Length of the tag (`!!str`) and anchor (`&name`) properties before a scalar, with the blanks after them.
fn properties_len(raw: &str) -> usize {
    let mut at = 0;
    while let Some(rest) = raw.get(at..) {
        if !rest.starts_with(['!', '&']) {
            break;
        }
        let token = rest.find([' ', '\t', '\r', '\n']).unwrap_or(rest.len());
        let after = rest.get(token..).unwrap_or("");
        let blanks = after.len() - after.trim_start_matches([' ', '\t', '\r', '\n']).len();
        at += token + blanks;
    }
    at
}

/// `text` starts with an opening quote: the byte length of what is inside the quotes (`''` and `\"` do not close).
fn quoted_content_len(text: &str, double: bool) -> Option<usize> {
    let quote = if double { '"' } else { '\'' };
    let inner = text.strip_prefix(quote)?;
    let mut chars = inner.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if double && c == '\\' {
            chars.next();
        } else if c == quote {
            if !double && chars.peek().is_some_and(|&(_, next)| next == '\'') {
                chars.next();
            } else {
                return Some(at);
            }
        }
    }
    None
}
