//! `pyimage verify --inspect` with the fixtures of testdata/verify against the Docker Hub replica, no engine needed:
//! podman's repository × digest pairs count only when Docker Hub serves the digest, a local build is untrusted, a
//! file that is not inspect output is an input error, an unreachable registry is exit code 3. They only read, so
//! they use the shared replica.

use std::path::{Path, PathBuf};
use std::process::Output;

use pyimage_testkit::newest_library_file;
use serde_json::Value;

use crate::support::{Shared, json, pyimage, shared, stderr, stdout, tempdir, testdata};

fn fixture(name: &str) -> PathBuf {
    testdata("verify").join(name)
}

/// The fixture with `{{digest:TAG}}` replaced by the shared replica's digest of TAG (and `{{config:TAG}}` by the
/// config digest of its linux/amd64 image), written to `dir`.
fn instantiate(seeded: &Shared, dir: &Path, name: &str) -> PathBuf {
    let mut text = std::fs::read_to_string(fixture(name)).unwrap();
    while let Some(start) = text.find("{{digest:") {
        let end = start + text[start..].find("}}").unwrap();
        let tag = &text[start + "{{digest:".len()..end];
        let digest = seeded.truth.digest(tag).unwrap().to_owned();
        text.replace_range(start..end + 2, &digest);
    }
    while let Some(start) = text.find("{{config:") {
        let end = start + text[start..].find("}}").unwrap();
        let tag = &text[start + "{{config:".len()..end];
        let config = seeded
            .truth
            .tag(tag)
            .unwrap()
            .image("linux/amd64")
            .unwrap()
            .config_digest
            .clone();
        text.replace_range(start..end + 2, &config);
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn verify(config: &Path, args: &[&str]) -> (Option<i32>, Output) {
    let output = pyimage()
        .config(config)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        // The PSF link is verify_release's subject: here it would ask www.python.org.
        .env("PYIMAGE_NO_RELEASE_SIGNATURE", "1")
        .args(["verify"])
        .run(args);
    (output.status.code(), output)
}

fn images(output: &Output) -> Vec<Value> {
    json(output)["images"].as_array().unwrap().clone()
}

#[test]
fn podman_pairs_count_only_when_docker_hub_serves_the_digest() {
    let seeded = shared();
    let dir = tempdir("verify-podman");
    let pairs = instantiate(seeded, dir.path(), "podman-pairs.json");
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

    let official = instantiate(seeded, dir.path(), "podman-official.json");
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
    let seeded = shared();
    let local = fixture("docker-local-build.json");
    let (code, output) = verify(
        &seeded.config,
        &["--inspect", local.to_str().unwrap(), "python:3.12-slim"],
    );
    assert_eq!(code, Some(1));
    let text = stdout(&output);
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
    assert!(stderr(&output).contains("has no image named python:3.11-slim"));
    for bad in [fixture("not-inspect.json"), fixture("missing.json")] {
        let (code, output) = verify(&seeded.config, &["--inspect", bad.to_str().unwrap()]);
        assert_eq!(code, Some(2), "{}", bad.display());
        let errors = stderr(&output);
        assert!(
            errors.contains(bad.file_name().unwrap().to_str().unwrap()),
            "{errors}"
        );
    }
    // Neither IMAGE nor --inspect: usage error.
    let (code, _) = verify(&seeded.config, &[]);
    assert_eq!(code, Some(2));
}

#[test]
fn unreachable_engine_and_registry_are_exit_code_3() {
    let seeded = shared();
    // The engine: DOCKER_HOST points nowhere; the address is named.
    let (code, output) = verify(&seeded.config, &["python:3.12-slim"]);
    assert_eq!(code, Some(3));
    let errors = stderr(&output);
    assert!(
        errors.contains("unix:///nonexistent/docker.sock"),
        "{errors}"
    );
    // The registry: nothing listens at the configured endpoint.
    let dir = tempdir("verify-offline");
    let offline = dir.path().join("offline.toml");
    std::fs::write(
        &offline,
        "[registries.\"docker.io\"]\nendpoint = \"http://127.0.0.1:9\"\ninsecure = true\n",
    )
    .unwrap();
    let official = instantiate(seeded, dir.path(), "podman-official.json");
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

/// Issue 15 #4: an inspect file that names the official digest but an image ID that is not the config of the
/// platform manifest Docker Hub serves is a lie: not ok, and the note names both.
#[test]
fn an_image_id_that_is_not_the_served_config_fails() {
    let seeded = shared();
    let dir = tempdir("verify-lying-id");
    let official = instantiate(seeded, dir.path(), "podman-official.json");
    let honest = std::fs::read_to_string(&official).unwrap();
    let real = seeded
        .truth
        .tag("3.12-slim")
        .unwrap()
        .image("linux/amd64")
        .unwrap()
        .config_digest
        .clone();
    let forged = format!("sha256:{}", "ab".repeat(32));
    std::fs::write(&official, honest.replace(&real, &forged)).unwrap();
    let (code, output) = verify(
        &seeded.config,
        &[
            "--format",
            "json",
            "--no-provenance",
            "--inspect",
            official.to_str().unwrap(),
        ],
    );
    let out = images(&output);
    assert_eq!(code, Some(1), "{out:#?}");
    assert_eq!(out[0]["ok"], false);
    let notes = out[0]["notes"].to_string();
    assert!(notes.contains(&forged) && notes.contains(&real), "{notes}");
}

/// Issue 15 #3: verify names who answered for Docker Hub; a `pyimage.toml` discovered in the checked directory
/// that points `docker.io` elsewhere is refused unless `--trust-docker-io-endpoint`; named with `--config`, it is
/// used with a warning in every format.
#[test]
fn a_docker_io_endpoint_that_is_not_docker_hub_is_named_and_not_trusted_from_the_tree() {
    let seeded = shared();
    let dir = tempdir("verify-endpoint");
    let official = instantiate(seeded, dir.path(), "podman-official.json");
    std::fs::copy(&seeded.config, dir.path().join("pyimage.toml")).unwrap();
    let endpoint = seeded.replica.registry_url();
    let args = [
        "--format",
        "json",
        "--no-provenance",
        "--inspect",
        official.to_str().unwrap(),
    ];
    let discovered = pyimage()
        .env("PYIMAGE_NO_RELEASE_SIGNATURE", "1")
        .current_dir(dir.path())
        .args(["verify"])
        .run(&args);
    assert_eq!(discovered.status.code(), Some(2), "{}", stdout(&discovered));
    let message = stderr(&discovered);
    assert!(
        message.contains(&endpoint) && message.contains("--trust-docker-io-endpoint"),
        "{message}"
    );

    let trusted = pyimage()
        .env("PYIMAGE_NO_RELEASE_SIGNATURE", "1")
        .current_dir(dir.path())
        .args(["verify", "--trust-docker-io-endpoint"])
        .run(&args);
    assert_eq!(trusted.status.code(), Some(0), "{}", stderr(&trusted));
    let report = json(&trusted);
    assert_eq!(
        report["docker_hub_endpoint"],
        endpoint.trim_end_matches('/')
    );
    assert!(
        report["warnings"][0]
            .as_str()
            .unwrap()
            .contains("not by Docker Hub"),
        "{report:#}"
    );
    assert!(stderr(&trusted).contains("warning"), "{}", stderr(&trusted));

    let (code, human) = verify(
        &seeded.config,
        &["--no-provenance", "--inspect", official.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{}", stderr(&human));
    let text = stdout(&human);
    assert!(
        text.contains(&format!(
            "docker.io answered by: {}",
            endpoint.trim_end_matches('/')
        )),
        "{text}"
    );
    assert!(text.contains("WARNING"), "{text}");
}

/// Issue 15 #3: an official digest whose attestations cannot be read (the index carries none) vouches for nothing:
/// under `--require official-current` it is not ok, and the output says why.
#[test]
fn official_current_without_readable_attestations_is_not_ok() {
    let (replica, _) =
        pyimage_testkit::Replica::start_seeded(newest_library_file().unwrap()).unwrap();
    let truth = replica.ground_truth().unwrap();
    let config_digest = truth
        .tag("3.12-slim")
        .unwrap()
        .image("linux/amd64")
        .unwrap()
        .config_digest
        .clone();
    let tampered = replica
        .tamper("3.12-slim", pyimage_testkit::Tamper::DropAttestations)
        .unwrap();
    let dir = tempdir("verify-no-attestations");
    let config = dir.path().join("pyimage.toml");
    std::fs::write(&config, replica.pyimage_toml()).unwrap();
    let inspect = dir.path().join("inspect.json");
    std::fs::write(
        &inspect,
        format!(
            r#"[{{"Id": "{config_digest}", "RepoTags": ["python:3.12-slim"], "RepoDigests": ["python@{}"], "Os": "linux", "Architecture": "amd64"}}]"#,
            tampered.new_digest
        ),
    )
    .unwrap();
    let (code, output) = verify(
        &config,
        &[
            "--format",
            "json",
            "--official-images",
            "none",
            "--inspect",
            inspect.to_str().unwrap(),
        ],
    );
    let image = &images(&output)[0];
    assert_eq!(code, Some(1), "{image:#}");
    assert_eq!(image["verdict"], "official-current", "{image:#}");
    assert_eq!(image["ok"], false, "{image:#}");
    let notes = image["notes"].to_string();
    assert!(
        notes.contains("the attestations could not be read"),
        "{image:#}"
    );
}
