//! Issue 15 #5: terminal escape injection. What a hostile Dockerfile, a hostile engine (here: its inspect output)
//! or a hostile argument carries must reach a terminal escaped: no raw ESC, BEL or C1 control in human output,
//! on stdout or stderr, while JSON stays exact.

use crate::support::{json, pyimage, shared, stderr, stdout, tempdir};

/// Fails when `text` holds a control character a terminal would obey.
fn assert_inert(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
        .collect();
    assert!(
        bad.is_empty(),
        "{what} carries raw controls {bad:?}:\n{text}"
    );
}

#[test]
fn escape_sequences_from_files_engines_and_arguments_are_escaped() {
    let dir = tempdir("escapes");
    let payload = "\x1b]0;pwned\x07\x1b[2J\u{9b}31m";
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!("FROM python:3.12{payload}\nFROM pyth{payload}on:latest\n"),
    )
    .unwrap();
    let check = pyimage()
        .current_dir(dir.path())
        .today()
        .run(&["check", "Dockerfile"]);
    let shown = format!("{}{}", stdout(&check), stderr(&check));
    assert!(
        shown.contains("\\x1b"),
        "the payload is shown escaped:\n{shown}"
    );
    assert_inert("check", &shown);
    let github = pyimage().current_dir(dir.path()).today().run(&[
        "check",
        "--format",
        "github",
        "Dockerfile",
    ]);
    assert_inert("github", &format!("{}{}", stdout(&github), stderr(&github)));

    let reference = pyimage().run(&["ref", &format!("python:3.12{payload}")]);
    assert_inert(
        "ref",
        &format!("{}{}", stdout(&reference), stderr(&reference)),
    );

    // A lying engine's inspect output, with the payload in names and ids.
    let inspect = dir.path().join("inspect.json");
    std::fs::write(
        &inspect,
        serde_json::json!([{
            "Id": format!("sha256:{payload}"),
            "RepoTags": [format!("python:3.12{payload}")],
            "RepoDigests": [format!("python@sha256:{payload}")],
        }])
        .to_string(),
    )
    .unwrap();
    let verify = pyimage()
        .config(&shared().config)
        .args(["verify", "--inspect"])
        .run(&[inspect.to_str().unwrap()]);
    assert_inert("verify", &format!("{}{}", stdout(&verify), stderr(&verify)));
    let chain = pyimage()
        .config(&shared().config)
        .args(["verify", "--chain", "--inspect"])
        .run(&[inspect.to_str().unwrap()]);
    assert_inert(
        "verify --chain",
        &format!("{}{}", stdout(&chain), stderr(&chain)),
    );
    let verify_json = pyimage()
        .config(&shared().config)
        .args(["verify", "--format", "json", "--inspect"])
        .run(&[inspect.to_str().unwrap()]);
    if verify_json.status.code() != Some(2) {
        // JSON keeps the exact text (serde escapes it).
        assert!(json(&verify_json).to_string().contains("pwned"));
    }
}
