//! `pyimage verify` and the PSF link: a replica of Docker Hub seeded from the 2026-04-08 official-images file (its
//! Linux images carry the real `PYTHON_VERSION`/`PYTHON_SHA256` pairs docker-library set) and a python.org stand-in
//! serving the real Sigstore bundles of testdata/trust. Each verdict is checked in JSON and in the human report:
//! signed by the PSF, hash does not match (a tampered `PYTHON_SHA256`), identity wrong (another line's bundle), no
//! bundle (404), invalid bundle (the known-bad real bundle), not checkable (no `PYTHON_SHA256`, a Windows image).
//! The trust root: the embedded one when the refresh is off (the harness's `PYIMAGE_TUF_URL=none`), a file, or the
//! `trusted_root.json` refreshed through a TUF repository the stand-in serves (Sigstore's real metadata, expired
//! today; a repository signed in the test with a root rotation), then its cache when the repository is gone.

use std::path::Path;
use std::process::Output;
use std::sync::LazyLock;

use pyimage_testkit::oci::OCI_CONFIG;
use pyimage_testkit::tamper::Tamper;
use pyimage_testkit::truth::GroundTruth;
use pyimage_testkit::{Blob, FileServer, Replica};
use serde_json::{Value, json};

use crate::support::{json, pyimage, stdout, tempdir, testdata};

/// The library file whose releases all have a bundle in testdata/trust (3.10.20 … 3.15.0a8).
pub(crate) const LIBRARY: &str = "2026-04-08T101511-65b660896df8.txt";

pub(crate) struct Setup {
    pub(crate) replica: Replica,
    pub(crate) truth: GroundTruth,
    pub(crate) python_org: FileServer,
}

/// One replica and one stand-in for this module; each test publishes the bundles under a prefix of its own (its
/// `python_org` base URL), so that tests running at once do not see each other's changes.
pub(crate) static SETUP: LazyLock<Setup> = LazyLock::new(|| {
    let (replica, _) = Replica::start_seeded(testdata(&format!(
        "official-images/library-python/{LIBRARY}"
    )))
    .expect("the replica starts and is seeded");
    let truth = replica.ground_truth().expect("the ground truth");
    let python_org = FileServer::start().expect("the python.org stand-in starts");
    Setup {
        replica,
        truth,
        python_org,
    }
});

/// Publishes every real bundle under `/<prefix>/ftp/python/`, as python.org does under `/ftp/python/`.
pub(crate) fn publish(prefix: &str) {
    for bundle in std::fs::read_dir(testdata("trust/psf/bundles")).unwrap() {
        let path = bundle.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        SETUP
            .python_org
            .put(&bundle_path(prefix, &name), std::fs::read(&path).unwrap());
    }
}

/// `/<prefix>/ftp/python/3.15.0/Python-3.15.0a8.tar.xz.sigstore` for `Python-3.15.0a8.tar.xz.sigstore`.
fn bundle_path(prefix: &str, file: &str) -> String {
    let version = file
        .trim_start_matches("Python-")
        .split(".t")
        .next()
        .unwrap();
    let directory: Vec<String> = version
        .split('.')
        .map(|p| p.chars().take_while(char::is_ascii_digit).collect())
        .collect();
    format!("/{prefix}/ftp/python/{}/{file}", directory.join("."))
}

fn bundle(file: &str) -> Vec<u8> {
    std::fs::read(testdata(file)).unwrap()
}

/// `docker image inspect` JSON for the linux/amd64 (or `platform`) image of `tag` as the replica serves it: its
/// config digest as ID and its config's environment. `config` replaces the config (after tampering).
pub(crate) fn inspect(
    setup: &Setup,
    tag: &str,
    platform: &str,
    tampered: Option<(&str, Value)>,
) -> Value {
    let image = setup.truth.tag(tag).unwrap().image(platform).unwrap();
    let (digest, config) = match tampered {
        Some((digest, config)) => (digest.to_owned(), config),
        None => {
            let blob = setup.replica.stored(&image.config_digest).unwrap().unwrap();
            (
                setup.truth.digest(tag).unwrap().to_owned(),
                serde_json::from_slice(&blob.bytes).unwrap(),
            )
        }
    };
    let id = Blob::json(OCI_CONFIG, &config).digest;
    let (os, architecture) = (&image.platform.os, &image.platform.architecture);
    json!([{
        "Id": id,
        "RepoTags": [format!("docker.io/library/python:{tag}")],
        "RepoDigests": [format!("docker.io/library/python@{digest}")],
        "Architecture": architecture,
        "Os": os,
        "Config": {"Env": config["config"]["Env"]},
    }])
}

