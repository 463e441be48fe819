//! Reading an image's BuildKit attestations (SLSA provenance, SPDX SBOM) and the official-images record they are
//! checked against. `pyimage provenance` reports them for a tag; `pyimage verify` for the local image's platform.
//! The assessment itself is pure (`pyimage_policy::provenance::assess_platform`); this module fetches what it needs,
//! every byte verified by the registry client.

use std::collections::BTreeMap;

use pyimage_model::oci::{ImageIndex, PlatformManifest, is_index_media_type};
use pyimage_model::{Digest, Library, Platform, Reference};
use pyimage_policy::provenance::{self, Expectations, PlatformProvenance, Statement};
use pyimage_registry::{RegistryClient, RegistryError, ResolveRequest};
use serde::Serialize;

use crate::error::ServiceError;

/// The public official-images record of `library/python`.
pub const OFFICIAL_IMAGES_URL: &str =
    "https://raw.githubusercontent.com/docker-library/official-images/master/library/python";
/// Largest official-images file read (the real one is about 20 KiB).
const RECORD_LIMIT: u64 = 4 * 1024 * 1024;
/// Largest in-toto statement read (an SPDX document of a full image is a few hundred KiB).
const STATEMENT_LIMIT: u64 = 32 * 1024 * 1024;

/// The official-images record, or why there is none.
#[derive(Debug)]
pub enum Record {
    /// Loaded: the parsed library file, and where it came from (a URL or file name).
    Loaded(Box<Library>, String),
    /// Not available (the reason is reported; the checks that need it are `unchecked`).
    Unavailable(String),
}

impl Record {
    /// The record `--official-images` names: a file (an error when unreadable or invalid), a URL (unavailable
    /// when offline), `none`, or by default the file on GitHub.
    pub async fn load(
        client: &RegistryClient,
        source: Option<&str>,
    ) -> Result<Record, ServiceError> {
        let source = source.unwrap_or(OFFICIAL_IMAGES_URL);
        if source == "none" {
            return Ok(Record::Unavailable("--official-images none".to_owned()));
        }
        if source.starts_with("https://") || source.starts_with("http://") {
            return Record::fetch(client, source).await;
        }
        let text =
            pyimage_store::bounded::read_text(std::path::Path::new(source), 16 * 1024 * 1024)
                .map_err(|error| {
                    ServiceError::input(format!("cannot read --official-images {source}: {error}"))
                })?;
        Record::from_text(&text, source)
    }

    /// Parses a record read by the caller; `origin` names where it came from.
    pub fn from_text(text: &str, origin: &str) -> Result<Record, ServiceError> {
        let library = Library::parse(text).map_err(|error| {
            ServiceError::input(format!(
                "official-images record {origin} is not a library file: {error}"
            ))
        })?;
        Ok(Record::Loaded(Box::new(library), origin.to_owned()))
    }

    /// Fetches the record from a URL with the registry client's HTTP settings and a size cap. An unreachable URL
    /// makes the record unavailable (offline runs still verify digests); a file that is not a library file is an
    /// input error.
    pub async fn fetch(client: &RegistryClient, url: &str) -> Result<Record, ServiceError> {
        match client.fetch_public_text(url, RECORD_LIMIT).await {
            Ok(text) => Record::from_text(&text, url),
            Err(error) => Ok(Record::Unavailable(format!(
                "cannot fetch {url}: {error} (pass --official-images FILE)"
            ))),
        }
    }

    /// The library, when loaded.
    pub fn library(&self) -> Option<&Library> {
        match self {
            Record::Loaded(library, _) => Some(library),
            Record::Unavailable(_) => None,
        }
    }

    /// Where the record came from (and its size), or why it was not used.
    pub fn describe(&self) -> String {
        match self {
            Record::Loaded(library, origin) => {
                format!("{origin} ({} entries)", library.entries.len())
            }
            Record::Unavailable(reason) => format!("not used: {reason}"),
        }
    }
}

