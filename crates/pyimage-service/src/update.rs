//! The update planner: for every pinned Python reference, ask the registry (HEAD first), classify what moved with
//! `pyimage_policy::moves::classify_move`, and decide under the environment's `update` policy — move the digest after
//! a rebuild, move tag and digest to a newer patch, never cross a line. Returns the new file texts, the lock and a
//! report; writes nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures_util::StreamExt;
use pyimage_locate::dockerfile::ScanOptions;
use pyimage_locate::pin::{self, Edit};
use pyimage_model::lock::Lock;
use pyimage_model::python::PythonTag;
use pyimage_model::{Digest, Reference};
use pyimage_policy::check::policy::UpdatePolicy;
use pyimage_policy::moves::{MoveKind, Observation, classify_move, newer_lines, newer_patch};
use pyimage_registry::{Platform, RegistryError};
use pyimage_store::located::FileError;
use serde::Serialize;

use crate::apply::{self, Applied, LockNotWritten, Mode};
use crate::error::{ErrorKind, Outcome};
use crate::resolver::{CONCURRENCY, ObserveOptions, Observed, ReadConfig, Resolver, lock_entry};
use crate::sources::Gathered;
use crate::{Rewrite, SourceText, manages};

/// The environment a file is in, and what its `update` policy allows.
#[derive(Debug, Clone)]
pub struct FileEnvironment {
    /// The environment's name.
    pub name: String,
    /// Its `update` setting: which moves `pyimage update` may apply on its own.
    pub update: UpdatePolicy,
}

/// One reference moved (or that would move).
#[derive(Debug, Clone, Serialize)]
pub struct UpdateChange {
    /// The file, as shown.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// The kind of move: [`MoveKind::Rebuild`] or [`MoveKind::Patch`], the only ones `update` applies.
    pub kind: MoveKind,
    /// The name of the file's environment (`prod`).
    pub environment: String,
    /// The reference before (`python:3.12.13-slim`).
    pub old: String,
    /// The reference after, with its digest (`python:3.12.14-slim@sha256:…`).
    pub new: String,
    /// The Python version before (`3.12.13`), when known.
    pub old_python: Option<String>,
    /// The Python version after (`3.12.14`), when known.
    pub new_python: Option<String>,
    /// Build date of the new image.
    pub built: Option<String>,
    /// Whether it was written (false with `--dry-run`, or when the file changed meanwhile).
    pub applied: bool,
    /// Anything a reviewer should know.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A move that exists but was not applied, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Available {
    /// The file, as shown.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// The reference (`python:3.12-slim`).
    pub reference: String,
    /// What is available (`3.13-slim`, `3.12.14-slim`).
    pub available: String,
    /// Why it was not applied.
    pub why_not: String,
}

/// What `update` would do.
#[derive(Debug, Default)]
pub struct UpdatePlan {
    /// New texts of the files that change.
    pub rewrites: Vec<Rewrite<UpdateChange>>,
    /// Moves that exist but were not applied: newer lines, moves the policy holds back, tags not written literally.
    pub available: Vec<Available>,
    /// Problems, each naming the file and line.
    pub errors: Vec<FileError>,
    /// The worst kind of error met.
    pub failure: Option<ErrorKind>,
    /// The lock with every moved reference re-recorded.
    pub lock: Lock,
}

