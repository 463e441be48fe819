//! `pyimage init`: writes a commented default `pyimage.toml` (refuses to overwrite one without `--force`).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;

/// The configuration `pyimage init` writes: every setting at its built-in default, with comments.
pub const TEMPLATE: &str = include_str!("init_template.toml");

/// Arguments of `pyimage init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the configuration.
    #[arg(long, value_name = "FILE", default_value = "pyimage.toml")]
    output: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    force: bool,
}

/// Runs `pyimage init`.
pub fn run(args: &InitArgs) -> anyhow::Result<pyimage_service::Outcome> {
    if args.output.exists() && !args.force {
        bail!(
            "{} exists; pass --force to overwrite it",
            args.output.display()
        );
    }
    std::fs::write(&args.output, TEMPLATE)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let mut out = crate::render::terminal::stdout();
    writeln!(out, "wrote {}", args.output.display())?;
    Ok(pyimage_service::Outcome::OK)
}
