//! The rules of `pyimage check`: one file per rule, one registry ([`RULES`]) with stable IDs and kebab-case names.
//!
//! Each rule is declared with `declare_rule!`, which writes its documentation (the fixed headings *What it does*,
//! *Why*, *Example*, *Fix*) as the doc comment of the rule's type and keeps the same text in [`RuleMeta`] for the
//! README, SARIF rule metadata and `pyimage check --explain`. IDs are never reused; a test asserts uniqueness.
//!
//! Image rules get an [`ImageCheck`] (the reference, what kind of source it is, its Python tag, the environment
//! and its requirements) and return at most one [`Hit`]. Suppression rules (PY013, PY014) are raised by the checker
//! itself.

use pyimage_locate::dockerfile::Unresolvable;
use pyimage_model::python::PythonTag;
use pyimage_model::reference::{Reference, ReferenceError};

use super::SiteKind;
use super::eol::Date;
use super::policy::{Decision, EnvSettings, Policy, Severity};

/// Declares a rule: a unit struct whose doc comment is the rule's documentation, and its [`RuleMeta`].
macro_rules! declare_rule {
    (
        $name:ident,
        id: $id:literal,
        name: $kebab:literal,
        severity: $severity:ident,
        summary: $summary:literal,
        what: $what:literal,
        why: $why:literal,
        example: $example:literal,
        fix: $fix:literal,
        check: $check:expr $(,)?
    ) => {
        #[doc = concat!("**", $id, " `", $kebab, "`**: ", $summary)]
        #[doc = ""]
        #[doc = concat!("## What it does\n\n", $what, "\n")]
        #[doc = concat!("## Why\n\n", $why, "\n")]
        #[doc = concat!("## Example\n\n```text\n", $example, "\n```\n")]
        #[doc = concat!("## Fix\n\n", $fix)]
        #[derive(Debug, Clone, Copy)]
        pub struct $name;

        impl $name {
            /// The rule's metadata and check.
            pub const META: $crate::check::rules::RuleMeta = $crate::check::rules::RuleMeta {
                id: $id,
                name: $kebab,
                default_severity: $crate::check::policy::Severity::$severity,
                summary: $summary,
                what: $what,
                why: $why,
                example: $example,
                fix: $fix,
                check: $check,
            };
        }
    };
}

pub mod py001_untagged;
pub mod py002_latest;
pub mod py003_floating_tag;
pub mod py004_missing_digest;
pub mod py005_non_official_source;
pub mod py006_end_of_life;
pub mod py007_prerelease;
pub mod py008_lock_mismatch;
pub mod py009_unresolvable_arg;
pub mod py010_unknown_tag_parts;
pub mod py011_disallowed_source;
pub mod py012_invalid_reference;
pub mod py013_suppression_without_reason;
pub mod py014_unused_suppression;
pub mod py015_derived_python_image;
pub mod py016_numeric_helm_tag;
pub mod py017_docker_content_trust;
pub mod py018_unsigned_image;

