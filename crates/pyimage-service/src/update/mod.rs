//! The update planner: for every pinned Python reference, ask the registry (HEAD first), classify what moved with
//! `pyimage_policy::moves::classify_move`, and decide under the environment's `update` policy — move the digest after
//! a rebuild, move tag and digest to a newer patch, never cross a line — then under its controls: a cool-down
//! (`cooldown`) and promotion from a lower environment (`promote-from`), decided by `pyimage_policy::controls`.
//! Each move carries its [`explain::Explanation`]. Returns the new file texts, the lock and a report; writes nothing.

pub mod explain;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use futures_util::StreamExt;
use pyimage_locate::dockerfile::ScanOptions;
use pyimage_locate::pin::{self, Edit};
use pyimage_model::lock::Lock;
use pyimage_model::python::PythonTag;
use pyimage_model::{Digest, Reference};
use pyimage_policy::check::EnvSettings;
use pyimage_policy::check::policy::{Promotion, UpdatePolicy};
use pyimage_policy::controls::{self, Held, LowerPin, Promoted};
use pyimage_policy::moves::{MoveKind, Observation, classify_move, newer_lines, newer_patch};
use pyimage_registry::{Platform, RegistryError};
use pyimage_store::Store;
use pyimage_store::located::FileError;
use serde::Serialize;

use crate::apply::{self, Applied, LockNotWritten, Mode};
use crate::error::{ErrorKind, Outcome};
use crate::resolver::{CONCURRENCY, ObserveOptions, Observed, ReadConfig, Resolver, lock_entry};
use crate::sources::Gathered;
use crate::{Rewrite, SourceText, manages};
use explain::Explanation;

/// The environment a file is in, and what its `update` policy and controls allow.
#[derive(Debug, Clone)]
pub struct FileEnvironment {
    /// The environment's name.
    pub name: String,
    /// Its `update` setting: which moves `pyimage update` may apply on its own.
    pub update: UpdatePolicy,
    /// How long a digest must have been served before this environment moves to it.
    pub cooldown: Option<Duration>,
    /// The lower environment this one is promoted from.
    pub promotion: Option<Promotion>,
}

impl FileEnvironment {
    /// The environment `name` with `settings` (the defaults of an unconfigured environment when `None`).
    pub fn of(name: &str, settings: Option<&EnvSettings>) -> Self {
        FileEnvironment {
            name: name.to_owned(),
            update: settings.map_or(UpdatePolicy::Digest, |s| s.update),
            cooldown: settings.and_then(|s| s.cooldown),
            promotion: settings.and_then(|s| s.promotion.clone()),
        }
    }
}

/// What the controls read beyond the files: the history store (when a digest was first served), the time, and the
/// lock files of lower environments that keep their own (`promote-lock`).
#[derive(Debug, Default)]
pub struct Controls<'a> {
    /// The history store `pyimage watch` fills, when one is configured and readable.
    pub store: Option<&'a Store>,
    /// Now, in Unix seconds.
    pub now: u64,
    /// `promote-lock` as written → (the path as shown, the lock read from it).
    pub lower_locks: BTreeMap<String, (String, Lock)>,
    /// The cosign keys: a moved image a `[[trust.signatures]]` rule covers gets its new digest's signature verified
    /// and recorded.
    pub keyring: Option<&'a crate::signatures::Keyring>,
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
    /// Why the digest moved: base image, build commit, packages, and when it was first served.
    pub explanation: Explanation,
}

