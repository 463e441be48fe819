//! `pyimage.lock`: what each image reference meant when it was pinned.
//!
//! TOML, `version = 1`, one `[[image]]` per reference *as written* (the same text in two files shares one entry),
//! sorted by that text so the file is deterministic and diffs stay small:
//!
//! ```toml
//! version = 1
//!
//! [[image]]
//! reference = "python:3.12-slim"
//! normalized = "docker.io/library/python:3.12-slim"
//! digest = "sha256:…"                 # the multi-platform index digest the tag pointed at
//! media_type = "application/vnd.oci.image.index.v1+json"
//! python = "3.12.14"                  # the Python version that digest carries
//! resolved_at = "2026-11-23T12:00:00Z"
//! registry = "https://registry-1.docker.io"
//!
//! [image.platforms]
//! "linux/amd64" = "sha256:…"
//! ```
//!
//! Parsing and rendering are pure; the caller reads and writes the file (atomically).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::digest::Digest;

/// The lock format version this build reads and writes.
pub const LOCK_VERSION: u32 = 1;

/// The default lock file path of `pin`, `update` and `check --locked` (relative to the working directory).
pub const LOCK_FILE_NAME: &str = "pyimage.lock";

/// One locked reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedImage {
    /// The reference exactly as written in the source file, without the digest pyimage added
    /// (`python:3.12-slim`, or `python:${PY}` evaluated: `python:3.12-slim`).
    pub reference: String,
    /// Docker's normalized form (`docker.io/library/python:3.12-slim`).
    pub normalized: String,
    /// The digest the reference was pinned to (usually the multi-platform index).
    pub digest: String,
    /// Media type of that manifest.
    pub media_type: String,
    /// The Python version of the image, when known (`3.12.14`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<String>,
    /// When it was resolved (RFC 3339, UTC).
    pub resolved_at: String,
    /// The registry endpoint that answered.
    pub registry: String,
    /// For a reference pinned through a declared mirror: whether `docker.io/library/python` serves the same
    /// digest (a faithful copy, provable by content addressing), or not (the mirror's own build or a retag).
    /// Absent for the official registry, and when Docker Hub could not be asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faithful_copy: Option<bool>,
    /// For an image a `[[trust.signatures]]` rule covers: the policy key whose cosign signature on this digest
    /// `pin`/`update` verified when they locked it (`check --locked` accepts the image on this record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
    /// That key's fingerprint, `sha256:<hex>` of its DER SubjectPublicKeyInfo: a key file replaced under the same
    /// name does not inherit the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<String>,
    /// When that signature was logged in Rekor (its bundle verified): the entry's index in the log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_log_index: Option<u64>,
    /// Platform (`os/arch[/variant]`) → platform manifest digest.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub platforms: BTreeMap<String, String>,
}

/// The whole lock file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lock {
    /// Entries keyed by the reference as written; queried only through the methods below.
    images: BTreeMap<String, LockedImage>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LockFile {
    version: u32,
    #[serde(default, rename = "image")]
    images: Vec<LockedImage>,
}

#[derive(Deserialize)]
struct VersionOnly {
    version: Option<toml::Value>,
}

/// Why a lock file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LockError {
    /// Not valid TOML or not the lock schema.
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// Written by a newer (or unknown) pyimage.
    #[error(
        "lock file version {found} is not supported: this pyimage reads version {LOCK_VERSION} (upgrade pyimage, or re-create the lock with `pyimage pin`)"
    )]
    UnsupportedVersion {
        /// The version in the file.
        found: String,
    },
    /// The same reference twice.
    #[error("reference {0:?} is locked twice")]
    Duplicate(String),
    /// A digest that is not a valid sha256 digest.
    #[error("reference {reference:?}: invalid digest {digest:?}")]
    BadDigest {
        /// The `reference` of the entry whose digest is bad.
        reference: String,
        /// The `digest` value as written.
        digest: String,
    },
}

impl Lock {
    /// Parses a lock file. An unknown `version` is rejected naming the supported one.
    pub fn parse(text: &str) -> Result<Lock, LockError> {
        let syntax = |error: toml::de::Error| {
            let (line, column) = error
                .span()
                .map_or((1, 1), |span| crate::text::line_column(text, span.start));
            LockError::Syntax {
                line,
                column,
                message: error.message().to_owned(),
            }
        };
        // Check the version before the schema, so a future format gets the version message, not a schema error.
        let version: VersionOnly = toml::from_str(text).map_err(syntax)?;
        match version.version {
            Some(toml::Value::Integer(n)) if n == i64::from(LOCK_VERSION) => {}
            Some(other) => {
                return Err(LockError::UnsupportedVersion {
                    found: other.to_string(),
                });
            }
            None => {
                return Err(LockError::Syntax {
                    line: 1,
                    column: 1,
                    message: format!("missing `version = {LOCK_VERSION}`"),
                });
            }
        }
        let file: LockFile = toml::from_str(text).map_err(syntax)?;
        let mut images = BTreeMap::new();
        for image in file.images {
            if Digest::parse(&image.digest).is_err() {
                return Err(LockError::BadDigest {
                    reference: image.reference.clone(),
                    digest: image.digest.clone(),
                });
            }
            if images.contains_key(&image.reference) {
                return Err(LockError::Duplicate(image.reference));
            }
            images.insert(image.reference.clone(), image);
        }
        Ok(Lock { images })
    }