/// An index: its platform images and the attestation manifests describing them.
#[derive(Debug)]
pub struct Index {
    /// Platform images and attestation manifests.
    pub parsed: ImageIndex,
    /// The digest names a single-platform manifest, not an index: its platform is only in its config (not read).
    single: bool,
}

impl Index {
    /// Fetches (verified) and reads the index `repository@digest`.
    pub async fn fetch(
        client: &RegistryClient,
        repository: &Reference,
        digest: &Digest,
    ) -> Result<Index, RegistryError> {
        let manifest = client.fetch_manifest(repository, digest).await?;
        let what = format!("index {}@{digest}", repository.name());
        let single = !is_index_media_type(&manifest.head.media_type);
        let parsed = if single {
            // A single-platform manifest: its own only image; no attestations can be attached. The platform is a
            // placeholder that `platform_of` and `select` never show or match.
            ImageIndex {
                platforms: vec![PlatformManifest {
                    platform: Platform {
                        os: "unknown".to_owned(),
                        architecture: "unknown".to_owned(),
                        variant: None,
                        os_version: None,
                    },
                    digest: digest.clone(),
                    media_type: manifest.head.media_type.clone(),
                    size: manifest.body.len() as u64,
                    annotations: BTreeMap::new(),
                }],
                attestations: Vec::new(),
            }
        } else {
            ImageIndex::parse(&manifest.body, &manifest.head.media_type).map_err(|e| {
                RegistryError::InvalidManifest {
                    endpoint: manifest.head.endpoint.display(),
                    what: what.clone(),
                    detail: e.to_string(),
                }
            })?
        };
        Ok(Index { parsed, single })
    }

    /// Whether the digest named a single-platform manifest rather than an index.
    pub fn is_single(&self) -> bool {
        self.single
    }

    /// Platform images (attestation manifests excluded).
    pub fn platforms(&self) -> impl Iterator<Item = &PlatformManifest> {
        self.parsed.platforms.iter()
    }

    /// The platform image a platform string selects (containerd's defaults for variants).
    pub fn select(&self, wanted: &str) -> Option<&PlatformManifest> {
        if self.single {
            return None;
        }
        self.parsed.select(&Platform::parse(wanted)?)
    }

    /// `os/architecture[/variant]` of a platform image; none for a single-platform manifest.
    pub fn platform_of(&self, image: &PlatformManifest) -> Option<String> {
        (!self.single).then(|| image.platform.to_string())
    }

    fn others(&self) -> BTreeMap<Digest, String> {
        self.platforms()
            .filter_map(|e| Some((e.digest.clone(), self.platform_of(e)?)))
            .collect()
    }
}

/// Reads and assesses the attestations of one platform image of `index`.
pub async fn platform_provenance(
    client: &RegistryClient,
    repository: &Reference,
    index: &Index,
    image: &PlatformManifest,
    library: Option<&Library>,
    tag: Option<&str>,
    python_version: Option<&str>,
) -> Result<PlatformProvenance, RegistryError> {
    let platform = index
        .platform_of(image)
        .unwrap_or_else(|| "unknown".to_owned());
    let attestation = index.parsed.attestations_for(&image.digest).next();
    let attestations = attestation_statements(client, repository, index, &image.digest).await?;
    // An assessment is about every statement: one that cannot be read fails it, as before (the watcher, which
    // records moves, keeps the others instead).
    if let Some((_, error)) = attestations.left_out.into_iter().next() {
        return Err(error);
    }
    let statements = attestations.statements;
    let expect = Expectations {
        tag: tag.map(str::to_owned),
        revision: image
            .annotations
            .get(provenance::ANNOTATION_REVISION)
            .cloned(),
        base_digest: image
            .annotations
            .get(provenance::ANNOTATION_BASE_DIGEST)
            .cloned(),
        python_version: python_version.map(str::to_owned),
    };
    Ok(provenance::assess_platform(
        &platform,
        &image.digest,
        attestation.map(|a| &a.digest),
        &statements,
        &index.others(),
        library,
        &expect,
    ))
}

