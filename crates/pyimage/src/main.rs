//! The `pyimage` command line: a thin front end — flags, one call into pyimage-service or a pure crate, a renderer.
//!
//! Every command ends in a `pyimage_service::Outcome` (an error that reaches `main` is classified by
//! [`error_kind`]); `main` turns it into the exit code, in one place: 0 ok, 1 policy findings, 2 usage or input
//! error, 3 registry or engine unreachable.

mod build_args;
mod cmd_check;
mod cmd_export;
mod cmd_history;
mod cmd_init;
mod cmd_ls;
mod cmd_pin;
mod cmd_provenance;
mod cmd_ref;
mod cmd_resolve;
mod cmd_serve;
mod cmd_shell;
mod cmd_tags;
mod cmd_update;
mod cmd_verify;
mod cmd_watch;
mod config;
mod output;
mod progress;
mod render;
mod store;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory as _, Parser, Subcommand};
use pyimage_registry::{ClientOptions, CredentialStore, RegistryClient};
use pyimage_service::{ErrorKind, Outcome};

#[derive(Parser)]
#[command(
    name = "pyimage",
    version,
    about = "Trustworthy, reproducible Python container base images",
    long_about = "pyimage reads image references exactly as Docker does, knows what every tag of the official \
                  Python image promises, resolves tags to verified digests, checks Dockerfiles, Compose files and \
                  Kubernetes manifests against a policy, pins and updates them with pyimage.lock, and verifies \
                  local images and their provenance."
)]
struct Cli {
    /// Configuration file (default: $PYIMAGE_CONFIG, else the nearest pyimage.toml from the first path (or the
    /// current directory) up to the repository root, else built-in defaults).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Log what pyimage does to stderr (`-v` info, `-vv` debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Give up on a command that asks registries (resolve, tags, pin, update, verify, provenance, watch --once)
    /// when it has not finished within this (`90s`, `5m`): exit code 3 instead of waiting on a slow registry
    /// request after request. `serve` and a continuous `watch` are not bounded.
    #[arg(long, global = true, value_name = "DURATION", value_parser = pyimage_model::time::parse_positive_duration)]
    timeout: Option<std::time::Duration>,
    /// No progress bars (they are drawn only on a terminal anyway).
    #[arg(short, long, global = true)]
    quiet: bool,
    /// When to colour output and logs: `auto` (a terminal, and `NO_COLOR` unset), `always`, `never`.
    #[arg(long, global = true, value_enum, default_value = "auto")]
    color: output::Color,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse image references as Docker does and explain Python tags.
    Ref(cmd_ref::RefArgs),
    /// Resolve references to digests (HEAD-first, every fetched byte verified).
    Resolve(cmd_resolve::ResolveArgs),
    /// Tags grouped into alias families: live from the registry, or offline from an official-images file.
    Tags(cmd_tags::TagsArgs),
    /// Check base images in Dockerfiles, Compose files and Kubernetes manifests against the policy (offline).
    Check(cmd_check::CheckArgs),
    /// List every image reference (Python or not) with its file kind, environment, class, Python line, digest and
    /// lock state: the inventory, and what pyimage did not understand (offline).
    Ls(cmd_ls::LsArgs),
    /// Pin Python image references to their current digests (byte-minimal edits) and write pyimage.lock.
    Pin(cmd_pin::PinArgs),
    /// Move pinned Python references after rebuilds and patch releases, per the environment's policy.
    Update(cmd_update::UpdateArgs),
    /// Write a commented default pyimage.toml.
    Init(cmd_init::InitArgs),
    /// Verify local images: official and current, stale, locked, a faithful copy, or untrusted (engine or --inspect).
    Verify(cmd_verify::VerifyArgs),
    /// Read an image's attestations (SLSA provenance, SBOM) and check them against official-images.
    Provenance(cmd_provenance::ProvenanceArgs),
    /// Export the policy for another enforcement point (`export gatekeeper`: OPA Gatekeeper).
    Export(cmd_export::ExportArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(cmd_shell::CompletionsArgs),
    /// Print the man page, or write one page per command into a directory (`--out DIR`).
    Man(cmd_shell::ManArgs),
    /// Write the documentation site's reference pages (commands and rules) into a directory.
    #[command(hide = true)]
    Docs(cmd_shell::DocsArgs),
    /// Serve Kubernetes admission: validate and pin (AdmissionReview v1) and the ImagePolicyWebhook backend.
    Serve(cmd_serve::ServeArgs),
    /// Poll tags and record every move in the history store, explained and announced (webhooks).
    Watch(cmd_watch::WatchArgs),
    /// The recorded history of tags: each move's digests, kind, Python and package changes.
    History(cmd_history::HistoryArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    progress::set_quiet(cli.quiet);
    let bounded = !matches!(&cli.command, Command::Serve(_) | Command::Watch(_))
        || matches!(&cli.command, Command::Watch(args) if args.once());
    if bounded && let Some(timeout) = cli.timeout {
        let _ = RUN_DEADLINE.set(timeout);
    }
    init_logging(cli.verbose, cli.color);
    let result = match &cli.command {
        Command::Ref(args) => cmd_ref::run(args),
        Command::Tags(args) if !cmd_tags::is_live(args) => cmd_tags::run_offline(args),
        Command::Tags(args) => with_registry(&cli, None, None, async |client, _| {
            cmd_tags::run_live(args, client).await
        }),
        Command::Resolve(args) => with_registry(&cli, None, None, async |client, _| {
            cmd_resolve::run(args, client).await
        }),
        Command::Check(args) => cmd_check::run(args, cli.config.as_deref(), cli.color),
        Command::Ls(args) => cmd_ls::run(args, cli.config.as_deref()),
        Command::Init(args) => cmd_init::run(args),
        Command::Export(args) => cmd_export::run(args, cli.config.as_deref()),
        Command::Completions(args) => cmd_shell::completions(args, Cli::command()),
        Command::Man(args) => cmd_shell::man(args, Cli::command()),
        Command::Docs(args) => cmd_shell::docs(args, Cli::command()),
        Command::Verify(args) => cmd_verify::run(args, cli.config.as_deref()),
        Command::Provenance(args) => with_registry(&cli, None, None, async |client, _| {
            cmd_provenance::run(args, client).await
        }),
        Command::Pin(args) => with_registry(&cli, args.start(), None, async |client, config| {
            cmd_pin::run(args, client, config).await
        }),
        Command::Serve(args) => with_registry(&cli, None, None, async |client, config| {
            cmd_serve::run(args, client, config).await
        }),
        Command::Watch(args) => with_registry(&cli, args.start(), None, async |client, config| {
            cmd_watch::run(args, client, config).await
        }),
        Command::History(args) => config::load(
            cli.config.as_deref(),
            None,
            &pyimage_policy::config::Overrides::default(),
        )
        .and_then(|config| block_on(cmd_history::run(args, &config))),
        Command::Update(args) => with_registry(
            &cli,
            args.start(),
            args.environment(),
            async |client, config| cmd_update::run(args, client, config).await,
        ),
    };
    let outcome = match result {
        Ok(outcome) => outcome,
        // `pyimage check | head`: the reader is gone; there is nobody to tell.
        Err(error) if is_closed_pipe(&error) => Outcome::OK,
        Err(error) => {
            crate::render::terminal::eprintln(format_args!("pyimage: error: {error:#}"));
            Outcome::of(error_kind(&error))
        }
    };
    // The one place a run's outcome becomes the process's exit code.
    ExitCode::from(outcome.exit_code())
}

/// Whether the error is stdout closed by its reader (`| head`).
fn is_closed_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == Some(std::io::ErrorKind::BrokenPipe)
    })
}

