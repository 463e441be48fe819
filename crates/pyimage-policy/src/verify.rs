//! The verdict of `pyimage verify`: is a local image the official Python image, current or stale?
//!
//! Pure decision logic in three steps, the I/O in between done by the caller:
//! 1. [`plan`]: from what the engine says about an image (`RepoTags`, `RepoDigests`) and the reference the user
//!    named, which digests to ask `docker.io/library/python` about and which of its tags to resolve now;
//! 2. the caller asks the registry (a digest HEAD answers "is this digest still served", a tag HEAD "where does
//!    the tag point now") and fills an [`Upstream`];
//! 3. [`decide`] turns it into an [`Assessment`] with one [`Verdict`].
//!
//! A `RepoDigest` only counts for a repository if that repository's registry serves the digest: podman lists
//! every repository × digest pair it knows for an image, so `docker.io/library/python@sha256:…` in `RepoDigests`
//! proves nothing until Docker Hub answers for it.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use pyimage_model::digest::Digest;
use pyimage_model::reference::Reference;

/// The repository official Python images come from.
pub const OFFICIAL_REPOSITORY: &str = "docker.io/library/python";

/// What the engine knows about a local image (the fields of `docker image inspect` that matter here).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LocalImage {
    /// Image ID (`sha256:…` of the config).
    pub id: String,
    /// `RepoTags` as the engine lists them (`python:3.12-slim`, `docker.io/library/python:3.12-slim`).
    pub repo_tags: Vec<String>,
    /// `RepoDigests` as the engine lists them (`python@sha256:…`).
    pub repo_digests: Vec<String>,
    /// `os/architecture[/variant]` of the image.
    pub platform: Option<String>,
    /// `PYTHON_VERSION` from the image's environment.
    pub python_version: Option<String>,
}

/// The verdict on one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// A RepoDigest of `docker.io/library/python` equals the registry's current digest for the tag.
    OfficialCurrent,
    /// The digest is `docker.io/library/python`'s (still served by digest) but the tag has moved on.
    OfficialStale,
    /// The digest equals the one `pyimage.lock` records for the reference.
    OfficialLocked,
    /// The digest is `docker.io/library/python`'s, but there is no tag to compare with.
    Official,
    /// Pulled from a mirror or private registry; see `faithful_copy`.
    Foreign,
    /// No RepoDigest (built locally, loaded from a tarball), or a digest `docker.io/library/python` does not serve.
    Untrusted,
    /// The registry could not answer; nothing can be said.
    Unknown,
}

impl Verdict {
    /// The kebab-case name (`official-current`).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::OfficialCurrent => "official-current",
            Verdict::OfficialStale => "official-stale",
            Verdict::OfficialLocked => "official-locked",
            Verdict::Official => "official",
            Verdict::Foreign => "foreign",
            Verdict::Untrusted => "untrusted",
            Verdict::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What `--require` asks of every image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Requirement {
    /// Official and current for its tag (the default).
    OfficialCurrent,
    /// Official and equal to the digest in `pyimage.lock`.
    OfficialLocked,
    /// Official, current or not.
    Official,
    /// Official, or a faithful copy (same digest) from a mirror or private registry.
    Faithful,
}

impl Requirement {
    /// Parses `official-current`, `official-locked`, `official`, `faithful`.
    pub fn parse(text: &str) -> Option<Requirement> {
        Some(match text {
            "official-current" => Requirement::OfficialCurrent,
            "official-locked" => Requirement::OfficialLocked,
            "official" => Requirement::Official,
            "faithful" => Requirement::Faithful,
            _ => return None,
        })
    }

    /// Whether an assessment meets the requirement.
    pub fn accepts(self, assessment: &Assessment) -> bool {
        match self {
            Requirement::OfficialCurrent => assessment.official && assessment.current == Some(true),
            Requirement::OfficialLocked => assessment.official && assessment.locked == Some(true),
            Requirement::Official => assessment.official,
            Requirement::Faithful => assessment.official || assessment.faithful_copy == Some(true),
        }
    }
}

/// A digest a repository lists, split into repository and digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepoDigest {
    /// Normalized repository (`docker.io/library/python`, `127.0.0.1:5001/acme/python`).
    pub repository: String,
    /// The manifest digest after `@` (`sha256:…`).
    pub digest: Digest,
}

