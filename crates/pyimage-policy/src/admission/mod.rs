//! Kubernetes admission, pure: the AdmissionReview v1 and ImageReview v1alpha1 wire types ([`review`]), every
//! image of a Pod-bearing object with its JSON pointer ([`images`]), and the decisions ([`decide`]): which images are
//! judged, the validating answer, the images a mutating answer pins and its JSONPatch, the ImageReview answer. An
//! AdmissionReview is read by a JSON reader of its own ([`json`]) that reads over what the webhook does not keep.
//!
//! Each image is decided by [`crate::check::evaluate_reference`], the function `check` uses, so the webhook and the
//! CLI agree on the same reference in the same environment. The server (pyimage-server) adds HTTP, digests and
//! metrics.

pub mod decide;
pub mod images;
pub mod json;
pub mod review;

#[cfg(test)]
mod tests;

pub use decide::{
    BREAK_GLASS, Decisions, ImageReviewDecision, Judged, MAX_MESSAGE, MAX_WARNING, PinNeed,
    forced_environment, images_to_judge, json_patch, judge, judge_remembered, namespace_scope,
    pinned_image, pins_needed, review_images, shorten, validate_response,
};
pub use images::{
    ImageSlot, ObjectImage, ObjectView, object_images, pod_spec_pointer, raw_object_images,
    view_images,
};
pub use review::{
    AdmissionRequest, AdmissionResponse, AdmissionReview, AdmissionReviewResponse, ImageReview,
    ImageReviewResponse, ImageReviewStatus, SentImageReviewStatus, Status, Text, UserInfo,
};
