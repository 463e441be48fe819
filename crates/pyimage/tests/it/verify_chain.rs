//! `pyimage verify --chain`: the chain of trust link by link, against real parts — the Docker Hub replica seeded
//! from the 2026-04-08 official-images file (real `PYTHON_VERSION`/`PYTHON_SHA256` pairs, BuildKit-shaped
//! attestations), the python.org stand-in serving the real Sigstore bundles, that official-images file as the
//! record, and a lock. Shares the replica and stand-in of `verify_release` (tags of its own; the tampered one is
//! tampered by this module only). Each link's status is asserted in JSON, and the human report shows the same.

use std::path::Path;
use std::process::Output;

use pyimage_testkit::Blob;
use pyimage_testkit::oci::OCI_CONFIG;
use serde_json::{Value, json};

use crate::support::{json, pyimage, stdout, tempdir, testdata};
use crate::verify_release::{LIBRARY, SETUP, inspect, inspect_with_python_hash, publish};

/// `pyimage verify --chain` of `images` (inspect JSON), bundles from `/<prefix>/ftp/python`, the 2026-04-08 record,
/// with `extra` arguments; the exit code, the JSON, the human report.
fn chain(images: &Value, prefix: &str, extra: &[&str]) -> (Option<i32>, Value, String) {
    let dir = tempdir("verify-chain-run");
    let config = dir.path().join("pyimage.toml");
    std::fs::write(
        &config,
        format!(
            "{}[registries.\"{}\"]\ninsecure = true\n[trust]\npython_org = \"{}/{prefix}/ftp/python\"\n",
            SETUP.replica.pyimage_toml(),
            SETUP.python_org.host(),
            SETUP.python_org.url()
        ),
    )
    .unwrap();
    let file = dir.path().join("inspect.json");
    std::fs::write(&file, serde_json::to_vec(images).unwrap()).unwrap();
    let record = testdata(&format!("official-images/library-python/{LIBRARY}"));
    let cache = tempdir("verify-chain-cache");
    let run = |format: &str| -> Output {
        pyimage()
            .config(&config)
            .env("XDG_CACHE_HOME", cache.path())
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .args(["verify", "--chain", "--format", format])
            .args(["--official-images", record.to_str().unwrap()])
            .args(extra)
            .run(&["--inspect", file.to_str().unwrap()])
    };
    let (machine, human) = (run("json"), run("human"));
    assert_eq!(machine.status.code(), human.status.code());
    (machine.status.code(), json(&machine), stdout(&human))
}

