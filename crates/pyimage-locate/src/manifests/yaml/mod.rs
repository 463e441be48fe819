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

mod positions;
mod tree;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::dockerfile::Span;
use positions::{CharOffsets, Columns, Padding};
use tree::{Builder, MAX_TEXT, TooLarge};
pub(crate) use tree::{Document, Node, Scalar};

/// A YAML syntax error, positioned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) message: String,
    pub(crate) offset: usize,
    pub(crate) line: usize,
    pub(crate) column: usize,
}

/// What [`parse`] read from a file.
#[derive(Debug, Default)]
pub(crate) struct Parsed<'t> {
    /// The documents completed before any error.
    pub(crate) documents: Vec<Document<'t>>,
    /// The syntax error that stopped the parse, if one did.
    pub(crate) error: Option<SyntaxError>,
    /// Byte offset of the first flow mapping that opens with `{{`: a template action the parser read as YAML
    /// structure (`image: {{ .Values.image }}` is a mapping whose key is a mapping, never a value anyone meant).
    pub(crate) template_structure: Option<usize>,
    /// What was read of the document the error stopped in.
    unfinished: Option<Document<'t>>,
}

impl Parsed<'_> {
    /// The byte spans of every scalar read, as saphyr spans them (a `{{` inside one of them is text).
    pub(crate) fn scalar_spans(&self) -> impl Iterator<Item = Span> + '_ {
        self.documents
            .iter()
            .chain(&self.unfinished)
            .flat_map(|document| document.scalars().map(|scalar| scalar.raw))
    }
}

/// Most repairs (each a parse of the whole file) tried on one file; past this the parser's error stands.
const MAX_REPAIRS: usize = 256;

/// Spaces a repair may always insert, however short the text; past that, as many as the text has bytes.
const MIN_PADDING: usize = 4096;

/// The messages of saphyr's indentation checks that libyaml and go-yaml do not make inside flow collections.
const FLOW_INDENTATION_ERRORS: [&str; 2] = [
    "invalid indentation",
    "invalid indentation in flow construct",
];

/// Parses all documents; stops at the first syntax error, keeping the documents completed before it.
///
/// Lines inside a flow collection that saphyr finds under-indented are re-indented in a padded copy of the text
/// and parsed again (see the module documentation); every position reported is mapped back to `text`. A text of
/// 2 GiB or more is refused (an error at its start): the tree addresses it with 31-bit offsets.
pub(crate) fn parse(text: &str) -> Parsed<'_> {
    if text.len() > MAX_TEXT {
        return too_large(0, text);
    }
    let mut padding = Padding::default();
    let mut passes = 0;
    loop {
        let padded = padding.apply(text);
        let (parsed, repair) = parse_padded(text, &padded, &padding);
        // A repair indents lines only up to what saphyr asks, so a line is never repaired twice for one check;
        // the count of passes bounds the work whatever the input.
        passes += 1;
        // Spaces inserted move the `[` a later line is indented past, so repairs can feed each other and grow
        // without end: past as many spaces as the text has bytes, the parser's error stands.
        let inserting: usize = repair.iter().map(|&(_, count)| count).sum();
        if repair.is_empty()
            || passes > MAX_REPAIRS
            || padding.total() + inserting > text.len().max(MIN_PADDING)
        {
            return parsed;
        }
        for insertion in repair {
            padding.insert(insertion);
        }
    }
}

/// The error for a text (or a value in it) past what the tree addresses, at byte `offset`.
/// Deepest nesting of collections read (Compose and Kubernetes files nest a few dozen levels at most).
const MAX_NESTING: usize = 1000;

fn too_large(offset: usize, text: &str) -> Parsed<'_> {
    let (line, column) = pyimage_model::text::line_column(text, offset);
    Parsed {
        error: Some(SyntaxError {
            message: format!("too large to read as YAML (the limit is {MAX_TEXT} bytes)"),
            offset,
            line,
            column,
        }),
        ..Parsed::default()
    }
}

