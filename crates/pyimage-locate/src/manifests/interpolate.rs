//! Compose interpolation and `.env` files, as `docker compose` reads them.
//!
//! Variables come from the `.env` beside the Compose file or the `--env-file`s the caller read (see
//! [`parse_dotenv`]); the shell environment is not read, so a check gives the same answer on every machine. Per the
//! Compose specification: `$VAR` and `${VAR}` give the value; `${VAR:-default}` gives the default when VAR is unset
//! or empty, `${VAR-default}` only when it is unset; `${VAR:+alt}` / `${VAR+alt}` give `alt` when VAR is set (and,
//! with `:`, not empty), else nothing; `${VAR:?err}` / `${VAR?err}` fail unless VAR is set (and not empty); `$$` is
//! a literal `$`. A variable with no value and no default makes the reference unresolvable (Compose would
//! substitute an empty string with a warning, which never names the image meant).

use std::collections::BTreeMap;

use crate::dockerfile::Unresolvable;

/// Interpolates `value` with `variables`.
pub fn interpolate(
    value: &str,
    variables: &BTreeMap<String, String>,
) -> Result<String, Unresolvable> {
    interpolate_nested(value, variables, 0)
}

/// [`interpolate`] inside `nesting` enclosing defaults: nesting is bounded (as in Dockerfiles) so a hostile file is
/// an error, not a stack overflow.
fn interpolate_nested(
    value: &str,
    variables: &BTreeMap<String, String>,
    nesting: usize,
) -> Result<String, Unresolvable> {
    let limit = crate::dockerfile::MAX_NESTING;
    if nesting > limit {
        return Err(Unresolvable::Syntax {
            message: format!("substitutions nested more than {limit} deep: not evaluated"),
        });
    }
    let mut text = String::new();
    let mut rest = value;
    while let Some(dollar) = rest.find('$') {
        text.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            text.push('$');
            rest = tail;
        } else if let Some(braced) = after.strip_prefix('{') {
            let name_len = name_len(braced);
            let name = braced[..name_len].to_owned();
            let modifier = &braced[name_len..];
            // The expression ends at the matching `}` (defaults may hold nested `${…}`).
            let mut depth = 1usize;
            let mut close = None;
            for (offset, c) in modifier.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            close = Some(offset);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let Some(close) = close else {
                return Err(Unresolvable::ComposeVariable { name });
            };
            if name.is_empty() {
                return Err(Unresolvable::ComposeVariable { name });
            }
            let operator = &modifier[..close];
            let value = variables.get(&name);
            let set = value.is_some();
            let non_empty = value.is_some_and(|v| !v.is_empty());
            if operator.is_empty() {
                text.push_str(
                    value.ok_or_else(|| Unresolvable::ComposeVariable { name: name.clone() })?,
                );
            } else if let Some(default) = operator.strip_prefix(":-") {
                match value.filter(|_| non_empty) {
                    Some(value) => text.push_str(value),
                    None => text.push_str(&interpolate_nested(default, variables, nesting + 1)?),
                }
            } else if let Some(default) = operator.strip_prefix('-') {
                match value {
                    Some(value) => text.push_str(value),
                    None => text.push_str(&interpolate_nested(default, variables, nesting + 1)?),
                }
            } else if let Some(alternative) = operator.strip_prefix(":+") {
                if non_empty {
                    text.push_str(&interpolate_nested(alternative, variables, nesting + 1)?);
                }
            } else if let Some(alternative) = operator.strip_prefix('+') {
                if set {
                    text.push_str(&interpolate_nested(alternative, variables, nesting + 1)?);
                }
            } else if operator.starts_with(":?") {
                match value.filter(|_| non_empty) {
                    Some(value) => text.push_str(value),
                    None => return Err(Unresolvable::Required { name }),
                }
            } else if operator.starts_with('?') {
                match value {
                    Some(value) => text.push_str(value),
                    None => return Err(Unresolvable::Required { name }),
                }
            } else {
                return Err(Unresolvable::ComposeVariable { name });
            }
            rest = &modifier[close + 1..];
        } else if after.starts_with(|c: char| c == '_' || c.is_ascii_alphabetic()) {
            let len = name_len(after);
            let name = &after[..len];
            match variables.get(name) {
                Some(value) => text.push_str(value),
                None => {
                    return Err(Unresolvable::ComposeVariable {
                        name: name.to_owned(),
                    });
                }
            }
            rest = &after[len..];
        } else {
            text.push('$');
            rest = after;
        }
    }
    text.push_str(rest);
    Ok(text)
}

