//! `POST /imagepolicy` and `/imagepolicy/{environment}`: ImageReview v1alpha1 from the Kubernetes documentation and
//! the kubernetes/api round-trip fixture — the documented example's short digest is refused, the request's own
//! `status` is ignored, a denial names the container, the break-glass annotation lets a denied image through and
//! is recorded.

use serde_json::Value;

use crate::support::{PROD_NAMESPACES, payload, served};

const DOCUMENTED: &str = "kubernetes-website/admission-controllers.md.ImageReview-request.json";

async fn image_review(server: &crate::support::Served, path: &str, body: &Value) -> Value {
    let answer = server
        .send(
            "POST",
            path,
            "application/json",
            body.to_string().into_bytes(),
        )
        .await;
    assert_eq!(answer.status, 200, "{path}: {}", answer.text());
    let value = answer.json();
    assert_eq!(
        value["apiVersion"], "imagepolicy.k8s.io/v1alpha1",
        "{value}"
    );
    assert_eq!(value["kind"], "ImageReview", "{value}");
    value
}

#[tokio::test]
async fn image_reviews_are_judged_and_break_glass_is_honoured_and_counted() {
    let server = served(PROD_NAMESPACES, None);
    // As documented: the second image's digest has 63 hex digits, one short — not a valid reference, denied.
    let documented = payload(DOCUMENTED);
    let answer = image_review(&server, "/imagepolicy", &documented).await;
    assert_eq!(answer["status"]["allowed"], false, "{answer}");
    let reason = answer["status"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("containers[1] image myrepo/myimage@sha256:beb6")
            && reason.contains("PY012")
            && reason.contains("invalid checksum digest length"),
        "{reason}"
    );
    // An end-of-life Python in a prod namespace: denied, whatever the request's own status says.
    let mut value = documented.clone();
    value["spec"]["namespace"] = "prod-eu".into();
    value["spec"]["annotations"] = serde_json::json!({});
    value["spec"]["containers"] =
        serde_json::json!([{"image": "python:3.9"}, {"image": "nginx:1.27"}]);
    value["status"] = serde_json::json!({"allowed": true});
    let answer = image_review(&server, "/imagepolicy", &value).await;
    assert_eq!(
        answer["status"]["allowed"], false,
        "the request's status is ignored: {answer}"
    );
    let reason = answer["status"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("containers[0] image python:3.9"),
        "{reason}"
    );
    // Break-glass: allowed, the reason recorded in the audit annotations and counted.
    value["spec"]["annotations"]["break-glass.image-policy.k8s.io/pyimage"] =
        "INC-1234 outage".into();
    let answer = image_review(&server, "/imagepolicy", &value).await;
    assert_eq!(answer["status"]["allowed"], true, "{answer}");
    assert_eq!(
        answer["status"]["auditAnnotations"]["pyimage-break-glass"],
        "INC-1234 outage"
    );
    let metrics = server.metrics().await;
    assert!(metrics.contains("pyimage_break_glass_total 1"), "{metrics}");
    for (decision, count) in [("deny", 2), ("break-glass", 1)] {
        assert!(
            metrics.contains(&format!(
                "pyimage_admission_requests_total{{endpoint=\"imagepolicy\",decision=\"{decision}\"}} {count}"
            )),
            "{decision}: {metrics}"
        );
    }
}

