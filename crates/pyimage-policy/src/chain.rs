//! The chain of trust of one Python image, link by link, as `pyimage verify --chain` and the drift page show it:
//! the CPython release the PSF signed → the official-images entry → the build provenance → the base OS image → the
//! SBOM → the digest Docker Hub serves → the mirror copy → signatures → the lock → the cluster.
//!
//! Each [`Link`] carries its status, the evidence it rests on, and for a broken link what to do. The links are
//! computed here, without I/O, from what the caller gathered ([`ImageFacts`]): the verdict of
//! [`crate::verify::decide`], the attestations read by the provenance check, the signature check of
//! [`crate::signatures`], and the admission decision of [`crate::check::evaluate_reference`] per environment. The PSF
//! link is judged by `pyimage-trust` and handed in as a finished [`Link`].
//!
//! A link never claims more than its evidence: official images carry no publisher signature (Docker Content Trust is
//! retired, BuildKit attestations are unsigned), so their signatures link says exactly that and is not `ok`; a base
//! image is what the provenance names, not a verified image of its own.

use serde::Serialize;

use crate::admission::{forced_environment, namespace_scope};
use crate::check::{CheckContext, Policy, Severity, SiteKind, evaluate_reference};
use crate::provenance::{Outcome, PlatformProvenance};
use crate::signatures::{SignatureCheck, SignatureEvidence, SignatureVerdict};
use crate::verify::{Assessment, OFFICIAL_REPOSITORY, Verdict};

/// How a link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The evidence proves the link.
    Ok,
    /// The evidence contradicts the link: something is wrong, and the link says what to do.
    Broken,
    /// No evidence either way (not checked, not readable, not published).
    Unknown,
    /// The link does not exist for this image (an image pulled from Docker Hub itself has no mirror copy).
    NotApplicable,
}

impl Status {
    /// The kebab-case name (`not-applicable`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Broken => "broken",
            Status::Unknown => "unknown",
            Status::NotApplicable => "not-applicable",
        }
    }
}

/// The links, in chain order: `(id, title)`.
pub const LINKS: [(&str, &str); 10] = [
    (CPYTHON_RELEASE, "CPython release (PSF signature)"),
    (OFFICIAL_IMAGES, "official-images entry"),
    (BUILD_PROVENANCE, "build provenance"),
    (BASE_IMAGE, "base OS image"),
    (SBOM, "SBOM"),
    (DOCKER_HUB, "digest Docker Hub serves"),
    (MIRROR_COPY, "mirror copy"),
    (SIGNATURES, "signatures"),
    (LOCK, "lock"),
    (CLUSTER, "cluster"),
];

/// The PSF's Sigstore signature on the CPython source tarball the image was built from.
pub const CPYTHON_RELEASE: &str = "cpython-release";
/// The docker-library/official-images entry (GitCommit, Directory) the build came from.
pub const OFFICIAL_IMAGES: &str = "official-images";
/// The SLSA provenance attestation: builder, source repository and commit, predicate version.
pub const BUILD_PROVENANCE: &str = "build-provenance";
/// The base OS image the provenance names.
pub const BASE_IMAGE: &str = "base-image";
/// The SPDX SBOM attestation.
pub const SBOM: &str = "sbom";
/// The digest `docker.io/library/python` serves.
pub const DOCKER_HUB: &str = "docker-hub";
/// The copy in a mirror or private registry.
pub const MIRROR_COPY: &str = "mirror-copy";
/// Publisher or organisation signatures.
pub const SIGNATURES: &str = "signatures";
/// `pyimage.lock`.
pub const LOCK: &str = "lock";
/// What the admission webhook decides.
pub const CLUSTER: &str = "cluster";

/// What official images have instead of a signature; said on their signatures link.
pub const OFFICIAL_UNSIGNED: &str = "Docker Official Images carry no publisher signature: Docker Content Trust is \
retired and nothing replaced it, and BuildKit attestations are unsigned; the image's integrity rests on the digest \
Docker Hub serves and the cross-checks of the links above";

