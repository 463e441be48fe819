//! The `[[trust.signatures]]` policy end to end, with real cosign signatures (containers/image's fixtures: the exact
//! signed manifests, payloads and signatures; testdata/trust/cosign/README.md) on a real private registry (the
//! distribution registry, plain HTTP):
//!
//! * `pin` verifies the signature of each locked image the rule covers and records the key in `pyimage.lock`;
//! * `check --locked` in the rule's environment accepts the recorded image and reports PY018 for the one signed
//!   for another digest, for a payload changed by one byte, and — once the key file is replaced — for the one
//!   recorded under the old key;
//! * `verify` reads the signatures at the registry: the signed copy meets `--require faithful` although Docker Hub
//!   does not serve its digest (the faithful-copy rule's other half), and fails with the other key.
//!
//! The signed manifests' layers are not published, so the registry could not accept them by push; they are placed
//! in its storage as it stores what it accepts (`RegistryProcess::place_manifest`) and served by it unchanged.

use std::path::Path;

use pyimage_testkit::PlainRegistry;
use pyimage_testkit::oci::Blob;
use serde_json::json;

use crate::support::{json, pyimage, shared, stderr, stdout, tempdir, testdata};

/// The image containers/image's `dir-img-cosign-valid` signature covers (sha256 of its manifest.json).
pub(crate) const SIGNED: &str =
    "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00";
/// The config digest in that manifest: the image ID of the signed image.
pub(crate) const SIGNED_CONFIG: &str =
    "sha256:961769676411f082461f9ef46626dd7a2d1e2b2a38e6a44364bcbecf51e66dd4";
/// The `dir-img-cosign-key-rekor-valid` image (signed with cosign2.pub).
pub(crate) const OTHER: &str =
    "sha256:0489474da8ea22426ece86ace6c1c0026ab2fd3cdfbbd62b7e94650266c37d9a";

fn cosign(path: &str) -> Vec<u8> {
    std::fs::read(testdata("trust/cosign/containers-image").join(path)).unwrap()
}

/// Stores a cosign signature manifest for `image` under its `sha256-<hex>.sig` tag, as `cosign sign` does.
fn store_signature(
    registry: &PlainRegistry,
    repository: &str,
    image: &str,
    payload: &[u8],
    signature: &str,
    bundle: Option<&str>,
) {
    let config = Blob::json(
        "application/vnd.oci.image.config.v1+json",
        &json!({"architecture": "", "os": "", "config": {}, "rootfs": {"type": "layers", "diff_ids": []}}),
    );
    registry.push_blob(repository, &config).unwrap();
    let layer = Blob::new(
        "application/vnd.dev.cosign.simplesigning.v1+json",
        payload.to_vec(),
    );
    registry.push_blob(repository, &layer).unwrap();
    let mut annotations = json!({"dev.cosignproject.cosign/signature": signature});
    if let Some(bundle) = bundle {
        annotations["dev.sigstore.cosign/bundle"] = bundle.into();
    }
    let manifest = Blob::json(
        "application/vnd.oci.image.manifest.v1+json",
        &json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": config.media_type, "digest": config.digest, "size": config.size()},
            "layers": [{
                "mediaType": layer.media_type, "digest": layer.digest, "size": layer.size(),
                "annotations": annotations
            }],
        }),
    );
    registry
        .push_manifest(
            repository,
            &format!("{}.sig", image.replacen(':', "-", 1)),
            &manifest,
        )
        .unwrap();
}

pub(crate) struct Setup {
    registry: PlainRegistry,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) host: String,
    /// The digest of `3.13-slim`, whose stored payload differs from the signed one by a byte.
    changed: String,
}

