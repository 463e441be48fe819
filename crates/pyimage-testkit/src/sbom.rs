//! The SPDX 2.3 document of one platform image: the Debian or Alpine packages of its base plus Python, shaped like
//! Docker Scout's BuildKit SBOMs (one package per installed package, a `purl` external reference each).
//!
//! The package list is a pure function of the base, the Python version and the base-image epoch, and it changes
//! between rebuilds the way a Debian point release does: at every new epoch about a quarter of the packages get a
//! security upgrade (`openssl 3.5.4-1~deb13u1 → 3.5.4-1~deb13u2`), `libzstd1` (or `zstd-libs`) appears at epoch 2 and
//! `netbase` (or `busybox-binsh`) is dropped at epoch 3. [`packages`] is the truth tests compare diffs with.

use serde_json::json;

use crate::content::{BaseImage, BuiltEntry};
use crate::platform::Platform;

/// Debian slim packages: name, first version, license.
const DEBIAN: &[(&str, &str, &str)] = &[
    ("base-files", "13.8", "GPL-2.0"),
    ("bash", "5.2.37-2", "GPL-3.0"),
    ("ca-certificates", "20250419", "MPL-2.0"),
    ("coreutils", "9.7-3", "GPL-3.0"),
    ("dpkg", "1.22.21", "GPL-2.0"),
    ("libc6", "2.41-12", "LGPL-2.1"),
    ("libexpat1", "2.7.1-2", "MIT"),
    ("libffi8", "3.4.8-2", "MIT"),
    ("libgcc-s1", "14.2.0-19", "GPL-3.0"),
    ("liblzma5", "5.8.1-1", "0BSD"),
    ("libncursesw6", "6.5+20250216-2", "MIT"),
    ("libreadline8t64", "8.2-6", "GPL-3.0"),
    ("libsqlite3-0", "3.46.1-7", "blessing"),
    ("libssl3t64", "3.5.4-1~deb13u1", "Apache-2.0"),
    ("libstdc++6", "14.2.0-19", "GPL-3.0"),
    ("libtinfo6", "6.5+20250216-2", "MIT"),
    ("libuuid1", "2.41-5", "BSD-3-Clause"),
    ("netbase", "6.5", "GPL-2.0"),
    ("openssl", "3.5.4-1~deb13u1", "Apache-2.0"),
    ("tzdata", "2025b-4+deb13u1", "public-domain"),
    ("zlib1g", "1:1.3.dfsg+really1.3.1-1+b1", "Zlib"),
];
/// Extra packages of the full (buildpack-deps) variant.
const DEBIAN_FULL: &[(&str, &str, &str)] = &[
    ("curl", "8.14.1-2", "curl"),
    ("gcc-14", "14.2.0-19", "GPL-3.0"),
    ("git", "1:2.47.3-0+deb13u1", "GPL-2.0"),
    ("libpq-dev", "17.6-0+deb13u1", "PostgreSQL"),
    ("make", "4.4.1-2", "GPL-3.0"),
];
/// Alpine packages.
const ALPINE: &[(&str, &str, &str)] = &[
    ("busybox", "1.37.0-r19", "GPL-2.0"),
    ("busybox-binsh", "1.37.0-r19", "GPL-2.0"),
    ("ca-certificates", "20250911-r0", "MPL-2.0"),
    ("libcrypto3", "3.5.4-r0", "Apache-2.0"),
    ("libffi", "3.4.8-r0", "MIT"),
    ("libssl3", "3.5.4-r0", "Apache-2.0"),
    ("musl", "1.2.5-r10", "MIT"),
    ("ncurses-libs", "6.5_p20250503-r0", "MIT"),
    ("openssl", "3.5.4-r0", "Apache-2.0"),
    ("readline", "8.2.13-r1", "GPL-3.0"),
    ("sqlite-libs", "3.49.2-r1", "blessing"),
    ("tzdata", "2025b-r0", "public-domain"),
    ("xz-libs", "5.8.1-r0", "0BSD"),
    ("zlib", "1.3.1-r2", "Zlib"),
];

/// One package of an SBOM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// Package name (`openssl`).
    pub name: String,
    /// Version (`3.5.4-1~deb13u2`).
    pub version: String,
    /// Package URL.
    pub purl: String,
    /// Declared license.
    pub license: String,
}

