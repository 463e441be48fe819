//! Image platforms: the `os/architecture[/variant]` of `--platform` and the `platform` object of an image index
//! descriptor, and which platform image a request selects.
//!
//! Selection follows containerd's defaults, which is what `docker pull --platform` does: `linux/arm64` is
//! `linux/arm64/v8`, `linux/arm` is `linux/arm/v7`, and the spellings `aarch64`, `x86_64` and `i386` name the same
//! architectures as Go's `arm64`, `amd64` and `386`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A platform: `os/architecture[/variant]` as in `--platform linux/arm64/v8`, and the `platform` object of an index
/// descriptor (which may also carry a Windows `os.version`).
///
/// Field order is serialisation order: `os`, `architecture`, `variant`, `os.version`, as `pyimage resolve --format
/// json` has always written them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Platform {
    /// `linux`, `windows`, or `unknown` for attestation manifests.
    pub os: String,
    /// Go's architecture name: `amd64`, `arm64`, `arm`, `386`, `ppc64le`, `s390x`, `riscv64`, …
    pub architecture: String,
    /// CPU variant: `v8`, `v7`, `v6`, `v5` (ARM); absent for most architectures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Windows build (`10.0.20348.2461`); Linux images have none. Never part of `--platform` or [`fmt::Display`].
    #[serde(
        default,
        rename = "os.version",
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
}

impl Platform {
    /// Parses `os/architecture[/variant][:os.version]`; `None` when a part is missing or empty, or there are more
    /// than three. A Windows build after `:` (`windows/amd64:10.0.20348`) selects only images of that build (or of
    /// a build it is a prefix of, component-wise: `10.0.20348` selects `10.0.20348.2461`).
    pub fn parse(text: &str) -> Option<Platform> {
        let (text, os_version) = match text.split_once(':') {
            Some((platform, version)) => {
                let valid = !version.is_empty()
                    && version
                        .split('.')
                        .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
                if !valid {
                    return None;
                }
                (platform, Some(version.to_owned()))
            }
            None => (text, None),
        };
        let mut parts = text.split('/');
        let os = parts.next().filter(|s| !s.is_empty())?;
        let architecture = parts.next().filter(|s| !s.is_empty())?;
        let variant = parts.next().map(str::to_owned);
        if parts.next().is_some() || variant.as_deref() == Some("") {
            return None;
        }
        Some(Platform {
            os: os.to_owned(),
            architecture: architecture.to_owned(),
            variant,
            os_version,
        })
    }

    /// Whether this (requested) platform selects `candidate`, with containerd's defaults: `linux/arm64` means
    /// `linux/arm64/v8`, `linux/arm` means `v7`; a request without variant matches the default variant only, so
    /// `linux/arm` never silently picks a `v6` image. `os.version` is compared only when the request names one
    /// (`windows/amd64:10.0.20348`): the candidate's build must be it or start with it, component-wise.
    pub fn selects(&self, candidate: &Platform) -> bool {
        if self.os != candidate.os
            || normalize_arch(&self.architecture) != normalize_arch(&candidate.architecture)
        {
            return false;
        }
        if let Some(wanted) = &self.os_version {
            let matches = candidate.os_version.as_deref().is_some_and(|offered| {
                offered == wanted
                    || offered
                        .strip_prefix(wanted.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
            });
            if !matches {
                return false;
            }
        }
        let wanted = self
            .variant
            .as_deref()
            .or(default_variant(&self.architecture));
        let offered = candidate
            .variant
            .as_deref()
            .or(default_variant(&candidate.architecture));
        wanted == offered
    }
}

/// Go's name for an architecture other tools spell differently (`uname -m`, Debian).
fn normalize_arch(arch: &str) -> &str {
    match arch {
        "aarch64" => "arm64",
        "x86_64" | "x86-64" => "amd64",
        "i386" => "386",
        other => other,
    }
}

/// The variant containerd assumes when none is written.
fn default_variant(arch: &str) -> Option<&'static str> {
    match normalize_arch(arch) {
        "arm64" => Some("v8"),
        "arm" => Some("v7"),
        _ => None,
    }
}

/// `os/architecture[/variant]`, the spelling [`Platform::parse`] reads; `os.version` is left out.
impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform(text: &str) -> Platform {
        Platform::parse(text).expect("valid platform")
    }

    #[test]
    fn platform_defaults_follow_containerd() {
        let arm64 = platform("linux/arm64");
        assert!(arm64.selects(&platform("linux/arm64/v8")));
        assert!(!arm64.selects(&platform("linux/arm/v7")));
        let arm = platform("linux/arm");
        assert!(arm.selects(&platform("linux/arm/v7")));
        assert!(!arm.selects(&platform("linux/arm/v6")));
        assert!(Platform::parse("linux").is_none());
        assert!(Platform::parse("linux/arm/").is_none());
    }

    #[test]
    fn other_spellings_name_the_same_architecture() {
        assert!(platform("linux/aarch64").selects(&platform("linux/arm64/v8")));
        assert!(platform("linux/x86_64").selects(&platform("linux/amd64")));
        assert!(platform("linux/i386").selects(&platform("linux/386")));
        assert!(!platform("windows/amd64").selects(&platform("linux/amd64")));
    }

    #[test]
    fn a_windows_build_selects_its_images_only() {
        let ltsc2022 = Platform {
            os_version: Some("10.0.20348.2461".to_owned()),
            ..platform("windows/amd64")
        };
        let ltsc2025 = Platform {
            os_version: Some("10.0.26100.2894".to_owned()),
            ..platform("windows/amd64")
        };
        let wanted = platform("windows/amd64:10.0.20348");
        assert_eq!(wanted.os_version.as_deref(), Some("10.0.20348"));
        assert!(wanted.selects(&ltsc2022));
        assert!(!wanted.selects(&ltsc2025));
        assert!(!platform("windows/amd64:10.0.2034").selects(&ltsc2022));
        assert!(platform("windows/amd64:10.0.20348.2461").selects(&ltsc2022));
        assert!(platform("windows/amd64").selects(&ltsc2025));
        assert!(Platform::parse("windows/amd64:").is_none());
        assert!(Platform::parse("windows/amd64:ltsc").is_none());
    }

    #[test]
    fn parse_rejects_empty_and_extra_parts() {
        assert!(Platform::parse("").is_none());
        assert!(Platform::parse("/amd64").is_none());
        assert!(Platform::parse("linux/").is_none());
        assert!(Platform::parse("linux/arm/v7/x").is_none());
    }

    #[test]
    fn display_is_what_parse_reads_without_os_version() {
        let windows: Platform = serde_json::from_str(
            r#"{"architecture":"amd64","os":"windows","os.version":"10.0.20348.2461"}"#,
        )
        .expect("valid platform object");
        assert_eq!(windows.os_version.as_deref(), Some("10.0.20348.2461"));
        assert_eq!(windows.to_string(), "windows/amd64");
        assert_eq!(platform("linux/arm/v7").to_string(), "linux/arm/v7");
        assert_eq!(
            Platform::parse(&platform("linux/arm64/v8").to_string()),
            Some(platform("linux/arm64/v8"))
        );
    }
}