/// One link of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// Its id (`cpython-release`, `docker-hub`, …; [`LINKS`]).
    pub link: &'static str,
    /// Its name for people (`CPython release (PSF signature)`).
    pub title: &'static str,
    /// Ok, broken, unknown, or not applicable.
    pub status: Status,
    /// What it rests on, one fact a line.
    pub evidence: Vec<String>,
    /// What to do: always for a broken link; for an unknown one, what would settle it when something would.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Link {
    /// A link by id (its title from [`LINKS`]).
    pub fn new(link: &'static str, status: Status, evidence: Vec<String>) -> Link {
        let title = LINKS
            .iter()
            .find(|(id, _)| *id == link)
            .map_or(link, |(_, title)| title);
        Link {
            link,
            title,
            status,
            evidence,
            fix: None,
        }
    }

    /// The link with what to do.
    pub fn with_fix(mut self, fix: impl Into<String>) -> Link {
        self.fix = Some(fix.into());
        self
    }
}

/// Whether the image ID (the digest of its config) is the config of the manifest Docker Hub serves for the image's
/// platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdCheck {
    /// It is.
    Same,
    /// It is not, or the served index has no image of that platform: the engine or the inspect file describes
    /// another image than the digest names.
    Differs(String),
    /// The comparison could not be made (why).
    Unchecked(String),
}

/// Everything the chain of one image is computed from.
#[derive(Debug, Clone)]
pub struct ImageFacts<'a> {
    /// The image ID (`sha256:…` of its config).
    pub id: &'a str,
    /// Its platform (`linux/amd64`), when known.
    pub platform: Option<&'a str>,
    /// Who answered for `docker.io` (`https://registry-1.docker.io` unless configured otherwise).
    pub docker_hub: &'a str,
    /// The PSF link, judged by the caller.
    pub release: Link,
    /// The verdict against Docker Hub.
    pub assessment: &'a Assessment,
    /// The attestations of the image's platform, or why they were not read.
    pub provenance: Result<&'a PlatformProvenance, String>,
    /// The image ID compared with the served manifest's config; `None` when not compared (the digest is not
    /// Docker Hub's).
    pub id_check: Option<&'a IdCheck>,
    /// The cosign signature a `[[trust.signatures]]` rule asks of the image; `None`: no rule covers it.
    pub signature: Option<&'a SignatureCheck>,
    /// Whether a lock was given to compare with.
    pub lock_given: bool,
    /// The admission decision, from [`cluster_link`].
    pub cluster: Link,
}

/// The chain of one image, in [`LINKS`] order.
pub fn links(facts: &ImageFacts<'_>) -> Vec<Link> {
    vec![
        facts.release.clone(),
        official_images_link(&facts.provenance, facts.assessment),
        build_provenance_link(&facts.provenance),
        base_image_link(&facts.provenance),
        sbom_link(&facts.provenance),
        docker_hub_link(facts),
        mirror_link(facts.assessment, facts.signature, facts.id_check),
        signatures_link(facts.assessment, facts.signature),
        lock_link(facts.assessment, facts.lock_given),
        facts.cluster.clone(),
    ]
}

/// The checks of `name` in a platform's provenance.
fn checks_named<'p>(
    p: &'p PlatformProvenance,
    names: &'p [&str],
) -> impl Iterator<Item = &'p crate::provenance::Check> {
    p.checks.iter().filter(move |c| names.contains(&c.name))
}

const DO_NOT_USE: &str = "do not use this digest: pull the tag again by digest from docker.io/library/python \
(`pyimage pin`) and verify the image it gives; if Docker Hub itself serves this, report it to docker-library";

