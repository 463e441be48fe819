//! UPDATE and DELETE, ephemeral containers, pinning, message limits, ImageReview, the response shape.

use base64::Engine as _;
use serde_json::Value;

use super::*;

#[test]
fn update_judges_only_new_or_changed_images_and_delete_is_allowed() {
    // The kubectl-patch UPDATE: same image before and after → nothing judged.
    let unchanged = request(request_value("update_accept.json"));
    assert!(images_to_judge(&unchanged).is_empty());
    // The same UPDATE where the new template brings a Python image: only that one is judged.
    let mut value = request_value("update_accept.json");
    value["object"]["spec"]["template"]["spec"]["containers"][0]["image"] = "python:3.9".into();
    value["oldObject"]["spec"]["template"]["spec"]["containers"][0]["image"] = "python:3.8".into();
    value["namespace"] = "prod-eu".into();
    let changed = request(value.clone());
    let judged = images_to_judge(&changed);
    assert_eq!(judged.len(), 1);
    assert_eq!(judged[0].image, "python:3.9");
    // A policy change the workload predates: the old image is still there → allowed.
    value["oldObject"]["spec"]["template"]["spec"]["containers"][0]["image"] = "python:3.9".into();
    let predates = request(value);
    let response = validate_response(&predates, &judge(&predates, &policy(), &context()));
    assert!(response.allowed);
    // DELETE with `object` absent and with `object: null`.
    for name in ["delete_accept.json", "PodDeleteRequest.json"] {
        let delete = request(request_value(name));
        assert!(delete.object.is_none(), "{name}");
        assert!(delete.old_object.is_some(), "{name}");
        let response = validate_response(&delete, &judge(&delete, &policy(), &context()));
        assert!(response.allowed, "{name}");
        assert_eq!(response.uid, delete.uid.as_str());
    }
    // The kubernetes/api round-trip fixture (placeholders everywhere) parses and is allowed.
    let text = payload("admission.k8s.io.v1.AdmissionReview.json").to_string();
    let placeholder = AdmissionReview::parse(text.as_bytes()).expect("parses");
    let placeholder = placeholder.request.expect("request");
    assert_eq!(placeholder.dry_run, Some(true));
    assert!(validate_response(&placeholder, &judge(&placeholder, &policy(), &context())).allowed);
}

#[test]
fn ephemeral_container_subresource_update_judges_the_new_container() {
    let mut value = request_value("privileged_ephemeral_container.json");
    value["operation"] = "UPDATE".into();
    value["subResource"] = "ephemeralcontainers".into();
    value["namespace"] = "prod-eu".into();
    let mut old = value["object"].clone();
    if let Some(spec) = old.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove("ephemeralContainers");
    }
    value["oldObject"] = old;
    value["object"]["spec"]["ephemeralContainers"][0]["image"] = "python:3.12".into();
    let request = request(value);
    let judged = images_to_judge(&request);
    assert_eq!(judged.len(), 1);
    assert_eq!(judged[0].slot, ImageSlot::EphemeralContainer);
    assert_eq!(judged[0].pointer, "/spec/ephemeralContainers/0/image");
    let response = validate_response(&request, &judge(&request, &policy(), &context()));
    assert!(!response.allowed);
    assert!(
        response
            .status
            .expect("status")
            .message
            .contains("ephemeral container")
    );
}

fn apply(object: &mut Value, patch_b64: &str) {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(patch_b64)
        .expect("base64");
    let operations: Vec<Value> = serde_json::from_slice(&bytes).expect("json");
    for op in operations {
        assert_eq!(op["op"], "replace");
        let path = op["path"].as_str().expect("path");
        *object.pointer_mut(path).expect("path exists") = op["value"].clone();
    }
}

