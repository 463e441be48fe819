//! A YAML document tree with byte spans, built from `saphyr-parser` events.
//!
//! The locators only need to follow a few keys, but they need the exact bytes of the scalar they end at. saphyr
//! reports positions in characters (and a quoted scalar's span includes its quotes, and any tag or anchor before
//! it); this module turns those into byte spans of the scalar as written. Aliases point at the anchored node, so an
//! `image: *img` is reported where `&img` defines it, and `<<` merge keys are followed.
//!
//! # Flow collections at any indentation, as libyaml and go-yaml read them
//!
//! saphyr checks the indentation of every token inside a flow collection against the enclosing block collection
//! (`fetch_next_token`: "invalid indentation"; `scan_plain_scalar`: "invalid indentation in flow construct"), as
//! the YAML 1.2 grammar asks. libyaml (PyYAML) and go-yaml v3 (kubectl, Compose) do not: inside `[ … ]` or `{ … }`
//! they never look at indentation, so Compose's `test: [` … `]` with the `]` under the key, or Kubernetes
//! `args: [` with entries at the key's column, are valid to every tool that reads those files, and were an error
//! here.
//!
//! Inside a flow collection, the blanks at the start of a line are only separation (a multi-line scalar folds
//! them away), so indenting such a line further changes no value and no structure. When saphyr stops on one of
//! those two errors while a flow collection is open, [`parse`] inserts spaces at the start of the offending line in
//! a copy of the text, enough to pass the column of the outermost open `[` / `{` (no block collection enclosing
//! it is indented further), and parses again. Spaces are only ever inserted, at line starts, and every position
//! saphyr reports is mapped back through the insertions ([`Padding::original`]), so spans stay exact byte spans of
//! the original text: an inserted space is never inside a scalar on one line, and a scalar spanning an insertion
//! is multi-line, hence folded and already not rewritable.
//!
//! saphyr likewise checks a quoted scalar's continuation lines ("invalid indentation in quoted scalar") where
//! libyaml does not; those lines fold and lose their leading blanks, so they are indented past the opening quote
//! the same way.

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
        let mut merged = std::collections::HashSet::new();
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
        merged_before: &mut std::collections::HashSet<usize>,
    ) {
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
        self.scalar(self.get(index, key)?).map(|s| s.value.as_str())
    }

    /// The key node of `key` written in the mapping itself (merged keys are not written there), with its value.
    pub(crate) fn own_entry(&self, index: usize, key: &str) -> Option<(usize, usize)> {
        let Some(Node::Mapping(pairs)) = self.node(index) else {
            return None;
        };
        pairs
            .iter()
            .rev()
            .find(|&&(k, _)| self.scalar(k).is_some_and(|s| s.value == key))
            .copied()
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

/// What [`parse`] read from a file.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    /// The documents completed before any error.
    pub(crate) documents: Vec<Document>,
    /// The syntax error that stopped the parse, if one did.
    pub(crate) error: Option<SyntaxError>,
    /// Byte offset of the first flow mapping that opens with `{{`: a template action the parser read as YAML
    /// structure (`image: {{ .Values.image }}` is a mapping whose key is a mapping, never a value anyone meant).
    pub(crate) template_structure: Option<usize>,
    /// The byte spans of every scalar read, as saphyr spans them: a `{{` inside one of them is text.
    pub(crate) scalars: Vec<Span>,
}

/// Most repairs (each a parse of the whole file) tried on one file; past this the parser's error stands.
const MAX_REPAIRS: usize = 256;

/// The messages of saphyr's indentation checks that libyaml and go-yaml do not make inside flow collections.
const FLOW_INDENTATION_ERRORS: [&str; 2] = [
    "invalid indentation",
    "invalid indentation in flow construct",
];

/// Parses all documents; stops at the first syntax error, keeping the documents completed before it.
///
/// Lines inside a flow collection that saphyr finds under-indented are re-indented in a padded copy of the text
/// and parsed again (see the module documentation); every position reported is mapped back to `text`.
pub(crate) fn parse(text: &str) -> Parsed {
    let mut padding = Padding::default();
    let mut passes = 0;
    loop {
        let padded = padding.apply(text);
        let (parsed, repair) = parse_padded(text, &padded, &padding);
        // A repair indents lines only up to what saphyr asks, so a line is never repaired twice for one check;
        // the count of passes bounds the work whatever the input.
        passes += 1;
        if repair.is_empty() || passes > MAX_REPAIRS {
            return parsed;
        }
        for insertion in repair {
            padding.insert(insertion);
        }
    }
}

/// Spaces inserted at the start of lines, as `(byte offset in the original text, number of spaces)`, sorted.
#[derive(Debug, Default)]
struct Padding {
    insertions: Vec<(usize, usize)>,
}

