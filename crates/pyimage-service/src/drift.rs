//! What the drift page and `pyimage history --lock` show, read from the history store once for both: each tag's
//! timeline (its moves, with Python and package changes) and how every pinned reference of a lock stands against
//! its tag (current, stale since when and how many moves behind, or unknown). `pyimage history --format html` and
//! `pyimage serve`'s page render the same [`pyimage_report::Report`].

use pyimage_model::Reference;
use pyimage_model::lock::Lock;
use pyimage_model::time::parse_rfc3339_utc;
use pyimage_policy::moves::MoveKind;
use pyimage_report::{AdmissionSection, Report, StalePin, StaleSection, TagMove, Timeline};
use pyimage_store::{Event, Store};
use serde::Serialize;

use crate::error::ServiceError;
use crate::watch::{Changes, TagState, store_error, targets};

/// The drift page, assembled in one place for `pyimage history --format html` and `pyimage serve`: the timelines
/// of `tags` (every recorded tag when empty) and the stale pins of `lock` (shown as its `&str`) from the store,
/// and (from a server) the admission summary, with a line saying where the data came from.
pub async fn assemble(
    store: Option<&Store>,
    tags: &[(String, String)],
    lock: Option<(&str, &Lock)>,
    admission: Option<AdmissionSection>,
) -> Result<String, ServiceError> {
    let (mut timelines_of, mut stale) = (Vec::new(), None);
    if let Some(store) = store {
        timelines_of = timelines(store, tags).await?;
        if let Some((shown, lock)) = lock {
            stale = Some(stale_section(shown, &standings(store, lock).await?));
        }
    }
    let source = match (store, &admission) {
        (Some(store), None) => format!("the history store {}", store.url().shown),
        (Some(store), Some(_)) => format!(
            "the history store {} and this server's admissions",
            store.url().shown
        ),
        (None, Some(_)) => {
            "this server's admissions (no history store configured: [store] url)".to_owned()
        }
        (None, None) => "nothing (no history store)".to_owned(),
    };
    Ok(page(&source, timelines_of, stale, admission))
}

/// The drift page, made now: the timelines, the stale pins and (from a server) the admission summary, with a line
/// saying where the data came from.
fn page(
    source: &str,
    timelines: Vec<Timeline>,
    stale: Option<StaleSection>,
    admission: Option<AdmissionSection>,
) -> String {
    pyimage_report::render(&Report {
        title: "Python image drift".to_owned(),
        source: source.to_owned(),
        generated_at: crate::clock::unix_seconds(),
        timelines,
        stale,
        admission,
        // The chain needs the policy of a server: `history --format html` leaves it out.
        chains: None,
    })
}

/// How a locked reference stands against its tag's recorded history.
#[derive(Debug, Clone, Serialize)]
pub struct Standing {
    /// The reference as written in the lock.
    pub reference: String,
    /// The digest it is pinned to.
    pub pinned: String,
    /// `current`, `stale`, or `unknown` (the store never saw the pinned digest or the tag).
    pub status: &'static str,
    /// Where the tag points now, as last recorded.
    pub current: Option<String>,
    /// When the tag first moved away from the pinned digest (RFC 3339 UTC).
    pub stale_since: Option<String>,
    /// How many moves the tag made since.
    pub moves_behind: Option<usize>,
}

/// Events searched, newest first, for a pin of a platform manifest (`pin --platform`), whose digest is in an event's
/// state rather than its `to_digest`.
const PLATFORM_PIN_SEARCH: i64 = 50;

/// Every pinned reference of `lock` against the store's history, in the lock's order. Of each tag only what the
/// answer needs is read — its last event, the newest one moving it to the pinned digest, the move after that and a
/// count — never the whole timeline: a tag with years of moves costs the same as one with two. A platform pin is
/// looked for among the newest [`PLATFORM_PIN_SEARCH`] events; older than that it stands as unknown.
pub async fn standings(store: &Store, lock: &Lock) -> Result<Vec<Standing>, ServiceError> {
    let mut rows = Vec::new();
    for entry in lock.entries() {
        let Some(reference) = Reference::parse_normalized(&entry.normalized)
            .ok()
            .and_then(|r| targets::tag_of(&r))
        else {
            continue;
        };
        let (repository, tag) = (
            reference.repository().to_string(),
            reference.tag().unwrap_or("latest").to_owned(),
        );
        let last = store
            .last_event(&repository, &tag)
            .await
            .map_err(store_error)?;
        let current = last.as_ref().and_then(|e| e.to_digest.clone());
        // The lock may hold a platform digest (pin --platform): match either the index or a platform manifest.
        let holds = |e: &Event| {
            e.to_digest.as_deref() == Some(entry.digest.as_str())
                || serde_json::from_value::<TagState>(e.state.clone())
                    .is_ok_and(|s| s.platforms.values().any(|d| *d == entry.digest))
        };
        let holding = match &last {
            None => None,
            Some(last) if holds(last) => Some(last.clone()),
            Some(_) => match store
                .last_event_to(&repository, &tag, &entry.digest)
                .await
                .map_err(store_error)?
            {
                Some(event) => Some(event),
                None => store
                    .newest_events(&repository, &tag, PLATFORM_PIN_SEARCH)
                    .await
                    .map_err(store_error)?
                    .into_iter()
                    .rev()
                    .find(&holds),
            },
        };
        let (status, stale_since, moves_behind) = match (&last, holding) {
            (Some(last), Some(held)) if held.seq == last.seq => ("current", None, Some(0)),
            (_, Some(held)) => {
                let (behind, next) = store
                    .moves_after(&repository, &tag, held.seq)
                    .await
                    .map_err(store_error)?;
                (
                    "stale",
                    next.map(|next| next.observed_at),
                    Some(usize::try_from(behind).unwrap_or(0)),
                )
            }
            _ => ("unknown", None, None),
        };
        rows.push(Standing {
            reference: entry.reference.clone(),
            pinned: entry.digest.clone(),
            status,
            current,
            stale_since,
            moves_behind,
        });
    }
    Ok(rows)
}

