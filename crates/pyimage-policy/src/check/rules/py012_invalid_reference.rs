//! PY012 `invalid-reference`: text that Docker does not accept as an image reference.

use super::{Hit, ImageCheck};

declare_rule! {
    InvalidReference,
    id: "PY012",
    name: "invalid-reference",
    severity: Deny,
    summary: "Image text Docker rejects (`invalid reference format`, upper-case repository, bad digest).",
    what: "Reports an image whose (evaluated) text is not a valid reference by Docker's own grammar, with Docker's \
error message.",
    why: "The build or deployment fails on it, and no other rule can check it.",
    example: "FROM Python:3.12",
    fix: "Write the reference in Docker's grammar: lower-case repository, `name:tag@sha256:<64 hex>`.",
    check: Some(check),
}

fn check(image: &ImageCheck<'_>) -> Option<Hit> {
    let (text, error) = image.reference_error?;
    Some(Hit::new(
        format!("{text:?} is not a valid image reference: {error}"),
        "write the reference as Docker expects (lower-case repository, name:tag@sha256:<64 hex>)",
    ))
}
