//! The TUF client workflow (The Update Framework 1.0, "detailed client workflow"), the subset Sigstore's repository
//! (https://tuf-repo-cdn.sigstore.dev) uses, so that the Sigstore trust root (`trusted_root.json`, a TUF target) is
//! refreshed with a proof: top-level roles only (a target must be listed by the top-level targets role; delegations
//! are not followed), ECDSA P-256 keys (`ecdsa-sha2-nistp256`, the only scheme in Sigstore's root; a key of another
//! scheme never counts towards a threshold), DER signatures in hex over the OLPC canonical JSON of `signed`.
//!
//! [`Repository`] holds what has been verified so far and is advanced one file at a time, in the order the
//! specification fixes: the root by chained versions N+1 (each signed by a threshold of the old root's root keys
//! *and* of its own; at most [`MAX_ROOT_ROTATIONS`] per update), then timestamp → snapshot → targets (each by its
//! role's keys in the current root; the snapshot's version, length and hashes as the timestamp says; the targets'
//! version as the snapshot says; no version lower than previously verified ones, see [`Repository::remember_timestamp`];
//! nothing expired at the caller's `now`), then a target file, whose length and hashes must be those the targets
//! metadata lists. Pure: the caller fetches the file each step names ([`Repository::snapshot_file`], …) and passes the
//! bytes and the time in; nothing here reads a file or a clock.

mod canonical;

use std::collections::BTreeMap;
use std::fmt;

use der::Decode as _;
use der::asn1::ObjectIdentifier;
use pyimage_model::time::{parse_rfc3339_utc, rfc3339_utc};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest as _, Sha256, Sha512};
use x509_cert::spki::SubjectPublicKeyInfoOwned;

pub use canonical::canonical_json;

/// Sigstore's public-good TUF repository.
pub const SIGSTORE_TUF_URL: &str = "https://tuf-repo-cdn.sigstore.dev";

/// Sigstore's TUF root metadata (v15) this build starts from; see `data/README.md` for its source.
pub const EMBEDDED_TUF_ROOT: &str = include_str!("../data/root.json");

/// The target holding the Sigstore trust root.
pub const TRUSTED_ROOT_TARGET: &str = "trusted_root.json";

/// Root versions followed in one update at most: Sigstore rotated 14 times in five years, and a repository that
/// keeps serving new roots must not keep a client fetching forever.
pub const MAX_ROOT_ROTATIONS: u64 = 32;

/// Size limits of each metadata file (Sigstore's are 0.5–6 KB); a length the signed metadata gives replaces them.
pub const MAX_ROOT_BYTES: u64 = 512 * 1024;
/// See [`MAX_ROOT_BYTES`].
pub const MAX_TIMESTAMP_BYTES: u64 = 16 * 1024;
/// See [`MAX_ROOT_BYTES`].
pub const MAX_SNAPSHOT_BYTES: u64 = 512 * 1024;
/// See [`MAX_ROOT_BYTES`].
pub const MAX_TARGETS_BYTES: u64 = 512 * 1024;
/// The largest target fetched (the length the targets metadata lists must also be within it).
pub const MAX_TARGET_BYTES: u64 = 1024 * 1024;

const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

/// A top-level TUF role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Names the keys of every role.
    Root,
    /// Says which snapshot is current; re-signed often, so it proves freshness.
    Timestamp,
    /// Lists the version of every targets metadata file.
    Snapshot,
    /// Lists the target files with their lengths and hashes.
    Targets,
}

impl Role {
    /// `root`, `timestamp`, `snapshot`, `targets`: its `_type` and its name in the root's `roles`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Root => "root",
            Role::Timestamp => "timestamp",
            Role::Snapshot => "snapshot",
            Role::Targets => "targets",
        }
    }
}

/// Which check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Not TUF metadata of the expected role (JSON, `_type`, `spec_version`, fields).
    Format,
    /// Not signed by a threshold of the role's keys.
    Signatures,
    /// A version other than the one the chain or the referring metadata requires.
    Version,
    /// Older than metadata already verified.
    Rollback,
    /// Expired at the time given.
    Expired,
    /// A length or hash other than the signed one.
    LengthOrHash,
    /// Not listed where it must be.
    Missing,
    /// More root versions than [`MAX_ROOT_ROTATIONS`] in one update.
    Rotations,
    /// A step taken before the one it depends on (a bug of the caller).
    Order,
}

