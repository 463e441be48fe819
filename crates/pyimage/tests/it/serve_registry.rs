//! `pyimage serve` pinning on admission against a real registry: digests from a byte-identical mirror of the
//! replica (its own request log counts the HEADs: N admissions of K tags cost K), and the lock first when
//! configured. A registry that is slow or down, answered by the deadline per `on-registry-failure`, is tested in
//! process (pyimage-server's tests, on tokio's paused clock).

use pyimage_model::lock::{Lock, LockedImage};
use serde_json::Value;

use crate::serve_support::{Server, apply_patch, curl, curl_get, response_of, review, write};
use crate::support::{shared, tempdir};

/// A Pod (the kwctl init-container payload) in `namespace` whose init container runs `image`; the container
/// keeps its `nginx`.
fn pod(image: &str, namespace: &str, uid: &str) -> Value {
    let mut value =
        review("kubewarden-policies/verify-image-signatures/pod_creation_with_init_container.json");
    let request = &mut value["request"];
    request["uid"] = uid.into();
    request["namespace"] = namespace.into();
    request["object"]["spec"]["initContainers"][0]["image"] = image.into();
    value
}

fn config_for(endpoint: &str, serve: &str) -> String {
    format!(
        "[registries.\"docker.io\"]\nendpoint = \"{endpoint}\"\ninsecure = true\n[[namespaces]]\nmatch = \"prod-*\"\nenvironment = \"prod\"\n[serve]\n{serve}"
    )
}

#[test]
fn mutate_pins_from_the_registry_with_one_head_per_tag_per_ttl() {
    let shared = shared();
    let tags: Vec<String> = ["3.12-slim", "3.13-slim", "3.12", "3.13", "3.11-slim"]
        .into_iter()
        .filter(|tag| shared.truth.digest(tag).is_some())
        .map(str::to_owned)
        .collect();
    assert!(tags.len() >= 3, "the replica has the usual tags");
    let mirror = shared.replica.mirror_tags("library/python", &tags).unwrap();
    let dir = tempdir("serve-mutate");
    let config = write(
        dir.path(),
        "pyimage.toml",
        &config_for(&mirror.url(), "cache-ttl = \"10m\"\ndeadline = \"5s\"\n"),
    );
    let server = Server::start(&config, &[]);
    let heads_before = head_count(&mirror.process().log());
    // N admissions of K tags, 32 at a time, through reqwest (rustls).
    let admissions = 400;
    let url = format!("{}/mutate", server.url);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let answers: Vec<(String, Value, Value)> = runtime.block_on(async {
        let client = reqwest::Client::new();
        let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(32));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..admissions {
            let tag = tags[i % tags.len()].clone();
            let body = pod(&format!("python:{tag}"), "prod-eu", &format!("uid-{i}"));
            let (client, url, semaphore) = (client.clone(), url.clone(), semaphore.clone());
            tasks.spawn(async move {
                let _permit = semaphore.acquire().await.unwrap();
                let text = client
                    .post(url)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                (tag, body, response_of(&text))
            });
        }
        tasks.join_all().await
    });
    for (tag, body, response) in &answers {
        assert_eq!(response["uid"], body["request"]["uid"]);
        assert_eq!(response["allowed"], true, "{response}");
        assert_eq!(response["patchType"], "JSONPatch", "{response}");
        let mut object = body["request"]["object"].clone();
        apply_patch(&mut object, response["patch"].as_str().unwrap());
        let digest = shared.truth.digest(tag).unwrap();
        assert_eq!(
            object["spec"]["initContainers"][0]["image"],
            format!("python:{tag}@{digest}")
        );
        assert_eq!(
            object["spec"]["containers"][0]["image"], "nginx",
            "other images are never touched"
        );
    }
    let heads = head_count(&mirror.process().log()) - heads_before;
    let log = mirror.process().log();
    assert_eq!(
        heads,
        tags.len(),
        "{admissions} admissions of {} tags cost one HEAD per tag; the log ends:\n{}",
        tags.len(),
        log.lines().rev().take(5).collect::<Vec<_>>().join("\n")
    );
    let (_, metrics) = curl_get(&format!("{}/metrics", server.url), None);
    assert!(
        metrics.contains(&format!(
            "pyimage_registry_lookups_total{{outcome=\"ok\"}} {}",
            tags.len()
        )),
        "{metrics}"
    );
    // Idempotent: the patched Pod passes through unchanged; so does a dev namespace and an UPDATE that keeps it.
    let (tag, body, response) = &answers[0];
    let mut patched = body.clone();
    apply_patch(
        &mut patched["request"]["object"],
        response["patch"].as_str().unwrap(),
    );
    let again = post(&server, &patched);
    assert!(again.get("patch").is_none(), "{again}");
    assert!(
        post(&server, &pod(&format!("python:{tag}"), "team-a", "dev"))
            .get("patch")
            .is_none()
    );
    // Forced environment: /mutate/prod pins in any namespace.
    let forced = post_to(
        &server,
        "/mutate/prod",
        &pod(&format!("python:{tag}"), "team-a", "forced"),
    );
    assert_eq!(forced["patchType"], "JSONPatch");
    // The lock comes first: its digest, no HEAD.
    let locked = format!("sha256:{}", "c".repeat(64));
    let mut lock = Lock::default();
    lock.insert(LockedImage {
        reference: "python:3.99-slim".into(),
        normalized: "docker.io/library/python:3.99-slim".into(),
        digest: locked.clone(),
        media_type: "application/vnd.oci.image.index.v1+json".into(),
        python: None,
        resolved_at: "2026-11-23T12:00:00Z".into(),
        registry: mirror.url(),
        platforms: Default::default(),
        faithful_copy: None,
        signed_by: None,
        signing_key: None,
        signature_log_index: None,
    });
    write(dir.path(), "pyimage.lock", &lock.render());
    let config = write(
        dir.path(),
        "locked.toml",
        &config_for(&mirror.url(), "lock = \"pyimage.lock\"\n"),
    );
    let locked_server = Server::start(&config, &[]);
    let before = head_count(&mirror.process().log());
    let response = post(
        &locked_server,
        &pod("python:3.99-slim", "prod-eu", "locked"),
    );
    let mut object = pod("python:3.99-slim", "prod-eu", "locked")["request"]["object"].clone();
    apply_patch(&mut object, response["patch"].as_str().unwrap());
    assert_eq!(
        object["spec"]["initContainers"][0]["image"],
        format!("python:3.99-slim@{locked}")
    );
    assert_eq!(head_count(&mirror.process().log()), before);
}

/// Manifest HEADs the registry answered, from its log (one `response completed` line per request).
fn head_count(log: &str) -> usize {
    log.lines()
        .filter(|line| {
            line.contains("response completed")
                && line.contains("http.request.method=HEAD")
                && line.contains("/v2/library/python/manifests/")
        })
        .count()
}

fn post(server: &Server, body: &Value) -> Value {
    post_to(server, "/mutate", body)
}

fn post_to(server: &Server, path: &str, body: &Value) -> Value {
    let (status, text) = curl(
        &format!("{}{path}", server.url),
        None,
        "application/json",
        body.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{text}");
    response_of(&text)
}
