//! The integration tests of the `pyimage` command line, in one test binary (one link instead of one per file).
//!
//! Every module runs the real `pyimage` binary against real parts: files on disk, Debian's `docker-registry` behind
//! the testkit's Docker Hub-style token server (the replica, `pyimage-testkit`), Debian's `dockerd`, and hadolint.
//! [`support`] holds what they share: the command runner, temporary directories, the test data, and the one
//! replica started for the tests that only read from it.
//!
//! Modules: [`check`] and [`check_hadolint`] (`pyimage check`, `init`), [`ref_tags`] (`ref`, offline `tags`),
//! [`resolve`] (`resolve`, live `tags`), [`credentials`] (Docker client credentials), [`pin_update`] (`pin`,
//! `update`, `check --locked`), [`verify_inspect`], [`verify_engine`] (`verify`) and [`verify_provenance`]
//! (`provenance`), [`shell`] (`completions`, `man`), [`serve`], [`serve_registry`] and [`serve_tls`] (`pyimage serve`
//! as a process: TLS, certificate rotation, signals, a real registry; helpers in [`serve_support`] — what each
//! endpoint decides is tested in process by pyimage-server's own tests), [`generated`] and [`places`] (generated trees, new file kinds),
//! [`watch_history`] (`watch`, `history`, on SQLite and PostgreSQL), [`drift_page`] and [`serve_page`] (the drift page
//! from `history --format html` and from `serve`, in Chromium), [`progress`] (the progress bar on a terminal).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod support;

mod apply_plan;
mod check;
mod check_hadolint;
mod controlled_updates;
mod credentials;
mod drift_page;
mod export;
mod generated;
mod hostile_output;
mod hostile_paths;
mod hostile_tree;
mod pin_update;
mod places;
mod progress;
mod real_tree_shapes;
mod real_trees;
mod ref_tags;
mod resolve;
mod serve;
mod serve_attack;
mod serve_deploy;
mod serve_page;
mod serve_registry;
mod serve_support;
mod serve_tls;
mod shell;
mod signatures;
mod verify_chain;
mod verify_engine;
mod verify_inspect;
mod verify_provenance;
mod verify_release;
mod watch_history;
