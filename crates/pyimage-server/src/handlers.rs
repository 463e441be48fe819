//! The HTTP handlers: a few lines each over the core's admission decisions and the digest source.
//! Wrong content type → 415, a body that is not the expected review → 400 (the server stays up), an environment
//! the configuration does not have → 404.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use pyimage_locate::dockerfile::ScanOptions;
use pyimage_policy::admission::decide::MAX_WARNINGS;
use pyimage_policy::admission::{
    AdmissionRequest, AdmissionResponse, AdmissionReview, AdmissionReviewResponse, ImageReview,
    ImageReviewResponse, Status, json_patch, pinned_image, pins_needed, review_images, shorten,
    validate_response,
};
use pyimage_policy::check::{CheckContext, Policy};
use pyimage_policy::config::RegistryFailure;
use pyimage_policy::signatures::SignatureFacts;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::state::AppState;

type Shared = State<Arc<AppState>>;

/// An answer that is not a review: a status and a line of text.
struct Refusal(StatusCode, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, self.1).into_response()
    }
}

/// Counts and logs a refusal.
fn refuse(state: &AppState, status: StatusCode, kind: &'static str, message: String) -> Refusal {
    state.metrics.error(kind);
    tracing::debug!(%status, "{message}");
    Refusal(status, message)
}

/// The request body, read within the listener's time and shared byte budget (see [`crate::limits`]).
async fn read(state: &AppState, body: Body) -> Result<crate::limits::ReadBody, Refusal> {
    state.budget.read(body).await.map_err(|unread| {
        let kind = match unread.0 {
            StatusCode::PAYLOAD_TOO_LARGE => "too-large",
            StatusCode::REQUEST_TIMEOUT => "body-timeout",
            StatusCode::SERVICE_UNAVAILABLE => "body-budget",
            _ => "body",
        };
        refuse(state, unread.0, kind, unread.1)
    })
}

/// An AdmissionReview answer ([`AdmissionReviewResponse::to_json`]).
fn admission_answer(response: AdmissionResponse) -> Response {
    let body = AdmissionReviewResponse::new(response).to_json();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The answer as JSON, written into one buffer sized for a typical review's answer (a deny with its message is
/// well under 4 KiB), so it is not grown by copies.
fn json_response(value: &impl Serialize) -> Response {
    let mut body = Vec::with_capacity(4096);
    match serde_json::to_writer(&mut body, value) {
        Ok(()) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

/// The request's `Content-Type`, the one header the review endpoints read, taken alone (axum's `HeaderMap`
/// extractor copies every header of every request).
pub struct ContentType(Option<HeaderValue>);

impl<S: Send + Sync> FromRequestParts<S> for ContentType {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ContentType(
            parts.headers.get(header::CONTENT_TYPE).cloned(),
        ))
    }
}

/// The answer refusing a body that is not JSON by its `Content-Type`.
fn json_content(state: &AppState, content_type: &ContentType) -> Result<(), Refusal> {
    let content_type = content_type
        .0
        .as_ref()
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Err(refuse(
            state,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content-type",
            format!("expected Content-Type: application/json, got {content_type:?}"),
        ));
    }
    Ok(())
}

/// The answer refusing a body that is not a review.
fn malformed(state: &AppState, error: &dyn std::fmt::Display) -> Refusal {
    refuse(
        state,
        StatusCode::BAD_REQUEST,
        "malformed",
        format!("malformed review: {error}"),
    )
}

/// The body as `T`, or the answer refusing it.
fn parse<T: DeserializeOwned>(
    state: &AppState,
    content_type: &ContentType,
    body: &Bytes,
) -> Result<T, Refusal> {
    json_content(state, content_type)?;
    serde_json::from_slice(body).map_err(|error| malformed(state, &error))
}

/// The AdmissionReview v1 request of the body, read once and borrowed from it, or the answer refusing it.
fn admission_request<'b>(
    state: &AppState,
    content_type: &ContentType,
    body: &'b Bytes,
) -> Result<AdmissionRequest<'b>, Refusal> {
    json_content(state, content_type)?;
    let review = AdmissionReview::parse(body).map_err(|error| malformed(state, &error))?;
    if review.api_version.as_str() != "admission.k8s.io/v1"
        || review.kind.as_str() != "AdmissionReview"
    {
        return Err(refuse(
            state,
            StatusCode::BAD_REQUEST,
            "malformed",
            format!(
                "expected an admission.k8s.io/v1 AdmissionReview, got {:?} {:?}",
                review.api_version, review.kind
            ),
        ));
    }
    review.request.ok_or_else(|| {
        refuse(
            state,
            StatusCode::BAD_REQUEST,
            "malformed",
            "the AdmissionReview has no request".to_owned(),
        )
    })
}

