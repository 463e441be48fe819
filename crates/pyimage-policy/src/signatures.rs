//! Signature policy: which images must carry a cosign signature by which keys, and the one decision over what is
//! known about an image's signatures.
//!
//! Rules come from `[[trust.signatures]]` in `pyimage.toml` (the first rule whose images and environments match
//! applies):
//!
//! ```toml
//! [trust.keys]
//! acme = "keys/acme-cosign.pub"          # a cosign public key (PEM), relative to pyimage.toml
//! [[trust.signatures]]
//! images = ["registry.acme.example/python/*"]
//! keys = ["acme"]                         # `dhi` is built in: Docker Hardened Images' signing key
//! environments = ["prod"]                 # every environment when absent
//! transparency_log = false                # true: the signature must also be logged in Rekor
//! ```
//!
//! The evidence reaches [`judge`] from three places, and the verdict is the same function of it everywhere:
//! `verify` and `serve` verify the image's signatures at its registry (the signature manifest's layers, checked by
//! `pyimage_trust::cosign`); `check --locked` reads what `pin`/`update` recorded in `pyimage.lock` when they verified
//! the digest they locked (the key's name and fingerprint). The lock is trusted as the lock's digests are: it is
//! written by pyimage and reviewed with the change; `verify` and `serve` never rely on it.

use std::collections::BTreeMap;

use pyimage_model::Reference;
use serde::Serialize;

use crate::check::{Origin, SourcePattern};

/// The built-in key name of Docker Hardened Images' cosign key (`https://dhi.io/keyring/2.pub`, the active key).
pub const DHI_KEY: &str = "dhi";

/// One `[[trust.signatures]]` rule.
#[derive(Debug, Clone)]
pub struct SignatureRule {
    /// The repositories it covers (`registry.acme.example/python/*`, `dhi.io/python`).
    pub images: Vec<SourcePattern>,
    /// Names of the keys any one of which must have signed the image (`[trust.keys]` names, or `dhi`).
    pub keys: Vec<String>,
    /// The environments it applies in; every environment when empty.
    pub environments: Vec<String>,
    /// Whether the signature must also be logged in a transparency log the trust root names (a Rekor bundle).
    pub transparency_log: bool,
    /// The configuration line of the rule.
    pub origin: Origin,
    /// Where it is, for messages (`pyimage.toml:14`).
    pub at: String,
}

impl SignatureRule {
    /// Whether the rule covers `reference` in `environment`.
    pub fn applies(&self, environment: &str, reference: &Reference) -> bool {
        (self.environments.is_empty() || self.environments.iter().any(|e| e == environment))
            && self.images.iter().any(|pattern| pattern.matches(reference))
    }

    /// `a signature by acme or dhi (pyimage.toml:14)`, for messages.
    pub fn describe(&self) -> String {
        let logged = if self.transparency_log {
            ", logged in Rekor"
        } else {
            ""
        };
        format!(
            "a signature by {}{logged} ({})",
            self.keys.join(" or "),
            self.at
        )
    }
}

/// Where evidence came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceSource {
    /// The image's registry, asked now (`verify`, `serve`).
    Registry,
    /// `pyimage.lock`, recorded by `pin`/`update` when they verified the digest (`check --locked`).
    Lock,
}

/// A Rekor entry that recorded the signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    /// The log (`https://rekor.sigstore.dev`).
    pub log: String,
    /// The entry's index.
    pub log_index: u64,
    /// When the log integrated it (Unix seconds).
    pub integrated_time: u64,
}

