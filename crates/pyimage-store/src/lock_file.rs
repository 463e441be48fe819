//! `pyimage.lock` on disk: read through the bounded reader (a lock is a small TOML file; a FIFO or a 1 GiB file at
//! its name is an error, not a hang), parsed with its file and line named, written atomically.

use std::path::{Path, PathBuf};

use pyimage_model::lock::{LOCK_FILE_NAME, Lock};

use crate::bounded::read_regular;

/// Largest lock file pyimage reads (a lock of every tag of the official image is well under 1 MiB).
pub const MAX_LOCK_BYTES: u64 = 16 * 1024 * 1024;

/// Why the lock could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LockFileError {
    /// The file exists but cannot be read (permissions, not a regular file, too large).
    #[error("cannot read {path}: {source}")]
    Unreadable {
        /// The lock's path.
        path: String,
        /// What the operating system or the bounded reader said.
        source: std::io::Error,
    },
    /// The file is not a lock this pyimage understands (the message names the line and what to do).
    #[error("{path}: {message}")]
    Invalid {
        /// The lock's path.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// Reads the lock at `path`: an empty lock when there is no file yet; a malformed lock names the file and line.
pub fn read(path: &Path) -> Result<Lock, LockFileError> {
    let shown = path.display().to_string();
    match read_regular(path, MAX_LOCK_BYTES) {
        Ok(bytes) => {
            let text = String::from_utf8(bytes).map_err(|_| LockFileError::Invalid {
                path: shown.clone(),
                message: "not UTF-8 text".to_owned(),
            })?;
            Lock::parse(&text).map_err(|error| LockFileError::Invalid {
                path: shown,
                message: error.to_string(),
            })
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Lock::default()),
        Err(source) => Err(LockFileError::Unreadable {
            path: shown,
            source,
        }),
    }
}

/// Where the lock lives: the path given, else `pyimage.lock` in `config_dir` (the directory of the `pyimage.toml`
/// in use), else in the current directory.
pub fn location(explicit: Option<&Path>, config_dir: Option<&Path>) -> PathBuf {
    match (explicit, config_dir) {
        (Some(path), _) => path.to_path_buf(),
        (None, Some(dir)) if !dir.as_os_str().is_empty() => dir.join(LOCK_FILE_NAME),
        _ => PathBuf::from(LOCK_FILE_NAME),
    }
}