/// A failed check: which metadata, which check, what was found; its text adds what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TufError {
    /// The file, with its version when known (`timestamp.json v762`).
    pub metadata: String,
    /// The check.
    pub check: Check,
    /// What was found.
    pub detail: String,
}

impl TufError {
    fn new(metadata: impl Into<String>, check: Check, detail: impl Into<String>) -> TufError {
        TufError {
            metadata: metadata.into(),
            check,
            detail: detail.into(),
        }
    }

    /// What to do about it.
    pub fn advice(&self) -> String {
        match self.check {
            Check::Format => "the repository (or a proxy on the way) serves something else than TUF metadata: check the TUF URL ([trust] tuf_url)".to_owned(),
            Check::Signatures => "the metadata was altered or signed by keys the trusted root does not name: it must not be used; if it persists, tell the repository's operators".to_owned(),
            Check::Version => "the repository serves an inconsistent set of files (for instance in the middle of an update): try again later".to_owned(),
            Check::Rollback => "the repository serves older metadata than pyimage already verified (a rollback attack, or a stale mirror): try again later, or use another mirror ([trust] tuf_url)".to_owned(),
            Check::Expired => "the repository was not re-signed in time (a freeze attack, or a stale mirror): try again later, or use another mirror ([trust] tuf_url); air-gapped, pass --trusted-root FILE".to_owned(),
            Check::LengthOrHash => "the file is not the one the signed metadata describes: it must not be used".to_owned(),
            Check::Missing => "the signed metadata does not list it: the repository does not publish it".to_owned(),
            Check::Rotations => format!("more than {MAX_ROOT_ROTATIONS} root versions in one update: start from a newer root (a newer pyimage, or [trust] tuf_root)"),
            Check::Order => "a step of the TUF workflow was skipped (a bug in pyimage: please report it)".to_owned(),
        }
    }
}

impl fmt::Display for TufError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.metadata, self.detail, self.advice())
    }
}

impl std::error::Error for TufError {}

/// A file to fetch next: its path under the repository's base URL and the most bytes to accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileToFetch {
    /// `165.snapshot.json`, `targets/6494…0b66.trusted_root.json`.
    pub path: String,
    /// The exact length when the signed metadata gives one, else the role's limit.
    pub max_bytes: u64,
}

#[derive(Deserialize)]
struct RawEnvelope {
    signed: Value,
    signatures: Vec<RawSignature>,
}

#[derive(Deserialize)]
struct RawSignature {
    keyid: String,
    sig: String,
}

#[derive(Deserialize)]
struct RawCommon {
    #[serde(rename = "_type")]
    kind: String,
    spec_version: String,
    version: u64,
    expires: String,
}

#[derive(Deserialize)]
struct RawRoot {
    #[serde(default)]
    consistent_snapshot: bool,
    keys: BTreeMap<String, RawKey>,
    roles: BTreeMap<String, RawRole>,
}

#[derive(Deserialize)]
struct RawKey {
    keytype: String,
    scheme: String,
    keyval: RawKeyValue,
}

#[derive(Deserialize)]
struct RawKeyValue {
    #[serde(default)]
    public: Option<String>,
}

#[derive(Deserialize)]
struct RawRole {
    keyids: Vec<String>,
    threshold: u64,
}

