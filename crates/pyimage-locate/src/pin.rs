//! Where and how to pin image references: byte-minimal edits that add `@sha256:…` (and, with `--exact-tag`, swap a
//! floating tag for its most specific alias) without touching any other byte of the file.
//!
//! [`candidates`] finds the references to pin in a scanned file and decides, for each, *where* the digest goes:
//! * a literal reference (`FROM python:3.12-slim`, `image: "python:3.12-slim"`): right after it, inside any quotes;
//! * a reference whose text ends with an `ARG` (`FROM python:${PY}`, `FROM ${PY_IMAGE}`): at the end of that ARG's
//!   default, so that `--build-arg PY=…` replaces the digest along with the tag. When the ARG feeds several images,
//!   they must all evaluate to the same reference: the default is then pinned once for all of them (the Airflow
//!   shape, `FROM ${PYTHON_BASE_IMAGE} AS build` + `FROM ${PYTHON_BASE_IMAGE} AS main`). Otherwise pinning it would
//!   silently change the other images too (the failure Renovate still struggles with), so it is refused with the
//!   lines that differ;
//! * a reference whose ARGs all sit in the registry host (`FROM ${REGISTRY}/python:3.12-slim`): after the reference,
//!   since a mirror serves the same content under the same digest;
//! * a reference with an ARG in its repository path or tag followed by literal text (`FROM python:${V}-slim`): refused.
//!   A digest there would outlive `--build-arg V=3.13` and pin the build to the old image without a word; the fix is
//!   to move the whole reference into the ARG.
//!
//! With build arguments ([`ScanOptions::build_args`]), references evaluate as `docker build --build-arg` would; a
//! reference whose image a build argument changes is refused, since its digest would land in a default that is not
//! what gets built.
//!
//! [`apply_edits`] applies non-overlapping edits, checking that each replaced range still holds the expected bytes.

use std::collections::BTreeMap;
use std::ops::Range;

use thiserror::Error;

use crate::FileKind;
use crate::dockerfile::{self, DockerfileScan, Evaluation, ScanOptions};
use crate::manifests;
use pyimage_model::reference::Reference;

/// Why a reference is not pinned.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    /// The reference depends on something pyimage cannot evaluate.
    #[error("cannot evaluate the reference: {0}")]
    Unresolvable(String),
    /// The reference is not valid.
    #[error("invalid reference: {0}")]
    Invalid(String),
    /// The ARG the reference ends with also feeds images that evaluate to a different reference.
    #[error(
        "ARG {arg} also feeds the image(s) on line(s) {others}, which are not the same reference: pinning its default would change them too; give each image its own ARG or pin by hand"
    )]
    SharedArg {
        /// The ARG whose default the reference ends with.
        arg: String,
        /// Lines of the other images.
        others: String,
    },
    /// An ARG is part of the repository or tag and literal text follows it: the digest would not follow the ARG.
    #[error(
        "ARG {arg} is part of the image name or tag and text follows it: a digest after `{written}` would stay when `--build-arg {arg}=…` changes the image, and the build would silently use the old one; move the whole reference into the ARG: `ARG PY_IMAGE={evaluated}` + `FROM ${{PY_IMAGE}}`"
    )]
    DigestAfterVariable {
        /// The last ARG written in the reference.
        arg: String,
        /// The reference as written (`python:${V}-slim`).
        written: String,
        /// What it evaluates to with the defaults (`python:3.12-slim`).
        evaluated: String,
    },
    /// A build argument changes the image: its digest does not belong in the file, which holds the default.
    #[error(
        "--build-arg {arg}={value} changes the image (the default is {default}): its digest would be pinned where the default is written, which is not what is built; pin without --build-arg or edit the ARG's default first"
    )]
    BuildArgOverride {
        /// The ARG given with `--build-arg`.
        arg: String,
        /// The value given.
        value: String,
        /// The default as written in the file (`none` when the ARG has no default).
        default: String,
    },
    /// The ARG's default is not written literally (quotes with escapes, other ARGs, none at all).
    #[error("ARG {0} has no literal default to pin")]
    ArgDefaultNotLiteral(String),
    /// The Compose value is interpolated (`${VAR:-default}`): a digest after it would not follow the variable.
    #[error(
        "the value is interpolated by Compose ({0}); pin the default or the variable's value by hand"
    )]
    Interpolated(String),
    /// The reference is built from pipeline variables and text (GitLab `variables:`, Cloud Build
    /// `substitutions:`): a digest after it would not follow the variables.
    #[error(
        "the reference is built from variables ({0}): a digest after it would not follow them; move the whole reference into one variable (`PYTHON_IMAGE: python:3.12-slim` + `image: $PYTHON_IMAGE`) and pin again"
    )]
    BuiltFromVariables(String),
    /// The YAML scalar cannot be rewritten in place (block scalar, escapes).
    #[error("the value is written as a {0}, which pyimage does not rewrite")]
    NotRewritable(String),
    /// An image map (Kustomize `images:`, Helm `image:`) where no `digest:` can be written.
    #[error("no digest can be written here: {0}")]
    NoDigestKey(String),
}

