//! Key-based cosign signatures against the real fixtures of testdata/trust/cosign (checked with openssl, see its
//! README): each verifies with its key for the digest its payload names; the other key, a one-byte-changed payload,
//! another image's digest, a changed Rekor bundle each fail with their own reason.

use pyimage_trust::cosign::{PublicKey, SignatureLayer, verify_image};
use pyimage_trust::root::TrustedRoot;
use serde_json::Value;

use super::testdata;

fn read(path: &str) -> String {
    std::fs::read_to_string(testdata(path)).unwrap()
}

fn key(path: &str) -> PublicKey {
    PublicKey::from_pem(path, &read(path)).unwrap()
}

fn layer(fixture: &str) -> SignatureLayer {
    SignatureLayer {
        payload: std::fs::read(testdata(&format!("cosign/{fixture}/payload.json"))).unwrap(),
        signature: read(&format!("cosign/{fixture}/signature.b64")),
        bundle: None,
    }
}

/// (fixture, key, image digest) of every signature expected.json says is valid.
fn valid() -> Vec<(String, String, String)> {
    let expected: Value = serde_json::from_str(&read("cosign/expected.json")).unwrap();
    expected
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["expected"].as_str().unwrap().starts_with("valid"))
        .map(|f| {
            (
                f["fixture"].as_str().unwrap().to_owned(),
                format!("cosign/{}", f["key"].as_str().unwrap()),
                f["image_digest"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_real_signature_verifies_with_its_key_for_its_image() {
    let fixtures = valid();
    assert_eq!(
        fixtures.len(),
        4,
        "ECDSA, RSA, two containers/image signatures"
    );
    for (fixture, key_path, digest) in &fixtures {
        let signed = verify_image(digest, &[layer(fixture)], &[key(key_path)], None, false)
            .unwrap_or_else(|e| panic!("{fixture}: {e:?}"));
        assert_eq!(&signed.key, key_path);
        assert!(signed.docker_reference.is_some());
    }
}

#[test]
fn the_other_key_a_changed_payload_or_another_image_is_refused() {
    let digest = "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00";
    let right = key("cosign/containers-image/cosign.pub");
    let other = key("cosign/containers-image/cosign2.pub");
    let signed = layer("containers-image/dir-img-cosign-valid");
    let refused = verify_image(
        digest,
        std::slice::from_ref(&signed),
        std::slice::from_ref(&other),
        None,
        false,
    )
    .unwrap_err();
    assert!(
        refused.reasons[0].contains("no key of the policy"),
        "{refused:?}"
    );
    // One byte more: the signature no longer verifies.
    let mut changed = signed.clone();
    changed.payload.push(b'\n');
    let refused = verify_image(
        digest,
        &[changed],
        std::slice::from_ref(&right),
        None,
        false,
    )
    .unwrap_err();
    assert!(
        refused.reasons[0].contains("no key of the policy"),
        "{refused:?}"
    );
    // A valid signature of another image: substitution.
    let elsewhere = "sha256:0489474da8ea22426ece86ace6c1c0026ab2fd3cdfbbd62b7e94650266c37d9a";
    let refused = verify_image(
        elsewhere,
        std::slice::from_ref(&signed),
        std::slice::from_ref(&right),
        None,
        false,
    )
    .unwrap_err();
    assert!(
        refused.reasons[0].contains("for another image (sha256:634a8f35"),
        "{refused:?}"
    );
    // The image's manifest bytes hash to the digest the payload names (what the registry serves is what was signed).
    let manifest = std::fs::read(testdata(
        "cosign/containers-image/dir-img-cosign-valid/manifest.json",
    ))
    .unwrap();
    assert_eq!(
        format!(
            "sha256:{}",
            pyimage_trust::sigstore::hex(&sha2_digest(&manifest))
        ),
        digest
    );
    // Several keys: the one that verifies is named.
    let either = verify_image(digest, &[signed], &[other, right], None, false).unwrap();
    assert_eq!(either.key, "cosign/containers-image/cosign.pub");
    assert!(verify_image(digest, &[], &[key("cosign/dhi-2.pub")], None, false).is_err());
}

fn sha2_digest(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).into()
}

#[test]
fn a_logged_signature_is_checked_against_the_log_and_a_changed_bundle_is_refused() {
    let fixture = "containers-image/dir-img-cosign-key-rekor-valid";
    let digest = "sha256:0489474da8ea22426ece86ace6c1c0026ab2fd3cdfbbd62b7e94650266c37d9a";
    let root = TrustedRoot::embedded().unwrap();
    let cosign2 = key("cosign/containers-image/cosign2.pub");
    let mut logged = layer(fixture);
    // Without its bundle, a policy that requires the log refuses it.
    let refused = verify_image(
        digest,
        std::slice::from_ref(&logged),
        std::slice::from_ref(&cosign2),
        Some(&root),
        true,
    )
    .unwrap_err();
    assert!(refused.reasons[0].contains("not logged"), "{refused:?}");
    logged.bundle = Some(read(&format!("cosign/{fixture}/rekor-bundle.json")));
    let signed = verify_image(
        digest,
        std::slice::from_ref(&logged),
        std::slice::from_ref(&cosign2),
        Some(&root),
        true,
    )
    .unwrap();
    let log = signed.logged.unwrap();
    assert_eq!(
        (log.log_index, log.integrated_time),
        (11_608_800, 1_674_251_859)
    );
    assert_eq!(log.log, "https://rekor.sigstore.dev");
    // A bundle whose integrated time was changed no longer carries the log's signature.
    let mut tampered = logged.clone();
    tampered.bundle = Some(
        read(&format!("cosign/{fixture}/rekor-bundle.json")).replace("1674251859", "1674251860"),
    );
    let refused = verify_image(digest, &[tampered], &[cosign2], Some(&root), false).unwrap_err();
    assert!(
        refused.reasons[0].contains("signed entry timestamp"),
        "{refused:?}"
    );
}

#[test]
fn keys_that_are_not_cosign_keys_are_named() {
    let error = PublicKey::from_pem("x.pub", "not a key").unwrap_err();
    assert!(error.contains("x.pub"), "{error}");
    let dhi = key("cosign/dhi-2.pub");
    assert_eq!(
        format!("{dhi:?}"),
        "PublicKey(cosign/dhi-2.pub, ECDSA P-256)"
    );
    let rsa = key("cosign/sigstore-rs/rsa-suse-obs/public.pem");
    assert!(format!("{rsa:?}").contains("RSA"));
}

/// The fingerprints are the sha256 of the DER SubjectPublicKeyInfo that the DHI keyring's README (checked with
/// openssl in ../shared/data/trust/dhi/README.md) gives, and the embedded key is the active DHI key.
#[test]
fn fingerprints_are_the_der_sha256_and_the_embedded_dhi_key_is_the_active_one() {
    let embedded = PublicKey::from_pem("dhi", pyimage_trust::cosign::DHI_PUBLIC_KEY).unwrap();
    assert_eq!(
        embedded.fingerprint(),
        "sha256:118ba556dd52f4aec67018efd316c285c783cd3e54cc0f4527605715c643887c"
    );
    let old = key("cosign/dhi-1.pub");
    assert_eq!(
        old.fingerprint(),
        "sha256:1b431f0d467ecc9e3d97e5b446980599a99c3a386e42ea628b172db1051c737b"
    );
}
