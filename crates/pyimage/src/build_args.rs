//! `--build-arg NAME=VALUE` and `--env-file FILE`, shared by `check`, `pin` and `update`: Dockerfiles are evaluated
//! as `docker build` with the same flags would evaluate them, Compose files as `docker compose` would interpolate
//! them (the `.env` beside the file, or the `--env-file`s instead).

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use pyimage_locate::dockerfile::ScanOptions;
use pyimage_service::sources::ComposeVariables;

/// The `--build-arg` and `--env-file` flags of a command.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Evaluate Dockerfiles with ARG NAME set to VALUE instead of its default, like `docker build --build-arg`
    /// (repeatable). A bare NAME takes the value of the environment variable NAME, if set.
    #[arg(long = "build-arg", value_name = "NAME=VALUE", value_parser = parse)]
    build_arg: Vec<(String, Option<String>)>,
    /// Interpolate Compose files with the variables of FILE instead of the `.env` beside each Compose file, like
    /// `docker compose --env-file` (repeatable; later files win).
    #[arg(long = "env-file", value_name = "FILE")]
    env_file: Vec<PathBuf>,
}

impl BuildArgs {
    /// The scan options these flags give; a later flag for the same NAME wins, as with docker.
    pub fn scan_options(&self) -> ScanOptions {
        let build_args = self
            .build_arg
            .iter()
            .filter_map(|(name, value)| {
                // docker build ignores a bare NAME that the environment does not set.
                let value = value.clone().or_else(|| std::env::var(name).ok())?;
                Some((name.clone(), value))
            })
            .collect();
        ScanOptions {
            build_args,
            variables: BTreeMap::new(),
        }
    }

    /// The Compose variables of each file: the `--env-file`s (an unreadable or invalid one is a usage error),
    /// else the `.env` beside each Compose file, read once per directory.
    pub fn compose_variables(&self) -> anyhow::Result<ComposeVariables> {
        ComposeVariables::from_env_files(&self.env_file).map_err(anyhow::Error::msg)
    }
}

fn parse(text: &str) -> Result<(String, Option<String>), String> {
    let (name, value) = match text.split_once('=') {
        Some((name, value)) => (name, Some(value.to_owned())),
        None => (text, None),
    };
    if name.is_empty() || name.chars().any(char::is_whitespace) {
        return Err(format!("expected NAME=VALUE, got {text:?}"));
    }
    Ok((name.to_owned(), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_equals_signs_and_names_must_be_words() {
        assert_eq!(
            parse("BASE=python:3.12=x"),
            Ok(("BASE".to_owned(), Some("python:3.12=x".to_owned())))
        );
        assert_eq!(
            parse("EMPTY="),
            Ok(("EMPTY".to_owned(), Some(String::new())))
        );
        assert_eq!(parse("BARE"), Ok(("BARE".to_owned(), None)));
        assert!(parse("=3.12").is_err());
        assert!(parse("A B=1").is_err());
    }
}
