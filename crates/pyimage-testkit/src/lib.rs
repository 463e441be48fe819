//! pyimage-testkit: a faithful local replica of Docker Hub's `docker.io/library/python` for pyimage's tests.
//!
//! Real parts, started by the tests themselves: Debian's `docker-registry` (the CNCF distribution registry) on a
//! free 127.0.0.1 port, a Docker Hub-style token server written here, and a seeder that builds the repository from
//! a docker-library/official-images `library/python` file — multi-platform OCI indexes with BuildKit attestation
//! manifests (SLSA provenance, SPDX SBOM) and Docker Hub's annotations. The seeder returns a [`GroundTruth`] to
//! compare pyimage's answers with, and can move the repository the way Docker Hub moves: [`Replica::replay`] a
//! later library file, or [`Replica::rebuild_where`] entries in place.
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! let replica = pyimage_testkit::Replica::start()?;
//! let seeded = replica.seed_file(pyimage_testkit::newest_library_file()?)?;
//! let digest = seeded.truth.digest("3.12-slim");
//! println!("{} serves {:?}", replica.reference("3.12-slim"), digest);
//! # Ok(())
//! # }
//! ```
//!
//! Modules: [`registry`] (the process), [`token`] (the token server), [`content`] (what is built per entry),
//! [`oci`] (manifests and blobs), [`platform`], [`client`] (the seeder's registry client), [`truth`] (ground
//! truth), [`tamper`] (hostile content), [`sbom`] (the SPDX package lists), [`replica`] and [`plain`] (the handles tests use), [`postgres`] (a throwaway
//! PostgreSQL server for the history store's tests), [`tuf`] (a TUF repository signed with test keys, for the
//! Sigstore trust root refresh).

pub mod browser;
pub mod client;
pub mod content;
pub mod files;
pub mod oci;
pub mod plain;
pub mod platform;
pub mod postgres;
pub mod registry;
pub mod replica;
pub mod sbom;
pub mod tamper;
pub mod token;
pub mod truth;
pub mod tuf;

mod background;
mod copy;
mod seeder;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use pyimage_model::Library;

pub use files::FileServer;
pub use oci::Blob;
pub use plain::PlainRegistry;
pub use platform::Platform;
pub use postgres::Postgres;
pub use registry::RegistryProcess;
pub use replica::{PYTHON_REPOSITORY, Replica};
pub use tamper::{Tamper, Tampered};
pub use token::{Access, Credentials, TokenRequest, TokenServer};
pub use truth::{
    Advance, EntryTruth, GroundTruth, ImageTruth, PushReason, PushStats, TagMove, TagTruth,
};

/// The folder of official-images `library/python` files in the repository (`testdata/official-images/library-python`).
pub fn library_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/official-images/library-python")
}

/// A library file of the test data by file name (`2026-08-13T122654-73f6781860cc.txt`).
pub fn library_file(name: &str) -> PathBuf {
    library_dir().join(name)
}

/// All library files of the test data, oldest first (their names start with the date).
pub fn library_files() -> Result<Vec<PathBuf>> {
    let dir = library_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
        .collect();
    files.sort();
    Ok(files)
}

/// The newest library file of the test data.
pub fn newest_library_file() -> Result<PathBuf> {
    library_files()?
        .pop()
        .context("no library files in the test data")
}

/// Reads and parses a library file.
pub fn load_library(path: impl AsRef<Path>) -> Result<Library> {
    let path = path.as_ref();
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Library::parse(&text).with_context(|| format!("parsing {}", path.display()))
}

/// `host/repository:tag`, or `host/repository@digest` when given a digest.
fn reference(host: &str, repository: &str, tag_or_digest: &str) -> String {
    if tag_or_digest.contains(':') {
        format!("{host}/{repository}@{tag_or_digest}")
    } else {
        format!("{host}/{repository}:{tag_or_digest}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shareable<T: Send + Sync>() {}

    #[test]
    fn handles_can_be_shared_between_test_threads() {
        shareable::<Replica>();
        shareable::<PlainRegistry>();
        shareable::<GroundTruth>();
    }

    #[test]
    fn references_use_a_colon_for_tags_and_an_at_for_digests() {
        assert_eq!(
            reference("h:1", "library/python", "3.12"),
            "h:1/library/python:3.12"
        );
        assert_eq!(
            reference("h:1", "library/python", "sha256:ab"),
            "h:1/library/python@sha256:ab"
        );
    }

    #[test]
    fn the_test_data_is_found() -> Result<()> {
        let newest = newest_library_file()?;
        assert!(newest.ends_with("2026-08-13T122654-73f6781860cc.txt"));
        assert_eq!(load_library(newest)?.entries.len(), 42);
        Ok(())
    }
}
