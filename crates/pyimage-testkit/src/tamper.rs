//! Hostile content: ways a registry (a compromised mirror, a typo-squatting private registry) can serve something
//! other than what Docker Hub serves under the same tag. Each tampering pushes real content through the registry
//! API, so the registry serves it with correct digests: only a client that checks provenance, annotations and the
//! ground truth can tell.

use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use crate::client::RegistryClient;
use crate::content::ANNOTATION_REVISION;
use crate::oci::{
    Blob, Descriptor, IN_TOTO, ImageIndex, ImageManifest, OCI_CONFIG, PREDICATE_TYPE,
    SLSA_PROVENANCE_V02,
};

/// What to change in the image a tag points at.
pub enum Tamper {
    /// Remove every attestation manifest from the index (an image with no provenance or SBOM).
    DropAttestations,
    /// Rewrite the provenance of every platform so that it claims another git commit (`configSource.digest.sha1`
    /// and BuildKit's `vcs.revision`). Images and annotations are unchanged.
    ProvenanceCommit(String),
    /// Change `PYTHON_VERSION` in every platform's config (new image manifests, new digests). The attestation
    /// manifests are kept and still describe the original images (their subjects name the old digests), while
    /// their `vnd.docker.reference.digest` annotations are updated to the new images.
    PythonVersion(String),
    /// Set an environment variable (`PYTHON_SHA256`, value) in every platform's config, added when absent; the
    /// attestation manifests are kept as for [`Tamper::PythonVersion`].
    Env(String, String),
    /// Remove an environment variable from every platform's config (an image built before docker-library set it).
    UnsetEnv(String),
    /// Rewrite the `org.opencontainers.image.revision` annotation on the index's image descriptors only.
    RevisionAnnotation(String),
    /// Any edit of the index.
    EditIndex(Box<dyn FnOnce(&mut ImageIndex) + Send>),
}

impl std::fmt::Debug for Tamper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tamper::DropAttestations => f.write_str("DropAttestations"),
            Tamper::ProvenanceCommit(commit) => {
                f.debug_tuple("ProvenanceCommit").field(commit).finish()
            }
            Tamper::PythonVersion(version) => {
                f.debug_tuple("PythonVersion").field(version).finish()
            }
            Tamper::RevisionAnnotation(revision) => {
                f.debug_tuple("RevisionAnnotation").field(revision).finish()
            }
            Tamper::Env(name, value) => f.debug_tuple("Env").field(name).field(value).finish(),
            Tamper::UnsetEnv(name) => f.debug_tuple("UnsetEnv").field(name).finish(),
            Tamper::EditIndex(_) => f.write_str("EditIndex(..)"),
        }
    }
}

/// The result of tampering with a tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tampered {
    /// The tag.
    pub tag: String,
    /// The digest it pointed at.
    pub old_digest: String,
    /// The digest it points at now.
    pub new_digest: String,
    /// The new index.
    pub index: Blob,
}

/// Tampers with `repository:tag` on the registry `client` talks to.
pub(crate) async fn tamper(
    client: Arc<RegistryClient>,
    repository: &str,
    tag: &str,
    how: Tamper,
) -> Result<Tampered> {
    let original = client.get_manifest(repository, tag).await?;
    let mut index: ImageIndex = serde_json::from_slice(&original.bytes)
        .with_context(|| format!("{repository}:{tag} is not an index"))?;
    match how {
        Tamper::DropAttestations => index.manifests.retain(|d| !d.is_attestation()),
        Tamper::RevisionAnnotation(revision) => {
            for descriptor in index.manifests.iter_mut().filter(|d| !d.is_attestation()) {
                descriptor
                    .annotations
                    .insert(ANNOTATION_REVISION.to_owned(), revision.clone());
            }
        }
        Tamper::EditIndex(edit) => edit(&mut index),
        Tamper::ProvenanceCommit(commit) => {
            for descriptor in index.manifests.iter_mut().filter(|d| d.is_attestation()) {
                *descriptor = rewrite_provenance(&client, repository, descriptor, &commit).await?;
            }
        }
        Tamper::PythonVersion(_) | Tamper::Env(..) | Tamper::UnsetEnv(_) => {
            let (name, value) = match how {
                Tamper::PythonVersion(version) => ("PYTHON_VERSION".to_owned(), Some(version)),
                Tamper::Env(name, value) => (name, Some(value)),
                Tamper::UnsetEnv(name) => (name, None),
                _ => unreachable!("matched above"),
            };
            let mut renamed = Vec::new();
            for descriptor in index.manifests.iter_mut().filter(|d| !d.is_attestation()) {
                let old = descriptor.digest.clone();
                let new =
                    rewrite_env(&client, repository, descriptor, &name, value.as_deref()).await?;
                renamed.push((old, new.digest.clone()));
                *descriptor = new;
            }
            for descriptor in index.manifests.iter_mut().filter(|d| d.is_attestation()) {
                if let Some(reference) =
                    descriptor.annotations.get_mut(crate::oci::REFERENCE_DIGEST)
                    && let Some((_, new)) = renamed.iter().find(|(old, _)| old == reference)
                {
                    *reference = new.clone();
                }
            }
        }
    }
    let blob = index.to_blob();
    if blob.digest == original.digest {
        bail!("tampering with {repository}:{tag} changed nothing");
    }
    client.push_manifest(repository, tag, &blob).await?;
    Ok(Tampered {
        tag: tag.to_owned(),
        old_digest: original.digest,
        new_digest: blob.digest.clone(),
        index: blob,
    })
}