/// The image's tags and digests, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    /// `RepoTags`, normalized (`python:3.12-slim` → `docker.io/library/python:3.12-slim`).
    pub tags: Vec<Reference>,
    /// `RepoDigests` that parsed, split into repository and digest.
    pub digests: Vec<RepoDigest>,
    /// Entries that could not be parsed (reported, not fatal).
    pub unreadable: Vec<String>,
}

/// Parses `RepoTags` and `RepoDigests` (`<none>:<none>` and `<none>@<none>` are skipped).
pub fn names(image: &LocalImage) -> Names {
    let mut names = Names::default();
    for text in &image.repo_tags {
        if text.starts_with("<none>") {
            continue;
        }
        match Reference::parse_normalized(text) {
            Ok(r) if r.tag().is_some() && r.digest().is_none() => names.tags.push(r),
            _ => names.unreadable.push(text.clone()),
        }
    }
    for text in &image.repo_digests {
        if text.starts_with("<none>") {
            continue;
        }
        match Reference::parse_normalized(text) {
            Ok(r) if r.digest().is_some() && r.tag().is_none() => {
                if let Some(digest) = r.digest().cloned() {
                    names.digests.push(RepoDigest {
                        repository: r.name(),
                        digest,
                    });
                }
            }
            _ => names.unreadable.push(text.clone()),
        }
    }
    names
}

/// Whether a repository is a copy of Python under another name (`127.0.0.1:5001/library/python`, `acme/python`).
fn python_like(repository: &str) -> bool {
    repository.rsplit('/').next() == Some("python")
}

/// What to ask `docker.io/library/python`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Digests to HEAD: is each still served by `docker.io/library/python`?
    pub digests: Vec<Digest>,
    /// Tags to HEAD: where does each point now?
    pub tags: Vec<String>,
}

/// Decides which questions to ask the registry about `image`. `requested` is the reference the user named, when
/// a reference (not an image ID).
pub fn plan(image: &LocalImage, requested: Option<&Reference>) -> Plan {
    let names = names(image);
    let mut plan = Plan::default();
    for d in &names.digests {
        if !plan.digests.contains(&d.digest) {
            plan.digests.push(d.digest.clone());
        }
    }
    plan.tags = compared_tags(&names, requested);
    plan
}

fn compared_tags(names: &Names, requested: Option<&Reference>) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    let mut push = |tag: &str| {
        if !tags.iter().any(|t| t == tag) {
            tags.push(tag.to_owned());
        }
    };
    if let Some(requested) = requested
        && python_like(requested.path())
        && let Some(tag) = requested.tag()
    {
        push(tag);
        return tags;
    }
    let official: Vec<&Reference> = names
        .tags
        .iter()
        .filter(|r| r.name() == OFFICIAL_REPOSITORY)
        .collect();
    let candidates: Vec<&Reference> = if official.is_empty() {
        names
            .tags
            .iter()
            .filter(|r| python_like(r.path()))
            .collect()
    } else {
        official
    };
    for r in candidates {
        if let Some(tag) = r.tag() {
            push(tag);
        }
    }
    tags
}

/// Whether `docker.io/library/python` serves a digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state", content = "error")]
pub enum Served {
    /// It serves the digest.
    Yes,
    /// It answered "not found".
    No,
    /// It could not answer (the message names the registry).
    Error(String),
}

/// Where a tag of `docker.io/library/python` points now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state", content = "value")]
pub enum TagNow {
    /// At this digest.
    Digest(Digest),
    /// The tag does not exist.
    Missing,
    /// The registry could not answer.
    Error(String),
}

/// The registry's answers to a [`Plan`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Upstream {
    /// For each digest asked about, whether `docker.io/library/python` serves it.
    pub served: BTreeMap<Digest, Served>,
    /// Tag → where it points now.
    pub current: BTreeMap<String, TagNow>,
}

/// A tag that moved away from the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Moved {
    /// The tag (`3.12-slim`).
    pub tag: String,
    /// Where it points now.
    pub now: Digest,
}