    /// Renders the lock deterministically (entries sorted by reference, platforms sorted).
    pub fn render(&self) -> String {
        let file = LockFile {
            version: LOCK_VERSION,
            images: self.images.values().cloned().collect(),
        };
        let body = toml::to_string(&file)
            .unwrap_or_else(|error| format!("# cannot render lock: {error}\n"));
        format!(
            "# pyimage.lock: written by `pyimage pin` / `pyimage update`. Edit with those commands, not by hand.\n{body}"
        )
    }

    /// The entry for a reference as written.
    pub fn get(&self, reference: &str) -> Option<&LockedImage> {
        self.images.get(reference)
    }

    /// Adds or replaces an entry.
    pub fn insert(&mut self, image: LockedImage) {
        self.images.insert(image.reference.clone(), image);
    }

    /// Removes the entry of a reference as written, returning it.
    pub fn remove(&mut self, reference: &str) -> Option<LockedImage> {
        self.images.remove(reference)
    }

    /// Every entry, in key order.
    pub fn entries(&self) -> impl Iterator<Item = &LockedImage> {
        self.images.values()
    }

    /// Whether the lock has no entry.
    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }

    /// The keys of the entries for one normalized repository and tag (`docker.io/library/python:3.12-slim`),
    /// however each was written.
    pub fn keys_for(&self, normalized: &str) -> Vec<String> {
        self.images
            .iter()
            .filter(|(_, entry)| entry.normalized == normalized)
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// Makes the entry of `reference` what it is in `old`: put back, or removed when `old` has none. How a change
    /// planned for a file that was then not written is taken back.
    pub fn restore(&mut self, reference: &str, old: &Lock) {
        match old.get(reference) {
            Some(entry) => self.insert(entry.clone()),
            None => {
                self.images.remove(reference);
            }
        }
    }
}

/// What the lock says about a reference found in a file ([`Lock::lookup`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMatch<'a> {
    /// The entry for the same repository and tag (the one with the reference's digest when several share them).
    Entry(&'a LockedImage),
    /// No entry for this tag, but the reference's digest is locked under another tag of the repository: the tag
    /// was changed without going through pyimage.
    OtherTag(&'a LockedImage),
    /// The lock knows nothing of it.
    Missing,
}

impl Lock {
    /// The entry a reference written in a file corresponds to: matched by normalized repository and tag (so
    /// `python:3.12` and `docker.io/library/python:3.12` share an entry), else by digest within the repository.
    pub fn lookup(&self, reference: &crate::reference::Reference) -> LockMatch<'_> {
        let key = reference.repository().with_tag_of(reference).to_string();
        let wanted = reference.digest().map(|d| d.as_str());
        let mut same_tag = self.images.values().filter(|image| image.normalized == key);
        if let Some(first) = same_tag.next() {
            // Several entries can share a repository and tag (digest-only references): prefer this digest.
            let chosen = std::iter::once(first)
                .chain(same_tag)
                .find(|image| Some(image.digest.as_str()) == wanted)
                .unwrap_or(first);
            return LockMatch::Entry(chosen);
        }
        let repository = reference.repository().to_string();
        let other_tag = self.images.values().find(|image| {
            Some(image.digest.as_str()) == wanted
                && crate::reference::Reference::parse_normalized(&image.normalized)
                    .is_ok_and(|locked| locked.repository().to_string() == repository)
        });
        match other_tag {
            Some(image) => LockMatch::OtherTag(image),
            None => LockMatch::Missing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(reference: &str) -> LockedImage {
        LockedImage {
            reference: reference.to_owned(),
            normalized: format!("docker.io/library/{reference}"),
            digest: format!("sha256:{}", "a".repeat(64)),
            media_type: "application/vnd.oci.image.index.v1+json".to_owned(),
            python: Some("3.12.14".to_owned()),
            resolved_at: "2026-11-23T12:00:00Z".to_owned(),
            registry: "https://registry-1.docker.io".to_owned(),
            faithful_copy: None,
            signed_by: None,
            signing_key: None,
            signature_log_index: None,
            platforms: BTreeMap::from([(
                "linux/amd64".to_owned(),
                format!("sha256:{}", "b".repeat(64)),
            )]),
        }
    }

    #[test]
    fn round_trip_is_deterministic() {
        let mut lock = Lock::default();
        lock.insert(entry("python:3.13-slim"));
        lock.insert(entry("python:3.12-slim"));
        let text = lock.render();
        assert!(text.find("3.12-slim").unwrap_or(usize::MAX) < text.find("3.13-slim").unwrap_or(0));
        let parsed = Lock::parse(&text).expect("parses");
        assert_eq!(parsed, lock);
        assert_eq!(parsed.render(), text);
    }

    #[test]
    fn unknown_version_names_the_supported_one() {
        let error = Lock::parse("version = 2\n").expect_err("v2");
        assert!(error.to_string().contains("reads version 1"), "{error}");
        let error = Lock::parse("version = \"1\"\n").expect_err("string");
        assert!(
            matches!(error, LockError::UnsupportedVersion { .. }),
            "{error}"
        );
        let error = Lock::parse("[[image]]\n").expect_err("no version");
        assert!(
            error.to_string().contains("missing `version = 1`"),
            "{error}"
        );
    }

    #[test]
    fn schema_errors_have_positions() {
        let error =
            Lock::parse("version = 1\n[[image]]\nreference = \"x\"\nbogus = 1\n").expect_err("bad");
        assert!(
            matches!(error, LockError::Syntax { line: 2.., .. }),
            "{error}"
        );
    }
}
