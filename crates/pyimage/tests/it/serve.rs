//! `pyimage serve` as a process: the real binary over TLS (an openssl-made CA, curl), a decision on a real admission
//! payload, the same rules as `pyimage check` for the same image, and a graceful stop on SIGTERM. What each endpoint
//! decides — every workload kind, UPDATE, DELETE, ephemeral containers, forced environments, ImageReview and
//! break-glass, malformed and oversized bodies, deadlines — is tested in process by pyimage-server's own tests.

use serde_json::Value;

use crate::serve_support::{Certs, Server, curl, curl_get, response_of, review, write};
use crate::support::{json, pyimage, tempdir};

const CONFIG: &str = "[[namespaces]]\nmatch = \"prod-*\"\nenvironment = \"prod\"\n";

/// The kube-rs capture (a Pod CREATE from a GKE cluster) with its first image replaced and the namespace set.
fn pod_with_image(image: &str, namespace: &str) -> Value {
    let mut value = review("kube-rs/admission.rs.WEBHOOK_BODY.json");
    let request = &mut value["request"];
    request["namespace"] = namespace.into();
    request["object"]["spec"]["containers"][0]["image"] = image.into();
    value
}

#[test]
fn serves_over_tls_decides_as_check_does_and_stops_on_sigterm() {
    let dir = tempdir("serve-tls");
    let certs = Certs::new(dir.path());
    let config = write(dir.path(), "pyimage.toml", CONFIG);
    let cert = certs.cert.to_str().unwrap();
    let key = certs.key.to_str().unwrap();
    let server = Server::start(&config, &["--tls-cert", cert, "--tls-key", key]);
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let post = |path: &str, body: &Value| {
        let (status, text) = curl(
            &format!("{}{path}", server.url),
            Some(&certs.ca),
            "application/json",
            body.to_string().as_bytes(),
        );
        assert_eq!(status, 200, "{path}: {text}");
        response_of(&text)
    };
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
    let original = pod_with_image("python:3.12", "prod-eu");
    let denied = post("/validate", &original);
    assert_eq!(denied["uid"], original["request"]["uid"]);
    assert_eq!(denied["allowed"], false, "{denied}");
    let message = denied["status"]["message"].as_str().unwrap();
    let mut served: Vec<String> = message
        .match_indices("PY0")
        .map(|(at, _)| message[at..at + 5].to_owned())
        .collect();
    served.sort();
    served.dedup();
    assert!(!served.is_empty(), "{message}");
    assert_eq!(served, check_rules, "{message}");
    // Health and readiness over TLS.
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

#[test]
fn without_a_certificate_it_serves_plain_http_and_says_so() {
    let dir = tempdir("serve-plain");
    let config = write(dir.path(), "pyimage.toml", CONFIG);
    let server = Server::start(&config, &[]);
    assert!(server.url.starts_with("http://"), "{}", server.url);
    assert!(server.log().contains("plain HTTP"), "{}", server.log());
    assert_eq!(
        curl_get(&format!("{}/healthz", server.url), None),
        (200, "ok".to_owned())
    );
}

/// The break-glass reason is the requester's text: in the log it is one line (a newline cannot start a forged
/// line), escape sequences are shown, not sent to the terminal, and a 2 MB reason is cut.
#[test]
fn a_break_glass_reason_is_logged_escaped_and_capped() {
    let dir = tempdir("serve-break-glass");
    let config = write(dir.path(), "pyimage.toml", CONFIG);
    let server = Server::start(&config, &[]);
    let mut reason = String::from("INC-1\nFORGED level=ERROR \u{1b}[2J\u{202e}evil ");
    reason.push_str(&"x".repeat(2 * 1024 * 1024));
    let review = serde_json::json!({
        "apiVersion": "imagepolicy.k8s.io/v1alpha1",
        "kind": "ImageReview",
        "spec": {
            "containers": [{"image": "python:3.9"}],
            "annotations": {"break-glass.image-policy.k8s.io/pyimage": reason},
            "namespace": "prod-eu"
        }
    });
    let (status, body) = curl(
        &format!("{}/imagepolicy", server.url),
        None,
        "application/json",
        review.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(response_status_allowed(&body), Some(true), "{body}");
    let (_, log) = server.terminate();
    let line = log
        .lines()
        .find(|line| line.contains("images the policy denies were allowed"))
        .unwrap_or_else(|| panic!("no break-glass line:\n{log}"));
    assert!(line.contains("INC-1\\nFORGED"), "{line}");
    assert!(
        !log.lines().any(|l| l.starts_with("FORGED")),
        "a forged line"
    );
    assert!(
        !log.contains('\u{1b}') && !log.contains('\u{202e}'),
        "raw escapes"
    );
    assert!(line.len() < 2048, "a {} byte log line", line.len());
}

fn response_status_allowed(body: &str) -> Option<bool> {
    let value: Value = serde_json::from_str(body).ok()?;
    value["status"]["allowed"].as_bool()
}
