//! pyimage-core: the pure logic of pyimage.
//!
//! Nothing in this crate touches the file system, the network, the environment or the clock: callers read files
//! and talk to registries, and hand the bytes here. The rule is enforced by `clippy.toml` in this crate
//! (`disallowed-methods` / `disallowed-types`) and by the `purity` test, which scans the sources.
//!
//! * [`reference`](mod@reference): image references as `distribution/reference` reads them.
//! * [`digest`]: content digests.
//! * [`platform`]: image platforms (`linux/arm64/v8`) and which platform image a request selects.
//! * [`oci`]: manifest media types and image indexes (platform images, BuildKit attestation manifests).
//! * [`python`]: what a tag of the official Python image promises (version, line, variant, OS, float level).
//! * [`official_images`]: the docker-library/official-images library file (tags, aliases, commits).
//! * [`verify`] and [`provenance`]: is a local image the official one, and what its attestations say.
//! * [`check`]: the base-image policy (rules, environments, suppressions, findings) and [`check::evaluate_image`],
//!   the one per-image decision of `check` and admission.
//! * [`config`]: `pyimage.toml` text → validated settings, with every diagnostic.
//! * [`export`]: the policy written for other enforcement points (a Gatekeeper ConstraintTemplate and Constraints).
//! * [`moves`]: what kind of move a tag made ([`moves::classify_move`]) and the alias-family questions;
//!   [`sbom`]: the packages of an SPDX SBOM and what changed between two.
//! * [`lock`] and [`pin`]: `pyimage.lock` and byte-minimal pinning edits.
//! * [`dockerfile`] and [`manifests`]: image locators with byte spans; [`text`] and [`time`]: positions and dates.
#![deny(missing_docs)]

pub mod admission;
pub mod check;
pub mod config;
pub mod digest;
pub mod dockerfile;
pub mod export;
pub mod grammar;
pub mod lock;
pub mod manifests;
pub mod moves;
pub mod oci;
pub mod official_images;
pub mod pin;
pub mod platform;
pub mod provenance;
pub mod python;
pub mod reference;
pub mod sbom;
pub mod text;
pub mod time;
pub mod verify;

pub use digest::Digest;
pub use official_images::Library;
pub use platform::Platform;
pub use python::{Float, PythonTag, PythonVersion, Variant};
pub use reference::{AnyReference, Reference, ReferenceError};
