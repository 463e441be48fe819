//! pyimage-registry: the OCI distribution client of pyimage.
//!
//! It talks to registries the way Docker Hub expects and trusts no byte it has not hashed:
//! * auth: `GET /v2/` challenge → anonymous or credentialed bearer token (or Basic), cached per scope until it
//!   expires; credentials from the Docker client's `config.json` and credential helpers ([`credentials`]);
//! * resolution: `HEAD` with all four manifest media types; `GET` only when the body is needed, and then
//!   sha256(body) must equal `Docker-Content-Digest` and the digest asked for ([`RegistryClient::resolve`]);
//! * indexes: platform images and BuildKit attestation manifests told apart ([`manifest`]);
//! * `tags/list` paging; per-registry endpoints, mirrors with fallback, plain HTTP only when allowed ([`config`]);
//! * robustness: time limits, retries with backoff on 5xx/429 (`Retry-After`), 4 MiB manifest cap, no
//!   Authorization across hosts on redirect, secrets redacted from `Debug` and errors.
#![deny(missing_docs)]

pub mod auth;

pub mod client;
pub mod config;
pub mod credentials;
pub mod error;
pub mod manifest;
pub mod resolve;
pub mod signatures;

pub use client::{
    ClientOptions, ManifestHead, RegistryClient, RequestStats, VerifiedManifest,
    install_crypto_provider,
};
pub use config::{Endpoint, RegistriesConfig, RegistrySettings};
pub use credentials::{Credential, CredentialStore};
pub use error::RegistryError;
pub use manifest::{AttestationManifest, ImageIndex, Platform, PlatformManifest};
pub use resolve::{Resolution, ResolveRequest, TagList};
