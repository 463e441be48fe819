//! Manifest media types, image indexes (multi-platform lists) and platforms, including the BuildKit attestation
//! manifests Docker Hub puts in official images' indexes.
//!
//! They are pure data and parsing, so they live in pyimage-model ([`pyimage_model::oci`] and
//! [`pyimage_model::platform`]), where provenance reads the same index the same way; this module re-exports them
//! under the names the registry client has always offered.

pub use pyimage_model::oci::{
    ATTESTATION_DIGEST_ANNOTATION, ATTESTATION_MANIFEST, ATTESTATION_TYPE_ANNOTATION,
    AttestationManifest, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, ImageIndex, IndexError,
    MANIFEST_ACCEPT, OCI_INDEX, OCI_MANIFEST, PlatformManifest, is_index_media_type,
    is_manifest_media_type,
};
pub use pyimage_model::platform::Platform;
