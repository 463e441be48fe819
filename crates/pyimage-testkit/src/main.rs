//! `pyimage-testkit serve --from FILE`: starts the Docker Hub replica by hand, seeds it from a library file, prints
//! how to use it, and runs until Ctrl-C or SIGTERM.

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
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Serve { from, truth } => serve(from, truth),
    }
}

fn serve(from: Option<PathBuf>, truth_path: Option<PathBuf>) -> Result<()> {
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
    println!("serving until Ctrl-C or SIGTERM");
    wait_for_signal()?;
    drop(replica);
    println!("stopped");
    Ok(())
}

fn wait_for_signal() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting a runtime for signals")?;
    runtime.block_on(async {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .context("listening for SIGTERM")?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.context("listening for Ctrl-C"),
            _ = terminate.recv() => Ok(()),
        }
    })
}
