//! PY008 `lock-mismatch`: a Python image that `pyimage.lock` does not vouch for (active with `check --locked`).

use super::{Hit, ImageCheck, shown};
use pyimage_model::lock::LockMatch;

declare_rule! {
    LockMismatch,
    id: "PY008",
    name: "lock-mismatch",
    severity: Deny,
    summary: "Digest that disagrees with `pyimage.lock`, or a Python image the lock does not know (with `--locked`).",
    what: "With `pyimage check --locked`, compares each Python image with its entry in `pyimage.lock` (matched by \
normalized repository and tag): a digest different from the locked one, a reference without digest although the lock \
pins it, a digest the lock records under another tag (the tag was edited by hand), and a reference the lock has no \
entry for are reported. Without `--locked` the rule is inactive.",
    why: "The lock records what was resolved and verified; a reference edited by hand (or by a bot) that no longer \
matches it has not been verified.",
    example: "# pyimage.lock says python:3.12.14-slim@sha256:aaa…\nFROM python:3.12.14-slim@sha256:bbb…",
    fix: "Run `pyimage pin` (new references) or `pyimage update` (moved tags) to resolve and record the reference, or restore the locked one.",
    check: Some(check),
}

fn check(image: &ImageCheck<'_>) -> Option<Hit> {
    let lock = image.lock?;
    let reference = image.reference?;
    // Exactly the images `pin` records: anything else would ask for a pin that `pin` never makes.
    if !image.source.is_pinned() {
        return None;
    }
    let locked = match lock.lookup(reference) {
        LockMatch::Entry(locked) => locked,
        LockMatch::OtherTag(locked) => {
            return Some(Hit::new(
                format!(
                    "{} carries the digest pyimage.lock records for {}: the tag was changed by hand",
                    shown(image),
                    locked.reference
                ),
                "restore the locked reference, or run `pyimage update` (a newer tag) or `pyimage pin` (a new reference) to resolve and record it",
            ));
        }
        LockMatch::Missing => {
            return Some(Hit::new(
                format!("{} is not in pyimage.lock", shown(image)),
                "run `pyimage pin` to resolve it and record it in pyimage.lock",
            ));
        }
    };
    let locked_text = format!("{}@{}", locked.normalized, locked.digest);
    match reference.digest() {
        None => Some(Hit::new(
            format!(
                "{} has no digest, but pyimage.lock pins it to {locked_text}",
                shown(image)
            ),
            "run `pyimage pin` to write the locked digest into the file",
        )),
        Some(digest) if digest.as_str() != locked.digest => Some(Hit::new(
            format!(
                "{} disagrees with pyimage.lock ({locked_text})",
                shown(image)
            ),
            "run `pyimage update` to move the pin deliberately (it records the lock), or restore the locked reference",
        )),
        Some(_) => None,
    }
}
