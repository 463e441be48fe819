//! The server's own tests, in process: the router `pyimage serve` runs, built from configuration text as the CLI
//! builds it, called without a socket (`tower::ServiceExt::oneshot`), on the real admission payloads of
//! tests/data/admission (SOURCES.md there). [`validate`], [`mutate`] and [`imagepolicy`] cover each admission
//! endpoint and its `/…/{environment}` form, [`endpoints`] health, readiness, metrics and refused bodies, [`page`]
//! the drift page. Deadlines are timed on tokio's paused clock. TLS, certificate rotation and signals need a real
//! listener and process: the CLI's tests run those against the `pyimage serve` binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod support;

mod endpoints;
mod imagepolicy;
mod mutate;
mod page;
mod validate;
