//! Output of `pyimage resolve`: what each reference resolved to (or why it did not), for people; `--format json`
//! serialises [`ResolveReport`] as it is. Text from registries is escaped by the caller's terminal writer.

use std::fmt::Write as _;

use pyimage_registry::Resolution;
use serde::Serialize;

/// One reference's outcome, in the shape `--format json` prints.
#[derive(Debug, Serialize)]
pub struct ResolveReport {
    /// The reference as given.
    pub input: String,
    /// Whether it resolved.
    pub ok: bool,
    /// Why it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What it resolved to.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
}

/// The human report: one block per reference — its digest, media type, registry (and whether a mirror served it),
/// the selected platform or every platform, and the attestations with the platform each describes.
pub fn human(reports: &[ResolveReport]) -> String {
    let mut out = String::new();
    for (index, report) in reports.iter().enumerate() {
        if index > 0 {
            let _ = writeln!(out);
        }
        let _ = writeln!(out, "{}", report.input);
        if let Some(error) = &report.error {
            // Once, in the report: the exit code says that something failed.
            let _ = writeln!(out, "  error         {error}");
            continue;
        }
        let Some(r) = &report.resolution else {
            continue;
        };
        let _ = writeln!(out, "  digest        {}", r.digest);
        let _ = writeln!(out, "  media type    {}", r.media_type);
        let via = if r.mirror { " (mirror)" } else { "" };
        let _ = writeln!(out, "  registry      {}{via}", r.registry);
        if let Some(selected) = &r.platform {
            let _ = writeln!(
                out,
                "  platform      {} {}{}",
                selected.platform,
                selected.digest,
                os_version(&selected.platform)
            );
        }
        if let Some(platforms) = &r.platforms {
            for (i, p) in platforms.iter().enumerate() {
                let label = if i == 0 {
                    "  platforms   "
                } else {
                    "              "
                };
                let _ = writeln!(
                    out,
                    "{label}  {:<16} {}{}",
                    p.platform.to_string(),
                    p.digest,
                    os_version(&p.platform)
                );
            }
        }
        if let Some(attestations) = &r.attestations {
            for (i, a) in attestations.iter().enumerate() {
                let label = if i == 0 {
                    "  attestations"
                } else {
                    "              "
                };
                // Name the platform the attestation is about when the platforms were listed too.
                let platform_of = |digest: &pyimage_model::Digest| {
                    r.platforms
                        .iter()
                        .flatten()
                        .chain(r.platform.iter())
                        .find(|p| p.digest == *digest)
                        .map(|p| p.platform.to_string())
                };
                let describes = a
                    .describes
                    .as_ref()
                    .map(|d| match platform_of(d) {
                        Some(platform) => format!(" for {platform} ({})", d.short(12)),
                        None => format!(" for {d}"),
                    })
                    .unwrap_or_default();
                let _ = writeln!(out, "{label}  {}{describes}", a.digest);
            }
        }
    }
    out
}

/// ` (os.version 10.0.20348.2461)` for a Windows image, nothing for others.
fn os_version(platform: &pyimage_model::platform::Platform) -> String {
    platform
        .os_version
        .as_ref()
        .map(|version| format!(" (os.version {version})"))
        .unwrap_or_default()
}
