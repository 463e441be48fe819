//! What the seeder pushes for one library entry, built the way Docker Hub's official images look: one OCI image
//! manifest per platform (config blob + one small gzip tar layer), one BuildKit attestation manifest per platform
//! (SLSA provenance v0.2 and SPDX statements), and an OCI index holding both kinds of descriptor.
//!
//! Everything here is a pure function of the entry, its build number and the base-image epoch: the same inputs give
//! byte-identical blobs, so two replicas seeded from one file serve the same digests, and a rebuild (a higher build
//! number) changes every digest of the entry.
//!
//! Provenance choices (Docker Hub's exact values are not public for every field):
//! * `predicate.invocation.configSource` = `{uri: "https://github.com/docker-library/python.git", digest: {sha1:
//!   GitCommit}, entryPoint: "Dockerfile"}`;
//! * the entry's `Directory` is recorded in `predicate.invocation.parameters.args.context` as a BuildKit git context,
//!   `https://github.com/docker-library/python.git#<GitCommit>:<Directory>`, and also in
//!   `predicate.metadata."https://mobyproject.org/buildkit@v1#metadata".vcs."localdir:dockerfile"`;
//! * `predicate.materials[0]` is the base image (`pkg:docker/debian@trixie-slim?platform=linux%2Famd64`, digest =
//!   the base digest also found in the `org.opencontainers.image.base.digest` annotation).
//!
//! Entries built by the `classic` builder (the Windows images) get no attestation manifests, as on Docker Hub.

use std::collections::BTreeMap;
use std::io::Write as _;

use anyhow::{Context as _, Result};
use pyimage_model::PythonVersion;
use pyimage_model::official_images::Entry;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::oci::{
    ATTESTATION_MANIFEST, Blob, Descriptor, IN_TOTO, ImageIndex, ImageManifest, OCI_CONFIG,
    OCI_LAYER_GZIP, PREDICATE_TYPE, REFERENCE_DIGEST, REFERENCE_TYPE, SLSA_PROVENANCE_V02,
    SPDX_DOCUMENT, sha256_digest,
};
use crate::platform::Platform;

/// The git repository docker-library builds `library/python` from.
pub const SOURCE_REPOSITORY: &str = "https://github.com/docker-library/python.git";
/// Annotation: base image name.
pub const ANNOTATION_BASE_NAME: &str = "org.opencontainers.image.base.name";
/// Annotation: base image digest.
pub const ANNOTATION_BASE_DIGEST: &str = "org.opencontainers.image.base.digest";
/// Annotation: creation time.
pub const ANNOTATION_CREATED: &str = "org.opencontainers.image.created";
/// Annotation: source repository.
pub const ANNOTATION_SOURCE: &str = "org.opencontainers.image.source";
/// Annotation: source revision (the entry's `GitCommit`).
pub const ANNOTATION_REVISION: &str = "org.opencontainers.image.revision";
/// Annotation: the most specific tag.
pub const ANNOTATION_VERSION: &str = "org.opencontainers.image.version";
/// Annotation: documentation URL.
pub const ANNOTATION_URL: &str = "org.opencontainers.image.url";
/// Annotation: bashbrew architecture, on index descriptors.
pub const ANNOTATION_BASHBREW_ARCH: &str = "com.docker.official-images.bashbrew.arch";

/// Unix time of build 0 at epoch 0 (2026-08-01T00:00:00Z); later builds are later.
const FIRST_BUILD_TIME: i64 = 1_785_542_400;

/// The image an entry is built `FROM`, as Docker Hub's annotations name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseImage {
    /// `docker.io/library/debian:trixie-slim`, `mcr.microsoft.com/windows/servercore:ltsc2022`.
    pub name: String,
    /// Package URL name and version for provenance materials (`debian`, `trixie-slim`).
    pub(crate) purl: (String, String),
    /// Whether the base is Alpine (decides the SBOM's C library).
    pub(crate) alpine: bool,
}

