//! Verification of a Sigstore message-signature bundle against an expected artifact digest, signer identity and
//! trust root, offline: the certificate chains to a Fulcio CA of the root and was valid when the log integrated the
//! entry; its SAN and OIDC-issuer extension are the expected ones; the ECDSA signature over the digest verifies with
//! its key; the Rekor entry binds the same digest, signature and certificate, its signed entry timestamp verifies with
//! the log's key, its inclusion proof leads to the root hash of a checkpoint the log signed.
//!
//! Written by hand on RustCrypto (p256/p384/x509-cert) because the `sigstore` crate (0.15) neither checks the signed
//! entry timestamp nor the inclusion proof of a bundle, and its verifier pulls in an HTTP client, OAuth and (by
//! default) OpenSSL. Not checked here: the certificate's embedded SCT and RFC 3161 timestamps (the log's integrated
//! time, under its signature, is the signing time).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use der::asn1::{ObjectIdentifier, Utf8StringRef};
use der::{Decode as _, Encode as _};
use sha2::{Digest as _, Sha256, Sha384};
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectAltName};

use crate::bundle::Bundle;
use crate::merkle;
use crate::root::TrustedRoot;

const SAN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
/// Fulcio's OIDC issuer extension (DER UTF8String), and its deprecated raw-bytes predecessor.
const FULCIO_ISSUER_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
const FULCIO_ISSUER_V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// Who must have signed: the certificate's SAN (an e-mail address for CPython release managers) and OIDC issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The SAN (e-mail or URI).
    pub identity: String,
    /// The OIDC issuer (`https://accounts.google.com`).
    pub issuer: String,
}

/// What a bundle that verifies proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The signer as the certificate names it.
    pub signer: Identity,
    /// The log's integrated time (Unix seconds): when it was signed.
    pub integrated_time: u64,
    /// The Rekor log index.
    pub log_index: u64,
    /// The log (`https://rekor.sigstore.dev`).
    pub log: String,
}

/// Why a bundle does not verify, by kind: the kinds are the distinct verdicts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The certificate names another signer (or issuer) than expected.
    Identity {
        /// The SANs the certificate names.
        found: Vec<String>,
        /// The OIDC issuer it names, if any.
        issuer: Option<String>,
    },
    /// The bundle signs another digest than the one asked about.
    Digest {
        /// The digest it signs, hex.
        signed: String,
    },
    /// Anything else: a certificate not from the trust root's CA, a bad signature, a log proof that fails, a
    /// missing proof.
    Invalid(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Identity { found, issuer } => write!(
                f,
                "signed by {} (issuer {})",
                if found.is_empty() {
                    "nobody named".to_owned()
                } else {
                    found.join(", ")
                },
                issuer.as_deref().unwrap_or("none")
            ),
            Failure::Digest { signed } => write!(f, "the bundle signs sha256:{signed}"),
            Failure::Invalid(why) => f.write_str(why),
        }
    }
}

fn invalid(why: impl Into<String>) -> Failure {
    Failure::Invalid(why.into())
}

