//! The registry client against the local Docker Hub replica (Debian's docker-registry with Docker Hub-style token
//! auth, seeded from official-images `library/python`): answers are compared with the seeder's ground truth and
//! with skopeo, never with pyimage's own output.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use futures_util::StreamExt;
use pyimage_model::Reference;
use pyimage_registry::{
    ClientOptions, CredentialStore, Platform, RegistriesConfig, RegistryClient, RegistrySettings,
    RequestStats, ResolveRequest,
};
use pyimage_testkit::{Replica, newest_library_file};
use sha2::Digest as _;

fn client_for(endpoint: &str, mirrors: Vec<String>) -> RegistryClient {
    let mut config = RegistriesConfig::default();
    config.hosts.insert(
        "docker.io".to_owned(),
        RegistrySettings {
            endpoint: Some(endpoint.to_owned()),
            mirrors,
            insecure: true,
            ca_file: None,
        },
    );
    RegistryClient::new(
        config,
        CredentialStore::anonymous(),
        ClientOptions::default(),
    )
    .unwrap()
}

fn python(tag: &str) -> Reference {
    Reference::parse_normalized(&format!("python:{tag}")).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Resolves every tag concurrently; returns tag → digest.
async fn resolve_all(
    client: &RegistryClient,
    tags: &[String],
    request: &ResolveRequest,
) -> BTreeMap<String, String> {
    futures_util::stream::iter(tags.to_vec())
        .map(|tag| {
            let client = client.clone();
            let request = request.clone();
            async move {
                let resolution = client.resolve(&python(&tag), &request).await;
                let resolution = resolution.unwrap_or_else(|e| panic!("python:{tag}: {e}"));
                (tag, resolution.digest.to_string())
            }
        })
        .buffer_unordered(16)
        .collect()
        .await
}

/// One replica seeded from the newest file, shared by the read-only tests of this file.
static SEEDED: LazyLock<Replica> = LazyLock::new(|| {
    let (replica, _) = Replica::start_seeded(newest_library_file().unwrap()).unwrap();
    replica
});

#[test]
fn every_tag_resolves_to_the_seeded_digest_and_skopeo_agrees() {
    let replica = &*SEEDED;
    let truth = replica.ground_truth().unwrap();
    let tags: Vec<String> = truth.tags.keys().cloned().collect();
    assert_eq!(tags.len(), 150, "HEAD has 150 distinct tags");
    let client = client_for(&replica.registry_url(), Vec::new());
    let resolved = runtime().block_on(resolve_all(&client, &tags, &ResolveRequest::default()));
    for tag in &tags {
        assert_eq!(resolved[tag], truth.digest(tag).unwrap(), "python:{tag}");
    }

    // skopeo, an independent client, sees the same bytes: sha256 of `inspect --raw` is the digest we report.
    let host = replica.host();
    let mut checked = 0;
    for tag in &tags {
        let output = std::process::Command::new("skopeo")
            .args(["inspect", "--raw", "--no-tags", "--tls-verify=false"])
            .arg(format!("docker://{host}/library/python:{tag}"))
            .output()
            .expect("skopeo runs (scripts/test installs it)");
        assert!(
            output.status.success(),
            "skopeo {tag}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let hashed = format!(
            "sha256:{}",
            hex::encode(sha2::Sha256::digest(&output.stdout))
        );
        assert_eq!(resolved[tag], hashed, "skopeo's bytes for {tag}");
        checked += 1;
    }
    assert_eq!(checked, 150);
}

#[test]
fn resolving_n_tags_costs_one_ping_one_token_and_n_heads() {
    let replica = &*SEEDED;
    let truth = replica.ground_truth().unwrap();
    let tags: Vec<String> = truth.tags.keys().take(40).cloned().collect();
    let client = client_for(&replica.registry_url(), Vec::new());
    runtime().block_on(resolve_all(&client, &tags, &ResolveRequest::default()));
    assert_eq!(
        client.stats(),
        RequestStats {
            pings: 1,
            tokens: 1,
            manifest_heads: 40,
            ..RequestStats::default()
        }
    );

    // Asking for one platform costs one verified GET of the index and one HEAD of the platform manifest.
    let request = ResolveRequest {
        platform: Platform::parse("linux/arm64"),
        ..ResolveRequest::default()
    };
    let resolution = runtime()
        .block_on(client.resolve(&python("3.12-slim"), &request))
        .unwrap();
    let stats = client.stats();
    assert_eq!(
        (
            stats.pings,
            stats.tokens,
            stats.manifest_heads,
            stats.manifest_gets
        ),
        (1, 1, 42, 1)
    );
    let expected = truth.tag("3.12-slim").unwrap().platform_digests()["linux/arm64/v8"].clone();
    assert_eq!(resolution.platform.unwrap().digest.to_string(), expected);
}

#[test]
fn platforms_and_attestations_match_the_index_as_seeded() {
    let replica = &*SEEDED;
    let truth = replica.ground_truth().unwrap();
    let client = client_for(&replica.registry_url(), Vec::new());
    let request = ResolveRequest {
        platforms: true,
        attestations: true,
        platform: None,
    };
    for tag in ["3.12-slim", "3.14", "3.13-alpine", "latest"] {
        let resolution = runtime()
            .block_on(client.resolve(&python(tag), &request))
            .unwrap();
        let expected = truth.tag(tag).unwrap();
        let platforms: Vec<String> = resolution
            .platforms
            .unwrap()
            .iter()
            .map(|p| p.digest.to_string())
            .collect();
        let seeded: Vec<String> = expected.images.iter().map(|i| i.digest.clone()).collect();
        assert_eq!(platforms, seeded, "{tag}");
        let attestations: BTreeMap<String, String> = resolution
            .attestations
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a.describes.as_ref().unwrap().to_string(),
                    a.digest.to_string(),
                )
            })
            .collect();
        assert_eq!(attestations, expected.attestations(), "{tag}");
    }
    // A shared tag spans Linux and Windows.
    let windows = Platform::parse("windows/amd64").unwrap();
    let request = ResolveRequest {
        platform: Some(windows),
        ..ResolveRequest::default()
    };
    let resolution = runtime()
        .block_on(client.resolve(&python("3.14"), &request))
        .unwrap();
    assert_eq!(resolution.platform.unwrap().platform.os, "windows");
    // And a platform the index lacks is a clear error.
    let request = ResolveRequest {
        platform: Platform::parse("linux/mips64le"),
        ..ResolveRequest::default()
    };
    let error = runtime()
        .block_on(client.resolve(&python("3.12-slim"), &request))
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("has no manifest for platform linux/mips64le"),
        "{error}"
    );
}