/// How many security upgrades package number `index` has had by `epoch`.
fn upgrades(index: usize, epoch: u32) -> u32 {
    (1..=epoch)
        .filter(|e| (index * 7 + *e as usize).is_multiple_of(4))
        .count() as u32
}

/// The version after `n` upgrades: Debian `~debNNuK`/`+debNNuK` counters bump, Alpine `-rN` bumps, others get a
/// `+debNNuN` suffix.
fn upgraded(version: &str, n: u32, alpine: bool) -> String {
    if n == 0 {
        return version.to_owned();
    }
    if alpine {
        if let Some((head, release)) = version.rsplit_once("-r")
            && let Ok(release) = release.parse::<u32>()
        {
            return format!("{head}-r{}", release + n);
        }
        return format!("{version}-r{n}");
    }
    if let Some(at) = version.rfind("deb13u")
        && let Ok(counter) = version[at + 6..].parse::<u32>()
    {
        return format!("{}deb13u{}", &version[..at], counter + n);
    }
    format!("{version}+deb13u{n}")
}

/// The packages a Debian slim image has upgraded after its first rebuild (epoch 0 → 1): name, version before,
/// version after — written down by hand from the `DEBIAN` table and the rule of [`upgrades`] (package number i is
/// upgraded at epoch e when 7·i + e is a multiple of 4: at epoch 1 numbers 1, 5, 9, 13 and 17), and checked against
/// [`packages`] by this module's tests. Tests of code that diffs SBOMs compare its answer with this table, never with
/// another diff. Nothing is added or removed at epoch 1, and Python keeps its version in a rebuild. (A full image
/// also upgrades `curl`, number 21 with the `DEBIAN_FULL` packages after the slim ones.)
pub const FIRST_REBUILD_DEBIAN_SLIM_UPGRADES: [(&str, &str, &str); 5] = [
    ("bash", "5.2.37-2", "5.2.37-2+deb13u1"),
    ("libc6", "2.41-12", "2.41-12+deb13u1"),
    ("liblzma5", "5.8.1-1", "5.8.1-1+deb13u1"),
    ("libssl3t64", "3.5.4-1~deb13u1", "3.5.4-1~deb13u2"),
    ("netbase", "6.5", "6.5+deb13u1"),
];

/// The packages of an image built at `epoch` on `base`, Python `python` first, then by name.
pub fn packages(base: &BaseImage, full: bool, python: &str, epoch: u32) -> Vec<Package> {
    let (kind, table): (&str, Vec<&(&str, &str, &str)>) = if base.alpine {
        ("apk/alpine", ALPINE.iter().collect())
    } else {
        let extra = if full { DEBIAN_FULL } else { &[] };
        ("deb/debian", DEBIAN.iter().chain(extra).collect())
    };
    let (added, dropped) = if base.alpine {
        (("zstd-libs", "1.5.7-r0", "BSD-3-Clause"), "busybox-binsh")
    } else {
        (("libzstd1", "1.5.7+dfsg-1", "BSD-3-Clause"), "netbase")
    };
    let mut list = vec![Package {
        name: "python".to_owned(),
        version: python.to_owned(),
        purl: format!(
            "pkg:generic/python@{python}?download_url=https://www.python.org/ftp/python/"
        ),
        license: "PSF-2.0".to_owned(),
    }];
    let mut rest: Vec<Package> = table
        .into_iter()
        .chain((epoch >= 2).then_some(&added))
        .enumerate()
        .filter(|(_, (name, _, _))| !(epoch >= 3 && *name == dropped))
        .map(|(index, (name, version, license))| {
            let version = upgraded(version, upgrades(index, epoch), base.alpine);
            Package {
                name: (*name).to_owned(),
                purl: format!("pkg:{kind}/{name}@{version}"),
                version,
                license: (*license).to_owned(),
            }
        })
        .collect();
    rest.sort_by(|a, b| a.name.cmp(&b.name));
    list.extend(rest);
    list
}

/// Whether an entry's directory names a full (buildpack-deps based) Debian image.
fn is_full(directory: &str) -> bool {
    let last = directory.rsplit('/').next().unwrap_or(directory);
    !last.starts_with("slim") && !last.starts_with("alpine") && !last.starts_with("windows")
}

