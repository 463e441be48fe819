//! The admission decisions over one request: which images are judged (all of them on CREATE, only new or changed
//! ones on UPDATE, none on DELETE/CONNECT), what [`evaluate_reference`] says about each in the namespace's
//! environment, the validating answer (deny message, warnings), which images a mutating answer pins, the
//! JSONPatch that pins them, and the ImageReview answer with its break-glass annotation.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::check::{
    CheckContext, Finding, Location, Origin, Policy, Scope, Severity, SiteKind, evaluate_reference,
    rules,
};
use pyimage_model::reference::Reference;

use super::images::{ObjectImage, view_images};
use super::review::{AdmissionRequest, AdmissionResponse, ImageReview, ImageReviewStatus, Status};

/// The longest deny message sent (bytes); the API server wraps it and shows it to the user, so it stays short.
pub const MAX_MESSAGE: usize = 4000;
/// The longest warning (characters), as the API server asks of webhooks.
pub const MAX_WARNING: usize = 120;
/// At most this many warnings per answer.
pub const MAX_WARNINGS: usize = 16;
/// The annotation that lets an ImageReview through, logged and counted, with its reason as value.
pub const BREAK_GLASS: &str = "break-glass.image-policy.k8s.io/pyimage";

/// The scope of a namespace: its name, and the label every namespace carries (`kubernetes.io/metadata.name`).
pub fn namespace_scope(namespace: &str) -> Scope {
    Scope::Namespace {
        name: namespace.to_owned(),
        labels: BTreeMap::from([(
            "kubernetes.io/metadata.name".to_owned(),
            namespace.to_owned(),
        )]),
    }
}

/// A copy of `policy` whose every scope is `environment` (the `/validate/ENV` paths); `None` when the environment is
/// not configured.
pub fn forced_environment(policy: &Policy, environment: &str, path: &str) -> Option<Policy> {
    policy.environments.get(environment)?;
    let mut forced = policy.clone();
    forced.environment_override = Some((
        environment.to_owned(),
        Origin::CommandLine(format!("webhook path {path}")),
    ));
    Some(forced)
}

/// The images a request asks to decide about: none on DELETE and CONNECT (and without an object), every image on
/// CREATE, and on UPDATE only those not already in `oldObject` (a running workload is never blocked, nor
/// rewritten, by a policy it predates).
pub fn images_to_judge(request: &AdmissionRequest<'_>) -> Vec<ObjectImage> {
    if !matches!(request.operation.as_str(), "CREATE" | "UPDATE") {
        return Vec::new();
    }
    let Some(object) = &request.object else {
        return Vec::new();
    };
    let images = view_images(&request.kind.kind, object);
    if request.operation.as_str() != "UPDATE" {
        return images;
    }
    let before: BTreeSet<String> = request
        .old_object
        .as_ref()
        .map(|old| view_images(&request.kind.kind, old))
        .unwrap_or_default()
        .into_iter()
        .map(|image| image.image)
        .collect();
    images
        .into_iter()
        .filter(|image| !before.contains(&image.image))
        .collect()
}

/// One judged image and its reported (warn and deny) findings.
#[derive(Debug, Clone)]
pub struct Judged {
    /// The image and where it is.
    pub image: ObjectImage,
    /// Findings, as `check` would report them for the same reference in the same environment, shared with the
    /// remembered decision they came from (so an admission request copies none); their location is the decided
    /// reference's, not the object's field: [`Judged::located`] gives them located.
    pub findings: Arc<[Finding]>,
}

impl Judged {
    /// The findings, each located at the image's field of `object` (`Deployment team-a/web`).
    pub fn located(&self, object: &str) -> Vec<Finding> {
        self.findings
            .iter()
            .cloned()
            .map(|mut finding| {
                finding.location = Location::Field {
                    object: object.to_owned(),
                    field: self.image.field.clone(),
                };
                finding
            })
            .collect()
    }
}

