//! The chain computed from facts built the way `verify` builds them: a verdict from [`crate::verify::decide`] over
//! registry answers, attestations assessed by [`crate::provenance::assess_platform`] from in-toto statements, a
//! signature judged by [`crate::signatures::judge`], and the built-in policy's admission decision.

use std::collections::BTreeMap;

use pyimage_locate::dockerfile::ScanOptions;
use pyimage_model::lock::Lock;
use pyimage_model::{Digest, Library};
use serde_json::json;

use super::*;
use crate::check::{Date, Origin, SourcePattern};
use crate::provenance::{Expectations, Statement, assess_platform};
use crate::signatures::{EvidenceSource, SignatureRule, judge};
use crate::verify::{LocalImage, Served, TagNow, Upstream, decide};

const COMMIT: &str = "1111111111111111111111111111111111111111";
const LIBRARY: &str = "Maintainers: x\nGitRepo: https://github.com/docker-library/python.git\n\n\
Tags: 3.12.13-slim-trixie, 3.12-slim-trixie, 3.12-slim\nArchitectures: amd64, arm64v8\n\
GitCommit: 1111111111111111111111111111111111111111\nDirectory: 3.12/slim-trixie\n";

fn digest(n: u8) -> Digest {
    Digest::sha256_from_hex(&format!("{n:02x}").repeat(32)).expect("a digest")
}

/// The platform manifest, its attestation manifest, the index, and the base image.
const MANIFEST: u8 = 1;
const ATTESTATION: u8 = 5;
const INDEX: u8 = 7;
const BASE: u8 = 9;

fn statements(commit: &str, subject: u8, python: &str) -> Vec<Statement> {
    let slsa = json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": "pkg:docker/python@3.12-slim", "digest": {"sha256": digest(subject).encoded()}}],
        "predicate": {
            "builder": {"id": "https://github.com/docker-library"},
            "materials": [{"uri": "pkg:docker/debian@trixie-slim?platform=linux%2Famd64",
                           "digest": {"sha256": digest(BASE).encoded()}}],
            "invocation": {
                "configSource": {"uri": "https://github.com/docker-library/python.git", "digest": {"sha1": commit}},
                "parameters": {"args": {"context": format!("https://github.com/docker-library/python.git#{commit}:3.12/slim-trixie")}}
            }
        }
    });
    let sbom = json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://spdx.dev/Document",
        "subject": [{"digest": {"sha256": digest(subject).encoded()}}],
        "predicate": {"spdxVersion": "SPDX-2.3", "packages": [
            {"name": "python", "versionInfo": python}, {"name": "libc6", "versionInfo": "2.41-12"}]}
    });
    [slsa, sbom]
        .iter()
        .map(|s| {
            Statement::parse(&serde_json::to_vec(s).expect("json"), "test").expect("a statement")
        })
        .collect()
}

fn provenance(commit: &str, subject: u8, python: &str) -> PlatformProvenance {
    let library = Library::parse(LIBRARY).expect("a library");
    assess_platform(
        "linux/amd64",
        &digest(MANIFEST),
        Some(&digest(ATTESTATION)),
        &statements(commit, subject, python),
        &BTreeMap::new(),
        Some(&library),
        &Expectations {
            tag: Some("3.12-slim".into()),
            revision: Some(COMMIT.into()),
            base_digest: Some(digest(BASE).to_string()),
            python_version: Some("3.12.13".into()),
        },
    )
}

/// The verdict on an image with these RepoDigests, Docker Hub serving `served` and its tag 3.12-slim at `now`.
fn assessment(repo_digests: &[String], served: &[Digest], lock: Option<&Lock>) -> Assessment {
    let image = LocalImage {
        id: digest(3).to_string(),
        repo_tags: vec!["python:3.12-slim".into()],
        repo_digests: repo_digests.to_vec(),
        platform: Some("linux/amd64".into()),
        python_version: Some("3.12.13".into()),
    };
    let plan = crate::verify::plan(&image, None);
    let upstream = Upstream {
        served: plan
            .digests
            .iter()
            .map(|d| {
                let answer = if served.contains(d) {
                    Served::Yes
                } else {
                    Served::No
                };
                (d.clone(), answer)
            })
            .collect(),
        current: plan
            .tags
            .iter()
            .map(|t| (t.clone(), TagNow::Digest(digest(INDEX))))
            .collect(),
    };
    decide(&image, None, &upstream, lock)
}