/// Where the digest (and optionally a new tag) goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinSite {
    /// Byte offset where the digest is inserted.
    pub insert_at: usize,
    /// What goes before the digest: `@` after a reference; nothing inside an empty `digest: ""`; a new
    /// `\n  digest: ` line in an image map.
    pub prefix: String,
    /// The ARG whose default is edited, with the line of its declaration.
    pub via_arg: Option<(String, usize)>,
    /// The byte range of the tag as written, when the whole reference is literal (for `--exact-tag`); empty, at
    /// the end of the name, for an untagged reference.
    pub tag_range: Option<Range<usize>>,
    /// Other uses of the same ARG that evaluate to the same reference: this one edit pins them too, and they are not
    /// listed as candidates of their own.
    pub covers: Vec<Covered>,
}

/// A reference pinned by the edit of another one (a shared ARG's default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Covered {
    /// 1-based line of the reference.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The reference text as written (`${PYTHON_BASE_IMAGE}`).
    pub written: String,
}

/// One reference that lacks a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// 1-based line of the reference.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The reference text as written (`python:${PY}`).
    pub written: String,
    /// The evaluated reference text (`python:3.12-slim`), the lock file's key.
    pub evaluated: String,
    /// The parsed reference, when valid.
    pub reference: Option<Reference>,
    /// Where to pin it, or why not.
    pub site: Result<PinSite, Refusal>,
}

/// The references of a file that `pin` would consider: those `wanted` accepts (the Python images) and that have no
/// digest yet, in file order. Each distinct span appears once (Compose anchors can share one), and so does each
/// shared ARG default (see [`PinSite::covers`]). Dockerfiles are evaluated with `build`'s build arguments.
pub fn candidates(
    kind: FileKind,
    text: &str,
    build: &ScanOptions,
    wanted: &dyn Fn(&Reference) -> bool,
) -> Vec<Candidate> {
    match kind {
        FileKind::Dockerfile => {
            dockerfile_candidates(text, &dockerfile::scan_with(text, build), build, wanted)
        }
        FileKind::Manifest(manifest) => {
            yaml_candidates(manifest, &scan_manifest(manifest, text, build), wanted)
        }
    }
}

fn scan_manifest(
    kind: manifests::ManifestKind,
    text: &str,
    build: &ScanOptions,
) -> manifests::ManifestScan {
    let inputs = manifests::ScanInputs {
        variables: Some(&build.variables),
    };
    manifests::scan(kind, text, inputs)
}

/// Keeps a reference when it is wanted and lacks a digest; unresolvable references whose text mentions the wanted
/// image are kept too, so they are reported rather than silently skipped.
fn keep(evaluation: &Evaluation, written: &str, wanted: &dyn Fn(&Reference) -> bool) -> bool {
    match evaluation {
        Evaluation::Resolved {
            reference: Ok(r), ..
        } => wanted(r) && r.digest().is_none(),
        Evaluation::Resolved {
            reference: Err(_),
            text,
        } => text.contains("python") && !text.contains('@'),
        Evaluation::Unresolvable(_) => written.contains("python") && !written.contains('@'),
    }
}

fn evaluated_parts(
    evaluation: &Evaluation,
    written: &str,
) -> (String, Option<Reference>, Option<Refusal>) {
    match evaluation {
        Evaluation::Resolved {
            text,
            reference: Ok(r),
        } => (text.clone(), Some(r.clone()), None),
        Evaluation::Resolved {
            text,
            reference: Err(e),
        } => (text.clone(), None, Some(Refusal::Invalid(e.to_string()))),
        Evaluation::Unresolvable(u) => (
            written.to_owned(),
            None,
            Some(Refusal::Unresolvable(u.to_string())),
        ),
    }
}

/// The range of the tag inside a literal reference text starting at `start` (after the last `:` that follows the
/// last `/`, before any `@`).
fn tag_range(written: &str, start: usize) -> Option<Range<usize>> {
    let name_and_tag = written.split('@').next().unwrap_or(written);
    let slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
    match name_and_tag[slash..].rfind(':') {
        Some(colon) => Some(start + slash + colon + 1..start + name_and_tag.len()),
        // Untagged (`latest`): an empty range where `:TAG` would go.
        None if !written.contains('@') => {
            Some(start + name_and_tag.len()..start + name_and_tag.len())
        }
        None => None,
    }
}