/// A move the environment's controls hold back (cool-down, promotion): not written, reported with when it can be.
#[derive(Debug, Clone, Serialize)]
pub struct HeldBack {
    /// The file, as shown.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// The environment.
    pub environment: String,
    /// The reference as pinned.
    pub reference: String,
    /// The move held back (`python:3.12-slim@sha256:…`).
    pub to: String,
    /// Its kind.
    pub kind: MoveKind,
    /// `cooldown` or `promotion`.
    pub control: &'static str,
    /// Why, in words.
    pub reason: String,
    /// When it becomes eligible (RFC 3339 UTC), if waiting is all it takes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eligible_at: Option<String>,
    /// What the move would bring.
    pub explanation: Explanation,
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

impl Controls<'_> {
    /// Reads the lock files of lower environments named by `promote-lock` in `policy`, relative to `base` (the
    /// configuration's directory), each shown relative to `cwd` when it is below it, as `check` shows paths. A
    /// missing one is an input error: promotion cannot be judged without it.
    pub fn read_lower_locks(
        &mut self,
        policy: &pyimage_policy::check::Policy,
        base: &std::path::Path,
        cwd: Option<&std::path::Path>,
    ) -> Result<(), crate::ServiceError> {
        for settings in policy.environments.values() {
            let Some(written) = settings.promotion.as_ref().and_then(|p| p.lock.as_ref()) else {
                continue;
            };
            let path = base.join(written);
            if !path.is_file() {
                return Err(crate::ServiceError::input(format!(
                    "promote-lock = {written:?}: {} is not a lock file; run `pyimage pin` in the lower environment or fix the path",
                    path.display()
                )));
            }
            let lock = pyimage_store::lock_file::read(&path)
                .map_err(|error| crate::ServiceError::input(error.to_string()))?;
            let relative = cwd
                .and_then(|cwd| path.strip_prefix(cwd).ok())
                .unwrap_or(&path);
            let shown = relative.display().to_string();
            let shown = shown.strip_prefix("./").map(str::to_owned).unwrap_or(shown);
            self.lower_locks.insert(written.clone(), (shown, lock));
        }
        Ok(())
    }
}

/// What `update` would do.
#[derive(Debug, Default)]
pub struct UpdatePlan {
    /// New texts of the files that change.
    pub rewrites: Vec<Rewrite<UpdateChange>>,
    /// Moves that exist but were not applied: newer lines, moves the policy holds back, tags not written literally.
    pub available: Vec<Available>,
    /// Moves the environments' controls hold back (cool-down, promotion).
    pub held: Vec<HeldBack>,
    /// Problems, each naming the file and line.
    pub errors: Vec<FileError>,
    /// The worst kind of error met.
    pub failure: Option<ErrorKind>,
    /// The lock with every moved reference re-recorded.
    pub lock: Lock,
    /// Signatures verified (or not) for the locked images a signature rule covers.
    pub signatures: Vec<crate::signatures::LockedSignature>,
}

/// What the registry says about one pinned reference.
#[derive(Debug, Clone)]
struct Step {
    new_tag: String,
    target: Observed,
    kind: MoveKind,
    old_python: Option<String>,
    explanation: Explanation,
    /// Set when a control holds the move back: `(control, why)`.
    held: Option<(&'static str, Held)>,
    /// Set when promotion moved the target to what the lower environment runs.
    promoted_from: Option<String>,
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
                explanation: Explanation::default(),
                held: None,
                promoted_from: None,
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
            explanation: Explanation::default(),
            held: None,
            promoted_from: None,
        });
    }
    Ok(result)
}

