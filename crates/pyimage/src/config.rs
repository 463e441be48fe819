//! Finding and reading `pyimage.toml`: `--config FILE`, else `$PYIMAGE_CONFIG`, else the nearest `pyimage.toml`
//! from the checked path (or the working directory) up to the repository root (the directory holding `.git`), as
//! ruff and cargo find theirs. What the text means is decided by `pyimage_policy::config`; this module only does I/O.

use std::path::{Path, PathBuf};

use anyhow::Context;
use pyimage_model::lock::Lock;
use pyimage_policy::config::{Overrides, Settings};
use pyimage_service::signatures::Keyring;
use pyimage_service::sources::{ComposeVariables, Gathered};
use pyimage_store::files::Tree;

/// A loaded configuration and where it came from.
#[derive(Debug)]
pub struct LoadedConfig {
    /// The file, if one was read.
    pub path: Option<PathBuf>,
    /// Whether the file was found by searching up from the checked path (not named by `--config` or
    /// `$PYIMAGE_CONFIG`): then it marks the project's root, and the lock sits beside it.
    pub discovered: bool,
    /// Its text (snippets of `[[ignore]]` entries are shown from it).
    pub text: String,
    /// The validated settings (built-in defaults when there is no file).
    pub settings: Settings,
    /// The cosign keys of `[trust.keys]` and the built-in ones, read (their fingerprints are in the policy).
    pub keyring: Keyring,
}

impl LoadedConfig {
    /// The directory policy globs are relative to: the configuration file's directory, else the working directory.
    pub fn base_dir(&self, cwd: &Path) -> PathBuf {
        match self
            .path
            .as_deref()
            .filter(|_| self.discovered)
            .and_then(Path::parent)
        {
            Some(dir) if !dir.as_os_str().is_empty() => cwd.join(dir),
            _ => cwd.to_path_buf(),
        }
    }
}

/// The nearest `pyimage.toml` at or above `start` (a file's directory, or a directory), not above the repository
/// root: the first directory holding `.git` ends the search.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let mut dir = if start.is_dir() {
        start.to_path_buf()
    } else {
        start.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    if dir.as_os_str().is_empty() {
        dir = PathBuf::from(".");
    }
    let dir = std::path::absolute(&dir).unwrap_or(dir);
    for ancestor in dir.ancestors() {
        let candidate = ancestor.join("pyimage.toml");
        if candidate.is_file() {
            // Shown relative to the working directory when it is below it, as the user would type it.
            let shown = std::env::current_dir()
                .ok()
                .and_then(|cwd| candidate.strip_prefix(&cwd).ok().map(Path::to_path_buf))
                .unwrap_or(candidate);
            return Some(shown);
        }
        if ancestor.join(".git").exists() {
            break;
        }
    }
    None
}

impl LoadedConfig {
    /// The lock file: `--lock FILE` when given, else `pyimage.lock` beside a discovered configuration (as Cargo.lock
    /// sits beside Cargo.toml, so `check --locked deploy/prod` from anywhere finds the repository's lock), else
    /// `./pyimage.lock` (a configuration named by `--config` may live anywhere, e.g. outside the repository).
    pub fn lock_path(&self, explicit: Option<&Path>) -> PathBuf {
        let beside = self
            .path
            .as_deref()
            .filter(|_| self.discovered)
            .and_then(Path::parent);
        pyimage_store::lock_file::location(explicit, beside)
    }

    /// The lock at [`LoadedConfig::lock_path`] (an empty lock when there is no file yet).
    pub fn read_lock(&self, explicit: Option<&Path>) -> anyhow::Result<Lock> {
        Ok(pyimage_store::lock_file::read(&self.lock_path(explicit))?)
    }

    /// Finds and reads the files under `paths` (the current directory when empty): the walk skips what
    /// `[policy] exclude` matches and shows paths relative to [`LoadedConfig::base_dir`].
    pub fn gather(
        &self,
        paths: &[PathBuf],
        variables: &mut ComposeVariables,
    ) -> anyhow::Result<Gathered> {
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        let base = self.base_dir(&cwd);
        let tree = Tree {
            cwd: &cwd,
            base: &base,
            exclude: &self.settings.exclude,
        };
        Ok(pyimage_service::sources::gather(paths, &tree, variables))
    }
}

/// Finds, reads and validates the configuration for a run over `start` (the first path given, else the working
/// directory), with command-line overrides. Every problem of the file is reported at once, each as
/// `path:line:column: message`.
pub fn load(
    explicit: Option<&Path>,
    start: Option<&Path>,
    overrides: &Overrides,
) -> anyhow::Result<LoadedConfig> {
    let start = start.unwrap_or(Path::new("."));
    let (path, how) = match explicit {
        Some(path) => (path.to_path_buf(), "--config"),
        None => match std::env::var_os("PYIMAGE_CONFIG").filter(|v| !v.is_empty()) {
            Some(path) => (PathBuf::from(path), "PYIMAGE_CONFIG"),
            None => match discover(start) {
                Some(found) => (found, "found walking up from the first path"),
                None => {
                    tracing::info!(
                        from = %start.display(),
                        "configuration: no pyimage.toml from here up to the repository root; built-in defaults"
                    );
                    return with_keys(None, false, String::new(), Settings::builtin(overrides)?);
                }
            },
        },
    };
    let discovered = explicit.is_none() && how.starts_with("found");
    tracing::info!(config = %path.display(), how, "configuration");
    let text = pyimage_store::bounded::read_text(&path, 1024 * 1024)
        .with_context(|| format!("cannot read config {}", path.display()))?;
    let settings = Settings::parse(&text, &path.display().to_string(), overrides)?;
    with_keys(Some(path), discovered, text, settings)
}

/// Reads the configuration's cosign keys (relative to its directory) and gives the policy their fingerprints.
fn with_keys(
    path: Option<PathBuf>,
    discovered: bool,
    text: String,
    mut settings: Settings,
) -> anyhow::Result<LoadedConfig> {
    let dir = path.as_deref().and_then(Path::parent);
    let keyring = Keyring::load(&settings.trust, dir)?;
    settings.policy.signing_keys = keyring.fingerprints();
    Ok(LoadedConfig {
        path,
        discovered,
        text,
        settings,
        keyring,
    })
}