fn dockerfile_candidates(
    text: &str,
    scan: &DockerfileScan,
    build: &ScanOptions,
    wanted: &dyn Fn(&Reference) -> bool,
) -> Vec<Candidate> {
    // Which images (indexes into `scan.images`) each ARG declaration feeds, to decide about shared ARGs.
    let mut feeds: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (index, image) in scan.images.iter().enumerate() {
        for arg in &image.args {
            if let Some(declaration) = arg.declaration {
                let images = feeds.entry(declaration).or_default();
                if !images.contains(&index) {
                    images.push(index);
                }
            }
        }
    }
    let mut out = Vec::new();
    for (index, image) in scan.images.iter().enumerate() {
        if image.kind == dockerfile::ImageKind::Syntax
            || !keep(&image.evaluation, &image.written, wanted)
        {
            continue;
        }
        let (evaluated, reference, refusal) = evaluated_parts(&image.evaluation, &image.written);
        let site = match refusal {
            Some(refusal) => Err(refusal),
            None => match dockerfile_site(text, scan, build, index, &feeds) {
                Ok(Some(site)) => Ok(site),
                // An earlier use of the same ARG pins this one.
                Ok(None) => continue,
                Err(refusal) => Err(refusal),
            },
        };
        out.push(Candidate {
            line: image.line,
            column: image.column,
            written: image.written.clone(),
            evaluated,
            reference,
            site,
        });
    }
    out
}

/// Where the digest of `scan.images[index]` goes; `None` when an earlier image's edit (a shared ARG's default)
/// already pins it.
fn dockerfile_site(
    text: &str,
    scan: &DockerfileScan,
    build: &ScanOptions,
    index: usize,
    feeds: &BTreeMap<usize, Vec<usize>>,
) -> Result<Option<PinSite>, Refusal> {
    let Some(image) = scan.images.get(index) else {
        return Ok(None);
    };
    overridden_by_build_arg(scan, build, image)?;
    if let Some(verbatim) = image.verbatim_span {
        return Ok(Some(PinSite {
            insert_at: verbatim.end,
            prefix: "@".to_owned(),
            via_arg: None,
            tag_range: text
                .get(verbatim.range())
                .and_then(|w| tag_range(w, verbatim.start)),
            covers: Vec::new(),
        }));
    }
    let Some(arg) = ending_arg(image) else {
        // Literal text after the ARGs: the digest would go after the reference, which is only sound when the ARGs
        // choose the registry and nothing else.
        digest_after_variable(text, image)?;
        return Ok(Some(PinSite {
            insert_at: image.span.end,
            prefix: "@".to_owned(),
            via_arg: None,
            tag_range: None,
            covers: Vec::new(),
        }));
    };
    only_arg_of_name_and_tag(text, image, arg)?;
    let Some(declaration_index) = arg.declaration else {
        return Err(Refusal::ArgDefaultNotLiteral(arg.name.clone()));
    };
    let evaluated = image.text();
    let mut covers = Vec::new();
    let mut differ = Vec::new();
    for &other in feeds.get(&declaration_index).into_iter().flatten() {
        let Some(other_image) = scan.images.get(other).filter(|_| other != index) else {
            continue;
        };
        // The same default pins both only when both end with it and mean the same image.
        let same = other_image.text() == evaluated
            && ending_arg(other_image).and_then(|a| a.declaration) == Some(declaration_index);
        if !same {
            differ.push(other_image.line.to_string());
        } else if other < index {
            // Pinned, once, by the first use.
            return Ok(None);
        } else {
            covers.push(Covered {
                line: other_image.line,
                column: other_image.column,
                written: other_image.written.clone(),
            });
        }
    }
    if !differ.is_empty() {
        return Err(Refusal::SharedArg {
            arg: arg.name.clone(),
            others: differ.join(", "),
        });
    }
    let declaration = scan
        .args
        .get(declaration_index)
        .ok_or_else(|| Refusal::ArgDefaultNotLiteral(arg.name.clone()))?;
    let verbatim = declaration
        .default
        .as_ref()
        .and_then(|default| default.verbatim_span)
        .ok_or_else(|| Refusal::ArgDefaultNotLiteral(arg.name.clone()))?;
    Ok(Some(PinSite {
        insert_at: verbatim.end,
        prefix: "@".to_owned(),
        via_arg: Some((arg.name.clone(), declaration.line)),
        tag_range: None,
        covers,
    }))
}

/// The ARG the written reference ends with, if it ends with one (`python:${PY}`, `${BASE}`).
fn ending_arg(image: &dockerfile::ImageUse) -> Option<&dockerfile::ArgUse> {
    image
        .args
        .iter()
        .filter(|arg| arg.span.end <= image.span.end && arg.span.start >= image.span.start)
        .find(|arg| arg.span.end == image.span.end)
}

