//! A plain registry with no authentication: a private registry, or a mirror holding a copy of the replica's
//! `library/python` (see [`crate::Replica::mirror`]). Hostile tests tamper with its content.

use std::sync::Arc;

use anyhow::Result;

use crate::background::Background;
use crate::client::RegistryClient;
use crate::oci::Blob;
use crate::registry::RegistryProcess;
use crate::tamper::{Tamper, Tampered, tamper};
use crate::truth::GroundTruth;

/// A running registry without authentication.
#[derive(Debug)]
pub struct PlainRegistry {
    client: Arc<RegistryClient>,
    copied: Option<GroundTruth>,
    // Declared last: the registry is stopped after the runtime's tasks are told to stop.
    runtime: Arc<Background>,
    registry: RegistryProcess,
}

impl PlainRegistry {
    /// Starts an empty plain registry.
    pub fn start() -> Result<Self> {
        Self::start_on(Arc::new(Background::new()?), None)
    }

    pub(crate) fn start_on(runtime: Arc<Background>, copied: Option<GroundTruth>) -> Result<Self> {
        let registry = RegistryProcess::start_plain()?;
        let client = Arc::new(RegistryClient::new(&registry.url(), None)?);
        Ok(PlainRegistry {
            client,
            copied,
            runtime,
            registry,
        })
    }

    pub(crate) fn set_copied(&mut self, truth: GroundTruth) {
        self.copied = Some(truth);
    }

    pub(crate) fn client(&self) -> &Arc<RegistryClient> {
        &self.client
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.registry.url()
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        self.registry.host()
    }

    /// `127.0.0.1:PORT/<repository>:<tag>` (or `@<digest>` when `tag_or_digest` is a digest).
    pub fn reference(&self, repository: &str, tag_or_digest: &str) -> String {
        crate::reference(&self.host(), repository, tag_or_digest)
    }

    /// The registry process.
    pub fn process(&self) -> &RegistryProcess {
        &self.registry
    }

    /// For a mirror: the replica's ground truth of the tags that were copied (only those tags), as it was when
    /// copied. Tampering does not change it.
    pub fn copied(&self) -> Option<&GroundTruth> {
        self.copied.as_ref()
    }

    /// Uploads a blob to `repository`.
    pub fn push_blob(&self, repository: &str, blob: &Blob) -> Result<()> {
        let (client, repository, blob) = (
            Arc::clone(&self.client),
            repository.to_owned(),
            blob.clone(),
        );
        self.runtime
            .block_on(async move { client.push_blob(&repository, &blob).await })?
    }

    /// Pushes a manifest to `repository` under a tag or its digest; returns the digest.
    pub fn push_manifest(
        &self,
        repository: &str,
        reference: &str,
        manifest: &Blob,
    ) -> Result<String> {
        let (client, repository, reference, manifest) = (
            Arc::clone(&self.client),
            repository.to_owned(),
            reference.to_owned(),
            manifest.clone(),
        );
        self.runtime.block_on(async move {
            client
                .push_manifest(&repository, &reference, &manifest)
                .await
        })?
    }

    /// Tampers with `repository:tag` (see [`Tamper`]).
    pub fn tamper(&self, repository: &str, tag: &str, how: Tamper) -> Result<Tampered> {
        let (client, repository, tag) = (
            Arc::clone(&self.client),
            repository.to_owned(),
            tag.to_owned(),
        );
        self.runtime
            .block_on(async move { tamper(client, &repository, &tag, how).await })?
    }

    /// Points `repository:tag` at an existing manifest (a tag swap: `3.12-slim` served as `3.11-slim`'s index).
    pub fn retag(&self, repository: &str, tag: &str, digest: &str) -> Result<()> {
        let (client, repository, tag, digest) = (
            Arc::clone(&self.client),
            repository.to_owned(),
            tag.to_owned(),
            digest.to_owned(),
        );
        self.runtime.block_on(async move {
            let manifest = client.get_manifest(&repository, &digest).await?;
            client
                .push_manifest(&repository, &tag, &manifest)
                .await
                .map(drop)
        })?
    }

    /// Deletes a manifest by digest (every tag pointing at it disappears).
    pub fn delete_manifest(&self, repository: &str, digest: &str) -> Result<()> {
        let (client, repository, digest) = (
            Arc::clone(&self.client),
            repository.to_owned(),
            digest.to_owned(),
        );
        self.runtime
            .block_on(async move { client.delete_manifest(&repository, &digest).await })?
    }
}
