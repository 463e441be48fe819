//! PY008 `lock-mismatch`: tag or digest different from `pyimage.lock` (needs the lock file).

use super::{Hit, ImageCheck, shown};

declare_rule! {
    LockMismatch,
    id: "PY008",
    name: "lock-mismatch",
    severity: Deny,
    summary: "Tag or digest that disagrees with `pyimage.lock` (needs pyimage.lock; inactive until the lock exists).",
    what: "Compares each Python image with its entry in `pyimage.lock` and reports a different tag or digest. \
Needs pyimage.lock: until the lock file is implemented (next issue), no lock is passed and the rule reports \
nothing.",
    why: "The lock records what was resolved and verified; a reference edited by hand (or by a bot) that no longer \
matches it has not been verified.",
    example: "# pyimage.lock says python:3.12.14-slim@sha256:aaa…\nFROM python:3.12.14-slim@sha256:bbb…",
    fix: "Run `pyimage lock` to record the new reference after verifying it, or restore the locked one.",
    check: Some(check),
}

fn check(image: &ImageCheck<'_>) -> Option<Hit> {
    let lock = image.lock?;
    let reference = image.reference?;
    if !image.source.is_python() {
        return None;
    }
    let locked = lock.locked(image.path, reference)?;
    let tag_differs = locked.tag.as_deref() != reference.tag();
    let digest_differs = reference
        .digest()
        .is_some_and(|digest| digest.as_str() != locked.digest);
    if !tag_differs && !digest_differs {
        return None;
    }
    Some(Hit::new(
        format!(
            "{} disagrees with pyimage.lock ({}{}@{})",
            shown(image),
            reference.name(),
            locked
                .tag
                .as_deref()
                .map(|t| format!(":{t}"))
                .unwrap_or_default(),
            locked.digest
        ),
        "run `pyimage lock` after verifying the new reference, or restore the locked one",
    ))
}
