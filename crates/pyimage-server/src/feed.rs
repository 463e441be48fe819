//! `GET /feed/renovate/<repository>.json`, beside the drift page: the history store's tags of one repository as a
//! Renovate custom datasource (`pyimage_render::feed`), each tag's digest dated by when the registry first served
//! it. Two bounded reads of the store (each tag's newest event, each digest's first sighting), whatever its age.
//! `python.json` names `docker.io/library/python`, as `docker pull` reads `python`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use pyimage_model::Reference;

use crate::state::AppState;

/// The feed of the repository named by the path.
pub async fn renovate(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> Response {
    let Some(store) = state.store.as_ref() else {
        return (
            StatusCode::NOT_FOUND,
            "no history store: start `pyimage serve` with --store to publish the feed\n",
        )
            .into_response();
    };
    let name = name.strip_suffix(".json").unwrap_or(&name);
    let Ok(reference) = Reference::parse_normalized(name) else {
        return (
            StatusCode::BAD_REQUEST,
            "not a repository: ask for /feed/renovate/python.json or /feed/renovate/<registry>/<path>.json\n",
        )
            .into_response();
    };
    let repository = reference.repository().to_string();
    let read = async {
        let latest = store.latest_events(&repository).await?;
        let first_served = store.first_served_all(&repository).await?;
        Ok::<_, pyimage_store::StoreError>((latest, first_served))
    };
    let (latest, first_served) = match read.await {
        Ok(read) => read,
        Err(error) => {
            tracing::warn!("the feed could not read the history store: {error}");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the history store cannot be read: {error}\n"),
            )
                .into_response();
        }
    };
    if latest.is_empty() {
        return (
            StatusCode::NOT_FOUND,
            format!("no moves of {repository} recorded: is `pyimage watch` filling this store?\n"),
        )
            .into_response();
    }
    let feed = pyimage_render::feed::renovate_feed_of_latest(&repository, &latest, &first_served);
    match serde_json::to_string_pretty(&feed) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}
