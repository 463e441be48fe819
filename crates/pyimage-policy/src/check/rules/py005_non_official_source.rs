//! PY005 `non-official-source`: a Python image that is not `docker.io/library/python` or a declared mirror.

use super::{Hit, ImageCheck, Source, shown};

declare_rule! {
    NonOfficialSource,
    id: "PY005",
    name: "non-official-source",
    severity: Deny,
    summary: "Image posing as the official Python image: a typosquat, or `python` from another namespace or registry.",
    what: "Reports an image that is meant to be the official Python image but is not it or a `[policy] mirrors` \
entry: a repository name one or two letters away from `python` (`pyhton`, `pythn`), `python` with at most a \
version under another namespace or registry (`bitnami/python`, `myharbor.example/python`, `python3`), or a \
`python…` name in Docker Hub's `library/` namespace, which holds only official images (`library/python-evil`). \
Third-party images built on Python (`apache/beam_python3.12_sdk`) are PY015's. Images listed in `[policy] \
allowed-sources` are accepted.",
    why: "The official image is built in public from docker-library/python, with provenance and SBOM attestations. \
Look-alike names are a classic typosquatting vector, and third-party Python images follow their own release and \
patch schedule.",
    example: "FROM pyhton:3.12-slim\nFROM bitnami/python:3.12",
    fix: "Use `python:<tag>` from Docker Hub; if the image comes from your own registry, declare it in \
`[policy] mirrors` (a mirror of the official image) or `[policy] allowed-sources`.",
    check: Some(check),
}

fn check(image: &ImageCheck<'_>) -> Option<Hit> {
    let reference = image.reference?;
    let Source::LookAlike(why) = &image.source else {
        return None;
    };
    if image.policy.allowed_source(reference).is_some() {
        return None;
    }
    Some(Hit::new(
        format!(
            "{} looks like Python ({why}) but is not docker.io/library/python or a declared mirror",
            shown(image)
        ),
        "use `python:<tag>`, or declare the repository in [policy] mirrors or allowed-sources",
    ))
}
