//! The seeder: keeps the state of the replica's `library/python` (which entry is built how, which tag points
//! where), and advances it to a library file (seed, replay) or rebuilds entries, pushing only what changed.
//!
//! Pushing is concurrent and deduplicated: each blob is pushed once (after a `HEAD` says the registry lacks it),
//! each manifest once by digest, then every tag whose index changed.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context as _, Result};
use pyimage_model::Library;
use pyimage_model::official_images::Entry;
use tokio::sync::{Mutex, Semaphore};
use tokio::task::JoinSet;

use crate::client::RegistryClient;
use crate::content::{BuiltEntry, build_entry, python_version_of};
use crate::oci::{Blob, ImageIndex, OCI_INDEX};
use crate::truth::{
    Advance, EntryTruth, GroundTruth, ImageTruth, PushReason, PushStats, TagMove, TagTruth,
};

/// Requests in flight at once.
const CONCURRENCY: usize = 16;

/// An entry of the current file with what was built for it.
#[derive(Debug, Clone)]
struct CurrentEntry {
    entry: Entry,
    built: Arc<BuiltEntry>,
}

#[derive(Debug, Default)]
struct SeedState {
    /// Entries of the file the repository was last advanced to, in file order.
    current: Vec<CurrentEntry>,
    /// The last build number of every entry key ever built (so that an entry that comes back is a new build).
    builds: HashMap<String, u32>,
    /// The tags and what they point at.
    tags: BTreeMap<String, TagTruth>,
    /// Base-image epoch: each rebuild is a new release of every base image.
    epoch: u32,
    /// Every blob and manifest ever pushed, by digest.
    store: HashMap<String, Blob>,
    /// Digests known to be in the registry.
    pushed: HashSet<String>,
    /// Whether anything was pushed yet (before that, the registry is known to be empty).
    seeded_once: bool,
}

/// What the seeder changes: the file to advance to, and which directories to rebuild regardless.
pub(crate) struct Change {
    /// The library file to advance to (the current one for a rebuild).
    pub library: Option<Library>,
    /// Keys ([`entry_key`]) of entries to rebuild even if unchanged.
    pub rebuild: BTreeSet<String>,
    /// Whether to start a new base-image epoch first.
    pub new_epoch: bool,
}

/// Pushes `library/python` and remembers its state.
#[derive(Debug)]
pub(crate) struct Seeder {
    client: Arc<RegistryClient>,
    repository: String,
    state: Mutex<SeedState>,
}

impl Seeder {
    pub(crate) fn new(client: Arc<RegistryClient>, repository: &str) -> Self {
        Seeder {
            client,
            repository: repository.to_owned(),
            state: Mutex::new(SeedState::default()),
        }
    }

    pub(crate) fn repository(&self) -> &str {
        &self.repository
    }

    pub(crate) fn client(&self) -> &Arc<RegistryClient> {
        &self.client
    }

    /// The ground truth now.
    pub(crate) async fn truth(&self) -> GroundTruth {
        let state = self.state.lock().await;
        GroundTruth {
            repository: self.repository.clone(),
            tags: state.tags.clone(),
        }
    }

    /// The entries of the current file.
    pub(crate) async fn current_entries(&self) -> Vec<Entry> {
        let state = self.state.lock().await;
        state.current.iter().map(|c| c.entry.clone()).collect()
    }

    /// Every blob and manifest ever pushed, by digest.
    pub(crate) async fn store(&self) -> HashMap<String, Blob> {
        self.state.lock().await.store.clone()
    }

    /// A stored blob or manifest, by digest.
    pub(crate) async fn stored(&self, digest: &str) -> Option<Blob> {
        self.state.lock().await.store.get(digest).cloned()
    }

