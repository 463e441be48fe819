//! `pyimage resolve REF...`: where each reference points now — the index digest (one HEAD), and on request the
//! platform images and attestation manifests (one verified GET of the index).

use std::io::Write;

use anyhow::bail;
use clap::Args;
use futures_util::StreamExt;
use pyimage_model::Reference;
use pyimage_registry::{Platform, RegistryClient, RegistryError, Resolution, ResolveRequest};
use serde::Serialize;

use pyimage_service::resolver::CONCURRENCY;
use pyimage_service::{ErrorKind, Outcome};

use crate::output::{Format, print_json};

#[derive(Args)]
pub struct ResolveArgs {
    /// Image references (`python:3.12-slim`, `python@sha256:…`).
    #[arg(required = true, value_name = "REF")]
    references: Vec<String>,
    /// Select one platform (`linux/arm64`, `linux/arm/v7`, `windows/amd64`, a Windows build with
    /// `windows/amd64:10.0.20348`), or `all` to list every platform (Windows images show their os.version).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]|all")]
    platform: Option<String>,
    /// Also list the attestation manifests (SLSA provenance, SBOM) of the index.
    #[arg(long)]
    attestations: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

#[derive(Serialize)]
struct ResolveReport {
    input: String,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    resolution: Option<Resolution>,
}

/// Why a reference failed: bad input (exit 2) or the registry (exit 3).
enum Failure {
    Input(String),
    Registry(RegistryError),
}

pub fn request_from(platform: Option<&str>, attestations: bool) -> anyhow::Result<ResolveRequest> {
    let mut request = ResolveRequest {
        attestations,
        ..ResolveRequest::default()
    };
    match platform {
        None => {}
        Some("all") => request.platforms = true,
        Some(text) => match Platform::parse(text) {
            Some(platform) => request.platform = Some(platform),
            None => {
                bail!(
                    "--platform {text:?}: expected OS/ARCH[/VARIANT][:OS.VERSION] such as linux/arm64 or windows/amd64:10.0.20348, or all"
                )
            }
        },
    }
    Ok(request)
}

pub async fn run(args: &ResolveArgs, client: RegistryClient) -> anyhow::Result<Outcome> {
    let request = request_from(args.platform.as_deref(), args.attestations)?;
    let outcomes: Vec<(String, Result<Resolution, Failure>)> =
        futures_util::stream::iter(args.references.clone())
            .map(|input| {
                let (client, request) = (client.clone(), request.clone());
                async move {
                    let outcome = match Reference::parse_normalized(&input) {
                        Err(error) => Err(Failure::Input(error.to_string())),
                        Ok(reference) => client
                            .resolve(&reference, &request)
                            .await
                            .map_err(Failure::Registry),
                    };
                    (input, outcome)
                }
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;

    let mut run = Outcome::OK;
    let reports: Vec<ResolveReport> = outcomes
        .into_iter()
        .map(|(input, outcome)| match outcome {
            Ok(resolution) => ResolveReport {
                input,
                ok: true,
                error: None,
                resolution: Some(resolution),
            },
            Err(failure) => {
                let error = match failure {
                    Failure::Input(message) => {
                        run.met(ErrorKind::Input);
                        message
                    }
                    Failure::Registry(error) => {
                        run.met(ErrorKind::of_registry(&error));
                        error.to_string()
                    }
                };
                ResolveReport {
                    input,
                    ok: false,
                    error: Some(error),
                    resolution: None,
                }
            }
        })
        .collect();
    match args.format {
        Format::Json => print_json(&reports)?,
        Format::Human => print_human(&reports)?,
    }
    tracing::debug!(stats = ?client.stats(), "requests");
    Ok(run)
}

fn print_human(reports: &[ResolveReport]) -> anyhow::Result<()> {
    let mut out = crate::render::terminal::stdout();
    for (index, report) in reports.iter().enumerate() {
        if index > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{}", report.input)?;
        if let Some(error) = &report.error {
            // Once, in the report: the exit code says that something failed.
            writeln!(out, "  error         {error}")?;
            continue;
        }
        let Some(r) = &report.resolution else {
            continue;
        };
        writeln!(out, "  digest        {}", r.digest)?;
        writeln!(out, "  media type    {}", r.media_type)?;
        let via = if r.mirror { " (mirror)" } else { "" };
        writeln!(out, "  registry      {}{via}", r.registry)?;
        if let Some(selected) = &r.platform {
            writeln!(
                out,
                "  platform      {} {}{}",
                selected.platform,
                selected.digest,
                os_version(&selected.platform)
            )?;
        }
        if let Some(platforms) = &r.platforms {
            for (i, p) in platforms.iter().enumerate() {
                let label = if i == 0 {
                    "  platforms   "
                } else {
                    "              "
                };
                writeln!(
                    out,
                    "{label}  {:<16} {}{}",
                    p.platform.to_string(),
                    p.digest,
                    os_version(&p.platform)
                )?;
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
                writeln!(out, "{label}  {}{describes}", a.digest)?;
            }
        }
    }
    Ok(())
}

/// ` (os.version 10.0.20348.2461)` for a Windows image, nothing for others.
fn os_version(platform: &pyimage_model::platform::Platform) -> String {
    platform
        .os_version
        .as_ref()
        .map(|version| format!(" (os.version {version})"))
        .unwrap_or_default()
}
