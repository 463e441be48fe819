//! Writing files the way `pin` and `update` must: atomically (a temporary file in the same directory, synced, then
//! renamed over the original), never over a file that changed since it was read, never through a symlink, keeping
//! the original's permissions, owner and group, under an advisory lock so that concurrent runs take turns, and as
//! unified diffs for `--dry-run` that apply with `git apply`.
//!
//! Temporary files are created exclusively with random names (`.NAME.pyimage-XXXXXX.tmp`, the tempfile crate:
//! `O_CREAT|O_EXCL`, so a planted symlink at that name is never followed), removed on every error path, and
//! leftovers of killed runs older than [`STALE_AFTER`] are removed by the next write in that directory.

use std::fs::File;
use std::io::Write;
#[cfg(unix)]
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why a write or a directory lock failed: what pyimage was doing, with the operating system's error, or why it
/// refused.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// An operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done, naming the path.
        what: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// pyimage does not write there (a symlink, not a regular file, changed while written).
    #[error("{0}")]
    Refused(String),
}

/// Attaches what was being done to an I/O error.
trait Doing<T> {
    fn doing(self, what: impl FnOnce() -> String) -> Result<T, WriteError>;
}

impl<T> Doing<T> for std::io::Result<T> {
    fn doing(self, what: impl FnOnce() -> String) -> Result<T, WriteError> {
        self.map_err(|source| WriteError::Io {
            what: what(),
            source,
        })
    }
}

/// What happened to an atomic write.
#[derive(Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The new content is in place.
    Written,
    /// The file changed since it was read; nothing was written.
    ChangedSinceRead,
    /// The file is not one pyimage replaces (a symlink, not a regular file); nothing was written. The text says why.
    NotReplaced(String),
}

/// How old a leftover temporary file of ours must be before a later run removes it (a run in progress is younger).
pub const STALE_AFTER: Duration = Duration::from_secs(3600);

/// The directory a file lives in (`.` for a bare file name).
fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn file_name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Why `path` must not be replaced, if it must not: a symlink (replacing it would either write outside the tree
/// or turn a link into a copy) or anything but a regular file.
fn refusal(path: &Path) -> Result<Option<String>, WriteError> {
    let metadata =
        std::fs::symlink_metadata(path).doing(|| format!("cannot stat {}", path.display()))?;
    let kind = metadata.file_type();
    Ok(if kind.is_symlink() {
        let target = std::fs::read_link(path)
            .map(|t| t.display().to_string())
            .unwrap_or_else(|_| "?".to_owned());
        Some(format!(
            "{} is a symlink (to {target}); pyimage does not write through or replace symlinks: pin the file it points to",
            path.display()
        ))
    } else if !kind.is_file() {
        Some(format!(
            "{} is not a regular file; not replaced",
            path.display()
        ))
    } else {
        None
    })
}

/// Replaces `path`'s content with `new` atomically: a temporary file in the same directory, with the original's
/// permissions, owner and group, is written and synced, then renamed over the original; a crash leaves either the
/// old or the new content, never a mix. If the file no longer holds `expected`, or is a symlink, nothing is written.
pub fn write_atomically(
    path: &Path,
    expected: &str,
    new: &str,
) -> Result<WriteOutcome, WriteError> {
    if let Some(reason) = refusal(path)? {
        return Ok(WriteOutcome::NotReplaced(reason));
    }
    let current = std::fs::read(path).doing(|| format!("cannot re-read {}", path.display()))?;
    if current != expected.as_bytes() {
        return Ok(WriteOutcome::ChangedSinceRead);
    }
    let metadata =
        std::fs::symlink_metadata(path).doing(|| format!("cannot stat {}", path.display()))?;
    replace_with(path, new, Some(&metadata))?;
    Ok(WriteOutcome::Written)
}

/// Creates or replaces a file atomically (for the lock file, which may not exist yet). A lock file that is a
/// symlink or not a regular file is an error naming it.
pub fn replace_atomically(path: &Path, new: &str) -> Result<(), WriteError> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => {
            if let Some(reason) = refusal(path)? {
                return Err(WriteError::Refused(reason));
            }
            let current = std::fs::read_to_string(path)
                .doing(|| format!("cannot read {}", path.display()))?;
            match write_atomically(path, &current, new)? {
                WriteOutcome::Written => Ok(()),
                WriteOutcome::ChangedSinceRead => Err(WriteError::Refused(format!(
                    "{} changed while pyimage was writing it; run again",
                    path.display()
                ))),
                WriteOutcome::NotReplaced(reason) => Err(WriteError::Refused(reason)),
            }
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => replace_with(path, new, None),
        Err(source) => Err(WriteError::Io {
            what: format!("cannot read {}", path.display()),
            source,
        }),
    }
}

