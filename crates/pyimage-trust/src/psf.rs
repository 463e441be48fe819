//! The PSF link of the chain of trust: is the CPython inside an image the release the PSF's release manager signed?
//! The official image's config carries `PYTHON_VERSION` and `PYTHON_SHA256` (docker-library since October 2024), the
//! digest of the source tarball it was built from; python.org publishes a Sigstore bundle signing that digest next to
//! each tarball. [`request`] says which bundle to fetch and whose signature to expect; [`judge`] gives the verdict.

use std::collections::BTreeMap;

use pyimage_model::time::rfc3339_utc;
use serde::Serialize;

use crate::bundle::Bundle;
use crate::root::TrustedRoot;
use crate::sigstore::{self, Failure, Identity, parse_sha256};

/// Where python.org publishes release files; `<base>/<X.Y.Z>/Python-<version>.tar.xz.sigstore`.
pub const PYTHON_ORG_FTP: &str = "https://www.python.org/ftp/python";

/// Where the identity table comes from.
pub const IDENTITIES_SOURCE: &str = "python.org's Sigstore page (https://www.python.org/downloads/metadata/sigstore/), \
     as in python/release-tools add_to_pydotorg.py (0fd6e16)";

const GITHUB: &str = "https://github.com/login/oauth";
const GOOGLE: &str = "https://accounts.google.com";

/// The release manager who signs each CPython release line, and the OIDC issuer of their identity. Source:
/// [`IDENTITIES_SOURCE`]; 3.8 and 3.9 from the older release-tools revision b20b97d. A new line is added in
/// `pyimage.toml` (`[trust.python_lines."3.18"]`) until pyimage ships it.
const BUILTIN_IDENTITIES: &[(&str, &str, &str)] = &[
    ("3.7", "nad@python.org", GITHUB),
    ("3.8", "lukasz@langa.pl", GITHUB),
    ("3.9", "lukasz@langa.pl", GITHUB),
    ("3.10", "pablogsal@python.org", GOOGLE),
    ("3.11", "pablogsal@python.org", GOOGLE),
    ("3.12", "thomas@python.org", GOOGLE),
    ("3.13", "thomas@python.org", GOOGLE),
    ("3.14", "hugo@python.org", GITHUB),
    ("3.15", "hugo@python.org", GITHUB),
    ("3.16", "savannah@python.org", GITHUB),
    ("3.17", "savannah@python.org", GITHUB),
];

/// Expected signer per release line (`3.12`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identities {
    lines: BTreeMap<String, Identity>,
}

impl Default for Identities {
    fn default() -> Self {
        Identities::builtin()
    }
}

impl Identities {
    /// The built-in table.
    pub fn builtin() -> Identities {
        Identities {
            lines: BUILTIN_IDENTITIES
                .iter()
                .map(|(line, identity, issuer)| {
                    (
                        (*line).to_owned(),
                        Identity {
                            identity: (*identity).to_owned(),
                            issuer: (*issuer).to_owned(),
                        },
                    )
                })
                .collect(),
        }
    }

    /// Adds or replaces a line's signer (from configuration).
    pub fn set(&mut self, line: &str, identity: Identity) {
        self.lines.insert(line.to_owned(), identity);
    }

    /// The signer of a line.
    pub fn of(&self, line: &str) -> Option<&Identity> {
        self.lines.get(line)
    }
}

/// The release line (`3.15`) of a version (`3.15.0a8`), when it is `X.Y…`.
pub fn release_line(version: &str) -> Option<String> {
    let mut parts = version.split('.');
    let (major, minor) = (parts.next()?, parts.next()?);
    let minor: String = minor.chars().take_while(char::is_ascii_digit).collect();
    (!major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()) && !minor.is_empty())
        .then(|| format!("{major}.{minor}"))
}

/// The bundle to fetch for an image and whose signature it must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleRequest {
    /// `PYTHON_VERSION`.
    pub version: String,
    /// `PYTHON_SHA256`, parsed.
    pub sha256: [u8; 32],
    /// The path below the base URL: `3.15.0/Python-3.15.0a8.tar.xz.sigstore`.
    pub path: String,
    /// The expected signer.
    pub signer: Identity,
}

