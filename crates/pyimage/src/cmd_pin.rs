//! `pyimage pin PATHS...`: adds the digest each Python image reference points at now, with byte-minimal edits,
//! and records what each reference meant in `pyimage.lock`.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use futures_util::StreamExt;
use pyimage_core::lock::{Lock, LockedImage};
use pyimage_core::pin::{self, Candidate, Edit};
use pyimage_core::python::{Float, PythonTag};
use pyimage_core::{Digest, Reference};
use pyimage_registry::{Platform, RegistryClient, RegistryError, Resolution, ResolveRequest};
use serde::Serialize;

use crate::files::{self, SourceFile, WriteOutcome};
use crate::output::{Format, print_json};

#[derive(Args)]
pub struct PinArgs {
    /// Files or directories to pin (default: the current directory). Directories are walked respecting .gitignore.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Pin one platform's manifest (`linux/amd64`) instead of the multi-platform index.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    platform: Option<String>,
    /// Also replace a floating tag by the most specific tag of the same digest (`3.12-slim` → `3.12.14-slim-trixie`).
    #[arg(long)]
    exact_tag: bool,
    /// Print a unified diff and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write nothing; exit 1 when anything would change (for CI).
    #[arg(long)]
    check: bool,
    /// The lock file to update.
    #[arg(long, value_name = "FILE", default_value = pyimage_core::lock::LOCK_FILE_NAME)]
    lock: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

/// What a reference resolves to for pinning.
#[derive(Debug, Clone)]
pub struct PinTarget {
    /// The digest written into the file (index, or platform manifest with `--platform`).
    pub digest: Digest,
    /// The index resolution (with platforms).
    pub resolution: Resolution,
    /// The Python version of the image.
    pub python: Option<String>,
    /// Build time from the image config.
    pub created: Option<String>,
    /// The most specific tag with the same digest (`--exact-tag`).
    pub exact_tag: Option<String>,
}

#[derive(Serialize)]
struct Change {
    path: String,
    line: usize,
    column: usize,
    reference: String,
    pinned: String,
    digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    via_arg: Option<String>,
    python: Option<String>,
}

#[derive(Serialize)]
struct Skip {
    path: String,
    line: usize,
    column: usize,
    reference: String,
    reason: String,
}

#[derive(Serialize)]
struct PinReport {
    changes: Vec<Change>,
    skipped: Vec<Skip>,
    files_changed: usize,
    lock: Option<String>,
}

/// Whether pyimage pins this reference: the official Python image.
pub fn is_python(reference: &Reference) -> bool {
    reference.is_official("python")
}

/// The platform whose config tells the Python version: linux/amd64 when present, else the first.
fn config_platform(resolution: &Resolution) -> Option<&pyimage_registry::PlatformManifest> {
    let platforms = resolution.platforms.as_ref()?;
    let amd64 = Platform::parse("linux/amd64")?;
    platforms
        .iter()
        .find(|p| amd64.selects(&p.platform))
        .or(platforms.first())
}

/// Lists a repository's tags once per run.
#[derive(Default, Clone)]
pub struct TagCache {
    tags: std::sync::Arc<tokio::sync::Mutex<HashMap<String, Vec<String>>>>,
}

impl TagCache {
    /// The repository's tags.
    pub async fn tags(
        &self,
        client: &RegistryClient,
        repository: &Reference,
    ) -> Result<Vec<String>, RegistryError> {
        let key = repository.repository().to_string();
        let mut tags = self.tags.lock().await;
        if let Some(found) = tags.get(&key) {
            return Ok(found.clone());
        }
        let listed = client.list_tags(&repository.repository()).await?.tags;
        tags.insert(key, listed.clone());
        Ok(listed)
    }
}

/// When to read the image config (two GETs: platform manifest and config blob) for the Python version and build date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadConfig {
    /// Always (update reports the build date).
    Always,
    /// Only when the tag does not name the full version (`3.12-slim`); `3.12.14-slim` says it already.
    WhenTagFloats,
}

