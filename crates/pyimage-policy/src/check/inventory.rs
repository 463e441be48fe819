//! The inventory behind `pyimage ls`: every image reference a file holds, Python or not, with what pyimage made of
//! it — the file kind it was read as, the environment, whether it is the official Python image, a mirror of it, an
//! image derived from Python (a vendor's), a look-alike or something else, its Python line, whether a digest pins
//! it and what the lock says — and the references it could not understand, with why.
//!
//! It walks a file with the same scan as [`super::check_file`] and classifies with the same [`rules::classify`], so
//! what the inventory lists is exactly what the check judged.

use pyimage_locate::dockerfile::{Evaluation, ImageKind};
use pyimage_model::lock::{Lock, LockMatch};
use pyimage_model::python::PythonTag;
use pyimage_model::reference::Reference;
use pyimage_model::text::LineIndex;

use super::policy::{Policy, Scope};
use super::rules::{self, Source};
use super::{CheckContext, FileKind, InputError, SiteKind, Skipped, scan_images};

/// What an image is, for an inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ImageClass {
    /// `docker.io/library/python`.
    Official,
    /// A declared mirror of it, or a known public copy.
    Mirror,
    /// A third-party image built on Python (a vendor's image).
    Derived,
    /// Poses as the official image without being it (PY005).
    LookAlike,
    /// Not a Python image.
    Other,
    /// Could not be evaluated (a build argument or variable only the build knows) or is not a valid reference.
    NotUnderstood,
}

impl ImageClass {
    /// Its name in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageClass::Official => "official",
            ImageClass::Mirror => "mirror",
            ImageClass::Derived => "derived",
            ImageClass::LookAlike => "look-alike",
            ImageClass::Other => "other",
            ImageClass::NotUnderstood => "not-understood",
        }
    }
}

/// What the lock says about an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockState {
    /// No lock was read.
    NoLock,
    /// `pin` does not lock this kind of image (not Python, a look-alike, not understood).
    NotLocked,
    /// The lock holds it, with the same digest (or the reference has no digest and the lock has the tag).
    Locked,
    /// The lock holds the tag with another digest, or the digest under another tag.
    Differs,
    /// `pin` would lock it, and the lock does not know it.
    Missing,
}

impl LockState {
    /// Its name in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            LockState::NoLock => "no-lock",
            LockState::NotLocked => "-",
            LockState::Locked => "locked",
            LockState::Differs => "differs",
            LockState::Missing => "missing",
        }
    }
}

/// One image reference, as the inventory lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenImage {
    /// The file (relative, `/`-separated).
    pub path: String,
    /// 1-based line of the reference.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What the file was read as (`Dockerfile`, `Compose file`, `Helm values`, …).
    pub file_kind: &'static str,
    /// Where in the file the image is used (`FROM`, `COPY --from`, `# syntax`, or the file kind's image field).
    pub site: &'static str,
    /// The reference as written.
    pub written: String,
    /// The evaluated reference, familiar form (`python:3.12-slim`), when it evaluates and parses.
    pub reference: Option<String>,
    /// What it is.
    pub class: ImageClass,
    /// Its Python line (`3.12`), when its tag or name says.
    pub python: Option<String>,
    /// Whether a digest pins it.
    pub pinned: bool,
    /// What the lock says.
    pub lock: LockState,
    /// The environment of the file.
    pub environment: String,
    /// Why it is not understood, or what it is when that needs a word (the vendor, the mirror).
    pub note: Option<String>,
}

/// Every image of one file, and what stopped the scan if something did.
#[derive(Debug, Clone, Default)]
pub struct FileInventory {
    /// The images, in file order.
    pub images: Vec<SeenImage>,
    /// Set when the file was skipped (a template), with why.
    pub skipped: Option<Skipped>,
    /// Set when the file is not valid; images before the error are listed.
    pub error: Option<InputError>,
    /// A JSON file that is no Kubernetes object (`package.json`).
    pub not_a_manifest: bool,
}

