//! Sigstore bundles (`application/vnd.dev.sigstore.bundle…`, v0.1 to v0.3) of the message-signature kind, as
//! python.org publishes next to each CPython tarball: the signing certificate, the signature over the artifact's
//! SHA-256, and the Rekor entry with its signed entry timestamp and inclusion proof. Parsing checks the shape only;
//! `sigstore::verify` checks the content.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

/// Largest bundle read: real ones are 5–10 KiB.
pub const MAX_BUNDLE_BYTES: usize = 256 * 1024;

/// A parsed message-signature bundle.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// Its media type.
    pub media_type: String,
    /// The DER signing certificate.
    pub certificate: Vec<u8>,
    /// The SHA-256 the bundle says was signed.
    pub message_digest: [u8; 32],
    /// The DER ECDSA signature over that digest.
    pub signature: Vec<u8>,
    /// The transparency-log entry.
    pub tlog_entry: TlogEntry,
}

/// A Rekor entry as a bundle carries it.
#[derive(Debug, Clone)]
pub struct TlogEntry {
    /// Global log index.
    pub log_index: u64,
    /// The log's ID (SHA-256 of its key).
    pub log_id: Vec<u8>,
    /// `kind` and `version` (`hashedrekord` `0.0.1`).
    pub kind: String,
    /// Version of the kind.
    pub kind_version: String,
    /// When the log integrated the entry (Unix seconds): the signing time.
    pub integrated_time: u64,
    /// The entry body as logged (canonical JSON).
    pub body: Vec<u8>,
    /// The log's signature over the entry (SET), when present.
    pub signed_entry_timestamp: Option<Vec<u8>>,
    /// The inclusion proof, when present.
    pub inclusion_proof: Option<InclusionProof>,
}

