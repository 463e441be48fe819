//! pyimage-policy: every decision pyimage makes, from bytes and data handed in.
//!
//! The top of three pure crates (`pyimage-model` ← `pyimage-locate` ← `pyimage-policy`): it uses both others.
//! Nothing here touches the file system, the network, the environment or the clock: callers read files and talk to
//! registries. `clippy.toml` in each of the three crates forbids the std entry points, and this crate's purity test
//! scans the sources and dependencies of all three.
//!
//! * [`check`]: the base-image policy (rules, environments, suppressions, findings) and [`check::evaluate_image`],
//!   the one per-image decision of `check` and admission.
//! * [`config`]: `pyimage.toml` text → validated settings, with every diagnostic.
//! * [`admission`]: AdmissionReview / ImageReview in, the decision and the JSON patch out.
//! * [`export`]: the policy written for other enforcement points (a Gatekeeper ConstraintTemplate and Constraints).
//! * [`moves`]: what kind of move a tag made ([`moves::classify_move`]) and the alias-family questions.
//! * [`verify`] and [`provenance`]: is a local image the official one, and what its attestations say.
//! * [`sbom`]: the packages of an SPDX SBOM and what changed between two.
//! * [`chain`]: the chain of trust of one image, link by link, from what `verify` gathered.
//! * [`signatures`]: which images must carry a cosign signature by which keys, and the one verdict over the evidence.
#![deny(missing_docs)]

pub mod admission;
pub mod chain;
pub mod check;
pub mod config;
pub mod controls;
pub mod export;
pub mod moves;
pub mod provenance;
pub mod sbom;
pub mod signatures;
pub mod verify;
