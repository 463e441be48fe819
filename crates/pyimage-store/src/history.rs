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
    #[error("cannot open the history store {url}: {}", cause(source))]
    Open {
        /// The store URL (password removed).
        url: String,
        /// What the driver said.
        source: sqlx::Error,
    },
    /// A query failed.
    #[error("history store {url}: {what}: {}", cause(source))]
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
    /// A store opened to be read holds an older schema than this pyimage's (reading cannot migrate it).
    #[error(
        "history store {url} has schema version {found}, older than this pyimage's ({known}): run `pyimage watch \
         --once` with write access once to migrate it"
    )]
    OlderSchema {
        /// The store URL.
        url: String,
        /// The version found.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// The SQLite file to read does not exist.
    #[error("no history store at {url}: `pyimage watch` creates and fills it")]
    Missing {
        /// The store URL.
        url: String,
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

impl StoreError {
    /// Whether the user must fix something (the URL, the file, pyimage's version) rather than wait for a server.
    pub fn is_input(&self) -> bool {
        match self {
            StoreError::BadUrl(_)
            | StoreError::NewerSchema { .. }
            | StoreError::OlderSchema { .. }
            | StoreError::Missing { .. } => true,
            StoreError::Open { source, .. } | StoreError::Query { source, .. } => {
                matches!(Cause::of(source), Cause::NotSqlite | Cause::ReadOnly)
            }
            StoreError::Contended { .. } => false,
        }
    }
}

/// What a driver error means for the user, when pyimage knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    Refused,
    Locked,
    NotSqlite,
    ReadOnly,
    Other,
}

impl Cause {
    fn of(error: &sqlx::Error) -> Cause {
        if let sqlx::Error::Io(io) = error
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return Cause::Refused;
        }
        let Some(database) = error.as_database_error() else {
            return Cause::Other;
        };
        // SQLite's primary result codes (the low byte of an extended one): 5 BUSY, 6 LOCKED, 8 READONLY,
        // 26 NOTADB, 14 CANTOPEN (a read-only directory for the write-ahead log).
        let code = database
            .code()
            .and_then(|c| c.parse::<i64>().ok())
            .map(|c| c & 0xff);
        match code {
            Some(5 | 6) => Cause::Locked,
            Some(26) => Cause::NotSqlite,
            Some(8) => Cause::ReadOnly,
            _ => Cause::Other,
        }
    }
}

/// A driver error as shown: what it means and what to do, then what the driver said.
fn cause(error: &sqlx::Error) -> String {
    let meaning = match Cause::of(error) {
        Cause::Refused => {
            "the server refused the connection: is PostgreSQL running and listening there?"
        }
        Cause::Locked => {
            "the database is locked by another process (a stuck writer, a backup?): pyimage waited 5 s; try again \
             when it is done"
        }
        Cause::NotSqlite => {
            "the file is not an SQLite database (corrupt, or another file): move it away or name another"
        }
        Cause::ReadOnly => {
            "the file is read-only for this user: `history` reads it as it is; `watch` needs write access"
        }
        Cause::Other => return error.to_string(),
    };
    format!("{meaning} ({error})")
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

/// How long opening a store may take before it is reported as unreachable.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Whether a store is opened to record or to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    ReadWrite,
    ReadOnly,
}

/// Per connection, SQLite: wait at most 5 s for another process's lock (then fail, naming it); to record, the
/// write-ahead log and one sync per checkpoint rather than per commit (a quiet poll records an observation per
/// tag) — a committed event survives a killed watcher either way. A read-only connection changes nothing.
async fn prepare(
    connection: &mut sqlx::AnyConnection,
    sqlite: bool,
    access: Access,
) -> Result<(), sqlx::Error> {
    use sqlx::Executor as _;
    if sqlite {
        connection.execute("PRAGMA busy_timeout = 5000").await?;
        if access == Access::ReadWrite {
            connection
                .execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL")
                .await?;
        }
    }
    Ok(())
}

/// A history store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    url: StoreUrl,
}

impl Store {
    /// Opens (creating an SQLite file and its directory when missing) and migrates the store, to record into it.
    pub async fn open(url: &StoreUrl) -> Result<Store, StoreError> {
        if let Some(path) = url.sqlite_path()
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                url: url.shown.clone(),
                source: sqlx::Error::Io(e),
            })?;
        }
        let store = Store::connect(url, &url.driver_url, Access::ReadWrite).await?;
        migrate::run(&store).await?;
        Ok(store)
    }

    /// Opens the store to read it only (`history`, the drift page): an SQLite file read-only (never created, never
    /// migrated: its schema must be this build's), so that a store this user cannot write can still be read.
    pub async fn open_read_only(url: &StoreUrl) -> Result<Store, StoreError> {
        let driver_url = match url.sqlite_path() {
            Some(path) => {
                if !path.exists() {
                    return Err(StoreError::Missing {
                        url: url.shown.clone(),
                    });
                }
                format!("sqlite://{}?mode=ro", path.display())
            }
            None => url.driver_url.clone(),
        };
        let store = Store::connect(url, &driver_url, Access::ReadOnly).await?;
        match migrate::check(&store).await {
            // A write-ahead-log database whose directory this user cannot write: SQLite cannot make the shared
            // memory file even to read. Read it as an immutable file (no locking, what is on disk now).
            Err(error @ StoreError::Query { .. })
                if url.backend == Backend::Sqlite && error.is_input() =>
            {
                store.close().await;
                tracing::info!(store = %url.shown, "read-only directory: reading the store as an immutable file");
                let store = Store::connect(
                    url,
                    &format!("{driver_url}&immutable=true"),
                    Access::ReadOnly,
                )
                .await?;
                migrate::check(&store).await?;
                Ok(store)
            }
            Err(error) => Err(error),
            Ok(()) => Ok(store),
        }
    }

    /// Connects once, directly, to fail fast with the real cause (a refused server, a locked or corrupt file) —
    /// a pool retries until its timeout and then says only "pool timed out" —, then builds the pool.
    async fn connect(
        url: &StoreUrl,
        driver_url: &str,
        access: Access,
    ) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let sqlite = url.backend == Backend::Sqlite;
        let open_error = |source| StoreError::Open {
            url: url.shown.clone(),
            source,
        };
        let probe = async {
            use sqlx::Connection as _;
            let mut connection = sqlx::AnyConnection::connect(driver_url).await?;
            prepare(&mut connection, sqlite, access).await?;
            connection.close().await
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, probe).await {
            Ok(result) => result.map_err(open_error)?,
            Err(_) => return Err(open_error(sqlx::Error::PoolTimedOut)),
        }
        let max = match url.backend {
            Backend::Sqlite => 1,
            Backend::Postgres => 4,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .after_connect(move |connection, _| {
                Box::pin(async move { prepare(connection, sqlite, access).await })
            })
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect(driver_url)
            .await
            .map_err(open_error)?;
        Ok(Store {
            pool,
            url: url.clone(),
        })
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
