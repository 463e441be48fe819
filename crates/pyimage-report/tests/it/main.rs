//! The integration tests of the drift page, in one test binary: [`browser`] renders it in headless Chromium.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
