//! What kind of move a tag made, and whether an environment takes it: [`classify_move`], used by `pyimage update`
//! (and by the watcher that records tag history), plus the alias-family questions they ask of a tag list —
//! the newest patch of a line ([`newer_patch`]), newer lines ([`newer_lines`]), and the most specific aliases of a
//! floating tag ([`alias_candidates`]).
//!
//! Pure: the caller asks the registry and hands the observations here.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::check::policy::UpdatePolicy;
use pyimage_model::digest::Digest;
use pyimage_model::python::{Float, PythonTag, PythonVersion};

/// What a reference held at one moment: its tag, the digest it pointed at (when asked), and the Python version the
/// image carries (from the image's own `PYTHON_VERSION`, else a full version in the tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// The tag (`3.12-slim`).
    pub tag: String,
    /// The digest the tag pointed at; `None` when it was not looked up.
    pub digest: Option<Digest>,
    /// The Python version of that image (`3.12.14`).
    pub python: Option<String>,
}

/// The kind of a move from one observation to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MoveKind {
    /// Nothing moved.
    Unchanged,
    /// The same tag points at a new digest with the same Python: a base-OS security rebuild.
    Rebuild,
    /// A newer patch release of the same line, variant and OS — another tag (`3.12.13-slim` → `3.12.14-slim`), or
    /// the same floating tag now carrying a newer Python.
    Patch,
    /// A newer `major.minor` line of the same variant and OS: never taken automatically.
    NewerLine,
    /// Another tag that is neither a newer patch nor a newer line (another variant, OS, or an older version).
    Other,
}

impl MoveKind {
    /// How people read it in reports.
    pub fn describe(self) -> &'static str {
        match self {
            MoveKind::Unchanged => "unchanged",
            MoveKind::Rebuild => "rebuild (same tag, new digest)",
            MoveKind::Patch => "patch release",
            MoveKind::NewerLine => "newer line",
            MoveKind::Other => "other tag",
        }
    }
}

/// A classified move and whether the environment's update policy takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    /// What kind of move it is.
    pub kind: MoveKind,
    /// Whether `pyimage update` applies it in this environment.
    pub apply: bool,
    /// The policy that held it back, when it is a move the environment could take with a wider `update`.
    pub held_by: Option<UpdatePolicy>,
}

/// Classifies the move from `old` to `new` and decides it under the environment's `update` policy: rebuilds need
/// `update = "digest"` (or wider), patch releases `update = "patch"`; newer lines and other tags are never applied.
pub fn classify_move(old: &Observation, new: &Observation, policy: UpdatePolicy) -> Move {
    let kind = if old.tag == new.tag {
        match (&old.digest, &new.digest) {
            (Some(before), Some(after)) if before == after => MoveKind::Unchanged,
            _ => match (&old.python, &new.python) {
                (Some(before), Some(after)) if before != after => MoveKind::Patch,
                _ => MoveKind::Rebuild,
            },
        }
    } else {
        let (before, after) = (PythonTag::parse(&old.tag), PythonTag::parse(&new.tag));
        if !same_shape(&after, &before) {
            MoveKind::Other
        } else {
            match (before.version, after.version) {
                (Some(b), Some(a)) if b.major_minor() == a.major_minor() && a > b => {
                    MoveKind::Patch
                }
                (Some(b), Some(a)) if a.major_minor() > b.major_minor() => MoveKind::NewerLine,
                _ => MoveKind::Other,
            }
        }
    };
    let needs = match kind {
        MoveKind::Rebuild => Some(UpdatePolicy::Digest),
        MoveKind::Patch => Some(UpdatePolicy::Patch),
        MoveKind::Unchanged | MoveKind::NewerLine | MoveKind::Other => None,
    };
    let apply = needs.is_some_and(|needed| policy >= needed);
    Move {
        kind,
        apply,
        held_by: needs.filter(|_| !apply).map(|_| policy),
    }
}

/// Same variant, OS and `rc`-ness, and a tag the model fully understands: a move between such tags stays in the
/// family the user chose.
pub fn same_shape(candidate: &PythonTag, current: &PythonTag) -> bool {
    candidate.unknown.is_empty()
        && candidate.variant == current.variant
        && candidate.os == current.os
        && candidate.rc_line == current.rc_line
}

/// The newest full version of the same line and shape that is newer than `current`'s full version (pre-releases
/// only when `current` is one).
pub fn newer_patch(tags: &[String], current: &PythonTag) -> Option<PythonTag> {
    let version = current.version.filter(|v| v.is_full())?;
    tags.iter()
        .map(|t| PythonTag::parse(t))
        .filter(|candidate| {
            same_shape(candidate, current)
                && candidate.version.is_some_and(|v| {
                    v.is_full()
                        && v.major_minor() == version.major_minor()
                        && v > version
                        && (v.pre.is_none() || version.pre.is_some())
                })
        })
        .max_by_key(|candidate| candidate.version)
}

