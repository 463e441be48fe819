//! The webhook's signature checks: for each image of a review that a `[[trust.signatures]]` rule covers in the
//! namespace's environment, the cosign evidence for the digest the cluster will run (the reference's own digest,
//! else the tag's digest from the lock, the store, the cache or the registry, as `/mutate` pins it), read at the
//! image's registry and checked with the policy's keys — then judged by PY018, the one decision `check --locked`
//! makes from the lock.
//!
//! Results are cached **by digest** (with the repository and the rule), not by the reference as written: a tag
//! that moves gets its new digest checked, and every reference to one digest shares one check. A verified
//! signature over a digest keeps its meaning, so it is kept for [`VERIFIED_TTL`]; "unsigned" is kept for
//! [`UNSIGNED_TTL`] (a signature may be added after the push); a registry that could not answer is not kept. What
//! is not known by the request's deadline is "unavailable", and `[serve] on-registry-failure` decides.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pyimage_model::{Digest, Reference};
use pyimage_policy::admission::{AdmissionRequest, images_to_judge, namespace_scope};
use pyimage_policy::check::Policy;
use pyimage_policy::config::RegistryFailure;
use pyimage_policy::signatures::{SignatureEvidence, SignatureFacts, SignatureRule};
use pyimage_registry::RegistryClient;
use pyimage_service::signatures::Keyring;

use crate::state::AppState;

/// How long a verified signature is reused.
pub const VERIFIED_TTL: Duration = Duration::from_secs(3600);
/// How long "unsigned" is reused.
pub const UNSIGNED_TTL: Duration = Duration::from_secs(60);
/// Digests remembered at most; past it, the oldest answers go first.
pub const MAX_CACHED: usize = 4096;
/// Signature reads in flight per review.
const CHECKS_PER_REVIEW: usize = 8;

/// (repository, digest, the rule's place): what one check is about.
type CacheKey = (String, String, String);

/// The keys, the registry client and the cache.
pub struct SignatureChecks {
    keyring: Keyring,
    client: RegistryClient,
    cache: Mutex<HashMap<CacheKey, (SignatureEvidence, Instant)>>,
}

impl SignatureChecks {
    /// Checks with `keyring` through `client`.
    pub fn new(keyring: Keyring, client: RegistryClient) -> Self {
        SignatureChecks {
            keyring,
            client,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Checks cached now (for metrics and tests).
    pub fn cached(&self) -> usize {
        self.cache.lock().map_or(0, |cache| cache.len())
    }

    async fn evidence(
        &self,
        repository: &Reference,
        digest: &Digest,
        rule: &SignatureRule,
    ) -> SignatureEvidence {
        let key = (
            repository.repository().to_string(),
            digest.to_string(),
            rule.at.clone(),
        );
        if let Ok(cache) = self.cache.lock()
            && let Some((evidence, at)) = cache.get(&key)
        {
            let ttl = match evidence {
                SignatureEvidence::Verified { .. } => VERIFIED_TTL,
                _ => UNSIGNED_TTL,
            };
            if at.elapsed() < ttl {
                return evidence.clone();
            }
        }
        let evidence = self
            .keyring
            .evidence(&self.client, repository, digest, rule)
            .await;
        if !matches!(evidence, SignatureEvidence::Unavailable { .. })
            && let Ok(mut cache) = self.cache.lock()
        {
            if cache.len() >= MAX_CACHED
                && let Some(oldest) = cache
                    .iter()
                    .min_by_key(|(_, (_, at))| *at)
                    .map(|(key, _)| key.clone())
            {
                cache.remove(&oldest);
            }
            cache.insert(key, (evidence.clone(), Instant::now()));
        }
        evidence
    }
}

/// The evidence for the images of an AdmissionReview request that a signature rule covers; `None` when the policy
/// has no signature rule or none applies (the decision then needs nothing from registries).
pub async fn for_admission(
    state: &AppState,
    policy: &Policy,
    request: &AdmissionRequest<'_>,
) -> Option<SignatureFacts> {
    let images: Vec<String> = images_to_judge(request)
        .into_iter()
        .map(|image| image.image)
        .collect();
    gather(
        state,
        policy,
        request.namespace.as_deref().unwrap_or_default(),
        images,
    )
    .await
}

/// The evidence for `images` (as written) in `namespace` under `policy`.
pub async fn gather(
    state: &AppState,
    policy: &Policy,
    namespace: &str,
    images: Vec<String>,
) -> Option<SignatureFacts> {
    let checks = state.signatures.as_ref()?;
    if policy.signatures.is_empty() {
        return None;
    }
    let scope = namespace_scope(namespace);
    let (environment, _) = policy.environment_of(&scope);
    let covered: Vec<(String, Reference, &SignatureRule)> = images
        .into_iter()
        .filter_map(|image| {
            let reference = Reference::parse_normalized(&image).ok()?;
            let rule = policy.signature_rule(environment, &reference)?;
            Some((image, reference, rule))
        })
        .collect();
    if covered.is_empty() {
        return None;
    }
    let mut facts = SignatureFacts {
        unknown_admits: state.serve.on_registry_failure == RegistryFailure::Allow,
        ..SignatureFacts::default()
    };
    // Collected first, over owned values: a stream over a borrowing closure is not `Send` for every lifetime
    // axum asks about.
    let lookups: Vec<_> = covered
        .iter()
        .map(|(image, reference, rule)| {
            check_one(
                state,
                checks,
                image.clone(),
                reference.clone(),
                (*rule).clone(),
            )
        })
        .collect();
    let mut answers = Vec::new();
    let read_all = async {
        use futures_util::StreamExt as _;
        let mut stream = futures_util::stream::iter(lookups).buffered(CHECKS_PER_REVIEW);
        while let Some(answer) = stream.next().await {
            answers.push(answer);
        }
    };
    // Leave a tenth of the deadline to decide and answer in.
    let budget = state.serve.deadline.mul_f64(0.9);
    if tokio::time::timeout(budget, read_all).await.is_err() {
        state.metrics.error("deadline");
    }
    facts.by_image = answers.into_iter().collect();
    for (image, _, _) in &covered {
        facts
            .by_image
            .entry(image.clone())
            .or_insert_with(|| SignatureEvidence::Unavailable {
                why: format!(
                    "the signatures were not read within {} ms",
                    budget.as_millis()
                ),
            });
    }
    Some(facts)
}

/// The evidence for one image: its digest, then its signatures (cached).
async fn check_one(
    state: &AppState,
    checks: &SignatureChecks,
    image: String,
    reference: Reference,
    rule: SignatureRule,
) -> (String, SignatureEvidence) {
    let digest = match reference.digest() {
        Some(digest) => Ok(digest.clone()),
        None => state
            .digests
            .digest(&reference)
            .await
            .and_then(|(digest, _)| Digest::parse(&digest).map_err(|e| e.to_string())),
    };
    let evidence = match digest {
        Ok(digest) => {
            checks
                .evidence(&reference.repository(), &digest, &rule)
                .await
        }
        Err(why) => SignatureEvidence::Unavailable {
            why: format!("no digest for {image}: {why}"),
        },
    };
    (image, evidence)
}
