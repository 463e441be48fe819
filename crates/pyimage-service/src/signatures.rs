//! Cosign signatures for the `[[trust.signatures]]` policy: the keys (read from `[trust.keys]` files, plus the
//! built-in Docker Hardened Images key), the evidence for one image digest (its signature manifests read from the
//! registry and checked by `pyimage_trust::cosign`), and the record `pin`/`update` keep in `pyimage.lock` so that
//! `check --locked` can judge offline. The verdict is always `pyimage_policy::signatures::judge`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pyimage_model::lock::Lock;
use pyimage_model::{Digest, Reference};
use pyimage_policy::check::Policy;
use pyimage_policy::config::TrustSettings;
use pyimage_policy::signatures::{
    DHI_KEY, EvidenceSource, LogEntry, SignatureCheck, SignatureEvidence, SignatureRule,
    SignatureVerdict, judge,
};
use pyimage_registry::RegistryClient;
use pyimage_trust::cosign::{self, DHI_PUBLIC_KEY, PublicKey, SignatureLayer};
use pyimage_trust::root::TrustedRoot;

use crate::error::ServiceError;

/// The largest key file read: a PEM public key is well under a kilobyte (RSA-4096: 800 bytes).
const MAX_KEY_BYTES: u64 = 64 * 1024;

/// The policy's keys, loaded, and the trust root that Rekor bundles are checked against.
#[derive(Debug, Clone)]
pub struct Keyring {
    keys: Vec<PublicKey>,
    root: Option<TrustedRoot>,
}

impl Keyring {
    /// Reads every `[trust.keys]` file (relative to `config_dir`) and adds the built-in `dhi` key. A key that cannot
    /// be read or is not a cosign key is an input error naming the configuration line and the file.
    pub fn load(
        settings: &TrustSettings,
        config_dir: Option<&Path>,
    ) -> Result<Keyring, ServiceError> {
        let mut keys =
            vec![PublicKey::from_pem(DHI_KEY, DHI_PUBLIC_KEY).map_err(ServiceError::input)?];
        for file in &settings.keys {
            let path: PathBuf = match config_dir {
                Some(dir) if Path::new(&file.path).is_relative() => dir.join(&file.path),
                _ => PathBuf::from(&file.path),
            };
            let text = pyimage_store::bounded::read_text(&path, MAX_KEY_BYTES).map_err(|e| {
                ServiceError::input(format!(
                    "{}: cannot read the key {} ({}): {e}",
                    file.at,
                    file.name,
                    path.display()
                ))
            })?;
            let key = PublicKey::from_pem(&file.name, &text).map_err(|e| {
                ServiceError::input(format!(
                    "{}: {} ({}): {e}",
                    file.at,
                    file.name,
                    path.display()
                ))
            })?;
            keys.push(key);
        }
        let root = TrustedRoot::embedded().ok();
        Ok(Keyring { keys, root })
    }

    /// Uses `root` (the trust root `verify` uses) for Rekor bundles instead of the embedded one.
    pub fn with_root(mut self, root: TrustedRoot) -> Keyring {
        self.root = Some(root);
        self
    }

    /// `name → sha256:<hex>` of every key, for the policy ([`Policy::signing_keys`]).
    pub fn fingerprints(&self) -> BTreeMap<String, String> {
        self.keys
            .iter()
            .map(|key| (key.name.clone(), key.fingerprint().to_owned()))
            .collect()
    }

    /// The keys a rule names.
    fn keys_of(&self, rule: &SignatureRule) -> Vec<PublicKey> {
        self.keys
            .iter()
            .filter(|key| rule.keys.contains(&key.name))
            .cloned()
            .collect()
    }