/// `inspect` of `tag` (linux/amd64) after the replica serves it with `python_sha256` as its `PYTHON_SHA256`, or
/// without that variable (`None`), as Docker Hub would serve a tampered image under the tag.
pub(crate) fn inspect_with_python_hash(
    setup: &Setup,
    tag: &str,
    python_sha256: Option<&str>,
) -> Value {
    let image = setup.truth.tag(tag).unwrap().image("linux/amd64").unwrap();
    let mut config: Value = serde_json::from_slice(
        &setup
            .replica
            .stored(&image.config_digest)
            .unwrap()
            .unwrap()
            .bytes,
    )
    .unwrap();
    let how = match python_sha256 {
        Some(digest) => Tamper::Env("PYTHON_SHA256".into(), digest.into()),
        None => Tamper::UnsetEnv("PYTHON_SHA256".into()),
    };
    let tampered = setup.replica.tamper(tag, how).unwrap();
    // Changed in place, or taken out, as the replica's tamper does.
    let env = config["config"]["Env"].as_array_mut().unwrap();
    match python_sha256 {
        Some(digest) => {
            for variable in env.iter_mut() {
                if variable.as_str().unwrap().starts_with("PYTHON_SHA256=") {
                    *variable = format!("PYTHON_SHA256={digest}").into();
                }
            }
        }
        None => env.retain(|v| !v.as_str().unwrap().starts_with("PYTHON_SHA256=")),
    }
    inspect(
        setup,
        tag,
        "linux/amd64",
        Some((&tampered.new_digest, config)),
    )
}

/// `pyimage verify --inspect` of `images` with bundles from `/<prefix>/ftp/python` and the cache `cache`; the JSON
/// and the human report.
fn verify(images: &Value, prefix: &str, cache: &Path) -> (Option<i32>, Value, String) {
    let (code, machine, human) = run_verify(images, prefix, cache, &[]);
    (code, json(&machine), stdout(&human))
}

/// [`verify`] with more arguments; the raw outputs.
fn run_verify(
    images: &Value,
    prefix: &str,
    cache: &Path,
    extra: &[&str],
) -> (Option<i32>, Output, Output) {
    run_verify_with(images, prefix, cache, extra, &[])
}

/// [`run_verify`] with more `[trust]` keys in the configuration, and files next to it (name, bytes).
fn run_verify_with(
    images: &Value,
    prefix: &str,
    cache: &Path,
    extra: &[&str],
    trust: &[(&str, &str, &[u8])],
) -> (Option<i32>, Output, Output) {
    let dir = tempdir("verify-release-run");
    let config = dir.path().join("pyimage.toml");
    let mut keys = String::new();
    for (key, file, bytes) in trust {
        std::fs::write(dir.path().join(file), bytes).unwrap();
        keys.push_str(&format!("{key} = \"{file}\"\n"));
    }
    std::fs::write(
        &config,
        format!(
            "{}[registries.\"{}\"]\ninsecure = true\n[trust]\npython_org = \"{}/{prefix}/ftp/python\"\n{keys}",
            SETUP.replica.pyimage_toml(),
            SETUP.python_org.host(),
            SETUP.python_org.url()
        ),
    )
    .unwrap();
    let file = dir.path().join("inspect.json");
    std::fs::write(&file, serde_json::to_vec(images).unwrap()).unwrap();
    let run = |format: &str| -> Output {
        pyimage()
            .config(&config)
            .env("XDG_CACHE_HOME", cache)
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .args([
                "verify",
                "--no-provenance",
                "--require",
                "official",
                "--format",
                format,
            ])
            .args(extra)
            .run(&["--inspect", file.to_str().unwrap()])
    };
    let machine = run("json");
    let human = run("human");
    assert_eq!(machine.status.code(), human.status.code());
    (machine.status.code(), machine, human)
}

