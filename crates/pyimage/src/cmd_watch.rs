//! `pyimage watch [REF|PATH...]`: polls tags and records every move in the history store, explained (kind, Python
//! before/after, platform digests, base image, commit, package changes), and announces each move to `--notify`
//! webhooks (`-`: JSON lines on stdout). `--once` polls once (cron, CI); otherwise it polls every `--interval`
//! (with up to 10 % jitter) until SIGTERM or Ctrl-C, finishing the poll in flight. The polling and the loop are
//! `pyimage_service::watch`; this module finds the tags, turns signals into a stop request and prints.

use pyimage_service::Outcome;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Args;
use pyimage_model::Reference;
use pyimage_registry::RegistryClient;
use pyimage_service::watch::notify::{Notifier, Payload};
use pyimage_service::watch::run::{self, Announce, Schedule};
use pyimage_service::watch::{PollReport, WatchOptions, Watcher, targets};

use crate::config::LoadedConfig;

#[derive(Args)]
pub struct WatchArgs {
    /// References to watch (`python:3.12-slim`), or files and directories to find them in (as `check` does).
    /// Default: the references of pyimage.lock.
    #[arg(value_name = "REF|PATH")]
    targets: Vec<String>,
    /// Poll once and exit (for cron and CI).
    #[arg(long)]
    once: bool,
    /// Time between polls: `90s`, `15m`, `1h`, `1d` (at most `365d`).
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = pyimage_model::time::parse_interval)]
    interval: Duration,
    /// The history store: `sqlite:PATH` or `postgres://…` (default: [store] url, else
    /// $XDG_DATA_HOME/pyimage/history.db).
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// POST a JSON document per move to this URL (repeatable); `-` writes JSON lines to stdout instead.
    #[arg(long = "notify", value_name = "URL")]
    notify: Vec<String>,
    /// Retries of a failed webhook delivery (1 s, 2 s, 4 s … apart); polling never waits for them.
    #[arg(long, value_name = "N", default_value_t = 3)]
    notify_retries: u32,
    /// Platforms whose attestations are read on a move (repeatable; default linux/amd64).
    #[arg(long = "platform", value_name = "OS/ARCH[/VARIANT]")]
    platforms: Vec<String>,
    /// The lock file whose references are watched when no REF or PATH is given.
    #[arg(long, value_name = "FILE")]
    lock: Option<PathBuf>,
    #[command(flatten)]
    build: crate::build_args::BuildArgs,
}

impl WatchArgs {
    /// `--once`: one poll, then exit.
    pub fn once(&self) -> bool {
        self.once
    }

    /// Where the configuration search starts: the first path given.
    pub fn start(&self) -> Option<&Path> {
        self.targets.iter().map(Path::new).find(|p| p.exists())
    }
}

pub async fn run(
    args: &WatchArgs,
    client: RegistryClient,
    config: &LoadedConfig,
) -> anyhow::Result<Outcome> {
    let references = targets(args, config)?;
    if references.is_empty() {
        bail!(
            "nothing to watch: name references (python:3.12-slim), files or directories, or pin first (pyimage.lock)"
        );
    }
    let platforms = pyimage_service::watch::platforms(&args.platforms)?;
    let store = crate::store::open(&crate::store::url(args.store.as_deref(), config)?).await?;
    let stdout_lines = args.notify.iter().any(|u| u == "-");
    let urls: Vec<String> = args.notify.iter().filter(|u| *u != "-").cloned().collect();
    let notifier = Notifier::new(
        urls,
        Duration::from_secs(10),
        args.notify_retries,
        Duration::from_secs(1),
    )
    .map_err(anyhow::Error::msg)?;
    let watcher = Watcher::new(
        crate::progress::resolver(client),
        store,
        WatchOptions {
            platforms,
            source: run::recorder(),
        },
    );
    let schedule = Schedule {
        interval: args.interval,
        once: args.once,
    };
    let mut printer = Printer { stdout_lines };
    let outcome = watcher
        .run(
            &references,
            schedule,
            &notifier,
            &mut printer,
            pyimage_service::signals::stop_requested(),
        )
        .await?;
    let (_, failed) = notifier.counts();
    if failed > 0 {
        eprintln!("pyimage: {failed} notification(s) could not be delivered");
    }
    Ok(outcome)
}

/// Prints moves (as text, or as JSON lines with `--notify -`) and logs each poll.
struct Printer {
    stdout_lines: bool,
}

impl Announce for Printer {
    fn moved(&mut self, payload: &Payload) -> std::io::Result<()> {
        if self.stdout_lines {
            let line = serde_json::to_string(payload).map_err(std::io::Error::other)?;
            writeln!(std::io::stdout(), "{line}")
        } else {
            // The text names packages and digests a registry sent: escaped like all human output.
            writeln!(crate::render::terminal::stdout(), "{}", payload.text)
        }
    }

    fn polled(&mut self, report: &PollReport, notifier: &Notifier) {
        summarize(report, notifier);
    }
}

fn summarize(report: &PollReport, notifier: &Notifier) {
    for (reference, error) in &report.errors {
        crate::render::terminal::eprintln(format_args!("pyimage: error: {reference}: {error}"));
    }
    let (delivered, failed) = notifier.counts();
    tracing::info!(
        checked = report.checked,
        // A tag seen for the first time starts its history; it is not a move (as on the drift page).
        moved = report
            .moves
            .iter()
            .filter(|event| event.kind != "new-tag")
            .count(),
        first_seen = report
            .moves
            .iter()
            .filter(|event| event.kind == "new-tag")
            .count(),
        unchanged = report.unchanged,
        recorded_elsewhere = report.recorded_elsewhere,
        errors = report.errors.len(),
        delivered,
        failed,
        "poll finished"
    );
}

/// The references to watch: REF arguments, references found in PATH arguments, else the lock's.
fn targets(args: &WatchArgs, config: &LoadedConfig) -> anyhow::Result<Vec<Reference>> {
    let mut references = Vec::new();
    let mut paths = Vec::new();
    for target in &args.targets {
        if Path::new(target).exists() {
            paths.push(PathBuf::from(target));
            continue;
        }
        let reference = Reference::parse_normalized(target)
            .with_context(|| format!("{target:?} is neither a file nor an image reference"))?;
        references.push(targets::tag_of(&reference).with_context(|| {
            format!("{target}: a digest never moves; watch a tag (python:3.12-slim)")
        })?);
    }
    if !paths.is_empty() {
        let mut variables = pyimage_service::sources::ComposeVariables::beside_each_file();
        let gathered = config.gather(&paths, &mut variables)?;
        for file in &gathered.passed_over {
            crate::render::terminal::eprintln(format_args!(
                "pyimage: {}: skipped: {}",
                file.path, file.message
            ));
        }
        if let Some(error) = gathered.errors.first() {
            bail!("{error}");
        }
        references.extend(targets::in_sources(
            &gathered.sources,
            &config.settings.policy,
            &args.build.scan_options(),
        ));
    }
    if args.targets.is_empty() {
        let lock = config.read_lock(args.lock.as_deref())?;
        references.extend(targets::in_lock(&lock));
    }
    Ok(targets::unique(references))
}
