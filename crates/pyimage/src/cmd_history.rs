//! `pyimage history [REF...]`: the timeline of each tag from the history store `pyimage watch` fills — every move
//! with its digests, kind, Python versions, base image, commit and package changes — and, with `--lock`, how far
//! each locked reference is behind its tag; `--format html` is the drift page as one self-contained file (a CI
//! artifact). Reads the store only; asks no registry.

use pyimage_service::Outcome;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use pyimage_service::drift;
use pyimage_service::watch::history as history_of;
use pyimage_store::Store;

use crate::config::LoadedConfig;
use crate::output::print_json;
use crate::render::feed;
use crate::render::history::{self, Shown};
use crate::render::terminal;

#[derive(Args)]
pub struct HistoryArgs {
    /// Tags to show (`python:3.12-slim`); default: every tag in the store.
    #[arg(value_name = "REF")]
    references: Vec<String>,
    /// Only moves observed at or after this time (`2026-08-01` or `2026-08-01T12:00:00Z`).
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// The history store: `sqlite:PATH` or `postgres://…` (default: [store] url, else
    /// $XDG_DATA_HOME/pyimage/history.db).
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// For each reference of this lock file: is its pinned digest still where the tag points, and if not, since
    /// when it is stale and how many moves behind.
    #[arg(long, value_name = "FILE")]
    lock: Option<PathBuf>,
    /// Output format: `html` is the drift page (timelines, and stale pins with `--lock`) as one file that needs no
    /// network to open; `renovate` is one repository's tags as a Renovate custom datasource (each tag's digest dated
    /// by when the registry first served it).
    #[arg(long, value_enum, default_value = "human")]
    format: HistoryFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum HistoryFormat {
    Human,
    Json,
    Csv,
    Html,
    Renovate,
}

pub async fn run(args: &HistoryArgs, config: &LoadedConfig) -> anyhow::Result<Outcome> {
    if args.format == HistoryFormat::Renovate && (args.since.is_some() || args.lock.is_some()) {
        anyhow::bail!(
            "--format renovate dates every digest from the whole history: drop --since and --lock"
        );
    }
    let since = args.since.as_deref().map(history_of::since).transpose()?;
    let url = crate::store::url(args.store.as_deref(), config)?;
    let store = crate::store::open_read_only(&url).await?;
    if args.format == HistoryFormat::Html {
        return page(args, &store).await;
    }
    if let Some(lock) = &args.lock {
        return staleness(&store, lock, args.format).await;
    }
    let named = history_of::named_tags(&args.references)?;
    let (events, without_moves) = history_of::timelines(&store, &named, since.as_deref()).await?;
    for tag in without_moves {
        eprintln!(
            "pyimage: {tag}: no moves recorded (is `pyimage watch` running with this store?)"
        );
    }
    store.close().await;
    let mut out = terminal::stdout();
    match args.format {
        HistoryFormat::Json => print_json(&events.iter().map(Shown::of).collect::<Vec<_>>())?,
        HistoryFormat::Csv => history::csv(&mut out, &events)?,
        HistoryFormat::Renovate => print_json(&feed::renovate_feed(&events)?)?,
        // `--format html` returned above, with the page.
        HistoryFormat::Human | HistoryFormat::Html => history::human(&mut out, &events)?,
    }
    Ok(Outcome::OK)
}

/// `--format html`: the drift page of the named tags (or all), with the lock's stale pins when `--lock` is given.
async fn page(args: &HistoryArgs, store: &Store) -> anyhow::Result<Outcome> {
    let tags = history_of::named_tags(&args.references)?;
    let lock = match &args.lock {
        Some(path) => Some((
            path.display().to_string(),
            pyimage_store::lock_file::read(path)?,
        )),
        None => None,
    };
    let lock_shown = lock.as_ref().map(|(shown, lock)| (shown.as_str(), lock));
    let page = drift::assemble(Some(store), &tags, lock_shown, None).await?;
    // The same verdict as the other formats: a stale pin exits 1, whatever the output looks like.
    let stale = match &lock {
        Some((_, lock)) => drift::standings(store, lock)
            .await?
            .iter()
            .any(|standing| standing.status == "stale"),
        None => false,
    };
    store.close().await;
    let mut out = std::io::stdout().lock();
    std::io::Write::write_all(&mut out, page.as_bytes()).context("writing the page")?;
    Ok(Outcome::OK.and_if(stale, pyimage_service::ErrorKind::Policy))
}

async fn staleness(
    store: &Store,
    lock_path: &std::path::Path,
    format: HistoryFormat,
) -> anyhow::Result<Outcome> {
    let lock = pyimage_store::lock_file::read(lock_path)?;
    let rows = drift::standings(store, &lock).await?;
    store.close().await;
    let mut out = terminal::stdout();
    match format {
        HistoryFormat::Json => print_json(&rows)?,
        HistoryFormat::Csv => history::standings_csv(&mut out, &rows)?,
        // `--format renovate` with `--lock` is refused in `run`.
        HistoryFormat::Human | HistoryFormat::Html | HistoryFormat::Renovate => {
            history::standings_human(&mut out, &rows)?
        }
    }
    let stale = rows.iter().any(|r| r.status == "stale");
    // A stale pin is what the policy is about: exit 1, as a deny finding of `check` is.
    Ok(Outcome::OK.and_if(stale, pyimage_service::ErrorKind::Policy))
}
