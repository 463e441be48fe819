//! Where a file enables Docker Content Trust (`DOCKER_CONTENT_TRUST` with a value that turns it on), for PY017. A
//! text scan rather than a parse: the variable is set the same few ways in every file kind pyimage reads (`ENV`,
//! `ARG`, `export`, `VAR=1 cmd`, `VAR: 1`, `- VAR=1`, a Kubernetes `name:`/`value:` pair).

use pyimage_locate::dockerfile::Span;

const NAME: &str = "DOCKER_CONTENT_TRUST";

/// The spans of the settings that enable Docker Content Trust.
pub fn find(text: &str) -> Vec<Span> {
    let mut found = Vec::new();
    let mut offset = 0;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    for (index, line) in lines.iter().enumerate() {
        let start_of_line = offset;
        offset += line.len();
        if line.trim_start().starts_with('#') {
            continue;
        }
        let mut from = 0;
        while let Some(at) = line
            .get(from..)
            .and_then(|rest| rest.find(NAME))
            .map(|i| i + from)
        {
            from = at + NAME.len();
            let before = line[..at].chars().next_back();
            let after = line[from..].chars().next();
            if before.is_some_and(is_word) || after.is_some_and(is_word) {
                continue;
            }
            let value = match value_after(&line[from..], line.trim_start()) {
                Some(value) => Some(value),
                // Kubernetes: `- name: DOCKER_CONTENT_TRUST` then `value: "1"` on the next line.
                None if line[from..].trim().trim_matches(['"', '\'']).is_empty() => lines
                    .get(index + 1)
                    .and_then(|next| next.trim_start().strip_prefix("value:"))
                    .map(|v| unquote(v.trim())),
                None => None,
            };
            if value.is_some_and(enables) {
                found.push(Span {
                    start: start_of_line + at,
                    end: start_of_line + from,
                });
            }
        }
    }
    found
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The value assigned right after the name: `=1`, `: 1`, `": "1"` (JSON), or Dockerfile's `ENV NAME 1`.
fn value_after<'t>(rest: &'t str, line: &str) -> Option<&'t str> {
    let rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest);
    let trimmed = rest.trim_start();
    let value = if let Some(value) = rest.strip_prefix('=') {
        value
    } else if let Some(value) = trimmed.strip_prefix(':') {
        value.trim_start()
    } else if line
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("ENV "))
        && trimmed.len() < rest.len()
    {
        trimmed
    } else {
        return None;
    };
    Some(unquote(value))
}

/// The first word of a value, without its quotes.
fn unquote(value: &str) -> &str {
    let value = value.trim_start();
    let (quoted, value) = match value.chars().next() {
        Some(q @ ('"' | '\'')) => (Some(q), &value[1..]),
        _ => (None, value),
    };
    let end = value
        .find(|c: char| match quoted {
            Some(q) => c == q,
            None => {
                c.is_whitespace() || matches!(c, ';' | ',' | '}' | ']' | '&' | '|' | '"' | '\'')
            }
        })
        .unwrap_or(value.len());
    &value[..end]
}

/// Whether Docker's CLI would turn Content Trust on for this value: any non-empty value but a false one
/// (`strconv.ParseBool`'s `0`, `f`, `false`, `F`, `FALSE`, `False`). Variables are not known here.
fn enables(value: &str) -> bool {
    !value.is_empty()
        && !value.starts_with('$')
        && !matches!(value, "0" | "f" | "F" | "false" | "FALSE" | "False")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(text: &str) -> usize {
        find(text).len()
    }

    #[test]
    fn settings_that_enable_it() {
        for text in [
            "ENV DOCKER_CONTENT_TRUST=1\n",
            "ENV DOCKER_CONTENT_TRUST 1\n",
            "ARG DOCKER_CONTENT_TRUST=1\n",
            "RUN DOCKER_CONTENT_TRUST=1 docker pull python:3.12\n",
            "RUN export DOCKER_CONTENT_TRUST=true && docker pull python\n",
            "env:\n  DOCKER_CONTENT_TRUST: 1\n",
            "variables:\n  DOCKER_CONTENT_TRUST: \"1\"\n",
            "environment:\n  - DOCKER_CONTENT_TRUST=1\n",
            "env: ['DOCKER_CONTENT_TRUST=1']\n",
            "{\"DOCKER_CONTENT_TRUST\": \"1\"}\n",
            "env:\n- name: DOCKER_CONTENT_TRUST\n  value: \"1\"\n",
        ] {
            assert_eq!(hits(text), 1, "{text}");
        }
    }

    #[test]
    fn settings_that_do_not() {
        for text in [
            "ENV DOCKER_CONTENT_TRUST=0\n",
            "ENV DOCKER_CONTENT_TRUST=false\n",
            "# ENV DOCKER_CONTENT_TRUST=1\n",
            "ENV DOCKER_CONTENT_TRUST=${DCT}\n",
            "ENV DOCKER_CONTENT_TRUST_SERVER=https://notary.example\n",
            "ENV MY_DOCKER_CONTENT_TRUST=1\n",
            "RUN echo DOCKER_CONTENT_TRUST is off\n",
            "env:\n- name: DOCKER_CONTENT_TRUST\n  value: \"0\"\n",
        ] {
            assert_eq!(hits(text), 0, "{text}");
        }
    }

    #[test]
    fn the_span_is_the_name() {
        let text = "FROM python:3.12\nENV A=1 DOCKER_CONTENT_TRUST=1\n";
        let span = find(text)[0];
        assert_eq!(&text[span.start..span.end], NAME);
    }
}