    /// Reads the cosign signatures of `repository@digest` and checks them with the rule's keys: the evidence, never
    /// an error (a registry that cannot answer is [`SignatureEvidence::Unavailable`]).
    pub async fn evidence(
        &self,
        client: &RegistryClient,
        repository: &Reference,
        digest: &Digest,
        rule: &SignatureRule,
    ) -> SignatureEvidence {
        let layers = match client.cosign_signatures(repository, digest).await {
            Ok(layers) => layers,
            Err(error) => {
                return SignatureEvidence::Unavailable {
                    why: format!(
                        "cannot read the signatures of {}@{digest}: {error}",
                        repository.repository()
                    ),
                };
            }
        };
        let keys = self.keys_of(rule);
        let (found_at, found): (Vec<String>, Vec<SignatureLayer>) = layers
            .into_iter()
            .map(|layer| {
                (
                    layer.found_at,
                    SignatureLayer {
                        payload: layer.payload,
                        signature: layer.signature,
                        bundle: layer.bundle,
                    },
                )
            })
            .unzip();
        match cosign::verify_image(
            digest.as_str(),
            &found,
            &keys,
            self.root.as_ref(),
            rule.transparency_log,
        ) {
            Ok(signed) => {
                let found_at = found_at.get(signed.layer).cloned();
                SignatureEvidence::Verified {
                    key_sha256: keys
                        .iter()
                        .find(|k| k.name == signed.key)
                        .map(|k| k.fingerprint().to_owned()),
                    key: signed.key,
                    logged: signed.logged.map(|logged| LogEntry {
                        log: logged.log,
                        log_index: logged.log_index,
                        integrated_time: logged.integrated_time,
                    }),
                    found_at,
                    source: EvidenceSource::Registry,
                }
            }
            Err(not_signed) => SignatureEvidence::Unsigned {
                reasons: not_signed.reasons,
            },
        }
    }

    /// The whole check of one image: evidence and verdict under `rule` for `policy`.
    pub async fn check(
        &self,
        client: &RegistryClient,
        policy: &Policy,
        repository: &Reference,
        digest: &Digest,
        rule: &SignatureRule,
    ) -> SignatureCheck {
        let evidence = self.evidence(client, repository, digest, rule).await;
        let judgement = judge(rule, Some(&evidence), &policy.signing_keys);
        SignatureCheck {
            rule: rule.at.clone(),
            keys: rule.keys.clone(),
            repository: repository.repository().to_string(),
            digest: digest.to_string(),
            evidence,
            judgement,
        }
    }
}

/// What `pin`/`update` found about the signature of one locked image.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LockedSignature {
    /// The lock entry (`registry.acme.example/python/python:3.12-slim`).
    pub reference: String,
    /// The check.
    #[serde(flatten)]
    pub check: SignatureCheck,
}

impl LockedSignature {
    /// Whether the signature was verified and recorded.
    pub fn recorded(&self) -> bool {
        self.check.judgement.verdict == SignatureVerdict::Accepted
    }
}

/// Verifies and records, in each entry of `lock` that a signature rule covers (in any environment: `check --locked`
/// judges the environment), the key whose signature on the entry's digest verifies — or clears a record that no
/// longer holds. Entries already recorded with a key the policy still has (same fingerprint) are not asked again.
pub async fn record_in_lock(
    client: &RegistryClient,
    policy: &Policy,
    keyring: &Keyring,
    lock: &mut Lock,
) -> Vec<LockedSignature> {
    let fingerprints = keyring.fingerprints();
    let mut wanted = Vec::new();
    for entry in lock.entries() {
        let Ok(reference) = Reference::parse_normalized(&entry.normalized) else {
            continue;
        };
        let Some(rule) = policy
            .signatures
            .iter()
            .find(|rule| rule.images.iter().any(|p| p.matches(&reference)))
        else {
            continue;
        };
        let still_good = match (&entry.signed_by, &entry.signing_key) {
            (Some(key), Some(sha)) => rule.keys.contains(key) && fingerprints.get(key) == Some(sha),
            _ => false,
        };
        if still_good {
            continue;
        }
        let Ok(digest) = Digest::parse(&entry.digest) else {
            continue;
        };
        wanted.push((entry.reference.clone(), reference, digest, rule.clone()));
    }
    let mut results = Vec::new();
    for (key, reference, digest, rule) in wanted {
        let check = keyring
            .check(client, policy, &reference.repository(), &digest, &rule)
            .await;
        if let Some(mut entry) = lock.get(&key).cloned() {
            match &check.evidence {
                SignatureEvidence::Verified {
                    key,
                    key_sha256,
                    logged,
                    ..
                } if check.judgement.verdict == SignatureVerdict::Accepted => {
                    entry.signed_by = Some(key.clone());
                    entry.signing_key = key_sha256.clone();
                    entry.signature_log_index = logged.as_ref().map(|l| l.log_index);
                }
                _ => {
                    entry.signed_by = None;
                    entry.signing_key = None;
                    entry.signature_log_index = None;
                }
            }
            lock.insert(entry);
        }
        results.push(LockedSignature {
            reference: key,
            check,
        });
    }
    results
}
