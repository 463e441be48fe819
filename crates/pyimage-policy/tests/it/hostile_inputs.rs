//! Issue 15: a hostile `pyimage.toml` must not eat memory. Found by the memory-measuring fuzz targets: a file of
//! `=` signs held ~200 bytes per byte while the TOML parser recovered past each error; large files now stop at the
//! first. (The hostile Dockerfiles and Compose files are pyimage-locate's tests.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pyimage_fuzzkit::meter::{self, MIB, assert_heap};
use pyimage_policy::config::{Overrides, Settings};

pyimage_fuzzkit::measured_tests! {
    #[test]
    fn a_file_of_equals_signs_stays_small() {
        let text = "=".repeat(256 * 1024);
        let (parsed, peak) =
            meter::measure(|| Settings::parse(&text, "pyimage.toml", &Overrides::default()));
        assert_heap("a pyimage.toml of = signs", peak, MIB + 128 * text.len());
        let error = parsed.expect_err("not TOML");
        assert_eq!(error.diagnostics.len(), 1, "{error:?}");
    }
}