/// The full answer for one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    /// The outcome in one word (`official-current`, `untrusted`, …); the fields below say why.
    pub verdict: Verdict,
    /// Whether the image's digest is served by `docker.io/library/python`, under a RepoDigest of that repository.
    pub official: bool,
    /// Whether every compared tag still points at the image (none when no tag could be compared).
    pub current: Option<bool>,
    /// Whether the image equals the digest `pyimage.lock` records (none when no lock entry applies).
    pub locked: Option<bool>,
    /// For images from another repository: whether the same digest is served by `docker.io/library/python`.
    pub faithful_copy: Option<bool>,
    /// The digest the verdict is about (the official, or faithfully copied, digest).
    pub digest: Option<Digest>,
    /// The repository the image came from when not `docker.io/library/python`.
    pub source: Option<String>,
    /// Tags of `docker.io/library/python` compared.
    pub tags: Vec<String>,
    /// Tags that moved on, and where to.
    pub moved: Vec<Moved>,
    /// The lock entry that applied (`python:3.12-slim`) and its digest.
    pub lock_entry: Option<(String, Digest)>,
    /// Why, in sentences.
    pub reasons: Vec<String>,
    /// RepoDigests that did not count (the registry does not serve them under that repository).
    pub ignored: Vec<String>,
}

