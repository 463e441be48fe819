//! PY003 `floating-tag`: a Python tag that can move further than the environment allows.

use super::{Hit, ImageCheck, shown};

declare_rule! {
    FloatingTag,
    id: "PY003",
    name: "floating-tag",
    severity: Deny,
    summary: "Python tag coarser than the environment allows (e.g. `3.12` where `test` requires a patch version).",
    what: "Reports an official (or mirrored) Python image without a digest whose tag floats further than the \
environment's `float` setting: `latest` < `major` (`3`) < `minor` (`3.12`) < `patch` (`3.12.14`). The built-in \
`test` environment requires `patch`; `dev` allows anything; `prod` requires a digest instead (PY004).",
    why: "`python:3.12` becomes a new patch release every two months, so two runs of the same test suite can test \
different interpreters. A patch tag names one Python release.",
    example: "# environment test (float = \"patch\")\nFROM python:3.12-slim",
    fix: "Use the most specific tag of the image (`pyimage tags --from FILE 3.12-slim` lists it), e.g. \
`python:3.12.14-slim-trixie`, or pin a digest.",
    check: Some(check),
}

fn check(image: &ImageCheck<'_>) -> Option<Hit> {
    let reference = image.reference?;
    let tag = image.tag.as_ref()?;
    if !image.source.is_official_python() || reference.digest().is_some() {
        return None;
    }
    let float = tag.float();
    if float >= image.settings.float {
        return None;
    }
    Some(
        Hit::new(
            format!(
                "{} floats at the {float} level; environment {} allows at most {}",
                shown(image),
                image.environment,
                image.settings.float
            ),
            "use a full-version tag such as `3.12.14-slim`, or pin a digest",
        )
        .decided("requirement", &image.settings.origin),
    )
}