/// Decides about every image of the request that needs deciding ([`images_to_judge`]).
pub fn judge(
    request: &AdmissionRequest<'_>,
    policy: &Policy,
    context: &CheckContext<'_>,
) -> Vec<Judged> {
    let scope = namespace_scope(request.namespace.as_deref().unwrap_or_default());
    judge_by(request, |image| {
        reported(image, &scope, policy, context).into()
    })
}

/// [`judge`], taking each image's decision from `decisions` when it holds it: the same findings, without deciding
/// again. `decisions` must be used with this one `policy` only.
pub fn judge_remembered(
    request: &AdmissionRequest<'_>,
    policy: &Policy,
    context: &CheckContext<'_>,
    decisions: &Decisions,
) -> Vec<Judged> {
    let namespace = request.namespace.as_deref().unwrap_or_default();
    let mut scope = None;
    judge_by(request, |image| {
        decisions.reported(namespace, image, context, || {
            let scope = scope.get_or_insert_with(|| namespace_scope(namespace));
            reported(image, scope, policy, context)
        })
    })
}

/// The findings `check` reports for `image` in `scope`, not yet located.
fn reported(
    image: &str,
    scope: &Scope,
    policy: &Policy,
    context: &CheckContext<'_>,
) -> Vec<Finding> {
    evaluate_reference(image, SiteKind::KUBERNETES, scope, policy, context)
        .reported()
        .cloned()
        .collect()
}

fn judge_by(
    request: &AdmissionRequest<'_>,
    mut decide: impl FnMut(&str) -> Arc<[Finding]>,
) -> Vec<Judged> {
    images_to_judge(request)
        .into_iter()
        .map(|image| Judged {
            findings: decide(&image.image),
            image,
        })
        .collect()
}

/// The decisions of one policy about images in namespaces, for the webhook to reuse: the findings
/// [`evaluate_reference`] reports depend only on the policy, the namespace (its environment and `[[ignore]]`
/// scopes), the image and the day (end-of-life dates), so a decision is kept for its (namespace, image) and day and
/// handed out again as it was made. Only a context without a lock is remembered (PY008 reads the lock; the
/// webhook has none), and only images of at most [`Decisions::LONGEST`] bytes in namespaces of at most 253 (the
/// longest name Kubernetes allows). At most [`Decisions::KEPT`] are kept, a few MiB at worst: when full, or when
/// the day changes, all are forgotten and decided anew, so a stream of distinct images costs a decision each, as
/// without remembering.
#[derive(Debug, Default)]
pub struct Decisions {
    kept: std::sync::Mutex<Kept>,
}

#[derive(Debug, Default)]
struct Kept {
    day: Option<crate::check::Date>,
    /// By namespace, then image.
    by_namespace:
        std::collections::HashMap<String, std::collections::HashMap<String, Arc<[Finding]>>>,
    count: usize,
}

impl Decisions {
    /// Decisions kept at most.
    pub const KEPT: usize = 1024;
    /// The longest image remembered (bytes): a reference's name is at most 255 characters.
    pub const LONGEST: usize = 512;

    /// The findings for `image` in `namespace` on `context`'s day: the kept ones, or `decide`'s (then kept).
    fn reported(
        &self,
        namespace: &str,
        image: &str,
        context: &CheckContext<'_>,
        decide: impl FnOnce() -> Vec<Finding>,
    ) -> Arc<[Finding]> {
        if context.lock.is_some() || image.len() > Self::LONGEST || namespace.len() > 253 {
            return decide().into();
        }
        if let Ok(kept) = self.kept.lock()
            && kept.day == Some(context.today)
            && let Some(findings) = kept
                .by_namespace
                .get(namespace)
                .and_then(|images| images.get(image))
        {
            return Arc::clone(findings);
        }
        // Decided outside the lock: the other requests wait for no decision but their own.
        let findings: Arc<[Finding]> = decide().into();
        if let Ok(mut kept) = self.kept.lock() {
            if kept.day != Some(context.today) || kept.count >= Self::KEPT {
                *kept = Kept {
                    day: Some(context.today),
                    ..Kept::default()
                };
            }
            let images = kept.by_namespace.entry(namespace.to_owned()).or_default();
            if images
                .insert(image.to_owned(), Arc::clone(&findings))
                .is_none()
            {
                kept.count += 1;
            }
        }
        findings
    }

