//! Faithful mirrors (byte-identical copies, same digests) and hostile ones (tampered content), checked with
//! skopeo and a raw registry client; and the content of the attestations the seeder builds.

use std::process::Command;

use pyimage_testkit::client::RegistryClient;
use pyimage_testkit::oci::{
    ImageIndex, ImageManifest, PREDICATE_TYPE, SLSA_PROVENANCE_V02, SPDX_DOCUMENT, sha256_digest,
};
use pyimage_testkit::{PlainRegistry, Replica, Tamper, newest_library_file};
use serde_json::Value;

fn skopeo(args: &[&str]) -> Vec<u8> {
    let output = Command::new("skopeo")
        .args(args)
        .output()
        .expect("skopeo runs");
    assert!(
        output.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn skopeo_digest(reference: &str) -> String {
    sha256_digest(&skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{reference}"),
    ]))
}

fn skopeo_tags(registry: &PlainRegistry, repository: &str) -> Vec<String> {
    let listing = skopeo(&[
        "list-tags",
        "--tls-verify=false",
        &format!("docker://{}/{repository}", registry.host()),
    ]);
    let listing: Value = serde_json::from_slice(&listing).unwrap();
    let mut tags: Vec<String> = serde_json::from_value(listing["Tags"].clone()).unwrap();
    tags.sort();
    tags
}

/// Reads JSON documents from a registry with a plain client (anonymous).
struct Reader {
    runtime: tokio::runtime::Runtime,
    client: RegistryClient,
    repository: String,
}

impl Reader {
    fn new(url: &str, repository: &str) -> Self {
        Reader {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            client: RegistryClient::new(url, None).unwrap(),
            repository: repository.to_owned(),
        }
    }

    fn manifest_digest(&self, reference: &str) -> String {
        self.runtime
            .block_on(self.client.get_manifest(&self.repository, reference))
            .unwrap()
            .digest
    }

    fn manifest<T: serde::de::DeserializeOwned>(&self, reference: &str) -> T {
        let blob = self
            .runtime
            .block_on(self.client.get_manifest(&self.repository, reference))
            .unwrap();
        serde_json::from_slice(&blob.bytes).unwrap()
    }

    fn blob_json(&self, digest: &str) -> Value {
        let bytes = self
            .runtime
            .block_on(self.client.get_blob(&self.repository, digest))
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    /// The in-toto statement of one predicate type in the attestation manifest `digest`.
    fn statement(&self, attestation: &str, predicate_type: &str) -> Value {
        let manifest: ImageManifest = self.manifest(attestation);
        let layer = manifest
            .layers
            .iter()
            .find(|l| l.annotations.get(PREDICATE_TYPE).map(String::as_str) == Some(predicate_type))
            .unwrap();
        assert_eq!(layer.media_type, "application/vnd.in-toto+json");
        self.blob_json(&layer.digest)
    }
}

#[test]
fn a_mirror_is_byte_identical_and_tampering_shows_in_its_digests() {
    let (replica, seeded) = Replica::start_seeded(newest_library_file().unwrap()).unwrap();
    let truth = seeded.truth;
    let mirror = replica.mirror().unwrap();

    // Every tag, same digest; skopeo agrees on a few, by tag and by digest.
    let expected_tags: Vec<String> = truth.tags.keys().cloned().collect();
    assert_eq!(skopeo_tags(&mirror, "library/python"), expected_tags);
    let reader = Reader::new(&mirror.url(), "library/python");
    for (tag, tag_truth) in &truth.tags {
        assert_eq!(reader.manifest_digest(tag), tag_truth.digest, "{tag}");
    }
    for tag in ["3.12-slim", "3.14", "3.15-rc-alpine"] {
        assert_eq!(
            skopeo_digest(&mirror.reference("library/python", tag)),
            truth.digest(tag).unwrap()
        );
    }
    let slim = truth.tag("3.12-slim").unwrap();
    let amd64 = slim.image("linux/amd64").unwrap();
    assert_eq!(
        skopeo_digest(&mirror.reference("library/python", &amd64.digest)),
        amd64.digest
    );

    // The attestations say what the library file says.
    let entry = slim.entry().unwrap();
    let provenance = reader.statement(
        amd64.attestation_digest.as_ref().unwrap(),
        SLSA_PROVENANCE_V02,
    );
    let amd64_hex = amd64.digest.strip_prefix("sha256:").unwrap();
    assert_eq!(provenance["_type"], "https://in-toto.io/Statement/v0.1");
    assert_eq!(provenance["predicateType"], SLSA_PROVENANCE_V02);
    assert_eq!(provenance["subject"][0]["digest"]["sha256"], amd64_hex);
    let predicate = &provenance["predicate"];
    assert_eq!(
        predicate["builder"]["id"],
        "https://github.com/docker-library"
    );
    assert_eq!(
        predicate["buildType"],
        "https://mobyproject.org/buildkit@v1"
    );
    let config_source = &predicate["invocation"]["configSource"];
    assert_eq!(
        config_source["uri"],
        "https://github.com/docker-library/python.git"
    );
    assert_eq!(config_source["digest"]["sha1"], entry.git_commit.as_str());
    assert_eq!(config_source["entryPoint"], "Dockerfile");
    assert_eq!(
        predicate["invocation"]["parameters"]["args"]["context"],
        format!(
            "https://github.com/docker-library/python.git#{}:3.12/slim-trixie",
            entry.git_commit
        )
    );
    assert_eq!(
        predicate["materials"][0]["uri"],
        "pkg:docker/debian@trixie-slim?platform=linux%2Famd64"
    );
    assert_eq!(
        format!(
            "sha256:{}",
            predicate["materials"][0]["digest"]["sha256"]
                .as_str()
                .unwrap()
        ),
        entry.base_digest
    );
    let sbom = reader.statement(amd64.attestation_digest.as_ref().unwrap(), SPDX_DOCUMENT);
    assert_eq!(sbom["subject"][0]["digest"]["sha256"], amd64_hex);
    assert_eq!(sbom["predicate"]["spdxVersion"], "SPDX-2.3");
    let python = sbom["predicate"]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "python")
        .unwrap();
    assert_eq!(python["versionInfo"], "3.12.14");
    let image: ImageManifest = reader.manifest(&amd64.digest);
    assert_eq!(
        image.annotations["org.opencontainers.image.base.name"],
        "docker.io/library/debian:trixie-slim"
    );
    assert_eq!(
        image.annotations["org.opencontainers.image.base.digest"],
        entry.base_digest
    );
    let config = reader.blob_json(&image.config.digest);
    assert!(
        config["config"]["Env"]
            .as_array()
            .unwrap()
            .contains(&Value::from("PYTHON_VERSION=3.12.14"))
    );

