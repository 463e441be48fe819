//! `pyimage pin PATHS...`: adds the digest each Python image reference points at now, with byte-minimal edits,
//! and records what each reference meant in `pyimage.lock`. Planning is `pyimage_service::pin`; this module finds
//! and reads the files, writes them atomically and renders the report.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use pyimage_registry::{Platform, RegistryClient};
use pyimage_service::ErrorKind;
use pyimage_service::pin::{PinChange, PinOptions, PinSkip, plan_pin};
use serde::Serialize;

use crate::config::LoadedConfig;
use crate::files;
use crate::output::{Format, print_json};
use crate::write::{self, WriteOutcome};

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
    skipped_files: Vec<files::FileError>,
    errors: Vec<files::FileError>,
    files_changed: usize,
    lock: Option<String>,
}

pub async fn run(
    args: &PinArgs,
    client: RegistryClient,
    config: &LoadedConfig,
) -> anyhow::Result<ExitCode> {
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
    let lock = files::read_lock(&lock_path)?;
    let old_lock_text = lock.render();
    let old_lock = lock.clone();
    // A file that cannot be found or read is reported and the rest is pinned; the exit code says so at the end.
    let (mut errors, mut skipped_files) = (Vec::new(), Vec::new());
    let found = files::discover(&args.paths, config, &mut errors, &mut skipped_files)?;
    let mut variables = args.build.compose_variables()?;
    let (found, sources) = files::read_all(found, &mut variables, &mut errors);
    let resolver = crate::progress::resolver(client);
    let options = PinOptions {
        platform,
        exact_tag: args.exact_tag,
        build: args.build.scan_options(),
        policy: config.settings.policy.clone(),
    };
    let now = pyimage_service::clock::now_rfc3339();
    let plan = plan_pin(&resolver, &sources, lock, &options, &now).await;
    for error in &errors {
        crate::render::terminal::eprintln(format_args!("pyimage: error: {error}"));
    }
    for error in &plan.errors {
        crate::render::terminal::eprintln(format_args!("pyimage: {error}"));
    }
    let failure = if errors.is_empty() {
        plan.failure
    } else {
        ErrorKind::worst(plan.failure, ErrorKind::Input)
    };
    let mut report = PinReport {
        changes: Vec::new(),
        skipped: plan.skipped,
        skipped_files,
        errors,
        files_changed: 0,
        lock: None,
    };
    let mut diffs = String::new();
    let mut lock = plan.lock;
    // Files written (path, old text, new text), to roll back if the lock cannot be written; the lock keys of
    // the changes in written files, and those of files left as they were.
    let mut written: Vec<(PathBuf, String, String)> = Vec::new();
    let (mut kept_keys, mut dropped_keys) = (Vec::new(), Vec::new());
    let mut failure = failure;
    for rewrite in plan.rewrites {
        let (file, source) = (&found[rewrite.index], &sources[rewrite.index]);
        if args.dry_run {
            diffs.push_str(&write::unified_diff(
                &file.path,
                &source.text,
                &rewrite.new_text,
            ));
        } else if !args.check {
            let reason = match write::write_atomically(&file.path, &source.text, &rewrite.new_text)
            {
                Ok(WriteOutcome::Written) => None,
                Ok(WriteOutcome::ChangedSinceRead) => {
                    Some("the file changed since pyimage read it; run pin again".to_owned())
                }
                Ok(WriteOutcome::NotReplaced(reason)) => Some(reason),
                Err(error) => Some(format!("{error:#}")),
            };
            if let Some(reason) = reason {
                failure = ErrorKind::worst(failure, ErrorKind::Input);
                dropped_keys.extend(rewrite.changes.iter().map(lock_key));
                report
                    .skipped
                    .extend(rewrite.changes.into_iter().map(|change| PinSkip {
                        path: change.path,
                        line: change.line,
                        column: change.column,
                        reference: change.reference,
                        reason: reason.clone(),
                    }));
                continue;
            }
            written.push((file.path.clone(), source.text.clone(), rewrite.new_text));
        }
        kept_keys.extend(rewrite.changes.iter().map(lock_key));
        report.files_changed += 1;
        report.changes.extend(rewrite.changes);
    }
    // A reference whose file was not written gets no lock entry (unless another written file pins it too).
    for key in dropped_keys {
        if kept_keys.contains(&key) {
            continue;
        }
        match old_lock.get(&key) {
            Some(entry) => lock.insert(entry.clone()),
            None => {
                lock.images.remove(&key);
            }
        }
    }
    let new_lock_text = lock.render();
    if new_lock_text != old_lock_text {
        report.lock = Some(lock_path.display().to_string());
        if args.dry_run {
            let old = if lock_path.exists() {
                old_lock_text.as_str()
            } else {
                ""
            };
            diffs.push_str(&write::unified_diff(&lock_path, old, &new_lock_text));
        } else if !args.check
            && let Err(error) = write::replace_atomically(&lock_path, &new_lock_text)
        {
            // The files and the lock go together: put the files back as they were.
            let mut unrestored = Vec::new();
            for (path, old, new) in &written {
                if !matches!(
                    write::write_atomically(path, new, old),
                    Ok(WriteOutcome::Written)
                ) {
                    unrestored.push(path.display().to_string());
                }
            }
            let restored = if unrestored.is_empty() {
                format!("the {} file(s) pinned were restored", written.len())
            } else {
                format!("could not restore {}", unrestored.join(", "))
            };
            return Err(error.context(format!(
                "cannot write the lock {}; {restored}",
                lock_path.display()
            )));
        }
    }
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Human => print_human(&report, args, &diffs)?,
    }
    tracing::debug!(stats = ?resolver.client().stats(), "registry requests");
    Ok(match failure {
        Some(kind) => ExitCode::from(kind.exit_code()),
        None if args.check && !report.changes.is_empty() => {
            ExitCode::from(ErrorKind::Policy.exit_code())
        }
        None => ExitCode::SUCCESS,
    })
}

/// The lock entry a change recorded: what it pinned, without the digest.
fn lock_key(change: &PinChange) -> String {
    change
        .pinned
        .rsplit_once('@')
        .map_or(change.pinned.clone(), |(key, _)| key.to_owned())
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
