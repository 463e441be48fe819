//! `pyimage provenance REF...`: what the BuildKit attestations of an image index say (SLSA provenance: builder,
//! source, commit, Dockerfile directory, base image; SPDX SBOM: packages, Python), checked against the index and
//! the official-images `library/python` record. Also used by `pyimage verify` for the local image's platform.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use pyimage_core::oci::{ImageIndex, PlatformManifest};
use pyimage_core::provenance::{
    self, Expectations, NO_SIGNATURE_NOTE, Outcome, PlatformProvenance, Statement,
};
use pyimage_core::{Digest, Library, Reference};
use pyimage_registry::{Platform, RegistryClient, RegistryError, ResolveRequest};
use serde::Serialize;

use crate::output::{Format, print_json};

/// The public official-images record of `library/python`.
pub const OFFICIAL_IMAGES_URL: &str =
    "https://raw.githubusercontent.com/docker-library/official-images/master/library/python";
/// Largest in-toto statement read (an SPDX document of a full image is a few hundred KiB).
const STATEMENT_LIMIT: u64 = 32 * 1024 * 1024;

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

/// The official-images record, or why there is none.
pub enum Record {
    /// Loaded, with where from.
    Loaded(Box<Library>, String),
    /// Not available (the reason is reported, the check is `unchecked`).
    Unavailable(String),
}

impl Record {
    pub fn library(&self) -> Option<&Library> {
        match self {
            Record::Loaded(library, _) => Some(library),
            Record::Unavailable(_) => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Record::Loaded(library, origin) => {
                format!("{origin} ({} entries)", library.entries.len())
            }
            Record::Unavailable(reason) => format!("not used: {reason}"),
        }
    }
}

/// Loads the record: a file (an error when unreadable or invalid: exit 2), a URL (unavailable when offline).
pub async fn load_record(arg: Option<&str>) -> anyhow::Result<Record> {
    let source = arg.unwrap_or(OFFICIAL_IMAGES_URL);
    if source == "none" {
        return Ok(Record::Unavailable("--official-images none".to_owned()));
    }
    if source.starts_with("https://") || source.starts_with("http://") {
        let text = match fetch_text(source).await {
            Ok(text) => text,
            Err(reason) => {
                return Ok(Record::Unavailable(format!(
                    "cannot fetch {source}: {reason} (pass --official-images FILE)"
                )));
            }
        };
        let library = Library::parse(&text)
            .with_context(|| format!("official-images record {source} is not a library file"))?;
        return Ok(Record::Loaded(Box::new(library), source.to_owned()));
    }
    let path = PathBuf::from(source);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read --official-images {}", path.display()))?;
    let library = Library::parse(&text).with_context(|| {
        format!(
            "--official-images {}: not an official-images library file",
            path.display()
        )
    })?;
    Ok(Record::Loaded(
        Box::new(library),
        path.display().to_string(),
    ))
}

async fn fetch_text(url: &str) -> Result<String, String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .connect_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())?;
    let response = client.get(url).send().await.map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status()));
    }
    response.text().await.map_err(|e| e.to_string())
}

/// An index: its platform images and the attestation manifests describing them.
pub struct Index {
    /// Platform images and attestation manifests.
    pub parsed: ImageIndex,
    /// The digest names a single-platform manifest, not an index: its platform is only in its config (not read).
    single: bool,
}

impl Index {
    /// Fetches (verified) and reads the index `repository@digest`.
    pub async fn fetch(
        client: &RegistryClient,
        repository: &Reference,
        digest: &Digest,
    ) -> Result<Index, RegistryError> {
        let manifest = client.fetch_manifest(repository, digest).await?;
        let what = format!("index {}@{digest}", repository.name());
        let single = !pyimage_registry::manifest::is_index_media_type(&manifest.head.media_type);
        let parsed = if single {
            // A single-platform manifest: its own only image; no attestations can be attached. The platform is a
            // placeholder that `platform_of` and `select` never show or match.
            ImageIndex {
                platforms: vec![PlatformManifest {
                    platform: Platform {
                        os: "unknown".to_owned(),
                        architecture: "unknown".to_owned(),
                        variant: None,
                        os_version: None,
                    },
                    digest: digest.clone(),
                    media_type: manifest.head.media_type.clone(),
                    size: manifest.body.len() as u64,
                    annotations: BTreeMap::new(),
                }],
                attestations: Vec::new(),
            }
        } else {
            ImageIndex::parse(&manifest.body, &manifest.head.media_type).map_err(|e| {
                RegistryError::InvalidManifest {
                    endpoint: manifest.head.endpoint.display(),
                    what: what.clone(),
                    detail: e.to_string(),
                }
            })?
        };
        Ok(Index { parsed, single })
    }

