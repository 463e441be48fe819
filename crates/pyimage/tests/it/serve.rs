//! `pyimage serve` validating and ImageReview decisions: the real binary over TLS (openssl-made CA, curl), the
//! real admission payloads (pyimage-policy/tests/data/admission), exact decisions compared with `pyimage check`,
//! UPDATE with oldObject, DELETE, dry-run, ephemeral containers, forced environments, break-glass, bad bodies.

use serde_json::Value;

use crate::serve_support::{Certs, Server, curl, curl_get, payload, response_of, review, write};
use crate::support::{json, pyimage, tempdir};

const CONFIG: &str = "[[namespaces]]\nmatch = \"prod-*\"\nenvironment = \"prod\"\n";

/// The review with the first image of the object replaced and the namespace set.
fn with_image(name: &str, image: &str, namespace: &str) -> Value {
    let mut value = review(name);
    let request = &mut value["request"];
    request["namespace"] = namespace.into();
    let kind = request["kind"]["kind"].as_str().unwrap().to_owned();
    let prefix = match kind.as_str() {
        "Pod" => "/spec",
        "CronJob" => "/spec/jobTemplate/spec/template/spec",
        _ => "/spec/template/spec",
    };
    *request["object"]
        .pointer_mut(&format!("{prefix}/containers/0/image"))
        .unwrap() = image.into();
    value
}

