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
version under an unknown namespace or registry (`someone/python`, `myharbor.example/python`, `python3`), or a \
`python…` name in Docker Hub's `library/` namespace, which holds only official images (`library/python-evil`). \
Third-party images built on Python (`apache/beam_python3.12_sdk`) and vendors' own Python images known by name \
(`mcr.microsoft.com/devcontainers/python`, `public.ecr.aws/lambda/python`, `cimg/python`, Red Hat's \
`ubi9/python-311`, `gcr.io/distroless/python3`) are PY015's; public copies of the official image \
(`public.ecr.aws/docker/library/python`, `mirror.gcr.io/library/python`) are mirrors of it. Images listed in \
`[policy] vendor-images` or `allowed-sources` are accepted.",
    why: "The official image is built in public from docker-library/python, with provenance and SBOM attestations. \
Look-alike names are a classic typosquatting vector, and third-party Python images follow their own release and \
patch schedule.",
    example: "FROM pyhton:3.12-slim\nFROM someone/python:3.12",
    fix: "Use `python:<tag>` from Docker Hub; if the image is a copy of the official image in your own registry, \
declare it in `[policy] mirrors`; if it is a vendor's Python image you accept, list it in `[policy] vendor-images` \
(this changes how no other image is judged).",
    check: Some(check),
}

fn check(image: &ImageCheck<'_>) -> Option<Hit> {
    let reference = image.reference?;
    let Source::LookAlike(why) = &image.source else {
        return None;
    };
    if image.policy.allowed_source(reference).is_some()
        || image.policy.accepted_vendor_image(reference).is_some()
    {
        return None;
    }
    let repository = reference.familiar_name();
    // Docker Hub's library/ holds only official images: a look-alike there is nobody's mirror or vendor image.
    let fix = if reference.domain() == "docker.io" && reference.path().starts_with("library/") {
        "use `python:<tag>`, the official image".to_owned()
    } else {
        format!(
            "use `python:<tag>`; if {repository} copies the official image, add it to [policy] mirrors; if it is a \
vendor's Python image you accept, add it to [policy] vendor-images = [\"{repository}\"] (no other image is judged \
differently)"
        )
    };
    Some(Hit::new(
        format!(
            "{} looks like Python ({why}) but is not docker.io/library/python or a declared mirror",
            shown(image)
        ),
        fix,
    ))
}
