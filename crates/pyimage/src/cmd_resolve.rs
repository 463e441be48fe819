//! `pyimage resolve REF...`: where each reference points now — the index digest (one HEAD), and on request the
//! platform images and attestation manifests (one verified GET of the index).

use std::io::Write;

use anyhow::bail;
use clap::Args;
use futures_util::StreamExt;
use pyimage_model::Reference;
use pyimage_registry::{Platform, RegistryClient, RegistryError, Resolution, ResolveRequest};
use pyimage_render::resolve::ResolveReport;

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
        Format::Human => write!(
            crate::render::terminal::stdout(),
            "{}",
            pyimage_render::resolve::human(&reports)
        )?,
    }
    tracing::debug!(stats = ?client.stats(), "requests");
    Ok(run)
}