/// The stale-pins section of the page for these standings (`source` names the lock).
pub fn stale_section(source: &str, standings: &[Standing]) -> StaleSection {
    StaleSection {
        source: source.to_owned(),
        pins: standings
            .iter()
            .map(|standing| StalePin {
                reference: standing.reference.clone(),
                pinned_digest: standing.pinned.clone(),
                current_digest: standing.current.clone(),
                stale_since: standing.stale_since.as_deref().and_then(parse_rfc3339_utc),
                moves_behind: standing.moves_behind.unwrap_or(0),
            })
            .collect(),
    }
}

/// The timelines of the given tags (`(repository, tag)`; every tag in the store when empty), oldest move first.
/// A tag's first event (`new-tag`) starts its timeline; `removed` shows as a move to no digest.
pub async fn timelines(
    store: &Store,
    tags: &[(String, String)],
) -> Result<Vec<Timeline>, ServiceError> {
    let tags = if tags.is_empty() {
        store.tags().await.map_err(store_error)?
    } else {
        tags.to_vec()
    };
    let mut timelines = Vec::new();
    for (repository, tag) in &tags {
        let events = store
            .timeline(repository, tag, None)
            .await
            .map_err(store_error)?;
        if let Some(timeline) = timeline_of(repository, tag, &events) {
            timelines.push(timeline);
        }
    }
    Ok(timelines)
}

/// One tag's events as a page timeline; `None` when there are none.
pub fn timeline_of(repository: &str, tag: &str, events: &[Event]) -> Option<Timeline> {
    let first = events.first()?;
    let first_seen = parse_rfc3339_utc(&first.observed_at).unwrap_or(0);
    let moves = events
        .iter()
        .filter(|event| event.kind != "new-tag")
        .map(|event| {
            let changes: Changes =
                serde_json::from_value(event.changes.clone()).unwrap_or_default();
            TagMove {
                at: parse_rfc3339_utc(&event.observed_at).unwrap_or(first_seen),
                kind: kind_of(&event.kind),
                old_digest: event.from_digest.clone(),
                new_digest: event
                    .to_digest
                    .clone()
                    .unwrap_or_else(|| "(tag removed)".to_owned()),
                python_before: event.python_from.clone(),
                python_after: event.python_to.clone(),
                packages: changes.packages,
            }
        })
        .collect();
    let last = events.last()?;
    Some(Timeline {
        reference: familiar(repository, tag),
        first_seen,
        current_digest: last.to_digest.clone(),
        current_python: last.python_to.clone(),
        moves,
    })
}

/// The store's event kind as the page's move kind (`removed` and anything unknown are "other").
fn kind_of(kind: &str) -> MoveKind {
    match kind {
        "rebuild" => MoveKind::Rebuild,
        "patch" => MoveKind::Patch,
        "newer-line" => MoveKind::NewerLine,
        _ => MoveKind::Other,
    }
}

/// `python:3.12-slim` for `docker.io/library/python` and `3.12-slim`; other repositories in full.
pub fn familiar(repository: &str, tag: &str) -> String {
    format!(
        "{}:{tag}",
        repository
            .strip_prefix("docker.io/library/")
            .unwrap_or(repository)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: i64, kind: &str, from: Option<&str>, to: Option<&str>, at: &str) -> Event {
        Event {
            repository: "docker.io/library/python".into(),
            tag: "3.12-slim".into(),
            seq,
            kind: kind.into(),
            from_digest: from.map(str::to_owned),
            to_digest: to.map(str::to_owned),
            python_from: Some("3.12.13".into()),
            python_to: Some("3.12.14".into()),
            observed_at: at.into(),
            source: "test".into(),
            state: serde_json::Value::Null,
            changes: serde_json::json!({"platforms": {}, "packages": [
                {"name": "openssl", "change": "upgraded", "from": "3.5.1-1", "to": "3.5.1-1+deb13u1"}
            ]}),
        }
    }

    #[test]
    fn the_first_event_starts_the_timeline_and_later_ones_are_moves() {
        let events = [
            event(1, "new-tag", None, Some("sha256:a"), "2026-08-05T12:00:00Z"),
            event(
                2,
                "patch",
                Some("sha256:a"),
                Some("sha256:b"),
                "2026-08-13T12:00:00Z",
            ),
            event(3, "removed", Some("sha256:b"), None, "2026-09-01T12:00:00Z"),
        ];
        let timeline = timeline_of("docker.io/library/python", "3.12-slim", &events).unwrap();
        assert_eq!(timeline.reference, "python:3.12-slim");
        assert_eq!(
            timeline.first_seen,
            parse_rfc3339_utc("2026-08-05T12:00:00Z").unwrap()
        );
        assert_eq!(timeline.moves.len(), 2);
        assert_eq!(timeline.moves[0].kind, MoveKind::Patch);
        assert_eq!(
            timeline.moves[0].packages[0].describe(),
            "openssl 3.5.1-1 → 3.5.1-1+deb13u1"
        );
        assert_eq!(timeline.moves[1].kind, MoveKind::Other);
        assert_eq!(timeline.moves[1].new_digest, "(tag removed)");
        assert_eq!(timeline.current_digest, None);
        assert!(timeline_of("r", "t", &[]).is_none());
    }
}