fn name_len(text: &str) -> usize {
    text.find(|c: char| c != '_' && !c.is_ascii_alphanumeric())
        .unwrap_or(text.len())
}

/// A line of a `.env` file that is not `NAME=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct DotenvError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Reads a `.env` file as Compose does: `NAME=VALUE` lines (an optional `export ` before), blank lines and `#`
/// comments ignored; a value in single quotes is literal, one in double quotes takes `\n`, `\t`, `\"` and `\\`
/// escapes and interpolation, an unquoted value is trimmed, loses a ` #` comment and is interpolated. Earlier
/// names (and `inherited`, the variables of earlier files) are visible to later values. Returns the variables of
/// this file merged over `inherited`.
pub fn parse_dotenv(
    text: &str,
    inherited: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, DotenvError> {
    let mut variables = inherited.clone();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let error = |message: &str| DotenvError {
            line: index + 1,
            message: message.to_owned(),
        };
        let (name, value) = line
            .split_once('=')
            .ok_or_else(|| error("expected NAME=VALUE"))?;
        let name = name.trim();
        if name.is_empty() || name.chars().any(|c| c.is_whitespace()) {
            return Err(error(
                "expected NAME=VALUE (the name has blanks or is empty)",
            ));
        }
        let value = value.trim_start();
        let value = if let Some(quoted) = value.strip_prefix('\'') {
            let end = quoted
                .find('\'')
                .ok_or_else(|| error("unterminated single quote"))?;
            quoted[..end].to_owned()
        } else if let Some(quoted) = value.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = quoted.chars();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\\' => match chars.next() {
                        Some('n') => out.push('\n'),
                        Some('t') => out.push('\t'),
                        Some(other) => out.push(other),
                        None => out.push('\\'),
                    },
                    c => out.push(c),
                }
            }
            if !closed {
                return Err(error("unterminated double quote"));
            }
            interpolate(&out, &variables).unwrap_or(out)
        } else {
            let value = match value.find(" #") {
                Some(comment) => &value[..comment],
                None => value,
            };
            let value = value.trim_end();
            interpolate(value, &variables).unwrap_or_else(|_| value.to_owned())
        };
        variables.insert(name.to_owned(), value);
    }
    Ok(variables)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_compose_operators() {
        let set = vars(&[("PY", "3.13"), ("EMPTY", "")]);
        let cases = [
            ("python:${PY}", Some("python:3.13")),
            ("python:$PY-slim", Some("python:3.13-slim")),
            ("python:${PY:-3.12}", Some("python:3.13")),
            ("python:${UNSET:-3.12}", Some("python:3.12")),
            ("python:${EMPTY:-3.12}", Some("python:3.12")),
            ("python:${EMPTY-3.12}", Some("python:")),
            ("python:${UNSET-3.12}", Some("python:3.12")),
            ("python:3.12${PY:+-slim}", Some("python:3.12-slim")),
            ("python:3.12${EMPTY:+-slim}", Some("python:3.12")),
            ("python:3.12${EMPTY+-slim}", Some("python:3.12-slim")),
            ("python:${PY:?set PY}", Some("python:3.13")),
            ("python:${EMPTY:?set it}", None),
            ("python:${EMPTY?set it}", Some("python:")),
            ("python:${UNSET}", None),
            ("python:$UNSET", None),
            ("a$$b", Some("a$b")),
            ("python:${UNSET:-${PY}}", Some("python:3.13")),
        ];
        for (text, expected) in cases {
            assert_eq!(interpolate(text, &set).ok().as_deref(), expected, "{text}");
        }
    }

    #[test]
    fn dotenv_lines() {
        let text = "# comment\n\nexport PY=3.13\nTAG=\"${PY}-slim\"\nRAW='${PY}'\nIMG=python:${TAG} # the image\nWIN=a\\tb\r\n";
        let parsed = parse_dotenv(text, &BTreeMap::new()).expect("valid");
        assert_eq!(parsed["PY"], "3.13");
        assert_eq!(parsed["TAG"], "3.13-slim");
        assert_eq!(parsed["RAW"], "${PY}");
        assert_eq!(parsed["IMG"], "python:3.13-slim");
        assert_eq!(parsed["WIN"], "a\\tb");
        assert_eq!(
            parse_dotenv("A=1\nnot a pair\n", &BTreeMap::new()),
            Err(DotenvError {
                line: 2,
                message: "expected NAME=VALUE".to_owned()
            })
        );
    }
}
