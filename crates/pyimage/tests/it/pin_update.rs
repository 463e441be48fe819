//! `pyimage pin`, `pyimage update` and `pyimage check --locked` against the Docker Hub replica. Expectations come
//! from the seeder's ground truth (what it pushed, and which tags a rebuild or replay moved), never from pyimage.
//!
//! Tests that only pin against the registry as it is use the shared replica (seeded from the newest library file);
//! those that rebuild or replay it start their own.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Output;

use pyimage_model::python::{Float, PythonTag};
use pyimage_testkit::{GroundTruth, Replica, library_file};
use serde_json::Value;
use tempfile::TempDir;

use crate::support::{Pyimage, json, pyimage, shared, stderr, stdout, tempdir, testdata};

/// Two consecutive official-images versions: the later one moves 3.12 from 3.12.13 to 3.12.14.
const OLDER: &str = "2026-08-10T135551-e04d48617b9d.txt";
const NEWER: &str = "2026-08-13T122654-73f6781860cc.txt";

/// A project folder (`src/`, `pyimage.toml` pointing at a replica), removed when dropped.
struct Workspace {
    _temp: TempDir,
    dir: PathBuf,
    config: PathBuf,
}

impl Workspace {
    fn new(replica: &Replica, name: &str) -> Workspace {
        let temp = tempdir(name);
        let dir = temp.path().to_path_buf();
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let config = dir.join("pyimage.toml");
        std::fs::write(&config, replica.pyimage_toml()).unwrap();
        Workspace {
            _temp: temp,
            dir,
            config,
        }
    }

    /// `pyimage --config <the workspace's pyimage.toml>`, run in the workspace.
    fn pyimage(&self) -> Pyimage {
        pyimage().config(&self.config).current_dir(&self.dir)
    }

    fn run(&self, args: &[&str]) -> Output {
        self.pyimage().today().run(args)
    }

    fn json(&self, args: &[&str]) -> (Option<i32>, Value) {
        let output = self.run(args);
        (output.status.code(), json(&output))
    }

    fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.dir.join(relative)).unwrap()
    }
}

