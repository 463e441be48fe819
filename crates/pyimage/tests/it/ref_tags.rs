//! End-to-end tests of `pyimage ref` and `pyimage tags`: the real binary, real files, exit codes and output.

use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;

use crate::support::{json, stderr, stdout, tempdir, testdata};

fn pyimage(args: &[&str]) -> Output {
    crate::support::pyimage().run(args)
}

fn newest_library() -> PathBuf {
    testdata("official-images/library-python/2026-08-13T122654-73f6781860cc.txt")
}

#[test]
fn ref_json_reports_every_field() {
    let output = pyimage(&[
        "ref",
        "--format",
        "json",
        "python:3.12-slim",
        "ghcr.io/astral-sh/uv:python3.12-bookworm",
        "python:3.13.0rc2-alpine3.20@sha256:97490e383c4cffb12825431fa24e3d2b70e39fd691a8e33c46bf4c18edca3998",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let reports = json(&output);
    let first = &reports[0];
    let keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "input",
        "ok",
        "normalized",
        "familiar",
        "domain",
        "path",
        "tag",
        "digest",
        "python",
    ] {
        assert!(keys.contains(&key), "key {key} in {keys:?}");
    }
    assert!(!keys.contains(&"error"), "error only when not ok");
    assert_eq!(first["normalized"], "docker.io/library/python:3.12-slim");
    assert_eq!(first["familiar"], "python:3.12-slim");
    assert_eq!(first["domain"], "docker.io");
    assert_eq!(first["path"], "library/python");
    assert_eq!(first["tag"], "3.12-slim");
    assert_eq!(first["digest"], Value::Null);
    let python = &first["python"];
    assert_eq!(python["version"]["major"], 3);
    assert_eq!(python["version"]["minor"], 12);
    assert_eq!(python["version"]["patch"], Value::Null);
    assert_eq!(python["line"], "3.12");
    assert_eq!(python["variant"], "slim");
    assert_eq!(python["os"], Value::Null);
    assert_eq!(python["float"], "minor");

    // Not the official Python repository: no Python meaning, even though the tag mentions python.
    assert_eq!(reports[1]["domain"], "ghcr.io");
    assert_eq!(reports[1]["python"], Value::Null);

    let pinned = &reports[2]["python"];
    assert_eq!(pinned["float"], "pinned");
    assert_eq!(pinned["version"]["pre"]["phase"], "rc");
    assert_eq!(pinned["version"]["pre"]["number"], 2);
    assert_eq!(pinned["line"], "3.13-rc");
    assert_eq!(pinned["os"]["name"], "alpine3.20");
    assert_eq!(pinned["os"]["family"], "alpine");
    assert_eq!(pinned["prerelease"], true);
}

#[test]
fn invalid_references_get_gos_message_exit_2_and_the_rest_is_reported() {
    let output = pyimage(&[
        "ref",
        "--format",
        "json",
        "Python:3.12",
        "python:3.12",
        "python@sha256:abcdef",
        "",
        "python:3.12@sha256:ffffffffffffffffffffffffffffffffff",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let reports = json(&output);
    assert_eq!(reports.as_array().unwrap().len(), 5);
    assert_eq!(reports[0]["ok"], false);
    assert_eq!(
        reports[0]["error"],
        "invalid reference format: repository name (library/Python) must be lowercase"
    );
    assert_eq!(reports[1]["ok"], true);
    assert_eq!(reports[2]["error"], "invalid reference format");
    assert_eq!(reports[3]["error"], "invalid reference format");
    assert_eq!(reports[4]["error"], "invalid checksum digest length");
}

#[test]
fn ref_human_output_explains_the_tag_and_errors_go_to_stderr() {
    let output = pyimage(&["ref", "python", "library/UPPER:1"]);
    assert_eq!(output.status.code(), Some(2));
    let text = stdout(&output);
    assert!(
        text.contains("normalized  docker.io/library/python\n"),
        "{text}"
    );
    assert!(text.contains("latest (implicit)"), "{text}");
    assert!(text.contains("float     latest"), "{text}");
    let errors = stderr(&output);
    assert!(errors.contains("\"library/UPPER:1\""), "{errors}");
}

#[test]
fn tags_explains_a_floating_tag_from_a_library_file() {
    let file = newest_library();
    let output = pyimage(&[
        "tags",
        "--from",
        file.to_str().unwrap(),
        "--format",
        "json",
        "3.12-slim",
        "3.14",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let views = json(&output);
    assert_eq!(views[0]["most_specific"], "3.12.14-slim-trixie");
    assert_eq!(views[0]["kind"], "tags");
    assert_eq!(views[0]["entries"][0]["directory"], "3.12/slim-trixie");
    assert_eq!(views[1]["kind"], "shared");
    assert!(views[1]["entries"].as_array().unwrap().len() >= 2);
}

#[test]
fn tags_lists_entries_filtered_by_line_and_variant() {
    let file = newest_library();
    let output = pyimage(&[
        "tags",
        "--from",
        file.to_str().unwrap(),
        "--format",
        "json",
        "--line",
        "3.12",
        "--variant",
        "slim",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let entries = json(&output);
    let tags: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["most_specific"].as_str().unwrap())
        .collect();
    assert_eq!(tags, vec!["3.12.14-slim-trixie", "3.12.14-slim-bookworm"]);
}

#[test]
fn tags_reports_unknown_tags_and_bad_files_with_path_and_line() {
    let file = newest_library();
    let output = pyimage(&["tags", "--from", file.to_str().unwrap(), "2.7"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("\"2.7\" is not listed"));

    let dir = tempdir("tags-bad-files");
    let dir = dir.path();
    let bad = dir.join("library-python");
    std::fs::write(
        &bad,
        "Maintainers: x\n\nTags: 3.12\nthis line is not a field\n",
    )
    .unwrap();
    let output = pyimage(&["tags", "--from", bad.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let errors = stderr(&output);
    assert!(
        errors.contains(&format!("{}:4:", bad.display())),
        "{errors}"
    );

    let output = pyimage(&["tags", "--from", dir.join("missing").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("cannot read"));
}
