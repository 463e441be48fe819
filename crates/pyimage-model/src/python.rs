//! What a tag of the official Python image (`docker.io/library/python`) promises.
//!
//! Tags are built by docker-library's `generate-stackbrew-library.sh` from a few parts joined by `-`, always in this
//! order, each optional:
//!
//! ```text
//! [version] [-rc] [-variant] [-os]          e.g. 3.12.14-slim-trixie, 3.15-rc-alpine3.23, 3-windowsservercore-ltsc2022
//! ```
//!
//! * version: `3`, `3.12`, `3.12.14`, or a pre-release `3.15.0a7` / `3.15.0b1` / `3.15.0rc1`;
//! * `rc`: after a `major.minor` version, names that line's pre-release series (`3.15-rc`); with no version before
//!   it, names whichever line is in pre-release (`rc`, `rc-slim-buster`, `rc-windowsservercore-1809`). Both follow
//!   every alpha, beta and candidate. The bare `rc` family is in the 2018 version of `library/python` but in no
//!   version since 2022-01;
//! * variant: `slim`, `alpine` (or `alpine3.23`, which also fixes the OS), `windowsservercore`, `nanoserver`, and
//!   the retired `onbuild`; none means the full Debian image;
//! * os: a Debian codename (`wheezy` … `trixie`), an Alpine release (`alpine3.23`) or a Windows release
//!   (`ltsc2016`, `1709`, `1809`, `ltsc2022`, …).
//!
//! `latest` is the one tag with no parts. How far a tag can move ([`Float`]) follows from which parts are present:
//! a tag without a version follows the newest line (`rc` the newest pre-release line), `3` follows the newest 3.x,
//! `3.12` the newest 3.12.x, and even `3.12.14-slim-trixie` is rebuilt in place when Debian ships security fixes —
//! only a digest is fixed.

use std::cmp::Ordering;
use std::fmt;

use serde::Serialize;

use crate::reference::Reference;

/// Debian releases by codename, oldest first (wheezy = 7 … duke = 15). `wheezy` is the oldest a Python tag is known to
/// name (`2.7.15-wheezy`, `3.4-wheezy` in 2018).
pub const DEBIAN_CODENAMES: &[&str] = &[
    "wheezy", "jessie", "stretch", "buster", "bullseye", "bookworm", "trixie", "forky", "duke",
];

/// Windows Server releases that docker-library has published images for, as tags spell them: long-term servicing
/// releases (`ltsc2016` … `ltsc2025`), semi-annual channel releases named by year and month (`1709`, `1803`,
/// `1809`), and `sac2016`, docker-library's name for the Nano Server of Windows Server 2016 (build 10.0.14393).
pub const WINDOWS_RELEASES: &[&str] = &[
    "ltsc2016", "ltsc2019", "ltsc2022", "ltsc2025", "1709", "1803", "1809", "sac2016",
];

/// A pre-release phase of CPython.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// `a`: alpha.
    #[serde(rename = "a")]
    Alpha,
    /// `b`: beta.
    #[serde(rename = "b")]
    Beta,
    /// `rc`: release candidate.
    Rc,
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Phase::Alpha => "a",
            Phase::Beta => "b",
            Phase::Rc => "rc",
        }
    }
}

/// A pre-release marker such as `rc2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PreRelease {
    /// Alpha, beta or release candidate.
    pub phase: Phase,
    /// The number after the phase.
    pub number: u32,
}

/// A CPython version as it appears in a tag: `3`, `3.12`, `3.12.14`, `3.14.0a7`.
///
/// Ordering is CPython's release order: numeric per component (`3.12.10 > 3.12.9`), pre-releases before the final
/// release (`3.14.0a7 < 3.14.0b1 < 3.14.0rc1 < 3.14.0`). A shorter version sorts before a longer one with the same
/// prefix (`3.12 < 3.12.0`), which only matters when sorting mixed lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct PythonVersion {
    /// Major version (`3`).
    pub major: u32,
    /// Minor version, absent in `3`.
    pub minor: Option<u32>,
    /// Patch (micro) version, absent in `3` and `3.12`.
    pub patch: Option<u32>,
    /// Pre-release marker; only full versions carry one (`3.15.0rc1`).
    pub pre: Option<PreRelease>,
}

