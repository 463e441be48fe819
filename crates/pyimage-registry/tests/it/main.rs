//! The integration tests of the registry client, in one test binary (one link instead of one per file): an
//! in-process hostile registry ([`hostile`]), the local Docker Hub replica ([`replica`]) and a private registry
//! over TLS with its own CA ([`tls`]).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod hostile;
mod replica;
mod signatures;
mod tls;
