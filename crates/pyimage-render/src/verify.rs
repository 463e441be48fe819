//! Output of `pyimage verify`: [`VerifyOutput`] is what `--format json` prints; [`human`] the report for people.

use std::io::Write;

use pyimage_service::verifier::ImageVerification;
use serde::Serialize;

use crate::provenance::write_platform;

/// What `pyimage verify` reports, in the shape `--format json` prints.
#[derive(Serialize)]
pub struct VerifyOutput<'a> {
    /// The level every image must reach (`--require`).
    pub require: &'a str,
    /// Where the images came from (the engine, or an inspect file).
    pub source: String,
    /// Who answered for Docker Hub (`https://registry-1.docker.io` unless configured otherwise).
    pub docker_hub_endpoint: String,
    /// Loud warnings (a `docker.io` endpoint that is not Docker Hub's own).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// What signatures can and cannot say here.
    pub signature: &'a str,
    /// The official-images record used.
    pub official_images: String,
    /// One verification per image.
    pub images: Vec<ImageVerification>,
}

/// An image block's first line: the image as asked for, and the start of its image ID when known.
pub(crate) fn heading(out: &mut impl Write, input: &str, id: Option<&str>) -> std::io::Result<()> {
    match id {
        Some(id) => writeln!(out, "{input} ({})", id.chars().take(19).collect::<String>()),
        None => writeln!(out, "{input}"),
    }
}

/// The human report: one block per image (verdict, digest, source, moves, reasons, provenance, result), then where
/// the images came from and who answered for Docker Hub. The caller escapes (a terminal writer).
pub fn human(out: &mut impl Write, output: &VerifyOutput<'_>) -> std::io::Result<()> {
    for (i, report) in output.images.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        heading(out, &report.input, report.id.as_deref())?;
        if let Some(error) = &report.error {
            writeln!(out, "  error         {error}")?;
            continue;
        }
        if let Some(a) = &report.assessment {
            writeln!(out, "  verdict       {}", a.verdict)?;
            if let Some(d) = &a.digest {
                writeln!(out, "  digest        {d}")?;
            }
            if let Some(source) = &a.source {
                let faithful = match a.faithful_copy {
                    Some(true) => " (faithful copy: same digest on docker.io/library/python)",
                    Some(false) => " (not served by docker.io/library/python)",
                    None => "",
                };
                writeln!(out, "  source        {source}{faithful}")?;
            }
            for moved in &a.moved {
                writeln!(
                    out,
                    "  moved         python:{} is now {}",
                    moved.tag, moved.now
                )?;
            }
            for change in &report.changes {
                writeln!(
                    out,
                    "  changed       {}: {} -> {}",
                    change.what, change.from, change.to
                )?;
            }
            for reason in &a.reasons {
                writeln!(out, "  why           {reason}")?;
            }
            for ignored in &a.ignored {
                writeln!(out, "  ignored       {ignored}")?;
            }
        }
        if let Some(release) = &report.python_release {
            // The verdict's first words name it (signed by the PSF, hash does not match, identity wrong, …).
            writeln!(out, "  python        {}", release.describe())?;
            if let Some(bundle) = &release.bundle {
                writeln!(out, "                bundle {bundle}")?;
            }
        }
        if let Some(check) = &report.signature {
            writeln!(
                out,
                "  signature     {}: {}",
                check.judgement.verdict.as_str(),
                check.judgement.message
            )?;
            writeln!(
                out,
                "                {}@{} (rule {})",
                check.repository, check.digest, check.rule
            )?;
        }
        if let Some(p) = &report.provenance {
            writeln!(out, "  provenance")?;
            write_platform(out, "    ", p)?;
        }
        for note in &report.notes {
            writeln!(out, "  note          {note}")?;
        }
        writeln!(
            out,
            "  result        {} (--require {})",
            if report.ok { "ok" } else { "FAIL" },
            output.require
        )?;
    }
    sources(
        out,
        &output.source,
        &output.docker_hub_endpoint,
        &output.warnings,
        &output.official_images,
    )?;
    // One trust root per run: said once, from the first link that used it.
    if let Some(release) = output
        .images
        .iter()
        .filter_map(|image| image.python_release.as_ref())
        .find(|release| release.trusted_root.is_some())
        && let (Some(root), Some(why)) = (&release.trusted_root, &release.trusted_root_why)
    {
        writeln!(out, "sigstore trust root: {root}")?;
        writeln!(out, "  {why}")?;
    }
    writeln!(out, "note: {}", output.signature)?;
    Ok(())
}

/// The end of a `verify` report (plain or `--chain`): where the images, Docker Hub's answers and the official-images
/// record came from, and the warnings about them.
pub(crate) fn sources(
    out: &mut impl Write,
    source: &str,
    docker_hub_endpoint: &str,
    warnings: &[String],
    official_images: &str,
) -> std::io::Result<()> {
    writeln!(out)?;
    writeln!(out, "images from: {source}")?;
    writeln!(out, "docker.io answered by: {docker_hub_endpoint}")?;
    for warning in warnings {
        writeln!(out, "WARNING: {warning}")?;
    }
    writeln!(out, "official-images: {official_images}")
}
