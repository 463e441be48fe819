//! Fixture suites per rule (testdata/check/rules/PYxxx-name/), the corpus (testdata/check/corpus/), and never-panic
//! properties of the whole check. (The rule pages of the documentation site are checked by the CLI's tests.)
//!
//! Each suite directory holds input files; its findings, every finding of every file one per line
//! (`path:line:col-end_line:end_col severity RULE message`), are compared with the insta snapshot
//! tests/it/snapshots/it__check_rules__<suite>.snap (the corpus: `it__check_rules__corpus.snap`). The test fails
//! when the findings differ or when a suite never raises its own rule. Review a change with `cargo insta review`,
//! or rerun with `INSTA_UPDATE=always` and read the diff of the `.snap` files. A `.snap` file that no test asserts
//! fails `no_unreferenced_snapshots`.
#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use pyimage_locate::ManifestKind;
use pyimage_locate::dockerfile::ScanOptions;
use pyimage_model::lock::{Lock, LockedImage};
use pyimage_policy::check::{
    CheckContext, Date, FileKind, Origin, PathRule, Policy, RULES, SourcePattern, check_file,
};

const TODAY: Date = Date::ymd(2026, 11, 23);

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/check")
}

fn base_policy() -> Policy {
    let mut policy = Policy::default();
    policy.mirrors.push(
        SourcePattern::new(
            "registry.example.com/dockerhub/library/python",
            Origin::Default,
        )
        .unwrap(),
    );
    for (pattern, environment) in [("**/test/**", "test"), ("**/prod/**", "prod")] {
        policy
            .paths
            .push(PathRule::new(pattern, environment, Origin::Default).unwrap());
    }
    policy
}

/// The lock of the PY008 suite: `python:3.12.14-slim` pinned to one digest.
fn fixture_lock() -> Lock {
    let mut lock = Lock::default();
    lock.insert(LockedImage {
        reference: "python:3.12.14-slim".to_owned(),
        normalized: "docker.io/library/python:3.12.14-slim".to_owned(),
        digest: "sha256:97490e383c4cffb12825431fa24e3d2b70e39fd691a8e33c46bf4c18edca3998"
            .to_owned(),
        media_type: "application/vnd.oci.image.index.v1+json".to_owned(),
        python: Some("3.12.14".to_owned()),
        resolved_at: "2026-11-23T12:00:00Z".to_owned(),
        registry: "https://registry-1.docker.io".to_owned(),
        faithful_copy: None,
        signed_by: None,
        signing_key: None,
        signature_log_index: None,
        platforms: Default::default(),
    });
    lock
}