/// An entry of `meta` (timestamp, snapshot): a metadata file's version, and optionally its length and hashes.
#[derive(Debug, Clone, Deserialize)]
struct MetaFile {
    version: u64,
    #[serde(default)]
    length: Option<u64>,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawMeta {
    meta: BTreeMap<String, MetaFile>,
}

/// An entry of `targets`: a target file's length and hashes.
#[derive(Debug, Clone, Deserialize)]
struct TargetFile {
    length: u64,
    hashes: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawTargets {
    #[serde(default)]
    targets: BTreeMap<String, TargetFile>,
}

/// Metadata opened but not yet trusted: the canonical bytes its signatures are over, and the common fields.
struct Envelope {
    signed: Value,
    canonical: Vec<u8>,
    signatures: Vec<(String, Vec<u8>)>,
    version: u64,
    expires: u64,
    label: String,
}

struct RoleKeys {
    keyids: Vec<String>,
    threshold: u64,
}

struct Root {
    version: u64,
    expires: u64,
    consistent_snapshot: bool,
    /// Key ID → the key, `None` for a scheme pyimage does not verify (it then never counts).
    keys: BTreeMap<String, Option<p256::ecdsa::VerifyingKey>>,
    roles: BTreeMap<String, RoleKeys>,
}

struct Timestamp {
    version: u64,
    expires: u64,
    snapshot: MetaFile,
}

struct Snapshot {
    version: u64,
    expires: u64,
    meta: BTreeMap<String, MetaFile>,
}

struct Targets {
    version: u64,
    expires: u64,
    targets: BTreeMap<String, TargetFile>,
}

/// The versions verified so far, for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Versions {
    /// The root's.
    pub root: u64,
    /// The timestamp's, once verified.
    pub timestamp: Option<u64>,
    /// The snapshot's, once verified.
    pub snapshot: Option<u64>,
    /// The targets', once verified.
    pub targets: Option<u64>,
}

impl fmt::Display for Versions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "root v{}", self.root)?;
        for (name, version) in [
            ("timestamp", self.timestamp),
            ("snapshot", self.snapshot),
            ("targets", self.targets),
        ] {
            if let Some(version) = version {
                write!(f, ", {name} v{version}")?;
            }
        }
        Ok(())
    }
}

/// The state of a TUF update: the trusted root, and the timestamp, snapshot and targets verified under it so far.
pub struct Repository {
    root: Root,
    rotations: u64,
    previous_timestamp: Option<Timestamp>,
    previous_snapshot: Option<Snapshot>,
    timestamp: Option<Timestamp>,
    snapshot: Option<Snapshot>,
    targets: Option<Targets>,
}

impl fmt::Debug for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Repository({})", self.versions())
    }
}

impl Repository {
    /// Starts from a trusted root (the embedded one, or one the user names): it must be signed by a threshold of its
    /// own root keys. Its expiry is not checked here: an old anchor is fine when a newer root chains from it (see
    /// [`Repository::root_update_finished`]).
    pub fn new(root_json: &[u8]) -> Result<Repository, TufError> {
        let envelope = open(root_json, Role::Root, "root.json")?;
        let root = parse_root(&envelope)?;
        verify_role(&root, Role::Root, &envelope)?;
        Ok(Repository {
            root,
            rotations: 0,
            previous_timestamp: None,
            previous_snapshot: None,
            timestamp: None,
            snapshot: None,
            targets: None,
        })
    }

    /// What has been verified so far.
    pub fn versions(&self) -> Versions {
        Versions {
            root: self.root.version,
            timestamp: self.timestamp.as_ref().map(|t| t.version),
            snapshot: self.snapshot.as_ref().map(|s| s.version),
            targets: self.targets.as_ref().map(|t| t.version),
        }
    }

