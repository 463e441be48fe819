//! Every library file of the test data can be seeded: all architectures map to platforms, every entry has a
//! Python version and a most specific tag; the oldest and newest files build completely (no registry needed).

use std::collections::BTreeSet;

use pyimage_testkit::content::{build_entry, python_version_of};
use pyimage_testkit::{library_files, load_library};

#[test]
fn every_library_file_can_be_seeded() {
    let files = library_files().unwrap();
    assert_eq!(files.len(), 147);
    for file in &files {
        let library = load_library(file).unwrap();
        let mut most_specific = BTreeSet::new();
        for entry in &library.entries {
            let tag = entry.most_specific_tag().unwrap();
            assert!(most_specific.insert(tag), "{}: {tag} twice", file.display());
            assert!(
                python_version_of(entry).is_some(),
                "{}: {:?}",
                file.display(),
                entry.tags
            );
            for arch in &entry.architectures {
                pyimage_testkit::platform::from_bashbrew(arch, &entry.directory).unwrap();
            }
        }
    }
    for file in [files.first().unwrap(), files.last().unwrap()] {
        let library = load_library(file).unwrap();
        for entry in &library.entries {
            let built = build_entry(entry, 1, 0).unwrap();
            assert_eq!(built.images.len(), entry.architectures.len());
            let windows = entry.builder.as_deref() == Some("classic");
            assert!(
                built
                    .images
                    .iter()
                    .all(|i| i.attestation.is_some() != windows)
            );
        }
    }
}
