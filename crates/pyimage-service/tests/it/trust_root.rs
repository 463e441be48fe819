//! The Sigstore trust root refresh over HTTP: a file server on 127.0.0.1 serves a TUF repository laid out as
//! Sigstore's. With Sigstore's real metadata the refresh verifies at a time when it was current and falls back to
//! the embedded root once it has expired. A repository signed in the test (Sigstore's keys cannot sign a new
//! version) shows a root rotation, the cache making the second run incremental, the cache used offline until it
//! expires, a rollback and a changed target refused, and an unreachable repository failing fast.

use std::path::Path;
use std::time::{Duration, Instant};

use pyimage_model::time::parse_rfc3339_utc;
use pyimage_registry::{
    ClientOptions, CredentialStore, RegistriesConfig, RegistryClient, RegistrySettings,
};
use pyimage_service::trust_root::{ChosenRoot, RootVia, TufSource, choose};
use pyimage_testkit::FileServer;
use pyimage_testkit::tuf::{TufKey, root, sign, top_level};
use pyimage_trust::root::{EMBEDDED_TRUSTED_ROOT, TrustedRoot};
use pyimage_trust::tuf::EMBEDDED_TUF_ROOT;

const FAR: &str = "2030-01-01T00:00:00Z";

fn at(time: &str) -> u64 {
    parse_rfc3339_utc(time).unwrap()
}

/// A client allowed plain HTTP to the file server.
fn client(server: &FileServer) -> RegistryClient {
    client_for(&server.host())
}

/// A client allowed plain HTTP to `host` (`127.0.0.1:PORT`), whether anything listens there or not.
fn client_for(host: &str) -> RegistryClient {
    let mut config = RegistriesConfig::default();
    config.hosts.insert(
        host.to_owned(),
        RegistrySettings {
            insecure: true,
            ..RegistrySettings::default()
        },
    );
    RegistryClient::new(
        config,
        CredentialStore::anonymous(),
        ClientOptions::default(),
    )
    .unwrap()
}

fn embedded() -> TrustedRoot {
    TrustedRoot::embedded().unwrap()
}

fn testdata(path: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/trust")
            .join(path),
    )
    .unwrap()
}

/// Publishes `files` under `/<prefix>/`.
fn publish(server: &FileServer, prefix: &str, files: &[(String, Vec<u8>)]) {
    for (path, bytes) in files {
        server.put(&format!("/{prefix}/{path}"), bytes.clone());
    }
}

/// The paths asked for under `/<prefix>/` since `from` requests were made.
fn asked_since(server: &FileServer, prefix: &str, from: usize) -> Vec<String> {
    server.asked()[from..]
        .iter()
        .filter_map(|p| p.strip_prefix(&format!("/{prefix}/")).map(str::to_owned))
        .collect()
}

fn sha256_of_trusted_root() -> &'static str {
    "6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigstores_real_metadata_refreshes_while_current_and_not_after() {
    let server = FileServer::start().unwrap();
    publish(
        &server,
        "real",
        &[
            ("timestamp.json".to_owned(), testdata("tuf/timestamp.json")),
            (
                "165.snapshot.json".to_owned(),
                testdata("tuf/snapshot.json"),
            ),
            ("14.targets.json".to_owned(), testdata("tuf/targets.json")),
            (
                format!("targets/{}.trusted_root.json", sha256_of_trusted_root()),
                EMBEDDED_TRUSTED_ROOT.as_bytes().to_vec(),
            ),
        ],
    );
    let client = client(&server);
    let tuf = TufSource::new(
        &format!("{}/real", server.url()),
        EMBEDDED_TUF_ROOT.as_bytes().to_vec(),
        "Sigstore's root v15",
        None,
    )
    .unwrap();
    let chosen = choose(&client, &tuf, &embedded(), at("2026-08-22T00:00:00Z")).await;
    assert_eq!(chosen.via, RootVia::Tuf, "{}", chosen.why);
    assert_eq!(
        chosen.root.source,
        format!(
            "trusted_root.json from {}/real (TUF root v15, timestamp v762, snapshot v165, targets v14)",
            server.url()
        )
    );
    assert!(
        chosen
            .why
            .ends_with("verified from Sigstore's root v15, current until 2026-08-28T19:25:56Z"),
        "{}",
        chosen.why
    );
    assert_eq!(
        asked_since(&server, "real", 0),
        [
            "16.root.json",
            "timestamp.json",
            "165.snapshot.json",
            "14.targets.json",
            "targets/6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66.trusted_root.json"
        ]
    );
    // Today root v15 has expired (2026-11-20) and this repository offers no v16: the embedded trusted root, and why.
    let chosen = choose(&client, &tuf, &embedded(), at("2026-12-07T00:00:00Z")).await;
    assert_eq!(chosen.via, RootVia::Embedded);
    assert!(
        chosen
            .why
            .contains("root.json v15: expired at 2026-11-20T13:58:18Z")
            && chosen
                .why
                .contains("no earlier refresh is usable (no cache directory)"),
        "{}",
        chosen.why
    );
}

