//! OCI content: media types, descriptors, image manifests and indexes, and content-addressed blobs.
//!
//! Manifests are serialised with fields in the order the OCI specification lists them, compactly, so the bytes
//! (and therefore the digests) are a pure function of their content.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::platform::Platform;

/// `application/vnd.oci.image.index.v1+json`.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// `application/vnd.oci.image.manifest.v1+json`.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// `application/vnd.oci.image.config.v1+json`.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// `application/vnd.oci.image.layer.v1.tar+gzip`.
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// `application/vnd.docker.distribution.manifest.list.v2+json`.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// `application/vnd.docker.distribution.manifest.v2+json`.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// `application/vnd.in-toto+json`, the media type of an attestation layer.
pub const IN_TOTO: &str = "application/vnd.in-toto+json";
/// All four manifest media types, for an `Accept` header (registry 2.8 answers 404 for a type not named).
pub const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// Annotation naming the kind of a reference manifest (`attestation-manifest`).
pub const REFERENCE_TYPE: &str = "vnd.docker.reference.type";
/// Annotation naming the manifest an attestation manifest describes.
pub const REFERENCE_DIGEST: &str = "vnd.docker.reference.digest";
/// The value of [`REFERENCE_TYPE`] for attestation manifests.
pub const ATTESTATION_MANIFEST: &str = "attestation-manifest";
/// Annotation on an in-toto layer naming its predicate type.
pub const PREDICATE_TYPE: &str = "in-toto.io/predicate-type";
/// SLSA provenance v0.2 predicate type.
pub const SLSA_PROVENANCE_V02: &str = "https://slsa.dev/provenance/v0.2";
/// SPDX predicate type.
pub const SPDX_DOCUMENT: &str = "https://spdx.dev/Document";

/// `sha256:<hex>` of some bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// A piece of content with its media type and digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// Media type it is pushed or described with.
    pub media_type: String,
    /// `sha256:<hex>` of [`Blob::bytes`].
    pub digest: String,
    /// The content.
    pub bytes: Bytes,
}

impl Blob {
    /// Wraps bytes, computing their digest.
    pub fn new(media_type: &str, bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        Blob {
            media_type: media_type.to_owned(),
            digest: sha256_digest(&bytes),
            bytes,
        }
    }

    /// A serialisable value as compact JSON.
    pub fn json(media_type: &str, value: &impl Serialize) -> Self {
        // Serialising plain data structures (strings, maps, numbers) cannot fail.
        let bytes = serde_json::to_vec(value).unwrap_or_default();
        Blob::new(media_type, bytes)
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// A descriptor of this blob without platform or annotations.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: self.media_type.clone(),
            digest: self.digest.clone(),
            size: self.size(),
            annotations: BTreeMap::new(),
            platform: None,
        }
    }
}

/// An OCI content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type of the described content.
    pub media_type: String,
    /// Its digest.
    pub digest: String,
    /// Its size in bytes.
    pub size: u64,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Platform, in an index.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::platform::serialize_hub_order"
    )]
    pub platform: Option<Platform>,
}

impl Descriptor {
    /// Whether the descriptor names an attestation manifest (Docker Hub's `unknown/unknown` entries).
    pub fn is_attestation(&self) -> bool {
        self.annotations.get(REFERENCE_TYPE).map(String::as_str) == Some(ATTESTATION_MANIFEST)
    }
}

/// An OCI image manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    /// [`OCI_MANIFEST`].
    pub media_type: String,
    /// The config blob.
    pub config: Descriptor,
    /// The layers.
    pub layers: Vec<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ImageManifest {
    /// A manifest of a config and layers.
    pub fn new(
        config: Descriptor,
        layers: Vec<Descriptor>,
        annotations: BTreeMap<String, String>,
    ) -> Self {
        ImageManifest {
            schema_version: 2,
            media_type: OCI_MANIFEST.to_owned(),
            config,
            layers,
            annotations,
        }
    }

    /// The manifest as a blob (its bytes are what is pushed and digested).
    pub fn to_blob(&self) -> Blob {
        Blob::json(OCI_MANIFEST, self)
    }
}

/// An OCI image index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    /// [`OCI_INDEX`].
    pub media_type: String,
    /// The manifests.
    pub manifests: Vec<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ImageIndex {
    /// An index of the given descriptors.
    pub fn new(manifests: Vec<Descriptor>) -> Self {
        ImageIndex {
            schema_version: 2,
            media_type: OCI_INDEX.to_owned(),
            manifests,
            annotations: BTreeMap::new(),
        }
    }

    /// The index as a blob.
    pub fn to_blob(&self) -> Blob {
        Blob::json(OCI_INDEX, self)
    }
}
