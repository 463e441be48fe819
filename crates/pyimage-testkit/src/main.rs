//! `pyimage-testkit serve --from FILE`: starts the Docker Hub replica by hand, seeds it from a library file, prints
//! how to use it, and runs until Ctrl-C or SIGTERM — or, with `--control`, until its standard input ends, taking
//! one command per line (`rebuild [DIRECTORY-PREFIX]`, `replay FILE`) so a script (`scripts/demo`) can move tags.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use pyimage_testkit::Replica;

#[derive(Parser)]
#[command(about = "A local replica of Docker Hub's library/python for pyimage")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the registry and token server, seed library/python, and serve until interrupted.
    Serve {
        /// The official-images library/python file to seed from (default: the newest in testdata/).
        #[arg(long = "from")]
        from: Option<PathBuf>,
        /// Write the ground truth as JSON to this file.
        #[arg(long)]
        truth: Option<PathBuf>,
        /// Write a pyimage.toml pointing docker.io at the replica to this file.
        #[arg(long, value_name = "FILE")]
        pyimage_toml: Option<PathBuf>,
        /// Read commands from standard input, one per line, answering each with one line on standard output
        /// (`ok …` or `error: …`), and stop at its end: `rebuild` (every entry: a Debian security rebuild),
        /// `rebuild 3.12/` (entries whose directory starts with the prefix), `replay FILE` (a later library file).
        #[arg(long)]
        control: bool,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Serve {
            from,
            truth,
            pyimage_toml,
            control,
        } => serve(from, truth, pyimage_toml, control),
    }
}

fn serve(
    from: Option<PathBuf>,
    truth_path: Option<PathBuf>,
    toml_path: Option<PathBuf>,
    control: bool,
) -> Result<()> {
    let from = match from {
        Some(path) => path,
        None => pyimage_testkit::newest_library_file()?,
    };
    let replica = Replica::start()?;
    let seeded = replica.seed_file(&from)?;
    let stats = &seeded.stats;
    println!("seeded library/python from {}", from.display());
    println!(
        "  {} entries, {} tags, {} manifests, {} indexes, {} blobs in {:.2?}",
        stats.entries_built,
        seeded.truth.tags.len(),
        stats.manifests_pushed,
        stats.indexes_pushed,
        stats.blobs_pushed,
        stats.elapsed
    );
    println!("registry:    {}", replica.registry_url());
    println!("token realm: {}", replica.token_realm());
    println!("service:     {}", replica.service());
    println!(
        "push login:  {} / {}",
        replica.credentials().username,
        replica.credentials().password
    );
    println!(
        "try:         skopeo inspect --raw --tls-verify=false docker://{}",
        replica.reference("3.12-slim")
    );
    println!("\n# pyimage.toml\n{}", replica.pyimage_toml());
    if let Some(path) = truth_path {
        let json =
            serde_json::to_string_pretty(&seeded.truth).context("serialising the ground truth")?;
        std::fs::write(&path, json).with_context(|| format!("writing {}", path.display()))?;
        println!("ground truth written to {}", path.display());
    }
    if let Some(path) = toml_path {
        std::fs::write(&path, replica.pyimage_toml())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if control {
        println!("ready: reading commands from standard input");
        run_commands(&replica)?;
    } else {
        println!("serving until Ctrl-C or SIGTERM");
        wait_for_signal()?;
    }
    drop(replica);
    println!("stopped");
    Ok(())
}

/// Answers one line per command until standard input ends; a bad command is reported and the replica keeps serving.
fn run_commands(replica: &Replica) -> Result<()> {
    use std::io::{BufRead as _, Write as _};
    let mut out = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        let line = line.context("reading a command")?;
        let words: Vec<&str> = line.split_whitespace().collect();
        let answer = match words.as_slice() {
            [] => continue,
            ["rebuild"] => replica.rebuild_all(),
            ["rebuild", prefix] => {
                replica.rebuild_where(|entry| entry.directory.starts_with(prefix))
            }
            ["replay", file] => replica.replay_file(file),
            _ => Err(anyhow::anyhow!(
                "unknown command {line:?}: use `rebuild`, `rebuild PREFIX` or `replay FILE`"
            )),
        };
        match answer {
            Ok(advance) => writeln!(out, "ok {} tags moved", advance.moves.len()),
            Err(error) => writeln!(out, "error: {error:#}"),
        }
        .context("answering a command")?;
        out.flush().context("answering a command")?;
    }
    Ok(())
}

fn wait_for_signal() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting a runtime for signals")?;
    runtime.block_on(async {
        #[cfg(unix)]
        {
            let mut terminate =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .context("listening for SIGTERM")?;
            tokio::select! {
                result = tokio::signal::ctrl_c() => result.context("listening for Ctrl-C"),
                _ = terminate.recv() => Ok(()),
            }
        }
        // No SIGTERM on Windows: Ctrl-C only.
        #[cfg(not(unix))]
        tokio::signal::ctrl_c()
            .await
            .context("listening for Ctrl-C")
    })
}
