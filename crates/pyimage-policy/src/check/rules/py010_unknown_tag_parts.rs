//! PY010 `unknown-tag-parts`: a tag of the official image with parts docker-library never publishes.

use super::{Hit, ImageCheck, shown};
use pyimage_model::python::{
    DEBIAN_CODENAMES, PythonTag, PythonVersion, Variant, WINDOWS_RELEASES,
};

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
    fix: "Use a published tag: when the parts are all known but out of order, the finding names the canonical \
order (`3.12-buster-slim` → `3.12-slim-buster`); `pyimage tags --from FILE` lists the published tags.",
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
        match canonical_order(tag) {
            Some(canonical) => format!(
                "write the parts in docker-library's order: `{canonical}` (version, rc, variant, OS)"
            ),
            None => "use a published tag (`pyimage tags --from FILE` lists them)".to_owned(),
        },
    ))
}

/// The same parts in the order docker-library writes them (version, `rc`, variant, OS), when every part is one
/// of those, each at most once, and reordering makes a recognised tag: `3.12-buster-slim` → `3.12-slim-buster`.
fn canonical_order(tag: &PythonTag) -> Option<String> {
    // One slot per kind of part, in tag order.
    let mut slots: [Option<&str>; 4] = [None; 4];
    for part in tag.tag.split('-') {
        let slot = if PythonVersion::parse(part).is_some() {
            0
        } else if part == "rc" {
            1
        } else if Variant::from_name(part).is_some_and(|v| v != Variant::Full)
            || part
                .strip_prefix("alpine")
                .is_some_and(|release| release.contains('.'))
        {
            2
        } else if DEBIAN_CODENAMES.contains(&part) || WINDOWS_RELEASES.contains(&part) {
            3
        } else {
            return None;
        };
        if slots.get(slot).copied().flatten().is_some() {
            return None;
        }
        if let Some(entry) = slots.get_mut(slot) {
            *entry = Some(part);
        }
    }
    let canonical = slots
        .iter()
        .flatten()
        .copied()
        .collect::<Vec<_>>()
        .join("-");
    (canonical != tag.tag && PythonTag::parse(&canonical).is_recognised()).then_some(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_order_of_known_parts() {
        let canonical = |text: &str| canonical_order(&PythonTag::parse(text));
        assert_eq!(
            canonical("3.12-buster-slim").as_deref(),
            Some("3.12-slim-buster")
        );
        assert_eq!(
            canonical("3.12-ltsc2022-windowsservercore").as_deref(),
            Some("3.12-windowsservercore-ltsc2022")
        );
        assert_eq!(canonical("slim-3.12").as_deref(), Some("3.12-slim"));
        assert_eq!(canonical("3.15-slim-rc").as_deref(), Some("3.15-rc-slim"));
        assert_eq!(canonical("3.12-slimm"), None, "an unknown part");
        assert_eq!(canonical("3.12-slim-slim"), None, "a part twice");
        assert_eq!(
            canonical("3.12-alpine3.20-bookworm"),
            None,
            "not a published combination"
        );
        assert_eq!(canonical("3.12-slim-buster"), None, "already in order");
    }
}
