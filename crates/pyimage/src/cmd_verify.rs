//! `pyimage verify IMAGE...`: is a local image the official Python image, current or stale, and what do its
//! attestations say? Images come from the Docker Engine API at `DOCKER_HOST` (or podman's compatible socket), or
//! from saved `docker image inspect` JSON (`--inspect FILE|-`). Docker Hub is asked directly (configured mirrors
//! are skipped: a mirror cannot vouch for what `docker.io/library/python` serves).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use futures_util::StreamExt;
use pyimage_core::provenance::{self, Change, NO_SIGNATURE_NOTE, PlatformProvenance};
use pyimage_core::verify::{
    self, Assessment, LocalImage, Locked, OFFICIAL_REPOSITORY, Requirement, Served, TagNow,
    Upstream, Verdict,
};
use pyimage_core::{Digest, Library, Reference};
use pyimage_engine::{EngineAddress, EngineClient, ImageInspect};
use pyimage_registry::{RegistryClient, RegistryError, ResolveRequest};
use serde::Serialize;

use crate::cmd_provenance::{Index, Record, load_record, platform_provenance, write_platform};
use crate::output::{Format, print_json};

#[derive(Args)]
pub struct VerifyArgs {
    /// Images: references or image IDs the engine knows; with --inspect, which images of the file to verify
    /// (all when none is named).
    #[arg(value_name = "IMAGE")]
    images: Vec<String>,
    /// Read `docker image inspect` JSON from this file (`-`: standard input) instead of asking the engine.
    #[arg(long, value_name = "FILE|-")]
    inspect: Option<PathBuf>,
    /// What every image must be: official-current, official-locked (needs --lock), official (current or
    /// stale), faithful (official, or the same digest from a mirror or private registry).
    #[arg(long, value_name = "LEVEL", default_value = "official-current", value_parser = ["official-current", "official-locked", "official", "faithful"])]
    require: String,
    /// pyimage.lock to compare with (`official-locked`).
    #[arg(long, value_name = "FILE")]
    lock: Option<PathBuf>,
    /// The official-images `library/python` file (or URL) for the provenance check; `none` skips it.
    #[arg(long, value_name = "FILE|URL|none")]
    official_images: Option<String>,
    /// Skip reading the image's attestations.
    #[arg(long)]
    no_provenance: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

#[derive(Serialize)]
struct ImageReport {
    input: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// Whether the image meets `--require`.
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<String>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    assessment: Option<Assessment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provenance: Option<PlatformProvenance>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    changes: Vec<Change>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
}

#[derive(Serialize)]
struct Output<'a> {
    require: &'a str,
    source: String,
    signature: &'a str,
    official_images: String,
    images: Vec<ImageReport>,
}

/// Why an image could not be verified.
enum Problem {
    /// Exit 2.
    Input(String),
    /// Exit 3.
    Unreachable(String),
}

pub fn run(args: &VerifyArgs, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let requirement = Requirement::parse(&args.require).context("--require")?;
    if requirement == Requirement::OfficialLocked && args.lock.is_none() {
        anyhow::bail!("--require official-locked needs --lock pyimage.lock");
    }
    if args.images.is_empty() && args.inspect.is_none() {
        anyhow::bail!("name at least one IMAGE (a reference or image ID), or pass --inspect FILE");
    }
    let locks = match &args.lock {
        Some(path) => read_lock(path)?,
        None => Vec::new(),
    };
    // Read the inspect file before anything else: a bad file is an input error.
    let inspected = match &args.inspect {
        Some(path) => Some(read_inspect(path)?),
        None => None,
    };
    let loaded = crate::config::load(config, &Default::default())?;
    let mut registries = loaded.settings.registries.clone();
    // Ask docker.io itself: whatever a mirror answers about docker.io/library/python proves nothing.
    if let Some(hub) = registries.hosts.get_mut("docker.io") {
        hub.mirrors.clear();
    }
    let client = crate::registry_client(registries, loaded.path.as_deref())?;
    crate::block_on(verify_all(args, requirement, &locks, inspected, client))
}