impl BaseImage {
    /// The base of an entry, from the last component of its `Directory` (`slim-trixie`, `alpine3.23`, `trixie`,
    /// `windowsservercore-ltsc2022`).
    pub fn for_directory(directory: &str) -> Self {
        let last = directory.rsplit('/').next().unwrap_or(directory);
        let library = |repo: &str, tag: String, alpine: bool| BaseImage {
            name: format!("docker.io/library/{repo}:{tag}"),
            purl: (repo.to_owned(), tag),
            alpine,
        };
        if let Some(release) = last.strip_prefix("alpine") {
            let release = if release.is_empty() {
                "latest"
            } else {
                release
            };
            return library("alpine", release.to_owned(), true);
        }
        if let Some(release) = last.strip_prefix("windowsservercore-") {
            return BaseImage {
                name: format!("mcr.microsoft.com/windows/servercore:{release}"),
                purl: ("windows/servercore".to_owned(), release.to_owned()),
                alpine: false,
            };
        }
        if let Some(release) = last.strip_prefix("nanoserver-") {
            return BaseImage {
                name: format!("mcr.microsoft.com/windows/nanoserver:{release}"),
                purl: ("windows/nanoserver".to_owned(), release.to_owned()),
                alpine: false,
            };
        }
        if let Some(codename) = last.strip_prefix("slim-") {
            return library("debian", format!("{codename}-slim"), false);
        }
        if last == "slim" {
            return library("debian", "stable-slim".to_owned(), false);
        }
        library("buildpack-deps", last.to_owned(), false)
    }

    /// The digest this base has at a given epoch (each rebuild epoch is a new Debian/Alpine/Windows release).
    pub fn digest_at(&self, epoch: u32) -> String {
        sha256_digest(format!("pyimage-testkit base image {} epoch {epoch}", self.name).as_bytes())
    }
}

/// One platform's image of an entry.
#[derive(Debug, Clone)]
pub struct BuiltImage {
    /// Its platform.
    pub platform: Platform,
    /// Its bashbrew architecture name.
    pub bashbrew_arch: String,
    /// The image manifest.
    pub manifest: Blob,
    /// The config blob.
    pub config: Blob,
    /// The one layer.
    pub layer: Blob,
    /// The attestation manifest describing it, when the entry is built by BuildKit.
    pub attestation: Option<BuiltAttestation>,
    /// Its descriptor in the index.
    pub descriptor: Descriptor,
}

/// An attestation manifest and its blobs.
#[derive(Debug, Clone)]
pub struct BuiltAttestation {
    /// The attestation manifest.
    pub manifest: Blob,
    /// Its config blob.
    pub config: Blob,
    /// The SPDX statement layer.
    pub sbom: Blob,
    /// The SLSA provenance statement layer.
    pub provenance: Blob,
    /// Its descriptor in the index (`unknown/unknown`).
    pub descriptor: Descriptor,
}

/// Everything pushed for one library entry.
#[derive(Debug, Clone)]
pub struct BuiltEntry {
    /// The entry as read from the library file.
    pub entry: Entry,
    /// Python version (`3.12.14`, `3.15.0rc1`).
    pub python_version: String,
    /// The most specific tag.
    pub most_specific_tag: String,
    /// The base image name.
    pub base_name: String,
    /// The base image digest.
    pub base_digest: String,
    /// Build number of this entry (1 when first built; each rebuild of the same entry adds one).
    pub build: u32,
    /// The base-image epoch it was built at (decides the base digest and the SBOM's package versions).
    pub epoch: u32,
    /// `org.opencontainers.image.created`.
    pub created: String,
    /// Per-platform images, in `Architectures` order.
    pub images: Vec<BuiltImage>,
    /// The entry's own index.
    pub index: Blob,
}

impl BuiltEntry {
    /// The index descriptors of this entry: each image followed by its attestation manifest.
    pub fn descriptors(&self) -> impl Iterator<Item = &Descriptor> {
        self.images.iter().flat_map(|image| {
            std::iter::once(&image.descriptor)
                .chain(image.attestation.as_ref().map(|a| &a.descriptor))
        })
    }

    /// All blobs (configs and layers), not manifests.
    pub fn blobs(&self) -> impl Iterator<Item = &Blob> {
        self.images.iter().flat_map(|image| {
            [&image.config, &image.layer].into_iter().chain(
                image
                    .attestation
                    .iter()
                    .flat_map(|a| [&a.config, &a.sbom, &a.provenance]),
            )
        })
    }

