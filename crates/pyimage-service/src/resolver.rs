//! [`Resolver`]: what a tag points at now — digest, platforms, the Python version the image carries, its build
//! date, and (on request) the most specific alias naming the same digest — with each repository's tag list read
//! once per run. `pin`, `update`, `verify` and the watcher all ask it; requests are as few as the question allows
//! (a HEAD to see whether a tag moved, the index and config only when they must be read).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures_util::StreamExt;
use pyimage_model::lock::LockedImage;
use pyimage_model::python::{Float, PythonTag};
use pyimage_model::{Digest, Reference};
use pyimage_policy::moves::alias_candidates;
use pyimage_registry::{
    Platform, PlatformManifest, RegistryClient, RegistryError, Resolution, ResolveRequest,
};
use tokio::sync::Mutex;

/// How many references are resolved at once.
pub const CONCURRENCY: usize = 16;

/// What a reference points at now.
#[derive(Debug, Clone)]
pub struct Observed {
    /// The digest to write (the index, or one platform's manifest when a platform was asked for).
    pub digest: Digest,
    /// The index resolution, with its platforms.
    pub resolution: Resolution,
    /// The Python version of the image (`3.12.14`): the image's own `PYTHON_VERSION`, else a full version in the tag.
    pub python: Option<String>,
    /// When the image was built (the config's `created`).
    pub created: Option<String>,
    /// The most specific tag naming the same digest (`3.12.14-slim-trixie` for `3.12-slim`), when asked for.
    pub exact_tag: Option<String>,
}

/// When to read the image config (two GETs: a platform manifest and the config blob).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadConfig {
    /// Always (reports need the build date).
    Always,
    /// Only when the tag does not name the full version: `3.12.14-slim` says it already.
    WhenTagFloats,
}

/// A repository's tags and where each points now ([`Resolver::tag_digests`]).
#[derive(Debug)]
pub struct TagDigests {
    /// The endpoint that listed the tags.
    pub registry: String,
    /// Every tag, as listed.
    pub tags: Vec<String>,
    /// Each tag's digest, or why it could not be asked.
    pub heads: Vec<(String, Result<Digest, RegistryError>)>,
}

/// What to learn about a reference besides its digest.
#[derive(Debug, Clone)]
pub struct ObserveOptions {
    /// Select this platform's manifest instead of the index.
    pub platform: Option<Platform>,
    /// Find the most specific alias of a floating tag.
    pub exact_tag: bool,
    /// When to read the image config.
    pub read_config: ReadConfig,
}

impl Default for ObserveOptions {
    fn default() -> Self {
        ObserveOptions {
            platform: None,
            exact_tag: false,
            read_config: ReadConfig::WhenTagFloats,
        }
    }
}

/// Resolves references against the configured registries; cheap to clone (one client, one tag cache).
#[derive(Clone)]
pub struct Resolver {
    client: RegistryClient,
    tags: Arc<Mutex<HashMap<String, Vec<String>>>>,
    progress: crate::progress::SharedProgress,
}

impl Resolver {
    /// A resolver over a registry client.
    pub fn new(client: RegistryClient) -> Self {
        Resolver {
            client,
            tags: Arc::default(),
            progress: crate::progress::silent(),
        }
    }

    /// This resolver, telling `progress` what the use cases plan and finish.
    pub fn with_progress(mut self, progress: crate::progress::SharedProgress) -> Self {
        self.progress = progress;
        self
    }

    /// Where the use cases running on this resolver report progress.
    pub fn progress(&self) -> &dyn crate::progress::Progress {
        self.progress.as_ref()
    }

    /// The registry client (for request statistics and lower-level questions).
    pub fn client(&self) -> &RegistryClient {
        &self.client
    }

    /// The repository's tags, listed once per resolver.
    pub async fn tags(&self, repository: &Reference) -> Result<Vec<String>, RegistryError> {
        let key = repository.repository().to_string();
        let mut tags = self.tags.lock().await;
        if let Some(found) = tags.get(&key) {
            return Ok(found.clone());
        }
        let listed = self.client.list_tags(&repository.repository()).await?.tags;
        tags.insert(key, listed.clone());
        Ok(listed)
    }

