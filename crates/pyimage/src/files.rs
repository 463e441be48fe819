//! Finding and reading the files commands work on: one walker for `check`, `pin` and `update`, UTF-8 reading with
//! per-file errors ([`FileError`]) so one bad file never stops a run, the lock file and the official-images record.

use std::path::{Path, PathBuf};

use anyhow::Context;
use pyimage_core::check::FileKind;
use pyimage_registry::RegistryClient;
use pyimage_service::provenance::{OFFICIAL_IMAGES_URL, Record};

/// A file that could not be read, walked or parsed: reported with its position and the run goes on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct FileError {
    /// The file (or the path given) as shown.
    pub path: String,
    /// 1-based line, when the problem has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column, when the problem has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// What is wrong and what to do.
    pub message: String,
}

impl FileError {
    /// A problem with a whole file (unreadable, not UTF-8, not a known kind).
    pub fn file(path: impl Into<String>, message: impl Into<String>) -> Self {
        FileError {
            path: path.into(),
            line: None,
            column: None,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FileError {
    /// `path:line:column: message` (position parts only when known).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.path)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

/// A file to check, pin or update.
#[derive(Debug, Clone)]
pub struct Found {
    /// The path as given or walked.
    pub path: PathBuf,
    /// `/`-separated and relative to the configuration's directory: what `[[paths]]`, `[policy] exclude` and
    /// `[[ignore]]` globs match, and what `check` shows.
    pub policy_path: String,
    /// Its kind, from its file name (Dockerfile, Compose or Kubernetes).
    pub kind: FileKind,
}

/// The one walker of `check`, `pin` and `update`: each named file must have a Dockerfile, Compose or YAML name;
/// directories are walked in path order (`.gitignore` respected, see [`walk`]); files `[policy] exclude` matches
/// are left out; a file reached twice is taken once. Problems (a missing path, a file of no known kind, an
/// unreadable directory) are collected in `errors` and the rest goes on. A symlink, FIFO, socket or device met in a
/// walk is not read and goes to `passed_over` with the reason: commands show it as skipped, so nothing is passed
/// over in silence, and the exit code does not change (a repository may link one Dockerfile from several places).
pub fn discover(
    paths: &[PathBuf],
    config: &crate::config::LoadedConfig,
    errors: &mut Vec<FileError>,
    passed_over: &mut Vec<FileError>,
) -> anyhow::Result<Vec<Found>> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let base = config.base_dir(&cwd);
    let exclude = &config.settings.exclude;
    let roots = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut found = Vec::new();
    let mut take = |path: PathBuf, kind: FileKind, explicit: bool| {
        let policy_path = relative(&path, &base, &cwd);
        if !explicit && exclude.iter().any(|glob| glob.is_match(&policy_path)) {
            return;
        }
        if seen.insert(policy_path.clone()) {
            found.push(Found {
                path,
                policy_path,
                kind,
            });
        }
    };
    for root in roots {
        if root.is_file() {
            match FileKind::for_path(&root.to_string_lossy()) {
                Some(kind) => take(root, kind, true),
                None => errors.push(FileError::file(
                    root.display().to_string(),
                    "not a Dockerfile, YAML or JSON file name (Dockerfile, *.Dockerfile, Containerfile, compose.yaml, *.yaml, *.json)",
                )),
            }
            continue;
        }
        if !root.exists() {
            errors.push(FileError::file(
                root.display().to_string(),
                "no such file or directory",
            ));
            continue;
        }
        for entry in walk(&root) {
            match entry {
                Ok(Walked::File(path, kind)) => take(path, kind, false),
                Ok(Walked::NotRegular(path, why)) => {
                    let policy_path = relative(&path, &base, &cwd);
                    if !exclude.iter().any(|glob| glob.is_match(&policy_path)) {
                        passed_over.push(FileError::file(policy_path, why));
                    }
                }
                Err(error) => errors.push(FileError::file(
                    root.display().to_string(),
                    format!("cannot walk: {error}"),
                )),
            }
        }
    }
    Ok(found)
}

/// What the walker met under a known file name.
pub enum Walked {
    /// A regular file to work on.
    File(PathBuf, FileKind),
    /// A symlink, FIFO, socket or device with a Dockerfile/Compose/YAML name: not read (a symlink may lead out
    /// of the tree, a FIFO blocks), but reported so that `check --locked .` does not pass over it in silence.
    NotRegular(PathBuf, String),
}

/// The Dockerfiles, Compose files, Kubernetes manifests, CI pipelines… (see [`FileKind::for_path`]) under a
/// directory, in path order: `.gitignore` is respected, hidden directories are searched (CI configuration lives
/// there) except `.git`. Symlinks are not followed.
pub fn walk(root: &Path) -> impl Iterator<Item = Result<Walked, ignore::Error>> {
    ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .filter_entry(|entry| entry.file_name() != ".git")
        .sort_by_file_path(|a, b| a.cmp(b))
        .build()
        .filter_map(|entry| match entry {
            Err(error) => Some(Err(error)),
            Ok(entry) => {
                let file_type = entry.file_type()?;
                if file_type.is_dir() {
                    return None;
                }
                let kind = FileKind::for_path(&entry.path().to_string_lossy())?;
                if file_type.is_file() {
                    return Some(Ok(Walked::File(entry.into_path(), kind)));
                }
                let why = if file_type.is_symlink() {
                    let target = std::fs::read_link(entry.path())
                        .map(|t| t.display().to_string())
                        .unwrap_or_else(|_| "?".to_owned());
                    format!(
                        "a symlink (to {target}): pyimage never reads or rewrites through a symlink; \
                         the target is checked where a walk reaches it, or name its path"
                    )
                } else {
                    "not a regular file (a FIFO, socket or device is never read)".to_owned()
                };
                Some(Ok(Walked::NotRegular(entry.into_path(), why)))
            }
        })
}

/// Largest file pyimage reads to check or pin (a Dockerfile or manifest this large is not one).
pub const MAX_SOURCE_BYTES: u64 = 16 * 1024 * 1024;

pub use pyimage_registry::bounded::read_regular;

/// Reads a file as UTF-8 text; the error says what is wrong (the caller names the file).
pub fn read(path: &Path) -> Result<String, String> {
    let bytes = read_regular(path, MAX_SOURCE_BYTES).map_err(|e| format!("cannot read: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8 text (invalid byte at offset {}): save it as UTF-8, or exclude it with [policy] exclude",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Reads `pyimage.lock` (an empty lock when the file does not exist); a malformed lock names the file and line.
pub fn read_lock(path: &Path) -> anyhow::Result<pyimage_core::lock::Lock> {
    match read_regular(path, MAX_SOURCE_BYTES) {
        Ok(bytes) => {
            let text = String::from_utf8(bytes)
                .map_err(|_| anyhow::anyhow!("{}: not UTF-8 text", path.display()))?;
            pyimage_core::lock::Lock::parse(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Reads the files a planner works on, in order. A file that cannot be read (or is not UTF-8) is reported in
/// `errors` and left out; the others are returned with the [`Found`] they came from.
pub fn read_all(
    found: Vec<Found>,
    variables: &mut crate::build_args::ComposeVariables,
    errors: &mut Vec<FileError>,
) -> (Vec<Found>, Vec<pyimage_service::SourceText>) {
    let mut kept = Vec::new();
    let mut sources = Vec::new();
    for file in found {
        match read(&file.path) {
            Ok(text) => {
                sources.push(pyimage_service::SourceText {
                    shown: file.path.display().to_string(),
                    kind: file.kind,
                    text,
                    variables: variables.for_file(&file.path, file.kind, errors),
                });
                kept.push(file);
            }
            Err(message) => errors.push(FileError::file(file.path.display().to_string(), message)),
        }
    }
    (kept, sources)
}

/// Loads the official-images record `--official-images` names: a file (an error when unreadable or invalid), a
/// URL (unavailable when offline), or `none`.
pub async fn load_record(client: &RegistryClient, arg: Option<&str>) -> anyhow::Result<Record> {
    let source = arg.unwrap_or(OFFICIAL_IMAGES_URL);
    if source == "none" {
        return Ok(Record::Unavailable("--official-images none".to_owned()));
    }
    if source.starts_with("https://") || source.starts_with("http://") {
        return Ok(Record::fetch(client, source).await?);
    }
    let bytes = read_regular(Path::new(source), MAX_SOURCE_BYTES)
        .with_context(|| format!("cannot read --official-images {source}"))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("--official-images {source}: not UTF-8 text"))?;
    Ok(Record::from_text(&text, source)?)
}

/// The path shown and matched against globs: relative to `base` (the configuration's directory, else the current
/// directory) with `/` separators, or as given when outside it.
pub fn relative(path: &Path, base: &Path, cwd: &Path) -> String {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    let absolute = normalize(&absolute);
    let shown = absolute
        .strip_prefix(normalize(base))
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf());
    shown
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Removes `.` and resolves `..` lexically (no file-system access, so symlinks are not followed).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}