/// Resolves a reference for pinning: the index (with platforms), the Python version, and optionally the most
/// specific tag naming the same digest.
pub async fn resolve_target(
    client: &RegistryClient,
    reference: &Reference,
    platform: Option<&Platform>,
    exact_tag: bool,
    tag_cache: &TagCache,
    read_config: ReadConfig,
) -> Result<PinTarget, RegistryError> {
    let request = ResolveRequest {
        platforms: true,
        attestations: false,
        platform: platform.cloned(),
    };
    let resolution = client.resolve(reference, &request).await?;
    let tag = reference.tag().map(PythonTag::parse);
    let (mut python, mut created) = (None, None);
    let version_in_tag = tag
        .as_ref()
        .and_then(|t| t.version)
        .is_some_and(|v| v.is_full());
    let wanted = match read_config {
        ReadConfig::Always => true,
        ReadConfig::WhenTagFloats => !version_in_tag,
    };
    if wanted && let Some(manifest) = config_platform(&resolution) {
        // The image's own record of its Python version beats the tag, which may float.
        if let Ok(config) = client
            .image_config(&reference.repository(), &manifest.digest)
            .await
        {
            python = config.python_version().map(str::to_owned);
            created = config.created.clone();
        }
    }
    if python.is_none()
        && let Some(version) = tag.as_ref().and_then(|t| t.version).filter(|v| v.is_full())
    {
        python = Some(version.to_string());
    }
    let exact = match (&tag, exact_tag) {
        (Some(tag), true) if tag.float() != Float::Patch || tag.os.is_none() => {
            most_specific_alias(
                client,
                reference,
                tag,
                &resolution.digest,
                python.as_deref(),
                tag_cache,
            )
            .await?
        }
        _ => None,
    };
    let digest = match &resolution.platform {
        Some(selected) => selected.digest.clone(),
        None => resolution.digest.clone(),
    };
    Ok(PinTarget {
        digest,
        resolution,
        python,
        created,
        exact_tag: exact,
    })
}

/// The most specific tag that names `digest` now: same variant, same version prefix, same OS when the tag names one.
async fn most_specific_alias(
    client: &RegistryClient,
    reference: &Reference,
    tag: &PythonTag,
    digest: &Digest,
    python: Option<&str>,
    tag_cache: &TagCache,
) -> Result<Option<String>, RegistryError> {
    let all = tag_cache.tags(client, reference).await?;
    let mut candidates: Vec<PythonTag> = all
        .iter()
        .map(|t| PythonTag::parse(t))
        .filter(|candidate| {
            candidate.unknown.is_empty()
                && candidate.variant == tag.variant
                && candidate.specificity() > tag.specificity()
                && (tag.os.is_none() || candidate.os == tag.os)
                && candidate
                    .version
                    .zip(python)
                    .is_some_and(|(v, p)| v.to_string() == p)
        })
        .collect();
    candidates.sort_by_key(|c| std::cmp::Reverse(c.specificity()));
    for candidate in candidates {
        let Ok(candidate_ref) = reference.repository().with_tag(&candidate.tag) else {
            continue;
        };
        let head = client
            .resolve(&candidate_ref, &ResolveRequest::default())
            .await?;
        if head.digest == *digest {
            return Ok(Some(candidate.tag));
        }
    }
    Ok(None)
}

/// RFC 3339 UTC timestamp of now.
pub fn now_rfc3339() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339_utc(seconds)
}

fn rfc3339_utc(seconds: u64) -> String {
    let date = pyimage_core::check::Date::from_days_since_epoch(
        i64::try_from(seconds / 86_400).unwrap_or(0),
    );
    let rest = seconds % 86_400;
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        date.year,
        date.month,
        date.day.unwrap_or(1),
        rest / 3600,
        (rest % 3600) / 60,
        rest % 60
    )
}

/// The lock entry for a pinned reference.
pub fn lock_entry(key: &str, reference: &Reference, target: &PinTarget) -> LockedImage {
    let platforms = target
        .resolution
        .platforms
        .iter()
        .flatten()
        .map(|p| (p.platform.to_string(), p.digest.to_string()))
        .collect::<BTreeMap<_, _>>();
    LockedImage {
        reference: key.to_owned(),
        normalized: reference.repository().with_tag_of(reference).to_string(),
        digest: target.digest.to_string(),
        media_type: match &target.resolution.platform {
            Some(selected) => selected.media_type.clone(),
            None => target.resolution.media_type.clone(),
        },
        python: target.python.clone(),
        resolved_at: now_rfc3339(),
        registry: target.resolution.registry.clone(),
        platforms,
    }
}

