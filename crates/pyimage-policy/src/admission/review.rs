//! The wire formats, hand-written: AdmissionReview `admission.k8s.io/v1` (request in, response out) and ImageReview
//! `imagepolicy.k8s.io/v1alpha1`. Only the fields pyimage reads or writes are typed.
//!
//! An AdmissionReview is read once per request and borrowed from the body: strings stay in the body unless they
//! hold escapes ([`Text`]), and of the objects only the members on the way to their images and name are kept
//! ([`ObjectView`]), in that same read — a review's `managedFields`, status and everything else of the object
//! are read over (and checked to be JSON), never built into a tree nor read again.
//!
//! Real payloads send `object`/`oldObject` absent, `null` or an object, `dryRun` absent or a bool, and an
//! ImageReview carries the API server's own (empty) `status`, which is not obeyed.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use serde::de::{Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use super::images::ObjectView;

/// `apiVersion` of AdmissionReview v1.
pub const ADMISSION_API_VERSION: &str = "admission.k8s.io/v1";
/// `apiVersion` of ImageReview v1alpha1.
pub const IMAGE_REVIEW_API_VERSION: &str = "imagepolicy.k8s.io/v1alpha1";

/// A string of a review: borrowed from the body, or owned when the JSON string holds escapes.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text<'a>(pub Cow<'a, str>);

impl Text<'_> {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(text)))
            }

            fn visit_str<E>(self, text: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }

            fn visit_string<E>(self, text: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// An AdmissionReview as the API server sends it, borrowed from the body it was read from ([`Self::parse`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionReview<'a> {
    /// `admission.k8s.io/v1`.
    #[serde(default, borrow)]
    pub api_version: Text<'a>,
    /// `AdmissionReview`.
    #[serde(default, borrow)]
    pub kind: Text<'a>,
    /// The request; a review without one is malformed.
    #[serde(default, borrow)]
    pub request: Option<AdmissionRequest<'a>>,
}

impl<'a> AdmissionReview<'a> {
    /// Reads a review from the body of a request, once: what pyimage uses of it is borrowed from `body`. The body
    /// must be UTF-8, as JSON is (RFC 8259), all of it: it is checked once, whole, rather than string by string.
    pub fn parse(body: &'a [u8]) -> Result<AdmissionReview<'a>, super::json::Error> {
        let text = std::str::from_utf8(body).map_err(|error| {
            <super::json::Error as serde::de::Error>::custom(format_args!(
                "the body is not UTF-8: {error}"
            ))
        })?;
        // The usual shape is read directly; anything else (and every error, for its message) by serde.
        match super::json::usual_review(text) {
            Some(review) => Ok(review),
            None => super::json::from_str(text),
        }
    }
}

/// Group, version and kind of the object.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GroupVersionKind<'a> {
    /// `apps`, or empty for the core group.
    #[serde(default, borrow)]
    pub group: Text<'a>,
    /// `v1`.
    #[serde(default, borrow)]
    pub version: Text<'a>,
    /// `Deployment`.
    #[serde(default, borrow)]
    pub kind: Text<'a>,
}

/// Who sent the request, as the API server says (`request.userInfo`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserInfo<'a> {
    /// The requesting user's name.
    #[serde(default, borrow)]
    pub username: Text<'a>,
}

/// The request of an AdmissionReview.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionRequest<'a> {
    /// Echoed in the response.
    #[serde(borrow)]
    pub uid: Text<'a>,
    /// The object's kind after conversion.
    #[serde(default, borrow)]
    pub kind: GroupVersionKind<'a>,
    /// `ephemeralcontainers`, `status`, … (empty for the object itself).
    #[serde(default, borrow)]
    pub sub_resource: Option<Text<'a>>,
    /// The object's name (empty on CREATE with `generateName`).
    #[serde(default, borrow)]
    pub name: Option<Text<'a>>,
    /// The namespace (absent for cluster-scoped objects).
    #[serde(default, borrow)]
    pub namespace: Option<Text<'a>>,
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    #[serde(default, borrow)]
    pub operation: Text<'a>,
    /// The requesting user (the page records only reviews that name one).
    #[serde(default, borrow)]
    pub user_info: Option<UserInfo<'a>>,
    /// What the webhook reads of the object (CREATE, UPDATE); absent or null otherwise.
    #[serde(default, borrow)]
    pub object: Option<ObjectView<'a>>,
    /// What the webhook reads of the object before the change (UPDATE, DELETE).
    #[serde(default, borrow)]
    pub old_object: Option<ObjectView<'a>>,
    /// Whether the request is a dry run (the answer is the same).
    #[serde(default)]
    pub dry_run: Option<bool>,
    /// [`Self::describe_object`], made once: the judgement, the answer and the page each name the object.
    #[serde(skip)]
    pub(super) described: OnceLock<String>,
}

