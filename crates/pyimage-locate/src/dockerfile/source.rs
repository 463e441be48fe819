//! The physical layer of a Dockerfile: lines, parser directives, logical instructions and heredoc bodies.
//!
//! BuildKit reads a Dockerfile line by line and glues continued lines into one *logical* line before it looks at
//! words. pyimage does the same, but keeps, for every byte of a logical line, the byte of the file it came from,
//! so that anything found in the logical line can be reported (and rewritten) at its exact place in the file.
//!
//! The rules are BuildKit's (`frontend/dockerfile/parser/parser.go`, read for behaviour, not copied):
//! * lines end at `\n`; trailing `\r` and `\n` are not part of a line; a UTF-8 BOM before the first line is ignored;
//! * parser directives (`# syntax=`, `# escape=`, `# check=`) count only before any other line, comment or blank
//!   line, keys are case-insensitive, each may appear once;
//! * the first line of an instruction loses its leading white space; a line whose last non-blank character is the
//!   escape character (not itself escaped) continues on the next line; inside a continued instruction, comment lines
//!   and blank lines are skipped, and continuation lines keep their leading white space;
//! * after a `RUN`, `COPY` or `ADD` (also under `ONBUILD`) in shell form, every `<<NAME` / `<<-NAME` word opens a
//!   heredoc whose body runs to a line equal to `NAME` (with leading tabs removed for `<<-`); bodies are not
//!   instructions.

use super::{Problem, ProblemKind, Span};
pub(crate) use pyimage_model::text::LineIndex;

/// One physical line: `start..end` excludes the line break and trailing `\r`s.
#[derive(Debug, Clone, Copy)]
struct PhysicalLine {
    start: usize,
    end: usize,
}

fn physical_lines(text: &str) -> Vec<PhysicalLine> {
    let mut lines = Vec::new();
    let mut start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let bytes = text.as_bytes();
    while start <= text.len() {
        let next_break = bytes
            .get(start..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
            .map(|at| start + at);
        let raw_end = next_break.unwrap_or(text.len());
        let mut end = raw_end;
        while end > start && matches!(bytes.get(end - 1), Some(b'\r' | b'\n')) {
            end -= 1;
        }
        if next_break.is_none() && start == text.len() {
            break;
        }
        lines.push(PhysicalLine { start, end });
        match next_break {
            Some(at) => start = at + 1,
            None => break,
        }
    }
    lines
}

/// A parser directive found at the top of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// The key, lower-cased (`syntax`, `escape`, `check`).
    pub name: String,
    /// The value as written (trailing white space removed, as BuildKit does).
    pub value: String,
    /// Where the value is in the file.
    pub value_span: Span,
    /// 1-based line.
    pub line: usize,
}

/// A contiguous run of file bytes that makes up part of a logical line.
#[derive(Debug, Clone, Copy)]
struct Segment {
    logical: usize,
    file: usize,
    len: usize,
}

/// One instruction with its continuation lines joined, as BuildKit sees it, plus the way back to file offsets.
#[derive(Debug, Clone)]
pub(crate) struct Instruction {
    pub(crate) text: String,
    segments: Vec<Segment>,
}

impl Instruction {
    fn push(&mut self, file_text: &str, start: usize, end: usize) {
        let Some(piece) = file_text.get(start..end) else {
            return;
        };
        if piece.is_empty() {
            return;
        }
        self.segments.push(Segment {
            logical: self.text.len(),
            file: start,
            len: piece.len(),
        });
        self.text.push_str(piece);
    }

    fn file_offset(&self, logical: usize) -> usize {
        for segment in &self.segments {
            if logical < segment.logical + segment.len {
                return segment.file + logical.saturating_sub(segment.logical);
            }
        }
        self.segments
            .last()
            .map_or(0, |segment| segment.file + segment.len)
    }

