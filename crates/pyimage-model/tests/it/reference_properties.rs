//! Property tests for references:
//! * differential: the hand-written grammar accepts exactly what Go's regular expressions (from `regexp.go`,
//!   compiled here with the `regex` crate, which has the same leftmost-first semantics as Go's RE2) accept, and
//!   captures the same name, tag, digest, domain and path;
//! * round trip: parse → display → parse is the identity for every valid reference, normalized and familiar;
//! * robustness: no input makes any parser panic.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::LazyLock;

use proptest::prelude::*;
use pyimage_model::grammar;
use pyimage_model::official_images::Library;
use pyimage_model::python::PythonTag;
use pyimage_model::reference::{AnyReference, Reference, path_match};
use regex::Regex;

/// Go's patterns, spelled as in distribution/reference `regexp.go` (with `\w` made ASCII as in Go).
mod go {
    pub const ALPHANUMERIC: &str = r"[a-z0-9]+";
    pub const SEPARATOR: &str = r"(?:[._]|__|[-]+)";
    pub const DOMAIN_NAME_COMPONENT: &str = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    pub const IPV6: &str = r"\[(?:[a-fA-F0-9:]+)\]";
    pub const TAG: &str = r"[0-9A-Za-z_][0-9A-Za-z_.-]{0,127}";
    pub const DIGEST: &str =
        r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}";
}

fn path_component() -> String {
    format!("{a}(?:{s}{a})*", a = go::ALPHANUMERIC, s = go::SEPARATOR)
}
fn remote_name() -> String {
    format!("{p}(?:/{p})*", p = path_component())
}
fn domain_and_port() -> String {
    let domain_name = format!("{c}(?:\\.{c})*", c = go::DOMAIN_NAME_COMPONENT);
    format!("(?:{domain_name}|{ipv6})(?::[0-9]+)?", ipv6 = go::IPV6)
}

static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    let name = format!("(?:{}/)?{}", domain_and_port(), remote_name());
    Regex::new(&format!(
        "^({name})(?::({}))?(?:@({}))?$",
        go::TAG,
        go::DIGEST
    ))
    .expect("reference pattern")
});
static ANCHORED_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        "^(?:({})/)?({})$",
        domain_and_port(),
        remote_name()
    ))
    .expect("name pattern")
});

fn oracle_split(input: &str) -> Option<(String, String, String)> {
    let captures = REFERENCE.captures(input)?;
    let group = |i: usize| {
        captures
            .get(i)
            .map_or(String::new(), |m| m.as_str().to_owned())
    };
    Some((group(1), group(2), group(3)))
}

fn oracle_name(name: &str) -> Option<(String, String)> {
    let captures = ANCHORED_NAME.captures(name)?;
    let group = |i: usize| {
        captures
            .get(i)
            .map_or(String::new(), |m| m.as_str().to_owned())
    };
    Some((group(1), group(2)))
}

/// Strings made of the characters that matter to the grammar.
fn grammar_soup() -> impl Strategy<Value = String> {
    proptest::string::string_regex(r"[a-cA-C0-9._:/@\-\[\]%_]{0,24}").expect("strategy")
}

/// Mostly-valid references assembled from plausible parts, to exercise the accepting paths.
fn plausible_reference() -> impl Strategy<Value = String> {
    let domain = prop_oneof![
        Just(String::new()),
        Just("localhost/".to_owned()),
        Just("example.com:5000/".to_owned()),
        Just("[::1]:5000/".to_owned()),
        Just("[2001:db8::1]/".to_owned()),
        Just("Registry.Example/".to_owned()),
        Just("index.docker.io/".to_owned()),
        Just("docker.io/".to_owned()),
        Just("a-b.c/".to_owned()),
        "[a-z0-9]{1,3}(\\.[a-z0-9]{1,3})?/",
    ];
    let component = "[a-z0-9]{1,4}((\\.|_|__|-{1,2})[a-z0-9]{1,3})?";
    let path = proptest::collection::vec(component, 1..4).prop_map(|parts| parts.join("/"));
    let tag = prop_oneof![
        Just(String::new()),
        "[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}".prop_map(|t| format!(":{t}"))
    ];
    let digest = prop_oneof![
        Just(String::new()),
        "[a-f0-9]{64}".prop_map(|hex| format!("@sha256:{hex}")),
        "[a-fA-F0-9]{32,40}".prop_map(|hex| format!("@sha256:{hex}")),
        "[a-f0-9]{64}".prop_map(|hex| format!("@sha512:{hex}")),
    ];
    (domain, path, tag, digest).prop_map(|(d, p, t, g)| format!("{d}{p}{t}{g}"))
}

