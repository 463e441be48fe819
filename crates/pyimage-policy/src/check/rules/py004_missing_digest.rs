//! PY004 `missing-digest`: no digest where the environment requires one.

use super::{Hit, ImageCheck, shown};

declare_rule! {
    MissingDigest,
    id: "PY004",
    name: "missing-digest",
    severity: Deny,
    summary: "Python image without a digest where the environment requires one (`prod` by default).",
    what: "Reports a Python image without `@sha256:…` in an environment whose `digest` setting is true.",
    why: "Every tag of the official image is mutable: even `python:3.12.14-slim-trixie` is rebuilt when Debian ships \
security fixes. Only a digest names exactly the bytes that were tested. hadolint has no such rule (its issue #773).",
    example: "# environment prod (digest = true)\nFROM python:3.12.14-slim-trixie",
    fix: "Append the digest the tag resolves to now (`pyimage resolve python:3.12.14-slim-trixie`), keeping the tag \
for readers: `python:3.12.14-slim-trixie@sha256:…`.",
    check: Some(check),
}

fn check(image: &ImageCheck<'_>) -> Option<Hit> {
    let reference = image.reference?;
    if !image.source.is_python() || !image.settings.digest || reference.digest().is_some() {
        return None;
    }
    Some(
        Hit::new(
            format!(
                "{} has no digest; environment {} requires one",
                shown(image),
                image.environment
            ),
            fix(image),
        )
        .decided("requirement", &image.settings.origin),
    )
}

/// Where the digest goes. After a variable part of the name or tag it would not follow a `--build-arg` (the old image
/// would be built under the new tag), so the fix there is to move the whole reference into the ARG. Text after the
/// last variable that starts with `/` means the variable names the registry host, where a digest after the reference
/// is sound (a mirror serves the same digest).
fn fix(image: &ImageCheck<'_>) -> String {
    let written = image.written.trim_end();
    let rest = after_last_variable(written);
    match (image.uses_args, image.reference) {
        (true, Some(reference)) if !rest.is_empty() && !rest.starts_with('/') => format!(
            "move the whole reference into the ARG and pin its default: `ARG PY_IMAGE={}@sha256:…` + `FROM ${{PY_IMAGE}}` (a digest after `{written}` would not follow a --build-arg)",
            reference.familiar_string()
        ),
        _ => "append `@sha256:…` (see `pyimage resolve`)".to_owned(),
    }
}

/// The literal text after the last `$NAME` / `${…}` of `written` (all of it when there is none).
fn after_last_variable(written: &str) -> &str {
    let Some((_, variable)) = written.rsplit_once('$') else {
        return written;
    };
    match variable.strip_prefix('{') {
        Some(braced) => braced.split_once('}').map_or("", |(_, rest)| rest),
        None => variable.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_'),
    }
}

#[cfg(test)]
mod tests {
    use super::after_last_variable;

    #[test]
    fn text_after_the_last_variable() {
        assert_eq!(after_last_variable("python:${V}-slim"), "-slim");
        assert_eq!(after_last_variable("python:$V-slim"), "-slim");
        assert_eq!(after_last_variable("python:${PY}"), "");
        assert_eq!(after_last_variable("python:$PY"), "");
        assert_eq!(
            after_last_variable("${R}/library/python:3.12"),
            "/library/python:3.12"
        );
        assert_eq!(after_last_variable("python:3.12"), "python:3.12");
    }
}