fn official_images_link(
    provenance: &Result<&PlatformProvenance, String>,
    assessment: &Assessment,
) -> Link {
    let p = match provenance {
        Ok(p) => p,
        Err(why) => return Link::new(OFFICIAL_IMAGES, Status::Unknown, vec![why.clone()]),
    };
    let Some(check) = checks_named(p, &["official-images"]).next() else {
        let why = checks_named(p, &["attestations", "provenance"])
            .map(|c| c.detail.clone())
            .next()
            .unwrap_or_else(|| "no build provenance to compare with official-images".to_owned());
        return Link::new(OFFICIAL_IMAGES, Status::Unknown, vec![why]);
    };
    let evidence = vec![check.detail.clone()];
    match check.outcome {
        Outcome::Match => Link::new(OFFICIAL_IMAGES, Status::Ok, evidence),
        Outcome::Mismatch | Outcome::NotListed => Link::new(OFFICIAL_IMAGES, Status::Broken, evidence)
            .with_fix(
                "the build is not the one official-images lists for the tag: if the record is newer than the \
                 image, compare with the record of the image's day (--official-images FILE from the history of \
                 docker-library/official-images); otherwise do not use this digest",
            ),
        Outcome::Unchecked => {
            if assessment.current != Some(true) {
                // The check's own detail would say that no record was given; the record was not compared.
                Link::new(
                    OFFICIAL_IMAGES,
                    Status::Unknown,
                    vec![format!(
                        "not compared: the record says what each {OFFICIAL_REPOSITORY} tag names now, and this image \
                         was not found to be what its tag names now (stale, a mirror copy, or untagged)"
                    )],
                )
            } else {
                Link::new(OFFICIAL_IMAGES, Status::Unknown, evidence).with_fix(
                    "pass --official-images FILE|URL (the library/python file of docker-library/official-images)",
                )
            }
        }
    }
}

/// Attestation checks whose failure breaks the provenance link.
const PROVENANCE_CHECKS: [&str; 5] = [
    "attestations",
    "subject",
    "provenance",
    "source",
    "revision-annotation",
];

fn build_provenance_link(provenance: &Result<&PlatformProvenance, String>) -> Link {
    let p = match provenance {
        Ok(p) => p,
        Err(why) => return Link::new(BUILD_PROVENANCE, Status::Unknown, vec![why.clone()]),
    };
    let failures: Vec<String> = checks_named(p, &PROVENANCE_CHECKS)
        .filter(|c| c.outcome.is_failure())
        .map(|c| c.detail.clone())
        .collect();
    let Some(slsa) = &p.provenance else {
        if p.attestation.is_none() {
            let why = checks_named(p, &["attestations"])
                .map(|c| c.detail.clone())
                .next()
                .unwrap_or_else(|| "the image has no attestation manifest".to_owned());
            return Link::new(BUILD_PROVENANCE, Status::Unknown, vec![why]);
        }
        let mut evidence = failures;
        if evidence.is_empty() {
            evidence.push("no SLSA provenance statement among the attestations".to_owned());
        }
        return Link::new(BUILD_PROVENANCE, Status::Broken, evidence).with_fix(DO_NOT_USE);
    };
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".to_owned());
    let mut evidence = vec![
        format!("builder {}", dash(&slsa.builder_id)),
        format!(
            "source {} commit {}",
            dash(&slsa.source),
            dash(&slsa.commit)
        ),
        format!("SLSA predicate {}", slsa.predicate_type),
    ];
    if let Some(attestation) = &p.attestation {
        evidence.push(format!(
            "attestation manifest {attestation} for {} {}",
            p.platform, p.manifest
        ));
    }
    evidence.push(
        "BuildKit attestations are unsigned: they vouch for the build as far as the digest that holds them does"
            .to_owned(),
    );
    if failures.is_empty() {
        Link::new(BUILD_PROVENANCE, Status::Ok, evidence)
    } else {
        evidence.extend(failures);
        Link::new(BUILD_PROVENANCE, Status::Broken, evidence).with_fix(DO_NOT_USE)
    }
}