/// The private registry holds `acme/python`:
/// * `3.12-slim` → the signed image, with its real signature;
/// * `3.11-slim` → the other fixture image, carrying the first image's signature (a signature on another digest);
/// * `3.13-slim` → a small image pushed here, carrying the real signature over its payload with one byte added.
pub(crate) fn setup(label: &str) -> Setup {
    let registry = PlainRegistry::start().unwrap();
    let host = registry.host();
    let repository = "acme/python";
    let signed_manifest = cosign("dir-img-cosign-valid/manifest.json");
    let placed = registry
        .process()
        .place_manifest(repository, "3.12-slim", &signed_manifest)
        .unwrap();
    assert_eq!(placed, SIGNED);
    let other = registry
        .process()
        .place_manifest(
            repository,
            "3.11-slim",
            &cosign("dir-img-cosign-key-rekor-valid/manifest.json"),
        )
        .unwrap();
    assert_eq!(other, OTHER);
    let payload = cosign("dir-img-cosign-valid/payload.json");
    let signature = String::from_utf8(cosign("dir-img-cosign-valid/signature.b64")).unwrap();
    store_signature(&registry, repository, SIGNED, &payload, &signature, None);
    store_signature(&registry, repository, OTHER, &payload, &signature, None);
    // `acme/logged:1`: the other fixture image with its own real signature (cosign2.pub) and its Rekor bundle.
    registry
        .process()
        .place_manifest(
            "acme/logged",
            "1",
            &cosign("dir-img-cosign-key-rekor-valid/manifest.json"),
        )
        .unwrap();
    let logged_signature =
        String::from_utf8(cosign("dir-img-cosign-key-rekor-valid/signature.b64")).unwrap();
    let bundle =
        String::from_utf8(cosign("dir-img-cosign-key-rekor-valid/rekor-bundle.json")).unwrap();
    store_signature(
        &registry,
        "acme/logged",
        OTHER,
        &cosign("dir-img-cosign-key-rekor-valid/payload.json"),
        logged_signature.trim(),
        Some(bundle.trim()),
    );
    // A third image, pushed normally, whose stored payload differs from the signed one by one byte.
    let config = Blob::json(
        "application/vnd.oci.image.config.v1+json",
        &json!({"architecture": "amd64", "os": "linux", "config": {"Env": ["PYTHON_VERSION=3.13.1"]}, "rootfs": {"type": "layers", "diff_ids": []}}),
    );
    registry.push_blob(repository, &config).unwrap();
    let third = Blob::json(
        "application/vnd.oci.image.manifest.v1+json",
        &json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": config.media_type, "digest": config.digest, "size": config.size()},
            "layers": [],
        }),
    );
    let third = registry
        .push_manifest(repository, "3.13-slim", &third)
        .unwrap();
    let mut changed = payload.clone();
    changed.push(b' ');
    store_signature(&registry, repository, &third, &changed, &signature, None);

    let dir = tempdir(label);
    std::fs::create_dir_all(dir.path().join("keys")).unwrap();
    std::fs::write(dir.path().join("keys/acme.pub"), cosign("cosign.pub")).unwrap();
    std::fs::write(dir.path().join("keys/other.pub"), cosign("cosign2.pub")).unwrap();
    Setup {
        registry,
        dir,
        host,
        changed: third,
    }
}

pub(crate) fn config(setup: &Setup, acme_key: &str) -> String {
    let host = &setup.host;
    format!(
        "{}\n[registries.\"{host}\"]\nendpoint = \"http://{host}\"\ninsecure = true\n\
         [policy]\nmirrors = [\"{host}/acme/python\"]\nvendor-images = [\"{host}/acme/logged\"]\n\
         [[paths]]\npattern = \"prod/**\"\nenvironment = \"prod\"\n\
         [trust.keys]\nacme = \"{acme_key}\"\nother = \"keys/other.pub\"\n\
         [[trust.signatures]]\nimages = [\"{host}/acme/python\"]\nkeys = [\"acme\"]\nenvironments = [\"prod\"]\n\
         [[trust.signatures]]\nimages = [\"{host}/acme/logged\"]\nkeys = [\"other\"]\ntransparency_log = true\n",
        std::fs::read_to_string(&shared().config).unwrap()
    )
}

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    pyimage()
        .current_dir(dir)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .run(args)
}