/// The outlook of one pinned reference in one environment, under its controls: promotion first (which may move
/// the target to the digest the lower environment runs), then the explanation of the move, then the cool-down of
/// the digest it lands on. A registry that fails while explaining does not fail the move: it is said in the
/// explanation.
async fn controlled_outlook(
    resolver: &Resolver,
    reference: &Reference,
    environment: &FileEnvironment,
    old_python: Option<String>,
    platform: Option<Platform>,
    controls: &Controls<'_>,
    lower_pins: &[LowerPin],
) -> Result<Outlook, RegistryError> {
    let mut result = outlook(
        resolver,
        reference,
        environment.update,
        old_python,
        platform.clone(),
    )
    .await?;
    let (Some(step), Some(pinned), Some(old_tag)) =
        (result.step.as_mut(), reference.digest(), reference.tag())
    else {
        return Ok(result);
    };
    let unpinned = reference.repository();
    if let Some(promotion) = &environment.promotion {
        let pins: Vec<LowerPin> = lower_pins
            .iter()
            .filter(|pin| pin.tag == old_tag || pin.tag == step.new_tag)
            .cloned()
            .collect();
        match controls::promotion(
            promotion,
            &step.new_tag,
            step.target.digest.as_str(),
            pinned.as_str(),
            &pins,
            controls.now,
        ) {
            Promoted::Accept => {}
            Promoted::Refuse(held) => step.held = Some(("promotion", held)),
            Promoted::Retarget { tag, digest } => {
                let options = ObserveOptions {
                    platform: platform.clone(),
                    ..always()
                };
                let Ok(tested) = unpinned.with_tag(&tag).and_then(|r| r.with_digest(&digest))
                else {
                    step.held = Some((
                        "promotion",
                        Held::Promotion {
                            reason: format!(
                                "{} pins {tag}@{digest}, which is not a reference",
                                promotion.from
                            ),
                            eligible_at: None,
                        },
                    ));
                    return Ok(result);
                };
                let target = resolver.observe(&tested, &options).await?;
                let old = Observation {
                    tag: old_tag.to_owned(),
                    digest: Some(pinned.clone()),
                    python: step.old_python.clone(),
                };
                let new = Observation {
                    tag: tag.clone(),
                    digest: Some(target.digest.clone()),
                    python: target.python.clone(),
                };
                let moved = classify_move(&old, &new, environment.update);
                step.new_tag = tag;
                step.kind = moved.kind;
                step.target = target;
                step.promoted_from = Some(promotion.from.clone());
                if !moved.apply {
                    step.held = Some((
                        "promotion",
                        Held::Promotion {
                            reason: format!(
                                "{} runs {}, a {} move, which update = \"{}\" does not take",
                                promotion.from,
                                step.new_tag,
                                moved.kind.describe(),
                                environment.update.as_str()
                            ),
                            eligible_at: None,
                        },
                    ));
                }
            }
        }
    }
    // A platform pin names a manifest, not an index: its SBOM diff would need the indexes, which the lock does
    // not record.
    if platform.is_none()
        && let Some(wanted) = Platform::parse("linux/amd64")
    {
        step.explanation = explain::explain(
            resolver,
            &unpinned,
            &step.new_tag,
            pinned,
            &step.target.resolution.digest,
            &wanted,
        )
        .await;
    } else {
        step.explanation
            .unread
            .push("pinned to one platform's manifest: the images are not compared".to_owned());
    }
    step.explanation.first_served = explain::first_served(
        controls.store,
        &unpinned,
        &step.target.resolution.digest,
        step.target.created.as_deref(),
        &mut step.explanation.unread,
    )
    .await;
    if step.held.is_none()
        && let Some(cooldown) = environment.cooldown
        && let Err(held) = controls::cooldown(
            step.explanation
                .first_served
                .as_ref()
                .and_then(explain::ServedAt::decided),
            cooldown,
            controls.now,
        )
    {
        step.held = Some(("cooldown", held));
    }
    Ok(result)
}

/// Keeps a lock entry for every pinned reference that stays where it is. Two files can pin the same tag and only one
/// move (prod held back by its `update`, `cooldown` or promotion while test moves): the moved one took the tag's
/// entry, so the one left behind gets its own entry back from the old lock, keyed by its digest when the tag's key
/// is taken — `check --locked` then matches each file to the entry of its own digest.
fn keep_unmoved_pins(
    lock: &mut Lock,
    original: &Lock,
    sites: &[(usize, pin::PinnedSite)],
    moved: &BTreeSet<usize>,
) {
    for (position, (_, site)) in sites.iter().enumerate() {
        let Some(digest) = site.reference.digest() else {
            continue;
        };
        if moved.contains(&position) {
            continue;
        }
        let normalized = site
            .reference
            .repository()
            .with_tag_of(&site.reference)
            .to_string();
        let kept = |lock: &Lock| {
            lock.entries()
                .find(|entry| entry.normalized == normalized && entry.digest == digest.as_str())
                .cloned()
        };
        if kept(lock).is_some() {
            continue;
        }
        let Some(mut entry) = kept(original) else {
            continue;
        };
        if lock.get(&entry.reference).is_some() {
            entry.reference = format!("{}@{digest}", entry.reference);
        }
        lock.insert(entry);
    }
}

/// The pins of lower environments that promotion reads: the files of this run in each environment (dated by the
/// lock entry recording the same digest), and the `promote-lock` files.
struct LowerPins {
    /// Environment → (repository, pin).
    by_environment: BTreeMap<String, Vec<(String, LowerPin)>>,
    /// `promote-lock` as written → (repository, pin).
    by_lock: BTreeMap<String, Vec<(String, LowerPin)>>,
}

