//! Resolution of a reference to digests: HEAD first (free on Docker Hub, and enough for the index digest), GET
//! only when the index itself is needed (platforms, attestations), every fetched body verified.

use pyimage_model::oci::ImageConfig;
use pyimage_model::{Digest, Reference};
use reqwest::Method;
use serde::Serialize;

use crate::client::{RegistryClient, Target, expect_success, join, read_limited};
use crate::config::Endpoint;
use crate::error::RegistryError;
use crate::manifest::{
    AttestationManifest, ImageIndex, Platform, PlatformManifest, is_index_media_type,
};

/// What to find out beyond the index digest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolveRequest {
    /// List every platform image of the index (one GET of the index).
    pub platforms: bool,
    /// List attestation manifests (one GET of the index).
    pub attestations: bool,
    /// Select one platform (one GET of the index and one HEAD of the platform manifest, to prove it exists).
    pub platform: Option<Platform>,
}

impl ResolveRequest {
    fn needs_index(&self) -> bool {
        self.platforms || self.attestations || self.platform.is_some()
    }
}

/// Where a reference points now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolution {
    /// The reference, normalized (`docker.io/library/python:3.12-slim`).
    pub reference: String,
    /// The digest of what the tag (or digest) names: usually a multi-platform index.
    pub digest: Digest,
    /// Its media type (`application/vnd.oci.image.index.v1+json`, …).
    pub media_type: String,
    /// Its size, when the registry said.
    pub size: Option<u64>,
    /// The endpoint that answered (`https://registry-1.docker.io`, a mirror, …).
    pub registry: String,
    /// Whether that endpoint is a mirror.
    pub mirror: bool,
    /// Platform images, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platforms: Option<Vec<PlatformManifest>>,
    /// Attestation manifests, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attestations: Option<Vec<AttestationManifest>>,
    /// The platform image selected by `--platform`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<PlatformManifest>,
}

/// A page-by-page `tags/list` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagList {
    /// Repository name as the registry reported it.
    pub name: String,
    /// All tags, in registry order.
    pub tags: Vec<String>,
    /// The endpoint that answered (`https://registry-1.docker.io`, a mirror, …).
    pub registry: String,
}

#[derive(serde::Deserialize)]
struct TagsPage {
    #[serde(default)]
    name: String,
    #[serde(default)]
    tags: Option<Vec<String>>,
}

/// Largest number of `tags/list` pages followed before concluding the registry is looping.
const MAX_TAG_PAGES: usize = 10_000;

/// Most bytes of tag list read over all pages (Docker Hub's python repository lists ~10k tags in under 1 MiB): an
/// endless list of 4 MiB pages stops here instead of after gigabytes.
const MAX_TAG_LIST_BYTES: u64 = 32 * 1024 * 1024;

impl RegistryClient {
    /// Resolves a reference: HEAD the tag (or digest); GET the index only if `request` needs it.
    pub async fn resolve(
        &self,
        reference: &Reference,
        request: &ResolveRequest,
    ) -> Result<Resolution, RegistryError> {
        let registry = reference.domain().to_owned();
        let repository = reference.path().to_owned();
        let target = match (reference.digest(), reference.tag()) {
            (Some(digest), _) => digest.to_string(),
            (None, Some(tag)) => tag.to_owned(),
            (None, None) => pyimage_model::reference::DEFAULT_TAG.to_owned(),
        };
        let head = self
            .with_fallback(&registry, |endpoint| {
                let (registry, repository, target) = (&registry, &repository, &target);
                async move {
                    self.head_manifest_at(registry, &endpoint, repository, target)
                        .await
                }
            })
            .await?;
        if let Some(wanted) = reference.digest()
            && *wanted != head.digest
        {
            return Err(RegistryError::DigestMismatch {
                endpoint: head.endpoint.display(),
                what: format!("manifest {repository}@{wanted}"),
                detail: format!(
                    "asked for {wanted}, the registry answered with {}",
                    head.digest
                ),
            });
        }
        let mut resolution = Resolution {
            reference: reference.to_string(),
            digest: head.digest.clone(),
            media_type: head.media_type.clone(),
            size: head.size,
            registry: head.endpoint.display(),
            mirror: head.endpoint.mirror,
            platforms: None,
            attestations: None,
            platform: None,
        };
        if !request.needs_index() {
            return Ok(resolution);
        }
        if !is_index_media_type(&head.media_type) {
            if let Some(platform) = &request.platform {
                return Err(RegistryError::NoSuchPlatform {
                    reference: reference.to_string(),
                    platform: platform.to_string(),
                    available: format!("a single-platform {} manifest", head.media_type),
                });
            }
            resolution.platforms = request.platforms.then(Vec::new);
            resolution.attestations = request.attestations.then(Vec::new);
            return Ok(resolution);
        }
        // GET by digest from the endpoint that answered, so tag moves between HEAD and GET cannot mix images.
        let manifest = self
            .get_manifest_at(
                &registry,
                &head.endpoint,
                &repository,
                head.digest.as_str(),
                Some(&head.digest),
            )
            .await?;
        let index = ImageIndex::parse(&manifest.body, &head.media_type).map_err(|error| {
            RegistryError::InvalidManifest {
                endpoint: head.endpoint.display(),
                what: format!("index {repository}@{}", head.digest),
                detail: error.to_string(),
            }
        })?;
        if let Some(wanted) = &request.platform {
            let selected =
                index
                    .select(wanted)
                    .cloned()
                    .ok_or_else(|| RegistryError::NoSuchPlatform {
                        reference: reference.to_string(),
                        platform: wanted.to_string(),
                        available: index
                            .platforms
                            .iter()
                            .map(|p| p.platform.to_string())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })?;
            // The index could name a manifest the registry does not have: prove it exists.
            let platform_head = self
                .head_manifest_at(
                    &registry,
                    &head.endpoint,
                    &repository,
                    selected.digest.as_str(),
                )
                .await
                .map_err(|error| match error {
                    RegistryError::NotFound { endpoint, .. } => RegistryError::NotFound {
                        endpoint,
                        what: format!(
                            "the {} manifest {} that index {} names",
                            selected.platform, selected.digest, head.digest
                        ),
                    },
                    other => other,
                })?;
            if platform_head.digest != selected.digest {
                return Err(RegistryError::DigestMismatch {
                    endpoint: head.endpoint.display(),
                    what: format!("platform manifest {}", selected.digest),
                    detail: format!("the registry answered with {}", platform_head.digest),
                });
            }
            resolution.platform = Some(selected);
        }
        if request.platforms {
            resolution.platforms = Some(index.platforms.clone());
        }
        if request.attestations {
            resolution.attestations = Some(index.attestations.clone());
        }
        Ok(resolution)
    }

