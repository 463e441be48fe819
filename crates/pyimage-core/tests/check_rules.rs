//! Fixture suites per rule (testdata/check/rules/PYxxx-name/), the corpus (testdata/check/corpus/), the README's
//! generated rule list, and never-panic properties of the whole check.
//!
//! Each suite directory holds input files and `expected.txt`: every finding of every file, one per line
//! (`path:line:col-end_line:end_col severity RULE message`). The test fails when a file's findings differ, when
//! `expected.txt` names a file that is not there, or when a suite never raises its own rule. Set
//! `PYIMAGE_BLESS=1` to rewrite the expected files after reviewing a change.
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
use pyimage_core::check::{
    CheckContext, Date, FileKind, Origin, PathRule, Policy, RULES, SourcePattern, check_file,
    rules::rules_markdown,
};
use pyimage_core::lock::{Lock, LockedImage};

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
        platforms: Default::default(),
    });
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
    let context = CheckContext { today: TODAY, lock };
    let mut out = BTreeMap::new();
    for path in files(dir) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(kind) = FileKind::for_file_name(&name) else {
            continue;
        };
        let relative = path
            .strip_prefix(dir)
            .unwrap()
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let text = fs::read_to_string(&path).unwrap();
        let report = check_file(&relative, &text, kind, policy, &context);
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

fn compare(expected_file: &Path, actual: &BTreeMap<String, Vec<String>>) {
    let rendered: String = actual
        .values()
        .flatten()
        .map(|l| format!("{l}\n"))
        .collect();
    if std::env::var_os("PYIMAGE_BLESS").is_some() {
        fs::write(expected_file, &rendered).unwrap();
        return;
    }
    let expected = fs::read_to_string(expected_file).unwrap_or_else(|_| {
        panic!(
            "{} missing: run with PYIMAGE_BLESS=1 and review",
            expected_file.display()
        )
    });
    for line in expected.lines() {
        let path = line.split(':').next().unwrap();
        assert!(
            actual.contains_key(path),
            "{}: names {path}, which is not an input file (unreferenced expectation)",
            expected_file.display()
        );
    }
    assert_eq!(
        expected,
        rendered,
        "{} differs (PYIMAGE_BLESS=1 rewrites it)",
        expected_file.display()
    );
}

#[test]
fn rule_suites() {
    let root = testdata().join("rules");
    let mut suites = 0;
    for rule in RULES {
        let dir = root.join(format!("{}-{}", rule.id, rule.name));
        assert!(
            dir.is_dir(),
            "no fixture suite for {} at {}",
            rule.id,
            dir.display()
        );
        let mut policy = base_policy();
        let fixture_lock = fixture_lock();
        let mut lock: Option<&Lock> = None;
        match rule.id {
            "PY011" => policy
                .allowed_sources
                .push(SourcePattern::new("docker.io/library/*", Origin::Default).unwrap()),
            "PY008" => lock = Some(&fixture_lock),
            _ => {}
        }
        let actual = run(&dir, &policy, lock);
        let raised = actual
            .values()
            .flatten()
            .any(|line| line.contains(&format!(" {} ", rule.id)));
        assert!(raised, "suite {} never raises {}", dir.display(), rule.id);
        compare(&dir.join("expected.txt"), &actual);
        suites += 1;
    }
    assert_eq!(suites, RULES.len());
}

#[test]
fn corpus() {
    let dir = testdata().join("corpus");
    let count = files(&dir)
        .iter()
        .filter(|p| FileKind::for_file_name(&p.file_name().unwrap().to_string_lossy()).is_some())
        .count();
    assert!(count >= 40, "corpus has {count} files, want at least 40");
    let actual = run(&dir, &base_policy(), None);
    compare(&testdata().join("corpus.expected.txt"), &actual);
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

#[test]
fn readme_lists_the_rules_from_their_docs() {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap();
    let begin =
        "<!-- rules:begin (generated from the rule docs: pyimage check --rules-markdown) -->\n";
    let end = "<!-- rules:end -->";
    let start = readme
        .find(begin)
        .expect("README has the rules:begin marker")
        + begin.len();
    let stop = readme.find(end).expect("README has the rules:end marker");
    assert_eq!(
        &readme[start..stop],
        rules_markdown(),
        "README rule list is stale: regenerate it with `pyimage check --rules-markdown`"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        let policy = base_policy();
        let context = CheckContext { today: TODAY, lock: None };
        for kind in [FileKind::Dockerfile, FileKind::Compose, FileKind::Kubernetes] {
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
        let context = CheckContext { today: TODAY, lock: None };
        for kind in [FileKind::Dockerfile, FileKind::Compose, FileKind::Kubernetes] {
            let _ = check_file("x", &text, kind, &policy, &context);
        }
    }
}