    /// The file span of the logical range `start..end`.
    pub(crate) fn file_span(&self, start: usize, end: usize) -> Span {
        let file_start = self.file_offset(start);
        if end <= start {
            return Span::new(file_start, file_start);
        }
        let file_end = self.file_offset(end - 1) + 1;
        Span::new(file_start, file_end.max(file_start))
    }

    /// Whether the logical range comes from one run of file bytes (no continuation inside it).
    pub(crate) fn is_contiguous(&self, start: usize, end: usize) -> bool {
        if end <= start {
            return true;
        }
        self.segments
            .iter()
            .any(|segment| start >= segment.logical && end <= segment.logical + segment.len)
    }
}

/// What the physical pass knows besides the instructions: the directives (complete once the first instruction
/// is met) and the problems found so far.
#[derive(Debug, Default)]
pub(crate) struct Source {
    pub(crate) directives: Vec<Directive>,
    pub(crate) escape: char,
    pub(crate) problems: Vec<Problem>,
    /// Problems found past [`super::MAX_PROBLEMS`]: counted, not kept.
    pub(crate) more_problems: usize,
}

impl Source {
    fn problem(&mut self, problem: Problem) {
        if self.problems.len() < super::MAX_PROBLEMS {
            self.problems.push(problem);
        } else {
            self.more_problems += 1;
        }
    }
}

const VALID_DIRECTIVES: [&str; 3] = ["syntax", "escape", "check"];

/// Go's `unicode.IsSpace` for the characters that can occur in practice.
pub(crate) fn is_go_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0b}' | '\u{0c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    ) || c.is_whitespace()
}

/// Go regexp `\s`: `[\t\n\f\r ]`.
fn is_re_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{0c}' | '\r' | ' ')
}

/// Parses `#\s*key\s*=\s*value\s*` (the line already left-trimmed); returns key and the value's byte range.
fn parse_directive(line: &str) -> Option<(&str, usize, usize)> {
    let after_hash = line.strip_prefix('#')?;
    let key_start = line.len() - after_hash.trim_start_matches(is_re_space).len();
    let rest = line.get(key_start..)?;
    if !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let key_len = rest
        .char_indices()
        .find(|&(_, c)| !c.is_ascii_alphanumeric())
        .map_or(rest.len(), |(at, _)| at);
    let key = rest.get(..key_len)?;
    let after_key = rest.get(key_len..)?.trim_start_matches(is_re_space);
    let after_eq = after_key.strip_prefix('=')?;
    let value = after_eq.trim_start_matches(is_re_space);
    let value_start = line.len() - value.len();
    let trimmed_len = value.trim_end_matches(is_re_space).len();
    if trimmed_len == 0 {
        return None;
    }
    Some((key, value_start, value_start + trimmed_len))
}

/// If `line` (file range) ends with a line-continuation escape, the end of the kept text; BuildKit's rule is "the
/// escape character followed only by blanks, and not preceded by another escape character (unless it starts the
/// line)".
fn continuation_end(text: &str, start: usize, end: usize, escape: char) -> Option<usize> {
    let line = text.get(start..end)?;
    let without_blanks = line.trim_end_matches([' ', '\t']);
    let before_escape = without_blanks.strip_suffix(escape)?;
    if before_escape.is_empty() || !before_escape.ends_with(escape) {
        Some(start + before_escape.len())
    } else {
        None
    }
}

fn is_comment_line(text: &str) -> bool {
    text.trim_start_matches(is_go_space).starts_with('#')
}

fn is_blank_line(text: &str) -> bool {
    text.trim_start_matches(is_go_space).is_empty()
}

