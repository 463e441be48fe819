//! The verifier: is a local image the official Python image — current, stale, locked, a faithful copy from a
//! mirror, or untrusted — and what do its attestations say? Images come from the Docker Engine API or from saved
//! `docker image inspect` JSON; Docker Hub is asked directly (the caller builds the client without mirrors: a
//! mirror cannot vouch for what `docker.io/library/python` serves). The verdict itself is pure
//! (`pyimage_policy::verify::decide`).

use std::time::Duration;

use futures_util::StreamExt;
use pyimage_engine::{EngineAddress, EngineClient, ImageInspect};
use pyimage_model::Library;
use pyimage_model::Reference;
use pyimage_model::lock::Lock;
use pyimage_policy::chain::IdCheck;
use pyimage_policy::provenance::{self, Change, PlatformProvenance};
use pyimage_policy::verify::{
    self, Assessment, LocalImage, OFFICIAL_REPOSITORY, Requirement, Served, TagNow, Upstream,
    Verdict,
};
use pyimage_registry::{RegistryClient, RegistryError, ResolveRequest};
use serde::Serialize;

use crate::error::{ErrorKind, ServiceError};
use crate::provenance::{Index, Record, platform_provenance};
use crate::python_release::{PythonRelease, ReleaseSignatures};
use pyimage_trust::psf::LinkStatus;

/// Where the local images come from.
#[derive(Debug)]
pub enum ImageSource {
    /// Saved `docker image inspect` JSON: where it was read from, and the images in it.
    Inspect {
        /// `standard input` or the file name.
        what: String,
        /// The images it holds, in file order.
        images: Vec<ImageInspect>,
    },
    /// The Docker Engine API at `DOCKER_HOST` (its value; `None` for the default socket).
    Engine {
        /// The `DOCKER_HOST` value (`unix:///run/user/1000/docker.sock`); `None` for the default socket.
        docker_host: Option<String>,
    },
}

/// What to verify and how strictly.
#[derive(Debug, Clone)]
pub struct VerifyRequest {
    /// Images named by the user (references or image IDs); with inspect JSON, none means all of them.
    pub names: Vec<String>,
    /// What every image must be.
    pub requirement: Requirement,
    /// Whether to read the image's attestations.
    pub provenance: bool,
    /// How to check the PSF's signature on the image's CPython release; `None` skips it.
    pub release_signatures: Option<ReleaseSignatures>,
    /// The `[[trust.signatures]]` policy, its keys and the environment whose rules apply; `None` checks none.
    pub signatures: Option<SignaturePolicy>,
}

/// What `verify` needs to check cosign signatures.
#[derive(Debug, Clone)]
pub struct SignaturePolicy {
    /// The policy (its signature rules and key fingerprints).
    pub policy: pyimage_policy::check::Policy,
    /// The keys.
    pub keyring: crate::signatures::Keyring,
    /// The environment whose rules apply (`--env`, else the policy's default environment).
    pub environment: String,
}

/// The verification of one image.
#[derive(Debug, Serialize)]
pub struct ImageVerification {
    /// The name the user gave (or the image's first tag or ID).
    pub input: String,
    /// The image ID (`sha256:…` of its config), when the image was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Why it could not be verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether the image meets the requirement.
    pub ok: bool,
    /// Its platform, `os/architecture[/variant]` (`linux/arm64/v8`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The verdict and its reasons.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub assessment: Option<Assessment>,
    /// What the attestations of its platform say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<PlatformProvenance>,
    /// The PSF link: python.org's Sigstore signature on the CPython release the image was built from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub python_release: Option<PythonRelease>,
    /// The cosign signature a `[[trust.signatures]]` rule asks of the image, when one applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<pyimage_policy::signatures::SignatureCheck>,
    /// For a stale image: what changed in the build the tag names now.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    /// Anything else worth knowing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Whose problem the error is, when there is one.
    #[serde(skip)]
    pub error_kind: Option<ErrorKind>,
    /// What the engine or inspect file said about the image (for the chain view: its names).
    #[serde(skip)]
    pub local: Option<LocalImage>,
    /// The image ID compared with the config of the manifest Docker Hub serves, or for a signed copy Docker Hub does
    /// not serve, of the signed manifest (the problem is also in `notes`).
    #[serde(skip)]
    pub id_check: Option<IdCheck>,
}

