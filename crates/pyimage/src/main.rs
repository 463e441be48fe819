//! The `pyimage` command line: thin front end over `pyimage-core` (and, later, the registry and engine crates).
//!
//! Exit codes: 0 ok, 1 policy findings, 2 usage or input error, 3 registry or engine unreachable.

mod cmd_ref;
mod cmd_tags;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for bad input (an invalid reference, an unreadable or malformed file).
pub const EXIT_INPUT: u8 = 2;

#[derive(Parser)]
#[command(
    name = "pyimage",
    version,
    about = "Trustworthy, reproducible Python container base images",
    long_about = "pyimage reads image references exactly as Docker does, knows what every tag of the official \
                  Python image promises, and (in later commands) resolves, checks, pins and verifies them."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse image references as Docker does and explain Python tags.
    Ref(cmd_ref::RefArgs),
    /// List the tags of an official-images `library/python` file: aliases, versions, commits.
    Tags(cmd_tags::TagsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ref(args) => cmd_ref::run(&args),
        Command::Tags(args) => cmd_tags::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("pyimage: error: {error:#}");
            ExitCode::from(EXIT_INPUT)
        }
    }
}
