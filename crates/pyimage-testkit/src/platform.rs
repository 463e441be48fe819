//! Platforms: bashbrew's architecture names (`arm64v8`, `windows-amd64`) and the OCI platform objects Docker Hub
//! puts in an image index (`linux/arm64/v8`, `windows/amd64` with `os.version`). The type is the core's
//! `Platform`; what is here is how the replica makes and writes them.

use anyhow::{Result, bail};
use serde::Serialize;

pub use pyimage_model::Platform;

/// A Linux platform with an optional variant.
pub fn linux(architecture: &str, variant: Option<&str>) -> Platform {
    Platform {
        architecture: architecture.to_owned(),
        os: "linux".to_owned(),
        os_version: None,
        variant: variant.map(str::to_owned),
    }
}

/// The `unknown/unknown` platform Docker Hub gives attestation manifests.
pub fn unknown() -> Platform {
    Platform {
        architecture: "unknown".to_owned(),
        os: "unknown".to_owned(),
        os_version: None,
        variant: None,
    }
}

/// The platform of a bashbrew architecture name from a library file's `Architectures` field. Windows images also
/// need the Windows release the entry's `Directory` names (`…/windowsservercore-ltsc2022`), which sets `os.version`.
pub fn from_bashbrew(arch: &str, directory: &str) -> Result<Platform> {
    Ok(match arch {
        "amd64" => linux("amd64", None),
        "arm32v5" => linux("arm", Some("v5")),
        "arm32v6" => linux("arm", Some("v6")),
        "arm32v7" => linux("arm", Some("v7")),
        "arm64v8" => linux("arm64", Some("v8")),
        "i386" => linux("386", None),
        "ppc64le" | "s390x" | "riscv64" | "mips64le" => linux(arch, None),
        "windows-amd64" => Platform {
            architecture: "amd64".to_owned(),
            os: "windows".to_owned(),
            os_version: Some(windows_os_version(directory).to_owned()),
            variant: None,
        },
        other => bail!("unknown bashbrew architecture {other:?}"),
    })
}

/// Whether this is the `unknown/unknown` platform of an attestation manifest.
pub fn is_unknown(platform: &Platform) -> bool {
    platform.os == "unknown" && platform.architecture == "unknown"
}

/// Writes a platform as Docker Hub's indexes do: `architecture` first, then `os`, `os.version`, `variant` (the
/// core's type serialises `os` first; the replica's bytes follow Docker Hub's).
pub fn serialize_hub_order<S: serde::Serializer>(
    platform: &Option<Platform>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct HubOrder<'a> {
        architecture: &'a str,
        os: &'a str,
        #[serde(rename = "os.version", skip_serializing_if = "Option::is_none")]
        os_version: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        variant: Option<&'a str>,
    }
    platform
        .as_ref()
        .map(|p| HubOrder {
            architecture: &p.architecture,
            os: &p.os,
            os_version: p.os_version.as_deref(),
            variant: p.variant.as_deref(),
        })
        .serialize(serializer)
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
            from_bashbrew("arm64v8", "3.12/slim")?.to_string(),
            "linux/arm64/v8"
        );
        assert_eq!(from_bashbrew("i386", "3.12/slim")?.to_string(), "linux/386");
        assert_eq!(
            from_bashbrew("arm32v5", "3.12/slim")?.to_string(),
            "linux/arm/v5"
        );
        let windows = from_bashbrew("windows-amd64", "3.14/windows/windowsservercore-ltsc2022")?;
        assert_eq!(windows.to_string(), "windows/amd64");
        assert_eq!(windows.os_version.as_deref(), Some("10.0.20348.3932"));
        assert!(from_bashbrew("sparc", "x").is_err());
        Ok(())
    }
}