fn official() -> Assessment {
    assessment(
        &[format!("python@{}", digest(INDEX))],
        &[digest(INDEX)],
        None,
    )
}

fn release_ok() -> Link {
    Link::new(
        CPYTHON_RELEASE,
        Status::Ok,
        vec!["signed by the PSF".to_owned()],
    )
}

fn context() -> CheckContext<'static> {
    static BUILD: ScanOptions = ScanOptions::NONE;
    CheckContext {
        today: Date::ymd(2026, 11, 30),
        lock: None,
        build: &BUILD,
        signatures: None,
    }
}

fn facts<'a>(
    assessment: &'a Assessment,
    provenance: Result<&'a PlatformProvenance, String>,
    signature: Option<&'a SignatureCheck>,
) -> ImageFacts<'a> {
    static SAME: IdCheck = IdCheck::Same;
    ImageFacts {
        id: "sha256:0303",
        platform: Some("linux/amd64"),
        docker_hub: "https://registry-1.docker.io",
        release: release_ok(),
        assessment,
        provenance,
        id_check: Some(&SAME),
        signature,
        lock_given: false,
        cluster: cluster_link(
            &format!("python:3.12-slim@{}", digest(INDEX)),
            &Policy::default(),
            &context(),
        ),
    }
}

fn statuses(links: &[Link]) -> Vec<(&str, Status)> {
    links.iter().map(|l| (l.link, l.status)).collect()
}

fn link<'a>(links: &'a [Link], id: &str) -> &'a Link {
    links
        .iter()
        .find(|l| l.link == id)
        .unwrap_or_else(|| panic!("no link {id}: {links:#?}"))
}

#[test]
fn an_official_current_image_proves_every_link_it_has_and_says_it_has_no_signature() {
    let a = official();
    let p = provenance(COMMIT, MANIFEST, "3.12.13");
    let links = links(&facts(&a, Ok(&p), None));
    assert_eq!(
        statuses(&links),
        [
            (CPYTHON_RELEASE, Status::Ok),
            (OFFICIAL_IMAGES, Status::Ok),
            (BUILD_PROVENANCE, Status::Ok),
            (BASE_IMAGE, Status::Ok),
            (SBOM, Status::Ok),
            (DOCKER_HUB, Status::Ok),
            (MIRROR_COPY, Status::NotApplicable),
            (SIGNATURES, Status::NotApplicable),
            (LOCK, Status::Unknown),
            (CLUSTER, Status::Ok),
        ],
        "{links:#?}"
    );
    let order: Vec<&str> = LINKS.iter().map(|(id, _)| *id).collect();
    assert_eq!(links.iter().map(|l| l.link).collect::<Vec<_>>(), order);
    let evidence = |id| link(&links, id).evidence.join("\n");
    assert!(
        evidence(OFFICIAL_IMAGES)
            .contains(&format!("GitCommit {COMMIT} Directory 3.12/slim-trixie"))
    );
    assert!(evidence(BUILD_PROVENANCE).contains("builder https://github.com/docker-library"));
    assert!(evidence(BUILD_PROVENANCE).contains("SLSA predicate https://slsa.dev/provenance/v0.2"));
    assert!(evidence(BUILD_PROVENANCE).contains("unsigned"));
    assert!(evidence(BASE_IMAGE).contains("pkg:docker/debian@trixie-slim"));
    assert!(evidence(SBOM).contains("SPDX-2.3 document: 2 packages, python 3.12.13"));
    assert!(evidence(DOCKER_HUB).contains("python:3.12-slim names it now"));
    assert!(evidence(SIGNATURES).contains("no signature policy covers this image"));
    assert!(evidence(SIGNATURES).contains("carry no publisher signature"));
    assert!(
        evidence(CLUSTER).contains("prod: admitted"),
        "{}",
        evidence(CLUSTER)
    );
    // Only broken links must carry a fix; no ok link claims one.
    assert!(
        links
            .iter()
            .filter(|l| l.status == Status::Ok)
            .all(|l| l.fix.is_none())
    );
}