impl Padding {
    fn apply(&self, text: &str) -> String {
        if self.insertions.is_empty() {
            return text.to_owned();
        }
        let extra: usize = self.insertions.iter().map(|&(_, count)| count).sum();
        let mut out = String::with_capacity(text.len() + extra);
        let mut from = 0;
        for &(at, count) in &self.insertions {
            out.push_str(text.get(from..at).unwrap_or(""));
            out.extend(std::iter::repeat_n(' ', count));
            from = at;
        }
        out.push_str(text.get(from..).unwrap_or(""));
        out
    }

    /// Adds `count` spaces at `at` (an original line start).
    fn insert(&mut self, (at, count): (usize, usize)) {
        match self
            .insertions
            .binary_search_by_key(&at, |&(start, _)| start)
        {
            Ok(existing) => {
                if let Some((_, existing_count)) = self.insertions.get_mut(existing) {
                    *existing_count += count;
                }
            }
            Err(position) => self.insertions.insert(position, (at, count)),
        }
    }

    /// The original byte offset of a byte offset in the padded text (an inserted space maps to where it was
    /// inserted).
    fn original(&self, padded: usize) -> usize {
        let mut shift = 0;
        for &(at, count) in &self.insertions {
            let padded_at = at + shift;
            if padded < padded_at {
                break;
            }
            if padded < padded_at + count {
                return at;
            }
            shift += count;
        }
        padded - shift
    }
}

