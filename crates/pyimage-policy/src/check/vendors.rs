//! Python images that are not `docker.io/library/python` but are not impostors either, known by name:
//!
//! * public registries that serve byte-for-byte copies of Docker Hub's official Python image under another name
//!   (judged as mirrors of it: the official tag model applies, and `pin` checks the digest against Docker Hub);
//! * vendors' own images with Python inside, published under the vendor's namespace (judged as images derived from
//!   Python, PY015: the vendor decides when their Python is patched).
//!
//! Without this table, a repository named `python` under another namespace reads as a typosquat of the official image
//! (PY005, deny). The names and who publishes them come from each vendor's documentation (cited per entry).

use std::sync::LazyLock;

use pyimage_model::reference::Reference;

use super::policy::{Origin, SourcePattern};

/// Public copies of Docker Hub's official Python image: (repository pattern, what it is).
const PUBLIC_COPIES: &[(&str, &str)] = &[
    // https://gallery.ecr.aws/docker/library/python — "Docker Official Images" on Amazon ECR Public.
    (
        "public.ecr.aws/docker/library/python",
        "Amazon ECR Public's copy of Docker Hub's official images",
    ),
    // https://cloud.google.com/artifact-registry/docs/pull-cached-dockerhub-images — mirror.gcr.io caches Docker Hub.
    (
        "mirror.gcr.io/library/python",
        "Google's cache of Docker Hub (mirror.gcr.io)",
    ),
];

/// Vendors' own Python images: (repository pattern, who publishes it).
const VENDOR_IMAGES: &[(&str, &str)] = &[
    // https://github.com/devcontainers/images/tree/main/src/python
    (
        "mcr.microsoft.com/devcontainers/python",
        "Microsoft's Dev Containers image",
    ),
    (
        "mcr.microsoft.com/vscode/devcontainers/python",
        "Microsoft's Dev Containers image (its former name)",
    ),
    // https://mcr.microsoft.com/product/azure-functions/python/about
    (
        "mcr.microsoft.com/azure-functions/python",
        "Microsoft's Azure Functions image",
    ),
    // https://docs.docker.com/dhi/ — Docker Hardened Images (free under Apache-2.0 since December 2025), signed with
    // Docker's cosign key (the built-in `dhi` key of `[[trust.signatures]]`).
    ("dhi.io/python", "Docker Hardened Images"),
    // https://gallery.ecr.aws/lambda/python — AWS Lambda's base images.
    ("public.ecr.aws/lambda/python", "AWS Lambda's base image"),
    // https://circleci.com/developer/images/image/cimg/python — CircleCI's convenience images (and the legacy ones).
    ("cimg/python", "CircleCI's convenience image"),
    ("circleci/python", "CircleCI's legacy convenience image"),
    // https://catalog.redhat.com/software/containers/ubi9/python-311 — Red Hat's Universal Base Images.
    (
        "registry.access.redhat.com/ubi*/python-*",
        "Red Hat's Universal Base Image",
    ),
    (
        "registry.redhat.io/ubi*/python-*",
        "Red Hat's Universal Base Image",
    ),
    // https://quay.io/organization/fedora — Fedora's Python images (python-311, …).
    ("quay.io/fedora/python-*", "Fedora's image"),
    // https://github.com/GoogleContainerTools/distroless — python3, python3-debian12, …
    ("gcr.io/distroless/python3*", "Google's distroless image"),
    // https://hub.docker.com/r/bitnami/python — Bitnami's images, also on ECR Public.
    ("bitnami/python", "Bitnami's image"),
    ("public.ecr.aws/bitnami/python", "Bitnami's image"),
];

fn compiled(table: &'static [(&'static str, &'static str)]) -> Vec<(SourcePattern, &'static str)> {
    table
        .iter()
        .filter_map(|(pattern, what)| {
            Some((SourcePattern::new(pattern, Origin::Default).ok()?, *what))
        })
        .collect()
}

static COPIES: LazyLock<Vec<(SourcePattern, &'static str)>> =
    LazyLock::new(|| compiled(PUBLIC_COPIES));
static VENDORS: LazyLock<Vec<(SourcePattern, &'static str)>> =
    LazyLock::new(|| compiled(VENDOR_IMAGES));

/// The known public copy of the official image that `reference` names, if any: its pattern and what it is.
pub fn public_copy(reference: &Reference) -> Option<(&'static SourcePattern, &'static str)> {
    COPIES
        .iter()
        .find(|(pattern, _)| pattern.matches(reference))
        .map(|(pattern, what)| (pattern, *what))
}

/// The known vendor Python image that `reference` names, if any: its pattern and who publishes it.
pub fn vendor_image(reference: &Reference) -> Option<(&'static SourcePattern, &'static str)> {
    VENDORS
        .iter()
        .find(|(pattern, _)| pattern.matches(reference))
        .map(|(pattern, what)| (pattern, *what))
}

/// A built-in pattern and what it names.
pub type KnownPattern = (SourcePattern, &'static str);

/// Every built-in pattern, for exports that must decide the same way: (public copies, vendor images).
pub fn builtin_patterns() -> (&'static [KnownPattern], &'static [KnownPattern]) {
    (&COPIES, &VENDORS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_pattern_compiles() {
        assert_eq!(COPIES.len(), PUBLIC_COPIES.len());
        assert_eq!(VENDORS.len(), VENDOR_IMAGES.len());
    }

    /// Docker Hardened Images: a Python family of its own, its line read from its tags (`3.13`, `3.13-debian13`,
    /// `3.13-alpine3.22-dev`), never a look-alike of the official image.
    #[test]
    fn docker_hardened_python_is_a_vendor_image_with_its_line() {
        let policy = crate::check::Policy::default();
        for (text, line) in [
            ("dhi.io/python:3.13", (3, 13)),
            ("dhi.io/python:3.12-debian13", (3, 12)),
            ("dhi.io/python:3.14-alpine3.22-dev", (3, 14)),
        ] {
            let reference = Reference::parse_normalized(text).expect("valid");
            match crate::check::rules::classify(&reference, &policy) {
                crate::check::rules::Source::DerivedFromPython { python, evidence } => {
                    assert_eq!(python, Some(line), "{text}");
                    assert_eq!(evidence, "Docker Hardened Images");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
