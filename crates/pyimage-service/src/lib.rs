//! pyimage-service: the use cases of pyimage, between the pure core and the front ends (the CLI, the admission
//! server, the watcher). Async, no clap, no stdout: each call takes what the front end read (files, flags, the
//! configuration) and returns what to write and report.
//!
//! * [`resolver`]: tag → digest, platforms, Python version, build date, most specific alias (cached per run).
//! * [`pin`] and [`update`]: the planners of `pyimage pin` and `pyimage update` — edits and lock changes;
//!   [`apply`]: the one way both plans reach the files and the lock.
//! * [`check`]: the `check` use case (walk or standard input, parallel checks, merge, unused suppressions);
//!   [`sources`]: the files a run works on, found and read once.
//! * [`provenance`] and [`verifier`]: attestations and the official-images record; is a local image the official
//!   one; [`python_release`]: the PSF's signature on the CPython inside, against the Sigstore trust root that
//!   [`trust_root`] chooses (a file, else refreshed through TUF, else the cache, else the embedded one).
//! * [`chain`]: the chain of trust of verified images, link by link (`verify --chain`).
//! * [`watch`]: the watcher — poll tags, record every move in the history store, explain it, notify.
//! * [`error`]: one classification of failures (input, unreachable, policy) and their exit codes.
//! * [`clock`]: the wall clock, read in one place; [`signals`]: the stop request (SIGTERM, Ctrl-C) of `serve`
//!   and `watch`.
#![deny(missing_docs)]

pub mod apply;
pub mod chain;
pub mod check;
pub mod clock;
pub mod drift;
pub mod error;
pub mod library_view;
pub mod pin;
pub mod progress;
pub mod provenance;
pub mod python_release;
pub mod resolver;
pub mod signals;
pub mod signatures;
pub mod sources;
pub mod trust_root;
pub mod update;
pub mod verifier;
pub mod watch;

pub use error::{ErrorKind, Outcome, ServiceError};
pub use resolver::{Observed, Resolver};

use pyimage_model::Reference;
use pyimage_policy::check::{FileKind, Policy};

/// A file the front end read, for a planner.
#[derive(Debug, Clone)]
pub struct SourceText {
    /// The path as shown to the user (`services/api/Dockerfile`).
    pub shown: String,
    /// What kind of file it is.
    pub kind: FileKind,
    /// Its full text as read; planners edit it byte-minimally and keep every other byte.
    pub text: String,
    /// Compose interpolation variables for this file: the `.env` beside it, or the `--env-file`s (empty for
    /// other kinds).
    pub variables: std::collections::BTreeMap<String, String>,
}

impl SourceText {
    /// The options this file is scanned with: the build arguments of the run and the file's own variables.
    pub fn scan_options(
        &self,
        build: &pyimage_locate::dockerfile::ScanOptions,
    ) -> pyimage_locate::dockerfile::ScanOptions {
        pyimage_locate::dockerfile::ScanOptions {
            build_args: build.build_args.clone(),
            variables: if self.variables.is_empty() {
                build.variables.clone()
            } else {
                self.variables.clone()
            },
        }
    }
}

/// The new text of one file, and what changed in it.
#[derive(Debug, Clone)]
pub struct Rewrite<C> {
    /// Index of the file in the planner's input.
    pub index: usize,
    /// The file's complete new text, to be written in place of the old.
    pub new_text: String,
    /// The changes, in file order.
    pub changes: Vec<C>,
    /// The lock keys the changes set (added, moved or removed): taken back when the file is not written
    /// ([`apply`]).
    pub lock_keys: std::collections::BTreeSet<String>,
}

/// Whether `pin` and `update` manage this reference under `policy`: the official Python image, a declared mirror
/// of it, an image derived from Python — exactly what `check --locked` (PY008) holds to the lock.
pub fn manages(policy: &Policy) -> impl Fn(&Reference) -> bool + '_ {
    move |reference| pyimage_policy::check::rules::pinned_by_pyimage(reference, policy)
}
