//! Test support of the pure crates (pyimage-model, pyimage-locate, pyimage-policy), a dev-dependency only:
//!
//! * [`meter`]: the peak heap of a piece of work, from a counting global allocator, measured in a process of its
//!   own ([`measured_tests!`]) so that no other test's allocations count;
//! * [`fuzz`]: the generated-input harness every parser of untrusted text runs under — no panic, and a peak heap
//!   within a [`fuzz::Budget`] linear in the input, on generated inputs and on the same inputs repeated;
//! * [`tokens`]: each format's own tokens, from which the inputs are built (so the generator reaches deep states,
//!   not only the first syntax error).
//!
//! A test binary that measures installs the meter once, in its `main.rs`:
//! `#[global_allocator] static HEAP: &PeakMemAlloc<System> = &pyimage_fuzzkit::meter::INSTRUMENTED_SYSTEM;`

// A test harness: it fails a test by panicking, with the input that made it fail.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod fuzz;
pub mod meter;
pub mod tokens;

pub use rusty_fork;

/// Declares `#[test]` functions that each run in a child process of their own (the test binary run again with
/// `--exact NAME --test-threads 1`): the heap meter counts every thread of a process, so a measuring test must be
/// alone in its process. [`meter::measure`] refuses to measure anywhere else.
///
/// ```ignore
/// pyimage_fuzzkit::measured_tests! {
///     #[test]
///     fn a_large_input_stays_small() { let (_, peak) = meter::measure(|| parse(&input)); }
/// }
/// ```
#[macro_export]
macro_rules! measured_tests {
    ($($tests:tt)*) => {
        // The arm with a timeout, at zero (none): the other arm names the macro unqualified.
        $crate::rusty_fork::rusty_fork_test! {
            #![rusty_fork(timeout_ms = 0)]
            $($tests)*
        }
    };
}