    /// Every tag of a repository and where each points now: the tag list (paged), then one HEAD per tag,
    /// concurrently. A tag that cannot be asked is reported with its error; the others are still answered.
    pub async fn tag_digests(&self, repository: &Reference) -> Result<TagDigests, RegistryError> {
        let listing = self.client.list_tags(&repository.repository()).await?;
        let heads = futures_util::stream::iter(listing.tags.clone())
            .map(|tag| async move {
                let outcome = match repository.with_tag(&tag) {
                    Ok(reference) => self.head(&reference).await.map(|r| r.digest),
                    Err(error) => Err(RegistryError::Config(format!("tag {tag:?}: {error}"))),
                };
                (tag, outcome)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        Ok(TagDigests {
            registry: listing.registry,
            tags: listing.tags,
            heads,
        })
    }

    /// Where the reference points now: one HEAD, no body read.
    pub async fn head(&self, reference: &Reference) -> Result<Resolution, RegistryError> {
        self.client
            .resolve(reference, &ResolveRequest::default())
            .await
    }

    /// Resolves a reference: the index with its platforms, the Python version and build date (per
    /// [`ReadConfig`]), and optionally the most specific alias naming the same digest.
    pub async fn observe(
        &self,
        reference: &Reference,
        options: &ObserveOptions,
    ) -> Result<Observed, RegistryError> {
        let request = ResolveRequest {
            platforms: true,
            attestations: false,
            platform: options.platform.clone(),
        };
        let resolution = self.client.resolve(reference, &request).await?;
        let tag = reference.tag().map(PythonTag::parse);
        let (mut python, mut created) = (None, None);
        let version_in_tag = tag
            .as_ref()
            .and_then(|t| t.version)
            .is_some_and(|v| v.is_full());
        let wanted = match options.read_config {
            ReadConfig::Always => true,
            ReadConfig::WhenTagFloats => !version_in_tag,
        };
        if wanted && let Some(manifest) = config_platform(&resolution) {
            // The image's own record of its Python version beats the tag, which may float.
            if let Ok(config) = self
                .client
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
        // An untagged reference means `latest`, as Docker reads it.
        let implied = tag.clone().or_else(|| {
            reference
                .digest()
                .is_none()
                .then(|| PythonTag::parse("latest"))
        });
        let exact_tag = match (&implied, options.exact_tag) {
            (Some(tag), true) if tag.float() != Float::Patch || tag.os.is_none() => {
                self.most_specific_alias(reference, tag, &resolution.digest, python.as_deref())
                    .await?
            }
            _ => None,
        };
        let digest = match &resolution.platform {
            Some(selected) => selected.digest.clone(),
            None => resolution.digest.clone(),
        };
        Ok(Observed {
            digest,
            resolution,
            python,
            created,
            exact_tag,
        })
    }

    /// The most specific tag that names `digest` now: candidates from the tag list, most specific first, each
    /// asked with one HEAD.
    async fn most_specific_alias(
        &self,
        reference: &Reference,
        tag: &PythonTag,
        digest: &Digest,
        python: Option<&str>,
    ) -> Result<Option<String>, RegistryError> {
        let all = self.tags(reference).await?;
        for candidate in alias_candidates(&all, tag, python) {
            let Ok(candidate_ref) = reference.repository().with_tag(&candidate.tag) else {
                continue;
            };
            if self.head(&candidate_ref).await?.digest == *digest {
                return Ok(Some(candidate.tag));
            }
        }
        Ok(None)
    }

    /// The Python version of the image a pinned reference names, if the registry still serves it.
    pub async fn python_of_pinned(&self, reference: &Reference) -> Option<String> {
        let request = ResolveRequest {
            platforms: true,
            ..Default::default()
        };
        let resolution = self.client.resolve(reference, &request).await.ok()?;
        let platform = resolution.platforms.as_ref()?.first()?.digest.clone();
        self.client
            .image_config(&reference.repository(), &platform)
            .await
            .ok()?
            .python_version()
            .map(str::to_owned)
    }
}

/// The platform whose config tells the Python version: linux/amd64 when present, else the first.
fn config_platform(resolution: &Resolution) -> Option<&PlatformManifest> {
    let platforms = resolution.platforms.as_ref()?;
    let amd64 = Platform::parse("linux/amd64")?;
    platforms
        .iter()
        .find(|p| amd64.selects(&p.platform))
        .or(platforms.first())
}

/// The lock entry recording what `reference` (written as `key`) was pinned to.
pub fn lock_entry(
    key: &str,
    reference: &Reference,
    observed: &Observed,
    resolved_at: &str,
) -> LockedImage {
    let platforms = observed
        .resolution
        .platforms
        .iter()
        .flatten()
        .map(|p| (p.platform.to_string(), p.digest.to_string()))
        .collect::<BTreeMap<_, _>>();
    LockedImage {
        reference: key.to_owned(),
        normalized: reference.repository().with_tag_of(reference).to_string(),
        digest: observed.digest.to_string(),
        media_type: match &observed.resolution.platform {
            Some(selected) => selected.media_type.clone(),
            None => observed.resolution.media_type.clone(),
        },
        python: observed.python.clone(),
        resolved_at: resolved_at.to_owned(),
        registry: observed.resolution.registry.clone(),
        faithful_copy: None,
        signed_by: None,
        signing_key: None,
        signature_log_index: None,
        platforms,
    }
}