fn base_image_link(provenance: &Result<&PlatformProvenance, String>) -> Link {
    let p = match provenance {
        Ok(p) => p,
        Err(why) => return Link::new(BASE_IMAGE, Status::Unknown, vec![why.clone()]),
    };
    let Some(base) = p.provenance.as_ref().and_then(|s| s.base_image()) else {
        let why = if p.provenance.is_some() {
            "the build provenance names no base image".to_owned()
        } else {
            "no build provenance to read the base image from".to_owned()
        };
        return Link::new(BASE_IMAGE, Status::Unknown, vec![why]);
    };
    let mut evidence = vec![format!(
        "{} {}",
        base.uri,
        base.digest
            .as_ref()
            .map_or_else(|| "(no digest)".to_owned(), ToString::to_string)
    )];
    match checks_named(p, &["base-image"]).next() {
        Some(check) if check.outcome.is_failure() => {
            evidence.push(check.detail.clone());
            Link::new(BASE_IMAGE, Status::Broken, evidence).with_fix(DO_NOT_USE)
        }
        Some(check) => {
            evidence.push(check.detail.clone());
            Link::new(BASE_IMAGE, Status::Ok, evidence)
        }
        None => {
            evidence.push(
                "named by the build provenance only: the index carries no base-image annotation to compare with"
                    .to_owned(),
            );
            Link::new(BASE_IMAGE, Status::Ok, evidence)
        }
    }
}

fn sbom_link(provenance: &Result<&PlatformProvenance, String>) -> Link {
    let p = match provenance {
        Ok(p) => p,
        Err(why) => return Link::new(SBOM, Status::Unknown, vec![why.clone()]),
    };
    let Some(sbom) = &p.sbom else {
        let why = if p.attestation.is_some() {
            "no SPDX SBOM among the attestations"
        } else {
            "the image has no attestation manifest, so no SBOM"
        };
        return Link::new(SBOM, Status::Unknown, vec![why.to_owned()]);
    };
    let mut evidence = vec![format!(
        "{} document: {} packages, python {}",
        sbom.spdx_version.as_deref().unwrap_or("SPDX"),
        sbom.packages,
        sbom.python.as_deref().unwrap_or("(not listed)")
    )];
    match checks_named(p, &["python-version"]).next() {
        Some(check) if check.outcome.is_failure() => {
            evidence.push(check.detail.clone());
            Link::new(SBOM, Status::Broken, evidence).with_fix(DO_NOT_USE)
        }
        Some(check) => {
            evidence.push(check.detail.clone());
            Link::new(SBOM, Status::Ok, evidence)
        }
        None => Link::new(SBOM, Status::Ok, evidence),
    }
}

