//! Image references (`python:3.12-slim`, `ghcr.io/org/app@sha256:…`) read exactly as Docker reads them.
//!
//! This is a port of the behaviour of Go's `github.com/distribution/reference` (the library Docker, containerd and
//! BuildKit use), checked against its 240 test vectors:
//!
//! * [`Reference::parse`] is Go's `Parse`: the grammar only, no defaults (the domain may be empty).
//! * [`Reference::parse_normalized`] is `ParseNormalizedNamed`, what `docker pull` and `FROM` do: `docker.io` is the
//!   default domain, `index.docker.io` its legacy spelling, and single-component Docker Hub names get `library/`.
//!   It does **not** add `:latest`; [`Reference::parse_docker_ref`] (`ParseDockerRef`) does.
//! * [`AnyReference::parse`] is `ParseAnyReference`: also accepts a bare digest or 64-hex image ID.
//!
//! Error messages are Go's own, so users see the same words from pyimage as from `docker`.

use std::fmt;

use serde::Serialize;
use thiserror::Error;

use crate::digest::{Digest, DigestError};
use crate::grammar;

/// Docker Hub's canonical domain.
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// The legacy name of Docker Hub's domain, rewritten to [`DEFAULT_DOMAIN`].
pub const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// The namespace of Docker Hub's official images.
pub const OFFICIAL_REPO_PREFIX: &str = "library/";
/// The tag Docker applies when none is given (only by [`Reference::parse_docker_ref`] and [`Reference::with_default_tag`]).
pub const DEFAULT_TAG: &str = "latest";
/// Longest repository path `distribution/reference` accepts.
pub const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// Why a string is not an image reference. The messages are those of `distribution/reference`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReferenceError {
    /// Empty input.
    #[error("repository name must have at least one component")]
    NameEmpty,
    /// The input does not follow the reference grammar.
    #[error("invalid reference format")]
    InvalidFormat,
    /// The input would be valid if it were lowercase.
    #[error("repository name must be lowercase")]
    NameContainsUppercase,
    /// The repository path is longer than 255 characters.
    #[error("repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters")]
    NameTooLong,
    /// `parse_named` was given something that is not already fully qualified.
    #[error("repository name must be canonical")]
    NameNotCanonical,
    /// The normalized repository path has uppercase letters (Go wraps `ErrReferenceInvalidFormat` here).
    #[error("invalid reference format: repository name ({remote_name}) must be lowercase")]
    NormalizedNameUppercase {
        /// The remote name as Go reports it.
        remote_name: String,
    },
    /// A 64-hex string is an image ID, which Docker refuses as a repository name.
    #[error("invalid repository name ({input}), cannot specify 64-byte hexadecimal strings")]
    HexIdentifierName {
        /// The 64-hex input as given.
        input: String,
    },
    /// A tag given to [`Reference::with_tag`] does not follow the grammar.
    #[error("invalid tag format")]
    TagInvalidFormat,
    /// A digest given to [`Reference::with_digest`] does not follow the grammar.
    #[error("invalid digest format")]
    DigestInvalidFormat,
    /// The digest part is well-formed but invalid (length, algorithm).
    #[error(transparent)]
    Digest(#[from] DigestError),
}

