//! `--build-arg NAME=VALUE`, shared by `check` and `pin`: Dockerfiles are evaluated as `docker build` with the same
//! flags would evaluate them.

use clap::Args;
use pyimage_core::dockerfile::ScanOptions;

/// The `--build-arg` flags of a command.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Evaluate Dockerfiles with ARG NAME set to VALUE instead of its default, like `docker build --build-arg`
    /// (repeatable). A bare NAME takes the value of the environment variable NAME, if set.
    #[arg(long = "build-arg", value_name = "NAME=VALUE", value_parser = parse)]
    build_arg: Vec<(String, Option<String>)>,
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
        ScanOptions { build_args }
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
