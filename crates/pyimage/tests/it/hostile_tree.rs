//! Hostile neighbours of `pin` (issue 15): symlinks planted in the tree and at the temporary file names, a symlinked
//! Dockerfile, a lock that cannot be written (a symlink out of the tree; a write that does not fit), a read-only
//! directory, stale temporary files of a killed run, concurrent runs, files owned by another user, FIFOs. Every test runs the real binary against the shared replica on a real file tree.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use tempfile::TempDir;

use crate::support::{is_root, pyimage, root_or_deliberate_skip, shared, stderr, stdout, tempdir};

/// A repository (`repo/`, with the shared replica's `pyimage.toml`) beside an `outside/` directory it must never
/// write into.
struct Tree {
    _temp: TempDir,
    repo: PathBuf,
    outside: PathBuf,
}

impl Tree {
    fn new(label: &str) -> Tree {
        let temp = tempdir(label);
        let repo = temp.path().join("repo");
        let outside = temp.path().join("outside");
        std::fs::create_dir_all(&repo).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::copy(&shared().config, repo.join("pyimage.toml")).unwrap();
        Tree {
            _temp: temp,
            repo,
            outside,
        }
    }

    fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.repo.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn pin(&self, args: &[&str]) -> Output {
        let mut all = vec!["pin"];
        all.extend_from_slice(args);
        pyimage().current_dir(&self.repo).today().run(&all)
    }

    fn lock_text(&self) -> String {
        std::fs::read_to_string(self.repo.join("pyimage.lock")).unwrap_or_default()
    }

    /// Names in `repo/` (and `dir` below it) that look like temporary files.
    fn temporaries(&self, dir: &str) -> Vec<String> {
        std::fs::read_dir(self.repo.join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".tmp"))
            .collect()
    }
}

const DOCKERFILE: &str = "FROM python:3.12-slim\n";

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path)
        .unwrap()
        .file_type()
        .is_symlink()
}

/// Issue 15 #2: the old temporary names were predictable (`.Dockerfile.pyimage-<pid>.tmp`,
/// `.pyimage.lock.<pid>.tmp`) and opened with `File::create`, which follows a planted symlink. Symlinks planted at
/// those names for the next pids (the window pyimage's pid falls in) must leave the files they point to untouched,
/// and `Dockerfile` and `pyimage.lock` must end as regular files.
#[test]
fn planted_symlinks_at_temporary_names_are_not_followed() {
    let tree = Tree::new("planted");
    let dockerfile = tree.write("Dockerfile", DOCKERFILE);
    let victim = tree.outside.join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let window = last + 1..last + 3000;
    for pid in window.clone() {
        for name in [
            format!(".Dockerfile.pyimage-{pid}.tmp"),
            format!(".pyimage.lock.{pid}.tmp"),
        ] {
            std::os::unix::fs::symlink(&victim, tree.repo.join(name)).unwrap();
        }
    }
    let child = pyimage()
        .current_dir(&tree.repo)
        .today()
        .spawn_quiet(&["pin", "Dockerfile"]);
    assert!(
        window.contains(&child.id()),
        "pyimage's pid {} fell outside the planted window {window:?}",
        child.id()
    );
    let status = child.wait_with_output().unwrap().status;
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "precious\n",
        "a file outside the repository was overwritten (pin exited {status})"
    );
    assert!(status.success(), "{status}");
    assert!(!is_symlink(&dockerfile), "Dockerfile became a symlink");
    assert!(!is_symlink(&tree.repo.join("pyimage.lock")));
    assert!(
        std::fs::read_to_string(&dockerfile)
            .unwrap()
            .contains("@sha256:")
    );
}

/// Issue 15 #2 and #16: a Dockerfile that is itself a symlink (here to a file outside the repository) is reported
/// and not replaced nor written through; its reference gets no lock entry and the run does not exit 0.
#[test]
fn symlinked_dockerfile_is_reported_not_replaced() {
    let tree = Tree::new("symlinked");
    let target = tree.outside.join("Dockerfile");
    std::fs::write(&target, DOCKERFILE).unwrap();
    let link = tree.repo.join("Dockerfile");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let output = tree.pin(&["Dockerfile"]);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), DOCKERFILE);
    assert!(is_symlink(&link), "the symlink was replaced");
    assert_ne!(output.status.code(), Some(0), "{}", stdout(&output));
    let shown = format!("{}{}", stdout(&output), stderr(&output));
    assert!(shown.contains("symlink"), "{shown}");
    assert!(
        !tree.lock_text().contains("3.12-slim"),
        "a lock entry for a file not written:\n{}",
        tree.lock_text()
    );
}

