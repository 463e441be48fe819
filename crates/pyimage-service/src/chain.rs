//! The chain of trust of verified images (`pyimage verify --chain`): what [`crate::verifier`] gathered — the verdict
//! against Docker Hub, the attestations, the PSF link, the signature check, the image ID cross-check — turned into
//! the links of [`pyimage_policy::chain`], plus the one link verify does not decide: what the admission webhook
//! decides for the image in each environment, computed here with the same function `serve` calls. Nothing here asks
//! a registry: the chain costs what `verify` costs.
//!
//! The drift page shows a smaller chain per watched tag ([`page_section`]): what `watch` recorded at the tag's last
//! move, the lock's standing and the admission decision, each link saying when it was not checked there.

use std::collections::BTreeMap;

use pyimage_locate::dockerfile::ScanOptions;
use pyimage_model::Reference;
use pyimage_policy::chain::{self, CLUSTER, ImageFacts, Link, Status};
use pyimage_policy::check::{CheckContext, Date, Policy};
use pyimage_policy::config::{RegistryFailure, Settings};
use pyimage_policy::provenance::PlatformProvenance;
use pyimage_policy::signatures::SignatureFacts;
use pyimage_policy::verify::{OFFICIAL_REPOSITORY, Verdict};
use pyimage_report::{ChainSection, TagChain};
use pyimage_store::Event;
use serde::{Deserialize, Serialize};

use crate::drift::Standing;
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