impl PythonVersion {
    /// Parses `3`, `3.12`, `3.12.14` or `3.15.0rc1` (the forms official tags use). Returns `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('.');
        let major = parse_number(parts.next()?)?;
        let Some(minor) = parts.next() else {
            return Some(PythonVersion {
                major,
                minor: None,
                patch: None,
                pre: None,
            });
        };
        let minor = parse_number(minor)?;
        let Some(patch_and_pre) = parts.next() else {
            return Some(PythonVersion {
                major,
                minor: Some(minor),
                patch: None,
                pre: None,
            });
        };
        if parts.next().is_some() {
            return None;
        }
        let digits_end = patch_and_pre
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(patch_and_pre.len());
        let patch = parse_number(&patch_and_pre[..digits_end])?;
        let pre = match &patch_and_pre[digits_end..] {
            "" => None,
            marker => Some(parse_pre_release(marker)?),
        };
        Some(PythonVersion {
            major,
            minor: Some(minor),
            patch: Some(patch),
            pre,
        })
    }

    /// `major.minor`, when the version has a minor part.
    pub fn major_minor(&self) -> Option<(u32, u32)> {
        self.minor.map(|minor| (self.major, minor))
    }

    /// Whether all of major, minor and patch are given.
    pub fn is_full(&self) -> bool {
        self.patch.is_some()
    }
}

fn parse_number(text: &str) -> Option<u32> {
    // Leading zeros never occur in CPython versions; refusing them keeps parse/display a bijection.
    if text.is_empty()
        || !text.bytes().all(|b| b.is_ascii_digit())
        || (text.len() > 1 && text.starts_with('0'))
    {
        return None;
    }
    text.parse().ok()
}

fn parse_pre_release(marker: &str) -> Option<PreRelease> {
    let (phase, number) = if let Some(n) = marker.strip_prefix("rc") {
        (Phase::Rc, n)
    } else if let Some(n) = marker.strip_prefix('a') {
        (Phase::Alpha, n)
    } else if let Some(n) = marker.strip_prefix('b') {
        (Phase::Beta, n)
    } else {
        return None;
    };
    Some(PreRelease {
        phase,
        number: parse_number(number)?,
    })
}

impl fmt::Display for PythonVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.major)?;
        if let Some(minor) = self.minor {
            write!(f, ".{minor}")?;
        }
        if let Some(patch) = self.patch {
            write!(f, ".{patch}")?;
        }
        if let Some(pre) = self.pre {
            write!(f, "{}{}", pre.phase.as_str(), pre.number)?;
        }
        Ok(())
    }
}

impl Ord for PythonVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        // `None < Some(_)` for minor/patch; for the pre-release, the final release (None) sorts last.
        let pre_key = |v: &PythonVersion| match v.pre {
            Some(pre) => (0, Some(pre)),
            None => (1, None),
        };
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| pre_key(self).cmp(&pre_key(other)))
    }
}

impl PartialOrd for PythonVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The image flavour a tag names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    /// The full Debian image with build tools (no variant part in the tag).
    Full,
    /// Debian without build tools.
    Slim,
    /// Alpine Linux (musl).
    Alpine,
    /// Windows Server Core.
    #[serde(rename = "windowsservercore")]
    WindowsServerCore,
    /// Windows Nano Server.
    #[serde(rename = "nanoserver")]
    NanoServer,
    /// The full Debian image plus `ONBUILD` triggers (docker-library/python's `onbuild/Dockerfile`) that copy the
    /// build context into the child image and pip-install its `requirements.txt` (`3.6-onbuild`, `onbuild`):
    /// building `FROM` it runs those steps before the child's own. Retired: in the 2018 version of `library/python`,
    /// in none since 2022-01. Its tags never name the OS (in 2018 it was built from `3.6/jessie/onbuild`).
    #[serde(rename = "onbuild")]
    OnBuild,
}

