//! Reading the history: one tag's timeline, every move since a time, one tag's observations, and the few events a
//! pin's standing needs (the newest move to a digest, the newest events, the moves after one). These are the
//! queries `pyimage history` and the drift page ask; each is served by an index (`(repository, tag, seq)` primary
//! key, `events_by_time`, `observations_by_tag`).

use serde_json::Value;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Event, Observation, Store, StoreError};

/// The columns of an event, in [`event_of`]'s order.
macro_rules! event_columns {
    () => {
        "repository, tag, seq, kind, from_digest, to_digest, python_from, python_to, observed_at, source, state, \
         changes"
    };
}

/// The columns of an observation, in [`observation_of`]'s order.
macro_rules! observation_columns {
    () => {
        "repository, tag, digest, platforms, observed_at, source"
    };
}

/// Reads an event row selected with [`event_columns`].
pub(crate) fn event_of(row: &AnyRow) -> Result<Event, sqlx::Error> {
    let json = |text: String| serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok(Event {
        repository: row.try_get(0)?,
        tag: row.try_get(1)?,
        seq: row.try_get(2)?,
        kind: row.try_get(3)?,
        from_digest: row.try_get(4)?,
        to_digest: row.try_get(5)?,
        python_from: row.try_get(6)?,
        python_to: row.try_get(7)?,
        observed_at: row.try_get(8)?,
        source: row.try_get(9)?,
        state: json(row.try_get(10)?),
        changes: json(row.try_get(11)?),
    })
}