/// One parse of the (padded) text; the second value is the repair to try (insertions, as
/// `(original offset of a line start, spaces)`) when the parse failed on an indentation libyaml does not check.
fn parse_padded(original: &str, text: &str, padding: &Padding) -> (Parsed, Vec<(usize, usize)>) {
    let offsets = CharOffsets::new(text);
    let mut parsed = Parsed::default();
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder::default();
    while let Some(event) = parser.next_event() {
        let (event, span) = match event {
            Ok(event) => event,
            Err(error) => {
                let marker = error.marker();
                let padded_offset = offsets.byte(marker.index());
                let offset = padding.original(padded_offset);
                let line_start = original
                    .get(..offset)
                    .and_then(|before| before.rfind('\n'))
                    .map_or(0, |newline| newline + 1);
                let column = original
                    .get(line_start..offset)
                    .map_or(0, |before| before.chars().count())
                    + 1;
                let repair = if error.info() == QUOTED_INDENTATION_ERROR {
                    quoted_repair(text, padded_offset, marker.col(), padding)
                } else {
                    builder
                        .outermost_flow_column
                        .filter(|_| FLOW_INDENTATION_ERRORS.contains(&error.info()))
                        // Past the column of the flow collection's `[` or `{`, a line is indented more than any
                        // block collection that contains it, which is all saphyr asks.
                        .map(|flow_column| {
                            (line_start, (flow_column + 1).saturating_sub(marker.col()))
                        })
                        .filter(|&(_, count)| count > 0)
                        .into_iter()
                        .collect()
                };
                parsed.error = Some(SyntaxError {
                    message: error.info().to_owned(),
                    offset,
                    line: marker.line(),
                    column,
                });
                return (parsed, repair);
            }
        };
        let raw = Span::new(
            padding.original(offsets.byte(span.start.index())),
            padding.original(offsets.byte(span.end.index())),
        );
        // What the event starts with, after any tag or anchor, in the padded text.
        let padded_start = offsets.byte(span.start.index());
        let rest = text.get(padded_start..).unwrap_or("");
        let raw_text = rest
            .get(..offsets.byte(span.end.index()).saturating_sub(padded_start))
            .unwrap_or(rest);
        let opening_at = padded_start + properties_len(raw_text);
        let opening = text.get(opening_at..).unwrap_or("");
        let flow = opening.starts_with(['[', '{']);
        match event {
            Event::DocumentStart(_) => builder = Builder::default(),
            Event::DocumentEnd => parsed.documents.push(std::mem::take(&mut builder).finish()),
            Event::Scalar(value, style, anchor, _) => {
                parsed.scalars.push(raw);
                let node = Node::Scalar(Scalar {
                    value: value.into_owned(),
                    style,
                    raw,
                });
                builder.add(node, anchor);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if opening.starts_with("{{") && parsed.template_structure.is_none() {
                    parsed.template_structure = Some(padding.original(opening_at));
                }
                let node = if matches!(event, Event::SequenceStart(..)) {
                    Node::Sequence(Vec::new())
                } else {
                    Node::Mapping(Vec::new())
                };
                let column = flow.then(|| {
                    let line_start = text
                        .get(..opening_at)
                        .and_then(|before| before.rfind('\n'))
                        .map_or(0, |newline| newline + 1);
                    text.get(line_start..opening_at)
                        .map_or(0, |before| before.chars().count())
                });
                builder.open(node, anchor, column);
            }
            Event::SequenceEnd | Event::MappingEnd => builder.close(),
            Event::Alias(anchor) => builder.alias(anchor),
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
    }
    (parsed, Vec::new())
}

/// saphyr's check of a quoted scalar's continuation lines, which libyaml and go-yaml do not make.
const QUOTED_INDENTATION_ERROR: &str = "invalid indentation in quoted scalar";

/// The insertions that indent every continuation line of the quoted scalar opening at `quote` (a byte offset in
/// the padded `text`, at character column `quote_column`) past its opening quote. A quoted scalar's line breaks
/// fold and the blanks that start its continuation lines are dropped, so the value does not change.
fn quoted_repair(
    text: &str,
    quote: usize,
    quote_column: usize,
    padding: &Padding,
) -> Vec<(usize, usize)> {
    let rest = text.get(quote..).unwrap_or("");
    let Some(len) = quoted_content_len(rest, rest.starts_with('"')) else {
        return Vec::new();
    };
    let inside = rest.get(..len + 1).unwrap_or("");
    inside
        .match_indices('\n')
        .filter_map(|(newline, _)| {
            let line_start = quote + newline + 1;
            let line = text.get(line_start..).unwrap_or("");
            let blanks = line.len() - line.trim_start_matches([' ', '\t']).len();
            let count = (quote_column + 1).saturating_sub(blanks);
            (count > 0).then(|| (padding.original(line_start), count))
        })
        .collect()
}

/// Builds a [`Document`] from events without recursion (nesting depth is the input's to choose).
#[derive(Debug, Default)]
struct Builder {
    document: Document,
    /// Open collections, with the pending key of a mapping and, for a flow collection, the column (in characters)
    /// of its `[` or `{`.
    open: Vec<(usize, Option<usize>, Option<usize>)>,
    anchors: HashMap<usize, usize>,
    /// The column of the outermost open flow collection's `[` or `{`.
    outermost_flow_column: Option<usize>,
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
        let Some((parent, pending_key, _)) = self.open.last_mut() else {
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

    fn open(&mut self, node: Node, anchor: usize, flow_column: Option<usize>) {
        let index = self.push(node, anchor);
        self.attach(index);
        self.open.push((index, None, flow_column));
        self.outermost_flow_column = self.outermost_flow_column.or(flow_column);
    }

    fn close(&mut self) {
        self.open.pop();
        self.outermost_flow_column = self.open.iter().find_map(|&(_, _, column)| column);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> (Vec<String>, Option<SyntaxError>) {
        let parsed = parse(text);
        let mut values = Vec::new();
        for document in &parsed.documents {
            for node in &document.nodes {
                if let Node::Scalar(scalar) = node {
                    let (span, _) = content_span(text, scalar);
                    values.push(text.get(span.range()).unwrap_or("?").to_owned());
                }
            }
        }
        (values, parsed.error)
    }

    #[test]
    fn a_closing_bracket_at_the_key_indentation_parses() {
        let text = "services:\n  app:\n    image: python:3.12-slim\n    healthcheck:\n      test: [\n        \"CMD\", \"true\"\n      ]\n    other: x\n";
        let (values, error) = values(text);
        assert_eq!(error, None);
        assert!(
            values.contains(&"python:3.12-slim".to_owned()),
            "{values:?}"
        );
        assert!(values.contains(&"CMD".to_owned()), "{values:?}");
        assert!(values.contains(&"x".to_owned()), "{values:?}");
    }

    #[test]
    fn entries_under_the_key_and_a_later_image_keep_their_bytes() {
        let text = "spec:\n  containers:\n  - name: a\n    args: [\n    --flag,\n  x\n]\n    image: python:3.13\n";
        let (values, error) = values(text);
        assert_eq!(error, None);
        assert!(values.contains(&"--flag".to_owned()), "{values:?}");
        assert!(values.contains(&"python:3.13".to_owned()), "{values:?}");
    }

    #[test]
    fn quoted_continuation_lines_at_any_indentation_parse() {
        let text = "a:\n  b: \"x\ny z\"\n  c: [ 'p\nq' ]\n  d: python:3.12\n";
        let (values, error) = values(text);
        assert_eq!(error, None);
        assert!(values.contains(&"python:3.12".to_owned()), "{values:?}");
        let parsed = parse(text);
        let folded: Vec<&str> = parsed
            .documents
            .iter()
            .flat_map(|document| &document.nodes)
            .filter_map(|node| match node {
                Node::Scalar(scalar) => Some(scalar.value.as_str()),
                _ => None,
            })
            .collect();
        assert!(
            folded.contains(&"x y z") && folded.contains(&"p q"),
            "{folded:?}"
        );
    }

    #[test]
    fn padding_maps_back() {
        let mut padding = Padding::default();
        padding.insert((4, 2));
        assert_eq!(padding.apply("abcdefgh"), "abcd  efgh");
        assert_eq!(padding.original(3), 3);
        assert_eq!(padding.original(4), 4);
        assert_eq!(padding.original(5), 4);
        assert_eq!(padding.original(6), 4);
        assert_eq!(padding.original(7), 5);
    }
}