/// A rule's check: `None` when the image passes (or the rule does not apply to it).
pub type CheckFn = Option<fn(&ImageCheck<'_>) -> Option<Hit>>;

/// A rule's identity and documentation.
#[derive(Debug, Clone, Copy)]
pub struct RuleMeta {
    /// Stable ID (`PY001`).
    pub id: &'static str,
    /// Stable kebab-case name (`untagged`).
    pub name: &'static str,
    /// Severity unless configured.
    pub default_severity: Severity,
    /// One-line summary (`--list-rules`, SARIF `shortDescription`).
    pub summary: &'static str,
    /// The *What it does* section of the rule's documentation (`--explain`, the documentation site).
    pub what: &'static str,
    /// The *Why* section: the risk the rule guards against.
    pub why: &'static str,
    /// *Example* (a snippet that triggers the rule).
    pub example: &'static str,
    /// The *Fix* section: how to make the finding go away.
    pub fix: &'static str,
    /// The image check; `None` for rules the checker raises itself.
    pub check: CheckFn,
}

impl PartialEq for RuleMeta {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for RuleMeta {}

impl RuleMeta {
    /// The rule's documentation as Markdown (`pyimage docs`: one page per rule of the documentation site).
    pub fn markdown(&self) -> String {
        format!(
            "#### {} `{}` (default: {})\n\n{}\n\n**What it does.** {}\n\n**Why.** {}\n\n**Example.**\n\n```text\n{}\n```\n\n**Fix.** {}\n",
            self.id,
            self.name,
            self.default_severity,
            self.summary,
            self.what,
            self.why,
            self.example,
            self.fix
        )
    }
}

/// Every rule, in ID order.
pub const RULES: &[RuleMeta] = &[
    py001_untagged::Untagged::META,
    py002_latest::Latest::META,
    py003_floating_tag::FloatingTag::META,
    py004_missing_digest::MissingDigest::META,
    py005_non_official_source::NonOfficialSource::META,
    py006_end_of_life::EndOfLife::META,
    py007_prerelease::Prerelease::META,
    py008_lock_mismatch::LockMismatch::META,
    py009_unresolvable_arg::UnresolvableArg::META,
    py010_unknown_tag_parts::UnknownTagParts::META,
    py011_disallowed_source::DisallowedSource::META,
    py012_invalid_reference::InvalidReference::META,
    py013_suppression_without_reason::SuppressionWithoutReason::META,
    py014_unused_suppression::UnusedSuppression::META,
    py015_derived_python_image::DerivedPythonImage::META,
    py016_numeric_helm_tag::NumericHelmTag::META,
    py017_docker_content_trust::DockerContentTrust::META,
    py018_unsigned_image::UnsignedImage::META,
];

/// Finds a rule by ID (`PY003`, any case) or name (`floating-tag`).
pub fn find_rule(id_or_name: &str) -> Option<&'static RuleMeta> {
    let key = id_or_name.trim();
    RULES
        .iter()
        .find(|rule| rule.id.eq_ignore_ascii_case(key) || rule.name == key)
}

/// The rule a misspelt ID or name most likely means (`floatng-tag`, `PY03`), for a "did you mean": the one rule
/// closest to it, within one edit of an ID (`PY999` suggests nothing: every ID is a plausible typo of it) or two of a
/// name (one for names under eight letters). `None` when nothing is close or two rules are equally close.
pub fn suggest_rule(id_or_name: &str) -> Option<&'static RuleMeta> {
    let key = id_or_name.trim().to_ascii_lowercase();
    let id_shaped = key
        .strip_prefix("py")
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()));
    let cap = match (id_shaped, key.len()) {
        (true, _) | (false, 0..8) => 1,
        (false, _) => 2,
    };
    let mut best: Option<(usize, &'static RuleMeta)> = None;
    let mut tied = false;
    for rule in RULES {
        let target = if id_shaped {
            rule.id.to_ascii_lowercase()
        } else {
            rule.name.to_owned()
        };
        let distance = edit_distance(&key, &target, cap);
        if distance > cap {
            continue;
        }
        match best {
            Some((shortest, _)) if distance > shortest => {}
            Some((shortest, _)) if distance == shortest => tied = true,
            _ => {
                best = Some((distance, rule));
                tied = false;
            }
        }
    }
    best.filter(|_| !tied).map(|(_, rule)| rule)
}

/// What to tell someone who named a rule that does not exist: `did you mean PY003 (floating-tag)?` when
/// [`suggest_rule`] finds one, else where the list is.
pub fn unknown_rule_hint(id_or_name: &str) -> String {
    match suggest_rule(id_or_name) {
        Some(rule) => format!("did you mean {} ({})?", rule.id, rule.name),
        None => "`pyimage check --list-rules` lists them".to_owned(),
    }
}

/// Every rule's documentation as one Markdown text (`pyimage check --rules-markdown`).
pub fn rules_markdown() -> String {
    let mut out = String::from("| ID | name | default | summary |\n|---|---|---|---|\n");
    for rule in RULES {
        out.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            rule.id, rule.name, rule.default_severity, rule.summary
        ));
    }
    for rule in RULES {
        out.push('\n');
        out.push_str(&rule.markdown());
    }
    out
}

