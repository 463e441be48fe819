//! pyimage-core: the pure logic of pyimage, as one facade over three crates.
//!
//! Nothing behind it touches the file system, the network, the environment or the clock: callers read files and
//! talk to registries, and hand the bytes here. The logic lives in three pure crates, cut where their imports cut:
//!
//! * [`pyimage_model`]: the data — references, digests, platforms, OCI indexes, Python tags, the official-images
//!   file, the lock, dates and durations, registry settings. Uses no crate of the workspace; the registry client
//!   depends on it alone.
//! * [`pyimage_locate`]: where images are written — the Dockerfile lexer, the YAML/JSON manifest scanners (the one
//!   user of the YAML parser), file kinds, byte-minimal pin edits. Uses the model.
//! * [`pyimage_policy`]: the decisions — `pyimage.toml`, the check rules, admission, the Gatekeeper export, tag
//!   moves, verify, provenance, SBOMs. Uses the model and the locators.
//!
//! This crate only re-exports them under one name, so that `pyimage_core::check::Finding` and
//! `pyimage_core::Reference` mean what they always meant. It holds no code of its own.
#![deny(missing_docs)]

pub use pyimage_locate::{dockerfile, kind, manifests, pin};
pub use pyimage_model::{
    digest, grammar, lock, oci, official_images, platform, python, reference, registries, text,
    time,
};
pub use pyimage_policy::{admission, check, config, export, moves, provenance, sbom, verify};

pub use digest::Digest;
pub use official_images::Library;
pub use platform::Platform;
pub use python::{Float, PythonTag, PythonVersion, Variant};
pub use reference::{AnyReference, Reference, ReferenceError};
