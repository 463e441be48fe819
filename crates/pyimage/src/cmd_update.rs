//! `pyimage update PATHS...`: moves pinned Python references when the registry says so, per the environment's
//! `update` policy, and says why (see `pyimage_service::update` and `pyimage_policy::moves::classify_move`):
//! * **rebuild**: the same tag now points at another digest (a Debian/Alpine security rebuild) → move the digest;
//! * **patch**: a newer patch release of the same line, variant and OS exists (`3.12.3-slim` → `3.12.14-slim`), or a
//!   floating tag now carries a newer patch → move tag and digest when the environment allows `update = "patch"`;
//! * never cross a minor line, variant or OS: newer lines are reported as available;
//! * then each environment's controls: `cooldown` holds a digest younger than it, `promote-from` moves prod only to
//!   what test pins (see `pyimage_policy::controls`). Every move is explained (`--format markdown` for a pull request).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use pyimage_registry::RegistryClient;
use pyimage_render::plans::{update_human, update_markdown};
use pyimage_service::Outcome;
use pyimage_service::apply::Mode;
use pyimage_service::update::{self, Controls, FileEnvironment, plan_update};
use pyimage_store::write;

use crate::config::LoadedConfig;
use crate::output::print_json;

/// How `update` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UpdateFormat {
    /// Aligned text for people.
    Human,
    /// JSON for programs (stable keys).
    Json,
    /// A pull-request body: a title line, then each move explained (packages, base image, build commit).
    Markdown,
}

#[derive(Args)]
pub struct UpdateArgs {
    /// Files or directories (default: the current directory).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Environment for every file (default: from `[[paths]]` in pyimage.toml, else the default environment).
    #[arg(long)]
    env: Option<String>,
    /// Print a unified diff and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// The lock file (default: `pyimage.lock` beside the `pyimage.toml` in use, else in the current directory).
    #[arg(long, value_name = "FILE")]
    lock: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: UpdateFormat,
    /// The history store `pyimage watch` fills, for when each digest was first served (cool-downs, reports):
    /// `sqlite:PATH` or `postgres://…` (default: $PYIMAGE_STORE, [store] url, else the default SQLite file when it
    /// exists; without one, an image's build time stands in).
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    #[command(flatten)]
    build: crate::build_args::BuildArgs,
}

impl UpdateArgs {
    /// Where the configuration search starts: the first path given.
    pub fn start(&self) -> Option<&std::path::Path> {
        self.paths.first().map(PathBuf::as_path)
    }

    /// The `--env` override, applied when the configuration is loaded.
    pub fn environment(&self) -> Option<String> {
        self.env.clone()
    }
}

fn shown(path: &Path) -> String {
    let text = path.display().to_string();
    text.strip_prefix("./").map(str::to_owned).unwrap_or(text)
}

pub async fn run(
    args: &UpdateArgs,
    client: RegistryClient,
    config: &LoadedConfig,
) -> anyhow::Result<Outcome> {
    let policy = &config.settings.policy;
    let lock_path = config.lock_path(args.lock.as_deref());
    // Concurrent runs take turns from reading the lock to writing it (see `write::lock_directory`).
    let _turn = if args.dry_run {
        None
    } else {
        Some(write::lock_directory(&lock_path)?)
    };
    let old_lock = pyimage_store::lock_file::read(&lock_path)?;
    // A file that cannot be found or read is reported and the rest is updated; the exit code says so at the end.
    let mut variables = args.build.compose_variables()?;
    let gathered = config.gather(&args.paths, &mut variables)?;
    let sources = gathered
        .sources
        .iter()
        .zip(&gathered.found)
        .map(|(source, file)| {
            let mut source = source.clone();
            source.shown = shown(&file.path);
            // Environments are matched as `check` matches them: relative to the configuration's directory.
            let (name, _) = policy.environment_for(&file.policy_path);
            let environment = FileEnvironment::of(name, policy.environments.get(name));
            (source, environment)
        })
        .collect::<Vec<_>>();
    let resolver = crate::progress::resolver(client);
    let now = pyimage_service::clock::now_rfc3339();
    let store = history_store(args, config).await;
    let mut controls = Controls {
        store: store.as_ref(),
        now: pyimage_service::clock::unix_seconds(),
        keyring: Some(&config.keyring),
        ..Controls::default()
    };
    let base = config
        .path
        .as_deref()
        .and_then(Path::parent)
        .unwrap_or(Path::new(""));
    controls.read_lower_locks(policy, base, std::env::current_dir().ok().as_deref())?;
    let plan = plan_update(
        &resolver,
        &sources,
        old_lock.clone(),
        policy,
        &args.build.scan_options(),
        &now,
        &controls,
    )
    .await;
    if let Some(store) = &store {
        store.close().await;
    }
    let mode = if args.dry_run {
        Mode::DryRun
    } else {
        Mode::Write
    };
    let (report, applied, outcome) = update::settle(plan, gathered, &old_lock, &lock_path, mode)?;
    match args.format {
        UpdateFormat::Json => print_json(&report)?,
        UpdateFormat::Human => {
            let text = update_human(&report, args.dry_run, &applied.diffs);
            write!(crate::render::terminal::stdout(), "{text}")?;
        }
        UpdateFormat::Markdown => {
            let text = update_markdown(&report, args.dry_run);
            write!(crate::render::terminal::stdout(), "{text}")?;
        }
    }
    for error in &report.errors {
        crate::render::terminal::eprintln(format_args!("pyimage: {error}"));
    }
    tracing::debug!(stats = ?resolver.client().stats(), "registry requests");
    Ok(outcome)
}

/// The history store to read first-served times from (see `store_choice::optional`).
async fn history_store(args: &UpdateArgs, config: &LoadedConfig) -> Option<pyimage_store::Store> {
    let choice = crate::store::choice(args.store.as_deref(), config);
    let (store, warning) = pyimage_service::watch::store_choice::optional(&choice).await;
    if let Some(warning) = warning {
        crate::render::terminal::eprintln(format_args!("pyimage: warning: {warning}"));
    }
    store
}
