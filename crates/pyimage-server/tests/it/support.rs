//! What the in-process tests share: a server state built from configuration text (as `pyimage serve` builds it),
//! requests sent through the router without a socket, and the admission payloads of tests/data/admission
//! (SOURCES.md there names each source).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine as _;
use pyimage_model::lock::Lock;
use pyimage_policy::config::{Overrides, Settings};
use pyimage_registry::{ClientOptions, CredentialStore, RegistryClient};
use pyimage_server::{AppState, ServerOptions};
use pyimage_service::Resolver;
use serde_json::Value;
use tower::ServiceExt as _;

/// Prod namespaces, as in the deployment examples: `prod-*` is prod, everything else dev.
pub const PROD_NAMESPACES: &str = "[[namespaces]]\nmatch = \"prod-*\"\nenvironment = \"prod\"\n";

/// A server's state and its router (the page on `/` too), as `pyimage serve` builds them from `config` (the text of
/// a `pyimage.toml`) and `lock`, marked ready as the listener would.
pub struct Served {
    /// The shared state (metrics, the recent decisions).
    pub state: Arc<AppState>,
    /// The routes.
    pub router: Router,
}

/// [`Served`] from configuration text and an optional lock.
pub fn served(config: &str, lock: Option<Lock>) -> Served {
    let served = not_ready(config, lock);
    served.state.ready.store(true, Ordering::Relaxed);
    served
}

/// [`served`] with a history store for the page.
pub fn served_with_store(config: &str, store: pyimage_store::Store) -> Served {
    let served = build(config, None, Some(store));
    served.state.ready.store(true, Ordering::Relaxed);
    served
}

/// [`served`] before the listener is bound (`/readyz` says `starting`).
pub fn not_ready(config: &str, lock: Option<Lock>) -> Served {
    build(config, lock, None)
}

fn build(config: &str, lock: Option<Lock>, store: Option<pyimage_store::Store>) -> Served {
    pyimage_registry::install_crypto_provider();
    let settings = Settings::parse(config, "pyimage.toml", &Overrides::default())
        .unwrap_or_else(|error| panic!("the test's configuration is valid: {error}"));
    let client = RegistryClient::new(
        settings.registries.clone(),
        CredentialStore::anonymous(),
        ClientOptions::default(),
    )
    .unwrap();
    let options = ServerOptions {
        settings,
        lock,
        resolver: Resolver::new(client),
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: None,
        reload_every: Duration::from_secs(2),
        store,
        lock_shown: None,
        page_listen: None,
        limits: pyimage_server::Limits::default(),
        keyring: None,
        workers: 1,
    };
    let state = Arc::new(AppState::new(&options));
    let router = pyimage_server::router(Arc::clone(&state), true);
    Served { state, router }
}

/// An answer: status, headers and body.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8(self.body.to_vec()).unwrap()
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {} {}", self.status, self.text()))
    }
}

impl Served {
    /// Sends one request through the router (no socket).
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(path);
        if !content_type.is_empty() {
            request = request.header("content-type", content_type);
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        Answer {
            status,
            headers,
            body,
        }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Answer {
        self.send("GET", path, "", Vec::new()).await
    }

    /// POSTs `body` as JSON to `path` and returns the AdmissionReview's `response`, checking the envelope.
    pub async fn review(&self, path: &str, body: &Value) -> Value {
        let answer = self
            .send(
                "POST",
                path,
                "application/json",
                body.to_string().into_bytes(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.text());
        let value = answer.json();
        assert_eq!(value["apiVersion"], "admission.k8s.io/v1", "{value}");
        assert_eq!(value["kind"], "AdmissionReview", "{value}");
        value["response"].clone()
    }

    /// The metrics text.
    pub async fn metrics(&self) -> String {
        let answer = self.get("/metrics").await;
        assert_eq!(answer.status, StatusCode::OK);
        answer.text()
    }
}

/// A payload of tests/data/admission.
pub fn payload(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/admission")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The payload as the API server sends it: a v1 AdmissionReview (bare kubewarden requests are wrapped).
pub fn review(name: &str) -> Value {
    let value = payload(name);
    let request = value.get("request").cloned().unwrap_or(value);
    serde_json::json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request})
}

/// The review with the first container's image replaced and the namespace set.
pub fn with_image(name: &str, image: &str, namespace: &str) -> Value {
    let mut value = review(name);
    let request = &mut value["request"];
    request["namespace"] = namespace.into();
    let kind = request["kind"]["kind"].as_str().unwrap().to_owned();
    let prefix = match kind.as_str() {
        "Pod" => "/spec",
        "CronJob" => "/spec/jobTemplate/spec/template/spec",
        _ => "/spec/template/spec",
    };
    *request["object"]
        .pointer_mut(&format!("{prefix}/containers/0/image"))
        .unwrap() = image.into();
    value
}

/// Applies a base64 JSONPatch (`response.patch`) to `object` with the json-patch crate.
pub fn apply_patch(object: &mut Value, patch_b64: &str) {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(patch_b64)
        .unwrap();
    let patch: json_patch::Patch = serde_json::from_slice(&bytes).unwrap();
    json_patch::patch(object, &patch).unwrap();
}
