//! Progress of long runs, told by the use cases and shown (or not) by the front end: a planner says how many
//! references it is about to resolve ([`Progress::planned`]) and each one it finished ([`Progress::finished`]).
//! The CLI draws a bar on a terminal; everything else uses [`Silent`].

use std::sync::Arc;

/// Where progress goes.
pub trait Progress: Send + Sync {
    /// `items` more pieces of work were planned (references to resolve, tags to poll).
    fn planned(&self, items: usize);
    /// One piece of work finished; `item` names it (`python:3.12-slim`).
    fn finished(&self, item: &str);
    /// Everything planned so far is done (the use case is about to return): a bar goes away before the results
    /// are printed.
    fn settled(&self) {}
}

/// No progress shown.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn planned(&self, _items: usize) {}
    fn finished(&self, _item: &str) {}
}

/// The shared handle a resolver carries.
pub type SharedProgress = Arc<dyn Progress>;

/// A handle that shows nothing.
pub fn silent() -> SharedProgress {
    Arc::new(Silent)
}
