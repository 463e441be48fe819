//! `pyimage export gatekeeper [--env ENV | --namespaces]`: the policy of `pyimage.toml` as an OPA Gatekeeper
//! ConstraintTemplate and Constraints (see `pyimage_policy::export::gatekeeper`), on stdout or into `--output FILE`
//! (written atomically).

use pyimage_service::Outcome;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use pyimage_policy::config::Overrides;
use pyimage_policy::export::gatekeeper::{self, Target};

/// Arguments of `pyimage export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    format: ExportFormat,
}

#[derive(Debug, Subcommand)]
enum ExportFormat {
    /// An OPA Gatekeeper ConstraintTemplate (Rego) and Constraints enforcing the deny-level rules of `check`.
    Gatekeeper(GatekeeperArgs),
}

/// Arguments of `pyimage export gatekeeper`.
#[derive(Debug, Args)]
struct GatekeeperArgs {
    /// One Constraint applying this environment's requirements in every namespace.
    #[arg(long, value_name = "ENV", conflicts_with = "namespaces")]
    env: Option<String>,
    /// One Constraint per `[[namespaces]]` entry plus one for the default environment, first match wins (the
    /// default when `--env` is not given).
    #[arg(long)]
    namespaces: bool,
    /// Fix the date end-of-life decisions use (`YYYY-MM-DD`); without it the policy reads the cluster's clock.
    #[arg(long, value_name = "DATE")]
    today: Option<String>,
    /// Write to FILE (atomically) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Runs `pyimage export`.
pub fn run(args: &ExportArgs, config: Option<&Path>) -> anyhow::Result<Outcome> {
    let ExportFormat::Gatekeeper(args) = &args.format;
    let loaded = crate::config::load(config, None, &Overrides::default())?;
    let today = match &args.today {
        Some(text) => Some(
            pyimage_model::time::parse_date(text).map_err(|error| anyhow!("--today {error}"))?,
        ),
        None => None,
    };
    let target = match &args.env {
        Some(environment) => Target::Environment(environment.clone()),
        None => Target::Namespaces,
    };
    let shown = loaded.path.as_deref().map_or_else(
        || "the built-in policy (no pyimage.toml)".to_owned(),
        |p| p.display().to_string(),
    );
    let export = gatekeeper::export(&loaded.settings.policy, &target, today)
        .map_err(|error| anyhow!("cannot export {shown} to Gatekeeper: {error}"))?;
    let yaml = export.to_yaml(&shown);
    match &args.output {
        Some(path) => {
            pyimage_store::write::replace_atomically(path, &yaml)?;
            eprintln!(
                "wrote {} (1 ConstraintTemplate, {} Constraint{})",
                path.display(),
                export.constraints.len(),
                if export.constraints.len() == 1 {
                    ""
                } else {
                    "s"
                }
            );
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(yaml.as_bytes())
                .and_then(|()| stdout.flush())
                .context("cannot write to stdout")?;
        }
    }
    Ok(Outcome::OK)
}
