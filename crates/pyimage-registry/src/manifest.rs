//! Manifest media types, image indexes (multi-platform lists) and platforms, including the BuildKit attestation
//! manifests Docker Hub puts in official images' indexes (platform `unknown/unknown`,
//! `vnd.docker.reference.type=attestation-manifest`).

use std::collections::BTreeMap;
use std::fmt;

use pyimage_core::Digest;
use serde::{Deserialize, Serialize};

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

/// Annotation marking an attestation manifest in an index.
pub const ATTESTATION_TYPE_ANNOTATION: &str = "vnd.docker.reference.type";
/// Annotation naming the platform manifest an attestation describes.
pub const ATTESTATION_DIGEST_ANNOTATION: &str = "vnd.docker.reference.digest";

/// Whether a media type is one of the four manifest types we accept.
pub fn is_manifest_media_type(media_type: &str) -> bool {
    matches!(
        media_type,
        OCI_INDEX | DOCKER_MANIFEST_LIST | OCI_MANIFEST | DOCKER_MANIFEST
    )
}

/// Whether a media type is a multi-platform list.
pub fn is_index_media_type(media_type: &str) -> bool {
    matches!(media_type, OCI_INDEX | DOCKER_MANIFEST_LIST)
}

/// `os/architecture[/variant]`, as in `--platform linux/arm64/v8`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Platform {
    /// `linux`, `windows`, or `unknown` for attestations.
    pub os: String,
    /// `amd64`, `arm64`, `arm`, `386`, `ppc64le`, `s390x`, `riscv64`, …
    pub architecture: String,
    /// `v8`, `v7`, `v6`, `v5` (ARM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Windows build (`10.0.20348.2461`).
    #[serde(
        default,
        rename = "os.version",
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
}

impl Platform {
    /// Parses `os/arch[/variant]`.
    pub fn parse(text: &str) -> Option<Platform> {
        let mut parts = text.split('/');
        let os = parts.next().filter(|s| !s.is_empty())?;
        let architecture = parts.next().filter(|s| !s.is_empty())?;
        let variant = parts.next().map(str::to_owned);
        if parts.next().is_some() || variant.as_deref() == Some("") {
            return None;
        }
        Some(Platform {
            os: os.to_owned(),
            architecture: architecture.to_owned(),
            variant,
            os_version: None,
        })
    }

    /// Whether this (requested) platform selects `candidate`, with containerd's defaults: `linux/arm64` means
    /// `linux/arm64/v8`, `linux/arm` means `v7`; a request without variant matches the default variant only.
    pub fn selects(&self, candidate: &Platform) -> bool {
        if self.os != candidate.os
            || normalize_arch(&self.architecture) != normalize_arch(&candidate.architecture)
        {
            return false;
        }
        let default_variant = |arch: &str| match normalize_arch(arch) {
            "arm64" => Some("v8"),
            "arm" => Some("v7"),
            _ => None,
        };
        let wanted = self
            .variant
            .as_deref()
            .or(default_variant(&self.architecture));
        let offered = candidate
            .variant
            .as_deref()
            .or(default_variant(&candidate.architecture));
        wanted == offered
    }
}

fn normalize_arch(arch: &str) -> &str {
    match arch {
        "aarch64" => "arm64",
        "x86_64" | "x86-64" => "amd64",
        "i386" => "386",
        other => other,
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

/// One descriptor of an index, as JSON.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RawDescriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: Option<String>,
    pub digest: String,
    pub size: u64,
    #[serde(default)]
    pub platform: Option<Platform>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawIndex {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default)]
    pub media_type: Option<String>,
    pub manifests: Vec<RawDescriptor>,
}

/// A platform image in an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformManifest {
    /// Its platform.
    pub platform: Platform,
    /// Its manifest digest.
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
}

/// An attestation manifest (SLSA provenance, SBOM) attached to a platform image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttestationManifest {
    /// The attestation manifest's digest.
    pub digest: Digest,
    /// The platform manifest it describes.
    pub describes: Option<Digest>,
    /// Its size in bytes.
    pub size: u64,
}

/// An image index split into platform images and attestations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageIndex {
    /// Platform images in index order.
    pub platforms: Vec<PlatformManifest>,
    /// Attestation manifests in index order.
    pub attestations: Vec<AttestationManifest>,
}

impl ImageIndex {
    /// Parses and checks an index body whose media type is `media_type`.
    pub fn parse(body: &[u8], media_type: &str) -> Result<ImageIndex, String> {
        let raw: RawIndex =
            serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
        if raw.schema_version != 2 {
            return Err(format!("schemaVersion {} (expected 2)", raw.schema_version));
        }
        if let Some(declared) = &raw.media_type
            && declared != media_type
        {
            return Err(format!(
                "body says mediaType {declared} but the registry sent {media_type}"
            ));
        }
        let mut index = ImageIndex {
            platforms: Vec::new(),
            attestations: Vec::new(),
        };
        for descriptor in raw.manifests {
            let digest = Digest::parse(&descriptor.digest)
                .map_err(|e| format!("descriptor digest {:?}: {e}", descriptor.digest))?;
            let media_type = descriptor
                .media_type
                .clone()
                .unwrap_or_else(|| OCI_MANIFEST.to_owned());
            if descriptor
                .annotations
                .get(ATTESTATION_TYPE_ANNOTATION)
                .map(String::as_str)
                == Some("attestation-manifest")
            {
                let describes = match descriptor.annotations.get(ATTESTATION_DIGEST_ANNOTATION) {
                    Some(text) => Some(
                        Digest::parse(text)
                            .map_err(|e| format!("attestation reference {text:?}: {e}"))?,
                    ),
                    None => None,
                };
                index.attestations.push(AttestationManifest {
                    digest,
                    describes,
                    size: descriptor.size,
                });
                continue;
            }
            let platform = descriptor
                .platform
                .ok_or_else(|| format!("descriptor {digest} has no platform"))?;
            index.platforms.push(PlatformManifest {
                platform,
                digest,
                media_type,
                size: descriptor.size,
            });
        }
        Ok(index)
    }

    /// The platform image a request selects.
    pub fn select(&self, wanted: &Platform) -> Option<&PlatformManifest> {
        self.platforms.iter().find(|p| wanted.selects(&p.platform))
    }

    /// The attestation manifests describing a platform manifest.
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

    #[test]
    fn platform_defaults_follow_containerd() {
        let arm64 = Platform::parse("linux/arm64").expect("valid");
        assert!(arm64.selects(&Platform::parse("linux/arm64/v8").expect("valid")));
        assert!(!arm64.selects(&Platform::parse("linux/arm/v7").expect("valid")));
        let arm = Platform::parse("linux/arm").expect("valid");
        assert!(arm.selects(&Platform::parse("linux/arm/v7").expect("valid")));
        assert!(!arm.selects(&Platform::parse("linux/arm/v6").expect("valid")));
        assert!(Platform::parse("linux").is_none());
        assert!(Platform::parse("linux/arm/").is_none());
    }
}
