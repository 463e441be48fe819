//! Cosign signatures of an image as registries store them, found two ways: cosign's tag scheme (the manifest tagged
//! `sha256-<hex>.sig` in the image's repository) and OCI 1.1 referrers (`GET /v2/<name>/referrers/<digest>` for the
//! artifact type cosign gives signatures). Each signature manifest's simple-signing layers are read: the payload
//! blob (verified against its digest, at most [`PAYLOAD_LIMIT`] bytes) and the signature and Rekor bundle
//! annotations. Nothing is verified cryptographically here: `pyimage_trust::cosign` decides.

use pyimage_model::{Digest, Reference};
use serde::Deserialize;

use crate::client::join;
use crate::config::Endpoint;
use crate::{RegistryClient, RegistryError};

/// The artifact type cosign gives a signature manifest attached as an OCI 1.1 referrer.
pub const COSIGN_SIGNATURE_ARTIFACT: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";
/// The media type of a simple-signing payload layer.
pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The largest payload read: a simple-signing payload is a few hundred bytes.
pub const PAYLOAD_LIMIT: u64 = 64 * 1024;
/// At most this many signature layers are read per image (a registry could list thousands).
pub const MAX_LAYERS: usize = 32;
/// The largest referrers list read.
const REFERRERS_LIMIT: u64 = 1024 * 1024;

/// One signature as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignLayer {
    /// The payload's exact bytes.
    pub payload: Vec<u8>,
    /// The `dev.cosignproject.cosign/signature` annotation (base64).
    pub signature: String,
    /// The `dev.sigstore.cosign/bundle` annotation.
    pub bundle: Option<String>,
    /// Where it was found (`:sha256-….sig`, `referrer sha256:…`).
    pub found_at: String,
}

#[derive(Deserialize)]
struct SignatureManifest {
    #[serde(default)]
    layers: Vec<Layer>,
}

#[derive(Deserialize)]
struct Layer {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct ReferrersIndex {
    #[serde(default)]
    manifests: Vec<Referrer>,
}

#[derive(Deserialize)]
struct Referrer {
    digest: String,
    #[serde(rename = "artifactType", default)]
    artifact_type: Option<String>,
}

impl RegistryClient {
    /// The cosign signatures stored for `repository@digest`: none is an empty list, not an error. A registry without
    /// the referrers API (404) is asked by tag only.
    pub async fn cosign_signatures(
        &self,
        repository: &Reference,
        digest: &Digest,
    ) -> Result<Vec<CosignLayer>, RegistryError> {
        let repository = repository.repository();
        let mut manifests = Vec::new();
        let tag = digest.as_str().replacen(':', "-", 1) + ".sig";
        match self.manifest_by_tag(&repository, &tag).await {
            Ok(body) => manifests.push((body, format!(":{tag}"))),
            Err(RegistryError::NotFound { .. }) => {}
            Err(error) => return Err(error),
        }
        match self.referrers(&repository, digest).await {
            Ok(found) => {
                for referrer in found.into_iter().take(MAX_LAYERS) {
                    let Ok(referrer_digest) = Digest::parse(&referrer) else {
                        continue;
                    };
                    let manifest = self.fetch_manifest(&repository, &referrer_digest).await?;
                    manifests.push((manifest.body, format!("referrer {referrer}")));
                }
            }
            Err(RegistryError::NotFound { .. }) => {}
            Err(error) => return Err(error),
        }
        let mut layers = Vec::new();
        for (body, found_at) in manifests {
            let Ok(manifest) = serde_json::from_slice::<SignatureManifest>(&body) else {
                continue;
            };
            for layer in manifest.layers {
                if layers.len() >= MAX_LAYERS {
                    break;
                }
                let Some(signature) = layer.annotations.get("dev.cosignproject.cosign/signature")
                else {
                    continue;
                };
                if layer.media_type != SIMPLE_SIGNING {
                    continue;
                }
                let Ok(blob) = Digest::parse(&layer.digest) else {
                    continue;
                };
                let payload = self.fetch_blob(&repository, &blob, PAYLOAD_LIMIT).await?;
                layers.push(CosignLayer {
                    payload,
                    signature: signature.clone(),
                    bundle: layer.annotations.get("dev.sigstore.cosign/bundle").cloned(),
                    found_at: found_at.clone(),
                });
            }
        }
        Ok(layers)
    }

    /// A manifest by tag, as received (its digest checked against the registry's header).
    async fn manifest_by_tag(
        &self,
        repository: &Reference,
        tag: &str,
    ) -> Result<Vec<u8>, RegistryError> {
        let registry = repository.domain().to_owned();
        let path = repository.path().to_owned();
        self.with_fallback(&registry, |endpoint| {
            let (registry, path) = (&registry, &path);
            async move {
                self.get_manifest_at(registry, &endpoint, path, tag, None)
                    .await
                    .map(|manifest| manifest.body)
            }
        })
        .await
    }

    /// The digests of the cosign signature manifests that refer to `digest` (OCI 1.1 referrers API).
    async fn referrers(
        &self,
        repository: &Reference,
        digest: &Digest,
    ) -> Result<Vec<String>, RegistryError> {
        let registry = repository.domain().to_owned();
        let path = repository.path().to_owned();
        self.with_fallback(&registry, |endpoint| {
            let (registry, path) = (&registry, &path);
            async move { self.referrers_at(registry, &endpoint, path, digest).await }
        })
        .await
    }

    async fn referrers_at(
        &self,
        registry: &str,
        endpoint: &Endpoint,
        repository: &str,
        digest: &Digest,
    ) -> Result<Vec<String>, RegistryError> {
        let what = format!("referrers of {repository}@{digest}");
        let url = join(
            endpoint,
            &format!(
                "/v2/{repository}/referrers/{digest}?artifactType={}",
                COSIGN_SIGNATURE_ARTIFACT.replace('+', "%2B")
            ),
        )?;
        let body = self
            .get_limited_at(registry, endpoint, repository, &url, REFERRERS_LIMIT, &what)
            .await?;
        let index: ReferrersIndex =
            serde_json::from_slice(&body).map_err(|e| RegistryError::InvalidManifest {
                endpoint: endpoint.display(),
                what: what.clone(),
                detail: format!("the referrers list is not an image index ({e})"),
            })?;
        // A registry may ignore the filter (it then says so in OCI-Filters-Applied): filter again.
        Ok(index
            .manifests
            .into_iter()
            .filter(|r| r.artifact_type.as_deref() == Some(COSIGN_SIGNATURE_ARTIFACT))
            .map(|r| r.digest)
            .collect())
    }
}
