//! Properties of pin planning and the lock parser on arbitrary input:
//! * nothing panics (random text in every file kind, random lock files);
//! * every planned insertion lies on a char boundary inside the text, and applying all planned insertions changes
//!   nothing but the inserted bytes (removing them gives the original back); no two candidates share an insertion
//!   point (a shared ARG default is one candidate), so the edits never overlap;
//! * every pinned site's digest range holds exactly the reference's digest;
//! * a pin never silences a build argument: for Dockerfiles with ARGs anywhere in a reference, every combination of
//!   `--build-arg`s that changed the image before pinning still changes it after (issue 21, 1).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use pyimage_locate::dockerfile::{self, ImageKind, ScanOptions};
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

/// The ARGs of [`arg_references`], each with its default and another value a `--build-arg` may give.
const ARGS: [(&str, &str, &str); 6] = [
    ("REG", "docker.io", "mirror.example"),
    ("N", "python", "pypy"),
    ("A", "3.12", "3.13"),
    ("B", "-slim", "-alpine"),
    ("C", "bookworm", "trixie"),
    ("IMG", "python:3.12-slim", "python:3.13"),
];

/// Dockerfiles whose `FROM` references are assembled from ARGs in the registry, the name and anywhere in the tag
/// (`python:${A}-slim-${C}`, `python:${A}${B}`, `${REG}/library/python:${A}`, `${IMG}`), one or two stages.
fn arg_references() -> impl Strategy<Value = String> {
    let registry = prop_oneof![
        Just(""),
        Just("docker.io/library/"),
        Just("${REG}/library/")
    ];
    let name = prop_oneof![Just("python"), Just("${N}")];
    let piece = prop_oneof![
        Just("3.12"),
        Just("${A}"),
        Just("$A"),
        Just("${B}"),
        Just("-slim"),
        Just("-"),
        Just("${C}"),
    ];
    let tag = proptest::collection::vec(piece, 1..4).prop_map(|pieces| pieces.concat());
    let reference = prop_oneof![
        (registry, name, tag).prop_map(|(r, n, t)| format!("{r}{n}:{t}")),
        Just("${IMG}".to_owned()),
        Just("python:${A}".to_owned()),
    ];
    let declared = proptest::sample::subsequence(ARGS.to_vec(), 0..=ARGS.len());
    (declared, proptest::collection::vec(reference, 1..3)).prop_map(|(declared, references)| {
        let mut text: String = declared
            .iter()
            .map(|(name, default, _)| format!("ARG {name}={default}\n"))
            .collect();
        for (stage, reference) in references.iter().enumerate() {
            text.push_str(&format!("FROM {reference} AS s{stage}\n"));
        }
        text
    })
}

/// What Docker pulls for a reference: the repository and, when a digest is written, the digest (the tag is then
/// ignored), else the tag.
fn pulled(image: &dockerfile::ImageUse) -> Option<(String, String, String)> {
    let reference = image.reference()?;
    let version = match reference.digest() {
        Some(digest) => digest.to_string(),
        None => reference.tag().unwrap_or("latest").to_owned(),
    };
    Some((
        reference.domain().to_owned(),
        reference.path().to_owned(),
        version,
    ))
}

/// The `FROM` images of `text`, evaluated with `build_args`.
fn stages(text: &str, build_args: &[(&str, &str)]) -> Vec<Option<(String, String, String)>> {
    let options = ScanOptions {
        build_args: build_args
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..ScanOptions::default()
    };
    dockerfile::scan_with(text, &options)
        .images
        .iter()
        .filter(|image| image.kind == ImageKind::From)
        .map(pulled)
        .collect()
}

/// Pins every candidate pin accepts, then checks each combination of build arguments: where one changed what a
/// stage pulls before pinning, it still changes it after.
fn check_build_args_still_apply(text: &str) -> Result<(), TestCaseError> {
    let candidates = pin::candidates(FileKind::Dockerfile, text, &ScanOptions::default(), &python);
    let edits: Vec<Edit> = candidates
        .iter()
        .filter_map(|candidate| candidate.site.as_ref().ok())
        .map(|site| Edit::insert(site.insert_at, format!("{}{DIGEST}", site.prefix)))
        .collect();
    let pinned = pin::apply_edits(text, &edits).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let (before, after) = (stages(text, &[]), stages(&pinned, &[]));
    prop_assert_eq!(before.len(), after.len());
    for mask in 0u32..(1 << ARGS.len()) {
        let build_args: Vec<(&str, &str)> = ARGS
            .iter()
            .enumerate()
            .filter(|(bit, _)| mask & (1 << bit) != 0)
            .map(|(_, (name, _, other))| (*name, *other))
            .collect();
        let (before_args, after_args) = (stages(text, &build_args), stages(&pinned, &build_args));
        for stage in 0..before.len() {
            let (Some(default), Some(given)) = (&before[stage], &before_args[stage]) else {
                continue;
            };
            if default == given {
                continue;
            }
            prop_assert!(
                after[stage].is_some() && after_args[stage].is_some(),
                "stage {} of\n{}\nno longer evaluates after pin:\n{}",
                stage,
                text,
                pinned
            );
            prop_assert_ne!(
                &after[stage],
                &after_args[stage],
                "--build-arg {:?} changed stage {} of\n{}\nbut not after pin:\n{}",
                build_args,
                stage,
                text,
                pinned
            );
        }
    }
    Ok(())
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

proptest! {
    // Each case evaluates its Dockerfile under all 64 combinations of build arguments.
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn pin_never_silences_a_build_argument(text in arg_references()) {
        check_build_args_still_apply(&text)?;
    }
}