#[test]
fn mutate_pins_only_the_python_images_and_is_idempotent() {
    let mut value = request_value("pod_creation_with_init_container.json");
    value["object"]["spec"]["initContainers"][0]["image"] = "python:3.12-slim".into();
    value["namespace"] = "prod-eu".into();
    let digest = format!("sha256:{}", "a".repeat(64));
    let policy = policy();
    let mutates = |environment: &str| {
        policy
            .environments
            .get(environment)
            .is_some_and(|e| e.digest)
    };
    let request = request(value.clone());
    let needs = pins_needed(&request, &policy, mutates);
    assert_eq!(needs.len(), 1, "nginx is never touched");
    assert_eq!(
        needs[0].reference.to_string(),
        "docker.io/library/python:3.12-slim"
    );
    let edits: Vec<_> = needs
        .iter()
        .map(|n| (n.image.pointer.clone(), pinned_image(n, &digest)))
        .collect();
    let patch = json_patch(&edits).expect("a patch");
    let mut object = value["object"].clone();
    apply(&mut object, &patch);
    assert_eq!(
        object["spec"]["initContainers"][0]["image"],
        format!("python:3.12-slim@{digest}")
    );
    assert_eq!(object["spec"]["containers"][0]["image"], "nginx");
    // Second pass over the patched object: nothing to pin.
    value["object"] = object;
    assert!(pins_needed(&request_with(value.clone()), &policy, mutates).is_empty());
    // Dev does not require a digest: nothing pinned there; an untagged image gets `:latest@`.
    value["namespace"] = "team-a".into();
    value["object"]["spec"]["initContainers"][0]["image"] = "python".into();
    assert!(pins_needed(&request_with(value.clone()), &policy, mutates).is_empty());
    let forced = pins_needed(&request_with(value), &policy, |_| true);
    assert_eq!(
        pinned_image(&forced[0], &digest),
        format!("python:latest@{digest}")
    );
    assert_eq!(json_patch(&[]), None);
}

fn request_with(value: Value) -> AdmissionRequest<'static> {
    request(value)
}

#[test]
fn a_deny_message_stays_within_the_limit() {
    let mut value = request_value("admission.rs.WEBHOOK_BODY.json");
    let containers: Vec<Value> = (0..300)
        .map(|i| serde_json::json!({"name": format!("c{i}-ü"), "image": format!("python:3.{}", i % 7)}))
        .collect();
    value["object"]["spec"]["containers"] = Value::Array(containers);
    value["namespace"] = "prod-eu".into();
    let request = request(value);
    let response = validate_response(&request, &judge(&request, &policy(), &context()));
    let message = response.status.expect("denied").message;
    assert!(message.len() <= MAX_MESSAGE, "{}", message.len());
    assert!(message.contains("more"), "{message}");
    assert!(response.warnings.len() <= 16);
}

#[test]
fn image_review_ignores_incoming_status_and_honours_break_glass() {
    // The website's request: its second image has a 63-hex digest, not a reference (PY012); the first passes.
    let website = "admission-controllers.md.ImageReview-request.json";
    let review: ImageReview = serde_json::from_value(payload(website)).expect("parses");
    let decision = review_images(&review, &policy(), &context());
    assert!(!decision.status.allowed);
    assert!(decision.status.reason.contains("containers[1]"));
    assert!(!decision.status.reason.contains("containers[0]"));
    // The kubernetes/api placeholder `imageValue` is not a reference (uppercase): PY012 denies it.
    let placeholder = "imagepolicy.k8s.io.v1alpha1.ImageReview.json";
    let review: ImageReview = serde_json::from_value(payload(placeholder)).expect("parses");
    let decision = review_images(&review, &policy(), &context());
    assert!(!decision.status.allowed);
    assert!(
        decision.status.reason.contains("PY012"),
        "{}",
        decision.status.reason
    );
    let mut value = payload("admission-controllers.md.ImageReview-request.json");
    value["spec"]["namespace"] = "prod-eu".into();
    value["spec"]["containers"][0]["image"] = "python:3.9".into();
    value["status"] = serde_json::json!({"allowed": true});
    let review: ImageReview = serde_json::from_value(value.clone()).expect("parses");
    let denied = review_images(&review, &policy(), &context());
    assert!(!denied.status.allowed);
    assert!(denied.status.reason.contains("python:3.9"));
    assert!(denied.break_glass.is_none());
    value["spec"]["annotations"][BREAK_GLASS] = "INC-42 outage".into();
    let review: ImageReview = serde_json::from_value(value).expect("parses");
    let glass = review_images(&review, &policy(), &context());
    assert!(glass.status.allowed);
    assert_eq!(glass.break_glass.as_deref(), Some("INC-42 outage"));
    assert_eq!(
        glass
            .status
            .audit_annotations
            .get("pyimage-break-glass")
            .map(String::as_str),
        Some("INC-42 outage")
    );
    let json = serde_json::to_value(ImageReviewResponse::new(glass.status)).expect("json");
    assert_eq!(json["apiVersion"], "imagepolicy.k8s.io/v1alpha1");
    assert_eq!(
        json["status"]["auditAnnotations"]["pyimage-break-glass"],
        "INC-42 outage"
    );
}

