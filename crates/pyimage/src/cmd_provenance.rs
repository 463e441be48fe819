//! `pyimage provenance REF...`: what the BuildKit attestations of an image index say (SLSA provenance: builder,
//! source, commit, Dockerfile directory, base image; SPDX SBOM: packages, Python), checked against the index and
//! the official-images `library/python` record. Reading is `pyimage_service::provenance`; this module loads the
//! record the user named and renders.

use pyimage_service::Outcome;
use std::io::Write;

use clap::Args;
use pyimage_model::{Digest, Platform, Reference};
use pyimage_policy::provenance::{NO_SIGNATURE_NOTE, PlatformProvenance};
use pyimage_registry::RegistryClient;
use pyimage_service::ErrorKind;
use pyimage_service::provenance::read_provenance;
use serde::Serialize;

use crate::output::{Format, print_json};
use pyimage_render::provenance::write_platform;

#[derive(Args)]
pub struct ProvenanceArgs {
    /// Image references (`python:3.12-slim`, `python@sha256:…`).
    #[arg(required = true, value_name = "REF")]
    references: Vec<String>,
    /// Which platform images to report: `linux/amd64`, … or `all` (default).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]|all", default_value = "all")]
    platform: String,
    /// The official-images `library/python` file to compare commits and directories with (a file, or an
    /// http(s) URL; default: the public file on GitHub). `none` skips the comparison.
    #[arg(long, value_name = "FILE|URL|none")]
    official_images: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

#[derive(Serialize)]
struct Report {
    input: String,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<Digest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registry: Option<String>,
    platforms: Vec<PlatformProvenance>,
}

#[derive(Serialize)]
struct Output<'a> {
    signature: &'a str,
    official_images: String,
    references: Vec<Report>,
}

pub async fn run(args: &ProvenanceArgs, client: RegistryClient) -> anyhow::Result<Outcome> {
    if args.platform != "all" && Platform::parse(&args.platform).is_none() {
        anyhow::bail!(
            "--platform {:?}: expected OS/ARCH[/VARIANT] such as linux/arm64, or all",
            args.platform
        );
    }
    let platform = (args.platform != "all").then_some(args.platform.as_str());
    let record =
        pyimage_service::provenance::Record::load(&client, args.official_images.as_deref()).await?;
    let mut reports = Vec::new();
    let (mut worst, mut failed) = (None, false);
    for input in &args.references {
        let mut report = Report {
            input: input.clone(),
            ok: false,
            error: None,
            digest: None,
            registry: None,
            platforms: Vec::new(),
        };
        let outcome = match Reference::parse_normalized(input) {
            Err(error) => Err(pyimage_service::ServiceError::input(error.to_string())),
            Ok(reference) => read_provenance(&client, &reference, platform, record.library()).await,
        };
        match outcome {
            Ok(read) => {
                report.ok = !read.platforms.iter().any(PlatformProvenance::failed);
                failed |= !report.ok;
                report.digest = Some(read.digest);
                report.registry = Some(read.registry);
                report.platforms = read.platforms;
            }
            Err(error) => {
                worst = ErrorKind::worst(worst, error.kind);
                report.error = Some(error.message);
            }
        }
        reports.push(report);
    }
    let output = Output {
        signature: NO_SIGNATURE_NOTE,
        official_images: record.describe(),
        references: reports,
    };
    match args.format {
        Format::Json => print_json(&output)?,
        Format::Human => print_human(&output)?,
    }
    Ok(Outcome::from_failure(worst).and_if(failed, ErrorKind::Policy))
}

fn print_human(output: &Output<'_>) -> anyhow::Result<()> {
    let mut out = crate::render::terminal::stdout();
    for (i, report) in output.references.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{}", report.input)?;
        if let Some(error) = &report.error {
            writeln!(out, "  error         {error}")?;
            crate::render::terminal::eprintln(format_args!("pyimage: {}: {error}", report.input));
            continue;
        }
        if let Some(digest) = &report.digest {
            writeln!(out, "  digest        {digest}")?;
        }
        if let Some(registry) = &report.registry {
            writeln!(out, "  registry      {registry}")?;
        }
        writeln!(
            out,
            "  result        {}",
            if report.ok { "ok" } else { "MISMATCH" }
        )?;
        for p in &report.platforms {
            write_platform(&mut out, "  ", p)?;
        }
    }
    writeln!(out)?;
    writeln!(out, "official-images: {}", output.official_images)?;
    writeln!(out, "note: {}", output.signature)?;
    Ok(())
}