impl AdmissionRequest<'_> {
    /// `Deployment team-a/web` (the name from the object's `metadata.generateName` when it has none yet).
    pub fn describe_object(&self) -> &str {
        self.described.get_or_init(|| self.description())
    }

    fn description(&self) -> String {
        let from_metadata = || {
            let metadata = self.object.as_ref()?.get("metadata")?;
            let named = metadata
                .get("name")
                .and_then(ObjectView::text)
                .filter(|name| !name.is_empty())
                .map(String::from);
            named.or_else(|| {
                let prefix = metadata.get("generateName").and_then(ObjectView::text)?;
                Some(format!("{prefix}*"))
            })
        };
        let owned;
        let name = match self.name.as_deref().filter(|name| !name.is_empty()) {
            Some(name) => name,
            None => {
                owned = from_metadata().unwrap_or_else(|| "(unnamed)".to_owned());
                &owned
            }
        };
        let namespace = self.namespace.as_deref().filter(|ns| !ns.is_empty());
        // Pieces pushed into one string, not `format!`: this runs for every admission request.
        let mut described = String::with_capacity(
            self.kind.kind.len() + name.len() + namespace.map_or(0, str::len) + 2,
        );
        described.push_str(&self.kind.kind);
        described.push(' ');
        if let Some(namespace) = namespace {
            described.push_str(namespace);
            described.push('/');
        }
        described.push_str(name);
        described
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

    /// The answer's JSON: the bytes `serde_json::to_vec` writes for it (a test holds the two equal), written
    /// directly into one buffer, since this runs for every admission request.
    pub fn to_json(&self) -> Vec<u8> {
        let response = &self.response;
        let mut out = Vec::with_capacity(
            160 + response.uid.len()
                + response
                    .status
                    .as_ref()
                    .map_or(0, |status| status.message.len() + 64)
                + response.patch.as_ref().map_or(0, String::len)
                + response
                    .warnings
                    .iter()
                    .map(|warning| warning.len() + 3)
                    .sum::<usize>()
                + response
                    .audit_annotations
                    .iter()
                    .map(|(key, value)| key.len() + value.len() + 6)
                    .sum::<usize>(),
        );
        push_member(&mut out, b"{\"apiVersion\":", self.api_version);
        push_member(&mut out, b",\"kind\":", self.kind);
        push_member(&mut out, b",\"response\":{\"uid\":", &response.uid);
        out.extend_from_slice(if response.allowed {
            b",\"allowed\":true"
        } else {
            b",\"allowed\":false"
        });
        if let Some(status) = &response.status {
            push_member(&mut out, b",\"status\":{\"status\":", status.status);
            out.extend_from_slice(b",\"code\":");
            push_number(&mut out, status.code);
            push_member(&mut out, b",\"reason\":", status.reason);
            push_member(&mut out, b",\"message\":", &status.message);
            out.push(b'}');
        }
        if let Some(patch) = &response.patch {
            push_member(&mut out, b",\"patch\":", patch);
        }
        if let Some(patch_type) = response.patch_type {
            push_member(&mut out, b",\"patchType\":", patch_type);
        }
        if !response.warnings.is_empty() {
            out.extend_from_slice(b",\"warnings\":[");
            for (index, warning) in response.warnings.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                push_json_str(&mut out, warning);
            }
            out.push(b']');
        }
        if !response.audit_annotations.is_empty() {
            out.extend_from_slice(b",\"auditAnnotations\":{");
            for (index, (key, value)) in response.audit_annotations.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                push_json_str(&mut out, key);
                out.push(b':');
                push_json_str(&mut out, value);
            }
            out.push(b'}');
        }
        out.extend_from_slice(b"}}");
        out
    }
}

/// `text` as a JSON string after `before` (a member's key and colon).
fn push_member(out: &mut Vec<u8>, before: &[u8], text: &str) {
    out.extend_from_slice(before);
    push_json_str(out, text);
}

/// `number` in decimal.
fn push_number(out: &mut Vec<u8>, number: u16) {
    let mut digits = [0u8; 5];
    let mut start = digits.len();
    let mut rest = number;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// `text` as a JSON string, escaped as serde_json escapes: the quote, the backslash and control characters
/// (`\n`-style where JSON has a short form, `\u00XX` otherwise); everything else as it is.
fn push_json_str(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.push(b'"');
    let mut from = 0;
    while let Some(stop) = super::json::string_stop(bytes, from) {
        out.extend_from_slice(&bytes[from..stop]);
        let byte = bytes[stop];
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0xf)]);
            }
        }
        from = stop + 1;
    }
    out.extend_from_slice(&bytes[from..]);
    out.push(b'"');
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
    /// The status the plugin sends (its zero value); never obeyed, only looked at to judge the review's shape.
    #[serde(default)]
    pub status: Option<SentImageReviewStatus>,
}

/// The `status` an ImageReview arrives with: the ImagePolicyWebhook plugin sends `{"allowed": false}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SentImageReviewStatus {
    /// What the sender claims was decided.
    #[serde(default)]
    pub allowed: bool,
    /// The sender's reason.
    #[serde(default)]
    pub reason: String,
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
