//! The provenance of an official image, read from the BuildKit attestations in its index and checked against the
//! docker-library/official-images record.
//!
//! Docker Hub's official images carry, per platform image, one attestation manifest (platform `unknown/unknown`,
//! annotation `vnd.docker.reference.digest` = the platform manifest) whose layers are in-toto statements: SLSA
//! provenance (builder, source repository and commit, Dockerfile directory, materials including the base image) and
//! an SPDX SBOM. Which attestation manifest describes which platform image is read from the index by
//! [`pyimage_model::oci::ImageIndex`]; this module parses the attestations' bytes and decides, without any I/O:
//! * whether each statement's subject is the platform manifest it is attached to;
//! * whether the commit and directory are the ones the official-images `library/python` file lists for the tag;
//! * whether the base image and revision agree with the index annotations;
//! * what changed between two builds (Python version, base image digest, commit).
//!
//! Nothing here verifies a publisher signature: official images carry none today (Docker Content Trust is retired
//! for official images and nothing replaced it). [`NO_SIGNATURE_NOTE`] says so in reports.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use pyimage_model::digest::Digest;
use pyimage_model::official_images::Library;

/// Media type of an in-toto statement layer.
pub const IN_TOTO_MEDIA_TYPE: &str = "application/vnd.in-toto+json";
/// Layer annotation naming the predicate type.
pub const PREDICATE_TYPE_ANNOTATION: &str = "in-toto.io/predicate-type";
/// SLSA provenance v0.2 (what BuildKit writes today).
pub const SLSA_PROVENANCE_V02: &str = "https://slsa.dev/provenance/v0.2";
/// SLSA provenance v1 (in-toto `predicateType`).
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
/// An SPDX SBOM document (in-toto `predicateType`).
pub const SPDX_DOCUMENT: &str = "https://spdx.dev/Document";
/// The git repository docker-library builds `library/python` from.
pub const DOCKER_LIBRARY_PYTHON_GIT: &str = "https://github.com/docker-library/python.git";
/// Index annotation: revision (the entry's `GitCommit`).
pub const ANNOTATION_REVISION: &str = "org.opencontainers.image.revision";
/// Index annotation: base image digest.
pub const ANNOTATION_BASE_DIGEST: &str = "org.opencontainers.image.base.digest";
/// Index annotation: base image name.
pub const ANNOTATION_BASE_NAME: &str = "org.opencontainers.image.base.name";
/// Index annotation: the most specific tag.
pub const ANNOTATION_VERSION: &str = "org.opencontainers.image.version";
/// BuildKit's metadata key in SLSA v0.2 provenance.
const BUILDKIT_METADATA: &str = "https://mobyproject.org/buildkit@v1#metadata";

/// The honest note every report carries.
pub const NO_SIGNATURE_NOTE: &str = "official images carry no publisher signature today: Docker Content Trust is \
retired for official images and nothing replaced it, so pyimage checks content digests, the image's own \
attestations and the public official-images record instead of a signature";

/// Why attestation content could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProvenanceError {
    /// Not JSON, or not the expected shape.
    #[error("{what} is not valid: {detail}")]
    Invalid {
        /// What was being read (`attestation manifest sha256:…`, `in-toto statement sha256:…`).
        what: String,
        /// What is wrong.
        detail: String,
    },
}

fn invalid(what: &str, detail: impl Into<String>) -> ProvenanceError {
    ProvenanceError::Invalid {
        what: what.to_owned(),
        detail: detail.into(),
    }
}

/// One in-toto layer of an attestation manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttestationLayer {
    /// Digest of the layer blob that holds the in-toto statement (`sha256:…`).
    pub digest: Digest,
    /// Layer media type.
    pub media_type: String,
    /// Predicate type from the layer annotation, when present.
    pub predicate_type: Option<String>,
    /// Size in bytes.
    pub size: u64,
}

#[derive(Deserialize)]
struct RawManifest {
    #[serde(default)]
    layers: Vec<RawLayer>,
}