/// Refuses a digest in the default of the ARG a reference ends with when another ARG (or the same one again) is
/// part of the name or tag: `python:${PYTHON_VERSION}-slim-${DEBIAN_BASE}` pinned as `ARG
/// DEBIAN_BASE=bookworm@sha256:…` would build the pinned image whatever `--build-arg PYTHON_VERSION=…` says. Only
/// ARGs of the registry host may join it (`${REGISTRY}/library/python:${PY}`): a mirror serves the same digest.
fn only_arg_of_name_and_tag(
    text: &str,
    image: &dockerfile::ImageUse,
    ending: &dockerfile::ArgUse,
) -> Result<(), Refusal> {
    let inside = |outer: dockerfile::Span, span: dockerfile::Span| {
        span.start >= outer.start && span.end <= outer.end
    };
    let mut others = image
        .args
        .iter()
        .filter(|arg| inside(image.span, arg.span) && !inside(ending.span, arg.span));
    let Some(first) = others.next() else {
        return Ok(());
    };
    let refuse = |arg: &dockerfile::ArgUse| Refusal::DigestAfterVariable {
        arg: arg.name.clone(),
        written: image.written.clone(),
        evaluated: image.text().unwrap_or(&image.written).to_owned(),
    };
    // The literal text between the host and the ending ARG (`/library/python:`): every other ARG must sit before
    // it, and the evaluated reference must continue with exactly that text after its host (no `/` from an ARG).
    let before_ending = text
        .get(image.span.start..ending.span.start)
        .unwrap_or_default();
    let Some(host_end) = before_ending.find('/').map(|at| image.span.start + at) else {
        return Err(refuse(first));
    };
    let literal = text.get(host_end..ending.span.start).unwrap_or_default();
    let host_only = image.text().is_some_and(|evaluated| {
        evaluated
            .find('/')
            .is_some_and(|slash| evaluated[slash..].starts_with(literal))
    });
    for arg in std::iter::once(first).chain(others) {
        if arg.span.end > host_end || arg.name == ending.name || literal.contains('$') || !host_only
        {
            return Err(refuse(arg));
        }
    }
    Ok(())
}

/// Refuses a reference that a `--build-arg` changes: a value given for an ARG it uses that differs from the
/// default written in the file.
fn overridden_by_build_arg(
    scan: &DockerfileScan,
    build: &ScanOptions,
    image: &dockerfile::ImageUse,
) -> Result<(), Refusal> {
    for arg in image.args.iter().filter(|arg| arg.overridden) {
        let Some(value) = build.build_args.get(&arg.name) else {
            continue;
        };
        let default = arg
            .declaration
            .and_then(|d| scan.args.get(d))
            .and_then(|declaration| declaration.default.as_ref());
        if default.and_then(|d| d.value.as_ref().ok()) != Some(value) {
            return Err(Refusal::BuildArgOverride {
                arg: arg.name.clone(),
                value: value.clone(),
                default: default.map_or_else(|| "none".to_owned(), |d| d.written.clone()),
            });
        }
    }
    Ok(())
}

/// Refuses a digest after literal text when an ARG written in the reference is part of its repository path or tag.
/// ARGs that only name the registry host (`${REGISTRY}/python:3.12-slim`) are fine: a mirror serves the same
/// digest, so the digest still says which image is built.
fn digest_after_variable(text: &str, image: &dockerfile::ImageUse) -> Result<(), Refusal> {
    let Some(last) = image
        .args
        .iter()
        .filter(|arg| arg.span.start >= image.span.start && arg.span.end <= image.span.end)
        .max_by_key(|arg| arg.span.end)
    else {
        return Ok(());
    };
    let rest = text.get(last.span.end..image.span.end).unwrap_or_default();
    let only_host = rest.starts_with('/')
        && !rest.contains('$')
        && image.text().is_some_and(|evaluated| {
            evaluated
                .strip_suffix(rest)
                .is_some_and(|host| !host.is_empty() && !host.contains('/'))
        });
    if only_host {
        return Ok(());
    }
    Err(Refusal::DigestAfterVariable {
        arg: last.name.clone(),
        written: image.written.clone(),
        evaluated: image.text().unwrap_or(&image.written).to_owned(),
    })
}

