//! `pyimage verify --inspect` with the fixtures of testdata/verify against the Docker Hub replica, no engine needed:
//! podman's repository × digest pairs count only when Docker Hub serves the digest, a local build is untrusted, a
//! file that is not inspect output is an input error, an unreachable registry is exit code 3.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::LazyLock;

use pyimage_testkit::{GroundTruth, Replica, newest_library_file};
use serde_json::Value;

struct Seeded {
    _replica: Replica,
    truth: GroundTruth,
    config: PathBuf,
    dir: tempfile::TempDir,
}

static SEEDED: LazyLock<Seeded> = LazyLock::new(|| {
    let (replica, seeded) = Replica::start_seeded(newest_library_file().unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pyimage.toml");
    std::fs::write(&config, replica.pyimage_toml()).unwrap();
    Seeded {
        _replica: replica,
        truth: seeded.truth,
        config,
        dir,
    }
});

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/verify")
        .join(name)
}

/// The fixture with `{{digest:TAG}}` replaced, written to the test's directory.
fn instantiate(seeded: &Seeded, name: &str) -> PathBuf {
    let mut text = std::fs::read_to_string(fixture(name)).unwrap();
    while let Some(start) = text.find("{{digest:") {
        let end = start + text[start..].find("}}").unwrap();
        let tag = &text[start + "{{digest:".len()..end];
        let digest = seeded.truth.digest(tag).unwrap().to_owned();
        text.replace_range(start..end + 2, &digest);
    }
    let path = seeded.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn verify(config: &Path, args: &[&str]) -> (Option<i32>, Output) {
    let output = Command::new(env!("CARGO_BIN_EXE_pyimage"))
        .arg("--config")
        .arg(config)
        .arg("verify")
        .args(args)
        .env("NO_COLOR", "1")
        .env("DOCKER_CONFIG", "/nonexistent")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .expect("pyimage runs");
    (output.status.code(), output)
}

fn images(output: &Output) -> Vec<Value> {
    let value: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    value["images"].as_array().unwrap().clone()
}

#[test]
fn podman_pairs_count_only_when_docker_hub_serves_the_digest() {
    let seeded = &*SEEDED;
    let pairs = instantiate(seeded, "podman-pairs.json");
    let (code, output) = verify(
        &seeded.config,
        &["--format", "json", "--inspect", pairs.to_str().unwrap()],
    );
    assert_eq!(code, Some(1));
    let out = images(&output);
    assert_eq!(out[0]["verdict"], "untrusted", "{out:#?}");
    assert_eq!(out[0]["official"], false);
    assert_eq!(out[0]["faithful_copy"], false);
    assert_eq!(out[0]["ignored"].as_array().unwrap().len(), 1, "{out:#?}");
    assert!(
        out[0]["ignored"][0]
            .as_str()
            .unwrap()
            .starts_with("docker.io/library/python@sha256:1111")
    );

    let official = instantiate(seeded, "podman-official.json");
    let (code, output) = verify(
        &seeded.config,
        &[
            "--format",
            "json",
            "--official-images",
            newest_library_file().unwrap().to_str().unwrap(),
            "--inspect",
            official.to_str().unwrap(),
            "docker.io/library/python:3.12-slim",
        ],
    );
    let out = images(&output);
    assert_eq!(out[0]["verdict"], "official-current", "{out:#?}");
    assert_eq!(code, Some(0));
    assert_eq!(out[0]["digest"], seeded.truth.digest("3.12-slim").unwrap());
}

#[test]
fn local_builds_and_bad_files() {
    let seeded = &*SEEDED;
    let local = fixture("docker-local-build.json");
    let (code, output) = verify(
        &seeded.config,
        &["--inspect", local.to_str().unwrap(), "python:3.12-slim"],
    );
    assert_eq!(code, Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("verdict       untrusted"), "{text}");
    assert!(
        text.contains("built locally or loaded from a tarball"),
        "{text}"
    );
    // By ID prefix, from the same file.
    let (code, output) = verify(
        &seeded.config,
        &[
            "--format",
            "json",
            "--inspect",
            local.to_str().unwrap(),
            "3c1f0e5a8b2d",
        ],
    );
    assert_eq!(code, Some(1));
    assert_eq!(images(&output)[0]["verdict"], "untrusted");
    // A name the file does not have, a file that is not inspect output, a missing file: exit 2.
    let (code, output) = verify(
        &seeded.config,
        &["--inspect", local.to_str().unwrap(), "python:3.11-slim"],
    );
    assert_eq!(code, Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("has no image named python:3.11-slim")
    );
    for bad in [fixture("not-inspect.json"), fixture("missing.json")] {
        let (code, output) = verify(&seeded.config, &["--inspect", bad.to_str().unwrap()]);
        assert_eq!(code, Some(2), "{}", bad.display());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(bad.file_name().unwrap().to_str().unwrap()),
            "{stderr}"
        );
    }
    // Neither IMAGE nor --inspect: usage error.
    let (code, _) = verify(&seeded.config, &[]);
    assert_eq!(code, Some(2));
}

#[test]
fn unreachable_engine_and_registry_are_exit_code_3() {
    let seeded = &*SEEDED;
    // The engine: DOCKER_HOST points nowhere; the address is named.
    let (code, output) = verify(&seeded.config, &["python:3.12-slim"]);
    assert_eq!(code, Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unix:///nonexistent/docker.sock"),
        "{stderr}"
    );
    // The registry: nothing listens at the configured endpoint.
    let offline = seeded.dir.path().join("offline.toml");
    std::fs::write(
        &offline,
        "[registries.\"docker.io\"]\nendpoint = \"http://127.0.0.1:9\"\ninsecure = true\n",
    )
    .unwrap();
    let official = instantiate(seeded, "podman-official.json");
    let (code, output) = verify(
        &offline,
        &["--format", "json", "--inspect", official.to_str().unwrap()],
    );
    assert_eq!(code, Some(3));
    let out = images(&output);
    assert_eq!(out[0]["verdict"], "unknown");
    assert!(
        out[0]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("http://127.0.0.1:9")
    );
}
