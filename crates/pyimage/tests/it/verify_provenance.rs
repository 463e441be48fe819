//! `pyimage provenance` on the Docker Hub replica: every seeded tag's attestations name the commit and directory the
//! official-images file lists (Windows images have none, as on Docker Hub); tampered content — a provenance that
//! claims a commit official-images does not list, an attestation attached to the wrong platform, an index without
//! attestations — is reported, with exit code 1. Tampering happens on a byte-identical mirror of the test's own, so
//! the shared replica stays as seeded.

use std::path::Path;
use std::process::Output;

use pyimage_testkit::{Tamper, newest_library_file};
use serde_json::Value;

use crate::support::{json, shared, stderr, stdout, tempdir};

fn library() -> String {
    newest_library_file().unwrap().display().to_string()
}

fn pyimage(config: &Path, args: &[&str]) -> Output {
    crate::support::pyimage().config(config).run(args)
}

fn outcome<'a>(platform: &'a Value, check: &str) -> Vec<&'a str> {
    platform["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == check)
        .map(|c| c["outcome"].as_str().unwrap())
        .collect()
}

#[test]
fn every_seeded_tag_matches_official_images() {
    let seeded = shared();
    let tags: Vec<&str> = seeded.truth.tags.keys().map(String::as_str).collect();
    assert!(tags.len() > 100, "{}", tags.len());
    let library = library();
    let mut args = vec![
        "provenance",
        "--format",
        "json",
        "--official-images",
        &library,
    ];
    let refs: Vec<String> = tags.iter().map(|t| format!("python:{t}")).collect();
    args.extend(refs.iter().map(String::as_str));
    let output = pyimage(&seeded.config, &args);
    let value = json(&output);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        value["signature"]
            .as_str()
            .unwrap()
            .contains("no publisher signature")
    );
    let reports = value["references"].as_array().unwrap();
    assert_eq!(reports.len(), tags.len());
    let (mut attested, mut bare) = (0, 0);
    for (report, tag) in reports.iter().zip(&tags) {
        let truth = seeded.truth.tag(tag).unwrap();
        assert_eq!(report["ok"], true, "{tag}: {report:#}");
        assert_eq!(report["digest"], truth.digest.as_str(), "{tag}");
        let platforms = report["platforms"].as_array().unwrap();
        assert_eq!(platforms.len(), truth.images.len(), "{tag}");
        for (platform, image) in platforms.iter().zip(&truth.images) {
            assert_eq!(platform["manifest"], image.digest.as_str(), "{tag}");
            let entry = truth
                .entries
                .iter()
                .find(|e| e.directory == image.directory)
                .unwrap();
            match &image.attestation_digest {
                Some(attestation) => {
                    attested += 1;
                    assert_eq!(platform["attestation"], attestation.as_str());
                    assert_eq!(
                        platform["provenance"]["commit"],
                        entry.git_commit.as_str(),
                        "{tag}"
                    );
                    assert_eq!(
                        platform["provenance"]["directory"],
                        entry.directory.as_str(),
                        "{tag}"
                    );
                    assert_eq!(platform["sbom"]["python"], entry.python_version.as_str());
                    assert_eq!(outcome(platform, "official-images"), ["match"], "{tag}");
                    assert_eq!(outcome(platform, "subject"), ["match", "match"], "{tag}");
                    assert_eq!(outcome(platform, "base-image"), ["match"], "{tag}");
                    assert_eq!(outcome(platform, "revision-annotation"), ["match"]);
                    assert_eq!(outcome(platform, "source"), ["match"]);
                }
                None => {
                    bare += 1;
                    assert_eq!(platform["attestation"], Value::Null);
                    assert_eq!(outcome(platform, "attestations"), ["unchecked"], "{tag}");
                }
            }
        }
    }
    assert!(
        attested > 500 && bare > 0,
        "{attested} attested, {bare} without"
    );
}

