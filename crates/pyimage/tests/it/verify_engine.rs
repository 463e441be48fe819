//! `pyimage verify` end to end with a real Docker engine: Debian's dockerd, started by the test with every path in a
//! temporary directory and `registry-mirrors` pointing at the local Docker Hub replica, so `docker pull
//! python:3.12-slim` behaves as with Docker Hub and records `python@sha256:<index digest>`.
//!
//! One scenario, in order (one dockerd, one replica): pull → official-current; a faithful mirror and a private
//! registry's byte-identical copy → foreign + faithful copy; a local build and an image retagged from another
//! repository → untrusted; the saved `docker image inspect` JSON gives the same verdicts; the replica rebuilds →
//! the same local image is official-stale with the new digest and what changed; pyimage.lock → official-locked;
//! exit codes 2 and 3. Afterwards no dockerd or containerd of the test is left running.
//!
//! The replica is the test's own: it rebuilds 3.12-slim halfway through.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Instant;

use pyimage_testkit::{PlainRegistry, Replica, newest_library_file};
use serde_json::Value;

use crate::support::dockerd::{self, Dockerd};
use crate::support::{Pyimage, json, pyimage, stderr, stdout};

struct Run<'a> {
    config: &'a Path,
    docker_host: String,
}

impl Run<'_> {
    fn pyimage(&self, args: &[&str]) -> Output {
        self.command().run(args)
    }

    fn pyimage_with_stdin(&self, args: &[&str], stdin: &[u8]) -> Output {
        self.command().run_with_stdin(args, stdin)
    }

    fn command(&self) -> Pyimage {
        pyimage()
            .config(self.config)
            .env("DOCKER_HOST", &self.docker_host)
            // The PSF link is verify_release's subject: here it would ask www.python.org.
            .env("PYIMAGE_NO_RELEASE_SIGNATURE", "1")
    }

    /// `verify --format json`, returning (exit code, images).
    fn verify(&self, args: &[&str]) -> (i32, Vec<Value>) {
        let mut all = vec!["verify", "--format", "json"];
        all.extend_from_slice(args);
        let output = self.pyimage(&all);
        (output.status.code().unwrap(), images(&output))
    }
}

fn images(output: &Output) -> Vec<Value> {
    json(output)["images"].as_array().unwrap().clone()
}

fn verdicts(images: &[Value]) -> Vec<String> {
    images
        .iter()
        .map(|i| i["verdict"].as_str().unwrap_or("-").to_owned())
        .collect()
}

fn step(started: Instant, what: &str) {
    eprintln!("[{:>6.1}s] {what}", started.elapsed().as_secs_f64());
}