/// One parse of the (padded) text; the second value is the repair to try (insertions, as
/// `(original offset of a line start, spaces)`) when the parse failed on an indentation libyaml does not check.
fn parse_padded<'t>(
    original: &'t str,
    text: &str,
    padding: &Padding,
) -> (Parsed<'t>, Vec<(usize, usize)>) {
    let offsets = CharOffsets::new(text);
    let mut columns = Columns::default();
    let mut parsed = Parsed::default();
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder::new(original);
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
                parsed.unfinished = Some(builder.finish());
                return (parsed, repair);
            }
        };
        let padded_start = offsets.byte(span.start.index());
        let padded_end = offsets.byte(span.end.index());
        let raw = Span::new(padding.original(padded_start), padding.original(padded_end));
        // What the event starts with, after any tag or anchor, in the padded text.
        let rest = text.get(padded_start..).unwrap_or("");
        let raw_text = rest
            .get(..padded_end.saturating_sub(padded_start))
            .unwrap_or(rest);
        let opening_at = padded_start + properties_len(raw_text);
        let opening = text.get(opening_at..).unwrap_or("");
        let built = match event {
            Event::DocumentStart(_) => {
                builder = Builder::new(original);
                Ok(())
            }
            Event::DocumentEnd => {
                let document = std::mem::replace(&mut builder, Builder::new(original)).finish();
                parsed.documents.push(document);
                Ok(())
            }
            Event::Scalar(value, style, anchor, _) => {
                // Where the value is written as is in the original text, if it is (nearly always): no copy.
                let quote = usize::from(matches!(
                    style,
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted
                ));
                let content = padding.original(opening_at) + quote;
                let written = original
                    .get(content..)
                    .is_some_and(|rest| rest.starts_with(&*value))
                    .then_some(content);
                builder.scalar(&value, written, style, raw, anchor)
            }
            Event::SequenceStart(..) | Event::MappingStart(..)
                if builder.depth() >= MAX_NESTING =>
            {
                // Bounds the parser's own stacks too: no more events are asked for.
                let (line, column) = pyimage_model::text::line_column(original, raw.start);
                parsed.error = Some(SyntaxError {
                    message: format!(
                        "collections nested more than {MAX_NESTING} deep: not a manifest anyone writes"
                    ),
                    offset: raw.start,
                    line,
                    column,
                });
                parsed.unfinished = Some(builder.finish());
                return (parsed, Vec::new());
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if opening.starts_with("{{") && parsed.template_structure.is_none() {
                    parsed.template_structure = Some(padding.original(opening_at));
                }
                let flow = opening.starts_with(['[', '{']);
                let column = flow.then(|| columns.column(text, opening_at));
                builder.open(matches!(event, Event::MappingStart(..)), anchor, column)
            }
            Event::SequenceEnd | Event::MappingEnd => builder.close(),
            Event::Alias(anchor) => builder.alias(anchor),
            Event::StreamStart | Event::StreamEnd | Event::Nothing => Ok(()),
        };
        if let Err(TooLarge) = built {
            return (too_large(raw.start, original), Vec::new());
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
pub(crate) fn content_span(text: &str, scalar: &Scalar<'_>) -> (Span, Option<NotRewritable>) {
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
            if rest.starts_with(scalar.value) {
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
            for scalar in document.scalars() {
                let (span, _) = content_span(text, &scalar);
                values.push(text.get(span.range()).unwrap_or("?").to_owned());
            }
        }
        (values, parsed.error)
    }

    #[test]
    fn repairs_that_feed_each_other_stop() {
        // Found by the fuzz target: each repair moved the `{` the next one indents past, and the padded copy grew
        // without end.
        let text = concat!(
            "  __3_/9h-&- name: {\u{73920}84_l:fx_9tag: \r_06_w@4  digest: \"<<: [*a, *a]\n",
            "oregistry: @\u{ee4ce}\u{6864a}images:\n",
            "\u{468}  digest: ? registry: %YAML 1.2\n",
            "spec:\n",
            ": uuixh@n9o\u{a0ef4}{{ x }}\u{105ba7}[    container: [spec:\n",
            "apiVersion: v1\n",
            "jobs:\n",
            "    container: - {{ x }}9\u{b}apiVersion: v1\n",
            ">-\n",
            "- name: python\n",
            "    container: steps:\n",
            "? ",
        );
        // Ran out of memory (or, with memory to spare, ran for as long as it lasted) before the bound.
        assert!(parse(text).error.is_some());
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
            .flat_map(|document| document.scalars().map(|scalar| scalar.value))
            .collect();
        assert!(
            folded.contains(&"x y z") && folded.contains(&"p q"),
            "{folded:?}"
        );
    }
}