fn check_against_oracle(input: &str) -> Result<(), TestCaseError> {
    let mine =
        grammar::split_reference(input).map(|(n, t, d)| (n.to_owned(), t.to_owned(), d.to_owned()));
    prop_assert_eq!(
        &mine,
        &oracle_split(input),
        "reference split of {:?}",
        input
    );
    if let Some((name, _, _)) = mine {
        let split = grammar::split_name(&name).map(|(d, p)| (d.to_owned(), p.to_owned()));
        prop_assert_eq!(split, oracle_name(&name), "name split of {:?}", name);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn grammar_matches_go_patterns_on_soup(input in grammar_soup()) {
        check_against_oracle(&input)?;
    }

    #[test]
    fn grammar_matches_go_patterns_on_plausible_references(input in plausible_reference()) {
        check_against_oracle(&input)?;
    }

    #[test]
    fn parse_display_parse_is_identity(input in plausible_reference()) {
        if let Ok(parsed) = Reference::parse(&input) {
            let shown = parsed.to_string();
            prop_assert_eq!(&shown, &input, "Parse keeps the text as written");
            prop_assert_eq!(Reference::parse(&shown), Ok(parsed));
        }
        if let Ok(normalized) = Reference::parse_normalized(&input) {
            let full = normalized.to_string();
            prop_assert_eq!(Reference::parse_normalized(&full), Ok(normalized.clone()), "normalized form {}", full);
            prop_assert_eq!(Reference::parse(&full), Ok(normalized.clone()), "normalized form is canonical");
            // Go's familiar form drops `docker.io/`; a Docker Hub namespace that looks like a host (`a.b/c`) then
            // reads back as a registry. Docker Hub forbids such namespaces, so the round trip holds for real names.
            let first = normalized.path().split('/').next().unwrap_or_default();
            let hub_namespace_looks_like_host =
                normalized.domain() == "docker.io" && (first.contains(['.', ':']) || first == "localhost");
            if !hub_namespace_looks_like_host {
                let familiar = normalized.familiar_string();
                prop_assert_eq!(Reference::parse_normalized(&familiar), Ok(normalized), "familiar form {}", familiar);
            }
        }
    }

    #[test]
    fn no_parser_panics_on_any_string(input in any::<String>()) {
        let _ = Reference::parse(&input);
        let _ = Reference::parse_normalized(&input);
        let _ = Reference::parse_docker_ref(&input);
        let _ = AnyReference::parse(&input);
        let _ = path_match(&input, "foo/bar:baz");
        let tag = PythonTag::parse(&input);
        let _ = (tag.float(), tag.line(), tag.is_prerelease());
        let _ = Library::parse(&input);
    }

    #[test]
    fn no_parser_panics_on_grammar_soup(input in grammar_soup()) {
        let _ = Reference::parse_normalized(&input);
        let _ = AnyReference::parse(&input);
        let _ = path_match(&input, &input);
        let _ = PythonTag::parse(&input).line();
    }
}

#[test]
fn oracle_agrees_on_ipv6_and_length_edges() {
    for input in [
        "[2001:db8::1]",
        "[2001:db8::1]:5000",
        "[2001:db8::1]/repo",
        "[fe80::1%eth0]:5000/repo",
        "a:b:c",
        "a/b:c/d",
        "foo/foo_bar.com:8080",
        "test.com:5000",
        &format!("example.com/{}:tag", "a".repeat(255)),
    ] {
        check_against_oracle(input).expect("agrees");
    }
}
