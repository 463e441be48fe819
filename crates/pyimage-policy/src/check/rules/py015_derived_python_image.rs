//! PY015 `derived-python-image`: a third-party image built on Python, whose vendor decides when its Python is patched.

use super::{Hit, ImageCheck, Source, shown};

declare_rule! {
    DerivedPythonImage,
    id: "PY015",
    name: "derived-python-image",
    severity: Warn,
    summary: "Third-party image built on Python (`apache/beam_python3.12_sdk`, `tiangolo/uvicorn-gunicorn:python3.11`).",
    what: "Reports an image that embeds Python without posing as the official image: its repository name contains \
`python` next to other words (`apache/beam_python3.12_sdk`, `gcr.io/dataflow-templates-base/\
python311-template-launcher-base`), or its name or tag names a Python version (`ghcr.io/astral-sh/\
uv:0.5-python3.12-trixie-slim`, `tiangolo/uvicorn-gunicorn:python3.11`, `…-py312`). The Python line it names is \
read from there, so PY006 reports it past its end of life. Vendors' own Python images known by name are reported \
here too, with the vendor named (`mcr.microsoft.com/devcontainers/python`, `public.ecr.aws/lambda/python`, \
`cimg/python`, Red Hat's `ubi9/python-311`, `gcr.io/distroless/python3`, `bitnami/python`), their line read from \
the tag (`3.12-bookworm`). Images listed in `[policy] vendor-images` or `allowed-sources` are accepted; \
typosquats and `python` under unknown namespaces or registries are PY005's.",
    why: "Such an image is often the right base (an SDK harness, a launcher, a tool), but its Python comes from the \
vendor's build, patched on the vendor's schedule rather than docker-library's, and its tags follow no tag model \
pyimage can check.",
    example: "FROM apache/beam_python3.12_sdk:2.60.0",
    fix: "Keep it if you need the vendor's image and list its repository in `[policy] vendor-images` \
(`docker.io/apache/*`; no other image is judged differently), or build on `python:<tag>` yourself; \
`[rules] PY015 = \"allow\"` accepts every such image.",
    check: Some(check),
}

fn check(image: &ImageCheck<'_>) -> Option<Hit> {
    let reference = image.reference?;
    let Source::DerivedFromPython { python, evidence } = &image.source else {
        return None;
    };
    if image.policy.allowed_source(reference).is_some()
        || image.policy.accepted_vendor_image(reference).is_some()
    {
        return None;
    }
    let line = match python {
        Some((major, minor)) => format!("Python {major}.{minor}"),
        None => "Python".to_owned(),
    };
    Some(Hit::new(
        format!(
            "{} is a third-party image built on {line} ({evidence}); its vendor decides when that Python is patched",
            shown(image)
        ),
        format!(
            "if you accept its vendor, add it to [policy] vendor-images = [\"{}\"] (no other image is judged \
differently), or build on `python:<tag>`",
            reference.familiar_name()
        ),
    ))
}