    /// Fetches and verifies a manifest by digest (for provenance and `verify`).
    pub async fn fetch_manifest(
        &self,
        repository: &Reference,
        digest: &Digest,
    ) -> Result<crate::VerifiedManifest, RegistryError> {
        let registry = repository.domain().to_owned();
        let path = repository.path().to_owned();
        self.with_fallback(&registry, |endpoint| {
            let (registry, path) = (&registry, &path);
            async move {
                self.get_manifest_at(registry, &endpoint, path, digest.as_str(), Some(digest))
                    .await
            }
        })
        .await
    }

    /// Fetches and verifies a blob by digest.
    pub async fn fetch_blob(
        &self,
        repository: &Reference,
        digest: &Digest,
        limit: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        let registry = repository.domain().to_owned();
        let path = repository.path().to_owned();
        self.with_fallback(&registry, |endpoint| {
            let (registry, path) = (&registry, &path);
            async move {
                self.get_blob_at(registry, &endpoint, path, digest, limit)
                    .await
            }
        })
        .await
    }

    /// Lists every tag of a repository, following `Link: <…>; rel="next"` pages.
    pub async fn list_tags(&self, repository: &Reference) -> Result<TagList, RegistryError> {
        let registry = repository.domain().to_owned();
        let path = repository.path().to_owned();
        self.with_fallback(&registry, |endpoint| {
            let (registry, path) = (&registry, &path);
            async move { self.list_tags_at(registry, &endpoint, path).await }
        })
        .await
    }

    async fn list_tags_at(
        &self,
        registry: &str,
        endpoint: &Endpoint,
        repository: &str,
    ) -> Result<TagList, RegistryError> {
        let what = format!("tags of {repository}");
        let mut url = join(endpoint, &format!("/v2/{repository}/tags/list?n=1000"))?;
        let mut tags = Vec::new();
        let mut name = repository.to_owned();
        let mut seen_urls = std::collections::HashSet::new();
        let mut total = 0u64;
        for _ in 0..MAX_TAG_PAGES {
            if !seen_urls.insert(url.to_string()) {
                return Err(RegistryError::BadHeader {
                    endpoint: endpoint.display(),
                    header: "Link",
                    what,
                    detail: format!("the next page {url} was already fetched (pagination loop)"),
                });
            }
            self.counters()
                .tag_pages
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let response = self
                .send_authenticated(
                    Target::new(registry, endpoint, repository),
                    Method::GET,
                    &url,
                    None,
                    &what,
                )
                .await?;
            let response = expect_success(response, endpoint, &what)?;
            let next = match response.headers().get(reqwest::header::LINK) {
                Some(value) => {
                    let text = value.to_str().map_err(|_| RegistryError::BadHeader {
                        endpoint: endpoint.display(),
                        header: "Link",
                        what: what.clone(),
                        detail: "not ASCII".to_owned(),
                    })?;
                    parse_next_link(text).map_err(|detail| RegistryError::BadHeader {
                        endpoint: endpoint.display(),
                        header: "Link",
                        what: what.clone(),
                        detail,
                    })?
                }
                None => None,
            };
            let body = read_limited(
                response,
                self.options().small_body_limit,
                endpoint,
                &what,
                self.options().request_timeout,
            )
            .await?;
            total += body.len() as u64;
            if total > MAX_TAG_LIST_BYTES {
                return Err(RegistryError::TooLarge {
                    endpoint: endpoint.display(),
                    what: what.clone(),
                    limit: MAX_TAG_LIST_BYTES,
                });
            }
            let page: TagsPage =
                serde_json::from_slice(&body).map_err(|e| RegistryError::InvalidManifest {
                    endpoint: endpoint.display(),
                    what: what.clone(),
                    detail: format!("not tags/list JSON: {e}"),
                })?;
            if !page.name.is_empty() {
                name = page.name;
            }
            tags.extend(page.tags.unwrap_or_default());
            match next {
                None => {
                    return Ok(TagList {
                        name,
                        tags,
                        registry: endpoint.display(),
                    });
                }
                Some(next) => {
                    url = url.join(&next).map_err(|e| RegistryError::BadHeader {
                        endpoint: endpoint.display(),
                        header: "Link",
                        what: what.clone(),
                        detail: format!("{next:?} is not a URL: {e}"),
                    })?;
                    if url.host_str() != endpoint.url.host_str()
                        || url.port_or_known_default() != endpoint.url.port_or_known_default()
                    {
                        return Err(RegistryError::BadHeader {
                            endpoint: endpoint.display(),
                            header: "Link",
                            what,
                            detail: format!("the next page points to another host ({url})"),
                        });
                    }
                }
            }
        }
        Err(RegistryError::BadHeader {
            endpoint: endpoint.display(),
            header: "Link",
            what,
            detail: format!("more than {MAX_TAG_PAGES} pages"),
        })
    }
}