    /// Applies a change and pushes what it needs.
    pub(crate) async fn apply(&self, change: Change, reason: PushReason) -> Result<Advance> {
        let started = Instant::now();
        let mut state = self.state.lock().await;
        if change.new_epoch {
            state.epoch += 1;
        }
        let entries: Vec<Entry> = match &change.library {
            Some(library) => library.entries.clone(),
            None => state.current.iter().map(|c| c.entry.clone()).collect(),
        };
        let previous: HashMap<String, Arc<BuiltEntry>> = state
            .current
            .iter()
            .map(|c| (entry_key(&c.entry), Arc::clone(&c.built)))
            .collect();

        // Build what is new, changed or asked to be rebuilt.
        let mut current = Vec::with_capacity(entries.len());
        let mut fresh = Vec::new();
        for entry in entries {
            let key = entry_key(&entry);
            let reuse = previous.get(&key).filter(|built| {
                !change.rebuild.contains(&key) && same_content(&built.entry, &entry)
            });
            let built = match reuse {
                Some(built) => Arc::clone(built),
                None => {
                    let build = state.builds.get(&key).map_or(1, |b| b + 1);
                    state.builds.insert(key, build);
                    let built = Arc::new(build_entry(&entry, build, state.epoch)?);
                    fresh.push(Arc::clone(&built));
                    built
                }
            };
            current.push(CurrentEntry { entry, built });
        }

        // What every tag of the file should point at.
        let desired = desired_tags(&current);
        let mut stats = PushStats {
            entries_built: fresh.len(),
            ..PushStats::default()
        };

        // Blobs, then manifests, then indexes by digest, then tags.
        let mut blobs: BTreeMap<String, Blob> = BTreeMap::new();
        let mut manifests: BTreeMap<String, Blob> = BTreeMap::new();
        for built in &fresh {
            for blob in built.blobs() {
                blobs
                    .entry(blob.digest.clone())
                    .or_insert_with(|| blob.clone());
            }
            for manifest in built.manifests() {
                manifests
                    .entry(manifest.digest.clone())
                    .or_insert_with(|| manifest.clone());
            }
        }
        let mut indexes: BTreeMap<String, Blob> = BTreeMap::new();
        for (index, _, _) in desired.values() {
            indexes
                .entry(index.digest.clone())
                .or_insert_with(|| index.clone());
        }
        blobs.retain(|digest, _| !state.pushed.contains(digest));
        manifests.retain(|digest, _| !state.pushed.contains(digest));
        indexes.retain(|digest, _| !state.pushed.contains(digest));

        let pushed_blobs = Arc::new(AtomicUsize::new(0));
        let present_blobs = Arc::new(AtomicUsize::new(0));
        let repository = self.repository.clone();
        // A registry the seeder has never pushed to was started empty by the replica: asking it first is wasted.
        let check_first = state.seeded_once;
        run_all(blobs.values().cloned().collect(), |blob: Blob| {
            let client = Arc::clone(&self.client);
            let repository = repository.clone();
            let (pushed, present) = (Arc::clone(&pushed_blobs), Arc::clone(&present_blobs));
            async move {
                if check_first && client.blob_exists(&repository, &blob.digest).await? {
                    present.fetch_add(1, Ordering::Relaxed);
                } else {
                    client.push_blob(&repository, &blob).await?;
                    pushed.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            }
        })
        .await
        .context("pushing blobs")?;
        stats.blobs_pushed = pushed_blobs.load(Ordering::Relaxed);
        stats.blobs_present = present_blobs.load(Ordering::Relaxed);
        state.pushed.extend(blobs.keys().cloned());

        let push_by_digest = |items: Vec<Blob>| {
            run_all(items, |manifest: Blob| {
                let client = Arc::clone(&self.client);
                let repository = repository.clone();
                async move {
                    client
                        .push_manifest(&repository, &manifest.digest, &manifest)
                        .await
                        .map(drop)
                }
            })
        };
        push_by_digest(manifests.values().cloned().collect())
            .await
            .context("pushing image and attestation manifests")?;
        stats.manifests_pushed = manifests.len();
        state.pushed.extend(manifests.keys().cloned());
        push_by_digest(indexes.values().cloned().collect())
            .await
            .context("pushing indexes")?;
        stats.indexes_pushed = indexes.len();
        state.pushed.extend(indexes.keys().cloned());

        let retagged: Vec<(String, Blob)> = desired
            .iter()
            .filter(|(tag, (index, _, _))| {
                state
                    .tags
                    .get(*tag)
                    .is_none_or(|t| t.digest != index.digest)
            })
            .map(|(tag, (index, _, _))| (tag.clone(), index.clone()))
            .collect();
        run_all(retagged.clone(), |(tag, index): (String, Blob)| {
            let client = Arc::clone(&self.client);
            let repository = repository.clone();
            async move {
                client
                    .push_manifest(&repository, &tag, &index)
                    .await
                    .map(drop)
            }
        })
        .await
        .context("pushing tags")?;
        stats.tags_pushed = retagged.len();

        for blob in blobs
            .into_values()
            .chain(manifests.into_values())
            .chain(indexes.into_values())
        {
            state.store.insert(blob.digest.clone(), blob);
        }

        // New ground truth and what moved.
        let mut moves = Vec::new();
        let mut tags = BTreeMap::new();
        for (tag, (index, shared, members)) in &desired {
            let truth = tag_truth(tag, index, *shared, members);
            match state.tags.get(tag) {
                None => moves.push(TagMove {
                    tag: tag.clone(),
                    old_digest: None,
                    new_digest: index.digest.clone(),
                    kind: PushReason::Added,
                }),
                Some(old) if old.digest != index.digest => moves.push(TagMove {
                    tag: tag.clone(),
                    old_digest: Some(old.digest.clone()),
                    new_digest: index.digest.clone(),
                    kind: reason,
                }),
                Some(_) => {}
            }
            tags.insert(tag.clone(), truth);
        }
        let mut retained = Vec::new();
        for (tag, old) in &state.tags {
            if !tags.contains_key(tag) {
                let mut old = old.clone();
                old.in_file = false;
                retained.push(tag.clone());
                tags.insert(tag.clone(), old);
            }
        }
        state.tags = tags;
        state.current = current;
        state.seeded_once = true;
        stats.elapsed = started.elapsed();
        Ok(Advance {
            moves,
            retained,
            truth: GroundTruth {
                repository: self.repository.clone(),
                tags: state.tags.clone(),
            },
            stats,
        })
    }

    /// Records that a digest was pushed from outside the seeder (tampering), so that it is not pushed again.
    pub(crate) async fn remember(&self, blob: Blob) {
        let mut state = self.state.lock().await;
        state.pushed.insert(blob.digest.clone());
        state.store.insert(blob.digest.clone(), blob);
    }
}

/// What identifies an entry across library files: its directory, commit and most specific tag. (The directory
/// alone is not enough: old files list one directory at two commits, for two pre-releases.)
pub(crate) fn entry_key(entry: &Entry) -> String {
    format!(
        "{}@{}#{}",
        entry.directory,
        entry.git_commit,
        entry.most_specific_tag().unwrap_or_default()
    )
}

/// Whether two versions of an entry have the same content: same commit, directory, version, architectures and
/// builder. (Only the tags differ, which does not change the image.)
fn same_content(old: &Entry, new: &Entry) -> bool {
    old.git_commit == new.git_commit
        && old.directory == new.directory
        && old.architectures == new.architectures
        && old.builder == new.builder
        && python_version_of(old) == python_version_of(new)
        && old.most_specific_tag() == new.most_specific_tag()
}

/// Tag → (index, shared, entries behind it).
fn desired_tags(current: &[CurrentEntry]) -> BTreeMap<String, (Blob, bool, Vec<CurrentEntry>)> {
    let mut desired = BTreeMap::new();
    let mut shared: BTreeMap<&str, Vec<CurrentEntry>> = BTreeMap::new();
    for member in current {
        for tag in &member.entry.tags {
            desired.insert(
                tag.clone(),
                (member.built.index.clone(), false, vec![member.clone()]),
            );
        }
        for tag in &member.entry.shared_tags {
            shared.entry(tag).or_default().push(member.clone());
        }
    }
    for (tag, members) in shared {
        let descriptors = members
            .iter()
            .flat_map(|m| m.built.descriptors().cloned())
            .collect();
        let index = ImageIndex::new(descriptors).to_blob();
        desired.insert(tag.to_owned(), (index, true, members));
    }
    desired
}

fn tag_truth(tag: &str, index: &Blob, shared: bool, members: &[CurrentEntry]) -> TagTruth {
    TagTruth {
        tag: tag.to_owned(),
        digest: index.digest.clone(),
        media_type: OCI_INDEX.to_owned(),
        size: index.size(),
        shared,
        in_file: true,
        entries: members
            .iter()
            .map(|m| EntryTruth {
                tags: m.entry.tags.clone(),
                shared_tags: m.entry.shared_tags.clone(),
                architectures: m.entry.architectures.clone(),
                git_commit: m.entry.git_commit.clone(),
                directory: m.entry.directory.clone(),
                python_version: m.built.python_version.clone(),
                most_specific_tag: m.built.most_specific_tag.clone(),
                base_name: m.built.base_name.clone(),
                base_digest: m.built.base_digest.clone(),
                created: m.built.created.clone(),
                build: m.built.build,
                index_digest: m.built.index.digest.clone(),
            })
            .collect(),
        images: members
            .iter()
            .flat_map(|m| {
                m.built.images.iter().map(|image| ImageTruth {
                    platform: image.platform.clone(),
                    bashbrew_arch: image.bashbrew_arch.clone(),
                    digest: image.manifest.digest.clone(),
                    size: image.manifest.size(),
                    config_digest: image.config.digest.clone(),
                    layer_digest: image.layer.digest.clone(),
                    attestation_digest: image
                        .attestation
                        .as_ref()
                        .map(|a| a.manifest.digest.clone()),
                    directory: m.entry.directory.clone(),
                })
            })
            .collect(),
    }
}

/// Runs `task` on every item, at most [`CONCURRENCY`] at once; fails with the first error.
pub(crate) async fn run_all<T, F, Fut>(items: Vec<T>, task: F) -> Result<()>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut running = JoinSet::new();
    let mut first_error = None;
    for item in items {
        let permit = Arc::clone(&permits)
            .acquire_owned()
            .await
            .context("task permits closed")?;
        let future = task(item);
        running.spawn(async move {
            let result = future.await;
            drop(permit);
            result
        });
        // Collect what finished, so that an early error stops the rest.
        while let Some(done) = running.try_join_next() {
            if let Err(error) = done.context("push task panicked").and_then(|r| r) {
                first_error.get_or_insert(error);
            }
        }
        if first_error.is_some() {
            break;
        }
    }
    while let Some(done) = running.join_next().await {
        if let Err(error) = done.context("push task panicked").and_then(|r| r) {
            first_error.get_or_insert(error);
        }
    }
    first_error.map_or(Ok(()), Err)
}
