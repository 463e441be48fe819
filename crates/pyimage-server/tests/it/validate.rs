//! `POST /validate` and `/validate/{environment}` on the real admission payloads: every workload kind as captured
//! (third-party images: allowed, uid echoed, never a patch), an end-of-life Python without a digest in a prod
//! namespace (denied, naming what matters), normalized names, look-alikes, dryRun, warnings in dev, UPDATE with
//! oldObject, DELETE, `kubectl debug`, and forced environments.

use serde_json::Value;

use crate::support::{PROD_NAMESPACES, payload, review, served, with_image};

/// One payload per workload kind the webhook reads images from.
pub const KINDS: [&str; 9] = [
    "kube-rs/admission.rs.WEBHOOK_BODY.json",
    "kubewarden-policies/verify-image-signatures/pod_creation_with_init_container.json",
    "kubewarden-policies/verify-image-signatures/deployment_creation_signed.json",
    "kubewarden-policies/verify-image-signatures/statefulset_creation_signed.json",
    "kubewarden-policies/verify-image-signatures/daemonset_creation_signed.json",
    "kubewarden-policies/verify-image-signatures/replicaset_creation_signed.json",
    "kubewarden-policies/verify-image-signatures/replicationcontroller_creation_signed.json",
    "kubewarden-policies/trusted-repos-policy/job_creation.json",
    "kubewarden-policies/trusted-repos-policy/cronjob_creation.json",
];

const POD: &str = "kube-rs/admission.rs.WEBHOOK_BODY.json";

