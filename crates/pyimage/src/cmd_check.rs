//! `pyimage check`: walks paths (respecting `.gitignore`), reads Dockerfiles, Compose files and Kubernetes manifests
//! in parallel, hands each text to `pyimage_core::check`, and renders the findings.
//!
//! Exit codes: 0 no deny-level findings, 1 deny-level findings, 2 usage or input errors (unreadable files, invalid
//! YAML, bad configuration) — input errors win over findings.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use clap::Args;
use pyimage_core::check::{
    CheckContext, FileKind, FileReport, Policy, Severity, check_file, unused_ignores,
};
use pyimage_core::config::Overrides;
use rayon::prelude::*;

use crate::config;
use crate::files::FileError;
use crate::render::{self, CheckFormat, Outcome};

/// Arguments of `pyimage check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files and directories to check (default: the current directory). Directories are walked respecting
    /// .gitignore; files named like Dockerfiles, Compose files or YAML manifests are checked.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: CheckFormat,
    /// Environment of every file (overrides [[paths]] and [policy] default-environment).
    #[arg(long, value_name = "ENV")]
    env: Option<String>,
    /// Report RULE (ID or name) as deny (repeatable).
    #[arg(long, value_name = "RULE")]
    deny: Vec<String>,
    /// Report RULE as warn (repeatable).
    #[arg(long, value_name = "RULE")]
    warn: Vec<String>,
    /// Do not report RULE (repeatable).
    #[arg(long, value_name = "RULE")]
    allow: Vec<String>,
    /// Read one file from standard input; NAME decides its kind, environment and shown path.
    #[arg(long, value_name = "NAME")]
    stdin_filename: Option<PathBuf>,
    /// List the rules and exit.
    #[arg(long)]
    list_rules: bool,
    /// Explain one rule (by ID or name): what it does, why, an example and the fix; then exit.
    #[arg(long, value_name = "RULE")]
    explain: Option<String>,
    /// Print the README section generated from the rule docs and exit.
    #[arg(long, hide = true)]
    rules_markdown: bool,
    /// Compare every Python reference with pyimage.lock (rule PY008): a digest that differs from the lock, or a
    /// tag-only reference the lock does not know, is a finding.
    #[arg(long)]
    locked: bool,
    /// The lock file (default: `pyimage.lock` beside the `pyimage.toml` in use, else in the current directory).
    #[arg(long, value_name = "FILE")]
    lock: Option<PathBuf>,
    /// Today's date for end-of-life decisions (YYYY-MM-DD; default: the system clock). For reproducible runs.
    #[arg(long, value_name = "DATE", env = "PYIMAGE_TODAY")]
    today: Option<String>,
    #[command(flatten)]
    build: crate::build_args::BuildArgs,
}

/// One file to check.
struct Input {
    shown: String,
    kind: FileKind,
    source: Source,
    /// Compose interpolation variables (`.env` beside the file, or `--env-file`).
    variables: std::collections::BTreeMap<String, String>,
}

enum Source {
    File(PathBuf),
    Text(String),
}