fn yaml_candidates(
    kind: manifests::ManifestKind,
    scan: &manifests::ManifestScan,
    wanted: &dyn Fn(&Reference) -> bool,
) -> Vec<Candidate> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for image in &scan.images {
        if !keep(&image.evaluation, &image.written, wanted)
            || !seen.insert((image.span.start, image.span.end))
        {
            continue;
        }
        let (evaluated, reference, refusal) = evaluated_parts(&image.evaluation, &image.written);
        let site = match (refusal, &image.not_rewritable, &image.form) {
            (Some(refusal), _, _) => Err(refusal),
            (None, _, _) if image.value.contains('$') => {
                Err(if kind == manifests::ManifestKind::Compose {
                    Refusal::Interpolated(image.value.clone())
                } else {
                    Refusal::BuiltFromVariables(image.value.clone())
                })
            }
            (None, _, manifests::Written::Map(parts)) => match &parts.insert_digest {
                Ok((at, prefix)) => Ok(PinSite {
                    insert_at: *at,
                    prefix: prefix.clone(),
                    via_arg: None,
                    tag_range: parts.tag.map(|span| span.range()),
                    covers: Vec::new(),
                }),
                Err(why) => Err(Refusal::NoDigestKey(why.clone())),
            },
            (None, Some(how), _) => Err(Refusal::NotRewritable(format!("{how:?}").to_lowercase())),
            (None, None, manifests::Written::Reference) => Ok(PinSite {
                insert_at: image.span.end,
                prefix: "@".to_owned(),
                via_arg: None,
                tag_range: tag_range(&image.written, image.span.start),
                covers: Vec::new(),
            }),
        };
        out.push(Candidate {
            line: image.line,
            column: image.column,
            written: image.written.clone(),
            evaluated,
            reference,
            site,
        });
    }
    out
}

/// A reference that already carries a digest, with where its digest and tag are written (for `update`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedSite {
    /// 1-based line of the reference.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The reference text as written.
    pub written: String,
    /// The evaluated reference (with tag and digest).
    pub reference: Reference,
    /// Where the digest text (`sha256:…`) is written: in the reference, or in the default of the ARG it ends with.
    pub digest_range: Option<Range<usize>>,
    /// Where the tag is written, when it directly precedes `@digest` there.
    pub tag_range: Option<Range<usize>>,
}

/// The wanted references of a file that already have a digest, in file order, each distinct span once.
pub fn pinned_sites(
    kind: FileKind,
    text: &str,
    build: &ScanOptions,
    wanted: &dyn Fn(&Reference) -> bool,
) -> Vec<PinnedSite> {
    // Each reference with the byte ranges its digest may be written in.
    struct Region {
        line: usize,
        column: usize,
        written: String,
        reference: Reference,
        places: Vec<Range<usize>>,
    }
    let mut regions: Vec<Region> = Vec::new();
    let mut out = Vec::new();
    match kind {
        FileKind::Dockerfile => {
            for image in dockerfile::scan_with(text, build).images {
                if image.kind == dockerfile::ImageKind::Syntax {
                    continue;
                }
                let Some(reference) = image.reference().cloned() else {
                    continue;
                };
                let mut places = vec![image.span.range()];
                places.extend(
                    image
                        .args
                        .iter()
                        .filter_map(|arg| arg.default_span.map(|s| s.range())),
                );
                regions.push(Region {
                    line: image.line,
                    column: image.column,
                    written: image.written.clone(),
                    reference,
                    places,
                });
            }
        }
        FileKind::Manifest(manifest) => {
            let mut seen = std::collections::BTreeSet::new();
            for image in scan_manifest(manifest, text, build).images {
                if !seen.insert((image.span.start, image.span.end)) {
                    continue;
                }
                let Some(reference) = image.reference().cloned() else {
                    continue;
                };
                let places = match &image.form {
                    manifests::Written::Map(parts) => {
                        // The digest and the tag have keys of their own.
                        let (Some(digest), true) = (parts.digest, wanted(&reference)) else {
                            continue;
                        };
                        if reference.digest().map(ToString::to_string).as_deref()
                            == text.get(digest.range())
                        {
                            out.push(PinnedSite {
                                line: image.line,
                                column: image.column,
                                written: image.written.clone(),
                                reference,
                                digest_range: Some(digest.range()),
                                tag_range: parts.tag.map(|span| span.range()),
                            });
                        }
                        continue;
                    }
                    manifests::Written::Reference if image.not_rewritable.is_some() => continue,
                    manifests::Written::Reference => vec![image.span.range()],
                };
                regions.push(Region {
                    line: image.line,
                    column: image.column,
                    written: image.written.clone(),
                    reference,
                    places,
                });
            }
        }
    }
    for Region {
        line,
        column,
        written,
        reference,
        places,
    } in regions
    {
        let (Some(digest), true) = (reference.digest(), wanted(&reference)) else {
            continue;
        };
        let needle = format!("@{digest}");
        let at = places.iter().find_map(|place| {
            let region = text.get(place.clone())?;
            region.find(&needle).map(|offset| place.start + offset)
        });
        let digest_range = at.map(|at| at + 1..at + needle.len());
        let tag_range = match (at, reference.tag()) {
            // The tag must be whole: what precedes it cannot be part of a tag (`:` in a reference, `=` or a quote in
            // an ARG default).
            (Some(at), Some(tag))
                if text.get(..at).is_some_and(|before| {
                    before.strip_suffix(tag).is_some_and(|rest| {
                        !rest.ends_with(|c: char| {
                            c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
                        })
                    })
                }) =>
            {
                Some(at - tag.len()..at)
            }
            _ => None,
        };
        out.push(PinnedSite {
            line,
            column,
            written,
            reference,
            digest_range,
            tag_range,
        });
    }
    out
}

