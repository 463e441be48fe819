//! Issue 21 (real trees, third round), the parts decided outside the locator: vendors' own Python images judged
//! as vendor images rather than impostors (and accepted one by one without changing how other images are judged),
//! a tree with nothing to pin passing `check --locked`, and the inventory (`pyimage ls`). Each test runs the real
//! binary on the smallest tree that showed the defect.

use std::fs;
use std::path::Path;

use crate::support::{json, pyimage, stderr, tempdir};

fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    fs::create_dir_all(path.parent().expect("a parent")).expect("creating the directory");
    fs::write(path, text).expect("writing the fixture");
}

/// The rule IDs of the findings of `pyimage check --format json`, with the image each is about.
fn findings(output: &std::process::Output) -> Vec<(String, String)> {
    let report = json(output);
    let mut found = Vec::new();
    for finding in report["findings"].as_array().into_iter().flatten() {
        found.push((
            finding["rule"].as_str().unwrap_or_default().to_owned(),
            finding["reference"].as_str().unwrap_or_default().to_owned(),
        ));
    }
    found
}

/// The images vendors publish with their own Python inside (a devcontainer, Lambda, CircleCI, UBI, distroless) are
/// not typosquats of `python`: they are judged as vendor images (PY015, a warning naming the vendor), and the fix
/// names the setting that accepts one of them without turning every other image into a PY011 deny.
#[test]
fn vendor_python_images_are_not_impostors_and_are_accepted_one_by_one() {
    let dir = tempdir("vendor-images");
    let root = dir.path();
    write(
        root,
        ".devcontainer/devcontainer.json",
        r#"{ "image": "mcr.microsoft.com/devcontainers/python:3" }"#,
    );
    write(
        root,
        "compose.yaml",
        "services:\n  db:\n    image: postgres:16\n  lambda:\n    image: public.ecr.aws/lambda/python:3.12\n  ci:\n    image: cimg/python:3.12\n  ubi:\n    image: registry.access.redhat.com/ubi9/python-311\n  distroless:\n    image: gcr.io/distroless/python3\n  ecr:\n    image: public.ecr.aws/docker/library/python:3.12-slim\n  typo:\n    image: someone/python:3.12\n",
    );
    let output = pyimage()
        .current_dir(root)
        .today()
        .run(&["check", "--format", "json"]);
    let found = findings(&output);
    let rules_of = |image: &str| -> Vec<&str> {
        found
            .iter()
            .filter(|(_, i)| i.contains(image))
            .map(|(rule, _)| rule.as_str())
            .collect()
    };
    for vendor in [
        "mcr.microsoft.com/devcontainers/python",
        "public.ecr.aws/lambda/python",
        "cimg/python",
        "registry.access.redhat.com/ubi9/python-311",
        "gcr.io/distroless/python3",
    ] {
        let rules = rules_of(vendor);
        assert!(
            !rules.contains(&"PY005"),
            "{vendor} judged an impostor: {found:?}"
        );
        assert!(
            rules.contains(&"PY015"),
            "{vendor} not judged a vendor image: {found:?}"
        );
    }
    // ECR Public's copy of Docker Hub's official images is a mirror of it, not a look-alike.
    assert!(
        !rules_of("public.ecr.aws/docker/library/python").contains(&"PY005"),
        "{found:?}"
    );
    // A `python` under an unknown namespace still poses as the official image, and the fix names the settings.
    assert!(rules_of("someone/python").contains(&"PY005"), "{found:?}");
    let report = json(&output);
    let typo_fix = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|finding| finding["rule"] == "PY005")
        .map(|finding| finding["fix"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    assert!(
        typo_fix.contains("vendor-images") && typo_fix.contains("someone/python"),
        "the fix names the setting and the repository: {typo_fix}"
    );

    // Accepting two vendor images by name silences them, and nothing else changes: postgres is not judged.
    write(
        root,
        "pyimage.toml",
        "[policy]\nvendor-images = [\"mcr.microsoft.com/devcontainers/python\", \"public.ecr.aws/lambda/*\"]\n",
    );
    let output = pyimage()
        .current_dir(root)
        .today()
        .run(&["check", "--format", "json"]);
    let accepted = findings(&output);
    assert!(
        !accepted
            .iter()
            .any(|(_, image)| image.contains("devcontainers/python")
                || image.contains("lambda/python")),
        "accepted vendor images are not reported: {accepted:?}"
    );
    assert!(
        !accepted.iter().any(|(rule, _)| rule == "PY011"),
        "no other image is judged differently: {accepted:?}"
    );
    assert!(
        accepted
            .iter()
            .any(|(rule, image)| rule == "PY015" && image.contains("cimg/python"))
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "someone/python is still denied: {}",
        stderr(&output)
    );
}

/// A repository with nothing pyimage pins (no Python image) passes `check --locked` without a lock, as `pin` writes
/// none there; a repository with a Python image and no lock is still told to run `pyimage pin`.
#[test]
fn nothing_to_pin_passes_check_locked_without_a_lock() {
    let dir = tempdir("nothing-to-pin");
    let root = dir.path();
    write(root, "Dockerfile", "FROM node:20\nRUN npm ci\n");
    let pin = pyimage().current_dir(root).today().run(&["pin"]);
    assert_eq!(pin.status.code(), Some(0), "{}", stderr(&pin));
    assert!(
        !root.join("pyimage.lock").exists(),
        "pin writes no lock when nothing is pinned"
    );
    let locked = pyimage()
        .current_dir(root)
        .today()
        .run(&["check", "--locked"]);
    assert_eq!(
        locked.status.code(),
        Some(0),
        "nothing needs locking, so --locked holds: {}",
        stderr(&locked)
    );
    assert!(
        stderr(&locked).contains("pyimage.lock"),
        "the run says it held nothing to a lock: {}",
        stderr(&locked)
    );

    write(root, "app/Dockerfile", "FROM python:3.12.14-slim\n");
    let locked = pyimage()
        .current_dir(root)
        .today()
        .run(&["check", "--locked"]);
    assert_eq!(locked.status.code(), Some(2), "{}", stderr(&locked));
    assert!(
        stderr(&locked).contains("does not exist") && stderr(&locked).contains("pyimage pin"),
        "{}",
        stderr(&locked)
    );
}

/// `pyimage ls` lists every image reference, Python or not, with its file kind, environment, class, Python line,
/// digest and lock state; what it could not understand, skipped or read is listed too, never dropped.
#[test]
fn ls_lists_every_reference_and_what_it_did_not_understand() {
    let dir = tempdir("ls");
    let root = dir.path();
    write(
        root,
        "Dockerfile",
        "ARG BASE\nFROM python:3.12-slim AS build\nFROM ${BASE}\nCOPY --from=node:20 /x /x\n",
    );
    write(
        root,
        ".devcontainer/devcontainer.json",
        r#"{"image": "mcr.microsoft.com/devcontainers/python:3.12"}"#,
    );
    let digest = "sha256:97490e383c4cffb12825431fa24e3d2b70e39fd691a8e33c46bf4c18edca3998";
    write(
        root,
        "compose.yaml",
        &format!(
            "services:\n  db:\n    image: postgres:16\n  app:\n    image: python:3.11@{digest}\n"
        ),
    );
    write(root, "deploy/prod/bad.yaml", "a: [\n");
    write(
        root,
        "pyimage.toml",
        "[[paths]]\npattern = \"deploy/prod/**\"\nenvironment = \"prod\"\n",
    );
    write(
        root,
        "deploy/prod/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n  - name: a\n    image: \"=HYPERLINK(1),x\"\n  - name: b\n    image: python:3.13\n",
    );
    let output = pyimage().current_dir(root).run(&["ls", "--format", "json"]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "a file not read is an input error: {}",
        stderr(&output)
    );
    let report = json(&output);
    let images = report["images"].as_array().expect("images");
    let find = |location: &str| -> &serde_json::Value {
        images
            .iter()
            .find(|image| {
                format!(
                    "{}:{}",
                    image["path"].as_str().unwrap_or_default(),
                    image["line"]
                ) == location
            })
            .unwrap_or_else(|| panic!("{location} is not listed: {report:#}"))
    };
    let official = find("Dockerfile:2");
    assert_eq!(official["class"], "official");
    assert_eq!(official["python"], "3.12");
    assert_eq!(official["pinned"], false);
    assert_eq!(official["file_kind"], "Dockerfile");
    assert_eq!(official["lock"], "no-lock");
    let unknown = find("Dockerfile:3");
    assert_eq!(unknown["class"], "not-understood");
    assert!(
        unknown["note"]
            .as_str()
            .unwrap_or_default()
            .contains("BASE"),
        "{unknown}"
    );
    assert_eq!(find("Dockerfile:4")["class"], "other");
    assert_eq!(find("Dockerfile:4")["site"], "COPY --from");
    let vendor = find(".devcontainer/devcontainer.json:1");
    assert_eq!(vendor["class"], "derived");
    assert_eq!(vendor["python"], "3.12");
    assert_eq!(find("compose.yaml:3")["class"], "other");
    assert_eq!(find("compose.yaml:5")["pinned"], true);
    assert_eq!(find("compose.yaml:5")["file_kind"], "Compose file");
    let prod = find("deploy/prod/pod.yaml:9");
    assert_eq!(prod["environment"], "prod");
    assert_eq!(prod["python"], "3.13");
    assert_eq!(images.len(), 8, "{report:#}");
    let errors = report["errors"].as_array().expect("errors");
    assert!(
        errors
            .iter()
            .any(|error| error["path"] == "deploy/prod/bad.yaml"),
        "{report:#}"
    );

    // The table names the lists below it; CSV quotes and neutralises what a spreadsheet would run.
    let table = pyimage().current_dir(root).run(&["ls"]);
    let text = crate::support::stdout(&table);
    assert!(
        text.contains("Not understood (2):") && text.contains("Not read (1):"),
        "{text}"
    );
    let csv = pyimage().current_dir(root).run(&["ls", "--format", "csv"]);
    let csv = crate::support::stdout(&csv);
    assert!(
        csv.starts_with("location,kind,environment,image,class,python,digest,lock,site,note\r\n"),
        "{csv}"
    );
    assert!(csv.contains("\"'=HYPERLINK(1),x\""), "{csv}");
    assert_eq!(csv.lines().count(), 9, "{csv}");
}

/// PY009 (unresolvable reference) only where the value left open could make the image a Python image, and its
/// fix never suggests a default that would make the reference invalid (a whole image as a tag).
#[test]
fn unresolvable_references_are_reported_only_where_they_could_be_python() {
    let dir = tempdir("py009");
    let root = dir.path();
    write(
        root,
        "compose.yaml",
        "services:\n  erp:\n    image: localhost:5000/frappe/erpnext:${ERPNEXT_VERSION}\n  py:\n    image: python:${PY_TAG}\n  app:\n    image: ${APP_IMAGE}\n",
    );
    write(
        root,
        "Dockerfile",
        "ARG NODE_TAG\nARG PY\nFROM node:${NODE_TAG} AS web\nFROM python:${PY}\n",
    );
    let output = pyimage()
        .current_dir(root)
        .today()
        .run(&["check", "--format", "json"]);
    let report = json(&output);
    let py009: Vec<(String, String)> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|finding| finding["rule"] == "PY009")
        .map(|finding| {
            (
                format!(
                    "{}:{}",
                    finding["path"].as_str().unwrap_or_default(),
                    finding["line"]
                ),
                finding["fix"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let at = |location: &str| {
        py009
            .iter()
            .find(|(place, _)| place == location)
            .map(|(_, fix)| fix.as_str())
    };
    assert_eq!(
        at("compose.yaml:3"),
        None,
        "erpnext cannot be Python: {py009:?}"
    );
    assert_eq!(at("Dockerfile:3"), None, "node cannot be Python: {py009:?}");
    let tag_fix =
        at("compose.yaml:5").unwrap_or_else(|| panic!("python:${{PY_TAG}} is reported: {py009:?}"));
    assert!(
        tag_fix.contains("${PY_TAG:-3.12.14-slim}") && !tag_fix.contains(":-python:"),
        "{tag_fix}"
    );
    let arg_fix =
        at("Dockerfile:4").unwrap_or_else(|| panic!("python:${{PY}} is reported: {py009:?}"));
    assert!(arg_fix.contains("ARG PY=3.12.14-slim"), "{arg_fix}");
    let whole =
        at("compose.yaml:7").unwrap_or_else(|| panic!("${{APP_IMAGE}} is reported: {py009:?}"));
    assert!(
        whole.contains("${APP_IMAGE:-python:3.12.14-slim}"),
        "{whole}"
    );
}

/// Helm renders an unquoted `tag: 3.10` as `3.1`: a numeric tag in Helm values is a warning naming what Helm will
/// render, and a quoted one is not.
#[test]
fn helm_numeric_tags_are_flagged_with_what_helm_renders() {
    let dir = tempdir("helm-float");
    let root = dir.path();
    write(
        root,
        "chart/Chart.yaml",
        "apiVersion: v2\nname: c\nversion: 1.0.0\n",
    );
    write(
        root,
        "chart/values.yaml",
        "image:\n  repository: python\n  tag: 3.10\nworker:\n  image:\n    repository: python\n    tag: \"3.10\"\n",
    );
    let output = pyimage()
        .current_dir(root)
        .today()
        .run(&["check", "--format", "json"]);
    let report = json(&output);
    let numeric: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|finding| finding["rule"] == "PY016")
        .collect();
    assert_eq!(numeric.len(), 1, "{report:#}");
    assert_eq!(numeric[0]["line"], 3);
    let message = numeric[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("3.1") && message.contains("3.10"),
        "{message}"
    );
    assert!(
        numeric[0]["fix"]
            .as_str()
            .unwrap_or_default()
            .contains("\"3.10\"")
    );
}

/// The human summary never reads "0 errors" when a file could not be read: the count of files not read is on the
/// summary line, and a Jinja (Ansible) template is not told to run `helm template` only.
#[test]
fn the_summary_counts_files_not_read_and_templates_are_not_all_helm() {
    let dir = tempdir("summary");
    let root = dir.path();
    write(root, "k8s/bad.yaml", "a: [\n");
    write(
        root,
        "k8s/ok.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: node:20}\n",
    );
    // Unquoted, the placeholder is not YAML: the file is skipped. Quoted, it is YAML with a value only the
    // rendering fills in: PY009 (a warning), not an invalid reference (a deny).
    write(
        root,
        "roles/app/templates/pod.yml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: {{ app_image }}\n",
    );
    write(
        root,
        "roles/app/templates/job.yml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: \"{{ app_image }}\"}\n",
    );
    let json_output = pyimage()
        .current_dir(root)
        .today()
        .run(&["check", "--format", "json"]);
    let rules: Vec<String> = json(&json_output)["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|finding| {
            format!(
                "{} {}",
                finding["path"].as_str().unwrap_or_default(),
                finding["rule"].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(rules, ["roles/app/templates/job.yml PY009"], "{rules:?}");
    let output = pyimage().current_dir(root).today().run(&["check"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = crate::support::stdout(&output);
    let summary = text.lines().last().unwrap_or_default();
    assert!(
        summary.contains("1 file could not be read or parsed"),
        "{summary}"
    );
    assert!(!summary.contains("0 errors"), "{summary}");
    assert!(text.contains("Ansible"), "{text}");
}

/// `-v` says once where the configuration came from (or that there is none), `-vv` names every file read and the
/// kind it was read as, and `resolve` prints a failed reference once (in its report), not again on stderr.
#[test]
fn verbose_runs_say_what_was_read_and_resolve_reports_a_failure_once() {
    let dir = tempdir("verbose");
    let root = dir.path();
    write(root, "Dockerfile-dev", "FROM python:3.12-slim\n");
    write(
        root,
        "compose.dev.yml",
        "services:\n  app:\n    image: python:3.12-slim\n",
    );
    let once = pyimage().current_dir(root).today().run(&["-v", "check"]);
    let log = stderr(&once);
    assert_eq!(log.matches("configuration").count(), 1, "{log}");
    assert!(log.contains("no pyimage.toml"), "{log}");
    let walked = pyimage().current_dir(root).today().run(&["-vv", "check"]);
    let log = stderr(&walked);
    assert!(
        log.contains("reading file=Dockerfile-dev kind=\"Dockerfile\"")
            && log.contains("reading file=compose.dev.yml kind=\"Compose file\""),
        "{log}"
    );
    let resolved = pyimage()
        .current_dir(root)
        .run(&["resolve", "Not..A/Reference"]);
    assert_eq!(resolved.status.code(), Some(2), "{}", stderr(&resolved));
    let shown = format!("{}{}", crate::support::stdout(&resolved), stderr(&resolved));
    assert_eq!(
        shown.matches("invalid reference format").count(),
        1,
        "{shown}"
    );
}