/// What kind of source an image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `docker.io/library/python`.
    OfficialPython,
    /// A declared mirror of it (the pattern as written).
    Mirror(String),
    /// Pretends to be the official image without being it or a declared mirror: a typosquat (`pyhton`, `pythn`),
    /// `python` (or `python3`) under another namespace or registry, or a `python-…` name in Docker Hub's `library/`
    /// namespace, which only holds official images. The reason it looks like Python.
    LookAlike(String),
    /// A third-party image built on Python that does not pretend to be it (`apache/beam_python3.12_sdk`,
    /// `tiangolo/uvicorn-gunicorn:python3.11`, `ghcr.io/astral-sh/uv:0.5-python3.12-trixie-slim`): its vendor
    /// decides when its Python gets patched.
    DerivedFromPython {
        /// The Python line its name or tag names (`python3.12`, `python311`, `py312` → `(3, 12)`), if any.
        python: Option<(u32, u32)>,
        /// Where the name or tag says Python (`the tag "python3.11" names Python 3.11`).
        evidence: String,
    },
    /// Not a Python image.
    Other,
}

impl Source {
    /// Official or mirror: the tag follows the official tag scheme.
    pub fn is_official_python(&self) -> bool {
        matches!(self, Source::OfficialPython | Source::Mirror(_))
    }

    /// Whether `pyimage pin` resolves, pins and locks this kind of image — and so whether `check --locked` holds
    /// it to the lock: the official image, a declared mirror, an image derived from Python (the allowed vendor
    /// images of a real tree). Look-alikes are refused by PY005, never pinned.
    pub fn is_pinned(&self) -> bool {
        matches!(
            self,
            Source::OfficialPython | Source::Mirror(_) | Source::DerivedFromPython { .. }
        )
    }

    /// Any Python image, official or not.
    pub fn is_python(&self) -> bool {
        !matches!(self, Source::Other)
    }

    /// The Python line of an image derived from Python, when its name or tag names one.
    pub fn derived_line(&self) -> Option<(u32, u32)> {
        match self {
            Source::DerivedFromPython { python, .. } => *python,
            _ => None,
        }
    }
}

/// What rules see about one image reference.
#[derive(Debug)]
pub struct ImageCheck<'a> {
    /// Where the image is used.
    pub site: SiteKind,
    /// The reference as written.
    pub written: &'a str,
    /// The evaluated reference, if it evaluates and parses.
    pub reference: Option<&'a Reference>,
    /// Docker's error, if the evaluated text is not a reference.
    pub reference_error: Option<(&'a str, &'a ReferenceError)>,
    /// Why it cannot be evaluated, if it cannot.
    pub unresolvable: Option<&'a Unresolvable>,
    /// Whether ARGs were used to build the reference.
    pub uses_args: bool,
    /// A Helm values tag written as an unquoted number, with what Helm renders.
    pub numeric_tag: Option<&'a pyimage_locate::manifests::NumericTag>,
    /// Where the image comes from: official, a declared mirror, a look-alike, or not Python.
    pub source: Source,
    /// The Python tag (official and mirror images only; `latest` when untagged).
    pub tag: Option<PythonTag>,
    /// The environment's name.
    pub environment: &'a str,
    /// That environment's settings (how far tags may float, whether a digest is required, …).
    pub settings: &'a EnvSettings,
    /// The whole policy, for settings beyond the environment (allowed sources, end-of-life overrides).
    pub policy: &'a Policy,
    /// Today's date, against which end-of-life dates are compared.
    pub today: Date,
    /// The file path (relative, `/`-separated).
    pub path: &'a str,
    /// The lock file, when there is one.
    pub lock: Option<&'a pyimage_model::lock::Lock>,
    /// Signatures read at registries for this decision (`serve`); `None` reads the lock's record instead.
    pub signatures: Option<&'a crate::signatures::SignatureFacts>,
}