#[test]
fn pin_records_verified_signatures_and_check_locked_enforces_them() {
    let setup = setup("signatures-pin");
    let dir = setup.dir.path();
    let host = &setup.host;
    std::fs::write(dir.join("pyimage.toml"), config(&setup, "keys/acme.pub")).unwrap();
    std::fs::create_dir_all(dir.join("prod")).unwrap();
    std::fs::write(
        dir.join("prod/Dockerfile"),
        format!(
            "FROM {host}/acme/python:3.12-slim AS app\nFROM {host}/acme/python:3.11-slim AS old\nFROM {host}/acme/python:3.13-slim AS changed\nFROM {host}/acme/logged:1 AS logged\n"
        ),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("dev")).unwrap();
    std::fs::write(
        dir.join("dev/Dockerfile"),
        format!("FROM {host}/acme/python:3.11-slim\n"),
    )
    .unwrap();

    let pinned = run(dir, &["pin", "--format", "json"]);
    assert_eq!(
        pinned.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&pinned),
        stderr(&pinned)
    );
    let report = json(&pinned);
    let signatures = report["signatures"].as_array().unwrap();
    assert_eq!(signatures.len(), 4, "{report:#}");
    let by_tag = |tag: &str| {
        signatures
            .iter()
            .find(|s| s["reference"].as_str().unwrap().ends_with(tag))
            .unwrap_or_else(|| panic!("{tag} in {report:#}"))
    };
    assert_eq!(by_tag(":3.12-slim")["judgement"]["verdict"], "accepted");
    assert_eq!(by_tag(":3.12-slim")["evidence"], "verified");
    assert_eq!(
        by_tag(":3.12-slim")["found_at"],
        format!(":{}.sig", SIGNED.replacen(':', "-", 1))
    );
    let old = by_tag(":3.11-slim");
    assert_eq!(old["judgement"]["verdict"], "refused");
    assert!(
        old["reasons"][0]
            .as_str()
            .unwrap()
            .contains(&format!("signed by acme, but for another image ({SIGNED})")),
        "{old:#}"
    );
    let changed = by_tag(":3.13-slim");
    assert_eq!(changed["judgement"]["verdict"], "refused");
    assert!(
        changed["reasons"][0]
            .as_str()
            .unwrap()
            .contains("no key of the policy (acme) verifies it"),
        "{changed:#}"
    );
    // The rule asks for a Rekor entry: the bundle's signed entry timestamp verified against the trust root.
    let logged = by_tag("/acme/logged:1");
    assert_eq!(logged["judgement"]["verdict"], "accepted", "{logged:#}");
    assert_eq!(logged["key"], "other");
    assert_eq!(logged["logged"]["log"], "https://rekor.sigstore.dev");
    assert_eq!(logged["logged"]["log_index"], 11608800);
    assert_eq!(logged["logged"]["integrated_time"], 1674251859);
    let lock = std::fs::read_to_string(dir.join("pyimage.lock")).unwrap();
    assert_eq!(lock.matches("signed_by = \"acme\"").count(), 1, "{lock}");
    assert_eq!(lock.matches("signed_by = \"other\"").count(), 1, "{lock}");
    assert!(
        lock.contains("signing_key = \"sha256:"),
        "the key's fingerprint is recorded: {lock}"
    );

    // prod: the two images without the signature the rule asks for are PY018; the signed one passes.
    let checked = run(dir, &["check", "--locked", "--format", "json"]);
    assert_eq!(checked.status.code(), Some(1), "{}", stdout(&checked));
    let findings = json(&checked)["findings"].as_array().unwrap().clone();
    let py018: Vec<&serde_json::Value> = findings.iter().filter(|f| f["rule"] == "PY018").collect();
    assert_eq!(py018.len(), 2, "{findings:#?}");
    assert!(
        py018.iter().all(|f| f["path"] == "prod/Dockerfile"),
        "{py018:#?}"
    );
    let lines: Vec<u64> = py018.iter().map(|f| f["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [2, 3], "{py018:#?}");
    assert!(
        py018[0]["message"]
            .as_str()
            .unwrap()
            .contains("pyimage.lock records no verified signature"),
        "{py018:#?}"
    );
    assert!(
        findings.iter().all(|f| f["rule"] != "PY008"),
        "pin locked everything: {findings:#?}"
    );
    // dev has no signature rule: the unsigned image there is no finding.
    let dev = run(dir, &["check", "--locked", "dev"]);
    assert_eq!(dev.status.code(), Some(0), "{}", stdout(&dev));

    // The key file replaced under the same name: the recorded signature no longer counts.
    std::fs::write(dir.join("pyimage.toml"), config(&setup, "keys/other.pub")).unwrap();
    let replaced = run(dir, &["check", "--locked", "prod"]);
    assert_eq!(replaced.status.code(), Some(1));
    let text = stdout(&replaced);
    assert!(
        text.contains("pyimage.lock records a signature by a key named acme"),
        "{text}"
    );
    // `pin` again verifies with the key now configured, which did not sign: the record is cleared.
    let repinned = run(dir, &["pin"]);
    assert_eq!(repinned.status.code(), Some(0), "{}", stderr(&repinned));
    assert!(
        stdout(&repinned).contains("warning: not signed as the policy asks"),
        "{}",
        stdout(&repinned)
    );
    let lock = std::fs::read_to_string(dir.join("pyimage.lock")).unwrap();
    assert!(!lock.contains("signed_by = \"acme\""), "{lock}");
    assert!(
        lock.contains("signed_by = \"other\"") && lock.contains("signature_log_index = 11608800"),
        "the logged image's record stands: {lock}"
    );
    drop(setup.registry);
}

pub(crate) fn inspect_json(dir: &Path, host: &str, digest: &str, id: &str) -> String {
    let path = dir.join(format!("inspect-{}.json", &digest[7..15]));
    std::fs::write(
        &path,
        serde_json::to_string(&json!([{
            "Id": id,
            "RepoTags": [format!("{host}/acme/python:3.12-slim")],
            "RepoDigests": [format!("{host}/acme/python@{digest}")],
            "Architecture": "amd64",
            "Os": "linux",
            "Config": {"Env": []}
        }]))
        .unwrap(),
    )
    .unwrap();
    path.display().to_string()
}

#[test]
fn verify_reads_signatures_at_the_registry_and_a_signed_copy_is_faithful() {
    let setup = setup("signatures-verify");
    let dir = setup.dir.path();
    let host = &setup.host;
    std::fs::write(dir.join("pyimage.toml"), config(&setup, "keys/acme.pub")).unwrap();
    let signed = inspect_json(dir, host, SIGNED, SIGNED_CONFIG);
    let verify = |file: &str, env: &str| {
        let args = vec![
            "verify",
            "--env",
            env,
            "--require",
            "faithful",
            "--no-provenance",
            "--no-release-signature",
            "--format",
            "json",
            "--inspect",
            file,
        ];
        // Named with --config: verify does not let a discovered pyimage.toml choose Docker Hub's endpoint.
        pyimage()
            .config(&dir.join("pyimage.toml"))
            .current_dir(dir)
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .run(&args)
    };
    let output = verify(&signed, "prod");
    let image = &json(&output)["images"][0];
    assert_eq!(output.status.code(), Some(0), "{image:#}");
    assert_eq!(
        image["verdict"], "untrusted",
        "Docker Hub does not serve it"
    );
    assert_eq!(image["ok"], true, "{image:#}");
    assert_eq!(image["signature"]["judgement"]["verdict"], "accepted");
    assert_eq!(image["signature"]["key"], "acme");
    assert!(
        image["notes"]
            .to_string()
            .contains("accepted as the organisation's copy"),
        "{image:#}"
    );

    // An image ID that is not the signed manifest's config: the signature vouches for another image.
    let lying = inspect_json(
        dir,
        host,
        SIGNED,
        "sha256:1111111111111111111111111111111111111111111111111111111111111111",
    );
    let output = verify(&lying, "prod");
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));

    // The signature on another digest, and the wrong key: refused.
    let other = inspect_json(dir, host, OTHER, SIGNED_CONFIG);
    let output = verify(&other, "prod");
    assert_eq!(output.status.code(), Some(1));
    let image = &json(&output)["images"][0];
    assert_eq!(
        image["signature"]["judgement"]["verdict"], "refused",
        "{image:#}"
    );
    std::fs::write(dir.join("pyimage.toml"), config(&setup, "keys/other.pub")).unwrap();
    let output = verify(&signed, "prod");
    assert_eq!(output.status.code(), Some(1));
    let image = &json(&output)["images"][0];
    assert_eq!(
        image["signature"]["judgement"]["verdict"], "refused",
        "{image:#}"
    );
    // In an environment no rule covers, no signature is asked for: an unproven copy stays untrusted.
    let output = verify(&signed, "dev");
    assert_eq!(output.status.code(), Some(1));
    assert!(json(&output)["images"][0]["signature"].is_null());
}

