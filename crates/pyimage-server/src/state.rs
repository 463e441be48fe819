//! What every request reads: the policy (and one copy per forced environment), `[serve]`, the digest source,
//! metrics and readiness. Built once from the loaded configuration.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use pyimage_model::lock::Lock;
use pyimage_policy::admission::{
    AdmissionRequest, Decisions, Judged, forced_environment, judge, judge_remembered,
};
use pyimage_policy::check::{CheckContext, Policy};
use pyimage_policy::config::{ServeSettings, Settings};
use pyimage_service::resolver::Resolver;

use crate::digests::Digests;
use crate::metrics::Metrics;
use crate::recent::Recent;

/// The certificate and key files of the TLS listener (PEM), re-read when they change.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// Everything `pyimage serve` needs to start.
pub struct ServerOptions {
    /// The validated configuration.
    pub settings: Settings,
    /// The lock digests come from first, when `[serve] lock` names one.
    pub lock: Option<Lock>,
    /// The registry, for digests the lock does not have.
    pub resolver: Resolver,
    /// Where to listen (`[serve] listen` or `--listen`).
    pub listen: SocketAddr,
    /// TLS files; plain HTTP without them.
    pub tls: Option<TlsFiles>,
    /// How often the TLS files are checked for changes.
    pub reload_every: Duration,
    /// The history store the page reads tag timelines from (none: the page shows admission only).
    pub store: Option<pyimage_store::Store>,
    /// Where the lock of `lock` was read from, as the page names it.
    pub lock_shown: Option<String>,
    /// Serve the page (`GET /`) on this plain-HTTP address of its own instead of the admission listener.
    pub page_listen: Option<SocketAddr>,
    /// Connections, read times and buffered bytes allowed (each listener has its own).
    pub limits: crate::limits::Limits,
    /// The cosign keys of `[trust.keys]` (and the built-in ones), for `[[trust.signatures]]` rules.
    pub keyring: Option<pyimage_service::signatures::Keyring>,
    /// Threads answering the admission listener, each with its own runtime (at least one).
    pub workers: usize,
}

/// The shared state of the handlers.
pub struct AppState {
    /// The policy, environments by namespace.
    pub policy: Policy,
    /// The policy with every scope forced to one environment, by environment (`/validate/ENV`).
    pub forced: BTreeMap<String, Policy>,
    /// The validating webhook's decisions of [`Self::policy`], remembered ([`Decisions`]).
    pub decisions: Decisions,
    /// The same for each policy of [`Self::forced`].
    pub forced_decisions: BTreeMap<String, Decisions>,
    /// `[serve]`.
    pub serve: ServeSettings,
    /// Digests for the mutating webhook.
    pub digests: Digests,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Set once the listener is bound.
    pub ready: AtomicBool,
    /// The last decisions and registry lookups, for the page.
    pub recent: Arc<Recent>,
    /// The history store, for the page.
    pub store: Option<pyimage_store::Store>,
    /// The lock (and its name) whose pins the page compares with the store.
    pub lock: Option<(String, Lock)>,
    /// The bytes of request bodies held at once, and the time to read one.
    pub budget: crate::limits::BodyBudget,
    /// Signature checks, when the policy has signature rules and keys were given.
    pub signatures: Option<crate::signatures::SignatureChecks>,
}

impl AppState {
    /// The state for these options.
    pub fn new(options: &ServerOptions) -> Self {
        let metrics = Arc::new(Metrics::default());
        let recent = Arc::new(Recent::default());
        let policy = options.settings.policy.clone();
        let forced: BTreeMap<String, Policy> = policy
            .environments
            .keys()
            .filter_map(|name| {
                let forced = forced_environment(&policy, name, &format!("/…/{name}"))?;
                Some((name.clone(), forced))
            })
            .collect();
        let signatures = options
            .keyring
            .clone()
            .filter(|_| !policy.signatures.is_empty())
            .map(|keyring| {
                crate::signatures::SignatureChecks::new(keyring, options.resolver.client().clone())
            });
        let forced_decisions = forced
            .keys()
            .map(|name| (name.clone(), Decisions::default()))
            .collect();
        AppState {
            signatures,
            forced,
            decisions: Decisions::default(),
            forced_decisions,
            serve: options.settings.serve.clone(),
            digests: {
                let digests = Digests::new(
                    options.lock.clone(),
                    options.resolver.clone(),
                    options.settings.serve.cache_ttl,
                    Arc::clone(&metrics),
                    Arc::clone(&recent),
                );
                match &options.store {
                    Some(store) => {
                        digests.with_store(store.clone(), options.settings.serve.store_max_age)
                    }
                    None => digests,
                }
            },
            metrics,
            policy,
            ready: AtomicBool::new(false),
            recent,
            store: options.store.clone(),
            budget: crate::limits::BodyBudget::new(
                options.limits.buffered_bytes,
                crate::MAX_BODY,
                options.limits.read_body,
            ),
            lock: options.lock.clone().map(|lock| {
                let shown = options
                    .lock_shown
                    .clone()
                    .unwrap_or_else(|| "pyimage.lock".to_owned());
                (shown, lock)
            }),
        }
    }

    /// The policy for a request: forced to `environment` when the path names one, `None` if it is not configured.
    pub fn policy_for(&self, environment: Option<&str>) -> Option<&Policy> {
        match environment {
            Some(name) => self.forced.get(name),
            None => Some(&self.policy),
        }
    }

    /// The images of `request` judged by the policy for `environment` ([`Self::policy_for`], which gave
    /// `policy`), with that policy's remembered decisions.
    pub fn judge(
        &self,
        environment: Option<&str>,
        request: &AdmissionRequest<'_>,
        policy: &Policy,
        context: &CheckContext<'_>,
    ) -> Vec<Judged> {
        let decisions = match environment {
            Some(name) => self.forced_decisions.get(name),
            None => Some(&self.decisions),
        };
        match decisions {
            Some(decisions) => judge_remembered(request, policy, context, decisions),
            None => judge(request, policy, context),
        }
    }

    /// Whether the mutating webhook pins in `environment` of `policy`.
    pub fn mutates(&self, policy: &Policy, environment: &str) -> bool {
        let requires_digest = policy
            .environments
            .get(environment)
            .is_some_and(|settings| settings.digest);
        self.serve.mutates(environment, requires_digest)
    }
}
