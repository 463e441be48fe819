//! Key-based cosign signatures on an image: a "simple signing" payload
//! (`{"critical":{"identity":{"docker-reference"},"image":{"docker-manifest-digest"},"type":"cosign container image
//! signature"},"optional"}`) signed with a key — ECDSA P-256 (ASN.1 DER) or RSA PKCS#1 v1.5, both over SHA-256 of
//! the payload's exact bytes — carried as a layer of a signature manifest (the `sha256-<hex>.sig` tag, or an OCI
//! 1.1 referrer) with the signature in the layer's `dev.cosignproject.cosign/signature` annotation, and optionally a
//! Rekor bundle (`dev.sigstore.cosign/bundle`) whose signed entry timestamp proves the signature was logged.
//!
//! A signature counts only when it verifies with one of the keys the policy names **and** its payload names the
//! image's own digest: a valid signature of another image is the classic substitution, and is refused as such.
//! Pure: the caller fetches the layers and chooses the keys and the trust root.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use der::Decode as _;
use der::asn1::ObjectIdentifier;
use sha2::{Digest as _, Sha256};
use x509_cert::spki::SubjectPublicKeyInfoOwned;

use crate::root::TrustedRoot;
use crate::sigstore::Hash;

/// The `critical.type` of a cosign image signature payload.
pub const SIMPLE_SIGNING_TYPE: &str = "cosign container image signature";
/// The media type of a simple-signing layer.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The layer annotation holding the base64 signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The layer annotation holding the Rekor bundle.
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";

const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

/// Docker Hardened Images' cosign key (ECDSA P-256, `https://dhi.io/keyring/2.pub`, active), embedded: see
/// `data/README.md` for its source.
pub const DHI_PUBLIC_KEY: &str = include_str!("../data/dhi-2.pub");

/// A verification key a policy names.
#[derive(Clone)]
pub struct PublicKey {
    /// How the policy names it (`keys/org.pub`, `dhi`).
    pub name: String,
    key: KeyKind,
    /// `sha256:<hex>` of the DER SubjectPublicKeyInfo: the key's identity in records, whatever its name.
    fingerprint: String,
}

#[derive(Clone)]
enum KeyKind {
    EcdsaP256(p256::ecdsa::VerifyingKey),
    Rsa(rsa::RsaPublicKey),
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.key {
            KeyKind::EcdsaP256(_) => "ECDSA P-256",
            KeyKind::Rsa(_) => "RSA",
        };
        write!(f, "PublicKey({}, {kind})", self.name)
    }
}

impl PublicKey {
    /// Reads a PEM `PUBLIC KEY` (PKIX SubjectPublicKeyInfo), as `cosign generate-key-pair` writes it: ECDSA P-256 or
    /// RSA. The error says what the key is when it is neither.
    pub fn from_pem(name: &str, pem: &str) -> Result<PublicKey, String> {
        let der = pem_block(pem, "PUBLIC KEY")
            .ok_or_else(|| format!("{name}: not a PEM \"PUBLIC KEY\" block"))?;
        let spki = SubjectPublicKeyInfoOwned::from_der(&der)
            .map_err(|e| format!("{name}: the public key does not parse ({e})"))?;
        let bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| format!("{name}: the public key is not a whole number of bytes"))?;
        let key = match spki.algorithm.oid {
            EC_PUBLIC_KEY => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
                if curve != Some(P256) {
                    return Err(format!(
                        "{name}: an elliptic-curve key on a curve other than P-256; cosign keys are P-256"
                    ));
                }
                KeyKind::EcdsaP256(
                    p256::ecdsa::VerifyingKey::from_sec1_bytes(bits)
                        .map_err(|e| format!("{name}: not a P-256 point ({e})"))?,
                )
            }
            RSA_ENCRYPTION => {
                use rsa::pkcs1::DecodeRsaPublicKey as _;
                KeyKind::Rsa(
                    rsa::RsaPublicKey::from_pkcs1_der(bits)
                        .map_err(|e| format!("{name}: not an RSA public key ({e})"))?,
                )
            }
            other => {
                return Err(format!(
                    "{name}: a key of algorithm {other}; pyimage verifies ECDSA P-256 and RSA keys"
                ));
            }
        };
        Ok(PublicKey {
            name: name.to_owned(),
            key,
            fingerprint: format!("sha256:{}", crate::sigstore::hex(&Sha256::digest(&der))),
        })
    }

    /// `sha256:<hex>` of the key's DER SubjectPublicKeyInfo (what `openssl pkey -pubin -outform DER | sha256sum`
    /// prints).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Whether `signature` is this key's signature over SHA-256 of `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.key {
            KeyKind::EcdsaP256(key) => {
                use p256::ecdsa::signature::Verifier as _;
                p256::ecdsa::Signature::from_der(signature)
                    .is_ok_and(|signature| key.verify(message, &signature).is_ok())
            }
            KeyKind::Rsa(key) => {
                use rsa::signature::Verifier as _;
                let verifier = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key.clone());
                rsa::pkcs1v15::Signature::try_from(signature)
                    .is_ok_and(|signature| verifier.verify(message, &signature).is_ok())
            }
        }
    }
}

