//! The admission decisions over the real payloads of `tests/data/admission/` (SOURCES.md names each source).

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::Value;

use super::*;
use crate::check::{
    CheckContext, Date, FileKind, NamespaceRule, Origin, Policy, SiteKind, check_file,
    evaluate_reference,
};
use crate::dockerfile::ScanOptions;

/// The payloads, compiled in (the core reads no files, not even in tests).
const PAYLOADS: &[(&str, &str)] = &[
    (
        "PodDeleteRequest.json",
        include_str!("../../tests/data/admission/PodDeleteRequest.json"),
    ),
    (
        "admission-controllers.md.ImageReview-request.json",
        include_str!(
            "../../tests/data/admission/admission-controllers.md.ImageReview-request.json"
        ),
    ),
    (
        "admission.k8s.io.v1.AdmissionReview.json",
        include_str!("../../tests/data/admission/admission.k8s.io.v1.AdmissionReview.json"),
    ),
    (
        "admission.rs.WEBHOOK_BODY.json",
        include_str!("../../tests/data/admission/admission.rs.WEBHOOK_BODY.json"),
    ),
    (
        "cronjob_creation.json",
        include_str!("../../tests/data/admission/cronjob_creation.json"),
    ),
    (
        "daemonset_creation_signed.json",
        include_str!("../../tests/data/admission/daemonset_creation_signed.json"),
    ),
    (
        "delete_accept.json",
        include_str!("../../tests/data/admission/delete_accept.json"),
    ),
    (
        "deployment_creation_signed.json",
        include_str!("../../tests/data/admission/deployment_creation_signed.json"),
    ),
    (
        "imagepolicy.k8s.io.v1alpha1.ImageReview.json",
        include_str!("../../tests/data/admission/imagepolicy.k8s.io.v1alpha1.ImageReview.json"),
    ),
    (
        "job_creation.json",
        include_str!("../../tests/data/admission/job_creation.json"),
    ),
    (
        "pod_creation.json",
        include_str!("../../tests/data/admission/pod_creation.json"),
    ),
    (
        "pod_creation_implicit_latest.json",
        include_str!("../../tests/data/admission/pod_creation_implicit_latest.json"),
    ),
    (
        "pod_creation_latest.json",
        include_str!("../../tests/data/admission/pod_creation_latest.json"),
    ),
    (
        "pod_creation_with_digest.json",
        include_str!("../../tests/data/admission/pod_creation_with_digest.json"),
    ),
    (
        "pod_creation_with_init_container.json",
        include_str!("../../tests/data/admission/pod_creation_with_init_container.json"),
    ),
    (
        "privileged_ephemeral_container.json",
        include_str!("../../tests/data/admission/privileged_ephemeral_container.json"),
    ),
    (
        "replicaset_creation_signed.json",
        include_str!("../../tests/data/admission/replicaset_creation_signed.json"),
    ),
    (
        "replicationcontroller_creation_signed.json",
        include_str!("../../tests/data/admission/replicationcontroller_creation_signed.json"),
    ),
    (
        "statefulset_creation_signed.json",
        include_str!("../../tests/data/admission/statefulset_creation_signed.json"),
    ),
    (
        "unprivileged-pod-admission-review.json",
        include_str!("../../tests/data/admission/unprivileged-pod-admission-review.json"),
    ),
    (
        "update_accept.json",
        include_str!("../../tests/data/admission/update_accept.json"),
    ),
];

