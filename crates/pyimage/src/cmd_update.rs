//! `pyimage update PATHS...`: moves pinned Python references when the registry says so, per the environment's
//! policy, and says why:
//! * **rebuild**: the same tag now points at another digest (a Debian/Alpine security rebuild) → move the digest;
//! * **patch**: a newer patch release of the same line, variant and OS exists (`3.12.3-slim` → `3.12.14-slim`), or a
//!   floating tag now carries a newer patch → move tag and digest when the environment allows `update = "patch"`;
//! * never cross a minor line, variant or OS: newer lines are reported as available.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use futures_util::StreamExt;
use pyimage_core::check::policy::UpdatePolicy;
use pyimage_core::pin::{self, Edit};
use pyimage_core::python::{Float, PythonTag, PythonVersion};
use pyimage_core::{Digest, Reference};
use pyimage_registry::{RegistryClient, RegistryError};
use serde::Serialize;

use crate::cmd_pin::{
    PinTarget, ReadConfig, TagCache, is_python, load_lock, lock_entry, resolve_target,
};
use crate::files::{self, SourceFile, WriteOutcome};
use crate::output::{Format, print_json};

#[derive(Args)]
pub struct UpdateArgs {
    /// Files or directories (default: the current directory).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Environment for every file (default: from `[[paths]]` in pyimage.toml, else the default environment).
    #[arg(long)]
    env: Option<String>,
    /// Print a unified diff and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// The lock file to update.
    #[arg(long, value_name = "FILE", default_value = pyimage_core::lock::LOCK_FILE_NAME)]
    lock: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

/// Why a reference moves (or could).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Same tag, new digest, same Python.
    Rebuild,
    /// A newer patch release.
    Patch,
}

