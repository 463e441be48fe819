//! A tokio runtime of the testkit's own, on its own threads, so that the blocking API works from a plain `#[test]`
//! and from inside `#[tokio::test]` alike (no `block_on` is ever nested in the caller's runtime).

use std::future::Future;

use anyhow::{Context as _, Result};
use tokio::runtime::{Handle, Runtime};

/// The testkit's runtime. Dropping it stops its tasks without blocking (allowed inside another runtime too).
#[derive(Debug)]
pub(crate) struct Background {
    runtime: Option<Runtime>,
    handle: Handle,
}

impl Background {
    pub(crate) fn new() -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("pyimage-testkit")
            .enable_all()
            .build()
            .context("starting the testkit's runtime")?;
        let handle = runtime.handle().clone();
        Ok(Background {
            runtime: Some(runtime),
            handle,
        })
    }

    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Runs a future on the testkit's runtime and blocks the calling thread until it is done.
    pub(crate) fn block_on<F>(&self, future: F) -> Result<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (done, result) = std::sync::mpsc::channel();
        self.handle.spawn(async move {
            let _ = done.send(future.await);
        });
        result
            .recv()
            .context("the testkit's task panicked or its runtime stopped")
    }

    /// Runs a future on the testkit's runtime and awaits it from any runtime.
    pub(crate) async fn run<F>(&self, future: F) -> Result<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle
            .spawn(future)
            .await
            .context("the testkit's task panicked or its runtime stopped")
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