/// Every image verified.
#[derive(Debug)]
pub struct Verification {
    /// Where the images came from, for people.
    pub source: String,
    /// One verification per image.
    pub images: Vec<ImageVerification>,
}

impl Verification {
    /// What the run exits with: an image that could not be found or read is input (2), a registry that could not
    /// answer is 3, an image that misses the requirement is policy (1).
    pub fn outcome(&self) -> Option<ErrorKind> {
        let has = |kind: ErrorKind| self.images.iter().any(|i| i.error_kind == Some(kind));
        if has(ErrorKind::Input) {
            Some(ErrorKind::Input)
        } else if has(ErrorKind::Unreachable)
            || self.images.iter().any(|i| {
                i.assessment
                    .as_ref()
                    .is_some_and(|a| a.verdict == Verdict::Unknown)
            })
        {
            Some(ErrorKind::Unreachable)
        } else if self.images.iter().any(|i| !i.ok) {
            Some(ErrorKind::Policy)
        } else {
            None
        }
    }
}

/// Why an image could not be verified at all, and whose problem that is.
type Unverifiable = (ErrorKind, String);

/// Verifies the images of `source` against Docker Hub (through `client`), `lock` and the official-images record.
pub async fn verify_images(
    client: &RegistryClient,
    source: ImageSource,
    request: &VerifyRequest,
    lock: Option<&Lock>,
    record: &Record,
) -> Result<Verification, ServiceError> {
    // 1. The images.
    let mut found: Vec<(String, Result<ImageInspect, Unverifiable>)> = Vec::new();
    let source = match source {
        ImageSource::Inspect { what, images } => {
            if request.names.is_empty() {
                for image in images {
                    let input = image
                        .repo_tags
                        .first()
                        .cloned()
                        .unwrap_or_else(|| image.id.clone());
                    found.push((input, Ok(image)));
                }
            } else {
                for name in &request.names {
                    let matching: Vec<&ImageInspect> =
                        images.iter().filter(|i| names_image(name, i)).collect();
                    let outcome = match matching.as_slice() {
                        [one] => Ok((*one).clone()),
                        [] => Err((
                            ErrorKind::Input,
                            format!("{what} has no image named {name}"),
                        )),
                        _ => Err((
                            ErrorKind::Input,
                            format!(
                                "{name} names {} images in {what}: use an image ID",
                                matching.len()
                            ),
                        )),
                    };
                    found.push((name.clone(), outcome));
                }
            }
            format!("docker image inspect JSON ({what})")
        }
        ImageSource::Engine { docker_host } => {
            let address = EngineAddress::from_docker_host(docker_host.as_deref())
                .map_err(|e| ServiceError::input(e.to_string()))?;
            let engine = EngineClient::new(address.clone(), Duration::from_secs(30))
                .map_err(|e| ServiceError::input(e.to_string()))?;
            engine
                .ping()
                .await
                .map_err(|e| ServiceError::unreachable(e.to_string()))?;
            for name in &request.names {
                let outcome = match engine.inspect_image(name).await {
                    Ok(Some(image)) => Ok(image),
                    Ok(None) => Err((
                        ErrorKind::Input,
                        format!(
                            "the Docker engine at {address} has no image {name} (pull it first, or check the name)"
                        ),
                    )),
                    Err(error) if error.is_unreachable() => {
                        Err((ErrorKind::Unreachable, error.to_string()))
                    }
                    Err(error) => Err((ErrorKind::Input, error.to_string())),
                };
                found.push((name.clone(), outcome));
            }
            format!("Docker engine at {address}")
        }
    };

    // 2. Each image: plan, ask, decide, provenance.
    let images = futures_util::stream::iter(found)
        .map(|(input, outcome)| async move {
            match outcome {
                Ok(image) => verify_one(client, &input, &image, lock, request, record).await,
                Err((kind, message)) => ImageVerification {
                    input,
                    id: None,
                    error: Some(message),
                    ok: false,
                    platform: None,
                    assessment: None,
                    provenance: None,
                    python_release: None,
                    signature: None,
                    changes: Vec::new(),
                    notes: Vec::new(),
                    error_kind: Some(kind),
                    local: None,
                    id_check: None,
                },
            }
        })
        .buffered(4)
        .collect()
        .await;
    Ok(Verification { source, images })
}

