//! PY002 `latest`: a Python image tagged `latest`.

use super::{Hit, ImageCheck, shown};

declare_rule! {
    Latest,
    id: "PY002",
    name: "latest",
    severity: Warn,
    summary: "Python image tagged `latest`.",
    what: "Reports a Python image whose tag is exactly `latest` and that has no digest.",
    why: "`latest` follows the newest Python line: the interpreter can change minor version between two builds of \
the same commit. hadolint reports the same as DL3007. With a digest the tag is only a label and is not reported.",
    example: "FROM python:latest",
    fix: "Use a tag that names the Python version (`python:3.12.14-slim`), or pin a digest.",
    check: Some(check),
}

fn check(image: &ImageCheck<'_>) -> Option<Hit> {
    let reference = image.reference?;
    if !image.source.is_python()
        || reference.tag() != Some("latest")
        || reference.digest().is_some()
    {
        return None;
    }
    Some(Hit::new(
        format!("{} follows the newest Python line", shown(image)),
        "replace `latest` with the version you test with, e.g. `3.12.14-slim`",
    ))
}