/// Writes `new` to a fresh temporary file beside `path` (exclusive create, random name), gives it `original`'s
/// permissions, owner and group when there is an original, syncs it and renames it over `path`. The temporary file
/// is removed on every error.
fn replace_with(
    path: &Path,
    new: &str,
    original: Option<&std::fs::Metadata>,
) -> Result<(), WriteError> {
    let directory = directory_of(path);
    let file_name = file_name_of(path);
    remove_stale_temporaries(&directory, &file_name);
    let mut temporary = tempfile::Builder::new()
        .prefix(&format!(".{file_name}.pyimage-"))
        .suffix(".tmp")
        .tempfile_in(&directory)
        .doing(|| {
            format!(
                "cannot create a temporary file in {} to replace {}",
                directory.display(),
                path.display()
            )
        })?;
    let shown = temporary.path().display().to_string();
    temporary
        .write_all(new.as_bytes())
        .doing(|| format!("cannot write {shown}"))?;
    if let Some(original) = original {
        keep_owner(temporary.as_file(), original)
            .doing(|| format!("cannot give {shown} the owner of {}", path.display()))?;
        temporary
            .as_file()
            .set_permissions(original.permissions())
            .doing(|| format!("cannot set permissions of {shown}"))?;
    }
    temporary
        .as_file()
        .sync_all()
        .doing(|| format!("cannot sync {shown}"))?;
    // `persist` renames; on failure the returned error still owns the temporary file, which is removed on drop.
    temporary
        .persist(path)
        .map_err(|e| e.error)
        .doing(|| format!("cannot replace {} with {shown}", path.display()))?;
    // Make the rename itself durable.
    if let Ok(dir) = File::open(&directory) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Gives the new file the original's owner and group. Only root (or the owner, for a group it belongs to) may;
/// when we are not allowed to and the owner would change anyway, the write goes on as the user's own edit would.
#[cfg(unix)]
fn keep_owner(file: &File, original: &std::fs::Metadata) -> std::io::Result<()> {
    let current = file.metadata()?;
    if current.uid() == original.uid() && current.gid() == original.gid() {
        return Ok(());
    }
    match std::os::unix::fs::fchown(file, Some(original.uid()), Some(original.gid())) {
        Err(error) if error.kind() == std::io::ErrorKind::PermissionDenied => {
            tracing::debug!("cannot keep the owner of a rewritten file: {error}");
            Ok(())
        }
        other => other,
    }
}

/// Windows has no uid/gid to keep: the new file takes the directory's inherited access rules, as an editor's save
/// does.
#[cfg(not(unix))]
fn keep_owner(_file: &File, _original: &std::fs::Metadata) -> std::io::Result<()> {
    Ok(())
}

/// Removes temporary files a killed run left beside `file_name` (ours by name, regular files, older than
/// [`STALE_AFTER`]). Best effort: a file that cannot be removed stays.
fn remove_stale_temporaries(directory: &Path, file_name: &str) {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return;
    };
    let prefix = format!(".{file_name}.pyimage-");
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = (name.starts_with(&prefix) || name.starts_with(".pyimage.lock."))
            && name.ends_with(".tmp");
        if !ours {
            continue;
        }
        let Ok(metadata) = std::fs::symlink_metadata(entry.path()) else {
            continue;
        };
        let old = metadata
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age > STALE_AFTER);
        if (metadata.file_type().is_file() || metadata.file_type().is_symlink()) && old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// An exclusive advisory lock (`flock`) on the directory that holds the lock file, held until dropped: two `pin`
/// or `update` runs on one repository take turns, so neither loses the other's lock entries.
pub struct DirectoryLock {
    _file: File,
}

/// Takes [`DirectoryLock`] for the directory of `lock_path`, waiting for another run to finish.
pub fn lock_directory(lock_path: &Path) -> Result<DirectoryLock, WriteError> {
    let directory = directory_of(lock_path);
    let file = lock_file(&directory)?;
    if file.try_lock().is_err() {
        tracing::info!("waiting for another pyimage run in {}", directory.display());
        file.lock()
            .doing(|| format!("cannot lock {}", directory.display()))?;
    }
    Ok(DirectoryLock { _file: file })
}

/// The file whose lock stands for `directory`'s: the directory itself on unix (nothing is created).
#[cfg(unix)]
fn lock_file(directory: &Path) -> Result<File, WriteError> {
    File::open(directory).doing(|| format!("cannot open {} to lock it", directory.display()))
}

/// Windows cannot open a directory as a file to lock it: a file in the temporary directory named after the
/// directory's canonical path stands for it (nothing is created in the repository).
#[cfg(not(unix))]
fn lock_file(directory: &Path) -> Result<File, WriteError> {
    use std::hash::{Hash, Hasher};
    let canonical = std::fs::canonicalize(directory)
        .doing(|| format!("cannot open {} to lock it", directory.display()))?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    canonical.hash(&mut hasher);
    let path = std::env::temp_dir().join(format!("pyimage-{:016x}.lock", hasher.finish()));
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .doing(|| {
            format!(
                "cannot open {} to lock {}",
                path.display(),
                directory.display()
            )
        })
}

/// A unified diff of one file, as `diff -u` would print it.
pub fn unified_diff(path: &Path, old: &str, new: &str) -> String {
    // `a/Dockerfile`, not `a/./Dockerfile`: the diff must apply with `git apply` and `patch -p1`.
    let shown = path
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header(&format!("a/{shown}"), &format!("b/{shown}"))
        .to_string()
}
