//! Cosign signatures found on a real registry (the replica's docker-registry): a real signature — the payload and
//! signature of containers/image's `dir-img-cosign-valid` fixture, exact bytes — stored as cosign stores it, a
//! signature manifest tagged `sha256-<hex>.sig` whose simple-signing layer carries the signature annotation. The
//! registry has no referrers API (404), which is not an error.

use pyimage_model::{Digest, Reference};
use pyimage_registry::signatures::{COSIGN_SIGNATURE_ARTIFACT, SIMPLE_SIGNING};
use pyimage_registry::{
    ClientOptions, CredentialStore, RegistriesConfig, RegistryClient, RegistrySettings,
};
use pyimage_testkit::Replica;
use pyimage_testkit::oci::Blob;

/// The image the fixture's payload names (the sha256 of its `manifest.json`).
const SIGNED: &str = "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/trust/cosign/containers-image/dir-img-cosign-valid")
            .join(name),
    )
    .unwrap()
}

fn client(replica: &Replica) -> RegistryClient {
    let mut config = RegistriesConfig::default();
    config.hosts.insert(
        "docker.io".to_owned(),
        RegistrySettings {
            endpoint: Some(replica.registry_url()),
            mirrors: Vec::new(),
            insecure: true,
            ca_file: None,
        },
    );
    RegistryClient::new(
        config,
        CredentialStore::anonymous(),
        ClientOptions::default(),
    )
    .unwrap()
}

/// Stores `payload` signed with `signature` for `image` as cosign does (tag scheme); returns the manifest.
fn store_signature(
    replica: &Replica,
    image: &str,
    layers: &[(&str, Vec<u8>, Option<String>)],
) -> Blob {
    let config = Blob::json(
        "application/vnd.oci.image.config.v1+json",
        &serde_json::json!({"architecture": "", "os": "", "config": {}, "rootfs": {"type": "layers", "diff_ids": []}}),
    );
    replica.push_blob(&config).unwrap();
    let mut descriptors = Vec::new();
    for (media_type, payload, signature) in layers {
        let blob = Blob::new(media_type, payload.clone());
        replica.push_blob(&blob).unwrap();
        let mut descriptor = serde_json::json!({
            "mediaType": media_type, "digest": blob.digest, "size": blob.size()
        });
        if let Some(signature) = signature {
            descriptor["annotations"] =
                serde_json::json!({"dev.cosignproject.cosign/signature": signature});
        }
        descriptors.push(descriptor);
    }
    let manifest = Blob::json(
        "application/vnd.oci.image.manifest.v1+json",
        &serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": config.media_type, "digest": config.digest, "size": config.size()},
            "layers": descriptors,
        }),
    );
    replica
        .push_manifest(&format!("{}.sig", image.replacen(':', "-", 1)), &manifest)
        .unwrap();
    manifest
}

#[test]
fn a_real_signature_stored_by_the_sig_tag_is_read_back_byte_for_byte() {
    let replica = Replica::start().unwrap();
    let payload = fixture("payload.json");
    let signature = String::from_utf8(fixture("signature.b64")).unwrap();
    store_signature(
        &replica,
        SIGNED,
        &[
            // A layer of another kind is not a signature and is passed over.
            (
                "application/vnd.example.note",
                b"not a signature".to_vec(),
                None,
            ),
            (SIMPLE_SIGNING, payload.clone(), Some(signature.clone())),
        ],
    );
    let client = client(&replica);
    let python = Reference::parse_normalized("python").unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let found = runtime
        .block_on(client.cosign_signatures(&python, &Digest::parse(SIGNED).unwrap()))
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].payload, payload);
    assert_eq!(found[0].signature, signature);
    assert_eq!(
        found[0].found_at,
        format!(":{}.sig", SIGNED.replacen(':', "-", 1))
    );
    assert_eq!(found[0].bundle, None);
    // Another image has no signature: an empty list, not an error.
    let other = "sha256:0489474da8ea22426ece86ace6c1c0026ab2fd3cdfbbd62b7e94650266c37d9a";
    let none = runtime
        .block_on(client.cosign_signatures(&python, &Digest::parse(other).unwrap()))
        .unwrap();
    assert!(none.is_empty());
    assert!(COSIGN_SIGNATURE_ARTIFACT.starts_with("application/vnd.dev.cosign"));
}

#[test]
fn a_payload_larger_than_a_signature_is_refused() {
    let replica = Replica::start().unwrap();
    store_signature(
        &replica,
        SIGNED,
        &[(
            SIMPLE_SIGNING,
            vec![b' '; 70 * 1024],
            Some("AAAA".to_owned()),
        )],
    );
    let python = Reference::parse_normalized("python").unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let error = runtime
        .block_on(client(&replica).cosign_signatures(&python, &Digest::parse(SIGNED).unwrap()))
        .unwrap_err();
    assert!(error.to_string().contains("larger than"), "{error}");
}
