//! Versioned migrations, applied in order at [`Store::open`](crate::Store::open) and recorded in
//! `pyimage_schema(version, description, applied_at)`. One set for both backends: the SQL uses only types and
//! statements SQLite and PostgreSQL read alike (`TEXT`, `BIGINT`, composite primary keys, plain indexes). A
//! migration is never edited once released; a change is a new version.

use crate::{Store, StoreError};

/// One migration: its version, what it does, its statements.
pub struct Migration {
    /// The version (1, 2, …).
    pub version: i64,
    /// What it does.
    pub description: &'static str,
    /// Its statements, run in one transaction.
    pub statements: &'static [&'static str],
}

/// Every migration, oldest first.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    description: "observations and events, with indexes for one tag's history and for everything since a time",
    statements: &[
        "CREATE TABLE observations (
            repository TEXT NOT NULL,
            tag TEXT NOT NULL,
            digest TEXT,
            platforms TEXT,
            observed_at TEXT NOT NULL,
            source TEXT NOT NULL
        )",
        "CREATE INDEX observations_by_tag ON observations (repository, tag, observed_at)",
        "CREATE INDEX observations_by_time ON observations (observed_at)",
        "CREATE TABLE events (
            repository TEXT NOT NULL,
            tag TEXT NOT NULL,
            seq BIGINT NOT NULL,
            kind TEXT NOT NULL,
            from_digest TEXT,
            to_digest TEXT,
            python_from TEXT,
            python_to TEXT,
            observed_at TEXT NOT NULL,
            source TEXT NOT NULL,
            state TEXT NOT NULL,
            changes TEXT NOT NULL,
            PRIMARY KEY (repository, tag, seq)
        )",
        "CREATE INDEX events_by_time ON events (observed_at)",
    ],
}];

/// The newest schema version this build knows.
pub fn newest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Applies the migrations the store lacks. Several processes may start at once: the version row's primary key
/// lets one apply a migration and makes the others re-read.
pub(crate) async fn run(store: &Store) -> Result<(), StoreError> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS pyimage_schema (
            version BIGINT PRIMARY KEY,
            description TEXT NOT NULL,
            applied_at TEXT NOT NULL
        )",
    )
    .execute(&store.pool)
    .await
    .or_else(|error| {
        // Two PostgreSQL clients creating the table at once: one of them sees a unique violation on the catalog.
        if is_conflict(&error) {
            Ok(Default::default())
        } else {
            Err(error)
        }
    })
    .map_err(store.error("creating the schema table"))?;
    for _ in 0..5 {
        let found = current(store).await?;
        if found > newest() {
            return Err(StoreError::NewerSchema {
                url: store.url.shown.clone(),
                found,
                known: newest(),
            });
        }
        let Some(next) = MIGRATIONS.iter().find(|m| m.version > found) else {
            return Ok(());
        };
        match apply(store, next).await {
            Ok(()) => {}
            Err(StoreError::Query { source, .. }) if is_conflict(&source) => continue,
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// For a store opened read-only: its schema must be the one this build knows (nothing can be migrated).
pub(crate) async fn check(store: &Store) -> Result<(), StoreError> {
    let found = current(store).await?;
    if found > newest() {
        return Err(StoreError::NewerSchema {
            url: store.url.shown.clone(),
            found,
            known: newest(),
        });
    }
    if found < newest() {
        return Err(StoreError::OlderSchema {
            url: store.url.shown.clone(),
            found,
            known: newest(),
        });
    }
    Ok(())
}

/// The schema version of the store (0 when empty).
pub async fn current(store: &Store) -> Result<i64, StoreError> {
    let version: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM pyimage_schema")
        .fetch_one(&store.pool)
        .await
        .map_err(store.error("reading the schema version"))?;
    Ok(version.unwrap_or(0))
}

async fn apply(store: &Store, migration: &Migration) -> Result<(), StoreError> {
    let mut tx = store
        .pool
        .begin()
        .await
        .map_err(store.error("starting a migration"))?;
    // The version row first: a second process applying the same migration conflicts here, before any DDL.
    sqlx::query(
        "INSERT INTO pyimage_schema (version, description, applied_at) VALUES ($1, $2, $3)",
    )
    .bind(migration.version)
    .bind(migration.description)
    .bind(now_text())
    .execute(&mut *tx)
    .await
    .map_err(store.error("recording a migration"))?;
    for statement in migration.statements {
        sqlx::raw_sql(*statement)
            .execute(&mut *tx)
            .await
            .map_err(store.error("applying a migration"))?;
    }
    tx.commit()
        .await
        .map_err(store.error("committing a migration"))
}

/// Whether an error is a unique-key conflict (another writer got there first) or SQLite being busy.
pub(crate) fn is_conflict(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            db.is_unique_violation()
                || db.message().contains("database is locked")
                || db.message().contains("already exists")
                || db.code().as_deref() == Some("40001")
        }
        _ => false,
    }
}

fn now_text() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    seconds.to_string()
}
