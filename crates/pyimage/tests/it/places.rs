//! More places where base images live (GitHub workflows, GitLab CI, Kustomize, dev containers, Cloud Build,
//! Kubernetes JSON, Helm values) and Compose `.env` / `--env-file`: `check` decides every image, `pin` writes the
//! digest where the file holds a literal reference or a `digest:` key and says why elsewhere, and `check --locked`
//! right after `pin` reports only what `pin` skipped. Against the shared replica; expected digests come from the
//! seeder's ground truth.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{json, pyimage, shared, stderr, stdout, tempdir, testdata};

/// The corpus directory of the new places, copied into a temporary directory.
fn copy_places(dir: &Path) -> PathBuf {
    let src = dir.join("src");
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(testdata("check/corpus/places"))
        .arg(&src)
        .status()
        .unwrap();
    assert!(status.success());
    src
}

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    pyimage()
        .config(&shared().config)
        .current_dir(dir)
        .today()
        .run(args)
}

fn read(dir: &Path, relative: &str) -> String {
    std::fs::read_to_string(dir.join(relative)).unwrap()
}

#[test]
fn every_new_place_is_pinned_or_skipped_with_its_reason_and_check_locked_converges() {
    let temp = tempdir("places");
    let dir = temp.path();
    copy_places(dir);
    let before_package = read(dir, "src/package.json");
    let digest = |tag: &str| shared().truth.digest(tag).unwrap().to_owned();

    let output = run(dir, &["pin", "--format", "json", "src"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);

    // Literal references: the digest goes right after them, quotes and comments kept.
    let workflow = read(dir, "src/.github/workflows/ci.yml");
    for line in [
        format!("    container: python:3.12-slim@{}\n", digest("3.12-slim")),
        format!(
            "        image: \"python:3.11-slim@{}\"\n",
            digest("3.11-slim")
        ),
        format!(
            "      - uses: docker://python:3.13-slim@{}\n",
            digest("3.13-slim")
        ),
        "        image: postgres:16\n".to_owned(),
        "      image: python:${{ matrix.python }}-slim\n".to_owned(),
    ] {
        assert!(workflow.contains(&line), "{line}\n{workflow}");
    }
    let gitlab = read(dir, "src/.gitlab-ci.yml");
    for line in [
        format!("image: python:3.12@{}\n", digest("3.12")),
        format!("    name: python:3.12-slim@{}\n", digest("3.12-slim")),
        format!("  image: \"python:3.11@{}\"\n", digest("3.11")),
        format!("    - python:3.13-alpine@{}\n", digest("3.13-alpine")),
        "  image: $CI_REGISTRY/library/python:3.12\n".to_owned(),
    ] {
        assert!(gitlab.contains(&line), "{line}\n{gitlab}");
    }
    let devcontainer = read(dir, "src/.devcontainer/devcontainer.json");
    assert!(
        devcontainer.contains(&format!(
            "\t\"image\": \"python:3.12-bookworm@{}\",\n",
            digest("3.12-bookworm")
        )) && devcontainer.contains("/* \"forwardPorts\": [], */"),
        "{devcontainer}"
    );
    let cloudbuild = read(dir, "src/cloudbuild.yaml");
    assert!(
        cloudbuild.contains(&format!(
            "  - name: 'python:3.12-slim@{}'\n",
            digest("3.12-slim")
        )),
        "{cloudbuild}"
    );
    assert!(cloudbuild.contains("  - name: python:${_PYTHON_VERSION}\n"));
    let job = read(dir, "src/k8s/migrate-job.json");
    assert!(
        job.contains(&format!(
            "\"image\": \"python:3.12-slim@{}\",",
            digest("3.12-slim")
        )),
        "{job}"
    );
    // Image maps: Kustomize gets a `digest:` line under the tag, Helm fills the chart's own `digest: ""`.
    let kustomization = read(dir, "src/deploy/kustomization.yaml");
    assert!(
        kustomization.contains(&format!(
            "  - name: python\n    newTag: 3.12-slim\n    digest: {}\n  - name: worker\n    newName: python\n    newTag: \"3.11-slim\"\n    digest: {}\n  - name: nginx\n",
            digest("3.12-slim"),
            digest("3.11-slim")
        )),
        "{kustomization}"
    );
    let values = read(dir, "src/chart/values.yaml");
    assert!(
        values.contains(&format!(
            "  tag: 3.12-slim\n  digest: \"{}\"\n",
            digest("3.12-slim")
        )),
        "{values}"
    );
    assert!(values.contains(&format!(
        "  image: python:3.13-slim@{}\n",
        digest("3.13-slim")
    )));
    assert!(values.contains("    tag: \"3.11-slim\"\n    pullPolicy: IfNotPresent\n"));
    assert_eq!(read(dir, "src/package.json"), before_package);

    // What was not pinned, each with its reason.
    let skipped: Vec<(String, u64, String)> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["path"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("src/")
                    .to_owned(),
                s["line"].as_u64().unwrap(),
                s["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expect_skip = |path: &str, line: u64, reason: &str| {
        assert!(
            skipped
                .iter()
                .any(|(p, l, r)| p == path && *l == line && r.contains(reason)),
            "{path}:{line} skipped with {reason:?}: {skipped:#?}"
        );
    };
    expect_skip(".github/workflows/ci.yml", 26, "GitHub Actions expression");
    expect_skip(".gitlab-ci.yml", 20, "GitLab CI variable");
    // The substitution has a default: python:3.12, built from a variable and text (issue 21, 6).
    expect_skip("cloudbuild.yaml", 12, "built from variables");
    expect_skip("chart/values.yaml", 13, "no `digest:` key");
    expect_skip("chart/values.yaml", 19, "appVersion");
    assert_eq!(skipped.len(), 5, "{skipped:#?}");

    // The loop converges: every PY008 left is a reference pin skipped.
    let output = run(dir, &["check", "--locked", "--format", "json", "src"]);
    let checked = json(&output);
    let left: BTreeSet<(String, u64)> = checked["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "PY008")
        .map(|f| {
            (
                f["path"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("src/")
                    .to_owned(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let explained: BTreeSet<(String, u64)> =
        skipped.iter().map(|(p, l, _)| (p.clone(), *l)).collect();
    assert!(left.is_subset(&explained), "{left:?} not in {explained:?}");
    assert_eq!(checked["errors"], Value::Array(Vec::new()), "{checked}");
    assert_eq!(
        checked["files_scanned"], 7,
        "package.json is not a manifest: {checked}"
    );

    // `update` finds the pins of every kind (nothing moved on the replica: nothing to do, no error).
    let output = run(dir, &["update", "--format", "json", "src"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(json(&output)["changes"], Value::Array(Vec::new()));
}

#[test]
fn compose_reads_the_env_beside_it_and_env_files_replace_it() {
    let temp = tempdir("compose-env");
    let dir = temp.path();
    std::fs::create_dir_all(dir.join("app")).unwrap();
    // The shape of docker/awesome-compose's samples: the image tag in `.env`, with a default in the file.
    std::fs::write(
        dir.join("app/compose.yaml"),
        "services:\n  api:\n    image: python:${PY_TAG}\n  worker:\n    image: ${WORKER_IMAGE:-python:3.11-slim}\n",
    )
    .unwrap();
    std::fs::write(dir.join("app/.env"), "# versions\nPY_TAG=3.12-slim\n").unwrap();
    std::fs::write(
        dir.join("other.env"),
        "PY_TAG=3.9-slim\nWORKER_IMAGE=\"python:3.8\"\n",
    )
    .unwrap();

    let output = run(dir, &["check", "--format", "json", "app"]);
    let report = json(&output);
    let rules: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap(),
                f["reference"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(!rules.iter().any(|(rule, _)| *rule == "PY009"), "{rules:?}");

    // `--env-file` replaces `.env`: both images are now end-of-life lines.
    let output = run(
        dir,
        &[
            "check",
            "--format",
            "json",
            "--env-file",
            "other.env",
            "app",
        ],
    );
    let report = json(&output);
    let eol: BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "PY006")
        .map(|f| f["reference"].as_str().unwrap())
        .collect();
    assert_eq!(
        eol,
        BTreeSet::from(["python:3.9-slim", "python:3.8"]),
        "{report}"
    );

    // A digest is never appended after a variable: pin refuses, naming the interpolation.
    let output = run(dir, &["pin", "--format", "json", "app"]);
    let report = json(&output);
    assert_eq!(report["changes"], Value::Array(Vec::new()), "{report}");
    let reasons: Vec<&str> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons
            .iter()
            .all(|r| r.contains("interpolated by Compose")),
        "{reasons:?}"
    );
    assert_eq!(read(dir, "app/compose.yaml").matches('@').count(), 0);

    // A malformed `.env` is reported with its line, and the Compose file is still checked.
    std::fs::write(dir.join("app/.env"), "PY_TAG=3.12-slim\nnot a pair\n").unwrap();
    let output = run(dir, &["check", "app"]);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("app/.env:2: expected NAME=VALUE"),
        "{}",
        stderr(&output)
    );
}
