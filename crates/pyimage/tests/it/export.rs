//! `pyimage export gatekeeper`: the binary writes the ConstraintTemplate and Constraints of the configuration it
//! finds (stdout, or `--output FILE`) — the bytes compared with a reviewed snapshot — and refuses what it cannot
//! export exactly. What the Rego decides is proven by pyimage-policy's differential test against regorus.

use crate::support::{pyimage, stderr, stdout, tempdir};

/// Every snapshot this module asserts (file `it__export__<name>.snap`; see `check::no_unreferenced_snapshots`).
pub const SNAPSHOTS: &[&str] = &["gatekeeper_namespaces"];

const CONFIG: &str = "\
[policy]
mirrors = [\"registry.example.com/dockerhub/library/python\"]

[[namespaces]]
match = \"prod-*\"
environment = \"prod\"

[[namespaces]]
labels = { tier = \"test\" }
environment = \"test\"
";

#[test]
fn writes_the_template_and_one_constraint_per_namespace_entry_plus_the_default() {
    let dir = tempdir("export");
    let config = dir.path().join("pyimage.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let output = pyimage().config(&config).run(&[
        "export",
        "gatekeeper",
        "--namespaces",
        "--today",
        "2026-11-30",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    // The expected bytes are a reviewed snapshot (the temporary directory written as [DIR]), not another call of
    // the exporter; what the Rego decides is proven against regorus in pyimage-policy's differential test.
    let exported = stdout(&output).replace(&dir.path().display().to_string(), "[DIR]");
    insta::with_settings!({
        description => "pyimage export gatekeeper --namespaces --today 2026-11-30 (CONFIG of tests/it/export.rs)",
        omit_expression => true,
    }, {
        insta::assert_snapshot!("gatekeeper_namespaces", exported);
    });
    assert_eq!(exported.matches("\n---\n").count(), 3, "3 Constraints");
    assert!(
        exported.contains("name: \"pyimage-ns-1-prod\"")
            && exported.contains("name: \"pyimage-ns-default-dev\"")
    );
    assert!(
        exported.contains("sync Namespaces into Gatekeeper"),
        "label selectors need the inventory"
    );

    // The same bytes into a file; `--env` is one Constraint.
    let file = dir.path().join("gatekeeper.yaml");
    let output = pyimage()
        .config(&config)
        .args(["export", "gatekeeper", "--env", "prod", "--output"])
        .args([&file])
        .run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("1 Constraint)"),
        "{}",
        stderr(&output)
    );
    let written = std::fs::read_to_string(dir.path().join("gatekeeper.yaml")).unwrap();
    assert_eq!(written.matches("\n---\n").count(), 1);
    assert!(
        written.contains("name: \"pyimage-prod\"") && written.contains("environment: \"prod\"")
    );
    assert!(
        !written.contains("today:"),
        "without --today the cluster's clock decides"
    );
}

#[test]
fn refuses_what_it_cannot_export_exactly() {
    let dir = tempdir("export-refused");
    let config = dir.path().join("pyimage.toml");
    std::fs::write(
        &config,
        "[[namespaces]]\nmatch = \"team-[ab]\"\nenvironment = \"prod\"\n",
    )
    .unwrap();
    let output = pyimage().config(&config).run(&["export", "gatekeeper"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("team-[ab]") && stderr(&output).contains("pyimage.toml"),
        "{}",
        stderr(&output)
    );

    std::fs::write(&config, "").unwrap();
    let output = pyimage()
        .config(&config)
        .run(&["export", "gatekeeper", "--env", "qa"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("unknown environment \"qa\""),
        "{}",
        stderr(&output)
    );
    let output = pyimage()
        .config(&config)
        .run(&["export", "gatekeeper", "--today", "2026-11"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("YYYY-MM-DD"),
        "{}",
        stderr(&output)
    );
    let output = pyimage().run(&["export", "gatekeeper", "--env", "prod", "--namespaces"]);
    assert_eq!(output.status.code(), Some(2), "conflicting flags");
}
