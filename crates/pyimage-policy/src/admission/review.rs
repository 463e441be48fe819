//! The wire formats, hand-written: AdmissionReview `admission.k8s.io/v1` (request in, response out) and ImageReview
//! `imagepolicy.k8s.io/v1alpha1`. Only the fields pyimage reads or writes are typed; the objects stay JSON values.
//!
//! Real payloads send `object`/`oldObject` absent, `null` or an object, `dryRun` absent or a bool, and an
//! ImageReview carries the API server's own (empty) `status`, which is ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `apiVersion` of AdmissionReview v1.
pub const ADMISSION_API_VERSION: &str = "admission.k8s.io/v1";
/// `apiVersion` of ImageReview v1alpha1.
pub const IMAGE_REVIEW_API_VERSION: &str = "imagepolicy.k8s.io/v1alpha1";

/// An AdmissionReview as the API server sends it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionReview {
    /// `admission.k8s.io/v1`.
    #[serde(default)]
    pub api_version: String,
    /// `AdmissionReview`.
    #[serde(default)]
    pub kind: String,
    /// The request; a review without one is malformed.
    #[serde(default)]
    pub request: Option<AdmissionRequest>,
}

/// Group, version and kind of the object.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GroupVersionKind {
    /// `apps`, or empty for the core group.
    #[serde(default)]
    pub group: String,
    /// `v1`.
    #[serde(default)]
    pub version: String,
    /// `Deployment`.
    #[serde(default)]
    pub kind: String,
}

/// The request of an AdmissionReview.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionRequest {
    /// Echoed in the response.
    pub uid: String,
    /// The object's kind after conversion.
    #[serde(default)]
    pub kind: GroupVersionKind,
    /// `ephemeralcontainers`, `status`, … (empty for the object itself).
    #[serde(default)]
    pub sub_resource: Option<String>,
    /// The object's name (empty on CREATE with `generateName`).
    #[serde(default)]
    pub name: Option<String>,
    /// The namespace (absent for cluster-scoped objects).
    #[serde(default)]
    pub namespace: Option<String>,
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    #[serde(default)]
    pub operation: String,
    /// The object (CREATE, UPDATE); absent or null otherwise.
    #[serde(default)]
    pub object: Option<Value>,
    /// The object before the change (UPDATE, DELETE).
    #[serde(default)]
    pub old_object: Option<Value>,
    /// Whether the request is a dry run (the answer is the same).
    #[serde(default)]
    pub dry_run: Option<bool>,
}

impl AdmissionRequest {
    /// `Deployment team-a/web` (the name from the object's `metadata.generateName` when it has none yet).
    pub fn describe_object(&self) -> String {
        let name = self
            .name
            .clone()
            .filter(|name| !name.is_empty())
            .or_else(|| {
                let metadata = self.object.as_ref()?.get("metadata")?;
                let text = metadata
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|name| !name.is_empty())
                    .map(str::to_owned);
                text.or_else(|| {
                    let prefix = metadata.get("generateName")?.as_str()?;
                    Some(format!("{prefix}*"))
                })
            })
            .unwrap_or_else(|| "(unnamed)".to_owned());
        match self.namespace.as_deref().filter(|ns| !ns.is_empty()) {
            Some(namespace) => format!("{} {namespace}/{name}", self.kind.kind),
            None => format!("{} {name}", self.kind.kind),
        }
    }
}

/// The `status` of a denied admission (a `metav1.Status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// `Failure`.
    pub status: &'static str,
    /// The HTTP code the user sees (403).
    pub code: u16,
    /// `Forbidden`.
    pub reason: &'static str,
    /// What was denied and why.
    pub message: String,
}

/// The response of an AdmissionReview.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionResponse {
    /// The request's `uid`.
    pub uid: String,
    /// The decision.
    pub allowed: bool,
    /// Why it was denied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// A base64 JSONPatch (mutating webhooks only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    /// `JSONPatch`, exactly when `patch` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_type: Option<&'static str>,
    /// Warnings shown to the user (≤ 120 characters each).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Audit annotations (the API server prefixes the webhook's name).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub audit_annotations: BTreeMap<String, String>,
}

/// The AdmissionReview pyimage answers with.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionReviewResponse {
    /// `admission.k8s.io/v1`.
    pub api_version: &'static str,
    /// `AdmissionReview`.
    pub kind: &'static str,
    /// The answer.
    pub response: AdmissionResponse,
}

impl AdmissionReviewResponse {
    /// Wraps a response.
    pub fn new(response: AdmissionResponse) -> Self {
        AdmissionReviewResponse {
            api_version: ADMISSION_API_VERSION,
            kind: "AdmissionReview",
            response,
        }
    }
}

/// An ImageReview as the ImagePolicyWebhook plugin sends it; its `status` is ignored.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageReview {
    /// `imagepolicy.k8s.io/v1alpha1`.
    #[serde(default)]
    pub api_version: String,
    /// `ImageReview`.
    #[serde(default)]
    pub kind: String,
    /// What to decide.
    pub spec: ImageReviewSpec,
}

/// The spec of an ImageReview.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ImageReviewSpec {
    /// The containers' images.
    #[serde(default)]
    pub containers: Vec<ImageReviewContainer>,
    /// Pod annotations matching `*.image-policy.k8s.io/*`.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// The Pod's namespace.
    #[serde(default)]
    pub namespace: String,
}

/// One container of an ImageReview.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ImageReviewContainer {
    /// The image as written in the Pod.
    #[serde(default)]
    pub image: String,
}

/// The status pyimage answers an ImageReview with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageReviewStatus {
    /// The decision.
    pub allowed: bool,
    /// Why (shown to the user on a deny).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Audit annotations (the plugin prefixes `imagepolicywebhook.image-policy.k8s.io/`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub audit_annotations: BTreeMap<String, String>,
}

/// The ImageReview pyimage answers with.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageReviewResponse {
    /// `imagepolicy.k8s.io/v1alpha1`.
    pub api_version: &'static str,
    /// `ImageReview`.
    pub kind: &'static str,
    /// The answer.
    pub status: ImageReviewStatus,
}

impl ImageReviewResponse {
    /// Wraps a status.
    pub fn new(status: ImageReviewStatus) -> Self {
        ImageReviewResponse {
            api_version: IMAGE_REVIEW_API_VERSION,
            kind: "ImageReview",
            status,
        }
    }
}
