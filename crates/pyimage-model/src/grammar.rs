//! The image-reference grammar of `distribution/reference`, as hand-written matchers.
//!
//! Go expresses the grammar as regular expressions (`regexp.go`); these functions accept exactly the same
//! languages without a regex engine. A differential property test (`tests/reference_oracle.rs`) checks them
//! against the Go patterns compiled with the `regex` crate.
//!
//! ```text
//! alphanumeric     [a-z0-9]+
//! separator        [._] | __ | [-]+
//! path-component   alphanumeric (separator alphanumeric)*
//! remote-name      path-component ('/' path-component)*
//! domain-component [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
//! host             domain-component ('.' domain-component)* | '[' [a-fA-F0-9:]+ ']'
//! domain           host (':' [0-9]+)?
//! tag              [\w][\w.-]{0,127}
//! digest           [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)* ':' [0-9a-fA-F]{32,}
//! identifier       [a-f0-9]{64}
//! ```

/// Longest tag the grammar allows.
pub const TAG_MAX_LEN: usize = 128;

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `path-component`: lowercase alphanumeric runs joined by exactly one separator (`.`, `_`, `__` or any dashes).
pub fn is_path_component(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    loop {
        let run_start = i;
        while i < bytes.len() && is_lower_alnum(bytes[i]) {
            i += 1;
        }
        if i == run_start {
            return false;
        }
        if i == bytes.len() {
            return true;
        }
        match bytes[i] {
            b'.' => i += 1,
            b'_' => {
                i += if bytes.get(i + 1) == Some(&b'_') {
                    2
                } else {
                    1
                }
            }
            b'-' => {
                while i < bytes.len() && bytes[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

/// `remote-name`: one or more path components separated by `/`.
pub fn is_remote_name(s: &str) -> bool {
    s.split('/').all(is_path_component)
}

fn is_domain_component(s: &str) -> bool {
    let bytes = s.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        }
        _ => false,
    }
}

/// `domain`: a host name, IPv4 address or bracketed IPv6 address, with an optional numeric port.
pub fn is_domain(s: &str) -> bool {
    let (host_ok, rest) = if let Some(inner) = s.strip_prefix('[') {
        let Some(close) = inner.find(']') else {
            return false;
        };
        let address = &inner[..close];
        let ok = !address.is_empty() && address.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
        (ok, &inner[close + 1..])
    } else {
        let (host, rest) = match s.find(':') {
            Some(colon) => (&s[..colon], &s[colon..]),
            None => (s, ""),
        };
        (host.split('.').all(is_domain_component), rest)
    };
    if !host_ok {
        return false;
    }
    match rest.strip_prefix(':') {
        None => rest.is_empty(),
        Some(port) => !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()),
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `tag`: a word character followed by up to 127 word characters, dots or dashes.
pub fn is_tag(s: &str) -> bool {
    let bytes = s.as_bytes();
    match bytes.first() {
        Some(first) if is_word_byte(*first) => {
            bytes.len() <= TAG_MAX_LEN
                && bytes[1..]
                    .iter()
                    .all(|b| is_word_byte(*b) || *b == b'.' || *b == b'-')
        }
        _ => false,
    }
}

/// `digest` as the reference grammar sees it (algorithm and at least 32 hex characters; no length check).
pub fn is_digest(s: &str) -> bool {
    let Some((algorithm, encoded)) = s.split_once(':') else {
        return false;
    };
    let algorithm_ok = {
        let bytes = algorithm.as_bytes();
        // Components start with a letter; separators `-_+.` sit between components.
        let mut expect_component_start = true;
        let mut ok = !bytes.is_empty();
        for &b in bytes {
            if expect_component_start {
                ok &= b.is_ascii_alphabetic();
                expect_component_start = false;
            } else if matches!(b, b'-' | b'_' | b'+' | b'.') {
                expect_component_start = true;
            } else {
                ok &= b.is_ascii_alphanumeric();
            }
        }
        ok && !expect_component_start
    };
    algorithm_ok && encoded.len() >= 32 && encoded.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `identifier`: a 64-character lowercase hex image ID.
pub fn is_identifier(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Splits a name into (domain, path) the way the anchored name pattern does: the part before the first `/` is the
/// domain when it is a valid domain and the rest is a valid remote name; otherwise the whole name must be a remote
/// name and there is no domain. Returns `None` when the name is not valid at all.
pub fn split_name(name: &str) -> Option<(&str, &str)> {
    if let Some((domain, path)) = name.split_once('/')
        && is_domain(domain)
        && is_remote_name(path)
    {
        return Some((domain, path));
    }
    is_remote_name(name).then_some(("", name))
}

/// The three captures of the anchored reference pattern: name, tag (may be empty) and digest (may be empty).
pub fn split_reference(s: &str) -> Option<(&str, &str, &str)> {
    let (name_and_tag, digest) = match s.split_once('@') {
        Some((before, digest)) => {
            if !is_digest(digest) {
                return None;
            }
            (before, digest)
        }
        None => (s, ""),
    };
    let last_slash = name_and_tag.rfind('/');
    let (name, tag) = match name_and_tag.rfind(':') {
        // A colon after the last slash can only introduce a tag: names hold colons only in their domain.
        Some(colon) if last_slash.is_none_or(|slash| colon > slash) => {
            let tag = &name_and_tag[colon + 1..];
            if !is_tag(tag) {
                return None;
            }
            (&name_and_tag[..colon], tag)
        }
        _ => (name_and_tag, ""),
    };
    split_name(name)?;
    Some((name, tag, digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators() {
        assert!(is_path_component("dock__er"));
        assert!(is_path_component("docker---rules"));
        assert!(is_path_component("a.b_c-d"));
        assert!(!is_path_component("dock___er"));
        assert!(!is_path_component("dock..er"));
        assert!(!is_path_component("dock_.er"));
        assert!(!is_path_component("-docker"));
        assert!(!is_path_component("docker-"));
        assert!(!is_path_component(""));
    }

    #[test]
    fn domains() {
        assert!(is_domain("localhost"));
        assert!(is_domain("test:5000"));
        assert!(is_domain("[2001:db8::1]:5000"));
        assert!(is_domain("xn--n3h.com"));
        assert!(!is_domain("[fe80::1%eth0]"));
        assert!(!is_domain("-docker.io"));
        assert!(!is_domain("a:"));
        assert!(!is_domain("[]"));
    }

    #[test]
    fn tags_and_digests() {
        assert!(is_tag("3.12-slim"));
        assert!(is_tag(&"a".repeat(128)));
        assert!(!is_tag(&"a".repeat(129)));
        assert!(!is_tag(".hidden"));
        assert!(is_digest(
            "sha256+b64u.x-y_z:0123456789abcdef0123456789ABCDEF"
        ));
        assert!(!is_digest("sha256:0123"));
        assert!(!is_digest("1sha:0123456789abcdef0123456789abcdef"));
        assert!(!is_digest("sha-:0123456789abcdef0123456789abcdef"));
    }
}