/// The reference a workload would carry for this image: the one the user named (or, named by ID, the image's first
/// tag or repository digest), pinned to the digest the verdict is about (else the one its repository lists for it),
/// as `pyimage pin` writes it.
fn deployed_reference(image: &ImageVerification) -> Option<String> {
    let named = (!is_id_prefix(&image.input, image.id.as_deref()))
        .then(|| Reference::parse_normalized(&image.input).ok())
        .flatten()
        .or_else(|| {
            // Named by ID: its first tag, else its first repository digest (`python@sha256:…`).
            let local = image.local.as_ref()?;
            (local.repo_tags.iter().chain(&local.repo_digests))
                .filter(|t| !t.starts_with("<none>"))
                .find_map(|t| Reference::parse_normalized(t).ok())
        })?;
    // The digest the verdict is about; else (an image Docker Hub does not serve) the one its repository lists.
    let listed = || {
        let local = image.local.as_ref()?;
        local.repo_digests.iter().find_map(|text| {
            let r = Reference::parse_normalized(text).ok()?;
            (r.name() == named.name())
                .then(|| r.digest().cloned())
                .flatten()
        })
    };
    let digest = image
        .assessment
        .as_ref()
        .and_then(|a| a.digest.clone())
        .or_else(listed);
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

/// What the drift page's chain section rests on and leaves out, said above it.
pub const PAGE_SCOPE: &str = "Each tag's current image as `pyimage watch` recorded it at its last move, and what this \
server's policy decides for it; nothing here asks a registry. Shown: the digest the registry served, the base image \
and SBOM its attestations named, the lock's pin, the admission decision per environment. Not checked here: the PSF's \
signature on the CPython release, the official-images entry and the attestations' cross-checks — `pyimage provenance \
python:TAG` checks the attestations against official-images, and `pyimage verify --chain` checks every link of a \
pulled image.";

/// What an event's `state` says, as far as the chain needs it (the package lists are skipped, not copied).
#[derive(Debug, Default, Deserialize)]
struct Recorded {
    #[serde(default)]
    base_name: Option<String>,
    #[serde(default)]
    base_digest: Option<String>,
    #[serde(default)]
    commit: Option<String>,
    #[serde(default)]
    python: Option<String>,
    #[serde(default)]
    packages: BTreeMap<String, serde::de::IgnoredAny>,
    #[serde(default)]
    unread: Vec<String>,
}

/// The chain of one watched tag's current image from its last recorded event, the lock's standing of the tag (when
/// the server has a lock; `None` inside means the lock pins no reference to the tag), and the policy. Pure: the
/// page calls it for the tags it shows, with what it already read.
pub fn recorded_chain(
    last: &Event,
    lock: Option<Option<&Standing>>,
    policy: &Policy,
    today: Date,
) -> TagChain {
    use pyimage_policy::chain::{
        BASE_IMAGE, BUILD_PROVENANCE, CPYTHON_RELEASE, DOCKER_HUB, LOCK, MIRROR_COPY,
        OFFICIAL_IMAGES, OFFICIAL_UNSIGNED, SBOM, SIGNATURES,
    };
    let reference = crate::drift::familiar(&last.repository, &last.tag);
    let recorded: Recorded = Recorded::deserialize(&last.state).unwrap_or_default();
    let official = last.repository == OFFICIAL_REPOSITORY;
    let verify_it = format!("pull it and run `pyimage verify --chain {reference}`");
    let provenance_it = format!("`pyimage provenance {reference}` checks the attestations");
    let unknown = |id, evidence: Vec<String>, fix: &str| {
        Link::new(id, Status::Unknown, evidence).with_fix(fix.to_owned())
    };
    let mut links = vec![unknown(
        CPYTHON_RELEASE,
        vec![match &recorded.python {
            Some(python) => {
                format!("Python {python}; the PSF's signature is not checked on this page")
            }
            None => "the PSF's signature is not checked on this page".to_owned(),
        }],
        &verify_it,
    )];
    let commit = recorded
        .commit
        .as_deref()
        .map(|c| format!("recorded build commit {c}"));
    links.push(unknown(
        OFFICIAL_IMAGES,
        vec![
            commit
                .clone()
                .unwrap_or_else(|| "no build commit recorded".to_owned()),
        ],
        &provenance_it,
    ));
    let mut provenance = vec![commit.unwrap_or_else(|| "no build provenance recorded".to_owned())];
    provenance.extend(recorded.unread.iter().map(|u| format!("left out: {u}")));
    links.push(unknown(BUILD_PROVENANCE, provenance, &provenance_it));
    let base = match (&recorded.base_name, &recorded.base_digest) {
        (None, None) => "no base image recorded".to_owned(),
        (name, digest) => format!(
            "recorded: {} {}",
            name.as_deref().unwrap_or("(unnamed)"),
            digest.as_deref().unwrap_or("(no digest)")
        ),
    };
    links.push(unknown(BASE_IMAGE, vec![base], &provenance_it));
    let sbom = if recorded.packages.is_empty() {
        Link::new(SBOM, Status::Unknown, vec!["no SBOM recorded".to_owned()])
    } else {
        let platforms: Vec<&str> = recorded.packages.keys().map(String::as_str).collect();
        Link::new(
            SBOM,
            Status::Ok,
            vec![format!(
                "the SBOM attestation was read for {}{}",
                platforms.join(", "),
                recorded
                    .python
                    .as_deref()
                    .map(|p| format!(" (python {p})"))
                    .unwrap_or_default()
            )],
        )
    };
    links.push(sbom);
    let digest = last.to_digest.clone();
    links.push(match (&digest, official) {
        (None, _) => Link::new(
            DOCKER_HUB,
            Status::Unknown,
            vec![format!("the tag was removed ({})", last.observed_at)],
        ),
        (Some(digest), true) => Link::new(
            DOCKER_HUB,
            Status::Ok,
            vec![format!(
                "{reference} named {digest} at {}, as `pyimage watch` ({}) recorded its last move",
                last.observed_at, last.source
            )],
        ),
        (Some(_), false) => Link::new(
            DOCKER_HUB,
            Status::Unknown,
            vec![format!(
                "watched at {}, not at {OFFICIAL_REPOSITORY}: not compared on this page",
                last.repository
            )],
        )
        .with_fix(verify_it.clone()),
    });
    links.push(if official {
        Link::new(
            MIRROR_COPY,
            Status::NotApplicable,
            vec![format!("watched at {OFFICIAL_REPOSITORY} itself")],
        )
    } else {
        unknown(
            MIRROR_COPY,
            vec![format!(
                "a copy at {}: not compared on this page",
                last.repository
            )],
            &verify_it,
        )
    });
    let rule = Reference::parse_normalized(&reference).ok().and_then(|r| {
        policy
            .signatures
            .iter()
            .find(|rule| rule.images.iter().any(|p| p.matches(&r)))
    });
    links.push(match rule {
        Some(rule) => unknown(
            SIGNATURES,
            vec![format!("{}: not read on this page", rule.describe())],
            &verify_it,
        ),
        None => {
            let mut evidence =
                vec!["no signature policy covers this image ([[trust.signatures]])".to_owned()];
            if official {
                evidence.push(OFFICIAL_UNSIGNED.to_owned());
            }
            Link::new(SIGNATURES, Status::NotApplicable, evidence)
        }
    });
    links.push(match lock {
        None => Link::new(
            LOCK,
            Status::Unknown,
            vec!["this server has no lock ([serve] lock)".to_owned()],
        ),
        Some(None) => Link::new(
            LOCK,
            Status::Unknown,
            vec!["the lock pins no reference to this tag".to_owned()],
        ),
        Some(Some(standing)) => match standing.status {
            "current" => Link::new(
                LOCK,
                Status::Ok,
                vec![format!(
                    "{} is pinned to {}, the tag's current digest",
                    standing.reference, standing.pinned
                )],
            ),
            "stale" => Link::new(
                LOCK,
                Status::Broken,
                vec![format!(
                    "{} is pinned to {}, {} move(s) behind the tag{}",
                    standing.reference,
                    standing.pinned,
                    standing.moves_behind.unwrap_or(0),
                    standing
                        .stale_since
                        .as_deref()
                        .map(|since| format!(" (stale since {since})"))
                        .unwrap_or_default()
                )],
            )
            .with_fix("review the tag's moves and move the pin with `pyimage update`"),
            _ => Link::new(
                LOCK,
                Status::Unknown,
                vec![format!(
                    "{} is pinned to {}, a digest the history store never saw for the tag",
                    standing.reference, standing.pinned
                )],
            ),
        },
    });
    static NO_BUILD_ARGS: ScanOptions = ScanOptions::NONE;
    let context = CheckContext {
        today,
        lock: None,
        build: &NO_BUILD_ARGS,
        signatures: None,
    };
    let written = match &digest {
        Some(digest) => format!("{reference}@{digest}"),
        None => reference.clone(),
    };
    links.push(chain::cluster_link(&written, policy, &context));
    TagChain {
        reference,
        digest,
        links,
    }
}

/// The standing of the lock entry that pins `repository:tag`, if any.
pub fn standing_of<'s>(
    standings: &'s [Standing],
    repository: &str,
    tag: &str,
) -> Option<&'s Standing> {
    standings.iter().find(|s| {
        Reference::parse_normalized(&s.reference)
            .is_ok_and(|r| r.name() == repository && r.tag().unwrap_or("latest") == tag)
    })
}

