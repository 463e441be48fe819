//! The history a watcher keeps, as a feed other tools read: one JSON document per repository in the shape of
//! Renovate's custom datasources (`releases[]` of `version`, `digest`, `releaseTimestamp`; schema in Renovate's
//! `lib/modules/datasource/custom/schema.ts`). Each watched tag is a release whose version is the tag, whose digest
//! is where the tag points now, and whose timestamp is when the registry first served that digest — as a watcher saw
//! it — not when the tag was last pushed: Renovate's `minimumReleaseAge` then dates the digest itself. Every digest a
//! tag has had, with its first-served time, is kept under `pyimage` (Renovate ignores keys it does not know).

use std::collections::BTreeMap;

use pyimage_store::Event;
use serde::Serialize;

/// A Renovate custom-datasource document for one repository.
#[derive(Debug, Serialize)]
pub struct RenovateFeed {
    /// One release per tag the watcher follows and that exists now.
    pub releases: Vec<Release>,
    /// Where the repository is documented.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    /// pyimage's own record: every digest of every tag, with when it was first served.
    pub pyimage: FeedHistory,
}

/// One release: a tag and where it points now.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Release {
    /// The tag (`3.12-slim`).
    pub version: String,
    /// The digest the tag points at now.
    pub digest: String,
    /// When the registry first served that digest (RFC 3339 UTC).
    pub release_timestamp: String,
}

/// Every digest each tag has had.
#[derive(Debug, Serialize)]
pub struct FeedHistory {
    /// The repository (`docker.io/library/python`).
    pub repository: String,
    /// Tag → its digests, oldest first (left out of the feed `serve` answers, which reads only each tag's newest
    /// event).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, Vec<DigestSeen>>,
}

/// One digest a tag pointed at.
#[derive(Debug, Serialize)]
pub struct DigestSeen {
    /// The digest.
    pub digest: String,
    /// When the registry first served it, under any tag of the repository (RFC 3339 UTC).
    pub first_served: String,
    /// The Python version the image carried, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub python: Option<String>,
}

/// Why no feed can be made from the events given.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// Renovate reads one package per document.
    #[error(
        "the feed is one repository's: the history holds {0}; name tags of one repository (python:3.12-slim …)"
    )]
    SeveralRepositories(String),
    /// Nothing recorded.
    #[error("no moves recorded: is `pyimage watch` running with this store?")]
    Empty,
}

/// The feed of the repository the `events` (whole timelines, oldest first within each tag) are about.
pub fn renovate_feed(events: &[Event]) -> Result<RenovateFeed, FeedError> {
    let repositories: std::collections::BTreeSet<&str> =
        events.iter().map(|e| e.repository.as_str()).collect();
    let repository = match repositories.len() {
        0 => return Err(FeedError::Empty),
        1 => repositories.first().copied().unwrap_or_default().to_owned(),
        _ => {
            let names: Vec<&str> = repositories.into_iter().collect();
            return Err(FeedError::SeveralRepositories(names.join(", ")));
        }
    };
    // A digest is first served when any tag first points at it (`3.12.14-slim` and `3.12-slim` move together).
    let mut first_served: BTreeMap<&str, &str> = BTreeMap::new();
    for event in events {
        if let Some(digest) = &event.to_digest {
            let at = first_served.entry(digest).or_insert(&event.observed_at);
            if event.observed_at.as_str() < *at {
                *at = &event.observed_at;
            }
        }
    }
    let mut tags: BTreeMap<String, Vec<DigestSeen>> = BTreeMap::new();
    let mut now: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    for event in events {
        now.insert(&event.tag, event.to_digest.as_deref());
        let Some(digest) = &event.to_digest else {
            continue;
        };
        let seen = tags.entry(event.tag.clone()).or_default();
        if seen.iter().all(|s| s.digest != *digest) {
            seen.push(DigestSeen {
                digest: digest.clone(),
                first_served: first_served
                    .get(digest.as_str())
                    .map_or_else(|| event.observed_at.clone(), |at| (*at).to_owned()),
                python: event.python_to.clone(),
            });
        }
    }
    let releases = now
        .into_iter()
        .filter_map(|(tag, digest)| {
            let digest = digest?;
            Some(Release {
                version: tag.to_owned(),
                digest: digest.to_owned(),
                release_timestamp: first_served.get(digest).copied()?.to_owned(),
            })
        })
        .collect();
    Ok(RenovateFeed {
        releases,
        homepage: (repository == "docker.io/library/python")
            .then(|| "https://hub.docker.com/_/python".to_owned()),
        pyimage: FeedHistory { repository, tags },
    })
}

