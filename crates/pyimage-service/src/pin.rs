//! The pin planner: for files already read, which Python references get which digest (byte-minimal edits, see
//! `pyimage_locate::pin`), the new file texts, and the lock entries — resolving each distinct reference once,
//! concurrently. It writes nothing: the caller writes the files atomically and renders the report.

use std::collections::{BTreeMap, HashMap};

use futures_util::StreamExt;
use pyimage_locate::dockerfile::ScanOptions;
use pyimage_locate::pin::{self, Edit};
use pyimage_model::lock::{Lock, LockMatch};
use pyimage_model::{Digest, Reference};
use pyimage_registry::{Platform, RegistryError};
use pyimage_store::located::FileError;
use serde::Serialize;

use crate::apply::{self, Applied, LockNotWritten, Mode};
use crate::error::{ErrorKind, Outcome};
use crate::resolver::{CONCURRENCY, ObserveOptions, Observed, ReadConfig, Resolver, lock_entry};
use crate::sources::Gathered;
use crate::{Rewrite, SourceText, manages};

/// What `pin` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct PinOptions {
    /// Pin this platform's manifest instead of the index.
    pub platform: Option<Platform>,
    /// Also replace a floating tag by its most specific alias.
    pub exact_tag: bool,
    /// `--build-arg`s the Dockerfiles are evaluated with.
    pub build: ScanOptions,
    /// The policy: which images are pinned (official, declared mirrors, derived from Python).
    pub policy: pyimage_policy::check::Policy,
    /// The cosign keys: images a `[[trust.signatures]]` rule covers get their signature verified and recorded.
    pub keyring: Option<crate::signatures::Keyring>,
}

/// One reference pinned.
#[derive(Debug, Clone, Serialize)]
pub struct PinChange {
    /// The file, as shown.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The reference as written.
    pub reference: String,
    /// What it means now (`python:3.12-slim@sha256:…`).
    pub pinned: String,
    /// The digest inserted (`sha256:…`).
    pub digest: String,
    /// The platform whose manifest was pinned (`--platform`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The ARG whose default received the digest (`ARG PY (line 1)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_arg: Option<String>,
    /// The Python version of the image.
    pub python: Option<String>,
    /// The line of the reference whose edit pinned this one too (another use of the same ARG default), in which
    /// case this change added no digest of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub covered_by: Option<usize>,
}

/// One reference not pinned, and why.
#[derive(Debug, Clone, Serialize)]
pub struct PinSkip {
    /// The file, as shown.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The reference as written.
    pub reference: String,
    /// Why (a refusal with its fix, or the registry's error).
    pub reason: String,
}

/// What `pin` would do.
#[derive(Debug, Default)]
pub struct PinPlan {
    /// New texts of the files that change, with the references pinned in each.
    pub rewrites: Vec<Rewrite<PinChange>>,
    /// References not pinned, each with the reason.
    pub skipped: Vec<PinSkip>,
    /// The lock with every pinned (and already-pinned, now verified) reference recorded.
    pub lock: Lock,
    /// Problems beyond single references (an already-pinned digest the registry cannot confirm).
    pub errors: Vec<FileError>,
    /// The worst kind of error met, if any.
    pub failure: Option<ErrorKind>,
    /// Signatures verified (or not) for the locked images a signature rule covers.
    pub signatures: Vec<crate::signatures::LockedSignature>,
}

impl PinPlan {
    fn fail(&mut self, error: &RegistryError) {
        self.failure = ErrorKind::worst(self.failure, ErrorKind::of_registry(error));
    }
}

