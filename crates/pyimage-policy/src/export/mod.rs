//! Policy exports: the policy of `pyimage.toml` written for other enforcement points.
//!
//! [`gatekeeper`] writes an OPA Gatekeeper ConstraintTemplate (Rego) and its Constraints, deciding exactly as
//! [`crate::check::evaluate_reference`] does for deny-level findings. Everything here is pure: text in, text out.

pub mod gatekeeper;
mod patterns;
mod yaml;

pub use patterns::{glob_regex, typosquat_alternatives, typosquat_regex};
