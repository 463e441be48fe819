//! Why a digest moved, for the reviewer of an update: what the old and the new image hold (base OS image,
//! docker-library commit, SBOM packages — read from the registry as the watcher reads them, with GETs of the two
//! indexes, their attestation manifests and statements) and when the registry first served the new digest (the
//! history store when a watcher saw it, else the image's build time, saying which).

use pyimage_model::{Digest, Platform, Reference};
use pyimage_policy::controls::{FirstServed, FirstServedSource};
use pyimage_policy::sbom::{self, PackageChange};
use pyimage_store::Store;
use serde::Serialize;

use crate::resolver::Resolver;
use crate::watch::facts::{self, FromTo, TagState};

/// What a reviewer needs to judge one move.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Explanation {
    /// When the registry first served the new digest, and how that is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_served: Option<ServedAt>,
    /// The base OS image before and after (`docker.io/library/debian:trixie-slim@sha256:…`), when it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_image: Option<FromTo>,
    /// The docker-library/python commit before and after, when it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<CommitChange>,
    /// The platform whose SBOMs were compared (`linux/amd64`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packages_platform: Option<String>,
    /// Packages upgraded, added, removed or downgraded: security-relevant ones (OpenSSL, the C library, zlib…)
    /// first, then the rest by name.
    pub packages: Vec<PackageChange>,
    /// What could not be read, and why: the move is explained without it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<String>,
}

/// When a digest was first served.
#[derive(Debug, Clone, Serialize)]
pub struct ServedAt {
    /// RFC 3339 UTC.
    pub at: String,
    /// `history-store` (a watcher saw the tag move) or `image-created` (the build time: no watcher saw it).
    pub source: FirstServedSource,
}

impl ServedAt {
    /// The pure form the controls decide on; `None` when the time does not parse.
    pub fn decided(&self) -> Option<FirstServed> {
        Some(FirstServed {
            at: pyimage_model::time::parse_rfc3339_utc(&self.at)?,
            source: self.source,
        })
    }
}

/// The build commit before and after, and where to read the change.
#[derive(Debug, Clone, Serialize)]
pub struct CommitChange {
    /// Before.
    pub from: Option<String>,
    /// After.
    pub to: Option<String>,
    /// The change on GitHub (`https://github.com/docker-library/python/compare/<from>...<to>`), when both are
    /// commit hashes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// The repository every official Python image is built from; its commits are what BuildKit records as the
/// revision (`org.opencontainers.image.revision`).
const DOCKER_LIBRARY_PYTHON: &str = "https://github.com/docker-library/python";

/// When the registry first served `digest` of `repository`: the history store's earliest move to it, else the
/// image's `created` time. A store that cannot be read is said in `unread`.
pub async fn first_served(
    store: Option<&Store>,
    repository: &Reference,
    digest: &Digest,
    created: Option<&str>,
    unread: &mut Vec<String>,
) -> Option<ServedAt> {
    if let Some(store) = store {
        match store
            .first_served(&repository.to_string(), digest.as_str())
            .await
        {
            Ok(Some(at)) => {
                return Some(ServedAt {
                    at,
                    source: FirstServedSource::HistoryStore,
                });
            }
            Ok(None) => {}
            Err(error) => unread.push(format!("history store: {error}")),
        }
    }
    created.map(|at| ServedAt {
        at: at.to_owned(),
        source: FirstServedSource::ImageCreated,
    })
}

/// Compares what the index `old` and the index `new` of `repository` hold on `platform`.
pub async fn explain(
    resolver: &Resolver,
    repository: &Reference,
    tag: &str,
    old: &Digest,
    new: &Digest,
    platform: &Platform,
) -> Explanation {
    let mut explanation = Explanation::default();
    let platforms = std::slice::from_ref(platform);
    let client = resolver.client();
    let (before, after) = futures_util::future::join(
        facts::read_state(client, repository, tag, old, platforms),
        facts::read_state(client, repository, tag, new, platforms),
    )
    .await;
    let (before, after) = match (before, after) {
        (Ok(before), Ok(after)) => (before, after),
        (before, after) => {
            for (which, result) in [("the pinned image", before), ("the new image", after)] {
                if let Err(error) = result {
                    explanation.unread.push(format!("{which}: {error}"));
                }
            }
            return explanation;
        }
    };
    for note in before.unread.iter().chain(&after.unread) {
        explanation.unread.push(note.clone());
    }
    let changes = facts::changes(&before, &after);
    explanation.base_image = base_image(&before, &after);
    explanation.commit = changes.commit.map(|commit| CommitChange {
        link: match (&commit.from, &commit.to) {
            (Some(from), Some(to)) if is_commit(from) && is_commit(to) => {
                Some(format!("{DOCKER_LIBRARY_PYTHON}/compare/{from}...{to}"))
            }
            (None, Some(to)) if is_commit(to) => {
                Some(format!("{DOCKER_LIBRARY_PYTHON}/commit/{to}"))
            }
            _ => None,
        },
        from: commit.from,
        to: commit.to,
    });
    explanation.packages_platform = changes.packages_platform;
    explanation.packages = sbom::for_review(&changes.packages);
    if after.packages.is_empty() {
        explanation.unread.push(format!(
            "{platform}: the new image carries no SBOM: no package changes to show"
        ));
    }
    explanation
}

/// The base image as `name@digest` on each side, when its digest changed.
fn base_image(before: &TagState, after: &TagState) -> Option<FromTo> {
    let shown = |state: &TagState| match (&state.base_name, &state.base_digest) {
        (Some(name), Some(digest)) => Some(format!("{name}@{digest}")),
        (None, Some(digest)) => Some(digest.clone()),
        (Some(name), None) => Some(name.clone()),
        (None, None) => None,
    };
    (before.base_digest != after.base_digest || before.base_name != after.base_name).then(|| {
        FromTo {
            from: shown(before),
            to: shown(after),
        }
    })
}

/// A full git commit hash (40 hex digits): registry text goes into a link only when it is one.
fn is_commit(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}
