//! Applying a plan of `pin` or `update` to the files and the lock: one rule for both commands.
//!
//! * Each file is replaced atomically, and only if it still holds the text the plan was made from.
//! * A file that cannot be written (a read-only directory, a symlink, changed since it was read) is skipped with its
//!   reason, and the lock changes its edits planned are taken back (unless a file that was written planned the same
//!   key): files and lock never disagree because of a file pyimage could not write.
//! * When the lock itself cannot be written, every file written in this run is put back as it was, and the error
//!   says whether that worked: the run changes nothing, rather than half.
//! * `--dry-run` writes nothing and returns unified diffs (files, then the lock); `--check` writes nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use pyimage_model::lock::Lock;
use pyimage_store::write::{self, WriteOutcome};

use pyimage_store::located::FileError;

use crate::Rewrite;
use crate::error::{ErrorKind, Outcome};
use crate::sources::Gathered;

/// How a plan is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Write the files and the lock.
    Write,
    /// Write nothing; return unified diffs.
    DryRun,
    /// Write nothing (the caller reports what would change).
    Check,
}

/// One file of a plan: where it is, the text the plan was made from, the new text, and the lock keys its edits
/// set (added, moved or removed).
#[derive(Debug, Clone)]
pub struct FileEdit<'a> {
    /// The file on disk.
    pub path: &'a Path,
    /// The text it was read with.
    pub old_text: &'a str,
    /// Its planned new text.
    pub new_text: &'a str,
    /// The lock keys this file's edits changed.
    pub lock_keys: &'a BTreeSet<String>,
}

/// What applying did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Per file edit, in order: `None` when written (or, without writing, would be), else why it was not.
    pub not_written: Vec<Option<String>>,
    /// The lock's path, when its text changed (written, or would be).
    pub lock: Option<PathBuf>,
    /// Unified diffs of the files and the lock (only with [`Mode::DryRun`]).
    pub diffs: String,
}

impl Applied {
    /// How many files were (or would be) written.
    pub fn files_written(&self) -> usize {
        self.not_written.iter().filter(|n| n.is_none()).count()
    }

    /// The changes of the rewrites this was applied from: those made (or, without writing, that would be), and
    /// those of files not written, each with the reason.
    pub fn sort_changes<C>(&self, rewrites: Vec<Rewrite<C>>) -> (Vec<C>, Vec<(C, String)>) {
        let (mut made, mut not_made) = (Vec::new(), Vec::new());
        for (rewrite, not_written) in rewrites.into_iter().zip(&self.not_written) {
            match not_written {
                None => made.extend(rewrite.changes),
                Some(reason) => not_made.extend(
                    rewrite
                        .changes
                        .into_iter()
                        .map(|change| (change, reason.clone())),
                ),
            }
        }
        (made, not_made)
    }
}

/// What a plan came to once applied: the changes made and those not made (with the reason), the run's file
/// problems and passed-over files, and the input failure that files not written or errors make.
#[derive(Debug)]
pub struct Settled<C> {
    /// What applying did (diffs, the lock, which files were written).
    pub applied: Applied,
    /// Changes made (or, without writing, that would be).
    pub made: Vec<C>,
    /// Changes of files that could not be written, with the reason.
    pub not_made: Vec<(C, String)>,
    /// The walk's and the plan's file problems.
    pub errors: Vec<FileError>,
    /// Files a walk met and did not read.
    pub passed_over: Vec<FileError>,
    /// The planner's failure, and an input failure for any error or file not written.
    pub outcome: Outcome,
}

/// Applies a plan of `rewrites` and `planned` lock (made over `gathered` from `old`) under `mode` — the one way
/// `pin` and `update` reach the disk — and sorts what it came to.
#[allow(clippy::too_many_arguments)]
pub fn settle<C>(
    rewrites: Vec<Rewrite<C>>,
    planned: Lock,
    plan_errors: Vec<FileError>,
    failure: Option<ErrorKind>,
    gathered: Gathered,
    old: &Lock,
    lock_path: &Path,
    mode: Mode,
) -> Result<Settled<C>, LockNotWritten> {
    let applied = apply(
        &edits_of(&rewrites, &gathered),
        old,
        planned,
        lock_path,
        mode,
    )?;
    let (made, not_made) = applied.sort_changes(rewrites);
    let mut errors = gathered.errors;
    errors.extend(plan_errors);
    let outcome = Outcome::from_failure(failure)
        .and_if(!errors.is_empty() || !not_made.is_empty(), ErrorKind::Input);
    Ok(Settled {
        applied,
        made,
        not_made,
        errors,
        passed_over: gathered.passed_over,
        outcome,
    })
}