#[test]
fn contradicting_attestations_break_their_links_with_what_to_do() {
    let a = official();
    // Another commit, a statement about another image, and an SBOM that names another Python.
    let p = provenance(&"2".repeat(40), 2, "3.12.12");
    let links = links(&facts(&a, Ok(&p), None));
    for id in [OFFICIAL_IMAGES, BUILD_PROVENANCE, SBOM] {
        let l = link(&links, id);
        assert_eq!(l.status, Status::Broken, "{l:#?}");
        assert!(l.fix.as_deref().is_some_and(|f| !f.is_empty()), "{l:#?}");
    }
    assert!(
        link(&links, BUILD_PROVENANCE)
            .evidence
            .join(" ")
            .contains("not the linux/amd64 manifest")
    );
    assert!(
        link(&links, OFFICIAL_IMAGES)
            .fix
            .as_deref()
            .unwrap_or("")
            .contains("--official-images")
    );
}

#[test]
fn attestations_not_read_leave_their_links_unknown_with_the_reason() {
    let a = official();
    let links = links(&facts(
        &a,
        Err("not read (--no-provenance)".to_owned()),
        None,
    ));
    for id in [OFFICIAL_IMAGES, BUILD_PROVENANCE, BASE_IMAGE, SBOM] {
        let l = link(&links, id);
        assert_eq!(l.status, Status::Unknown);
        assert_eq!(l.evidence, ["not read (--no-provenance)"]);
    }
}

fn acme_rule() -> SignatureRule {
    SignatureRule {
        images: vec![
            SourcePattern::new("registry.acme.example/python/*", Origin::Default)
                .expect("a pattern"),
        ],
        keys: vec!["acme".to_owned()],
        environments: Vec::new(),
        transparency_log: false,
        origin: Origin::Default,
        at: "pyimage.toml:4".to_owned(),
    }
}

fn signature_check(evidence: SignatureEvidence) -> SignatureCheck {
    let rule = acme_rule();
    SignatureCheck {
        rule: rule.at.clone(),
        keys: rule.keys.clone(),
        repository: "registry.acme.example/python/python".to_owned(),
        digest: digest(4).to_string(),
        judgement: judge(&rule, Some(&evidence), &BTreeMap::new()),
        evidence,
    }
}

#[test]
fn a_copy_docker_hub_does_not_serve_is_broken_unless_the_organisation_signed_it() {
    let copy = format!("registry.acme.example/python/python@{}", digest(4));
    let a = assessment(std::slice::from_ref(&copy), &[], None);
    assert_eq!(a.faithful_copy, Some(false));
    let unread = Err("not read: Docker Hub does not serve the digest".to_owned());
    let unsigned = signature_check(SignatureEvidence::Unsigned {
        reasons: vec!["the image has no cosign signature".to_owned()],
    });
    let links = links(&facts(&a, unread.clone(), Some(&unsigned)));
    let mirror = link(&links, MIRROR_COPY);
    assert_eq!(mirror.status, Status::Broken, "{mirror:#?}");
    assert!(mirror.evidence[0].contains("not faithful"));
    assert!(
        mirror
            .fix
            .as_deref()
            .unwrap_or("")
            .contains("skopeo copy --all")
    );
    assert_eq!(link(&links, DOCKER_HUB).status, Status::Broken);
    let signatures = link(&links, SIGNATURES);
    assert_eq!(signatures.status, Status::Broken);
    assert!(
        signatures
            .fix
            .as_deref()
            .unwrap_or("")
            .contains("cosign sign")
    );

    let signed = signature_check(SignatureEvidence::Verified {
        key: "acme".to_owned(),
        key_sha256: Some("sha256:abcd".to_owned()),
        logged: None,
        found_at: Some(format!(":sha256-{}.sig", digest(4).encoded())),
        source: EvidenceSource::Registry,
    });
    let mut signed_copy = facts(&a, unread.clone(), Some(&signed));
    // Signed, but the local image not tied to the signed manifest: not proven.
    signed_copy.id_check = None;
    let links = super::links(&signed_copy);
    assert_eq!(link(&links, MIRROR_COPY).status, Status::Unknown);
    let links = super::links(&facts(&a, unread, Some(&signed)));
    let mirror = link(&links, MIRROR_COPY);
    assert_eq!(mirror.status, Status::Ok, "{mirror:#?}");
    assert!(mirror.evidence.join(" ").contains("signed by acme"));
    let signatures = link(&links, SIGNATURES);
    assert_eq!(signatures.status, Status::Ok);
    assert!(
        signatures
            .evidence
            .join(" ")
            .contains("key acme (sha256:abcd)")
    );
    assert!(
        !signatures
            .evidence
            .join(" ")
            .contains("no publisher signature")
    );
}