#[test]
fn one_platform_and_human_output() {
    let seeded = shared();
    let library = library();
    let output = pyimage(
        &seeded.config,
        &[
            "provenance",
            "--official-images",
            &library,
            "--platform",
            "linux/arm64",
            "python:3.12-slim",
        ],
    );
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    let truth = seeded.truth.tag("3.12-slim").unwrap();
    let entry = truth.entry().unwrap();
    assert!(text.contains("linux/arm64/v8"), "{text}");
    assert!(!text.contains("linux/amd64"), "{text}");
    assert!(
        text.contains(&format!("commit        {}", entry.git_commit)),
        "{text}"
    );
    assert!(
        text.contains(&format!("directory     {}", entry.directory)),
        "{text}"
    );
    assert!(text.contains("no publisher signature today"), "{text}");
    // A platform the index does not have is an input error.
    let output = pyimage(
        &seeded.config,
        &[
            "provenance",
            "--official-images",
            "none",
            "--platform",
            "linux/mips",
            "python:3.12-slim",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    // By digest: the record is searched for the commit and directory.
    let by_digest = format!("python@{}", truth.digest);
    let output = pyimage(
        &seeded.config,
        &[
            "provenance",
            "--format",
            "json",
            "--official-images",
            &library,
            &by_digest,
        ],
    );
    assert_eq!(output.status.code(), Some(0));
    let value = json(&output);
    let first = &value["references"][0]["platforms"][0];
    assert_eq!(outcome(first, "official-images"), ["match"]);
    // No record: unchecked, not a failure.
    let output = pyimage(
        &seeded.config,
        &[
            "provenance",
            "--format",
            "json",
            "--official-images",
            "none",
            "python:3.12-slim",
        ],
    );
    assert_eq!(output.status.code(), Some(0));
    let value = json(&output);
    assert_eq!(
        outcome(&value["references"][0]["platforms"][0], "official-images"),
        ["unchecked"]
    );
    // An unreadable record is an input error naming the file.
    let output = pyimage(
        &seeded.config,
        &[
            "provenance",
            "--official-images",
            "/nonexistent/library-python",
            "python:3.12-slim",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("/nonexistent/library-python"));
}

#[test]
fn tampered_attestations_are_mismatches() {
    let seeded = shared();
    let tags = ["3.11-slim", "3.10-slim", "3.13-slim"];
    let mirror = seeded.replica.mirror_tags("library/python", &tags).unwrap();
    let dir = tempdir("provenance-mirror");
    let config = dir.path().join("mirror.toml");
    std::fs::write(
        &config,
        format!(
            "[registries.\"docker.io\"]\nendpoint = \"{}\"\ninsecure = true\n",
            mirror.url()
        ),
    )
    .unwrap();
    let library = library();
    let provenance = |tag: &str| {
        let output = pyimage(
            &config,
            &[
                "provenance",
                "--format",
                "json",
                "--official-images",
                &library,
                &format!("python:{tag}"),
            ],
        );
        (output.status.code(), json(&output))
    };
    // Untampered copy: all match.
    let (code, _) = provenance("3.11-slim");
    assert_eq!(code, Some(0));

    // 1. A GitCommit official-images does not list.
    let forged = "0123456789abcdef0123456789abcdef01234567";
    mirror
        .tamper(
            "library/python",
            "3.11-slim",
            Tamper::ProvenanceCommit(forged.to_owned()),
        )
        .unwrap();
    let (code, value) = provenance("3.11-slim");
    assert_eq!(code, Some(1), "{value:#}");
    let report = &value["references"][0];
    assert_eq!(report["ok"], false);
    for platform in report["platforms"].as_array().unwrap() {
        assert_eq!(platform["provenance"]["commit"], forged);
        assert_eq!(
            outcome(platform, "official-images"),
            ["mismatch"],
            "{platform:#}"
        );
        assert_eq!(outcome(platform, "revision-annotation"), ["mismatch"]);
        let detail = platform["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "official-images")
            .unwrap()["detail"]
            .as_str()
            .unwrap()
            .to_owned();
        let entry = seeded.truth.tag("3.11-slim").unwrap().entry().unwrap();
        assert!(
            detail.contains(forged) && detail.contains(&entry.git_commit),
            "{detail}"
        );
    }

    // 2. Attestations attached to the wrong platform: the index's reference annotations are swapped, so the
    //    linux/amd64 image points at the attestation whose subject is the arm64 image.
    mirror
        .tamper(
            "library/python",
            "3.10-slim",
            Tamper::EditIndex(Box::new(|index| {
                let attestations: Vec<usize> = index
                    .manifests
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| d.is_attestation())
                    .map(|(i, _)| i)
                    .collect();
                let key = "vnd.docker.reference.digest";
                let first = index.manifests[attestations[0]].annotations[key].clone();
                let second = index.manifests[attestations[1]].annotations[key].clone();
                index.manifests[attestations[0]]
                    .annotations
                    .insert(key.to_owned(), second);
                index.manifests[attestations[1]]
                    .annotations
                    .insert(key.to_owned(), first);
            })),
        )
        .unwrap();
    let (code, value) = provenance("3.10-slim");
    assert_eq!(code, Some(1), "{value:#}");
    let platforms = value["references"][0]["platforms"].as_array().unwrap();
    let wrong: Vec<&Value> = platforms
        .iter()
        .filter(|p| outcome(p, "subject").contains(&"mismatch"))
        .collect();
    assert_eq!(
        wrong.len(),
        2,
        "exactly the two swapped platforms: {value:#}"
    );
    let detail = wrong[0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "subject")
        .unwrap()["detail"]
        .as_str()
        .unwrap();
    let other = wrong[1]["platform"].as_str().unwrap();
    assert!(detail.contains(&format!("(the {other} image)")), "{detail}");

    // 3. No attestations at all: reported as unchecked for every platform (not a pass of the commit check).
    mirror
        .tamper("library/python", "3.13-slim", Tamper::DropAttestations)
        .unwrap();
    let (_, value) = provenance("3.13-slim");
    for platform in value["references"][0]["platforms"].as_array().unwrap() {
        assert_eq!(platform["attestation"], Value::Null);
        assert_eq!(outcome(platform, "attestations"), ["unchecked"]);
        assert!(outcome(platform, "official-images").is_empty());
    }
}