/// What the registry says about one pinned reference.
#[derive(Debug, Clone)]
struct Plan {
    /// The tag to write (same, or a newer patch tag).
    new_tag: String,
    /// The digest to write.
    target: PinTarget,
    kind: ChangeKind,
    /// Python version before, when known.
    old_python: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct Outlook {
    plan: Option<Plan>,
    /// A newer patch the policy does not let us take.
    held_patch: Option<String>,
    /// Newer lines (same variant and OS), for information.
    newer_lines: Vec<String>,
}

#[derive(Serialize)]
struct ChangeReport {
    path: String,
    line: usize,
    kind: ChangeKind,
    environment: String,
    old: String,
    new: String,
    old_python: Option<String>,
    new_python: Option<String>,
    built: Option<String>,
    applied: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

#[derive(Serialize)]
struct Available {
    path: String,
    line: usize,
    reference: String,
    available: String,
    why_not: String,
}

#[derive(Serialize)]
struct UpdateReport {
    changes: Vec<ChangeReport>,
    available: Vec<Available>,
    errors: Vec<String>,
}

fn same_shape(candidate: &PythonTag, current: &PythonTag) -> bool {
    candidate.unknown.is_empty()
        && candidate.variant == current.variant
        && candidate.os == current.os
        && candidate.rc_line == current.rc_line
}

/// Newest full version in the same line (and shape) newer than `current`'s version.
fn newer_patch(tags: &[String], current: &PythonTag) -> Option<PythonTag> {
    let version = current.version.filter(|v| v.is_full())?;
    tags.iter()
        .map(|t| PythonTag::parse(t))
        .filter(|candidate| {
            same_shape(candidate, current)
                && candidate.version.is_some_and(|v| {
                    v.is_full()
                        && v.major_minor() == version.major_minor()
                        && v > version
                        && (v.pre.is_none() || version.pre.is_some())
                })
        })
        .max_by_key(|candidate| candidate.version)
}

/// Newer `major.minor` lines with a tag of the same shape (`3.13-slim` exists while `3.12-slim` is pinned).
fn newer_lines(tags: &[String], current: &PythonTag) -> Vec<String> {
    let Some((major, minor)) = current.version.and_then(|v| v.major_minor()) else {
        return Vec::new();
    };
    let mut lines: BTreeMap<PythonVersion, String> = BTreeMap::new();
    for candidate in tags.iter().map(|t| PythonTag::parse(t)) {
        if !same_shape(&candidate, current)
            || candidate.is_prerelease()
            || candidate.float() != Float::Minor
        {
            continue;
        }
        if let Some(version) = candidate.version
            && let Some((m, n)) = version.major_minor()
            && (m, n) > (major, minor)
        {
            lines.insert(version, candidate.tag.clone());
        }
    }
    // The newest line is the one worth knowing about.
    lines.into_values().last().into_iter().collect()
}

async fn outlook(
    client: &RegistryClient,
    reference: &Reference,
    policy: UpdatePolicy,
    old_python: Option<String>,
    tag_cache: &TagCache,
) -> Result<Outlook, RegistryError> {
    let Some(tag_text) = reference.tag() else {
        return Ok(Outlook::default());
    };
    let (Some(pinned), tag) = (reference.digest(), PythonTag::parse(tag_text)) else {
        return Ok(Outlook::default());
    };
    let tags = tag_cache.tags(client, reference).await?;
    let mut result = Outlook {
        newer_lines: newer_lines(&tags, &tag),
        ..Outlook::default()
    };
    let unpinned = reference.repository().with_tag_of(reference);
    if let Some(newer) = newer_patch(&tags, &tag) {
        if policy >= UpdatePolicy::Patch {
            let next = unpinned
                .with_tag(&newer.tag)
                .unwrap_or_else(|_| unpinned.clone());
            let target =
                resolve_target(client, &next, None, false, tag_cache, ReadConfig::Always).await?;
            result.plan = Some(Plan {
                new_tag: newer.tag.clone(),
                target,
                kind: ChangeKind::Patch,
                old_python,
            });
            return Ok(result);
        }
        result.held_patch = Some(newer.tag.clone());
    }
    if policy == UpdatePolicy::None {
        return Ok(result);
    }
    // One HEAD decides whether anything moved; the index and config are read only for a tag that did.
    let now = client
        .resolve(&unpinned, &pyimage_registry::ResolveRequest::default())
        .await?;
    if now.digest == *pinned {
        return Ok(result);
    }
    let target = resolve_target(
        client,
        &unpinned,
        None,
        false,
        tag_cache,
        ReadConfig::Always,
    )
    .await?;
    // The same tag moved: a rebuild, or (for a floating tag) a newer patch carried by the same tag.
    let old_python = match old_python {
        Some(known) => Some(known),
        None => old_python_of(client, reference).await,
    };
    let kind = match (&old_python, &target.python) {
        (Some(old), Some(new)) if old != new => ChangeKind::Patch,
        _ => ChangeKind::Rebuild,
    };
    if kind == ChangeKind::Patch && policy < UpdatePolicy::Patch {
        result.held_patch = Some(format!(
            "{tag_text} (now Python {})",
            target.python.clone().unwrap_or_default()
        ));
        return Ok(result);
    }
    result.plan = Some(Plan {
        new_tag: tag_text.to_owned(),
        target,
        kind,
        old_python,
    });
    Ok(result)
}

/// The Python version of the digest a reference is pinned to, read from the image if the registry still has it.
async fn old_python_of(client: &RegistryClient, reference: &Reference) -> Option<String> {
    let request = pyimage_registry::ResolveRequest {
        platforms: true,
        ..Default::default()
    };
    let resolution = client.resolve(reference, &request).await.ok()?;
    let platform = resolution.platforms.as_ref()?.first()?.digest.clone();
    client
        .image_config(&reference.repository(), &platform)
        .await
        .ok()?
        .python_version()
        .map(str::to_owned)
}

fn shown(path: &Path) -> String {
    let text = path.display().to_string();
    text.strip_prefix("./").map(str::to_owned).unwrap_or(text)
}

pub async fn run(
    args: &UpdateArgs,
    client: RegistryClient,
    config_path: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let overrides = pyimage_core::config::Overrides {
        environment: args.env.clone(),
        severities: Vec::new(),
    };
    let loaded = crate::config::load(config_path, &overrides)?;
    let policy = &loaded.settings.policy;
    let mut lock = load_lock(&args.lock)?;
    let old_lock_text = lock.render();
    let sources: Vec<SourceFile> = files::find(&args.paths)?
        .into_iter()
        .map(|(path, kind)| files::read(&path, kind))
        .collect::<anyhow::Result<_>>()?;

    // Each distinct (reference, policy) is asked once.
    let mut sites = Vec::new();
    let mut unique: BTreeMap<(String, UpdatePolicy), Reference> = BTreeMap::new();
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let base = loaded.base_dir(&cwd);
    for (index, source) in sources.iter().enumerate() {
        // Environments are matched as `check` matches them: relative to the configuration's directory.
        let (environment, _) = policy.environment_for(&files::relative(&source.path, &base, &cwd));
        let update = policy
            .environments
            .get(environment)
            .map_or(UpdatePolicy::Digest, |settings| settings.update);
        for site in pin::pinned_sites(source.kind, &source.text, &is_python) {
            if site.reference.tag().is_none() {
                continue;
            }
            unique
                .entry((site.reference.to_string(), update))
                .or_insert_with(|| site.reference.clone());
            sites.push((index, environment.to_owned(), update, site));
        }
    }
    let tag_cache = TagCache::default();
    let outlooks: HashMap<(String, UpdatePolicy), Result<Outlook, RegistryError>> =
        futures_util::stream::iter(unique)
            .map(|(key, reference)| {
                let (client, tag_cache) = (client.clone(), tag_cache.clone());
                let old_python = lock
                    .images
                    .values()
                    .find(|entry| {
                        Some(entry.digest.as_str()) == reference.digest().map(Digest::as_str)
                    })
                    .and_then(|entry| entry.python.clone());
                async move {
                    let result = outlook(&client, &reference, key.1, old_python, &tag_cache).await;
                    (key, result)
                }
            })
            .buffer_unordered(crate::cmd_resolve::CONCURRENCY)
            .collect()
            .await;

    let mut report = UpdateReport {
        changes: Vec::new(),
        available: Vec::new(),
        errors: Vec::new(),
    };
    let mut edits: BTreeMap<usize, Vec<Edit>> = BTreeMap::new();
    let mut pending: BTreeMap<usize, Vec<ChangeReport>> = BTreeMap::new();
    for (index, environment, update, site) in &sites {
        let source = &sources[*index];
        let path = shown(&source.path);
        let outlook = match outlooks.get(&(site.reference.to_string(), *update)) {
            Some(Ok(outlook)) => outlook,
            Some(Err(error)) => {
                report
                    .errors
                    .push(format!("{path}:{}: {}: {error}", site.line, site.written));
                continue;
            }
            None => continue,
        };
        let familiar = site
            .reference
            .repository()
            .with_tag_of(&site.reference)
            .familiar_string();
        for line in &outlook.newer_lines {
            report.available.push(Available {
                path: path.clone(),
                line: site.line,
                reference: familiar.clone(),
                available: line.clone(),
                why_not: "a newer minor line: update never crosses lines, move by hand".to_owned(),
            });
        }
        if let Some(held) = &outlook.held_patch {
            report.available.push(Available {
                path: path.clone(),
                line: site.line,
                reference: familiar.clone(),
                available: held.clone(),
                why_not: format!(
                    "environment {environment} has update = \"{}\"",
                    update.as_str()
                ),
            });
        }
        let Some(plan) = &outlook.plan else { continue };
        let Some(digest_range) = site.digest_range.clone() else {
            report.errors.push(format!(
                "{path}:{}: {}: the digest is not written literally; update it by hand",
                site.line, site.written
            ));
            continue;
        };
        let old_tag = site.reference.tag().unwrap_or_default().to_owned();
        let mut note = None;
        let file_edits = edits.entry(*index).or_default();
        if plan.new_tag != old_tag {
            match &site.tag_range {
                Some(range) => file_edits.push(Edit {
                    range: range.clone(),
                    expected: old_tag.clone(),
                    replacement: plan.new_tag.clone(),
                }),
                None => {
                    report.available.push(Available {
                        path: path.clone(),
                        line: site.line,
                        reference: familiar.clone(),
                        available: plan.new_tag.clone(),
                        why_not: "the tag is not written next to the digest (built from an ARG?); move it by hand".to_owned(),
                    });
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
            expected: old_digest.clone(),
            replacement: plan.target.digest.to_string(),
        });
        let new_reference = site
            .reference
            .repository()
            .with_tag(&plan.new_tag)
            .unwrap_or_else(|_| site.reference.repository());
        // Every lock entry of the old reference (however it was written) moves with it.
        let old_normalized = site
            .reference
            .repository()
            .with_tag_of(&site.reference)
            .to_string();
        let keys: Vec<String> = lock
            .images
            .iter()
            .filter(|(_, entry)| entry.normalized == old_normalized)
            .map(|(key, _)| key.clone())
            .collect();
        if keys.is_empty() {
            lock.insert(lock_entry(
                &new_reference.familiar_string(),
                &new_reference,
                &plan.target,
            ));
        }
        for key in keys {
            lock.images.remove(&key);
            let new_key = key.strip_suffix(&old_tag).map_or_else(
                || new_reference.familiar_string(),
                |prefix| format!("{prefix}{}", plan.new_tag),
            );
            lock.insert(lock_entry(&new_key, &new_reference, &plan.target));
        }
        if plan.kind == ChangeKind::Patch && plan.new_tag == old_tag {
            note = Some("the floating tag now carries a newer patch release".to_owned());
        }
        pending.entry(*index).or_default().push(ChangeReport {
            path: path.clone(),
            line: site.line,
            kind: plan.kind,
            environment: environment.clone(),
            old: familiar.clone(),
            new: format!("{}@{}", new_reference.familiar_string(), plan.target.digest),
            old_python: plan.old_python.clone(),
            new_python: plan.target.python.clone(),
            built: plan.target.created.clone(),
            applied: !args.dry_run,
            note,
        });
    }

    let mut diffs = String::new();
    for (index, file_edits) in edits {
        let source = &sources[index];
        let new_text = match pin::apply_edits(&source.text, &file_edits) {
            Ok(text) => text,
            Err(error) => {
                report.errors.push(format!(
                    "{}: cannot apply the updates: {error}",
                    shown(&source.path)
                ));
                continue;
            }
        };
        let mut changes = pending.remove(&index).unwrap_or_default();
        if args.dry_run {
            diffs.push_str(&files::unified_diff(&source.path, &source.text, &new_text));
        } else if files::write_atomically(&source.path, &source.text, &new_text)?
            == WriteOutcome::ChangedSinceRead
        {
            for change in &mut changes {
                change.applied = false;
                change.note =
                    Some("the file changed since pyimage read it; run update again".to_owned());
            }
        }
        report.changes.extend(changes);
    }
    let new_lock_text = lock.render();
    if new_lock_text != old_lock_text {
        if args.dry_run {
            diffs.push_str(&files::unified_diff(
                &args.lock,
                &old_lock_text,
                &new_lock_text,
            ));
        } else {
            files::replace_atomically(&args.lock, &new_lock_text)
                .context("writing the lock file")?;
        }
    }
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Human => print_human(&report, &diffs, args.dry_run)?,
    }
    tracing::debug!(stats = ?client.stats(), "registry requests");
    Ok(if !report.errors.is_empty() {
        ExitCode::from(crate::EXIT_REGISTRY)
    } else {
        ExitCode::SUCCESS
    })
}

/// A report fit to paste as a pull-request body.
fn print_human(report: &UpdateReport, diffs: &str, dry_run: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if dry_run {
        write!(out, "{diffs}")?;
    }
    if report.changes.is_empty() {
        writeln!(out, "All pinned Python images are current.")?;
    } else {
        let verb = if dry_run { "would move" } else { "moved" };
        writeln!(
            out,
            "## Python base images: {} {verb}\n",
            report.changes.len()
        )?;
        writeln!(out, "| file | kind | from | to | Python | built |")?;
        writeln!(out, "|---|---|---|---|---|---|")?;
        for change in &report.changes {
            let python = match (&change.old_python, &change.new_python) {
                (Some(old), Some(new)) if old != new => format!("{old} → {new}"),
                (_, Some(new)) => new.clone(),
                _ => "-".to_owned(),
            };
            let kind = match change.kind {
                ChangeKind::Rebuild => "rebuild (same tag, new digest)",
                ChangeKind::Patch => "patch release",
            };
            writeln!(
                out,
                "| {}:{} | {kind} | `{}` | `{}` | {python} | {} |",
                change.path,
                change.line,
                change.old,
                change.new,
                change.built.as_deref().unwrap_or("-")
            )?;
        }
    }
    if !report.available.is_empty() {
        writeln!(out, "\nAvailable but not applied:")?;
        for available in &report.available {
            writeln!(
                out,
                "- {}:{} `{}` → `{}`: {}",
                available.path,
                available.line,
                available.reference,
                available.available,
                available.why_not
            )?;
        }
    }
    for error in &report.errors {
        eprintln!("pyimage: {error}");
    }
    Ok(())
}