/// A rule's finding about one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// What is wrong, about this image.
    pub message: String,
    /// What to do.
    pub fix: String,
    /// Settings that decided the finding (beyond the severity).
    pub decided_by: Vec<Decision>,
}

impl Hit {
    /// A hit without policy decisions.
    pub fn new(message: impl Into<String>, fix: impl Into<String>) -> Self {
        Hit {
            message: message.into(),
            fix: fix.into(),
            decided_by: Vec::new(),
        }
    }

    /// Adds a deciding setting.
    pub fn decided(mut self, what: &'static str, origin: &super::policy::Origin) -> Self {
        if !matches!(origin, super::policy::Origin::Default) {
            self.decided_by.push(Decision {
                what,
                origin: origin.clone(),
            });
        }
        self
    }
}

/// The shown name of a reference (`python:3.12-slim`).
pub(crate) fn shown(check: &ImageCheck<'_>) -> String {
    check
        .reference
        .map_or_else(|| check.written.to_owned(), Reference::familiar_string)
}

/// Edit distance (Levenshtein) between two short ASCII strings, capped at `cap + 1`.
pub(crate) fn edit_distance(a: &str, b: &str, cap: usize) -> usize {
    let a = a.as_bytes();
    let b = b.as_bytes();
    if a.len().abs_diff(b.len()) > cap {
        return cap + 1;
    }
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, &ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()].min(cap + 1)
}

/// Whether `pyimage pin` pins `reference` under `policy` (see [`Source::is_pinned`]): the one predicate `pin`,
/// `update` and PY008 share, so that `pin` then `check --locked` always converges.
pub fn pinned_by_pyimage(reference: &Reference, policy: &Policy) -> bool {
    classify(reference, policy).is_pinned()
}

/// Decides what kind of source `reference` is: the official image, a declared mirror, a look-alike of it (a
/// typosquat one or two letters from `python`, `python` or `python3` under another namespace or registry, a
/// `python…` name in Docker Hub's `library/` namespace), an image derived from Python (another name that contains
/// `python`, or a name or tag that names a Python version: `beam_python3.12_sdk`, `uv:0.5-python3.12-trixie-slim`),
/// or other.
pub fn classify(reference: &Reference, policy: &Policy) -> Source {
    if reference.is_official("python") {
        return Source::OfficialPython;
    }
    if let Some(mirror) = policy.mirror_of_python(reference) {
        return Source::Mirror(mirror.written.clone());
    }
    if let Some((copy, _)) = super::vendors::public_copy(reference) {
        return Source::Mirror(copy.written.clone());
    }
    let path = reference.path().to_ascii_lowercase();
    let last = path.rsplit('/').next().unwrap_or_default();
    let tag = reference.tag().unwrap_or_default();
    // A vendor's image, accepted by name or known: its Python line is in its name (`python-311`) or leads its tag
    // (`3.12`, `3.12-bookworm`).
    let vendor = policy
        .accepted_vendor_image(reference)
        .map(|pattern| format!("accepted in [policy] vendor-images ({})", pattern.written))
        .or_else(|| super::vendors::vendor_image(reference).map(|(_, who)| who.to_owned()));
    if let Some(evidence) = vendor {
        let python = python_mention(last)
            .flatten()
            .or_else(|| python_mention(tag).flatten())
            .or_else(|| python_line(tag));
        return Source::DerivedFromPython { python, evidence };
    }
    if is_bare_python_name(last) {
        return Source::LookAlike(format!("the repository is named {last:?}"));
    }
    if reference.domain() == "docker.io" && path.starts_with("library/") && last.contains("python")
    {
        return Source::LookAlike(format!(
            "{last:?} is in Docker Hub's library/ namespace, where only official images live"
        ));
    }
    if last.len() >= 5 && edit_distance(last, "python", 2) <= 2 {
        return Source::LookAlike(format!(
            "{last:?} is one or two letters away from \"python\""
        ));
    }
    let in_name = python_mention(last);
    let in_tag = python_mention(tag);
    let evidence = match (in_name, in_tag) {
        (Some(Some((major, minor))), _) => {
            format!("the repository {last:?} names Python {major}.{minor}")
        }
        (_, Some(Some((major, minor)))) => format!("the tag {tag:?} names Python {major}.{minor}"),
        (Some(None), _) => format!("the repository {last:?} names Python"),
        (None, Some(None)) => format!("the tag {tag:?} names Python"),
        (None, None) => return Source::Other,
    };
    let python = in_name.flatten().or(in_tag.flatten());
    Source::DerivedFromPython { python, evidence }
}

