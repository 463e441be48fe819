//! Finding and reading the files commands work on: one walker for `check`, `pin` and `update`, and UTF-8 reading
//! with per-file errors ([`FileError`]) so one bad file never stops a run.

use std::path::{Path, PathBuf};

use globset::GlobMatcher;
use pyimage_locate::FileKind;

pub use crate::bounded::read_regular;
pub use crate::located::FileError;

/// Where a walk happens: the current directory, the directory paths are shown relative to (the configuration's,
/// else the current one), and the `[policy] exclude` globs.
#[derive(Debug, Clone, Copy)]
pub struct Tree<'a> {
    /// The current directory.
    pub cwd: &'a Path,
    /// What shown paths are relative to.
    pub base: &'a Path,
    /// Files these match are left out of a walk (a file named on the command line is still taken).
    pub exclude: &'a [GlobMatcher],
}

/// What a walk met besides the files it returns.
#[derive(Debug, Default)]
pub struct Walk {
    /// Paths that could not be found or walked, and named files of no known kind.
    pub errors: Vec<FileError>,
    /// Symlinks, FIFOs and devices met under a known name: not read, listed with the reason.
    pub passed_over: Vec<FileError>,
}

/// A file to check, pin or update.
#[derive(Debug, Clone)]
pub struct Found {
    /// The path as given or walked.
    pub path: PathBuf,
    /// `/`-separated and relative to the configuration's directory: what `[[paths]]`, `[policy] exclude` and
    /// `[[ignore]]` globs match, and what `check` shows.
    pub policy_path: String,
    /// Its kind, from its name and its place in the tree ([`kind_of`]).
    pub kind: FileKind,
    /// Named on the command line (not reached by a walk): it is never passed over in silence.
    pub named: bool,
}

/// The one walker of `check`, `pin` and `update`: each named file must have a Dockerfile, Compose or YAML name;
/// directories are walked in path order (`.gitignore` respected, see [`walk`]); files `[policy] exclude` matches
/// are left out; a file reached twice is taken once. Problems (a missing path, a file of no known kind, an
/// unreadable directory) are collected in `errors` and the rest goes on. A symlink, FIFO, socket or device met in a
/// walk is not read and goes to `passed_over` with the reason: commands show it as skipped, so nothing is passed
/// over in silence, and the exit code does not change (a repository may link one Dockerfile from several places).
pub fn discover(paths: &[PathBuf], tree: &Tree<'_>, walked: &mut Walk) -> Vec<Found> {
    let (cwd, base, exclude) = (tree.cwd, tree.base, tree.exclude);
    let (errors, passed_over) = (&mut walked.errors, &mut walked.passed_over);
    let roots = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut found = Vec::new();
    let mut take = |path: PathBuf, kind: FileKind, named: bool| {
        let policy_path = relative(&path, base, cwd);
        if !named && exclude.iter().any(|glob| glob.is_match(&policy_path)) {
            return;
        }
        if seen.insert(policy_path.clone()) {
            found.push(Found {
                path,
                policy_path,
                kind,
                named,
            });
        }
    };
    for root in roots {
        if root.is_file() {
            match kind_of(&root, cwd) {
                Some(kind) => take(root, kind, true),
                None => errors.push(FileError::file(
                    root.display().to_string(),
                    "not a Dockerfile, YAML or JSON file name (Dockerfile, Dockerfile.*, Dockerfile-*, *.Dockerfile, Containerfile, compose.yaml, *.yaml, *.json)",
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
        for entry in walk(&root, cwd) {
            match entry {
                Ok(Walked::File(path, kind)) => take(path, kind, false),
                Ok(Walked::NotRegular(path, why)) => {
                    let policy_path = relative(&path, base, cwd);
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
    found
}

/// What the walker met under a known file name.
pub enum Walked {
    /// A regular file to work on.
    File(PathBuf, FileKind),
    /// A symlink, FIFO, socket or device with a Dockerfile/Compose/YAML name: not read (a symlink may lead out
    /// of the tree, a FIFO blocks), but reported so that `check --locked .` does not pass over it in silence.
    NotRegular(PathBuf, String),
}

/// The kind of the file at `path` (relative to `cwd`, or absolute): decided on the whole path, so that what a file
/// is does not depend on where pyimage runs — `devcontainer.json` named from inside `.devcontainer/`, or a
/// workflow walked from inside `.github/workflows`, is still a dev container or a workflow.
pub fn kind_of(path: &Path, cwd: &Path) -> Option<FileKind> {
    let absolute = if path.is_absolute() {
        normalize(path)
    } else {
        normalize(&cwd.join(path))
    };
    FileKind::for_path(&absolute.to_string_lossy())
}

/// The Dockerfiles, Compose files, Kubernetes manifests, CI pipelines… (see [`FileKind::for_path`]) under a
/// directory (relative to `cwd`, or absolute), in path order: `.gitignore` is respected, hidden directories are
/// searched (CI configuration lives there) except `.git`. Symlinks are not followed.
pub fn walk<'a>(
    root: &Path,
    cwd: &'a Path,
) -> impl Iterator<Item = Result<Walked, ignore::Error>> + 'a {
    ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .filter_entry(|entry| entry.file_name() != ".git")
        .sort_by_file_path(|a, b| a.cmp(b))
        .build()
        .filter_map(move |entry| match entry {
            Err(error) => Some(Err(error)),
            Ok(entry) => {
                let file_type = entry.file_type()?;
                if file_type.is_dir() {
                    return None;
                }
                let kind = kind_of(entry.path(), cwd)?;
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

/// Why a JSON file named on the command line holds nothing to check or pin (a walk passes over `package.json` in
/// silence; a named file is never passed over).
pub const NOT_A_MANIFEST: &str = "not a Kubernetes object (no `apiVersion` and `kind`) and not a dev container \
     (`.devcontainer/devcontainer.json`, `.devcontainer.json`): pyimage finds no images in this JSON file";

/// Largest file pyimage reads to check or pin (a Dockerfile or manifest this large is not one).
pub const MAX_SOURCE_BYTES: u64 = 16 * 1024 * 1024;

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