/// Whose problem an error that reached `main` is: the one place errors become exit codes. A registry or engine
/// that could not answer is 3; a reference the registry does not have, bad flags, files or configuration are 2.
fn error_kind(error: &anyhow::Error) -> ErrorKind {
    for cause in error.chain() {
        if let Some(service) = cause.downcast_ref::<pyimage_service::ServiceError>() {
            return service.kind;
        }
        if let Some(registry) = cause.downcast_ref::<pyimage_registry::RegistryError>() {
            return ErrorKind::of_registry(registry);
        }
        if let Some(engine) = cause.downcast_ref::<pyimage_engine::EngineError>() {
            return if engine.is_unreachable() {
                ErrorKind::Unreachable
            } else {
                ErrorKind::Input
            };
        }
    }
    ErrorKind::Input
}

fn init_logging(verbose: u8, color: output::Color) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PYIMAGE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // No escape codes in a log file or CI log unless asked for.
        .with_ansi(color.enabled(std::io::IsTerminal::is_terminal(&std::io::stderr())))
        .try_init();
}

/// Loads the configuration (with `--env` when the command has one), builds the registry client from it and runs
/// an async command on a fresh runtime.
fn with_registry(
    cli: &Cli,
    start: Option<&std::path::Path>,
    environment: Option<String>,
    command: impl AsyncFnOnce(RegistryClient, &config::LoadedConfig) -> anyhow::Result<Outcome>,
) -> anyhow::Result<Outcome> {
    let overrides = pyimage_policy::config::Overrides {
        environment,
        severities: Vec::new(),
    };
    let config = config::load(cli.config.as_deref(), start, &overrides)?;
    let client = registry_client(config.settings.registries.clone(), config.path.as_deref())?;
    block_on(command(client, &config))
}

/// The registry client for these settings, with credentials from the Docker client's configuration.
pub fn registry_client(
    registries: pyimage_registry::RegistriesConfig,
    config_path: Option<&std::path::Path>,
) -> anyhow::Result<RegistryClient> {
    RegistryClient::new(
        registries,
        CredentialStore::from_environment(),
        ClientOptions::default(),
    )
    .with_context(|| match config_path {
        Some(path) => format!("config {}", path.display()),
        None => "registry settings".to_owned(),
    })
}

/// Runs an async command to completion on a fresh multi-threaded runtime.
pub fn block_on<T>(
    future: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match RUN_DEADLINE.get() {
        None => runtime.block_on(future),
        Some(&limit) => runtime.block_on(async move {
            match tokio::time::timeout(limit, future).await {
                Ok(result) => result,
                Err(_) => Err(pyimage_service::ServiceError::unreachable(format!(
                    "the run did not finish within --timeout {}: a registry or engine is too slow",
                    humanize(limit)
                ))
                .into()),
            }
        }),
    }
}

/// `--timeout`: the whole run's deadline, when the command is bounded.
static RUN_DEADLINE: std::sync::OnceLock<std::time::Duration> = std::sync::OnceLock::new();

fn humanize(duration: std::time::Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}