/// What is known about the cosign signatures of one image digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "evidence", rename_all = "kebab-case")]
pub enum SignatureEvidence {
    /// A signature verified with a key of the policy over a payload naming this digest.
    Verified {
        /// The key's name in the policy.
        key: String,
        /// `sha256:<hex>` of the key's DER SubjectPublicKeyInfo, when known.
        #[serde(skip_serializing_if = "Option::is_none")]
        key_sha256: Option<String>,
        /// The Rekor entry, when the signature carried a bundle that verified.
        #[serde(skip_serializing_if = "Option::is_none")]
        logged: Option<LogEntry>,
        /// Where the signature was found (`:sha256-….sig`, `referrer sha256:…`), when asked at the registry.
        #[serde(skip_serializing_if = "Option::is_none")]
        found_at: Option<String>,
        /// Registry or lock.
        source: EvidenceSource,
    },
    /// The registry was asked and no signature counts: one reason per signature looked at.
    Unsigned {
        /// Why (`the image has no cosign signature`, `signed by acme, but for another image (sha256:…)`).
        reasons: Vec<String>,
    },
    /// The signatures could not be read (the registry failed, timed out, or a key file is unreadable).
    Unavailable {
        /// Why.
        why: String,
    },
}

/// The outcome of [`judge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureVerdict {
    /// Signed as the rule asks.
    Accepted,
    /// Evidence that the rule is not met: unsigned, signed by another key, not logged.
    Refused,
    /// No evidence either way: the signatures could not be read.
    Unknown,
}

impl SignatureVerdict {
    /// `accepted`, `refused`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureVerdict::Accepted => "accepted",
            SignatureVerdict::Refused => "refused",
            SignatureVerdict::Unknown => "unknown",
        }
    }
}

/// A verdict with its explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureJudgement {
    /// The verdict.
    pub verdict: SignatureVerdict,
    /// Why, about this image.
    pub message: String,
    /// What to do (empty when accepted).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fix: String,
}

/// The one signature decision of `verify`, `serve` and `check --locked`. `fingerprints` are the policy's keys
/// (`name → sha256:<hex>`) as loaded now: a lock entry recorded with another key under the same name (the key file
/// was replaced) does not count.
pub fn judge(
    rule: &SignatureRule,
    evidence: Option<&SignatureEvidence>,
    fingerprints: &BTreeMap<String, String>,
) -> SignatureJudgement {
    let wanted = rule.describe();
    let refused = |message: String, fix: &str| SignatureJudgement {
        verdict: SignatureVerdict::Refused,
        message,
        fix: fix.to_owned(),
    };
    let reverify = "run `pyimage pin` (or `pyimage update`) to verify the signature and record it in pyimage.lock";
    match evidence {
        None => refused(
            format!("pyimage.lock records no verified signature; the policy asks for {wanted}"),
            reverify,
        ),
        Some(SignatureEvidence::Verified {
            key,
            key_sha256,
            logged,
            source,
            ..
        }) => {
            if !rule.keys.contains(key) {
                return refused(
                    format!("signed by {key}, but the policy asks for {wanted}"),
                    "sign the image with one of the policy's keys, or add the key to the rule",
                );
            }
            if let (Some(recorded), Some(now)) = (key_sha256, fingerprints.get(key))
                && recorded != now
            {
                return refused(
                    format!(
                        "pyimage.lock records a signature by a key named {key} ({recorded}), but that key is now {now}"
                    ),
                    reverify,
                );
            }
            if rule.transparency_log && logged.is_none() {
                return refused(
                    format!(
                        "signed by {key}, but the signature is not logged in a transparency log; the policy asks for {wanted}"
                    ),
                    "sign with `cosign sign --tlog-upload=true` so that Rekor logs the signature",
                );
            }
            let from = match source {
                EvidenceSource::Registry => "verified at the registry",
                EvidenceSource::Lock => "verified by pin, recorded in pyimage.lock",
            };
            SignatureJudgement {
                verdict: SignatureVerdict::Accepted,
                message: format!("signed by {key} ({from})"),
                fix: String::new(),
            }
        }
        Some(SignatureEvidence::Unsigned { reasons }) => refused(
            format!(
                "no signature the policy accepts ({wanted}): {}",
                reasons.join("; ")
            ),
            "sign the image digest with `cosign sign --key <key> IMAGE@DIGEST`, or use an image that is signed",
        ),
        Some(SignatureEvidence::Unavailable { why }) => SignatureJudgement {
            verdict: SignatureVerdict::Unknown,
            message: format!("the signatures could not be checked ({wanted}): {why}"),
            fix: "check that the registry is reachable and that pyimage has credentials for it"
                .to_owned(),
        },
    }
}

