//! Splitting a logical instruction into words, each with its byte range in the logical line.
//!
//! BuildKit splits different instructions differently, and pyimage must agree to find the same words:
//! * the instruction name ends at the first blank (`[\t\v\f\r ]`);
//! * leading `--flag=value` words (`FROM --platform`, `COPY --from`, `RUN --mount`) are quote-aware and stop at the
//!   first word that does not start with `--`;
//! * `FROM` arguments are split on blanks only (quotes are not special there; they are removed later, when the
//!   base name is expanded);
//! * `ARG` and `ENV` words are quote- and escape-aware and keep quotes and escapes as written.

use super::source::is_go_space;

/// A word of a logical line: `start..end` in the logical text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Word<'a> {
    pub(crate) text: &'a str,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl<'a> Word<'a> {
    fn new(line: &'a str, start: usize, end: usize) -> Option<Self> {
        Some(Word {
            text: line.get(start..end)?,
            start,
            end,
        })
    }
}

/// BuildKit's `reWhitespace`: `[\t\v\f\r ]`.
fn is_blank(c: char) -> bool {
    matches!(c, '\t' | '\u{0b}' | '\u{0c}' | '\r' | ' ')
}

/// The instruction name and where its arguments start.
pub(crate) fn split_command(line: &str) -> Option<(Word<'_>, usize)> {
    let start = line.len() - line.trim_start_matches(is_go_space).len();
    let rest = line.get(start..)?;
    let len = rest.find(is_blank).unwrap_or(rest.len());
    let command = Word::new(line, start, start + len)?;
    if command.text.is_empty() {
        return None;
    }
    Some((command, start + len))
}

/// Words separated by blanks in `line[from..]`.
pub(crate) fn blank_separated(line: &str, from: usize) -> Vec<Word<'_>> {
    let mut words = Vec::new();
    let mut word_start: Option<usize> = None;
    let Some(rest) = line.get(from..) else {
        return words;
    };
    for (offset, c) in rest.char_indices() {
        let at = from + offset;
        match (word_start, is_blank(c) || c == '\n') {
            (Some(start), true) => {
                words.extend(Word::new(line, start, at));
                word_start = None;
            }
            (None, false) => word_start = Some(at),
            _ => {}
        }
    }
    if let Some(start) = word_start {
        words.extend(Word::new(line, start, line.len()));
    }
    words
}

/// Quote- and escape-aware words in `line[from..]`, kept as written (BuildKit's `parseWords`, used by `ARG`/`ENV`).
pub(crate) fn shell_words(line: &str, from: usize, escape: char) -> Vec<Word<'_>> {
    let mut words = Vec::new();
    let Some(rest) = line.get(from..) else {
        return words;
    };
    let mut chars = rest.char_indices().peekable();
    let mut word_start: Option<usize> = None;
    let mut quote: Option<char> = None;
    while let Some((offset, c)) = chars.next() {
        let at = from + offset;
        if quote.is_none() && is_go_space(c) {
            if let Some(start) = word_start.take() {
                words.extend(Word::new(line, start, at));
            }
            continue;
        }
        if word_start.is_none() {
            word_start = Some(at);
        }
        match quote {
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == escape => {
                chars.next();
            }
            Some(q) if c == q => quote = None,
            Some(q) if c == escape && q != '\'' => {
                chars.next();
            }
            _ => {}
        }
    }
    if let Some(start) = word_start {
        words.extend(Word::new(line, start, line.len()));
    }
    words
}

/// A `--name=value` flag before an instruction's arguments.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Flag<'a> {
    /// The name, without `--`.
    pub(crate) name: &'a str,
    /// The value as written (quotes and escapes not removed), when there is an `=`.
    pub(crate) value: Option<Word<'a>>,
}

/// Leading flags in `line[from..]` and where the remaining arguments start (BuildKit's `extractBuilderFlags`; its
/// escapes are always backslashes).
pub(crate) fn leading_flags(line: &str, from: usize) -> (Vec<Flag<'_>>, usize) {
    let mut flags = Vec::new();
    let mut at = from;
    loop {
        let Some(rest) = line.get(at..) else {
            return (flags, line.len());
        };
        let skipped = rest.len() - rest.trim_start_matches(is_go_space).len();
        at += skipped;
        let Some(rest) = line.get(at..) else {
            return (flags, line.len());
        };
        if !rest.starts_with("--") {
            return (flags, at);
        }
        let end = at + flag_word_len(rest);
        let Some(word) = Word::new(line, at, end) else {
            return (flags, line.len());
        };
        if word.text == "--" {
            return (flags, end);
        }
        let body = word.text.get(2..).unwrap_or("");
        let (name, value) = match body.find('=') {
            Some(eq) => (
                body.get(..eq).unwrap_or(""),
                Word::new(line, at + 2 + eq + 1, end),
            ),
            None => (body, None),
        };
        flags.push(Flag { name, value });
        at = end;
    }
}

/// Length of a flag word: up to the first white space outside quotes; a backslash escapes the next character.
fn flag_word_len(text: &str) -> usize {
    let mut quote: Option<char> = None;
    let mut chars = text.char_indices();
    while let Some((offset, c)) = chars.next() {
        match quote {
            None if is_go_space(c) => return offset,
            None if c == '\'' || c == '"' => quote = Some(c),
            Some(q) if c == q => quote = None,
            _ if c == '\\' => {
                chars.next();
            }
            _ => {}
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(words: &[Word<'_>]) -> Vec<String> {
        words.iter().map(|w| w.text.to_owned()).collect()
    }

    #[test]
    fn flags_stop_at_the_first_argument() {
        let line = "FROM --platform=\"linux/amd64\" --x image AS b";
        let (command, from) = split_command(line).unwrap();
        assert_eq!(command.text, "FROM");
        let (flags, rest) = leading_flags(line, from);
        assert_eq!(flags.len(), 2);
        assert_eq!(flags[0].name, "platform");
        assert_eq!(flags[0].value.unwrap().text, "\"linux/amd64\"");
        assert_eq!(flags[1].name, "x");
        assert!(flags[1].value.is_none());
        assert_eq!(texts(&blank_separated(line, rest)), ["image", "AS", "b"]);
    }

    #[test]
    fn shell_words_keep_quotes() {
        let line = "ARG A=\"x y\" B='z' C=a\\ b";
        let (_, from) = split_command(line).unwrap();
        assert_eq!(
            texts(&shell_words(line, from, '\\')),
            ["A=\"x y\"", "B='z'", "C=a\\ b"]
        );
    }
}