/// Decides the verdict. With `pyimage.lock`, the entry for the reference that names the image (the requested
/// reference, or one of its RepoTags: same repository and tag) applies.
pub fn decide(
    image: &LocalImage,
    requested: Option<&Reference>,
    upstream: &Upstream,
    lock: Option<&pyimage_model::lock::Lock>,
) -> Assessment {
    let names = names(image);
    let tags = compared_tags(&names, requested);
    let mut a = Assessment {
        verdict: Verdict::Untrusted,
        official: false,
        current: None,
        locked: None,
        faithful_copy: None,
        digest: None,
        source: None,
        tags: tags.clone(),
        moved: Vec::new(),
        lock_entry: None,
        reasons: Vec::new(),
        ignored: Vec::new(),
    };
    let mut errors: Vec<String> = Vec::new();
    let served = |d: &Digest| upstream.served.get(d);

    // Official digests: listed under docker.io/library/python and served there.
    let mut official: Vec<Digest> = Vec::new();
    let mut foreign: Vec<&RepoDigest> = Vec::new();
    for rd in &names.digests {
        if rd.repository == OFFICIAL_REPOSITORY {
            match served(&rd.digest) {
                Some(Served::Yes) => {
                    if !official.contains(&rd.digest) {
                        official.push(rd.digest.clone());
                    }
                }
                Some(Served::No) => a.ignored.push(format!(
                    "{}@{}: {OFFICIAL_REPOSITORY} does not serve this digest",
                    rd.repository, rd.digest
                )),
                Some(Served::Error(e)) => errors.push(e.clone()),
                None => errors.push(format!("{} was not checked", rd.digest)),
            }
        } else {
            foreign.push(rd);
        }
    }

    // Lock.
    let entry_for = |r: &Reference| match lock?.lookup(r) {
        pyimage_model::lock::LockMatch::Entry(entry) => {
            Some((entry, Digest::parse(&entry.digest).ok()?))
        }
        _ => None,
    };
    let locked = requested
        .and_then(entry_for)
        .or_else(|| names.tags.iter().find_map(entry_for));
    if let Some((entry, locked_digest)) = locked {
        a.lock_entry = Some((entry.reference.clone(), locked_digest.clone()));
        let matches = official.contains(&locked_digest);
        a.locked = Some(matches);
        if !matches {
            a.reasons.push(format!(
                "pyimage.lock pins {} to {}, the image is {}",
                entry.reference,
                locked_digest,
                describe_digests(&names)
            ));
        }
    }

    // Current tags.
    if !official.is_empty() {
        a.official = true;
        a.digest = official.first().cloned();
        let mut compared = 0;
        for tag in &tags {
            match upstream.current.get(tag) {
                Some(TagNow::Digest(now)) => {
                    compared += 1;
                    if official.contains(now) {
                        a.digest = Some(now.clone());
                    } else {
                        a.moved.push(Moved {
                            tag: tag.clone(),
                            now: now.clone(),
                        });
                    }
                }
                Some(TagNow::Missing) => a.reasons.push(format!(
                    "{OFFICIAL_REPOSITORY} has no tag {tag} (a local tag?): not compared"
                )),
                Some(TagNow::Error(e)) => errors.push(e.clone()),
                None => {}
            }
        }
        if compared > 0 {
            a.current = Some(a.moved.is_empty());
        }
    } else {
        // Foreign digests that Docker Hub serves: faithful copies.
        for rd in &foreign {
            match served(&rd.digest) {
                Some(Served::Yes) => {
                    a.faithful_copy = Some(true);
                    a.digest = Some(rd.digest.clone());
                    a.source = Some(rd.repository.clone());
                    break;
                }
                Some(Served::No) => {
                    a.faithful_copy.get_or_insert(false);
                    a.source.get_or_insert_with(|| rd.repository.clone());
                }
                Some(Served::Error(e)) => errors.push(e.clone()),
                None => errors.push(format!("{} was not checked", rd.digest)),
            }
        }
        if a.faithful_copy == Some(true) {
            let mut compared = 0;
            for tag in &tags {
                if let Some(TagNow::Digest(now)) = upstream.current.get(tag) {
                    compared += 1;
                    if Some(now) != a.digest.as_ref() {
                        a.moved.push(Moved {
                            tag: tag.clone(),
                            now: now.clone(),
                        });
                    }
                }
            }
            if compared > 0 {
                a.current = Some(a.moved.is_empty());
            }
        }
    }

    // Verdict.
    a.verdict = if a.official && a.locked == Some(true) {
        Verdict::OfficialLocked
    } else if a.official && a.current == Some(true) {
        Verdict::OfficialCurrent
    } else if a.official && a.current == Some(false) {
        Verdict::OfficialStale
    } else if a.official && errors.is_empty() {
        Verdict::Official
    } else if a.faithful_copy == Some(true) {
        Verdict::Foreign
    } else if !errors.is_empty() {
        Verdict::Unknown
    } else {
        Verdict::Untrusted
    };

    // Reasons, most important first.
    let mut first: Vec<String> = Vec::new();
    match a.verdict {
        Verdict::OfficialLocked => first.push(format!(
            "{} is the digest pyimage.lock records for {}",
            a.digest.as_ref().map_or("-", Digest::as_str),
            a.lock_entry.as_ref().map_or("-", |(r, _)| r.as_str())
        )),
        Verdict::OfficialCurrent | Verdict::OfficialStale | Verdict::Official => {
            first.push(format!(
                "{OFFICIAL_REPOSITORY} serves {}",
                official
                    .iter()
                    .map(Digest::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            if a.verdict == Verdict::OfficialCurrent {
                first.push(format!(
                    "{} still point(s) at it",
                    tags.iter()
                        .map(|t| format!("python:{t}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if a.verdict == Verdict::Official {
                first.push(
                    "no tag of python to compare with: name the tag (pyimage verify python:3.12-slim)".to_owned(),
                );
            }
        }
        Verdict::Foreign => {
            first.push(format!(
                "pulled from {}; the same digest {} is served by {OFFICIAL_REPOSITORY}: a faithful copy",
                a.source.as_deref().unwrap_or("-"),
                a.digest.as_ref().map_or("-", Digest::as_str)
            ));
            match a.current {
                Some(true) => first.push(format!(
                    "it is the current python:{}",
                    tags.join(", python:")
                )),
                Some(false) => first.push("it is an older build than the tag names now".to_owned()),
                None => {}
            }
        }
        Verdict::Untrusted => {
            if names.digests.is_empty() {
                first.push(
                    "no RepoDigest: the image was built locally or loaded from a tarball, not pulled from a registry"
                        .to_owned(),
                );
            } else {
                first.push(format!(
                    "{OFFICIAL_REPOSITORY} does not serve {}",
                    describe_digests(&names)
                ));
            }
        }
        Verdict::Unknown => first.extend(errors.iter().cloned()),
    }
    for moved in &a.moved {
        first.push(format!(
            "python:{} has moved on to {}",
            moved.tag, moved.now
        ));
    }
    if a.verdict != Verdict::Unknown {
        for e in &errors {
            first.push(format!("not checked: {e}"));
        }
    }
    for text in &names.unreadable {
        first.push(format!("ignored unreadable name {text:?}"));
    }
    first.append(&mut a.reasons);
    a.reasons = first;
    a
}

fn describe_digests(names: &Names) -> String {
    if names.digests.is_empty() {
        return "an image without RepoDigests".to_owned();
    }
    names
        .digests
        .iter()
        .map(|d| format!("{}@{}", d.repository, d.digest))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: u8) -> Digest {
        Digest::sha256_from_hex(&format!("{:02x}", n).repeat(32)).expect("valid")
    }

    fn image(tags: &[&str], digests: &[String]) -> LocalImage {
        LocalImage {
            id: format!("sha256:{}", "ee".repeat(32)),
            repo_tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            repo_digests: digests.to_vec(),
            platform: Some("linux/amd64".into()),
            python_version: None,
        }
    }

    fn upstream(served: &[(Digest, Served)], current: &[(&str, TagNow)]) -> Upstream {
        Upstream {
            served: served.iter().cloned().collect(),
            current: current
                .iter()
                .map(|(t, n)| ((*t).to_owned(), n.clone()))
                .collect(),
        }
    }

    #[test]
    fn current_stale_and_untrusted() {
        let img = image(&["python:3.12-slim"], &[format!("python@{}", d(1))]);
        let p = plan(&img, None);
        assert_eq!(p.digests, vec![d(1)]);
        assert_eq!(p.tags, vec!["3.12-slim".to_owned()]);
        let now = upstream(
            &[(d(1), Served::Yes)],
            &[("3.12-slim", TagNow::Digest(d(1)))],
        );
        let a = decide(&img, None, &now, None);
        assert_eq!(a.verdict, Verdict::OfficialCurrent);
        assert!(Requirement::OfficialCurrent.accepts(&a));
        let later = upstream(
            &[(d(1), Served::Yes)],
            &[("3.12-slim", TagNow::Digest(d(2)))],
        );
        let a = decide(&img, None, &later, None);
        assert_eq!(a.verdict, Verdict::OfficialStale);
        assert_eq!(a.moved[0].now, d(2));
        assert!(!Requirement::OfficialCurrent.accepts(&a));
        assert!(Requirement::Official.accepts(&a));
        let built = image(&["python:3.12-slim"], &[]);
        assert_eq!(
            decide(&built, None, &later, None).verdict,
            Verdict::Untrusted
        );
    }

    #[test]
    fn podman_pairs_count_only_when_served() {
        // podman lists docker.io/library/python@<acme digest>: the registry says no.
        let img = image(
            &[
                "docker.io/library/python:3.12-slim",
                "example.com/acme/python:3.12-slim",
            ],
            &[
                format!("docker.io/library/python@{}", d(7)),
                format!("example.com/acme/python@{}", d(7)),
            ],
        );
        let up = upstream(
            &[(d(7), Served::No)],
            &[("3.12-slim", TagNow::Digest(d(1)))],
        );
        let a = decide(&img, None, &up, None);
        assert_eq!(a.verdict, Verdict::Untrusted);
        assert_eq!(a.ignored.len(), 1);
    }

    #[test]
    fn foreign_faithful_and_lock() {
        let img = image(
            &["127.0.0.1:5001/library/python:3.11-slim"],
            &[format!("127.0.0.1:5001/library/python@{}", d(3))],
        );
        let p = plan(&img, None);
        assert_eq!(p.tags, vec!["3.11-slim".to_owned()]);
        let up = upstream(
            &[(d(3), Served::Yes)],
            &[("3.11-slim", TagNow::Digest(d(3)))],
        );
        let a = decide(&img, None, &up, None);
        assert_eq!(a.verdict, Verdict::Foreign);
        assert_eq!(a.faithful_copy, Some(true));
        assert_eq!(a.current, Some(true));
        assert!(!Requirement::OfficialCurrent.accepts(&a));
        assert!(Requirement::Faithful.accepts(&a));

        let img = image(&["python:3.12-slim"], &[format!("python@{}", d(1))]);
        let mut lock = pyimage_model::lock::Lock::default();
        lock.insert(pyimage_model::lock::LockedImage {
            reference: "python:3.12-slim".into(),
            normalized: "docker.io/library/python:3.12-slim".into(),
            digest: d(1).to_string(),
            media_type: "application/vnd.oci.image.index.v1+json".into(),
            python: None,
            resolved_at: "2026-11-23T12:00:00Z".into(),
            registry: "https://registry-1.docker.io".into(),
            faithful_copy: None,
            signed_by: None,
            signing_key: None,
            signature_log_index: None,
            platforms: Default::default(),
        });
        let up = upstream(
            &[(d(1), Served::Yes)],
            &[("3.12-slim", TagNow::Digest(d(2)))],
        );
        let a = decide(&img, None, &up, Some(&lock));
        assert_eq!(a.verdict, Verdict::OfficialLocked);
        assert!(Requirement::OfficialLocked.accepts(&a));
        assert!(!Requirement::OfficialCurrent.accepts(&a));
    }

    #[test]
    fn errors_make_unknown() {
        let img = image(&["python:3.12-slim"], &[format!("python@{}", d(1))]);
        let up = upstream(&[(d(1), Served::Error("cannot reach x".into()))], &[]);
        let a = decide(&img, None, &up, None);
        assert_eq!(a.verdict, Verdict::Unknown);
        assert!(a.reasons[0].contains("cannot reach"));
    }
}