/// Loads the lock if it exists.
pub fn load_lock(path: &std::path::Path) -> anyhow::Result<Lock> {
    match std::fs::read_to_string(path) {
        Ok(text) => Lock::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Lock::default()),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

pub async fn run(args: &PinArgs, client: RegistryClient) -> anyhow::Result<ExitCode> {
    let platform = match &args.platform {
        None => None,
        Some(text) => Some(Platform::parse(text).with_context(|| {
            format!("--platform {text:?}: expected OS/ARCH[/VARIANT] such as linux/amd64")
        })?),
    };
    let mut lock = load_lock(&args.lock)?;
    let old_lock_text = lock.render();
    let sources: Vec<SourceFile> = files::find(&args.paths)?
        .into_iter()
        .map(|(path, kind)| files::read(&path, kind))
        .collect::<anyhow::Result<_>>()?;
    let per_file: Vec<Vec<Candidate>> = sources
        .iter()
        .map(|source| pin::candidates(source.kind, &source.text, &is_python))
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
    let mut already: BTreeMap<String, Reference> = BTreeMap::new();
    for source in &sources {
        for site in pin::pinned_sites(source.kind, &source.text, &is_python) {
            let known = match lock.lookup(&site.reference) {
                pyimage_core::lock::LockMatch::Entry(entry) => {
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
                already.entry(key).or_insert(site.reference);
            }
        }
    }
    let tag_cache = TagCache::default();
    let recorded: Vec<(String, Reference, Result<PinTarget, RegistryError>)> =
        futures_util::stream::iter(already)
            .map(|(key, reference)| {
                let (client, tag_cache) = (client.clone(), tag_cache.clone());
                async move {
                    let target = resolve_target(
                        &client,
                        &reference,
                        None,
                        false,
                        &tag_cache,
                        ReadConfig::WhenTagFloats,
                    )
                    .await;
                    (key, reference, target)
                }
            })
            .buffer_unordered(crate::cmd_resolve::CONCURRENCY)
            .collect()
            .await;
    let mut recorded_errors = Vec::new();
    for (key, reference, target) in recorded {
        match target {
            Ok(target) => lock.insert(lock_entry(&key, &reference, &target)),
            Err(error) => {
                recorded_errors.push(format!("{key}: cannot verify the pinned digest: {error}"))
            }
        }
    }
    let resolved: HashMap<String, Result<PinTarget, RegistryError>> =
        futures_util::stream::iter(unique)
            .map(|(text, reference)| {
                let (client, platform, tag_cache) =
                    (client.clone(), platform.clone(), tag_cache.clone());
                let exact = args.exact_tag;
                async move {
                    let target = resolve_target(
                        &client,
                        &reference,
                        platform.as_ref(),
                        exact,
                        &tag_cache,
                        ReadConfig::WhenTagFloats,
                    )
                    .await;
                    (text, target)
                }
            })
            .buffer_unordered(crate::cmd_resolve::CONCURRENCY)
            .collect()
            .await;

    let mut report = PinReport {
        changes: Vec::new(),
        skipped: Vec::new(),
        files_changed: 0,
        lock: None,
    };
    let mut registry_failed = !recorded_errors.is_empty();
    for error in &recorded_errors {
        eprintln!("pyimage: {error}");
    }
    let mut diffs = String::new();
    for (source, candidates) in sources.iter().zip(&per_file) {
        let shown = source.path.display().to_string();
        let mut edits = Vec::new();
        let mut changes = Vec::new();
        for candidate in candidates {
            let skip = |reason: String| Skip {
                path: shown.clone(),
                line: candidate.line,
                column: candidate.column,
                reference: candidate.written.clone(),
                reason,
            };
            let site = match &candidate.site {
                Ok(site) => site,
                Err(refusal) => {
                    report.skipped.push(skip(refusal.to_string()));
                    continue;
                }
            };
            let (Some(reference), Some(target)) =
                (&candidate.reference, resolved.get(&candidate.evaluated))
            else {
                continue;
            };
            let target = match target {
                Ok(target) => target,
                Err(error) => {
                    registry_failed = true;
                    report.skipped.push(skip(error.to_string()));
                    continue;
                }
            };
            let mut key = candidate.evaluated.clone();
            let mut new_reference = reference.clone();
            if let (Some(exact), Some(range)) = (&target.exact_tag, &site.tag_range) {
                let old_tag = source
                    .text
                    .get(range.clone())
                    .unwrap_or_default()
                    .to_owned();
                edits.push(Edit {
                    range: range.clone(),
                    expected: old_tag.clone(),
                    replacement: exact.clone(),
                });
                key = format!("{}{exact}", key.strip_suffix(&old_tag).unwrap_or(&key));
                new_reference = reference
                    .with_tag(exact)
                    .unwrap_or_else(|_| reference.clone());
            } else if args.exact_tag && target.exact_tag.is_some() {
                report.skipped.push(skip(
                    "--exact-tag: the tag is built from an ARG; only the digest is pinned"
                        .to_owned(),
                ));
            }
            edits.push(Edit::insert(site.insert_at, format!("@{}", target.digest)));
            lock.insert(lock_entry(&key, &new_reference, target));
            changes.push(Change {
                path: shown.clone(),
                line: candidate.line,
                column: candidate.column,
                reference: candidate.written.clone(),
                pinned: format!("{key}@{}", target.digest),
                digest: target.digest.to_string(),
                platform: target
                    .resolution
                    .platform
                    .as_ref()
                    .map(|p| p.platform.to_string()),
                via_arg: site
                    .via_arg
                    .as_ref()
                    .map(|(name, line)| format!("ARG {name} (line {line})")),
                python: target.python.clone(),
            });
        }
        if edits.is_empty() {
            continue;
        }
        let new_text = pin::apply_edits(&source.text, &edits)
            .map_err(|e| anyhow::anyhow!("{shown}: internal error planning edits: {e}"))?;
        if args.dry_run {
            diffs.push_str(&files::unified_diff(&source.path, &source.text, &new_text));
        } else if !args.check {
            match files::write_atomically(&source.path, &source.text, &new_text)? {
                WriteOutcome::Written => {}
                WriteOutcome::ChangedSinceRead => {
                    for change in changes.drain(..) {
                        report.skipped.push(Skip {
                            path: change.path,
                            line: change.line,
                            column: change.column,
                            reference: change.reference,
                            reason: "the file changed since pyimage read it; run pin again"
                                .to_owned(),
                        });
                    }
                    continue;
                }
            }
        }
        report.files_changed += 1;
        report.changes.extend(changes);
    }
    let new_lock_text = lock.render();
    if new_lock_text != old_lock_text {
        report.lock = Some(args.lock.display().to_string());
        if args.dry_run {
            diffs.push_str(&files::unified_diff(
                &args.lock,
                if args.lock.exists() {
                    &old_lock_text
                } else {
                    ""
                },
                &new_lock_text,
            ));
        } else if !args.check {
            files::replace_atomically(&args.lock, &new_lock_text)?;
        }
    }
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Human => print_human(&report, args, &diffs)?,
    }
    tracing::debug!(stats = ?client.stats(), "registry requests");
    Ok(if registry_failed {
        ExitCode::from(crate::EXIT_REGISTRY)
    } else if args.check && !report.changes.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_human(report: &PinReport, args: &PinArgs, diffs: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if args.dry_run {
        write!(out, "{diffs}")?;
    }
    let verb = if args.dry_run || args.check {
        "would pin"
    } else {
        "pinned"
    };
    for change in &report.changes {
        let via = change
            .via_arg
            .as_ref()
            .map(|a| format!(" via {a}"))
            .unwrap_or_default();
        let python = change
            .python
            .as_ref()
            .map(|p| format!(", Python {p}"))
            .unwrap_or_default();
        let platform = change
            .platform
            .as_ref()
            .map(|p| format!(", {p} manifest"))
            .unwrap_or_default();
        writeln!(
            out,
            "{}:{}:{}: {verb} {} -> {}{via}{platform}{python}",
            change.path, change.line, change.column, change.reference, change.pinned
        )?;
    }
    for skip in &report.skipped {
        writeln!(
            out,
            "{}:{}:{}: skipped {}: {}",
            skip.path, skip.line, skip.column, skip.reference, skip.reason
        )?;
    }
    writeln!(
        out,
        "{verb} {} reference(s) in {} file(s); {} skipped{}",
        report.changes.len(),
        report.files_changed,
        report.skipped.len(),
        report
            .lock
            .as_ref()
            .map(|l| format!("; lock: {l}"))
            .unwrap_or_default()
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(1_795_435_200), "2026-11-23T12:00:00Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
    }
}