/// Lists every image of one file (see the module documentation). `lock` is the lock to compare with, if any.
pub fn inventory_file(
    path: &str,
    text: &str,
    kind: FileKind,
    policy: &Policy,
    context: &CheckContext<'_>,
    lock: Option<&Lock>,
) -> FileInventory {
    let lines = LineIndex::new(text);
    let (environment, _) = policy.environment_of(&Scope::file(path));
    let file_kind = match kind {
        FileKind::Dockerfile => "Dockerfile",
        FileKind::Manifest(manifest) => manifest.describe(),
    };
    let mut images = Vec::new();
    let scanned = scan_images(text, kind, context, &mut |image, span, _args| {
        let (line, column) = lines.position(text, span.start);
        let site = match image.site {
            SiteKind::Dockerfile(ImageKind::Syntax) => "# syntax",
            SiteKind::Dockerfile(ImageKind::From) => "FROM",
            SiteKind::Dockerfile(ImageKind::CopyFrom) => "COPY --from",
            SiteKind::Dockerfile(ImageKind::MountFrom) => "RUN --mount from",
            SiteKind::Manifest(_) => "image",
        };
        let mut seen = SeenImage {
            path: path.to_owned(),
            line,
            column,
            file_kind,
            site,
            written: image.written.to_owned(),
            reference: None,
            class: ImageClass::NotUnderstood,
            python: None,
            pinned: false,
            lock: if lock.is_some() {
                LockState::NotLocked
            } else {
                LockState::NoLock
            },
            environment: environment.to_owned(),
            note: None,
        };
        match image.evaluation {
            Evaluation::Unresolvable(why) => seen.note = Some(why.to_string()),
            Evaluation::Resolved {
                text,
                reference: Err(error),
            } => seen.note = Some(format!("{text:?} is not a valid reference: {error}")),
            Evaluation::Resolved {
                reference: Ok(reference),
                ..
            } => describe(&mut seen, reference, policy, lock),
        }
        images.push(seen);
    });
    FileInventory {
        images,
        skipped: scanned.skipped,
        error: scanned.error,
        not_a_manifest: scanned.not_a_manifest,
    }
}

/// Fills in what a valid reference is: its class, Python line, digest and lock state.
fn describe(seen: &mut SeenImage, reference: &Reference, policy: &Policy, lock: Option<&Lock>) {
    let source = rules::classify(reference, policy);
    seen.reference = Some(reference.familiar_string());
    seen.pinned = reference.digest().is_some();
    let (class, python, note) = match &source {
        Source::OfficialPython => (ImageClass::Official, official_line(reference), None),
        Source::Mirror(pattern) => (
            ImageClass::Mirror,
            official_line(reference),
            Some(format!("mirror {pattern}")),
        ),
        Source::DerivedFromPython { python, evidence } => (
            ImageClass::Derived,
            python.map(|(major, minor)| format!("{major}.{minor}")),
            Some(evidence.clone()),
        ),
        Source::LookAlike(why) => (ImageClass::LookAlike, None, Some(why.clone())),
        Source::Other => (ImageClass::Other, None, None),
    };
    seen.class = class;
    seen.python = python;
    seen.note = note;
    if let Some(lock) = lock
        && source.is_pinned()
    {
        seen.lock = match lock.lookup(reference) {
            LockMatch::Entry(entry) => match reference.digest() {
                Some(digest) if digest.as_str() != entry.digest => LockState::Differs,
                _ => LockState::Locked,
            },
            LockMatch::OtherTag(_) => LockState::Differs,
            LockMatch::Missing => LockState::Missing,
        };
    }
}

/// The Python line of an official (or mirrored) tag: `3.12` for `3.12.14-slim`, none for `latest` or `slim`.
fn official_line(reference: &Reference) -> Option<String> {
    PythonTag::parse(reference.tag().unwrap_or("latest")).line()
}