impl LowerPins {
    fn gather(
        sites: &[(usize, pin::PinnedSite)],
        sources: &[(SourceText, FileEnvironment)],
        lock: &Lock,
        controls: &Controls<'_>,
    ) -> LowerPins {
        let since = |normalized: &str, digest: &str| {
            lock.entries()
                .find(|entry| entry.normalized == normalized && entry.digest == digest)
                .and_then(|entry| pyimage_model::time::parse_rfc3339_utc(&entry.resolved_at))
        };
        let mut by_environment: BTreeMap<String, Vec<(String, LowerPin)>> = BTreeMap::new();
        for (index, site) in sites {
            let (source, environment) = &sources[*index];
            let (Some(tag), Some(digest)) = (site.reference.tag(), site.reference.digest()) else {
                continue;
            };
            let normalized = site
                .reference
                .repository()
                .with_tag_of(&site.reference)
                .to_string();
            by_environment
                .entry(environment.name.clone())
                .or_default()
                .push((
                    site.reference.repository().to_string(),
                    LowerPin {
                        tag: tag.to_owned(),
                        digest: digest.to_string(),
                        since: since(&normalized, digest.as_str()),
                        place: format!("{}:{}", source.shown, site.line),
                    },
                ));
        }
        let mut by_lock: BTreeMap<String, Vec<(String, LowerPin)>> = BTreeMap::new();
        for (written, (shown, lower)) in &controls.lower_locks {
            let pins = by_lock.entry(written.clone()).or_default();
            for entry in lower.entries() {
                let Ok(reference) = Reference::parse(&entry.normalized) else {
                    continue;
                };
                let Some(tag) = reference.tag() else { continue };
                pins.push((
                    reference.repository().to_string(),
                    LowerPin {
                        tag: tag.to_owned(),
                        digest: entry.digest.clone(),
                        since: pyimage_model::time::parse_rfc3339_utc(&entry.resolved_at),
                        place: shown.clone(),
                    },
                ));
            }
        }
        LowerPins {
            by_environment,
            by_lock,
        }
    }

