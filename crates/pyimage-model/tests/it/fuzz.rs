//! Issue 15, "fuzz targets", for the model's parsers of untrusted text: image references, Python tags and
//! versions, platforms, the official-images library file, the lock, OCI indexes. The harness, the inputs and the heap
//! budgets are [`pyimage_fuzzkit::fuzz`]'s; each target runs in a process of its own (the heap meter is
//! process-wide).

use pyimage_fuzzkit::fuzz::{Budget, fuzz, fuzz_measured, text_of};
use pyimage_fuzzkit::tokens::{INDEX_TOKENS, LIBRARY_TOKENS, LOCK_TOKENS, REFERENCE_TOKENS};
use pyimage_model::lock::Lock;
use pyimage_model::oci::ImageIndex;
use pyimage_model::official_images::Library;
use pyimage_model::platform::Platform;
use pyimage_model::python::{PythonTag, PythonVersion};
use pyimage_model::reference::Reference;

pyimage_fuzzkit::measured_tests! {
    #[test]
    fn references_tags_versions_and_platforms() {
        fuzz("reference", text_of(REFERENCE_TOKENS, 24), |text| {
            let _ = Reference::parse(text);
            if let Ok(reference) = Reference::parse_normalized(text) {
                let _ = reference.familiar_string();
                let _ = reference.to_string();
            }
            let _ = Reference::parse_docker_ref(text);
            let tag = PythonTag::parse(text);
            let _ = tag.float();
            let _ = PythonVersion::parse(text);
            let _ = Platform::parse(text);
        });
    }

    #[test]
    fn official_images_and_lock() {
        fuzz(
            "official-images",
            text_of(LIBRARY_TOKENS, 60),
            |text| {
                let _ = Library::parse(text);
            },
        );
        fuzz_measured(
            "lock",
            text_of(LOCK_TOKENS, 60),
            Budget::TOML,
            |text| {
                if let Ok(lock) = Lock::parse(text) {
                    let _ = Lock::parse(&lock.render()).expect("a rendered lock parses again");
                }
                0
            },
        );
    }

    #[test]
    fn oci_indexes() {
        fuzz("oci index", text_of(INDEX_TOKENS, 80), |text| {
            for media_type in [
                "application/vnd.oci.image.index.v1+json",
                "application/vnd.docker.distribution.manifest.list.v2+json",
                "application/vnd.oci.image.manifest.v1+json",
            ] {
                let _ = ImageIndex::parse(text.as_bytes(), media_type);
            }
        });
    }
}
