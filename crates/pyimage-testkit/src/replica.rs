//! [`Replica`]: Docker Hub's `library/python` on this machine, in one call. A token server, a `docker-registry`
//! that trusts it, and a seeder that builds the repository from official-images library files.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use pyimage_model::Library;
use pyimage_model::official_images::Entry;

use crate::background::Background;
use crate::client::RegistryClient;
use crate::copy::copy_tags;
use crate::oci::Blob;
use crate::plain::PlainRegistry;
use crate::registry::{RegistryProcess, TokenAuth};
use crate::seeder::{Change, Seeder};
use crate::tamper::{Tamper, Tampered, tamper};
use crate::token::{Credentials, DOCKER_HUB_SERVICE, TokenServer};
use crate::truth::{Advance, GroundTruth, PushReason};

/// The repository the replica serves.
pub const PYTHON_REPOSITORY: &str = "library/python";
/// The issuer of the replica's tokens.
pub const TOKEN_ISSUER: &str = "pyimage-testkit";

/// A local replica of Docker Hub serving `library/python` behind Docker Hub-style token authentication.
///
/// Every method blocks the calling thread while the work runs on the replica's own runtime, so they are safe in a
/// plain `#[test]` and in `#[tokio::test]`; the `*_async` variants await instead. Dropping the replica kills the
/// registry process and removes its storage.
#[derive(Debug)]
pub struct Replica {
    seeder: Arc<Seeder>,
    token_server: TokenServer,
    // Declared last: dropped after the token server is told to stop.
    runtime: Arc<Background>,
    registry: RegistryProcess,
}

impl Replica {
    /// Starts the token server and the registry. The repository is empty until [`Replica::seed`].
    pub fn start() -> Result<Self> {
        let runtime = Arc::new(Background::new()?);
        let token_server = TokenServer::start(runtime.handle(), DOCKER_HUB_SERVICE, TOKEN_ISSUER)?;
        let registry = RegistryProcess::start_with_token_auth(TokenAuth {
            realm: token_server.realm(),
            service: token_server.service().to_owned(),
            issuer: token_server.issuer().to_owned(),
            root_cert_pem: token_server.cert_pem().to_owned(),
        })?;
        let client = Arc::new(RegistryClient::new(
            &registry.url(),
            Some(token_server.credentials().clone()),
        )?);
        let seeder = Arc::new(Seeder::new(client, PYTHON_REPOSITORY));
        Ok(Replica {
            seeder,
            token_server,
            runtime,
            registry,
        })
    }

    /// Starts a replica and seeds it from a library file.
    pub fn start_seeded(path: impl AsRef<Path>) -> Result<(Self, Advance)> {
        let replica = Replica::start()?;
        let advance = replica.seed_file(path)?;
        Ok((replica, advance))
    }

    /// `http://127.0.0.1:PORT`, the registry's endpoint (what `pyimage.toml` names for `docker.io`).
    pub fn registry_url(&self) -> String {
        self.registry.url()
    }

    /// `127.0.0.1:PORT`, the registry part of references (`127.0.0.1:PORT/library/python:3.12-slim`).
    pub fn host(&self) -> String {
        self.registry.host()
    }

    /// `http://127.0.0.1:PORT/token`.
    pub fn token_realm(&self) -> String {
        self.token_server.realm()
    }

    /// `registry.docker.io`.
    pub fn service(&self) -> &str {
        self.token_server.service()
    }

    /// `library/python`.
    pub fn repository(&self) -> &str {
        PYTHON_REPOSITORY
    }

    /// `127.0.0.1:PORT/library/python:<tag>`, or `…@<digest>` when given a digest.
    pub fn reference(&self, tag_or_digest: &str) -> String {
        crate::reference(&self.host(), PYTHON_REPOSITORY, tag_or_digest)
    }

    /// The credentials that may push (anonymous callers may only pull).
    pub fn credentials(&self) -> &Credentials {
        self.token_server.credentials()
    }

    /// The token server, with its log of requests.
    pub fn token_server(&self) -> &TokenServer {
        &self.token_server
    }

