//! Registry errors. Every variant names the registry and what to do; none carries a credential or token.

use thiserror::Error;

/// What went wrong talking to a registry.
#[derive(Debug, Error)]
pub enum RegistryError {
    /// The configuration is unusable (plain HTTP without `insecure = true`, unreadable CA file, bad URL).
    #[error("registry configuration: {0}")]
    Config(String),
    /// Could not connect, or the connection broke, after retries.
    #[error("cannot reach {endpoint}: {detail}")]
    Unreachable {
        /// The endpoint's base URL (`https://registry-1.docker.io`).
        endpoint: String,
        /// The transport error, without headers.
        detail: String,
    },
    /// The response did not arrive in time.
    #[error("{endpoint} did not answer within {seconds}s ({what})")]
    Timeout {
        /// The endpoint's base URL (`https://registry-1.docker.io`).
        endpoint: String,
        /// The time limit that ran out, in seconds.
        seconds: u64,
        /// What was being fetched (`manifest library/python:3.12-slim`).
        what: String,
    },
    /// The registry refused our credentials (or anonymous access).
    #[error(
        "{endpoint} refused access to {what} (HTTP {status}): log in with `docker login` or check the credentials"
    )]
    Unauthorized {
        /// The endpoint's base URL (`https://registry-1.docker.io`).
        endpoint: String,
        /// What was being fetched (`manifest library/python:3.12-slim`).
        what: String,
        /// 401 or 403.
        status: u16,
    },
    /// The token server did not give a usable token.
    #[error("token server {realm} failed: {detail}")]
    Token {
        /// The token realm URL (no query string).
        realm: String,
        /// What went wrong.
        detail: String,
    },
    /// The registry's `WWW-Authenticate` challenge could not be understood.
    #[error("{endpoint} sent an unusable WWW-Authenticate challenge: {detail}")]
    BadChallenge {
        /// The endpoint's base URL (`https://registry-1.docker.io`).
        endpoint: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The manifest or tag does not exist.
    #[error("{what} not found at {endpoint}")]
    NotFound {
        /// The endpoint's base URL (`https://registry-1.docker.io`).
        endpoint: String,
        /// What was asked for (`manifest library/python:3.12-slim`, `tags of library/python`).
        what: String,
    },
    /// Rate limited for longer than we are willing to wait.
    #[error("{endpoint} is rate limiting (HTTP 429){}", retry_after.map(|s| format!(", asks to retry after {s}s")).unwrap_or_default())]
    RateLimited {
        /// The endpoint's base URL (`https://registry-1.docker.io`).
        endpoint: String,
        /// Seconds the registry asked us to wait, when it said.
        retry_after: Option<u64>,
    },
    /// Any other unexpected status.
    #[error("{endpoint} answered HTTP {status} for {what}")]
    Status {
        /// The endpoint's base URL (`https://registry-1.docker.io`).
        endpoint: String,
        /// The HTTP status code (`500`, `400`, …).
        status: u16,
        /// What was asked for (`manifest library/python:3.12-slim`, `tags of library/python`).
        what: String,
    },
    /// The bytes received do not hash to the digest the registry or the reference claimed. Never ignored.
    #[error("digest mismatch for {what} from {endpoint}: {detail}")]
    DigestMismatch {
        /// The endpoint's base URL (`https://registry-1.docker.io`).
        endpoint: String,
        /// What was fetched (`manifest library/python:3.12-slim`).
        what: String,
        /// Which digests disagree.
        detail: String,
    },
    /// A manifest, blob or tag list larger than the limit pyimage reads of it (4 MiB by default for manifests).
    #[error("{what} from {endpoint} is larger than the {limit} bytes pyimage reads of it")]
    TooLarge {
        /// The endpoint's base URL (`https://registry-1.docker.io`).
        endpoint: String,
        /// What was fetched (`manifest library/python:3.12-slim`).
        what: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The manifest is not valid JSON of the announced kind.
    #[error("{what} from {endpoint} is not a valid manifest: {detail}")]
    InvalidManifest {
        /// The endpoint's base URL (`https://registry-1.docker.io`).
        endpoint: String,
        /// What was fetched (`manifest library/python:3.12-slim`).
        what: String,
        /// What is wrong.
        detail: String,
    },
    /// A response header is missing or malformed (Content-Type, Docker-Content-Digest, Link).
    #[error("{endpoint} sent a bad {header} header for {what}: {detail}")]
    BadHeader {
        /// The endpoint's base URL (`https://registry-1.docker.io`).
        endpoint: String,
        /// The header name (`Content-Type`, `Docker-Content-Digest`, `Link`).
        header: &'static str,
        /// What was fetched (`manifest library/python:3.12-slim`).
        what: String,
        /// What is wrong.
        detail: String,
    },
    /// The image index has no manifest for the requested platform.
    #[error("{reference} has no manifest for platform {platform} (it has: {available})")]
    NoSuchPlatform {
        /// The reference whose index was searched, in full (`docker.io/library/python:3.12-slim`).
        reference: String,
        /// The platform asked for.
        platform: String,
        /// The platforms the index lists.
        available: String,
    },
    /// Reading credentials failed (unreadable docker config, failing or slow credential helper).
    #[error("credentials: {0}")]
    Credentials(String),
}

impl From<pyimage_model::registries::RegistryConfigError> for RegistryError {
    fn from(error: pyimage_model::registries::RegistryConfigError) -> Self {
        RegistryError::Config(error.0)
    }
}

impl RegistryError {
    /// Whether trying a mirror's upstream (or the next mirror) could help.
    pub fn allows_fallback(&self) -> bool {
        matches!(
            self,
            RegistryError::Unreachable { .. }
                | RegistryError::Timeout { .. }
                | RegistryError::NotFound { .. }
                | RegistryError::RateLimited { .. }
                | RegistryError::Status { .. }
                | RegistryError::Unauthorized { .. }
                | RegistryError::Token { .. }
        )
    }
}
