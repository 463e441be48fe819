//! Ground truth: what the seeder pushed, recorded independently of anything pyimage computes, so that tests can
//! compare pyimage's answers with it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Serialize;

use crate::platform::Platform;

/// What the repository holds, tag by tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroundTruth {
    /// Repository path (`library/python`).
    pub repository: String,
    /// Every tag the repository has, including tags that left the library file (see [`TagTruth::in_file`]).
    pub tags: BTreeMap<String, TagTruth>,
}

impl GroundTruth {
    /// The truth about one tag.
    pub fn tag(&self, tag: &str) -> Option<&TagTruth> {
        self.tags.get(tag)
    }

    /// The index digest a tag points at.
    pub fn digest(&self, tag: &str) -> Option<&str> {
        self.tags.get(tag).map(|truth| truth.digest.as_str())
    }

    /// Every manifest digest reachable from a tag: indexes, platform images and attestation manifests.
    pub fn manifest_digests(&self) -> BTreeSet<String> {
        let mut digests = BTreeSet::new();
        for tag in self.tags.values() {
            digests.insert(tag.digest.clone());
            for image in &tag.images {
                digests.insert(image.digest.clone());
                digests.extend(image.attestation_digest.clone());
            }
        }
        digests
    }
}

/// One tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagTruth {
    /// The tag.
    pub tag: String,
    /// Digest of the index it points at.
    pub digest: String,
    /// Media type of that index (`application/vnd.oci.image.index.v1+json`).
    pub media_type: String,
    /// Size of the index in bytes.
    pub size: u64,
    /// Whether the tag is a `SharedTags` tag (its index merges several entries).
    pub shared: bool,
    /// Whether the tag is in the library file the repository was last advanced to. Tags that left the file stay
    /// where they were, as on Docker Hub.
    pub in_file: bool,
    /// The entries behind the tag (one for an entry's own tag), in file order.
    pub entries: Vec<EntryTruth>,
    /// The platform images of the index, in index order.
    pub images: Vec<ImageTruth>,
}

impl TagTruth {
    /// Platform → image manifest digest, keyed `os/architecture[/variant]` (`linux/arm64/v8`, `windows/amd64`).
    /// When two images share a key (a shared tag with two Windows releases), the first in the index wins, as in
    /// Docker's own platform selection; see [`TagTruth::images`] for all of them.
    pub fn platform_digests(&self) -> BTreeMap<String, String> {
        let mut digests = BTreeMap::new();
        for image in &self.images {
            digests
                .entry(image.platform.to_string())
                .or_insert_with(|| image.digest.clone());
        }
        digests
    }

    /// The first image for a platform key (`linux/amd64`).
    pub fn image(&self, platform_key: &str) -> Option<&ImageTruth> {
        self.images
            .iter()
            .find(|image| image.platform.to_string() == platform_key)
    }

    /// Platform image digest → digest of the attestation manifest describing it.
    pub fn attestations(&self) -> BTreeMap<String, String> {
        self.images
            .iter()
            .filter_map(|image| Some((image.digest.clone(), image.attestation_digest.clone()?)))
            .collect()
    }

    /// The first (for an own tag: the only) entry behind the tag.
    pub fn entry(&self) -> Option<&EntryTruth> {
        self.entries.first()
    }
}

/// One library entry as built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryTruth {
    /// `Tags` of the entry, as in the file the repository was last advanced to (or the last file that had it).
    pub tags: Vec<String>,
    /// `SharedTags` of the entry.
    pub shared_tags: Vec<String>,
    /// `Architectures`, bashbrew names.
    pub architectures: Vec<String>,
    /// `GitCommit`.
    pub git_commit: String,
    /// `Directory`.
    pub directory: String,
    /// Python version (`3.12.14`).
    pub python_version: String,
    /// Most specific tag (`3.12.14-slim-trixie`).
    pub most_specific_tag: String,
    /// `org.opencontainers.image.base.name`.
    pub base_name: String,
    /// `org.opencontainers.image.base.digest`.
    pub base_digest: String,
    /// `org.opencontainers.image.created`.
    pub created: String,
    /// Build number (1 when first built; each rebuild of the same entry adds one).
    pub build: u32,
    /// Digest of the entry's own index (what its `Tags` point at).
    pub index_digest: String,
}

/// One platform image in an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageTruth {
    /// Its platform.
    pub platform: Platform,
    /// Bashbrew architecture (`arm64v8`).
    pub bashbrew_arch: String,
    /// Image manifest digest.
    pub digest: String,
    /// Image manifest size.
    pub size: u64,
    /// Config blob digest.
    pub config_digest: String,
    /// Layer blob digest.
    pub layer_digest: String,
    /// Digest of the attestation manifest describing this image (none for classic-builder Windows images).
    pub attestation_digest: Option<String>,
    /// `Directory` of the entry the image belongs to.
    pub directory: String,
}

/// What the seeder did to make a tag move — the replica's own ground truth, not a classification: what kind of
/// move that is (rebuild, patch, newer line) is what pyimage's `classify_move` decides and the tests check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PushReason {
    /// The tag is new.
    Added,
    /// The entry (or set of entries) behind the tag changed: new version, commit, directory or architectures.
    Changed,
    /// Same entry, rebuilt (a base-image security rebuild).
    Rebuilt,
}

/// A tag that now points somewhere else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagMove {
    /// The tag.
    pub tag: String,
    /// Where it pointed before (none for a new tag).
    pub old_digest: Option<String>,
    /// Where it points now.
    pub new_digest: String,
    /// Why.
    pub kind: PushReason,
}

/// Counts and time of one push.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PushStats {
    /// Entries built (new, changed or rebuilt).
    pub entries_built: usize,
    /// Blobs uploaded.
    pub blobs_pushed: usize,
    /// Blobs skipped because the registry had them (`HEAD` answered 200).
    pub blobs_present: usize,
    /// Image and attestation manifests pushed by digest.
    pub manifests_pushed: usize,
    /// Indexes pushed by digest.
    pub indexes_pushed: usize,
    /// Tags pushed (created or re-pointed).
    pub tags_pushed: usize,
    /// Wall time.
    pub elapsed: Duration,
}

/// The result of seeding, replaying or rebuilding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Advance {
    /// Tags that now point elsewhere, in tag order.
    pub moves: Vec<TagMove>,
    /// Tags that are no longer in the library file but still point where they did.
    pub retained: Vec<String>,
    /// The ground truth after the change.
    pub truth: GroundTruth,
    /// What was pushed.
    pub stats: PushStats,
}

impl Advance {
    /// The move of one tag, if it moved.
    pub fn moved(&self, tag: &str) -> Option<&TagMove> {
        self.moves.iter().find(|m| m.tag == tag)
    }
}