impl Variant {
    /// The tag spelling (`full` for the default variant, which has no tag part).
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Full => "full",
            Variant::Slim => "slim",
            Variant::Alpine => "alpine",
            Variant::WindowsServerCore => "windowsservercore",
            Variant::NanoServer => "nanoserver",
            Variant::OnBuild => "onbuild",
        }
    }

    /// Parses a variant name as written in configuration (`full`, `slim`, …).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "full" => Variant::Full,
            "slim" => Variant::Slim,
            "alpine" => Variant::Alpine,
            "windowsservercore" => Variant::WindowsServerCore,
            "nanoserver" => Variant::NanoServer,
            "onbuild" => Variant::OnBuild,
            _ => return None,
        })
    }

    fn is_windows(self) -> bool {
        matches!(self, Variant::WindowsServerCore | Variant::NanoServer)
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The operating-system family of an [`Os`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OsFamily {
    /// Debian (by codename).
    Debian,
    /// Alpine Linux (by release, `alpine3.23`).
    Alpine,
    /// Windows Server (by release, `ltsc2022`).
    Windows,
}

/// The base operating-system release a tag names: `bookworm`, `alpine3.23`, `ltsc2022`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Os {
    /// As written in the tag.
    pub name: String,
    /// Which family it belongs to.
    pub family: OsFamily,
}

impl fmt::Display for Os {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

fn alpine_release(part: &str) -> Option<Os> {
    let release = part.strip_prefix("alpine")?;
    let (major, minor) = release.split_once('.')?;
    (parse_number(major).is_some() && parse_number(minor).is_some()).then(|| Os {
        name: part.to_owned(),
        family: OsFamily::Alpine,
    })
}

/// How far a reference can move without its text changing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Float {
    /// No digest and no version: follows the newest Python line (`latest`, `slim`, `alpine3.23`), or for the bare
    /// `rc` family the newest pre-release line, whichever minor version that is.
    Latest,
    /// Follows the newest release of a major version (`3`, `3-slim`).
    Major,
    /// Follows the newest patch release of a line (`3.12-slim`, `3.15-rc`).
    Minor,
    /// Names one release but is still rebuilt in place (`3.12.14-slim`).
    Patch,
    /// Has a digest: cannot move.
    Pinned,
}

impl Float {
    /// The configuration spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Float::Latest => "latest",
            Float::Major => "major",
            Float::Minor => "minor",
            Float::Patch => "patch",
            Float::Pinned => "pinned",
        }
    }

    /// Parses the configuration spelling.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "latest" => Float::Latest,
            "major" => Float::Major,
            "minor" => Float::Minor,
            "patch" => Float::Patch,
            "pinned" => Float::Pinned,
            _ => return None,
        })
    }
}

impl fmt::Display for Float {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The meaning of one tag of the official Python image.
///
/// Parsing never fails: parts it does not recognise are kept in [`PythonTag::unknown`] so that callers can report
/// them (a tag with unknown parts is not one docker-library publishes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PythonTag {
    /// The tag as written.
    pub tag: String,
    /// The Python version, absent for version-less tags (`latest`, `slim`, `bookworm`, `rc`).
    pub version: Option<PythonVersion>,
    /// The tag names a pre-release series that moves with every alpha, beta and candidate: one line's (`3.15-rc`)
    /// or, with no version, whichever line is in pre-release (`rc`, `rc-slim-buster`).
    pub rc_line: bool,
    /// The image flavour (`slim`, `alpine`, …; [`Variant::Full`] when the tag names none).
    pub variant: Variant,
    /// The base OS release, when the tag names one.
    pub os: Option<Os>,
    /// Parts that are not a version, variant or OS, in order.
    pub unknown: Vec<String>,
}

impl PythonTag {
    /// Reads a tag of `docker.io/library/python`.
    pub fn parse(tag: &str) -> Self {
        let mut parsed = PythonTag {
            tag: tag.to_owned(),
            version: None,
            rc_line: false,
            variant: Variant::Full,
            os: None,
            unknown: Vec::new(),
        };
        if tag == "latest" {
            return parsed;
        }
        let mut parts = tag.split('-').peekable();
        if let Some(version) = parts.peek().and_then(|part| PythonVersion::parse(part)) {
            parsed.version = Some(version);
            parts.next();
        }
        // `rc` follows a `major.minor` version (`3.15-rc`: that line's pre-releases) or opens the tag (`rc-slim`: the
        // pre-releases of whichever line is next). docker-library never put it after `3` or a full version, where
        // it would name nothing, so there it stays unknown.
        let rc_fits = match parsed.version {
            None => true,
            Some(version) => version.minor.is_some() && version.patch.is_none(),
        };
        if rc_fits && parts.peek() == Some(&"rc") {
            parsed.rc_line = true;
            parts.next();
        }
        let mut variant_seen = false;
        for part in parts {
            let accepted = parsed.os.is_none()
                && parsed.unknown.is_empty()
                && parsed.accept_part(part, &mut variant_seen);
            if !accepted {
                parsed.unknown.push(part.to_owned());
            }
        }
        parsed
    }