fn message(response: &Value) -> &str {
    response["status"]["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn every_workload_kind_is_judged_and_a_prod_namespace_denies_an_old_floating_python() {
    let server = served(PROD_NAMESPACES, None);
    for name in KINDS {
        // As captured: third-party images, no policy on them → allowed, uid echoed.
        let original = review(name);
        let response = server.review("/validate", &original).await;
        assert_eq!(response["uid"], original["request"]["uid"], "{name}");
        assert_eq!(response["allowed"], true, "{name}: {response}");
        assert!(
            response.get("patch").is_none(),
            "{name}: a validating answer never patches"
        );
        // An end-of-life Python without a digest in a prod namespace: denied, naming all that matters.
        let denied = server
            .review("/validate", &with_image(name, "python:3.9-slim", "prod-eu"))
            .await;
        assert_eq!(denied["allowed"], false, "{name}: {denied}");
        assert_eq!(denied["status"]["code"], 403);
        let kind = original["request"]["kind"]["kind"].as_str().unwrap();
        for part in [
            kind,
            "prod-eu",
            "image python:3.9-slim",
            "PY004",
            "PY006",
            "Fix:",
        ] {
            assert!(
                message(&denied).contains(part),
                "{name}: {part:?} not in {}",
                message(&denied)
            );
        }
    }
    let metrics = server.metrics().await;
    assert!(
        metrics.contains(
            "pyimage_admission_requests_total{endpoint=\"validate\",decision=\"deny\"} 9"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "pyimage_admission_requests_total{endpoint=\"validate\",decision=\"allow\"} 9"
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn names_are_normalized_look_alikes_are_not_python_and_dry_run_changes_nothing() {
    let server = served(PROD_NAMESPACES, None);
    // In prod, python:3.12 is a floating tag without a digest: PY003 (floating) and PY004 (no digest), by the
    // policy's prod environment (exact tag and digest required) — the same however the name is written.
    for same in [
        "python:3.12",
        "docker.io/python:3.12",
        "index.docker.io/library/python:3.12",
    ] {
        let response = server
            .review("/validate", &with_image(POD, same, "prod-eu"))
            .await;
        assert_eq!(response["allowed"], false, "{same}: {response}");
        assert!(message(&response).contains("PY004"), "{same}: {response}");
    }
    let evil = server
        .review(
            "/validate",
            &with_image(POD, "docker.io/library/python-evil:3.12", "team-a"),
        )
        .await;
    assert!(message(&evil).contains("PY005"), "{evil}");
    let denied = server
        .review("/validate", &with_image(POD, "python:3.12", "prod-eu"))
        .await;
    let mut dry = with_image(POD, "python:3.12", "prod-eu");
    dry["request"]["dryRun"] = true.into();
    assert_eq!(
        server.review("/validate", &dry).await["status"],
        denied["status"]
    );
    // The kubernetes/api round-trip fixture sets every field (dryRun, oldObject, options…) on a custom kind with
    // no containers: nothing to judge, allowed, its uid echoed.
    let every_field = payload("kubernetes-api/admission.k8s.io.v1.AdmissionReview.json");
    let response = server.review("/validate", &every_field).await;
    assert_eq!(response["uid"], "uidValue", "{response}");
    assert_eq!(response["allowed"], true, "{response}");
}

#[tokio::test]
async fn a_dev_namespace_warns_in_at_most_120_characters() {
    let server = served(PROD_NAMESPACES, None);
    let warned = server
        .review("/validate", &with_image(POD, "python", "team-a"))
        .await;
    assert_eq!(warned["allowed"], true, "{warned}");
    let warnings = warned["warnings"].as_array().unwrap();
    assert!(!warnings.is_empty(), "{warned}");
    for warning in warnings {
        let warning = warning.as_str().unwrap();
        assert!(warning.chars().count() <= 120, "{warning}");
    }
}

#[tokio::test]
async fn update_delete_and_kubectl_debug() {
    let server = served(PROD_NAMESPACES, None);
    // The kubectl-patch UPDATE, moved to a prod namespace: the image predates the policy → allowed.
    let mut update = review("kubewarden-policies/echo/update_accept.json");
    update["request"]["namespace"] = "prod-eu".into();
    for side in ["object", "oldObject"] {
        update["request"][side]["spec"]["template"]["spec"]["containers"][0]["image"] =
            "python:3.9".into();
    }
    assert_eq!(
        server.review("/validate", &update).await["allowed"],
        true,
        "an image already running is not judged again"
    );
    // The new template brings another Python image: judged, denied, naming only the new one.
    update["request"]["object"]["spec"]["template"]["spec"]["containers"][0]["image"] =
        "python:3.10".into();
    let changed = server.review("/validate", &update).await;
    assert_eq!(changed["allowed"], false, "{changed}");
    assert!(
        message(&changed).contains("python:3.10") && !message(&changed).contains("python:3.9"),
        "{changed}"
    );
    // DELETE with `object` absent and with `object: null`: allowed.
    for name in [
        "kubewarden-policies/echo/delete_accept.json",
        "kubewarden-policies/pod-runtime-class-policy/PodDeleteRequest.json",
    ] {
        let mut delete = review(name);
        delete["request"]["namespace"] = "prod-eu".into();
        let response = server.review("/validate", &delete).await;
        assert_eq!(response["allowed"], true, "{name}: {response}");
        assert_eq!(response["uid"], delete["request"]["uid"]);
    }
    // kubectl debug: UPDATE of pods/ephemeralcontainers adding one container to the Pod.
    let mut debug =
        review("kubewarden-policies/pod-privileged-policy/privileged_ephemeral_container.json");
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
    let response = server.review("/validate", &debug).await;
    assert_eq!(response["allowed"], false, "{response}");
    assert!(
        message(&response).contains("ephemeral container"),
        "{response}"
    );
}

#[tokio::test]
async fn the_environment_path_forces_an_environment_and_an_unknown_one_is_404() {
    let server = served(PROD_NAMESPACES, None);
    let body = with_image(POD, "python:3.12", "team-a");
    assert_eq!(
        server.review("/validate", &body).await["allowed"],
        true,
        "team-a is dev"
    );
    let forced = server.review("/validate/prod", &body).await;
    assert_eq!(forced["allowed"], false, "{forced}");
    assert!(message(&forced).contains("PY004"), "{forced}");
    let unknown = server
        .send(
            "POST",
            "/validate/staging",
            "application/json",
            body.to_string().into_bytes(),
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.text());
    assert!(unknown.text().contains("staging"), "{}", unknown.text());
    assert!(
        server
            .metrics()
            .await
            .contains("pyimage_errors_total{kind=\"environment\"} 1")
    );
}