    // Tampering on the mirror: each changes what the mirror serves, never the replica.
    let dropped = mirror
        .tamper("library/python", "3.12-slim", Tamper::DropAttestations)
        .unwrap();
    assert_eq!(dropped.old_digest, slim.digest);
    assert_eq!(
        skopeo_digest(&mirror.reference("library/python", "3.12-slim")),
        dropped.new_digest
    );
    let index: ImageIndex = reader.manifest("3.12-slim");
    assert!(index.manifests.iter().all(|d| !d.is_attestation()));
    assert_eq!(skopeo_digest(&replica.reference("3.12-slim")), slim.digest);

    let forged = mirror
        .tamper(
            "library/python",
            "3.13-slim",
            Tamper::ProvenanceCommit("0".repeat(40)),
        )
        .unwrap();
    let index: ImageIndex = reader.manifest(&forged.new_digest);
    let attestation = index.manifests.iter().find(|d| d.is_attestation()).unwrap();
    let provenance = reader.statement(&attestation.digest, SLSA_PROVENANCE_V02);
    assert_eq!(
        provenance["predicate"]["invocation"]["configSource"]["digest"]["sha1"],
        "0".repeat(40)
    );
    // The images themselves are untouched.
    let original = truth.tag("3.13-slim").unwrap();
    let images: Vec<&str> = index
        .manifests
        .iter()
        .filter(|d| !d.is_attestation())
        .map(|d| d.digest.as_str())
        .collect();
    let expected: Vec<&str> = original.images.iter().map(|i| i.digest.as_str()).collect();
    assert_eq!(images, expected);

    let relabelled = mirror
        .tamper(
            "library/python",
            "3.11-slim",
            Tamper::PythonVersion("3.11.99".into()),
        )
        .unwrap();
    let index: ImageIndex = reader.manifest(&relabelled.new_digest);
    let image: ImageManifest = reader.manifest(&index.manifests[0].digest);
    let config = reader.blob_json(&image.config.digest);
    assert!(
        config["config"]["Env"]
            .as_array()
            .unwrap()
            .contains(&Value::from("PYTHON_VERSION=3.11.99"))
    );

    // A tag swap.
    mirror
        .retag("library/python", "3.12", truth.digest("3.11").unwrap())
        .unwrap();
    assert_eq!(
        skopeo_digest(&mirror.reference("library/python", "3.12")),
        truth.digest("3.11").unwrap()
    );

    // Tampering on the replica itself leaves the ground truth alone.
    let revised = replica
        .tamper("3.10-slim", Tamper::RevisionAnnotation("f".repeat(40)))
        .unwrap();
    assert_eq!(
        skopeo_digest(&replica.reference("3.10-slim")),
        revised.new_digest
    );
    assert_eq!(
        replica.ground_truth().unwrap().digest("3.10-slim"),
        truth.digest("3.10-slim")
    );
}

#[test]
fn a_partial_mirror_under_another_name_holds_only_what_was_copied() {
    let (replica, seeded) = Replica::start_seeded(newest_library_file().unwrap()).unwrap();
    let private = replica
        .mirror_tags("acme/python", &["3.12-slim", "3.14"])
        .unwrap();
    assert_eq!(skopeo_tags(&private, "acme/python"), ["3.12-slim", "3.14"]);
    for tag in ["3.12-slim", "3.14"] {
        assert_eq!(
            skopeo_digest(&private.reference("acme/python", tag)),
            seeded.truth.digest(tag).unwrap()
        );
    }
    let copied = private.copied().unwrap();
    assert_eq!(copied.repository, "acme/python");
    assert_eq!(copied.tags.len(), 2);
    // Platform manifests came along: `skopeo copy --all` from the private registry works.
    let layout = tempfile::tempdir().unwrap();
    skopeo(&[
        "copy",
        "--all",
        "--src-tls-verify=false",
        &format!("docker://{}", private.reference("acme/python", "3.14")),
        &format!("oci:{}:3.14", layout.path().display()),
    ]);
}
