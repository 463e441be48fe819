//! Provenance and verdict parsing: SLSA v0.2 and v1 statements, official-images matching, and never a panic on
//! arbitrary bytes (statements, attestation manifests, indexes, RepoTags/RepoDigests).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use pyimage_model::oci::{ImageIndex, OCI_INDEX};
use pyimage_model::{Digest, Library};
use pyimage_policy::provenance::{
    self, Expectations, Outcome, SbomSummary, SlsaProvenance, Statement,
};
use pyimage_policy::verify::{self, LocalImage, Upstream};

const LIBRARY: &str = "Maintainers: x\nGitRepo: https://github.com/docker-library/python.git\n\n\
Tags: 3.12.14-slim-trixie, 3.12-slim-trixie, 3.12-slim\nArchitectures: amd64, arm64v8\n\
GitCommit: 1111111111111111111111111111111111111111\nDirectory: 3.12/slim-trixie\n";

fn digest(n: u8) -> Digest {
    Digest::sha256_from_hex(&format!("{n:02x}").repeat(32)).unwrap()
}

fn v02(subject: &Digest, commit: &str, directory: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": "pkg:docker/python@3.12-slim", "digest": {"sha256": subject.encoded()}}],
        "predicate": {
            "builder": {"id": "https://github.com/docker-library"},
            "buildType": "https://mobyproject.org/buildkit@v1",
            "materials": [
                {"uri": "pkg:docker/debian@trixie-slim?platform=linux%2Famd64", "digest": {"sha256": digest(9).encoded()}}
            ],
            "invocation": {
                "configSource": {"uri": "https://github.com/docker-library/python.git", "digest": {"sha1": commit}, "entryPoint": "Dockerfile"},
                "parameters": {"args": {"context": format!("https://github.com/docker-library/python.git#{commit}:{directory}")}}
            }
        }
    }))
    .unwrap()
}

#[test]
fn v02_provenance_matches_the_record() {
    let library = Library::parse(LIBRARY).unwrap();
    let statement = Statement::parse(
        &v02(
            &digest(1),
            "1111111111111111111111111111111111111111",
            "3.12/slim-trixie",
        ),
        "x",
    )
    .unwrap();
    let p = SlsaProvenance::from_statement(&statement).unwrap();
    assert_eq!(p.directory.as_deref(), Some("3.12/slim-trixie"));
    assert_eq!(p.base_image().unwrap().digest, Some(digest(9)));
    let report = provenance::assess_platform(
        "linux/amd64",
        &digest(1),
        Some(&digest(5)),
        std::slice::from_ref(&statement),
        &BTreeMap::from([(digest(2), "linux/arm64/v8".to_owned())]),
        Some(&library),
        &Expectations {
            tag: Some("3.12-slim".into()),
            base_digest: Some(digest(9).to_string()),
            ..Expectations::default()
        },
    );
    assert!(!report.failed(), "{report:#?}");
    // The same statement attached to the arm64 image: the subject names the amd64 image.
    let wrong = provenance::assess_platform(
        "linux/arm64/v8",
        &digest(2),
        Some(&digest(6)),
        std::slice::from_ref(&statement),
        &BTreeMap::from([(digest(1), "linux/amd64".to_owned())]),
        Some(&library),
        &Expectations::default(),
    );
    assert!(wrong.failed());
    assert!(wrong.checks[0].detail.contains("(the linux/amd64 image)"));
    // A commit the record does not list for the tag.
    let forged = Statement::parse(
        &v02(
            &digest(1),
            "2222222222222222222222222222222222222222",
            "3.12/slim-trixie",
        ),
        "x",
    )
    .unwrap();
    let p = SlsaProvenance::from_statement(&forged).unwrap();
    let check = provenance::official_images_check(Some(&library), Some("3.12-slim"), &p);
    assert_eq!(check.outcome, Outcome::Mismatch);
    let check = provenance::official_images_check(Some(&library), None, &p);
    assert_eq!(check.outcome, Outcome::NotListed);
    let check = provenance::official_images_check(Some(&library), Some("3.99"), &p);
    assert_eq!(check.outcome, Outcome::NotListed);
}

#[test]
fn v1_provenance_and_sbom() {
    let v1 = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "predicateType": "https://slsa.dev/provenance/v1",
        "subject": [{"digest": {"sha256": digest(1).encoded()}}],
        "predicate": {
            "buildDefinition": {
                "buildType": "https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md",
                "externalParameters": {
                    "configSource": {"uri": "https://github.com/docker-library/python.git", "digest": {"sha1": "abc"}, "path": "Dockerfile"},
                    "request": {"args": {"context": "https://github.com/docker-library/python.git#abc:3.13/alpine3.22"}}
                },
                "resolvedDependencies": [{"uri": "pkg:docker/alpine@3.22", "digest": {"sha256": digest(3).encoded()}}]
            },
            "runDetails": {"builder": {"id": "https://github.com/docker-library"}}
        }
    });
    let statement = Statement::parse(&serde_json::to_vec(&v1).unwrap(), "v1").unwrap();
    let p = SlsaProvenance::from_statement(&statement).unwrap();
    assert_eq!(p.commit.as_deref(), Some("abc"));
    assert_eq!(p.directory.as_deref(), Some("3.13/alpine3.22"));
    assert_eq!(p.base_image().unwrap().digest, Some(digest(3)));
    let sbom = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://spdx.dev/Document",
        "subject": [],
        "predicate": {"spdxVersion": "SPDX-2.3", "packages": [{"name": "musl"}, {"name": "python", "versionInfo": "3.13.9"}]}
    });
    let statement = Statement::parse(&serde_json::to_vec(&sbom).unwrap(), "sbom").unwrap();
    let s = SbomSummary::from_statement(&statement).unwrap();
    assert_eq!((s.packages, s.python.as_deref()), (2, Some("3.13.9")));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Statement::parse(&bytes, "x");
        let _ = provenance::attestation_layers(&bytes, "x");
        let _ = ImageIndex::parse(&bytes, OCI_INDEX);
    }

    #[test]
    fn arbitrary_json_statements_never_panic(
        predicate in prop_oneof![
            Just("https://slsa.dev/provenance/v0.2"),
            Just("https://slsa.dev/provenance/v1"),
            Just("https://spdx.dev/Document"),
        ],
        body in "[{}\\[\\]\":,a-z0-9 ]{0,200}",
    ) {
        let text = format!(
            "{{\"_type\":\"https://in-toto.io/Statement/v0.1\",\"predicateType\":\"{predicate}\",\"subject\":[],\"predicate\":{body}}}"
        );
        if let Ok(statement) = Statement::parse(text.as_bytes(), "x") {
            let _ = SlsaProvenance::from_statement(&statement);
            let _ = SbomSummary::from_statement(&statement);
            let _ = provenance::assess_platform(
                "linux/amd64", &digest(1), Some(&digest(2)), &[statement], &BTreeMap::new(), None,
                &Expectations { revision: Some("x".into()), base_digest: Some("y".into()), python_version: Some("3".into()), tag: None },
            );
        }
    }

    #[test]
    fn arbitrary_names_never_panic(
        tags in proptest::collection::vec("[ -~]{0,40}", 0..4),
        digests in proptest::collection::vec("[ -~]{0,80}", 0..4),
    ) {
        let image = LocalImage { repo_tags: tags, repo_digests: digests, ..LocalImage::default() };
        let plan = verify::plan(&image, None);
        let a = verify::decide(&image, None, &Upstream::default(), None);
        prop_assert!(plan.digests.len() <= image.repo_digests.len());
        prop_assert!(!a.reasons.is_empty());
    }
}