/// One replacement of a byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The bytes replaced (empty for an insertion).
    pub range: Range<usize>,
    /// What those bytes must be now.
    pub expected: String,
    /// The text written in their place (`@sha256:…` for a pin).
    pub replacement: String,
}

impl Edit {
    /// An insertion at `at`.
    pub fn insert(at: usize, text: impl Into<String>) -> Self {
        Edit {
            range: at..at,
            expected: String::new(),
            replacement: text.into(),
        }
    }
}

/// Why edits could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EditError {
    /// Two edits touch the same bytes.
    #[error("edits at bytes {0} and {1} overlap")]
    Overlap(usize, usize),
    /// The bytes are not what the edit expected (the file changed).
    #[error("bytes {start}..{end} are no longer {expected:?}")]
    Changed {
        /// Byte offset where the edit's range starts.
        start: usize,
        /// Byte offset one past the edit's range.
        end: usize,
        /// The bytes the edit expected there.
        expected: String,
    },
}

/// Applies edits to `text`. Every other byte is kept as it is (line endings, BOM, quotes, trailing newline).
pub fn apply_edits(text: &str, edits: &[Edit]) -> Result<String, EditError> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|edit| (edit.range.start, edit.range.end));
    for pair in sorted.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        // Two insertions at one point, or a range reaching into the next edit, would be ambiguous.
        if b.range.start < a.range.end || (a.range == b.range && a.range.is_empty()) {
            return Err(EditError::Overlap(a.range.start, b.range.start));
        }
    }
    let mut out = String::with_capacity(
        text.len() + edits.iter().map(|e| e.replacement.len()).sum::<usize>(),
    );
    let mut cursor = 0;
    for edit in sorted {
        let current = text
            .get(edit.range.clone())
            .ok_or_else(|| EditError::Changed {
                start: edit.range.start,
                end: edit.range.end,
                expected: edit.expected.clone(),
            })?;
        if current != edit.expected {
            return Err(EditError::Changed {
                start: edit.range.start,
                end: edit.range.end,
                expected: edit.expected.clone(),
            });
        }
        out.push_str(&text[cursor..edit.range.start]);
        out.push_str(&edit.replacement);
        cursor = edit.range.end;
    }
    out.push_str(&text[cursor..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python(r: &Reference) -> bool {
        r.is_official("python")
    }

    fn sites(kind: FileKind, text: &str) -> Vec<Candidate> {
        candidates(kind, text, &ScanOptions::default(), &python)
    }

    fn with_build_args(text: &str, args: &[(&str, &str)]) -> Vec<Candidate> {
        let build = ScanOptions {
            build_args: args
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..ScanOptions::default()
        };
        candidates(FileKind::Dockerfile, text, &build, &python)
    }

    #[test]
    fn literal_from_gets_the_digest_after_the_reference() {
        let text = "FROM python:3.12-slim AS build\nFROM python@sha256:0000000000000000000000000000000000000000000000000000000000000000\nFROM node:20\n";
        let found = sites(FileKind::Dockerfile, text);
        assert_eq!(found.len(), 1);
        let site = found[0].site.as_ref().expect("pinnable");
        assert_eq!(&text[..site.insert_at], "FROM python:3.12-slim");
        assert_eq!(
            site.tag_range.as_ref().map(|r| &text[r.clone()]),
            Some("3.12-slim")
        );
        let pinned =
            apply_edits(text, &[Edit::insert(site.insert_at, "@sha256:abc")]).expect("applies");
        assert!(pinned.starts_with("FROM python:3.12-slim@sha256:abc AS build\n"));
    }

    #[test]
    fn arg_default_is_pinned_when_it_feeds_one_image() {
        let text = "ARG PY=3.12-slim\nFROM python:${PY}\n";
        let found = sites(FileKind::Dockerfile, text);
        let site = found[0].site.as_ref().expect("pinnable");
        assert_eq!(&text[..site.insert_at], "ARG PY=3.12-slim");
        assert_eq!(site.via_arg, Some(("PY".to_owned(), 1)));
        assert_eq!(found[0].evaluated, "python:3.12-slim");
    }

    #[test]
    fn shared_arg_with_different_uses_is_refused_naming_the_lines() {
        let text = "ARG BASE=python:3.12-slim\nFROM ${BASE} AS a\nFROM ${BASE}-alpine AS b\n";
        let found = sites(FileKind::Dockerfile, text);
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0].site,
            Err(Refusal::SharedArg {
                arg: "BASE".to_owned(),
                others: "3".to_owned()
            })
        );
        // The second is refused either way: text after the ARG.
        assert!(found[1].site.is_err(), "{:?}", found[1]);
    }

    #[test]
    fn shared_arg_meaning_one_image_is_pinned_once_in_its_default() {
        // Apache Airflow's shape: one ARG, two stages.
        let text = "ARG PYTHON_BASE_IMAGE=\"python:3.12-slim-bookworm\"\nFROM ${PYTHON_BASE_IMAGE} AS build\nRUN true\nFROM ${PYTHON_BASE_IMAGE} AS main\nCOPY --from=build /a /a\n";
        let found = sites(FileKind::Dockerfile, text);
        assert_eq!(found.len(), 1, "{found:?}");
        let site = found[0].site.as_ref().expect("pinnable");
        assert_eq!(
            &text[..site.insert_at],
            "ARG PYTHON_BASE_IMAGE=\"python:3.12-slim-bookworm"
        );
        assert_eq!(site.via_arg, Some(("PYTHON_BASE_IMAGE".to_owned(), 1)));
        assert_eq!(
            site.covers,
            vec![Covered {
                line: 4,
                column: 6,
                written: "${PYTHON_BASE_IMAGE}".to_owned()
            }]
        );
        assert_eq!(found[0].line, 2);
        assert_eq!(found[0].evaluated, "python:3.12-slim-bookworm");
    }

    #[test]
    fn shared_tag_arg_in_stages_is_pinned_once() {
        // The stage's `ARG PY` brings the global one in: still the same declaration.
        let text = "ARG PY=3.12-slim\nFROM python:${PY} AS a\nFROM python:$PY AS b\nARG PY\nCOPY --from=python:${PY} /x /x\n";
        let found = sites(FileKind::Dockerfile, text);
        assert_eq!(found.len(), 1, "{found:?}");
        let site = found[0].site.as_ref().expect("pinnable");
        assert_eq!(&text[..site.insert_at], "ARG PY=3.12-slim");
        let lines: Vec<usize> = site.covers.iter().map(|c| c.line).collect();
        assert_eq!(lines, [3, 5]);
    }

    #[test]
    fn digest_never_follows_a_variable_in_the_name_or_tag() {
        for text in [
            "ARG V=3.12\nFROM python:${V}-slim\n",
            "ARG V=3.12\nFROM python:$V-slim AS b\n",
            "ARG NS=library\nFROM docker.io/${NS}/python:3.12\n",
            "ARG P=python\nFROM ${P}:3.12\n",
            "ARG REG=docker.io/library\nFROM ${REG}/python:3.12\n",
            "FROM python:${V:-3.12}-slim\n",
        ] {
            let found = sites(FileKind::Dockerfile, text);
            assert_eq!(found.len(), 1, "{text}");
            match &found[0].site {
                Err(refusal @ Refusal::DigestAfterVariable { .. }) => {
                    assert!(
                        refusal
                            .to_string()
                            .contains("move the whole reference into the ARG")
                    );
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        let found = sites(FileKind::Dockerfile, "ARG V=3.12\nFROM python:${V}-slim\n");
        assert!(
            found[0]
                .site
                .as_ref()
                .is_err_and(|r| r.to_string().contains("`ARG PY_IMAGE=python:3.12-slim`"))
        );
    }

    #[test]
    fn a_reference_of_several_args_is_refused_even_when_an_arg_ends_it() {
        // A digest in the last ARG's default would outlive `--build-arg` of every other ARG of the name or tag.
        for (text, arg, evaluated) in [
            (
                "ARG PYTHON_VERSION=3.12.14\nARG DEBIAN_BASE=bookworm\nFROM python:${PYTHON_VERSION}-slim-${DEBIAN_BASE}\n",
                "PYTHON_VERSION",
                "python:3.12.14-slim-bookworm",
            ),
            (
                "ARG PY=3.12\nARG SUFFIX=-slim\nFROM python:${PY}${SUFFIX}\n",
                "PY",
                "python:3.12-slim",
            ),
            (
                "ARG N=python\nARG V=3.12\nFROM ${N}:${V}\n",
                "N",
                "python:3.12",
            ),
            (
                "ARG V=3.12\nFROM python:${V}-${V}\n",
                "V",
                "python:3.12-3.12",
            ),
        ] {
            let found = sites(FileKind::Dockerfile, text);
            assert_eq!(found.len(), 1, "{text}");
            match &found[0].site {
                Err(refusal @ Refusal::DigestAfterVariable { arg: refused, .. }) => {
                    assert_eq!(refused, arg, "{text}");
                    let message = refusal.to_string();
                    assert!(
                        message.contains("move the whole reference into the ARG"),
                        "{message}"
                    );
                    assert!(
                        message.contains(&format!("`ARG PY_IMAGE={evaluated}`")),
                        "{message}"
                    );
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        // A registry ARG before one tag ARG: the digest in the tag's default follows every build argument that
        // changes the image (a mirror serves the same digest).
        let text = "ARG REG=docker.io\nARG PY=3.12-slim\nFROM ${REG}/library/python:${PY}\n";
        let found = sites(FileKind::Dockerfile, text);
        let site = found[0].site.as_ref().expect("pinnable");
        assert_eq!(
            &text[..site.insert_at],
            "ARG REG=docker.io\nARG PY=3.12-slim"
        );
    }

    #[test]
    fn a_variable_registry_host_still_takes_the_digest_after_the_reference() {
        let text = "ARG REG=docker.io\nFROM ${REG}/library/python:3.12\n";
        let found = sites(FileKind::Dockerfile, text);
        let site = found[0].site.as_ref().expect("pinnable");
        assert_eq!(
            &text[..site.insert_at],
            "ARG REG=docker.io\nFROM ${REG}/library/python:3.12"
        );
    }

    #[test]
    fn build_args_evaluate_and_refuse_to_pin_a_default_they_change() {
        let text = "ARG PY=3.12-slim\nFROM python:${PY}\n";
        let found = with_build_args(text, &[("PY", "3.13-slim")]);
        assert_eq!(found[0].evaluated, "python:3.13-slim");
        assert_eq!(
            found[0].site,
            Err(Refusal::BuildArgOverride {
                arg: "PY".to_owned(),
                value: "3.13-slim".to_owned(),
                default: "3.12-slim".to_owned()
            })
        );
        // The same value as the default changes nothing; an unrelated build arg neither.
        for args in [[("PY", "3.12-slim")], [("OTHER", "x")]] {
            let found = with_build_args(text, &args);
            assert_eq!(found[0].evaluated, "python:3.12-slim");
            assert!(found[0].site.is_ok(), "{args:?}");
        }
        // An ARG without default gets its value from the build argument only.
        let found = with_build_args("ARG PY\nFROM python:${PY}\n", &[("PY", "3.13")]);
        assert!(matches!(
            found[0].site,
            Err(Refusal::BuildArgOverride { .. })
        ));
    }

    #[test]
    fn quoted_yaml_keeps_its_quotes() {
        let text = "services:\n  app:\n    image: \"python:3.12-slim\"\n";
        let found = sites(FileKind::Manifest(manifests::ManifestKind::Compose), text);
        let site = found[0].site.as_ref().expect("pinnable");
        let pinned =
            apply_edits(text, &[Edit::insert(site.insert_at, "@sha256:abc")]).expect("applies");
        assert_eq!(
            pinned,
            "services:\n  app:\n    image: \"python:3.12-slim@sha256:abc\"\n"
        );
    }

    #[test]
    fn pinned_sites_find_digest_and_tag_in_the_reference_or_its_arg() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let text = format!(
            "ARG PY=3.12.13-slim@{digest}\nFROM python:${{PY}} AS a\nFROM python:3.13-slim@{digest}\n"
        );
        let sites = pinned_sites(
            FileKind::Dockerfile,
            &text,
            &ScanOptions::default(),
            &python,
        );
        assert_eq!(sites.len(), 2);
        let via_arg = &sites[0];
        assert_eq!(
            via_arg.digest_range.as_ref().map(|r| &text[r.clone()]),
            Some(digest.as_str())
        );
        assert_eq!(
            via_arg.tag_range.as_ref().map(|r| &text[r.clone()]),
            Some("3.12.13-slim")
        );
        let literal = &sites[1];
        assert_eq!(
            literal.tag_range.as_ref().map(|r| &text[r.clone()]),
            Some("3.13-slim")
        );
        assert_eq!(literal.line, 3);
    }

    #[test]
    fn edits_check_the_bytes_they_replace() {
        let edit = Edit {
            range: 0..4,
            expected: "FROM".to_owned(),
            replacement: "from".to_owned(),
        };
        assert_eq!(
            apply_edits("FROM x", std::slice::from_ref(&edit)),
            Ok("from x".to_owned())
        );
        assert!(matches!(
            apply_edits("RUN x", &[edit]),
            Err(EditError::Changed { .. })
        ));
        assert!(matches!(
            apply_edits("abc", &[Edit::insert(1, "x"), Edit::insert(1, "y")]),
            Err(EditError::Overlap(1, 1))
        ));
    }
}