fn payload(name: &str) -> Value {
    let (_, text) = PAYLOADS
        .iter()
        .find(|(file, _)| *file == name)
        .unwrap_or_else(|| panic!("no payload {name}"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The request of a payload, wrapped (kube-rs, kwctl) or bare (kubewarden policies).
fn request_value(name: &str) -> Value {
    let value = payload(name);
    value.get("request").cloned().unwrap_or(value)
}

fn request(value: Value) -> AdmissionRequest {
    let review = serde_json::json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": value});
    let review: AdmissionReview = serde_json::from_value(review).expect("parses");
    review.request.expect("has a request")
}

/// The payload with the image at `pointer` (in `object`, and in `oldObject` when `old` is given) replaced.
fn with_image(name: &str, pointer: &str, image: &str, namespace: &str) -> AdmissionRequest {
    let mut value = request_value(name);
    if let Some(slot) = value.pointer_mut(&format!("/object{pointer}")) {
        *slot = Value::String(image.to_owned());
    }
    value["namespace"] = Value::String(namespace.to_owned());
    request(value)
}

fn policy() -> Policy {
    let mut policy = Policy::default();
    policy.namespaces.push(
        NamespaceRule::new("prod-*", BTreeMap::new(), "prod", Origin::Default).expect("glob"),
    );
    policy
}

static BUILD: ScanOptions = ScanOptions {
    build_args: std::collections::BTreeMap::new(),
};

fn context() -> CheckContext<'static> {
    CheckContext {
        today: Date::ymd(2026, 11, 30),
        lock: None,
        build: &BUILD,
    }
}

#[test]
fn every_pod_bearing_kind_yields_its_images_with_pointers() {
    let cases = [
        (
            "admission.rs.WEBHOOK_BODY.json",
            vec!["/spec/containers/0/image"],
        ),
        (
            "pod_creation_with_init_container.json",
            vec!["/spec/containers/0/image", "/spec/initContainers/0/image"],
        ),
        (
            "privileged_ephemeral_container.json",
            vec![
                "/spec/containers/0/image",
                "/spec/containers/1/image",
                "/spec/ephemeralContainers/0/image",
            ],
        ),
        (
            "deployment_creation_signed.json",
            vec!["/spec/template/spec/containers/0/image"],
        ),
        (
            "statefulset_creation_signed.json",
            vec!["/spec/template/spec/containers/0/image"],
        ),
        (
            "daemonset_creation_signed.json",
            vec!["/spec/template/spec/containers/0/image"],
        ),
        (
            "replicaset_creation_signed.json",
            vec!["/spec/template/spec/containers/0/image"],
        ),
        (
            "replicationcontroller_creation_signed.json",
            vec!["/spec/template/spec/containers/0/image"],
        ),
        (
            "job_creation.json",
            vec!["/spec/template/spec/containers/0/image"],
        ),
        (
            "cronjob_creation.json",
            vec!["/spec/jobTemplate/spec/template/spec/containers/0/image"],
        ),
    ];
    for (name, expected) in cases {
        let request = request(request_value(name));
        let object = request.object.as_ref().expect("object");
        let images = object_images(&request.kind.kind, object);
        let pointers: Vec<&str> = images.iter().map(|i| i.pointer.as_str()).collect();
        // Order within the spec may put init containers after containers; compare as sets.
        let mut sorted = pointers.clone();
        sorted.sort_unstable();
        let mut wanted = expected.clone();
        wanted.sort_unstable();
        assert_eq!(sorted, wanted, "{name}");
        for image in &images {
            assert_eq!(
                object.pointer(&image.pointer).and_then(Value::as_str),
                Some(image.image.as_str())
            );
        }
    }
    // PodTemplate and image volumes (no payload carries them: built from the Pod capture).
    let pod = request(request_value("admission.rs.WEBHOOK_BODY.json"));
    let spec = pod
        .object
        .as_ref()
        .and_then(|o| o.get("spec"))
        .cloned()
        .expect("spec");
    let mut spec = spec;
    spec["volumes"] =
        serde_json::json!([{"name": "models", "image": {"reference": "python:3.12-slim"}}]);
    let template = serde_json::json!({"template": {"spec": spec}});
    let images = object_images("PodTemplate", &template);
    assert_eq!(images.len(), 2);
    assert_eq!(
        images[1].pointer,
        "/template/spec/volumes/0/image/reference"
    );
    assert_eq!(images[1].field, "template.spec.volumes[0].image.reference");
    assert_eq!(images[1].slot, ImageSlot::Volume);
    assert!(object_images("Service", &template).is_empty());
}

#[test]
fn deny_names_object_container_image_rule_and_fix() {
    let request = with_image(
        "deployment_creation_signed.json",
        "/spec/template/spec/containers/0/image",
        "python:3.9-slim",
        "prod-eu",
    );
    let judged = judge(&request, &policy(), &context());
    let response = validate_response(&request, &judged);
    assert!(!response.allowed);
    assert_eq!(response.uid, request.uid);
    let status = response.status.expect("status");
    assert_eq!(status.code, 403);
    let message = status.message;
    for part in [
        "Deployment prod-eu/",
        "container \"",
        "image python:3.9-slim",
        "PY004",
        "PY006",
        "Fix:",
    ] {
        assert!(message.contains(part), "{part:?} not in {message}");
    }
    assert_eq!(
        judged[0].findings[0].location,
        crate::check::Location::Field {
            object: request.describe_object(),
            field: "spec.template.spec.containers[0].image".into()
        }
    );
    // A dev namespace: allowed, the floating tag only warned about — each warning within 120 characters.
    let dev = with_image(
        "deployment_creation_signed.json",
        "/spec/template/spec/containers/0/image",
        "python:3.13-slim",
        "team-a",
    );
    let response = validate_response(&dev, &judge(&dev, &policy(), &context()));
    assert!(
        response.allowed && response.status.is_none(),
        "{response:?}"
    );
    // An untagged image in dev: allowed, warned about (PY001) — each warning within 120 characters.
    let untagged = with_image(
        "deployment_creation_signed.json",
        "/spec/template/spec/containers/0/image",
        "python",
        "team-a-with-a-rather-long-namespace-name",
    );
    let response = validate_response(&untagged, &judge(&untagged, &policy(), &context()));
    assert!(response.allowed);
    assert!(!response.warnings.is_empty());
    assert!(
        response
            .warnings
            .iter()
            .all(|w| w.chars().count() <= MAX_WARNING)
    );
}

#[test]
fn the_webhook_decides_exactly_as_check_does() {
    let mut prod = policy();
    prod.environment_override = Some(("prod".into(), Origin::CommandLine("--env prod".into())));
    for image in [
        "python:3.9-slim",
        "python:3.12",
        "python",
        "docker.io/library/python-evil:3.12",
        "pythonista/app:1",
    ] {
        let request = with_image(
            "deployment_creation_signed.json",
            "/spec/template/spec/containers/0/image",
            image,
            "prod-eu",
        );
        let admitted: Vec<_> = judge(&request, &prod, &context())
            .into_iter()
            .flat_map(|j| j.findings)
            .map(|f| (f.rule.id, f.severity, f.message))
            .collect();
        let manifest = format!(
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: {image}\n"
        );
        let checked: Vec<_> = check_file(
            "k8s/app.yaml",
            &manifest,
            FileKind::Kubernetes,
            &prod,
            &context(),
        )
        .findings
        .into_iter()
        .map(|f| (f.rule.id, f.severity, f.message))
        .collect();
        assert_eq!(admitted, checked, "{image}");
    }
}

#[test]
fn references_are_normalised_before_any_decision() {
    let scope = namespace_scope("prod-eu");
    let decide = |text: &str| -> Vec<&'static str> {
        evaluate_reference(text, SiteKind::Kubernetes, &scope, &policy(), &context())
            .reported()
            .map(|f| f.rule.id)
            .collect()
    };
    let official = decide("python:3.12-slim");
    for same in [
        "docker.io/python:3.12-slim",
        "index.docker.io/library/python:3.12-slim",
        "library/python:3.12-slim",
    ] {
        assert_eq!(decide(same), official, "{same}");
    }
    assert!(decide("docker.io/library/python-evil:3.12-slim").contains(&"PY005"));
    assert!(!decide("pythonista/app:3.12").contains(&"PY004"));
}

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
        assert_eq!(response.uid, delete.uid);
    }
    // The kubernetes/api round-trip fixture (placeholders everywhere) parses and is allowed.
    let placeholder: AdmissionReview =
        serde_json::from_value(payload("admission.k8s.io.v1.AdmissionReview.json"))
            .expect("parses");
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

fn request_with(value: Value) -> AdmissionRequest {
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
    assert_eq!(json["response"]["uid"], request.uid);
    assert_eq!(json["response"]["allowed"], true);
    assert!(json["response"].get("patch").is_none() && json["response"].get("patchType").is_none());
}