#[test]
fn a_faithful_copy_is_ok_and_the_lock_decides_its_own_link() {
    let copy = format!("127.0.0.1:5001/acme/python@{}", digest(INDEX));
    let lock = Lock::parse(&format!(
        "version = 1\n[[image]]\nreference = \"python:3.12-slim\"\nnormalized = \"docker.io/library/python:3.12-slim\"\n\
         digest = \"{}\"\nmedia_type = \"application/vnd.oci.image.index.v1+json\"\nresolved_at = \"2026-11-23T12:00:00Z\"\n\
         registry = \"https://registry-1.docker.io\"\n",
        digest(8)
    ))
    .expect("a lock");
    let a = assessment(std::slice::from_ref(&copy), &[digest(INDEX)], Some(&lock));
    let p = provenance(COMMIT, MANIFEST, "3.12.13");
    let mut f = facts(&a, Ok(&p), None);
    f.lock_given = true;
    let links = links(&f);
    assert_eq!(link(&links, MIRROR_COPY).status, Status::Ok);
    assert!(
        link(&links, MIRROR_COPY).evidence[0]
            .starts_with("faithful: 127.0.0.1:5001/acme/python holds")
    );
    assert_eq!(link(&links, DOCKER_HUB).status, Status::Ok);
    assert!(
        link(&links, SIGNATURES)
            .evidence
            .join(" ")
            .contains("no publisher signature")
    );
    let lock_link = link(&links, LOCK);
    assert_eq!(lock_link.status, Status::Broken, "{lock_link:#?}");
    assert!(
        lock_link
            .fix
            .as_deref()
            .unwrap_or("")
            .contains(&format!("python:3.12-slim@{}", digest(8)))
    );
}

#[test]
fn an_image_id_that_is_not_the_served_config_breaks_the_docker_hub_link() {
    let a = official();
    let p = provenance(COMMIT, MANIFEST, "3.12.13");
    let differs = IdCheck::Differs("the image ID is not the config of the manifest".to_owned());
    let mut f = facts(&a, Ok(&p), None);
    f.id_check = Some(&differs);
    let links = links(&f);
    let hub = link(&links, DOCKER_HUB);
    assert_eq!(hub.status, Status::Broken);
    assert!(hub.fix.as_deref().unwrap_or("").contains("docker pull"));
}

#[test]
fn the_cluster_link_is_the_webhooks_decision_per_environment() {
    // End of life by the test's date: refused where the policy denies it.
    let link = cluster_link("python:3.8-slim", &Policy::default(), &context());
    assert_eq!(link.status, Status::Broken, "{link:#?}");
    assert!(
        link.evidence
            .iter()
            .any(|e| e.starts_with("prod: refused — PY")),
        "{link:#?}"
    );
    assert!(
        link.fix
            .as_deref()
            .is_some_and(|f| f.contains("PY006 (dev, prod, test): move to a supported Python line")),
        "{link:#?}"
    );
    // A signature rule that applies with no signature read: not decided here, so not ok.
    let mut policy = Policy::default();
    policy.signatures.push(acme_rule());
    let digest = digest(4);
    let link = cluster_link(
        &format!("registry.acme.example/python/python:3.12-slim@{digest}"),
        &policy,
        &context(),
    );
    assert_ne!(link.status, Status::Ok, "{link:#?}");
    assert!(
        link.evidence
            .iter()
            .any(|e| e.contains("the [[trust.signatures]] rule at pyimage.toml:4 applies")),
        "{link:#?}"
    );
}
