//! pyimage-locate: where images are written, to the byte.
//!
//! The middle of three pure crates (`pyimage-model` ← `pyimage-locate` ← `pyimage-policy`): it uses
//! `pyimage-model` only, and it is the one crate that links a YAML parser (saphyr-parser). Nothing here touches the
//! file system, the network, the environment or the clock (`clippy.toml` and the purity test in pyimage-policy).
//!
//! * [`kind`]: which kind of file a path is ([`FileKind`]: a Dockerfile or one of the [`ManifestKind`]s) — the one
//!   classifier of every command.
//! * [`dockerfile`]: the Dockerfile lexer, `ARG` expansion and image uses with byte spans.
//! * [`manifests`]: images in Compose files, Kubernetes YAML/JSON, CI pipelines, Kustomize, dev containers, Cloud
//!   Build and Helm values, with byte spans.
//! * [`pod`]: where a Kubernetes object keeps the images of its Pod — the one description `check`, admission and
//!   the Gatekeeper export read Pods with.
//! * [`pin`]: byte-minimal edits that pin references to digests (and why a reference is left as it is).
#![deny(missing_docs)]

pub mod dockerfile;
pub mod kind;
pub mod manifests;
pub mod pin;
pub mod pod;

pub use kind::FileKind;
pub use manifests::ManifestKind;
