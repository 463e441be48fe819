//! What a moved tag holds now, read with GETs only when the HEAD said it moved: the index (per-platform digests,
//! annotations), and for each configured platform its attestation manifest and statements — SLSA provenance (build
//! commit, base image) and the SPDX SBOM (packages, Python). [`explain`] turns the previous state and the new one
//! into the event to record: the kind from [`classify_move`], Python before/after and what changed.

use std::collections::BTreeMap;

use pyimage_model::python::{PythonTag, PythonVersion};
use pyimage_model::{Digest, Platform, Reference};
use pyimage_policy::check::policy::UpdatePolicy;
use pyimage_policy::moves::{Observation as MoveSide, classify_move};
use pyimage_policy::provenance::{
    ANNOTATION_BASE_DIGEST, ANNOTATION_BASE_NAME, ANNOTATION_REVISION, SPDX_DOCUMENT,
    SlsaProvenance,
};
use pyimage_policy::sbom::{self, PackageChange};
use pyimage_registry::{RegistryClient, RegistryError};
use pyimage_store::{Event, Observation, Proposed};
use serde::{Deserialize, Serialize};

use crate::provenance::{Index, attestation_statements, is_content_error};

/// What a tag pointed at, as recorded in an event's `state`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagState {
    /// Platform (`linux/amd64`) → platform manifest digest; never the index digest, which is the event's own.
    pub platforms: BTreeMap<String, String>,
    /// The Python version the image carries.
    pub python: Option<String>,
    /// The base image (`docker.io/library/debian:trixie-slim`).
    pub base_name: Option<String>,
    /// The base image's digest.
    pub base_digest: Option<String>,
    /// The docker-library/python commit it was built from.
    pub commit: Option<String>,
    /// The platform whose SBOM packages are diffed (the first configured one that has an SBOM).
    pub sbom_platform: Option<String>,
    /// Per configured platform: package name → version, from the SPDX SBOM.
    pub packages: BTreeMap<String, BTreeMap<String, String>>,
    /// Attestations left out, and why (`linux/amd64: blob … is larger than the 33554432 bytes pyimage reads of
    /// it`): the move is recorded without what they would have said.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<String>,
}

/// A value before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FromTo {
    /// Before.
    pub from: Option<String>,
    /// After.
    pub to: Option<String>,
}

/// What changed in a move, as recorded in an event's `changes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    /// Platform manifests that changed (`linux/amd64` → from/to).
    pub platforms: BTreeMap<String, FromTo>,
    /// The base image digest, when it changed.
    pub base_digest: Option<FromTo>,
    /// The build commit, when it changed.
    pub commit: Option<FromTo>,
    /// The platform the package diff is about.
    pub packages_platform: Option<String>,
    /// Packages added, removed, upgraded, downgraded.
    pub packages: Vec<PackageChange>,
}

/// Reads what `repository@digest` holds: one GET of the index, and per configured platform one GET of its
/// attestation manifest and one per statement.
pub(crate) async fn read_state(
    client: &RegistryClient,
    repository: &Reference,
    tag: &str,
    digest: &Digest,
    platforms: &[Platform],
) -> Result<TagState, RegistryError> {
    let index = Index::fetch(client, repository, digest).await?;
    let mut state = TagState::default();
    for image in index.platforms() {
        if let Some(platform) = index.platform_of(image) {
            state.platforms.insert(platform, image.digest.to_string());
        }
    }
    for wanted in platforms {
        let Some(image) = index.select(&wanted.to_string()) else {
            continue;
        };
        let key = image.platform.to_string();
        let annotation = |name: &str| image.annotations.get(name).cloned();
        state.base_name = state.base_name.or(annotation(ANNOTATION_BASE_NAME));
        state.base_digest = state.base_digest.or(annotation(ANNOTATION_BASE_DIGEST));
        state.commit = state.commit.or(annotation(ANNOTATION_REVISION));
        let statements = match attestation_statements(client, repository, &index, &image.digest)
            .await
        {
            Ok(read) => {
                // One statement pyimage will not read (an SBOM over the size limit) leaves out that statement
                // only: the platform's others (its provenance) are still read.
                for (digest, error) in read.left_out {
                    tracing::warn!(platform = %key, %error, "an attestation not read: the move is recorded without it");
                    state
                        .unread
                        .push(format!("{key}: in-toto statement {digest}: {error}"));
                }
                read.statements
            }
            // The registry answered, with an attestation manifest pyimage will not read: the move is still a
            // move. Leave the platform's attestations out and say why; a registry that did not answer fails the
            // poll as before.
            Err(error) if is_content_error(&error) => {
                tracing::warn!(platform = %key, %error, "attestations not read: the move is recorded without them");
                state.unread.push(format!("{key}: {error}"));
                Vec::new()
            }
            Err(error) => return Err(error),
        };
        for statement in statements {
            if statement.predicate_type == SPDX_DOCUMENT {
                let packages = sbom::packages_of(&statement.predicate);
                if state.python.is_none() {
                    state.python = packages.get("python").and_then(|v| python_version(v, &key));
                }
                state.sbom_platform.get_or_insert_with(|| key.clone());
                state.packages.insert(key.clone(), packages);
            } else if let Some(slsa) = SlsaProvenance::from_statement(&statement) {
                state.commit = slsa.commit.clone().or(state.commit);
                if let Some(base) = slsa.base_image().and_then(|m| m.digest.as_ref()) {
                    state.base_digest = Some(base.to_string());
                }
            }
        }
    }
    if state.python.is_none() {
        state.python = PythonTag::parse(tag)
            .version
            .filter(|v| v.is_full())
            .map(|v| v.to_string());
    }
    Ok(state)
}

