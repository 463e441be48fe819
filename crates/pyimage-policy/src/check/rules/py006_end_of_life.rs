//! PY006 `end-of-life`: a Python line past its end of life.

use super::super::eol::{builtin_eol, is_past};
use super::{Hit, ImageCheck, shown};
use crate::check::policy::Origin;

declare_rule! {
    EndOfLife,
    id: "PY006",
    name: "end-of-life",
    severity: Deny,
    summary: "Python line past its end of life (built-in CPython table, overridable in `[policy.eol]`).",
    what: "Reports an official (or mirrored) Python image whose tag names a line (`3.9`, `3.9.25-slim`) that reached \
its end of life on or before today, and an image derived from Python (PY015) whose name or tag names such a line \
(`tiangolo/uvicorn-gunicorn:python3.9`, `apache/beam_python3.8_sdk`), also when its source is allowed. The built-in table comes from the release PEPs (3.8: 2024-10-07, 3.9: \
2025-10-31, 3.10: 2026-10, 3.11: 2027-10, 3.12: 2028-10, 3.13: 2029-10, 3.14: 2030-10); a month-only date counts \
as over when the month is.",
    why: "An end-of-life line gets no security fixes from CPython, and docker-library stops building its images: \
the tag stays frozen on its last build while vulnerabilities accumulate.",
    example: "FROM python:3.9-slim\nFROM tiangolo/uvicorn-gunicorn:python3.9",
    fix: "Move to a supported line (`python:3.13-slim`, or the vendor's image for a supported line). If you must \
stay, suppress with a reason.",
    check: Some(check),
}

fn check(image: &ImageCheck<'_>) -> Option<Hit> {
    let (major, minor) = match &image.tag {
        Some(tag) if image.source.is_official_python() => tag.version?.major_minor()?,
        _ => image.source.derived_line()?,
    };
    let (date, origin, source) = match image.policy.eol.get(&(major, minor)) {
        Some((date, origin)) => (*date, origin.clone(), "configuration"),
        None => {
            let entry = builtin_eol(major, minor)?;
            (entry.date, Origin::Default, entry.source)
        }
    };
    if !is_past(date, image.today) {
        return None;
    }
    Some(
        Hit::new(
            format!(
                "{} is Python {major}.{minor}, end of life since {date} ({source})",
                shown(image)
            ),
            if image.source.is_official_python() {
                "move to a supported Python line"
            } else {
                "move to the vendor's image for a supported Python line"
            },
        )
        .decided("eol", &origin),
    )
}