fn to_local(image: &ImageInspect) -> LocalImage {
    LocalImage {
        id: image.id.clone(),
        repo_tags: image.repo_tags.clone(),
        repo_digests: image.repo_digests.clone(),
        platform: image.platform(),
        python_version: image.env("PYTHON_VERSION").map(str::to_owned),
    }
}

/// Whether a name the user typed names this image (ID, ID prefix, or one of its tags or digests).
fn names_image(name: &str, image: &ImageInspect) -> bool {
    if image.id_matches(name) {
        return true;
    }
    let Ok(wanted) = Reference::parse_normalized(name) else {
        return false;
    };
    let wanted = wanted.to_string();
    image
        .repo_tags
        .iter()
        .chain(&image.repo_digests)
        .filter_map(|n| Reference::parse_normalized(n).ok())
        .any(|r| r.to_string() == wanted)
}

fn official_repository() -> Result<Reference, RegistryError> {
    Reference::parse_normalized(OFFICIAL_REPOSITORY)
        .map_err(|e| RegistryError::Config(format!("{OFFICIAL_REPOSITORY}: {e}")))
}

async fn ask(client: &RegistryClient, repository: &Reference, plan: &verify::Plan) -> Upstream {
    let mut upstream = Upstream::default();
    for digest in &plan.digests {
        let reference = repository.with_verified_digest(digest.clone());
        let served = match client.resolve(&reference, &ResolveRequest::default()).await {
            Ok(r) if r.digest == *digest => Served::Yes,
            Ok(r) => Served::Error(format!(
                "{} answered {} when asked for {digest}",
                r.registry, r.digest
            )),
            Err(RegistryError::NotFound { .. }) => Served::No,
            Err(error) => Served::Error(error.to_string()),
        };
        upstream.served.insert(digest.clone(), served);
    }
    for tag in &plan.tags {
        let now = match repository.with_tag(tag) {
            Err(_) => TagNow::Missing,
            Ok(reference) => match client.resolve(&reference, &ResolveRequest::default()).await {
                Ok(r) => TagNow::Digest(r.digest),
                Err(RegistryError::NotFound { .. }) => TagNow::Missing,
                Err(error) => TagNow::Error(error.to_string()),
            },
        };
        upstream.current.insert(tag.clone(), now);
    }
    upstream
}

