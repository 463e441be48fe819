//! PY009 `unresolvable-arg`: an image reference built from an ARG (or variable) pyimage cannot evaluate.

use super::{Hit, ImageCheck};
use pyimage_locate::dockerfile::Unresolvable;

declare_rule! {
    UnresolvableArg,
    id: "PY009",
    name: "unresolvable-arg",
    severity: Warn,
    summary: "Image reference that depends on an ARG without a default (or another value only the build knows).",
    what: "Reports a reference that cannot be evaluated without running the build: an `ARG` with no default, a \
variable that is not in scope for `FROM`, a platform ARG, a Compose `${VAR}` set in no `.env` or `--env-file`, a \
value the CI system fills in (a workflow's `${{ matrix.python }}`, a GitLab `$VARIABLE`, a Cloud Build \
substitution, an empty Helm `tag`). pyimage does not guess the value, so none of the other rules can check the image.",
    why: "Whatever is passed with `--build-arg` at build time becomes the base image, unchecked; the policy cannot \
vouch for it.",
    example: "ARG BASE\nFROM ${BASE}",
    fix: "Give the ARG a default that satisfies the policy (`ARG BASE=python:3.12.14-slim`), or suppress with a \
reason where the value is checked elsewhere.",
    check: Some(check),
}

fn check(image: &ImageCheck<'_>) -> Option<Hit> {
    let why = image.unresolvable?;
    let subject = match why.variable() {
        Some(name) => format!("{} depends on {name}: {why}", image.written),
        None => format!("{} cannot be evaluated: {why}", image.written),
    };
    let fix = match why {
        Unresolvable::ComposeVariable { name } | Unresolvable::Required { name } => format!(
            "set {name} in the .env beside the Compose file (or pass --env-file), or write a default: `${{{name}:-python:3.12.14-slim}}`"
        ),
        Unresolvable::Runtime { .. } => {
            "write the image literally where the policy can check it, or suppress with a reason where the value is checked elsewhere"
                .to_owned()
        }
        _ => "give the ARG a default that satisfies the policy, or suppress with a reason".to_owned(),
    };
    Some(Hit::new(subject, fix))
}