#[derive(Deserialize)]
struct RawLayer {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// The in-toto layers of an attestation manifest (other layers are ignored).
pub fn attestation_layers(
    body: &[u8],
    what: &str,
) -> Result<Vec<AttestationLayer>, ProvenanceError> {
    let manifest: RawManifest = serde_json::from_slice(body)
        .map_err(|e| invalid(what, format!("not an image manifest: {e}")))?;
    let mut layers = Vec::new();
    for layer in manifest.layers {
        if layer.media_type != IN_TOTO_MEDIA_TYPE {
            continue;
        }
        let digest = Digest::parse(&layer.digest)
            .map_err(|e| invalid(what, format!("layer digest {:?}: {e}", layer.digest)))?;
        layers.push(AttestationLayer {
            digest,
            media_type: layer.media_type,
            predicate_type: layer.annotations.get(PREDICATE_TYPE_ANNOTATION).cloned(),
            size: layer.size,
        });
    }
    Ok(layers)
}

/// The subject of a statement: what it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subject {
    /// `pkg:docker/python@3.12.14-slim-trixie?platform=linux%2Famd64`.
    pub name: Option<String>,
    /// Its sha256 digest.
    pub digest: Option<Digest>,
}

/// An in-toto statement (v0.1 or v1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    /// `_type`.
    pub statement_type: String,
    /// `predicateType`.
    pub predicate_type: String,
    /// `subject`.
    pub subjects: Vec<Subject>,
    /// `predicate`, unparsed.
    #[serde(skip)]
    pub predicate: Value,
}

impl Statement {
    /// Parses a statement.
    pub fn parse(bytes: &[u8], what: &str) -> Result<Statement, ProvenanceError> {
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| invalid(what, format!("not JSON: {e}")))?;
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        let statement_type = text("_type").ok_or_else(|| invalid(what, "no _type"))?;
        if !statement_type.starts_with("https://in-toto.io/Statement/") {
            return Err(invalid(
                what,
                format!("_type {statement_type:?} is not an in-toto statement"),
            ));
        }
        let predicate_type =
            text("predicateType").ok_or_else(|| invalid(what, "no predicateType"))?;
        let subjects = value
            .get("subject")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid(what, "no subject list"))?
            .iter()
            .map(|s| Subject {
                name: s.get("name").and_then(Value::as_str).map(str::to_owned),
                digest: s
                    .pointer("/digest/sha256")
                    .and_then(Value::as_str)
                    .and_then(|hex| Digest::sha256_from_hex(hex).ok()),
            })
            .collect();
        Ok(Statement {
            statement_type,
            predicate_type,
            subjects,
            predicate: value.get("predicate").cloned().unwrap_or(Value::Null),
        })
    }

    /// Whether one of the subjects is `digest`.
    pub fn is_about(&self, digest: &Digest) -> bool {
        self.subjects
            .iter()
            .any(|s| s.digest.as_ref() == Some(digest))
    }
}

/// One material (build input) of a provenance statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Material {
    /// `pkg:docker/debian@trixie-slim?platform=linux%2Famd64`, a git URL, …
    pub uri: String,
    /// Its sha256 digest, when given.
    pub digest: Option<Digest>,
}

impl Material {
    /// Whether this material is a container image (`pkg:docker/…`).
    pub fn is_image(&self) -> bool {
        self.uri.starts_with("pkg:docker/")
    }
}

/// What SLSA provenance says about a build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlsaProvenance {
    /// Predicate type (v0.2 or v1).
    pub predicate_type: String,
    /// `builder.id`.
    pub builder_id: Option<String>,
    /// `buildType`.
    pub build_type: Option<String>,
    /// Source repository (`configSource.uri`).
    pub source: Option<String>,
    /// Source commit (`configSource.digest.sha1`).
    pub commit: Option<String>,
    /// Dockerfile name (`configSource.entryPoint`).
    pub entry_point: Option<String>,
    /// Dockerfile directory: from the git build context `…git#<commit>:<dir>`, else BuildKit's
    /// `vcs."localdir:dockerfile"`.
    pub directory: Option<String>,
    /// Build inputs (`materials`, or v1's `resolvedDependencies`): base image, sources.
    pub materials: Vec<Material>,
}

