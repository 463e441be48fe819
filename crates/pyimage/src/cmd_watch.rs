//! `pyimage watch [REF|PATH...]`: polls tags and records every move in the history store, explained (kind, Python
//! before/after, platform digests, base image, commit, package changes), and announces each move to `--notify`
//! webhooks (`-`: JSON lines on stdout). `--once` polls once (cron, CI); otherwise it polls every `--interval`
//! (with up to 10 % jitter) until SIGTERM or Ctrl-C, finishing the poll in flight. The polling is
//! `pyimage_service::watch`; this module finds the tags, runs the loop and prints.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Args;
use pyimage_core::{Platform, Reference};
use pyimage_registry::RegistryClient;
use pyimage_service::ErrorKind;
use pyimage_service::watch::notify::{Notifier, Payload};
use pyimage_service::watch::{PollReport, WatchOptions, Watcher, targets};

use crate::config::LoadedConfig;
use crate::files;

#[derive(Args)]
pub struct WatchArgs {
    /// References to watch (`python:3.12-slim`), or files and directories to find them in (as `check` does).
    /// Default: the references of pyimage.lock.
    #[arg(value_name = "REF|PATH")]
    targets: Vec<String>,
    /// Poll once and exit (for cron and CI).
    #[arg(long)]
    once: bool,
    /// Time between polls: `90s`, `15m`, `1h`, `1d`.
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = pyimage_core::time::parse_positive_duration)]
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
) -> anyhow::Result<ExitCode> {
    let references = targets(args, config)?;
    if references.is_empty() {
        bail!(
            "nothing to watch: name references (python:3.12-slim), files or directories, or pin first (pyimage.lock)"
        );
    }
    let mut platforms = Vec::new();
    for text in &args.platforms {
        platforms.push(Platform::parse(text).with_context(|| {
            format!("--platform {text:?}: expected OS/ARCH[/VARIANT] such as linux/amd64")
        })?);
    }
    if platforms.is_empty() {
        platforms.extend(Platform::parse("linux/amd64"));
    }
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
            source: source(),
        },
    );
    let stop = stop_signal();
    let mut worst = None;
    loop {
        let report = watcher.poll(&references).await;
        for event in &report.moves {
            let payload = Payload::of(event);
            if stdout_lines {
                println!("{}", serde_json::to_string(&payload)?);
            } else {
                // The text names packages and digests a registry sent: escaped like all human output.
                writeln!(crate::render::terminal::stdout(), "{}", payload.text)?;
            }
            notifier.send(&payload).await;
        }
        summarize(&report, &notifier);
        for (_, error) in &report.errors {
            worst = ErrorKind::worst(worst, error.kind);
        }
        if args.once || *stop.borrow() {
            break;
        }
        let mut stop = stop.clone();
        tokio::select! {
            () = tokio::time::sleep(jittered(args.interval)) => {}
            _ = stop.changed() => break,
        }
    }
    notifier.finish().await;
    watcher.store().close().await;
    let (_, failed) = notifier.counts();
    if failed > 0 {
        eprintln!("pyimage: {failed} notification(s) could not be delivered");
    }
    Ok(match worst {
        Some(kind) => ExitCode::from(kind.exit_code()),
        None => ExitCode::SUCCESS,
    })
}

fn summarize(report: &PollReport, notifier: &Notifier) {
    for (reference, error) in &report.errors {
        crate::render::terminal::eprintln(format_args!("pyimage: error: {reference}: {error}"));
    }
    let (delivered, failed) = notifier.counts();
    tracing::info!(
        checked = report.checked,
        moved = report.moves.len(),
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
        let (mut errors, mut passed_over) = (Vec::new(), Vec::new());
        let found = files::discover(&paths, config, &mut errors, &mut passed_over)?;
        for file in &passed_over {
            crate::render::terminal::eprintln(format_args!(
                "pyimage: {}: skipped: {}",
                file.path, file.message
            ));
        }
        let mut variables = crate::build_args::ComposeVariables::beside_each_file();
        let (_, sources) = files::read_all(found, &mut variables, &mut errors);
        if let Some(error) = errors.first() {
            bail!("{error}");
        }
        references.extend(targets::in_sources(
            &sources,
            &config.settings.policy,
            &args.build.scan_options(),
        ));
    }
    if args.targets.is_empty() {
        let lock = files::read_lock(&config.lock_path(args.lock.as_deref()))?;
        references.extend(targets::in_lock(&lock));
    }
    Ok(targets::unique(references))
}

/// Who records: `host:pid`.
fn source() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    format!("{host}:{}", std::process::id())
}

/// `interval` plus up to 10 % (so that several watchers do not poll in step).
fn jittered(interval: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    interval + interval.mul_f64(f64::from(nanos % 1000) / 10_000.0)
}

/// Becomes true on SIGTERM or Ctrl-C; the poll in flight finishes first.
fn stop_signal() -> tokio::sync::watch::Receiver<bool> {
    let (sender, receiver) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = terminate => {}
        }
        tracing::info!("stopping after the poll in flight");
        let _ = sender.send(true);
    });
    receiver
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_adds_at_most_a_tenth() {
        let jittered = jittered(Duration::from_secs(100));
        assert!(jittered >= Duration::from_secs(100) && jittered <= Duration::from_secs(110));
    }
}
