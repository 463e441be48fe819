//! Announcing moves: one JSON document per recorded event ([`Payload`]), POSTed to each `--notify` URL with a
//! timeout and retries. Deliveries run beside polling and never stall it; failures are counted and logged.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pyimage_policy::sbom::PackageChange;
use pyimage_store::Event;
use serde::Serialize;

use super::facts::{Changes, TagState};

/// The JSON document announcing one move.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Payload {
    /// `docker.io/library/python`.
    pub repository: String,
    /// `3.12-slim`.
    pub tag: String,
    /// `new-tag`, `rebuild`, `patch`, `newer-line`, `other` or `removed`.
    pub kind: String,
    /// Index digest before.
    pub from: Option<String>,
    /// Index digest after.
    pub to: Option<String>,
    /// Python before.
    pub python_from: Option<String>,
    /// Python after.
    pub python_to: Option<String>,
    /// When it was seen (RFC 3339 UTC).
    pub observed_at: String,
    /// Per-platform manifest digests after the move (never the index digest).
    pub platforms: std::collections::BTreeMap<String, String>,
    /// The base image digest after the move.
    pub base_digest: Option<String>,
    /// The docker-library/python commit after.
    pub commit: Option<String>,
    /// Packages added, removed, upgraded or downgraded (of `packages_platform`).
    pub packages: Vec<PackageChange>,
    /// The platform whose SBOM the package changes come from.
    pub packages_platform: Option<String>,
    /// One line for chat tools (Slack-compatible `text`).
    pub text: String,
}

impl Payload {
    /// The payload of a recorded event.
    pub fn of(event: &Event) -> Payload {
        let state: TagState = serde_json::from_value(event.state.clone()).unwrap_or_default();
        let changes: Changes = serde_json::from_value(event.changes.clone()).unwrap_or_default();
        Payload {
            repository: event.repository.clone(),
            tag: event.tag.clone(),
            kind: event.kind.clone(),
            from: event.from_digest.clone(),
            to: event.to_digest.clone(),
            python_from: event.python_from.clone(),
            python_to: event.python_to.clone(),
            observed_at: event.observed_at.clone(),
            platforms: state.platforms,
            base_digest: state.base_digest,
            commit: state.commit,
            text: summary(event, &changes.packages),
            packages: changes.packages,
            packages_platform: changes.packages_platform,
        }
    }
}

/// `python:3.12-slim rebuild sha256:aaaa… → sha256:bbbb… (Python 3.12.14 → 3.12.14; 3 packages changed)`.
pub fn summary(event: &Event, packages: &[PackageChange]) -> String {
    let short = |d: &Option<String>| match d {
        Some(d) => d.chars().take(19).collect::<String>() + "…",
        None => "(none)".to_owned(),
    };
    let python = match (&event.python_from, &event.python_to) {
        (Some(a), Some(b)) if a != b => format!("Python {a} → {b}"),
        (_, Some(b)) => format!("Python {b}"),
        (Some(a), None) => format!("Python {a}"),
        (None, None) => "Python unknown".to_owned(),
    };
    format!(
        "{}:{} {} {} → {} ({python}; {} package{} changed)",
        event
            .repository
            .strip_prefix("docker.io/library/")
            .unwrap_or(&event.repository),
        event.tag,
        event.kind,
        short(&event.from_digest),
        short(&event.to_digest),
        packages.len(),
        if packages.len() == 1 { "" } else { "s" },
    )
}

/// Delivers payloads to webhooks: each POST has a timeout, failures are retried with backoff, and deliveries run in
/// background tasks ([`Notifier::finish`] waits for them).
#[derive(Clone)]
pub struct Notifier {
    http: reqwest::Client,
    urls: Vec<String>,
    retries: u32,
    backoff: Duration,
    failed: Arc<AtomicU64>,
    delivered: Arc<AtomicU64>,
    tasks: Arc<tokio::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Notifier {
    /// A notifier for webhook URLs: `timeout` per attempt, `retries` after the first attempt, doubling `backoff`.
    pub fn new(
        urls: Vec<String>,
        timeout: Duration,
        retries: u32,
        backoff: Duration,
    ) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| format!("cannot build the webhook client: {e}"))?;
        Ok(Notifier {
            http,
            urls,
            retries,
            backoff,
            failed: Arc::default(),
            delivered: Arc::default(),
            tasks: Arc::default(),
        })
    }

    /// Starts delivering one payload to every URL; returns at once.
    pub async fn send(&self, payload: &Payload) {
        let mut tasks = self.tasks.lock().await;
        tasks.retain(|t| !t.is_finished());
        for url in &self.urls {
            let (http, url, body) = (self.http.clone(), url.clone(), payload.clone());
            let (retries, backoff) = (self.retries, self.backoff);
            let (failed, delivered) = (Arc::clone(&self.failed), Arc::clone(&self.delivered));
            tasks.push(tokio::spawn(async move {
                let mut delay = backoff;
                for attempt in 0..=retries {
                    match http.post(&url).json(&body).send().await {
                        Ok(response) if response.status().is_success() => {
                            delivered.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                        Ok(response) => {
                            tracing::warn!(%url, status = %response.status(), attempt, "webhook refused a notification")
                        }
                        Err(error) => tracing::warn!(%url, %error, attempt, "webhook delivery failed"),
                    }
                    if attempt < retries {
                        tokio::time::sleep(delay).await;
                        delay *= 2;
                    }
                }
                failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!(%url, tag = %body.tag, "notification not delivered after {} attempts", retries + 1);
            }));
        }
    }

    /// Waits for every delivery in flight.
    pub async fn finish(&self) {
        let tasks: Vec<_> = std::mem::take(&mut *self.tasks.lock().await);
        for task in tasks {
            let _ = task.await;
        }
    }

    /// `(delivered, failed)` so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.delivered.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }
}