/// A named image reference: repository (domain + path), optional tag, optional digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// Go's `Parse`: the grammar alone. `test.com:5000` is a repository `test.com` with tag `5000`; no default domain
    /// is applied, so [`Reference::domain`] may be empty.
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        let Some((name, tag, digest)) = grammar::split_reference(input) else {
            if input.is_empty() {
                return Err(ReferenceError::NameEmpty);
            }
            if grammar::split_reference(&input.to_lowercase()).is_some() {
                return Err(ReferenceError::NameContainsUppercase);
            }
            return Err(ReferenceError::InvalidFormat);
        };
        let (domain, path) = grammar::split_name(name).ok_or(ReferenceError::InvalidFormat)?;
        if path.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::NameTooLong);
        }
        let digest = if digest.is_empty() {
            None
        } else {
            Some(Digest::parse(digest)?)
        };
        Ok(Reference {
            domain: domain.to_owned(),
            path: path.to_owned(),
            tag: (!tag.is_empty()).then(|| tag.to_owned()),
            digest,
        })
    }

    /// Go's `ParseNormalizedNamed`: how Docker reads what a user typed. `python:3.12` becomes
    /// `docker.io/library/python:3.12`. No default tag is added.
    pub fn parse_normalized(input: &str) -> Result<Self, ReferenceError> {
        if grammar::is_identifier(input) {
            return Err(ReferenceError::HexIdentifierName {
                input: input.to_owned(),
            });
        }
        let (domain, remainder) = split_docker_domain(input);
        let remote_name = match remainder.find(':') {
            Some(colon) => &remainder[..colon],
            None => remainder.as_str(),
        };
        if remote_name.to_lowercase() != remote_name {
            return Err(ReferenceError::NormalizedNameUppercase {
                remote_name: remote_name.to_owned(),
            });
        }
        Reference::parse(&format!("{domain}/{remainder}"))
    }

    /// Go's `ParseDockerRef`: normalized, with `:latest` added when there is neither tag nor digest, and the tag
    /// dropped when a digest is present (the digest alone decides what is pulled).
    pub fn parse_docker_ref(input: &str) -> Result<Self, ReferenceError> {
        let mut reference = Reference::parse_normalized(input)?;
        if reference.digest.is_some() {
            reference.tag = None;
            Ok(reference)
        } else {
            Ok(reference.with_default_tag())
        }
    }

    /// Go's `ParseNamed`: like [`Reference::parse_normalized`], but the input must already be in canonical form.
    pub fn parse_named(input: &str) -> Result<Self, ReferenceError> {
        let reference = Reference::parse_normalized(input)?;
        if reference.to_string() != input {
            return Err(ReferenceError::NameNotCanonical);
        }
        Ok(reference)
    }

    /// Go's `WithName`: a repository name (domain and path), no tag or digest.
    pub fn with_name(name: &str) -> Result<Self, ReferenceError> {
        let (domain, path) = grammar::split_name(name).ok_or(ReferenceError::InvalidFormat)?;
        if path.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::NameTooLong);
        }
        Ok(Reference {
            domain: domain.to_owned(),
            path: path.to_owned(),
            tag: None,
            digest: None,
        })
    }

    /// Go's `WithTag`: the same repository and digest with this tag.
    pub fn with_tag(&self, tag: &str) -> Result<Self, ReferenceError> {
        if !grammar::is_tag(tag) {
            return Err(ReferenceError::TagInvalidFormat);
        }
        Ok(Reference {
            tag: Some(tag.to_owned()),
            ..self.clone()
        })
    }

    /// Go's `WithDigest`: the same repository and tag with this digest. Like Go, only the grammar is checked (any
    /// algorithm, at least 32 hex characters); call [`Digest::validate`] before trusting it.
    pub fn with_digest(&self, digest: &str) -> Result<Self, ReferenceError> {
        let digest =
            Digest::from_grammar_match(digest).ok_or(ReferenceError::DigestInvalidFormat)?;
        Ok(Reference {
            digest: Some(digest),
            ..self.clone()
        })
    }

    /// The same reference with a validated digest (used after resolution).
    pub fn with_verified_digest(&self, digest: Digest) -> Self {
        Reference {
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// Go's `TagNameOnly`: adds `:latest` when the reference has neither tag nor digest.
    pub fn with_default_tag(self) -> Self {
        if self.tag.is_none() && self.digest.is_none() {
            Reference {
                tag: Some(DEFAULT_TAG.to_owned()),
                ..self
            }
        } else {
            self
        }
    }

    /// The repository alone (Go's `TrimNamed`).
    pub fn repository(&self) -> Self {
        Reference {
            domain: self.domain.clone(),
            path: self.path.clone(),
            tag: None,
            digest: None,
        }
    }

    /// The repository with `other`'s tag and no digest: the key a reference had before it was pinned.
    pub fn with_tag_of(self, other: &Reference) -> Self {
        Reference {
            tag: other.tag.clone(),
            digest: None,
            ..self
        }
    }

    /// The registry host, with port if any (`docker.io`, `localhost:5000`, `[::1]:5000`). Empty only for
    /// references made by [`Reference::parse`] without a domain.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository path within the registry (`library/python`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The tag as written, if any.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if any.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The full repository name (`docker.io/library/python`).
    pub fn name(&self) -> String {
        if self.domain.is_empty() {
            self.path.clone()
        } else {
            format!("{}/{}", self.domain, self.path)
        }
    }

    /// The short name Docker shows (`python`, `tiangolo/uvicorn-gunicorn`, `ghcr.io/org/app`).
    pub fn familiar_name(&self) -> String {
        if self.domain == DEFAULT_DOMAIN {
            match self.path.strip_prefix(OFFICIAL_REPO_PREFIX) {
                Some(rest) if !rest.contains('/') => rest.to_owned(),
                _ => self.path.clone(),
            }
        } else {
            self.name()
        }
    }

    /// The short form Docker shows, with tag and digest (`python:3.12-slim`).
    pub fn familiar_string(&self) -> String {
        let mut out = self.familiar_name();
        self.push_tag_and_digest(&mut out);
        out
    }

    /// Whether this is Docker Hub's official image of the given name (`python` → `docker.io/library/python`).
    pub fn is_official(&self, image: &str) -> bool {
        self.domain == DEFAULT_DOMAIN
            && self
                .path
                .strip_prefix(OFFICIAL_REPO_PREFIX)
                .is_some_and(|rest| rest == image)
    }

    fn push_tag_and_digest(&self, out: &mut String) {
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest.as_str());
        }
    }
}