fn docker_hub_link(facts: &ImageFacts<'_>) -> Link {
    let a = facts.assessment;
    if a.verdict == Verdict::Unknown {
        return Link::new(DOCKER_HUB, Status::Unknown, a.reasons.clone()).with_fix(
            "check that Docker Hub (or the configured docker.io endpoint) is reachable, then verify again",
        );
    }
    let Some(digest) = a
        .digest
        .as_ref()
        .filter(|_| a.official || a.faithful_copy == Some(true))
    else {
        let mut evidence = a.reasons.clone();
        evidence.extend(a.ignored.iter().cloned());
        if evidence.is_empty() {
            evidence.push(format!(
                "{OFFICIAL_REPOSITORY} does not serve this image's digest"
            ));
        }
        evidence.push(format!("asked {}", facts.docker_hub));
        return Link::new(DOCKER_HUB, Status::Broken, evidence).with_fix(
            "pull the image from docker.io/library/python by digest (`pyimage pin` writes the digest), or copy it \
             unchanged to the mirror, and verify again; an image your organisation builds itself is vouched for by \
             its signature instead",
        );
    };
    let answered = format!("(answered by {})", facts.docker_hub);
    let mut evidence = vec![match &a.source {
        Some(source) => format!(
            "{OFFICIAL_REPOSITORY} serves {digest}, the digest of the copy from {source} {answered}"
        ),
        None => format!("{OFFICIAL_REPOSITORY} serves {digest} {answered}"),
    }];
    for tag in &a.tags {
        match a.moved.iter().find(|m| m.tag == *tag) {
            Some(moved) => evidence.push(format!(
                "python:{tag} has moved on to {}: this is an older build Docker Hub still serves",
                moved.now
            )),
            None if a.current == Some(true) => evidence.push(format!("python:{tag} names it now")),
            None => {}
        }
    }
    let platform = facts.platform.unwrap_or("its platform");
    match facts.id_check {
        Some(IdCheck::Same) => {
            evidence.push(format!(
                "the image ID {} is the config of the {platform} manifest served under it",
                facts.id
            ));
            Link::new(DOCKER_HUB, Status::Ok, evidence)
        }
        // Without a platform the served index cannot be matched: nothing is known, nothing contradicted.
        Some(IdCheck::Differs(problem)) if facts.platform.is_none() => {
            evidence.push(problem.clone());
            Link::new(DOCKER_HUB, Status::Unknown, evidence)
        }
        Some(IdCheck::Differs(problem)) => {
            evidence.push(problem.clone());
            Link::new(DOCKER_HUB, Status::Broken, evidence).with_fix(
                "the engine or inspect file describes another image than the digest names: pull the digest again \
                 (`docker pull python@sha256:…`) and verify the image it gives",
            )
        }
        Some(IdCheck::Unchecked(why)) => {
            evidence.push(why.clone());
            Link::new(DOCKER_HUB, Status::Unknown, evidence)
                .with_fix("check that Docker Hub is reachable, then verify again")
        }
        None => Link::new(DOCKER_HUB, Status::Ok, evidence),
    }
}

fn accepted_signer(signature: Option<&SignatureCheck>) -> Option<&str> {
    let check = signature?;
    match (&check.judgement.verdict, &check.evidence) {
        (SignatureVerdict::Accepted, SignatureEvidence::Verified { key, .. }) => Some(key),
        _ => None,
    }
}

fn mirror_link(
    a: &Assessment,
    signature: Option<&SignatureCheck>,
    id_check: Option<&IdCheck>,
) -> Link {
    let Some(source) = &a.source else {
        let why = if a.official {
            format!("pulled from {OFFICIAL_REPOSITORY} itself: no copy in between")
        } else {
            "no registry copy: the image names no repository digest other than Docker Hub's"
                .to_owned()
        };
        return Link::new(MIRROR_COPY, Status::NotApplicable, vec![why]);
    };
    match a.faithful_copy {
        Some(true) => Link::new(
            MIRROR_COPY,
            Status::Ok,
            vec![format!(
                "faithful: {source} holds {}, byte for byte the digest {OFFICIAL_REPOSITORY} serves",
                a.digest.as_ref().map_or("its digest", |d| d.as_str())
            )],
        ),
        Some(false) => match accepted_signer(signature) {
            Some(key) => {
                let mut evidence = vec![
                    format!("not faithful: {OFFICIAL_REPOSITORY} does not serve the digest {source} holds"),
                    format!("signed by {key}: the organisation's copy (the faithful-copy rule)"),
                ];
                // The signature covers a digest; only the image ID cross-check ties the local image to it.
                match id_check {
                    Some(IdCheck::Same) => {
                        evidence.push("the image ID is the config of the signed manifest".to_owned());
                        Link::new(MIRROR_COPY, Status::Ok, evidence)
                    }
                    Some(IdCheck::Differs(problem)) => {
                        evidence.push(problem.clone());
                        Link::new(MIRROR_COPY, Status::Broken, evidence).with_fix(
                            "the engine or inspect file describes another image than the signed digest: pull the \
                             signed digest again and verify the image it gives",
                        )
                    }
                    Some(IdCheck::Unchecked(why)) => {
                        evidence.push(why.clone());
                        Link::new(MIRROR_COPY, Status::Unknown, evidence)
                    }
                    None => {
                        evidence.push(
                            "the image ID was not cross-checked with the signed manifest".to_owned(),
                        );
                        Link::new(MIRROR_COPY, Status::Unknown, evidence)
                            .with_fix("verify with --require faithful, which cross-checks a signed copy")
                    }
                }
            }
            None => Link::new(
                MIRROR_COPY,
                Status::Broken,
                vec![format!(
                    "not faithful: {OFFICIAL_REPOSITORY} does not serve the digest {source} holds"
                )],
            )
            .with_fix(
                "copy the official image unchanged, by digest and with every platform (`skopeo copy --all`, \
                 `crane copy`, `docker buildx imagetools create`), or sign the copy with the organisation's key and \
                 name the key in a [[trust.signatures]] rule",
            ),
        },
        None => Link::new(
            MIRROR_COPY,
            Status::Unknown,
            vec![format!(
                "copy from {source}: whether {OFFICIAL_REPOSITORY} serves its digest is not known"
            )],
        ),
    }
}