/// The newest `major.minor` line newer than `current`'s with a tag of the same shape (`3.13-slim` while
/// `3.12-slim` is pinned): the one worth knowing about.
pub fn newer_lines(tags: &[String], current: &PythonTag) -> Vec<String> {
    let Some((major, minor)) = current.version.and_then(|v| v.major_minor()) else {
        return Vec::new();
    };
    let mut lines: BTreeMap<PythonVersion, String> = BTreeMap::new();
    for candidate in tags.iter().map(|t| PythonTag::parse(t)) {
        if !same_shape(&candidate, current)
            || candidate.is_prerelease()
            || candidate.float() != Float::Minor
        {
            continue;
        }
        if let Some(version) = candidate.version
            && let Some((m, n)) = version.major_minor()
            && (m, n) > (major, minor)
        {
            lines.insert(version, candidate.tag.clone());
        }
    }
    lines.into_values().last().into_iter().collect()
}

/// Tags that could be the most specific alias of `tag` for an image carrying Python `python`: same variant, more
/// specific, same OS when the tag names one, and naming exactly that version — most specific first. Which of them
/// points at the same digest is for the registry to say.
pub fn alias_candidates(tags: &[String], tag: &PythonTag, python: Option<&str>) -> Vec<PythonTag> {
    let mut candidates: Vec<PythonTag> = tags
        .iter()
        .map(|t| PythonTag::parse(t))
        .filter(|candidate| {
            candidate.unknown.is_empty()
                && candidate.variant == tag.variant
                && candidate.specificity() > tag.specificity()
                && (tag.os.is_none() || candidate.os == tag.os)
                && candidate
                    .version
                    .zip(python)
                    .is_some_and(|(v, p)| v.to_string() == p)
        })
        .collect();
    candidates.sort_by_key(|c| std::cmp::Reverse(c.specificity()));
    candidates
}

/// Tags that point at one digest now: an alias family as the registry sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AliasFamily {
    /// The digest every tag of the family points at (`sha256:…`).
    pub digest: String,
    /// The most specific tag of the family (`3.12.14-slim-trixie`).
    pub most_specific: String,
    /// The Python version the most specific tag names (`3.12.14`).
    pub version: Option<String>,
    /// Its release line (`3.12`).
    pub line: Option<String>,
    /// The variant the most specific tag names (`slim`; full when the tag has none).
    pub variant: pyimage_model::python::Variant,
    /// The OS release the most specific tag names (`trixie`), if any.
    pub os: Option<pyimage_model::python::Os>,
    /// Every tag of the family, most specific first.
    pub tags: Vec<String>,
}

/// Groups `(tag, digest)` pairs into alias families, newest Python first (then by most specific tag).
pub fn alias_families(heads: impl IntoIterator<Item = (String, String)>) -> Vec<AliasFamily> {
    let mut by_digest: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (tag, digest) in heads {
        by_digest.entry(digest).or_default().push(tag);
    }
    let mut families: Vec<AliasFamily> = by_digest
        .into_iter()
        .map(|(digest, mut tags)| {
            tags.sort_by(|a, b| {
                let (pa, pb) = (PythonTag::parse(a), PythonTag::parse(b));
                pb.specificity()
                    .cmp(&pa.specificity())
                    .then_with(|| a.cmp(b))
            });
            let most_specific = tags.first().cloned().unwrap_or_default();
            let parsed = PythonTag::parse(&most_specific);
            AliasFamily {
                digest,
                version: parsed.version.map(|v| v.to_string()),
                line: parsed.line(),
                variant: parsed.variant,
                os: parsed.os.clone(),
                most_specific,
                tags,
            }
        })
        .collect();
    families.sort_by(|a, b| {
        let key = |f: &AliasFamily| f.version.as_deref().and_then(PythonVersion::parse);
        key(b)
            .cmp(&key(a))
            .then_with(|| a.most_specific.cmp(&b.most_specific))
    });
    families
}