/// `link → status` of image `i`.
fn statuses(report: &Value, i: usize) -> Vec<(String, String)> {
    report["images"][i]["chain"]
        .as_array()
        .unwrap_or_else(|| panic!("no chain: {report:#}"))
        .iter()
        .map(|l| {
            (
                l["link"].as_str().unwrap().to_owned(),
                l["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn link<'a>(report: &'a Value, i: usize, id: &str) -> &'a Value {
    report["images"][i]["chain"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["link"] == id)
        .unwrap_or_else(|| panic!("no link {id}: {report:#}"))
}

fn evidence(report: &Value, i: usize, id: &str) -> String {
    link(report, i, id)["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

fn write_lock(dir: &Path, reference: &str, digest: &str) -> std::path::PathBuf {
    let path = dir.join("pyimage.lock");
    std::fs::write(
        &path,
        format!(
            "version = 1\n\n[[image]]\nreference = \"{reference}\"\nnormalized = \"docker.io/library/{reference}\"\n\
             digest = \"{digest}\"\nmedia_type = \"application/vnd.oci.image.index.v1+json\"\n\
             resolved_at = \"2026-04-08T12:00:00Z\"\nregistry = \"https://registry-1.docker.io\"\n"
        ),
    )
    .unwrap();
    path
}

#[test]
fn the_chain_of_an_official_image_link_by_link() {
    let setup = &*SETUP;
    let tag = "3.13.13-slim-trixie";
    let truth = setup.truth.tag(tag).unwrap();
    let entry = truth.entry().unwrap();
    publish("chain");
    let dir = tempdir("verify-chain-lock");
    let lock = write_lock(dir.path(), &format!("python:{tag}"), &truth.digest);
    let images = inspect(setup, tag, "linux/amd64", None);
    let (code, report, human) = chain(&images, "chain", &["--lock", lock.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(
        statuses(&report, 0),
        pairs(&[
            ("cpython-release", "ok"),
            ("official-images", "ok"),
            ("build-provenance", "ok"),
            ("base-image", "ok"),
            ("sbom", "ok"),
            ("docker-hub", "ok"),
            ("mirror-copy", "not-applicable"),
            ("signatures", "not-applicable"),
            ("lock", "ok"),
            ("cluster", "ok"),
        ]),
        "{report:#}"
    );
    let image = &report["images"][0];
    assert_eq!(image["verdict"], "official-locked");
    assert_eq!(image["ok"], true);
    assert_eq!(image["digest"], truth.digest.as_str());
    assert!(
        evidence(&report, 0, "cpython-release").starts_with("signed by the PSF: thomas@python.org")
    );
    assert!(
        evidence(&report, 0, "cpython-release").contains("PYTHON_VERSION 3.13.13, PYTHON_SHA256 ")
    );
    assert!(
        evidence(&report, 0, "official-images").contains(&format!(
            "GitCommit {} Directory {}",
            entry.git_commit, entry.directory
        )),
        "{report:#}"
    );
    let provenance = evidence(&report, 0, "build-provenance");
    assert!(
        provenance.contains(&format!("commit {}", entry.git_commit)),
        "{provenance}"
    );
    assert!(provenance.contains("source https://github.com/docker-library/python.git"));
    assert!(provenance.contains("SLSA predicate https://slsa.dev/provenance/"));
    assert!(provenance.contains("builder "));
    assert!(evidence(&report, 0, "base-image").contains("pkg:docker/debian@trixie-slim"));
    assert!(evidence(&report, 0, "sbom").contains("python 3.13.13"));
    assert!(
        evidence(&report, 0, "docker-hub").contains(&format!(
            "docker.io/library/python serves {} (answered by {})",
            truth.digest,
            setup.replica.registry_url()
        )),
        "{report:#}"
    );
    assert!(
        evidence(&report, 0, "docker-hub").contains("is the config of the linux/amd64 manifest")
    );
    // No signature is claimed for an official image: the link says why there is none.
    let signatures = evidence(&report, 0, "signatures");
    assert!(
        signatures.contains("no signature policy covers this image"),
        "{signatures}"
    );
    assert!(
        signatures.contains("carry no publisher signature"),
        "{signatures}"
    );
    assert!(
        evidence(&report, 0, "lock").contains(&format!("pins python:{tag} to {}", truth.digest))
    );
    let cluster = evidence(&report, 0, "cluster");
    assert!(
        cluster.contains(&format!("python:{tag}@{}", truth.digest))
            && cluster.contains("prod: admitted"),
        "{cluster}"
    );
    assert!(
        report["images"][0]["chain"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l.get("fix").is_none())
    );
    // The human report: one line per link, in order, with its mark and the evidence under it.
    let lines: Vec<&str> = human.lines().collect();
    let marks: Vec<&str> = lines
        .iter()
        .filter(|l| l.len() > 14 && l.as_bytes().get(12) == Some(&b'.'))
        .copied()
        .collect();
    assert_eq!(marks.len(), 10, "{human}");
    assert!(
        marks[0].starts_with("  ok       1. CPython release (PSF signature)"),
        "{human}"
    );
    assert!(marks[6].starts_with("  n/a      7. mirror copy"), "{human}");
    assert!(marks[9].starts_with("  ok      10. cluster"), "{human}");
    assert!(
        human.contains("               signed by the PSF: thomas@python.org"),
        "{human}"
    );
    assert!(
        human.contains("  result    ok (--require official-current)"),
        "{human}"
    );
}

#[test]
fn a_tampered_python_hash_breaks_the_first_link_and_names_what_to_do() {
    let setup = &*SETUP;
    let tag = "3.12.13-slim-bookworm";
    publish("chain-tampered");
    // 3.14.4's real digest in place of 3.12.13's: Docker Hub (the replica) serves the result under the tag.
    let other = "d923c51303e38e249136fc1bdf3568d56ecb03214efdef48516176d3d7faaef8";
    let images = inspect_with_python_hash(setup, tag, Some(other));
    let (code, report, human) = chain(&images, "chain-tampered", &[]);
    assert_eq!(code, Some(1), "{report:#}");
    let release = link(&report, 0, "cpython-release");
    assert_eq!(release["status"], "broken", "{release:#}");
    assert!(
        evidence(&report, 0, "cpython-release")
            .starts_with("hash does not match the signed release")
    );
    assert!(
        release["fix"]
            .as_str()
            .unwrap()
            .starts_with("the image's PYTHON_SHA256 is not the digest of the tarball the PSF signed: do not use this image"),
        "{release:#}"
    );
    // The registry serves the tampered image, so its digest link holds; its attestations still describe the
    // original build, which the provenance link shows.
    assert_eq!(link(&report, 0, "docker-hub")["status"], "ok", "{report:#}");
    assert_eq!(
        link(&report, 0, "build-provenance")["status"],
        "broken",
        "{report:#}"
    );
    assert_eq!(link(&report, 0, "lock")["status"], "unknown");
    assert!(
        human.contains("  BROKEN   1. CPython release (PSF signature)"),
        "{human}"
    );
    assert!(
        human.contains(
            "               fix: the image's PYTHON_SHA256 is not the digest of the tarball"
        ),
        "{human}"
    );
    assert!(
        human.contains("               to settle it: pass --lock pyimage.lock"),
        "{human}"
    );
    assert!(human.contains("  result    FAIL"), "{human}");
}

#[test]
fn a_mirror_copy_is_faithful_or_broken_with_what_to_do() {
    let setup = &*SETUP;
    let tag = "3.11.15-slim-trixie";
    let truth = setup.truth.tag(tag).unwrap();
    let mut images = inspect(setup, tag, "linux/amd64", None);
    // The same image from a private registry, once with Docker Hub's digest (a faithful copy) and once with a
    // digest Docker Hub does not serve (rebuilt or altered on the way).
    let faithful = &mut images[0];
    faithful["RepoTags"] = json!([format!("registry.acme.example/python/python:{tag}")]);
    faithful["RepoDigests"] = json!([format!(
        "registry.acme.example/python/python@{}",
        truth.digest
    )]);
    let mut altered = images[0].clone();
    let config = json!({"architecture": "amd64", "os": "linux", "config": {"Env": ["PYTHON_VERSION=3.11.15"]}});
    altered["Id"] = json!(Blob::json(OCI_CONFIG, &config).digest);
    let foreign = format!("sha256:{}", "ab".repeat(32));
    altered["RepoDigests"] = json!([format!("registry.acme.example/python/python@{foreign}")]);
    altered["Config"] = config["config"].clone();
    images.as_array_mut().unwrap().push(altered);
    publish("chain-mirror");
    let (code, report, human) = chain(&images, "chain-mirror", &["--require", "faithful"]);
    assert_eq!(code, Some(1), "{report:#}");

    // The faithful copy: Docker Hub serves its digest, so its attestations are read from Docker Hub.
    assert_eq!(report["images"][0]["ok"], true, "{report:#}");
    assert_eq!(link(&report, 0, "mirror-copy")["status"], "ok");
    assert!(evidence(&report, 0, "mirror-copy").starts_with(&format!(
        "faithful: registry.acme.example/python/python holds {}",
        truth.digest
    )));
    for id in [
        "cpython-release",
        "build-provenance",
        "base-image",
        "sbom",
        "docker-hub",
    ] {
        assert_eq!(link(&report, 0, id)["status"], "ok", "{id}: {report:#}");
    }
    assert_eq!(link(&report, 0, "signatures")["status"], "not-applicable");

    // The altered copy: the mirror link is broken and says how to copy faithfully.
    assert_eq!(report["images"][1]["ok"], false);
    let mirror = link(&report, 1, "mirror-copy");
    assert_eq!(mirror["status"], "broken", "{mirror:#}");
    assert!(evidence(&report, 1, "mirror-copy").contains("not faithful"));
    let fix = mirror["fix"].as_str().unwrap();
    assert!(
        fix.contains("skopeo copy --all") && fix.contains("[[trust.signatures]]"),
        "{fix}"
    );
    assert_eq!(link(&report, 1, "docker-hub")["status"], "broken");
    assert!(
        link(&report, 1, "docker-hub")["fix"]
            .as_str()
            .unwrap()
            .contains("by digest")
    );
    for id in ["official-images", "build-provenance", "base-image", "sbom"] {
        let l = link(&report, 1, id);
        assert_eq!(l["status"], "unknown", "{id}: {l:#}");
        assert!(
            evidence(&report, 1, id).contains("does not serve the image's digest"),
            "{l:#}"
        );
    }
    // No PYTHON_SHA256 in the altered config: nothing to compare with the signed release.
    assert_eq!(link(&report, 1, "cpython-release")["status"], "unknown");
    assert!(human.contains("  BROKEN   7. mirror copy"), "{human}");
    assert!(
        human.contains("               fix: copy the official image unchanged"),
        "{human}"
    );
}

/// A copy in the organisation's registry that Docker Hub never served, signed with the organisation's cosign key
/// (containers/image's real signature, see `signatures`): the chain names who signed with which key, accepts the
/// copy under the faithful-copy rule once the image ID is the signed manifest's config, and with the other key the
/// signatures link is broken with what to do.
#[test]
fn a_signed_private_copy_names_who_signed_with_which_key() {
    use crate::signatures::{SIGNED, SIGNED_CONFIG, config, inspect_json, setup};
    let setup = setup("verify-chain-signed");
    let dir = setup.dir.path();
    let host = &setup.host;
    std::fs::write(dir.join("pyimage.toml"), config(&setup, "keys/acme.pub")).unwrap();
    let signed = inspect_json(dir, host, SIGNED, SIGNED_CONFIG);
    let chain = || {
        let output = pyimage()
            .config(&dir.join("pyimage.toml"))
            .current_dir(dir)
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .args([
                "verify",
                "--chain",
                "--env",
                "prod",
                "--require",
                "faithful",
            ])
            .args([
                "--no-provenance",
                "--no-release-signature",
                "--format",
                "json",
            ])
            .run(&["--inspect", &signed]);
        (output.status.code(), json(&output))
    };
    let (code, report) = chain();
    assert_eq!(code, Some(0), "{report:#}");
    let signatures = link(&report, 0, "signatures");
    assert_eq!(signatures["status"], "ok", "{signatures:#}");
    let said = evidence(&report, 0, "signatures");
    assert!(
        said.starts_with("signed by acme (verified at the registry)"),
        "{said}"
    );
    assert!(said.contains("key acme (sha256:"), "{said}");
    let sig_tag = format!(
        "signature at {host}/acme/python:sha256-{}.sig",
        &SIGNED[7..]
    );
    assert!(said.contains(&sig_tag), "{said}");
    assert!(!said.contains("no publisher signature"), "{said}");
    let mirror = link(&report, 0, "mirror-copy");
    assert_eq!(mirror["status"], "ok", "{mirror:#}");
    assert!(evidence(&report, 0, "mirror-copy").contains("signed by acme"));
    assert!(
        evidence(&report, 0, "mirror-copy")
            .contains("the image ID is the config of the signed manifest")
    );
    // Docker Hub never served it: that link stays broken, and says the signature is what vouches instead.
    assert_eq!(link(&report, 0, "docker-hub")["status"], "broken");
    assert!(
        link(&report, 0, "docker-hub")["fix"]
            .as_str()
            .unwrap()
            .contains("signature")
    );
    // The cluster link uses the signature verify read: prod (whose rule asks for it) admits the pinned copy.
    let cluster = evidence(&report, 0, "cluster");
    assert!(
        cluster.contains(&format!("{host}/acme/python:3.12-slim@{SIGNED}")),
        "{cluster}"
    );
    assert!(!cluster.contains("prod: refused"), "{cluster}");

    std::fs::write(dir.join("pyimage.toml"), config(&setup, "keys/other.pub")).unwrap();
    let (code, report) = chain();
    assert_eq!(code, Some(1), "{report:#}");
    let signatures = link(&report, 0, "signatures");
    assert_eq!(signatures["status"], "broken", "{signatures:#}");
    assert!(
        signatures["fix"].as_str().unwrap().contains("cosign sign"),
        "{signatures:#}"
    );
    assert_eq!(link(&report, 0, "mirror-copy")["status"], "broken");
    assert!(
        evidence(&report, 0, "cluster").contains("prod: refused — PY018"),
        "{report:#}"
    );
}

/// Times `verify --chain` of one official image against the replica and the python.org stand-in: cold (an empty
/// cache directory: python.org's bundle fetched, and with TUF the whole metadata chain) and warm (what the run before
/// cached: the bundle, and the TUF metadata, of which only the timestamp is asked again), each the median of 9 runs
/// after one unmeasured run; warm without `--chain` too, for what the chain adds. Twice: with the TUF refresh off
/// (`PYIMAGE_TUF_URL=none`, as every other test), and refreshing the trust root from a TUF repository the stand-in
/// serves (signed here, listing the real `trusted_root.json`). Not a test (no assertion on time): run it by name,
/// with the binary to measure, e.g. `cargo build --release -p pyimage` then
/// `PYIMAGE_BIN=$CARGO_TARGET_DIR/release/pyimage cargo test -p pyimage --test it -- --ignored --nocapture chain_timing`.
#[test]
#[ignore = "a measurement: run it by name"]
fn chain_timing() {
    use pyimage_testkit::tuf::{TufKey, root, sign, top_level};
    let setup = &*SETUP;
    let tag = "3.13.13-slim-trixie";
    publish("chain-timing");
    let dir = tempdir("verify-chain-timing");
    // A TUF repository: anchor v1, root v2, timestamp/snapshot/targets v3 with the real trusted_root.json.
    let (a, b) = (TufKey::generate().unwrap(), TufKey::generate().unwrap());
    let far = "2030-01-01T00:00:00Z";
    std::fs::write(
        dir.path().join("anchor.json"),
        sign(&root(1, &[&a], far), &[&a]).unwrap(),
    )
    .unwrap();
    let trusted_root = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../pyimage-trust/data/trusted_root.json"),
    )
    .unwrap();
    let mut files = vec![(
        "2.root.json".to_owned(),
        sign(&root(2, &[&b], far), &[&a, &b]).unwrap(),
    )];
    files.extend(top_level(3, &[("trusted_root.json", &trusted_root)], &b, far).unwrap());
    for (path, bytes) in files {
        setup
            .python_org
            .put(&format!("/chain-timing-tuf/{path}"), bytes);
    }
    let tuf = format!("{}/chain-timing-tuf", setup.python_org.url());
    let config = dir.path().join("pyimage.toml");
    std::fs::write(
        &config,
        format!(
            "{}[registries.\"{}\"]\ninsecure = true\n[trust]\npython_org = \"{}/chain-timing/ftp/python\"\n\
             tuf_root = \"anchor.json\"\n",
            SETUP.replica.pyimage_toml(),
            SETUP.python_org.host(),
            SETUP.python_org.url()
        ),
    )
    .unwrap();
    let file = dir.path().join("inspect.json");
    std::fs::write(
        &file,
        serde_json::to_vec(&inspect(setup, tag, "linux/amd64", None)).unwrap(),
    )
    .unwrap();
    let record = testdata(&format!("official-images/library-python/{LIBRARY}"));
    let binary =
        std::env::var("PYIMAGE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_pyimage").to_owned());
    let run = |cache: &Path, chain: bool, tuf_url: &str| -> std::time::Duration {
        let started = std::time::Instant::now();
        let output = std::process::Command::new(&binary)
            .env("NO_COLOR", "1")
            .env("DOCKER_CONFIG", "/nonexistent")
            .env("XDG_CACHE_HOME", cache)
            .env("PYIMAGE_TUF_URL", tuf_url)
            .args([
                "--config",
                config.to_str().unwrap(),
                "verify",
                "--format",
                "json",
            ])
            .args(chain.then_some("--chain"))
            .args(["--official-images", record.to_str().unwrap()])
            .args(["--inspect", file.to_str().unwrap()])
            .output()
            .unwrap();
        let elapsed = started.elapsed();
        let text = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{text}");
        // The trust root was the one meant: the embedded one with the refresh off, else the repository's.
        let root = if tuf_url == "none" {
            "embedded".to_owned()
        } else {
            format!("trusted_root.json from {tuf_url}")
        };
        assert!(text.contains(&root), "{text}");
        elapsed
    };
    let median = |mut times: Vec<std::time::Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    for tuf_url in ["none", tuf.as_str()] {
        run(tempdir("verify-chain-timing-cache").path(), true, tuf_url);
        let (mut cold, mut warm, mut plain) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..9 {
            let cache = tempdir("verify-chain-timing-cache");
            cold.push(run(cache.path(), true, tuf_url));
            warm.push(run(cache.path(), true, tuf_url));
            plain.push(run(cache.path(), false, tuf_url));
        }
        eprintln!(
            "verify --chain ({binary}, TUF {tuf_url}): cold {:?} (min {:?}), warm {:?} (min {:?}); without --chain, \
             warm {:?}",
            median(cold.clone()),
            cold.iter().min().unwrap(),
            median(warm.clone()),
            warm.iter().min().unwrap(),
            median(plain),
        );
    }
}