/// A validating AdmissionReview (the kwctl init-container Pod) in `namespace` whose init container runs `image`.
fn admission(image: &str, namespace: &str, uid: &str) -> serde_json::Value {
    let mut value = crate::serve_support::review(
        "kubewarden-policies/verify-image-signatures/pod_creation_with_init_container.json",
    );
    let request = &mut value["request"];
    request["uid"] = uid.into();
    request["namespace"] = namespace.into();
    request["object"]["spec"]["initContainers"][0]["image"] = image.into();
    value
}

fn validate(server: &crate::serve_support::Server, body: &serde_json::Value) -> serde_json::Value {
    let (status, text) = crate::serve_support::curl(
        &format!("{}/validate", server.url),
        None,
        "application/json",
        body.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{text}");
    crate::serve_support::response_of(&text)
}

/// `serve` reads the signatures at the registry, decides with PY018 as `check --locked` does, and keeps the answer
/// by digest: once the registry is gone, the digest checked before (written another way) is still admitted, while
/// an image it never checked is refused under `on-registry-failure = "deny"`.
#[test]
fn serve_checks_signatures_and_caches_them_by_digest() {
    let setup = setup("signatures-serve");
    let dir = setup.dir.path();
    let host = setup.host.clone();
    let config = format!(
        "{}[[namespaces]]\nmatch = \"prod-*\"\nenvironment = \"prod\"\n[serve]\ndeadline = \"3s\"\non-registry-failure = \"deny\"\n",
        config(&setup, "keys/acme.pub")
    );
    std::fs::write(dir.join("pyimage.toml"), config).unwrap();
    let server = crate::serve_support::Server::start(&dir.join("pyimage.toml"), &[]);

    let signed = validate(
        &server,
        &admission(
            &format!("{host}/acme/python:3.12-slim@{SIGNED}"),
            "prod-eu",
            "a",
        ),
    );
    assert_eq!(signed["allowed"], true, "{signed}");
    let other = validate(
        &server,
        &admission(
            &format!("{host}/acme/python:3.11-slim@{OTHER}"),
            "prod-eu",
            "b",
        ),
    );
    assert_eq!(other["allowed"], false, "{other}");
    let message = other["status"]["message"].as_str().unwrap();
    assert!(message.contains("PY018"), "{message}");
    assert!(message.contains("for another image"), "{message}");
    let changed = validate(
        &server,
        &admission(
            &format!("{host}/acme/python:3.13-slim@{}", setup.changed),
            "prod-eu",
            "f",
        ),
    );
    assert_eq!(changed["allowed"], false, "{changed}");
    assert!(
        changed["status"]["message"]
            .as_str()
            .unwrap()
            .contains("no key of the policy (acme) verifies it"),
        "{changed}"
    );
    // Another namespace's environment has no rule: no signature asked for.
    let dev = validate(
        &server,
        &admission(&format!("{host}/acme/python:3.11-slim"), "team-a", "c"),
    );
    assert_eq!(dev["allowed"], true, "{dev}");

    drop(setup.registry);
    let by_digest = validate(
        &server,
        &admission(
            &format!("{host}/acme/python:stable@{SIGNED}"),
            "prod-eu",
            "d",
        ),
    );
    assert_eq!(
        by_digest["allowed"], true,
        "checked before, by digest: {by_digest}"
    );
    let never = validate(
        &server,
        &admission(
            &format!("{host}/acme/python:3.12-slim@sha256:{}", "ab".repeat(32)),
            "prod-eu",
            "e",
        ),
    );
    assert_eq!(never["allowed"], false, "{never}");
    assert!(
        never["status"]["message"]
            .as_str()
            .unwrap()
            .contains("could not be checked"),
        "{never}"
    );
}
