//! End-to-end tests of `pyimage check` and `pyimage init`: one snapshot per renderer (human, json, sarif, github)
//! over testdata/check/cli, SARIF validated against the SARIF 2.1.0 JSON schema, exit codes, configuration errors
//! with file:line, command-line overrides, `--stdin-filename`, and `init`.
//!
//! Snapshots are insta snapshots in tests/it/snapshots/ (`it__check__<name>.snap`, the command in their
//! description). A changed output fails the test; review the new output and accept it with `cargo insta review`,
//! or rerun with `INSTA_UPDATE=always` and read the diff of the `.snap` files. A `.snap` file there that no test
//! asserts (here or in another module's `SNAPSHOTS`, such as [`crate::export`]'s) fails `no_unreferenced_snapshots`.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::support::{TODAY, assert_compared_exactly, pyimage, stderr, stdout, tempdir};

/// Every snapshot this module asserts (file `it__check__<name>.snap`).
const SNAPSHOTS: &[&str] = &["human", "json", "sarif", "github"];

fn testdata() -> PathBuf {
    crate::support::testdata("check")
}

fn pyimage_in(dir: &Path, args: &[&str]) -> Output {
    pyimage().current_dir(dir).today().run(args)
}

fn check_cli(args: &[&str]) -> Output {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    pyimage_in(&testdata().join("cli"), &all)
}

/// Compares `pyimage check ARGS` run in testdata/check/cli with the snapshot `name`, byte for byte.
fn snapshot(name: &str, args: &[&str], actual: &str) {
    assert!(
        SNAPSHOTS.contains(&name),
        "{name} is not a declared snapshot"
    );
    assert_compared_exactly(actual);
    let description = format!(
        "pyimage check {} (in testdata/check/cli, PYIMAGE_TODAY={TODAY})",
        args.join(" ")
    );
    insta::with_settings!({ description => description, omit_expression => true }, {
        insta::assert_snapshot!(name, actual);
    });
}

#[test]
fn no_unreferenced_snapshots() {
    // Every module of this binary that asserts snapshots, with the names it declares.
    let modules: [(&str, &[&str]); 2] = [
        (module_path!(), SNAPSHOTS),
        ("it::export", crate::export::SNAPSHOTS),
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/snapshots");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        // `.snap.new` and `.pending-snap` files are insta's proposals under review, not snapshots.
        let Some(stem) = file.strip_suffix(".snap") else {
            continue;
        };
        let declared = modules.iter().find_map(|(module, names)| {
            let name = stem.strip_prefix(&format!("{}__", module.replace("::", "__")))?;
            names.contains(&name).then(|| stem.to_owned())
        });
        found.push(declared.unwrap_or_else(|| {
            panic!(
                "tests/it/snapshots/{file} is asserted by no test: delete it, or declare it in SNAPSHOTS of its module"
            )
        }));
    }
    found.sort_unstable();
    let mut declared: Vec<String> = modules
        .iter()
        .flat_map(|(module, names)| {
            names
                .iter()
                .map(move |name| format!("{}__{name}", module.replace("::", "__")))
        })
        .collect();
    declared.sort_unstable();
    assert_eq!(found, declared, "every declared snapshot is committed");
}

