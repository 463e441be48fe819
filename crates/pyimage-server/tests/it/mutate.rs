//! `POST /mutate` and `/mutate/{environment}`: pins from the lock (no registry asked), nothing to pin in dev or
//! when already pinned, the forced environment, and a registry that is slow or down answered by the deadline with
//! the failure policy's answer — timed on tokio's paused clock, which moves only from timer to timer, so the time
//! an answer took there is exact and independent of the machine's load.

use std::net::TcpListener;
use std::time::Duration;

use pyimage_model::lock::{Lock, LockedImage};
use serde_json::Value;

use crate::support::{PROD_NAMESPACES, apply_patch, review, served};

/// The kwctl init-container Pod in `namespace`, its init container running `image`; the container keeps `nginx`.
fn pod(image: &str, namespace: &str, uid: &str) -> Value {
    let mut value =
        review("kubewarden-policies/verify-image-signatures/pod_creation_with_init_container.json");
    let request = &mut value["request"];
    request["uid"] = uid.into();
    request["namespace"] = namespace.into();
    request["object"]["spec"]["initContainers"][0]["image"] = image.into();
    value
}

/// A configuration whose docker.io is `endpoint` (plain HTTP), prod namespaces, and `[serve]` `serve`.
fn config_for(endpoint: &str, serve: &str) -> String {
    format!(
        "[registries.\"docker.io\"]\nendpoint = \"{endpoint}\"\ninsecure = true\n{PROD_NAMESPACES}[serve]\n{serve}"
    )
}

/// An address nobody listens on.
fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

fn lock_with(reference: &str, digest: &str) -> Lock {
    let mut lock = Lock::default();
    lock.insert(LockedImage {
        reference: reference.into(),
        normalized: format!("docker.io/library/{reference}"),
        digest: digest.into(),
        media_type: "application/vnd.oci.image.index.v1+json".into(),
        python: None,
        resolved_at: "2026-11-23T12:00:00Z".into(),
        registry: "https://registry-1.docker.io".into(),
        platforms: Default::default(),
        faithful_copy: None,
        signed_by: None,
        signing_key: None,
        signature_log_index: None,
    });
    lock
}