    /// The earliest expiry of the metadata verified so far (Unix seconds): until then the set is fresh.
    pub fn expires(&self) -> u64 {
        [
            Some(self.root.expires),
            self.timestamp.as_ref().map(|t| t.expires),
            self.snapshot.as_ref().map(|s| s.expires),
            self.targets.as_ref().map(|t| t.expires),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(self.root.expires)
    }

    /// The next root to ask for: `N+1.root.json`. The repository answers 404 (or 403 from some object stores) when
    /// there is none, and the root update is then over.
    pub fn next_root(&self) -> FileToFetch {
        FileToFetch {
            path: format!("{}.root.json", self.root.version.saturating_add(1)),
            max_bytes: MAX_ROOT_BYTES,
        }
    }

    /// Replaces the root by version N+1: signed by a threshold of the current root's root keys and of its own. The
    /// timestamp, snapshot and targets verified so far are dropped (their keys may have rotated).
    pub fn update_root(&mut self, bytes: &[u8]) -> Result<(), TufError> {
        let expected = self.root.version.saturating_add(1);
        if self.rotations >= MAX_ROOT_ROTATIONS {
            return Err(TufError::new(
                format!("{expected}.root.json"),
                Check::Rotations,
                format!(
                    "root v{} was reached after {MAX_ROOT_ROTATIONS} rotations and the repository offers more",
                    self.root.version
                ),
            ));
        }
        let envelope = open(bytes, Role::Root, &format!("{expected}.root.json"))?;
        // Signed by the old root first: until then nothing in the new file is to be believed, its version included.
        verify_role(&self.root, Role::Root, &envelope).map_err(|mut error| {
            error.detail = format!(
                "{} (a new root must be signed by the current root v{}'s root keys)",
                error.detail, self.root.version
            );
            error
        })?;
        let root = parse_root(&envelope)?;
        verify_role(&root, Role::Root, &envelope)?;
        if root.version != expected {
            return Err(TufError::new(
                envelope.label,
                Check::Version,
                format!(
                    "is version {}, but root v{} must be followed by v{expected} (versions go up by exactly 1)",
                    root.version, self.root.version
                ),
            ));
        }
        self.root = root;
        self.rotations += 1;
        self.previous_timestamp = None;
        self.previous_snapshot = None;
        self.timestamp = None;
        self.snapshot = None;
        self.targets = None;
        Ok(())
    }

    /// Ends the root update: the final root must not have expired at `now` (an expired root with no newer version
    /// is a freeze attack or an abandoned repository).
    pub fn root_update_finished(&self, now: u64) -> Result<(), TufError> {
        fresh(
            &format!("root.json v{}", self.root.version),
            self.root.expires,
            now,
        )
    }

    /// A timestamp verified before (the cache's), kept to refuse an older one: it must be signed by the current
    /// root's timestamp keys (after a key rotation the old one no longer is, and is not kept). Its expiry does not
    /// matter.
    pub fn remember_timestamp(&mut self, bytes: &[u8]) -> Result<(), TufError> {
        let envelope = open(bytes, Role::Timestamp, "timestamp.json")?;
        verify_role(&self.root, Role::Timestamp, &envelope)?;
        self.previous_timestamp = Some(parse_timestamp(&envelope)?);
        Ok(())
    }

    /// A snapshot verified before (the cache's), kept to refuse an older targets version; see
    /// [`Repository::remember_timestamp`].
    pub fn remember_snapshot(&mut self, bytes: &[u8]) -> Result<(), TufError> {
        let envelope = open(bytes, Role::Snapshot, "snapshot.json")?;
        verify_role(&self.root, Role::Snapshot, &envelope)?;
        self.previous_snapshot = Some(parse_snapshot(&envelope)?);
        Ok(())
    }

    /// The timestamp: signed by the root's timestamp keys, not older than the one verified before (nor naming an
    /// older snapshot), not expired at `now`.
    pub fn update_timestamp(&mut self, bytes: &[u8], now: u64) -> Result<(), TufError> {
        let envelope = open(bytes, Role::Timestamp, "timestamp.json")?;
        verify_role(&self.root, Role::Timestamp, &envelope)?;
        let timestamp = parse_timestamp(&envelope)?;
        if let Some(previous) = self.timestamp.as_ref().or(self.previous_timestamp.as_ref()) {
            if timestamp.version < previous.version {
                return Err(TufError::new(
                    envelope.label,
                    Check::Rollback,
                    format!(
                        "is older than timestamp v{} verified before",
                        previous.version
                    ),
                ));
            }
            if timestamp.snapshot.version < previous.snapshot.version {
                return Err(TufError::new(
                    envelope.label,
                    Check::Rollback,
                    format!(
                        "names snapshot v{}, older than v{} named by timestamp v{} verified before",
                        timestamp.snapshot.version, previous.snapshot.version, previous.version
                    ),
                ));
            }
        }
        fresh(&envelope.label, timestamp.expires, now)?;
        self.timestamp = Some(timestamp);
        self.snapshot = None;
        self.targets = None;
        Ok(())
    }

    /// The snapshot the timestamp names: `V.snapshot.json` with consistent snapshots, else `snapshot.json`.
    pub fn snapshot_file(&self) -> Result<FileToFetch, TufError> {
        let timestamp = self.timestamp.as_ref().ok_or_else(|| {
            TufError::new(
                "snapshot.json",
                Check::Order,
                "asked for before a timestamp was verified",
            )
        })?;
        Ok(FileToFetch {
            path: self.versioned("snapshot.json", timestamp.snapshot.version),
            max_bytes: timestamp.snapshot.length.unwrap_or(MAX_SNAPSHOT_BYTES),
        })
    }

    /// The snapshot: the length and hashes the timestamp gives (when it does), signed by the root's snapshot keys,
    /// the version the timestamp names, every targets file listed before still listed at no older version, not
    /// expired at `now`.
    pub fn update_snapshot(&mut self, bytes: &[u8], now: u64) -> Result<(), TufError> {
        let timestamp = self.timestamp.as_ref().ok_or_else(|| {
            TufError::new(
                "snapshot.json",
                Check::Order,
                "verified before a timestamp was",
            )
        })?;
        let expected = &timestamp.snapshot;
        let label = format!("snapshot.json v{}", expected.version);
        check_bytes(
            bytes,
            expected.length,
            &expected.hashes,
            &label,
            &format!("timestamp v{}", timestamp.version),
        )?;
        let envelope = open(bytes, Role::Snapshot, "snapshot.json")?;
        verify_role(&self.root, Role::Snapshot, &envelope)?;
        let snapshot = parse_snapshot(&envelope)?;
        if snapshot.version != expected.version {
            return Err(TufError::new(
                envelope.label,
                Check::Version,
                format!(
                    "is not version {} that timestamp v{} names",
                    expected.version, timestamp.version
                ),
            ));
        }
        if let Some(previous) = self.snapshot.as_ref().or(self.previous_snapshot.as_ref()) {
            for (name, before) in &previous.meta {
                match snapshot.meta.get(name) {
                    None => {
                        return Err(TufError::new(
                            envelope.label,
                            Check::Rollback,
                            format!(
                                "no longer lists {name}, which snapshot v{} listed",
                                previous.version
                            ),
                        ));
                    }
                    Some(now_listed) if now_listed.version < before.version => {
                        return Err(TufError::new(
                            envelope.label,
                            Check::Rollback,
                            format!(
                                "lists {name} v{}, older than v{} in snapshot v{} verified before",
                                now_listed.version, before.version, previous.version
                            ),
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        fresh(&envelope.label, snapshot.expires, now)?;
        self.snapshot = Some(snapshot);
        self.targets = None;
        Ok(())
    }

    /// The targets metadata the snapshot names: `V.targets.json` with consistent snapshots.
    pub fn targets_file(&self) -> Result<FileToFetch, TufError> {
        let listed = self.listed_targets()?;
        Ok(FileToFetch {
            path: self.versioned("targets.json", listed.version),
            max_bytes: listed.length.unwrap_or(MAX_TARGETS_BYTES),
        })
    }

    fn listed_targets(&self) -> Result<&MetaFile, TufError> {
        let snapshot = self.snapshot.as_ref().ok_or_else(|| {
            TufError::new(
                "targets.json",
                Check::Order,
                "asked for before a snapshot was verified",
            )
        })?;
        snapshot.meta.get("targets.json").ok_or_else(|| {
            TufError::new(
                format!("snapshot.json v{}", snapshot.version),
                Check::Missing,
                "does not list targets.json",
            )
        })
    }

    /// The targets metadata: the length and hashes the snapshot gives (when it does), signed by the root's targets
    /// keys, the version the snapshot names, not expired at `now`.
    pub fn update_targets(&mut self, bytes: &[u8], now: u64) -> Result<(), TufError> {
        let listed = self.listed_targets()?.clone();
        let snapshot_version = self.snapshot.as_ref().map_or(0, |s| s.version);
        let label = format!("targets.json v{}", listed.version);
        check_bytes(
            bytes,
            listed.length,
            &listed.hashes,
            &label,
            &format!("snapshot v{snapshot_version}"),
        )?;
        let envelope = open(bytes, Role::Targets, "targets.json")?;
        verify_role(&self.root, Role::Targets, &envelope)?;
        let targets = parse_targets(&envelope)?;
        if targets.version != listed.version {
            return Err(TufError::new(
                envelope.label,
                Check::Version,
                format!(
                    "is not version {} that snapshot v{snapshot_version} names",
                    listed.version
                ),
            ));
        }
        fresh(&envelope.label, targets.expires, now)?;
        self.targets = Some(targets);
        Ok(())
    }

    /// Where the target `name` is (`targets/<sha256>.<name>` with consistent snapshots) and its signed length.
    pub fn target_file(&self, name: &str) -> Result<FileToFetch, TufError> {
        let (targets, entry) = self.target_entry(name)?;
        let sha256 = entry.hashes.get("sha256").ok_or_else(|| {
            TufError::new(
                format!("targets.json v{}", targets.version),
                Check::Missing,
                format!("lists {name} without a sha256 hash"),
            )
        })?;
        if entry.length > MAX_TARGET_BYTES {
            return Err(TufError::new(
                format!("targets.json v{}", targets.version),
                Check::LengthOrHash,
                format!(
                    "lists {name} with {} bytes, more than the {MAX_TARGET_BYTES} pyimage accepts",
                    entry.length
                ),
            ));
        }
        let path = if self.root.consistent_snapshot {
            format!("targets/{sha256}.{name}")
        } else {
            format!("targets/{name}")
        };
        Ok(FileToFetch {
            path,
            max_bytes: entry.length,
        })
    }

    fn target_entry(&self, name: &str) -> Result<(&Targets, &TargetFile), TufError> {
        let targets = self.targets.as_ref().ok_or_else(|| {
            TufError::new(
                name,
                Check::Order,
                "asked for before the targets metadata was verified",
            )
        })?;
        let entry = targets.targets.get(name).ok_or_else(|| {
            TufError::new(
                format!("targets.json v{}", targets.version),
                Check::Missing,
                format!("does not list {name}"),
            )
        })?;
        Ok((targets, entry))
    }

    /// Whether `bytes` are the target `name`: its length and every hash the targets metadata lists (a sha256 among
    /// them), with the root, timestamp, snapshot and targets all current at `now`. The one way to a verified target.
    pub fn verify_target(&self, name: &str, bytes: &[u8], now: u64) -> Result<(), TufError> {
        if self.snapshot.is_none() || self.timestamp.is_none() {
            return Err(TufError::new(
                name,
                Check::Order,
                "verified before the timestamp and snapshot were",
            ));
        }
        let (targets, entry) = self.target_entry(name)?;
        if !entry.hashes.contains_key("sha256") {
            return Err(TufError::new(
                format!("targets.json v{}", targets.version),
                Check::Missing,
                format!("lists {name} without a sha256 hash"),
            ));
        }
        check_bytes(
            bytes,
            Some(entry.length),
            &entry.hashes,
            name,
            &format!("targets v{}", targets.version),
        )?;
        self.root_update_finished(now)?;
        if let Some(t) = &self.timestamp {
            fresh(&format!("timestamp.json v{}", t.version), t.expires, now)?;
        }
        if let Some(s) = &self.snapshot {
            fresh(&format!("snapshot.json v{}", s.version), s.expires, now)?;
        }
        fresh(
            &format!("targets.json v{}", targets.version),
            targets.expires,
            now,
        )
    }

    fn versioned(&self, file: &str, version: u64) -> String {
        if self.root.consistent_snapshot {
            format!("{version}.{file}")
        } else {
            file.to_owned()
        }
    }
}

/// Parses the envelope and the fields every role has; `file` names it until its version is known.
fn open(bytes: &[u8], role: Role, file: &str) -> Result<Envelope, TufError> {
    let format = |detail: String| TufError::new(file, Check::Format, detail);
    let raw: RawEnvelope =
        serde_json::from_slice(bytes).map_err(|e| format(format!("not TUF metadata ({e})")))?;
    let canonical = canonical_json(&raw.signed).map_err(|e| format(format!("`signed`: {e}")))?;
    let common: RawCommon = serde_json::from_value(raw.signed.clone())
        .map_err(|e| format(format!("not TUF metadata ({e})")))?;
    if common.kind != role.name() {
        return Err(format(format!(
            "is {} metadata (`_type`), not {}",
            common.kind,
            role.name()
        )));
    }
    if common.spec_version.split('.').next() != Some("1") {
        return Err(format(format!(
            "follows TUF specification {}, pyimage reads 1.x",
            common.spec_version
        )));
    }
    if common.version == 0 {
        return Err(format("has version 0; versions start at 1".to_owned()));
    }
    let expires = parse_rfc3339_utc(&common.expires).ok_or_else(|| {
        format(format!(
            "expires {:?} is not an RFC 3339 UTC time",
            common.expires
        ))
    })?;
    // A signature that is not hex cannot verify; it is kept as nothing rather than failing the others.
    let signatures = raw
        .signatures
        .into_iter()
        .map(|s| {
            (
                s.keyid,
                crate::sigstore::hex_bytes(&s.sig).unwrap_or_default(),
            )
        })
        .collect();
    Ok(Envelope {
        signed: raw.signed,
        canonical,
        signatures,
        version: common.version,
        expires,
        label: format!("{}.json v{}", role.name(), common.version),
    })
}

fn fields<T: for<'de> Deserialize<'de>>(envelope: &Envelope) -> Result<T, TufError> {
    serde_json::from_value(envelope.signed.clone()).map_err(|e| {
        TufError::new(
            envelope.label.clone(),
            Check::Format,
            format!("not TUF metadata ({e})"),
        )
    })
}

fn parse_root(envelope: &Envelope) -> Result<Root, TufError> {
    let raw: RawRoot = fields(envelope)?;
    let mut roles = BTreeMap::new();
    for role in [Role::Root, Role::Timestamp, Role::Snapshot, Role::Targets] {
        let keys = raw.roles.get(role.name()).ok_or_else(|| {
            TufError::new(
                envelope.label.clone(),
                Check::Format,
                format!("names no keys for the {} role", role.name()),
            )
        })?;
        if keys.threshold == 0 {
            return Err(TufError::new(
                envelope.label.clone(),
                Check::Format,
                format!("gives the {} role a threshold of 0", role.name()),
            ));
        }
        roles.insert(
            role.name().to_owned(),
            RoleKeys {
                keyids: keys.keyids.clone(),
                threshold: keys.threshold,
            },
        );
    }
    Ok(Root {
        version: envelope.version,
        expires: envelope.expires,
        consistent_snapshot: raw.consistent_snapshot,
        keys: raw
            .keys
            .iter()
            .map(|(id, key)| (id.clone(), p256_key(key)))
            .collect(),
        roles,
    })
}

fn parse_timestamp(envelope: &Envelope) -> Result<Timestamp, TufError> {
    let raw: RawMeta = fields(envelope)?;
    let snapshot = raw.meta.get("snapshot.json").cloned().ok_or_else(|| {
        TufError::new(
            envelope.label.clone(),
            Check::Missing,
            "does not name a snapshot.json",
        )
    })?;
    Ok(Timestamp {
        version: envelope.version,
        expires: envelope.expires,
        snapshot,
    })
}

fn parse_snapshot(envelope: &Envelope) -> Result<Snapshot, TufError> {
    let raw: RawMeta = fields(envelope)?;
    Ok(Snapshot {
        version: envelope.version,
        expires: envelope.expires,
        meta: raw.meta,
    })
}

fn parse_targets(envelope: &Envelope) -> Result<Targets, TufError> {
    let raw: RawTargets = fields(envelope)?;
    Ok(Targets {
        version: envelope.version,
        expires: envelope.expires,
        targets: raw.targets,
    })
}

/// An `ecdsa-sha2-nistp256` key: PEM `PUBLIC KEY` (as Sigstore's root writes it) or hex (a SEC1 point, as older
/// metadata did). Any other scheme, or a key that does not parse, is `None`: it never counts towards a threshold.
fn p256_key(key: &RawKey) -> Option<p256::ecdsa::VerifyingKey> {
    if key.scheme != "ecdsa-sha2-nistp256"
        || !matches!(key.keytype.as_str(), "ecdsa" | "ecdsa-sha2-nistp256")
    {
        return None;
    }
    let public = key.keyval.public.as_deref()?;
    if public.contains("-----BEGIN PUBLIC KEY-----") {
        let der = crate::sigstore::pem_body(public.as_bytes())?;
        let spki = SubjectPublicKeyInfoOwned::from_der(&der).ok()?;
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        if spki.algorithm.oid != EC_PUBLIC_KEY || curve != Some(P256) {
            return None;
        }
        p256::ecdsa::VerifyingKey::from_sec1_bytes(spki.subject_public_key.as_bytes()?).ok()
    } else {
        p256::ecdsa::VerifyingKey::from_sec1_bytes(&crate::sigstore::hex_bytes(public.trim())?).ok()
    }
}

/// A threshold of the role's keys (each counted once, also when two key IDs name the same key) must have signed the
/// canonical bytes.
fn verify_role(root: &Root, role: Role, envelope: &Envelope) -> Result<(), TufError> {
    use p256::ecdsa::signature::Verifier as _;
    let Some(keys) = root.roles.get(role.name()) else {
        return Err(TufError::new(
            envelope.label.clone(),
            Check::Format,
            format!(
                "root v{} names no keys for the {} role",
                root.version,
                role.name()
            ),
        ));
    };
    let mut counted: Vec<Vec<u8>> = Vec::new();
    for keyid in &keys.keyids {
        let Some(Some(key)) = root.keys.get(keyid) else {
            continue;
        };
        let signed = envelope
            .signatures
            .iter()
            .filter(|(id, _)| id == keyid)
            .any(|(_, signature)| {
                p256::ecdsa::Signature::from_der(signature)
                    .is_ok_and(|signature| key.verify(&envelope.canonical, &signature).is_ok())
            });
        let point = key.to_encoded_point(false).as_bytes().to_vec();
        if signed && !counted.contains(&point) {
            counted.push(point);
        }
    }
    let count = counted.len() as u64;
    if count < keys.threshold {
        return Err(TufError::new(
            envelope.label.clone(),
            Check::Signatures,
            format!(
                "carries valid signatures of {count} of the {} {} keys of root v{}; {} are needed",
                keys.keyids.len(),
                role.name(),
                root.version,
                keys.threshold
            ),
        ));
    }
    Ok(())
}

fn fresh(label: &str, expires: u64, now: u64) -> Result<(), TufError> {
    if now >= expires {
        return Err(TufError::new(
            label,
            Check::Expired,
            format!(
                "expired at {} (now {})",
                rfc3339_utc(expires),
                rfc3339_utc(now)
            ),
        ));
    }
    Ok(())
}

/// The length (when given) and every hash of a known algorithm must match; `by` names the metadata that says so.
fn check_bytes(
    bytes: &[u8],
    length: Option<u64>,
    hashes: &BTreeMap<String, String>,
    label: &str,
    by: &str,
) -> Result<(), TufError> {
    if let Some(length) = length
        && bytes.len() as u64 != length
    {
        return Err(TufError::new(
            label,
            Check::LengthOrHash,
            format!("is {} bytes, but {by} says {length}", bytes.len()),
        ));
    }
    for (algorithm, expected) in hashes {
        let actual = match algorithm.as_str() {
            "sha256" => crate::sigstore::hex(&Sha256::digest(bytes)),
            "sha512" => crate::sigstore::hex(&Sha512::digest(bytes)),
            _ => continue,
        };
        if !actual.eq_ignore_ascii_case(expected) {
            return Err(TufError::new(
                label,
                Check::LengthOrHash,
                format!("has {algorithm} {actual}, but {by} says {expected}"),
            ));
        }
    }
    Ok(())
}
