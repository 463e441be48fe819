//! The admission decisions over the real payloads of `tests/data/admission/` (SOURCES.md names each source):
//! [`decisions`] (images of every kind, deny, warnings, agreement with `check`, normalisation) and [`operations`]
//! (UPDATE, DELETE, ephemeral containers, pinning, message limits, ImageReview, the response shape).

mod decisions;
mod json_reader;
mod operations;

use std::collections::BTreeMap;

use serde_json::Value;

pub(super) use super::*;
use crate::check::{
    CheckContext, Date, FileKind, NamespaceRule, Origin, Policy, SiteKind, check_file,
    evaluate_reference,
};
use pyimage_locate::dockerfile::ScanOptions;

/// The payloads, compiled in (the core reads no files, not even in tests).
const PAYLOADS: &[(&str, &str)] = &[
    (
        "PodDeleteRequest.json",
        include_str!("../../../tests/data/admission/PodDeleteRequest.json"),
    ),
    (
        "admission-controllers.md.ImageReview-request.json",
        include_str!(
            "../../../tests/data/admission/admission-controllers.md.ImageReview-request.json"
        ),
    ),
    (
        "admission.k8s.io.v1.AdmissionReview.json",
        include_str!("../../../tests/data/admission/admission.k8s.io.v1.AdmissionReview.json"),
    ),
    (
        "admission.rs.WEBHOOK_BODY.json",
        include_str!("../../../tests/data/admission/admission.rs.WEBHOOK_BODY.json"),
    ),
    (
        "cronjob_creation.json",
        include_str!("../../../tests/data/admission/cronjob_creation.json"),
    ),
    (
        "daemonset_creation_signed.json",
        include_str!("../../../tests/data/admission/daemonset_creation_signed.json"),
    ),
    (
        "delete_accept.json",
        include_str!("../../../tests/data/admission/delete_accept.json"),
    ),
    (
        "deployment_creation_signed.json",
        include_str!("../../../tests/data/admission/deployment_creation_signed.json"),
    ),
    (
        "imagepolicy.k8s.io.v1alpha1.ImageReview.json",
        include_str!("../../../tests/data/admission/imagepolicy.k8s.io.v1alpha1.ImageReview.json"),
    ),
    (
        "job_creation.json",
        include_str!("../../../tests/data/admission/job_creation.json"),
    ),
    (
        "pod_creation.json",
        include_str!("../../../tests/data/admission/pod_creation.json"),
    ),
    (
        "pod_creation_implicit_latest.json",
        include_str!("../../../tests/data/admission/pod_creation_implicit_latest.json"),
    ),
    (
        "pod_creation_latest.json",
        include_str!("../../../tests/data/admission/pod_creation_latest.json"),
    ),
    (
        "pod_creation_with_digest.json",
        include_str!("../../../tests/data/admission/pod_creation_with_digest.json"),
    ),
    (
        "pod_creation_with_init_container.json",
        include_str!("../../../tests/data/admission/pod_creation_with_init_container.json"),
    ),
    (
        "privileged_ephemeral_container.json",
        include_str!("../../../tests/data/admission/privileged_ephemeral_container.json"),
    ),
    (
        "replicaset_creation_signed.json",
        include_str!("../../../tests/data/admission/replicaset_creation_signed.json"),
    ),
    (
        "replicationcontroller_creation_signed.json",
        include_str!("../../../tests/data/admission/replicationcontroller_creation_signed.json"),
    ),
    (
        "statefulset_creation_signed.json",
        include_str!("../../../tests/data/admission/statefulset_creation_signed.json"),
    ),
    (
        "unprivileged-pod-admission-review.json",
        include_str!("../../../tests/data/admission/unprivileged-pod-admission-review.json"),
    ),
    (
        "update_accept.json",
        include_str!("../../../tests/data/admission/update_accept.json"),
    ),
];

pub(super) fn payload(name: &str) -> Value {
    let (_, text) = PAYLOADS
        .iter()
        .find(|(file, _)| *file == name)
        .unwrap_or_else(|| panic!("no payload {name}"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The request of a payload, wrapped (kube-rs, kwctl) or bare (kubewarden policies).
pub(super) fn request_value(name: &str) -> Value {
    let value = payload(name);
    value.get("request").cloned().unwrap_or(value)
}

/// The request of `value` read as the server reads a body: borrowed from its text, which lives as long as the test.
pub(super) fn request(value: Value) -> AdmissionRequest<'static> {
    let review = serde_json::json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": value});
    let text: &'static str = Box::leak(review.to_string().into_boxed_str());
    let review = AdmissionReview::parse(text.as_bytes()).expect("parses");
    review.request.expect("has a request")
}

/// The payload with the image at `pointer` (in `object`, and in `oldObject` when `old` is given) replaced.
pub(super) fn with_image(
    name: &str,
    pointer: &str,
    image: &str,
    namespace: &str,
) -> AdmissionRequest<'static> {
    let mut value = request_value(name);
    if let Some(slot) = value.pointer_mut(&format!("/object{pointer}")) {
        *slot = Value::String(image.to_owned());
    }
    value["namespace"] = Value::String(namespace.to_owned());
    request(value)
}

pub(super) fn policy() -> Policy {
    let mut policy = Policy::default();
    policy.namespaces.push(
        NamespaceRule::new("prod-*", BTreeMap::new(), "prod", Origin::Default).expect("glob"),
    );
    policy
}

pub(super) static BUILD: ScanOptions = ScanOptions::NONE;

pub(super) fn context() -> CheckContext<'static> {
    CheckContext {
        today: Date::ymd(2026, 11, 30),
        lock: None,
        build: &BUILD,
        signatures: None,
    }
}
