//! What the CLI tests share: the `pyimage` binary run with an environment isolated from the developer's
//! ([`Pyimage`]), output helpers, temporary directories removed when the test ends, the repository's test data, a
//! real Docker engine ([`dockerd`], shared with the engine crate's tests), and the shared Docker Hub replica
//! ([`shared`]).
//!
//! The shared replica is started on first use, seeded once from the newest official-images file and never changed:
//! it serves every test that only reads from it. A test that rebuilds, replays or tampers with the registry, or that
//! counts the token server's requests, starts a replica of its own — sharing would let tests see each other's moves.
//! Tampering on a byte-identical mirror of the shared replica is fine: the mirror is the test's own.
//!
//! The shared replica lives in a `static` and is never dropped. Nothing of it outlives this process: the
//! testkit runs `docker-registry` under a guardian shell that kills it and removes its directory as soon as the
//! test process's end of a pipe closes, which the kernel does at exit or when the process is killed (see
//! `pyimage_testkit::registry`); the token server and the testkit's runtime are threads of this process. The
//! shared configuration file is written into the registry's directory so that it goes with it.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::LazyLock;

use pyimage_testkit::{GroundTruth, Replica, newest_library_file};
use serde_json::Value;
use tempfile::TempDir;

#[path = "../../../pyimage-engine/tests/support/dockerd.rs"]
pub mod dockerd;

/// The date the tests run on, as far as `pyimage` knows (`PYIMAGE_TODAY`): end-of-life findings stay stable.
pub const TODAY: &str = "2026-11-23";

/// A path under the repository's `testdata/`.
pub fn testdata(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(relative)
}

/// A fresh temporary directory, removed when the returned handle is dropped (at the end of the test).
pub fn tempdir(label: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("pyimage-it-{label}-"))
        .tempdir()
        .expect("a temporary directory")
}

/// One run of the `pyimage` binary cargo built for these tests, with `NO_COLOR=1`, no `PYIMAGE_CONFIG` and
/// `DOCKER_CONFIG` pointing nowhere, so that nothing of the developer's setup leaks in, and `PYIMAGE_TUF_URL=none`
/// so that `verify` never asks Sigstore's TUF repository on the internet (the embedded trust root; a test of the
/// refresh passes `--tuf-url` with a local repository, which wins over the variable). Builder methods add what a
/// test needs; the arguments come last.
pub struct Pyimage {
    command: Command,
}

/// `pyimage` with the isolated environment and no arguments yet.
pub fn pyimage() -> Pyimage {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pyimage"));
    command
        .env("NO_COLOR", "1")
        .env_remove("PYIMAGE_CONFIG")
        .env_remove("PYIMAGE_NO_RELEASE_SIGNATURE")
        .env("DOCKER_CONFIG", "/nonexistent")
        .env("PYIMAGE_TUF_URL", "none");
    Pyimage { command }
}

impl Pyimage {
    /// `--config PATH` (a global option: goes before the subcommand).
    pub fn config(mut self, path: &Path) -> Pyimage {
        self.command.arg("--config").arg(path);
        self
    }

