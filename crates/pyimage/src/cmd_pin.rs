//! `pyimage pin PATHS...`: adds the digest each Python image reference points at now, with byte-minimal edits,
//! and records what each reference meant in `pyimage.lock`. Planning is `pyimage_service::pin`, writing
//! `pyimage_service::apply` (shared with `update`); this module turns flags into those calls and renders the report.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pyimage_registry::{Platform, RegistryClient};
use pyimage_render::plans::pin_human;
use pyimage_service::Outcome;
use pyimage_service::apply::Mode;
use pyimage_service::pin::{self, PinOptions, plan_pin};
use pyimage_store::write;

use crate::config::LoadedConfig;
use crate::output::{Format, print_json};

#[derive(Args)]
pub struct PinArgs {
    /// Files or directories to pin (default: the current directory). Directories are walked respecting .gitignore.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Pin one platform's manifest (`linux/amd64`) instead of the multi-platform index.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    platform: Option<String>,
    /// Also replace a floating tag by the most specific tag of the same digest (`3.12-slim` → `3.12.14-slim-trixie`).
    #[arg(long)]
    exact_tag: bool,
    /// Print a unified diff and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write nothing; exit 1 when anything would change (for CI).
    #[arg(long)]
    check: bool,
    /// The lock file (default: `pyimage.lock` beside the `pyimage.toml` in use, else in the current directory).
    #[arg(long, value_name = "FILE")]
    lock: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    #[command(flatten)]
    build: crate::build_args::BuildArgs,
}

impl PinArgs {
    /// Where the configuration search starts: the first path given.
    pub fn start(&self) -> Option<&std::path::Path> {
        self.paths.first().map(PathBuf::as_path)
    }
}

pub async fn run(
    args: &PinArgs,
    client: RegistryClient,
    config: &LoadedConfig,
) -> anyhow::Result<Outcome> {
    let platform = match &args.platform {
        None => None,
        Some(text) => Some(Platform::parse(text).with_context(|| {
            format!("--platform {text:?}: expected OS/ARCH[/VARIANT] such as linux/amd64")
        })?),
    };
    let lock_path = config.lock_path(args.lock.as_deref());
    // Concurrent runs take turns from reading the lock to writing it: neither loses the other's entries.
    let _turn = if args.dry_run || args.check {
        None
    } else {
        Some(write::lock_directory(&lock_path)?)
    };
    let old_lock = pyimage_store::lock_file::read(&lock_path)?;
    // A file that cannot be found or read is reported and the rest is pinned; the exit code says so at the end.
    let mut variables = args.build.compose_variables()?;
    let gathered = config.gather(&args.paths, &mut variables)?;
    let resolver = crate::progress::resolver(client);
    let options = PinOptions {
        platform,
        exact_tag: args.exact_tag,
        build: args.build.scan_options(),
        policy: config.settings.policy.clone(),
        keyring: Some(config.keyring.clone()),
    };
    let now = pyimage_service::clock::now_rfc3339();
    let plan = plan_pin(
        &resolver,
        &gathered.sources,
        old_lock.clone(),
        &options,
        &now,
    )
    .await;
    let mode = match (args.dry_run, args.check) {
        (true, _) => Mode::DryRun,
        (false, true) => Mode::Check,
        (false, false) => Mode::Write,
    };
    let (report, applied, outcome) = pin::settle(plan, gathered, &old_lock, &lock_path, mode)?;
    for error in &report.errors {
        crate::render::terminal::eprintln(format_args!("pyimage: error: {error}"));
    }
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Human => {
            let text = pin_human(&report, mode != Mode::Write, &applied.diffs);
            write!(crate::render::terminal::stdout(), "{text}")?;
        }
    }
    if mode == Mode::Write && pyimage_store::gitignored::is_ignored(&lock_path) {
        crate::render::terminal::eprintln(format_args!(
            "pyimage: warning: {} is ignored by git (a .gitignore line such as `*.lock`), so CI would never see it: \
add `!pyimage.lock` to that .gitignore, or commit it with `git add -f`",
            lock_path.display()
        ));
    }
    tracing::debug!(stats = ?resolver.client().stats(), "registry requests");
    Ok(outcome)
}
