//! `pin` and `update` apply a plan by one rule (issue 22): a file that cannot be written is skipped with its reason
//! and gets no lock change; a lock that cannot be written puts every written file back; nothing is left half done.
//! Here `update` is held to that rule, against its own replica (a rebuild moves the digests), run as `nobody` in a
//! tree where one directory cannot be written. Files and lock must agree afterwards: `check --locked` says so.
//!
//! These cases need root (to hand the tree to `nobody` and run as it). CI runs as root; elsewhere they fail loudly
//! unless `PYIMAGE_TEST_NOT_ROOT=skip` (see `support::root_or_deliberate_skip`).

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pyimage_testkit::{Replica, library_file};
use serde_json::Value;
use tempfile::TempDir;

use crate::support::{json, pyimage, root_or_deliberate_skip, stderr, stdout, tempdir};

/// An official-images file whose 3.13 entries the test rebuilds.
const LIBRARY: &str = "2026-08-10T135551-e04d48617b9d.txt";
const NOBODY: (u32, u32) = (65534, 65534);

/// A project handed to `nobody`: `pyimage.toml` for the test's replica and two Dockerfiles pinned (as root) before
/// the registry rebuilds their tags.
struct Project {
    temp: TempDir,
    dir: PathBuf,
    replica: Replica,
}

impl Project {
    fn pinned(label: &str, files: &[(&str, &str)]) -> Project {
        let (replica, _) = Replica::start_seeded(library_file(LIBRARY)).unwrap();
        let temp = tempdir(label);
        let dir = temp.path().join("repo");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("pyimage.toml"), replica.pyimage_toml()).unwrap();
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let project = Project { temp, dir, replica };
        let output = project.as_root(&["pin", "."]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        project
    }

    fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.dir.join(relative)).unwrap()
    }

    fn as_root(&self, args: &[&str]) -> Output {
        pyimage().current_dir(&self.dir).today().run(args)
    }

    /// Hands every file and directory of the project to `nobody`; `read_only` directories (relative, `.` for the
    /// project itself) become `r-x`.
    fn hand_to_nobody(&self, read_only: &[&str]) {
        std::os::unix::fs::chown(self.temp.path(), Some(NOBODY.0), Some(NOBODY.1)).unwrap();
        std::fs::set_permissions(self.temp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        for path in walk(&self.dir) {
            std::os::unix::fs::lchown(&path, Some(NOBODY.0), Some(NOBODY.1)).unwrap();
        }
        for dir in read_only {
            let dir = self.dir.join(dir);
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        }
    }

    /// `pyimage ARGS` run as `nobody` (through `runuser`) in the project.
    fn as_nobody(&self, args: &[&str]) -> Output {
        let inner = pyimage()
            .current_dir(&self.dir)
            .today()
            .env("HOME", &self.dir)
            .command_for_spawn(args);
        let mut command = Command::new("runuser");
        command
            .args(["-u", "nobody", "--"])
            .arg(inner.get_program())
            .args(inner.get_args())
            .current_dir(&self.dir);
        for (key, value) in inner.get_envs() {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        command.output().unwrap()
    }

    /// Names ending in `.tmp` in `relative`.
    fn temporaries(&self, relative: &str) -> Vec<String> {
        std::fs::read_dir(self.dir.join(relative))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".tmp"))
            .collect()
    }

    /// `check --locked`'s PY008 findings (a pin the lock does not agree with), as `path:line`.
    fn lock_disagreements(&self) -> Vec<String> {
        let output = self.as_root(&["check", "--locked", "--format", "json", "."]);
        let report: Value = json(&output);
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "PY008")
            .map(|f| format!("{}:{}", f["path"].as_str().unwrap(), f["line"]))
            .collect()
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut all = vec![dir.to_path_buf()];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if std::fs::symlink_metadata(&path).unwrap().is_dir() {
            all.extend(walk(&path));
        } else {
            all.push(path);
        }
    }
    all
}

/// The digest a pinned `FROM python:TAG@DIGEST` line holds.
fn digest_in(text: &str) -> String {
    text.split('@').nth(1).unwrap().trim().to_owned()
}