fn release(report: &Value, i: usize) -> &Value {
    &report["images"][i]["python_release"]
}

#[test]
fn every_release_of_the_file_is_signed_by_the_psf_and_cached_by_version() {
    let setup = &*SETUP;
    let tags = [
        "3.10.20-slim-trixie",
        "3.11.15-bookworm",
        "3.12.13-alpine3.23",
        "3.13.13-trixie",
        "3.14.4-slim-bookworm",
        "3.15.0a8-trixie",
    ];
    let images = Value::Array(
        tags.iter()
            .map(|tag| inspect(setup, tag, "linux/amd64", None)[0].clone())
            .collect(),
    );
    publish("all");
    let cache = tempdir("verify-release-cache");
    let (code, report, human) = verify(&images, "all", cache.path());
    assert_eq!(code, Some(0), "{report:#}");
    let signers = [
        "pablogsal@python.org",
        "pablogsal@python.org",
        "thomas@python.org",
        "thomas@python.org",
        "hugo@python.org",
        "hugo@python.org",
    ];
    for (i, signer) in signers.iter().enumerate() {
        let link = release(&report, i);
        assert_eq!(link["verdict"], "signed-by-psf", "{}: {link:#}", tags[i]);
        assert_eq!(link["status"], "proven");
        assert_eq!(link["link"], "cpython-release");
        assert_eq!(link["signer"], *signer);
        assert_eq!(link["log"], "https://rekor.sigstore.dev");
        assert!(
            link["bundle"]
                .as_str()
                .unwrap()
                .starts_with(&setup.python_org.url())
        );
        assert_eq!(report["images"][i]["ok"], true);
    }
    assert_eq!(
        human.matches("python        signed by the PSF: ").count(),
        6,
        "{human}"
    );
    // The second run (human) read the cache: each bundle was fetched once.
    let asked = setup.python_org.asked();
    for tag in tags {
        let version = tag.split('-').next().unwrap();
        let path = bundle_path("all", &format!("Python-{version}.tar.xz.sigstore"));
        assert_eq!(
            asked.iter().filter(|p| **p == path).count(),
            1,
            "{path}: {asked:?}"
        );
        let cached = cache
            .path()
            .join("pyimage/python-org")
            .join(setup.python_org.host().replace(':', "_"));
        assert!(
            cached
                .join(path.trim_start_matches("/all/ftp/python/"))
                .is_file(),
            "{path} cached"
        );
    }
}

#[test]
fn a_tampered_hash_does_not_match_the_signed_release() {
    let setup = &*SETUP;
    let tag = "3.14.4-trixie";
    publish("tampered");
    // 3.14.6's real digest, in place of 3.14.4's.
    let other = "143b1ddd0c0e7da9ac1a27ab1cd5e1cc9f8ee3f2c2e3e0ee6b1e8c4c8a6b0c63";
    let (code, report, human) = verify(
        &inspect_with_python_hash(setup, tag, Some(other)),
        "tampered",
        tempdir("verify-release-cache").path(),
    );
    assert_eq!(code, Some(1), "{report:#}");
    let link = release(&report, 0);
    assert_eq!(link["verdict"], "hash-mismatch", "{link:#}");
    assert_eq!(link["status"], "broken");
    assert_eq!(
        link["signed"],
        "d923c51303e38e249136fc1bdf3568d56ecb03214efdef48516176d3d7faaef8"
    );
    // Docker Hub (the replica) serves the tampered image: only the PSF link tells.
    assert_eq!(report["images"][0]["official"], true, "{report:#}");
    assert!(
        !report["images"][0]["notes"]
            .to_string()
            .contains("is not the config"),
        "{report:#}"
    );
    assert!(
        human.contains("python        hash does not match the signed release"),
        "{human}"
    );
    assert!(human.contains("result        FAIL"), "{human}");
}

