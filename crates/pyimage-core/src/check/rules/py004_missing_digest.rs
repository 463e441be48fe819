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
            "append `@sha256:…` (see `pyimage resolve`)",
        )
        .decided("requirement", &image.settings.origin),
    )
}
