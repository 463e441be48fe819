//! Finding and reading `pyimage.toml` (`--config FILE`, else `$PYIMAGE_CONFIG`, else `./pyimage.toml` when it
//! exists). What the text means is decided by `pyimage_core::config`; this module only does the I/O.

use std::path::{Path, PathBuf};

use anyhow::Context;
use pyimage_core::config::{Overrides, Settings};

/// A loaded configuration and where it came from.
#[derive(Debug)]
pub struct LoadedConfig {
    /// The file, if one was read.
    pub path: Option<PathBuf>,
    /// Its text (snippets of `[[ignore]]` entries are shown from it).
    pub text: String,
    /// The validated settings (built-in defaults when there is no file).
    pub settings: Settings,
}

impl LoadedConfig {
    /// The directory policy globs are relative to: the configuration file's directory, else the working directory.
    pub fn base_dir(&self, cwd: &Path) -> PathBuf {
        match self.path.as_deref().and_then(Path::parent) {
            Some(dir) if !dir.as_os_str().is_empty() => cwd.join(dir),
            _ => cwd.to_path_buf(),
        }
    }
}

/// Finds, reads and validates the configuration, with command-line overrides. Every problem of the file is
/// reported at once, each as `path:line:column: message`.
pub fn load(explicit: Option<&Path>, overrides: &Overrides) -> anyhow::Result<LoadedConfig> {
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
            return Ok(LoadedConfig {
                path: None,
                text: String::new(),
                settings: Settings::builtin(overrides)?,
            });
        }
        Err(error) => {
            return Err(error).with_context(|| format!("cannot read config {}", path.display()));
        }
    };
    let settings = Settings::parse(&text, &path.display().to_string(), overrides)?;
    Ok(LoadedConfig {
        path: Some(path),
        text,
        settings,
    })
}
