//! `pyimage update PATHS...`: moves pinned Python references when the registry says so, per the environment's
//! `update` policy, and says why (see `pyimage_service::update` and `pyimage_core::moves::classify_move`):
//! * **rebuild**: the same tag now points at another digest (a Debian/Alpine security rebuild) → move the digest;
//! * **patch**: a newer patch release of the same line, variant and OS exists (`3.12.3-slim` → `3.12.14-slim`), or a
//!   floating tag now carries a newer patch → move tag and digest when the environment allows `update = "patch"`;
//! * never cross a minor line, variant or OS: newer lines are reported as available.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use pyimage_core::check::policy::UpdatePolicy;
use pyimage_registry::RegistryClient;
use pyimage_service::apply::{FileEdit, Mode, apply};
use pyimage_service::update::{Available, FileEnvironment, UpdateChange, plan_update};
use pyimage_service::{ErrorKind, Outcome};
use pyimage_store::located::FileError;
use pyimage_store::write;
use serde::Serialize;

use crate::config::LoadedConfig;
use crate::output::{Format, print_json};

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
    format: Format,
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

#[derive(Serialize)]
struct UpdateReport {
    changes: Vec<UpdateChange>,
    available: Vec<Available>,
    /// Moves planned in files that could not be written, with the reason (their lock entries did not move).
    skipped: Vec<Skipped>,
    /// Files a walk met and did not read (symlinks, FIFOs), with the reason.
    skipped_files: Vec<FileError>,
    errors: Vec<FileError>,
}

/// A move not made because its file could not be written: the same shape as `pin`'s skipped references.
#[derive(Serialize)]
struct Skipped {
    path: String,
    line: usize,
    reference: String,
    reason: String,
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
    // Concurrent runs take turns from reading the lock to writing it (see `write::lock_directory`).
    let _turn = if args.dry_run {
        None
    } else {
        Some(write::lock_directory(
            &config.lock_path(args.lock.as_deref()),
        )?)
    };
    let (lock_path, old_lock) = config.read_lock(args.lock.as_deref())?;
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
            let update = policy
                .environments
                .get(name)
                .map_or(UpdatePolicy::Digest, |settings| settings.update);
            let environment = FileEnvironment {
                name: name.to_owned(),
                update,
            };
            (source, environment)
        })
        .collect::<Vec<_>>();
    let resolver = crate::progress::resolver(client);
    let now = pyimage_service::clock::now_rfc3339();
    let plan = plan_update(
        &resolver,
        &sources,
        old_lock.clone(),
        policy,
        &args.build.scan_options(),
        &now,
    )
    .await;
    let mode = if args.dry_run {
        Mode::DryRun
    } else {
        Mode::Write
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
    let mut errors = gathered.errors;
    errors.extend(plan.errors);
    let mut outcome =
        Outcome::from_failure(plan.failure).and_if(!errors.is_empty(), ErrorKind::Input);
    let mut report = UpdateReport {
        changes: Vec::new(),
        available: plan.available,
        skipped: Vec::new(),
        skipped_files: gathered.passed_over,
        errors,
    };
    for (rewrite, not_written) in plan.rewrites.into_iter().zip(&applied.not_written) {
        match not_written {
            None => report
                .changes
                .extend(rewrite.changes.into_iter().map(|change| UpdateChange {
                    applied: !args.dry_run,
                    ..change
                })),
            Some(reason) => {
                outcome.met(ErrorKind::Input);
                report
                    .skipped
                    .extend(rewrite.changes.into_iter().map(|change| Skipped {
                        path: change.path,
                        line: change.line,
                        reference: change.old,
                        reason: reason.clone(),
                    }));
            }
        }
    }
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Human => print_human(&report, &applied.diffs, args.dry_run)?,
    }
    tracing::debug!(stats = ?resolver.client().stats(), "registry requests");
    Ok(outcome)
}

/// A report fit to paste as a pull-request body.
fn print_human(report: &UpdateReport, diffs: &str, dry_run: bool) -> anyhow::Result<()> {
    let mut out = crate::render::terminal::stdout();
    if dry_run {
        write!(out, "{diffs}")?;
    }
    if report.changes.is_empty() {
        writeln!(out, "All pinned Python images are current.")?;
    } else {
        let verb = if dry_run { "would move" } else { "moved" };
        writeln!(
            out,
            "## Python base images: {} {verb}\n",
            report.changes.len()
        )?;
        writeln!(out, "| file | kind | from | to | Python | built |")?;
        writeln!(out, "|---|---|---|---|---|---|")?;
        for change in &report.changes {
            let python = match (&change.old_python, &change.new_python) {
                (Some(old), Some(new)) if old != new => format!("{old} → {new}"),
                (_, Some(new)) => new.clone(),
                _ => "-".to_owned(),
            };
            let kind = change.kind.describe();
            writeln!(
                out,
                "| {}:{} | {kind} | `{}` | `{}` | {python} | {} |",
                change.path,
                change.line,
                change.old,
                change.new,
                change.built.as_deref().unwrap_or("-")
            )?;
        }
    }
    if !report.available.is_empty() {
        writeln!(out, "\nAvailable but not applied:")?;
        for available in &report.available {
            writeln!(
                out,
                "- {}:{} `{}` → `{}`: {}",
                available.path,
                available.line,
                available.reference,
                available.available,
                available.why_not
            )?;
        }
    }
    for skip in &report.skipped {
        writeln!(
            out,
            "{}:{}: not moved {}: {}",
            skip.path, skip.line, skip.reference, skip.reason
        )?;
    }
    for file in &report.skipped_files {
        writeln!(out, "{}: skipped: {}", file.path, file.message)?;
    }
    for error in &report.errors {
        crate::render::terminal::eprintln(format_args!("pyimage: {error}"));
    }
    Ok(())
}
