//! Inline suppressions: `# pyimage: ignore[PY005] reason…` (several rules: `ignore[PY003, latest]`).
//!
//! A suppression written after code on a line (YAML) covers that line; a suppression on a line of its own covers
//! the next line that is neither blank nor a comment (the next instruction or key). The reason is mandatory.

use pyimage_locate::dockerfile::Span;

use super::rules::{RuleMeta, find_rule};

/// The marker that starts a suppression.
const MARKER: &str = "pyimage: ignore[";

/// One suppression comment.
#[derive(Debug, Clone)]
pub struct Suppression {
    /// Rules it names (unknown names are in `unknown`).
    pub rules: Vec<&'static RuleMeta>,
    /// Names that are not rules.
    pub unknown: Vec<String>,
    /// The reason, trimmed; empty when missing.
    pub reason: String,
    /// The comment's span (from `#` to the end of the line).
    pub span: Span,
    /// 1-based line of the comment.
    pub line: usize,
    /// 1-based line it covers: its own for a trailing comment, else the next non-blank, non-comment line.
    pub target_line: usize,
}

/// Finds the suppressions in a file.
pub fn find(text: &str) -> Vec<Suppression> {
    if !text.contains(MARKER) {
        return Vec::new();
    }
    let lines: Vec<(usize, &str)> = line_starts(text);
    let mut found = Vec::new();
    for (index, &(start, line)) in lines.iter().enumerate() {
        let Some(hash) = comment_start(line) else {
            continue;
        };
        let comment = &line[hash..];
        let Some(after_hash) = comment[1..].trim_start().strip_prefix(MARKER) else {
            continue;
        };
        let Some((names, reason)) = after_hash.split_once(']') else {
            continue;
        };
        let mut rules = Vec::new();
        let mut unknown = Vec::new();
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match find_rule(name) {
                Some(rule) => rules.push(rule),
                None => unknown.push(name.to_owned()),
            }
        }
        let reason = reason
            .trim()
            .trim_start_matches([':', '-'])
            .trim()
            .to_owned();
        let trailing = !line[..hash].trim().is_empty();
        let target_line = if trailing {
            index + 1
        } else {
            lines[index + 1..]
                .iter()
                .position(|(_, l)| {
                    let t = l.trim();
                    !t.is_empty() && !t.starts_with('#')
                })
                .map_or(index + 1, |offset| index + 2 + offset)
        };
        let end = start + line.trim_end_matches('\r').len();
        found.push(Suppression {
            rules,
            unknown,
            reason,
            span: Span::new(start + hash, end),
            line: index + 1,
            target_line,
        });
    }
    found
}

/// Where the comment starts: the first `#` at the line start or after whitespace.
fn comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    (0..bytes.len()).find(|&i| {
        bytes[i] == b'#'
            && (i == 0 || bytes[i - 1].is_ascii_whitespace() || line[..i].trim().is_empty())
    })
}

fn line_starts(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    for line in text.split('\n') {
        out.push((start, line));
        start += line.len() + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_line_and_trailing() {
        let text = "# pyimage: ignore[PY006, latest] legacy\n\n# another comment\nFROM python:3.9\nimage: x # pyimage: ignore[PY001]\n";
        let found = find(text);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].target_line, 4);
        assert_eq!(found[0].rules.len(), 2);
        assert_eq!(found[0].reason, "legacy");
        assert_eq!(found[1].target_line, 5);
        assert!(found[1].reason.is_empty());
        assert_eq!(&text[found[1].span.range()], "# pyimage: ignore[PY001]");
    }

    #[test]
    fn unknown_rules_and_garbage() {
        let found = find("#pyimage: ignore[PY999 nope\n# pyimage: ignore[bogus] why\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].unknown, vec!["bogus".to_owned()]);
    }
}
