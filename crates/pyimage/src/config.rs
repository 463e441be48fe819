//! Loading `pyimage.toml`: `--config FILE`, else `$PYIMAGE_CONFIG`, else `./pyimage.toml` when it exists.
//! Unknown keys are errors that name the file, line and key.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use pyimage_registry::RegistriesConfig;
use serde::Deserialize;

pub use crate::check_config::{EnvironmentSection, IgnoreEntry, PathEntry, PolicySection};

/// The whole configuration file. Each section belongs to the crate that uses it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `[registries."HOST"]`: endpoints, mirrors, plain HTTP, CA files.
    #[serde(default)]
    pub registries: RegistriesConfig,
    /// `[policy]`: allowed sources, Python mirrors, default environment, excluded paths, end-of-life overrides.
    #[serde(default)]
    pub policy: PolicySection,
    /// `[environments.NAME]`: what each environment requires (`float`, `digest`, `prerelease`).
    #[serde(default)]
    pub environments: std::collections::BTreeMap<String, toml::Spanned<EnvironmentSection>>,
    /// `[[paths]]`: path glob → environment, first match wins.
    #[serde(default)]
    pub paths: Vec<toml::Spanned<PathEntry>>,
    /// `[rules]`: severity (`allow`/`warn`/`deny`) by rule ID or name.
    #[serde(default)]
    pub rules: std::collections::BTreeMap<String, toml::Spanned<String>>,
    /// `[[ignore]]`: findings not reported, with a mandatory reason.
    #[serde(default)]
    pub ignore: Vec<toml::Spanned<IgnoreEntry>>,
}

/// A loaded configuration and where it came from.
#[derive(Debug, Default)]
pub struct LoadedConfig {
    /// The file, if one was read.
    pub path: Option<PathBuf>,
    /// Its contents.
    pub file: ConfigFile,
    /// Its text (for turning spans into lines).
    pub text: String,
}

/// Finds and reads the configuration.
pub fn load(explicit: Option<&Path>) -> anyhow::Result<LoadedConfig> {
    let (path, required) = match explicit {
        Some(path) => (path.to_path_buf(), true),
        None => match std::env::var_os("PYIMAGE_CONFIG").filter(|v| !v.is_empty()) {
            Some(path) => (PathBuf::from(path), true),
            None => (PathBuf::from("pyimage.toml"), false),
        },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if !required && error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(LoadedConfig::default());
        }
        Err(error) => {
            return Err(error).with_context(|| format!("cannot read config {}", path.display()));
        }
    };
    let file = parse(&text, &path)?;
    Ok(LoadedConfig {
        path: Some(path),
        file,
        text,
    })
}

/// Parses configuration text; errors carry `path:line:column`.
pub fn parse(text: &str, path: &Path) -> anyhow::Result<ConfigFile> {
    match toml::from_str::<ConfigFile>(text) {
        Ok(file) => {
            file.registries
                .validate()
                .with_context(|| format!("invalid config {}", path.display()))?;
            Ok(file)
        }
        Err(error) => {
            let location = error
                .span()
                .map(|span| {
                    let before = &text[..span.start.min(text.len())];
                    let line = before.matches('\n').count() + 1;
                    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                    format!(":{line}:{column}")
                })
                .unwrap_or_default();
            bail!("{}{location}: {}", path.display(), error.message())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_name_the_line() {
        let text = "[registries.\"docker.io\"]\nendpoint = \"https://x.example\"\nmirorrs = []\n";
        let error = parse(text, Path::new("pyimage.toml")).expect_err("unknown key");
        let message = error.to_string();
        assert!(message.starts_with("pyimage.toml:3:1: "), "{message}");
        assert!(message.contains("mirorrs"), "{message}");
    }

    #[test]
    fn plain_http_needs_insecure() {
        let text = "[registries.\"docker.io\"]\nendpoint = \"http://127.0.0.1:5000\"\n";
        let error = parse(text, Path::new("p.toml")).expect_err("http refused");
        assert!(
            format!("{error:#}").contains("insecure = true"),
            "{error:#}"
        );
        let ok =
            "[registries.\"docker.io\"]\nendpoint = \"http://127.0.0.1:5000\"\ninsecure = true\n";
        assert!(parse(ok, Path::new("p.toml")).is_ok());
    }
}
