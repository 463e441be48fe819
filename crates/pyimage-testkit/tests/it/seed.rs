//! Seeding the newest library file, checked with skopeo, a real independent client.

use std::process::Command;

use pyimage_testkit::oci::{ImageIndex, ImageManifest, sha256_digest};
use pyimage_testkit::{Replica, newest_library_file};

fn skopeo_raw(reference: &str) -> Vec<u8> {
    let output = Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{reference}"),
        ])
        .output()
        .expect("skopeo runs (install Debian's skopeo package)");
    assert!(
        output.status.success(),
        "skopeo inspect {reference} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[test]
fn seeded_newest_file_matches_ground_truth_through_skopeo() {
    let replica = Replica::start().unwrap();
    let seeded = replica.seed_file(newest_library_file().unwrap()).unwrap();
    let stats = &seeded.stats;
    eprintln!(
        "seeded {} entries, {} tags: {} manifests, {} indexes, {} blobs ({} present) in {:.2?}",
        stats.entries_built,
        seeded.truth.tags.len(),
        stats.manifests_pushed,
        stats.indexes_pushed,
        stats.blobs_pushed,
        stats.blobs_present,
        stats.elapsed
    );
    assert_eq!(stats.entries_built, 42);
    let truth = &seeded.truth;
    replica.token_server().clear_requests();

    let slim = truth.tag("3.12-slim").unwrap();
    let raw = skopeo_raw(&replica.reference("3.12-slim"));
    assert_eq!(sha256_digest(&raw), slim.digest);
    assert_eq!(slim.entry().unwrap().python_version, "3.12.14");
    let index: ImageIndex = serde_json::from_slice(&raw).unwrap();
    assert_eq!(index.media_type, slim.media_type);
    let images: Vec<_> = index
        .manifests
        .iter()
        .filter(|d| !d.is_attestation())
        .collect();
    let attestations: Vec<_> = index
        .manifests
        .iter()
        .filter(|d| d.is_attestation())
        .collect();
    assert_eq!(images.len(), slim.images.len());
    assert_eq!(attestations.len(), images.len());
    for (descriptor, image) in images.iter().zip(&slim.images) {
        assert_eq!(descriptor.digest, image.digest);
        assert_eq!(descriptor.platform.as_ref(), Some(&image.platform));
        assert_eq!(
            descriptor.annotations["org.opencontainers.image.revision"],
            slim.entry().unwrap().git_commit
        );
    }
    assert_eq!(slim.attestations().len(), images.len());

    // A platform manifest by digest, and its attestation manifest.
    let arm64 = slim.image("linux/arm64/v8").unwrap();
    let raw = skopeo_raw(&replica.reference(&arm64.digest));
    assert_eq!(sha256_digest(&raw), arm64.digest);
    let manifest: ImageManifest = serde_json::from_slice(&raw).unwrap();
    assert_eq!(manifest.config.digest, arm64.config_digest);
    let attestation = arm64.attestation_digest.as_ref().unwrap();
    let raw = skopeo_raw(&replica.reference(attestation));
    let attestation: ImageManifest = serde_json::from_slice(&raw).unwrap();
    assert_eq!(attestation.layers.len(), 2);

    // `3.14` spans Linux and Windows.
    let shared = truth.tag("3.14").unwrap();
    assert!(shared.shared);
    let platforms = shared.platform_digests();
    assert!(platforms.contains_key("windows/amd64") && platforms.contains_key("linux/amd64"));
    assert_eq!(
        sha256_digest(&skopeo_raw(&replica.reference("3.14"))),
        shared.digest
    );

    // skopeo pulled anonymously through the token server.
    let requests = replica.token_server().requests();
    assert!(!requests.is_empty());
    assert!(requests.iter().all(|r| !r.authenticated && r.status == 200));
}
