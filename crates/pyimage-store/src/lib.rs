//! pyimage-store: every file and database pyimage reads or writes.
//!
//! * [`bounded`]: the one reader of files a user controls (sources, locks, configuration, `.env`, CA bundles,
//!   inspect output): regular files only, at most a given number of bytes.
//! * [`files`]: the walker of `check`, `pin` and `update` (which files, of which kind, under which shown path).
//! * [`write`]: atomic rewrites (never through a symlink, never over a file changed since it was read), the
//!   directory lock that makes concurrent runs take turns, and unified diffs for `--dry-run`.
//! * [`located`]: a message at a file position, the one shape every command reports file problems in.
//! * [`lock_file`]: `pyimage.lock` on disk — read with a cap, written atomically.
//! * the history store (feature `history`, on by default): every watched tag's observations and moves in SQLite or
//!   PostgreSQL ([`Store`]).
//!
//! The registry crate depends on this one without features (`history`, `walk`, `lock`): it needs only the bounded
//! reader, not sqlx, the `.gitignore` walker or the TOML parser.
#![deny(missing_docs)]

pub mod bounded;
#[cfg(feature = "walk")]
pub mod files;
#[cfg(feature = "walk")]
pub mod gitignored;
pub mod located;
#[cfg(feature = "lock")]
pub mod lock_file;
pub mod write;

#[cfg(feature = "history")]
mod history;
#[cfg(feature = "history")]
pub use history::*;
