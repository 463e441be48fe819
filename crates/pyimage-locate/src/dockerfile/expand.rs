//! Variable substitution in a Dockerfile word (`$V`, `${V}`, `${V:-default}`, `${V:+alt}`, quotes, escapes), the
//! way BuildKit's shell lexer evaluates `FROM` base names, `--platform`, `--from` and `ARG` defaults.
//!
//! A word is first parsed into parts (so that a variable inside an unused default is never looked up), then
//! evaluated against a scope. Every variable that evaluation reads is recorded with its range in the logical line,
//! so a finding can point at the `${V}` it came from. Anything pyimage cannot know without running the build (an
//! `ARG` without a default, a platform `ARG`, an `ENV` value) makes the word unresolvable instead of guessed.

use super::Unresolvable;

/// Deepest `${A:-${B:-…}}` nesting evaluated (BuildKit's own parser recurses too; real files nest two or three).
pub const MAX_NESTING: usize = 32;

/// Longest word expanded, in bytes: a reference is at most a few hundred bytes, so anything this long is refused
/// before its parts are built.
pub(crate) const MAX_WORD: usize = 16 * 1024;

/// Largest value an expansion may produce: `ARG A1=${A0}${A0}` chains double at every line, and without this
/// bound 24 lines asked for gigabytes.
pub(crate) const MAX_EXPANSION: usize = 64 * 1024;

/// How a `${NAME<op>word}` substitution treats its word.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Modifier {
    /// `-` / `:-`: the word when unset (or, with the colon, empty).
    Default { colon: bool },
    /// `+` / `:+`: the word when set (or, with the colon, non-empty).
    Alternative { colon: bool },
    /// `?` / `:?`: an error when unset (or, with the colon, empty).
    Required { colon: bool },
    /// Pattern operators (`#`, `%`, `/` …) pyimage does not evaluate.
    Unsupported(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Variable {
        name: String,
        start: usize,
        end: usize,
        modifier: Option<(Modifier, Vec<Part>)>,
    },
}

/// What a scope knows about a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// Not declared: BuildKit expands it to nothing.
    Unset,
    /// Declared without a value: set but empty at build time unless a build argument is passed.
    DeclaredWithoutValue,
    /// A known value.
    Value(String),
    /// A value only the build knows.
    Unknowable(Unresolvable),
}

/// A variable read while evaluating a word, with its range in the logical line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VariableRead {
    pub(crate) name: String,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// The evaluation of one word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expansion {
    pub(crate) value: Result<String, Unresolvable>,
    pub(crate) reads: Vec<VariableRead>,
}

/// Evaluates `line[start..end]` with `escape` as the escape character.
pub(crate) fn expand(
    line: &str,
    start: usize,
    end: usize,
    escape: char,
    lookup: &dyn Fn(&str) -> Lookup,
) -> Expansion {
    let end = end.min(line.len());
    if end.saturating_sub(start) > MAX_WORD {
        return Expansion {
            value: Err(Unresolvable::Syntax {
                message: format!(
                    "a word of {} bytes is longer than {MAX_WORD}: not expanded (no image reference is that long)",
                    end - start
                ),
            }),
            reads: Vec::new(),
        };
    }
    let mut parser = WordParser {
        line,
        pos: start,
        end,
        escape,
        depth: 0,
    };
    let mut reads = Vec::new();
    let value = match parser.parse(None) {
        Ok(parts) => evaluate(&parts, lookup, &mut reads),
        Err(message) => Err(Unresolvable::Syntax { message }),
    };
    Expansion { value, reads }
}

struct WordParser<'a> {
    line: &'a str,
    pos: usize,
    end: usize,
    escape: char,
    /// How many `${…}` words enclose the position.
    depth: usize,
}

/// Appends literal text, merging it into the previous literal (one part per run of text, not per character).
fn push_literal(parts: &mut Vec<Part>, text: &str) {
    if let Some(Part::Literal(last)) = parts.last_mut() {
        last.push_str(text);
    } else {
        parts.push(Part::Literal(text.to_owned()));
    }
}

fn push_char(parts: &mut Vec<Part>, c: char) {
    push_literal(parts, c.encode_utf8(&mut [0; 4]));
}

