//! PY010 `unknown-tag-parts`: a tag of the official image with parts docker-library never publishes.

use super::{Hit, ImageCheck, shown};

declare_rule! {
    UnknownTagParts,
    id: "PY010",
    name: "unknown-tag-parts",
    severity: Warn,
    summary: "Official Python tag with parts docker-library never publishes (`3.12-slimm`, `3.12-buster-slim`).",
    what: "Reports an official (or mirrored) Python image whose tag has parts that are not a version, `rc`, a \
variant (`slim`, `alpine`, `windowsservercore`, `nanoserver`, the retired `onbuild`) or an OS release, in that \
order.",
    why: "Such a tag does not exist upstream (the pull fails), or exists only on a mirror that invented it, so the \
tag model (float level, line, end of life) cannot vouch for it.",
    example: "FROM python:3.12-slimm",
    fix: "Use a published tag: `pyimage tags --from FILE` lists them.",
    check: Some(check),
}

fn check(image: &ImageCheck<'_>) -> Option<Hit> {
    let tag = image.tag.as_ref()?;
    if !image.source.is_official_python() || tag.is_recognised() {
        return None;
    }
    Some(Hit::new(
        format!(
            "{}: tag part{} {} {} not used by docker-library",
            shown(image),
            if tag.unknown.len() == 1 { "" } else { "s" },
            tag.unknown
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", "),
            if tag.unknown.len() == 1 { "is" } else { "are" },
        ),
        "use a published tag (`pyimage tags --from FILE` lists them)",
    ))
}
