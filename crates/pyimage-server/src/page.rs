//! `GET /`: the drift page, read-only — the history store's tag timelines and the lock's stale pins (when a store
//! is configured) and what admission decided lately, rendered by the same code as `pyimage history --format html`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use pyimage_service::drift;

use crate::state::AppState;

/// `GET /`.
pub async fn page(State(state): State<Arc<AppState>>) -> Response {
    let lock = state
        .lock
        .as_ref()
        .map(|(shown, lock)| (shown.as_str(), lock));
    let admission = Some(state.recent.section());
    let html = match drift::assemble(state.store.as_ref(), &[], lock, admission).await {
        Ok(html) => html,
        Err(error) => return unavailable(&error.to_string()),
    };
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // Nothing on the page loads anything: say so to the browser too.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
            ),
        ],
        html,
    )
        .into_response()
}

fn unavailable(why: &str) -> Response {
    tracing::warn!("the page could not read the history store: {why}");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        format!("the history store cannot be read: {why}"),
    )
        .into_response()
}