impl SlsaProvenance {
    /// Reads a SLSA provenance statement (v0.2 or v1); `None` for other predicate types.
    pub fn from_statement(statement: &Statement) -> Option<SlsaProvenance> {
        let p = &statement.predicate;
        let text = |pointer: &str| {
            p.pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let materials = |key: &str| -> Vec<Material> {
            p.pointer(key)
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|m| {
                            Some(Material {
                                uri: m.get("uri")?.as_str()?.to_owned(),
                                digest: m
                                    .pointer("/digest/sha256")
                                    .and_then(Value::as_str)
                                    .and_then(|hex| Digest::sha256_from_hex(hex).ok()),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        match statement.predicate_type.as_str() {
            SLSA_PROVENANCE_V02 => {
                let context = text("/invocation/parameters/args/context");
                let vcs_dir = p
                    .get("metadata")
                    .and_then(|m| m.get(BUILDKIT_METADATA))
                    .and_then(|m| m.pointer("/vcs/localdir:dockerfile"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let vcs_revision = p
                    .get("metadata")
                    .and_then(|m| m.get(BUILDKIT_METADATA))
                    .and_then(|m| m.pointer("/vcs/revision"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                Some(SlsaProvenance {
                    predicate_type: statement.predicate_type.clone(),
                    builder_id: text("/builder/id"),
                    build_type: text("/buildType"),
                    source: text("/invocation/configSource/uri"),
                    commit: text("/invocation/configSource/digest/sha1").or(vcs_revision),
                    entry_point: text("/invocation/configSource/entryPoint"),
                    directory: context
                        .as_deref()
                        .and_then(git_context_directory)
                        .or(vcs_dir),
                    materials: materials("/materials"),
                })
            }
            SLSA_PROVENANCE_V1 => {
                let source = text("/buildDefinition/externalParameters/configSource/uri");
                let context = text("/buildDefinition/externalParameters/request/args/context");
                Some(SlsaProvenance {
                    predicate_type: statement.predicate_type.clone(),
                    builder_id: text("/runDetails/builder/id"),
                    build_type: text("/buildDefinition/buildType"),
                    source,
                    commit: text("/buildDefinition/externalParameters/configSource/digest/sha1"),
                    entry_point: text("/buildDefinition/externalParameters/configSource/path"),
                    directory: context.as_deref().and_then(git_context_directory),
                    materials: materials("/buildDefinition/resolvedDependencies"),
                })
            }
            _ => None,
        }
    }

    /// The base image: the first `pkg:docker/…` material.
    pub fn base_image(&self) -> Option<&Material> {
        self.materials.iter().find(|m| m.is_image())
    }
}

/// The directory of a BuildKit git context `https://…/repo.git#<ref>:<dir>`.
pub fn git_context_directory(context: &str) -> Option<String> {
    let (_, fragment) = context.split_once('#')?;
    let (_, directory) = fragment.split_once(':')?;
    (!directory.is_empty()).then(|| directory.trim_matches('/').to_owned())
}

/// What an SPDX SBOM says, in short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SbomSummary {
    /// `spdxVersion`.
    pub spdx_version: Option<String>,
    /// Number of packages.
    pub packages: usize,
    /// `versionInfo` of the package named `python`, when listed.
    pub python: Option<String>,
}

impl SbomSummary {
    /// Reads an SPDX statement; `None` for other predicate types.
    pub fn from_statement(statement: &Statement) -> Option<SbomSummary> {
        if statement.predicate_type != SPDX_DOCUMENT {
            return None;
        }
        let p = &statement.predicate;
        let packages = p.get("packages").and_then(Value::as_array);
        let python = packages.and_then(|list| {
            list.iter()
                .find(|pkg| pkg.get("name").and_then(Value::as_str) == Some("python"))
                .and_then(|pkg| pkg.get("versionInfo").and_then(Value::as_str))
                .map(str::to_owned)
        });
        Some(SbomSummary {
            spdx_version: p
                .get("spdxVersion")
                .and_then(Value::as_str)
                .map(str::to_owned),
            packages: packages.map_or(0, Vec::len),
            python,
        })
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The evidence agrees.
    Match,
    /// The evidence disagrees: a failure.
    Mismatch,
    /// The official-images record does not list what the provenance names.
    NotListed,
    /// Could not be checked (no attestation, no record given); not a failure by itself.
    Unchecked,
}

impl Outcome {
    /// Whether the outcome is a failure.
    pub fn is_failure(self) -> bool {
        matches!(self, Outcome::Mismatch | Outcome::NotListed)
    }
}

/// One check and its result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `subject`, `official-images`, `source`, `revision-annotation`, `base-image`, `python-version`.
    pub name: &'static str,
    /// Its outcome: match, mismatch, not listed or unchecked.
    pub outcome: Outcome,
    /// What was compared.
    pub detail: String,
}

/// What else is known about a platform image, to compare the attestations with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectations {
    /// The tag the image was resolved from (for the official-images record).
    pub tag: Option<String>,
    /// `org.opencontainers.image.revision` of the platform descriptor.
    pub revision: Option<String>,
    /// `org.opencontainers.image.base.digest` of the platform descriptor.
    pub base_digest: Option<String>,
    /// Python version the image says it has (`PYTHON_VERSION`), when known.
    pub python_version: Option<String>,
}

/// The provenance of one platform image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformProvenance {
    /// `linux/amd64`.
    pub platform: String,
    /// The digest of the platform image's manifest (`sha256:…`).
    pub manifest: Digest,
    /// The attestation manifest describing it (none: the image has no attestations).
    pub attestation: Option<Digest>,
    /// The SLSA provenance, when present.
    pub provenance: Option<SlsaProvenance>,
    /// The SBOM summary, when present.
    pub sbom: Option<SbomSummary>,
    /// The `predicateType` of each statement read (`https://slsa.dev/provenance/v0.2`, …).
    pub predicate_types: Vec<String>,
    /// The checks, in a fixed order.
    pub checks: Vec<Check>,
}

impl PlatformProvenance {
    /// Whether any check failed.
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.outcome.is_failure())
    }

    /// The base image digest the provenance names.
    pub fn base_digest(&self) -> Option<&Digest> {
        self.provenance
            .as_ref()
            .and_then(SlsaProvenance::base_image)
            .and_then(|m| m.digest.as_ref())
    }
}

/// Assesses one platform image from its attestation statements. `statements` are the parsed in-toto layers of
/// the attestation manifest `attestation` (empty and `None` when the image has none); `others` maps the digests of
/// the index's other platform images to their platform, so a subject naming another platform is named as such.
pub fn assess_platform(
    platform: &str,
    manifest: &Digest,
    attestation: Option<&Digest>,
    statements: &[Statement],
    others: &BTreeMap<Digest, String>,
    library: Option<&Library>,
    expect: &Expectations,
) -> PlatformProvenance {
    let provenance = statements.iter().find_map(SlsaProvenance::from_statement);
    let sbom = statements.iter().find_map(SbomSummary::from_statement);
    let mut checks = Vec::new();

    // 1. Subjects.
    if attestation.is_none() {
        checks.push(Check {
            name: "attestations",
            outcome: Outcome::Unchecked,
            detail: "the index has no attestation manifest for this image (Docker Hub builds Windows images \
                     without BuildKit attestations)"
                .to_owned(),
        });
    } else if statements.is_empty() {
        checks.push(Check {
            name: "attestations",
            outcome: Outcome::Mismatch,
            detail: "the attestation manifest holds no in-toto statement".to_owned(),
        });
    }
    for statement in statements {
        let short = short_predicate(&statement.predicate_type);
        let (outcome, detail) = if statement.is_about(manifest) {
            (
                Outcome::Match,
                format!("{short} statement is about {manifest}"),
            )
        } else {
            let named: Vec<String> = statement
                .subjects
                .iter()
                .map(|s| match &s.digest {
                    Some(d) => match others.get(d) {
                        Some(p) => format!("{d} (the {p} image)"),
                        None => d.to_string(),
                    },
                    None => "a subject without sha256".to_owned(),
                })
                .collect();
            (
                Outcome::Mismatch,
                format!(
                    "{short} statement is about {}, not the {platform} manifest {manifest} it is attached to",
                    if named.is_empty() {
                        "nothing".to_owned()
                    } else {
                        named.join(", ")
                    }
                ),
            )
        };
        checks.push(Check {
            name: "subject",
            outcome,
            detail,
        });
    }
    if attestation.is_some() && !statements.is_empty() && provenance.is_none() {
        checks.push(Check {
            name: "provenance",
            outcome: Outcome::Mismatch,
            detail: "no SLSA provenance statement among the attestations".to_owned(),
        });
    }

    if let Some(prov) = &provenance {
        // 2. Source repository.
        let (outcome, detail) = match &prov.source {
            Some(source) if same_git_repo(source, DOCKER_LIBRARY_PYTHON_GIT) => {
                (Outcome::Match, format!("built from {source}"))
            }
            Some(source) => (
                Outcome::Mismatch,
                format!("built from {source}, not {DOCKER_LIBRARY_PYTHON_GIT}"),
            ),
            None => (
                Outcome::Mismatch,
                "provenance names no source repository".to_owned(),
            ),
        };
        checks.push(Check {
            name: "source",
            outcome,
            detail,
        });
        // 3. Official-images record.
        checks.push(official_images_check(library, expect.tag.as_deref(), prov));
        // 4. Revision annotation.
        if let Some(revision) = &expect.revision {
            let same = prov.commit.as_deref() == Some(revision.as_str());
            checks.push(Check {
                name: "revision-annotation",
                outcome: if same {
                    Outcome::Match
                } else {
                    Outcome::Mismatch
                },
                detail: format!(
                    "index annotation revision {revision}, provenance commit {}",
                    prov.commit.as_deref().unwrap_or("none")
                ),
            });
        }
        // 5. Base image.
        if let Some(base) = &expect.base_digest {
            let named = prov.base_image().and_then(|m| m.digest.as_ref());
            let same = named.is_some_and(|d| d.as_str() == base);
            checks.push(Check {
                name: "base-image",
                outcome: if same {
                    Outcome::Match
                } else {
                    Outcome::Mismatch
                },
                detail: format!(
                    "index annotation base digest {base}, provenance material {}",
                    named.map_or_else(|| "none".to_owned(), ToString::to_string)
                ),
            });
        }
    }
    // 6. Python version in the SBOM.
    if let (Some(sbom), Some(expected)) = (&sbom, &expect.python_version) {
        let same = sbom.python.as_deref() == Some(expected.as_str());
        checks.push(Check {
            name: "python-version",
            outcome: if same {
                Outcome::Match
            } else {
                Outcome::Mismatch
            },
            detail: format!(
                "image says Python {expected}, SBOM lists python {}",
                sbom.python.as_deref().unwrap_or("(absent)")
            ),
        });
    }
    PlatformProvenance {
        platform: platform.to_owned(),
        manifest: manifest.clone(),
        attestation: attestation.cloned(),
        provenance,
        sbom,
        predicate_types: statements
            .iter()
            .map(|s| s.predicate_type.clone())
            .collect(),
        checks,
    }
}

fn short_predicate(predicate_type: &str) -> &str {
    match predicate_type {
        SLSA_PROVENANCE_V02 => "SLSA provenance v0.2",
        SLSA_PROVENANCE_V1 => "SLSA provenance v1",
        SPDX_DOCUMENT => "SPDX SBOM",
        other => other,
    }
}

/// Whether two git URLs name the same repository (`.git` suffix, trailing slash and case of the host ignored).
pub fn same_git_repo(a: &str, b: &str) -> bool {
    fn canonical(url: &str) -> String {
        let url = url.trim().trim_end_matches('/');
        let url = url.strip_suffix(".git").unwrap_or(url);
        url.to_ascii_lowercase()
    }
    canonical(a) == canonical(b)
}

/// Compares the provenance's commit and directory with the official-images record.
pub fn official_images_check(
    library: Option<&Library>,
    tag: Option<&str>,
    prov: &SlsaProvenance,
) -> Check {
    let name = "official-images";
    let Some(library) = library else {
        return Check {
            name,
            outcome: Outcome::Unchecked,
            detail: "no official-images library/python record was given".to_owned(),
        };
    };
    let (Some(commit), Some(directory)) = (prov.commit.as_deref(), prov.directory.as_deref())
    else {
        return Check {
            name,
            outcome: Outcome::Mismatch,
            detail: format!(
                "provenance names commit {} and directory {}: both are needed",
                prov.commit.as_deref().unwrap_or("(none)"),
                prov.directory.as_deref().unwrap_or("(none)")
            ),
        };
    };
    let matches = |e: &pyimage_model::official_images::Entry| {
        e.git_commit.eq_ignore_ascii_case(commit) && e.directory.trim_matches('/') == directory
    };
    if let Some(tag) = tag
        && let Some(family) = library.family(tag)
    {
        if let Some(entry) = family.entries.iter().find(|e| matches(e)) {
            return Check {
                name,
                outcome: Outcome::Match,
                detail: format!(
                    "tag {tag} is listed with GitCommit {} Directory {} (line {})",
                    entry.git_commit, entry.directory, entry.line
                ),
            };
        }
        let expected: Vec<String> = family
            .entries
            .iter()
            .map(|e| format!("GitCommit {} Directory {}", e.git_commit, e.directory))
            .collect();
        return Check {
            name,
            outcome: Outcome::Mismatch,
            detail: format!(
                "provenance says commit {commit} directory {directory}; official-images lists tag {tag} with {}",
                expected.join(" / ")
            ),
        };
    }
    match library.entries.iter().find(|e| matches(e)) {
        Some(entry) => Check {
            name,
            outcome: if tag.is_some() {
                Outcome::NotListed
            } else {
                Outcome::Match
            },
            detail: match tag {
                Some(tag) => format!(
                    "official-images does not list tag {tag}; commit {commit} directory {directory} is listed for {}",
                    entry.tags.join(", ")
                ),
                None => format!(
                    "commit {commit} directory {directory} is listed for {}",
                    entry.tags.join(", ")
                ),
            },
        },
        None => Check {
            name,
            outcome: Outcome::NotListed,
            detail: format!(
                "official-images does not list commit {commit} directory {directory}{}",
                tag.map(|t| format!(" (nor tag {t})")).unwrap_or_default()
            ),
        },
    }
}

/// One difference between two builds of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// `python`, `base-image`, `commit`, `directory`.
    pub what: &'static str,
    /// The value in the older build (`3.12.13`, a digest, a commit or a directory, per `what`).
    pub from: String,
    /// The value in the newer build, in the same form.
    pub to: String,
}

/// What changed between an older and a newer build of the same platform (from their attestations).
pub fn changes(old: &PlatformProvenance, new: &PlatformProvenance) -> Vec<Change> {
    let mut out = Vec::new();
    let mut push = |what, a: Option<String>, b: Option<String>| {
        if let (Some(from), Some(to)) = (a, b)
            && from != to
        {
            out.push(Change { what, from, to });
        }
    };
    push(
        "python",
        old.sbom.as_ref().and_then(|s| s.python.clone()),
        new.sbom.as_ref().and_then(|s| s.python.clone()),
    );
    push(
        "base-image",
        old.base_digest().map(ToString::to_string),
        new.base_digest().map(ToString::to_string),
    );
    push(
        "commit",
        old.provenance.as_ref().and_then(|p| p.commit.clone()),
        new.provenance.as_ref().and_then(|p| p.commit.clone()),
    );
    push(
        "directory",
        old.provenance.as_ref().and_then(|p| p.directory.clone()),
        new.provenance.as_ref().and_then(|p| p.directory.clone()),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_context_directory_is_after_the_colon() {
        assert_eq!(
            git_context_directory(
                "https://github.com/docker-library/python.git#abc:3.12/slim-trixie"
            ),
            Some("3.12/slim-trixie".to_owned())
        );
        assert_eq!(git_context_directory("https://x.git#abc"), None);
        assert_eq!(git_context_directory("https://x.git"), None);
    }

    #[test]
    fn git_repos_compare_loosely() {
        assert!(same_git_repo(
            "https://github.com/docker-library/python",
            "https://github.com/docker-library/python.git/"
        ));
        assert!(!same_git_repo(
            "https://github.com/evil/python.git",
            DOCKER_LIBRARY_PYTHON_GIT
        ));
    }

    #[test]
    fn statements_reject_non_in_toto() {
        assert!(Statement::parse(b"{}", "x").is_err());
        assert!(Statement::parse(b"[", "x").is_err());
        assert!(
            Statement::parse(
                br#"{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"p","subject":[]}"#,
                "x"
            )
            .is_ok()
        );
    }
}
