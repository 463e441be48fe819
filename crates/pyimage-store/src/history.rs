//! The history of every watched tag, in a real database.
//!
//! One [`Store`] over two backends behind sqlx's `any` driver: SQLite embedded (the default,
//! `$XDG_DATA_HOME/pyimage/history.db`, or `sqlite:PATH`) and PostgreSQL (`postgres://…`) when several watchers share
//! one history. One set of versioned migrations ([`migrate`]) runs at open. Two append-only tables:
//!
//! * **observations** — what one poll saw for one tag: index digest, per-platform digests, when, which watcher;
//! * **events** — the moves: per tag a gap-free sequence (`seq`), each from the previous event's digest to the new
//!   one, with its kind, Python before/after and what changed (packages, base image, build commit) as JSON.
//!
//! Recording a move is a compare-and-insert ([`Store::record`]): in one transaction the tag's last event is read and
//! the new one inserted with the next `seq`; the primary key `(repository, tag, seq)` makes a second watcher that
//! raced on the same move fail and re-read, so a move is never recorded twice and never lost. Queries for a page or a
//! command: [`Store::timeline`] (one tag) and [`Store::moves_since`] (everything since a time).

pub mod migrate;
#[macro_use]
pub(crate) mod query;
mod record;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

pub use record::{Proposed, Recorded};

/// What went wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store URL (credentials removed) is not one pyimage understands.
    #[error(
        "store URL {0:?} is not sqlite:PATH or postgres://…: use `--store sqlite:/var/lib/pyimage/history.db` or \
         `--store postgres://user@host/db`"
    )]
    BadUrl(String),
    /// The database could not be opened or reached.
    #[error("cannot open the history store {url}: {source}")]
    Open {
        /// The store URL (password removed).
        url: String,
        /// What the driver said.
        source: sqlx::Error,
    },
    /// A query failed.
    #[error("history store {url}: {what}: {source}")]
    Query {
        /// The store URL (password removed).
        url: String,
        /// What was being done.
        what: &'static str,
        /// What the driver said.
        source: sqlx::Error,
    },
    /// The database holds a newer schema than this pyimage knows.
    #[error(
        "history store {url} has schema version {found}, newer than this pyimage knows ({known}): upgrade pyimage"
    )]
    NewerSchema {
        /// The store URL.
        url: String,
        /// The version found.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// Recording kept conflicting with other watchers.
    #[error(
        "history store {url}: {tag}: gave up after {tries} conflicting writes from other watchers"
    )]
    Contended {
        /// The store URL.
        url: String,
        /// The tag (`docker.io/library/python:3.12-slim`).
        tag: String,
        /// How many times it tried.
        tries: u32,
    },
}

/// Which database a store URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A parsed store URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreUrl {
    /// The backend.
    pub backend: Backend,
    /// The URL as the driver takes it.
    driver_url: String,
    /// The URL as shown in messages (no password).
    pub shown: String,
}

impl StoreUrl {
    /// Parses `sqlite:PATH` (also `sqlite://PATH`) or `postgres://…` / `postgresql://…`.
    pub fn parse(url: &str) -> Result<StoreUrl, StoreError> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(StoreError::BadUrl(redact_url(url)));
            }
            return Ok(StoreUrl::sqlite(Path::new(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(StoreUrl {
                backend: Backend::Postgres,
                driver_url: url.to_owned(),
                shown: redact_url(url),
            });
        }
        Err(StoreError::BadUrl(redact_url(url)))
    }

    /// An SQLite file (created when missing).
    pub fn sqlite(path: &Path) -> StoreUrl {
        StoreUrl {
            backend: Backend::Sqlite,
            driver_url: format!("sqlite://{}?mode=rwc", path.display()),
            shown: format!("sqlite:{}", path.display()),
        }
    }

    /// The SQLite file path, for an SQLite URL.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        let rest = self.driver_url.strip_prefix("sqlite://")?;
        Some(PathBuf::from(
            rest.strip_suffix("?mode=rwc").unwrap_or(rest),
        ))
    }
}

/// Query parameters whose values are shown: libpq's and sqlx's settings that never hold a secret. Every other value
/// (`password`, `sslpassword`, `options` — which can carry `-c password=…` —, anything unknown) is shown as `***`.
const SHOWN_PARAMETERS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "application_name",
    "connect_timeout",
    "target_session_attrs",
    "statement-cache-capacity",
    "mode",
];

