//! What an SPDX SBOM lists, and what changed between two of them: [`packages_of`] reads the package list of an SPDX
//! 2.x document (the predicate of BuildKit's `https://spdx.dev/Document` statement), [`diff`] compares two lists
//! (added, removed, upgraded, downgraded), ordering versions as dpkg does ([`compare_versions`]: epoch, then
//! alternating non-digit and digit runs, `~` before everything) — which also orders Alpine's `-rN` releases.
//!
//! Pure: the watcher fetches the documents and hands them here.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a package changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// Not in the old list.
    Added,
    /// Not in the new list.
    Removed,
    /// A newer version.
    Upgraded,
    /// An older version.
    Downgraded,
}

/// One package that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageChange {
    /// Package name (`openssl`).
    pub name: String,
    /// How it changed.
    pub change: Change,
    /// Version before (none when added).
    pub from: Option<String>,
    /// Version after (none when removed).
    pub to: Option<String>,
}

impl PackageChange {
    /// `openssl 3.0.15-1~deb12u1 → 3.0.16-1~deb12u1`, `+ libzstd1 1.5.7`, `- netbase 6.5`.
    pub fn describe(&self) -> String {
        let (from, to) = (
            self.from.as_deref().unwrap_or(""),
            self.to.as_deref().unwrap_or(""),
        );
        match self.change {
            Change::Added => format!("+ {} {to}", self.name),
            Change::Removed => format!("- {} {from}", self.name),
            Change::Upgraded | Change::Downgraded => format!("{} {from} → {to}", self.name),
        }
    }
}

/// Package name → version of an SPDX document (`packages[].name` / `versionInfo`); a name listed with several
/// versions keeps them joined by `, ` in sorted order. Entries without a name are skipped.
pub fn packages_of(document: &Value) -> BTreeMap<String, String> {
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for package in document
        .get("packages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(name) = package.get("name").and_then(Value::as_str) else {
            continue;
        };
        let version = package
            .get("versionInfo")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        found.entry(name.to_owned()).or_default().push(version);
    }
    found
        .into_iter()
        .map(|(name, mut versions)| {
            versions.sort_by(|a, b| compare_versions(a, b));
            versions.dedup();
            (name, versions.join(", "))
        })
        .collect()
}

/// The changes from `old` to `new`, by package name.
pub fn diff(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> Vec<PackageChange> {
    let mut changes = Vec::new();
    for (name, before) in old {
        match new.get(name) {
            None => changes.push(PackageChange {
                name: name.clone(),
                change: Change::Removed,
                from: Some(before.clone()),
                to: None,
            }),
            Some(after) if after != before => changes.push(PackageChange {
                name: name.clone(),
                change: if compare_versions(after, before) == Ordering::Less {
                    Change::Downgraded
                } else {
                    Change::Upgraded
                },
                from: Some(before.clone()),
                to: Some(after.clone()),
            }),
            Some(_) => {}
        }
    }
    for (name, after) in new {
        if !old.contains_key(name) {
            changes.push(PackageChange {
                name: name.clone(),
                change: Change::Added,
                from: None,
                to: Some(after.clone()),
            });
        }
    }
    changes.sort_by(|a, b| a.name.cmp(&b.name));
    changes
}

/// Packages whose updates are the usual reason for a base-image security rebuild: TLS and crypto (OpenSSL, GnuTLS,
/// Kerberos), the C library (glibc on Debian, musl on Alpine), compression (zlib, xz, bzip2, zstd), XML (expat,
/// libxml2), SQLite, the CA bundle and the tools that fetch (curl). Chosen from the packages named in Debian
/// security advisories (DSA) and Alpine secdb entries that rebuilt `python` images; a reviewer sees these first.
pub fn is_security_relevant(name: &str) -> bool {
    security_rank(name).is_some()
}

/// The rank of a security-relevant package, most telling first (TLS before the C library before compression), in
/// the order of [`SECURITY_PREFIXES`].
fn security_rank(name: &str) -> Option<usize> {
    SECURITY_PREFIXES
        .iter()
        .position(|prefix| name.starts_with(prefix))
}

/// Name prefixes of security-relevant packages, most telling first (see [`is_security_relevant`]).
const SECURITY_PREFIXES: &[&str] = &[
    "openssl",
    "libssl",
    "libcrypto",
    "libgnutls",
    "gnutls",
    "libkrb5",
    "krb5",
    "libgssapi",
    "libc6",
    "libc-",
    "glibc",
    "musl",
    "zlib",
    "libz1",
    "liblzma",
    "xz",
    "libbz2",
    "bzip2",
    "libzstd",
    "zstd",
    "libexpat",
    "expat",
    "libxml2",
    "libsqlite3",
    "sqlite",
    "ca-certificates",
    "curl",
    "libcurl",
    "libnghttp2",
    "libssh",
    "libtasn1",
    "libgcrypt",
    "libpcre",
];

/// The changes ordered for a reviewer: security-relevant packages ([`is_security_relevant`]) first, most telling
/// first (OpenSSL before the C library before compression), then the rest by name.
pub fn for_review(changes: &[PackageChange]) -> Vec<PackageChange> {
    let mut ordered = changes.to_vec();
    ordered.sort_by(|a, b| {
        let rank = |name: &str| security_rank(name).unwrap_or(usize::MAX);
        rank(&a.name)
            .cmp(&rank(&b.name))
            .then_with(|| a.name.cmp(&b.name))
    });
    ordered
}

/// Orders two package versions as dpkg does: the numeric epoch before `:`, then the rest by alternating runs of
/// non-digits (letters before other characters, `~` before everything, even the end) and digits (numerically).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let split = |v: &str| -> (u64, String) {
        match v.split_once(':') {
            Some((epoch, rest))
                if epoch.chars().all(|c| c.is_ascii_digit()) && !epoch.is_empty() =>
            {
                (epoch.parse().unwrap_or(0), rest.to_owned())
            }
            _ => (0, v.to_owned()),
        }
    };
    let ((ea, ra), (eb, rb)) = (split(a), split(b));
    ea.cmp(&eb).then_with(|| runs(ra.as_bytes(), rb.as_bytes()))
}

