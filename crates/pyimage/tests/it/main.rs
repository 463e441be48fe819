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
//! (`provenance`), [`shell`] (`completions`, `man`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod support;

mod check;
mod check_hadolint;
mod credentials;
mod export;
mod pin_update;
mod ref_tags;
mod resolve;
mod shell;
mod verify_engine;
mod verify_inspect;
mod verify_provenance;
