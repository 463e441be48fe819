//! OCI and Docker manifest media types, and image indexes (multi-platform lists) split into platform images and the
//! BuildKit attestation manifests that describe them.
//!
//! Docker Hub's official images list, next to each platform image, one attestation manifest: platform
//! `unknown/unknown`, annotation `vnd.docker.reference.type=attestation-manifest`, and
//! `vnd.docker.reference.digest` naming the platform manifest it describes. [`ImageIndex::parse`] tells the two
//! apart by that annotation (not by the `unknown/unknown` platform, which is only a convention), so an attestation
//! is never offered as a platform image and a platform image never loses its place because of an odd platform.
//!
//! The parser is strict where a lenient reading could mislead: the schema version must be 2, a `mediaType` in the
//! body must be the one the registry served it as, every digest must be valid, and a platform image must say its
//! platform. Other fields are ignored.
//!
//! [`ImageConfig`] is what pyimage reads from an image's configuration, wherever it comes from: a registry's config
//! blob (pyimage-registry builds it) or `docker image inspect` (pyimage-engine reads it).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::digest::{Digest, DigestError};
use crate::platform::Platform;

/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker manifest list.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Docker image manifest v2 schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// The `Accept` header for manifest requests: all four types, because registry 2.8 answers 404 for an OCI index
/// unless its exact type is named.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// Descriptor annotation saying what kind of reference manifest it is; [`ATTESTATION_MANIFEST`] marks an
/// attestation manifest.
pub const ATTESTATION_TYPE_ANNOTATION: &str = "vnd.docker.reference.type";
/// Descriptor annotation naming the platform manifest an attestation manifest describes.
pub const ATTESTATION_DIGEST_ANNOTATION: &str = "vnd.docker.reference.digest";
/// The value of [`ATTESTATION_TYPE_ANNOTATION`] on an attestation manifest.
pub const ATTESTATION_MANIFEST: &str = "attestation-manifest";

/// Whether a media type is one of the four manifest types pyimage accepts (indexes and image manifests, OCI and
/// Docker).
pub fn is_manifest_media_type(media_type: &str) -> bool {
    matches!(
        media_type,
        OCI_INDEX | DOCKER_MANIFEST_LIST | OCI_MANIFEST | DOCKER_MANIFEST
    )
}

/// Whether a media type is a multi-platform list (OCI index or Docker manifest list).
pub fn is_index_media_type(media_type: &str) -> bool {
    matches!(media_type, OCI_INDEX | DOCKER_MANIFEST_LIST)
}

/// Why an index body was refused. The messages name the offending value and do not repeat which index it was: the
/// caller knows where the body came from and says so.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IndexError {
    /// Not JSON, or not shaped like an index (a descriptor without `digest` or `size`, no `manifests` list).
    #[error("invalid JSON: {0}")]
    Json(String),
    /// `schemaVersion` is not 2.
    #[error("schemaVersion {0} (expected 2)")]
    SchemaVersion(u32),
    /// The body declares a `mediaType` other than the one it was served as.
    #[error("body says mediaType {declared} but the registry sent {served}")]
    MediaType {
        /// The body's `mediaType`.
        declared: String,
        /// The media type the registry served the body as.
        served: String,
    },
    /// A descriptor's `digest` is not a valid digest.
    #[error("descriptor digest {text:?}: {error}")]
    DescriptorDigest {
        /// The digest as written.
        text: String,
        /// What is wrong with it.
        error: DigestError,
    },
    /// An attestation manifest's `vnd.docker.reference.digest` is not a valid digest.
    #[error("attestation reference {text:?}: {error}")]
    AttestationReference {
        /// The annotation value as written.
        text: String,
        /// What is wrong with it.
        error: DigestError,
    },
    /// A descriptor that is not an attestation manifest has no `platform`, so it could never be selected.
    #[error("descriptor {0} has no platform")]
    NoPlatform(Digest),
}

/// A platform image in an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformManifest {
    /// Its platform (`linux/arm64/v8`), from the descriptor.
    pub platform: Platform,
    /// Its manifest digest.
    pub digest: Digest,
    /// Its media type (OCI image manifest when the descriptor names none).
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// The descriptor's annotations: Docker Hub puts the build's `org.opencontainers.image.revision` and
    /// `org.opencontainers.image.base.digest` here, which provenance compares with the attestations. Not
    /// serialised, so `pyimage resolve --format json` lists what it always listed.
    #[serde(skip)]
    pub annotations: BTreeMap<String, String>,
}

/// An attestation manifest (SLSA provenance, SBOM) attached to a platform image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttestationManifest {
    /// The attestation manifest's digest.
    pub digest: Digest,
    /// The platform manifest it describes, from `vnd.docker.reference.digest`; `None` when the annotation is absent.
    pub describes: Option<Digest>,
    /// Its size in bytes.
    pub size: u64,
}

