//! pyimage-engine: a small Docker Engine API client, enough to ask a local engine what it knows about an image.
//!
//! * [`EngineAddress`]: `DOCKER_HOST` as Docker reads it — `unix:///var/run/docker.sock` by default, `tcp://host:port`
//!   for a daemon listening on TCP (plain HTTP; TLS is not supported), podman's compatible socket the same way.
//! * [`EngineClient`]: `GET /_ping`, `/version` and `/images/{name}/json` (what `docker image inspect` prints).
//! * [`parse_inspect`]: the JSON `docker image inspect` (or `podman image inspect`) prints, for CI systems that
//!   have no socket (`pyimage verify --inspect FILE`).
//!
//! Errors name the address tried and what to do.
#![deny(missing_docs)]

mod address;
mod client;
mod inspect;

pub use address::{DEFAULT_SOCKET, EngineAddress};
pub use client::{EngineClient, EngineVersion};
pub use inspect::{ImageInspect, parse_inspect};
pub use pyimage_model::oci::ImageConfig;

/// What went wrong talking to the engine or reading its JSON.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// `DOCKER_HOST` is not an address this client can use.
    #[error("DOCKER_HOST {value:?}: {detail}")]
    BadHost {
        /// The `DOCKER_HOST` value as set.
        value: String,
        /// What is wrong with it.
        detail: String,
    },
    /// Connecting failed, or the connection broke.
    #[error(
        "cannot reach the Docker engine at {address}: {detail} (is dockerd, or `podman system service`, running? \
         set DOCKER_HOST to its socket, or pass --inspect FILE)"
    )]
    Unreachable {
        /// The address tried (`unix:///var/run/docker.sock`, `tcp://host:2375`).
        address: String,
        /// The transport error.
        detail: String,
    },
    /// The engine answered with an unexpected status.
    #[error("the Docker engine at {address} answered HTTP {status} for {what}: {message}")]
    Status {
        /// The engine's address (`unix:///var/run/docker.sock`, `tcp://host:2375`).
        address: String,
        /// The HTTP status code.
        status: u16,
        /// What was asked, for the message (`/version`, `image python:3.12-slim`).
        what: String,
        /// The engine's message.
        message: String,
    },
    /// The engine's answer is not the JSON expected.
    #[error("the Docker engine at {address} sent invalid JSON for {what}: {detail}")]
    Invalid {
        /// The engine's address (`unix:///var/run/docker.sock`, `tcp://host:2375`).
        address: String,
        /// What was asked, for the message (`/version`, `image python:3.12-slim`).
        what: String,
        /// What is wrong.
        detail: String,
    },
    /// `docker image inspect` JSON that cannot be read.
    #[error("{what} is not `docker image inspect` JSON: {detail}")]
    Inspect {
        /// The file (or `standard input`).
        what: String,
        /// What is wrong.
        detail: String,
    },
    /// A name that is neither an image reference nor an image ID.
    #[error("{0:?} is not an image reference or image ID")]
    BadName(String),
}

impl EngineError {
    /// Whether the engine could not be reached at all (exit code 3 in the CLI).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, EngineError::Unreachable { .. })
            || matches!(self, EngineError::Status { status, .. } if *status >= 500)
    }
}
