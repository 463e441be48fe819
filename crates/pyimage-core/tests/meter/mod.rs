//! A heap meter for tests that bound memory (issue 15: "bounded memory"). The counting allocator is the
//! `peakmem-alloc` crate's (the workspace forbids `unsafe`, which a global allocator needs). Its counters are
//! process-wide and the test harness runs tests on parallel threads, so a test that measures first takes the
//! meter for itself ([`exclusive`]): every test of a binary that installs the meter must, or its allocations would
//! count in another test's peak.
//!
//! A test binary installs it with
//! `#[global_allocator] static HEAP: &PeakMemAlloc<System> = &INSTRUMENTED_SYSTEM;`.

use std::sync::{Mutex, MutexGuard};

use peakmem_alloc::{INSTRUMENTED_SYSTEM, PeakMemAllocTrait};

static TURN: Mutex<()> = Mutex::new(());

/// The meter, held by one test at a time.
pub struct Exclusive(#[allow(dead_code)] MutexGuard<'static, ()>);

/// Waits until no other test of this binary runs, and keeps it so while the guard lives.
pub fn exclusive() -> Exclusive {
    Exclusive(
        TURN.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    )
}

impl Exclusive {
    /// Runs `work` and returns its result with the most heap the process held at once beyond what was live when
    /// it began, in bytes.
    pub fn measure<T>(&self, work: impl FnOnce() -> T) -> (T, usize) {
        INSTRUMENTED_SYSTEM.reset_peak_memory();
        let result = work();
        (result, INSTRUMENTED_SYSTEM.get_peak_memory())
    }
}