/// The signature check of one image: the rule that asked, what was found, the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureCheck {
    /// Where the rule is (`pyimage.toml:14`).
    pub rule: String,
    /// The keys the rule accepts.
    pub keys: Vec<String>,
    /// The repository whose signatures were read (`registry.acme.example/python/python`).
    pub repository: String,
    /// The digest the signature must name.
    pub digest: String,
    /// What was found.
    #[serde(flatten)]
    pub evidence: SignatureEvidence,
    /// The verdict and why.
    pub judgement: SignatureJudgement,
}

/// Signature evidence observed at registries for the images of one decision (an admission request), keyed by the
/// image text as written; and whether an image whose signatures could not be read is admitted (the webhook's
/// failure policy).
#[derive(Debug, Clone, Default)]
pub struct SignatureFacts {
    /// Evidence per image as written.
    pub by_image: BTreeMap<String, SignatureEvidence>,
    /// Whether [`SignatureVerdict::Unknown`] lets the image through (with a warning) instead of refusing it.
    pub unknown_admits: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(keys: &[&str], log: bool) -> SignatureRule {
        SignatureRule {
            images: vec![
                SourcePattern::new("registry.acme.example/python/*", Origin::Default)
                    .expect("valid"),
            ],
            keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            environments: vec!["prod".to_owned()],
            transparency_log: log,
            origin: Origin::Default,
            at: "pyimage.toml:3".to_owned(),
        }
    }

    fn verified(key: &str, sha: Option<&str>, logged: bool) -> SignatureEvidence {
        SignatureEvidence::Verified {
            key: key.to_owned(),
            key_sha256: sha.map(str::to_owned),
            logged: logged.then(|| LogEntry {
                log: "https://rekor.sigstore.dev".to_owned(),
                log_index: 1,
                integrated_time: 1,
            }),
            found_at: None,
            source: EvidenceSource::Lock,
        }
    }

    #[test]
    fn applies_by_environment_and_repository() {
        let rule = rule(&["acme"], false);
        let ours = Reference::parse_normalized("registry.acme.example/python/py:3.12").expect("ok");
        let theirs = Reference::parse_normalized("python:3.12").expect("ok");
        assert!(rule.applies("prod", &ours));
        assert!(!rule.applies("dev", &ours));
        assert!(!rule.applies("prod", &theirs));
    }

    #[test]
    fn every_evidence_has_its_verdict() {
        let keys = BTreeMap::from([("acme".to_owned(), "sha256:aa".to_owned())]);
        let r = rule(&["acme"], false);
        let v = |e: Option<&SignatureEvidence>, r: &SignatureRule| judge(r, e, &keys).verdict;
        assert_eq!(
            v(Some(&verified("acme", Some("sha256:aa"), false)), &r),
            SignatureVerdict::Accepted
        );
        assert_eq!(
            v(Some(&verified("acme", None, false)), &r),
            SignatureVerdict::Accepted
        );
        assert_eq!(
            v(Some(&verified("acme", Some("sha256:bb"), false)), &r),
            SignatureVerdict::Refused,
            "a replaced key file"
        );
        assert_eq!(
            v(Some(&verified("other", None, false)), &r),
            SignatureVerdict::Refused
        );
        assert_eq!(v(None, &r), SignatureVerdict::Refused);
        let unsigned = SignatureEvidence::Unsigned {
            reasons: vec!["the image has no cosign signature".to_owned()],
        };
        assert_eq!(v(Some(&unsigned), &r), SignatureVerdict::Refused);
        let unavailable = SignatureEvidence::Unavailable {
            why: "timed out".to_owned(),
        };
        assert_eq!(v(Some(&unavailable), &r), SignatureVerdict::Unknown);
        let logged = rule(&["acme"], true);
        assert_eq!(
            v(Some(&verified("acme", None, false)), &logged),
            SignatureVerdict::Refused
        );
        assert_eq!(
            v(Some(&verified("acme", None, true)), &logged),
            SignatureVerdict::Accepted
        );
    }
}