fn policy<'a>(state: &'a AppState, environment: Option<&str>) -> Result<&'a Policy, Refusal> {
    state.policy_for(environment).ok_or_else(|| {
        let known: Vec<&str> = state.forced.keys().map(String::as_str).collect();
        refuse(
            state,
            StatusCode::NOT_FOUND,
            "environment",
            format!(
                "unknown environment {:?}: the configuration has {}",
                environment.unwrap_or_default(),
                known.join(", ")
            ),
        )
    })
}

static NO_BUILD_ARGS: ScanOptions = ScanOptions::NONE;

fn context(signatures: Option<&SignatureFacts>) -> CheckContext<'_> {
    CheckContext {
        today: pyimage_service::clock::today(),
        lock: None,
        build: &NO_BUILD_ARGS,
        signatures,
    }
}

fn decision_of(response: &AdmissionResponse) -> &'static str {
    match (response.allowed, response.patch.is_some()) {
        (false, _) => "deny",
        (true, true) => "patch",
        (true, false) => "allow",
    }
}

/// `POST /validate` and `POST /validate/{environment}` (every image judged in that environment).
pub async fn validate(
    State(state): Shared,
    environment: Option<Path<String>>,
    content_type: ContentType,
    body: Body,
) -> Response {
    let environment = environment.map(|Path(environment)| environment);
    let body = match read(&state, body).await {
        Ok(body) => body,
        Err(refused) => return refused.into_response(),
    };
    let start = Instant::now();
    let (policy, request) = match policy(&state, environment.as_deref()).and_then(|policy| {
        Ok((
            policy,
            admission_request(&state, &content_type, &body.bytes)?,
        ))
    }) {
        Ok(parsed) => parsed,
        Err(refused) => return refused.into_response(),
    };
    // Signature rules need registry answers first (only then: the policy decides without I/O otherwise).
    let signatures = match state.signatures {
        Some(_) => crate::signatures::for_admission(&state, policy, &request).await,
        None => None,
    };
    // A decision that read signatures depends on registry answers: never taken from, nor put in, the remembered
    // decisions of the policy alone.
    let judged = match &signatures {
        Some(_) => {
            pyimage_policy::admission::judge(&request, policy, &context(signatures.as_ref()))
        }
        None => state.judge(environment.as_deref(), &request, policy, &context(None)),
    };
    if from_api_server(&request) {
        state.recent.record_judged(
            request.namespace.as_deref().unwrap_or_default(),
            request.describe_object(),
            policy,
            &judged,
        );
    }
    let response = validate_response(&request, &judged);
    state.metrics.request(
        "validate",
        decision_of(&response),
        start.elapsed().as_secs_f64(),
    );
    admission_answer(response)
}

/// `POST /mutate` and `POST /mutate/{environment}` (every image judged in that environment).
pub async fn mutate(
    State(state): Shared,
    environment: Option<Path<String>>,
    content_type: ContentType,
    body: Body,
) -> Response {
    let environment = environment.map(|Path(environment)| environment);
    let body = match read(&state, body).await {
        Ok(body) => body,
        Err(refused) => return refused.into_response(),
    };
    mutate_in(&state, environment.as_deref(), &content_type, &body.bytes).await
}