/// What the registry says about one pinned reference.
#[derive(Debug, Clone)]
struct Step {
    new_tag: String,
    target: Observed,
    kind: MoveKind,
    old_python: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct Outlook {
    step: Option<Step>,
    /// A newer patch the policy does not take.
    held_patch: Option<String>,
    /// The newest line of the same variant and OS, for information.
    newer_lines: Vec<String>,
}

async fn outlook(
    resolver: &Resolver,
    reference: &Reference,
    policy: UpdatePolicy,
    old_python: Option<String>,
    platform: Option<Platform>,
) -> Result<Outlook, RegistryError> {
    // A reference pinned to one platform's manifest (`pin --platform`) moves to that platform's new manifest,
    // never to the index.
    let options = ObserveOptions {
        platform: platform.clone(),
        ..always()
    };
    let Some(tag_text) = reference.tag() else {
        return Ok(Outlook::default());
    };
    let (Some(pinned), tag) = (reference.digest(), PythonTag::parse(tag_text)) else {
        return Ok(Outlook::default());
    };
    let tags = resolver.tags(reference).await?;
    let mut result = Outlook {
        newer_lines: newer_lines(&tags, &tag),
        ..Outlook::default()
    };
    let unpinned = reference.repository().with_tag_of(reference);
    let mut old = Observation {
        tag: tag_text.to_owned(),
        digest: Some(pinned.clone()),
        python: old_python,
    };
    if let Some(newer) = newer_patch(&tags, &tag) {
        let candidate = Observation {
            tag: newer.tag.clone(),
            digest: None,
            python: newer.version.map(|v| v.to_string()),
        };
        if classify_move(&old, &candidate, policy).apply {
            let next = unpinned
                .with_tag(&newer.tag)
                .unwrap_or_else(|_| unpinned.clone());
            let target = resolver.observe(&next, &options).await?;
            result.step = Some(Step {
                new_tag: newer.tag.clone(),
                target,
                kind: MoveKind::Patch,
                old_python: old.python,
            });
            return Ok(result);
        }
        result.held_patch = Some(newer.tag.clone());
    }
    if policy == UpdatePolicy::None {
        return Ok(result);
    }
    // One HEAD decides whether anything moved; the index and config are read only for a tag that did. A platform
    // pin names a manifest inside the index, which a HEAD of the tag cannot show: its index is read.
    if platform.is_none() && resolver.head(&unpinned).await?.digest == *pinned {
        return Ok(result);
    }
    let target = resolver.observe(&unpinned, &options).await?;
    if target.digest == *pinned {
        return Ok(result);
    }
    if old.python.is_none() {
        old.python = resolver.python_of_pinned(reference).await;
    }
    let now = Observation {
        tag: tag_text.to_owned(),
        digest: Some(target.digest.clone()),
        python: target.python.clone(),
    };
    let moved = classify_move(&old, &now, policy);
    if moved.kind == MoveKind::Patch && !moved.apply {
        result.held_patch = Some(format!(
            "{tag_text} (now Python {})",
            target.python.clone().unwrap_or_default()
        ));
        return Ok(result);
    }
    if moved.apply {
        result.step = Some(Step {
            new_tag: tag_text.to_owned(),
            target,
            kind: moved.kind,
            old_python: old.python,
        });
    }
    Ok(result)
}

fn always() -> ObserveOptions {
    ObserveOptions {
        read_config: ReadConfig::Always,
        ..ObserveOptions::default()
    }
}

/// Plans `update` over files already read (each with its environment), starting from the current lock; `policy`
/// says which images are pinned (official, declared mirrors, derived from Python).
pub async fn plan_update(
    resolver: &Resolver,
    sources: &[(SourceText, FileEnvironment)],
    lock: Lock,
    policy: &pyimage_policy::check::Policy,
    build: &ScanOptions,
    resolved_at: &str,
) -> UpdatePlan {
    let original = lock.clone();
    let mut plan = UpdatePlan {
        lock,
        ..UpdatePlan::default()
    };
    let wanted = manages(policy);
    // Each distinct (reference, policy) is asked once.
    let mut sites = Vec::new();
    let mut unique: BTreeMap<(String, UpdatePolicy), Reference> = BTreeMap::new();
    for (index, (source, environment)) in sources.iter().enumerate() {
        let options = source.scan_options(build);
        for site in pin::pinned_sites(source.kind, &source.text, &options, &wanted) {
            if site.reference.tag().is_none() {
                continue;
            }
            unique
                .entry((site.reference.to_string(), environment.update))
                .or_insert_with(|| site.reference.clone());
            sites.push((index, site));
        }
    }
    let lock_ref = &plan.lock;
    resolver.progress().planned(unique.len());
    let outlooks: HashMap<(String, UpdatePolicy), Result<Outlook, RegistryError>> =
        futures_util::stream::iter(unique)
            .map(|(key, reference)| {
                let entry = lock_ref.entries().find(|entry| {
                    Some(entry.digest.as_str()) == reference.digest().map(Digest::as_str)
                });
                let old_python = entry.and_then(|entry| entry.python.clone());
                // Pinned to one platform when the locked digest is one of the entry's platform manifests.
                let platform = entry.and_then(|entry| {
                    entry
                        .platforms
                        .iter()
                        .find(|(_, digest)| **digest == entry.digest)
                        .and_then(|(platform, _)| Platform::parse(platform))
                });
                async move {
                    let result = outlook(resolver, &reference, key.1, old_python, platform).await;
                    resolver.progress().finished(&key.0);
                    (key, result)
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
    resolver.progress().settled();

    let mut edits: BTreeMap<usize, Vec<Edit>> = BTreeMap::new();
    let mut lock_keys: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    let mut pending: BTreeMap<usize, Vec<UpdateChange>> = BTreeMap::new();
    for (index, site) in &sites {
        let (source, environment) = &sources[*index];
        let path = &source.shown;
        let outlook = match outlooks.get(&(site.reference.to_string(), environment.update)) {
            Some(Ok(outlook)) => outlook,
            Some(Err(error)) => {
                plan.failure = ErrorKind::worst(plan.failure, ErrorKind::of_registry(error));
                plan.errors.push(FileError::at(
                    path,
                    site.line,
                    None,
                    format!("{}: {error}", site.written),
                ));
                continue;
            }
            None => continue,
        };
        let familiar = site
            .reference
            .repository()
            .with_tag_of(&site.reference)
            .familiar_string();
        let available = |available: &str, why_not: String| Available {
            path: path.clone(),
            line: site.line,
            reference: familiar.clone(),
            available: available.to_owned(),
            why_not,
        };
        for line in &outlook.newer_lines {
            plan.available.push(available(
                line,
                "a newer minor line: update never crosses lines, move by hand".to_owned(),
            ));
        }
        if let Some(held) = &outlook.held_patch {
            plan.available.push(available(
                held,
                format!(
                    "environment {} has update = \"{}\"",
                    environment.name,
                    environment.update.as_str()
                ),
            ));
        }
        let Some(step) = &outlook.step else { continue };
        let Some(digest_range) = site.digest_range.clone() else {
            plan.failure = ErrorKind::worst(plan.failure, ErrorKind::Input);
            plan.errors.push(FileError::at(
                path,
                site.line,
                None,
                format!(
                    "{}: the digest is not written literally (or a --build-arg or --env-file value replaces the one written); update it by hand",
                    site.written
                ),
            ));
            continue;
        };
        let old_tag = site.reference.tag().unwrap_or_default().to_owned();
        let file_edits = edits.entry(*index).or_default();
        if step.new_tag != old_tag {
            match &site.tag_range {
                Some(range) => file_edits.push(Edit {
                    range: range.clone(),
                    expected: old_tag.clone(),
                    replacement: step.new_tag.clone(),
                }),
                None => {
                    plan.available.push(available(
                        &step.new_tag,
                        "the tag is not written next to the digest (built from an ARG?); move it by hand"
                            .to_owned(),
                    ));
                    continue;
                }
            }
        }
        let old_digest = site
            .reference
            .digest()
            .map(ToString::to_string)
            .unwrap_or_default();
        file_edits.push(Edit {
            range: digest_range,
            expected: old_digest,
            replacement: step.target.digest.to_string(),
        });
        let new_reference = site
            .reference
            .repository()
            .with_tag(&step.new_tag)
            .unwrap_or_else(|_| site.reference.repository());
        // Every lock entry of the old reference (however it was written) moves with it.
        let old_normalized = site
            .reference
            .repository()
            .with_tag_of(&site.reference)
            .to_string();
        let keys = plan.lock.keys_for(&old_normalized);
        let file_keys = lock_keys.entry(*index).or_default();
        if keys.is_empty() {
            file_keys.insert(new_reference.familiar_string());
            plan.lock.insert(lock_entry(
                &new_reference.familiar_string(),
                &new_reference,
                &step.target,
                resolved_at,
            ));
        }
        for key in keys {
            plan.lock.remove(&key);
            let new_key = key.strip_suffix(&old_tag).map_or_else(
                || new_reference.familiar_string(),
                |prefix| format!("{prefix}{}", step.new_tag),
            );
            file_keys.insert(key);
            file_keys.insert(new_key.clone());
            plan.lock.insert(lock_entry(
                &new_key,
                &new_reference,
                &step.target,
                resolved_at,
            ));
        }
        let note = (step.kind == MoveKind::Patch && step.new_tag == old_tag)
            .then(|| "the floating tag now carries a newer patch release".to_owned());
        pending.entry(*index).or_default().push(UpdateChange {
            path: path.clone(),
            line: site.line,
            kind: step.kind,
            environment: environment.name.clone(),
            old: familiar.clone(),
            new: format!("{}@{}", new_reference.familiar_string(), step.target.digest),
            old_python: step.old_python.clone(),
            new_python: step.target.python.clone(),
            built: step.target.created.clone(),
            applied: true,
            note,
        });
    }
    for (index, file_edits) in edits {
        let source = &sources[index].0;
        match pin::apply_edits(&source.text, &file_edits) {
            Ok(new_text) => plan.rewrites.push(Rewrite {
                index,
                new_text,
                changes: pending.remove(&index).unwrap_or_default(),
                lock_keys: lock_keys.remove(&index).unwrap_or_default(),
            }),
            Err(error) => {
                plan.failure = ErrorKind::worst(plan.failure, ErrorKind::Input);
                for key in lock_keys.remove(&index).unwrap_or_default() {
                    plan.lock.restore(&key, &original);
                }
                plan.errors.push(FileError::file(
                    &source.shown,
                    format!("cannot apply the updates: {error}"),
                ));
            }
        }
    }
    plan
}

/// What one `update` run did, in the shape `--format json` prints.
#[derive(Debug, Serialize)]
pub struct UpdateReport {
    /// Moves made (or, with `--dry-run`, that would be).
    pub changes: Vec<UpdateChange>,
    /// Moves that exist but were not applied, and why.
    pub available: Vec<Available>,
    /// Moves planned in files that could not be written, with the reason (their lock entries did not move).
    pub skipped: Vec<NotMoved>,
    /// Files a walk met and did not read (symlinks, FIFOs), with the reason.
    pub skipped_files: Vec<FileError>,
    /// Files that could not be read, walked or planned, and references that could not be asked about.
    pub errors: Vec<FileError>,
}

/// A move not made because its file could not be written: the shape of `pin`'s skipped references.
#[derive(Debug, Serialize)]
pub struct NotMoved {
    /// The file.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// The reference as pinned.
    pub reference: String,
    /// Why the file was not written.
    pub reason: String,
}

/// Applies `plan` (made over `gathered` from `old_lock`) under `mode` and reports. A file that could not be
/// written, or any error, makes the run an input failure; an unreachable registry outranks it.
pub fn settle(
    plan: UpdatePlan,
    gathered: Gathered,
    old_lock: &Lock,
    lock_path: &std::path::Path,
    mode: Mode,
) -> Result<(UpdateReport, Applied, Outcome), LockNotWritten> {
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
    let report = UpdateReport {
        changes: settled
            .made
            .into_iter()
            .map(|change| UpdateChange {
                applied: mode == Mode::Write,
                ..change
            })
            .collect(),
        available: plan.available,
        skipped: settled
            .not_made
            .into_iter()
            .map(|(change, reason)| NotMoved {
                path: change.path,
                line: change.line,
                reference: change.old,
                reason,
            })
            .collect(),
        skipped_files: settled.passed_over,
        errors: settled.errors,
    };
    Ok((report, settled.applied, settled.outcome))
}