/// An RFC 6962 inclusion proof with the log's checkpoint.
#[derive(Debug, Clone)]
pub struct InclusionProof {
    /// Index of the entry in the tree the proof is for.
    pub log_index: u64,
    /// The tree's root hash.
    pub root_hash: Vec<u8>,
    /// The tree's size.
    pub tree_size: u64,
    /// Sibling hashes, leaf to root.
    pub hashes: Vec<Vec<u8>>,
    /// The signed checkpoint (a signed note), when present.
    pub checkpoint: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBundle {
    media_type: String,
    verification_material: RawMaterial,
    message_signature: Option<RawMessageSignature>,
    dsse_envelope: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMaterial {
    certificate: Option<RawCert>,
    x509_certificate_chain: Option<RawChain>,
    #[serde(default)]
    tlog_entries: Vec<RawEntry>,
}

#[derive(Deserialize)]
struct RawChain {
    certificates: Vec<RawCert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCert {
    raw_bytes: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessageSignature {
    message_digest: RawDigest,
    signature: String,
}

#[derive(Deserialize)]
struct RawDigest {
    algorithm: String,
    digest: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    log_index: Number,
    log_id: RawLogId,
    kind_version: RawKindVersion,
    integrated_time: Number,
    canonicalized_body: String,
    inclusion_promise: Option<RawPromise>,
    inclusion_proof: Option<RawProof>,
}

/// Protobuf JSON writes 64-bit integers as strings; accept both.
#[derive(Deserialize)]
#[serde(untagged)]
enum Number {
    Int(u64),
    Text(String),
}

impl Number {
    fn get(&self, what: &str) -> Result<u64, String> {
        match self {
            Number::Int(n) => Ok(*n),
            Number::Text(text) => text
                .parse()
                .map_err(|_| format!("{what} {text:?} is not a non-negative integer")),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogId {
    key_id: String,
}

#[derive(Deserialize)]
struct RawKindVersion {
    kind: String,
    version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPromise {
    signed_entry_timestamp: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProof {
    log_index: Number,
    root_hash: String,
    tree_size: Number,
    #[serde(default)]
    hashes: Vec<String>,
    checkpoint: Option<RawCheckpoint>,
}

#[derive(Deserialize)]
struct RawCheckpoint {
    envelope: String,
}

fn base64(text: &str, what: &str) -> Result<Vec<u8>, String> {
    STANDARD
        .decode(text)
        .map_err(|e| format!("{what} is not base64 ({e})"))
}

impl Bundle {
    /// Parses bundle JSON. Errors say what is missing or malformed (the caller names the file or URL).
    pub fn parse(bytes: &[u8]) -> Result<Bundle, String> {
        if bytes.len() > MAX_BUNDLE_BYTES {
            return Err(format!(
                "{} bytes: larger than any Sigstore bundle ({} KiB at most)",
                bytes.len(),
                MAX_BUNDLE_BYTES / 1024
            ));
        }
        let raw: RawBundle =
            serde_json::from_slice(bytes).map_err(|e| format!("not a Sigstore bundle ({e})"))?;
        if !raw
            .media_type
            .starts_with("application/vnd.dev.sigstore.bundle")
        {
            return Err(format!(
                "media type {:?} is not a Sigstore bundle",
                raw.media_type
            ));
        }
        if raw.dsse_envelope.is_some() {
            return Err("a DSSE attestation bundle, not a message signature".to_owned());
        }
        let signature = raw
            .message_signature
            .ok_or("no messageSignature: not a signature over an artifact")?;
        if signature.message_digest.algorithm != "SHA2_256" {
            return Err(format!(
                "message digest algorithm {} (only SHA2_256 is used for CPython releases)",
                signature.message_digest.algorithm
            ));
        }
        let message_digest: [u8; 32] = base64(&signature.message_digest.digest, "messageDigest")?
            .try_into()
            .map_err(|_| "messageDigest is not 32 bytes".to_owned())?;
        let material = raw.verification_material;
        let certificate = match (material.certificate, material.x509_certificate_chain) {
            (Some(cert), _) => base64(&cert.raw_bytes, "certificate")?,
            (None, Some(chain)) => {
                let first = chain
                    .certificates
                    .first()
                    .ok_or("x509CertificateChain is empty")?;
                base64(&first.raw_bytes, "x509CertificateChain")?
            }
            (None, None) => return Err("no signing certificate".to_owned()),
        };
        let [entry] = material.tlog_entries.as_slice() else {
            return Err(format!(
                "{} transparency-log entries (one expected)",
                material.tlog_entries.len()
            ));
        };
        let inclusion_proof = match &entry.inclusion_proof {
            None => None,
            Some(proof) => Some(InclusionProof {
                log_index: proof.log_index.get("inclusionProof.logIndex")?,
                root_hash: base64(&proof.root_hash, "inclusionProof.rootHash")?,
                tree_size: proof.tree_size.get("inclusionProof.treeSize")?,
                hashes: proof
                    .hashes
                    .iter()
                    .map(|h| base64(h, "inclusionProof.hashes"))
                    .collect::<Result<_, _>>()?,
                checkpoint: proof.checkpoint.as_ref().map(|c| c.envelope.clone()),
            }),
        };
        Ok(Bundle {
            media_type: raw.media_type,
            certificate,
            message_digest,
            signature: base64(&signature.signature, "signature")?,
            tlog_entry: TlogEntry {
                log_index: entry.log_index.get("logIndex")?,
                log_id: base64(&entry.log_id.key_id, "logId")?,
                kind: entry.kind_version.kind.clone(),
                kind_version: entry.kind_version.version.clone(),
                integrated_time: entry.integrated_time.get("integratedTime")?,
                body: base64(&entry.canonicalized_body, "canonicalizedBody")?,
                signed_entry_timestamp: entry
                    .inclusion_promise
                    .as_ref()
                    .map(|p| base64(&p.signed_entry_timestamp, "signedEntryTimestamp"))
                    .transpose()?,
                inclusion_proof,
            },
        })
    }
}
