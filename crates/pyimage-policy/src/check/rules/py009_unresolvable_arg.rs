//! PY009 `unresolvable-arg`: an image reference built from an ARG (or variable) pyimage cannot evaluate.

use super::{Hit, ImageCheck};
use pyimage_locate::dockerfile::{Unresolvable, literal_repository};
use pyimage_model::reference::Reference;

declare_rule! {
    UnresolvableArg,
    id: "PY009",
    name: "unresolvable-arg",
    severity: Warn,
    summary: "Image reference that depends on an ARG without a default (or another value only the build knows).",
    what: "Reports a reference that cannot be evaluated without running the build: an `ARG` with no default, a \
variable that is not in scope for `FROM`, a platform ARG, a Compose `${VAR}` set in no `.env` or `--env-file`, a \
value the CI system fills in (a workflow's `${{ matrix.python }}`, a GitLab `$VARIABLE`, a Cloud Build \
substitution, an empty Helm `tag`). pyimage does not guess the value, so none of the other rules can check the image. \
A reference whose repository is written literally and is not a Python image (`node:${NODE_TAG}`, \
`localhost:5000/frappe/erpnext:${VERSION}`) is not reported: no value of its tag makes it one; when only the tag \
is left open, the suggested default is a tag.",
    why: "Whatever is passed with `--build-arg` at build time becomes the base image, unchecked; the policy cannot \
vouch for it.",
    example: "ARG BASE\nFROM ${BASE}",
    fix: "Give the ARG a default that satisfies the policy (`ARG BASE=python:3.12.14-slim`), or suppress with a \
reason where the value is checked elsewhere.",
    check: Some(check),
}

fn check(image: &ImageCheck<'_>) -> Option<Hit> {
    let why = image.unresolvable?;
    // Only the tag left open (`node:${NODE_TAG}`): the repository decides whether this can be a Python image,
    // whatever the value, and a default for the variable is a tag, not an image.
    let repository = literal_repository(image.written)
        .and_then(|repository| Reference::parse_normalized(repository).ok());
    if let Some(repository) = &repository
        && !super::classify(repository, image.policy).is_python()
    {
        return None;
    }
    let default = if repository.is_some() {
        "3.12.14-slim"
    } else {
        "python:3.12.14-slim"
    };
    let subject = match why.variable() {
        Some(name) => format!("{} depends on {name}: {why}", image.written),
        None => format!("{} cannot be evaluated: {why}", image.written),
    };
    let fix = match why {
        Unresolvable::ComposeVariable { name } | Unresolvable::Required { name } => format!(
            "set {name} in the .env beside the Compose file (or pass --env-file), or write a default: `${{{name}:-{default}}}`"
        ),
        Unresolvable::Runtime { .. } => {
            "write the image literally where the policy can check it, or suppress with a reason where the value is checked elsewhere"
                .to_owned()
        }
        Unresolvable::ArgWithoutDefault { name } => format!(
            "give the ARG a default that satisfies the policy (`ARG {name}={default}`), or suppress with a reason"
        ),
        _ => "give the ARG a default that satisfies the policy, or suppress with a reason".to_owned(),
    };
    Some(Hit::new(subject, fix))
}
