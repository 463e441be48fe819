//! The integration tests of pyimage-locate, in one test binary: the Dockerfile corpus and the cases of other
//! Dockerfile tools ([`dockerfile_corpus`], [`dockerfile_peer_cases`]), the manifest corpus, Compose builds and the
//! file kinds' places ([`manifests_corpus`], [`compose_build`], [`manifest_places`]), the YAML locator against
//! PyYAML ([`yaml_differential`]), pin edits' properties ([`pin_properties`]), and what bounds memory: hostile
//! inputs ([`hostile_inputs`]), large YAML ([`yaml_memory`]) and the locators' fuzz targets ([`fuzz`]).
//!
//! The heap meter is installed here for the whole binary; only the tests declared with
//! `pyimage_fuzzkit::measured_tests!` measure, each in a process of its own.

// Tests read fixtures, and the measuring tests run as child processes (rusty-fork): the purity rules of the
// crate's clippy.toml are for its library code.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

#[global_allocator]
static HEAP: &pyimage_fuzzkit::meter::PeakMemAlloc<std::alloc::System> =
    &pyimage_fuzzkit::meter::INSTRUMENTED_SYSTEM;

mod compose_build;
mod dockerfile_corpus;
mod dockerfile_peer_cases;
mod fuzz;
mod hostile_inputs;
mod manifest_places;
mod manifests_corpus;
mod pin_properties;
mod yaml_differential;
mod yaml_memory;
