//! The pin → `check --locked` property over generated trees: a deterministic generator (a fixed seed, so a
//! failure names a tree that can be rebuilt) writes project trees that mix Dockerfiles (ARG defaults, shared ARGs,
//! a digest after a variable, stages, `COPY --from` an image), Compose files (anchors, interpolation), Kubernetes
//! manifests (YAML and JSON), CI pipelines, Kustomize, dev containers, Cloud Build, Helm values, a declared mirror
//! and an allowed third-party image. After `pin`, `check --locked` reports no PY008 that `pin` did not explain
//! (a skip with its reason). The replica is the shared one; the mirror and the vendor registry are this test's.

use std::path::Path;

use crate::pin_update::unexplained_py008;
use crate::support::{json, pyimage, shared, stderr, tempdir};

/// Trees generated; each holds 6 to 11 files.
const TREES: u64 = 6;

/// A small deterministic generator (64-bit LCG, Knuth's MMIX constants): the same seed, the same trees.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Tags the seeded replica serves, and one it does not (pin skips it with the registry's answer).
const TAGS: &[&str] = &[
    "3.12-slim",
    "3.13-slim",
    "3.11-slim",
    "3.12",
    "3.13-alpine",
    "3.12-bookworm",
    "3.12-nosuchtag",
];

/// One file of a tree: a path and its text, from template `which`.
fn file(rng: &mut Lcg, which: usize, mirror: &str, vendor: &str) -> (String, String) {
    let t = rng.pick(TAGS);
    let u = rng.pick(TAGS);
    let dir = rng.pick(&["", "prod/", "test/", "services/api/"]);
    let (path, text) = match which {
        0 => (
            "Dockerfile".to_owned(),
            format!(
                "ARG PY={t}\nFROM python:${{PY}} AS build\nRUN pip wheel -w /w .\nFROM python:{u}\nCOPY --from=build /w /w\nCOPY --from=python:{t} /usr/local/bin/python3 /opt/\n"
            ),
        ),
        1 => (
            "Dockerfile.airflow".to_owned(),
            format!(
                "ARG PYTHON_BASE_IMAGE=\"python:{t}\"\nFROM ${{PYTHON_BASE_IMAGE}} AS build\nFROM ${{PYTHON_BASE_IMAGE}} AS main\nCOPY --from=build /a /a\n"
            ),
        ),
        2 => (
            "Dockerfile.variable".to_owned(),
            "ARG V=3.12\nFROM python:${V}-slim\n".to_owned(),
        ),
        3 => (
            "compose.yaml".to_owned(),
            format!(
                "x-py: &py\n  image: python:{t}\nservices:\n  api:\n    <<: *py\n  worker:\n    <<: *py\n  tools:\n    image: ${{TOOLS:-python:{u}}}\n  db:\n    image: postgres:16\n"
            ),
        ),
        4 => (
            "deploy.yaml".to_owned(),
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      initContainers:\n        - name: migrate\n          image: \"python:{t}\"\n      containers:\n        - name: api\n          image: python:{u}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: one\nspec:\n  containers: [{{name: a, image: 'python:{t}'}}]\n"
            ),
        ),
        5 => (
            "job.json".to_owned(),
            format!(
                "{{\"apiVersion\": \"batch/v1\", \"kind\": \"Job\", \"metadata\": {{\"name\": \"j\"}},\n \"spec\": {{\"template\": {{\"spec\": {{\"containers\": [\n  {{\"name\": \"j\", \"image\": \"python:{t}\"}}]}}}}}}}}\n"
            ),
        ),
        6 => (
            ".github/workflows/ci.yml".to_owned(),
            format!(
                "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    container:\n      image: python:{t}\n    services:\n      cache:\n        image: python:{u}\n    steps:\n      - uses: docker://python:{t}\n      - run: echo ${{{{ github.sha }}}}\n  matrix:\n    runs-on: ubuntu-latest\n    container: python:${{{{ matrix.py }}}}\n"
            ),
        ),
        7 => (
            ".gitlab-ci.yml".to_owned(),
            format!(
                "image: python:{t}\ntest:\n  image:\n    name: python:{u}\n  services:\n    - python:{t}\n    - name: $CI_REGISTRY/python:3.12\n  script: [pytest]\n"
            ),
        ),
        8 => (
            "kustomization.yaml".to_owned(),
            format!(
                "resources: [deploy.yaml]\nimages:\n- name: python\n  newTag: \"{t}\"\n- name: worker\n  newName: python\n  newTag: {u}\n"
            ),
        ),
        9 => (
            "values.yaml".to_owned(),
            format!(
                "image:\n  registry: docker.io\n  repository: library/python\n  tag: {t}\n  digest: \"\"\njobs:\n  - image:\n      repository: python\n      tag: \"{u}\"\n  - image: python:{t}\n"
            ),
        ),
        10 => (
            ".devcontainer/devcontainer.json".to_owned(),
            format!("{{\n\t// dev\n\t\"image\": \"python:{t}\",\n}}\n"),
        ),
        11 => (
            "cloudbuild.yaml".to_owned(),
            format!("steps:\n- name: python:{t}\n  args: [-V]\n- name: python:$_PY\n"),
        ),
        _ => (
            "Dockerfile.mirror".to_owned(),
            format!(
                "FROM {mirror}/library/python:3.12-slim AS build\nCOPY --from={vendor}/acme/beam_python3.12_sdk:3.12-slim /opt /opt\n"
            ),
        ),
    };
    // Tools that only look at the repository root (GitLab, Kustomize next to its resources) stay where they are.
    let path = if path.starts_with('.') {
        path
    } else {
        format!("{dir}{path}")
    };
    (path, text)
}

