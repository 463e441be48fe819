//! The integration tests of pyimage-policy, in one test binary: the rule fixtures, the corpus and the README's rule
//! list ([`check_rules`], insta snapshots in `snapshots/`), provenance and verify verdicts on real attestations
//! ([`provenance_parsing`]), the exported Gatekeeper Rego against the core's decisions in regorus ([`gatekeeper`]),
//! the three readers of a Pod's images on the same objects ([`pod_readers`]), the purity of all the pure crates
//! ([`purity`]), and what bounds memory: a hostile `pyimage.toml` ([`hostile_inputs`]) and the fuzz targets of
//! configuration, admission and `check_file` ([`fuzz`]).
//!
//! The heap meter is installed here for the whole binary; only the tests declared with
//! `pyimage_fuzzkit::measured_tests!` measure, each in a process of its own.

// Tests read fixtures, and the measuring tests run as child processes (rusty-fork): the purity rules of the
// crate's clippy.toml are for its library code.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

#[global_allocator]
static HEAP: &pyimage_fuzzkit::meter::PeakMemAlloc<std::alloc::System> =
    &pyimage_fuzzkit::meter::INSTRUMENTED_SYSTEM;

mod check_rules;
mod fuzz;
mod gatekeeper;
mod hostile_inputs;
mod pod_readers;
mod provenance_parsing;
mod purity;