#[test]
fn tags_list_matches_the_seeded_tags() {
    let replica = &*SEEDED;
    let truth = replica.ground_truth().unwrap();
    let client = client_for(&replica.registry_url(), Vec::new());
    let repository = Reference::parse_normalized("python").unwrap();
    let mut listed = runtime()
        .block_on(client.list_tags(&repository))
        .unwrap()
        .tags;
    listed.sort();
    let seeded: Vec<String> = truth.tags.keys().cloned().collect();
    assert_eq!(listed, seeded);
}

#[test]
fn a_digest_reference_is_checked_against_what_the_registry_serves() {
    let replica = &*SEEDED;
    let truth = replica.ground_truth().unwrap();
    let client = client_for(&replica.registry_url(), Vec::new());
    let digest = truth.digest("3.12-slim").unwrap();
    let pinned = Reference::parse_normalized(&format!("python:3.12-slim@{digest}")).unwrap();
    let resolution = runtime()
        .block_on(client.resolve(&pinned, &ResolveRequest::default()))
        .unwrap();
    assert_eq!(resolution.digest.to_string(), digest);
    // A digest the registry does not have is "not found", never silently replaced by the tag's digest.
    let absent =
        Reference::parse_normalized(&format!("python:3.12-slim@sha256:{}", "0".repeat(64)))
            .unwrap();
    let error = runtime()
        .block_on(client.resolve(&absent, &ResolveRequest::default()))
        .unwrap_err();
    assert!(error.to_string().contains("not found"), "{error}");
}

