//! File names are data a repository's author chooses: a name holding a newline and `::error …` must not become a
//! line of its own in the human report (a CI runner reads such a line as a workflow command).

use crate::support::{pyimage, stdout, tempdir};

#[test]
fn human_report_keeps_a_name_with_a_newline_on_its_line() {
    let temp = tempdir("newline-name");
    let dir = temp.path();
    std::fs::write(
        dir.join("pyimage.toml"),
        "[[paths]]\npattern = \"prod/**\"\nenvironment = \"prod\"\n",
    )
    .unwrap();
    let forged = dir.join("prod/e\n::error title=forged::owned\n```\nx");
    std::fs::create_dir_all(&forged).unwrap();
    std::fs::write(forged.join("Dockerfile"), "FROM python:3.13-slim\n").unwrap();
    let output =
        pyimage()
            .current_dir(dir)
            .run(&["check", "--config", "pyimage.toml", "--", "prod"]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let report = stdout(&output);
    assert!(
        report.contains(" --> prod/e\\n::error title=forged::owned\\n```\\nx/Dockerfile:1:6"),
        "{report}"
    );
    assert!(
        !report
            .lines()
            .any(|l| l.starts_with("::") || l.starts_with("```")),
        "{report}"
    );
}

/// A FIFO named `.env` beside a Compose file (or given as `--env-file`) is reported, never opened: opening a FIFO
/// blocks until someone writes to it.
#[test]
fn a_fifo_named_dotenv_is_reported_not_waited_on() {
    let temp = tempdir("fifo-env");
    let dir = temp.path();
    std::fs::write(
        dir.join("compose.yaml"),
        "services:\n  a:\n    image: python:3.13-slim\n",
    )
    .unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(dir.join(".env"))
        .status()
        .unwrap();
    assert!(made.success());
    for args in [
        &["check", "--", "."][..],
        &["check", "--env-file", ".env", "--", "compose.yaml"][..],
    ] {
        let mut command = pyimage().current_dir(dir).command_for_spawn(args);
        let child = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = sender.send(child.wait_with_output());
        });
        // A ceiling on a hang, not a claim about speed.
        let Ok(Ok(output)) = receiver.recv_timeout(std::time::Duration::from_secs(30)) else {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("{args:?}: blocked on the FIFO");
        };
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("not a regular file"),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