    /// Runs in `dir`.
    pub fn current_dir(mut self, dir: &Path) -> Pyimage {
        self.command.current_dir(dir);
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Pyimage {
        self.command.env(key, value);
        self
    }

    /// `PYIMAGE_TODAY` = [`TODAY`].
    pub fn today(self) -> Pyimage {
        self.env("PYIMAGE_TODAY", TODAY)
    }

    /// Adds arguments.
    pub fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Pyimage {
        self.command.args(args);
        self
    }

    /// Runs with `args` and waits: exit status, stdout and stderr. Stdin is empty.
    pub fn run(self, args: &[&str]) -> Output {
        let mut command = self.args(args).command;
        command.output().expect("pyimage runs")
    }

    /// [`Pyimage::run`] with `input` on stdin.
    pub fn run_with_stdin(self, args: &[&str], input: &[u8]) -> Output {
        use std::io::Write as _;
        let mut child = self
            .args(args)
            .command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("pyimage runs");
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(input)
            .expect("writing pyimage's stdin");
        child.wait_with_output().expect("pyimage runs")
    }

    /// The command with `args`, to spawn with the caller's own stdio.
    pub fn command_for_spawn(self, args: &[&str]) -> Command {
        self.args(args).command
    }

    /// Starts with `args` and returns at once; stdout and stderr are discarded.
    pub fn spawn_quiet(self, args: &[&str]) -> Child {
        self.args(args)
            .command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pyimage starts")
    }
}

/// Stdout as text; pyimage writes UTF-8, anything else fails the test.
pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap_or_else(|_| {
        panic!(
            "stdout is not UTF-8: {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// Stderr as text (lossy).
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Fails unless `text` can be compared exactly with an insta snapshot. insta compares text with trailing whitespace
/// trimmed and CRLF read as LF; for output with one final newline, no other trailing whitespace and no carriage
/// return that comparison is byte for byte.
pub fn assert_compared_exactly(text: &str) {
    assert!(!text.contains('\r'), "a carriage return in:\n{text}");
    let body = text
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("no final newline:\n{text}"));
    assert_eq!(
        body.trim_end(),
        body,
        "trailing whitespace before the final newline"
    );
}

/// Stdout parsed as JSON; on failure the message shows stdout and stderr.
pub fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not JSON ({error}): {}\nstderr: {}",
            stdout(output),
            stderr(output)
        )
    })
}

/// Whether this test process runs as root (effective user id 0, the second field of `Uid:` in /proc/self/status).
pub fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .expect("a Uid: line")
        == "0"
}

/// The opt-out of the root-only tests: `PYIMAGE_TEST_NOT_ROOT=skip`.
pub const NOT_ROOT_OPT_OUT: &str = "PYIMAGE_TEST_NOT_ROOT";

/// For a test that can only prove its point as root (giving files away, running as another user). As root it
/// returns true. Otherwise it fails the test loudly — a test that silently passes without running proves nothing —
/// unless `PYIMAGE_TEST_NOT_ROOT=skip` says the skip is deliberate: then it says so on stderr and returns false.
/// CI runs as root, so there these tests always run.
pub fn root_or_deliberate_skip(test: &str, why: &str) -> bool {
    if is_root() {
        return true;
    }
    if std::env::var(NOT_ROOT_OPT_OUT).is_ok_and(|v| v == "skip") {
        eprintln!("{test}: SKIPPED ({NOT_ROOT_OPT_OUT}=skip): needs root: {why}");
        return false;
    }
    panic!(
        "{test} needs root ({why}); CI runs the tests as root. Run as root, or set {NOT_ROOT_OPT_OUT}=skip to skip \
         it deliberately."
    );
}

/// The replica the read-only tests share (see the module documentation).
pub struct Shared {
    /// The running replica, seeded from the newest library file and never moved.
    pub replica: Replica,
    /// What the seeder pushed.
    pub truth: GroundTruth,
    /// A `pyimage.toml` pointing `docker.io` at the replica.
    pub config: PathBuf,
}

static SHARED: LazyLock<Shared> = LazyLock::new(|| {
    let library = newest_library_file().expect("the test data has library files");
    let (replica, seeded) =
        Replica::start_seeded(library).expect("the shared replica starts and is seeded");
    let dir = replica.registry().dir().join("pyimage-it");
    std::fs::create_dir_all(&dir).expect("a directory for the shared configuration");
    let config = dir.join("pyimage.toml");
    std::fs::write(&config, replica.pyimage_toml()).expect("writing the shared pyimage.toml");
    Shared {
        replica,
        truth: seeded.truth,
        config,
    }
});

/// The shared replica, started and seeded by the first test that asks. If that fails, every test that asks fails.
pub fn shared() -> &'static Shared {
    &SHARED
}
