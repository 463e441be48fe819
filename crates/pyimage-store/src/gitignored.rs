//! Whether git would leave a file out of commits: a `pyimage.lock` caught by a `.gitignore` line such as `*.lock`
//! never reaches CI, where `check --locked` then fails for a reason nobody sees locally. Decided with the same
//! `.gitignore` rules the walker applies (the file's directory and its parents, `.git/info/exclude`, the global
//! excludes file).

use std::path::Path;

/// Whether `path` (an existing file) is ignored by the `.gitignore` rules that apply to it.
pub fn is_ignored(path: &Path) -> bool {
    let (Some(directory), Some(name)) = (path.parent(), path.file_name()) else {
        return false;
    };
    let directory = if directory.as_os_str().is_empty() {
        Path::new(".")
    } else {
        directory
    };
    if !path.is_file() {
        return false;
    }
    let listed = ignore::WalkBuilder::new(directory)
        .hidden(false)
        .require_git(false)
        .max_depth(Some(1))
        .build()
        .filter_map(Result::ok)
        .any(|entry| entry.depth() == 1 && entry.file_name() == name);
    !listed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_star_lock_line_ignores_the_lock_and_a_negation_keeps_it() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let lock = dir.path().join("pyimage.lock");
        std::fs::write(&lock, "version = 1\n").expect("writing the lock");
        assert!(!is_ignored(&lock));
        std::fs::write(dir.path().join(".gitignore"), "*.lock\n").expect("writing .gitignore");
        assert!(is_ignored(&lock));
        std::fs::write(dir.path().join(".gitignore"), "*.lock\n!pyimage.lock\n")
            .expect("writing .gitignore");
        assert!(!is_ignored(&lock));
    }
}