#[test]
fn another_release_managers_bundle_is_identity_wrong_and_a_missing_one_is_no_bundle() {
    let setup = &*SETUP;
    // The stand-in serves 3.14.4's bundle (hugo@python.org) as 3.12.13's (thomas@python.org's line).
    publish("identity");
    setup.python_org.put(
        &bundle_path("identity", "Python-3.12.13.tar.xz.sigstore"),
        bundle("trust/psf/bundles/Python-3.14.4.tar.xz.sigstore"),
    );
    let (code, report, human) = verify(
        &inspect(setup, "3.12.13-trixie", "linux/amd64", None),
        "identity",
        tempdir("verify-release-cache").path(),
    );
    assert_eq!(code, Some(1), "{report:#}");
    let link = release(&report, 0);
    assert_eq!(link["verdict"], "identity-wrong", "{link:#}");
    assert_eq!(link["expected"], "thomas@python.org");
    assert_eq!(link["found"], json!(["hugo@python.org"]));
    assert!(human.contains("python        identity wrong: "), "{human}");

    // 404: python.org published nothing for the release. Not proven, not failed.
    setup
        .python_org
        .remove(&bundle_path("identity", "Python-3.12.13.tar.xz.sigstore"));
    let (code, report, human) = verify(
        &inspect(setup, "3.12.13-trixie", "linux/amd64", None),
        "identity",
        tempdir("verify-release-cache").path(),
    );
    assert_eq!(code, Some(0), "{report:#}");
    let link = release(&report, 0);
    assert_eq!(link["verdict"], "no-bundle", "{link:#}");
    assert_eq!(link["status"], "unproven");
    assert!(
        human.contains("python        no bundle published"),
        "{human}"
    );
}

#[test]
fn the_known_bad_bundle_is_invalid() {
    let setup = &*SETUP;
    publish("known-bad");
    setup.python_org.put(
        &bundle_path("known-bad", "Python-3.11.15.tar.xz.sigstore"),
        bundle("trust/psf/known-bad/Python-3.12.5.tgz.sigstore"),
    );
    let (code, report, human) = verify(
        &inspect(setup, "3.11.15-trixie", "linux/amd64", None),
        "known-bad",
        tempdir("verify-release-cache").path(),
    );
    assert_eq!(code, Some(1), "{report:#}");
    let link = release(&report, 0);
    assert_eq!(link["verdict"], "invalid-bundle", "{link:#}");
    assert_eq!(
        link["why"],
        "the log entry's inclusion proof carries no checkpoint"
    );
    assert!(human.contains("python        invalid bundle: "), "{human}");
}

#[test]
fn images_without_the_tarball_digest_are_not_checkable() {
    let setup = &*SETUP;
    let tag = "3.10.20-bookworm";
    let mut images = inspect_with_python_hash(setup, tag, None);
    let windows = setup
        .truth
        .tag("3.13.13-windowsservercore-ltsc2022")
        .unwrap()
        .images
        .first()
        .unwrap()
        .platform
        .to_string();
    images
        .as_array_mut()
        .unwrap()
        .push(inspect(setup, "3.13.13-windowsservercore-ltsc2022", &windows, None)[0].clone());
    publish("unchecked");
    let (code, report, human) =
        verify(&images, "unchecked", tempdir("verify-release-cache").path());
    assert_eq!(code, Some(0), "{report:#}");
    for i in 0..2 {
        let link = release(&report, i);
        assert_eq!(link["verdict"], "not-checkable", "{link:#}");
        assert_eq!(link["status"], "unproven");
        assert!(link.get("bundle").is_none(), "nothing fetched: {link:#}");
    }
    assert!(
        release(&report, 0)["why"]
            .as_str()
            .unwrap()
            .contains("no PYTHON_SHA256")
    );
    assert!(
        release(&report, 1)["why"]
            .as_str()
            .unwrap()
            .contains("Windows")
    );
    assert_eq!(
        human.matches("python        not checkable: ").count(),
        2,
        "{human}"
    );
}