/// The in-toto statements of one platform image's attestation manifest, and those left out.
#[derive(Debug, Default)]
pub(crate) struct Attestations {
    /// The statements read.
    pub statements: Vec<Statement>,
    /// Each statement the registry served but pyimage will not read (over the size limit, not matching its
    /// digest), with why: the others are still read.
    pub left_out: Vec<(Digest, RegistryError)>,
}

/// The in-toto statements (SLSA provenance, SPDX SBOM) of the attestation manifest that describes `image` in
/// `index`: one GET of that manifest and one per statement; none when the index attests nothing for it. A statement
/// whose content cannot be read ([`is_content_error`]) is left out and listed, the others kept; one that does not
/// parse as a statement is logged and left out; a registry that does not answer fails the whole read.
pub(crate) async fn attestation_statements(
    client: &RegistryClient,
    repository: &Reference,
    index: &Index,
    image: &Digest,
) -> Result<Attestations, RegistryError> {
    let Some(attestation) = index.parsed.attestations_for(image).next() else {
        return Ok(Attestations::default());
    };
    let manifest = client
        .fetch_manifest(repository, &attestation.digest)
        .await?;
    let what = format!("attestation manifest {}", attestation.digest);
    let layers = provenance::attestation_layers(&manifest.body, &what).map_err(|e| {
        RegistryError::InvalidManifest {
            endpoint: manifest.head.endpoint.display(),
            what: what.clone(),
            detail: e.to_string(),
        }
    })?;
    let mut read = Attestations::default();
    for layer in layers {
        let body = match client
            .fetch_blob(repository, &layer.digest, STATEMENT_LIMIT)
            .await
        {
            Ok(body) => body,
            Err(error) if is_content_error(&error) => {
                read.left_out.push((layer.digest.clone(), error));
                continue;
            }
            Err(error) => return Err(error),
        };
        match Statement::parse(&body, &format!("in-toto statement {}", layer.digest)) {
            Ok(statement) => read.statements.push(statement),
            Err(error) => tracing::warn!(%error, "unreadable statement"),
        }
    }
    Ok(read)
}

/// Whether a registry error is about the content (too large, invalid, not matching its digest) rather than about
/// reaching the registry.
pub(crate) fn is_content_error(error: &RegistryError) -> bool {
    matches!(
        error,
        RegistryError::TooLarge { .. }
            | RegistryError::InvalidManifest { .. }
            | RegistryError::DigestMismatch { .. }
    )
}

/// What the attestations of one reference say.
#[derive(Debug, Clone, Serialize)]
pub struct ReferenceProvenance {
    /// The index digest the reference resolved to.
    pub digest: Digest,
    /// The registry endpoint that answered.
    pub registry: String,
    /// One assessment per selected platform image.
    pub platforms: Vec<PlatformProvenance>,
}

/// Resolves `reference` and assesses the attestations of its platform images: all of them, or the one `platform`
/// (`linux/arm64`) selects — an index without that platform is an input error naming the platforms it has.
pub async fn read_provenance(
    client: &RegistryClient,
    reference: &Reference,
    platform: Option<&str>,
    library: Option<&Library>,
) -> Result<ReferenceProvenance, ServiceError> {
    let resolution = client
        .resolve(reference, &ResolveRequest::default())
        .await?;
    let repository = reference.repository();
    let index = Index::fetch(client, &repository, &resolution.digest).await?;
    let selected: Vec<&PlatformManifest> = match platform {
        None => index.platforms().collect(),
        Some(wanted) => match index.select(wanted) {
            Some(entry) => vec![entry],
            None => {
                return Err(ServiceError::input(format!(
                    "{reference} has no {wanted} image (it has: {})",
                    index
                        .platforms()
                        .filter_map(|e| index.platform_of(e))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        },
    };
    let mut platforms = Vec::new();
    for image in selected {
        platforms.push(
            platform_provenance(
                client,
                &repository,
                &index,
                image,
                library,
                reference.tag(),
                None,
            )
            .await?,
        );
    }
    Ok(ReferenceProvenance {
        digest: resolution.digest,
        registry: resolution.registry,
        platforms,
    })
}