/// The SBOM's Python version when it is one (`3.12.14`, `3.15.0rc1`). The SBOM is registry text: a value such as
/// `=HYPERLINK(…)` or one holding a newline would travel into CSV, terminals and chat messages, so anything else
/// is left out (the tag's own version is used when it names one) and said in the log.
fn python_version(text: &str, platform: &str) -> Option<String> {
    match PythonVersion::parse(text) {
        Some(version) if version.is_full() && version.to_string() == text => Some(text.to_owned()),
        _ => {
            tracing::warn!(
                platform,
                version = ?text.chars().take(80).collect::<String>(),
                "the SBOM's Python version is not a Python version (3.12.14): left out"
            );
            None
        }
    }
}

/// The event to propose for `seen`, given the tag's last recorded event and what the tag holds now (`None`: the
/// tag is gone).
pub(crate) fn explain(
    last: Option<&Event>,
    seen: &Observation,
    now: Option<&TagState>,
) -> Proposed {
    let before: Option<TagState> = last.and_then(|e| serde_json::from_value(e.state.clone()).ok());
    let from_digest = last.and_then(|e| e.to_digest.clone());
    let python_from = last.and_then(|e| e.python_to.clone());
    let kind = match (&from_digest, &seen.digest) {
        (_, None) => "removed".to_owned(),
        (None, Some(_)) => "new-tag".to_owned(),
        (Some(from), Some(to)) => {
            let side = |digest: &str, python: Option<String>| MoveSide {
                tag: seen.tag.clone(),
                digest: Digest::parse(digest).ok(),
                python,
            };
            let kind = classify_move(
                &side(from, python_from.clone()),
                &side(to, now.and_then(|s| s.python.clone())),
                UpdatePolicy::None,
            )
            .kind;
            serde_json::to_value(kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "other".to_owned())
        }
    };
    let changes = match (&before, now) {
        (Some(before), Some(now)) if from_digest.is_some() => changes(before, now),
        _ => Changes::default(),
    };
    Proposed {
        observation: seen.clone(),
        expected_from: from_digest,
        kind,
        python_from,
        python_to: now.and_then(|s| s.python.clone()),
        state: serde_json::to_value(now.cloned().unwrap_or_default()).unwrap_or_default(),
        changes: serde_json::to_value(changes).unwrap_or_default(),
    }
}

pub(crate) fn changes(before: &TagState, now: &TagState) -> Changes {
    let changed = |a: &Option<String>, b: &Option<String>| {
        (a != b).then(|| FromTo {
            from: a.clone(),
            to: b.clone(),
        })
    };
    let mut platforms = BTreeMap::new();
    for key in before.platforms.keys().chain(now.platforms.keys()) {
        let (a, b) = (
            before.platforms.get(key).cloned(),
            now.platforms.get(key).cloned(),
        );
        if let Some(change) = changed(&a, &b) {
            platforms.insert(key.clone(), change);
        }
    }
    let platform = now.sbom_platform.clone();
    let packages = match platform
        .as_ref()
        .and_then(|p| Some((before.packages.get(p)?, now.packages.get(p)?)))
    {
        Some((old, new)) => sbom::diff(old, new),
        None => Vec::new(),
    };
    Changes {
        platforms,
        base_digest: changed(&before.base_digest, &now.base_digest),
        commit: changed(&before.commit, &now.commit),
        packages_platform: platform.filter(|_| !packages.is_empty()),
        packages,
    }
}
