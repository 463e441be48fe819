//! `pyimage resolve` and live `pyimage tags` as a user runs them: the real binary, a `pyimage.toml` pointing
//! `docker.io` at the local Docker Hub replica, answers compared with the seeder's ground truth. They only read, so
//! they use the shared replica.

use std::path::Path;
use std::process::Output;

use crate::support::{json, pyimage as command, shared, stderr, stdout, tempdir};

fn pyimage(config: &Path, args: &[&str]) -> Output {
    command().config(config).run(args)
}

#[test]
fn resolve_reports_index_digest_platforms_and_attestations() {
    let seeded = shared();
    let truth = &seeded.truth;
    let output = pyimage(
        &seeded.config,
        &[
            "resolve",
            "--format",
            "json",
            "--platform",
            "all",
            "--attestations",
            "python:3.12-slim",
            "python:3.13",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let reports = json(&output);
    for (report, tag) in reports
        .as_array()
        .unwrap()
        .iter()
        .zip(["3.12-slim", "3.13"])
    {
        let expected = truth.tag(tag).unwrap();
        assert_eq!(report["ok"], true);
        assert_eq!(report["digest"], expected.digest.as_str());
        assert_eq!(
            report["media_type"],
            "application/vnd.oci.image.index.v1+json"
        );
        assert_eq!(report["registry"], seeded.replica.registry_url());
        let platforms = report["platforms"].as_array().unwrap();
        assert_eq!(platforms.len(), expected.images.len());
        let attestations = report["attestations"].as_array().unwrap();
        assert_eq!(attestations.len(), expected.attestations().len());
    }
}

#[test]
fn resolve_selects_a_platform() {
    let seeded = shared();
    let truth = &seeded.truth;
    let output = pyimage(
        &seeded.config,
        &[
            "resolve",
            "--format",
            "json",
            "--platform",
            "linux/arm/v7",
            "python:3.12-slim",
        ],
    );
    assert_eq!(output.status.code(), Some(0));
    let report = &json(&output)[0];
    let expected = &truth.tag("3.12-slim").unwrap().platform_digests()["linux/arm/v7"];
    assert_eq!(report["platform"]["digest"], expected.as_str());
    assert_eq!(report["platform"]["platform"]["variant"], "v7");
}

#[test]
fn resolve_exit_codes_separate_bad_input_from_registry_trouble() {
    let seeded = shared();
    let output = pyimage(
        &seeded.config,
        &["resolve", "python:3.12-slim", "python:no-such-tag"],
    );
    // A tag the registry does not have is the user's input problem (2), not the registry's (3).
    assert_eq!(output.status.code(), Some(2));
    let text = stdout(&output);
    assert!(
        text.contains(
            "python:no-such-tag\n  error         manifest library/python:no-such-tag not found"
        ),
        "{text}"
    );
    let output = pyimage(
        &seeded.config,
        &["resolve", "Python:3.12", "python:3.12-slim"],
    );
    assert_eq!(output.status.code(), Some(2));
    let output = pyimage(
        &seeded.config,
        &["resolve", "--platform", "linux", "python:3.12-slim"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("expected OS/ARCH"));
    // A registry nobody answers at is 3: bind a port, then close it so connections are refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let dir = tempdir("resolve-unreachable");
    let config = dir.path().join("pyimage.toml");
    std::fs::write(
        &config,
        format!(
            "[registries.\"docker.io\"]\nendpoint = \"http://127.0.0.1:{port}\"\ninsecure = true\n"
        ),
    )
    .unwrap();
    let output = pyimage(&config, &["resolve", "python:3.12-slim"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
}

#[test]
fn live_tags_group_aliases_by_digest() {
    let seeded = shared();
    let truth = &seeded.truth;
    let output = pyimage(&seeded.config, &["tags", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let view = json(&output);
    assert_eq!(view["tags"], 150);
    let families = view["families"].as_array().unwrap();
    // Every family is exactly the set of tags the seeder pointed at that digest.
    for family in families {
        let digest = family["digest"].as_str().unwrap();
        let mut tags: Vec<&str> = family["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        tags.sort_unstable();
        let mut expected: Vec<&str> = truth
            .tags
            .values()
            .filter(|t| t.digest == digest)
            .map(|t| t.tag.as_str())
            .collect();
        expected.sort_unstable();
        assert_eq!(tags, expected, "family of {digest}");
    }
    let slim = families
        .iter()
        .find(|f| {
            f["tags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == "3.12-slim")
        })
        .unwrap();
    assert_eq!(slim["most_specific"], "3.12.14-slim-trixie");
    assert_eq!(view["newest_per_line"]["3.12"], "3.12.14");
    assert_eq!(view["newest_per_line"]["3.14"], "3.14.7");
    assert!(
        view["newest_per_line"].get("3.15-rc").is_none(),
        "pre-releases are not 'stable'"
    );

    let output = pyimage(
        &seeded.config,
        &[
            "tags",
            "--format",
            "json",
            "--line",
            "3.12",
            "--variant",
            "slim",
        ],
    );
    let view = json(&output);
    let most_specific: Vec<&str> = view["families"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["most_specific"].as_str().unwrap())
        .collect();
    assert_eq!(most_specific.len(), 2, "{most_specific:?}");
    assert!(
        most_specific.contains(&"3.12.14-slim-trixie")
            && most_specific.contains(&"3.12.14-slim-bookworm")
    );
}

#[test]
fn config_errors_name_the_file_and_line() {
    let dir = tempdir("resolve-config");
    let config = dir.path().join("pyimage.toml");
    std::fs::write(
        &config,
        "[registries.\"docker.io\"]\nendpoint = \"http://127.0.0.1:1\"\n",
    )
    .unwrap();
    let output = pyimage(&config, &["resolve", "python:3.12"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("insecure = true"));
    std::fs::write(
        &config,
        "[registries.\"docker.io\"]\nendpont = \"https://x\"\n",
    )
    .unwrap();
    let output = pyimage(&config, &["resolve", "python:3.12"]);
    assert_eq!(output.status.code(), Some(2));
    let errors = stderr(&output);
    assert!(
        errors.contains(&format!("{}:2:1", config.display())) && errors.contains("endpont"),
        "{errors}"
    );
}

#[test]
fn resolve_human_output_names_the_platform_of_each_attestation() {
    let seeded = shared();
    let truth = &seeded.truth;
    let output = pyimage(
        &seeded.config,
        &[
            "resolve",
            "--platform",
            "all",
            "--attestations",
            "python:3.12-slim",
        ],
    );
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    let expected = truth.tag("3.12-slim").unwrap();
    assert!(
        text.contains(&format!("  digest        {}\n", expected.digest)),
        "{text}"
    );
    let amd64 = expected.image("linux/amd64").unwrap();
    let attestation = amd64.attestation_digest.as_ref().unwrap();
    assert!(
        text.contains(&format!(
            "{attestation} for linux/amd64 ({})",
            &amd64.digest[7..19]
        )),
        "{text}"
    );
}

/// A shared Windows tag (`3.13-windowsservercore`) names one image per Windows release: `--platform
/// windows/amd64:10.0.20348` selects the ltsc2022 one by its `os.version`, and the human output shows it.
#[test]
fn resolve_selects_a_windows_build_by_os_version() {
    let seeded = shared();
    let (tag, image) = seeded
        .truth
        .tags
        .values()
        .filter(|t| {
            t.images
                .iter()
                .filter(|i| i.platform.os == "windows")
                .count()
                >= 2
        })
        .find_map(|t| {
            let image = t.images.iter().find(|i| {
                i.platform
                    .os_version
                    .as_deref()
                    .is_some_and(|v| v.starts_with("10.0.20348."))
            })?;
            Some((t.tag.clone(), image))
        })
        .expect("a shared Windows tag with an ltsc2022 image");
    let reference = format!("python:{tag}");
    let output = pyimage(
        &seeded.config,
        &[
            "resolve",
            "--format",
            "json",
            "--platform",
            "windows/amd64:10.0.20348",
            &reference,
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = &json(&output)[0];
    assert_eq!(
        report["platform"]["digest"],
        image.digest.as_str(),
        "{report}"
    );
    let version = image.platform.os_version.clone().unwrap();
    assert_eq!(
        report["platform"]["platform"]["os.version"],
        version.as_str()
    );
    let output = pyimage(
        &seeded.config,
        &[
            "resolve",
            "--platform",
            "windows/amd64:10.0.20348",
            &reference,
        ],
    );
    assert!(
        stdout(&output).contains(&format!("(os.version {version})")),
        "{}",
        stdout(&output)
    );
}

/// Issue 15 #10: a registry that accepts connections and never answers holds each request until its own timeout;
/// `--timeout` bounds the whole run: exit code 3 naming the run's deadline. The outcome says which limit ended the
/// run — a request's own timeout (30 s) would be reported as that request timing out, not as `--timeout 1s`.
#[test]
fn timeout_bounds_the_whole_run_against_a_registry_that_never_answers() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let dir = tempdir("timeout");
    let config = dir.path().join("pyimage.toml");
    std::fs::write(
        &config,
        format!(
            "[registries.\"docker.io\"]\nendpoint = \"http://127.0.0.1:{port}\"\ninsecure = true\n"
        ),
    )
    .unwrap();
    let output = command().config(&config).run(&[
        "--timeout",
        "1s",
        "resolve",
        "python:3.12-slim",
        "python:3.13-slim",
    ]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("did not finish within --timeout 1s"),
        "{}",
        stderr(&output)
    );
    let bad = command().run(&["--timeout", "soon", "resolve", "python"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
}
