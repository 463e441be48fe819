//! `pyimage check`: flags → `pyimage_service::check::check` (the walk, reading and checking in parallel, the merge)
//! → a renderer.
//!
//! Exit codes: 0 no deny-level findings, 1 deny-level findings, 2 usage or input errors (unreadable files, invalid
//! YAML, bad configuration) — input errors win over findings.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use clap::Args;
use pyimage_policy::check::Severity;
use pyimage_policy::config::Overrides;
use pyimage_service::check::{self, CheckRequest, Inputs};
use pyimage_store::files::Tree;

use crate::config;
use crate::render::{self, CheckFormat};

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
    /// Print every rule's documentation as one Markdown text and exit.
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

/// Runs `pyimage check`.
pub fn run(
    args: &CheckArgs,
    config_path: Option<&Path>,
    color: crate::output::Color,
) -> anyhow::Result<pyimage_service::Outcome> {
    let docs = render::rules::requested(
        args.list_rules,
        args.explain.as_deref(),
        args.rules_markdown,
    )
    .map_err(anyhow::Error::msg)?;
    if let Some(text) = docs {
        std::io::stdout().lock().write_all(text.as_bytes())?;
        return Ok(pyimage_service::Outcome::OK);
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
            pyimage_model::time::parse_date(text).map_err(|error| anyhow!("--today {error}"))?
        }
        None => pyimage_service::clock::today(),
    };
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let base = loaded.base_dir(&cwd);
    let mut variables = args.build.compose_variables()?;
    let inputs = match &args.stdin_filename {
        Some(_) if !args.paths.is_empty() => {
            bail!("--stdin-filename reads standard input: give no PATH")
        }
        Some(name) => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read standard input as UTF-8")?;
            Inputs::Stdin { name, text }
        }
        None => Inputs::Paths(&args.paths),
    };
    let baseline = match args.locked {
        true => Some(check::LockedBaseline::read(
            &loaded.lock_path(args.lock.as_deref()),
        )?),
        false => None,
    };
    let request = CheckRequest {
        tree: Tree {
            cwd: &cwd,
            base: &base,
            exclude: &loaded.settings.exclude,
        },
        policy,
        config_text: &loaded.text,
        lock: baseline.as_ref().map(|baseline| &baseline.lock),
        today,
        build: &args.build.scan_options(),
    };
    let report = check::check(inputs, &request, &mut variables)?;
    if let Some(baseline) = &baseline {
        baseline.verdict(&report)?;
        if !baseline.exists {
            eprintln!(
                "pyimage: note: --locked: {} does not exist, and no image here needs it (nothing pyimage pins)",
                baseline.path.display()
            );
        }
    }
    let config_shown = policy.config_path.as_deref();
    let rendered = match args.format {
        CheckFormat::Human => {
            let color = color.enabled(std::io::stdout().is_terminal());
            render::check::human(&report, config_shown, color)
        }
        CheckFormat::Json => render::check::json(&report, config_shown)?,
        CheckFormat::Sarif => render::check::sarif(&report, config_shown)?,
        CheckFormat::Github => {
            render::terminal::escape(&render::check::github(&report, config_shown)).into_owned()
        }
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(rendered.as_bytes())?;
    stdout.flush()?;
    for error in &report.errors {
        crate::render::terminal::eprintln(format_args!("pyimage: error: {error}"));
    }
    Ok(report.outcome())
}