#[test]
fn human_snapshot() {
    let output = check_cli(&[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(!text.contains('\x1b'), "NO_COLOR: no escape sequences");
    assert!(
        text.contains("severity set by pyimage.toml:14: PY009 = \"deny\""),
        "{text}"
    );
    assert!(
        text.contains("environment set by pyimage.toml:10: pattern = \"deploy/prod/**\""),
        "{text}"
    );
    snapshot("human", &[], &text);
}

#[test]
fn json_snapshot_has_exactly_the_documented_keys() {
    let output = check_cli(&["--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let value: Value = serde_json::from_str(&text).unwrap();
    let top: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut top_sorted = top.clone();
    top_sorted.sort_unstable();
    assert_eq!(
        top_sorted,
        ["config", "errors", "files_scanned", "findings", "skipped"]
    );
    assert_eq!(value["files_scanned"], 3);
    for finding in value["findings"].as_array().unwrap() {
        let keys: Vec<&str> = finding
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "column",
                "decided_by",
                "end_column",
                "end_line",
                "environment",
                "fix",
                "labels",
                "line",
                "message",
                "name",
                "path",
                "reference",
                "rule",
                "severity"
            ]
        );
    }
    snapshot("json", &["--format", "json"], &text);
}

#[test]
fn sarif_snapshot_is_valid_sarif_2_1_0() {
    let output = check_cli(&["--format", "sarif"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let instance: Value = serde_json::from_str(&text).unwrap();
    // The OASIS SARIF 2.1.0 schema (rtm.5), vendored from the npm package @microsoft/jest-sarif (MIT).
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(testdata().join("sarif-2.1.0-rtm.5.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF is invalid:\n{}",
        errors.join("\n")
    );
    let rules = instance["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(rules.len(), pyimage_policy::check::RULES.len());
    assert!(
        rules
            .iter()
            .all(|r| r["help"]["markdown"].as_str().unwrap().contains("**Why.**"))
    );
    // A deliberately broken log is rejected, so the validation is real.
    let mut broken = instance.clone();
    broken["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!validator.is_valid(&broken));
    snapshot("sarif", &["--format", "sarif"], &text);
}

#[test]
fn github_snapshot() {
    let output = check_cli(&["--format", "github"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    for line in text.lines() {
        assert!(
            line.starts_with("::error file=") || line.starts_with("::warning file="),
            "{line}"
        );
        assert!(
            line.contains(",endLine=") && line.contains(",title=PY0"),
            "{line}"
        );
    }
    snapshot("github", &["--format", "github"], &text);
}

#[test]
fn command_line_overrides_severity_and_environment() {
    let output = check_cli(&[
        "--format",
        "json",
        "--env",
        "dev",
        "--allow",
        "PY005",
        "--allow",
        "unresolvable-arg",
        "--allow",
        "end-of-life",
        "--allow",
        "PY014",
    ]);
    let value: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let findings = value["findings"].as_array().unwrap();
    assert!(
        findings.iter().all(|f| f["environment"] == "dev"),
        "{findings:?}"
    );
    assert!(
        findings.iter().all(|f| f["severity"] == "warn"),
        "{findings:?}"
    );
    assert_eq!(output.status.code(), Some(0), "only warnings left");

    let output = check_cli(&["--deny", "PY001"]);
    assert!(stdout(&output).contains("severity set by command line --deny PY001"));
}

#[test]
fn unknown_rule_on_the_command_line_is_a_usage_error() {
    let output = check_cli(&["--deny", "PY999"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("PY999"));
}

#[test]
fn config_errors_name_the_line() {
    let dir = tempdir("config-errors");
    let dir = dir.path();
    for (text, line, needle) in [
        (
            "[policy]\nmirrors = []\nallowed_sources = []\n",
            3,
            "allowed_sources",
        ),
        ("[environments.test]\nfloat = \"patchy\"\n", 2, "patchy"),
        ("[rules]\nPY001 = \"deny\"\nPY777 = \"warn\"\n", 3, "PY777"),
        ("[[ignore]]\nrules = [\"PY005\"]\n", 1, "reason"),
        (
            "[[paths]]\npattern = \"a/**\"\nenvironment = \"staging\"\n",
            3,
            "staging",
        ),
    ] {
        std::fs::write(dir.join("pyimage.toml"), text).unwrap();
        let output = pyimage_in(dir, &["check"]);
        let stderr = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{text}: {stderr}");
        assert!(
            stderr.contains(&format!("pyimage.toml:{line}:"))
                || stderr.contains(&format!("line {line}")),
            "{text}: {stderr}"
        );
        assert!(stderr.contains(needle), "{text}: {stderr}");
    }
}

#[test]
fn invalid_yaml_is_an_input_error_and_unused_ignores_are_reported() {
    let dir = tempdir("invalid-yaml");
    let dir = dir.path();
    std::fs::write(dir.join("k8s.yaml"), "kind: Pod\nspec: [\n").unwrap();
    std::fs::write(
        dir.join("pyimage.toml"),
        "[[ignore]]\nrules = [\"PY006\"]\nreason = \"nothing matches this\"\n",
    )
    .unwrap();
    let output = pyimage_in(dir, &["check"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("k8s.yaml:"));
    let text = stdout(&output);
    assert!(
        text.contains("PY014") && text.contains("pyimage.toml:1:1"),
        "{text}"
    );
}

#[test]
fn stdin_filename() {
    let output = pyimage()
        .current_dir(&testdata().join("cli"))
        .today()
        .run_with_stdin(
            &[
                "check",
                "--stdin-filename",
                "deploy/prod/Dockerfile",
                "--format",
                "json",
            ],
            b"FROM python:3.12.14-slim\n",
        );
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["files_scanned"], 1);
    assert_eq!(value["findings"][0]["rule"], "PY004");
    assert_eq!(value["findings"][0]["path"], "deploy/prod/Dockerfile");
    assert_eq!(value["findings"][0]["environment"], "prod");
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn clean_files_exit_zero_and_helm_is_skipped() {
    let dir = tempdir("clean");
    let dir = dir.path();
    std::fs::write(dir.join("Dockerfile"), "FROM python:3.13.7-slim-trixie\n").unwrap();
    std::fs::create_dir_all(dir.join("chart/templates")).unwrap();
    std::fs::write(
        dir.join("chart/templates/d.yaml"),
        "spec:\n  image: {{ .Values.image }}\n",
    )
    .unwrap();
    std::fs::write(dir.join(".gitignore"), "ignored/\n").unwrap();
    std::fs::create_dir_all(dir.join("ignored")).unwrap();
    std::fs::write(dir.join("ignored/Dockerfile"), "FROM pyhton\n").unwrap();
    let output = pyimage_in(dir, &["check", "--format", "json"]);
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{value}");
    assert_eq!(value["files_scanned"], 2, ".gitignore respected");
    assert_eq!(value["skipped"][0]["path"], "chart/templates/d.yaml");
}

#[test]
fn init_writes_the_defaults_and_refuses_to_overwrite() {
    let dir = tempdir("init");
    let dir = dir.path();
    let output = pyimage_in(dir, &["init"]);
    assert_eq!(output.status.code(), Some(0));
    let output = pyimage_in(dir, &["init"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--force"));
    assert_eq!(pyimage_in(dir, &["init", "--force"]).status.code(), Some(0));
    // The written configuration is the built-in policy: same findings with and without it.
    let corpus = testdata().join("corpus");
    let corpus = corpus.to_str().unwrap();
    let config = dir.join("pyimage.toml");
    let with = pyimage_in(
        dir,
        &[
            "check",
            corpus,
            "--format",
            "json",
            "--config",
            config.to_str().unwrap(),
        ],
    );
    let empty = tempdir("init-empty");
    let without = pyimage_in(empty.path(), &["check", corpus, "--format", "json"]);
    assert_eq!(with.status.code(), without.status.code());
    let findings = |o: &Output| -> Vec<(String, String, String)> {
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let path = f["path"].as_str().unwrap();
                let tail = &path[path.find("corpus/").unwrap()..];
                (
                    tail.to_owned(),
                    f["rule"].to_string(),
                    f["line"].to_string(),
                )
            })
            .collect()
    };
    assert!(!findings(&without).is_empty());
    assert_eq!(findings(&with), findings(&without));
}

#[test]
fn explain_prints_a_rules_documentation() {
    let dir = tempdir("explain");
    let output = pyimage_in(dir.path(), &["check", "--explain", "PY004"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    let rule = pyimage_policy::check::find_rule("missing-digest").unwrap();
    assert!(
        text.starts_with("PY004 missing-digest (default: deny)"),
        "{text}"
    );
    for part in [rule.what, rule.why, rule.fix] {
        assert!(text.contains(part), "{text}");
    }
    let output = pyimage_in(dir.path(), &["check", "--explain", "no-such-rule"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--list-rules"));
    let output = pyimage_in(dir.path(), &["check", "--explain", "floatng-tag"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("did you mean PY003 (floating-tag)?"),
        "{}",
        stderr(&output)
    );
}

/// `pyimage.toml` is found like ruff and cargo find theirs: from the checked path up to the repository root.
/// `check prod/` run from elsewhere applies the configuration one level above `prod/`, and says which file it used.
#[test]
fn configuration_is_found_from_the_checked_path_up_to_the_repository_root() {
    let outer = tempdir("config-discovery");
    let repo = outer.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join("deploy/prod")).unwrap();
    // Above the repository root: must never be used.
    std::fs::write(
        outer.path().join("pyimage.toml"),
        "[policy]\ndefault-environment = \"dev\"\n",
    )
    .unwrap();
    std::fs::write(
        repo.join("pyimage.toml"),
        "[[paths]]\npattern = \"deploy/prod/**\"\nenvironment = \"prod\"\n",
    )
    .unwrap();
    std::fs::write(
        repo.join("deploy/prod/Dockerfile"),
        "FROM python:3.12-slim\n",
    )
    .unwrap();
    let elsewhere = tempdir("config-discovery-cwd");
    let output = pyimage_in(
        elsewhere.path(),
        &[
            "check",
            "--format",
            "json",
            repo.join("deploy/prod").to_str().unwrap(),
        ],
    );
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        report["config"],
        repo.join("pyimage.toml").to_str().unwrap(),
        "{report:#}"
    );
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["PY004"], "prod requires a digest: {report:#}");
    // The lock sits beside the discovered configuration: `check --locked deploy/prod` from elsewhere reads it.
    std::fs::write(repo.join("pyimage.lock"), "version = 1\n").unwrap();
    let output = pyimage_in(
        elsewhere.path(),
        &[
            "check",
            "--locked",
            "--format",
            "json",
            repo.join("deploy/prod").to_str().unwrap(),
        ],
    );
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let locked: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        locked,
        ["PY004", "PY008"],
        "{report:#}\n{}",
        stderr(&output)
    );
    // Without a configuration up to the repository root, the built-in defaults apply (dev: no findings).
    std::fs::remove_file(repo.join("pyimage.toml")).unwrap();
    let output = pyimage_in(
        elsewhere.path(),
        &[
            "check",
            "--format",
            "json",
            repo.join("deploy").to_str().unwrap(),
        ],
    );
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["config"], Value::Null, "{report:#}");
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        0,
        "{report:#}"
    );
}

/// `--build-arg` replaces an ARG's default, as `docker build` does: the image actually built is the one checked.
#[test]
fn build_args_replace_arg_defaults() {
    let dockerfile = b"ARG PY=3.12-slim\nFROM python:${PY}\n";
    let rules = |build_arg: Option<&str>| -> Vec<String> {
        let mut args = vec![
            "check",
            "--stdin-filename",
            "Dockerfile",
            "--format",
            "json",
        ];
        if let Some(build_arg) = build_arg {
            args.extend(["--build-arg", build_arg]);
        }
        let output = pyimage().today().run_with_stdin(&args, dockerfile);
        let value: Value = serde_json::from_slice(&output.stdout).unwrap();
        value["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(!rules(None).contains(&"PY006".to_owned()));
    assert!(rules(Some("PY=3.8-slim")).contains(&"PY006".to_owned()));
    assert!(!rules(Some("OTHER=3.8-slim")).contains(&"PY006".to_owned()));
    let output = pyimage().run(&["check", "--build-arg", "=3.8", "."]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}
