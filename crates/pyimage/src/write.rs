//! Writing files the way `pin` and `update` must: atomically (a temporary file in the same directory, synced, then
//! renamed over the original), never over a file that changed since it was read, and as unified diffs for
//! `--dry-run` that apply with `git apply`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// What happened to an atomic write.
#[derive(Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The new content is in place.
    Written,
    /// The file changed since it was read; nothing was written.
    ChangedSinceRead,
}

/// Replaces `path`'s content with `new` atomically: a temporary file in the same directory, with the original's
/// permissions, is written and synced, then renamed over the original; a crash leaves either the old or the new
/// content, never a mix. If the file no longer holds `expected`, nothing is written.
pub fn write_atomically(path: &Path, expected: &str, new: &str) -> anyhow::Result<WriteOutcome> {
    let current =
        std::fs::read(path).with_context(|| format!("cannot re-read {}", path.display()))?;
    if current != expected.as_bytes() {
        return Ok(WriteOutcome::ChangedSinceRead);
    }
    let metadata =
        std::fs::metadata(path).with_context(|| format!("cannot stat {}", path.display()))?;
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = directory.join(format!(".{file_name}.pyimage-{}.tmp", std::process::id()));
    let result = (|| -> anyhow::Result<()> {
        let mut file = std::fs::File::create(&temporary)
            .with_context(|| format!("cannot create {}", temporary.display()))?;
        file.write_all(new.as_bytes())
            .with_context(|| format!("cannot write {}", temporary.display()))?;
        file.set_permissions(metadata.permissions())
            .with_context(|| format!("cannot set permissions of {}", temporary.display()))?;
        file.sync_all()
            .with_context(|| format!("cannot sync {}", temporary.display()))?;
        drop(file);
        std::fs::rename(&temporary, path).with_context(|| {
            format!(
                "cannot replace {} with {}",
                path.display(),
                temporary.display()
            )
        })?;
        // Make the rename itself durable.
        if let Ok(dir) = std::fs::File::open(&directory) {
            let _ = dir.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result.map(|()| WriteOutcome::Written)
}

/// Creates or replaces a file atomically (for the lock file, which may not exist yet).
pub fn replace_atomically(path: &Path, new: &str) -> anyhow::Result<()> {
    match std::fs::read_to_string(path) {
        Ok(current) => match write_atomically(path, &current, new)? {
            WriteOutcome::Written => Ok(()),
            WriteOutcome::ChangedSinceRead => bail!(
                "{} changed while pyimage was writing it; run again",
                path.display()
            ),
        },
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let directory = match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let temporary = directory.join(format!(".pyimage.lock.{}.tmp", std::process::id()));
            std::fs::write(&temporary, new)
                .with_context(|| format!("cannot write {}", temporary.display()))?;
            std::fs::rename(&temporary, path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            Ok(())
        }
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
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