/// Plans `pin` over files already read, starting from the current lock.
pub async fn plan_pin(
    resolver: &Resolver,
    sources: &[SourceText],
    lock: Lock,
    options: &PinOptions,
    resolved_at: &str,
) -> PinPlan {
    let original = lock.clone();
    let mut plan = PinPlan {
        lock,
        ..PinPlan::default()
    };
    let wanted = manages(&options.policy);
    let per_file: Vec<Vec<pin::Candidate>> = sources
        .iter()
        .map(|source| {
            let build = source.scan_options(&options.build);
            pin::candidates(source.kind, &source.text, &build, &wanted)
        })
        .collect();

    // Resolve each distinct reference once, concurrently.
    let mut unique: BTreeMap<String, Reference> = BTreeMap::new();
    for candidate in per_file.iter().flatten() {
        if let (Ok(_), Some(reference)) = (&candidate.site, &candidate.reference) {
            unique
                .entry(candidate.evaluated.clone())
                .or_insert_with(|| reference.clone());
        }
    }
    // References already pinned in the files but unknown to the lock are verified (the registry must serve the
    // digest) and recorded, so that `check --locked` vouches for every Python image after `pin`.
    let mut already: BTreeMap<String, (Reference, FileError)> = BTreeMap::new();
    for source in sources {
        let build = source.scan_options(&options.build);
        for site in pin::pinned_sites(source.kind, &source.text, &build, &wanted) {
            let known = match plan.lock.lookup(&site.reference) {
                LockMatch::Entry(entry) => {
                    Some(entry.digest.as_str()) == site.reference.digest().map(Digest::as_str)
                }
                _ => false,
            };
            if !known {
                let key = match site.reference.tag() {
                    Some(_) => site
                        .reference
                        .repository()
                        .with_tag_of(&site.reference)
                        .familiar_string(),
                    None => site.reference.familiar_string(),
                };
                let at = FileError::at(&source.shown, site.line, None, String::new());
                already.entry(key).or_insert((site.reference, at));
            }
        }
    }
    resolver.progress().planned(already.len());
    let recorded: Vec<(
        String,
        Reference,
        FileError,
        Result<Observed, RegistryError>,
    )> = futures_util::stream::iter(already)
        .map(|(key, (reference, at))| async move {
            let observed = resolver
                .observe(&reference, &ObserveOptions::default())
                .await;
            resolver.progress().finished(&key);
            (key, reference, at, observed)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    for (key, reference, at, observed) in recorded {
        match observed {
            Ok(observed) => plan
                .lock
                .insert(lock_entry(&key, &reference, &observed, resolved_at)),
            Err(error) => {
                plan.fail(&error);
                plan.errors.push(FileError {
                    message: format!("{key}: cannot verify the pinned digest: {error}"),
                    ..at
                });
            }
        }
    }
    let observe = ObserveOptions {
        platform: options.platform.clone(),
        exact_tag: options.exact_tag,
        read_config: ReadConfig::WhenTagFloats,
    };
    resolver.progress().planned(unique.len());
    let resolved: HashMap<String, Result<Observed, RegistryError>> =
        futures_util::stream::iter(unique)
            .map(|(text, reference)| {
                let observe = &observe;
                async move {
                    let observed = resolver.observe(&reference, observe).await;
                    resolver.progress().finished(&text);
                    (text, observed)
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;

    // Pinned through a declared mirror: is the same digest served by `docker.io/library/python`? One HEAD each.
    let mirrored: BTreeMap<String, Digest> = resolved
        .iter()
        .filter_map(|(text, observed)| {
            let observed = observed.as_ref().ok()?;
            let reference = Reference::parse_normalized(text).ok()?;
            matches!(
                pyimage_policy::check::rules::classify(&reference, &options.policy),
                pyimage_policy::check::rules::Source::Mirror(_)
            )
            .then(|| (text.clone(), observed.digest.clone()))
        })
        .collect();
    let faithful: HashMap<String, Option<bool>> = futures_util::stream::iter(mirrored)
        .map(|(text, digest)| async move { (text, served_by_docker_hub(resolver, &digest).await) })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    resolver.progress().settled();

    for (index, (source, candidates)) in sources.iter().zip(&per_file).enumerate() {
        let mut edits = Vec::new();
        let mut changes = Vec::new();
        let mut lock_keys = std::collections::BTreeSet::new();
        for candidate in candidates {
            let skip = |reason: String| PinSkip {
                path: source.shown.clone(),
                line: candidate.line,
                column: candidate.column,
                reference: candidate.written.clone(),
                reason,
            };
            let site = match &candidate.site {
                Ok(site) => site,
                Err(refusal) => {
                    plan.skipped.push(skip(refusal.to_string()));
                    continue;
                }
            };
            let (Some(reference), Some(observed)) =
                (&candidate.reference, resolved.get(&candidate.evaluated))
            else {
                continue;
            };
            let observed = match observed {
                Ok(observed) => observed,
                Err(error) => {
                    plan.fail(error);
                    plan.skipped.push(skip(error.to_string()));
                    continue;
                }
            };
            let mut key = candidate.evaluated.clone();
            let mut new_reference = reference.clone();
            let mut digest_prefix = site.prefix.clone();
            if let (Some(exact), Some(range)) = (&observed.exact_tag, &site.tag_range) {
                let old_tag = source
                    .text
                    .get(range.clone())
                    .unwrap_or_default()
                    .to_owned();
                // An untagged reference (`latest`) gets `:TAG` where the tag would be, just before the digest.
                let written_tag = if old_tag.is_empty() {
                    format!(":{exact}")
                } else {
                    exact.clone()
                };
                if range.is_empty() && range.start == site.insert_at {
                    digest_prefix = format!("{written_tag}{digest_prefix}");
                } else {
                    edits.push(Edit {
                        range: range.clone(),
                        expected: old_tag.clone(),
                        replacement: written_tag.clone(),
                    });
                }
                key = format!(
                    "{}{written_tag}",
                    key.strip_suffix(&old_tag).unwrap_or(&key)
                );
                new_reference = reference
                    .with_tag(exact)
                    .unwrap_or_else(|_| reference.clone());
            } else if options.exact_tag && observed.exact_tag.is_some() {
                plan.skipped.push(skip(
                    "--exact-tag: the tag is built from an ARG; only the digest is pinned"
                        .to_owned(),
                ));
            }
            edits.push(Edit::insert(
                site.insert_at,
                format!("{digest_prefix}{}", observed.digest),
            ));
            let mut entry = lock_entry(&key, &new_reference, observed, resolved_at);
            entry.faithful_copy = faithful.get(&candidate.evaluated).copied().flatten();
            plan.lock.insert(entry);
            lock_keys.insert(key.clone());
            let change = PinChange {
                path: source.shown.clone(),
                line: candidate.line,
                column: candidate.column,
                reference: candidate.written.clone(),
                pinned: format!("{key}@{}", observed.digest),
                digest: observed.digest.to_string(),
                platform: observed
                    .resolution
                    .platform
                    .as_ref()
                    .map(|p| p.platform.to_string()),
                via_arg: site
                    .via_arg
                    .as_ref()
                    .map(|(name, line)| format!("ARG {name} (line {line})")),
                python: observed.python.clone(),
                covered_by: None,
            };
            // The other uses of a shared ARG are pinned by the same edit: reported, not edited again.
            let covered: Vec<PinChange> = site
                .covers
                .iter()
                .map(|covered| PinChange {
                    line: covered.line,
                    column: covered.column,
                    reference: covered.written.clone(),
                    via_arg: change
                        .via_arg
                        .as_ref()
                        .map(|via| format!("{via}, shared with line {}", change.line)),
                    covered_by: Some(change.line),
                    ..change.clone()
                })
                .collect();
            changes.push(change);
            changes.extend(covered);
        }
        if edits.is_empty() {
            continue;
        }
        match pin::apply_edits(&source.text, &edits) {
            Ok(new_text) => plan.rewrites.push(Rewrite {
                index,
                new_text,
                changes,
                lock_keys,
            }),
            Err(error) => {
                // Edits are planned on the text they apply to; failing here is a bug, reported per file. The
                // file is not written, so its lock entries are not made either.
                for key in &lock_keys {
                    plan.lock.restore(key, &original);
                }
                plan.failure = ErrorKind::worst(plan.failure, ErrorKind::Input);
                plan.errors.push(FileError::file(
                    &source.shown,
                    format!("internal error planning edits: {error}"),
                ));
            }
        }
    }
    if let Some(keyring) = &options.keyring {
        plan.signatures = crate::signatures::record_in_lock(
            resolver.client(),
            &options.policy,
            keyring,
            &mut plan.lock,
        )
        .await;
    }
    plan
}

/// Whether `docker.io/library/python` serves `digest` (HEAD by digest): `None` when Docker Hub cannot answer.
async fn served_by_docker_hub(resolver: &Resolver, digest: &Digest) -> Option<bool> {
    let official = Reference::parse_normalized(&format!("python@{digest}")).ok()?;
    match resolver.head(&official).await {
        Ok(_) => Some(true),
        Err(RegistryError::NotFound { .. }) => Some(false),
        Err(_) => None,
    }
}

/// What one `pin` run did, in the shape `--format json` prints.
#[derive(Debug, Serialize)]
pub struct PinReport {
    /// References pinned (or, without writing, that would be).
    pub changes: Vec<PinChange>,
    /// References not pinned, with the reason (refused, unresolvable, or in a file that could not be written).
    pub skipped: Vec<PinSkip>,
    /// Files a walk met and did not read (symlinks, FIFOs), with the reason.
    pub skipped_files: Vec<FileError>,
    /// Files that could not be read, walked or planned.
    pub errors: Vec<FileError>,
    /// Files written (or that would be).
    pub files_changed: usize,
    /// The lock, when it changed.
    pub lock: Option<String>,
    /// Signatures checked for locked images a `[[trust.signatures]]` rule covers (recorded in the lock when they
    /// verify; `check --locked` reports the others as PY018).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<crate::signatures::LockedSignature>,
}

/// Applies `plan` (made over `gathered` from `old_lock`) under `mode` and reports. A run with errors or references
/// left unpinned in files that could not be written is an input failure; `pin --check` with changes a policy one.
pub fn settle(
    plan: PinPlan,
    gathered: Gathered,
    old_lock: &Lock,
    lock_path: &std::path::Path,
    mode: Mode,
) -> Result<(PinReport, Applied, Outcome), LockNotWritten> {
    let settled = apply::settle(
        plan.rewrites,
        plan.lock,
        plan.errors,
        plan.failure,
        gathered,
        old_lock,
        lock_path,
        mode,
    )?;
    let signatures = plan.signatures;
    let mut skipped = plan.skipped;
    skipped.extend(
        settled
            .not_made
            .into_iter()
            .map(|(change, reason)| PinSkip {
                path: change.path,
                line: change.line,
                column: change.column,
                reference: change.reference,
                reason,
            }),
    );
    let outcome = settled.outcome.and_if(
        mode == Mode::Check && !settled.made.is_empty(),
        ErrorKind::Policy,
    );
    let applied = settled.applied;
    let report = PinReport {
        changes: settled.made,
        skipped,
        skipped_files: settled.passed_over,
        errors: settled.errors,
        files_changed: applied.files_written(),
        lock: applied.lock.as_ref().map(|path| path.display().to_string()),
        signatures,
    };
    Ok((report, applied, outcome))
}