impl Store {
    /// The events of one tag, oldest first; with `since` (RFC 3339 UTC), only those observed at or after it.
    pub async fn timeline(
        &self,
        repository: &str,
        tag: &str,
        since: Option<&str>,
    ) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE repository = $1 AND tag = $2 AND observed_at >= $3 ORDER BY seq"
        ))
        .bind(repository)
        .bind(tag)
        .bind(since.unwrap_or(""))
        .fetch_all(&self.pool)
        .await
        .map_err(self.error("reading a tag's timeline"))?;
        rows.iter()
            .map(event_of)
            .collect::<Result<_, _>>()
            .map_err(self.error("reading a tag's timeline"))
    }

    /// The newest event of one tag that moved it to `digest`, if any: how far behind a pin of that digest is, read
    /// without the rest of the timeline.
    pub async fn last_event_to(
        &self,
        repository: &str,
        tag: &str,
        digest: &str,
    ) -> Result<Option<Event>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE repository = $1 AND tag = $2 AND to_digest = $3 ORDER BY seq DESC LIMIT 1"
        ))
        .bind(repository)
        .bind(tag)
        .bind(digest)
        .fetch_optional(&self.pool)
        .await
        .map_err(self.error("reading a tag's move to a digest"))?;
        row.map(|r| event_of(&r))
            .transpose()
            .map_err(self.error("reading a tag's move to a digest"))
    }

    /// The newest `limit` events of one tag, oldest first.
    pub async fn newest_events(
        &self,
        repository: &str,
        tag: &str,
        limit: i64,
    ) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE repository = $1 AND tag = $2 ORDER BY seq DESC LIMIT $3"
        ))
        .bind(repository)
        .bind(tag)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(self.error("reading a tag's newest events"))?;
        let mut events = rows
            .iter()
            .map(event_of)
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.error("reading a tag's newest events"))?;
        events.reverse();
        Ok(events)
    }

    /// How many events of one tag came after its event `seq`, and the first of them.
    pub async fn moves_after(
        &self,
        repository: &str,
        tag: &str,
        seq: i64,
    ) -> Result<(i64, Option<Event>), StoreError> {
        let count: i64 = sqlx::query(
            "SELECT COUNT(*) FROM events WHERE repository = $1 AND tag = $2 AND seq > $3",
        )
        .bind(repository)
        .bind(tag)
        .bind(seq)
        .fetch_one(&self.pool)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(self.error("counting a tag's moves"))?;
        let next = sqlx::query(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE repository = $1 AND tag = $2 AND seq > $3 ORDER BY seq LIMIT 1"
        ))
        .bind(repository)
        .bind(tag)
        .bind(seq)
        .fetch_optional(&self.pool)
        .await
        .map_err(self.error("reading a tag's next move"))?;
        let next = next
            .map(|r| event_of(&r))
            .transpose()
            .map_err(self.error("reading a tag's next move"))?;
        Ok((count, next))
    }

    /// Every event observed at or after `since` (RFC 3339 UTC), oldest first, at most `limit`.
    pub async fn moves_since(&self, since: &str, limit: i64) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE observed_at >= $1 ORDER BY observed_at, repository, tag, seq LIMIT $2"
        ))
        .bind(since)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(self.error("reading moves since a time"))?;
        rows.iter()
            .map(event_of)
            .collect::<Result<_, _>>()
            .map_err(self.error("reading moves since a time"))
    }

    /// When a watcher first saw a tag of `repository` point at `digest` (RFC 3339 UTC): the earliest recorded move
    /// to it, whichever tag moved. `None` when no watcher saw it. Read through the `(repository, tag, seq)` key:
    /// one repository's events.
    pub async fn first_served(
        &self,
        repository: &str,
        digest: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT MIN(observed_at) FROM events WHERE repository = $1 AND to_digest = $2",
        )
        .bind(repository)
        .bind(digest)
        .fetch_one(&self.pool)
        .await
        .map_err(self.error("reading when a digest was first served"))?;
        row.try_get::<Option<String>, _>(0)
            .map_err(self.error("reading when a digest was first served"))
    }

    /// The newest event of each tag of `repository` (where each tag points now, as recorded), by tag; read through
    /// the `(repository, tag, seq)` key.
    pub async fn latest_events(&self, repository: &str) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE repository = $1 AND seq = \
             (SELECT MAX(seq) FROM events AS newest WHERE newest.repository = events.repository \
              AND newest.tag = events.tag) ORDER BY tag"
        ))
        .bind(repository)
        .fetch_all(&self.pool)
        .await
        .map_err(self.error("reading the newest event of each tag"))?;
        rows.iter()
            .map(event_of)
            .collect::<Result<_, _>>()
            .map_err(self.error("reading the newest event of each tag"))
    }

    /// When each digest of `repository` was first served (the earliest recorded move to it), by digest.
    pub async fn first_served_all(
        &self,
        repository: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, StoreError> {
        let rows = sqlx::query(
            "SELECT to_digest, MIN(observed_at) FROM events WHERE repository = $1 AND to_digest IS NOT NULL \
             GROUP BY to_digest",
        )
        .bind(repository)
        .fetch_all(&self.pool)
        .await
        .map_err(self.error("reading when digests were first served"))?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(self.error("reading when digests were first served"))
    }

    /// The tags with at least one event: `(repository, tag)`, sorted.
    pub async fn tags(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows =
            sqlx::query("SELECT DISTINCT repository, tag FROM events ORDER BY repository, tag")
                .fetch_all(&self.pool)
                .await
                .map_err(self.error("listing tags"))?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(self.error("listing tags"))
    }

    /// The observations of one tag, oldest first.
    pub async fn observations(
        &self,
        repository: &str,
        tag: &str,
    ) -> Result<Vec<Observation>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            observation_columns!(),
            " FROM observations WHERE repository = $1 AND tag = $2 ORDER BY observed_at"
        ))
        .bind(repository)
        .bind(tag)
        .fetch_all(&self.pool)
        .await
        .map_err(self.error("reading observations"))?;
        rows.iter()
            .map(observation_of)
            .collect::<Result<_, sqlx::Error>>()
            .map_err(self.error("reading observations"))
    }

    /// The newest observation of one tag (what a watcher saw last, moved or not).
    pub async fn last_observation(
        &self,
        repository: &str,
        tag: &str,
    ) -> Result<Option<Observation>, StoreError> {
        let row = sqlx::query(
            concat!(
                "SELECT ",
                observation_columns!(),
                " FROM observations WHERE repository = $1 AND tag = $2 ORDER BY observed_at DESC LIMIT 1"
            ),
        )
        .bind(repository)
        .bind(tag)
        .fetch_optional(&self.pool)
        .await
        .map_err(self.error("reading the last observation"))?;
        row.as_ref()
            .map(observation_of)
            .transpose()
            .map_err(self.error("reading the last observation"))
    }
}

/// Reads an observation row selected with [`observation_columns`].
fn observation_of(r: &AnyRow) -> Result<Observation, sqlx::Error> {
    let platforms: Option<String> = r.try_get(3)?;
    Ok(Observation {
        repository: r.try_get(0)?,
        tag: r.try_get(1)?,
        digest: r.try_get(2)?,
        platforms: platforms.and_then(|p| serde_json::from_str(&p).ok()),
        observed_at: r.try_get(4)?,
        source: r.try_get(5)?,
    })
}
