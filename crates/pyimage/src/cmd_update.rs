//! `pyimage update PATHS...`: moves pinned Python references when the registry says so, per the environment's
//! `update` policy, and says why (see `pyimage_service::update` and `pyimage_core::moves::classify_move`):
//! * **rebuild**: the same tag now points at another digest (a Debian/Alpine security rebuild) → move the digest;
//! * **patch**: a newer patch release of the same line, variant and OS exists (`3.12.3-slim` → `3.12.14-slim`), or a
//!   floating tag now carries a newer patch → move tag and digest when the environment allows `update = "patch"`;
//! * never cross a minor line, variant or OS: newer lines are reported as available.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use pyimage_core::check::policy::UpdatePolicy;
use pyimage_registry::RegistryClient;
use pyimage_service::update::{Available, FileEnvironment, UpdateChange, plan_update};
use serde::Serialize;

use crate::config::LoadedConfig;
use crate::files;
use crate::output::{Format, print_json};
use crate::write::{self, WriteOutcome};

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
    /// Files a walk met and did not read (symlinks, FIFOs), with the reason.
    skipped_files: Vec<files::FileError>,
    errors: Vec<String>,
}

fn shown(path: &Path) -> String {
    let text = path.display().to_string();
    text.strip_prefix("./").map(str::to_owned).unwrap_or(text)
}

pub async fn run(
    args: &UpdateArgs,
    client: RegistryClient,
    config: &LoadedConfig,
) -> anyhow::Result<ExitCode> {
    let policy = &config.settings.policy;
    let lock_path = config.lock_path(args.lock.as_deref());
    // Concurrent runs take turns from reading the lock to writing it (see `write::lock_directory`).
    let _turn = if args.dry_run {
        None
    } else {
        Some(write::lock_directory(&lock_path)?)
    };
    let lock = files::read_lock(&lock_path)?;
    let old_lock_text = lock.render();
    // A file that cannot be found or read is reported and the rest is updated; the exit code says so at the end.
    let (mut file_errors, mut skipped_files) = (Vec::new(), Vec::new());
    let found = files::discover(&args.paths, config, &mut file_errors, &mut skipped_files)?;
    let mut variables = args.build.compose_variables()?;
    let (found, sources) = files::read_all(found, &mut variables, &mut file_errors);
    let sources = sources
        .into_iter()
        .zip(&found)
        .map(|(mut source, file)| {
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
        lock,
        policy,
        &args.build.scan_options(),
        &now,
    )
    .await;
    let failure = if file_errors.is_empty() {
        plan.failure
    } else {
        pyimage_service::ErrorKind::worst(plan.failure, pyimage_service::ErrorKind::Input)
    };
    let mut errors: Vec<String> = file_errors.iter().map(ToString::to_string).collect();
    errors.extend(plan.errors);
    let mut report = UpdateReport {
        changes: Vec::new(),
        available: plan.available,
        skipped_files,
        errors,
    };
    let mut diffs = String::new();
    for rewrite in plan.rewrites {
        let (file, source) = (&found[rewrite.index], &sources[rewrite.index].0);
        let mut changes = rewrite.changes;
        if args.dry_run {
            diffs.push_str(&write::unified_diff(
                &file.path,
                &source.text,
                &rewrite.new_text,
            ));
            for change in &mut changes {
                change.applied = false;
            }
        } else {
            let note = match write::write_atomically(&file.path, &source.text, &rewrite.new_text)? {
                WriteOutcome::Written => None,
                WriteOutcome::ChangedSinceRead => {
                    Some("the file changed since pyimage read it; run update again".to_owned())
                }
                WriteOutcome::NotReplaced(reason) => Some(reason),
            };
            if let Some(note) = note {
                for change in &mut changes {
                    change.applied = false;
                    change.note = Some(note.clone());
                }
            }
        }
        report.changes.extend(changes);
    }
    let new_lock_text = plan.lock.render();
    if new_lock_text != old_lock_text {
        if args.dry_run {
            diffs.push_str(&write::unified_diff(
                &lock_path,
                &old_lock_text,
                &new_lock_text,
            ));
        } else {
            write::replace_atomically(&lock_path, &new_lock_text)
                .context("writing the lock file")?;
        }
    }
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Human => print_human(&report, &diffs, args.dry_run)?,
    }
    tracing::debug!(stats = ?resolver.client().stats(), "registry requests");
    Ok(match failure {
        Some(kind) => ExitCode::from(kind.exit_code()),
        None => ExitCode::SUCCESS,
    })
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
    for file in &report.skipped_files {
        writeln!(out, "{}: skipped: {}", file.path, file.message)?;
    }
    for error in &report.errors {
        crate::render::terminal::eprintln(format_args!("pyimage: {error}"));
    }
    Ok(())
}