#[test]
fn a_trusted_root_file_replaces_the_embedded_one() {
    let setup = &*SETUP;
    publish("root");
    let dir = tempdir("verify-release-root");
    // The public-good root without the Rekor log that logged every python.org bundle.
    let config: Value =
        serde_json::from_slice(&std::fs::read(testdata("trust/client-trust-config.json")).unwrap())
            .unwrap();
    let mut root = config["trustedRoot"].clone();
    root["tlogs"]
        .as_array_mut()
        .unwrap()
        .retain(|log| log["baseUrl"] != "https://rekor.sigstore.dev");
    let file = dir.path().join("trusted_root.json");
    std::fs::write(&file, serde_json::to_vec(&root).unwrap()).unwrap();
    let images = inspect(setup, "3.13.13-trixie", "linux/amd64", None);
    let cache = tempdir("verify-release-cache");
    let (code, machine, _) = run_verify(&images, "root", cache.path(), &[]);
    assert_eq!(code, Some(0), "the embedded root accepts it");
    assert_eq!(release(&json(&machine), 0)["verdict"], "signed-by-psf");
    let cache = tempdir("verify-release-cache");
    let (code, machine, _) = run_verify(
        &images,
        "root",
        cache.path(),
        &["--trusted-root", file.to_str().unwrap()],
    );
    let report = json(&machine);
    assert_eq!(code, Some(1), "{report:#}");
    let link = release(&report, 0);
    assert_eq!(link["verdict"], "invalid-bundle", "{link:#}");
    assert_eq!(
        link["why"],
        "the log entry is from a log the trust root does not name"
    );
    assert_eq!(link["trusted_root"], file.to_str().unwrap());
    assert_eq!(link["trusted_root_via"], "file");
    assert_eq!(
        link["trusted_root_why"],
        "named by --trusted-root: used as is, not refreshed through TUF"
    );
    // A file that is not a trust root is an input error naming it.
    let bad = dir.path().join("not-a-root.json");
    std::fs::write(&bad, "{}").unwrap();
    let (code, _, human) = run_verify(
        &images,
        "root",
        cache.path(),
        &["--trusted-root", bad.to_str().unwrap()],
    );
    assert_eq!(code, Some(2));
    let errors = String::from_utf8_lossy(&human.stderr).into_owned();
    assert!(
        errors.contains("not-a-root.json: not a Sigstore trusted root"),
        "{errors}"
    );
}

/// The PSF link on 3.13.13 with the trust root chosen by `extra` arguments and `[trust]` files; the link in JSON and
/// the human report.
fn link_with(
    prefix: &str,
    cache: &Path,
    extra: &[&str],
    trust: &[(&str, &str, &[u8])],
) -> (Value, String) {
    let images = inspect(&SETUP, "3.13.13-trixie", "linux/amd64", None);
    let (code, machine, human) = run_verify_with(&images, prefix, cache, extra, trust);
    let report = json(&machine);
    assert_eq!(code, Some(0), "{report:#}");
    (release(&report, 0).clone(), stdout(&human))
}

fn embedded_trusted_root() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../pyimage-trust/data/trusted_root.json"),
    )
    .unwrap()
}

#[test]
fn with_the_refresh_off_the_embedded_root_is_used_and_said() {
    publish("off");
    let cache = tempdir("verify-release-cache");
    let (link, human) = link_with("off", cache.path(), &[], &[]);
    assert_eq!(link["verdict"], "signed-by-psf");
    assert_eq!(link["trusted_root_via"], "embedded");
    assert_eq!(
        link["trusted_root"],
        "Sigstore public-good trusted_root.json (sigstore/root-signing 60cf2ce, embedded)"
    );
    assert!(
        human.contains(
            "sigstore trust root: Sigstore public-good trusted_root.json (sigstore/root-signing 60cf2ce, embedded)\n  \
             the TUF refresh is off (--tuf-url (or $PYIMAGE_TUF_URL) is \"none\")"
        ),
        "{human}"
    );
    assert!(
        !cache.path().join("pyimage/tuf").exists(),
        "nothing asked, nothing cached"
    );
}

#[test]
fn sigstores_real_tuf_metadata_has_expired_today_and_the_embedded_root_is_used() {
    // Sigstore's repository as of 2026-08-21: root v15 expired on 2026-11-20, and no v16 is served here.
    publish("real-tuf");
    for (path, file) in [
        ("timestamp.json", "timestamp.json"),
        ("165.snapshot.json", "snapshot.json"),
        ("14.targets.json", "targets.json"),
    ] {
        SETUP.python_org.put(
            &format!("/real-tuf/tuf/{path}"),
            std::fs::read(testdata(&format!("trust/tuf/{file}"))).unwrap(),
        );
    }
    let cache = tempdir("verify-release-cache");
    let url = format!("{}/real-tuf/tuf", SETUP.python_org.url());
    let (link, _) = link_with("real-tuf", cache.path(), &["--tuf-url", &url], &[]);
    assert_eq!(link["verdict"], "signed-by-psf");
    assert_eq!(link["trusted_root_via"], "embedded", "{link:#}");
    let why = link["trusted_root_why"].as_str().unwrap();
    assert!(
        why.starts_with(&format!(
            "the refresh failed ({url}: root.json v15: expired at 2026-11-20T13:58:18Z (now "
        )) && why.ends_with("the root embedded in this pyimage build is used"),
        "{why}"
    );
}