/// The page's chain section for the tags it shows (their last events), with the lock's standings when the server
/// has a lock.
pub fn page_section<'e>(
    lasts: impl IntoIterator<Item = &'e Event>,
    standings: Option<&[Standing]>,
    policy: &Policy,
    today: Date,
) -> ChainSection {
    ChainSection {
        scope: PAGE_SCOPE.to_owned(),
        tags: lasts
            .into_iter()
            .map(|last| {
                let lock = standings.map(|s| standing_of(s, &last.repository, &last.tag));
                recorded_chain(last, lock, policy, today)
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(repository: &str, state: serde_json::Value) -> Event {
        Event {
            repository: repository.to_owned(),
            tag: "3.12-slim".to_owned(),
            seq: 2,
            kind: "rebuild".to_owned(),
            from_digest: Some(format!("sha256:{}", "1".repeat(64))),
            to_digest: Some(format!("sha256:{}", "2".repeat(64))),
            python_from: Some("3.12.13".to_owned()),
            python_to: Some("3.12.13".to_owned()),
            observed_at: "2026-12-01T00:00:00Z".to_owned(),
            source: "watcher".to_owned(),
            state,
            changes: serde_json::Value::Null,
        }
    }

    fn statuses(chain: &TagChain) -> Vec<(&str, Status)> {
        chain.links.iter().map(|l| (l.link, l.status)).collect()
    }

    #[test]
    fn the_page_claims_only_what_was_recorded() {
        let state = serde_json::json!({
            "platforms": {"linux/amd64": format!("sha256:{}", "3".repeat(64))},
            "python": "3.12.13",
            "base_name": "docker.io/library/debian:trixie-slim",
            "commit": "abc",
            "packages": {"linux/amd64": {"python": "3.12.13", "libc6": "2.41-12"}},
        });
        let stale = Standing {
            reference: "python:3.12-slim".to_owned(),
            pinned: format!("sha256:{}", "1".repeat(64)),
            status: "stale",
            current: None,
            stale_since: Some("2026-12-01T00:00:00Z".to_owned()),
            moves_behind: Some(1),
        };
        let today = Date::ymd(2026, 12, 2);
        let chain = recorded_chain(
            &event(OFFICIAL_REPOSITORY, state.clone()),
            Some(Some(&stale)),
            &Policy::default(),
            today,
        );
        assert_eq!(chain.reference, "python:3.12-slim");
        assert_eq!(
            statuses(&chain),
            [
                ("cpython-release", Status::Unknown),
                ("official-images", Status::Unknown),
                ("build-provenance", Status::Unknown),
                ("base-image", Status::Unknown),
                ("sbom", Status::Ok),
                ("docker-hub", Status::Ok),
                ("mirror-copy", Status::NotApplicable),
                ("signatures", Status::NotApplicable),
                ("lock", Status::Broken),
                ("cluster", Status::Ok),
            ]
        );
        // Every link not proven here says how to prove it; the broken one what to do.
        for link in &chain.links {
            if matches!(link.status, Status::Unknown | Status::Broken) {
                assert!(link.fix.is_some(), "{link:#?}");
            }
        }
        // A watched copy elsewhere is not compared with Docker Hub here, and no lock leaves the lock unknown.
        let copy = recorded_chain(
            &event("registry.acme.example/python/python", state),
            None,
            &Policy::default(),
            today,
        );
        let status = |id: &str| copy.links.iter().find(|l| l.link == id).map(|l| l.status);
        assert_eq!(status("docker-hub"), Some(Status::Unknown));
        assert_eq!(status("mirror-copy"), Some(Status::Unknown));
        assert_eq!(status("lock"), Some(Status::Unknown));
        // A state the page cannot read costs the recorded links, not the page.
        let unreadable = recorded_chain(
            &event(OFFICIAL_REPOSITORY, serde_json::json!("not a state")),
            None,
            &Policy::default(),
            today,
        );
        assert_eq!(unreadable.links.len(), 10);
    }
}