/// A test repository: anchor v1 (key `a`), root v2 rotated to key `b` (signed by both), and timestamp, snapshot and
/// targets at `version` signed by `b`, listing the real trusted_root.json.
struct Rotated {
    anchor: Vec<u8>,
    b: TufKey,
}

fn rotated(server: &FileServer, prefix: &str, version: u64) -> Rotated {
    let (a, b) = (TufKey::generate().unwrap(), TufKey::generate().unwrap());
    let anchor = sign(&root(1, &[&a], FAR), &[&a]).unwrap();
    let v2 = sign(&root(2, &[&b], FAR), &[&a, &b]).unwrap();
    let mut files = vec![("2.root.json".to_owned(), v2)];
    files.extend(
        top_level(
            version,
            &[("trusted_root.json", EMBEDDED_TRUSTED_ROOT.as_bytes())],
            &b,
            FAR,
        )
        .unwrap(),
    );
    publish(server, prefix, &files);
    Rotated { anchor, b }
}

fn source(server: &FileServer, prefix: &str, anchor: &[u8], cache: &Path) -> TufSource {
    TufSource::new(
        &format!("{}/{prefix}/", server.url()),
        anchor.to_vec(),
        "the test anchor",
        Some(cache),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_root_is_followed_and_the_cache_makes_the_next_refresh_two_requests() {
    let server = FileServer::start().unwrap();
    let repo = rotated(&server, "rot", 3);
    let cache = tempfile::tempdir().unwrap();
    let tuf = source(&server, "rot", &repo.anchor, cache.path());
    let now = at("2026-12-07T00:00:00Z");
    let client = client(&server);
    let chosen = choose(&client, &tuf, &embedded(), now).await;
    assert_eq!(chosen.via, RootVia::Tuf, "{}", chosen.why);
    assert!(
        chosen
            .root
            .source
            .ends_with("(TUF root v2, timestamp v3, snapshot v3, targets v3)"),
        "{}",
        chosen.root.source
    );
    assert_eq!(chosen.root.tlogs.len(), 2, "the real trusted_root.json");
    assert_eq!(
        asked_since(&server, "rot", 0),
        [
            "2.root.json",
            "3.root.json",
            "timestamp.json",
            "3.snapshot.json",
            "3.targets.json",
            &format!("targets/{}.trusted_root.json", sha256_of_trusted_root()),
        ]
    );
    let dir = tuf.cache_dir().unwrap();
    for file in [
        "root/2.root.json",
        "timestamp.json",
        "snapshot.json",
        "targets.json",
        "trusted_root.json",
    ] {
        assert!(dir.join(file).is_file(), "{file} is cached");
    }
    assert!(!dir.join("root/1.root.json").exists(), "the anchor is not");
    // The second run: the next root's 404 and the timestamp; the rest is still current in the cache.
    let before = server.asked().len();
    let chosen = choose(&client, &tuf, &embedded(), now).await;
    assert_eq!(chosen.via, RootVia::Tuf, "{}", chosen.why);
    assert_eq!(
        asked_since(&server, "rot", before),
        ["3.root.json", "timestamp.json"]
    );
    // The repository moves on (a new timestamp, snapshot and targets at v4): only those are fetched.
    publish(
        &server,
        "rot",
        &top_level(
            4,
            &[("trusted_root.json", EMBEDDED_TRUSTED_ROOT.as_bytes())],
            &repo.b,
            FAR,
        )
        .unwrap(),
    );
    let before = server.asked().len();
    let chosen = choose(&client, &tuf, &embedded(), now).await;
    assert!(
        chosen.root.source.ends_with("targets v4)"),
        "{}",
        chosen.root.source
    );
    assert_eq!(
        asked_since(&server, "rot", before),
        [
            "3.root.json",
            "timestamp.json",
            "4.snapshot.json",
            "4.targets.json"
        ],
        "the target did not change: the cached one is still the one listed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_the_last_refresh_is_used_until_it_expires() {
    let cache = tempfile::tempdir().unwrap();
    let now = at("2026-12-07T00:00:00Z");
    let (host, tuf) = {
        let server = FileServer::start().unwrap();
        let repo = rotated(&server, "off", 3);
        let tuf = source(&server, "off", &repo.anchor, cache.path());
        let chosen = choose(&client(&server), &tuf, &embedded(), now).await;
        assert_eq!(chosen.via, RootVia::Tuf, "{}", chosen.why);
        (server.host(), tuf)
        // The server stops here: its port refuses connections from now on.
    };
    let offline = client_for(&host);
    let chosen = choose(&offline, &tuf, &embedded(), now).await;
    assert_eq!(chosen.via, RootVia::TufCache, "{}", chosen.why);
    assert!(
        chosen.why.starts_with("the refresh failed (cannot reach http://127.0.0.1:")
            && chosen.why.contains(
                "verified again from the test anchor: root v2, timestamp v3, snapshot v3, targets v3, current \
                 until 2030-01-01T00:00:00Z"
            ),
        "{}",
        chosen.why
    );
    assert_eq!(chosen.root.tlogs.len(), 2);
    // Once the cached metadata has expired, the embedded root, and why.
    let chosen = choose(&offline, &tuf, &embedded(), at("2030-01-02T00:00:00Z")).await;
    assert_eq!(chosen.via, RootVia::Embedded);
    assert!(
        chosen
            .why
            .contains("root.json v2: expired at 2030-01-01T00:00:00Z"),
        "{}",
        chosen.why
    );
    // A cached file changed behind pyimage's back is not used: it is verified again like a fetched one.
    let target = tuf.cache_dir().unwrap().join("trusted_root.json");
    let changed = String::from_utf8(std::fs::read(&target).unwrap())
        .unwrap()
        .replacen("rekor.sigstore.dev", "rekor.sigstore.dex", 1);
    std::fs::write(&target, changed).unwrap();
    let chosen = choose(&offline, &tuf, &embedded(), now).await;
    assert_eq!(chosen.via, RootVia::Embedded, "{}", chosen.why);
    assert!(
        chosen.why.contains("cached trusted_root.json: has sha256"),
        "{}",
        chosen.why
    );
    // Another anchor does not inherit this cache's roots: they do not chain from it.
    let other = TufKey::generate().unwrap();
    let foreign = TufSource::new(
        &tuf.url,
        sign(&root(1, &[&other], FAR), &[&other]).unwrap(),
        "another anchor",
        Some(cache.path()),
    )
    .unwrap();
    let chosen = choose(&offline, &foreign, &embedded(), now).await;
    assert_eq!(chosen.via, RootVia::Embedded, "{}", chosen.why);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_or_a_changed_target_is_refused_and_said() {
    let server = FileServer::start().unwrap();
    let repo = rotated(&server, "rb", 5);
    let cache = tempfile::tempdir().unwrap();
    let tuf = source(&server, "rb", &repo.anchor, cache.path());
    let now = at("2026-12-07T00:00:00Z");
    let client = client(&server);
    assert_eq!(
        choose(&client, &tuf, &embedded(), now).await.via,
        RootVia::Tuf
    );
    // The repository (or a stale mirror) serves v4 after v5 was verified: refused; the cache's v5 is used.
    publish(
        &server,
        "rb",
        &top_level(
            4,
            &[("trusted_root.json", EMBEDDED_TRUSTED_ROOT.as_bytes())],
            &repo.b,
            FAR,
        )
        .unwrap(),
    );
    let chosen: ChosenRoot = choose(&client, &tuf, &embedded(), now).await;
    assert_eq!(chosen.via, RootVia::TufCache, "{}", chosen.why);
    assert!(
        chosen
            .why
            .contains("timestamp.json v4: is older than timestamp v5 verified before"),
        "{}",
        chosen.why
    );
    // A target whose bytes are not the listed ones (a fresh cache, so it is fetched).
    let server = FileServer::start().unwrap();
    let repo = rotated(&server, "bad", 1);
    let listed = format!(
        "/bad/targets/{}.trusted_root.json",
        sha256_of_trusted_root()
    );
    server.put(
        &listed,
        EMBEDDED_TRUSTED_ROOT
            .replacen("rekor.sigstore.dev", "rekor.sigstore.dex", 1)
            .into_bytes(),
    );
    let cache = tempfile::tempdir().unwrap();
    let tuf = source(&server, "bad", &repo.anchor, cache.path());
    let chosen = choose(&client_for(&server.host()), &tuf, &embedded(), now).await;
    assert_eq!(chosen.via, RootVia::Embedded, "{}", chosen.why);
    assert!(
        chosen.why.contains("trusted_root.json: has sha256")
            && chosen.why.contains("it must not be used"),
        "{}",
        chosen.why
    );
    assert!(!tuf.cache_dir().unwrap().join("trusted_root.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_repository_fails_fast() {
    // Port 1 on loopback: nothing listens, the connection is refused.
    let tuf = TufSource::new(
        "http://127.0.0.1:1",
        EMBEDDED_TUF_ROOT.as_bytes().to_vec(),
        "Sigstore's root v15",
        None,
    )
    .unwrap();
    let started = Instant::now();
    let chosen = choose(
        &client_for("127.0.0.1:1"),
        &tuf,
        &embedded(),
        at("2026-12-07T00:00:00Z"),
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(chosen.via, RootVia::Embedded);
    assert!(
        chosen
            .why
            .starts_with("the refresh failed (cannot reach http://127.0.0.1:1/16.root.json"),
        "{}",
        chosen.why
    );
}
