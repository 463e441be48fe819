#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    clippy::unwrap_used,
    clippy::expect_used
)]
//! Differential test of the YAML locator against PyYAML (libyaml's rules, as kubectl's go-yaml and Compose read
//! YAML): for every YAML file under `testdata/` (including `testdata/manifests/real-world-shapes/`, one file per
//! public shape), the image values pyimage reports must be the ones `yaml.safe_load_all` yields
//! (`tests/it/pyyaml_images.py`), and a file PyYAML accepts must not be a YAML error or a skipped template here.
//!
//! The test needs `python3` with PyYAML (Debian: `apt-get install python3-yaml`; `scripts/test` installs it). When
//! it is missing the test fails and says so: a differential test that skips silently proves nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use pyimage_locate::manifests;

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml")
        {
            out.push(path);
        }
    }
}

#[test]
fn image_values_match_pyyaml_on_every_testdata_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
    let mut files = Vec::new();
    yaml_files(&root, &mut files);
    let shapes = root.join("manifests/real-world-shapes");
    assert!(
        files.iter().filter(|f| f.starts_with(&shapes)).count() >= 12,
        "the real-world shapes corpus is missing"
    );

    let probe = Command::new("python3").args(["-c", "import yaml"]).output();
    match probe {
        Ok(output) if output.status.success() => {}
        Ok(output) => panic!(
            "python3 cannot import yaml: install PyYAML (Debian: apt-get install python3-yaml; scripts/test does it)\n{}",
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(e) => panic!(
            "python3 is not runnable ({e}): install python3 and python3-yaml (Debian: apt-get install python3-yaml)"
        ),
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/pyyaml_images.py");
    let output = Command::new("python3")
        .arg(&script)
        .args(&files)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let reports: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(reports.len(), files.len());

    let mut failures = Vec::new();
    for (file, report) in files.iter().zip(&reports) {
        let name = file.strip_prefix(&root).unwrap_or(file).display();
        let text = std::fs::read_to_string(file).unwrap();
        let scan = manifests::scan_yaml(&text);
        let ours: BTreeSet<String> = scan.images.iter().map(|i| i.value.clone()).collect();
        if report["ok"] == true {
            let theirs: BTreeSet<String> = report["images"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect();
            if let Some(error) = &scan.error {
                failures.push(format!("{name}: PyYAML accepts it, pyimage: {error}"));
            } else if let Some(skipped) = &scan.skipped {
                failures.push(format!(
                    "{name}: PyYAML accepts it, pyimage skipped it at {}:{} ({})",
                    skipped.line, skipped.column, skipped.reason
                ));
            } else if ours != theirs {
                failures.push(format!("{name}: pyimage {ours:?}, PyYAML {theirs:?}"));
            }
        } else if scan.error.is_none() && scan.skipped.is_none() {
            failures.push(format!(
                "{name}: PyYAML rejects it ({}), pyimage neither errs nor skips it",
                report["error"]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