/// What to fetch for an image with these environment values, or the verdict when there is nothing to fetch.
pub fn request(
    version: Option<&str>,
    sha256: Option<&str>,
    identities: &Identities,
) -> Result<BundleRequest, PsfVerdict> {
    let Some(version) = version else {
        return Err(PsfVerdict::NotCheckable {
            why: "the image's config sets no PYTHON_VERSION".to_owned(),
        });
    };
    let Some(sha256) = sha256 else {
        return Err(PsfVerdict::NotCheckable {
            why: "the image's config sets no PYTHON_SHA256 (images built before October 2024 do not): \
                  nothing to compare with the signed release"
                .to_owned(),
        });
    };
    let Some(digest) = parse_sha256(sha256) else {
        return Err(PsfVerdict::NotCheckable {
            why: format!("PYTHON_SHA256 {sha256:?} is not a SHA-256"),
        });
    };
    let directory: String = version
        .split('.')
        .take(3)
        .map(|part| {
            part.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(".");
    let (Some(line), true) = (
        release_line(version),
        version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.'),
    ) else {
        return Err(PsfVerdict::NotCheckable {
            why: format!("PYTHON_VERSION {version:?} is not a CPython release version"),
        });
    };
    let Some(signer) = identities.of(&line) else {
        return Err(PsfVerdict::UnknownReleaseLine { line });
    };
    Ok(BundleRequest {
        version: version.to_owned(),
        sha256: digest,
        path: format!("{directory}/Python-{version}.tar.xz.sigstore"),
        signer: signer.clone(),
    })
}

/// What fetching the bundle gave.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// The bundle's bytes.
    Bundle(Vec<u8>),
    /// python.org answered 404.
    NotPublished,
    /// No answer (offline, an error status, a timeout).
    Unavailable(String),
}

/// The verdict on the PSF link. Each kind is distinct in JSON (`verdict`) and in the human report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum PsfVerdict {
    /// The bundle verifies: the release manager of the line signed this very digest, logged in Rekor.
    SignedByPsf {
        /// The signer (SAN).
        signer: String,
        /// Its OIDC issuer.
        issuer: String,
        /// When, by the log's clock (RFC 3339).
        signed_at: String,
        /// The log and index.
        log: String,
        /// Rekor log index.
        log_index: u64,
    },
    /// The bundle is valid for another digest: the image's Python is not the signed tarball.
    HashMismatch {
        /// What the bundle signs.
        signed: String,
    },
    /// The bundle is signed by someone other than the line's release manager.
    IdentityWrong {
        /// Who should have signed.
        expected: String,
        /// Their issuer.
        expected_issuer: String,
        /// Who did.
        found: Vec<String>,
        /// Their issuer.
        found_issuer: Option<String>,
    },
    /// python.org has no bundle for this version.
    NoBundle,
    /// The image does not say which tarball it was built from.
    NotCheckable {
        /// Why.
        why: String,
    },
    /// No expected signer is known for the line.
    UnknownReleaseLine {
        /// The line (`3.18`).
        line: String,
    },
    /// The bundle is not a valid Sigstore signature (broken chain, signature or log proof, malformed).
    InvalidBundle {
        /// Why.
        why: String,
    },
    /// The bundle could not be fetched.
    Unavailable {
        /// Why.
        why: String,
    },
}

/// How the link stands, for a chain view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkStatus {
    /// Proven by the evidence.
    Proven,
    /// The evidence contradicts the link.
    Broken,
    /// No evidence either way.
    Unproven,
}

impl PsfVerdict {
    /// Whether the evidence proves, contradicts, or cannot tell.
    pub fn status(&self) -> LinkStatus {
        match self {
            PsfVerdict::SignedByPsf { .. } => LinkStatus::Proven,
            PsfVerdict::HashMismatch { .. }
            | PsfVerdict::IdentityWrong { .. }
            | PsfVerdict::InvalidBundle { .. } => LinkStatus::Broken,
            PsfVerdict::NoBundle
            | PsfVerdict::NotCheckable { .. }
            | PsfVerdict::UnknownReleaseLine { .. }
            | PsfVerdict::Unavailable { .. } => LinkStatus::Unproven,
        }
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            PsfVerdict::SignedByPsf {
                signer,
                issuer,
                signed_at,
                log,
                log_index,
            } => format!(
                "signed by the PSF: {signer} ({issuer}) signed this source tarball digest on {signed_at}, logged in {log} at index {log_index}"
            ),
            PsfVerdict::HashMismatch { signed } => format!(
                "hash does not match the signed release: the release manager signed sha256:{signed}, not the image's PYTHON_SHA256"
            ),
            PsfVerdict::IdentityWrong {
                expected,
                expected_issuer,
                found,
                found_issuer,
            } => format!(
                "identity wrong: the bundle is signed by {} (issuer {}), not by the release manager {expected} ({expected_issuer})",
                if found.is_empty() {
                    "an unnamed signer".to_owned()
                } else {
                    found.join(", ")
                },
                found_issuer.as_deref().unwrap_or("none")
            ),
            PsfVerdict::NoBundle => {
                "no bundle published: python.org has no Sigstore bundle for this release".to_owned()
            }
            PsfVerdict::NotCheckable { why } => format!("not checkable: {why}"),
            PsfVerdict::UnknownReleaseLine { line } => format!(
                "not checkable: no release manager identity known for Python {line} (add [trust.python_lines.\"{line}\"] identity and issuer to pyimage.toml)"
            ),
            PsfVerdict::InvalidBundle { why } => format!("invalid bundle: {why}"),
            PsfVerdict::Unavailable { why } => format!("bundle not fetched: {why}"),
        }
    }
}

/// The verdict on a fetched bundle for `request`, against `root`.
pub fn judge(request: &BundleRequest, fetched: &Fetched, root: &TrustedRoot) -> PsfVerdict {
    let bytes = match fetched {
        Fetched::Bundle(bytes) => bytes,
        Fetched::NotPublished => return PsfVerdict::NoBundle,
        Fetched::Unavailable(why) => return PsfVerdict::Unavailable { why: why.clone() },
    };
    let bundle = match Bundle::parse(bytes) {
        Ok(bundle) => bundle,
        Err(why) => return PsfVerdict::InvalidBundle { why },
    };
    match sigstore::verify(&bundle, &request.sha256, &request.signer, root) {
        Ok(verified) => PsfVerdict::SignedByPsf {
            signer: verified.signer.identity,
            issuer: verified.signer.issuer,
            signed_at: rfc3339_utc(verified.integrated_time),
            log: verified.log,
            log_index: verified.log_index,
        },
        Err(Failure::Digest { signed }) => PsfVerdict::HashMismatch { signed },
        Err(Failure::Identity { found, issuer }) => PsfVerdict::IdentityWrong {
            expected: request.signer.identity.clone(),
            expected_issuer: request.signer.issuer.clone(),
            found,
            found_issuer: issuer,
        },
        Err(Failure::Invalid(why)) => PsfVerdict::InvalidBundle { why },
    }
}
