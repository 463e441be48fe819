//! The chain of trust of verified images (`pyimage verify --chain`): what [`crate::verifier`] gathered — the verdict
//! against Docker Hub, the attestations, the PSF link, the signature check, the image ID cross-check — turned into
//! the links of [`pyimage_policy::chain`], plus the one link verify does not decide: what the admission webhook
//! decides for the image in each environment, computed here with the same function `serve` calls. Nothing here asks
//! a registry: the chain costs what `verify` costs.

use std::collections::BTreeMap;

use pyimage_locate::dockerfile::ScanOptions;
use pyimage_model::Reference;
use pyimage_policy::chain::{self, CLUSTER, ImageFacts, Link, Status};
use pyimage_policy::check::{CheckContext, Date, Policy};
use pyimage_policy::config::{RegistryFailure, Settings};
use pyimage_policy::provenance::PlatformProvenance;
use pyimage_policy::signatures::SignatureFacts;
use pyimage_policy::verify::{OFFICIAL_REPOSITORY, Verdict};
use serde::Serialize;

use crate::python_release::unchecked_link;
use crate::verifier::{ImageVerification, Verification, VerifyRequest};

/// The chain of one image, as `verify --chain --format json` prints it.
#[derive(Debug, Serialize)]
pub struct ImageChain {
    /// The name the user gave (or the image's first tag or ID).
    pub input: String,
    /// The image ID, when the image was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Why it could not be verified at all (then there is no chain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The verdict of `verify`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// The digest the verdict is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Whether the image meets `--require` (what the exit code says, as for `verify`).
    pub ok: bool,
    /// The links, in chain order.
    pub chain: Vec<Link>,
    /// What verify noted besides.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What the chain needs beyond the verification: the policy `serve` would apply and the day.
#[derive(Debug, Clone, Copy)]
pub struct ChainContext<'a> {
    /// The policy (environments, rules, signature rules).
    pub policy: &'a Policy,
    /// Today, for end-of-life decisions.
    pub today: Date,
    /// Whether a lock was given to compare with.
    pub lock_given: bool,
    /// Whether `serve` admits an image whose signatures could not be read (`[serve] on-registry-failure = "allow"`).
    pub unknown_admits: bool,
    /// Who answered for `docker.io`.
    pub docker_hub: &'a str,
}

impl<'a> ChainContext<'a> {
    /// The context of a run with these settings, today, Docker Hub answered by `docker_hub`.
    pub fn of(settings: &'a Settings, lock_given: bool, docker_hub: &'a str) -> ChainContext<'a> {
        ChainContext {
            docker_hub,
            policy: &settings.policy,
            today: crate::clock::today(),
            lock_given,
            unknown_admits: settings.serve.on_registry_failure == RegistryFailure::Allow,
        }
    }
}

/// The chain of every verified image.
pub fn chains(
    verification: &Verification,
    request: &VerifyRequest,
    context: &ChainContext<'_>,
) -> Vec<ImageChain> {
    verification
        .images
        .iter()
        .map(|image| image_chain(image, request, context))
        .collect()
}

/// The chain of one verified image.
pub fn image_chain(
    image: &ImageVerification,
    request: &VerifyRequest,
    context: &ChainContext<'_>,
) -> ImageChain {
    let mut out = ImageChain {
        input: image.input.clone(),
        id: image.id.clone(),
        platform: image.platform.clone(),
        error: image.error.clone(),
        verdict: image.assessment.as_ref().map(|a| a.verdict),
        digest: image
            .assessment
            .as_ref()
            .and_then(|a| a.digest.as_ref())
            .map(ToString::to_string),
        ok: image.ok,
        chain: Vec::new(),
        notes: image.notes.clone(),
    };
    let (Some(assessment), None) = (&image.assessment, &image.error) else {
        return out;
    };
    let release = match (&image.python_release, &request.release_signatures) {
        (Some(release), _) => release.chain_link(),
        (None, None) => unchecked_link("--no-release-signature"),
        (None, Some(_)) => unchecked_link("the image could not be read"),
    };
    let facts = ImageFacts {
        id: image.id.as_deref().unwrap_or_default(),
        platform: image.platform.as_deref(),
        docker_hub: context.docker_hub,
        release,
        assessment,
        provenance: provenance_of(image, request),
        id_check: image.id_check.as_ref(),
        signature: image.signature.as_ref(),
        lock_given: context.lock_given,
        cluster: cluster_of(image, context),
    };
    out.chain = chain::links(&facts);
    out
}