    /// All image and attestation manifests (not the index).
    pub fn manifests(&self) -> impl Iterator<Item = &Blob> {
        self.images.iter().flat_map(|image| {
            std::iter::once(&image.manifest).chain(image.attestation.as_ref().map(|a| &a.manifest))
        })
    }
}

/// The Python version an entry ships, read from its most specific tag (`3.12.14-slim-trixie` → `3.12.14`).
pub fn python_version_of(entry: &Entry) -> Option<String> {
    let tag = entry.most_specific_tag()?;
    let version = tag.split('-').next()?;
    PythonVersion::parse(version).map(|v| v.to_string())
}

/// Every (`PYTHON_VERSION`, `PYTHON_SHA256`) pair docker-library/python's `versions.json` ever held (see
/// testdata/trust/README.md).
const PYTHON_SHA256_CSV: &str = include_str!("../../../testdata/trust/psf/python-sha256.csv");

/// The `PYTHON_SHA256` docker-library set for a CPython version; the newest when a tarball was re-uploaded.
pub fn python_sha256(version: &str) -> Option<&'static str> {
    PYTHON_SHA256_CSV
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split(',');
            Some((fields.next()?, fields.next()?))
        })
        .filter(|(v, _)| *v == version)
        .map(|(_, sha256)| sha256)
        .last()
}

/// Builds every blob and manifest of an entry.
pub fn build_entry(entry: &Entry, build: u32, epoch: u32) -> Result<BuiltEntry> {
    let most_specific_tag = entry
        .most_specific_tag()
        .with_context(|| format!("entry at line {} has no tags", entry.line))?
        .to_owned();
    let python_version =
        python_version_of(entry).unwrap_or_else(|| entry.line_directory().to_owned());
    let base = BaseImage::for_directory(&entry.directory);
    let base_digest = base.digest_at(epoch);
    let created = rfc3339(FIRST_BUILD_TIME + i64::from(epoch) * 86_400 + i64::from(build) * 3_600)?;
    let with_attestations = entry.builder.as_deref().unwrap_or("buildkit") != "classic";

    let mut built = BuiltEntry {
        entry: entry.clone(),
        python_version,
        most_specific_tag,
        base_name: base.name.clone(),
        base_digest,
        build,
        epoch,
        created,
        images: Vec::new(),
        index: Blob::new(crate::oci::OCI_INDEX, Vec::new()),
    };
    for arch in &entry.architectures {
        let platform = crate::platform::from_bashbrew(arch, &entry.directory)
            .with_context(|| format!("entry {}", built.most_specific_tag))?;
        let image = build_image(&built, &base, arch, platform, with_attestations)?;
        built.images.push(image);
    }
    built.index = ImageIndex::new(built.descriptors().cloned().collect()).to_blob();
    Ok(built)
}

fn rfc3339(unix: i64) -> Result<String> {
    let time =
        time::OffsetDateTime::from_unix_timestamp(unix).context("build time out of range")?;
    time.format(&time::format_description::well_known::Rfc3339)
        .context("formatting build time")
}

fn image_annotations(entry: &BuiltEntry) -> BTreeMap<String, String> {
    BTreeMap::from([
        (ANNOTATION_BASE_DIGEST.to_owned(), entry.base_digest.clone()),
        (ANNOTATION_BASE_NAME.to_owned(), entry.base_name.clone()),
        (ANNOTATION_CREATED.to_owned(), entry.created.clone()),
        (
            ANNOTATION_REVISION.to_owned(),
            entry.entry.git_commit.clone(),
        ),
        (ANNOTATION_SOURCE.to_owned(), SOURCE_REPOSITORY.to_owned()),
        (
            ANNOTATION_URL.to_owned(),
            "https://hub.docker.com/_/python".to_owned(),
        ),
        (
            ANNOTATION_VERSION.to_owned(),
            entry.most_specific_tag.clone(),
        ),
    ])
}