#[test]
fn the_trust_root_refreshed_through_tuf_is_used_then_its_cache_when_the_repository_is_gone() {
    use pyimage_testkit::tuf::{TufKey, root, sign, top_level};
    publish("tuf");
    // A repository signed here (Sigstore's keys cannot sign a new version): anchor v1, a rotation to v2 signed by
    // the old and the new key, timestamp/snapshot/targets v3 listing the real trusted_root.json.
    let (a, b) = (TufKey::generate().unwrap(), TufKey::generate().unwrap());
    let far = "2030-01-01T00:00:00Z";
    let anchor = sign(&root(1, &[&a], far), &[&a]).unwrap();
    let trusted_root = embedded_trusted_root();
    let mut files = vec![(
        "2.root.json".to_owned(),
        sign(&root(2, &[&b], far), &[&a, &b]).unwrap(),
    )];
    files.extend(top_level(3, &[("trusted_root.json", &trusted_root)], &b, far).unwrap());
    for (path, bytes) in &files {
        SETUP
            .python_org
            .put(&format!("/tuf/tuf/{path}"), bytes.clone());
    }
    let url = format!("{}/tuf/tuf", SETUP.python_org.url());
    let cache = tempdir("verify-release-cache");
    let anchor_file: &[(&str, &str, &[u8])] = &[("tuf_root", "anchor.json", &anchor)];
    let (link, human) = link_with("tuf", cache.path(), &["--tuf-url", &url], anchor_file);
    assert_eq!(link["verdict"], "signed-by-psf");
    assert_eq!(link["trusted_root_via"], "tuf", "{link:#}");
    let name = format!(
        "trusted_root.json from {url} (TUF root v2, timestamp v3, snapshot v3, targets v3)"
    );
    assert_eq!(link["trusted_root"], name.as_str());
    assert!(
        human.contains(&format!(
            "sigstore trust root: {name}\n  refreshed through the TUF repository {url}"
        )),
        "{human}"
    );
    let cached = cache.path().join("pyimage/tuf").read_dir().unwrap().count();
    assert_eq!(cached, 1, "one cache directory for the repository");
    // The repository is gone (every file 404): the last refresh, verified again from the anchor.
    for (path, _) in &files {
        SETUP.python_org.remove(&format!("/tuf/tuf/{path}"));
    }
    let (link, human) = link_with("tuf", cache.path(), &["--tuf-url", &url], anchor_file);
    assert_eq!(link["verdict"], "signed-by-psf");
    assert_eq!(link["trusted_root_via"], "tuf-cache", "{link:#}");
    assert_eq!(link["trusted_root"], name.as_str());
    let why = link["trusted_root_why"].as_str().unwrap();
    assert!(
        why.starts_with(&format!(
            "the refresh failed ({url}/timestamp.json: not found)"
        )) && why.contains(
            "root v2, timestamp v3, snapshot v3, targets v3, current until 2030-01-01T00:00:00Z"
        ),
        "{why}"
    );
    assert!(human.contains("sigstore trust root: "), "{human}");
    // A TUF anchor that is not a signed root is an input error naming it.
    let images = inspect(&SETUP, "3.13.13-trixie", "linux/amd64", None);
    let (code, _, human) = run_verify_with(
        &images,
        "tuf",
        cache.path(),
        &["--tuf-url", &url],
        &[("tuf_root", "anchor.json", b"{}")],
    );
    assert_eq!(code, Some(2));
    let errors = String::from_utf8_lossy(&human.stderr).into_owned();
    assert!(
        errors.contains("anchor.json: root.json: not TUF metadata"),
        "{errors}"
    );
}
