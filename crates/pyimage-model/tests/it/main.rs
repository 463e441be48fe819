//! The integration tests of pyimage-model, in one test binary: [`reference_conformance`] (the reference grammar
//! against distribution/reference's own vectors), [`reference_properties`] (parse/print properties, Go's
//! `path.Match`), [`official_images_history`] (every library file of docker-library's history), and [`fuzz`] (the
//! model's parsers of untrusted text on generated input, with their heap measured).
//!
//! The heap meter is installed here for the whole binary; only the tests declared with
//! `pyimage_fuzzkit::measured_tests!` measure, each in a process of its own.

// Tests read fixtures, and the measuring tests run as child processes (rusty-fork): the purity rules of the
// crate's clippy.toml are for its library code.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

#[global_allocator]
static HEAP: &pyimage_fuzzkit::meter::PeakMemAlloc<std::alloc::System> =
    &pyimage_fuzzkit::meter::INSTRUMENTED_SYSTEM;

mod fuzz;
mod official_images_history;
mod reference_conformance;
mod reference_properties;
