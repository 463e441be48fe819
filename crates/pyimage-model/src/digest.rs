//! Content digests (`sha256:<hex>`), validated the way `github.com/opencontainers/go-digest` does.
//!
//! Only `sha256` is a supported algorithm: that is what registries and Docker use for manifests, and it is what
//! `distribution/reference` accepts when only the SHA-256 hash is linked into the program (its own tests assert
//! that `sha512` digests are "unsupported"). Other well-formed algorithms are recognised and refused with
//! [`DigestError::Unsupported`], malformed strings with [`DigestError::InvalidFormat`].

use std::fmt;

use serde::{Serialize, Serializer};
use thiserror::Error;

/// Why a string is not an acceptable digest. Messages are go-digest's, word for word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum DigestError {
    /// The string is not `algorithm:encoded`, or the encoded part has the wrong characters.
    #[error("invalid checksum digest format")]
    InvalidFormat,
    /// The encoded part has the wrong length for the algorithm (64 hex characters for sha256).
    #[error("invalid checksum digest length")]
    InvalidLength,
    /// A well-formed digest of an algorithm we do not verify.
    #[error("unsupported digest algorithm")]
    Unsupported,
}

/// A content digest such as `sha256:2d5c…`.
///
/// Constructed by [`Digest::parse`] it is always a valid sha256 digest. The reference builder
/// [`crate::reference::Reference::with_digest`] may, like Go's `WithDigest`, hold a digest that only matches the
/// reference grammar; [`Digest::validate`] says whether such a value is usable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    text: String,
    colon: usize,
}

/// Number of hex characters in a sha256 digest.
pub const SHA256_HEX_LEN: usize = 64;

impl Digest {
    /// Parses and fully validates a digest (go-digest's `Parse`).
    pub fn parse(text: &str) -> Result<Self, DigestError> {
        validate(text)?;
        let colon = text.find(':').ok_or(DigestError::InvalidFormat)?;
        Ok(Digest {
            text: text.to_owned(),
            colon,
        })
    }

    /// A sha256 digest from 64 lowercase hex characters (`sha256:` is added).
    pub fn sha256_from_hex(hex: &str) -> Result<Self, DigestError> {
        Self::parse(&format!("sha256:{hex}"))
    }

    /// Accepts any string matching the reference grammar's digest pattern without checking the algorithm or the
    /// length, as Go's `reference.WithDigest` does.
    pub(crate) fn from_grammar_match(text: &str) -> Option<Self> {
        if !crate::grammar::is_digest(text) {
            return None;
        }
        let colon = text.find(':')?;
        Some(Digest {
            text: text.to_owned(),
            colon,
        })
    }

    /// Full validation of this value (always `Ok` for digests made by [`Digest::parse`]).
    pub fn validate(&self) -> Result<(), DigestError> {
        validate(&self.text)
    }

    /// The algorithm, e.g. `sha256`.
    pub fn algorithm(&self) -> &str {
        &self.text[..self.colon]
    }

    /// The encoded (hex) part.
    pub fn encoded(&self) -> &str {
        &self.text[self.colon + 1..]
    }

    /// The whole digest as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first `n` hex characters of the encoded part, for compact human output.
    pub fn short(&self, n: usize) -> &str {
        let encoded = self.encoded();
        &encoded[..n.min(encoded.len())]
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl std::str::FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Digest::parse(s)
    }
}

/// go-digest's `Digest.Validate`, with sha256 as the only available algorithm.
fn validate(text: &str) -> Result<(), DigestError> {
    let Some(colon) = text.find(':') else {
        return Err(DigestError::InvalidFormat);
    };
    if colon == 0 || colon + 1 == text.len() {
        return Err(DigestError::InvalidFormat);
    }
    let (algorithm, encoded) = (&text[..colon], &text[colon + 1..]);
    if algorithm != "sha256" {
        // go-digest distinguishes "well-formed but not available" from garbage.
        return if is_go_digest_shape(text) {
            Err(DigestError::Unsupported)
        } else {
            Err(DigestError::InvalidFormat)
        };
    }
    if encoded.len() != SHA256_HEX_LEN {
        return Err(DigestError::InvalidLength);
    }
    if encoded
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(DigestError::InvalidFormat)
    }
}

/// go-digest's `DigestRegexp`: `[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+`, anchored.
fn is_go_digest_shape(text: &str) -> bool {
    let Some((algorithm, encoded)) = text.split_once(':') else {
        return false;
    };
    let algorithm_ok = algorithm.split(['.', '+', '_', '-']).all(|part| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    let encoded_ok = !encoded.is_empty()
        && encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'_' | b'-'));
    algorithm_ok && encoded_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

    #[test]
    fn sha256_is_the_supported_algorithm() {
        let d = Digest::parse(&format!("sha256:{HEX}")).expect("valid");
        assert_eq!(d.algorithm(), "sha256");
        assert_eq!(d.encoded(), HEX);
        assert_eq!(d.short(12), "ffffffffffff");
    }

    #[test]
    fn errors_follow_go_digest() {
        assert_eq!(
            Digest::parse("sha256:ffff"),
            Err(DigestError::InvalidLength)
        );
        assert_eq!(
            Digest::parse(&format!("sha256:{}", HEX.to_uppercase())),
            Err(DigestError::InvalidFormat)
        );
        assert_eq!(
            Digest::parse(&format!("sha512:{HEX}{HEX}")),
            Err(DigestError::Unsupported)
        );
        assert_eq!(
            Digest::parse(&format!("SHA256:{HEX}")),
            Err(DigestError::InvalidFormat)
        );
        assert_eq!(Digest::parse("sha256:"), Err(DigestError::InvalidFormat));
        assert_eq!(Digest::parse(":abc"), Err(DigestError::InvalidFormat));
        assert_eq!(Digest::parse("nocolon"), Err(DigestError::InvalidFormat));
    }
}
