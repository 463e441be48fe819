//! Prometheus metrics of `pyimage serve`, named after Kyverno's and Gatekeeper's: admission requests by endpoint
//! and decision, their latency, registry lookups and digest cache hits, break-glass uses and errors. Labels are
//! static strings: counting a request allocates nothing.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of a request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `validate`, `mutate`, `imagepolicy`.
    pub endpoint: &'static str,
    /// `allow`, `deny`, `patch`, `error`.
    pub decision: &'static str,
}

/// Labels by endpoint.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndpointLabels {
    /// `validate`, `mutate`, `imagepolicy`.
    pub endpoint: &'static str,
}

/// Labels of a registry lookup.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `ok` or `error`.
    pub outcome: &'static str,
}

/// Labels of an error.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    /// `content-type`, `malformed`, `registry`, `deadline`.
    pub kind: &'static str,
}

/// Every metric, registered once.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    duration: Family<EndpointLabels, Histogram>,
    lookups: Family<OutcomeLabels, Counter>,
    /// Digests answered from the cache.
    pub cache_hits: Counter,
    /// Digests answered from the history store (a watcher saw the tag recently).
    pub store_hits: Counter,
    /// ImageReviews let through by the break-glass annotation.
    pub break_glass: Counter,
    errors: Family<ErrorLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("pyimage");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "admission_requests",
            "Admission requests by endpoint and decision",
            requests.clone(),
        );
        let duration = Family::<EndpointLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ])
        });
        registry.register(
            "admission_review_duration_seconds",
            "Time to answer an admission request",
            duration.clone(),
        );
        let lookups = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "registry_lookups",
            "Manifest HEADs sent to the registry for digests",
            lookups.clone(),
        );
        let cache_hits = Counter::default();
        registry.register(
            "digest_cache_hits",
            "Digests answered from the cache",
            cache_hits.clone(),
        );
        let store_hits = Counter::default();
        registry.register(
            "digest_store_hits",
            "Digests answered from the history store a watcher keeps fresh",
            store_hits.clone(),
        );
        let break_glass = Counter::default();
        registry.register(
            "break_glass",
            "ImageReviews allowed by the break-glass annotation",
            break_glass.clone(),
        );
        let errors = Family::<ErrorLabels, Counter>::default();
        registry.register(
            "errors",
            "Requests that could not be decided normally",
            errors.clone(),
        );
        Metrics {
            registry,
            requests,
            duration,
            lookups,
            cache_hits,
            store_hits,
            break_glass,
            errors,
        }
    }
}

impl Metrics {
    /// Counts one answered request and its latency.
    pub fn request(&self, endpoint: &'static str, decision: &'static str, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels { endpoint, decision })
            .inc();
        self.duration
            .get_or_create(&EndpointLabels { endpoint })
            .observe(seconds);
    }

    /// Counts one registry lookup.
    pub fn registry_lookup(&self, ok: bool) {
        let outcome = if ok { "ok" } else { "error" };
        self.lookups.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    /// Counts one error.
    pub fn error(&self, kind: &'static str) {
        self.errors.get_or_create(&ErrorLabels { kind }).inc();
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}
