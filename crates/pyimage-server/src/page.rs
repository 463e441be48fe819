//! `GET /`: the drift page, read-only — the history store's tag timelines, the lock's stale pins and each shown tag's
//! chain of trust as far as the recorded state and the policy tell it (when a store is configured), and what admission
//! decided lately, rendered by the same code as `pyimage history --format html`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use pyimage_service::drift;

use crate::state::AppState;

/// Tags shown on the page at most (those that moved last).
pub const PAGE_TAGS: usize = 100;
/// Moves shown per tag at most (the newest).
pub const PAGE_MOVES_PER_TAG: usize = 30;

/// Moves read from the store for one page at most.
const PAGE_EVENTS: i64 = 2000;
/// The windows tried, widest first: the widest whose moves fit in [`PAGE_EVENTS`] is shown.
const WINDOWS_DAYS: [u64; 4] = [90, 30, 7, 1];

/// `GET /`.
pub async fn page(State(state): State<Arc<AppState>>) -> Response {
    let lock = state
        .lock
        .as_ref()
        .map(|(shown, lock)| (shown.as_str(), lock));
    let admission = Some(state.recent.section());
    let html = match state.store.as_ref() {
        // Without a store there is nothing unbounded to read: the shared assembly says so.
        None => drift::assemble(None, &[], lock, admission).await,
        Some(store) => bounded(store, lock, admission, &state.policy).await,
    };
    let html = match html {
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

/// The page over a store of any size: the moves of the widest recent window that fits in [`PAGE_EVENTS`], the
/// newest [`PAGE_MOVES_PER_TAG`] of each tag, the [`PAGE_TAGS`] tags that moved last; the line under the title says
/// what was left out and that `pyimage history` shows it.
async fn bounded(
    store: &pyimage_store::Store,
    lock: Option<(&str, &pyimage_model::lock::Lock)>,
    admission: Option<pyimage_report::AdmissionSection>,
    policy: &pyimage_policy::check::Policy,
) -> Result<String, pyimage_service::ServiceError> {
    let now = pyimage_service::clock::unix_seconds();
    let mut shown = (Vec::new(), 0, false);
    for days in WINDOWS_DAYS {
        let since = pyimage_model::time::rfc3339_utc(now.saturating_sub(days * 86_400));
        let mut events = store
            .moves_since(&since, PAGE_EVENTS + 1)
            .await
            .map_err(pyimage_service::watch::store_error)?;
        let complete = events.len() as i64 <= PAGE_EVENTS;
        events.truncate(PAGE_EVENTS as usize);
        shown = (events, days, !complete);
        if complete {
            break;
        }
    }
    let (events, days, cut) = shown;
    // Oldest first from the store: grouped by tag, the newest moves of each kept.
    let mut by_tag: BTreeMap<(String, String), Vec<pyimage_store::Event>> = BTreeMap::new();
    for event in events {
        by_tag
            .entry((event.repository.clone(), event.tag.clone()))
            .or_default()
            .push(event);
    }
    let tags = by_tag.len();
    let mut left_out = 0;
    let mut groups: Vec<_> = by_tag
        .into_iter()
        .map(|(key, mut events)| {
            let excess = events.len().saturating_sub(PAGE_MOVES_PER_TAG);
            left_out += excess;
            events.drain(..excess);
            (key, events)
        })
        .collect();
    // The tags that moved last first, the rest left out.
    groups.sort_by(|a, b| {
        let last = |events: &[pyimage_store::Event]| {
            events
                .last()
                .map(|e| e.observed_at.clone())
                .unwrap_or_default()
        };
        last(&b.1).cmp(&last(&a.1))
    });
    for (_, events) in groups.iter().skip(PAGE_TAGS) {
        left_out += events.len();
    }
    groups.truncate(PAGE_TAGS);
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    let timelines = groups
        .iter()
        .filter_map(|((repository, tag), events)| drift::timeline_of(repository, tag, events))
        .collect();
    let standings = match lock {
        Some((_, lock)) => Some(drift::standings(store, lock).await?),
        None => None,
    };
    let stale = lock
        .zip(standings.as_deref())
        .map(|((shown, _), standings)| drift::stale_section(shown, standings));
    // The chain of each tag shown, from its newest move already read: no more reads.
    let chains = pyimage_service::chain::page_section(
        groups.iter().filter_map(|(_, events)| events.last()),
        standings.as_deref(),
        policy,
        pyimage_service::clock::today(),
    );
    let mut source = format!(
        "the history store {} and this server's admissions: the moves of the last {days} day(s)",
        store.url().shown
    );
    if cut || left_out > 0 || tags > PAGE_TAGS {
        source.push_str(&format!(
            ", at most {PAGE_MOVES_PER_TAG} per tag and {PAGE_TAGS} tags ({} left out{})",
            left_out,
            if cut {
                ", and older moves past the first 2000"
            } else {
                ""
            }
        ));
    }
    source.push_str(&format!(
        "; `pyimage history --store {}` shows every move",
        store.url().shown
    ));
    Ok(pyimage_report::render(&pyimage_report::Report {
        title: "Python image drift".to_owned(),
        source,
        generated_at: now,
        timelines,
        stale,
        admission,
        chains: Some(chains),
    }))
}
fn unavailable(why: &str) -> Response {
    tracing::warn!("the page could not read the history store: {why}");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        format!("the history store cannot be read: {why}"),
    )
        .into_response()
}
