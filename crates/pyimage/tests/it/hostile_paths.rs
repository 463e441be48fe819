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