/// Verifies `bundle` as a signature by `expected` over the artifact whose SHA-256 is `digest`, against `root`.
pub fn verify(
    bundle: &Bundle,
    digest: &[u8; 32],
    expected: &Identity,
    root: &TrustedRoot,
) -> Result<Verified, Failure> {
    let entry = &bundle.tlog_entry;
    // Like sigstore-python, require the log's inclusion proof with a signed checkpoint: a promise alone is weaker.
    let proof = entry
        .inclusion_proof
        .as_ref()
        .ok_or_else(|| invalid("the log entry carries no inclusion proof"))?;
    let checkpoint = proof
        .checkpoint
        .as_deref()
        .ok_or_else(|| invalid("the log entry's inclusion proof carries no checkpoint"))?;
    if entry.kind != "hashedrekord" || entry.kind_version != "0.0.1" {
        return Err(invalid(format!(
            "log entry kind {} {} (hashedrekord 0.0.1 expected for a message signature)",
            entry.kind, entry.kind_version
        )));
    }
    let signed_at = entry.integrated_time;

    // 1. The certificate: issued by a CA of the trust root, valid at the signing time, for code signing.
    let leaf = Certificate::from_der(&bundle.certificate)
        .map_err(|e| invalid(format!("the signing certificate does not parse ({e})")))?;
    chain_to_root(&leaf, signed_at, root)?;
    let usage = extension(&leaf, EXTENDED_KEY_USAGE)
        .and_then(|value| ExtendedKeyUsage::from_der(value).ok())
        .is_some_and(|usage| usage.0.contains(&CODE_SIGNING));
    if !usage {
        return Err(invalid("the signing certificate is not for code signing"));
    }

    // 2. The signer.
    let signer = signer_of(&leaf);
    if !signer.0.contains(&expected.identity)
        || signer.1.as_deref() != Some(expected.issuer.as_str())
    {
        return Err(Failure::Identity {
            found: signer.0,
            issuer: signer.1,
        });
    }

    // 3. The digest and the signature over it.
    if bundle.message_digest != *digest {
        return Err(Failure::Digest {
            signed: hex(&bundle.message_digest),
        });
    }
    let key = &leaf.tbs_certificate.subject_public_key_info;
    verify_prehash(key, digest, &bundle.signature).map_err(|e| {
        invalid(format!(
            "the signature over the digest does not verify ({e})"
        ))
    })?;

    // 4. The log entry: same digest, signature and certificate; signed by a log of the root; included.
    entry_matches(&entry.body, digest, &bundle.signature, &bundle.certificate)?;
    let log = root
        .tlog(&entry.log_id)
        .ok_or_else(|| invalid("the log entry is from a log the trust root does not name"))?;
    if !log.valid_for.contains(signed_at) {
        return Err(invalid(format!(
            "the log {} was not trusted at the entry's integrated time",
            log.base_url
        )));
    }
    let log_key =
        x509_cert::spki::SubjectPublicKeyInfoOwned::from_der(&log.public_key).map_err(|e| {
            invalid(format!(
                "the trust root's key of {} does not parse ({e})",
                log.base_url
            ))
        })?;
    let set = entry
        .signed_entry_timestamp
        .as_deref()
        .ok_or_else(|| invalid("the log entry carries no signed entry timestamp"))?;
    let promise = format!(
        r#"{{"body":"{}","integratedTime":{},"logID":"{}","logIndex":{}}}"#,
        STANDARD.encode(&entry.body),
        entry.integrated_time,
        hex(&entry.log_id),
        entry.log_index
    );
    verify_message(&log_key, Hash::Sha256, promise.as_bytes(), set).map_err(|e| {
        invalid(format!(
            "the log's signed entry timestamp does not verify ({e})"
        ))
    })?;
    let root_hash = merkle::root_from_inclusion_proof(
        proof.log_index,
        proof.tree_size,
        merkle::leaf_hash(&entry.body),
        &proof.hashes,
    )
    .map_err(|e| invalid(format!("the inclusion proof is malformed ({e})")))?;
    if root_hash.as_slice() != proof.root_hash {
        return Err(invalid(
            "the inclusion proof does not lead to the stated root hash",
        ));
    }
    verify_checkpoint(checkpoint, &log_key, proof.tree_size, &proof.root_hash)?;

    Ok(Verified {
        signer: expected.clone(),
        integrated_time: signed_at,
        log_index: entry.log_index,
        log: log.base_url.clone(),
    })
}