fn weight(c: Option<u8>) -> i32 {
    match c {
        Some(b'~') => -1,
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

fn runs(mut a: &[u8], mut b: &[u8]) -> Ordering {
    while !a.is_empty() || !b.is_empty() {
        // Non-digit run.
        while a.first().is_some_and(|c| !c.is_ascii_digit())
            || b.first().is_some_and(|c| !c.is_ascii_digit())
        {
            let (ca, cb) = (a.first().copied(), b.first().copied());
            let (wa, wb) = (
                weight(ca.filter(|c| !c.is_ascii_digit())),
                weight(cb.filter(|c| !c.is_ascii_digit())),
            );
            if wa != wb {
                return wa.cmp(&wb);
            }
            if ca.is_some_and(|c| !c.is_ascii_digit()) {
                a = &a[1..];
            }
            if cb.is_some_and(|c| !c.is_ascii_digit()) {
                b = &b[1..];
            }
        }
        // Digit run, compared numerically (leading zeros ignored).
        let digits = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
        let (na, nb) = (digits(a), digits(b));
        let trim = |s: &[u8]| {
            let zeros = s.iter().take_while(|c| **c == b'0').count();
            s[zeros..].to_vec()
        };
        let (da, db) = (trim(&a[..na]), trim(&b[..nb]));
        let order = da.len().cmp(&db.len()).then_with(|| da.cmp(&db));
        if order != Ordering::Equal {
            return order;
        }
        a = &a[na..];
        b = &b[nb..];
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_order_as_dpkg() {
        let less = [
            ("3.0.15-1~deb12u1", "3.0.16-1~deb12u1"),
            ("3.5.4-1~deb13u1", "3.5.4-1~deb13u2"),
            ("1.0~rc1", "1.0"),
            ("2.41-12", "2.41-12+deb13u1"),
            ("1.2.5-r10", "1.2.5-r11"),
            ("3.12.9", "3.12.10"),
            ("9:1.0", "10:0.1"),
            ("1:1.3", "2:0"),
        ];
        for (a, b) in less {
            assert_eq!(compare_versions(a, b), Ordering::Less, "{a} < {b}");
            assert_eq!(compare_versions(b, a), Ordering::Greater, "{b} > {a}");
        }
        assert_eq!(compare_versions("1.01", "1.1"), Ordering::Equal);
    }

    #[test]
    fn diffs_package_lists() {
        let old = packages_of(&json!({"packages": [
            {"name": "openssl", "versionInfo": "3.0.15-1~deb12u1"},
            {"name": "netbase", "versionInfo": "6.5"},
            {"name": "bash", "versionInfo": "5.2"},
            {"versionInfo": "no name"}
        ]}));
        let new = packages_of(&json!({"packages": [
            {"name": "openssl", "versionInfo": "3.0.16-1~deb12u1"},
            {"name": "bash", "versionInfo": "5.2"},
            {"name": "libzstd1", "versionInfo": "1.5.7"}
        ]}));
        let described: Vec<String> = diff(&old, &new)
            .iter()
            .map(PackageChange::describe)
            .collect();
        assert_eq!(
            described,
            [
                "+ libzstd1 1.5.7",
                "- netbase 6.5",
                "openssl 3.0.15-1~deb12u1 → 3.0.16-1~deb12u1"
            ]
        );
        assert_eq!(diff(&new, &new), []);
        let reviewed: Vec<String> = for_review(&diff(&old, &new))
            .iter()
            .map(|c| c.name.clone())
            .collect();
        assert_eq!(reviewed, ["openssl", "libzstd1", "netbase"]);
    }
}