async fn verify_one(
    client: &RegistryClient,
    input: &str,
    image: &ImageInspect,
    lock: Option<&Lock>,
    request: &VerifyRequest,
    record: &Record,
) -> ImageVerification {
    let local = to_local(image);
    let requested = if image.id_matches(input) {
        None
    } else {
        Reference::parse_normalized(input).ok()
    };
    let plan = verify::plan(&local, requested.as_ref());
    let upstream = match official_repository() {
        Ok(repository) => ask(client, &repository, &plan).await,
        Err(error) => Upstream {
            served: plan
                .digests
                .iter()
                .map(|d| (d.clone(), Served::Error(error.to_string())))
                .collect(),
            current: Default::default(),
        },
    };
    let assessment = verify::decide(&local, requested.as_ref(), &upstream, lock);
    let mut report = ImageVerification {
        input: input.to_owned(),
        id: Some(image.id.clone()),
        error: None,
        error_kind: None,
        ok: request.requirement.accepts(&assessment),
        platform: local.platform.clone(),
        assessment: None,
        provenance: None,
        python_release: None,
        signature: None,
        changes: Vec::new(),
        notes: Vec::new(),
        local: Some(local.clone()),
        id_check: None,
    };
    if let Some(signatures) = &request.release_signatures {
        let link = signatures
            .check(
                client,
                local.platform.as_deref().and_then(|p| p.split('/').next()),
                local.python_version.as_deref(),
                image.env("PYTHON_SHA256"),
            )
            .await;
        // Evidence against the release fails the image whatever the requirement; no evidence fails nothing.
        if link.status == LinkStatus::Broken {
            report.ok = false;
            report.notes.push(format!(
                "the CPython inside is not the release the PSF signed: {}",
                link.describe()
            ));
        }
        report.python_release = Some(link);
    }
    let wants_provenance = request.provenance
        && (assessment.official || assessment.faithful_copy == Some(true))
        && assessment.digest.is_some();
    if wants_provenance {
        match image_provenance(client, &local, &assessment, record).await {
            Ok((provenance, changes, notes)) => {
                if provenance.as_ref().is_some_and(PlatformProvenance::failed) {
                    report.ok = false;
                    report.notes.push(
                        "the image's attestations do not check out (see provenance)".to_owned(),
                    );
                }
                report.provenance = provenance;
                report.changes = changes;
                report.notes.extend(notes);
            }
            Err(error) => report.notes.push(format!("provenance not read: {error}")),
        }
        // Attestations that could not be read vouch for nothing: not ok when the image must be official-current.
        // A Linux image of an official index without an attestation manifest counts the same (Docker Hub attests
        // every Linux build; only Windows images come without).
        let unattested = report.provenance.as_ref().is_none_or(|provenance| {
            provenance.attestation.is_none() && !provenance.platform.starts_with("windows")
        });
        if unattested && request.requirement == Requirement::OfficialCurrent {
            report.ok = false;
            report.notes.push(
                "--require official-current: the attestations could not be read, so the image is not vouched for"
                    .to_owned(),
            );
        }
    }
    if let Some(signatures) = &request.signatures {
        signature_check(
            client,
            &local,
            &assessment,
            request,
            signatures,
            &mut report,
        )
        .await;
    }
    // The engine (or inspect file) says which image this is; Docker Hub's manifest says which config it has.
    if (assessment.official || assessment.faithful_copy == Some(true))
        && let Some(digest) = &assessment.digest
    {
        let problem = match official_repository() {
            Ok(repository) => image_id_check(client, &repository, &local, digest).await,
            Err(error) => Err(error),
        };
        let (problem, check) = match problem {
            Ok(None) => (None, IdCheck::Same),
            Ok(Some(problem)) => (Some(problem.clone()), IdCheck::Differs(problem)),
            Err(error) => {
                let problem = format!("the image ID could not be cross-checked: {error}");
                (Some(problem.clone()), IdCheck::Unchecked(problem))
            }
        };
        report.id_check = Some(check);
        if let Some(problem) = problem {
            report.ok = false;
            report.notes.push(problem);
        }
    }
    report.assessment = Some(assessment);
    report
}

/// The cosign signature the first `[[trust.signatures]]` rule covering one of the image's RepoDigests asks for,
/// read at that repository. A refusal fails the image whatever the requirement. An accepted signature is the other
/// half of the faithful-copy rule: a copy in a private registry whose digest Docker Hub does not serve (the
/// organisation's own build or re-push) meets `--require faithful` when it carries the organisation's signature —
/// and then its image ID must be the config of the signed manifest, as an official image's must be Docker Hub's.
async fn signature_check(
    client: &RegistryClient,
    local: &LocalImage,
    assessment: &Assessment,
    request: &VerifyRequest,
    signatures: &SignaturePolicy,
    report: &mut ImageVerification,
) {
    use pyimage_policy::signatures::SignatureVerdict;
    let covered = local.repo_digests.iter().find_map(|text| {
        let reference = Reference::parse_normalized(text).ok()?;
        let digest = reference.digest()?.clone();
        let rule = signatures
            .policy
            .signature_rule(&signatures.environment, &reference)?;
        Some((reference, digest, rule))
    });
    let Some((reference, digest, rule)) = covered else {
        return;
    };
    let check = signatures
        .keyring
        .check(
            client,
            &signatures.policy,
            &reference.repository(),
            &digest,
            rule,
        )
        .await;
    match check.judgement.verdict {
        SignatureVerdict::Accepted => {
            let unproven_copy = !assessment.official && assessment.faithful_copy != Some(true);
            if unproven_copy && request.requirement == Requirement::Faithful {
                match image_id_check(client, &reference.repository(), local, &digest).await {
                    Ok(None) => {
                        report.id_check = Some(IdCheck::Same);
                        report.ok = true;
                        report.notes.push(format!(
                            "accepted as the organisation's copy: Docker Hub does not serve {digest}, but it is {}",
                            check.judgement.message
                        ));
                    }
                    Ok(Some(problem)) => {
                        report.id_check = Some(IdCheck::Differs(problem.clone()));
                        report.notes.push(problem);
                    }
                    Err(error) => {
                        let problem = format!(
                            "the image ID could not be cross-checked with the signed manifest: {error}"
                        );
                        report.id_check = Some(IdCheck::Unchecked(problem.clone()));
                        report.notes.push(problem);
                    }
                }
            }
        }
        SignatureVerdict::Refused | SignatureVerdict::Unknown => {
            report.ok = false;
            report.notes.push(format!(
                "{}: {} ({})",
                reference.repository(),
                check.judgement.message,
                check.judgement.fix
            ));
        }
    }
    report.signature = Some(check);
}