fn signatures_link(a: &Assessment, signature: Option<&SignatureCheck>) -> Link {
    let Some(check) = signature else {
        let mut evidence =
            vec!["no signature policy covers this image ([[trust.signatures]])".to_owned()];
        if a.official || a.faithful_copy == Some(true) {
            evidence.push(OFFICIAL_UNSIGNED.to_owned());
        }
        return Link::new(SIGNATURES, Status::NotApplicable, evidence);
    };
    let mut evidence = vec![
        check.judgement.message.clone(),
        format!(
            "rule {}: keys {}, signatures of {}@{}",
            check.rule,
            check.keys.join(", "),
            check.repository,
            check.digest
        ),
    ];
    if let SignatureEvidence::Verified {
        key,
        key_sha256,
        logged,
        found_at,
        ..
    } = &check.evidence
    {
        let mut who = format!("key {key}");
        if let Some(fingerprint) = key_sha256 {
            who.push_str(&format!(" ({fingerprint})"));
        }
        match found_at {
            // A tag (`:sha256-….sig`) is shown with its repository.
            Some(at) if at.starts_with(':') => {
                who.push_str(&format!(", signature at {}{at}", check.repository))
            }
            Some(at) => who.push_str(&format!(", signature at {at}")),
            None => {}
        }
        evidence.push(who);
        if let Some(entry) = logged {
            evidence.push(format!(
                "logged in {} at index {}",
                entry.log, entry.log_index
            ));
        }
    }
    let status = match check.judgement.verdict {
        SignatureVerdict::Accepted => Status::Ok,
        SignatureVerdict::Refused => Status::Broken,
        SignatureVerdict::Unknown => Status::Unknown,
    };
    let link = Link::new(SIGNATURES, status, evidence);
    match check.judgement.fix.as_str() {
        "" => link,
        fix => link.with_fix(fix),
    }
}

fn lock_link(a: &Assessment, lock_given: bool) -> Link {
    if !lock_given {
        return Link::new(LOCK, Status::Unknown, vec!["no lock compared".to_owned()])
            .with_fix("pass --lock pyimage.lock to compare the image with its pin");
    }
    let Some((reference, digest)) = &a.lock_entry else {
        return Link::new(
            LOCK,
            Status::Unknown,
            vec!["pyimage.lock has no entry for the image's references".to_owned()],
        )
        .with_fix("`pyimage pin` records the digest a reference should stand for");
    };
    match a.locked {
        Some(true) => Link::new(
            LOCK,
            Status::Ok,
            vec![format!(
                "pyimage.lock pins {reference} to {digest}: the image is that digest"
            )],
        ),
        _ => {
            let mut evidence = vec![format!("pyimage.lock pins {reference} to {digest}")];
            evidence.extend(
                a.reasons
                    .iter()
                    .filter(|r| r.starts_with("pyimage.lock"))
                    .cloned(),
            );
            Link::new(LOCK, Status::Broken, evidence).with_fix(format!(
                "run the locked image (`docker pull {reference}@{digest}`), or move the pin to this image with \
                 `pyimage update` after reviewing the change"
            ))
        }
    }
}