/// The certificate's SANs (e-mail addresses and URIs) and OIDC issuer.
fn signer_of(cert: &Certificate) -> (Vec<String>, Option<String>) {
    let sans = extension(cert, SAN)
        .and_then(|value| SubjectAltName::from_der(value).ok())
        .map(|names| {
            names
                .0
                .iter()
                .filter_map(|name| match name {
                    GeneralName::Rfc822Name(email) => Some(email.to_string()),
                    GeneralName::UniformResourceIdentifier(uri) => Some(uri.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let issuer = extension(cert, FULCIO_ISSUER_V2)
        .and_then(|value| {
            Utf8StringRef::from_der(value)
                .ok()
                .map(|s| s.as_str().to_owned())
        })
        .or_else(|| {
            extension(cert, FULCIO_ISSUER_V1)
                .and_then(|value| std::str::from_utf8(value).ok().map(str::to_owned))
        });
    (sans, issuer)
}

fn extension(cert: &Certificate, oid: ObjectIdentifier) -> Option<&[u8]> {
    cert.tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|ext| ext.extn_id == oid)
        .map(|ext| ext.extn_value.as_bytes())
}

fn valid_at(cert: &Certificate, at: u64) -> bool {
    let validity = &cert.tbs_certificate.validity;
    validity.not_before.to_unix_duration().as_secs() <= at
        && at <= validity.not_after.to_unix_duration().as_secs()
}

/// Whether `leaf` chains, every certificate valid at `at`, to a CA of the root that could issue at `at`.
fn chain_to_root(leaf: &Certificate, at: u64, root: &TrustedRoot) -> Result<(), Failure> {
    if !valid_at(leaf, at) {
        return Err(invalid(
            "the signing certificate was not valid at the log's integrated time",
        ));
    }
    let mut reasons = Vec::new();
    for ca in root
        .certificate_authorities
        .iter()
        .filter(|ca| ca.valid_for.contains(at))
    {
        let mut chain = vec![leaf.clone()];
        for der in &ca.chain {
            match Certificate::from_der(der) {
                Ok(cert) => chain.push(cert),
                Err(e) => reasons.push(format!("{}: {e}", ca.uri)),
            }
        }
        let linked = chain.windows(2).all(|pair| {
            let (child, parent) = (&pair[0], &pair[1]);
            child.tbs_certificate.issuer == parent.tbs_certificate.subject
                && valid_at(parent, at)
                && child
                    .tbs_certificate
                    .to_der()
                    .ok()
                    .and_then(|tbs| {
                        let hash = match child.signature_algorithm.oid {
                            ECDSA_SHA256 => Hash::Sha256,
                            ECDSA_SHA384 => Hash::Sha384,
                            _ => return None,
                        };
                        let signature = child.signature.as_bytes()?;
                        verify_message(
                            &parent.tbs_certificate.subject_public_key_info,
                            hash,
                            &tbs,
                            signature,
                        )
                        .ok()
                    })
                    .is_some()
        });
        if linked && chain.len() > 1 {
            return Ok(());
        }
    }
    Err(invalid(format!(
        "the signing certificate does not chain to a certificate authority of the trust root valid at its signing time{}",
        if reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", reasons.join("; "))
        }
    )))
}

/// The hash of a signed message.
#[derive(Clone, Copy)]
pub(crate) enum Hash {
    Sha256,
    Sha384,
}

pub(crate) fn verify_message(
    key: &x509_cert::spki::SubjectPublicKeyInfoOwned,
    hash: Hash,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    match hash {
        Hash::Sha256 => verify_prehash(key, &Sha256::digest(message), signature),
        Hash::Sha384 => verify_prehash(key, &Sha384::digest(message), signature),
    }
}

/// Verifies a DER ECDSA signature over a precomputed hash with a P-256 or P-384 key.
fn verify_prehash(
    key: &x509_cert::spki::SubjectPublicKeyInfoOwned,
    prehash: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
    let curve = key
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
        .ok_or("the key names no elliptic curve")?;
    let point = key
        .subject_public_key
        .as_bytes()
        .ok_or("the key is not a whole number of bytes")?;
    match curve {
        P256 => {
            let key =
                p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|e| e.to_string())?;
            let signature =
                p256::ecdsa::Signature::from_der(signature).map_err(|e| e.to_string())?;
            key.verify_prehash(prehash, &signature)
                .map_err(|e| e.to_string())
        }
        P384 => {
            let key =
                p384::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|e| e.to_string())?;
            let signature =
                p384::ecdsa::Signature::from_der(signature).map_err(|e| e.to_string())?;
            key.verify_prehash(prehash, &signature)
                .map_err(|e| e.to_string())
        }
        other => Err(format!("elliptic curve {other} is not supported")),
    }
}

/// The hashedrekord entry must bind the digest, the signature and the certificate the bundle carries.
fn entry_matches(
    body: &[u8],
    digest: &[u8; 32],
    signature: &[u8],
    cert: &[u8],
) -> Result<(), Failure> {
    let body: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| invalid(format!("the log entry body is not JSON ({e})")))?;
    let spec = &body["spec"];
    let hash_ok = spec["data"]["hash"]["algorithm"] == "sha256"
        && spec["data"]["hash"]["value"].as_str() == Some(hex(digest).as_str());
    let signature_ok = spec["signature"]["content"]
        .as_str()
        .and_then(|s| STANDARD.decode(s).ok())
        .is_some_and(|s| s == signature);
    let cert_ok = spec["signature"]["publicKey"]["content"]
        .as_str()
        .and_then(|s| STANDARD.decode(s).ok())
        .and_then(|pem| pem_body(&pem))
        .is_some_and(|der| der == cert);
    match (hash_ok, signature_ok, cert_ok) {
        (true, true, true) => Ok(()),
        _ => Err(invalid(
            "the log entry does not record this digest, signature and certificate",
        )),
    }
}

/// The DER inside one PEM block.
pub(crate) fn pem_body(pem: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(pem).ok()?;
    let inner: String = text
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .map(str::trim)
        .collect();
    STANDARD.decode(inner).ok()
}

/// A signed note (`origin\nsize\nroot\n[other]\n\n— name base64(keyhint‖sig)\n`) signed by the log, for this tree.
fn verify_checkpoint(
    envelope: &str,
    key: &x509_cert::spki::SubjectPublicKeyInfoOwned,
    tree_size: u64,
    root_hash: &[u8],
) -> Result<(), Failure> {
    let bad = |why: &str| invalid(format!("the checkpoint {why}"));
    let split = envelope
        .find("\n\n")
        .ok_or_else(|| bad("is not a signed note"))?;
    let (note, signatures) = envelope.split_at(split + 1);
    let mut lines = note.lines();
    let (_origin, size, root) = (lines.next(), lines.next(), lines.next());
    if size.and_then(|s| s.parse::<u64>().ok()) != Some(tree_size)
        || root.and_then(|r| STANDARD.decode(r).ok()).as_deref() != Some(root_hash)
    {
        return Err(bad("is for another tree than the inclusion proof"));
    }
    let signed = signatures
        .lines()
        .filter_map(|line| line.strip_prefix("\u{2014} "))
        .any(|line| {
            line.rsplit_once(' ')
                .and_then(|(_, sig)| STANDARD.decode(sig).ok())
                .filter(|sig| sig.len() > 4)
                .is_some_and(|sig| {
                    verify_message(key, Hash::Sha256, note.as_bytes(), &sig[4..]).is_ok()
                })
        });
    if signed {
        Ok(())
    } else {
        Err(bad("is not signed by the log"))
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of a hex string of even length (either case), or `None`.
pub(crate) fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Parses 64 hex digits into a SHA-256.
pub fn parse_sha256(text: &str) -> Option<[u8; 32]> {
    let text = text.strip_prefix("sha256:").unwrap_or(text);
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}