fn read_lock(path: &Path) -> anyhow::Result<Vec<Locked>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read --lock {}", path.display()))?;
    let lock = pyimage_core::lock::Lock::parse(&text)
        .with_context(|| format!("--lock {}", path.display()))?;
    lock.images
        .values()
        .map(|image| {
            Ok(Locked {
                reference: image.reference.clone(),
                normalized: image.normalized.clone(),
                digest: Digest::parse(&image.digest).with_context(|| {
                    format!(
                        "--lock {}: {}: invalid digest {:?}",
                        path.display(),
                        image.reference,
                        image.digest
                    )
                })?,
            })
        })
        .collect()
}

fn read_inspect(path: &Path) -> anyhow::Result<(String, Vec<ImageInspect>)> {
    let (what, bytes) = if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read --inspect from standard input")?;
        ("standard input".to_owned(), bytes)
    } else {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read --inspect {}", path.display()))?;
        (path.display().to_string(), bytes)
    };
    let images = pyimage_engine::parse_inspect(&bytes, &what)?;
    Ok((what, images))
}

fn to_local(image: &ImageInspect) -> LocalImage {
    LocalImage {
        id: image.id.clone(),
        repo_tags: image.repo_tags.clone(),
        repo_digests: image.repo_digests.clone(),
        platform: image.platform(),
        python_version: image.env("PYTHON_VERSION").map(str::to_owned),
    }
}

/// Whether a name the user typed names this image (ID, ID prefix, or one of its tags or digests).
fn names_image(name: &str, image: &ImageInspect) -> bool {
    if image.id_matches(name) {
        return true;
    }
    let Ok(wanted) = Reference::parse_normalized(name) else {
        return false;
    };
    let wanted = wanted.to_string();
    image
        .repo_tags
        .iter()
        .chain(&image.repo_digests)
        .filter_map(|n| Reference::parse_normalized(n).ok())
        .any(|r| r.to_string() == wanted)
}