/// The cluster link: what the admission webhook's validating decision is for the image written as `reference`, in
/// every environment of `policy` — [`evaluate_reference`] under the policy forced to each environment, as
/// `/validate/ENV` decides. `context` carries what `serve` would know (signature evidence read at the registry).
pub fn cluster_link(reference: &str, policy: &Policy, context: &CheckContext<'_>) -> Link {
    let scope = namespace_scope("");
    let mut evidence = vec![format!(
        "{reference}: the validating webhook's decision per environment (the same policy and function as `serve`)"
    )];
    let mut fixes: Vec<(&str, Vec<String>, String)> = Vec::new();
    let mut unsettled = Vec::new();
    for environment in policy.environments.keys() {
        let Some(forced) = forced_environment(policy, environment, "pyimage verify --chain") else {
            continue;
        };
        let decision =
            evaluate_reference(reference, SiteKind::KUBERNETES, &scope, &forced, context);
        let findings: Vec<_> = decision.reported().collect();
        let denied: Vec<_> = findings
            .iter()
            .filter(|f| f.severity == Severity::Deny)
            .collect();
        let warned: Vec<_> = findings
            .iter()
            .filter(|f| f.severity == Severity::Warn)
            .collect();
        let list = |items: &[&&crate::check::Finding]| {
            items
                .iter()
                .map(|f| format!("{} {}", f.rule.id, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        };
        // Without signature evidence (none read at the registry, no lock record) PY018 decides nothing; `serve`
        // would read the registry, so the decision here is not the webhook's.
        let unread_signature = if context.signatures.is_none() && context.lock.is_none() {
            pyimage_model::Reference::parse_normalized(reference)
                .ok()
                .and_then(|r| {
                    policy
                        .signature_rule(environment, &r)
                        .map(|rule| rule.at.clone())
                })
        } else {
            None
        };
        if let Some(at) = &unread_signature {
            unsettled.push(format!(
                "{environment}: the [[trust.signatures]] rule at {at} applies, and no signature was read here"
            ));
        }
        if !denied.is_empty() {
            // One fix per rule, naming the environments it refuses the image in.
            for finding in &denied {
                match fixes.iter_mut().find(|(id, _, _)| *id == finding.rule.id) {
                    Some((_, environments, _)) => environments.push(environment.clone()),
                    None => fixes.push((
                        finding.rule.id,
                        vec![environment.clone()],
                        finding.fix.clone(),
                    )),
                }
            }
            evidence.push(format!("{environment}: refused — {}", list(&denied)));
        } else if warned.is_empty() {
            evidence.push(format!("{environment}: admitted"));
        } else {
            evidence.push(format!(
                "{environment}: admitted with warnings — {}",
                list(&warned)
            ));
        }
    }
    if policy.environments.is_empty() {
        return Link::new(
            CLUSTER,
            Status::Unknown,
            vec!["the policy has no environments".to_owned()],
        );
    }
    let settled = unsettled.is_empty();
    evidence.extend(unsettled);
    if !fixes.is_empty() {
        let fix = fixes
            .iter()
            .map(|(id, environments, fix)| format!("{id} ({}): {fix}", environments.join(", ")))
            .collect::<Vec<_>>()
            .join("; ");
        return Link::new(CLUSTER, Status::Broken, evidence).with_fix(fix);
    }
    if settled {
        Link::new(CLUSTER, Status::Ok, evidence)
    } else {
        Link::new(CLUSTER, Status::Unknown, evidence).with_fix(
            "verify with the signature policy in pyimage.toml (its keys at hand), or record the signature in \
             pyimage.lock with `pyimage pin` and pass --lock",
        )
    }
}

#[cfg(test)]
mod tests;
