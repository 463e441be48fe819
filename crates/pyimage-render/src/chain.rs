//! Output of `pyimage verify --chain`: [`ChainOutput`] is what `--format json` prints; [`human`] the report for
//! people — per image one line per link with its status, the evidence indented under it, and what to do.

use std::io::Write;

use pyimage_policy::chain::Status;
use pyimage_service::chain::ImageChain;
use serde::Serialize;

use crate::verify::VerifyOutput;

/// What `pyimage verify --chain` reports, in the shape `--format json` prints.
#[derive(Serialize)]
pub struct ChainOutput<'a> {
    /// The level every image must reach (`--require`).
    pub require: &'a str,
    /// Where the images came from (the engine, or an inspect file).
    pub source: String,
    /// Who answered for Docker Hub.
    pub docker_hub_endpoint: String,
    /// Loud warnings (a `docker.io` endpoint that is not Docker Hub's own).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The official-images record used.
    pub official_images: String,
    /// One chain per image.
    pub images: Vec<ImageChain>,
}

impl<'a> ChainOutput<'a> {
    /// The chains of the images `verify` reported in `output`.
    pub fn new(output: VerifyOutput<'a>, images: Vec<ImageChain>) -> ChainOutput<'a> {
        ChainOutput {
            require: output.require,
            source: output.source,
            docker_hub_endpoint: output.docker_hub_endpoint,
            warnings: output.warnings,
            official_images: output.official_images,
            images,
        }
    }
}

/// What `pyimage verify` prints: the verification, or with `--chain` the chains.
#[derive(Serialize)]
#[serde(untagged)]
pub enum VerifyReport<'a> {
    /// Without `--chain`.
    Verification(VerifyOutput<'a>),
    /// With `--chain`.
    Chains(ChainOutput<'a>),
}

impl<'a> VerifyReport<'a> {
    /// The chains when there are some, else the verification.
    pub fn new(output: VerifyOutput<'a>, chains: Option<Vec<ImageChain>>) -> VerifyReport<'a> {
        match chains {
            Some(chains) => VerifyReport::Chains(ChainOutput::new(output, chains)),
            None => VerifyReport::Verification(output),
        }
    }

    /// The human report of either. The caller escapes (a terminal writer).
    pub fn human(&self, out: &mut impl Write) -> std::io::Result<()> {
        match self {
            VerifyReport::Verification(output) => crate::verify::human(out, output),
            VerifyReport::Chains(output) => human(out, output),
        }
    }
}

/// The mark of a status, fixed width.
fn mark(status: Status) -> &'static str {
    match status {
        Status::Ok => "ok     ",
        Status::Broken => "BROKEN ",
        Status::Unknown => "unknown",
        Status::NotApplicable => "n/a    ",
    }
}

/// The human report. The caller escapes (a terminal writer).
pub fn human(out: &mut impl Write, output: &ChainOutput<'_>) -> std::io::Result<()> {
    for (i, image) in output.images.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        crate::verify::heading(out, &image.input, image.id.as_deref())?;
        if let Some(error) = &image.error {
            writeln!(out, "  error     {error}")?;
            continue;
        }
        if let (Some(verdict), platform) = (image.verdict, &image.platform) {
            writeln!(
                out,
                "  verdict   {verdict}{}",
                platform
                    .as_deref()
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default()
            )?;
        }
        for (n, link) in image.chain.iter().enumerate() {
            writeln!(out, "  {} {:>2}. {}", mark(link.status), n + 1, link.title)?;
            for line in &link.evidence {
                writeln!(out, "               {line}")?;
            }
            if let Some(fix) = &link.fix {
                let label = if link.status == Status::Broken {
                    "fix"
                } else {
                    "to settle it"
                };
                writeln!(out, "               {label}: {fix}")?;
            }
        }
        for note in &image.notes {
            writeln!(out, "  note      {note}")?;
        }
        writeln!(
            out,
            "  result    {} (--require {})",
            if image.ok { "ok" } else { "FAIL" },
            output.require
        )?;
    }
    crate::verify::sources(
        out,
        &output.source,
        &output.docker_hub_endpoint,
        &output.warnings,
        &output.official_images,
    )
}
