//! The progress bar of long runs: drawn on a terminal (a pseudo-terminal made by util-linux `script`), cleared
//! before the results are printed, and never drawn into a pipe or with `--quiet`.

use std::process::Command;

use crate::support::{pyimage, shared, stderr, tempdir};

/// Runs `pyimage ARGS` (with the shared replica's config) in `dir` under a pseudo-terminal: everything it wrote.
fn on_a_terminal(dir: &std::path::Path, args: &[&str]) -> String {
    let mut line = format!(
        "{} --config {}",
        env!("CARGO_BIN_EXE_pyimage"),
        shared().config.display()
    );
    for arg in args {
        line.push(' ');
        line.push_str(arg);
    }
    let output = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(dir)
        .env("TERM", "xterm")
        .env("DOCKER_CONFIG", "/nonexistent")
        .env_remove("PYIMAGE_CONFIG")
        .output()
        .expect("script (util-linux) runs");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn tree() -> tempfile::TempDir {
    let dir = tempdir("progress");
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM python:3.12-slim AS build\nFROM python:3.13-slim\n",
    )
    .unwrap();
    dir
}

#[test]
fn a_terminal_gets_a_bar_that_is_cleared_before_the_results() {
    let dir = tree();
    let screen = on_a_terminal(dir.path(), &["pin", "--dry-run", "Dockerfile"]);
    assert!(screen.contains("/2 resolved"), "{screen:?}");
    // The bar's line is erased (carriage return, erase line) before the first result is written.
    let cleared = screen.rfind("\r\u{1b}[2K").expect("the bar is cleared");
    let result = screen.find("would pin").expect("the result");
    assert!(cleared < result, "{screen:?}");
    let quiet = on_a_terminal(dir.path(), &["--quiet", "pin", "--dry-run", "Dockerfile"]);
    assert!(!quiet.contains(" resolved "), "{quiet:?}");
    assert!(quiet.contains("would pin"), "{quiet:?}");
}

#[test]
fn a_pipe_gets_no_bar() {
    let dir = tree();
    let output = pyimage()
        .config(&shared().config)
        .current_dir(dir.path())
        .run(&["pin", "--dry-run", "Dockerfile"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        !stderr(&output).contains(" resolved "),
        "{}",
        stderr(&output)
    );
    assert!(!stderr(&output).contains('\u{1b}'), "{}", stderr(&output));
}
