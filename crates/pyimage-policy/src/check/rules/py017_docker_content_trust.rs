//! PY017 `docker-content-trust`: `DOCKER_CONTENT_TRUST` enabled in a Dockerfile, a CI file or a Compose file.
//! Raised by the checker from the file's text (`check::content_trust`), not per image.

declare_rule! {
    DockerContentTrust,
    id: "PY017",
    name: "docker-content-trust",
    severity: Warn,
    summary: "`DOCKER_CONTENT_TRUST=1` set: after the Notary shutdown (2026-12-08) pulls of official images fail with it.",
    what: "Reports `DOCKER_CONTENT_TRUST` set to a value that enables Docker Content Trust (`1`, `true`, any value \
but `0` or `false`): `ENV`/`ARG` or a `RUN` command line in a Dockerfile; `env:`, `variables:`, `environment:` or \
an `export` line in GitHub Actions, GitLab CI, Cloud Build, Compose and Kubernetes files. Values taken from \
variables (`${DCT}`) and comment lines are not reported.",
    why: "Docker Content Trust (Notary v1) is retired for Docker Official Images, no replacement signature has \
shipped, and Docker Hub's Notary service shuts down on 2026-12-08. With `DOCKER_CONTENT_TRUST` enabled, `docker pull` \
and `docker build` of official images such as `python` fail once it is gone, and keeping it set buys no protection \
in exchange: what can be checked today is the content digest, the image's attestations and the signatures that do \
exist, none of which Docker Content Trust looks at.",
    example: "# Dockerfile\nENV DOCKER_CONTENT_TRUST=1\n\n# .github/workflows/build.yml\nenv:\n  DOCKER_CONTENT_TRUST: 1",
    fix: "Remove the setting. Pin the image by digest (`pyimage pin`) so that the bytes cannot change under the tag, \
and check what you pulled with `pyimage verify` (the digest Docker Hub serves, its attestations, and the PSF's \
Sigstore signature on the CPython release inside).",
    check: None,
}
