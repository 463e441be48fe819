//! `pyimage verify IMAGE...`: is a local image the official Python image, current or stale, and what do its
//! attestations say? Images come from the Docker Engine API at `DOCKER_HOST` (or podman's compatible socket), or
//! from saved `docker image inspect` JSON (`--inspect FILE|-`). The verification is `pyimage_service::verifier`;
//! this module reads the inputs, builds a client that asks Docker Hub directly (configured mirrors are skipped: a
//! mirror cannot vouch for what `docker.io/library/python` serves) and renders.

use pyimage_service::Outcome;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use pyimage_policy::provenance::NO_SIGNATURE_NOTE;
use pyimage_policy::verify::Requirement;
use pyimage_service::provenance::Record;
use pyimage_service::python_release::{ReleaseSignatures, RootFlags, default_cache_dir};
use pyimage_service::verifier::{ImageSource, SignaturePolicy, VerifyRequest, verify_images};

use crate::output::{Format, print_json};
use pyimage_render::chain::VerifyReport;
use pyimage_render::verify::VerifyOutput;
use pyimage_service::chain::{ChainContext, chains};

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
    /// Show the chain of trust link by link (the PSF's signature, official-images, provenance, base image, SBOM,
    /// Docker Hub's digest, the mirror copy, signatures, the lock, the cluster), each with its evidence.
    #[arg(long)]
    chain: bool,
    /// Skip reading the image's attestations.
    #[arg(long)]
    no_provenance: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// A Sigstore `trusted_root.json` to check python.org's release signatures against, used as is instead of the
    /// one refreshed through TUF (air-gapped use; also `[trust] trusted_root` in pyimage.toml).
    #[arg(long, value_name = "FILE")]
    trusted_root: Option<PathBuf>,
    /// The TUF repository the Sigstore trust root is refreshed from (default https://tuf-repo-cdn.sigstore.dev, or
    /// `[trust] tuf_url`); `none` uses the root embedded in pyimage without asking anyone.
    #[arg(long, value_name = "URL|none", env = "PYIMAGE_TUF_URL")]
    tuf_url: Option<String>,
    /// Skip the PSF's signature on the image's CPython release (no request to python.org).
    #[arg(long, env = "PYIMAGE_NO_RELEASE_SIGNATURE", value_parser = clap::builder::BoolishValueParser::new())]
    no_release_signature: bool,
    /// Take the word of a `docker.io` endpoint other than Docker Hub's own even though the `pyimage.toml` that
    /// names it was found in the checked directory (a repository must not choose who vouches for "official").
    #[arg(long)]
    trust_docker_io_endpoint: bool,
    /// The environment whose `[[trust.signatures]]` rules apply (default: `[policy] default-environment`).
    #[arg(long, value_name = "NAME")]
    env: Option<String>,
}