    /// Takes one variant or OS part, in tag order; returns false when the part does not fit here.
    fn accept_part(&mut self, part: &str, variant_seen: &mut bool) -> bool {
        if !*variant_seen {
            let variant = match part {
                "slim" => Some(Variant::Slim),
                "alpine" => Some(Variant::Alpine),
                "windowsservercore" => Some(Variant::WindowsServerCore),
                "nanoserver" => Some(Variant::NanoServer),
                "onbuild" => Some(Variant::OnBuild),
                _ => None,
            };
            if let Some(variant) = variant {
                self.variant = variant;
                *variant_seen = true;
                return true;
            }
            // `alpine3.23` is the variant and the OS at once.
            if let Some(os) = alpine_release(part) {
                self.variant = Variant::Alpine;
                self.os = Some(os);
                *variant_seen = true;
                return true;
            }
        }
        let os = if self.variant.is_windows() {
            WINDOWS_RELEASES
                .contains(&part)
                .then_some(OsFamily::Windows)
        } else if matches!(self.variant, Variant::Full | Variant::Slim) {
            DEBIAN_CODENAMES.contains(&part).then_some(OsFamily::Debian)
        } else {
            // Alpine names its release only in the variant part (`alpine3.23`), and `onbuild` tags never named an
            // OS, so anything after them is not a published tag.
            None
        };
        match os {
            Some(family) => {
                self.os = Some(Os {
                    name: part.to_owned(),
                    family,
                });
                *variant_seen = true;
                true
            }
            None => false,
        }
    }

    /// How far this tag can move.
    pub fn float(&self) -> Float {
        match self.version {
            None => Float::Latest,
            Some(PythonVersion { minor: None, .. }) => Float::Major,
            Some(PythonVersion { patch: None, .. }) => Float::Minor,
            Some(_) => Float::Patch,
        }
    }

    /// Whether the tag names an alpha, beta or release candidate (`3.15.0rc1`, `3.15-rc`, `rc`).
    pub fn is_prerelease(&self) -> bool {
        self.rc_line || self.version.is_some_and(|v| v.pre.is_some())
    }

    /// The release line: `3.12`, or `3.15-rc` for a pre-release line. None for `3`, `latest`, `rc` and the like,
    /// which do not stay on one line.
    pub fn line(&self) -> Option<String> {
        let (major, minor) = self.version?.major_minor()?;
        Some(if self.is_prerelease() {
            format!("{major}.{minor}-rc")
        } else {
            format!("{major}.{minor}")
        })
    }

    /// Whether every part was recognised.
    pub fn is_recognised(&self) -> bool {
        self.unknown.is_empty()
    }

    /// How specific the tag is, for choosing the most specific alias: a full version beats a partial one, and
    /// naming the OS beats leaving it implicit.
    pub fn specificity(&self) -> (Float, bool) {
        (self.float(), self.os.is_some())
    }
}

/// Serialisable view of a [`PythonTag`] with the derived facts (`line`, `float`, `prerelease`).
#[derive(Debug, Clone, Serialize)]
pub struct PythonTagView {
    /// The tag the facts are about (`latest` when the reference had no tag).
    pub tag: Option<String>,
    /// True when the reference had no tag and Docker would use `latest`.
    pub implicit_tag: bool,
    /// The version, with its text.
    pub version: Option<VersionView>,
    /// The release line (`3.12`, `3.15-rc`); absent for `3`, `latest` and the like.
    pub line: Option<String>,
    /// The variant; absent for a digest-only reference (the digest could name any variant).
    pub variant: Option<Variant>,
    /// The OS release, if named.
    pub os: Option<Os>,
    /// How far the reference can move.
    pub float: Float,
    /// Alpha, beta or release candidate.
    pub prerelease: bool,
    /// Unrecognised tag parts.
    pub unknown: Vec<String>,
}

/// A version with its text, for output.
#[derive(Debug, Clone, Serialize)]
pub struct VersionView {
    /// `3.12.14`.
    pub text: String,
    /// The major version (`3` in `3.12.14`).
    pub major: u32,
    /// The minor version (`12` in `3.12.14`), absent in `3`.
    pub minor: Option<u32>,
    /// The patch version (`14` in `3.12.14`), absent in `3` and `3.12`.
    pub patch: Option<u32>,
    /// The pre-release marker (`rc1` in `3.15.0rc1`), if any.
    pub pre: Option<PreRelease>,
}