    /// How many decisions are kept.
    pub fn len(&self) -> usize {
        self.kept.lock().map_or(0, |kept| kept.count)
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The validating answer: denied (403, one clause per offending image) when any finding is deny-level, with every
/// warn-level finding as a warning.
pub fn validate_response(request: &AdmissionRequest<'_>, judged: &[Judged]) -> AdmissionResponse {
    let object = request.describe_object();
    let mut clauses = Vec::new();
    let mut warnings = Vec::new();
    for item in judged {
        let image = &item.image;
        for finding in item.findings.iter() {
            // Written piece by piece into one string each: this runs for every admission request.
            match finding.severity {
                Severity::Deny => {
                    let mut clause = String::with_capacity(
                        image.name.len() + image.image.len() + finding.message.len() + 96,
                    );
                    for piece in [
                        image.slot.noun(),
                        " \"",
                        &image.name,
                        "\" image ",
                        &image.image,
                        ": ",
                        finding.rule.id,
                        " ",
                        finding.rule.name,
                        ": ",
                        &finding.message,
                        " Fix: ",
                        &finding.fix,
                    ] {
                        clause.push_str(piece);
                    }
                    clauses.push(clause);
                }
                Severity::Warn => warnings.push(shorten(
                    &format!(
                        "{} {} \"{}\" image {}: {}",
                        finding.rule.id,
                        image.slot.noun(),
                        image.name,
                        image.image,
                        finding.message
                    ),
                    MAX_WARNING,
                )),
                Severity::Allow => {}
            }
        }
    }
    let mut response = AdmissionResponse {
        uid: request.uid.to_string(),
        allowed: clauses.is_empty(),
        ..AdmissionResponse::default()
    };
    if warnings.len() > MAX_WARNINGS {
        let more = warnings.len() - (MAX_WARNINGS - 1);
        warnings.truncate(MAX_WARNINGS - 1);
        warnings.push(format!("pyimage: {more} more warnings"));
    }
    response.warnings = warnings;
    if !clauses.is_empty() {
        response.status = Some(Status {
            status: "Failure",
            code: 403,
            reason: "Forbidden",
            message: deny_message(object, &clauses),
        });
    }
    response
}

/// `pyimage denied Deployment ns/web: clause; clause` within [`MAX_MESSAGE`] bytes, naming how many were left out.
fn deny_message(object: &str, clauses: &[String]) -> String {
    let mut message = String::with_capacity(
        (object.len() + 18 + clauses.iter().map(|clause| clause.len() + 2).sum::<usize>())
            .min(MAX_MESSAGE + 64),
    );
    message.push_str("pyimage denied ");
    message.push_str(object);
    message.push_str(": ");
    for (index, clause) in clauses.iter().enumerate() {
        let separator = if index == 0 { "" } else { "; " };
        let left = clauses.len() - index;
        let reserve = 40;
        if message.len() + separator.len() + clause.len() + reserve > MAX_MESSAGE {
            if index == 0 {
                message.push_str(&shorten(clause, MAX_MESSAGE / 2));
                if left > 1 {
                    message.push_str(&format!("; … and {} more", left - 1));
                }
            } else {
                message.push_str(&format!("; … and {left} more"));
            }
            return message;
        }
        message.push_str(separator);
        message.push_str(clause);
    }
    message
}

/// `text` cut to `max` characters (ending in `…` when cut), never inside a character.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// An image a mutating answer pins: its field, as written, and the reference whose digest is needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinNeed {
    /// The image and where it is.
    pub image: ObjectImage,
    /// The normalized reference, with its tag (`latest` when none is written).
    pub reference: Reference,
}

/// The images to pin: new or changed official Python images (or a declared mirror's) without a digest, in
/// namespaces whose environment `mutates`. Other images are never touched.
pub fn pins_needed(
    request: &AdmissionRequest<'_>,
    policy: &Policy,
    mutates: impl Fn(&str) -> bool,
) -> Vec<PinNeed> {
    let scope = namespace_scope(request.namespace.as_deref().unwrap_or_default());
    if !mutates(policy.environment_of(&scope).0) {
        return Vec::new();
    }
    images_to_judge(request)
        .into_iter()
        .filter_map(|image| {
            let reference = Reference::parse_normalized(&image.image).ok()?;
            if reference.digest().is_some()
                || !rules::classify(&reference, policy).is_official_python()
            {
                return None;
            }
            let reference = reference.with_default_tag();
            Some(PinNeed { image, reference })
        })
        .collect()
}

/// The image as written, pinned: `python:3.12-slim@sha256:…` (`python:latest@…` when no tag was written).
pub fn pinned_image(need: &PinNeed, digest: &str) -> String {
    let written = need.image.image.as_str();
    let has_tag = Reference::parse(written).is_ok_and(|r| r.tag().is_some());
    if has_tag {
        format!("{written}@{digest}")
    } else {
        format!("{written}:latest@{digest}")
    }
}

/// A JSONPatch replacing each `(pointer, value)`, base64-encoded for `response.patch`; `None` when empty.
pub fn json_patch(edits: &[(String, String)]) -> Option<String> {
    if edits.is_empty() {
        return None;
    }
    let operations: Vec<Value> = edits
        .iter()
        .map(|(path, value)| json!({"op": "replace", "path": path, "value": value}))
        .collect();
    let bytes = serde_json::to_vec(&operations).ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// What an ImageReview decided, and the break-glass reason when one let it through.
#[derive(Debug, Clone)]
pub struct ImageReviewDecision {
    /// The answer.
    pub status: ImageReviewStatus,
    /// Set when a deny was overridden by the break-glass annotation (the caller logs and counts it).
    pub break_glass: Option<String>,
}

/// Decides an ImageReview: every container image in the namespace's environment; denied with a reason naming each
/// offending image, unless the break-glass annotation overrides it (allowed, with an audit annotation).
pub fn review_images(
    review: &ImageReview,
    policy: &Policy,
    context: &CheckContext<'_>,
) -> ImageReviewDecision {
    let scope = namespace_scope(&review.spec.namespace);
    let mut clauses = Vec::new();
    let mut warned = Vec::new();
    for (index, container) in review.spec.containers.iter().enumerate() {
        let decision = evaluate_reference(
            &container.image,
            SiteKind::KUBERNETES,
            &scope,
            policy,
            context,
        );
        for finding in decision.reported() {
            match finding.severity {
                Severity::Deny => clauses.push(format!(
                    "containers[{index}] image {}: {} {}: {} Fix: {}",
                    container.image,
                    finding.rule.id,
                    finding.rule.name,
                    finding.message,
                    finding.fix
                )),
                _ => warned.push(format!("{} {}", finding.rule.id, container.image)),
            }
        }
    }
    let mut status = ImageReviewStatus {
        allowed: clauses.is_empty(),
        ..ImageReviewStatus::default()
    };
    if !warned.is_empty() {
        status
            .audit_annotations
            .insert("pyimage-warnings".into(), shorten(&warned.join(", "), 1000));
    }
    let mut break_glass = None;
    if !clauses.is_empty() {
        let message = deny_message(
            &format!("Pod in namespace {}", review.spec.namespace),
            &clauses,
        );
        match review.spec.annotations.get(BREAK_GLASS) {
            // A reason is what makes breaking the glass auditable: an empty or blank one overrides nothing.
            Some(reason) if reason.trim().is_empty() => {
                status.reason = format!(
                    "{message} (the {BREAK_GLASS} break-glass annotation has no reason: write why, e.g. an incident number)"
                );
            }
            Some(reason) => {
                status.allowed = true;
                status
                    .audit_annotations
                    .insert("pyimage-break-glass".into(), shorten(reason, 256));
                status
                    .audit_annotations
                    .insert("pyimage-overridden".into(), shorten(&message, 1000));
                break_glass = Some(reason.clone());
            }
            None => status.reason = message,
        }
    }
    ImageReviewDecision {
        status,
        break_glass,
    }
}