/// One signature layer as a registry serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureLayer {
    /// The payload blob's exact bytes.
    pub payload: Vec<u8>,
    /// The `dev.cosignproject.cosign/signature` annotation (base64).
    pub signature: String,
    /// The `dev.sigstore.cosign/bundle` annotation, when the signature was logged.
    pub bundle: Option<String>,
}

/// A signature that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The key that verified it, as the policy names it.
    pub key: String,
    /// The reference the signer named (`critical.identity.docker-reference`).
    pub docker_reference: Option<String>,
    /// When it was logged in Rekor, when its bundle was checked.
    pub logged: Option<Logged>,
    /// The index, in the layers given, of the one that verified.
    pub layer: usize,
}

/// A Rekor entry whose signed entry timestamp verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// The log (`https://rekor.sigstore.dev`).
    pub log: String,
    /// Its index in the log.
    pub log_index: u64,
    /// When the log integrated it (Unix seconds).
    pub integrated_time: u64,
}

/// Why an image's signatures do not satisfy the keys: one reason per layer looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotSigned {
    /// Per layer, why it did not count (`signs another image sha256:…`, `no key of the policy verifies it`).
    pub reasons: Vec<String>,
}

/// The first layer whose signature verifies with one of `keys` over a payload naming `image_digest`
/// (`sha256:<hex>`). With `root`, a layer's Rekor bundle must verify against the root's logs (a bundle that does not
/// is tampering and rejects the layer); with `require_log`, a layer without a bundle does not count.
pub fn verify_image(
    image_digest: &str,
    layers: &[SignatureLayer],
    keys: &[PublicKey],
    root: Option<&TrustedRoot>,
    require_log: bool,
) -> Result<Signed, NotSigned> {
    let mut reasons = Vec::new();
    if layers.is_empty() {
        reasons.push("the image has no cosign signature".to_owned());
    }
    for (index, layer) in layers.iter().enumerate() {
        match verify_layer(image_digest, layer, keys, root, require_log) {
            Ok(signed) => {
                return Ok(Signed {
                    layer: index,
                    ..signed
                });
            }
            Err(reason) => reasons.push(reason),
        }
    }
    Err(NotSigned { reasons })
}

