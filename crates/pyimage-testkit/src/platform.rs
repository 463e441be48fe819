//! Platforms: bashbrew's architecture names (`arm64v8`, `windows-amd64`) and the OCI platform objects Docker Hub
//! puts in an image index (`linux/arm64/v8`, `windows/amd64` with `os.version`).

use std::fmt;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

/// An OCI platform, as written in an image index descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Platform {
    /// CPU architecture in Go's naming (`amd64`, `arm64`, `arm`, `386`, `unknown` for attestations).
    pub architecture: String,
    /// Operating system (`linux`, `windows`, `unknown` for attestations).
    pub os: String,
    /// Windows build (`10.0.20348.4297`); Linux images have none.
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// CPU variant (`v7`, `v8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// A Linux platform with an optional variant.
    pub fn linux(architecture: &str, variant: Option<&str>) -> Self {
        Platform {
            architecture: architecture.to_owned(),
            os: "linux".to_owned(),
            os_version: None,
            variant: variant.map(str::to_owned),
        }
    }

    /// The `unknown/unknown` platform Docker Hub gives attestation manifests.
    pub fn unknown() -> Self {
        Platform {
            architecture: "unknown".to_owned(),
            os: "unknown".to_owned(),
            os_version: None,
            variant: None,
        }
    }

    /// The platform of a bashbrew architecture name from a library file's `Architectures` field. Windows images
    /// also need the Windows release the entry's `Directory` names (`…/windowsservercore-ltsc2022`), which sets
    /// `os.version`.
    pub fn from_bashbrew(arch: &str, directory: &str) -> Result<Self> {
        Ok(match arch {
            "amd64" => Platform::linux("amd64", None),
            "arm32v5" => Platform::linux("arm", Some("v5")),
            "arm32v6" => Platform::linux("arm", Some("v6")),
            "arm32v7" => Platform::linux("arm", Some("v7")),
            "arm64v8" => Platform::linux("arm64", Some("v8")),
            "i386" => Platform::linux("386", None),
            "ppc64le" | "s390x" | "riscv64" | "mips64le" => Platform::linux(arch, None),
            "windows-amd64" => Platform {
                architecture: "amd64".to_owned(),
                os: "windows".to_owned(),
                os_version: Some(windows_os_version(directory).to_owned()),
                variant: None,
            },
            other => bail!("unknown bashbrew architecture {other:?}"),
        })
    }

    /// `os/architecture[/variant]`, the spelling of `--platform` (`linux/arm64/v8`). `os.version` is left out.
    pub fn key(&self) -> String {
        self.to_string()
    }

    /// Whether this is the `unknown/unknown` platform of an attestation manifest.
    pub fn is_unknown(&self) -> bool {
        self.os == "unknown" && self.architecture == "unknown"
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

/// The Windows build number Docker Hub reports for a Windows release directory.
fn windows_os_version(directory: &str) -> &'static str {
    if directory.contains("ltsc2025") {
        "10.0.26100.4652"
    } else if directory.contains("ltsc2022") {
        "10.0.20348.3932"
    } else if directory.contains("1809") {
        "10.0.17763.7558"
    } else {
        "10.0.0.0"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bashbrew_names_map_to_oci_platforms() -> Result<()> {
        assert_eq!(
            Platform::from_bashbrew("arm64v8", "3.12/slim")?.key(),
            "linux/arm64/v8"
        );
        assert_eq!(
            Platform::from_bashbrew("i386", "3.12/slim")?.key(),
            "linux/386"
        );
        assert_eq!(
            Platform::from_bashbrew("arm32v5", "3.12/slim")?.key(),
            "linux/arm/v5"
        );
        let windows =
            Platform::from_bashbrew("windows-amd64", "3.14/windows/windowsservercore-ltsc2022")?;
        assert_eq!(windows.key(), "windows/amd64");
        assert_eq!(windows.os_version.as_deref(), Some("10.0.20348.3932"));
        assert!(Platform::from_bashbrew("sparc", "x").is_err());
        Ok(())
    }
}