/// The edits of `rewrites` planned over `gathered`'s files (indexed as the planner's input).
pub fn edits_of<'a, C>(rewrites: &'a [Rewrite<C>], gathered: &'a Gathered) -> Vec<FileEdit<'a>> {
    rewrites
        .iter()
        .map(|rewrite| FileEdit {
            path: &gathered.found[rewrite.index].path,
            old_text: &gathered.sources[rewrite.index].text,
            new_text: &rewrite.new_text,
            lock_keys: &rewrite.lock_keys,
        })
        .collect()
}

/// The lock could not be written: nothing of the run is left (or the files that could not be put back are named).
#[derive(Debug, thiserror::Error)]
#[error("cannot write the lock {lock}: {error}; {restored}")]
pub struct LockNotWritten {
    /// The lock's path.
    pub lock: String,
    /// Why.
    pub error: write::WriteError,
    /// Whether the files written were put back.
    pub restored: String,
}

/// Applies `edits` and the lock the plan made (`planned`, from `old`) under the rule above.
pub fn apply(
    edits: &[FileEdit<'_>],
    old: &Lock,
    mut planned: Lock,
    lock_path: &Path,
    mode: Mode,
) -> Result<Applied, LockNotWritten> {
    let mut applied = Applied::default();
    let mut written: Vec<&FileEdit<'_>> = Vec::new();
    for edit in edits {
        let reason = match mode {
            Mode::DryRun => {
                applied.diffs.push_str(&write::unified_diff(
                    edit.path,
                    edit.old_text,
                    edit.new_text,
                ));
                None
            }
            Mode::Check => None,
            Mode::Write => match write::write_atomically(edit.path, edit.old_text, edit.new_text) {
                Ok(WriteOutcome::Written) => {
                    written.push(edit);
                    None
                }
                Ok(WriteOutcome::ChangedSinceRead) => Some(format!(
                    "{} changed since pyimage read it; nothing written: run again",
                    edit.path.display()
                )),
                Ok(WriteOutcome::NotReplaced(reason)) => Some(reason),
                Err(error) => Some(error.to_string()),
            },
        };
        applied.not_written.push(reason);
    }
    // Take back the lock changes of files not written, unless a written file made the same change.
    let kept: BTreeSet<&String> = edits
        .iter()
        .zip(&applied.not_written)
        .filter(|(_, reason)| reason.is_none())
        .flat_map(|(edit, _)| edit.lock_keys)
        .collect();
    for (edit, _) in edits
        .iter()
        .zip(&applied.not_written)
        .filter(|(_, reason)| reason.is_some())
    {
        for key in edit.lock_keys.iter().filter(|key| !kept.contains(key)) {
            planned.restore(key, old);
        }
    }
    let (old_text, new_text) = (old.render(), planned.render());
    if new_text == old_text {
        return Ok(applied);
    }
    applied.lock = Some(lock_path.to_path_buf());
    match mode {
        Mode::Check => {}
        Mode::DryRun => {
            let before = if lock_path.exists() {
                old_text.as_str()
            } else {
                ""
            };
            applied
                .diffs
                .push_str(&write::unified_diff(lock_path, before, &new_text));
        }
        Mode::Write => {
            if let Err(error) = write::replace_atomically(lock_path, &new_text) {
                return Err(LockNotWritten {
                    lock: lock_path.display().to_string(),
                    error,
                    restored: put_back(&written),
                });
            }
        }
    }
    Ok(applied)
}

/// Puts every written file back as it was read; says how that went.
fn put_back(written: &[&FileEdit<'_>]) -> String {
    let unrestored: Vec<String> = written
        .iter()
        .filter(|edit| {
            !matches!(
                write::write_atomically(edit.path, edit.new_text, edit.old_text),
                Ok(WriteOutcome::Written)
            )
        })
        .map(|edit| edit.path.display().to_string())
        .collect();
    if unrestored.is_empty() {
        format!("the {} file(s) written were restored", written.len())
    } else {
        format!(
            "could not restore {}: restore them from version control",
            unrestored.join(", ")
        )
    }
}