impl WordParser<'_> {
    fn peek(&self) -> Option<char> {
        self.line.get(self.pos..self.end)?.chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn parse(&mut self, stop: Option<char>) -> Result<Vec<Part>, String> {
        let mut parts = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return match stop {
                    Some(_) => Err("missing '}'".to_owned()),
                    None => Ok(parts),
                };
            };
            if Some(c) == stop {
                return Ok(parts);
            }
            self.bump();
            match c {
                c if c == self.escape => {
                    if let Some(next) = self.bump() {
                        push_char(&mut parts, next);
                    }
                }
                '\'' => push_literal(&mut parts, &self.single_quoted()?),
                '"' => {
                    for part in self.double_quoted()? {
                        match part {
                            Part::Literal(text) => push_literal(&mut parts, &text),
                            variable => parts.push(variable),
                        }
                    }
                }
                '$' => match self.dollar()? {
                    Part::Literal(text) => push_literal(&mut parts, &text),
                    variable => parts.push(variable),
                },
                c => push_char(&mut parts, c),
            }
        }
    }

    fn single_quoted(&mut self) -> Result<String, String> {
        let mut text = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching single-quote"
                            .to_owned(),
                    );
                }
                Some('\'') => return Ok(text),
                Some(c) => text.push(c),
            }
        }
    }

    fn double_quoted(&mut self) -> Result<Vec<Part>, String> {
        let mut parts = Vec::new();
        loop {
            match self.bump() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching double-quote"
                            .to_owned(),
                    );
                }
                Some('"') => return Ok(parts),
                Some('$') => parts.push(self.dollar()?),
                Some(c) if c == self.escape => match self.peek() {
                    Some(next) if next == '"' || next == '$' || next == self.escape => {
                        self.bump();
                        push_char(&mut parts, next);
                    }
                    _ => push_char(&mut parts, c),
                },
                Some(c) => push_char(&mut parts, c),
            }
        }
    }

    /// After a `$` (already consumed).
    fn dollar(&mut self) -> Result<Part, String> {
        let start = self.pos - 1;
        if self.peek() == Some('{') {
            self.bump();
            let name = self.name();
            if name.is_empty() {
                return Err("bad substitution".to_owned());
            }
            let modifier = match self.bump() {
                None => return Err("missing '}'".to_owned()),
                Some('}') => None,
                Some(':') => match self.bump() {
                    Some('-') => Some(Modifier::Default { colon: true }),
                    Some('+') => Some(Modifier::Alternative { colon: true }),
                    Some('?') => Some(Modifier::Required { colon: true }),
                    Some(other) => {
                        return Err(format!("unsupported modifier ({other}) in substitution"));
                    }
                    None => return Err("missing '}'".to_owned()),
                },
                Some('-') => Some(Modifier::Default { colon: false }),
                Some('+') => Some(Modifier::Alternative { colon: false }),
                Some('?') => Some(Modifier::Required { colon: false }),
                Some(op @ ('#' | '%' | '/')) => Some(Modifier::Unsupported(op.to_string())),
                Some(other) => {
                    return Err(format!("unsupported modifier ({other}) in substitution"));
                }
            };
            let Some(modifier) = modifier else {
                return Ok(Part::Variable {
                    name,
                    start,
                    end: self.pos,
                    modifier: None,
                });
            };
            if self.depth >= MAX_NESTING {
                return Err(format!(
                    "substitutions nested more than {MAX_NESTING} deep: not evaluated"
                ));
            }
            self.depth += 1;
            let word = self.parse(Some('}'))?;
            self.depth -= 1;
            self.bump();
            return Ok(Part::Variable {
                name,
                start,
                end: self.pos,
                modifier: Some((modifier, word)),
            });
        }
        let name = self.name();
        if name.is_empty() {
            return Ok(Part::Literal("$".to_owned()));
        }
        Ok(Part::Variable {
            name,
            start,
            end: self.pos,
            modifier: None,
        })
    }

    /// A name: letters, digits and `_`; a leading digit makes a positional name of digits only.
    fn name(&mut self) -> String {
        let mut name = String::new();
        if self.peek().is_some_and(|c| c.is_ascii_digit()) {
            while let Some(c) = self.peek().filter(char::is_ascii_digit) {
                self.bump();
                name.push(c);
            }
            return name;
        }
        while let Some(c) = self.peek().filter(|&c| c.is_alphanumeric() || c == '_') {
            self.bump();
            name.push(c);
        }
        name
    }
}

fn evaluate(
    parts: &[Part],
    lookup: &dyn Fn(&str) -> Lookup,
    reads: &mut Vec<VariableRead>,
) -> Result<String, Unresolvable> {
    let mut out = String::new();
    for part in parts {
        match part {
            Part::Literal(text) => out.push_str(text),
            Part::Variable {
                name,
                start,
                end,
                modifier,
            } => {
                reads.push(VariableRead {
                    name: name.clone(),
                    start: *start,
                    end: *end,
                });
                out.push_str(&evaluate_variable(name, modifier.as_ref(), lookup, reads)?);
            }
        }
        if out.len() > MAX_EXPANSION {
            return Err(Unresolvable::Syntax {
                message: format!(
                    "expands to more than {MAX_EXPANSION} bytes: not evaluated (a chain of ARGs that double?)"
                ),
            });
        }
    }
    Ok(out)
}

