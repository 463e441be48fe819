//! PY005 `non-official-source`: a Python image that is not `docker.io/library/python` or a declared mirror.

use super::{Hit, ImageCheck, Source, shown};

declare_rule! {
    NonOfficialSource,
    id: "PY005",
    name: "non-official-source",
    severity: Deny,
    summary: "Python image from somewhere other than `docker.io/library/python` or a declared mirror.",
    what: "Reports an image that is meant to be Python but is not the official image or a `[policy] mirrors` entry: \
a repository whose last name contains `python` or is one or two letters away from it (`pyhton`, `pythn`), \
`python` under another namespace or registry (`bitnami/python`, `myharbor.example/python`), or a tag that names \
Python (`tiangolo/uvicorn-gunicorn:python3.9`). Images listed in `[policy] allowed-sources` are accepted.",
    why: "The official image is built in public from docker-library/python, with provenance and SBOM attestations. \
Look-alike names are a classic typosquatting vector, and third-party Python images follow their own release and \
patch schedule.",
    example: "FROM pyhton:3.12-slim\nFROM tiangolo/uvicorn-gunicorn:python3.11",
    fix: "Use `python:<tag>` from Docker Hub; if the image comes from your own registry, declare it in \
`[policy] mirrors` (a mirror of the official image) or `[policy] allowed-sources`.",
    check: Some(check),
}

fn check(image: &ImageCheck<'_>) -> Option<Hit> {
    let reference = image.reference?;
    let Source::LookAlike(why) = &image.source else {
        return None;
    };
    if let Some(allowed) = image.policy.allowed_source(reference) {
        let _ = allowed;
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