#[tokio::test]
async fn the_lock_pins_without_a_registry_and_a_pinned_or_dev_image_is_left_alone() {
    let locked = format!("sha256:{}", "c".repeat(64));
    // The registry is a closed port: a pin can only come from the lock.
    let server = served(
        &config_for(&closed_port(), ""),
        Some(lock_with("python:3.12-slim", &locked)),
    );
    let body = pod("python:3.12-slim", "prod-eu", "locked");
    let response = server.review("/mutate", &body).await;
    assert_eq!(response["uid"], "locked");
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!(response["patchType"], "JSONPatch", "{response}");
    let mut object = body["request"]["object"].clone();
    apply_patch(&mut object, response["patch"].as_str().unwrap());
    assert_eq!(
        object["spec"]["initContainers"][0]["image"],
        format!("python:3.12-slim@{locked}")
    );
    assert_eq!(
        object["spec"]["containers"][0]["image"], "nginx",
        "other images are never touched"
    );
    assert_eq!(
        response["auditAnnotations"]["pinned"],
        format!("python:3.12-slim@{locked}")
    );
    // Idempotent: the patched Pod passes unchanged; a dev namespace is not pinned.
    let mut patched = body.clone();
    patched["request"]["object"] = object;
    let again = server.review("/mutate", &patched).await;
    assert!(again.get("patch").is_none(), "{again}");
    let dev = server
        .review("/mutate", &pod("python:3.12-slim", "team-a", "dev"))
        .await;
    assert!(dev.get("patch").is_none(), "{dev}");
    // Forced environment: /mutate/prod pins in any namespace.
    let forced = server
        .review("/mutate/prod", &pod("python:3.12-slim", "team-a", "forced"))
        .await;
    assert_eq!(forced["patchType"], "JSONPatch", "{forced}");
    let metrics = server.metrics().await;
    assert!(
        metrics
            .contains("pyimage_admission_requests_total{endpoint=\"mutate\",decision=\"patch\"} 2"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("pyimage_registry_lookups_total{outcome=\"ok\"} 1"),
        "{metrics}"
    );
}

/// Answers one pod with `python:3.12-slim` in prod against `endpoint` with an 800 ms deadline and the failure policy
/// `failure`: the answer, and how long it took on the paused clock.
async fn answer_within_deadline(endpoint: &str, failure: &str) -> (Value, Duration) {
    let server = served(
        &config_for(
            endpoint,
            &format!("deadline = \"800ms\"\non-registry-failure = \"{failure}\"\n"),
        ),
        None,
    );
    let started = tokio::time::Instant::now();
    let response = server
        .review("/mutate", &pod("python:3.12-slim", "prod-eu", failure))
        .await;
    let took = started.elapsed();
    assert_eq!(server.get("/healthz").await.status, 200);
    (response, took)
}

/// A registry that accepts connections and never answers: the lookup is cut at nine tenths of the 800 ms
/// deadline (720 ms, to the millisecond of tokio's timer on the paused clock) and the failure policy answers.
#[tokio::test(start_paused = true)]
async fn a_silent_registry_is_answered_at_the_deadline_by_the_failure_policy() {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    // Held open, never read: the kernel completes the connections, nobody answers.
    let held = std::thread::spawn(move || {
        let mut streams = Vec::new();
        for stream in silent.incoming().take(4).flatten() {
            streams.push(stream);
        }
        streams
    });
    let budget = Duration::from_millis(720)..Duration::from_millis(721);
    let (allowed, took) = answer_within_deadline(&endpoint, "allow").await;
    assert!(budget.contains(&took), "{took:?}: {allowed}");
    assert_eq!(allowed["allowed"], true, "{allowed}");
    assert!(allowed.get("patch").is_none(), "{allowed}");
    let warning = allowed["warnings"][0].as_str().unwrap();
    assert!(warning.starts_with("pyimage: not pinned"), "{warning}");
    assert!(warning.chars().count() <= 120, "{warning}");

    let (denied, took) = answer_within_deadline(&endpoint, "deny").await;
    assert!(budget.contains(&took), "{took:?}: {denied}");
    assert_eq!(denied["allowed"], false, "{denied}");
    assert_eq!(denied["status"]["code"], 403);
    let message = denied["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("python:3.12-slim")
            && message.contains("on-registry-failure = \"deny\"")
            && message.contains("did not answer within 720 ms"),
        "{message}"
    );
    drop(held);
}

/// A registry nobody listens on: refused, retried, given up — within the deadline on the paused clock — and the
/// failure policy answers.
#[tokio::test(start_paused = true)]
async fn a_registry_that_is_down_is_answered_within_the_deadline() {
    let (response, _) = answer_within_deadline(&closed_port(), "allow").await;
    assert_eq!(response["allowed"], true, "{response}");
    assert!(response.get("patch").is_none(), "{response}");
    let warning = response["warnings"][0].as_str().unwrap();
    // Answered (the retries of a refused registry are cut by the deadline), with the failure policy's answer.
    assert!(warning.starts_with("pyimage: not pinned"), "{warning}");
}

/// A Pod whose init containers run `count` distinct tags of python in prod.
fn pod_with_tags(count: usize, uid: &str) -> Value {
    let mut value = pod("python:3.12-slim", "prod-eu", uid);
    let template = value["request"]["object"]["spec"]["initContainers"][0].clone();
    let containers: Vec<Value> = (0..count)
        .map(|i| {
            let mut container = template.clone();
            container["name"] = format!("init-{i}").into();
            container["image"] = format!("python:3.12.{i}-slim").into();
            container
        })
        .collect();
    value["request"]["object"]["spec"]["initContainers"] = containers.into();
    value
}

/// One Pod with 2,000 distinct tags against a registry that never answers: the registry sees at most
/// [`pyimage_server::MAX_LOOKUPS`] connections at once (not one per tag), the answer comes at the deadline with the
/// failure policy's answer, and its warnings are capped as `/validate`'s are, saying how many were left out.
#[tokio::test(start_paused = true)]
async fn a_pod_with_thousands_of_tags_costs_bounded_lookups_and_is_answered_at_the_deadline() {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&accepted);
    // Accepts and holds every connection, never answering.
    std::thread::spawn(move || {
        let mut streams = Vec::new();
        for stream in silent.incoming().flatten() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            streams.push(stream);
        }
    });
    let server = served(
        &config_for(
            &endpoint,
            "deadline = \"800ms\"\non-registry-failure = \"allow\"\n",
        ),
        None,
    );
    let response = server.review("/mutate", &pod_with_tags(2000, "many")).await;
    // Answered because the deadline cut the lookups (nine tenths of 800 ms), as the warnings say.
    let first = response["warnings"][0].as_str().unwrap_or_default();
    assert!(first.contains("did not answer within 720 ms"), "{first}");
    let connections = accepted.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        connections <= pyimage_server::MAX_LOOKUPS,
        "{connections} registry connections for one request"
    );
    assert_eq!(response["allowed"], true);
    let warnings = response["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 16, "{} warnings", warnings.len());
    let last = warnings[15].as_str().unwrap();
    assert_eq!(last, "pyimage: 1985 more images not pinned");
}

/// Distinct tags past the cache's room do not grow it: a registry that is down answers every lookup with a failure,
/// and a Pod with more tags than [`pyimage_server::MAX_CACHED`] leaves at most that many remembered.
#[tokio::test(start_paused = true)]
async fn the_digest_cache_holds_at_most_its_room_of_tags() {
    let server = served(
        &config_for(
            &closed_port(),
            "deadline = \"86400s\"\non-registry-failure = \"allow\"\n",
        ),
        None,
    );
    let tags = pyimage_server::MAX_CACHED + 500;
    let response = server.review("/mutate", &pod_with_tags(tags, "full")).await;
    assert_eq!(response["allowed"], true);
    let last = response["warnings"][15].as_str().unwrap().to_owned();
    assert_eq!(
        last,
        format!("pyimage: {} more images not pinned", tags - 15)
    );
    let cached = server.state.digests.cached();
    assert!(cached <= pyimage_server::MAX_CACHED, "{cached} tags cached");
}
