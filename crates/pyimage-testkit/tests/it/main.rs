//! The integration tests of the testkit, in one test binary (one link instead of one per file): Docker Hub's token
//! rules on the replica ([`auth`]), every library file seeds ([`library_files`]), faithful and tampered mirrors
//! ([`mirror`]), rebuilds and replays ([`moves`]), seeding checked with skopeo ([`seed`]) and the `serve` command
//! ([`serve`]).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod library_files;
mod mirror;
mod moves;
mod seed;
mod serve;
