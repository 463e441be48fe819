//! What `pyimage history` reads of the store: the tags it names, the time it starts from, and their timelines.

use pyimage_model::{Reference, time};
use pyimage_store::{Event, Store};

use super::{store_error, targets};
use crate::error::ServiceError;

/// `(repository, tag)` of each reference named on the command line.
pub fn named_tags(references: &[String]) -> Result<Vec<(String, String)>, ServiceError> {
    let mut tags = Vec::new();
    for text in references {
        let reference = Reference::parse_normalized(text)
            .ok()
            .and_then(|reference| targets::tag_of(&reference))
            .ok_or_else(|| {
                ServiceError::input(format!(
                    "{text:?} is not a tagged image reference (python:3.12-slim)"
                ))
            })?;
        tags.push((
            reference.repository().to_string(),
            reference.tag().unwrap_or("latest").to_owned(),
        ));
    }
    Ok(tags)
}

/// `--since`: `2026-08-01` → `2026-08-01T00:00:00Z`; an RFC 3339 UTC time as the store writes it.
pub fn since(text: &str) -> Result<String, ServiceError> {
    let seconds = time::parse_date_or_time(text)
        .map_err(|error| ServiceError::input(format!("--since {error}")))?;
    Ok(time::rfc3339_utc(seconds))
}

/// The moves of the `named` tags (of every tag in the store when none is named) observed at or after `since`,
/// tag by tag; and the named tags that have none, as `repository:tag`.
pub async fn timelines(
    store: &Store,
    named: &[(String, String)],
    since: Option<&str>,
) -> Result<(Vec<Event>, Vec<String>), ServiceError> {
    let every;
    let tags = if named.is_empty() {
        every = store.tags().await.map_err(store_error)?;
        &every
    } else {
        named
    };
    let mut events = Vec::new();
    let mut without_moves = Vec::new();
    for (repository, tag) in tags {
        let timeline = store
            .timeline(repository, tag, since)
            .await
            .map_err(store_error)?;
        if timeline.is_empty() && !named.is_empty() {
            without_moves.push(format!("{repository}:{tag}"));
        }
        events.extend(timeline);
    }
    Ok((events, without_moves))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_dates_and_utc_times() {
        assert_eq!(
            since("2026-08-01").ok().as_deref(),
            Some("2026-08-01T00:00:00Z")
        );
        assert_eq!(
            since("2026-08-01T12:00:00Z").ok().as_deref(),
            Some("2026-08-01T12:00:00Z")
        );
        assert!(since("yesterday").is_err());
        assert!(since("2026-13-45").is_err());
        assert!(since("2026-02-30").is_err());
        assert!(since("2026-08-01T12:00:00+02:00").is_err());
    }
}