/// Whether the image ID (the digest of its config) is the config of the platform manifest Docker Hub serves under
/// `digest` for the image's platform: a problem to report when not (a lying engine or inspect file).
async fn image_id_check(
    client: &RegistryClient,
    repository: &Reference,
    local: &LocalImage,
    digest: &pyimage_model::Digest,
) -> Result<Option<String>, RegistryError> {
    let index = Index::fetch(client, repository, digest).await?;
    let manifest_digest = if index.is_single() {
        digest.clone()
    } else {
        let Some(platform) = &local.platform else {
            return Ok(Some(format!(
                "the image names no platform, so its ID {} cannot be matched with index {digest}",
                local.id
            )));
        };
        match index.select(platform) {
            Some(entry) => entry.digest.clone(),
            None => {
                return Ok(Some(format!(
                    "index {digest} has no {platform} image, so the image ID {} is not one it serves",
                    local.id
                )));
            }
        }
    };
    let manifest = client.fetch_manifest(repository, &manifest_digest).await?;
    let config = serde_json::from_slice::<serde_json::Value>(&manifest.body)
        .ok()
        .and_then(|v| v["config"]["digest"].as_str().map(str::to_owned));
    Ok(match config {
        Some(config) if config == local.id => None,
        Some(config) => Some(format!(
            "the image ID {} is not the config {config} of manifest {manifest_digest}, which docker.io/library/python \
             serves under {digest}: the engine or inspect file does not describe that image",
            local.id
        )),
        None => Some(format!(
            "manifest {manifest_digest} names no config digest to compare the image ID {} with",
            local.id
        )),
    })
}

/// The attestations of the image's platform in the index it was pulled as; for a stale image, also what changed
/// in the build the tag names now.
async fn image_provenance(
    client: &RegistryClient,
    local: &LocalImage,
    assessment: &Assessment,
    record: &Record,
) -> Result<(Option<PlatformProvenance>, Vec<Change>, Vec<String>), RegistryError> {
    let mut notes = Vec::new();
    let Some(digest) = &assessment.digest else {
        return Ok((None, Vec::new(), notes));
    };
    let Some(platform) = &local.platform else {
        notes.push("the image names no platform: attestations not read".to_owned());
        return Ok((None, Vec::new(), notes));
    };
    let repository = official_repository()?;
    let index = Index::fetch(client, &repository, digest).await?;
    let Some(entry) = index.select(platform) else {
        notes.push(format!(
            "index {digest} has no {platform} image: attestations not read"
        ));
        return Ok((None, Vec::new(), notes));
    };
    // The official-images record describes what tags name now: compare only a current image with it.
    let current_tag = (assessment.current == Some(true))
        .then(|| assessment.tags.first().cloned())
        .flatten();
    let library: Option<&Library> = if assessment.current == Some(true) {
        record.library()
    } else {
        None
    };
    let mine = platform_provenance(
        client,
        &repository,
        &index,
        entry,
        library,
        current_tag.as_deref(),
        local.python_version.as_deref(),
    )
    .await?;
    let mut changes = Vec::new();
    if let Some(moved) = assessment.moved.first() {
        let newer = Index::fetch(client, &repository, &moved.now).await?;
        if let Some(new_entry) = newer.select(platform) {
            let theirs = platform_provenance(
                client,
                &repository,
                &newer,
                new_entry,
                record.library(),
                Some(&moved.tag),
                None,
            )
            .await?;
            changes = provenance::changes(&mine, &theirs);
            if changes.is_empty() {
                notes.push(format!(
                    "the attestations of {} name the same Python, base image and commit",
                    moved.now
                ));
            }
        }
    }
    Ok((Some(mine), changes, notes))
}