    /// Platform images (attestation manifests excluded).
    pub fn platforms(&self) -> impl Iterator<Item = &PlatformManifest> {
        self.parsed.platforms.iter()
    }

    /// The platform image a platform string selects (containerd's defaults for variants).
    pub fn select(&self, wanted: &str) -> Option<&PlatformManifest> {
        if self.single {
            return None;
        }
        self.parsed.select(&Platform::parse(wanted)?)
    }

    /// `os/architecture[/variant]` of a platform image; none for a single-platform manifest.
    fn platform_of(&self, image: &PlatformManifest) -> Option<String> {
        (!self.single).then(|| image.platform.to_string())
    }

    fn others(&self) -> BTreeMap<Digest, String> {
        self.platforms()
            .filter_map(|e| Some((e.digest.clone(), self.platform_of(e)?)))
            .collect()
    }
}

/// Reads and assesses the attestations of one platform image of `index`.
pub async fn platform_provenance(
    client: &RegistryClient,
    repository: &Reference,
    index: &Index,
    image: &PlatformManifest,
    library: Option<&Library>,
    tag: Option<&str>,
    python_version: Option<&str>,
) -> Result<PlatformProvenance, RegistryError> {
    let platform = index
        .platform_of(image)
        .unwrap_or_else(|| "unknown".to_owned());
    let attestation = index.parsed.attestations_for(&image.digest).next();
    let mut statements: Vec<Statement> = Vec::new();
    if let Some(attestation) = attestation {
        let manifest = client
            .fetch_manifest(repository, &attestation.digest)
            .await?;
        let what = format!("attestation manifest {}", attestation.digest);
        let layers = provenance::attestation_layers(&manifest.body, &what).map_err(|e| {
            RegistryError::InvalidManifest {
                endpoint: manifest.head.endpoint.display(),
                what: what.clone(),
                detail: e.to_string(),
            }
        })?;
        for layer in layers {
            let body = client
                .fetch_blob(repository, &layer.digest, STATEMENT_LIMIT)
                .await?;
            match Statement::parse(&body, &format!("in-toto statement {}", layer.digest)) {
                Ok(statement) => statements.push(statement),
                Err(error) => tracing::warn!(%error, "unreadable statement"),
            }
        }
    }
    let expect = Expectations {
        tag: tag.map(str::to_owned),
        revision: image
            .annotations
            .get(provenance::ANNOTATION_REVISION)
            .cloned(),
        base_digest: image
            .annotations
            .get(provenance::ANNOTATION_BASE_DIGEST)
            .cloned(),
        python_version: python_version.map(str::to_owned),
    };
    Ok(provenance::assess_platform(
        &platform,
        &image.digest,
        attestation.map(|a| &a.digest),
        &statements,
        &index.others(),
        library,
        &expect,
    ))
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

pub async fn run(args: &ProvenanceArgs, client: RegistryClient) -> anyhow::Result<ExitCode> {
    if args.platform != "all" && Platform::parse(&args.platform).is_none() {
        anyhow::bail!(
            "--platform {:?}: expected OS/ARCH[/VARIANT] such as linux/arm64, or all",
            args.platform
        );
    }
    let record = load_record(args.official_images.as_deref()).await?;
    let mut reports = Vec::new();
    let (mut input_error, mut registry_error, mut failed) = (false, false, false);
    for input in &args.references {
        let mut report = Report {
            input: input.clone(),
            ok: false,
            error: None,
            digest: None,
            registry: None,
            platforms: Vec::new(),
        };
        let reference = match Reference::parse_normalized(input) {
            Ok(r) => r,
            Err(error) => {
                input_error = true;
                report.error = Some(error.to_string());
                reports.push(report);
                continue;
            }
        };
        match one(&client, &reference, args, record.library()).await {
            Ok((digest, registry, platforms)) => {
                report.ok = !platforms.iter().any(PlatformProvenance::failed);
                failed |= !report.ok;
                report.digest = Some(digest);
                report.registry = Some(registry);
                report.platforms = platforms;
            }
            Err(Failure::Registry(error)) => {
                registry_error = true;
                report.error = Some(error.to_string());
            }
            Err(Failure::Input(message)) => {
                input_error = true;
                report.error = Some(message);
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
    Ok(if input_error {
        ExitCode::from(crate::EXIT_INPUT)
    } else if registry_error {
        ExitCode::from(crate::EXIT_REGISTRY)
    } else if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

enum Failure {
    Input(String),
    Registry(RegistryError),
}

impl From<RegistryError> for Failure {
    fn from(error: RegistryError) -> Self {
        Failure::Registry(error)
    }
}

async fn one(
    client: &RegistryClient,
    reference: &Reference,
    args: &ProvenanceArgs,
    library: Option<&Library>,
) -> Result<(Digest, String, Vec<PlatformProvenance>), Failure> {
    let resolution = client
        .resolve(reference, &ResolveRequest::default())
        .await?;
    let repository = reference.repository();
    let index = Index::fetch(client, &repository, &resolution.digest).await?;
    let tag = reference.tag();
    let selected: Vec<&PlatformManifest> = if args.platform == "all" {
        index.platforms().collect()
    } else {
        match index.select(&args.platform) {
            Some(entry) => vec![entry],
            None => {
                return Err(Failure::Input(format!(
                    "{reference} has no {} image (it has: {})",
                    args.platform,
                    index
                        .platforms()
                        .filter_map(|e| index.platform_of(e))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
    };
    let mut platforms = Vec::new();
    for image in selected {
        platforms.push(
            platform_provenance(client, &repository, &index, image, library, tag, None).await?,
        );
    }
    Ok((resolution.digest, resolution.registry, platforms))
}

/// Human lines for one platform's provenance (shared with `verify`).
pub fn write_platform(
    out: &mut impl Write,
    indent: &str,
    p: &PlatformProvenance,
) -> std::io::Result<()> {
    writeln!(out, "{indent}{} {}", p.platform, p.manifest)?;
    match &p.attestation {
        Some(a) => writeln!(out, "{indent}  attestation   {a}")?,
        None => writeln!(out, "{indent}  attestation   none")?,
    }
    if let Some(prov) = &p.provenance {
        let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
        writeln!(out, "{indent}  builder       {}", dash(&prov.builder_id))?;
        writeln!(out, "{indent}  source        {}", dash(&prov.source))?;
        writeln!(out, "{indent}  commit        {}", dash(&prov.commit))?;
        writeln!(out, "{indent}  directory     {}", dash(&prov.directory))?;
        if let Some(base) = prov.base_image() {
            let digest = base
                .digest
                .as_ref()
                .map_or_else(|| "-".to_owned(), ToString::to_string);
            writeln!(out, "{indent}  base image    {} {digest}", base.uri)?;
        }
    }
    if let Some(sbom) = &p.sbom {
        writeln!(
            out,
            "{indent}  sbom          {} packages, python {}",
            sbom.packages,
            sbom.python.as_deref().unwrap_or("(not listed)")
        )?;
    }
    for check in &p.checks {
        let mark = match check.outcome {
            Outcome::Match => "ok        ",
            Outcome::Mismatch => "MISMATCH  ",
            Outcome::NotListed => "NOT LISTED",
            Outcome::Unchecked => "unchecked ",
        };
        writeln!(out, "{indent}  {mark} {:<20} {}", check.name, check.detail)?;
    }
    Ok(())
}

fn print_human(output: &Output<'_>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for (i, report) in output.references.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{}", report.input)?;
        if let Some(error) = &report.error {
            writeln!(out, "  error         {error}")?;
            eprintln!("pyimage: {}: {error}", report.input);
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