pub fn run(args: &VerifyArgs, config: Option<&Path>) -> anyhow::Result<Outcome> {
    let requirement = Requirement::parse(&args.require).context("--require")?;
    if requirement == Requirement::OfficialLocked && args.lock.is_none() {
        anyhow::bail!("--require official-locked needs --lock pyimage.lock");
    }
    if args.images.is_empty() && args.inspect.is_none() {
        anyhow::bail!("name at least one IMAGE (a reference or image ID), or pass --inspect FILE");
    }
    let lock = match &args.lock {
        Some(path) if !path.exists() => {
            anyhow::bail!("cannot read --lock {}: no such file", path.display())
        }
        Some(path) => Some(
            pyimage_store::lock_file::read(path)
                .with_context(|| format!("--lock {}", path.display()))?,
        ),
        None => None,
    };
    // Read the inspect file before anything else: a bad file is an input error.
    let source = match &args.inspect {
        Some(path) => {
            let (what, images) = read_inspect(path)?;
            if images.is_empty() {
                anyhow::bail!(
                    "--inspect {what}: no images in it (`docker image inspect IMAGE...` prints them; an empty list `[]` verifies nothing)"
                );
            }
            ImageSource::Inspect { what, images }
        }
        None => ImageSource::Engine {
            docker_host: std::env::var("DOCKER_HOST").ok(),
        },
    };
    let overrides = pyimage_policy::config::Overrides {
        environment: args.env.clone(),
        ..Default::default()
    };
    let loaded = crate::config::load(config, None, &overrides)?;
    let config_shown = loaded.path.as_deref().map_or_else(
        || "the configuration".to_owned(),
        |p| p.display().to_string(),
    );
    let judge = loaded
        .settings
        .registries
        .judge_of_official(
            &config_shown,
            loaded.discovered,
            args.trust_docker_io_endpoint,
        )
        .map_err(anyhow::Error::msg)?;
    for warning in &judge.warnings {
        crate::render::terminal::eprintln(format_args!("pyimage: warning: {warning}"));
    }
    let (docker_hub_endpoint, warnings) = (judge.endpoint, judge.warnings);
    let client = crate::registry_client(judge.registries, loaded.path.as_deref())?;
    let release_signatures = if args.no_release_signature {
        None
    } else {
        let cache = default_cache_dir(
            std::env::var("XDG_CACHE_HOME").ok().as_deref(),
            std::env::var("HOME").ok().as_deref(),
        );
        Some(ReleaseSignatures::new(
            &loaded.settings.trust,
            loaded.path.as_deref().and_then(Path::parent),
            RootFlags {
                trusted_root: args.trusted_root.as_deref(),
                tuf_url: args.tuf_url.as_deref(),
            },
            cache,
            pyimage_service::clock::unix_seconds(),
        )?)
    };
    let policy = &loaded.settings.policy;
    crate::block_on(async {
        let record = if args.no_provenance {
            Record::Unavailable("--no-provenance".to_owned())
        } else {
            pyimage_service::provenance::Record::load(&client, args.official_images.as_deref())
                .await?
        };
        let request = VerifyRequest {
            names: args.images.clone(),
            requirement,
            provenance: !args.no_provenance,
            release_signatures,
            signatures: Some(SignaturePolicy {
                environment: policy
                    .environment_override
                    .as_ref()
                    .unwrap_or(&policy.default_environment)
                    .0
                    .clone(),
                policy: policy.clone(),
                keyring: loaded.keyring.clone(),
            }),
        };
        let verification = verify_images(&client, source, &request, lock.as_ref(), &record).await?;
        let exit = verification.outcome();
        let context = ChainContext::of(&loaded.settings, lock.is_some(), &docker_hub_endpoint);
        let chains = args
            .chain
            .then(|| chains(&verification, &request, &context));
        let output = VerifyOutput {
            require: &args.require,
            source: verification.source,
            docker_hub_endpoint,
            warnings,
            signature: NO_SIGNATURE_NOTE,
            official_images: record.describe(),
            images: verification.images,
        };
        // People read each image's error on stderr too; JSON carries them.
        let errors: Vec<String> = (output.images.iter())
            .filter(|_| args.format == Format::Human)
            .filter_map(|i| Some(format!("pyimage: {}: {}", i.input, i.error.as_ref()?)))
            .collect();
        let report = VerifyReport::new(output, chains);
        match args.format {
            Format::Json => print_json(&report)?,
            Format::Human => report.human(&mut crate::render::terminal::stdout())?,
        }
        for error in &errors {
            crate::render::terminal::eprintln(format_args!("{error}"));
        }
        Ok(Outcome::from_failure(exit))
    })
}

fn read_inspect(path: &Path) -> anyhow::Result<(String, Vec<pyimage_engine::ImageInspect>)> {
    let (what, bytes) = if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read --inspect from standard input")?;
        ("standard input".to_owned(), bytes)
    } else {
        let bytes = pyimage_store::bounded::read_regular(path, 64 * 1024 * 1024)
            .with_context(|| format!("cannot read --inspect {}", path.display()))?;
        (path.display().to_string(), bytes)
    };
    let images = pyimage_engine::parse_inspect(&bytes, &what)?;
    Ok((what, images))
}