/// A directory `update` cannot write: the Dockerfile there is reported as not moved with the permission error and
/// keeps its lock entry as it was; the writable one moves, and so does its lock entry; the run fails; files and lock
/// agree afterwards; no temporary file is left.
#[test]
fn update_skips_a_file_it_cannot_write_and_leaves_its_lock_entry() {
    if !root_or_deliberate_skip(
        "update_skips_a_file_it_cannot_write",
        "it runs update as nobody",
    ) {
        return;
    }
    let project = Project::pinned(
        "update-read-only",
        &[
            ("app/Dockerfile", "FROM python:3.13-slim\n"),
            ("ro/Dockerfile", "FROM python:3.13\n"),
        ],
    );
    let (app_before, ro_before) = (
        project.read("app/Dockerfile"),
        project.read("ro/Dockerfile"),
    );
    let lock_before = project.read("pyimage.lock");
    assert!(
        lock_before.contains(&digest_in(&ro_before)),
        "{lock_before}"
    );
    let rebuilt = project
        .replica
        .rebuild_where(|entry| entry.directory.starts_with("3.13/"))
        .unwrap();
    let new_slim = rebuilt.truth.digest("3.13-slim").unwrap().to_string();
    assert_ne!(
        digest_in(&app_before),
        new_slim,
        "the rebuild moved 3.13-slim"
    );
    project.hand_to_nobody(&["ro"]);

    let output = project.as_nobody(&["update", "--format", "json", "."]);
    let shown = format!("{}{}", stdout(&output), stderr(&output));
    assert_eq!(
        output.status.code(),
        Some(2),
        "a file not written is an input error: {shown}"
    );
    let report: Value = json(&output);
    let skipped: Vec<&Value> = report["skipped"]
        .as_array()
        .unwrap_or_else(|| panic!("update reports what it could not write: {report}"))
        .iter()
        .filter(|s| s["path"] == "ro/Dockerfile")
        .collect();
    assert_eq!(skipped.len(), 1, "{report}");
    assert!(
        skipped[0]["reason"]
            .as_str()
            .unwrap()
            .contains("ermission denied"),
        "{report}"
    );

    assert_eq!(
        project.read("ro/Dockerfile"),
        ro_before,
        "nothing written in ro/"
    );
    let app_after = project.read("app/Dockerfile");
    assert_eq!(digest_in(&app_after), new_slim, "{shown}");
    let lock_after = project.read("pyimage.lock");
    assert!(
        lock_after.contains(&new_slim),
        "the moved file's lock entry moved:\n{lock_after}"
    );
    assert!(
        lock_after.contains(&digest_in(&ro_before)),
        "the file not written keeps its lock entry:\n{lock_after}"
    );
    assert_eq!(
        project.lock_disagreements(),
        Vec::<String>::new(),
        "{lock_after}"
    );
    assert_eq!(project.temporaries("."), Vec::<String>::new());
    assert_eq!(project.temporaries("ro"), Vec::<String>::new());
}

/// A lock `update` cannot write (the project's directory is read-only, its `app/` is not): every file it moved is
/// put back, the lock is byte for byte what it was, the run fails naming the lock, and no temporary file is left.
#[test]
fn update_puts_every_file_back_when_the_lock_cannot_be_written() {
    if !root_or_deliberate_skip("update_puts_every_file_back", "it runs update as nobody") {
        return;
    }
    let project = Project::pinned(
        "update-lock-fails",
        &[
            ("app/Dockerfile", "FROM python:3.13-slim\n"),
            ("app/worker/Dockerfile", "FROM python:3.13\n"),
        ],
    );
    let before = [
        project.read("app/Dockerfile"),
        project.read("app/worker/Dockerfile"),
    ];
    let lock_before = project.read("pyimage.lock");
    project
        .replica
        .rebuild_where(|entry| entry.directory.starts_with("3.13/"))
        .unwrap();
    project.hand_to_nobody(&["."]);

    let output = project.as_nobody(&["update", "."]);
    let shown = format!("{}{}", stdout(&output), stderr(&output));
    assert_eq!(output.status.code(), Some(2), "{shown}");
    assert!(
        stderr(&output).contains("pyimage.lock") && stderr(&output).contains("restored"),
        "{shown}"
    );
    assert_eq!(project.read("pyimage.lock"), lock_before);
    assert_eq!(
        [
            project.read("app/Dockerfile"),
            project.read("app/worker/Dockerfile")
        ],
        before,
        "every moved file was put back: {shown}"
    );
    assert_eq!(project.lock_disagreements(), Vec::<String>::new());
    assert_eq!(project.temporaries("app"), Vec::<String>::new());
    assert_eq!(project.temporaries("app/worker"), Vec::<String>::new());
}