/// Splits a Dockerfile into directives and logical instructions, skipping comments and heredoc bodies. Each
/// instruction is handed to `each` (with what is known of the file by then) as soon as it is read and dropped
/// after: memory stays one instruction, whatever the number of lines.
pub(crate) fn read(
    text: &str,
    line_index: &LineIndex,
    mut each: impl FnMut(&Source, &Instruction),
) -> Source {
    let lines = physical_lines(text);
    let mut source = Source {
        escape: '\\',
        ..Source::default()
    };
    let mut directives_done = false;
    let mut at = 0;
    while let Some(&line) = lines.get(at) {
        at += 1;
        let content = text.get(line.start..line.end).unwrap_or("");
        let trimmed = content.trim_start_matches(is_go_space);
        let trimmed_start = line.end - trimmed.len();
        if !directives_done {
            directives_done =
                !read_directive(text, trimmed, trimmed_start, line_index, &mut source);
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut instruction = Instruction {
            text: String::new(),
            segments: Vec::new(),
        };
        let mut continued = continuation_end(text, trimmed_start, line.end, source.escape);
        instruction.push(text, trimmed_start, continued.unwrap_or(line.end));
        let mut empty_continuation = false;
        while continued.is_some() {
            let Some(&next) = lines.get(at) else { break };
            at += 1;
            let next_content = text.get(next.start..next.end).unwrap_or("");
            if is_comment_line(next_content) {
                continue;
            }
            if is_blank_line(next_content) {
                empty_continuation = true;
                continue;
            }
            continued = continuation_end(text, next.start, next.end, source.escape);
            instruction.push(text, next.start, continued.unwrap_or(next.end));
        }
        if empty_continuation {
            let (line_no, column) = line_index.position(text, trimmed_start);
            source.problem(Problem {
                kind: ProblemKind::EmptyContinuationLine,
                span: Span::new(trimmed_start, trimmed_start),
                line: line_no,
                column,
            });
        }
        for heredoc in heredocs_of(&instruction.text) {
            at = skip_heredoc(
                text,
                &lines,
                at,
                &heredoc,
                trimmed_start,
                line_index,
                &mut source,
            );
        }
        each(&source, &instruction);
    }
    source
}

/// Handles a possible directive line; returns whether directive parsing may continue.
fn read_directive(
    text: &str,
    trimmed: &str,
    trimmed_start: usize,
    line_index: &LineIndex,
    source: &mut Source,
) -> bool {
    let Some((key, value_start, value_end)) = parse_directive(trimmed) else {
        return false;
    };
    let name = key.to_ascii_lowercase();
    if !VALID_DIRECTIVES.contains(&name.as_str()) {
        return false;
    }
    let value_span = Span::new(trimmed_start + value_start, trimmed_start + value_end);
    let value = text.get(value_span.range()).unwrap_or("").to_owned();
    let (line, column) = line_index.position(text, value_span.start);
    if source
        .directives
        .iter()
        .any(|directive| directive.name == name)
    {
        source.problem(Problem {
            kind: ProblemKind::DuplicateDirective { name },
            span: value_span,
            line,
            column,
        });
        return true;
    }
    if name == "escape" {
        match value.as_str() {
            "\\" => source.escape = '\\',
            "`" => source.escape = '`',
            _ => source.problem(Problem {
                kind: ProblemKind::InvalidEscape {
                    value: value.clone(),
                },
                span: value_span,
                line,
                column,
            }),
        }
    }
    source.directives.push(Directive {
        name,
        value,
        value_span,
        line,
    });
    true
}

/// A heredoc opened by an instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Heredoc {
    pub(crate) name: String,
    pub(crate) strip_tabs: bool,
}

/// Instructions whose shell form may open heredocs.
const HEREDOC_COMMANDS: [&str; 3] = ["run", "copy", "add"];

