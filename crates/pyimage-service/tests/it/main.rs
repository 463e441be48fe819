//! The integration tests of the service layer, in one test binary (one link instead of one per file): the pin and
//! update planners ([`planners`]) and the watcher ([`watch`]) against the local Docker Hub replica; [`common`] holds
//! the registry client they share; [`trust_root`] refreshes the Sigstore trust root from a TUF repository served
//! on 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

mod planners;
mod trust_root;
mod watch;