/// The lock of the PY018 suite: three copies on the declared mirror, one signed by the policy's key `acme`
/// (recorded with its fingerprint), one recorded unsigned, one signed by a key the rule does not accept.
fn signed_lock() -> Lock {
    let mut lock = Lock::default();
    for (tag, hex, signer) in [
        ("3.12-slim", "12", Some("acme")),
        ("3.11-slim", "11", None),
        ("3.13-slim", "13", Some("vendor")),
    ] {
        lock.insert(LockedImage {
            reference: format!("registry.example.com/dockerhub/library/python:{tag}"),
            normalized: format!("registry.example.com/dockerhub/library/python:{tag}"),
            digest: format!("sha256:{}", hex.repeat(32)),
            media_type: "application/vnd.oci.image.index.v1+json".to_owned(),
            python: None,
            resolved_at: "2026-11-23T12:00:00Z".to_owned(),
            registry: "https://registry.example.com".to_owned(),
            faithful_copy: Some(false),
            signed_by: signer.map(str::to_owned),
            signing_key: signer.map(|_| format!("sha256:{}", "aa".repeat(32))),
            signature_log_index: None,
            platforms: Default::default(),
        });
    }
    lock
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Checks every recognised file under `dir`; returns (relative path → findings lines).
fn run(dir: &Path, policy: &Policy, lock: Option<&Lock>) -> BTreeMap<String, Vec<String>> {
    let context = CheckContext {
        today: TODAY,
        lock,
        build: &ScanOptions::default(),
        signatures: None,
    };
    let mut out = BTreeMap::new();
    for path in files(dir) {
        let relative = path
            .strip_prefix(dir)
            .unwrap()
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let Some(kind) = FileKind::for_path(&relative) else {
            continue;
        };
        let text = fs::read_to_string(&path).unwrap();
        let report = check_file(&relative, &text, kind, policy, &context);
        if report.not_a_manifest {
            continue;
        }
        let mut lines: Vec<String> = report
            .findings
            .iter()
            .map(|f| {
                format!(
                    "{}:{}:{}-{}:{} {} {} {}",
                    f.file().path,
                    f.file().line,
                    f.file().column,
                    f.file().end_line,
                    f.file().end_column,
                    f.severity,
                    f.rule.id,
                    f.message
                )
            })
            .collect();
        if let Some(skipped) = report.skipped {
            lines.push(format!(
                "{relative}:{}:{} skipped {}",
                skipped.line, skipped.column, skipped.reason
            ));
        }
        if let Some(error) = report.error {
            lines.push(format!(
                "{relative}:{}:{} error {}",
                error.line, error.column, error.message
            ));
        }
        if lines.is_empty() {
            lines.push(format!("{relative}: no findings"));
        }
        out.insert(relative, lines);
    }
    out
}

/// The snapshot of every suite (`PY001-untagged`, …) and of the corpus: what this file asserts.
fn snapshot_names() -> Vec<String> {
    RULES
        .iter()
        .map(|rule| format!("{}-{}", rule.id, rule.name))
        .chain(["corpus".to_owned()])
        .collect()
}

/// Compares the findings of the fixtures in `testdata/check/<fixtures>` with the snapshot `name`, byte for byte.
fn compare(name: &str, fixtures: &str, actual: &BTreeMap<String, Vec<String>>) {
    assert!(
        snapshot_names().iter().any(|n| n == name),
        "{name} is not a declared snapshot"
    );
    let rendered: String = actual
        .values()
        .flatten()
        .map(|l| format!("{l}\n"))
        .collect();
    // insta trims trailing whitespace and reads CRLF as LF: without either, its comparison is byte for byte.
    assert!(
        !rendered.contains('\r'),
        "a carriage return in:\n{rendered}"
    );
    let body = rendered
        .strip_suffix('\n')
        .expect("findings end with a newline");
    assert_eq!(body.trim_end(), body, "trailing whitespace");
    let description = format!("findings of testdata/check/{fixtures}");
    insta::with_settings!({ description => description, omit_expression => true }, {
        insta::assert_snapshot!(name, rendered);
    });
}

#[test]
fn no_unreferenced_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/snapshots");
    let names = snapshot_names();
    let mut found = Vec::new();
    for entry in fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        // `.snap.new` and `.pending-snap` files are insta's proposals under review, not snapshots.
        let Some(stem) = file.strip_suffix(".snap") else {
            continue;
        };
        let name = stem
            .strip_prefix("it__check_rules__")
            .filter(|name| names.iter().any(|n| n == name))
            .unwrap_or_else(|| {
                panic!(
                    "tests/it/snapshots/{file} is asserted by no test: delete it, or declare it in snapshot_names of {}",
                    file!()
                )
            });
        found.push(name.to_owned());
    }
    found.sort_unstable();
    let mut declared = names;
    declared.sort_unstable();
    assert_eq!(found, declared, "every declared snapshot is committed");
}

#[test]
fn rule_suites() {
    let root = testdata().join("rules");
    let mut suites = 0;
    for rule in RULES {
        let suite = format!("{}-{}", rule.id, rule.name);
        let dir = root.join(&suite);
        assert!(
            dir.is_dir(),
            "no fixture suite for {} at {}",
            rule.id,
            dir.display()
        );
        let mut policy = base_policy();
        let fixture_lock = fixture_lock();
        let signed_lock = signed_lock();
        let mut lock: Option<&Lock> = None;
        match rule.id {
            "PY011" => policy
                .allowed_sources
                .push(SourcePattern::new("docker.io/library/*", Origin::Default).unwrap()),
            "PY008" => lock = Some(&fixture_lock),
            "PY018" => {
                lock = Some(&signed_lock);
                policy
                    .signing_keys
                    .insert("acme".to_owned(), format!("sha256:{}", "aa".repeat(32)));
                policy
                    .signatures
                    .push(pyimage_policy::signatures::SignatureRule {
                        images: vec![
                            SourcePattern::new(
                                "registry.example.com/dockerhub/library/python",
                                Origin::Default,
                            )
                            .unwrap(),
                        ],
                        keys: vec!["acme".to_owned()],
                        environments: vec!["prod".to_owned()],
                        transparency_log: false,
                        origin: Origin::Default,
                        at: "pyimage.toml:9".to_owned(),
                    });
            }
            _ => {}
        }
        let actual = run(&dir, &policy, lock);
        let raised = actual
            .values()
            .flatten()
            .any(|line| line.contains(&format!(" {} ", rule.id)));
        assert!(raised, "suite {} never raises {}", dir.display(), rule.id);
        compare(&suite, &format!("rules/{suite}"), &actual);
        suites += 1;
    }
    assert_eq!(suites, RULES.len());
}

