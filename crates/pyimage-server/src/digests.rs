//! Where the mutating webhook gets a tag's index digest: `pyimage.lock` when configured, else the registry through
//! a TTL cache with one HEAD in flight per tag. Registry traffic grows with the distinct tags seen per TTL, not
//! with the number of admissions: concurrent admissions of one tag share one HEAD, and later ones reuse its answer.
//!
//! A failed HEAD is remembered for a few seconds, so a registry outage does not turn every admission into a
//! request. A HEAD runs in its own task, so a request that gives up at its deadline does not cancel it: the
//! answer still lands in the cache for the next admission.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::{BoxFuture, FutureExt as _, Shared};
use pyimage_model::Reference;
use pyimage_model::lock::{Lock, LockMatch};
use pyimage_service::resolver::Resolver;

use crate::metrics::Metrics;

type Lookup = Shared<BoxFuture<'static, Result<String, String>>>;

enum Slot {
    Ready {
        digest: String,
        at: Instant,
    },
    /// A failed lookup, remembered for [`RETRY_AFTER`] so that an outage costs one HEAD per tag per interval.
    Failed {
        why: String,
        at: Instant,
    },
    Pending(Lookup),
}

/// Registry lookups in flight at once, all requests together: a Pod with thousands of tags waits its turn instead
/// of opening thousands of connections.
pub const MAX_LOOKUPS: usize = 32;

/// Tags remembered at most; past it, answers older than their time to live go first, then the oldest answers.
pub const MAX_CACHED: usize = 4096;

/// How long a failed lookup is answered from memory before the registry is asked again.
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

/// Where a digest came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestSource {
    /// The configured lock.
    Lock,
    /// The history store: a watcher observed the tag recently (`[serve] store-max-age`).
    Store,
    /// The cache (an earlier HEAD within the TTL).
    Cache,
    /// A HEAD to the registry (this request's, or one in flight it joined).
    Registry,
}

/// Digests by normalized `repository:tag`.
pub struct Digests {
    lock: Option<Lock>,
    resolver: Resolver,
    ttl: Duration,
    slots: Arc<Mutex<HashMap<String, Slot>>>,
    /// Lookups in flight, all requests together ([`MAX_LOOKUPS`]).
    in_flight: Arc<tokio::sync::Semaphore>,
    metrics: Arc<Metrics>,
    recent: Arc<crate::recent::Recent>,
    store: Option<(pyimage_store::Store, Duration)>,
}

impl Digests {
    /// A digest source over a lock (optional) and a resolver, caching registry answers for `ttl`.
    pub fn new(
        lock: Option<Lock>,
        resolver: Resolver,
        ttl: Duration,
        metrics: Arc<Metrics>,
        recent: Arc<crate::recent::Recent>,
    ) -> Self {
        Digests {
            lock,
            resolver,
            ttl,
            slots: Arc::default(),
            in_flight: Arc::new(tokio::sync::Semaphore::new(MAX_LOOKUPS)),
            metrics,
            recent,
            store: None,
        }
    }

    /// Digests also from a history store a watcher keeps fresh: an observation younger than `max_age` answers
    /// without asking the registry.
    pub fn with_store(mut self, store: pyimage_store::Store, max_age: Duration) -> Self {
        self.store = Some((store, max_age));
        self
    }

    /// The digest a watcher saw for the tag within `max_age`, if any (a store that cannot be read is skipped: the
    /// registry is still there).
    async fn watched_digest(&self, reference: &Reference) -> Option<String> {
        let (store, max_age) = self.store.as_ref()?;
        let tag = reference.tag()?;
        let observation = store
            .last_observation(&reference.repository().to_string(), tag)
            .await
            .map_err(|error| tracing::warn!("history store: {error}"))
            .ok()??;
        let seen = pyimage_model::time::parse_rfc3339_utc(&observation.observed_at)?;
        let age = pyimage_service::clock::unix_seconds().saturating_sub(seen);
        (age <= max_age.as_secs())
            .then_some(observation.digest)
            .flatten()
    }