/// Finds the `rel="next"` target in a `Link` header (`<url>; rel="next"`).
pub fn parse_next_link(header: &str) -> Result<Option<String>, String> {
    for link in header.split(',') {
        let link = link.trim();
        if link.is_empty() {
            continue;
        }
        let Some(rest) = link.strip_prefix('<') else {
            return Err(format!("{link:?} does not start with '<'"));
        };
        let Some((target, params)) = rest.split_once('>') else {
            return Err(format!("{link:?} has no closing '>'"));
        };
        let is_next = params.split(';').any(|param| {
            let param = param.trim();
            param.eq_ignore_ascii_case("rel=\"next\"") || param.eq_ignore_ascii_case("rel=next")
        });
        if is_next {
            if target.is_empty() {
                return Err("empty next link".to_owned());
            }
            return Ok(Some(target.to_owned()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        assert_eq!(
            parse_next_link(r#"</v2/library/python/tags/list?last=3.12&n=100>; rel="next""#),
            Ok(Some(
                "/v2/library/python/tags/list?last=3.12&n=100".to_owned()
            ))
        );
        assert_eq!(parse_next_link(r#"</x>; rel="prev""#), Ok(None));
        assert!(parse_next_link(r#"</v2/library/python/tags/list?last=3.12"#).is_err());
        assert!(parse_next_link(r#"v2/x; rel="next""#).is_err());
    }
}

#[derive(serde::Deserialize)]
struct RawImageManifest {
    config: RawConfigDescriptor,
}

#[derive(serde::Deserialize)]
struct RawConfigDescriptor {
    digest: String,
}

#[derive(serde::Deserialize)]
struct RawImageConfig {
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    config: Option<RawImageConfigInner>,
}

#[derive(serde::Deserialize)]
struct RawImageConfigInner {
    #[serde(default, rename = "Env")]
    env: Option<Vec<String>>,
    #[serde(default, rename = "Labels")]
    labels: Option<std::collections::BTreeMap<String, String>>,
}

/// Largest image config accepted.
const CONFIG_LIMIT: u64 = 4 * 1024 * 1024;

impl RegistryClient {
    /// Reads the config of a platform image (two verified GETs: the manifest, then its config blob).
    pub async fn image_config(
        &self,
        repository: &Reference,
        manifest: &Digest,
    ) -> Result<ImageConfig, RegistryError> {
        let fetched = self.fetch_manifest(repository, manifest).await?;
        let what = format!("image manifest {}@{manifest}", repository.path());
        let invalid = |detail: String| RegistryError::InvalidManifest {
            endpoint: fetched.head.endpoint.display(),
            what: what.clone(),
            detail,
        };
        let parsed: RawImageManifest =
            serde_json::from_slice(&fetched.body).map_err(|e| invalid(format!("{e}")))?;
        let config_digest = Digest::parse(&parsed.config.digest)
            .map_err(|e| invalid(format!("config digest: {e}")))?;
        let blob = self
            .fetch_blob(repository, &config_digest, CONFIG_LIMIT)
            .await?;
        let config: RawImageConfig = serde_json::from_slice(&blob)
            .map_err(|e| invalid(format!("config {config_digest}: {e}")))?;
        let (env, labels) = config
            .config
            .map(|inner| {
                (
                    inner.env.unwrap_or_default(),
                    inner.labels.unwrap_or_default(),
                )
            })
            .unwrap_or_default();
        Ok(ImageConfig {
            env,
            labels,
            created: config.created,
        })
    }
}