/// The packages of an entry's image (what [`spdx_document`] lists).
pub fn entry_packages(entry: &BuiltEntry) -> Vec<Package> {
    let base = BaseImage::for_directory(&entry.entry.directory);
    packages(
        &base,
        is_full(&entry.entry.directory),
        &entry.python_version,
        entry.epoch,
    )
}

/// The SPDX 2.3 document (the in-toto predicate) of one platform image.
pub(crate) fn spdx_document(
    entry: &BuiltEntry,
    base: &BaseImage,
    platform: &Platform,
    image_hex: &str,
) -> serde_json::Value {
    let packages: Vec<_> = packages(base, is_full(&entry.entry.directory), &entry.python_version, entry.epoch)
        .into_iter()
        .map(|p| {
            json!({
                "name": p.name,
                "SPDXID": format!("SPDXRef-Package-{}", p.name.replace(['+', '.', '_'], "-")),
                "versionInfo": p.version,
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": false,
                "licenseConcluded": "NOASSERTION",
                "licenseDeclared": p.license,
                "supplier": if base.alpine { "Organization: Alpine Linux" } else { "Organization: Debian" },
                "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": p.purl}],
            })
        })
        .collect();
    let relationships: Vec<_> = packages
        .iter()
        .map(|package| {
            json!({
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relationshipType": "DESCRIBES",
                "relatedSpdxElement": package["SPDXID"],
            })
        })
        .collect();
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("sbom-python-{}-{}", entry.most_specific_tag, platform.to_string().replace('/', "-")),
        "documentNamespace": format!("https://docker.com/docker-scout/pkg:docker/python@{}-{image_hex}", entry.most_specific_tag),
        "creationInfo": {
            "created": entry.created,
            "creators": ["Tool: pyimage-testkit", "Organization: docker-library (simulated)"],
            "licenseListVersion": "3.25",
        },
        "packages": packages,
        "relationships": relationships,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(epoch: u32) -> std::collections::BTreeMap<String, String> {
        let base = BaseImage::for_directory("3.12/slim-trixie");
        packages(&base, false, "3.12.14", epoch)
            .into_iter()
            .map(|p| (p.name, p.version))
            .collect()
    }

    #[test]
    fn rebuilds_upgrade_some_packages_and_add_and_drop_others() {
        let (e0, e1, e2, e3) = (versions(0), versions(1), versions(2), versions(3));
        assert_eq!(e0["openssl"], "3.5.4-1~deb13u1");
        let changed: Vec<_> = e0.keys().filter(|k| e1.get(*k) != e0.get(*k)).collect();
        assert!(
            !changed.is_empty() && changed.len() < e0.len() / 2,
            "{changed:?}"
        );
        assert!(!e1.contains_key("libzstd1") && e2.contains_key("libzstd1"));
        assert!(e2.contains_key("netbase") && !e3.contains_key("netbase"));
        assert_eq!(upgraded("3.5.4-1~deb13u1", 2, false), "3.5.4-1~deb13u3");
        assert_eq!(upgraded("1.2.5-r10", 1, true), "1.2.5-r11");
        assert_eq!(upgraded("2.41-12", 1, false), "2.41-12+deb13u1");
    }

    #[test]
    fn the_first_rebuild_upgrades_exactly_the_written_down_packages() {
        let base = BaseImage::for_directory("3.12/slim-trixie");
        let list = |epoch| -> std::collections::BTreeMap<String, String> {
            packages(&base, false, "3.12.13", epoch)
                .into_iter()
                .map(|p| (p.name, p.version))
                .collect()
        };
        let (before, after) = (list(0), list(1));
        assert_eq!(
            before.keys().collect::<Vec<_>>(),
            after.keys().collect::<Vec<_>>()
        );
        for (name, version) in &before {
            match FIRST_REBUILD_DEBIAN_SLIM_UPGRADES
                .iter()
                .find(|(n, _, _)| n == name)
            {
                Some((_, from, to)) => {
                    assert_eq!(version, from, "{name}");
                    assert_eq!(&after[name], to, "{name}");
                }
                None => assert_eq!(&after[name], version, "{name} is not upgraded"),
            }
        }
    }
}