    /// The pins of `environment`'s lower environment in the repository of `reference`.
    fn of(&self, environment: &FileEnvironment, reference: &Reference) -> Vec<LowerPin> {
        let Some(promotion) = &environment.promotion else {
            return Vec::new();
        };
        let repository = reference.repository().to_string();
        let pins = match &promotion.lock {
            Some(lock) => self.by_lock.get(lock),
            None => self.by_environment.get(&promotion.from),
        };
        pins.into_iter()
            .flatten()
            .filter(|(pinned_repository, _)| *pinned_repository == repository)
            .map(|(_, pin)| pin.clone())
            .collect()
    }
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
    controls: &Controls<'_>,
) -> UpdatePlan {
    let original = lock.clone();
    let mut plan = UpdatePlan {
        lock,
        ..UpdatePlan::default()
    };
    let wanted = manages(policy);
    // Each distinct (reference, environment) is asked once.
    let mut sites = Vec::new();
    let mut unique: BTreeMap<(String, String), Reference> = BTreeMap::new();
    let mut environments: BTreeMap<String, &FileEnvironment> = BTreeMap::new();
    for (index, (source, environment)) in sources.iter().enumerate() {
        let options = source.scan_options(build);
        environments.insert(environment.name.clone(), environment);
        for site in pin::pinned_sites(source.kind, &source.text, &options, &wanted) {
            if site.reference.tag().is_none() {
                continue;
            }
            unique
                .entry((site.reference.to_string(), environment.name.clone()))
                .or_insert_with(|| site.reference.clone());
            sites.push((index, site));
        }
    }
    let lower = LowerPins::gather(&sites, sources, &original, controls);
    let lock_ref = &plan.lock;
    resolver.progress().planned(unique.len());
    let outlooks: HashMap<(String, String), Result<Outlook, RegistryError>> =
        futures_util::stream::iter(unique)
            .filter_map(|(key, reference)| {
                let environment = environments.get(&key.1).copied();
                let lower = &lower;
                async move {
                    let environment = environment?;
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
                    let pins = lower.of(environment, &reference);
                    Some(async move {
                        let result = controlled_outlook(
                            resolver,
                            &reference,
                            environment,
                            old_python,
                            platform,
                            controls,
                            &pins,
                        )
                        .await;
                        resolver.progress().finished(&key.0);
                        (key, result)
                    })
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
    resolver.progress().settled();

    let mut edits: BTreeMap<usize, Vec<Edit>> = BTreeMap::new();
    let mut lock_keys: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    let mut pending: BTreeMap<usize, Vec<UpdateChange>> = BTreeMap::new();
    let mut moved_sites = BTreeSet::new();
    for (position, (index, site)) in sites.iter().enumerate() {
        let (source, environment) = &sources[*index];
        let path = &source.shown;
        let outlook = match outlooks.get(&(site.reference.to_string(), environment.name.clone())) {
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
        let new_familiar = site
            .reference
            .repository()
            .with_tag(&step.new_tag)
            .map_or_else(|_| familiar.clone(), |r| r.familiar_string());
        if let Some((control, held)) = &step.held {
            let (reason, eligible_at) = match held {
                Held::Cooldown { eligible_at } => (
                    format!(
                        "environment {} has cooldown = \"{}\"; the digest was {}",
                        environment.name,
                        environment
                            .cooldown
                            .map(controls::describe_age)
                            .unwrap_or_default(),
                        step.explanation
                            .first_served
                            .as_ref()
                            .map(|served| format!("{} {}", served.source.describe(), served.at))
                            .unwrap_or_default()
                    ),
                    Some(*eligible_at),
                ),
                Held::AgeUnknown => (
                    format!(
                        "environment {} has a cooldown, and neither a history store nor the image says when the digest was first served",
                        environment.name
                    ),
                    None,
                ),
                Held::Promotion {
                    reason,
                    eligible_at,
                } => (reason.clone(), *eligible_at),
            };
            plan.held.push(HeldBack {
                path: path.clone(),
                line: site.line,
                environment: environment.name.clone(),
                reference: familiar.clone(),
                to: format!("{new_familiar}@{}", step.target.digest),
                kind: step.kind,
                control,
                reason,
                eligible_at: eligible_at.map(pyimage_model::time::rfc3339_utc),
                explanation: step.explanation.clone(),
            });
            continue;
        }
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
        // An entry that already records the target (another file of the tag moved there first, in this run or
        // before) keeps its time: promotion reads how long a digest has been pinned from it.
        let target_digest = step.target.digest.as_str();
        let mut since = plan
            .lock
            .entries()
            .filter(|entry| entry.digest == target_digest && keys.contains(&entry.reference))
            .map(|entry| entry.resolved_at.clone())
            .min();
        for key in keys {
            if let Some(removed) = plan.lock.remove(&key)
                && removed.digest == target_digest
            {
                since = match since {
                    Some(earlier) if earlier <= removed.resolved_at => Some(earlier),
                    _ => Some(removed.resolved_at),
                };
            }
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
                since.as_deref().unwrap_or(resolved_at),
            ));
        }
        let note = match &step.promoted_from {
            Some(lower) => Some(format!(
                "promoted from {lower}: the digest {lower} pins, not the newest the registry serves"
            )),
            None => (step.kind == MoveKind::Patch && step.new_tag == old_tag)
                .then(|| "the floating tag now carries a newer patch release".to_owned()),
        };
        moved_sites.insert(position);
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
            explanation: step.explanation.clone(),
        });
    }
    keep_unmoved_pins(&mut plan.lock, &original, &sites, &moved_sites);
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
    if let Some(keyring) = controls.keyring {
        plan.signatures =
            crate::signatures::record_in_lock(resolver.client(), policy, keyring, &mut plan.lock)
                .await;
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
    /// Moves the environments' controls hold back (cool-down, promotion), with when they become eligible.
    pub held: Vec<HeldBack>,
    /// Moves planned in files that could not be written, with the reason (their lock entries did not move).
    pub skipped: Vec<NotMoved>,
    /// Files a walk met and did not read (symlinks, FIFOs), with the reason.
    pub skipped_files: Vec<FileError>,
    /// Files that could not be read, walked or planned, and references that could not be asked about.
    pub errors: Vec<FileError>,
    /// Signatures checked for locked images a `[[trust.signatures]]` rule covers (recorded in the lock when they
    /// verify; `check --locked` reports the others as PY018).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<crate::signatures::LockedSignature>,
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
        held: plan.held,
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
        signatures: plan.signatures,
    };
    Ok((report, settled.applied, settled.outcome))
}
