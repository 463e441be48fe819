//! Recording what a poll saw: an observation always, an event when the tag's digest differs from its last
//! recorded one. The compare and the insert happen in one transaction; the `(repository, tag, seq)` primary key
//! turns a race between watchers into a conflict that the loser resolves by re-reading.

use crate::migrate::is_conflict;
use crate::{Backend, Event, Observation, Store, StoreError};
use serde_json::Value;

/// A move the watcher proposes to record: the observation, the digest it believes the tag held before (from
/// [`Store::last_event`]), and the facts it computed.
#[derive(Debug, Clone)]
pub struct Proposed {
    /// What was seen.
    pub observation: Observation,
    /// The `to_digest` of the tag's last event as the watcher read it (`None`: no event yet, or removed).
    pub expected_from: Option<String>,
    /// The kind of the move.
    pub kind: String,
    /// Python version before.
    pub python_from: Option<String>,
    /// Python version after.
    pub python_to: Option<String>,
    /// What the tag holds now.
    pub state: Value,
    /// What changed.
    pub changes: Value,
}

/// What [`Store::record`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// The move was recorded as this event.
    Event(Box<Event>),
    /// Another watcher already recorded this move (or the digest did not move): only the observation was kept.
    AlreadyKnown,
    /// The tag's history moved on since the watcher read it (a newer event, or another `from`): re-read with
    /// [`Store::last_event`] and propose again. Nothing was written.
    Stale(Option<Box<Event>>),
}

impl Store {
    /// Records an observation with no move (the digest equals the last event's).
    pub async fn observe(&self, observation: &Observation) -> Result<(), StoreError> {
        insert_observation(&self.pool, observation)
            .await
            .map_err(self.error("recording an observation"))
    }

    /// The tag's last event, if any.
    pub async fn last_event(
        &self,
        repository: &str,
        tag: &str,
    ) -> Result<Option<Event>, StoreError> {
        let row = sqlx::query(LAST_EVENT)
            .bind(repository)
            .bind(tag)
            .fetch_optional(&self.pool)
            .await
            .map_err(self.error("reading a tag's last event"))?;
        row.map(|r| crate::history::query::event_of(&r))
            .transpose()
            .map_err(self.error("reading a tag's last event"))
    }

    /// Compare-and-insert: in one transaction, reads the tag's last event; when its `to_digest` equals the
    /// observation's digest the move is already known; when it equals `expected_from` (and is not newer than the
    /// observation) the event is inserted with the next `seq`; otherwise the caller's view is stale. A conflicting
    /// insert by another watcher is retried from the read.
    pub async fn record(&self, proposed: &Proposed) -> Result<Recorded, StoreError> {
        const TRIES: u32 = 20;
        for attempt in 0..TRIES {
            match self.try_record(proposed).await {
                Ok(outcome) => return Ok(outcome),
                Err(error) if is_conflict(&error) => {
                    tokio::time::sleep(std::time::Duration::from_millis(
                        5 + 10 * u64::from(attempt),
                    ))
                    .await;
                }
                Err(error) => return Err(self.error("recording a move")(error)),
            }
        }
        Err(StoreError::Contended {
            url: self.url.shown.clone(),
            tag: format!(
                "{}:{}",
                proposed.observation.repository, proposed.observation.tag
            ),
            tries: TRIES,
        })
    }

    async fn try_record(&self, proposed: &Proposed) -> Result<Recorded, sqlx::Error> {
        let seen = &proposed.observation;
        let mut tx = match self.url.backend {
            // Take the write lock at the start: a deferred SQLite transaction that reads, then writes after another
            // process wrote, fails instead of waiting.
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        let last = sqlx::query(LAST_EVENT)
            .bind(&seen.repository)
            .bind(&seen.tag)
            .fetch_optional(&mut *tx)
            .await?
            .map(|row| crate::history::query::event_of(&row))
            .transpose()?;
        let last_to = last.as_ref().and_then(|e| e.to_digest.clone());
        let outcome = if last.is_some() && last_to == seen.digest {
            Recorded::AlreadyKnown
        } else if last_to != proposed.expected_from
            || last
                .as_ref()
                .is_some_and(|e| e.observed_at > seen.observed_at)
        {
            return Ok(Recorded::Stale(last.map(Box::new)));
        } else {
            let event = Event {
                repository: seen.repository.clone(),
                tag: seen.tag.clone(),
                seq: last.as_ref().map_or(1, |e| e.seq + 1),
                kind: proposed.kind.clone(),
                from_digest: last_to,
                to_digest: seen.digest.clone(),
                python_from: proposed.python_from.clone(),
                python_to: proposed.python_to.clone(),
                observed_at: seen.observed_at.clone(),
                source: seen.source.clone(),
                state: proposed.state.clone(),
                changes: proposed.changes.clone(),
            };
            sqlx::query(
                "INSERT INTO events (repository, tag, seq, kind, from_digest, to_digest, python_from, python_to, \
                 observed_at, source, state, changes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(&event.repository)
            .bind(&event.tag)
            .bind(event.seq)
            .bind(&event.kind)
            .bind(&event.from_digest)
            .bind(&event.to_digest)
            .bind(&event.python_from)
            .bind(&event.python_to)
            .bind(&event.observed_at)
            .bind(&event.source)
            .bind(event.state.to_string())
            .bind(event.changes.to_string())
            .execute(&mut *tx)
            .await?;
            Recorded::Event(Box::new(event))
        };
        insert_observation(&mut *tx, seen).await?;
        tx.commit().await?;
        Ok(outcome)
    }
}

const LAST_EVENT: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM events WHERE repository = $1 AND tag = $2 ORDER BY seq DESC LIMIT 1"
);

async fn insert_observation<'e, E>(executor: E, seen: &Observation) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO observations (repository, tag, digest, platforms, observed_at, source) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&seen.repository)
    .bind(&seen.tag)
    .bind(&seen.digest)
    .bind(seen.platforms.as_ref().map(Value::to_string))
    .bind(&seen.observed_at)
    .bind(&seen.source)
    .execute(executor)
    .await
    .map(|_| ())
}