async fn mutate_in(
    state: &AppState,
    environment: Option<&str>,
    content_type: &ContentType,
    body: &Bytes,
) -> Response {
    let start = Instant::now();
    let (policy, request) = match (
        policy(state, environment),
        admission_request(state, content_type, body),
    ) {
        (Ok(policy), Ok(request)) => (policy, request),
        (Err(refused), _) | (_, Err(refused)) => return refused.into_response(),
    };
    let needs = pins_needed(&request, policy, |name| state.mutates(policy, name));
    // A few lookups of this request at a time (and [`crate::MAX_LOOKUPS`] of all requests): a Pod with thousands
    // of tags waits its turn; what has not been answered at the deadline is a failure like any other.
    let mut results = Vec::with_capacity(needs.len());
    // Collected first: a stream over a borrowing closure is not `Send` for every lifetime axum asks about.
    let pending: Vec<_> = needs
        .iter()
        .map(|need| state.digests.digest(&need.reference))
        .collect();
    let lookups = async {
        let mut answers = futures_util::stream::iter(pending).buffered(LOOKUPS_PER_REQUEST);
        while let Some(answer) = answers.next().await {
            results.push(answer);
        }
    };
    // Leave a tenth of the deadline to answer in.
    let budget = state.serve.deadline.mul_f64(0.9);
    if tokio::time::timeout(budget, lookups).await.is_err() {
        state.metrics.error("deadline");
        let why = format!(
            "the registry did not answer within {} ms",
            budget.as_millis()
        );
        results.resize_with(needs.len(), || Err(why.clone()));
    }
    let mut edits = Vec::new();
    let mut failures = Vec::new();
    for (need, result) in needs.iter().zip(results) {
        match result {
            Ok((digest, _)) => {
                edits.push((need.image.pointer.clone(), pinned_image(need, &digest)))
            }
            Err(why) => failures.push(format!(
                "{} {:?} image {}: {why}",
                need.image.slot.noun(),
                need.image.name,
                need.image.image
            )),
        }
    }
    let mut response = AdmissionResponse {
        uid: request.uid.to_string(),
        allowed: true,
        ..AdmissionResponse::default()
    };
    if !failures.is_empty() {
        state.metrics.error("registry");
        tracing::warn!(
            object = %request.describe_object(),
            "no digest to pin {} images: {}",
            failures.len(),
            shorten(&failures.join("; "), MAX_LOGGED)
        );
        match state.serve.on_registry_failure {
            RegistryFailure::Allow => {
                response.warnings = capped_warnings(&failures);
            }
            RegistryFailure::Deny => {
                response.allowed = false;
                response.status = Some(Status {
                    status: "Failure",
                    code: 403,
                    reason: "Forbidden",
                    message: shorten(
                        &format!(
                            "pyimage could not pin {} (on-registry-failure = \"deny\"): {}",
                            request.describe_object(),
                            failures.join("; ")
                        ),
                        pyimage_policy::admission::MAX_MESSAGE,
                    ),
                });
            }
        }
    }
    if from_api_server(&request) {
        record_pins(state, &request, policy, &needs, &edits);
    }
    if response.allowed
        && let Some(patch) = json_patch(&edits)
    {
        response.patch = Some(patch);
        response.patch_type = Some("JSONPatch");
        let pinned: Vec<&str> = edits.iter().map(|(_, image)| image.as_str()).collect();
        response
            .audit_annotations
            .insert("pinned".into(), shorten(&pinned.join(", "), 1000));
    }
    state.metrics.request(
        "mutate",
        decision_of(&response),
        start.elapsed().as_secs_f64(),
    );
    admission_answer(response)
}

/// Images a request looks up at once.
const LOOKUPS_PER_REQUEST: usize = 8;
/// Bytes of one log line's list of failures.
const MAX_LOGGED: usize = 2048;

/// One warning per image not pinned, at most [`MAX_WARNINGS`] as `/validate` gives, the last saying how many more.
fn capped_warnings(failures: &[String]) -> Vec<String> {
    let shown = if failures.len() > MAX_WARNINGS {
        MAX_WARNINGS - 1
    } else {
        failures.len()
    };
    let mut warnings: Vec<String> = failures[..shown]
        .iter()
        .map(|failure| shorten(&format!("pyimage: not pinned, {failure}"), 120))
        .collect();
    if shown < failures.len() {
        warnings.push(format!(
            "pyimage: {} more images not pinned",
            failures.len() - shown
        ));
    }
    warnings
}

/// Whether a review looks like one the API server sent, and so belongs among the page's decisions: a uid, an
/// operation the API server admits (CREATE, UPDATE, DELETE, CONNECT), the requesting user's name, and not a dry run
/// (a dry run decides nothing). Every review is answered; only these are recorded, so a client that invents reviews
/// without the API server's fields cannot fill the page. The shape is not authentication: a pod that can reach the
/// admission port can copy it, which is why deploy/ also keeps other pods off the page's port and documents
/// restricting the admission port.
fn from_api_server(request: &AdmissionRequest<'_>) -> bool {
    !request.uid.trim().is_empty()
        && matches!(
            request.operation.as_str(),
            "CREATE" | "UPDATE" | "DELETE" | "CONNECT"
        )
        && request.dry_run != Some(true)
        && request
            .user_info
            .as_ref()
            .is_some_and(|user| !user.username.trim().is_empty())
}

/// Whether an ImageReview looks like one the ImagePolicyWebhook plugin sent, and so belongs among the page's
/// decisions (as [`from_api_server`] judges AdmissionReviews): the plugin always names the Pod's namespace, sends
/// each of its containers with an image (a Pod without one fails validation anyway), passes only annotations of
/// the `*.image-policy.k8s.io/*` form (it filters the Pod's), and sends its own zero status — never an allowed one
/// or a reason. Every review is answered; only these are recorded. A shape, not an authentication.
fn from_image_policy_plugin(review: &ImageReview) -> bool {
    let spec = &review.spec;
    !spec.namespace.trim().is_empty()
        && !spec.containers.is_empty()
        && spec
            .containers
            .iter()
            .all(|container| !container.image.trim().is_empty())
        && spec
            .annotations
            .keys()
            .all(|key| key.contains(".image-policy.k8s.io/"))
        && review
            .status
            .as_ref()
            .is_none_or(|status| !status.allowed && status.reason.is_empty())
}