fn build_image(
    entry: &BuiltEntry,
    base: &BaseImage,
    arch: &str,
    platform: Platform,
    with_attestations: bool,
) -> Result<BuiltImage> {
    let identity = json!({
        "directory": entry.entry.directory,
        "git_commit": entry.entry.git_commit,
        "python_version": entry.python_version,
        "most_specific_tag": entry.most_specific_tag,
        "platform": platform.to_string(),
        "bashbrew_arch": arch,
        "build": entry.build,
        "base": {"name": entry.base_name, "digest": entry.base_digest},
    });
    let (layer_bytes, diff_id) = gzip_tar(&[
        (
            "usr/local/share/pyimage-testkit/image.json",
            serde_json::to_vec_pretty(&identity).context("serialising layer content")?,
        ),
        (
            "usr/local/share/pyimage-testkit/PYTHON_VERSION",
            format!("{}\n", entry.python_version).into_bytes(),
        ),
    ])?;
    let layer = Blob::new(OCI_LAYER_GZIP, layer_bytes);

    let windows = platform.os == "windows";
    let mut env = if windows {
        vec![format!("PYTHON_VERSION={}", entry.python_version)]
    } else {
        vec![
            "PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
                .to_owned(),
            "LANG=C.UTF-8".to_owned(),
            format!("PYTHON_VERSION={}", entry.python_version),
        ]
    };
    // Like docker-library's Linux Dockerfiles since October 2024: the source tarball's digest, when the release is
    // one docker-library pinned (the Windows images install python.org's .exe, another digest).
    if !windows && let Some(sha256) = python_sha256(&entry.python_version) {
        env.push(format!("PYTHON_SHA256={sha256}"));
    }
    let mut config = json!({
        "architecture": platform.architecture,
        "os": platform.os,
        "created": entry.created,
        "config": {"Env": env, "Cmd": [if windows { "python" } else { "python3" }]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{
            "created": entry.created,
            "created_by": format!("pyimage-testkit: {} build {} for {}", entry.entry.directory, entry.build, platform),
        }],
    });
    if let Some(variant) = &platform.variant {
        config["variant"] = json!(variant);
    }
    if let Some(os_version) = &platform.os_version {
        config["os.version"] = json!(os_version);
    }
    let config = Blob::json(OCI_CONFIG, &config);

    let annotations = image_annotations(entry);
    let manifest = ImageManifest::new(
        config.descriptor(),
        vec![layer.descriptor()],
        annotations.clone(),
    )
    .to_blob();
    let mut descriptor = manifest.descriptor();
    descriptor.annotations = annotations;
    descriptor
        .annotations
        .insert(ANNOTATION_BASHBREW_ARCH.to_owned(), arch.to_owned());
    descriptor.platform = Some(platform.clone());

    let attestation = with_attestations
        .then(|| build_attestation(entry, base, arch, &platform, &manifest))
        .transpose()?;
    Ok(BuiltImage {
        platform,
        bashbrew_arch: arch.to_owned(),
        manifest,
        config,
        layer,
        attestation,
        descriptor,
    })
}

/// `linux%2Farm64%2Fv8`, as BuildKit writes a platform into a package URL.
fn purl_platform(platform: &Platform) -> String {
    platform.to_string().replace('/', "%2F")
}