/// Runs `pyimage check`.
pub fn run(
    args: &CheckArgs,
    config_path: Option<&Path>,
    color: crate::output::Color,
) -> anyhow::Result<ExitCode> {
    let docs = render::rules::requested(
        args.list_rules,
        args.explain.as_deref(),
        args.rules_markdown,
    )?;
    if let Some(text) = docs {
        std::io::stdout().lock().write_all(text.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let given = [
        (&args.allow, Severity::Allow),
        (&args.warn, Severity::Warn),
        (&args.deny, Severity::Deny),
    ];
    let severities = given
        .into_iter()
        .flat_map(|(rules, severity)| rules.iter().map(move |rule| (rule.clone(), severity)))
        .collect();
    let overrides = Overrides {
        environment: args.env.clone(),
        severities,
    };
    let start = args
        .stdin_filename
        .as_deref()
        .or(args.paths.first().map(PathBuf::as_path));
    let loaded = config::load(config_path, start, &overrides)?;
    let policy = &loaded.settings.policy;
    let today = match &args.today {
        Some(text) => {
            pyimage_core::time::parse_date(text).map_err(|error| anyhow!("--today {error}"))?
        }
        None => pyimage_service::clock::today(),
    };
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let base = loaded.base_dir(&cwd);
    let (mut errors, mut passed_over): (Vec<FileError>, Vec<FileError>) = Default::default();
    let mut compose = args.build.compose_variables()?;
    let inputs = if let Some(name) = &args.stdin_filename {
        if !args.paths.is_empty() {
            bail!("--stdin-filename reads standard input: give no PATH");
        }
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read standard input as UTF-8")?;
        let Some(kind) = FileKind::for_path(&name.to_string_lossy()) else {
            bail!(
                "--stdin-filename {}: not a Dockerfile, YAML or JSON name (Dockerfile, *.Dockerfile, compose.yaml, *.yaml, *.json)",
                name.display()
            );
        };
        vec![Input {
            shown: crate::files::relative(name, &base, &cwd),
            kind,
            variables: compose.for_file(name, kind, &mut errors),
            source: Source::Text(text),
        }]
    } else {
        crate::files::discover(&args.paths, &loaded, &mut errors, &mut passed_over)?
            .into_iter()
            .map(|found| Input {
                variables: compose.for_file(&found.path, found.kind, &mut errors),
                shown: found.policy_path,
                kind: found.kind,
                source: Source::File(found.path),
            })
            .collect()
    };
    let lock_path = loaded.lock_path(args.lock.as_deref());
    let lock = if args.locked {
        Some(crate::files::read_lock(&lock_path).and_then(|lock| {
            if lock.images.is_empty() && !lock_path.exists() {
                anyhow::bail!(
                    "--locked: {} does not exist; create it with `pyimage pin`",
                    lock_path.display()
                )
            }
            Ok(lock)
        })?)
    } else {
        None
    };
    let context = CheckContext {
        today,
        lock: lock.as_ref(),
        build: &args.build.scan_options(),
    };
    let reports: Vec<(Input, Checked)> = inputs
        .into_par_iter()
        .map(|input| {
            let result = check_input(&input, policy, &context);
            (input, result)
        })
        .collect();
    let mut outcome = Outcome {
        skipped: passed_over,
        ..Outcome::default()
    };
    let mut used = BTreeSet::new();
    for (input, result) in reports {
        match result {
            Err(error) => errors.push(error),
            Ok((report, text)) => {
                if report.not_a_manifest {
                    continue;
                }
                if report.error.is_none() {
                    outcome.files_scanned += 1;
                }
                used.extend(report.used_ignores.iter().copied());
                if let Some(skipped) = report.skipped {
                    outcome.skipped.push(FileError {
                        path: input.shown.clone(),
                        line: Some(skipped.line),
                        column: Some(skipped.column),
                        message: skipped.reason.to_string(),
                    });
                }
                if let Some(error) = report.error {
                    errors.push(FileError {
                        path: input.shown.clone(),
                        line: Some(error.line),
                        column: Some(error.column),
                        message: format!(
                            "{} (fix the YAML, or exclude the file with [policy] exclude)",
                            error.message
                        ),
                    });
                }
                if !report.findings.is_empty()
                    && let Some(text) = text
                {
                    outcome.texts.insert(input.shown.clone(), text);
                }
                outcome.findings.extend(report.findings);
            }
        }
    }
    if args.stdin_filename.is_none() {
        let unused = unused_ignores(policy, &used);
        if !unused.is_empty() {
            outcome
                .texts
                .insert(unused[0].file().path.clone(), loaded.text.clone());
        }
        outcome.findings.extend(unused);
    }
    outcome.finish(errors);
    let config_shown = policy.config_path.as_deref();
    let rendered = match args.format {
        CheckFormat::Human => {
            let color = color.enabled(std::io::stdout().is_terminal());
            render::human(&outcome, config_shown, color)
        }
        CheckFormat::Json => render::json(&outcome, config_shown)?,
        CheckFormat::Sarif => render::sarif(&outcome, config_shown)?,
        CheckFormat::Github => {
            render::terminal::escape(&render::github(&outcome, config_shown)).into_owned()
        }
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(rendered.as_bytes())?;
    stdout.flush()?;
    for error in &outcome.errors {
        crate::render::terminal::eprintln(format_args!("pyimage: error: {error}"));
    }
    Ok(outcome.exit_code())
}

/// A file's report and, when it has findings, its text (for snippets); or why it could not be read.
type Checked = Result<(FileReport, Option<String>), FileError>;

fn check_input(input: &Input, policy: &Policy, context: &CheckContext<'_>) -> Checked {
    let owned;
    let text = match &input.source {
        Source::Text(text) => text.as_str(),
        Source::File(path) => {
            owned = crate::files::read(path)
                .map_err(|message| FileError::file(input.shown.clone(), message))?;
            owned.as_str()
        }
    };
    let build;
    let context = if input.variables.is_empty() {
        context
    } else {
        build = pyimage_core::dockerfile::ScanOptions {
            build_args: context.build.build_args.clone(),
            variables: input.variables.clone(),
        };
        &CheckContext {
            build: &build,
            ..*context
        }
    };
    let report = check_file(&input.shown, text, input.kind, policy, context);
    let keep = (!report.findings.is_empty()).then(|| text.to_owned());
    Ok((report, keep))
}