#[test]
fn the_response_is_what_the_api_server_verifies() {
    let request = request(request_value("admission.rs.WEBHOOK_BODY.json"));
    let response = validate_response(&request, &judge(&request, &policy(), &context()));
    let json = serde_json::to_value(AdmissionReviewResponse::new(response)).expect("json");
    assert_eq!(json["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(json["kind"], "AdmissionReview");
    assert_eq!(json["response"]["uid"], request.uid.as_str());
    assert_eq!(json["response"]["allowed"], true);
    assert!(json["response"].get("patch").is_none() && json["response"].get("patchType").is_none());
}

/// The hand-written answer writer against serde_json, byte for byte: the real answers of every kind (allow, deny
/// with its message, patch, warnings, audit annotations) and responses whose every string is arbitrary (quotes,
/// backslashes, every control character, DEL, non-ASCII, strings of every length around the 8-byte steps).
mod answer_bytes {
    use super::*;
    use crate::admission::{AdmissionResponse, Status};
    use proptest::prelude::*;

    fn same_as_serde(response: AdmissionResponse) {
        let wrapped = AdmissionReviewResponse::new(response);
        let expected = serde_json::to_vec(&wrapped).expect("serde_json writes it");
        assert_eq!(
            String::from_utf8_lossy(&wrapped.to_json()),
            String::from_utf8_lossy(&expected)
        );
    }

    #[test]
    fn real_answers_are_written_as_serde_json_writes_them() {
        for (image, namespace) in [
            ("python:3.12-slim", "prod-eu"),
            ("python:3.9-slim", "prod-eu"),
            ("python", "team-a"),
            ("nginx:1.27", "prod-eu"),
        ] {
            let request = with_image(
                "deployment_creation_signed.json",
                "/spec/template/spec/containers/0/image",
                image,
                namespace,
            );
            let response = validate_response(&request, &judge(&request, &policy(), &context()));
            same_as_serde(response);
        }
        same_as_serde(AdmissionResponse {
            uid: "u".into(),
            allowed: true,
            patch: Some("W3sib3AiOiJyZXBsYWNlIn1d".into()),
            patch_type: Some("JSONPatch"),
            warnings: vec!["one".into(), "two \"quoted\"".into()],
            audit_annotations: [("pyimage-break-glass".into(), "INC-42\noutage".into())].into(),
            ..AdmissionResponse::default()
        });
    }

    fn any_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            proptest::collection::vec(
                prop_oneof![
                    (0u8..0x80).prop_map(char::from),
                    Just('é'),
                    Just('\u{2028}')
                ],
                0..40
            )
            .prop_map(|chars| chars.into_iter().collect()),
        ]
    }

    proptest! {
        #[test]
        fn any_strings_are_escaped_as_serde_json_escapes_them(
            uid in any_text(),
            allowed: bool,
            message in proptest::option::of(any_text()),
            code: u16,
            patch in proptest::option::of(any_text()),
            warnings in proptest::collection::vec(any_text(), 0..3),
            annotations in proptest::collection::btree_map(any_text(), any_text(), 0..3),
        ) {
            same_as_serde(AdmissionResponse {
                uid,
                allowed,
                status: message.map(|message| Status {
                    status: "Failure",
                    code,
                    reason: "Forbidden",
                    message,
                }),
                patch_type: patch.as_ref().map(|_| "JSONPatch"),
                patch,
                warnings,
                audit_annotations: annotations,
            });
        }
    }
}