/// `url` as it may be shown (messages, logs, the drift page): the user kept, any password in the userinfo — which
/// may itself hold `@`, so the userinfo ends at the authority's last `@` — replaced by `***`, every query value
/// but the [`SHOWN_PARAMETERS`] replaced, and a fragment dropped. A URL too malformed to split is masked up to its
/// last `@`: showing too little beats showing a password.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.split(['?', '#']).next().unwrap_or_default().to_owned();
    };
    let rest = rest.split('#').next().unwrap_or_default();
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (userinfo, rest) = match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].split_once(':') {
            Some((user, _)) => (format!("{user}:***@"), &rest[at + 1..]),
            None => (format!("{}@", &rest[..at]), &rest[at + 1..]),
        },
        // An `@` after a `/` or `?`: a password holding them, unencoded, or a query value; mask up to it.
        None => match rest.rfind('@') {
            Some(at) => ("***@".to_owned(), &rest[at + 1..]),
            None => (String::new(), rest),
        },
    };
    let (location, query) = match rest.split_once('?') {
        Some((location, query)) => (location, Some(query)),
        None => (rest, None),
    };
    let mut shown = format!("{scheme}://{userinfo}{location}");
    if let Some(query) = query {
        let parameters: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _))
                    if !SHOWN_PARAMETERS.contains(&key.to_ascii_lowercase().as_str()) =>
                {
                    format!("{key}=***")
                }
                _ => pair.to_owned(),
            })
            .collect();
        shown.push('?');
        shown.push_str(&parameters.join("&"));
    }
    shown
}

/// The default store: `$XDG_DATA_HOME/pyimage/history.db`, else `$HOME/.local/share/pyimage/history.db`. The
/// caller passes the environment's values (the store reads no environment itself).
pub fn default_sqlite_path(xdg_data_home: Option<&str>, home: Option<&str>) -> Option<PathBuf> {
    let base = match (xdg_data_home.filter(|v| !v.is_empty()), home) {
        (Some(xdg), _) => PathBuf::from(xdg),
        (None, Some(home)) if !home.is_empty() => Path::new(home).join(".local/share"),
        _ => return None,
    };
    Some(base.join("pyimage").join("history.db"))
}

/// What one poll saw for one tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// The repository (`docker.io/library/python`).
    pub repository: String,
    /// The tag (`3.12-slim`).
    pub tag: String,
    /// The index digest, or `None` when the tag did not exist.
    pub digest: Option<String>,
    /// Per-platform manifest digests (`linux/amd64` → `sha256:…`), when they were read (on a move).
    pub platforms: Option<serde_json::Value>,
    /// When (RFC 3339 UTC).
    pub observed_at: String,
    /// Which watcher saw it (host and process).
    pub source: String,
}

/// One move of a tag, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The repository (`docker.io/library/python`).
    pub repository: String,
    /// The tag (`3.12-slim`).
    pub tag: String,
    /// Position in the tag's history (1, 2, …, gap-free).
    pub seq: i64,
    /// `new-tag`, `rebuild`, `patch`, `newer-line`, `other` or `removed`.
    pub kind: String,
    /// Index digest before (none for a new tag).
    pub from_digest: Option<String>,
    /// Index digest after (none for a removed tag).
    pub to_digest: Option<String>,
    /// Python version before.
    pub python_from: Option<String>,
    /// Python version after.
    pub python_to: Option<String>,
    /// When the move was seen (RFC 3339 UTC).
    pub observed_at: String,
    /// Which watcher recorded it.
    pub source: String,
    /// What the tag held after the move (platform digests, base image, build commit, packages), as the watcher
    /// read it; the next move is diffed against it.
    pub state: serde_json::Value,
    /// What changed (package diff, base image, commit), as the watcher computed it.
    pub changes: serde_json::Value,
}

/// A history store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    url: StoreUrl,
}

impl Store {
    /// Opens (creating an SQLite file and its directory when missing) and migrates the store.
    pub async fn open(url: &StoreUrl) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        if let Some(path) = url.sqlite_path()
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                url: url.shown.clone(),
                source: sqlx::Error::Io(e),
            })?;
        }
        let max = match url.backend {
            Backend::Sqlite => 1,
            Backend::Postgres => 4,
        };
        let sqlite = url.backend == Backend::Sqlite;
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            // SQLite: write-ahead log and one sync per checkpoint rather than per commit (a quiet poll records an
            // observation per tag); a committed event survives a killed watcher either way.
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if sqlite {
                        use sqlx::Executor as _;
                        connection
                            .execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000")
                            .await?;
                    }
                    Ok(())
                })
            })
            .acquire_timeout(std::time::Duration::from_secs(30))
            .connect(&url.driver_url)
            .await
            .map_err(|source| StoreError::Open {
                url: url.shown.clone(),
                source,
            })?;
        let store = Store {
            pool,
            url: url.clone(),
        };
        migrate::run(&store).await?;
        Ok(store)
    }

    /// The store URL as shown to users.
    pub fn url(&self) -> &StoreUrl {
        &self.url
    }

    fn error(&self, what: &'static str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
        move |source| StoreError::Query {
            url: self.url.shown.clone(),
            what,
            source,
        }
    }

    /// Closes the connections.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