impl fmt::Display for Reference {
    /// The full form (Go's `String()`): `docker.io/library/python:3.12-slim@sha256:…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = self.name();
        self.push_tag_and_digest(&mut out);
        f.write_str(&out)
    }
}

impl Serialize for Reference {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Go's `splitDockerDomain`: decides whether the first path element is a registry host.
fn split_docker_domain(input: &str) -> (String, String) {
    let Some((first, rest)) = input.split_once('/') else {
        return (
            DEFAULT_DOMAIN.to_owned(),
            format!("{OFFICIAL_REPO_PREFIX}{input}"),
        );
    };
    let (domain, remote) = if first == "localhost" {
        (first, rest)
    } else if first == LEGACY_DEFAULT_DOMAIN {
        (DEFAULT_DOMAIN, rest)
    } else if first.contains(['.', ':']) || first.to_lowercase() != first {
        // A dot or colon means a host name, IP address or port; namespaces are lowercase, so uppercase means a host.
        (first, rest)
    } else {
        (DEFAULT_DOMAIN, input)
    };
    if domain == DEFAULT_DOMAIN && !remote.contains('/') {
        (domain.to_owned(), format!("{OFFICIAL_REPO_PREFIX}{remote}"))
    } else {
        (domain.to_owned(), remote.to_owned())
    }
}

/// What Go's `ParseAnyReference` returns: a named reference, or a bare digest (`sha256:…` or a 64-hex image ID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyReference {
    /// A named reference.
    Named(Reference),
    /// Just a digest.
    Digest(Digest),
}

impl AnyReference {
    /// Go's `ParseAnyReference`.
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        if grammar::is_identifier(input) {
            return Ok(AnyReference::Digest(Digest::sha256_from_hex(input)?));
        }
        if let Ok(digest) = Digest::parse(input) {
            return Ok(AnyReference::Digest(digest));
        }
        Reference::parse_normalized(input).map(AnyReference::Named)
    }

    /// The familiar form (Go's `FamiliarString`).
    pub fn familiar_string(&self) -> String {
        match self {
            AnyReference::Named(reference) => reference.familiar_string(),
            AnyReference::Digest(digest) => digest.to_string(),
        }
    }

    /// Go's `FamiliarMatch`: the pattern (with `path.Match` syntax) is tried against the familiar string, then, for
    /// named references, against the familiar name.
    pub fn familiar_match(&self, pattern: &str) -> Result<bool, PatternError> {
        let matched = path_match(pattern, &self.familiar_string())?;
        if matched {
            return Ok(true);
        }
        match self {
            AnyReference::Named(reference) => {
                Ok(path_match(pattern, &reference.familiar_name()).unwrap_or(false))
            }
            AnyReference::Digest(_) => Ok(false),
        }
    }
}

impl fmt::Display for AnyReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnyReference::Named(reference) => reference.fmt(f),
            AnyReference::Digest(digest) => digest.fmt(f),
        }
    }
}

/// A malformed `path.Match` pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("syntax error in pattern")]
pub struct PatternError;

/// Go's `path.Match`: `*` matches any run of non-`/` characters, `?` one non-`/` character, `[...]` a class (with
/// `^` negation and ranges), `\` escapes.
pub fn path_match(pattern: &str, name: &str) -> Result<bool, PatternError> {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    match_from(&pattern, &name)
}

