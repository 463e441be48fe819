//! pyimage-model: the data pyimage reasons about, and nothing that decides or locates.
//!
//! The bottom of three pure crates (`pyimage-model` ← `pyimage-locate` ← `pyimage-policy`). It uses no other crate
//! of the workspace. Nothing here touches the file system, the network, the environment or the clock (`clippy.toml`
//! and the purity test in pyimage-policy enforce it).
//!
//! * [`reference`](mod@reference), [`grammar`], [`digest`]: image references as `distribution/reference` reads them.
//! * [`platform`] and [`oci`]: image platforms and manifest media types, image indexes, attestation manifests.
//! * [`python`]: what a tag of the official Python image promises (version, line, variant, OS, float level).
//! * [`official_images`]: the docker-library/official-images library file (tags, aliases, commits).
//! * `lock` (feature `lock`, on by default): `pyimage.lock`, its schema, queries and TOML text.
//! * [`registries`]: the `[registries."HOST"]` settings (endpoints, mirrors, plain HTTP, CA files).
//! * [`text`]: byte offsets ↔ line and column; [`time`]: dates, timestamps, and the one duration and date parser.
#![deny(missing_docs)]

pub mod digest;
pub mod grammar;
#[cfg(feature = "lock")]
pub mod lock;
pub mod oci;
pub mod official_images;
pub mod platform;
pub mod python;
pub mod reference;
pub mod registries;
pub mod text;
pub mod time;

pub use digest::Digest;
pub use official_images::Library;
pub use platform::Platform;
pub use python::{Float, PythonTag, PythonVersion, Variant};
pub use reference::{AnyReference, Reference, ReferenceError};
pub use time::Date;