fn verify_layer(
    image_digest: &str,
    layer: &SignatureLayer,
    keys: &[PublicKey],
    root: Option<&TrustedRoot>,
    require_log: bool,
) -> Result<Signed, String> {
    let signature = STANDARD
        .decode(layer.signature.trim())
        .map_err(|_| "the signature annotation is not base64".to_owned())?;
    let key = keys
        .iter()
        .find(|key| key.verifies(&layer.payload, &signature))
        .ok_or_else(|| {
            let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
            format!("no key of the policy ({}) verifies it", names.join(", "))
        })?;
    let payload: serde_json::Value = serde_json::from_slice(&layer.payload)
        .map_err(|_| "the signed payload is not JSON".to_owned())?;
    let critical = &payload["critical"];
    if critical["type"] != SIMPLE_SIGNING_TYPE {
        return Err(format!(
            "the signed payload is not a cosign image signature (type {})",
            critical["type"]
        ));
    }
    let signed_digest = critical["image"]["docker-manifest-digest"]
        .as_str()
        .unwrap_or_default();
    if signed_digest != image_digest {
        return Err(format!(
            "signed by {}, but for another image ({})",
            key.name,
            if signed_digest.is_empty() {
                "no digest"
            } else {
                signed_digest
            }
        ));
    }
    let logged = match (&layer.bundle, root) {
        (Some(bundle), Some(root)) => Some(verify_rekor_bundle(
            bundle,
            &layer.payload,
            &signature,
            root,
        )?),
        _ => None,
    };
    if require_log && logged.is_none() {
        return Err(format!(
            "signed by {}, but not logged in a transparency log the policy trusts",
            key.name
        ));
    }
    Ok(Signed {
        key: key.name.clone(),
        docker_reference: critical["identity"]["docker-reference"]
            .as_str()
            .map(str::to_owned),
        logged,
        layer: 0,
    })
}

/// Checks a cosign Rekor bundle (`{"SignedEntryTimestamp", "Payload": {"body", "integratedTime", "logIndex",
/// "logID"}}`): the entry records this payload's SHA-256 and this signature, and the log's key (from `root`)
/// signed the canonical entry.
fn verify_rekor_bundle(
    bundle: &str,
    payload: &[u8],
    signature: &[u8],
    root: &TrustedRoot,
) -> Result<Logged, String> {
    let bad = |why: &str| format!("its Rekor bundle {why}");
    let bundle: serde_json::Value = serde_json::from_str(bundle).map_err(|_| bad("is not JSON"))?;
    let entry = &bundle["Payload"];
    let (Some(body), Some(integrated_time), Some(log_index), Some(log_id)) = (
        entry["body"].as_str(),
        entry["integratedTime"].as_u64(),
        entry["logIndex"].as_u64(),
        entry["logID"].as_str(),
    ) else {
        return Err(bad("lacks body, integratedTime, logIndex or logID"));
    };
    let record: serde_json::Value = STANDARD
        .decode(body)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| bad("has a body that is not base64 JSON"))?;
    let spec = &record["spec"];
    let payload_hash = crate::sigstore::hex(&Sha256::digest(payload));
    let hash_ok = spec["data"]["hash"]["algorithm"] == "sha256"
        && spec["data"]["hash"]["value"].as_str() == Some(payload_hash.as_str());
    let signature_ok = spec["signature"]["content"]
        .as_str()
        .and_then(|s| STANDARD.decode(s).ok())
        .is_some_and(|s| s == signature);
    if !hash_ok || !signature_ok {
        return Err(bad("records another payload or signature"));
    }
    let log_id_bytes =
        crate::sigstore::hex_bytes(log_id).ok_or_else(|| bad("has a logID that is not hex"))?;
    let log = root
        .tlog(&log_id_bytes)
        .ok_or_else(|| bad("is from a log the trust root does not name"))?;
    if !log.valid_for.contains(integrated_time) {
        return Err(bad("is from a log not trusted at its integrated time"));
    }
    let set = bundle["SignedEntryTimestamp"]
        .as_str()
        .and_then(|s| STANDARD.decode(s).ok())
        .ok_or_else(|| bad("has no signed entry timestamp"))?;
    // The canonical form the log signs: sorted keys, no spaces.
    let promise = format!(
        r#"{{"body":"{body}","integratedTime":{integrated_time},"logID":"{log_id}","logIndex":{log_index}}}"#
    );
    let log_key = SubjectPublicKeyInfoOwned::from_der(&log.public_key)
        .map_err(|_| bad("names a log whose key does not parse"))?;
    crate::sigstore::verify_message(&log_key, Hash::Sha256, promise.as_bytes(), &set)
        .map_err(|_| bad("has a signed entry timestamp the log's key does not verify"))?;
    Ok(Logged {
        log: log.base_url.clone(),
        log_index,
        integrated_time,
    })
}

/// The DER inside the first PEM block labelled `label`.
fn pem_block(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem.get(start..)?.find(&end)?;
    let inner: String = pem.get(start..stop)?.split_whitespace().collect();
    STANDARD.decode(inner).ok()
}