#[test]
fn verify_with_a_real_docker_engine() {
    let started = Instant::now();
    let (replica, seeded) = Replica::start_seeded(newest_library_file().unwrap()).unwrap();
    let truth = seeded.truth;
    // A faithful Docker Hub mirror, a private registry holding a byte-identical copy under another name, and a
    // private registry for content Docker Hub never served.
    let mirror = replica
        .mirror_tags("library/python", &["3.11-slim"])
        .unwrap();
    let acme = replica.mirror_tags("acme/python", &["3.10-slim"]).unwrap();
    let private = PlainRegistry::start().unwrap();
    step(started, "replica seeded, mirrors copied");

    let insecure: Vec<String> = [
        &replica.host(),
        &mirror.host(),
        &acme.host(),
        &private.host(),
    ]
    .iter()
    .map(|h| (*h).clone())
    .collect();
    let mut engine = Dockerd::start(&insecure, &[replica.registry_url()]);
    let dir = engine.dir().to_path_buf();
    step(started, "dockerd ready");

    let config = dir.join("pyimage.toml");
    std::fs::write(&config, replica.pyimage_toml()).unwrap();
    let library = newest_library_file().unwrap();
    let library = library.to_str().unwrap();
    let run = Run {
        config: &config,
        docker_host: engine.host(),
    };

    // 1. docker pull python:3.12-slim through the mirror setting, as from Docker Hub.
    engine.docker_ok(&["pull", "-q", "python:3.12-slim"]);
    let inspect: Value =
        serde_json::from_str(&engine.docker_ok(&["image", "inspect", "python:3.12-slim"])).unwrap();
    let pulled = truth.digest("3.12-slim").unwrap().to_owned();
    assert_eq!(
        inspect[0]["RepoDigests"],
        serde_json::json!([format!("python@{pulled}")]),
        "Docker records the index digest under python"
    );
    step(started, "pulled python:3.12-slim");
    let (code, out) = run.verify(&["--official-images", library, "python:3.12-slim"]);
    assert_eq!(verdicts(&out), ["official-current"], "{out:#?}");
    assert_eq!(code, 0);
    assert_eq!(out[0]["digest"], pulled.as_str());
    assert_eq!(out[0]["platform"], "linux/amd64");
    let entry = truth.tag("3.12-slim").unwrap().entry().unwrap().clone();
    let provenance = &out[0]["provenance"];
    assert_eq!(
        provenance["provenance"]["commit"],
        entry.git_commit.as_str()
    );
    assert_eq!(
        provenance["provenance"]["directory"],
        entry.directory.as_str()
    );
    assert_eq!(provenance["sbom"]["python"], entry.python_version.as_str());
    for check in provenance["checks"].as_array().unwrap() {
        assert_eq!(check["outcome"], "match", "{check}");
    }
    // By image ID, the tag comes from RepoTags.
    let id = inspect[0]["Id"].as_str().unwrap().to_owned();
    let (code, out) = run.verify(&["--no-provenance", &id[7..19]]);
    assert_eq!(
        (code, verdicts(&out)),
        (0, vec!["official-current".to_owned()])
    );
    // Human output says so, and says that there is no signature to check.
    let human = run.pyimage(&["verify", "--official-images", library, "python:3.12-slim"]);
    let text = stdout(&human);
    assert!(text.contains("verdict       official-current"), "{text}");
    assert!(text.contains("no publisher signature"), "{text}");
    step(started, "official-current");

    // 2. Faithful copies: a Docker Hub mirror, and the same digest under another repository name.
    let from_mirror = format!("{}/library/python:3.11-slim", mirror.host());
    let from_acme = format!("{}/acme/python:3.10-slim", acme.host());
    engine.docker_ok(&["pull", "-q", &from_mirror]);
    engine.docker_ok(&["pull", "-q", &from_acme]);
    let (code, out) = run.verify(&["--official-images", library, &from_mirror, &from_acme]);
    assert_eq!(verdicts(&out), ["foreign", "foreign"], "{out:#?}");
    assert_eq!(code, 1, "foreign is not official-current");
    for (image, tag) in out.iter().zip(["3.11-slim", "3.10-slim"]) {
        assert_eq!(image["faithful_copy"], true, "{image:#}");
        assert_eq!(image["current"], true, "{image:#}");
        assert_eq!(image["digest"], truth.digest(tag).unwrap());
        assert_eq!(image["ok"], false);
    }
    assert_eq!(out[1]["source"], format!("{}/acme/python", acme.host()));
    let (code, _) = run.verify(&["--require", "faithful", &from_mirror, &from_acme]);
    assert_eq!(code, 0, "--require faithful accepts faithful copies");
    step(started, "foreign + faithful copy");

    // 3. Untrusted: built locally (no RepoDigest) and tagged as python; and an image from a private registry
    //    whose digest Docker Hub never served, retagged as python.
    let context = dir.join("context");
    std::fs::create_dir_all(&context).unwrap();
    std::fs::write(context.join("python3"), "#!/bin/sh\necho not python\n").unwrap();
    std::fs::write(
        context.join("Dockerfile"),
        "FROM scratch\nCOPY python3 /usr/local/bin/python3\nENV PYTHON_VERSION=3.13.99\n",
    )
    .unwrap();
    engine.docker_ok(&[
        "build",
        "-q",
        "-t",
        "python:3.13-slim",
        context.to_str().unwrap(),
    ]);
    let pushed = format!("{}/acme/python:3.12-slim", private.host());
    std::fs::write(context.join("extra"), "another image\n").unwrap();
    std::fs::write(
        context.join("Dockerfile"),
        "FROM scratch\nCOPY python3 extra /usr/local/bin/\n",
    )
    .unwrap();
    engine.docker_ok(&["build", "-q", "-t", &pushed, context.to_str().unwrap()]);
    engine.docker_ok(&["push", "-q", &pushed]);
    engine.docker_ok(&["tag", &pushed, "python:3.14-slim"]);
    let (code, out) = run.verify(&["python:3.13-slim", "python:3.14-slim"]);
    assert_eq!(verdicts(&out), ["untrusted", "untrusted"], "{out:#?}");
    assert_eq!(code, 1);
    assert!(
        out[0]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("no RepoDigest"),
        "{:#}",
        out[0]
    );
    assert_eq!(out[1]["faithful_copy"], false, "{:#}", out[1]);
    assert!(
        out[1]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("does not serve"),
        "{:#}",
        out[1]
    );
    step(started, "untrusted");

    // The chain of each, from the engine: official, a faithful copy, a local build, an altered copy.
    let chained = run.pyimage(&[
        "verify",
        "--chain",
        "--no-release-signature",
        "--format",
        "json",
        "--require",
        "faithful",
        "--official-images",
        library,
        "python:3.12-slim",
        &from_acme,
        "python:3.13-slim",
        "python:3.14-slim",
    ]);
    assert_eq!(chained.status.code(), Some(1), "{}", stderr(&chained));
    let chains = json(&chained);
    let status = |i: usize, link: &str| -> String {
        let links = chains["images"][i]["chain"].as_array().unwrap();
        let found = links.iter().find(|l| l["link"] == link).unwrap();
        found["status"].as_str().unwrap().to_owned()
    };
    for link in [
        "official-images",
        "build-provenance",
        "base-image",
        "sbom",
        "docker-hub",
        "cluster",
    ] {
        assert_eq!(status(0, link), "ok", "{link}: {chains:#}");
    }
    assert_eq!(status(0, "cpython-release"), "unknown");
    assert_eq!(status(0, "mirror-copy"), "not-applicable");
    assert_eq!(
        (status(1, "mirror-copy"), status(1, "docker-hub")),
        ("ok".into(), "ok".into())
    );
    assert_eq!(
        (status(2, "mirror-copy"), status(2, "docker-hub")),
        ("not-applicable".into(), "broken".into())
    );
    assert_eq!(
        (status(3, "mirror-copy"), status(3, "docker-hub")),
        ("broken".into(), "broken".into())
    );
    step(started, "--chain");

    // 4. --inspect: the same verdicts from saved `docker image inspect` JSON, from a file and from stdin.
    let names = [
        "python:3.12-slim",
        from_mirror.as_str(),
        from_acme.as_str(),
        "python:3.13-slim",
        "python:3.14-slim",
    ];
    let mut inspect_args = vec!["image", "inspect"];
    inspect_args.extend_from_slice(&names);
    let saved = engine.docker_ok(&inspect_args);
    let saved_path = dir.join("inspect.json");
    std::fs::write(&saved_path, &saved).unwrap();
    let mut engine_args = vec!["--no-provenance"];
    engine_args.extend_from_slice(&names);
    let (_, from_engine) = run.verify(&engine_args);
    let mut file_args = vec!["--no-provenance", "--inspect", saved_path.to_str().unwrap()];
    file_args.extend_from_slice(&names);
    let (_, from_file) = run.verify(&file_args);
    assert_eq!(verdicts(&from_file), verdicts(&from_engine));
    assert_eq!(
        verdicts(&from_file),
        [
            "official-current",
            "foreign",
            "foreign",
            "untrusted",
            "untrusted"
        ]
    );
    // Without names: every image of the file.
    let stdin = run.pyimage_with_stdin(
        &[
            "verify",
            "--format",
            "json",
            "--no-provenance",
            "--inspect",
            "-",
        ],
        saved.as_bytes(),
    );
    assert_eq!(verdicts(&images(&stdin)), verdicts(&from_engine));
    step(started, "--inspect");

    // 5. Docker Hub rebuilds 3.12-slim: the local image is now stale, the new digest is named, and the
    //    attestations tell what changed (the base image).
    let rebuilt = replica
        .rebuild_where(|e| e.directory == entry.directory)
        .unwrap();
    let moved = rebuilt.moved("3.12-slim").unwrap();
    assert_eq!(moved.old_digest.as_deref(), Some(pulled.as_str()));
    let (code, out) = run.verify(&["--official-images", library, "python:3.12-slim"]);
    assert_eq!(verdicts(&out), ["official-stale"], "{out:#?}");
    assert_eq!(code, 1);
    assert_eq!(out[0]["moved"][0]["now"], moved.new_digest.as_str());
    assert_eq!(out[0]["digest"], pulled.as_str());
    let changes = out[0]["changes"].as_array().unwrap();
    assert!(
        changes.iter().any(|c| c["what"] == "base-image"
            && c["to"]
                == rebuilt
                    .truth
                    .tag("3.12-slim")
                    .unwrap()
                    .entry()
                    .unwrap()
                    .base_digest
                    .as_str()),
        "{changes:#?}"
    );
    let (code, _) = run.verify(&[
        "--require",
        "official",
        "--no-provenance",
        "python:3.12-slim",
    ]);
    assert_eq!(code, 0, "stale is still official");
    let (_, out) = run.verify(&[
        "--no-provenance",
        "--inspect",
        saved_path.to_str().unwrap(),
        "python:3.12-slim",
    ]);
    assert_eq!(verdicts(&out), ["official-stale"], "the saved JSON agrees");
    let human = run.pyimage(&["verify", "--official-images", library, "python:3.12-slim"]);
    let text = stdout(&human);
    assert!(
        text.contains(&format!("python:3.12-slim is now {}", moved.new_digest)),
        "{text}"
    );
    step(started, "official-stale after a rebuild");

    // 6. pyimage.lock still pins the pulled digest: official-locked.
    let lock = dir.join("pyimage.lock");
    std::fs::write(
        &lock,
        format!(
            "version = 1\n\n[[image]]\nreference = \"python:3.12-slim\"\nnormalized = \"docker.io/library/python:3.12-slim\"\n\
             digest = \"{pulled}\"\nmedia_type = \"application/vnd.oci.image.index.v1+json\"\n\
             resolved_at = \"2026-11-23T12:00:00Z\"\nregistry = \"{}\"\n",
            replica.registry_url()
        ),
    )
    .unwrap();
    let lock_arg = lock.to_str().unwrap();
    let (code, out) = run.verify(&[
        "--no-provenance",
        "--lock",
        lock_arg,
        "--require",
        "official-locked",
        "python:3.12-slim",
    ]);
    assert_eq!(
        (code, verdicts(&out)),
        (0, vec!["official-locked".to_owned()]),
        "{out:#?}"
    );
    let (code, out) = run.verify(&[
        "--no-provenance",
        "--lock",
        lock_arg,
        "--require",
        "official-locked",
        &from_mirror,
    ]);
    assert_eq!(code, 1, "no lock entry for the mirror image: {out:#?}");
    step(started, "official-locked");

    // 7. Exit codes: 2 for input errors, 3 when the engine or the registry cannot be reached.
    let missing = run.pyimage(&["verify", "python:2.7-nonexistent"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("has no image python:2.7-nonexistent"),
        "{}",
        stderr(&missing)
    );
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{not json").unwrap();
    let output = run.pyimage(&["verify", "--inspect", bad.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("bad.json"));
    let usage = run.pyimage(&["verify", "--require", "official-locked", "python:3.12-slim"]);
    assert_eq!(usage.status.code(), Some(2), "official-locked needs --lock");
    let nowhere = Run {
        config: &config,
        docker_host: format!("unix://{}/no-such.sock", dir.display()),
    };
    let output = nowhere.pyimage(&["verify", "python:3.12-slim"]);
    assert_eq!(output.status.code(), Some(3));
    let errors = stderr(&output);
    assert!(errors.contains("no-such.sock"), "{errors}");
    let offline = dir.join("offline.toml");
    std::fs::write(
        &offline,
        "[registries.\"docker.io\"]\nendpoint = \"http://127.0.0.1:9\"\ninsecure = true\n",
    )
    .unwrap();
    let unreachable_registry = Run {
        config: &offline,
        docker_host: engine.host(),
    };
    let output = unreachable_registry.pyimage(&["verify", "--format", "json", "python:3.12-slim"]);
    assert_eq!(output.status.code(), Some(3));
    let out = images(&output);
    assert_eq!(verdicts(&out), ["unknown"]);
    assert!(
        out[0]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("127.0.0.1:9"),
        "{out:#?}"
    );
    step(started, "exit codes");

    // 8. Nothing left running.
    let pid = engine.pid().unwrap();
    engine.stop();
    assert!(
        !PathBuf::from(format!("/proc/{pid}")).exists(),
        "dockerd {pid} still runs"
    );
    let leftovers = dockerd::running(&dir.display().to_string());
    assert!(leftovers.is_empty(), "still running: {leftovers:?}");
    step(started, "dockerd stopped");
}