impl From<PythonVersion> for VersionView {
    fn from(v: PythonVersion) -> Self {
        VersionView {
            text: v.to_string(),
            major: v.major,
            minor: v.minor,
            patch: v.patch,
            pre: v.pre,
        }
    }
}

/// The Python meaning of a reference, when it names `docker.io/library/python` (or a repository the caller
/// declares equivalent, such as a mirror): the tag's parts, and `pinned` when a digest is present.
pub fn describe(reference: &Reference) -> PythonTagView {
    let implicit_tag = reference.tag().is_none() && reference.digest().is_none();
    let tag = match reference.tag() {
        Some(tag) => Some(PythonTag::parse(tag)),
        None if implicit_tag => Some(PythonTag::parse(crate::reference::DEFAULT_TAG)),
        None => None,
    };
    let float = if reference.digest().is_some() {
        Float::Pinned
    } else {
        tag.as_ref().map_or(Float::Latest, PythonTag::float)
    };
    PythonTagView {
        tag: tag.as_ref().map(|t| t.tag.clone()),
        implicit_tag,
        version: tag.as_ref().and_then(|t| t.version).map(VersionView::from),
        line: tag.as_ref().and_then(PythonTag::line),
        variant: tag.as_ref().map(|t| t.variant),
        os: tag.as_ref().and_then(|t| t.os.clone()),
        float,
        prerelease: tag.as_ref().is_some_and(PythonTag::is_prerelease),
        unknown: tag.map(|t| t.unknown).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> PythonVersion {
        PythonVersion::parse(text).unwrap_or_else(|| panic!("{text} should parse"))
    }

    #[test]
    fn release_order() {
        assert!(v("3.12.10") > v("3.12.9"));
        assert!(v("3.13.0rc2") < v("3.13.0"));
        assert!(v("3.14.0a7") < v("3.14.0b1"));
        assert!(v("3.14.0b1") < v("3.14.0rc1"));
        assert!(v("3.9.18") < v("3.10.0a1"));
    }

    #[test]
    fn parts_of_tags() {
        let t = PythonTag::parse("3.12.14-slim-trixie");
        assert_eq!(t.version, Some(v("3.12.14")));
        assert_eq!(t.variant, Variant::Slim);
        assert_eq!(t.os.as_ref().map(|o| o.name.as_str()), Some("trixie"));
        assert_eq!(t.float(), Float::Patch);
        assert_eq!(t.line().as_deref(), Some("3.12"));

        let t = PythonTag::parse("3.15-rc-alpine3.23");
        assert!(t.rc_line && t.is_prerelease());
        assert_eq!(t.line().as_deref(), Some("3.15-rc"));
        assert_eq!(t.variant, Variant::Alpine);
        assert_eq!(t.float(), Float::Minor);

        let t = PythonTag::parse("windowsservercore-ltsc2022");
        assert_eq!(t.float(), Float::Latest);
        assert_eq!(t.os.map(|o| o.family), Some(OsFamily::Windows));

        assert_eq!(PythonTag::parse("3-slim").float(), Float::Major);
        assert_eq!(PythonTag::parse("latest").float(), Float::Latest);
    }

    /// What a tag means, in one value so that a failing comparison shows every part.
    #[derive(Debug, PartialEq)]
    struct Meaning {
        version: Option<String>,
        variant: Variant,
        os: Option<(String, OsFamily)>,
        float: Float,
        prerelease: bool,
        line: Option<String>,
    }

    /// The meaning of `tag`, which must have no unknown parts.
    fn meaning(tag: &str) -> Meaning {
        let t = PythonTag::parse(tag);
        assert!(t.unknown.is_empty(), "{tag}: unknown parts {:?}", t.unknown);
        Meaning {
            version: t.version.map(|v| v.to_string()),
            variant: t.variant,
            os: t.os.as_ref().map(|o| (o.name.clone(), o.family)),
            float: t.float(),
            prerelease: t.is_prerelease(),
            line: t.line(),
        }
    }

    /// The expected meaning, written with string literals.
    fn expect(
        version: Option<&str>,
        variant: Variant,
        os: Option<(&str, OsFamily)>,
        float: Float,
        prerelease: bool,
        line: Option<&str>,
    ) -> Meaning {
        Meaning {
            version: version.map(str::to_owned),
            variant,
            os: os.map(|(name, family)| (name.to_owned(), family)),
            float,
            prerelease,
            line: line.map(str::to_owned),
        }
    }

    #[test]
    fn bare_rc_family_floats_across_prerelease_lines() {
        // Published next to `3.x-rc` (2018: `rc-stretch`, `rc-windowsservercore-1709`; 2020–2021: `rc-buster`,
        // `rc-alpine3.12`, `rc-windowsservercore-1809`), absent from every version of the file since 2022-01.
        let rc = |variant, os| expect(None, variant, os, Float::Latest, true, None);
        use OsFamily::{Alpine, Debian, Windows};
        let cases = [
            ("rc", rc(Variant::Full, None)),
            ("rc-slim", rc(Variant::Slim, None)),
            ("rc-stretch", rc(Variant::Full, Some(("stretch", Debian)))),
            ("rc-buster", rc(Variant::Full, Some(("buster", Debian)))),
            (
                "rc-slim-buster",
                rc(Variant::Slim, Some(("buster", Debian))),
            ),
            ("rc-alpine", rc(Variant::Alpine, None)),
            (
                "rc-alpine3.12",
                rc(Variant::Alpine, Some(("alpine3.12", Alpine))),
            ),
            (
                "rc-alpine3.14",
                rc(Variant::Alpine, Some(("alpine3.14", Alpine))),
            ),
            ("rc-windowsservercore", rc(Variant::WindowsServerCore, None)),
            (
                "rc-windowsservercore-1809",
                rc(Variant::WindowsServerCore, Some(("1809", Windows))),
            ),
            (
                "rc-windowsservercore-ltsc2016",
                rc(Variant::WindowsServerCore, Some(("ltsc2016", Windows))),
            ),
        ];
        for (tag, expected) in cases {
            assert_eq!(meaning(tag), expected, "{tag}");
            assert!(PythonTag::parse(tag).rc_line, "{tag}");
        }
        // The same family with its line stays on that line; the exact version is fixed to one candidate.
        let core = Variant::WindowsServerCore;
        assert_eq!(
            meaning("3.10-rc-windowsservercore-1809"),
            expect(
                Some("3.10"),
                core,
                Some(("1809", Windows)),
                Float::Minor,
                true,
                Some("3.10-rc")
            )
        );
        assert_eq!(
            meaning("3.10.0b4-windowsservercore-ltsc2016"),
            expect(
                Some("3.10.0b4"),
                core,
                Some(("ltsc2016", Windows)),
                Float::Patch,
                true,
                Some("3.10-rc")
            )
        );
        // `rc` never followed a major-only or full version, and never came twice.
        assert_eq!(PythonTag::parse("3-rc").unknown, vec!["rc"]);
        assert_eq!(PythonTag::parse("3.7.0b5-rc").unknown, vec!["rc"]);
        assert_eq!(PythonTag::parse("rc-rc").unknown, vec!["rc"]);
        assert_eq!(PythonTag::parse("slim-rc").unknown, vec!["rc"]);
    }

    #[test]
    fn old_debian_releases_are_oses() {
        use OsFamily::Debian;
        let debian = |version, variant, os, float, line| {
            expect(version, variant, Some((os, Debian)), float, false, line)
        };
        let cases = [
            (
                "2.7.15-wheezy",
                debian(
                    Some("2.7.15"),
                    Variant::Full,
                    "wheezy",
                    Float::Patch,
                    Some("2.7"),
                ),
            ),
            (
                "3.4-wheezy",
                debian(
                    Some("3.4"),
                    Variant::Full,
                    "wheezy",
                    Float::Minor,
                    Some("3.4"),
                ),
            ),
            (
                "2-wheezy",
                debian(Some("2"), Variant::Full, "wheezy", Float::Major, None),
            ),
            (
                "jessie",
                debian(None, Variant::Full, "jessie", Float::Latest, None),
            ),
            (
                "slim-jessie",
                debian(None, Variant::Slim, "jessie", Float::Latest, None),
            ),
            (
                "3.6.5-slim-jessie",
                debian(
                    Some("3.6.5"),
                    Variant::Slim,
                    "jessie",
                    Float::Patch,
                    Some("3.6"),
                ),
            ),
            (
                "stretch",
                debian(None, Variant::Full, "stretch", Float::Latest, None),
            ),
            (
                "3-slim-stretch",
                debian(Some("3"), Variant::Slim, "stretch", Float::Major, None),
            ),
        ];
        for (tag, expected) in cases {
            assert_eq!(meaning(tag), expected, "{tag}");
        }
        assert_eq!(
            meaning("3.7-rc-slim-stretch"),
            expect(
                Some("3.7"),
                Variant::Slim,
                Some(("stretch", Debian)),
                Float::Minor,
                true,
                Some("3.7-rc")
            )
        );
        // Oldest first, so a position compares releases.
        let position = |name: &str| DEBIAN_CODENAMES.iter().position(|c| *c == name);
        assert!(position("wheezy") < position("jessie"));
        assert!(position("jessie") < position("stretch"));
        // A Debian codename does not fit after Alpine or Windows variants.
        assert_eq!(PythonTag::parse("alpine-wheezy").unknown, vec!["wheezy"]);
        assert_eq!(
            PythonTag::parse("windowsservercore-jessie").unknown,
            vec!["jessie"]
        );
    }

    #[test]
    fn onbuild_is_a_retired_variant() {
        let onbuild =
            |version, float, line| expect(version, Variant::OnBuild, None, float, false, line);
        assert_eq!(meaning("onbuild"), onbuild(None, Float::Latest, None));
        assert_eq!(meaning("3-onbuild"), onbuild(Some("3"), Float::Major, None));
        assert_eq!(
            meaning("2.7-onbuild"),
            onbuild(Some("2.7"), Float::Minor, Some("2.7"))
        );
        assert_eq!(
            meaning("3.6.5-onbuild"),
            onbuild(Some("3.6.5"), Float::Patch, Some("3.6"))
        );
        assert_eq!(Variant::from_name("onbuild"), Some(Variant::OnBuild));
        assert_eq!(Variant::OnBuild.as_str(), "onbuild");
        assert!(!Variant::OnBuild.is_windows());
        // One variant per tag, and onbuild tags never named an OS.
        assert_eq!(
            PythonTag::parse("3.6-onbuild-jessie").unknown,
            vec!["jessie"]
        );
        assert_eq!(
            PythonTag::parse("3.6-slim-onbuild").unknown,
            vec!["onbuild"]
        );
        assert_eq!(PythonTag::parse("3.6-onbuild-slim").unknown, vec!["slim"]);
    }

    #[test]
    fn old_windows_releases_are_oses() {
        use OsFamily::Windows;
        let windows = |version, variant, os, float, line| {
            expect(version, variant, Some((os, Windows)), float, false, line)
        };
        let core = Variant::WindowsServerCore;
        let cases = [
            (
                "windowsservercore-1709",
                windows(None, core, "1709", Float::Latest, None),
            ),
            (
                "windowsservercore-1803",
                windows(None, core, "1803", Float::Latest, None),
            ),
            (
                "3.6.5-windowsservercore-ltsc2016",
                windows(Some("3.6.5"), core, "ltsc2016", Float::Patch, Some("3.6")),
            ),
            (
                "2.7-windowsservercore-1709",
                windows(Some("2.7"), core, "1709", Float::Minor, Some("2.7")),
            ),
            (
                "3.9.6-windowsservercore-1809",
                windows(Some("3.9.6"), core, "1809", Float::Patch, Some("3.9")),
            ),
            (
                "nanoserver-sac2016",
                windows(None, Variant::NanoServer, "sac2016", Float::Latest, None),
            ),
        ];
        for (tag, expected) in cases {
            assert_eq!(meaning(tag), expected, "{tag}");
        }
        // A Windows release does not fit after a Linux variant, nor with no variant at all.
        assert_eq!(PythonTag::parse("3.6-slim-1709").unknown, vec!["1709"]);
        assert_eq!(PythonTag::parse("3.6-sac2016").unknown, vec!["sac2016"]);
    }

    #[test]
    fn unknown_parts_are_kept() {
        assert_eq!(PythonTag::parse("3.12-slimm").unknown, vec!["slimm"]);
        assert_eq!(PythonTag::parse("trixie-slim").unknown, vec!["slim"]);
        assert_eq!(PythonTag::parse("3.12-ltsc2022").unknown, vec!["ltsc2022"]);
        assert_eq!(PythonTag::parse("3.12.01").unknown, vec!["3.12.01"]);
    }
}
