//! A heap meter for tests that bound memory (issue 15: "bounded memory"). The counting allocator is the
//! `peakmem-alloc` crate's (the workspace forbids `unsafe`, which a global allocator needs). Its counters are
//! process-wide, so a measurement is only the work's own when nothing else runs in the process: [`measure`] runs
//! only inside a test declared with [`crate::measured_tests!`] (a child process running that one test), and
//! checks that the binary installed the allocator.

use peakmem_alloc::PeakMemAllocTrait;
pub use peakmem_alloc::{INSTRUMENTED_SYSTEM, PeakMemAlloc};

/// Set by rusty-fork in the child process that runs one test.
const CHILD_MARK: &str = "RUSTY_FORK_OCCURS";

/// Runs `work` and returns its result with the most heap the process held at once beyond what was live when it
/// began, in bytes.
///
/// # Panics
///
/// Outside a [`crate::measured_tests!`] test (other tests' allocations would count), or when the test binary did
/// not install [`INSTRUMENTED_SYSTEM`] as its global allocator (every peak would read zero).
pub fn measure<T>(work: impl FnOnce() -> T) -> (T, usize) {
    assert!(
        std::env::var_os(CHILD_MARK).is_some(),
        "the heap meter measures only in a process of its own: declare the test in pyimage_fuzzkit::measured_tests!"
    );
    INSTRUMENTED_SYSTEM.reset_peak_memory();
    let probe = std::hint::black_box(vec![0u8; 4096]);
    assert!(
        INSTRUMENTED_SYSTEM.get_peak_memory() >= probe.len(),
        "the heap meter is not installed: the test binary needs \
         #[global_allocator] static HEAP: &PeakMemAlloc<System> = &INSTRUMENTED_SYSTEM;"
    );
    drop(probe);
    INSTRUMENTED_SYSTEM.reset_peak_memory();
    let result = work();
    (result, INSTRUMENTED_SYSTEM.get_peak_memory())
}

/// Fails with `what`, the peak and the bound when `peak` is over `bound` bytes.
pub fn assert_heap(what: &str, peak: usize, bound: usize) {
    assert!(peak <= bound, "{what}: {peak} bytes of heap, over {bound}");
}

/// One mebibyte.
pub const MIB: usize = 1024 * 1024;