async fn read_manifest(
    client: &RegistryClient,
    repository: &str,
    digest: &str,
) -> Result<ImageManifest> {
    let blob = client.get_manifest(repository, digest).await?;
    serde_json::from_slice(&blob.bytes)
        .with_context(|| format!("{digest} is not an image manifest"))
}

async fn push_new_manifest(
    client: &RegistryClient,
    repository: &str,
    manifest: &ImageManifest,
    old: &Descriptor,
) -> Result<Descriptor> {
    let blob = manifest.to_blob();
    client
        .push_manifest(repository, &blob.digest, &blob)
        .await?;
    Ok(Descriptor {
        digest: blob.digest.clone(),
        size: blob.size(),
        ..old.clone()
    })
}

async fn rewrite_provenance(
    client: &RegistryClient,
    repository: &str,
    descriptor: &Descriptor,
    commit: &str,
) -> Result<Descriptor> {
    let mut manifest = read_manifest(client, repository, &descriptor.digest).await?;
    for layer in &mut manifest.layers {
        if layer.annotations.get(PREDICATE_TYPE).map(String::as_str) != Some(SLSA_PROVENANCE_V02) {
            continue;
        }
        let bytes = client.get_blob(repository, &layer.digest).await?;
        let mut statement: Value =
            serde_json::from_slice(&bytes).context("provenance is not JSON")?;
        let predicate = &mut statement["predicate"];
        predicate["invocation"]["configSource"]["digest"]["sha1"] = Value::from(commit);
        if let Some(vcs) = predicate["metadata"]
            .get_mut("https://mobyproject.org/buildkit@v1#metadata")
            .and_then(|m| m.get_mut("vcs"))
        {
            vcs["revision"] = Value::from(commit);
        }
        let blob = Blob::json(IN_TOTO, &statement);
        client.push_blob(repository, &blob).await?;
        layer.size = blob.size();
        layer.digest = blob.digest;
    }
    let diff_ids: Vec<Value> = manifest
        .layers
        .iter()
        .map(|l| Value::from(l.digest.clone()))
        .collect();
    let config = Blob::json(
        OCI_CONFIG,
        &serde_json::json!({"architecture": "unknown", "os": "unknown", "config": {},
                            "rootfs": {"type": "layers", "diff_ids": diff_ids}}),
    );
    client.push_blob(repository, &config).await?;
    manifest.config = config.descriptor();
    push_new_manifest(client, repository, &manifest, descriptor).await
}

async fn rewrite_env(
    client: &RegistryClient,
    repository: &str,
    descriptor: &Descriptor,
    name: &str,
    value: Option<&str>,
) -> Result<Descriptor> {
    let mut manifest = read_manifest(client, repository, &descriptor.digest).await?;
    let bytes = client.get_blob(repository, &manifest.config.digest).await?;
    let mut config: Value = serde_json::from_slice(&bytes).context("config is not JSON")?;
    if let Some(env) = config["config"]["Env"].as_array_mut() {
        let prefix = format!("{name}=");
        let is_it = |v: &Value| v.as_str().is_some_and(|v| v.starts_with(&prefix));
        match value {
            None => env.retain(|v| !is_it(v)),
            Some(value) => {
                let setting = Value::from(format!("{name}={value}"));
                match env.iter_mut().find(|v| is_it(v)) {
                    Some(variable) => *variable = setting,
                    None => env.push(setting),
                }
            }
        }
    }
    let blob = Blob::json(&manifest.config.media_type, &config);
    client.push_blob(repository, &blob).await?;
    manifest.config = blob.descriptor();
    push_new_manifest(client, repository, &manifest, descriptor).await
}