/// An image index split into platform images and attestation manifests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageIndex {
    /// Platform images in index order (the order decides which image a request selects).
    pub platforms: Vec<PlatformManifest>,
    /// Attestation manifests in index order.
    pub attestations: Vec<AttestationManifest>,
}

/// One descriptor of an index, as JSON.
#[derive(Deserialize)]
struct RawDescriptor {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    digest: String,
    size: u64,
    #[serde(default)]
    platform: Option<Platform>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// An index or manifest list, as JSON.
#[derive(Deserialize)]
struct RawIndex {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    manifests: Vec<RawDescriptor>,
}

impl ImageIndex {
    /// Parses and checks an index body that the registry served as `media_type` (its `Content-Type`, or the media
    /// type of the descriptor that named it).
    pub fn parse(body: &[u8], media_type: &str) -> Result<ImageIndex, IndexError> {
        let raw: RawIndex =
            serde_json::from_slice(body).map_err(|e| IndexError::Json(e.to_string()))?;
        if raw.schema_version != 2 {
            return Err(IndexError::SchemaVersion(raw.schema_version));
        }
        // A body that names another type than it was served as is a sign of a confused or lying server: the
        // descriptors could mean something else than we read.
        if let Some(declared) = raw.media_type
            && declared != media_type
        {
            return Err(IndexError::MediaType {
                declared,
                served: media_type.to_owned(),
            });
        }
        let mut index = ImageIndex {
            platforms: Vec::new(),
            attestations: Vec::new(),
        };
        for descriptor in raw.manifests {
            let digest = Digest::parse(&descriptor.digest).map_err(|error| {
                IndexError::DescriptorDigest {
                    text: descriptor.digest.clone(),
                    error,
                }
            })?;
            if descriptor
                .annotations
                .get(ATTESTATION_TYPE_ANNOTATION)
                .map(String::as_str)
                == Some(ATTESTATION_MANIFEST)
            {
                let describes = match descriptor.annotations.get(ATTESTATION_DIGEST_ANNOTATION) {
                    Some(text) => Some(Digest::parse(text).map_err(|error| {
                        IndexError::AttestationReference {
                            text: text.clone(),
                            error,
                        }
                    })?),
                    None => None,
                };
                index.attestations.push(AttestationManifest {
                    digest,
                    describes,
                    size: descriptor.size,
                });
                continue;
            }
            let Some(platform) = descriptor.platform else {
                return Err(IndexError::NoPlatform(digest));
            };
            index.platforms.push(PlatformManifest {
                platform,
                digest,
                // The OCI image-spec makes a descriptor's mediaType required, but Docker's early manifest lists
                // left it out; they only ever listed image manifests.
                media_type: descriptor
                    .media_type
                    .unwrap_or_else(|| OCI_MANIFEST.to_owned()),
                size: descriptor.size,
                annotations: descriptor.annotations,
            });
        }
        Ok(index)
    }

    /// The platform image a request selects: the first in index order, as Docker picks it (see
    /// [`Platform::selects`] for the default variants).
    pub fn select(&self, wanted: &Platform) -> Option<&PlatformManifest> {
        self.platforms.iter().find(|p| wanted.selects(&p.platform))
    }

    /// The attestation manifests describing a platform manifest, in index order.
    pub fn attestations_for(
        &self,
        platform_digest: &Digest,
    ) -> impl Iterator<Item = &AttestationManifest> {
        self.attestations
            .iter()
            .filter(move |a| a.describes.as_ref() == Some(platform_digest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(n: u8) -> String {
        format!("{n:02x}").repeat(32)
    }

    fn index(descriptors: &str) -> String {
        format!(r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{descriptors}]}}"#)
    }

    fn image(n: u8, platform: &str) -> String {
        format!(
            r#"{{"mediaType":"{OCI_MANIFEST}","digest":"sha256:{}","size":10,"platform":{platform},
               "annotations":{{"org.opencontainers.image.revision":"abc"}}}}"#,
            hex(n)
        )
    }