fn post(server: &Server, certs: &Certs, path: &str, body: &Value) -> Value {
    let (status, text) = curl(
        &format!("{}{path}", server.url),
        Some(&certs.ca),
        "application/json",
        body.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{path}: {text}");
    response_of(&text)
}

const KINDS: [&str; 9] = [
    "admission.rs.WEBHOOK_BODY.json",
    "pod_creation_with_init_container.json",
    "deployment_creation_signed.json",
    "statefulset_creation_signed.json",
    "daemonset_creation_signed.json",
    "replicaset_creation_signed.json",
    "replicationcontroller_creation_signed.json",
    "job_creation.json",
    "cronjob_creation.json",
];

#[test]
fn validate_decides_every_real_payload_over_tls_as_check_does() {
    let dir = tempdir("serve-validate");
    let certs = Certs::new(dir.path());
    let config = write(dir.path(), "pyimage.toml", CONFIG);
    let cert = certs.cert.to_str().unwrap();
    let key = certs.key.to_str().unwrap();
    let server = Server::start(&config, &["--tls-cert", cert, "--tls-key", key]);
    assert!(server.url.starts_with("https://"), "{}", server.url);
    for name in KINDS {
        // As captured: third-party images, no policy on them → allowed, uid echoed.
        let original = review(name);
        let response = post(&server, &certs, "/validate", &original);
        assert_eq!(response["uid"], original["request"]["uid"], "{name}");
        assert_eq!(response["allowed"], true, "{name}: {response}");
        assert!(
            response.get("patch").is_none(),
            "a validating answer never patches"
        );
        // With an end-of-life Python without a digest in a prod namespace: denied, naming all that matters.
        let denied = post(
            &server,
            &certs,
            "/validate",
            &with_image(name, "python:3.9-slim", "prod-eu"),
        );
        assert_eq!(denied["allowed"], false, "{name}: {denied}");
        assert_eq!(denied["status"]["code"], 403);
        let message = denied["status"]["message"].as_str().unwrap();
        let kind = original["request"]["kind"]["kind"].as_str().unwrap();
        for part in [
            kind,
            "prod-eu",
            "image python:3.9-slim",
            "PY004",
            "PY006",
            "Fix:",
        ] {
            assert!(message.contains(part), "{name}: {part:?} not in {message}");
        }
    }
    // Exactly the rules `pyimage check --env prod` reports for the same image.
    let manifest = write(
        dir.path(),
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: app\n      image: python:3.12\n",
    );
    let checked = pyimage().today().config(&config).run(&[
        "check",
        "--env",
        "prod",
        "--format",
        "json",
        manifest.to_str().unwrap(),
    ]);
    let mut check_rules: Vec<String> = json(&checked)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect();
    check_rules.sort();
    let denied = post(
        &server,
        &certs,
        "/validate",
        &with_image(KINDS[0], "python:3.12", "prod-eu"),
    );
    let message = denied["status"]["message"].as_str().unwrap();
    let mut served: Vec<String> = message
        .match_indices("PY0")
        .map(|(at, _)| message[at..at + 5].to_owned())
        .collect();
    served.sort();
    served.dedup();
    assert_eq!(served, check_rules, "{message}");
    // Normalised names: the same image however written; look-alikes are not python.
    for same in [
        "docker.io/python:3.12",
        "index.docker.io/library/python:3.12",
    ] {
        let other = post(
            &server,
            &certs,
            "/validate",
            &with_image(KINDS[0], same, "prod-eu"),
        );
        assert_eq!(other["allowed"], false, "{same}");
        assert!(
            other["status"]["message"]
                .as_str()
                .unwrap()
                .contains("PY004")
        );
    }
    let evil = post(
        &server,
        &certs,
        "/validate",
        &with_image(KINDS[0], "docker.io/library/python-evil:3.12", "team-a"),
    );
    assert!(
        evil["status"]["message"]
            .as_str()
            .unwrap()
            .contains("PY005"),
        "{evil}"
    );
    // dryRun: the same answer.
    let mut dry = with_image(KINDS[0], "python:3.12", "prod-eu");
    dry["request"]["dryRun"] = true.into();
    assert_eq!(
        post(&server, &certs, "/validate", &dry)["status"],
        denied["status"]
    );
    // A dev namespace with an untagged image: allowed, with warnings of at most 120 characters.
    let warned = post(
        &server,
        &certs,
        "/validate",
        &with_image(KINDS[0], "python", "team-a"),
    );
    assert_eq!(warned["allowed"], true);
    let warnings = warned["warnings"].as_array().unwrap();
    assert!(!warnings.is_empty());
    assert!(
        warnings
            .iter()
            .all(|w| w.as_str().unwrap().chars().count() <= 120)
    );
    // A forced environment: /validate/prod denies in any namespace; an unknown one is 404.
    let forced = post(
        &server,
        &certs,
        "/validate/prod",
        &with_image(KINDS[0], "python:3.12", "team-a"),
    );
    assert_eq!(forced["allowed"], false);
    let (status, _) = curl(
        &format!("{}/validate/staging", server.url),
        Some(&certs.ca),
        "application/json",
        b"{}",
    );
    assert_eq!(status, 404);
    update_delete_and_ephemeral(&server, &certs);
    image_review_and_break_glass(&server, &certs);
    // Content type and malformed bodies.
    let url = format!("{}/validate", server.url);
    assert_eq!(curl(&url, Some(&certs.ca), "text/plain", b"{}").0, 415);
    assert_eq!(
        curl(
            &url,
            Some(&certs.ca),
            "application/json",
            b"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}"
        )
        .0,
        400
    );
    assert_eq!(curl(&url, Some(&certs.ca), "application/json", b"{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"x\"}}").0, 400);
    let (status, metrics) = curl_get(&format!("{}/metrics", server.url), Some(&certs.ca));
    assert_eq!(status, 200);
    assert!(
        metrics
            .contains("pyimage_admission_requests_total{endpoint=\"validate\",decision=\"deny\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("pyimage_break_glass_total 1"), "{metrics}");
    assert!(
        metrics.contains("pyimage_errors_total{kind=\"content-type\"} 1"),
        "{metrics}"
    );
    assert_eq!(
        curl_get(&format!("{}/readyz", server.url), Some(&certs.ca)),
        (200, "ready".to_owned())
    );
    // SIGTERM: a graceful stop.
    let (status, log) = server.terminate();
    assert!(status.success(), "{status}: {log}");
    assert!(log.contains("pyimage serve: stopped"), "{log}");
    assert!(!log.contains("plain HTTP"), "{log}");
}

fn update_delete_and_ephemeral(server: &Server, certs: &Certs) {
    // The kubectl-patch UPDATE, moved to a prod namespace: the image predates the policy → allowed.
    let mut update = review("update_accept.json");
    update["request"]["namespace"] = "prod-eu".into();
    for side in ["object", "oldObject"] {
        update["request"][side]["spec"]["template"]["spec"]["containers"][0]["image"] =
            "python:3.9".into();
    }
    assert_eq!(post(server, certs, "/validate", &update)["allowed"], true);
    // The new template brings another Python image: judged, denied.
    update["request"]["object"]["spec"]["template"]["spec"]["containers"][0]["image"] =
        "python:3.10".into();
    let changed = post(server, certs, "/validate", &update);
    assert_eq!(changed["allowed"], false);
    let message = changed["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("python:3.10") && !message.contains("python:3.9"),
        "{message}"
    );
    // DELETE with `object` absent and with `object: null`: allowed.
    for name in ["delete_accept.json", "PodDeleteRequest.json"] {
        let mut delete = review(name);
        delete["request"]["namespace"] = "prod-eu".into();
        let response = post(server, certs, "/validate", &delete);
        assert_eq!(response["allowed"], true, "{name}");
        assert_eq!(response["uid"], delete["request"]["uid"]);
    }
    // kubectl debug: UPDATE of pods/ephemeralcontainers adding one container to the Pod.
    let mut debug = review("privileged_ephemeral_container.json");
    let request = &mut debug["request"];
    request["operation"] = "UPDATE".into();
    request["subResource"] = "ephemeralcontainers".into();
    request["namespace"] = "prod-eu".into();
    let mut old = request["object"].clone();
    old["spec"]
        .as_object_mut()
        .unwrap()
        .remove("ephemeralContainers");
    request["oldObject"] = old;
    request["object"]["spec"]["ephemeralContainers"][0]["image"] = "python:3.12".into();
    let response = post(server, certs, "/validate", &debug);
    assert_eq!(response["allowed"], false);
    assert!(
        response["status"]["message"]
            .as_str()
            .unwrap()
            .contains("ephemeral container")
    );
}

fn image_review_and_break_glass(server: &Server, certs: &Certs) {
    let mut value = payload("admission-controllers.md.ImageReview-request.json");
    value["spec"]["namespace"] = "prod-eu".into();
    value["spec"]["containers"] =
        serde_json::json!([{"image": "python:3.9"}, {"image": "nginx:1.27"}]);
    value["status"] = serde_json::json!({"allowed": true});
    let url = format!("{}/imagepolicy", server.url);
    let (status, body) = curl(
        &url,
        Some(&certs.ca),
        "application/json",
        value.to_string().as_bytes(),
    );
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["apiVersion"], "imagepolicy.k8s.io/v1alpha1");
    assert_eq!(
        answer["status"]["allowed"], false,
        "the request's status is ignored"
    );
    assert!(
        answer["status"]["reason"]
            .as_str()
            .unwrap()
            .contains("containers[0] image python:3.9")
    );
    value["spec"]["annotations"]["break-glass.image-policy.k8s.io/pyimage"] =
        "INC-1234 outage".into();
    let (_, body) = curl(
        &url,
        Some(&certs.ca),
        "application/json",
        value.to_string().as_bytes(),
    );
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["status"]["allowed"], true);
    assert_eq!(
        answer["status"]["auditAnnotations"]["pyimage-break-glass"],
        "INC-1234 outage"
    );
    assert!(server.log().contains("break-glass"), "{}", server.log());
}

#[test]
fn a_thousand_malformed_bodies_leave_the_server_healthy() {
    let dir = tempdir("serve-malformed");
    let config = write(dir.path(), "pyimage.toml", CONFIG);
    let server = Server::start(&config, &[]);
    assert!(server.log().contains("plain HTTP"), "{}", server.log());
    let url = server.url.clone();
    let bodies: Vec<Vec<u8>> = (0..1000)
        .map(|i| match i % 5 {
            0 => b"{".to_vec(),
            1 => format!("{{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{{\"uid\":{i}}}}}").into_bytes(),
            2 => vec![0xff, 0xfe, i as u8],
            3 => b"[]".to_vec(),
            _ => b"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":null}".to_vec(),
        })
        .collect();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let statuses: Vec<u16> = runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut tasks = tokio::task::JoinSet::new();
        for (i, body) in bodies.into_iter().enumerate() {
            let client = client.clone();
            let endpoint = ["validate", "mutate", "imagepolicy"][i % 3];
            let url = format!("{url}/{endpoint}");
            tasks.spawn(async move {
                client
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            });
        }
        tasks.join_all().await
    });
    assert_eq!(statuses.len(), 1000);
    assert!(
        statuses.iter().all(|s| *s == 400),
        "{:?}",
        statuses.iter().filter(|s| **s != 400).collect::<Vec<_>>()
    );
    assert_eq!(
        curl_get(&format!("{}/healthz", server.url), None),
        (200, "ok".to_owned())
    );
    let (_, metrics) = curl_get(&format!("{}/metrics", server.url), None);
    assert!(
        metrics.contains("pyimage_errors_total{kind=\"malformed\"} 1000"),
        "{metrics}"
    );
    // A body over the cap is refused, and the server stays up.
    let big = vec![b' '; pyimage_server_max_body() + 1];
    let (status, _) = curl(
        &format!("{}/validate", server.url),
        None,
        "application/json",
        &big,
    );
    assert_eq!(status, 413);
    assert_eq!(curl_get(&format!("{}/healthz", server.url), None).0, 200);
}

fn pyimage_server_max_body() -> usize {
    8 * 1024 * 1024
}