fn build_attestation(
    entry: &BuiltEntry,
    base: &BaseImage,
    arch: &str,
    platform: &Platform,
    image_manifest: &Blob,
) -> Result<BuiltAttestation> {
    let image_hex = image_manifest
        .digest
        .strip_prefix("sha256:")
        .unwrap_or(&image_manifest.digest);
    let base_hex = entry
        .base_digest
        .strip_prefix("sha256:")
        .unwrap_or(&entry.base_digest);
    let subject = json!([{
        "name": format!("pkg:docker/python@{}?platform={}", entry.most_specific_tag, purl_platform(platform)),
        "digest": {"sha256": image_hex},
    }]);
    let commit = &entry.entry.git_commit;
    let directory = &entry.entry.directory;
    let provenance = json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": SLSA_PROVENANCE_V02,
        "subject": subject,
        "predicate": {
            "builder": {"id": "https://github.com/docker-library"},
            "buildType": "https://mobyproject.org/buildkit@v1",
            "materials": [
                {
                    "uri": format!("pkg:docker/{}@{}?platform={}", base.purl.0, base.purl.1, purl_platform(platform)),
                    "digest": {"sha256": base_hex},
                },
            ],
            "invocation": {
                "configSource": {
                    "uri": SOURCE_REPOSITORY,
                    "digest": {"sha1": commit},
                    "entryPoint": "Dockerfile",
                },
                "parameters": {
                    "frontend": "dockerfile.v0",
                    "args": {"context": format!("{SOURCE_REPOSITORY}#{commit}:{directory}")},
                    "locals": [],
                },
                "environment": {"platform": platform.to_string()},
            },
            "metadata": {
                "buildInvocationID": hex::encode(&Sha256::digest(format!("{image_hex} invocation"))[..13]),
                "buildStartedOn": entry.created,
                "buildFinishedOn": entry.created,
                "completeness": {"parameters": true, "environment": true, "materials": false},
                "reproducible": false,
                "https://mobyproject.org/buildkit@v1#metadata": {
                    "vcs": {
                        "source": SOURCE_REPOSITORY,
                        "revision": commit,
                        "localdir:context": directory,
                        "localdir:dockerfile": directory,
                    },
                },
            },
        },
    });
    let sbom = json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": SPDX_DOCUMENT,
        "subject": subject,
        "predicate": crate::sbom::spdx_document(entry, base, platform, image_hex),
    });
    let provenance = Blob::json(IN_TOTO, &provenance);
    let sbom = Blob::json(IN_TOTO, &sbom);
    let config = Blob::json(
        OCI_CONFIG,
        &json!({
            "architecture": "unknown",
            "os": "unknown",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [sbom.digest, provenance.digest]},
        }),
    );
    let layer = |blob: &Blob, predicate: &str| {
        let mut descriptor = blob.descriptor();
        descriptor
            .annotations
            .insert(PREDICATE_TYPE.to_owned(), predicate.to_owned());
        descriptor
    };
    let manifest = ImageManifest::new(
        config.descriptor(),
        vec![
            layer(&sbom, SPDX_DOCUMENT),
            layer(&provenance, SLSA_PROVENANCE_V02),
        ],
        BTreeMap::new(),
    )
    .to_blob();
    let mut descriptor = manifest.descriptor();
    descriptor.annotations = BTreeMap::from([
        (ANNOTATION_BASHBREW_ARCH.to_owned(), arch.to_owned()),
        (REFERENCE_DIGEST.to_owned(), image_manifest.digest.clone()),
        (REFERENCE_TYPE.to_owned(), ATTESTATION_MANIFEST.to_owned()),
    ]);
    descriptor.platform = Some(crate::platform::unknown());
    Ok(BuiltAttestation {
        manifest,
        config,
        sbom,
        provenance,
        descriptor,
    })
}

/// A deterministic gzip-compressed tar of regular files (mode 0644, owner root, mtime 0), and its diff ID (the
/// digest of the uncompressed tar).
fn gzip_tar(files: &[(&str, Vec<u8>)]) -> Result<(Vec<u8>, String)> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, content) in files {
        let mut header = tar::Header::new_ustar();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, path, content.as_slice())
            .with_context(|| format!("adding {path} to a layer"))?;
    }
    let tar = builder.into_inner().context("finishing a layer tar")?;
    let diff_id = sha256_digest(&tar);
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).context("compressing a layer")?;
    Ok((gz.finish().context("compressing a layer")?, diff_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_follow_the_directory() {
        assert_eq!(
            BaseImage::for_directory("3.12/slim-trixie").name,
            "docker.io/library/debian:trixie-slim"
        );
        assert_eq!(
            BaseImage::for_directory("3.12/alpine3.23").name,
            "docker.io/library/alpine:3.23"
        );
        assert_eq!(
            BaseImage::for_directory("3.12/bookworm").name,
            "docker.io/library/buildpack-deps:bookworm"
        );
        assert_eq!(
            BaseImage::for_directory("3.14/windows/windowsservercore-ltsc2022").name,
            "mcr.microsoft.com/windows/servercore:ltsc2022"
        );
    }

    #[test]
    fn layers_are_reproducible() -> Result<()> {
        let files = [("a.txt", b"hello".to_vec())];
        assert_eq!(gzip_tar(&files)?, gzip_tar(&files)?);
        Ok(())
    }
}
