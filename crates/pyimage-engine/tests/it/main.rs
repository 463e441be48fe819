//! The integration tests of the engine client, in one test binary: [`engine`] runs the client against a real
//! dockerd started by [`dockerd`] (the support module the CLI tests include too, kept at `tests/support/`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

#[path = "../support/dockerd.rs"]
mod dockerd;

mod engine;
