//! The PSF link against the real python.org bundles of testdata/trust: every bundle verifies for its release's
//! digest and signer; another digest, another signer, another trust root, a changed signature, entry timestamp or
//! proof each fail with their own verdict.

// The tests read fixtures and run the reference verifier (sigstore-python): the crate is pure, its tests need not be.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

use std::path::PathBuf;

mod cosign;

use pyimage_trust::psf::{self, BundleRequest, Fetched, Identities, PsfVerdict};
use pyimage_trust::root::TrustedRoot;
use pyimage_trust::sigstore::parse_sha256;

mod differential;
mod tuf;

fn testdata(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/trust")
        .join(path)
}

/// Rows of bundles.csv: (file, version, sha256, identity, issuer).
fn bundles() -> Vec<(String, String, String, String, String)> {
    let text = std::fs::read_to_string(testdata("psf/bundles.csv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|line| line.starts_with("bundles/"))
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let file = f[0].trim_start_matches("bundles/").to_owned();
            let version = f[1].rsplit('/').next().unwrap();
            let version = version
                .trim_start_matches("Python-")
                .trim_end_matches(".tar.xz")
                .trim_end_matches(".tgz");
            (
                file,
                version.to_owned(),
                f[2].to_owned(),
                f[4].to_owned(),
                f[5].to_owned(),
            )
        })
        .collect()
}

fn root() -> TrustedRoot {
    TrustedRoot::embedded().unwrap()
}

fn request_for(version: &str, sha256: &str) -> BundleRequest {
    psf::request(Some(version), Some(sha256), &Identities::builtin()).unwrap()
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(testdata(path)).unwrap()
}

#[test]
fn every_python_org_bundle_is_signed_by_the_psf() {
    let rows = bundles();
    assert_eq!(rows.len(), 9);
    for (file, version, sha256, identity, issuer) in rows {
        let request = request_for(&version, &sha256);
        assert_eq!(
            request.signer.identity, identity,
            "{file}: the table's signer"
        );
        assert_eq!(request.signer.issuer, issuer, "{file}: the table's issuer");
        let verdict = psf::judge(
            &request,
            &Fetched::Bundle(read(&format!("psf/bundles/{file}"))),
            &root(),
        );
        match verdict {
            PsfVerdict::SignedByPsf { signer, .. } => assert_eq!(signer, identity, "{file}"),
            other => panic!("{file}: {other:?}"),
        }
    }
}

#[test]
fn the_bundle_path_follows_python_org() {
    let request = request_for(
        "3.15.0a8",
        "28f1b6358609042ebcc81488ec24569519f50804bb07dc23cc707b281b031c69",
    );
    assert_eq!(request.path, "3.15.0/Python-3.15.0a8.tar.xz.sigstore");
    assert_eq!(
        request_for("3.9.25", &"0".repeat(64)).path,
        "3.9.25/Python-3.9.25.tar.xz.sigstore"
    );
}

#[test]
fn another_digest_is_a_hash_mismatch() {
    // The 3.12.13 bundle asked about 3.14.6's digest (from docker-library's history).
    let request = request_for(
        "3.12.13",
        "143b1ddd0c0e7da9ac1a27ab1cd5e1cc9f8ee3f2c2e3e0ee6b1e8c4c8a6b0c63",
    );
    let verdict = psf::judge(
        &request,
        &Fetched::Bundle(read("psf/bundles/Python-3.12.13.tar.xz.sigstore")),
        &root(),
    );
    assert_eq!(
        verdict,
        PsfVerdict::HashMismatch {
            signed: "c08bc65a81971c1dd5783182826503369466c7e67374d1646519adf05207b684".to_owned()
        }
    );
}

#[test]
fn another_signer_is_identity_wrong() {
    // 3.14.4's bundle served for 3.13.13: hugo@python.org signed it, the 3.13 line's manager is thomas@python.org.
    let request = request_for(
        "3.13.13",
        "d923c51303e38e249136fc1bdf3568d56ecb03214efdef48516176d3d7faaef8",
    );
    let verdict = psf::judge(
        &request,
        &Fetched::Bundle(read("psf/bundles/Python-3.14.4.tar.xz.sigstore")),
        &root(),
    );
    let PsfVerdict::IdentityWrong {
        expected,
        found,
        found_issuer,
        ..
    } = verdict
    else {
        panic!("{verdict:?}")
    };
    assert_eq!(expected, "thomas@python.org");
    assert_eq!(found, ["hugo@python.org"]);
    assert_eq!(
        found_issuer.as_deref(),
        Some("https://github.com/login/oauth")
    );
    // Same signer, other issuer: also wrong.
    let mut identities = Identities::builtin();
    identities.set(
        "3.14",
        pyimage_trust::sigstore::Identity {
            identity: "hugo@python.org".to_owned(),
            issuer: "https://accounts.google.com".to_owned(),
        },
    );
    let request = psf::request(
        Some("3.14.4"),
        Some("d923c51303e38e249136fc1bdf3568d56ecb03214efdef48516176d3d7faaef8"),
        &identities,
    )
    .unwrap();
    let verdict = psf::judge(
        &request,
        &Fetched::Bundle(read("psf/bundles/Python-3.14.4.tar.xz.sigstore")),
        &root(),
    );
    assert!(
        matches!(verdict, PsfVerdict::IdentityWrong { .. }),
        "{verdict:?}"
    );
}