#[test]
fn corpus() {
    let dir = testdata().join("corpus");
    let count = files(&dir)
        .iter()
        .filter(|p| FileKind::for_path(&p.strip_prefix(&dir).unwrap().to_string_lossy()).is_some())
        .count();
    assert!(count >= 40, "corpus has {count} files, want at least 40");
    let actual = run(&dir, &base_policy(), None);
    compare("corpus", "corpus", &actual);
}

#[test]
fn config_overrides_eol_and_severity() {
    let mut policy = base_policy();
    policy.eol.insert(
        (3, 12),
        (
            Date::ymd(2026, 1, 1),
            Origin::Config {
                line: 7,
                column: 1,
                text: "\"3.12\" = \"2026-01-01\"".into(),
            },
        ),
    );
    let context = CheckContext {
        today: TODAY,
        lock: None,
        build: &ScanOptions::default(),
        signatures: None,
    };
    let report = check_file(
        "Dockerfile",
        "FROM python:3.12\n",
        FileKind::Dockerfile,
        &policy,
        &context,
    );
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].rule.id, "PY006");
    assert!(matches!(
        report.findings[0].decided_by[0].origin,
        Origin::Config { line: 7, .. }
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        let policy = base_policy();
        let context = CheckContext {
            today: TODAY,
            lock: None,
            build: &ScanOptions::default(),
            signatures: None,
        };
        for kind in [FileKind::Dockerfile, FileKind::Manifest(ManifestKind::Compose), FileKind::Manifest(ManifestKind::Kubernetes)] {
            let report = check_file("x", &text, kind, &policy, &context);
            for finding in report.findings {
                prop_assert!(finding.file().span.end <= text.len());
            }
        }
    }

    #[test]
    fn never_panics_on_dockerfile_like_text(
        lines in proptest::collection::vec(
            prop_oneof![
                Just("FROM ".to_owned()),
                Just("ARG A=python:3.12\n".to_owned()),
                Just("# pyimage: ignore[PY001".to_owned()),
                Just("\\\n".to_owned()),
                Just("${A:-".to_owned()),
                Just("python:latest".to_owned()),
                Just("<<EOF\n".to_owned()),
                Just("image: ".to_owned()),
                Just("\r\n".to_owned()),
                "[ -~]{0,12}",
            ],
            0..30,
        )
    ) {
        let text: String = lines.concat();
        let policy = base_policy();
        let context = CheckContext {
            today: TODAY,
            lock: None,
            build: &ScanOptions::default(),
            signatures: None,
        };
        for kind in [FileKind::Dockerfile, FileKind::Manifest(ManifestKind::Compose), FileKind::Manifest(ManifestKind::Kubernetes)] {
            let _ = check_file("x", &text, kind, &policy, &context);
        }
    }
}

#[test]
fn allowed_sources_accept_derived_images_but_not_their_end_of_life() {
    let mut policy = base_policy();
    policy
        .allowed_sources
        .push(SourcePattern::new("docker.io/apache/*", Origin::Default).unwrap());
    policy
        .allowed_sources
        .push(SourcePattern::new("docker.io/tiangolo/*", Origin::Default).unwrap());
    let context = CheckContext {
        today: TODAY,
        lock: None,
        build: &ScanOptions::default(),
        signatures: None,
    };
    let report = check_file(
        "Dockerfile",
        "FROM apache/beam_python3.12_sdk:2.60.0\nFROM tiangolo/uvicorn-gunicorn:python3.9\n",
        FileKind::Dockerfile,
        &policy,
        &context,
    );
    let rules: Vec<(&str, usize)> = report
        .findings
        .iter()
        .map(|f| (f.rule.id, f.file().line))
        .collect();
    assert_eq!(rules, [("PY006", 2)], "{:#?}", report.findings);
}

#[test]
fn fixes_name_the_exact_tag_and_the_canonical_order() {
    let context = CheckContext {
        today: TODAY,
        lock: None,
        build: &ScanOptions::default(),
        signatures: None,
    };
    let report = check_file(
        "svc/test/Dockerfile",
        "FROM python:3.13-alpine3.22\nFROM python:3.12-buster-slim\n",
        FileKind::Dockerfile,
        &base_policy(),
        &context,
    );
    let fixes: Vec<(&str, &str)> = report
        .findings
        .iter()
        .map(|f| (f.rule.id, f.fix.as_str()))
        .collect();
    assert!(
        fixes
            .iter()
            .any(|(id, fix)| *id == "PY003" && fix.contains("`3.13.9-alpine3.22`")),
        "{fixes:#?}"
    );
    assert!(
        fixes
            .iter()
            .any(|(id, fix)| *id == "PY010" && fix.contains("`3.12-slim-buster`")),
        "{fixes:#?}"
    );
}