#[tokio::test]
async fn the_environment_path_forces_prod_on_an_image_review() {
    let server = served(PROD_NAMESPACES, None);
    let mut value = payload(DOCUMENTED);
    value["spec"]["annotations"] = serde_json::json!({});
    value["spec"]["containers"] = serde_json::json!([{"image": "python:3.12"}]);
    let dev = image_review(&server, "/imagepolicy", &value).await;
    assert_eq!(dev["status"]["allowed"], true, "mynamespace is dev: {dev}");
    let prod = image_review(&server, "/imagepolicy/prod", &value).await;
    assert_eq!(prod["status"]["allowed"], false, "{prod}");
    let unknown = server
        .send(
            "POST",
            "/imagepolicy/qa",
            "application/json",
            value.to_string().into_bytes(),
        )
        .await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn the_round_trip_fixture_with_every_field_is_read() {
    // kubernetes/api's fixture sets metadata, a status and placeholder images: read, judged, answered.
    let server = served(PROD_NAMESPACES, None);
    let value = payload("kubernetes-api/imagepolicy.k8s.io.v1alpha1.ImageReview.json");
    let answer = image_review(&server, "/imagepolicy", &value).await;
    assert!(answer["status"]["allowed"].is_boolean(), "{answer}");
}

/// A break-glass annotation with no reason in it (empty, spaces, a tab and a newline) is no reason: the denied image
/// stays denied, and the denial says the annotation needs one.
#[tokio::test]
async fn a_blank_break_glass_reason_does_not_let_a_denied_image_through() {
    let server = served(PROD_NAMESPACES, None);
    let mut value = payload(DOCUMENTED);
    value["spec"]["namespace"] = "prod-eu".into();
    value["spec"]["containers"] = serde_json::json!([{"image": "python:3.9"}]);
    for blank in ["", "   ", "\t\n "] {
        value["spec"]["annotations"] =
            serde_json::json!({"break-glass.image-policy.k8s.io/pyimage": blank});
        let answer = image_review(&server, "/imagepolicy", &value).await;
        assert_eq!(answer["status"]["allowed"], false, "{blank:?}: {answer}");
        let reason = answer["status"]["reason"].as_str().unwrap();
        assert!(
            reason.contains("containers[0] image python:3.9")
                && reason.contains("break-glass annotation has no reason"),
            "{reason}"
        );
    }
    let metrics = server.metrics().await;
    assert!(
        !metrics.contains("pyimage_break_glass_total 1"),
        "{metrics}"
    );
}

/// ImageReviews get the page's shape check too: the ImagePolicyWebhook plugin always names the Pod's namespace,
/// sends at least one container, each with an image, only annotations of the `*.image-policy.k8s.io/*` form (it
/// filters the Pod's), and its own zero status. A review invented without that shape is answered but not recorded,
/// so it cannot push the real decisions off the page.
#[tokio::test]
async fn only_plugin_shaped_image_reviews_are_recorded() {
    let server = served(PROD_NAMESPACES, None);
    let shaped = |image: &str| {
        let mut value = payload(DOCUMENTED);
        value["spec"]["namespace"] = "prod-eu".into();
        value["spec"]["containers"] = serde_json::json!([{ "image": image }]);
        value["status"] = serde_json::json!({"allowed": false});
        value
    };
    let real = shaped("python:3.9-slim");
    assert_eq!(
        image_review(&server, "/imagepolicy", &real).await["status"]["allowed"],
        false
    );
    let mut no_namespace = shaped("python:3.8-slim");
    no_namespace["spec"]
        .as_object_mut()
        .unwrap()
        .remove("namespace");
    let mut other_annotations = shaped("python:3.7-slim");
    other_annotations["spec"]["annotations"] = serde_json::json!({"team": "shop"});
    let mut empty_image = shaped("python:3.6-slim");
    empty_image["spec"]["containers"] =
        serde_json::json!([{ "image": "python:3.6-slim" }, { "image": "" }]);
    let mut claims_allowed = shaped("python:3.5-slim");
    claims_allowed["status"] = serde_json::json!({"allowed": true, "reason": "trust me"});
    for forged in [
        &no_namespace,
        &other_annotations,
        &empty_image,
        &claims_allowed,
    ] {
        // Answered as any review is.
        image_review(&server, "/imagepolicy", forged).await;
    }
    let html = server.get("/").await.text();
    assert!(html.contains("python:3.9-slim"), "the real review is shown");
    for invented in [
        "python:3.8-slim",
        "python:3.7-slim",
        "python:3.6-slim",
        "python:3.5-slim",
    ] {
        assert!(!html.contains(invented), "{invented} (invented) is shown");
    }
}
