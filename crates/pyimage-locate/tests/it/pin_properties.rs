//! Properties of pin planning and the lock parser on arbitrary input:
//! * nothing panics (random text in every file kind, random lock files);
//! * every planned insertion lies on a char boundary inside the text, and applying all planned insertions changes
//!   nothing but the inserted bytes (removing them gives the original back); no two candidates share an insertion
//!   point (a shared ARG default is one candidate), so the edits never overlap;
//! * every pinned site's digest range holds exactly the reference's digest.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use pyimage_locate::dockerfile::ScanOptions;
use pyimage_locate::pin::{self, Edit};
use pyimage_locate::{FileKind, ManifestKind};
use pyimage_model::lock::Lock;
use pyimage_model::reference::Reference;

const DIGEST: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

fn python(reference: &Reference) -> bool {
    reference.is_official("python")
}

/// Dockerfile-like text assembled from fragments that exercise ARGs, quotes, continuations and CRLF.
fn dockerfile_like() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("FROM python:3.12-slim".to_owned()),
        Just("FROM python:${PY}".to_owned()),
        Just("FROM python:${PY:-3.13}-alpine AS b".to_owned()),
        Just("ARG PY=3.12-slim".to_owned()),
        Just("ARG PY=\"3.12\"".to_owned()),
        Just("ARG REG=docker.io".to_owned()),
        Just("FROM ${REG}/library/python:3.11 AS c".to_owned()),
        Just("FROM --platform=$BUILDPLATFORM python:3.13 AS d".to_owned()),
        Just("COPY --from=python:3.12 /a /b".to_owned()),
        Just(format!("FROM python:3.12@{DIGEST}")),
        Just("RUN echo \\".to_owned()),
        Just("# comment".to_owned()),
        Just("FROM scratch".to_owned()),
        "[ -~]{0,30}",
    ];
    (proptest::collection::vec(line, 0..12), any::<bool>())
        .prop_map(|(lines, crlf)| lines.join(if crlf { "\r\n" } else { "\n" }))
}

fn yaml_like() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("services:".to_owned()),
        Just("  app:".to_owned()),
        Just("    image: python:3.12-slim".to_owned()),
        Just("    image: \"python:3.13\"".to_owned()),
        Just("    image: 'python:3.11-alpine'  # note".to_owned()),
        Just("    image: &anchor python:3.12".to_owned()),
        Just("    image: *anchor".to_owned()),
        Just("---".to_owned()),
        Just("kind: Pod".to_owned()),
        Just("spec:".to_owned()),
        Just("  containers:".to_owned()),
        Just("    - image: python:3.12".to_owned()),
        "[ -~]{0,30}",
    ];
    proptest::collection::vec(line, 0..12).prop_map(|lines| lines.join("\n"))
}

/// Plans every pinnable candidate, applies the insertions, and checks only they changed.
fn check_insertions(kind: FileKind, text: &str) -> Result<(), TestCaseError> {
    let candidates = pin::candidates(kind, text, &ScanOptions::default(), &python);
    let mut edits = Vec::new();
    for candidate in &candidates {
        if let Ok(site) = &candidate.site {
            prop_assert!(site.insert_at <= text.len() && text.is_char_boundary(site.insert_at));
            edits.push(Edit::insert(site.insert_at, format!("@{DIGEST}")));
        }
    }
    let pinned = pin::apply_edits(text, &edits).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let restored = pinned.replacen(&format!("@{DIGEST}"), "", usize::MAX);
    let original_without = text.replacen(&format!("@{DIGEST}"), "", usize::MAX);
    prop_assert_eq!(restored, original_without);
    for site in pin::pinned_sites(kind, &pinned, &Default::default(), &python) {
        if let Some(range) = site.digest_range {
            prop_assert_eq!(
                &pinned[range],
                site.reference
                    .digest()
                    .map(|d| d.as_str())
                    .unwrap_or_default()
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn dockerfile_pins_insert_only_digests(text in dockerfile_like()) {
        check_insertions(FileKind::Dockerfile, &text)?;
    }

    #[test]
    fn yaml_pins_insert_only_digests(text in yaml_like()) {
        check_insertions(FileKind::Manifest(ManifestKind::Compose), &text)?;
        check_insertions(FileKind::Manifest(ManifestKind::Kubernetes), &text)?;
    }

    #[test]
    fn planning_never_panics_on_any_text(text in any::<String>()) {
        for kind in [FileKind::Dockerfile, FileKind::Manifest(ManifestKind::Compose), FileKind::Manifest(ManifestKind::Kubernetes)] {
            let _ = pin::candidates(kind, &text, &ScanOptions::default(), &python);
            let _ = pin::pinned_sites(kind, &text, &Default::default(), &python);
        }
        let _ = Lock::parse(&text);
    }

    #[test]
    fn lock_parser_never_panics_on_lock_like_text(text in "(version = [0-9]\n)?(\\[\\[image\\]\\]\n)?([a-z_]{1,10} = (\"[ -~]{0,20}\"|[0-9]{1,3})\n){0,6}") {
        let _ = Lock::parse(&text);
    }
}