/// The heredocs a logical line opens, in order.
pub(crate) fn heredocs_of(line: &str) -> Vec<Heredoc> {
    let words = raw_shell_words(line);
    let mut words_iter = words.iter().map(String::as_str);
    let Some(mut command) = words_iter.next() else {
        return Vec::new();
    };
    let mut skip = 1;
    if command.eq_ignore_ascii_case("onbuild") {
        let Some(inner) = words_iter.next() else {
            return Vec::new();
        };
        command = inner;
        skip = 2;
    }
    if !HEREDOC_COMMANDS
        .iter()
        .any(|c| command.eq_ignore_ascii_case(c))
    {
        return Vec::new();
    }
    // Shell form only: `RUN ["sh", "-c", "…"]` cannot open a heredoc. Flags come before the JSON array.
    let args: Vec<&str> = words
        .iter()
        .skip(skip)
        .map(String::as_str)
        .skip_while(|word| word.starts_with("--"))
        .collect();
    if is_json_string_array(&args.join(" ")) {
        return Vec::new();
    }
    words
        .iter()
        .skip(skip)
        .filter_map(|word| heredoc_of_word(word))
        .collect()
}

/// `^\d*<<(-?)([^<]*)$` with a non-empty, unquoted single-word name.
fn heredoc_of_word(word: &str) -> Option<Heredoc> {
    let after_digits = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let after_marker = after_digits.strip_prefix("<<")?;
    let (strip_tabs, rest) = match after_marker.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, after_marker),
    };
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    let name = unquote_heredoc_name(rest);
    if name.is_empty() || name.chars().any(is_go_space) {
        return None;
    }
    Some(Heredoc { name, strip_tabs })
}

fn unquote_heredoc_name(raw: &str) -> String {
    let mut name = String::new();
    let mut quote: Option<char> = None;
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => name.push(c),
            (_, '\\') => {
                if let Some(next) = chars.next() {
                    name.push(next);
                }
            }
            (_, c) => name.push(c),
        }
    }
    name
}

/// Splits a line into words the way BuildKit does before looking for heredocs: white space separates words, quotes
/// and backslash escapes are kept as written.
fn raw_shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if quote.is_none() && is_go_space(c) {
            if in_word {
                words.push(std::mem::take(&mut word));
                in_word = false;
            }
            continue;
        }
        in_word = true;
        word.push(c);
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('\''), _) => {}
            (_, '\\') => {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            _ => {}
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// Whether `text` is a JSON array of strings (the exec form of `RUN`, `CMD`, …).
pub(crate) fn is_json_string_array(text: &str) -> bool {
    let mut chars = text.trim().chars().peekable();
    if chars.next() != Some('[') {
        return false;
    }
    let skip_ws = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        while chars
            .peek()
            .is_some_and(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
        {
            chars.next();
        }
    };
    skip_ws(&mut chars);
    if chars.peek() == Some(&']') {
        chars.next();
        skip_ws(&mut chars);
        return chars.next().is_none();
    }
    loop {
        skip_ws(&mut chars);
        if chars.next() != Some('"') {
            return false;
        }
        loop {
            match chars.next() {
                None => return false,
                Some('"') => break,
                Some('\\') => {
                    if chars.next().is_none() {
                        return false;
                    }
                }
                Some(c) if (c as u32) < 0x20 => return false,
                Some(_) => {}
            }
        }
        skip_ws(&mut chars);
        match chars.next() {
            Some(',') => continue,
            Some(']') => {
                skip_ws(&mut chars);
                return chars.next().is_none();
            }
            _ => return false,
        }
    }
}

/// Skips the body of one heredoc starting at physical line `at`; returns the line after its terminator.
fn skip_heredoc(
    text: &str,
    lines: &[PhysicalLine],
    mut at: usize,
    heredoc: &Heredoc,
    instruction_start: usize,
    line_index: &LineIndex,
    source: &mut Source,
) -> usize {
    while let Some(&line) = lines.get(at) {
        at += 1;
        let content = text.get(line.start..line.end).unwrap_or("");
        let candidate = if heredoc.strip_tabs {
            content.trim_start_matches('\t')
        } else {
            content
        };
        if candidate == heredoc.name {
            return at;
        }
    }
    let (line, column) = line_index.position(text, instruction_start);
    source.problem(Problem {
        kind: ProblemKind::UnterminatedHeredoc {
            name: heredoc.name.clone(),
        },
        span: Span::new(instruction_start, instruction_start),
        line,
        column,
    });
    at
}