/// Line (`3.12`) → the newest stable (not pre-release) full version with a tag in the list.
pub fn newest_patch_per_line(tags: &[String]) -> BTreeMap<String, PythonVersion> {
    let mut newest: BTreeMap<String, PythonVersion> = BTreeMap::new();
    for tag in tags {
        let parsed = PythonTag::parse(tag);
        if let (Some(version), Some(line)) = (parsed.version, parsed.line())
            && version.is_full()
            && !parsed.is_prerelease()
            && newest.get(&line).is_none_or(|known| version > *known)
        {
            newest.insert(line, version);
        }
    }
    newest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(tag: &str, digest: char, python: &str) -> Observation {
        Observation {
            tag: tag.to_owned(),
            digest: Digest::parse(&format!("sha256:{}", digest.to_string().repeat(64))).ok(),
            python: (!python.is_empty()).then(|| python.to_owned()),
        }
    }

    #[test]
    fn rebuilds_patches_and_lines() {
        use UpdatePolicy::{Digest as D, None as N, Patch as P};
        let old = observed("3.12.13-slim", 'a', "3.12.13");
        let cases = [
            (
                observed("3.12.13-slim", 'a', "3.12.13"),
                MoveKind::Unchanged,
            ),
            (observed("3.12.13-slim", 'b', "3.12.13"), MoveKind::Rebuild),
            // Python unknown on one side: a new digest of the same tag is a rebuild.
            (observed("3.12.13-slim", 'b', ""), MoveKind::Rebuild),
            (observed("3.12.14-slim", 'c', "3.12.14"), MoveKind::Patch),
            (observed("3.13.1-slim", 'd', "3.13.1"), MoveKind::NewerLine),
            (observed("3.12.14-alpine", 'e', "3.12.14"), MoveKind::Other),
            (observed("3.12.12-slim", 'f', "3.12.12"), MoveKind::Other),
        ];
        for (new, kind) in cases {
            assert_eq!(classify_move(&old, &new, P).kind, kind, "{}", new.tag);
        }
        // A floating tag that now carries a newer patch is a patch move.
        let floating = classify_move(
            &observed("3.12-slim", 'a', "3.12.13"),
            &observed("3.12-slim", 'b', "3.12.14"),
            D,
        );
        assert_eq!(floating.kind, MoveKind::Patch);
        assert!(!floating.apply);
        assert_eq!(floating.held_by, Some(D));
        // What each policy takes.
        let rebuild = observed("3.12.13-slim", 'b', "3.12.13");
        let patch = observed("3.12.14-slim", 'c', "3.12.14");
        let line = observed("3.13.1-slim", 'd', "3.13.1");
        let takes = |new: &Observation, policy| classify_move(&old, new, policy).apply;
        assert!(!takes(&rebuild, N) && takes(&rebuild, D) && takes(&rebuild, P));
        assert!(!takes(&patch, N) && !takes(&patch, D) && takes(&patch, P));
        assert!(!takes(&line, P));
        assert_eq!(classify_move(&old, &line, P).held_by, None);
        assert_eq!(classify_move(&old, &rebuild, N).held_by, Some(N));
    }

    #[test]
    fn families_of_a_tag_list() {
        let tags: Vec<String> = [
            "3.12.13-slim",
            "3.12.14-slim",
            "3.12.14-slim-trixie",
            "3.12.14-alpine",
            "3.12-slim",
            "3.13-slim",
            "3.14-slim",
            "3.15-rc-slim",
            "3.13.0rc1-slim",
            "3.12.15rc1-slim",
        ]
        .map(String::from)
        .into();
        let current = PythonTag::parse("3.12.13-slim");
        assert_eq!(
            newer_patch(&tags, &current).map(|t| t.tag),
            Some("3.12.14-slim".into())
        );
        assert_eq!(newer_lines(&tags, &current), ["3.14-slim"]);
        assert_eq!(newer_patch(&tags, &PythonTag::parse("3.12-slim")), None);
        let aliases: Vec<String> =
            alias_candidates(&tags, &PythonTag::parse("3.12-slim"), Some("3.12.14"))
                .into_iter()
                .map(|t| t.tag)
                .collect();
        assert_eq!(aliases, ["3.12.14-slim-trixie", "3.12.14-slim"]);
        let newest = newest_patch_per_line(&tags);
        assert_eq!(
            newest.get("3.12").map(ToString::to_string).as_deref(),
            Some("3.12.14")
        );
        assert_eq!(newest.get("3.13"), None, "3.13.0rc1 is a pre-release");
    }

    #[test]
    fn families_group_tags_by_digest_most_specific_first() {
        let heads = [
            ("3.12-slim", "sha256:a"),
            ("3.12.14-slim-trixie", "sha256:a"),
            ("3.12.14-slim", "sha256:a"),
            ("3.13-slim", "sha256:b"),
            ("3.13.1-slim-trixie", "sha256:b"),
        ]
        .map(|(t, d)| (t.to_owned(), d.to_owned()));
        let families = alias_families(heads);
        assert_eq!(families.len(), 2);
        assert_eq!(families[0].most_specific, "3.13.1-slim-trixie");
        assert_eq!(
            families[1].tags,
            ["3.12.14-slim-trixie", "3.12.14-slim", "3.12-slim"]
        );
        assert_eq!(families[1].line.as_deref(), Some("3.12"));
    }
}