    /// The registry process.
    pub fn registry(&self) -> &RegistryProcess {
        &self.registry
    }

    /// A `pyimage.toml` snippet pointing `docker.io` at this replica.
    pub fn pyimage_toml(&self) -> String {
        format!(
            "[registries.\"docker.io\"]\nendpoint = \"{}\"\ninsecure = true\n",
            self.registry_url()
        )
    }

    /// The ground truth now.
    pub fn ground_truth(&self) -> Result<GroundTruth> {
        let seeder = Arc::clone(&self.seeder);
        self.runtime.block_on(async move { seeder.truth().await })
    }

    /// Seeds (or advances) the repository from a library file on disk.
    pub fn seed_file(&self, path: impl AsRef<Path>) -> Result<Advance> {
        self.seed(&crate::load_library(path)?)
    }

    /// Seeds the repository from a parsed library file: one index per entry, one merged index per shared tag.
    /// On a seeded replica this is the same as [`Replica::replay`].
    pub fn seed(&self, library: &Library) -> Result<Advance> {
        let future = self.advance(library.clone());
        self.runtime.block_on(future)?
    }

    /// [`Replica::seed`], awaiting instead of blocking.
    pub async fn seed_async(&self, library: &Library) -> Result<Advance> {
        self.runtime.run(self.advance(library.clone())).await?
    }

    /// Advances the repository to a later library file: entries whose content changed (commit, directory,
    /// version, architectures) are built anew and their tags move, new tags appear, unchanged entries keep their
    /// digests, and tags that left the file stay where they were.
    pub fn replay(&self, library: &Library) -> Result<Advance> {
        self.seed(library)
    }

    /// [`Replica::replay`] from a file on disk.
    pub fn replay_file(&self, path: impl AsRef<Path>) -> Result<Advance> {
        self.seed_file(path)
    }

    /// [`Replica::replay`], awaiting instead of blocking.
    pub async fn replay_async(&self, library: &Library) -> Result<Advance> {
        self.seed_async(library).await
    }