async fn verify_all(
    args: &VerifyArgs,
    requirement: Requirement,
    locks: &[Locked],
    inspected: Option<(String, Vec<ImageInspect>)>,
    client: RegistryClient,
) -> anyhow::Result<ExitCode> {
    // 1. The images.
    let mut found: Vec<(String, Result<ImageInspect, Problem>)> = Vec::new();
    let source = match inspected {
        Some((what, images)) => {
            if args.images.is_empty() {
                for image in images {
                    let input = image
                        .repo_tags
                        .first()
                        .cloned()
                        .unwrap_or_else(|| image.id.clone());
                    found.push((input, Ok(image)));
                }
            } else {
                for name in &args.images {
                    let matching: Vec<&ImageInspect> =
                        images.iter().filter(|i| names_image(name, i)).collect();
                    let outcome = match matching.as_slice() {
                        [one] => Ok((*one).clone()),
                        [] => Err(Problem::Input(format!("{what} has no image named {name}"))),
                        _ => Err(Problem::Input(format!(
                            "{name} names {} images in {what}: use an image ID",
                            matching.len()
                        ))),
                    };
                    found.push((name.clone(), outcome));
                }
            }
            format!("docker image inspect JSON ({what})")
        }
        None => {
            let value = std::env::var("DOCKER_HOST").ok();
            let address = EngineAddress::from_docker_host(value.as_deref())?;
            let engine = EngineClient::new(address.clone(), Duration::from_secs(30))?;
            if let Err(error) = engine.ping().await {
                eprintln!("pyimage: error: {error}");
                return Ok(ExitCode::from(crate::EXIT_REGISTRY));
            }
            for name in &args.images {
                let outcome = match engine.inspect_image(name).await {
                    Ok(Some(image)) => Ok(image),
                    Ok(None) => Err(Problem::Input(format!(
                        "the Docker engine at {address} has no image {name} (pull it first, or check the name)"
                    ))),
                    Err(error) if error.is_unreachable() => {
                        Err(Problem::Unreachable(error.to_string()))
                    }
                    Err(error) => Err(Problem::Input(error.to_string())),
                };
                found.push((name.clone(), outcome));
            }
            format!("Docker engine at {address}")
        }
    };

    let record = if args.no_provenance {
        Record::Unavailable("--no-provenance".to_owned())
    } else {
        load_record(args.official_images.as_deref()).await?
    };

    // 2. Each image: plan, ask, decide, provenance.
    let reports: Vec<ImageReport> = futures_util::stream::iter(found)
        .map(|(input, outcome)| {
            let (client, record) = (&client, &record);
            async move {
                match outcome {
                    Ok(image) => {
                        verify_one(client, &input, &image, locks, requirement, args, record).await
                    }
                    Err(problem) => ImageReport {
                        input,
                        id: None,
                        error: Some(match &problem {
                            Problem::Input(m) | Problem::Unreachable(m) => m.clone(),
                        }),
                        ok: false,
                        platform: None,
                        assessment: None,
                        provenance: None,
                        changes: Vec::new(),
                        notes: vec![match problem {
                            Problem::Input(_) => "input".to_owned(),
                            Problem::Unreachable(_) => "unreachable".to_owned(),
                        }],
                    },
                }
            }
        })
        .buffered(4)
        .collect()
        .await;

    let input_error = reports
        .iter()
        .any(|r| r.error.is_some() && r.notes.iter().any(|n| n == "input"));
    let unreachable = reports.iter().any(|r| {
        (r.error.is_some() && r.notes.iter().any(|n| n == "unreachable"))
            || r.assessment
                .as_ref()
                .is_some_and(|a| a.verdict == Verdict::Unknown)
    });
    let failed = reports.iter().any(|r| !r.ok);
    let output = Output {
        require: &args.require,
        source,
        signature: NO_SIGNATURE_NOTE,
        official_images: record.describe(),
        images: reports,
    };
    match args.format {
        Format::Json => print_json(&output)?,
        Format::Human => print_human(&output)?,
    }
    Ok(if input_error {
        ExitCode::from(crate::EXIT_INPUT)
    } else if unreachable {
        ExitCode::from(crate::EXIT_REGISTRY)
    } else if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn official_repository() -> Result<Reference, RegistryError> {
    Reference::parse_normalized(OFFICIAL_REPOSITORY)
        .map_err(|e| RegistryError::Config(format!("{OFFICIAL_REPOSITORY}: {e}")))
}

async fn ask(client: &RegistryClient, repository: &Reference, plan: &verify::Plan) -> Upstream {
    let mut upstream = Upstream::default();
    for digest in &plan.digests {
        let reference = repository.with_verified_digest(digest.clone());
        let served = match client.resolve(&reference, &ResolveRequest::default()).await {
            Ok(r) if r.digest == *digest => Served::Yes,
            Ok(r) => Served::Error(format!(
                "{} answered {} when asked for {digest}",
                r.registry, r.digest
            )),
            Err(RegistryError::NotFound { .. }) => Served::No,
            Err(error) => Served::Error(error.to_string()),
        };
        upstream.served.insert(digest.clone(), served);
    }
    for tag in &plan.tags {
        let now = match repository.with_tag(tag) {
            Err(_) => TagNow::Missing,
            Ok(reference) => match client.resolve(&reference, &ResolveRequest::default()).await {
                Ok(r) => TagNow::Digest(r.digest),
                Err(RegistryError::NotFound { .. }) => TagNow::Missing,
                Err(error) => TagNow::Error(error.to_string()),
            },
        };
        upstream.current.insert(tag.clone(), now);
    }
    upstream
}

async fn verify_one(
    client: &RegistryClient,
    input: &str,
    image: &ImageInspect,
    locks: &[Locked],
    requirement: Requirement,
    args: &VerifyArgs,
    record: &Record,
) -> ImageReport {
    let local = to_local(image);
    let requested = if image.id_matches(input) {
        None
    } else {
        Reference::parse_normalized(input).ok()
    };
    let plan = verify::plan(&local, requested.as_ref());
    let upstream = match official_repository() {
        Ok(repository) => ask(client, &repository, &plan).await,
        Err(error) => Upstream {
            served: plan
                .digests
                .iter()
                .map(|d| (d.clone(), Served::Error(error.to_string())))
                .collect(),
            current: Default::default(),
        },
    };
    let assessment = verify::decide(&local, requested.as_ref(), &upstream, locks);
    let mut report = ImageReport {
        input: input.to_owned(),
        id: Some(image.id.clone()),
        error: None,
        ok: requirement.accepts(&assessment),
        platform: local.platform.clone(),
        assessment: None,
        provenance: None,
        changes: Vec::new(),
        notes: Vec::new(),
    };
    let wants_provenance = !args.no_provenance
        && (assessment.official || assessment.faithful_copy == Some(true))
        && assessment.digest.is_some();
    if wants_provenance {
        match image_provenance(client, &local, &assessment, record).await {
            Ok((provenance, changes, notes)) => {
                if provenance.as_ref().is_some_and(PlatformProvenance::failed) {
                    report.ok = false;
                    report.notes.push(
                        "the image's attestations do not check out (see provenance)".to_owned(),
                    );
                }
                report.provenance = provenance;
                report.changes = changes;
                report.notes.extend(notes);
            }
            Err(error) => report.notes.push(format!("provenance not read: {error}")),
        }
    }
    report.assessment = Some(assessment);
    report
}

/// The attestations of the image's platform in the index it was pulled as; for a stale image, also what changed
/// in the build the tag names now.
async fn image_provenance(
    client: &RegistryClient,
    local: &LocalImage,
    assessment: &Assessment,
    record: &Record,
) -> Result<(Option<PlatformProvenance>, Vec<Change>, Vec<String>), RegistryError> {
    let mut notes = Vec::new();
    let Some(digest) = &assessment.digest else {
        return Ok((None, Vec::new(), notes));
    };
    let Some(platform) = &local.platform else {
        notes.push("the image names no platform: attestations not read".to_owned());
        return Ok((None, Vec::new(), notes));
    };
    let repository = official_repository()?;
    let index = Index::fetch(client, &repository, digest).await?;
    let Some(entry) = index.select(platform) else {
        notes.push(format!(
            "index {digest} has no {platform} image: attestations not read"
        ));
        return Ok((None, Vec::new(), notes));
    };
    // The official-images record describes what tags name now: compare only a current image with it.
    let current_tag = (assessment.current == Some(true))
        .then(|| assessment.tags.first().cloned())
        .flatten();
    let library: Option<&Library> = if assessment.current == Some(true) {
        record.library()
    } else {
        None
    };
    let mine = platform_provenance(
        client,
        &repository,
        &index,
        entry,
        library,
        current_tag.as_deref(),
        local.python_version.as_deref(),
    )
    .await?;
    let mut changes = Vec::new();
    if let Some(moved) = assessment.moved.first() {
        let newer = Index::fetch(client, &repository, &moved.now).await?;
        if let Some(new_entry) = newer.select(platform) {
            let theirs = platform_provenance(
                client,
                &repository,
                &newer,
                new_entry,
                record.library(),
                Some(&moved.tag),
                None,
            )
            .await?;
            changes = provenance::changes(&mine, &theirs);
            if changes.is_empty() {
                notes.push(format!(
                    "the attestations of {} name the same Python, base image and commit",
                    moved.now
                ));
            }
        }
    }
    Ok((Some(mine), changes, notes))
}

fn print_human(output: &Output<'_>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for (i, report) in output.images.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let id = report
            .id
            .as_deref()
            .map(|id| format!(" ({})", id.chars().take(19).collect::<String>()))
            .unwrap_or_default();
        writeln!(out, "{}{id}", report.input)?;
        if let Some(error) = &report.error {
            writeln!(out, "  error         {error}")?;
            eprintln!("pyimage: {}: {error}", report.input);
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
        if let Some(p) = &report.provenance {
            writeln!(out, "  provenance")?;
            write_platform(&mut out, "    ", p)?;
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
    writeln!(out)?;
    writeln!(out, "images from: {}", output.source)?;
    writeln!(out, "official-images: {}", output.official_images)?;
    writeln!(out, "note: {}", output.signature)?;
    Ok(())
}
