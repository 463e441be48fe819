//! The integration tests of the service layer, in one test binary (one link instead of one per file): the pin and
//! update planners ([`planners`]) and the watcher ([`watch`]) against the local Docker Hub replica; [`common`] holds
//! the registry client they share.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

mod planners;
mod watch;
