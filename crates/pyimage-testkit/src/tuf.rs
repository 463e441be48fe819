//! A TUF repository laid out as Sigstore's (https://tuf-repo-cdn.sigstore.dev: consistent snapshots, so
//! `N.root.json`, `timestamp.json`, `V.snapshot.json`, `V.targets.json`, `targets/<sha256>.<name>`), signed with
//! ECDSA P-256 keys made for the test. Sigstore's own keys cannot sign a new version, so a root rotation, a fresh
//! timestamp or a changed target are signed here — for real, with aws-lc-rs (not the RustCrypto code pyimage
//! verifies with), over the canonical JSON pyimage's verifier also uses (that part is checked against Sigstore's real
//! signatures in pyimage-trust's tests).

use anyhow::{Context as _, Result, anyhow};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// A signing key of a test repository.
pub struct TufKey {
    pair: EcdsaKeyPair,
    id: String,
    pem: String,
}

impl std::fmt::Debug for TufKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TufKey({})", self.id)
    }
}

impl TufKey {
    /// A new random key; its ID is the SHA-256 of its PEM.
    pub fn generate() -> Result<TufKey> {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING)
            .map_err(|_| anyhow!("cannot generate a P-256 key"))?;
        // SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (the 65-byte point) }
        let mut der = hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200")
            .context("the SubjectPublicKeyInfo prefix")?;
        der.extend_from_slice(pair.public_key().as_ref());
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(der)
        );
        Ok(TufKey {
            id: hex::encode(Sha256::digest(pem.as_bytes())),
            pair,
            pem,
        })
    }

    /// Its key ID.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Root metadata `version` whose four roles are each signed by one of `keys` (threshold 1), expiring at `expires`
/// (RFC 3339).
pub fn root(version: u64, keys: &[&TufKey], expires: &str) -> Value {
    let ids: Vec<&str> = keys.iter().map(|k| k.id.as_str()).collect();
    let role = json!({"keyids": ids, "threshold": 1});
    let keys: serde_json::Map<String, Value> = keys
        .iter()
        .map(|k| {
            (
                k.id.clone(),
                json!({"keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp256", "keyval": {"public": k.pem}}),
            )
        })
        .collect();
    json!({
        "_type": "root", "spec_version": "1.0", "version": version, "expires": expires,
        "consistent_snapshot": true, "keys": keys,
        "roles": {"root": role, "timestamp": role, "snapshot": role, "targets": role},
    })
}

/// The metadata file: `signed` with the signatures of `keys` over its canonical JSON.
pub fn sign(signed: &Value, keys: &[&TufKey]) -> Result<Vec<u8>> {
    let canonical = pyimage_trust::tuf::canonical_json(signed).map_err(|e| anyhow!(e))?;
    let rng = SystemRandom::new();
    let mut signatures = Vec::new();
    for key in keys {
        let signature = key
            .pair
            .sign(&rng, &canonical)
            .map_err(|_| anyhow!("cannot sign with {}", key.id))?;
        signatures.push(json!({"keyid": key.id, "sig": hex::encode(signature.as_ref())}));
    }
    Ok(serde_json::to_vec_pretty(
        &json!({"signatures": signatures, "signed": signed}),
    )?)
}

/// The timestamp, snapshot and targets metadata of a repository at `version` (all three share it) listing
/// `targets`, and the target files, signed by `key` and expiring at `expires`: (path, bytes) as the repository
/// serves them.
pub fn top_level(
    version: u64,
    targets: &[(&str, &[u8])],
    key: &TufKey,
    expires: &str,
) -> Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    let mut listed = serde_json::Map::new();
    for (name, bytes) in targets {
        let sha256 = hex::encode(Sha256::digest(bytes));
        listed.insert(
            (*name).to_owned(),
            json!({"length": bytes.len(), "hashes": {"sha256": sha256}}),
        );
        files.push((format!("targets/{sha256}.{name}"), bytes.to_vec()));
    }
    let targets = json!({"_type": "targets", "spec_version": "1.0", "version": version,
        "expires": expires, "targets": listed});
    let snapshot = json!({"_type": "snapshot", "spec_version": "1.0", "version": version,
        "expires": expires, "meta": {"targets.json": {"version": version}}});
    let timestamp = json!({"_type": "timestamp", "spec_version": "1.0", "version": version,
        "expires": expires, "meta": {"snapshot.json": {"version": version}}});
    files.push((format!("{version}.targets.json"), sign(&targets, &[key])?));
    files.push((format!("{version}.snapshot.json"), sign(&snapshot, &[key])?));
    files.push(("timestamp.json".to_owned(), sign(&timestamp, &[key])?));
    Ok(files)
}
