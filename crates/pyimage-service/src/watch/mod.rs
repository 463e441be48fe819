//! The watcher: polls tags and records every move in the history store.
//!
//! A poll costs one HEAD per watched tag (and the registry client's one token per repository); a tag whose digest
//! equals its last recorded one costs nothing more and is recorded as an observation. Only a tag that moved costs
//! GETs ([`facts::read_state`]: the index and the attestations of the configured platforms), and is recorded as an
//! event explained by [`facts::explain`] — its kind from `classify_move`, Python before/after, base image and
//! build commit, and the package diff of the SPDX SBOMs. Recording is the store's compare-and-insert, so watchers
//! sharing one PostgreSQL record each move once: a watcher whose view is stale re-reads and proposes again.

pub mod facts;
pub mod history;
pub mod notify;
pub mod run;
pub mod store_choice;
pub mod targets;

use futures_util::StreamExt as _;
use pyimage_model::{Digest, Platform, Reference};
use pyimage_registry::RegistryError;
use pyimage_store::{Event, Observation, Recorded, Store, StoreError};

use crate::error::{ErrorKind, ServiceError};
use crate::resolver::{CONCURRENCY, Resolver};

pub use facts::{Changes, FromTo, TagState};

/// What to watch with, and as whom.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Platforms whose attestations are read on a move (default `linux/amd64`); the first one with an SBOM is the
    /// one whose packages are diffed.
    pub platforms: Vec<Platform>,
    /// Who records (`host:pid`), kept with every observation and event.
    pub source: String,
}

/// The platforms of `--platform` (`OS/ARCH[/VARIANT]`), `linux/amd64` when none is given.
pub fn platforms(texts: &[String]) -> Result<Vec<Platform>, ServiceError> {
    let mut platforms = Vec::new();
    for text in texts {
        platforms.push(Platform::parse(text).ok_or_else(|| {
            ServiceError::input(format!(
                "--platform {text:?}: expected OS/ARCH[/VARIANT] such as linux/amd64"
            ))
        })?);
    }
    if platforms.is_empty() {
        platforms.extend(Platform::parse("linux/amd64"));
    }
    Ok(platforms)
}

/// What one poll did.
#[derive(Debug, Default)]
pub struct PollReport {
    /// Tags asked.
    pub checked: usize,
    /// Tags whose digest was already the recorded one.
    pub unchanged: usize,
    /// Moves recorded by this watcher, in reference order.
    pub moves: Vec<Event>,
    /// Moves another watcher recorded first (seen here, recorded once there).
    pub recorded_elsewhere: usize,
    /// References that could not be polled, and why.
    pub errors: Vec<(String, ServiceError)>,
}

/// Polls references and records what moved.
#[derive(Clone)]
pub struct Watcher {
    resolver: Resolver,
    store: Store,
    options: WatchOptions,
}

enum Outcome {
    Unchanged,
    Moved(Box<Event>),
    Elsewhere,
}

impl Watcher {
    /// A watcher over a resolver and a store.
    pub fn new(resolver: Resolver, store: Store, options: WatchOptions) -> Self {
        Watcher {
            resolver,
            store,
            options,
        }
    }

    /// The store it records into.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The resolver it asks.
    pub fn resolver(&self) -> &Resolver {
        &self.resolver
    }

    /// Polls every reference once (16 at a time) and records what it saw. One reference failing never stops the
    /// others; a tag the registry no longer has is recorded as removed.
    pub async fn poll(&self, references: &[Reference]) -> PollReport {
        self.resolver.progress().planned(references.len());
        let outcomes: Vec<(String, Result<Outcome, ServiceError>)> =
            futures_util::stream::iter(references)
                .map(|reference| async move {
                    let outcome = self.poll_one(reference).await;
                    self.resolver.progress().finished(&reference.to_string());
                    (reference.to_string(), outcome)
                })
                .buffered(CONCURRENCY)
                .collect()
                .await;
        self.resolver.progress().settled();
        let mut report = PollReport {
            checked: references.len(),
            ..PollReport::default()
        };
        for (shown, outcome) in outcomes {
            match outcome {
                Ok(Outcome::Unchanged) => report.unchanged += 1,
                Ok(Outcome::Moved(event)) => report.moves.push(*event),
                Ok(Outcome::Elsewhere) => report.recorded_elsewhere += 1,
                Err(error) => report.errors.push((shown, error)),
            }
        }
        report
    }

    async fn poll_one(&self, reference: &Reference) -> Result<Outcome, ServiceError> {
        let Some(tag) = reference.tag() else {
            return Err(ServiceError::input(format!(
                "{reference} names no tag: a digest never moves; watch a tag (python:3.12-slim)"
            )));
        };
        let repository = reference.repository();
        let repository_name = repository.to_string();
        let digest = match self.resolver.head(reference).await {
            Ok(resolution) => Some(resolution.digest),
            Err(RegistryError::NotFound { .. }) => None,
            Err(error) => return Err(error.into()),
        };
        let seen = Observation {
            repository: repository_name.clone(),
            tag: tag.to_owned(),
            digest: digest.as_ref().map(Digest::to_string),
            platforms: None,
            observed_at: crate::clock::now_rfc3339(),
            source: self.options.source.clone(),
        };
        let mut last = self
            .store
            .last_event(&repository_name, tag)
            .await
            .map_err(store_error)?;
        let known = last.as_ref().map(|e| e.to_digest.clone());
        if known.is_none() && digest.is_none() {
            return Err(ServiceError::input(format!(
                "{reference}: the registry does not have this tag and the history never saw it (a typo?)"
            )));
        }
        // Unchanged: an observation, no GET.
        if known.as_ref() == Some(&seen.digest) {
            self.store.observe(&seen).await.map_err(store_error)?;
            return Ok(Outcome::Unchanged);
        }
        let state = match &digest {
            Some(digest) => Some(
                facts::read_state(
                    self.resolver.client(),
                    &repository,
                    tag,
                    digest,
                    &self.options.platforms,
                )
                .await?,
            ),
            None => None,
        };
        let mut seen = seen;
        seen.platforms = state
            .as_ref()
            .and_then(|s| serde_json::to_value(&s.platforms).ok());
        for _ in 0..10 {
            let proposed = facts::explain(last.as_ref(), &seen, state.as_ref());
            match self.store.record(&proposed).await.map_err(store_error)? {
                Recorded::Event(event) => return Ok(Outcome::Moved(event)),
                Recorded::AlreadyKnown => return Ok(Outcome::Elsewhere),
                // Another watcher recorded a later observation: this one is behind; it will see the tag next poll.
                Recorded::Stale(Some(newer)) if newer.observed_at > seen.observed_at => {
                    return Ok(Outcome::Elsewhere);
                }
                Recorded::Stale(newer) => last = newer.map(|e| *e),
            }
        }
        Err(ServiceError::unreachable(format!(
            "{reference}: the history kept changing under this watcher; it will try again next poll"
        )))
    }
}

/// A store failure as a service error: a bad URL, a schema this build cannot use, a file that is not a database
/// or cannot be written is the user's to fix ([`StoreError::is_input`]), the rest is the database's side.
pub fn store_error(error: StoreError) -> ServiceError {
    let kind = if error.is_input() {
        ErrorKind::Input
    } else {
        ErrorKind::Unreachable
    };
    ServiceError {
        kind,
        message: error.to_string(),
    }
}