/// The feed from each tag's newest event only (`latest`, all of one repository) and when each digest was first
/// served: what `serve` answers, two bounded reads of the store whatever its age.
pub fn renovate_feed_of_latest(
    repository: &str,
    latest: &[Event],
    first_served: &BTreeMap<String, String>,
) -> RenovateFeed {
    let releases = latest
        .iter()
        .filter(|event| event.repository == repository)
        .filter_map(|event| {
            let digest = event.to_digest.as_ref()?;
            Some(Release {
                version: event.tag.clone(),
                digest: digest.clone(),
                release_timestamp: first_served
                    .get(digest)
                    .cloned()
                    .unwrap_or_else(|| event.observed_at.clone()),
            })
        })
        .collect();
    RenovateFeed {
        releases,
        homepage: (repository == "docker.io/library/python")
            .then(|| "https://hub.docker.com/_/python".to_owned()),
        pyimage: FeedHistory {
            repository: repository.to_owned(),
            tags: BTreeMap::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(tag: &str, seq: i64, to: Option<&str>, at: &str) -> Event {
        Event {
            repository: "docker.io/library/python".to_owned(),
            tag: tag.to_owned(),
            seq,
            kind: "rebuild".to_owned(),
            from_digest: None,
            to_digest: to.map(str::to_owned),
            python_from: None,
            python_to: Some("3.12.13".to_owned()),
            observed_at: at.to_owned(),
            source: "test".to_owned(),
            state: serde_json::Value::Null,
            changes: serde_json::Value::Null,
        }
    }

    #[test]
    fn a_release_is_dated_by_its_digest_not_by_the_last_push() {
        let events = [
            event("3.12-slim", 1, Some("sha256:a"), "2026-11-01T00:00:00Z"),
            event("3.12-slim", 2, Some("sha256:b"), "2026-11-20T00:00:00Z"),
            // The exact tag was seen pointing at b earlier than the floating one was.
            event("3.12.13-slim", 1, Some("sha256:b"), "2026-11-19T00:00:00Z"),
            event("3.11-slim", 1, Some("sha256:c"), "2026-11-02T00:00:00Z"),
            event("3.11-slim", 2, None, "2026-11-03T00:00:00Z"),
        ];
        let feed = renovate_feed(&events).unwrap();
        let releases: Vec<(&str, &str, &str)> = feed
            .releases
            .iter()
            .map(|r| {
                (
                    r.version.as_str(),
                    r.digest.as_str(),
                    r.release_timestamp.as_str(),
                )
            })
            .collect();
        assert_eq!(
            releases,
            [
                ("3.12-slim", "sha256:b", "2026-11-19T00:00:00Z"),
                ("3.12.13-slim", "sha256:b", "2026-11-19T00:00:00Z"),
            ],
            "a removed tag is no release"
        );
        assert_eq!(feed.pyimage.tags["3.12-slim"].len(), 2);
        let json = serde_json::to_value(&feed).unwrap();
        assert_eq!(
            json["releases"][0]["releaseTimestamp"],
            "2026-11-19T00:00:00Z"
        );
        let mut other = event("3.12-slim", 3, Some("sha256:d"), "2026-11-21T00:00:00Z");
        other.repository = "registry.example/python".to_owned();
        assert!(matches!(
            renovate_feed(&[events[0].clone(), other]),
            Err(FeedError::SeveralRepositories(_))
        ));
        assert!(matches!(renovate_feed(&[]), Err(FeedError::Empty)));
    }
}