/// Whether a repository's last name is `python` with at most a version attached (`python`, `python3`,
/// `python3.12`, `python-3.12`, `python311`): a name that can only be meant as the official image.
fn is_bare_python_name(name: &str) -> bool {
    name.strip_prefix("python").is_some_and(|rest| {
        rest.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'))
    })
}

/// Whether a name or tag mentions Python: `python` anywhere, or `py` followed by a version at the start of a word
/// (`py312`, `py3.12`, not `numpy3`). `Some(Some(line))` when a version follows (`python3.12`, `python311`,
/// `python-3.11`, `py312` → `(3, 12)`), `Some(None)` for a mention without one (`python-base`).
fn python_mention(text: &str) -> Option<Option<(u32, u32)>> {
    let lower = text.to_ascii_lowercase();
    let mut mention = None;
    for (index, _) in lower.match_indices("py") {
        let word_start = index == 0
            || lower
                .as_bytes()
                .get(index - 1)
                .is_some_and(|b| !b.is_ascii_alphanumeric());
        let rest = lower.get(index..).unwrap_or_default();
        let (after, spelt_out) = match rest.strip_prefix("python") {
            Some(after) => (after, true),
            None => (rest.get(2..).unwrap_or_default(), false),
        };
        let line = python_line(after);
        if line.is_some() && (spelt_out || word_start) {
            return Some(line);
        }
        if spelt_out {
            mention = Some(None);
        }
    }
    mention
}