    fn attestation(n: u8, describes: &str) -> String {
        format!(
            r#"{{"mediaType":"{OCI_MANIFEST}","digest":"sha256:{}","size":20,
               "platform":{{"os":"unknown","architecture":"unknown"}},
               "annotations":{{"{ATTESTATION_TYPE_ANNOTATION}":"{ATTESTATION_MANIFEST}",
                               "{ATTESTATION_DIGEST_ANNOTATION}":"{describes}"}}}}"#,
            hex(n)
        )
    }

    fn parse(body: &str) -> Result<ImageIndex, IndexError> {
        ImageIndex::parse(body.as_bytes(), OCI_INDEX)
    }

    #[test]
    fn platforms_and_attestations_are_told_apart() {
        let body = index(
            &[
                image(1, r#"{"os":"linux","architecture":"amd64"}"#),
                image(2, r#"{"os":"linux","architecture":"arm64","variant":"v8"}"#),
                attestation(3, &format!("sha256:{}", hex(1))),
                attestation(4, &format!("sha256:{}", hex(2))),
            ]
            .join(","),
        );
        let index = parse(&body).expect("valid index");
        let platforms: Vec<String> = index
            .platforms
            .iter()
            .map(|p| p.platform.to_string())
            .collect();
        assert_eq!(platforms, ["linux/amd64", "linux/arm64/v8"]);
        assert_eq!(
            index.platforms[0]
                .annotations
                .get("org.opencontainers.image.revision")
                .map(String::as_str),
            Some("abc")
        );
        let arm64 = index
            .select(&Platform::parse("linux/arm64").expect("valid"))
            .expect("selected");
        let described: Vec<&Digest> = index
            .attestations_for(&arm64.digest)
            .map(|a| &a.digest)
            .collect();
        assert_eq!(
            described,
            [&Digest::sha256_from_hex(&hex(4)).expect("valid")]
        );
        assert!(
            index
                .select(&Platform::parse("unknown/unknown").expect("valid"))
                .is_none()
        );
    }

    #[test]
    fn malformed_bodies_say_what_is_wrong() {
        let error = |body: &str| parse(body).expect_err("invalid").to_string();
        assert!(error("{\"manifests\": [").starts_with("invalid JSON: "));
        assert_eq!(
            error(r#"{"schemaVersion":1,"manifests":[]}"#),
            "schemaVersion 1 (expected 2)"
        );
        assert_eq!(
            ImageIndex::parse(index("").as_bytes(), DOCKER_MANIFEST_LIST)
                .expect_err("contradicting media type")
                .to_string(),
            format!("body says mediaType {OCI_INDEX} but the registry sent {DOCKER_MANIFEST_LIST}")
        );
        assert_eq!(
            error(&index(r#"{"digest":"sha256:xyz","size":1}"#)),
            r#"descriptor digest "sha256:xyz": invalid checksum digest length"#
        );
        assert_eq!(
            error(&index(&attestation(3, "nope"))),
            r#"attestation reference "nope": invalid checksum digest format"#
        );
        assert_eq!(
            error(&index(&format!(
                r#"{{"digest":"sha256:{}","size":1}}"#,
                hex(5)
            ))),
            format!("descriptor sha256:{} has no platform", hex(5))
        );
    }

    #[test]
    fn missing_media_types_default_to_oci() {
        let body = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"digest":"sha256:{}","size":1,"platform":{{"os":"linux","architecture":"amd64"}}}}]}}"#,
            hex(1)
        );
        let index = ImageIndex::parse(body.as_bytes(), DOCKER_MANIFEST_LIST).expect("valid");
        assert_eq!(index.platforms[0].media_type, OCI_MANIFEST);
    }

    #[test]
    fn accept_header_names_exactly_the_manifest_types() {
        let named: Vec<&str> = MANIFEST_ACCEPT.split(", ").collect();
        assert_eq!(named.len(), 4);
        assert!(named.iter().all(|t| is_manifest_media_type(t)));
        assert!(is_index_media_type(OCI_INDEX) && is_index_media_type(DOCKER_MANIFEST_LIST));
        assert!(!is_index_media_type(OCI_MANIFEST) && !is_manifest_media_type("text/html"));
    }
}

/// What pyimage reads from an image's configuration: a registry's config blob (`config.Env`, `config.Labels`,
/// `created`) or the `Config` of `docker image inspect` (which has no `created` of its own there).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImageConfig {
    /// `NAME=value` strings (`PYTHON_VERSION=3.12.14`, …).
    pub env: Vec<String>,
    /// Image labels by key (`org.opencontainers.image.source`, …).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// `created` (RFC 3339), the build time, when the source says it.
    pub created: Option<String>,
}

impl ImageConfig {
    /// The value of an environment variable of the image.
    pub fn env_var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find_map(|entry| entry.strip_prefix(name)?.strip_prefix('='))
    }

    /// The Python version the official image declares (`ENV PYTHON_VERSION`).
    pub fn python_version(&self) -> Option<&str> {
        self.env_var("PYTHON_VERSION")
    }
}

#[cfg(test)]
mod image_config_tests {
    use super::ImageConfig;

    #[test]
    fn env_var_matches_the_whole_name() {
        let config = ImageConfig {
            env: vec![
                "PYTHON_VERSION_EXTRA=x".into(),
                "PYTHON_VERSION=3.12.14".into(),
                "EMPTY=".into(),
            ],
            ..ImageConfig::default()
        };
        assert_eq!(config.python_version(), Some("3.12.14"));
        assert_eq!(config.env_var("EMPTY"), Some(""));
        assert_eq!(config.env_var("PYTHON"), None);
    }
}