/// Records each image the mutating webhook pinned, for the page.
fn record_pins(
    state: &AppState,
    request: &AdmissionRequest<'_>,
    policy: &Policy,
    needs: &[pyimage_policy::admission::PinNeed],
    edits: &[(String, String)],
) {
    let namespace = request.namespace.as_deref().unwrap_or_default();
    let object = request.describe_object();
    for need in needs {
        let Some((_, pinned)) = edits
            .iter()
            .find(|(pointer, _)| *pointer == need.image.pointer)
        else {
            continue;
        };
        state.recent.record(
            policy,
            namespace,
            format!("{object} ({} {})", need.image.slot.noun(), need.image.name),
            pinned.clone(),
            pyimage_report::Outcome::Patched,
            None,
        );
    }
}

/// `POST /imagepolicy` and `POST /imagepolicy/{environment}` (every image judged in that environment).
pub async fn imagepolicy(
    State(state): Shared,
    environment: Option<Path<String>>,
    content_type: ContentType,
    body: Body,
) -> Response {
    let environment = environment.map(|Path(environment)| environment);
    let body = match read(&state, body).await {
        Ok(body) => body,
        Err(refused) => return refused.into_response(),
    };
    imagepolicy_in(&state, environment.as_deref(), &content_type, &body.bytes).await
}

async fn imagepolicy_in(
    state: &AppState,
    environment: Option<&str>,
    content_type: &ContentType,
    body: &Bytes,
) -> Response {
    let start = Instant::now();
    let policy = match policy(state, environment) {
        Ok(policy) => policy,
        Err(refused) => return refused.into_response(),
    };
    let review: ImageReview = match parse(state, content_type, body) {
        Ok(review) => review,
        Err(refused) => return refused.into_response(),
    };
    if review.api_version != "imagepolicy.k8s.io/v1alpha1" || review.kind != "ImageReview" {
        return refuse(
            state,
            StatusCode::BAD_REQUEST,
            "malformed",
            format!(
                "expected an imagepolicy.k8s.io/v1alpha1 ImageReview, got {:?} {:?}",
                review.api_version, review.kind
            ),
        )
        .into_response();
    }
    let signatures = crate::signatures::gather(
        state,
        policy,
        &review.spec.namespace,
        review
            .spec
            .containers
            .iter()
            .map(|container| container.image.clone())
            .collect(),
    )
    .await;
    let decision = review_images(&review, policy, &context(signatures.as_ref()));
    if let Some(reason) = &decision.break_glass {
        state.metrics.break_glass.inc();
        tracing::warn!(
            namespace = %loggable(&review.spec.namespace),
            reason = %loggable(reason),
            "break-glass: images the policy denies were allowed"
        );
    }
    let outcome = if decision.status.allowed {
        pyimage_report::Outcome::Allowed
    } else {
        pyimage_report::Outcome::Denied
    };
    let recorded = if from_image_policy_plugin(&review) {
        review.spec.containers.as_slice()
    } else {
        &[]
    };
    for container in recorded {
        state.recent.record(
            policy,
            &review.spec.namespace,
            "ImageReview".to_owned(),
            container.image.clone(),
            outcome,
            decision
                .break_glass
                .as_ref()
                .map(|_| "break-glass".to_owned()),
        );
    }
    let label = match (&decision.break_glass, decision.status.allowed) {
        (Some(_), _) => "break-glass",
        (None, true) => "allow",
        (None, false) => "deny",
    };
    state
        .metrics
        .request("imagepolicy", label, start.elapsed().as_secs_f64());
    json_response(&ImageReviewResponse::new(decision.status))
}

/// Characters of requester text (a break-glass reason) a log line carries.
const MAX_LOGGED_TEXT: usize = 256;

/// Requester text made safe for one log line: cut to [`MAX_LOGGED_TEXT`] characters, then newlines, other control
/// characters and bidirectional overrides written as visible escapes (`\n`, `\x1b`, `\u{202e}`), so it can neither
/// start a forged line nor drive the terminal reading the log.
fn loggable(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    for c in chars.by_ref().take(MAX_LOGGED_TEXT) {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)))
            }
            c => out.push(c),
        }
    }
    let rest = chars.count();
    if rest > 0 {
        out.push_str(&format!("… ({rest} more characters)"));
    }
    out
}

/// `GET /healthz`: the process answers.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the configuration is loaded and the listener bound.
pub async fn readyz(State(state): Shared) -> Response {
    if state.ready.load(Ordering::Relaxed) {
        "ready".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "starting").into_response()
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): Shared) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