#[test]
fn rebuild_and_replay_are_seen_exactly() {
    let files = pyimage_testkit::library_files().unwrap();
    // Two consecutive versions of the file where the 3.12 line got a new patch release.
    let (older, newer) = files
        .windows(2)
        .map(|pair| (pair[0].clone(), pair[1].clone()))
        .find(|(a, b)| {
            let version = |path: &std::path::Path| {
                let library = pyimage_testkit::load_library(path).unwrap();
                library.family("3.12-slim").and_then(|f| f.most_specific)
            };
            matches!((version(a), version(b)), (Some(x), Some(y)) if x != y)
        })
        .expect("history has a 3.12 patch release");
    let (replica, _) = Replica::start_seeded(&older).unwrap();
    let client = client_for(&replica.registry_url(), Vec::new());
    let before = replica.ground_truth().unwrap();
    let tags: Vec<String> = before.tags.keys().cloned().collect();

    // Rebuild: same tags, new digests for the rebuilt entries only.
    let rebuilt = replica
        .rebuild_where(|entry| entry.directory.starts_with("3.12/"))
        .unwrap();
    assert!(!rebuilt.moves.is_empty());
    let resolved = runtime().block_on(resolve_all(&client, &tags, &ResolveRequest::default()));
    for tag in &tags {
        let expected = rebuilt.truth.digest(tag).unwrap();
        assert_eq!(resolved[tag], expected, "after rebuild: {tag}");
        let moved = rebuilt.moved(tag).is_some();
        assert_eq!(
            moved,
            resolved[tag] != before.digest(tag).unwrap(),
            "{tag} moved iff the seeder moved it"
        );
    }

    // Replay to the next file: exactly the tags the seeder moved have new digests; old tags stay.
    let replayed = replica.replay_file(&newer).unwrap();
    let after = &replayed.truth;
    let all_tags: Vec<String> = after.tags.keys().cloned().collect();
    let fresh = client_for(&replica.registry_url(), Vec::new());
    let resolved_after =
        runtime().block_on(resolve_all(&fresh, &all_tags, &ResolveRequest::default()));
    for tag in &all_tags {
        assert_eq!(
            resolved_after[tag],
            after.digest(tag).unwrap(),
            "after replay: {tag}"
        );
    }
    assert!(
        replayed.moved("3.12-slim").is_some(),
        "3.12-slim moved with the new patch release"
    );
    for tag in &tags {
        if replayed.moved(tag).is_none() {
            assert_eq!(resolved_after[tag], resolved[tag], "{tag} did not move");
        }
    }
}

#[test]
fn mirrors_are_tried_first_and_fall_back_to_the_upstream() {
    let replica = &*SEEDED;
    let truth = replica.ground_truth().unwrap();
    // A faithful mirror holding two tags.
    let mirror = replica
        .mirror_tags("library/python", &["3.12-slim"])
        .unwrap();
    let client = client_for(&replica.registry_url(), vec![mirror.url()]);
    let from_mirror = runtime()
        .block_on(client.resolve(&python("3.12-slim"), &ResolveRequest::default()))
        .unwrap();
    assert!(from_mirror.mirror);
    assert_eq!(from_mirror.registry, mirror.url());
    assert_eq!(
        from_mirror.digest.to_string(),
        truth.digest("3.12-slim").unwrap()
    );
    // A tag the mirror lacks comes from the upstream.
    let upstream = runtime()
        .block_on(client.resolve(&python("3.13-slim"), &ResolveRequest::default()))
        .unwrap();
    assert!(!upstream.mirror);
    assert_eq!(
        upstream.digest.to_string(),
        truth.digest("3.13-slim").unwrap()
    );
    // A dead mirror is skipped.
    let dead = client_for(
        &replica.registry_url(),
        vec!["http://127.0.0.1:9".to_owned()],
    );
    let resolution = runtime()
        .block_on(dead.resolve(&python("3.12-slim"), &ResolveRequest::default()))
        .unwrap();
    assert!(!resolution.mirror);
}