    fn advance(&self, library: Library) -> impl Future<Output = Result<Advance>> + Send + 'static {
        let seeder = Arc::clone(&self.seeder);
        async move {
            seeder
                .apply(
                    Change {
                        library: Some(library),
                        rebuild: BTreeSet::new(),
                        new_epoch: false,
                    },
                    PushReason::Changed,
                )
                .await
        }
    }

    /// Rebuilds every entry of the current file (a Debian/Alpine security rebuild): same tags, new digests.
    pub fn rebuild_all(&self) -> Result<Advance> {
        self.rebuild_where(|_| true)
    }

    /// Rebuilds the entries of the current file for which `select` is true (`|e| e.directory.starts_with("3.12/")`).
    /// Rebuilt entries get a new base-image digest too.
    pub fn rebuild_where(&self, select: impl Fn(&Entry) -> bool) -> Result<Advance> {
        let future = self.rebuild_future(&select)?;
        self.runtime.block_on(future)?
    }

    /// [`Replica::rebuild_where`], awaiting instead of blocking.
    pub async fn rebuild_where_async(&self, select: impl Fn(&Entry) -> bool) -> Result<Advance> {
        let future = self.rebuild_future(&select)?;
        self.runtime.run(future).await?
    }

    fn rebuild_future(
        &self,
        select: &dyn Fn(&Entry) -> bool,
    ) -> Result<impl Future<Output = Result<Advance>> + Send + 'static> {
        let seeder = Arc::clone(&self.seeder);
        let entries = {
            let seeder = Arc::clone(&seeder);
            self.runtime
                .block_on(async move { seeder.current_entries().await })?
        };
        let rebuild: BTreeSet<String> = entries
            .iter()
            .filter(|e| select(e))
            .map(crate::seeder::entry_key)
            .collect();
        Ok(async move {
            seeder
                .apply(
                    Change {
                        library: None,
                        rebuild,
                        new_epoch: true,
                    },
                    PushReason::Rebuilt,
                )
                .await
        })
    }

    /// Starts a plain registry (no authentication) holding a byte-identical copy of every tag of the replica's
    /// `library/python` (same manifests, same digests), as a faithful mirror would.
    pub fn mirror(&self) -> Result<PlainRegistry> {
        let tags: Vec<String> = self.ground_truth()?.tags.into_keys().collect();
        self.mirror_tags(PYTHON_REPOSITORY, &tags)
    }

    /// Starts a plain registry holding a byte-identical copy of some tags, under `repository` (`library/python`
    /// for a Docker Hub mirror, `acme/python` for a private registry).
    pub fn mirror_tags(&self, repository: &str, tags: &[impl AsRef<str>]) -> Result<PlainRegistry> {
        let mut mirror = PlainRegistry::start_on(Arc::clone(&self.runtime), None)?;
        let tags: Vec<String> = tags.iter().map(|t| t.as_ref().to_owned()).collect();
        let truth = self.ground_truth()?;
        self.copy(&mirror, repository, &tags, true)?;
        mirror.set_copied(GroundTruth {
            repository: repository.to_owned(),
            tags: truth
                .tags
                .into_iter()
                .filter(|(tag, _)| tags.contains(tag))
                .collect(),
        });
        Ok(mirror)
    }

    /// Copies tags of the replica into a plain registry (byte-identical).
    pub fn copy_into(
        &self,
        target: &PlainRegistry,
        repository: &str,
        tags: &[String],
    ) -> Result<()> {
        self.copy(target, repository, tags, false)
    }

    fn copy(
        &self,
        target: &PlainRegistry,
        repository: &str,
        tags: &[String],
        empty: bool,
    ) -> Result<()> {
        let seeder = Arc::clone(&self.seeder);
        let to = Arc::clone(target.client());
        let repository = repository.to_owned();
        let tags = tags.to_vec();
        self.runtime.block_on(async move {
            // The seeder's store spares downloading what it pushed; everything is still checked by digest.
            let known = seeder.store().await;
            copy_tags(
                Arc::clone(seeder.client()),
                seeder.repository(),
                to,
                &repository,
                &tags,
                &known,
                empty,
            )
            .await
        })?
    }

    /// Tampers with a tag on the replica itself (see [`Tamper`]). The ground truth is not changed: it keeps
    /// saying what the seeder published.
    pub fn tamper(&self, tag: &str, how: Tamper) -> Result<Tampered> {
        let client = Arc::clone(self.seeder.client());
        let tag = tag.to_owned();
        self.runtime
            .block_on(async move { tamper(client, PYTHON_REPOSITORY, &tag, how).await })?
    }

    /// Pushes a manifest to `library/python` under a tag or its digest (with the seeder's credentials); returns
    /// its digest. The ground truth is not changed.
    pub fn push_manifest(&self, reference: &str, manifest: &Blob) -> Result<String> {
        let (seeder, reference, manifest) = (
            Arc::clone(&self.seeder),
            reference.to_owned(),
            manifest.clone(),
        );
        self.runtime.block_on(async move {
            let digest = seeder
                .client()
                .push_manifest(PYTHON_REPOSITORY, &reference, &manifest)
                .await?;
            seeder.remember(manifest).await;
            Ok(digest)
        })?
    }

    /// Uploads a blob to `library/python` (with the seeder's credentials).
    pub fn push_blob(&self, blob: &Blob) -> Result<()> {
        let (seeder, blob) = (Arc::clone(&self.seeder), blob.clone());
        self.runtime.block_on(async move {
            seeder.client().push_blob(PYTHON_REPOSITORY, &blob).await?;
            seeder.remember(blob).await;
            Ok(())
        })?
    }

    /// A manifest or blob the seeder pushed, by digest (exact bytes).
    pub fn stored(&self, digest: &str) -> Result<Option<Blob>> {
        let (seeder, digest) = (Arc::clone(&self.seeder), digest.to_owned());
        self.runtime
            .block_on(async move { seeder.stored(&digest).await })
            .context("reading the seeder's store")
    }
}