/// Issue 15 #14: when the lock cannot be written (here: `pyimage.lock` is a dangling symlink out of the tree, which
/// is not replaced nor written through), the files already pinned are put back, the run fails naming the lock, and
/// no temporary file is left; a temporary file a killed run left (older than an hour) is removed.
#[test]
fn failed_lock_write_rolls_the_files_back_and_leaves_no_temporary() {
    let tree = Tree::new("rollback");
    let dockerfile = tree.write("Dockerfile", DOCKERFILE);
    let stale = tree.repo.join(".Dockerfile.pyimage-Ab12Cd.tmp");
    let file = std::fs::File::create(&stale).unwrap();
    file.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(7200))
        .unwrap();
    drop(file);
    let nowhere = tree.outside.join("nowhere");
    std::os::unix::fs::symlink(&nowhere, tree.repo.join("pyimage.lock")).unwrap();
    let output = tree.pin(&["Dockerfile"]);
    assert_ne!(output.status.code(), Some(0));
    assert!(
        stderr(&output).contains("pyimage.lock"),
        "{}",
        stderr(&output)
    );
    assert!(!nowhere.exists(), "written through the lock's symlink");
    assert!(is_symlink(&tree.repo.join("pyimage.lock")));
    assert_eq!(std::fs::read_to_string(&dockerfile).unwrap(), DOCKERFILE);
    assert_eq!(tree.temporaries("."), Vec::<String>::new());
}

/// `inner` run through `program` and `prefix` (a wrapper such as `prlimit` or `runuser`), in the tree, with
/// `inner`'s environment.
fn wrapped(tree: &Tree, inner: std::process::Command, program: &str, prefix: &[&str]) -> Output {
    let mut command = std::process::Command::new(program);
    command
        .args(prefix)
        .arg(inner.get_program())
        .args(inner.get_args())
        .current_dir(&tree.repo);
    for (key, value) in inner.get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    command.output().unwrap()
}

/// `pyimage pin ARGS` in the tree with every file it writes capped at `bytes` (`RLIMIT_FSIZE` through
/// `prlimit`, with `SIGXFSZ` ignored so that a write past the cap fails with `EFBIG`): the kernel's own "this
/// write does not fit", the same path a full disk takes, without a filesystem to fill.
fn pin_with_file_size_limit(tree: &Tree, bytes: u64, args: &[&str]) -> Output {
    let inner = pyimage()
        .current_dir(&tree.repo)
        .today()
        .command_for_spawn(args);
    let limit = bytes.to_string();
    let script = "trap '' XFSZ; exec prlimit --fsize=\"$0\" -- \"$@\"";
    wrapped(tree, inner, "sh", &["-c", script, &limit])
}

