//! PY007 `prerelease`: alpha, beta or release-candidate Python outside environments that allow it.

use super::{Hit, ImageCheck, shown};

declare_rule! {
    Prerelease,
    id: "PY007",
    name: "prerelease",
    severity: Deny,
    summary: "Pre-release Python (`3.15-rc`, `3.15.0b1`) where the environment does not allow it.",
    what: "Reports an official (or mirrored) Python image whose tag names an alpha, beta or release candidate, or the \
`-rc` line, in an environment whose `prerelease` setting is false (everything but `dev` by default).",
    why: "Pre-releases change behaviour until the final release and are not meant for production; `3.15-rc` also \
turns into a different interpreter with each candidate.",
    example: "# environment test\nFROM python:3.15-rc-slim",
    fix: "Use the newest final release line for test and production; keep pre-releases in dev environments.",
    check: Some(check),
}

fn check(image: &ImageCheck<'_>) -> Option<Hit> {
    let tag = image.tag.as_ref()?;
    if !image.source.is_official_python() || !tag.is_prerelease() || image.settings.prerelease {
        return None;
    }
    Some(
        Hit::new(
            format!(
                "{} is a pre-release of Python; environment {} does not allow pre-releases",
                shown(image),
                image.environment
            ),
            "use a final release line",
        )
        .decided("requirement", &image.settings.origin),
    )
}