fn match_from(pattern: &[char], name: &[char]) -> Result<bool, PatternError> {
    let Some((&first, rest)) = pattern.split_first() else {
        return Ok(name.is_empty());
    };
    match first {
        '*' => {
            // Try every split of the non-slash prefix of `name`, shortest first.
            let mut end = 0;
            loop {
                if match_from(rest, &name[end..])? {
                    return Ok(true);
                }
                if end == name.len() || name[end] == '/' {
                    // Still validate the rest of the pattern, as Go reports bad patterns even on mismatch.
                    check_pattern(rest)?;
                    return Ok(false);
                }
                end += 1;
            }
        }
        '?' => match name.split_first() {
            Some((&c, name_rest)) if c != '/' => match_from(rest, name_rest),
            _ => check_pattern(rest).map(|()| false),
        },
        '[' => {
            let (matched, after) = match_class(rest, name.first().copied())?;
            if matched {
                match_from(after, &name[1..])
            } else {
                check_pattern(after).map(|()| false)
            }
        }
        '\\' => {
            let (&escaped, after) = rest.split_first().ok_or(PatternError)?;
            match name.split_first() {
                Some((&c, name_rest)) if c == escaped => match_from(after, name_rest),
                _ => check_pattern(after).map(|()| false),
            }
        }
        literal => match name.split_first() {
            Some((&c, name_rest)) if c == literal => match_from(rest, name_rest),
            _ => check_pattern(rest).map(|()| false),
        },
    }
}

/// Parses a character class after its `[`; returns whether `c` is in it and the pattern after the `]`.
fn match_class(pattern: &[char], c: Option<char>) -> Result<(bool, &[char]), PatternError> {
    let mut i = 0;
    let negated = pattern.first() == Some(&'^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let current = *pattern.get(i).ok_or(PatternError)?;
        if current == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        let (low, next) = class_char(pattern, i)?;
        i = next;
        let high = if pattern.get(i) == Some(&'-') {
            let (high, next) = class_char(pattern, i + 1)?;
            i = next;
            high
        } else {
            low
        };
        if let Some(c) = c
            && low <= c
            && c <= high
        {
            matched = true;
        }
    }
    let in_class = c.is_some_and(|c| c != '/') && matched != negated;
    Ok((in_class, &pattern[i..]))
}

fn class_char(pattern: &[char], i: usize) -> Result<(char, usize), PatternError> {
    match pattern.get(i) {
        Some('\\') => pattern.get(i + 1).map(|c| (*c, i + 2)).ok_or(PatternError),
        Some('-') | Some(']') | None => Err(PatternError),
        Some(c) => Ok((*c, i + 1)),
    }
}

/// Scans the rest of a pattern for syntax errors without matching.
fn check_pattern(pattern: &[char]) -> Result<(), PatternError> {
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            '\\' => {
                if i + 1 >= pattern.len() {
                    return Err(PatternError);
                }
                i += 2;
            }
            '[' => {
                let (_, after) = match_class(&pattern[i + 1..], None)?;
                i = pattern.len() - after.len();
            }
            _ => i += 1,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_docker() {
        let r = Reference::parse_normalized("python:3.12-slim").expect("valid");
        assert_eq!(r.to_string(), "docker.io/library/python:3.12-slim");
        assert_eq!(r.familiar_string(), "python:3.12-slim");
        assert!(r.is_official("python"));
        let r = Reference::parse_normalized("index.docker.io/tiangolo/uvicorn-gunicorn:python3.11")
            .expect("valid");
        assert_eq!(
            r.to_string(),
            "docker.io/tiangolo/uvicorn-gunicorn:python3.11"
        );
        assert!(!r.is_official("python"));
    }

    #[test]
    fn uppercase_errors_name_the_repository() {
        let err = Reference::parse_normalized("Python:3.12").expect_err("uppercase");
        assert_eq!(
            err.to_string(),
            "invalid reference format: repository name (library/Python) must be lowercase"
        );
    }

    #[test]
    fn path_match_basics() {
        assert_eq!(path_match("foo/*/baz", "foo/c/baz"), Ok(true));
        assert_eq!(path_match("foo/*", "foo/c/baz"), Ok(false));
        assert_eq!(path_match("ba[rz]", "baz"), Ok(true));
        assert_eq!(path_match("ba[^rz]", "baz"), Ok(false));
        assert_eq!(path_match("ba[a-c]", "bab"), Ok(true));
        assert_eq!(path_match("a\\*", "a*"), Ok(true));
        assert_eq!(path_match("[", "a"), Err(PatternError));
        assert_eq!(path_match("x[", "a"), Err(PatternError));
    }
}