/// Issue 15 #14, the write itself failing: the new lock does not fit (every file is capped just above the old
/// lock's size). The run fails naming the lock; the Dockerfile it pinned is put back; the old lock is byte for
/// byte what it was; no temporary file is left in either directory.
#[test]
fn a_lock_write_that_does_not_fit_changes_nothing() {
    let tree = Tree::new("file-size-limit");
    tree.write("old/Dockerfile", "FROM python:3.11-slim\n");
    let first = tree.pin(&["old/Dockerfile"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let old_lock = tree.lock_text();
    let pinned_old = std::fs::read_to_string(tree.repo.join("old/Dockerfile")).unwrap();
    let dockerfile = tree.write("Dockerfile", DOCKERFILE);

    let limit = old_lock.len() as u64 + 64;
    let output = pin_with_file_size_limit(&tree, limit, &["pin", "Dockerfile", "old/Dockerfile"]);
    let shown = format!("{}{}", stdout(&output), stderr(&output));
    assert_ne!(output.status.code(), Some(0), "{shown}");
    assert!(
        stderr(&output).contains("cannot write the lock") && stderr(&output).contains("restored"),
        "{shown}"
    );
    assert_eq!(tree.lock_text(), old_lock, "{shown}");
    assert_eq!(std::fs::read_to_string(&dockerfile).unwrap(), DOCKERFILE);
    assert_eq!(
        std::fs::read_to_string(tree.repo.join("old/Dockerfile")).unwrap(),
        pinned_old
    );
    assert_eq!(tree.temporaries("."), Vec::<String>::new());
    assert_eq!(tree.temporaries("old"), Vec::<String>::new());

    // The same run without the cap pins and writes the lock: the cap, not the tree, made it fail.
    let again = tree.pin(&["Dockerfile", "old/Dockerfile"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(tree.lock_text().len() as u64 > limit);
}

/// Issue 15 #14, a directory that cannot be written: `pin` pins the Dockerfile it can write, reports the one in a
/// read-only directory as skipped with the reason, gives that one no lock entry, fails, and leaves nothing behind in
/// either directory. Root writes anywhere, so as root (CI) the tree is handed to `nobody` and `pin` runs as
/// `nobody` (`runuser`); as another user the user's own read-only directory does the same.
#[test]
fn a_directory_that_cannot_be_written_is_reported_and_gets_no_lock_entry() {
    let tree = Tree::new("read-only");
    let dockerfile = tree.write("Dockerfile", DOCKERFILE);
    let locked_in = tree.write("ro/Dockerfile", "FROM python:3.11-slim\n");
    use std::os::unix::fs::PermissionsExt as _;
    let as_root = is_root();
    if as_root {
        let nobody = (65534, 65534);
        std::fs::set_permissions(tree._temp.path(), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        for path in [
            &tree.repo,
            &dockerfile,
            &locked_in,
            &tree.repo.join("pyimage.toml"),
            &tree.repo.join("ro"),
        ] {
            std::os::unix::fs::chown(path, Some(nobody.0), Some(nobody.1)).unwrap();
        }
    }
    std::fs::set_permissions(tree.repo.join("ro"), std::fs::Permissions::from_mode(0o555)).unwrap();
    // Writable again when the test ends, passed or failed, so that its owner can remove the tree.
    struct Writable(PathBuf);
    impl Drop for Writable {
        fn drop(&mut self) {
            let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o755));
        }
    }
    let _writable = Writable(tree.repo.join("ro"));

    let inner = pyimage()
        .current_dir(&tree.repo)
        .today()
        .env("HOME", &tree.repo)
        .command_for_spawn(&["pin", "Dockerfile", "ro/Dockerfile"]);
    let output = if as_root {
        wrapped(&tree, inner, "runuser", &["-u", "nobody", "--"])
    } else {
        wrapped(&tree, inner, "env", &[])
    };
    let shown = format!("{}{}", stdout(&output), stderr(&output));
    assert_ne!(output.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("ro/Dockerfile:1:6: skipped python:3.11-slim")
            && shown.contains("ermission denied"),
        "{shown}"
    );
    assert!(
        std::fs::read_to_string(&dockerfile)
            .unwrap()
            .contains("@sha256:"),
        "{shown}"
    );
    assert_eq!(
        std::fs::read_to_string(&locked_in).unwrap(),
        "FROM python:3.11-slim\n"
    );
    let lock = tree.lock_text();
    assert!(
        lock.contains("python:3.12-slim") && !lock.contains("3.11-slim"),
        "{lock}"
    );
    assert_eq!(tree.temporaries("."), Vec::<String>::new());
    assert_eq!(tree.temporaries("ro"), Vec::<String>::new());
}

/// Issue 15 #13: two `pin`s of different files at once both exit 0, and the lock has the entries of both.
#[test]
fn concurrent_pins_keep_every_lock_entry() {
    let tree = Tree::new("concurrent");
    let tags = shared()
        .truth
        .tags
        .values()
        .filter(|t| !t.shared && t.in_file && t.tag.ends_with("-slim") && t.tag.starts_with("3."))
        .map(|t| t.tag.clone())
        .take(16)
        .collect::<Vec<_>>();
    assert!(tags.len() >= 8, "{tags:?}");
    let (first, second): (Vec<_>, Vec<_>) = tags.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    for (group, name) in [(&first, "a"), (&second, "b")] {
        for (i, tag) in group.iter() {
            tree.write(
                &format!("{name}/d{i}/Dockerfile"),
                &format!("FROM python:{tag}\n"),
            );
        }
    }
    let runs = ["a", "b"].map(|dir| {
        pyimage()
            .current_dir(&tree.repo)
            .today()
            .spawn_quiet(&["pin", dir])
    });
    for run in runs {
        let status = run.wait_with_output().unwrap().status;
        assert!(status.success(), "{status}");
    }
    let lock = tree.lock_text();
    for tag in &tags {
        assert!(
            lock.contains(&format!("\"python:{tag}\"")),
            "python:{tag} lost from the lock:\n{lock}"
        );
    }
}

/// Issue 15 #15: a `pin` run as root keeps the owner and group of a file owned by another user (and of the lock).
#[test]
fn root_pin_keeps_owner_and_group() {
    let tree = Tree::new("owner");
    let dockerfile = tree.write("Dockerfile", DOCKERFILE);
    let lock = tree.write("pyimage.lock", "version = 1\n");
    if !root_or_deliberate_skip(
        "root_pin_keeps_owner_and_group",
        "only root can give a file to another user, so only root has an owner to keep",
    ) {
        return;
    }
    std::os::unix::fs::chown(&dockerfile, Some(4321), Some(4322)).unwrap();
    std::os::unix::fs::chown(&lock, Some(4321), Some(4322)).unwrap();
    let output = tree.pin(&["Dockerfile"]);
    assert!(output.status.success(), "{}", stderr(&output));
    for path in [&dockerfile, &lock] {
        let metadata = std::fs::metadata(path).unwrap();
        assert_eq!(
            (metadata.uid(), metadata.gid()),
            (4321, 4322),
            "{}",
            path.display()
        );
    }
    assert!(
        std::fs::read_to_string(&dockerfile)
            .unwrap()
            .contains("@sha256:")
    );
    assert!(tree.lock_text().contains("3.12-slim"));
}

/// Issue 15 #17 and #10: a symlinked Dockerfile and a FIFO named like one, met in a walk, are reported as skipped
/// with the reason in every format (they used to be passed over in silence: "0 files checked", exit 0) and are
/// never read; the run goes on and its exit code is the one the regular files earn (a repository may link one
/// Dockerfile from several places). `pin .` pins the regular file, names both skipped ones, and never writes
/// through the link. A lock or configuration that is a FIFO or `/dev/zero` is an error naming it — never a hang or
/// a read until memory runs out.
#[test]
fn fifos_devices_and_symlinks_are_reported_not_read() {
    let tree = Tree::new("special");
    tree.write("Dockerfile", DOCKERFILE);
    std::fs::write(tree.outside.join("Dockerfile"), DOCKERFILE).unwrap();
    std::fs::create_dir_all(tree.repo.join("link")).unwrap();
    std::os::unix::fs::symlink(
        tree.outside.join("Dockerfile"),
        tree.repo.join("link/Dockerfile"),
    )
    .unwrap();
    std::fs::create_dir_all(tree.repo.join("fifo")).unwrap();
    let fifo = tree.repo.join("fifo/Dockerfile");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let check = |args: &[&str]| pyimage().current_dir(&tree.repo).today().run(args);

    let walked = check(&["check", "."]);
    let alone = check(&["check", "Dockerfile"]);
    let shown = format!("{}{}", stdout(&walked), stderr(&walked));
    assert_eq!(walked.status.code(), alone.status.code(), "{shown}");
    assert!(
        stdout(&walked).contains("skipped: link/Dockerfile: a symlink (to ")
            && stdout(&walked).contains("skipped: fifo/Dockerfile: not a regular file"),
        "{shown}"
    );
    assert!(
        stdout(&walked).contains("in 1 file checked, 2 skipped\n"),
        "{shown}"
    );

    let json = check(&["check", "--format", "json", "."]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(report["files_scanned"], 1, "{report:#}");
    assert_eq!(report["errors"], serde_json::json!([]), "{report:#}");
    let skipped: Vec<&str> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        skipped,
        ["fifo/Dockerfile", "link/Dockerfile"],
        "{report:#}"
    );
    let sarif = check(&["check", "--format", "sarif", "."]);
    let notes = stdout(&sarif).matches("\"level\": \"note\"").count();
    assert_eq!(notes, 2, "{}", stdout(&sarif));
    let github = check(&["check", "--format", "github", "."]);
    assert!(
        stdout(&github).contains(
            "::notice file=link/Dockerfile,title=pyimage did not check this file::a symlink"
        ),
        "{}",
        stdout(&github)
    );

    let pinned = tree.pin(&["."]);
    let shown = format!("{}{}", stdout(&pinned), stderr(&pinned));
    assert_eq!(pinned.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("link/Dockerfile: skipped: a symlink")
            && shown.contains("fifo/Dockerfile: skipped: not a regular file"),
        "{shown}"
    );
    assert!(tree.lock_text().contains("python:3.12-slim"), "{shown}");
    assert_eq!(
        std::fs::read_to_string(tree.outside.join("Dockerfile")).unwrap(),
        DOCKERFILE
    );
    assert!(is_symlink(&tree.repo.join("link/Dockerfile")));

    let lock = pyimage().current_dir(&tree.repo).today().run(&[
        "check",
        "--locked",
        "--lock",
        "/dev/zero",
        "Dockerfile",
    ]);
    assert_eq!(lock.status.code(), Some(2), "{}", stderr(&lock));
    assert!(stderr(&lock).contains("/dev/zero"), "{}", stderr(&lock));

    let config = pyimage()
        .config(&fifo)
        .current_dir(&tree.repo)
        .run(&["check", "Dockerfile"]);
    assert_eq!(config.status.code(), Some(2), "{}", stderr(&config));
    assert!(
        stderr(&config).contains("not a regular file"),
        "{}",
        stderr(&config)
    );
}
