//! `pyimage pin PATHS...`: adds the digest each Python image reference points at now, with byte-minimal edits,
//! and records what each reference meant in `pyimage.lock`. Planning is `pyimage_service::pin`, writing
//! `pyimage_service::apply` (shared with `update`); this module turns flags into those calls and renders the report.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pyimage_registry::{Platform, RegistryClient};
use pyimage_service::apply::{FileEdit, Mode, apply};
use pyimage_service::pin::{PinChange, PinOptions, PinSkip, plan_pin};
use pyimage_service::{ErrorKind, Outcome};
use pyimage_store::located::FileError;
use pyimage_store::write;
use serde::Serialize;

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

#[derive(Serialize)]
struct PinReport {
    changes: Vec<PinChange>,
    skipped: Vec<PinSkip>,
    /// Files a walk met and did not read (symlinks, FIFOs), with the reason.
    skipped_files: Vec<FileError>,
    errors: Vec<FileError>,
    files_changed: usize,
    lock: Option<String>,
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
    let (lock_path, old_lock) = config.read_lock(args.lock.as_deref())?;
    // A file that cannot be found or read is reported and the rest is pinned; the exit code says so at the end.
    let mut variables = args.build.compose_variables()?;
    let gathered = config.gather(&args.paths, &mut variables)?;
    let resolver = crate::progress::resolver(client);
    let options = PinOptions {
        platform,
        exact_tag: args.exact_tag,
        build: args.build.scan_options(),
        policy: config.settings.policy.clone(),
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
    let edits: Vec<FileEdit<'_>> = plan
        .rewrites
        .iter()
        .map(|rewrite| FileEdit {
            path: &gathered.found[rewrite.index].path,
            old_text: &gathered.sources[rewrite.index].text,
            new_text: &rewrite.new_text,
            lock_keys: &rewrite.lock_keys,
        })
        .collect();
    let applied = apply(&edits, &old_lock, plan.lock.clone(), &lock_path, mode)?;
    let mut outcome = Outcome::from_failure(plan.failure);
    let mut errors = gathered.errors;
    errors.extend(plan.errors);
    outcome = outcome.and_if(!errors.is_empty(), ErrorKind::Input);
    let mut report = PinReport {
        changes: Vec::new(),
        skipped: plan.skipped,
        skipped_files: gathered.passed_over,
        errors,
        files_changed: applied.files_written(),
        lock: applied.lock.as_ref().map(|path| path.display().to_string()),
    };
    for (rewrite, not_written) in plan.rewrites.into_iter().zip(&applied.not_written) {
        match not_written {
            None => report.changes.extend(rewrite.changes),
            Some(reason) => {
                outcome.met(ErrorKind::Input);
                report
                    .skipped
                    .extend(rewrite.changes.into_iter().map(|change| PinSkip {
                        path: change.path,
                        line: change.line,
                        column: change.column,
                        reference: change.reference,
                        reason: reason.clone(),
                    }));
            }
        }
    }
    for error in &report.errors {
        crate::render::terminal::eprintln(format_args!("pyimage: error: {error}"));
    }
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Human => print_human(&report, args, &applied.diffs)?,
    }
    tracing::debug!(stats = ?resolver.client().stats(), "registry requests");
    Ok(outcome.and_if(args.check && !report.changes.is_empty(), ErrorKind::Policy))
}

fn print_human(report: &PinReport, args: &PinArgs, diffs: &str) -> anyhow::Result<()> {
    let mut out = crate::render::terminal::stdout();
    if args.dry_run {
        write!(out, "{diffs}")?;
    }
    let verb = if args.dry_run || args.check {
        "would pin"
    } else {
        "pinned"
    };
    for change in &report.changes {
        let via = change
            .via_arg
            .as_ref()
            .map(|a| format!(" via {a}"))
            .unwrap_or_default();
        let python = change
            .python
            .as_ref()
            .map(|p| format!(", Python {p}"))
            .unwrap_or_default();
        let platform = change
            .platform
            .as_ref()
            .map(|p| format!(", {p} manifest"))
            .unwrap_or_default();
        writeln!(
            out,
            "{}:{}:{}: {verb} {} -> {}{via}{platform}{python}",
            change.path, change.line, change.column, change.reference, change.pinned
        )?;
    }
    for skip in &report.skipped {
        writeln!(
            out,
            "{}:{}:{}: skipped {}: {}",
            skip.path, skip.line, skip.column, skip.reference, skip.reason
        )?;
    }
    for file in &report.skipped_files {
        writeln!(out, "{}: skipped: {}", file.path, file.message)?;
    }
    writeln!(
        out,
        "{verb} {} reference(s) in {} file(s); {} skipped{}",
        report.changes.len(),
        report.files_changed,
        report.skipped.len(),
        report
            .lock
            .as_ref()
            .map(|l| format!("; lock: {l}"))
            .unwrap_or_default()
    )?;
    Ok(())
}
