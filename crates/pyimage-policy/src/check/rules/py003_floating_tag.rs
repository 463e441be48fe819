//! PY003 `floating-tag`: a Python tag that can move further than the environment allows.

use super::{Hit, ImageCheck, shown};
use pyimage_model::python::{OsFamily, PythonTag, Variant};

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
    fix: "Use the full-version tag of the same line, variant and OS (`3.13-alpine3.22` → `3.13.9-alpine3.22`; the \
finding names the newest patch pyimage knows offline, `pyimage tags --from FILE 3.13-alpine3.22` lists the current \
one), or pin a digest.",
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
            match exact_tag(tag) {
                Some(exact) => format!(
                    "use the full-version tag `{exact}` (the newest patch pyimage knows offline; `pyimage tags` \
lists the current one), or pin a digest"
                ),
                None => "use a full-version tag such as `3.12.14-slim` (`pyimage tags` lists them), or pin a digest"
                    .to_owned(),
            },
        )
        .decided("requirement", &image.settings.origin),
    )
}

/// The newest patch release of each line that pyimage knows without a registry, oldest line first. It ages: the
/// fix says so and points at `pyimage tags`, which asks the registry.
const NEWEST_PATCH: &[(u32, u32, u32)] = &[
    (3, 9, 25),
    (3, 10, 19),
    (3, 11, 14),
    (3, 12, 14),
    (3, 13, 9),
    (3, 14, 0),
];

/// The full-version tag with the same line, variant and OS as `tag` (`3.13-alpine3.22` → `3.13.9-alpine3.22`), from
/// [`NEWEST_PATCH`]. `None` for tags without a line (`latest`, `3-slim`: choosing one is the user's decision),
/// pre-release lines, lines it does not know and tags with parts outside the tag model.
fn exact_tag(tag: &PythonTag) -> Option<String> {
    if tag.is_prerelease() || !tag.is_recognised() {
        return None;
    }
    let line = tag.version?.major_minor()?;
    let (major, minor, patch) = *NEWEST_PATCH
        .iter()
        .find(|(major, minor, _)| (*major, *minor) == line)?;
    let mut exact = format!("{major}.{minor}.{patch}");
    // `alpine3.22` is the variant and the OS at once.
    let alpine_release = tag
        .os
        .as_ref()
        .is_some_and(|os| os.family == OsFamily::Alpine);
    if tag.variant != Variant::Full && !alpine_release {
        exact.push('-');
        exact.push_str(tag.variant.as_str());
    }
    if let Some(os) = &tag.os {
        exact.push('-');
        exact.push_str(&os.name);
    }
    Some(exact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_tag_keeps_line_variant_and_os() {
        let exact = |text: &str| exact_tag(&PythonTag::parse(text));
        for (floating, full) in [
            ("3.13-alpine3.22", "3.13.9-alpine3.22"),
            ("3.13-alpine", "3.13.9-alpine"),
            ("3.12-slim", "3.12.14-slim"),
            ("3.11-slim-bookworm", "3.11.14-slim-bookworm"),
            ("3.10", "3.10.19"),
            (
                "3.12-windowsservercore-ltsc2022",
                "3.12.14-windowsservercore-ltsc2022",
            ),
            ("3.14-slim-trixie", "3.14.0-slim-trixie"),
        ] {
            assert_eq!(exact(floating).as_deref(), Some(full), "{floating}");
        }
        for none in [
            "3.15-rc",
            "3.7-slim",
            "3.12-slimm",
            "3-slim",
            "latest",
            "slim",
        ] {
            assert_eq!(exact(none), None, "{none}");
        }
    }
}