/// The Python line at the start of `text`, after an optional `-` or `_`: `3.12…` or the run-together `312`, `39`
/// (major 2 or 3, a one- or two-digit minor). `3` alone names no line.
fn python_line(text: &str) -> Option<(u32, u32)> {
    let text = text.strip_prefix(['-', '_']).unwrap_or(text);
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let head_len = digits(text);
    let head = text.get(..head_len)?;
    let (major, minor) = match text.get(head_len..).and_then(|r| r.strip_prefix('.')) {
        Some(rest) => {
            let minor = rest.get(..digits(rest))?;
            (head, minor)
        }
        None if matches!(head.len(), 2 | 3) => (head.get(..1)?, head.get(1..)?),
        None => return None,
    };
    let major: u32 = major.parse().ok()?;
    let minor_value: u32 = minor.parse().ok()?;
    (matches!(major, 2 | 3) && (1..=2).contains(&minor.len())).then_some((major, minor_value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn ids_and_names_are_unique_and_well_formed() {
        let mut ids = BTreeSet::new();
        let mut names = BTreeSet::new();
        for (index, rule) in RULES.iter().enumerate() {
            assert!(ids.insert(rule.id), "duplicate id {}", rule.id);
            assert!(names.insert(rule.name), "duplicate name {}", rule.name);
            assert_eq!(
                rule.id,
                format!("PY{:03}", index + 1),
                "IDs in order, none skipped"
            );
            assert!(
                rule.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-' || b.is_ascii_digit()),
                "{} is not kebab-case",
                rule.name
            );
            for (heading, text) in [
                ("summary", rule.summary),
                ("what", rule.what),
                ("why", rule.why),
                ("example", rule.example),
                ("fix", rule.fix),
            ] {
                assert!(!text.trim().is_empty(), "{} has no {heading}", rule.id);
            }
        }
    }

    #[test]
    fn find_by_id_or_name() {
        assert_eq!(find_rule("py002").map(|r| r.id), Some("PY002"));
        assert_eq!(find_rule("latest").map(|r| r.id), Some("PY002"));
        assert!(find_rule("nope").is_none());
    }

    #[test]
    fn suggestions_for_misspelt_rules() {
        let suggest = |text: &str| suggest_rule(text).map(|r| r.id);
        assert_eq!(suggest("floatng-tag"), Some("PY003"));
        assert_eq!(suggest("floating_tag"), Some("PY003"));
        assert_eq!(suggest("PY0003"), Some("PY003"));
        assert_eq!(suggest("py03"), None, "PY003 and PY013 are as close");
        assert_eq!(suggest("latst"), Some("PY002"));
        assert_eq!(suggest("end-of-live"), Some("PY006"));
        assert_eq!(suggest("PY999"), None);
        assert_eq!(suggest("PY01"), None, "PY001 and PY010 are as close");
        assert_eq!(suggest("nope"), None);
        assert_eq!(
            unknown_rule_hint("floatng-tag"),
            "did you mean PY003 (floating-tag)?"
        );
    }

    fn class(text: &str) -> Source {
        let reference = Reference::parse_normalized(text).expect("a valid reference");
        classify(&reference, &Policy::default())
    }

    #[test]
    fn look_alikes() {
        assert_eq!(class("python:3.12"), Source::OfficialPython);
        for lookalike in [
            "pyhton:3.12",
            "pythn",
            "python3:3.12",
            "library/python3:3.12",
            "docker.io/library/python-evil:3.12",
            "myharbor.example/python:3.12",
            "someone/python:3.12",
            "someone/python3.12:latest",
        ] {
            assert!(
                matches!(class(lookalike), Source::LookAlike(_)),
                "{lookalike}: {:?}",
                class(lookalike)
            );
        }
        for other in [
            "debian:12",
            "node:20",
            "pytorch/pytorch:2.3",
            "alpine",
            "someone/numpy3:12",
            "ghcr.io/astral-sh/uv:0.5",
        ] {
            assert_eq!(class(other), Source::Other, "{other}");
        }
        assert_eq!(edit_distance("pyhton", "python", 2), 2);
        assert_eq!(edit_distance("pytho", "python", 2), 1);
    }

    #[test]
    fn images_derived_from_python_with_their_line() {
        for (text, line) in [
            ("apache/beam_python3.12_sdk:2.60.0", Some((3, 12))),
            (
                "gcr.io/dataflow-templates-base/python311-template-launcher-base",
                Some((3, 11)),
            ),
            (
                "ghcr.io/astral-sh/uv:0.5-python3.12-trixie-slim",
                Some((3, 12)),
            ),
            ("tiangolo/uvicorn-gunicorn:python3.11", Some((3, 11))),
            ("tiangolo/uvicorn-gunicorn:python3.9-slim", Some((3, 9))),
            ("rapidsai/base:24.10-cuda12.5-py312", Some((3, 12))),
            ("example.com/tools/app-py3.10:1", Some((3, 10))),
            ("ghcr.io/acme/python-base:1", None),
            ("tiangolo/uvicorn-gunicorn:python3", None),
        ] {
            match class(text) {
                Source::DerivedFromPython { python, evidence } => {
                    assert_eq!(python, line, "{text}: {evidence}");
                }
                other => panic!("{text} is {other:?}"),
            }
        }
    }

    #[test]
    fn python_lines_in_names() {
        assert_eq!(python_line("3.12_sdk"), Some((3, 12)));
        assert_eq!(python_line("311-template"), Some((3, 11)));
        assert_eq!(python_line("-3.9"), Some((3, 9)));
        assert_eq!(python_line("39"), Some((3, 9)));
        assert_eq!(python_line("3"), None);
        assert_eq!(python_line("3."), None);
        assert_eq!(python_line("4.1"), None);
        assert_eq!(python_line("3124"), None);
        assert_eq!(python_line(""), None);
        assert_eq!(python_mention("base"), None);
        assert_eq!(python_mention("numpy312"), None);
        assert_eq!(python_mention("PYTHON3.13"), Some(Some((3, 13))));
    }
}