/// The tags a corpus pins: for every Linux entry of the file, its most specific tag and its `major.minor[-variant]`
/// floating alias, spread over Dockerfiles (one with CRLF and a BOM, one with an ARG), a Compose file and a
/// multi-document Kubernetes manifest.
fn write_corpus(workspace: &Workspace, truth: &GroundTruth) -> Vec<String> {
    let mut tags = Vec::new();
    for tag in truth.tags.values().filter(|t| !t.shared && t.in_file) {
        let parsed = PythonTag::parse(&tag.tag);
        let windows = tag
            .images
            .iter()
            .any(|i| i.platform.to_string().starts_with("windows"));
        if windows || parsed.is_prerelease() {
            continue;
        }
        if parsed.float() == Float::Patch && parsed.os.is_some()
            || parsed.float() == Float::Minor && parsed.os.is_none()
        {
            tags.push(tag.tag.clone());
        }
    }
    tags.sort();
    let (dockerfile_tags, rest) = tags.split_at(tags.len() / 2);
    let (compose_tags, k8s_tags) = rest.split_at(rest.len() / 2);
    let mut dockerfile = String::from("# syntax=docker/dockerfile:1\n");
    for (i, tag) in dockerfile_tags.iter().enumerate() {
        dockerfile.push_str(&format!("FROM python:{tag} AS stage{i}\nRUN echo {i}\n"));
    }
    std::fs::write(workspace.dir.join("src/Dockerfile"), dockerfile).unwrap();
    // CRLF, BOM, an ARG-built reference and a continuation.
    std::fs::write(
        workspace.dir.join("src/api.Dockerfile"),
        "\u{feff}ARG PY=3.12-slim\r\nFROM python:${PY} AS base\r\nFROM --platform=$BUILDPLATFORM \\\r\n  python:3.13-slim AS build\r\nCOPY --from=base /a /b\r\n",
    )
    .unwrap();
    let mut compose = String::from("services:\n");
    for (i, tag) in compose_tags.iter().enumerate() {
        let quote = if i % 2 == 0 { "\"" } else { "" };
        compose.push_str(&format!(
            "  svc{i}:\n    image: {quote}python:{tag}{quote}  # keep this comment\n"
        ));
    }
    std::fs::write(workspace.dir.join("src/compose.yaml"), compose).unwrap();
    let mut k8s = String::new();
    for (i, tag) in k8s_tags.iter().enumerate() {
        k8s.push_str(&format!(
            "---\napiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: job{i}\nspec:\n  schedule: \"@daily\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n            - name: c\n              image: 'python:{tag}'\n"
        ));
    }
    std::fs::write(workspace.dir.join("src/jobs.yaml"), k8s).unwrap();
    std::fs::set_permissions(
        workspace.dir.join("src/jobs.yaml"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    let mut all = tags.clone();
    all.extend(["3.12-slim".to_owned(), "3.13-slim".to_owned()]);
    all
}

/// `python:TAG@sha256:…` occurrences in the corpus: tag → digests written.
fn pinned_in(workspace: &Workspace) -> BTreeMap<String, BTreeSet<String>> {
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in [
        "src/Dockerfile",
        "src/api.Dockerfile",
        "src/compose.yaml",
        "src/jobs.yaml",
    ] {
        let text = workspace.read(file);
        for piece in text.split("python:").skip(1) {
            let end = piece
                .find(|c: char| c.is_whitespace() || c == '"' || c == '\'')
                .unwrap_or(piece.len());
            if let Some((tag, digest)) = piece[..end].split_once('@') {
                found
                    .entry(tag.to_owned())
                    .or_default()
                    .insert(digest.to_owned());
            }
        }
    }
    // The ARG-built reference: its digest sits in the ARG default.
    let api = workspace.read("src/api.Dockerfile");
    if let Some(rest) = api.split("ARG PY=").nth(1) {
        let value = rest.split("\r\n").next().unwrap_or_default();
        if let Some((tag, digest)) = value.split_once('@') {
            found
                .entry(tag.to_owned())
                .or_default()
                .insert(digest.to_owned());
        }
    }
    found
}

fn assert_pins_match(workspace: &Workspace, truth: &GroundTruth, tags: &[String]) {
    let pinned = pinned_in(workspace);
    for tag in tags {
        let digests = pinned
            .get(tag)
            .unwrap_or_else(|| panic!("{tag} was not pinned: {pinned:?}"));
        let expected = truth.digest(tag).unwrap();
        assert_eq!(
            digests,
            &BTreeSet::from([expected.to_owned()]),
            "python:{tag}"
        );
    }
}

#[test]
fn pin_then_rebuild_and_replay_move_exactly_what_the_registry_moved() {
    let (replica, _) = Replica::start_seeded(library_file(OLDER)).unwrap();
    let workspace = Workspace::new(&replica, "pin-update");
    let truth = replica.ground_truth().unwrap();
    let tags = write_corpus(&workspace, &truth);
    let before: BTreeMap<&str, String> = [
        "src/Dockerfile",
        "src/api.Dockerfile",
        "src/compose.yaml",
        "src/jobs.yaml",
    ]
    .into_iter()
    .map(|f| (f, workspace.read(f)))
    .collect();

    // pin: every reference gets the digest the seeder pushed for its tag.
    let (code, report) = workspace.json(&["pin", "--format", "json", "src"]);
    assert_eq!(code, Some(0), "{report}");
    assert!(report["skipped"].as_array().unwrap().is_empty(), "{report}");
    assert_pins_match(&workspace, &truth, &tags);
    // Only the digests were added: removing them gives back the original bytes (BOM, CRLF, quotes, comments).
    for (file, original) in &before {
        let now = workspace.read(file);
        let mut stripped = now.clone();
        for digest in truth.manifest_digests() {
            stripped = stripped.replace(&format!("@{digest}"), "");
        }
        assert_eq!(&stripped, original, "{file}: only digests were inserted");
    }
    let mode = std::fs::metadata(workspace.dir.join("src/jobs.yaml"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o640, "file mode kept");
    assert!(workspace.read("pyimage.lock").contains("version = 1"));

    // A second pin changes nothing; --check agrees.
    let output = workspace.run(&["pin", "--check", "src"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));

    // check --locked: clean right after pin; a hand-edited digest is named with file and line.
    let locked = |workspace: &Workspace| {
        let (_, report) = workspace.json(&["check", "--locked", "--format", "json", "src"]);
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "PY008")
            .map(|f| {
                (
                    f["path"].as_str().unwrap().to_owned(),
                    f["line"].as_u64().unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(locked(&workspace), Vec::new());
    let compose = workspace.read("src/compose.yaml");
    let first_digest = compose.split('@').nth(1).unwrap()[..71].to_owned();
    let tampered = compose.replacen(&first_digest, &format!("sha256:{}", "0".repeat(64)), 1);
    std::fs::write(workspace.dir.join("src/compose.yaml"), &tampered).unwrap();
    assert_eq!(locked(&workspace), vec![("src/compose.yaml".to_owned(), 3)]);
    std::fs::write(workspace.dir.join("src/compose.yaml"), &compose).unwrap();

    // Rebuild of the 3.13 entries: update moves exactly the pinned tags the seeder moved, to the new digests.
    let rebuilt = replica
        .rebuild_where(|entry| entry.directory.starts_with("3.13/"))
        .unwrap();
    let (code, report) = workspace.json(&["update", "--format", "json", "src"]);
    assert_eq!(code, Some(0), "{report}");
    let changes = report["changes"].as_array().unwrap();
    let moved: BTreeSet<String> = changes
        .iter()
        .map(|c| {
            c["new"]
                .as_str()
                .unwrap()
                .split('@')
                .next()
                .unwrap()
                .trim_start_matches("python:")
                .to_owned()
        })
        .collect();
    let expected: BTreeSet<String> = tags
        .iter()
        .filter(|t| rebuilt.moved(t).is_some())
        .cloned()
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(moved, expected);
    assert!(
        changes.iter().all(|c| c["kind"] == "rebuild"),
        "{changes:?}"
    );
    assert_pins_match(&workspace, &rebuilt.truth, &tags);

    // Replay to the next official-images file: exact 3.12.13 tags move to 3.12.14 (tag and digest), floating tags
    // follow their digest, nothing else changes.
    let replayed = replica.replay_file(library_file(NEWER)).unwrap();
    let new_truth = &replayed.truth;
    let (code, report) = workspace.json(&["update", "--format", "json", "src"]);
    assert_eq!(code, Some(0), "{report}");
    let mut expected_moves: BTreeMap<String, String> = BTreeMap::new();
    for tag in &tags {
        let old = rebuilt.truth.tag(tag).unwrap();
        let entry = old.entry().unwrap();
        // A tag naming the entry's full Python version (`3.12.13-slim-trixie`) moves to the new version's tag.
        if tag.starts_with(&format!("{}-", entry.python_version)) || *tag == entry.python_version {
            // The entry of the same directory in the new file, and its version.
            let new_entry = new_truth
                .tags
                .values()
                .filter(|t| t.in_file && !t.shared)
                .filter_map(|t| t.entry())
                .find(|e| e.directory == entry.directory)
                .unwrap();
            if new_entry.python_version != entry.python_version {
                let new_tag = tag.replacen(&entry.python_version, &new_entry.python_version, 1);
                expected_moves.insert(tag.clone(), new_tag);
                continue;
            }
        }
        if replayed.moved(tag).is_some() {
            expected_moves.insert(tag.clone(), tag.clone());
        }
    }
    assert!(
        expected_moves.values().any(|t| t.starts_with("3.12.14")),
        "{expected_moves:?}"
    );
    let actual_moves: BTreeMap<String, String> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let old = c["old"]
                .as_str()
                .unwrap()
                .trim_start_matches("python:")
                .to_owned();
            let new = c["new"]
                .as_str()
                .unwrap()
                .split('@')
                .next()
                .unwrap()
                .trim_start_matches("python:")
                .to_owned();
            (old, new)
        })
        .collect();
    assert_eq!(actual_moves, expected_moves);
    let final_tags: Vec<String> = tags
        .iter()
        .map(|t| expected_moves.get(t).cloned().unwrap_or_else(|| t.clone()))
        .collect();
    assert_pins_match(&workspace, new_truth, &final_tags);
    // The lock follows, so check --locked stays clean.
    assert_eq!(locked(&workspace), Vec::new());
}

/// Apache Airflow's shape: one ARG holds the whole reference and feeds two stages. It is pinned once, in its
/// default, both lines are reported, and `check --locked` is clean right after.
#[test]
fn shared_arg_meaning_one_image_is_pinned_once_and_check_locked_is_clean() {
    let replica = &shared().replica;
    let truth = &shared().truth;
    let workspace = Workspace::new(replica, "pin-shared-arg");
    std::fs::write(
        workspace.dir.join("src/Dockerfile"),
        "ARG PYTHON_BASE_IMAGE=\"python:3.12-slim\"\nFROM ${PYTHON_BASE_IMAGE} AS build\nRUN true\nFROM ${PYTHON_BASE_IMAGE} AS main\nCOPY --from=build /a /a\n",
    )
    .unwrap();
    let (code, report) = workspace.json(&["pin", "--format", "json", "src"]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["skipped"], serde_json::json!([]), "{report}");
    let changes = report["changes"].as_array().unwrap();
    let lines: Vec<(u64, Option<u64>)> = changes
        .iter()
        .map(|c| (c["line"].as_u64().unwrap(), c["covered_by"].as_u64()))
        .collect();
    assert_eq!(lines, [(2, None), (4, Some(2))]);
    let digest = truth.digest("3.12-slim").unwrap();
    assert_eq!(
        workspace.read("src/Dockerfile"),
        format!(
            "ARG PYTHON_BASE_IMAGE=\"python:3.12-slim@{digest}\"\nFROM ${{PYTHON_BASE_IMAGE}} AS build\nRUN true\nFROM ${{PYTHON_BASE_IMAGE}} AS main\nCOPY --from=build /a /a\n"
        )
    );
    let (code, report) = workspace.json(&["check", "--locked", "--format", "json", "src"]);
    let py008: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "PY008")
        .collect();
    assert!(py008.is_empty(), "{report}");
    assert_eq!(code, Some(0), "{report}");
}

#[test]
fn shared_arg_with_different_uses_and_digest_after_a_variable_are_refused() {
    let replica = &shared().replica;
    let workspace = Workspace::new(replica, "pin-refusals");
    let original = "ARG BASE=python:3.12-slim\nARG V=3.12\nFROM ${BASE} AS a\nFROM ${BASE}-bookworm AS b\nFROM python:${V}-slim AS c\nFROM python:3.13-slim AS d\n";
    std::fs::write(workspace.dir.join("src/Dockerfile"), original).unwrap();
    let (code, report) = workspace.json(&["pin", "--format", "json", "src"]);
    assert_eq!(code, Some(0));
    let skipped: Vec<(u64, &str)> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["line"].as_u64().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(skipped.len(), 3, "{report}");
    assert_eq!(skipped[0].0, 3);
    assert!(
        skipped[0]
            .1
            .contains("ARG BASE also feeds the image(s) on line(s) 4"),
        "{skipped:?}"
    );
    // `${BASE}-bookworm` and `python:${V}-slim`: a digest after them would not follow the ARG.
    for (line, reason) in &skipped[1..] {
        assert!(
            reason.contains("move the whole reference into the ARG"),
            "{line}: {reason}"
        );
    }
    assert!(skipped[2].1.contains("`ARG PY_IMAGE=python:3.12-slim`"));
    let text = workspace.read("src/Dockerfile");
    assert_eq!(
        text.replacen("@sha256:", "", 1).len(),
        original.len() + 64,
        "only line 6 is pinned: {text}"
    );
    assert!(text.contains("FROM python:3.13-slim@sha256:"));
    // check --locked right after: the three references pin left are PY008, and each fix gives pin's own reason
    // instead of sending the user back to `pyimage pin`.
    let (code, checked) = workspace.json(&["check", "--locked", "--format", "json", "src"]);
    assert_eq!(code, Some(1), "{checked}");
    let fixes: Vec<(u64, String)> = checked["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "PY008")
        .map(|f| {
            (
                f["line"].as_u64().unwrap(),
                f["fix"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        fixes.iter().map(|(line, _)| *line).collect::<Vec<_>>(),
        [3, 4, 5],
        "{checked}"
    );
    for ((line, fix), (skipped_line, reason)) in fixes.iter().zip(&skipped) {
        assert_eq!(line, skipped_line);
        assert_eq!(
            *fix,
            format!("`pyimage pin` leaves this reference as it is: {reason}")
        );
    }
}

/// Issue 21 (1): a reference built from several ARGs (`python:${PYTHON_VERSION}-slim-${DEBIAN_BASE}`,
/// `python:${PY}${SUFFIX}`) has no one place a digest can follow every build argument: a digest in the last ARG's
/// default would outlive `--build-arg PYTHON_VERSION=…`. pin refuses it like `python:${V}-slim`; one ARG after a
/// literal name (`python:${PY}`) and a registry ARG before it (`${REGISTRY}/library/python:${PY}`) still pin.
#[test]
fn a_reference_of_several_args_is_refused_not_pinned_in_the_last() {
    let replica = &shared().replica;
    let workspace = Workspace::new(replica, "pin-several-args");
    let debian = "ARG PYTHON_VERSION=3.12.14\nARG DEBIAN_BASE=bookworm\nFROM python:${PYTHON_VERSION}-slim-${DEBIAN_BASE}\n";
    let suffix = "ARG PY=3.12\nARG SUFFIX=-slim\nFROM python:${PY}${SUFFIX}\n";
    let registry =
        "ARG REGISTRY=docker.io\nARG PY=3.12-slim\nFROM ${REGISTRY}/library/python:${PY}\n";
    for (dir, text) in [
        ("debian", debian),
        ("suffix", suffix),
        ("registry", registry),
    ] {
        std::fs::create_dir_all(workspace.dir.join("src").join(dir)).unwrap();
        std::fs::write(workspace.dir.join("src").join(dir).join("Dockerfile"), text).unwrap();
    }
    let (code, report) = workspace.json(&["pin", "--format", "json", "src"]);
    assert_eq!(code, Some(0), "{report}");
    let skipped: Vec<(&str, &str)> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["path"].as_str().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(skipped.len(), 2, "{report}");
    for (file, reason) in &skipped {
        assert!(
            reason.contains("move the whole reference into the ARG"),
            "{file}: {reason}"
        );
    }
    assert!(
        skipped[0]
            .1
            .contains("`ARG PY_IMAGE=python:3.12.14-slim-bookworm`"),
        "{skipped:?}"
    );
    assert!(
        skipped[1].1.contains("`ARG PY_IMAGE=python:3.12-slim`"),
        "{skipped:?}"
    );
    assert_eq!(workspace.read("src/debian/Dockerfile"), debian);
    assert_eq!(workspace.read("src/suffix/Dockerfile"), suffix);
    let digest = shared().truth.digest("3.12-slim").unwrap();
    assert_eq!(
        workspace.read("src/registry/Dockerfile"),
        registry.replace("PY=3.12-slim", &format!("PY=3.12-slim@{digest}"))
    );
    // check --locked reports what pin refused, with pin's reason.
    let (code, checked) = workspace.json(&["check", "--locked", "--format", "json", "src"]);
    assert_eq!(code, Some(1), "{checked}");
    let py008: Vec<&Value> = checked["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "PY008")
        .collect();
    assert_eq!(py008.len(), 2, "{checked}");
    for finding in py008 {
        assert!(
            finding["fix"]
                .as_str()
                .unwrap()
                .contains("move the whole reference into the ARG"),
            "{checked}"
        );
    }
}

#[test]
fn build_args_evaluate_like_docker_build_and_do_not_pin_the_default() {
    let replica = &shared().replica;
    let workspace = Workspace::new(replica, "pin-build-arg");
    let original = "ARG PY=3.12-slim\nFROM python:${PY}\n";
    std::fs::write(workspace.dir.join("src/Dockerfile"), original).unwrap();
    let (code, report) = workspace.json(&[
        "pin",
        "--format",
        "json",
        "--build-arg",
        "PY=3.13-slim",
        "src",
    ]);
    assert_eq!(code, Some(0));
    let reason = report["skipped"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("--build-arg PY=3.13-slim changes the image"),
        "{report}"
    );
    assert_eq!(workspace.read("src/Dockerfile"), original);
    // The same value as the default is what the file says: pinned.
    let (code, report) = workspace.json(&[
        "pin",
        "--format",
        "json",
        "--build-arg",
        "PY=3.12-slim",
        "src",
    ]);
    assert_eq!(code, Some(0));
    assert_eq!(
        report["changes"][0]["via_arg"], "ARG PY (line 1)",
        "{report}"
    );
    // check evaluates with the build argument: the lock knows 3.12-slim, not 3.13-slim.
    let (_, report) = workspace.json(&[
        "check",
        "--locked",
        "--format",
        "json",
        "--build-arg",
        "PY=3.13-slim",
        "src",
    ]);
    let py008 = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "PY008")
        .count();
    assert_eq!(py008, 1, "{report}");
    let (code, _) = workspace.json(&["check", "--locked", "--format", "json", "src"]);
    assert_eq!(code, Some(0));
}

#[test]
fn dry_run_writes_nothing_and_check_exits_1() {
    let replica = &shared().replica;
    let workspace = Workspace::new(replica, "pin-dry-run");
    let original = "FROM python:3.12-slim\n";
    std::fs::write(workspace.dir.join("src/Dockerfile"), original).unwrap();
    let output = workspace.run(&["pin", "--dry-run", "src"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(
        text.contains("-FROM python:3.12-slim\n+FROM python:3.12-slim@sha256:"),
        "{text}"
    );
    assert_eq!(workspace.read("src/Dockerfile"), original);
    assert!(!workspace.dir.join("pyimage.lock").exists());
    let output = workspace.run(&["pin", "--check", "src"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(workspace.read("src/Dockerfile"), original);
}

#[test]
fn exact_tag_and_platform_pins() {
    let replica = &shared().replica;
    let truth = &shared().truth;
    let workspace = Workspace::new(replica, "pin-exact");
    std::fs::write(
        workspace.dir.join("src/Dockerfile"),
        "FROM python:3.12-slim\n",
    )
    .unwrap();
    std::fs::write(
        workspace.dir.join("src/compose.yaml"),
        "services:\n  a:\n    image: python:3.13-slim\n",
    )
    .unwrap();
    let output = workspace.run(&["pin", "--exact-tag", "src/Dockerfile"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let expected_tag = truth
        .tag("3.12-slim")
        .unwrap()
        .entry()
        .unwrap()
        .most_specific_tag
        .clone();
    assert_eq!(
        workspace.read("src/Dockerfile"),
        format!(
            "FROM python:{expected_tag}@{}\n",
            truth.digest("3.12-slim").unwrap()
        )
    );
    // Untagged means `latest`: the most specific tag of latest's digest is written with the digest.
    std::fs::write(workspace.dir.join("src/Dockerfile.latest"), "FROM python\n").unwrap();
    let output = workspace.run(&["pin", "--exact-tag", "src/Dockerfile.latest"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    // `latest` is a shared tag (Linux and Windows): its most specific alias is the full Python version, which the
    // library file lists among the same `SharedTags` (`3.14.2, 3.14, 3, latest`), so it names the same index.
    let latest = truth.tag("latest").unwrap();
    let linux = latest.entry().unwrap();
    assert!(
        linux.shared_tags.contains(&"latest".to_owned()),
        "{linux:?}"
    );
    let latest_tag = linux.python_version.clone();
    assert!(linux.shared_tags.contains(&latest_tag), "{linux:?}");
    assert_eq!(truth.digest(&latest_tag), Some(latest.digest.as_str()));
    assert_eq!(
        workspace.read("src/Dockerfile.latest"),
        format!("FROM python:{latest_tag}@{}\n", latest.digest)
    );
    let output = workspace.run(&["pin", "--platform", "linux/arm64", "src/compose.yaml"]);
    assert_eq!(output.status.code(), Some(0));
    let arm64 = &truth.tag("3.13-slim").unwrap().platform_digests()["linux/arm64/v8"];
    assert_eq!(
        workspace.read("src/compose.yaml"),
        format!("services:\n  a:\n    image: python:3.13-slim@{arm64}\n")
    );
}

#[test]
fn an_unknown_lock_version_is_refused_with_the_supported_one() {
    let replica = &shared().replica;
    let workspace = Workspace::new(replica, "pin-lock-version");
    std::fs::write(
        workspace.dir.join("src/Dockerfile"),
        "FROM python:3.12-slim\n",
    )
    .unwrap();
    std::fs::write(workspace.dir.join("pyimage.lock"), "version = 7\n").unwrap();
    let output = workspace.run(&["pin", "src"]);
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains("lock file version 7 is not supported") && text.contains("reads version 1"),
        "{text}"
    );
    assert_eq!(workspace.read("src/Dockerfile"), "FROM python:3.12-slim\n");
}

/// SIGKILL while `pin` rewrites many files: every file must be byte-for-byte the old or the new content.
///
/// The kill is made to land mid-write by observation, not by timing: the test watches the tree until the first
/// rewrite shows (a file whose size changed), freezes `pin` with SIGSTOP, waits until the kernel reports it stopped,
/// and records the frozen tree — which files are old, which new, and any temporary file of a write in flight. Only
/// then does it send SIGKILL. A stopped process runs no more of its code, so the tree the kill leaves must be the
/// tree recorded; the test proves the kill landed mid-write when that tree has both old and new files, or a
/// temporary file (killed between writing it and renaming it over the original).
#[test]
fn sigkill_during_pin_leaves_every_file_old_or_new() {
    let replica = &shared().replica;
    let truth = &shared().truth;
    let workspace = Workspace::new(replica, "pin-sigkill");
    let digest = truth.digest("3.12-slim").unwrap();
    let files = 1500;
    let old = |i: usize| format!("# service {i}\nFROM python:3.12-slim AS app{i}\nRUN true\n");
    let new =
        |i: usize| format!("# service {i}\nFROM python:3.12-slim@{digest} AS app{i}\nRUN true\n");
    let path = |i: usize| workspace.dir.join(format!("src/svc{i:04}/Dockerfile"));
    // Each file: 'o' old, 'n' new, or the bytes of anything else; then the temporary files beside them.
    let snapshot = || -> (Vec<Result<char, String>>, Vec<String>) {
        let contents = (0..files)
            .map(|i| {
                let bytes = std::fs::read(path(i)).unwrap();
                if bytes == old(i).as_bytes() {
                    Ok('o')
                } else if bytes == new(i).as_bytes() {
                    Ok('n')
                } else {
                    Err(format!(
                        "{}: {:?}",
                        path(i).display(),
                        String::from_utf8_lossy(&bytes)
                    ))
                }
            })
            .collect();
        let mut temporaries = Vec::new();
        for i in 0..files {
            for entry in std::fs::read_dir(path(i).parent().unwrap()).unwrap() {
                let name = entry.unwrap().file_name().to_string_lossy().into_owned();
                if name.ends_with(".tmp") {
                    temporaries.push(format!("svc{i:04}/{name}"));
                }
            }
        }
        (contents, temporaries)
    };
    let signal = |name: &str, pid: u32| {
        let sent = std::process::Command::new("kill")
            .args([name, &pid.to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill {name} {pid}");
    };
    let mut attempts = Vec::new();
    for attempt in 1..=5 {
        for i in 0..files {
            let directory = path(i).parent().unwrap().to_path_buf();
            let _ = std::fs::remove_dir_all(&directory);
            std::fs::create_dir_all(&directory).unwrap();
            std::fs::write(path(i), old(i)).unwrap();
        }
        let _ = std::fs::remove_file(workspace.dir.join("pyimage.lock"));
        let mut child = workspace.pyimage().spawn_quiet(&["pin", "src"]);
        let pid = child.id();
        // Watch until a file's size changes (the new content is longer): `pin` is writing. Every 50th file is
        // looked at (30 per look, cheap beside pin on a shared machine); in whatever order pin writes, the first of
        // them to change is seen long before the 1500th file is written.
        let ceiling = std::time::Instant::now() + std::time::Duration::from_secs(120);
        let caught_writing = loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "pin exited with {status} before writing");
                break false; // finished between two looks: nothing to freeze
            }
            if (0..files)
                .step_by(50)
                .any(|i| std::fs::metadata(path(i)).is_ok_and(|m| m.len() != old(i).len() as u64))
            {
                break true;
            }
            assert!(
                std::time::Instant::now() < ceiling,
                "pin wrote nothing within 120 s"
            );
        };
        if !caught_writing {
            attempts.push(format!(
                "attempt {attempt}: pin finished before it was seen writing"
            ));
            continue;
        }
        signal("-STOP", pid);
        // Stopped: the state field of /proc/PID/stat (after the parenthesised command name) is `T`.
        let ceiling = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
            let state = stat.rsplit_once(") ").unwrap().1.chars().next().unwrap();
            if state == 'T' {
                break;
            }
            assert!(
                std::time::Instant::now() < ceiling,
                "pin was not stopped within 60 s of SIGSTOP (state {state})"
            );
            std::thread::yield_now();
        }
        let frozen = snapshot();
        child.kill().unwrap(); // SIGKILL, to a stopped process: it never runs again
        child.wait().unwrap();
        let after = snapshot();
        assert_eq!(
            after, frozen,
            "the tree changed after pin was stopped: the recorded state is not what the kill left"
        );
        let (contents, temporaries) = after;
        let torn: Vec<&String> = contents.iter().filter_map(|c| c.as_ref().err()).collect();
        assert!(
            torn.is_empty(),
            "after SIGKILL mid-write, files that are neither old nor new:\n{torn:#?}"
        );
        let news = contents.iter().filter(|c| **c == Ok('n')).count();
        let olds = files - news;
        attempts.push(format!(
            "attempt {attempt}: killed with {news} new, {olds} old, temporary files {temporaries:?}"
        ));
        if news > 0 && olds > 0 || !temporaries.is_empty() {
            eprintln!("{}", attempts.join("\n"));
            return;
        }
    }
    panic!(
        "no kill landed while files were being written; the test proved nothing:\n{}",
        attempts.join("\n")
    );
}

/// `update` follows the environment of each file: dev takes the patch release, prod (`update = "digest"`) only
/// reports it, with the configuration that held it back.
#[test]
fn update_policy_follows_the_environment_of_each_file() {
    let (replica, _) = Replica::start_seeded(library_file(OLDER)).unwrap();
    let workspace = Workspace::new(&replica, "update-environments");
    let config = format!(
        "{}\n[[paths]]\npattern = \"src/prod/**\"\nenvironment = \"prod\"\n",
        replica.pyimage_toml()
    );
    std::fs::write(&workspace.config, config).unwrap();
    let old_tag = replica
        .ground_truth()
        .unwrap()
        .tag("3.12-slim")
        .unwrap()
        .entry()
        .unwrap()
        .most_specific_tag
        .clone();
    assert!(old_tag.starts_with("3.12.13-slim"), "{old_tag}");
    for environment in ["dev", "prod"] {
        std::fs::create_dir_all(workspace.dir.join(format!("src/{environment}"))).unwrap();
        std::fs::write(
            workspace.dir.join(format!("src/{environment}/Dockerfile")),
            format!("FROM python:{old_tag}\n"),
        )
        .unwrap();
    }
    let (code, _) = workspace.json(&["pin", "--format", "json", "src"]);
    assert_eq!(code, Some(0));
    let replayed = replica.replay_file(library_file(NEWER)).unwrap();
    let new_tag = old_tag.replacen("3.12.13", "3.12.14", 1);
    let (code, report) = workspace.json(&["update", "--format", "json", "src"]);
    assert_eq!(code, Some(0), "{report}");
    let dev = workspace.read("src/dev/Dockerfile");
    assert_eq!(
        dev,
        format!(
            "FROM python:{new_tag}@{}\n",
            replayed.truth.digest(&new_tag).unwrap()
        )
    );
    let prod = workspace.read("src/prod/Dockerfile");
    assert!(
        prod.starts_with(&format!("FROM python:{old_tag}@")),
        "prod keeps its pin: {prod}"
    );
    let held: Vec<&Value> = report["available"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["path"] == "src/prod/Dockerfile" && a["available"] == new_tag.as_str())
        .collect();
    assert_eq!(held.len(), 1, "{report}");
    assert!(
        held[0]["why_not"]
            .as_str()
            .unwrap()
            .contains("update = \"digest\"")
    );
    // The lock keeps an entry for prod's pin, which stayed, beside dev's new one.
    let locked = workspace.run(&["check", "--locked", "src"]);
    assert_eq!(locked.status.code(), Some(0), "{}", stdout(&locked));
}

/// Every file of the `check` corpus (44 Dockerfiles, Compose files and manifests, with CRLF, BOM, escape directive,
/// heredocs, Helm…) pinned against a replica that went through three years of official-images files: the only
/// difference between before and after is `@sha256:…` inserted where a reference was, once per reported change.
#[test]
fn pinning_the_check_corpus_changes_only_reference_spans() {
    let history = [
        "2023-10-02T124118-154185140021.txt",
        "2024-07-18T084927-8b21525556ae.txt",
        "2025-10-09T152544-8d0f0734802c.txt",
        NEWER,
    ];
    let (replica, _) = Replica::start_seeded(library_file(history[0])).unwrap();
    for file in &history[1..] {
        replica.replay_file(library_file(file)).unwrap();
    }
    let workspace = Workspace::new(&replica, "pin-corpus");
    let corpus = testdata("check/corpus");
    let copy = workspace.dir.join("src");
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", corpus.display()))
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());
    let files: Vec<PathBuf> = walk(&copy);
    assert!(files.len() >= 40, "{} files", files.len());
    let before: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();

    let pinned = workspace.run(&["pin", "--format", "json", "src"]);
    let report = json(&pinned);
    let pin_errors = stderr(&pinned);
    let changes = report["changes"].as_array().unwrap();
    assert!(
        changes.len() >= 30,
        "only {} references pinned: {report}",
        changes.len()
    );

    let digest_pattern = |text: &str| -> (String, usize) {
        // Removes every digest pin wrote and counts them: `@sha256:<64 hex>` after a reference, the value of an
        // image map's `digest: ""`, and a `digest: sha256:…` line inserted in a Kustomize entry.
        let mut out = String::new();
        let mut count = 0;
        let mut rest = text;
        while let Some(at) = rest.find("sha256:") {
            let hex = &rest[at + 7..];
            let whole =
                hex.len() >= 64 && hex.as_bytes()[..64].iter().all(|b| b.is_ascii_hexdigit());
            let before = &rest[..at];
            let cut = if !whole {
                None
            } else if let Some(kept) = before.strip_suffix('@') {
                Some(kept.len())
            } else if before.ends_with("digest: \"") {
                Some(before.len())
            } else if let Some(line) = before.strip_suffix("digest: ") {
                let indent = line.len() - line.trim_end_matches(' ').len();
                line[..line.len() - indent]
                    .strip_suffix('\n')
                    .map(|kept| kept.strip_suffix('\r').unwrap_or(kept).len())
            } else {
                None
            };
            match cut {
                Some(kept) => {
                    out.push_str(&rest[..kept]);
                    rest = &hex[64..];
                    count += 1;
                }
                None => {
                    out.push_str(&rest[..at + 7]);
                    rest = hex;
                }
            }
        }
        out.push_str(rest);
        (out, count)
    };
    let mut files_changed = 0;
    for (file, old) in files.iter().zip(&before) {
        let new = std::fs::read(file).unwrap();
        if &new == old {
            continue;
        }
        files_changed += 1;
        let (old_text, new_text) = (
            String::from_utf8(old.clone()).unwrap(),
            String::from_utf8(new).unwrap(),
        );
        let (old_stripped, old_count) = digest_pattern(&old_text);
        let (new_stripped, new_count) = digest_pattern(&new_text);
        assert_eq!(
            new_stripped,
            old_stripped,
            "{}: more than digests changed",
            file.display()
        );
        let shown = file
            .strip_prefix(&workspace.dir)
            .unwrap()
            .display()
            .to_string();
        // Uses of a shared ARG pinned by another line's edit add no digest of their own.
        let reported = changes
            .iter()
            .filter(|c| c["covered_by"].is_null())
            .filter(|c| {
                c["path"]
                    .as_str()
                    .unwrap()
                    .ends_with(shown.trim_start_matches("src/"))
            })
            .count();
        assert_eq!(
            new_count - old_count,
            reported,
            "{shown}: one digest per reported change"
        );
    }
    assert!(files_changed >= 15, "{files_changed} files changed");

    // The loop converges: after `pin`, `check --locked` reports a reference only where `pin` said why it could not
    // pin or record it (an unresolvable ARG, an interpolated value, a tag the registry does not have, a digest
    // already in the file that the registry does not serve) — never silently.
    let (_, checked) = workspace.json(&["check", "--locked", "--format", "json", "src"]);
    let unexplained = unexplained_py008(&report, &pin_errors, &checked);
    assert!(
        unexplained.is_empty(),
        "PY008 after pin, not explained by pin: {unexplained:#?}\n{pin_errors}"
    );
}

/// The PY008 findings of `check --locked` (JSON) that `pin` (its JSON report and stderr) did not explain: a
/// reference is explained when pin skipped it with a reason, or said it could not verify a digest already written.
/// Empty when the pin → `check --locked` loop converged.
pub(crate) fn unexplained_py008(
    pin_report: &Value,
    pin_errors: &str,
    checked: &Value,
) -> Vec<String> {
    let skipped: BTreeSet<(String, u64)> = pin_report["skipped"]
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
            )
        })
        .collect();
    checked["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "PY008")
        .filter(|f| {
            let path = f["path"]
                .as_str()
                .unwrap()
                .trim_start_matches("src/")
                .to_owned();
            let reference = f["reference"].as_str().unwrap();
            let unpinned = reference.split('@').next().unwrap();
            let reported = [reference, unpinned]
                .iter()
                .any(|r| pin_errors.contains(&format!("{r}: cannot verify the pinned digest")));
            !skipped.contains(&(path, f["line"].as_u64().unwrap())) && !reported
        })
        .map(|f| format!("{}:{} {}", f["path"], f["line"], f["message"]))
        .collect()
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// A nightly `update` with nothing to move costs HEADs and one tags listing per repository: no manifest GET (those
/// count against Docker Hub's pull limit).
#[test]
fn update_with_nothing_to_move_reads_no_manifest() {
    let replica = &shared().replica;
    let workspace = Workspace::new(replica, "update-economy");
    std::fs::write(
        workspace.dir.join("src/Dockerfile"),
        "FROM python:3.12-slim AS a\nFROM python:3.13-slim AS b\nFROM python:3.14.7-trixie AS c\n",
    )
    .unwrap();
    let (code, _) = workspace.json(&["pin", "--format", "json", "src"]);
    assert_eq!(code, Some(0));
    let output = workspace.run(&["-vv", "update", "src"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("All pinned Python images are current."));
    let log = stderr(&output);
    let stats = log
        .lines()
        .find(|l| l.contains("registry requests"))
        .unwrap_or_else(|| panic!("{log}"));
    for expected in [
        "pings: 1",
        "tokens: 1",
        "manifest_heads: 3",
        "manifest_gets: 0",
        "blob_gets: 0",
        "tag_pages: 1",
    ] {
        assert!(stats.contains(expected), "{expected} in {stats}");
    }
}

/// One unreadable file (Latin-1 bytes) and one invalid manifest never stop a run: `check` reports both with their
/// position (human, JSON `errors`, SARIF tool notifications) and checks the rest; `pin` pins the rest, writes the
/// lock, and exits 2 at the end naming the bad file.
#[test]
fn one_bad_file_never_stops_check_or_pin() {
    let replica = &shared().replica;
    let truth = &shared().truth;
    let workspace = Workspace::new(replica, "bad-files");
    let src = workspace.dir.join("src");
    std::fs::write(src.join("Dockerfile"), "FROM python:3.12-slim\n").unwrap();
    std::fs::write(
        src.join("legacy.Dockerfile"),
        b"# caf\xe9 (Latin-1)\nFROM python:3.13-slim\n",
    )
    .unwrap();
    std::fs::write(src.join("k8s.yaml"), "kind: Pod\nspec: [\n").unwrap();

    let output = workspace.run(&["check", "--format", "json", "src"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["files_scanned"], 1, "{report:#}");
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{report:#}");
    assert_eq!(errors[0]["path"], "src/k8s.yaml");
    assert!(errors[0]["line"].as_u64().is_some(), "{report:#}");
    assert_eq!(errors[1]["path"], "src/legacy.Dockerfile");
    assert!(errors[1]["message"].as_str().unwrap().contains("not UTF-8"));
    let output = workspace.run(&["check", "--format", "sarif", "src"]);
    assert_eq!(output.status.code(), Some(2));
    let sarif: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert_eq!(
        invocation["toolExecutionNotifications"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let output = workspace.run(&["pin", "src"]);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("legacy.Dockerfile: not UTF-8"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        workspace.read("src/Dockerfile"),
        format!(
            "FROM python:3.12-slim@{}\n",
            truth.digest("3.12-slim").unwrap()
        )
    );
    assert!(workspace.read("pyimage.lock").contains("python:3.12-slim"));
}

/// The Harbor/Artifactory pull-through case: a declared mirror of `library/python` and an allowed third-party image
/// on a private registry are resolved there, pinned and locked, and `check --locked` in prod is clean right after
/// `pin` — the loop converges.
#[test]
fn mirrors_and_allowed_images_are_pinned_and_check_locked_converges() {
    let replica = &shared().replica;
    let truth = &shared().truth;
    let mirror = replica
        .mirror_tags("library/python", &["3.12-slim"])
        .unwrap();
    let vendor = replica
        .mirror_tags("acme/beam_python3.12_sdk", &["3.12-slim"])
        .unwrap();
    let workspace = Workspace::new(replica, "pin-mirror");
    let (mirror_host, vendor_host) = (mirror.host(), vendor.host());
    let mut config = replica.pyimage_toml();
    for host in [&mirror_host, &vendor_host] {
        config.push_str(&format!(
            "\n[registries.\"{host}\"]\nendpoint = \"http://{host}\"\ninsecure = true\n"
        ));
    }
    config.push_str(&format!(
        "\n[policy]\nmirrors = [\"{mirror_host}/library/python\"]\nallowed-sources = [\"{vendor_host}/acme/*\"]\n"
    ));
    std::fs::write(&workspace.config, config).unwrap();
    std::fs::write(
        workspace.dir.join("src/Dockerfile"),
        format!(
            "FROM {mirror_host}/library/python:3.12-slim AS build\nCOPY --from={vendor_host}/acme/beam_python3.12_sdk:3.12-slim /opt /opt\n"
        ),
    )
    .unwrap();
    let output = workspace.run(&["pin", "src"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    let digest = truth.digest("3.12-slim").unwrap();
    assert_eq!(
        workspace.read("src/Dockerfile"),
        format!(
            "FROM {mirror_host}/library/python:3.12-slim@{digest} AS build\nCOPY --from={vendor_host}/acme/beam_python3.12_sdk:3.12-slim@{digest} /opt /opt\n"
        )
    );
    let lock = workspace.read("pyimage.lock");
    assert!(
        lock.contains(&format!("registry = \"http://{mirror_host}\"")),
        "{lock}"
    );
    // The mirror serves Docker Hub's own digest: the lock says it is a faithful copy.
    assert!(lock.contains("faithful_copy = true"), "{lock}");
    let output = workspace.run(&["check", "--locked", "--env", "prod", "src"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(!stdout(&output).contains("PY008"), "{}", stdout(&output));
}

/// A `.gitignore` line such as `*.lock` would keep `pyimage.lock` out of every commit, and CI's `check --locked`
/// would fail for a reason nobody sees locally: `pin` warns, naming the fix. Paths are shown as `check` shows them.
#[test]
fn pin_warns_when_git_ignores_the_lock_and_shows_paths_as_check_does() {
    let replica = &shared().replica;
    let workspace = Workspace::new(replica, "pin-gitignored-lock");
    std::fs::write(
        workspace.dir.join("src/Dockerfile"),
        "FROM python:3.12-slim\nFROM python:${V}\n",
    )
    .unwrap();
    std::fs::write(workspace.dir.join(".gitignore"), "*.lock\n").unwrap();
    let output = workspace.run(&["pin", "src"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let errors = stderr(&output);
    assert!(
        errors.contains("is ignored by git") && errors.contains("!pyimage.lock"),
        "{errors}"
    );
    let text = stdout(&output);
    assert!(
        text.contains("src/Dockerfile:2") && !text.contains("./src"),
        "{text}"
    );
    std::fs::write(workspace.dir.join(".gitignore"), "*.lock\n!pyimage.lock\n").unwrap();
    std::fs::write(
        workspace.dir.join("src/Dockerfile"),
        "FROM python:3.13-slim\n",
    )
    .unwrap();
    let output = workspace.run(&["pin", "src"]);
    assert!(
        !stderr(&output).contains("ignored by git"),
        "{}",
        stderr(&output)
    );
}