#[test]
fn pin_then_check_locked_converges_on_generated_trees() {
    let replica = &shared().replica;
    let mirror = replica
        .mirror_tags("library/python", &["3.12-slim"])
        .unwrap();
    let vendor = replica
        .mirror_tags("acme/beam_python3.12_sdk", &["3.12-slim"])
        .unwrap();
    let (mirror_host, vendor_host) = (mirror.host(), vendor.host());
    let mut config = replica.pyimage_toml();
    for host in [&mirror_host, &vendor_host] {
        config.push_str(&format!(
            "\n[registries.\"{host}\"]\nendpoint = \"http://{host}\"\ninsecure = true\n"
        ));
    }
    config.push_str(&format!(
        "\n[policy]\nmirrors = [\"{mirror_host}/library/python\"]\nallowed-sources = [\"docker.io/library/*\", \"{vendor_host}/acme/*\"]\n"
    ));
    let (mut pinned_total, mut skipped_total, mut clean_trees) = (0, 0, 0);
    let mut rng = Lcg(0x5eed_0010);
    for tree in 0..TREES {
        let temp = tempdir("generated");
        let dir = temp.path();
        std::fs::write(dir.join("pyimage.toml"), &config).unwrap();
        let count = 6 + rng.below(6);
        let mut written = Vec::new();
        for _ in 0..count {
            let which = rng.below(13);
            let (path, text) = file(&mut rng, which, &mirror_host, &vendor_host);
            let full = dir.join("src").join(&path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, text).unwrap();
            written.push(path);
        }
        let pinned = run(dir, &["pin", "--format", "json", "src"]);
        let pin_report = json(&pinned);
        let pin_errors = stderr(&pinned);
        let checked = json(&run(
            dir,
            &[
                "check", "--locked", "--env", "prod", "--format", "json", "src",
            ],
        ));
        assert_eq!(
            checked["errors"],
            serde_json::Value::Array(Vec::new()),
            "tree {tree}: {checked}"
        );
        pinned_total += pin_report["changes"].as_array().unwrap().len();
        skipped_total += pin_report["skipped"].as_array().unwrap().len();
        let py008 = checked["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "PY008")
            .count();
        clean_trees += usize::from(py008 == 0);
        let unexplained = unexplained_py008(&pin_report, &pin_errors, &checked);
        assert!(
            unexplained.is_empty(),
            "tree {tree} (seed 0x5eed0010, files {written:?}): PY008 after pin, not explained by pin: {unexplained:#?}\n{pin_report}\n{pin_errors}"
        );
    }
    // The trees exercised both sides of the property.
    assert!(pinned_total >= 40, "{pinned_total} references pinned");
    assert!(skipped_total >= 5, "{skipped_total} skipped");
    assert!(clean_trees < TREES as usize, "no tree had a skip left");
    eprintln!(
        "generated trees: {pinned_total} pinned, {skipped_total} skipped, {clean_trees} of {TREES} fully clean"
    );
}

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    pyimage()
        .config(&dir.join("pyimage.toml"))
        .current_dir(dir)
        .today()
        .run(args)
}