    /// The index digest `reference` (with a tag, no digest) points at, and where it came from; the error says why
    /// the registry could not tell.
    pub async fn digest(&self, reference: &Reference) -> Result<(String, DigestSource), String> {
        if let Some(lock) = &self.lock
            && let LockMatch::Entry(entry) = lock.lookup(reference)
        {
            return Ok((entry.digest.clone(), DigestSource::Lock));
        }
        if let Some(digest) = self.watched_digest(reference).await {
            self.metrics.store_hits.inc();
            return Ok((digest, DigestSource::Store));
        }
        let key = reference.to_string();
        let lookup = {
            let mut slots = self
                .slots
                .lock()
                .map_err(|_| "digest cache poisoned".to_owned())?;
            match slots.get(&key) {
                Some(Slot::Ready { digest, at }) if at.elapsed() < self.ttl => {
                    self.metrics.cache_hits.inc();
                    return Ok((digest.clone(), DigestSource::Cache));
                }
                Some(Slot::Failed { why, at }) if at.elapsed() < RETRY_AFTER.min(self.ttl) => {
                    return Err(why.clone());
                }
                Some(Slot::Pending(lookup)) => lookup.clone(),
                _ => {
                    if slots.len() >= MAX_CACHED {
                        evict(&mut slots, self.ttl);
                    }
                    let lookup = self.start(key.clone(), reference.clone());
                    slots.insert(key, Slot::Pending(lookup.clone()));
                    lookup
                }
            }
        };
        lookup.await.map(|digest| (digest, DigestSource::Registry))
    }

    /// Tags the cache holds now (answers and lookups in flight), at most about [`MAX_CACHED`].
    pub fn cached(&self) -> usize {
        self.slots
            .lock()
            .map(|slots| slots.len())
            .unwrap_or_default()
    }

    /// Starts one HEAD in its own task; when it ends, the cache holds its answer (a failure for [`RETRY_AFTER`]).
    fn start(&self, key: String, reference: Reference) -> Lookup {
        let resolver = self.resolver.clone();
        let slots = Arc::clone(&self.slots);
        let metrics = Arc::clone(&self.metrics);
        let recent = Arc::clone(&self.recent);
        let in_flight = Arc::clone(&self.in_flight);
        let task = tokio::spawn(async move {
            // Held until the HEAD ends; the semaphore is never closed, so the error arm cannot happen.
            let _turn = in_flight.acquire_owned().await.ok();
            let started = Instant::now();
            let outcome = resolver
                .head(&reference)
                .await
                .map(|resolution| resolution.digest.to_string())
                .map_err(|error| format!("{reference}: {error}"));
            metrics.registry_lookup(outcome.is_ok());
            let took = started.elapsed().as_millis();
            let detail = match &outcome {
                Ok(_) => format!("HEAD {reference} answered in {took} ms"),
                Err(why) => format!("{why} (after {took} ms)"),
            };
            recent.registry(reference.domain(), outcome.is_ok(), detail);
            if let Ok(mut slots) = slots.lock() {
                match &outcome {
                    Ok(digest) => {
                        slots.insert(
                            key,
                            Slot::Ready {
                                digest: digest.clone(),
                                at: Instant::now(),
                            },
                        );
                    }
                    Err(why) => {
                        let failed = Slot::Failed {
                            why: why.clone(),
                            at: Instant::now(),
                        };
                        slots.insert(key, failed);
                    }
                }
            }
            outcome
        });
        async move {
            task.await
                .unwrap_or_else(|error| Err(format!("registry lookup failed: {error}")))
        }
        .boxed()
        .shared()
    }
}

/// Makes room in a full cache: answers past their time to live (failures past [`RETRY_AFTER`]) go, then, if that
/// freed too little, the oldest answers until an eighth of the room is free. Lookups in flight stay (they are
/// bounded by [`MAX_LOOKUPS`] and the requests waiting on them).
fn evict(slots: &mut HashMap<String, Slot>, ttl: Duration) {
    slots.retain(|_, slot| match slot {
        Slot::Ready { at, .. } => at.elapsed() < ttl,
        Slot::Failed { at, .. } => at.elapsed() < RETRY_AFTER.min(ttl),
        Slot::Pending(_) => true,
    });
    let target = MAX_CACHED - MAX_CACHED / 8;
    if slots.len() <= target {
        return;
    }
    let mut answered: Vec<(Instant, String)> = slots
        .iter()
        .filter_map(|(key, slot)| match slot {
            Slot::Ready { at, .. } | Slot::Failed { at, .. } => Some((*at, key.clone())),
            Slot::Pending(_) => None,
        })
        .collect();
    answered.sort_unstable();
    let excess = slots.len() - target;
    for (_, key) in answered.into_iter().take(excess) {
        slots.remove(&key);
    }
}
