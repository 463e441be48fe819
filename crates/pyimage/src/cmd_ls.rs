//! `pyimage ls`: the inventory — every image reference the tree holds, Python or not, with the file kind it was read
//! as, the environment, what the image is, its Python line, whether a digest pins it and what the lock says
//! (`pyimage_service::check::inventory`, the same walk and scan as `check`) → a table, JSON or CSV.
//!
//! Exit codes: 0 listed, 2 a file could not be read or parsed (listed under "Not read"; the rest is listed).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use clap::{Args, ValueEnum};
use pyimage_policy::config::Overrides;
use pyimage_service::check::{self, CheckRequest, Inputs};
use pyimage_store::files::Tree;

use crate::config;
use crate::render;

/// Output formats of `pyimage ls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LsFormat {
    /// A table, then what was not understood, skipped or not read.
    Human,
    /// `{"files_scanned", "images", "skipped", "errors"}`.
    Json,
    /// One row per reference, with a header.
    Csv,
}

/// Arguments of `pyimage ls`.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// Files and directories to list (default: the current directory), walked as `check` walks them.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: LsFormat,
    /// Environment of every file (overrides [[paths]] and [policy] default-environment).
    #[arg(long, value_name = "ENV")]
    env: Option<String>,
    /// The lock to compare with (default: `pyimage.lock` beside the `pyimage.toml` in use, else in the current
    /// directory; none: the lock column says `no-lock`).
    #[arg(long, value_name = "FILE")]
    lock: Option<PathBuf>,
    #[command(flatten)]
    build: crate::build_args::BuildArgs,
}

/// Runs `pyimage ls`.
pub fn run(args: &LsArgs, config_path: Option<&Path>) -> anyhow::Result<pyimage_service::Outcome> {
    let overrides = Overrides {
        environment: args.env.clone(),
        severities: Vec::new(),
    };
    let loaded = config::load(
        config_path,
        args.paths.first().map(PathBuf::as_path),
        &overrides,
    )?;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let base = loaded.base_dir(&cwd);
    let mut variables = args.build.compose_variables()?;
    let lock_path = loaded.lock_path(args.lock.as_deref());
    let baseline = check::LockedBaseline::read(&lock_path)?;
    if args.lock.is_some() && !baseline.exists {
        return Err(anyhow!(
            "--lock {}: no such file; create it with `pyimage pin`",
            lock_path.display()
        ));
    }
    let request = CheckRequest {
        tree: Tree {
            cwd: &cwd,
            base: &base,
            exclude: &loaded.settings.exclude,
        },
        policy: &loaded.settings.policy,
        config_text: &loaded.text,
        lock: baseline.exists.then_some(&baseline.lock),
        today: pyimage_service::clock::today(),
        build: &args.build.scan_options(),
    };
    let report = check::inventory(Inputs::Paths(&args.paths), &request, &mut variables)?;
    let rendered = match args.format {
        LsFormat::Human => render::inventory::human(&report),
        LsFormat::Json => render::inventory::json(&report)?,
        LsFormat::Csv => render::inventory::csv(&report),
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(rendered.as_bytes())?;
    stdout.flush()?;
    for error in &report.errors {
        render::terminal::eprintln(format_args!("pyimage: error: {error}"));
    }
    Ok(report.outcome())
}