/// The attestations verify read, or why there are none.
fn provenance_of<'a>(
    image: &'a ImageVerification,
    request: &VerifyRequest,
) -> Result<&'a PlatformProvenance, String> {
    if let Some(provenance) = &image.provenance {
        return Ok(provenance);
    }
    if !request.provenance {
        return Err("not read (--no-provenance)".to_owned());
    }
    let vouched = image
        .assessment
        .as_ref()
        .is_some_and(|a| (a.official || a.faithful_copy == Some(true)) && a.digest.is_some());
    if !vouched {
        return Err(format!(
            "not read: {OFFICIAL_REPOSITORY} does not serve the image's digest, so no attestation of it is Docker \
             Hub's"
        ));
    }
    let why: Vec<&str> = image
        .notes
        .iter()
        .map(String::as_str)
        .filter(|note| note.contains("not read"))
        .collect();
    Err(if why.is_empty() {
        "the attestations could not be read".to_owned()
    } else {
        why.join("; ")
    })
}

/// The reference a workload would carry for this image: the one the user named (or the image's first tag), pinned
/// to the digest the verdict is about, as `pyimage pin` writes it.
fn deployed_reference(image: &ImageVerification) -> Option<String> {
    let named = (!is_id_prefix(&image.input, image.id.as_deref()))
        .then(|| Reference::parse_normalized(&image.input).ok())
        .flatten()
        .or_else(|| {
            image
                .local
                .as_ref()?
                .repo_tags
                .iter()
                .filter(|t| !t.starts_with("<none>"))
                .find_map(|t| Reference::parse_normalized(t).ok())
        })?;
    let digest = image.assessment.as_ref().and_then(|a| a.digest.as_ref());
    Some(match (named.digest(), digest) {
        (None, Some(digest)) => format!("{}@{digest}", named.familiar_string()),
        _ => named.familiar_string(),
    })
}

/// Whether `input` names the image by its ID or an ID prefix (`3f2a91`, which also parses as a repository name), as
/// the verifier decides it.
fn is_id_prefix(input: &str, id: Option<&str>) -> bool {
    let Some(id) = id else { return false };
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    let wanted = input.strip_prefix("sha256:").unwrap_or(input);
    wanted.len() >= 4
        && wanted.chars().all(|c| c.is_ascii_hexdigit())
        && hex.starts_with(&wanted.to_ascii_lowercase())
}

fn cluster_of(image: &ImageVerification, context: &ChainContext<'_>) -> Link {
    let Some(reference) = deployed_reference(image) else {
        return Link::new(
            CLUSTER,
            Status::Unknown,
            vec![
                "the image has no name a workload could carry (an untagged local image)".to_owned(),
            ],
        );
    };
    // What `serve` knows: the signatures it reads at the registry, here the ones verify read.
    let facts = image.signature.as_ref().map(|check| SignatureFacts {
        by_image: BTreeMap::from([(reference.clone(), check.evidence.clone())]),
        unknown_admits: context.unknown_admits,
    });
    static NO_BUILD_ARGS: ScanOptions = ScanOptions::NONE;
    let check = CheckContext {
        today: context.today,
        lock: None,
        build: &NO_BUILD_ARGS,
        signatures: facts.as_ref(),
    };
    chain::cluster_link(&reference, context.policy, &check)
}
