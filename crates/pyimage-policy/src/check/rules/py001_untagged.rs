//! PY001 `untagged`: a Python image without a tag or digest.

use super::{Hit, ImageCheck, shown};

declare_rule! {
    Untagged,
    id: "PY001",
    name: "untagged",
    severity: Warn,
    summary: "Python image without a tag: Docker silently uses `latest`.",
    what: "Reports a Python image (official, mirror or look-alike) written without a tag and without a digest.",
    why: "Docker adds `:latest` to an untagged reference, so the build takes whatever the newest Python line is on \
the day it runs: a new minor version of Python arrives unannounced. hadolint reports the same as DL3006.",
    example: "FROM python",
    fix: "Name the Python line and variant you test with, e.g. `python:3.12.14-slim-trixie`, and pin it with \
`pyimage pin` where the environment requires a digest.",
    check: Some(check),
}

fn check(image: &ImageCheck<'_>) -> Option<Hit> {
    let reference = image.reference?;
    if !image.source.is_python() || reference.tag().is_some() || reference.digest().is_some() {
        return None;
    }
    Some(Hit::new(
        format!(
            "{} has no tag: Docker uses `latest`, whatever the newest Python is",
            shown(image)
        ),
        "add a tag naming the Python version, e.g. `python:3.12.14-slim`",
    ))
}
