//! `--build-arg NAME=VALUE` and `--env-file FILE`, shared by `check`, `pin` and `update`: Dockerfiles are evaluated
//! as `docker build` with the same flags would evaluate them, Compose files as `docker compose` would interpolate
//! them (the `.env` beside the file, or the `--env-file`s instead).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use pyimage_core::check::FileKind;
use pyimage_core::dockerfile::ScanOptions;
use pyimage_core::manifests::{ManifestKind, parse_dotenv};

use crate::files::FileError;

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

    /// The Compose variables of each file, read once per directory: an unreadable `--env-file` is a usage error;
    /// an invalid `.env` is reported as a file error and its file is checked without it.
    pub fn compose_variables(&self) -> anyhow::Result<ComposeVariables> {
        let mut given = None;
        for file in &self.env_file {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("--env-file {}: cannot read", file.display()))?;
            let variables = parse_dotenv(&text, given.as_ref().unwrap_or(&BTreeMap::new()))
                .map_err(|e| anyhow::anyhow!("--env-file {}:{e}", file.display()))?;
            given = Some(variables);
        }
        Ok(ComposeVariables {
            given,
            by_directory: HashMap::new(),
        })
    }
}

/// Compose interpolation variables: the `--env-file`s, else the `.env` beside each Compose file.
pub struct ComposeVariables {
    given: Option<BTreeMap<String, String>>,
    by_directory: HashMap<PathBuf, BTreeMap<String, String>>,
}

impl ComposeVariables {
    /// No `--env-file`: each Compose file takes the `.env` beside it, as `docker compose` does.
    pub fn beside_each_file() -> Self {
        ComposeVariables {
            given: None,
            by_directory: HashMap::new(),
        }
    }

    /// The variables for the file at `path` (empty for kinds other than Compose).
    pub fn for_file(
        &mut self,
        path: &Path,
        kind: FileKind,
        errors: &mut Vec<FileError>,
    ) -> BTreeMap<String, String> {
        if kind != FileKind::Manifest(ManifestKind::Compose) {
            return BTreeMap::new();
        }
        if let Some(given) = &self.given {
            return given.clone();
        }
        let directory = path.parent().unwrap_or(Path::new("")).to_path_buf();
        if let Some(known) = self.by_directory.get(&directory) {
            return known.clone();
        }
        let dotenv = directory.join(".env");
        let variables = match std::fs::read(&dotenv) {
            Err(_) => BTreeMap::new(),
            Ok(bytes) => match String::from_utf8(bytes) {
                Err(_) => {
                    errors.push(FileError::file(
                        dotenv.display().to_string(),
                        "not UTF-8 text: Compose variables from it are not used",
                    ));
                    BTreeMap::new()
                }
                Ok(text) => match parse_dotenv(&text, &BTreeMap::new()) {
                    Ok(variables) => variables,
                    Err(error) => {
                        errors.push(FileError {
                            path: dotenv.display().to_string(),
                            line: Some(error.line),
                            column: None,
                            message: format!(
                                "{}: Compose variables from it are not used",
                                error.message
                            ),
                        });
                        BTreeMap::new()
                    }
                },
            },
        };
        self.by_directory.insert(directory, variables.clone());
        variables
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
