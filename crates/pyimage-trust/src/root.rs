//! The Sigstore trust root (`TrustedRoot` JSON, `application/vnd.dev.sigstore.trustedroot+json;version=0.1`): the
//! Fulcio certificate authorities and the Rekor transparency logs a bundle is checked against, each valid for a
//! period. The public-good root is embedded (see `data/README.md` for its source); a file replaces it for air-gapped
//! use and tests.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use der::Decode as _;
use pyimage_model::time::parse_rfc3339_utc;
use serde::Deserialize;
use x509_cert::Certificate;

/// The Sigstore public-good trusted root this build ships.
pub const EMBEDDED_TRUSTED_ROOT: &str = include_str!("../data/trusted_root.json");

/// Where the embedded root comes from, for reports.
pub const EMBEDDED_TRUSTED_ROOT_SOURCE: &str =
    "Sigstore public-good trusted_root.json (sigstore/root-signing 60cf2ce, embedded)";

/// A period of validity in Unix seconds; `end` is open when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// First second of validity.
    pub start: u64,
    /// Last second of validity, when bounded.
    pub end: Option<u64>,
}

impl Validity {
    /// Whether `at` (Unix seconds) falls in the period.
    pub fn contains(&self, at: u64) -> bool {
        at >= self.start && self.end.is_none_or(|end| at <= end)
    }
}

/// A certificate authority: its chain, leaf-most first (intermediate, …, root).
#[derive(Debug, Clone)]
pub struct CertificateAuthority {
    /// Its URI (`https://fulcio.sigstore.dev`).
    pub uri: String,
    /// DER certificates, issuing certificate first, self-signed root last.
    pub chain: Vec<Vec<u8>>,
    /// When it may issue.
    pub valid_for: Validity,
}

/// A transparency log: its key and log ID.
#[derive(Debug, Clone)]
pub struct TransparencyLog {
    /// Its base URL (`https://rekor.sigstore.dev`).
    pub base_url: String,
    /// The DER `SubjectPublicKeyInfo` of its signing key.
    pub public_key: Vec<u8>,
    /// `keyDetails` (`PKIX_ECDSA_P256_SHA_256`, `PKIX_ED25519`).
    pub key_details: String,
    /// The log ID (SHA-256 of the key), raw bytes.
    pub log_id: Vec<u8>,
    /// When entries it signs are accepted.
    pub valid_for: Validity,
}

/// A parsed trust root.
#[derive(Debug, Clone)]
pub struct TrustedRoot {
    /// Where it came from (the embedded copy or a file name), for reports.
    pub source: String,
    /// Fulcio certificate authorities.
    pub certificate_authorities: Vec<CertificateAuthority>,
    /// Rekor logs.
    pub tlogs: Vec<TransparencyLog>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRoot {
    media_type: String,
    #[serde(default)]
    tlogs: Vec<RawLog>,
    #[serde(default)]
    certificate_authorities: Vec<RawCa>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLog {
    #[serde(default)]
    base_url: String,
    public_key: RawKey,
    log_id: RawLogId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawKey {
    raw_bytes: String,
    #[serde(default)]
    key_details: String,
    valid_for: RawValidity,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogId {
    key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCa {
    #[serde(default)]
    uri: String,
    cert_chain: RawChain,
    valid_for: RawValidity,
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
struct RawValidity {
    start: String,
    end: Option<String>,
}

fn validity(raw: &RawValidity, what: &str) -> Result<Validity, String> {
    let time = |text: &str| {
        parse_rfc3339_utc(text)
            .ok_or_else(|| format!("{what}: validFor time {text:?} is not RFC 3339 UTC"))
    };
    Ok(Validity {
        start: time(&raw.start)?,
        end: raw.end.as_deref().map(time).transpose()?,
    })
}

fn base64(text: &str, what: &str) -> Result<Vec<u8>, String> {
    STANDARD
        .decode(text)
        .map_err(|e| format!("{what}: not base64 ({e})"))
}

impl TrustedRoot {
    /// The embedded public-good root.
    pub fn embedded() -> Result<TrustedRoot, String> {
        TrustedRoot::parse(EMBEDDED_TRUSTED_ROOT, EMBEDDED_TRUSTED_ROOT_SOURCE)
    }

    /// Parses `TrustedRoot` JSON; `source` names it in messages. Every certificate must parse as DER X.509.
    pub fn parse(text: &str, source: &str) -> Result<TrustedRoot, String> {
        let raw: RawRoot = serde_json::from_str(text)
            .map_err(|e| format!("{source}: not a Sigstore trusted root ({e})"))?;
        if !raw
            .media_type
            .starts_with("application/vnd.dev.sigstore.trustedroot")
        {
            return Err(format!(
                "{source}: media type {:?} is not a Sigstore trusted root",
                raw.media_type
            ));
        }
        let mut root = TrustedRoot {
            source: source.to_owned(),
            certificate_authorities: Vec::new(),
            tlogs: Vec::new(),
        };
        for (i, ca) in raw.certificate_authorities.iter().enumerate() {
            let what = format!("{source}: certificateAuthorities[{i}]");
            let mut chain = Vec::new();
            for cert in &ca.cert_chain.certificates {
                let der = base64(&cert.raw_bytes, &what)?;
                Certificate::from_der(&der)
                    .map_err(|e| format!("{what}: not a certificate ({e})"))?;
                chain.push(der);
            }
            root.certificate_authorities.push(CertificateAuthority {
                uri: ca.uri.clone(),
                chain,
                valid_for: validity(&ca.valid_for, &what)?,
            });
        }
        for (i, log) in raw.tlogs.iter().enumerate() {
            let what = format!("{source}: tlogs[{i}]");
            root.tlogs.push(TransparencyLog {
                base_url: log.base_url.clone(),
                public_key: base64(&log.public_key.raw_bytes, &what)?,
                key_details: log.public_key.key_details.clone(),
                log_id: base64(&log.log_id.key_id, &what)?,
                valid_for: validity(&log.public_key.valid_for, &what)?,
            });
        }
        if root.certificate_authorities.is_empty() || root.tlogs.is_empty() {
            return Err(format!(
                "{source}: names no certificate authority or no transparency log"
            ));
        }
        Ok(root)
    }

    /// The log with this ID.
    pub fn tlog(&self, log_id: &[u8]) -> Option<&TransparencyLog> {
        self.tlogs.iter().find(|log| log.log_id == log_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_root_parses() {
        let root = TrustedRoot::embedded().unwrap();
        assert_eq!(root.certificate_authorities.len(), 2);
        assert_eq!(root.tlogs.len(), 2);
        assert_eq!(root.tlogs[0].base_url, "https://rekor.sigstore.dev");
        assert!(root.certificate_authorities[1].valid_for.end.is_none());
    }

    #[test]
    fn not_a_root_is_an_error_naming_the_source() {
        let error = TrustedRoot::parse("{\"mediaType\":\"x\"}", "my-root.json").unwrap_err();
        assert!(error.contains("my-root.json"), "{error}");
    }
}