fn evaluate_variable(
    name: &str,
    modifier: Option<&(Modifier, Vec<Part>)>,
    lookup: &dyn Fn(&str) -> Lookup,
    reads: &mut Vec<VariableRead>,
) -> Result<String, Unresolvable> {
    let found = lookup(name);
    if let Lookup::Unknowable(why) = found {
        return Err(why);
    }
    // `set` distinguishes "declared" from "unset"; a declared ARG without a value is set and empty at build time.
    let (set, value) = match &found {
        Lookup::Unset => (false, ""),
        Lookup::DeclaredWithoutValue => (true, ""),
        Lookup::Value(value) => (true, value.as_str()),
        Lookup::Unknowable(_) => (false, ""),
    };
    let Some((modifier, word)) = modifier else {
        return match found {
            Lookup::Value(value) => Ok(value),
            Lookup::DeclaredWithoutValue => Err(Unresolvable::ArgWithoutDefault {
                name: name.to_owned(),
            }),
            _ => Err(Unresolvable::Undeclared {
                name: name.to_owned(),
                declared_in_stage: None,
            }),
        };
    };
    let present = |colon: bool| set && !(colon && value.is_empty());
    match modifier {
        Modifier::Default { colon } => {
            if present(*colon) {
                Ok(value.to_owned())
            } else {
                evaluate(word, lookup, reads)
            }
        }
        Modifier::Alternative { colon } => {
            if present(*colon) {
                evaluate(word, lookup, reads)
            } else {
                Ok(String::new())
            }
        }
        Modifier::Required { colon } => {
            if present(*colon) {
                Ok(value.to_owned())
            } else {
                Err(Unresolvable::Required {
                    name: name.to_owned(),
                })
            }
        }
        Modifier::Unsupported(op) => Err(Unresolvable::UnsupportedModifier {
            name: name.to_owned(),
            modifier: op.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(word: &str, vars: &[(&str, Lookup)]) -> Expansion {
        let lookup = |name: &str| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map_or(Lookup::Unset, |(_, l)| l.clone())
        };
        expand(word, 0, word.len(), '\\', &lookup)
    }

    #[test]
    fn defaults_and_alternatives() {
        let v = Lookup::Value("3.12".into());
        assert_eq!(
            run("python:${V}", &[("V", v.clone())]).value,
            Ok("python:3.12".into())
        );
        assert_eq!(
            run("python:${W:-3.13}", &[]).value,
            Ok("python:3.13".into())
        );
        assert_eq!(
            run("python:${V:+x}", &[("V", v.clone())]).value,
            Ok("python:x".into())
        );
        assert_eq!(run("python:3${W:+x}", &[]).value, Ok("python:3".into()));
        assert_eq!(
            run("${E-d}", &[("E", Lookup::DeclaredWithoutValue)]).value,
            Ok(String::new())
        );
        assert_eq!(
            run("${E:-d}", &[("E", Lookup::DeclaredWithoutValue)]).value,
            Ok("d".into())
        );
        assert_eq!(run("${A:-${B:-x}}", &[]).value, Ok("x".into()));
        assert_eq!(run("\"py\"'thon'\\:", &[]).value, Ok("python:".into()));
        assert_eq!(run("a$", &[]).value, Ok("a$".into()));
    }

    #[test]
    fn unresolvable_and_errors() {
        assert_eq!(
            run("$E", &[("E", Lookup::DeclaredWithoutValue)]).value,
            Err(Unresolvable::ArgWithoutDefault { name: "E".into() })
        );
        assert!(matches!(
            run("${BASE", &[]).value,
            Err(Unresolvable::Syntax { .. })
        ));
        assert!(matches!(
            run("${BASE:x}", &[]).value,
            Err(Unresolvable::Syntax { .. })
        ));
        assert!(matches!(
            run("${A#x}", &[]).value,
            Err(Unresolvable::UnsupportedModifier { .. })
        ));
        assert!(matches!(
            run("'x", &[]).value,
            Err(Unresolvable::Syntax { .. })
        ));
    }

    #[test]
    fn reads_have_ranges() {
        let e = run(
            "a${B}c$D",
            &[
                ("B", Lookup::Value("b".into())),
                ("D", Lookup::Value("d".into())),
            ],
        );
        assert_eq!(e.value, Ok("abcd".into()));
        assert_eq!((e.reads[0].start, e.reads[0].end), (1, 5));
        assert_eq!((e.reads[1].start, e.reads[1].end), (6, 8));
    }
}