#[test]
fn the_known_bad_bundle_without_checkpoint_is_invalid() {
    let request = psf::request(
        Some("3.12.5"),
        Some("38dc4e2c261d49c661196066edbfb70fdb16be4a79cc8220c224dfeb5636d405"),
        &Identities::builtin(),
    )
    .unwrap();
    let verdict = psf::judge(
        &request,
        &Fetched::Bundle(read("psf/known-bad/Python-3.12.5.tgz.sigstore")),
        &root(),
    );
    assert_eq!(
        verdict,
        PsfVerdict::InvalidBundle {
            why: "the log entry's inclusion proof carries no checkpoint".to_owned()
        }
    );
    // The repaired bundle python.org serves now verifies.
    let verdict = psf::judge(
        &request,
        &Fetched::Bundle(read("psf/bundles/Python-3.12.5.tgz.sigstore")),
        &root(),
    );
    assert!(
        matches!(verdict, PsfVerdict::SignedByPsf { .. }),
        "{verdict:?}"
    );
}

/// The 3.10.20 bundle with one JSON field changed by `edit`.
fn edited(edit: impl FnOnce(&mut serde_json::Value)) -> PsfVerdict {
    let mut bundle: serde_json::Value =
        serde_json::from_slice(&read("psf/bundles/Python-3.10.20.tar.xz.sigstore")).unwrap();
    edit(&mut bundle);
    let request = request_for(
        "3.10.20",
        "de6517421601e39a9a3bc3e1bc4c7b2f239297423ee05e282598c83ec0647505",
    );
    psf::judge(
        &request,
        &Fetched::Bundle(serde_json::to_vec(&bundle).unwrap()),
        &root(),
    )
}

fn flip_base64(value: &mut serde_json::Value, at: usize) {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let mut bytes = engine.decode(value.as_str().unwrap()).unwrap();
    bytes[at] ^= 1;
    *value = engine.encode(bytes).into();
}

fn invalid_because(verdict: PsfVerdict, words: &str) {
    match verdict {
        PsfVerdict::InvalidBundle { why } => assert!(why.contains(words), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_changed_signature_entry_timestamp_or_proof_is_invalid() {
    // The unchanged bundle verifies (so each failure below is the edit's).
    assert!(matches!(edited(|_| {}), PsfVerdict::SignedByPsf { .. }));
    invalid_because(
        edited(|b| flip_base64(&mut b["messageSignature"]["signature"], 20)),
        "signature",
    );
    invalid_because(
        edited(|b| {
            flip_base64(
                &mut b["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"]["signedEntryTimestamp"],
                20,
            )
        }),
        "signed entry timestamp",
    );
    invalid_because(
        edited(|b| {
            b["verificationMaterial"]["tlogEntries"][0]["integratedTime"] = "1772500000".into()
        }),
        "",
    );
    invalid_because(
        edited(|b| {
            flip_base64(
                &mut b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"][3],
                0,
            )
        }),
        "inclusion proof",
    );
    invalid_because(
        edited(|b| {
            let checkpoint = &mut b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]
                ["envelope"];
            let text = checkpoint.as_str().unwrap().replacen(
                "rekor.sigstore.dev - ",
                "rekor.sigstore.dev -  ",
                1,
            );
            *checkpoint = text.into();
        }),
        "checkpoint is not signed",
    );
}

#[test]
fn another_trust_root_refuses_the_certificate_and_the_log() {
    // The trust root with the CT logs' keys in place of Fulcio's and Rekor's: nothing chains, no log is known.
    let mut root = root();
    root.certificate_authorities
        .retain(|ca| ca.valid_for.end.is_some());
    let request = request_for(
        "3.14.4",
        "d923c51303e38e249136fc1bdf3568d56ecb03214efdef48516176d3d7faaef8",
    );
    invalid_because(
        psf::judge(
            &request,
            &Fetched::Bundle(read("psf/bundles/Python-3.14.4.tar.xz.sigstore")),
            &root,
        ),
        "does not chain",
    );
    let mut root = self::root();
    root.tlogs
        .retain(|log| log.base_url != "https://rekor.sigstore.dev");
    invalid_because(
        psf::judge(
            &request,
            &Fetched::Bundle(read("psf/bundles/Python-3.14.4.tar.xz.sigstore")),
            &root,
        ),
        "log the trust root does not name",
    );
}

#[test]
fn images_without_the_pair_are_not_checkable() {
    for (version, sha) in [
        (None, None),
        (Some("3.12.5"), None),
        (Some("3.12.5"), Some("nothex")),
    ] {
        let verdict = psf::request(version, sha, &Identities::builtin()).unwrap_err();
        assert!(
            matches!(verdict, PsfVerdict::NotCheckable { .. }),
            "{verdict:?}"
        );
    }
    let verdict = psf::request(
        Some("3.18.0"),
        Some(&"a".repeat(64)),
        &Identities::builtin(),
    )
    .unwrap_err();
    assert_eq!(
        verdict,
        PsfVerdict::UnknownReleaseLine {
            line: "3.18".to_owned()
        }
    );
    assert_eq!(
        psf::judge(
            &request_for("3.9.25", &"a".repeat(64)),
            &Fetched::NotPublished,
            &root()
        ),
        PsfVerdict::NoBundle
    );
    assert!(parse_sha256("sha256:").is_none());
    assert_eq!(
        parse_sha256(&format!("sha256:{}", "0a".repeat(32))),
        Some([10u8; 32])
    );
}
