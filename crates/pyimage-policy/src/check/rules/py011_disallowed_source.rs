//! PY011 `disallowed-source`: an image from outside `[policy] allowed-sources`, when that list is set.

use super::{Hit, ImageCheck, shown};
use crate::check::SiteKind;
use pyimage_locate::dockerfile::ImageKind;

declare_rule! {
    DisallowedSource,
    id: "PY011",
    name: "disallowed-source",
    severity: Deny,
    summary: "Image (of any kind) not in `[policy] allowed-sources`, when the policy lists allowed sources.",
    what: "When `[policy] allowed-sources` is set, reports every image that matches none of its patterns and is not \
the official Python image or a declared mirror. Python look-alikes are reported by PY005, images derived from \
Python by PY015 instead. Without the setting, non-Python images are not checked at all.",
    why: "An allow-list of registries keeps builds from pulling from places the organisation does not control or \
trust (hadolint's DL3026 is the same idea).",
    example: "# allowed-sources = [\"docker.io/library/*\"]\nFROM quay.io/someone/tool:1",
    fix: "Use an image from an allowed source, or add its repository to `[policy] allowed-sources`.",
    check: Some(check),
}

fn check(image: &ImageCheck<'_>) -> Option<Hit> {
    let reference = image.reference?;
    if image.policy.allowed_sources.is_empty()
        || image.source.is_python()
        || image.policy.allowed_source(reference).is_some()
    {
        return None;
    }
    let what = if image.site == SiteKind::Dockerfile(ImageKind::Syntax) {
        "the Dockerfile frontend "
    } else {
        ""
    };
    let mut hit = Hit::new(
        format!(
            "{what}{} is not from an allowed source ({})",
            shown(image),
            image
                .policy
                .allowed_sources
                .iter()
                .map(|p| p.written.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        "use an allowed registry, or add this repository to [policy] allowed-sources",
    );
    if let Some(first) = image.policy.allowed_sources.first() {
        hit = hit.decided("source", &first.origin);
    }
    Some(hit)
}
