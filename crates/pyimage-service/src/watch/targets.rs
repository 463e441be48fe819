//! What to watch: the tags behind references given on the command line, found in files (the locator `check` and
//! `pin` use, Python images only), or recorded in `pyimage.lock`. A pinned reference (`python:3.12-slim@sha256:…`)
//! is watched by its tag; a reference with no tag is `latest`, as Docker reads it; each tag is watched once.

use std::collections::BTreeMap;

use pyimage_locate::dockerfile::ScanOptions;
use pyimage_locate::pin;
use pyimage_model::Reference;
use pyimage_model::lock::Lock;
use pyimage_policy::check::Policy;

use crate::{SourceText, manages};

/// The tag a reference floats on (its digest dropped), or `None` for a digest-only reference.
pub fn tag_of(reference: &Reference) -> Option<Reference> {
    if reference.tag().is_none() && reference.digest().is_some() {
        return None;
    }
    let reference = reference.clone().with_default_tag();
    let tag = reference.tag()?;
    reference.repository().with_tag(tag).ok()
}

/// The watched tags of files already read, in first-seen order, each once.
pub fn in_sources(sources: &[SourceText], policy: &Policy, build: &ScanOptions) -> Vec<Reference> {
    let wanted = manages(policy);
    let mut found = Vec::new();
    for source in sources {
        for candidate in pin::candidates(source.kind, &source.text, build, &wanted) {
            if let Some(reference) = candidate.reference {
                found.push(reference);
            }
        }
        for site in pin::pinned_sites(source.kind, &source.text, build, &wanted) {
            found.push(site.reference);
        }
    }
    unique(found.iter().filter_map(tag_of))
}

/// The watched tags of a lock file's entries.
pub fn in_lock(lock: &Lock) -> Vec<Reference> {
    unique(
        lock.entries()
            .filter_map(|entry| Reference::parse_normalized(&entry.normalized).ok())
            .filter_map(|r| tag_of(&r)),
    )
}

/// Each reference once (by its normalized text), in first-seen order.
pub fn unique(references: impl IntoIterator<Item = Reference>) -> Vec<Reference> {
    let mut seen = BTreeMap::new();
    let mut kept = Vec::new();
    for reference in references {
        if seen.insert(reference.to_string(), ()).is_none() {
            kept.push(reference);
        }
    }
    kept
}
