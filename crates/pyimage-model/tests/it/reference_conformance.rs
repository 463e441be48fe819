//! Runs every test vector of Go's `distribution/reference` (testdata/reference/, 240 vectors extracted from
//! `reference_test.go` and `normalize_test.go`) against pyimage's port. Every key a vector asserts is checked; a
//! vector with a key this harness does not understand fails the test rather than being skipped.
#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    clippy::expect_used,
    clippy::unwrap_used
)]

use std::collections::BTreeSet;

use pyimage_model::reference::{AnyReference, Reference};
use serde_json::Value;

const VECTORS: &str =
    include_str!("../../../../testdata/reference/distribution-reference-vectors.json");

/// Compares an asserted key with the actual value; `null` in the vector means "absent".
fn check(
    failures: &mut Vec<String>,
    source: &str,
    key: &str,
    expected: &Value,
    actual: Option<String>,
) {
    let expected = expected.as_str().map(str::to_owned);
    if expected != actual {
        failures.push(format!(
            "{source}: {key}: expected {expected:?}, got {actual:?}"
        ));
    }
}

fn check_bool(failures: &mut Vec<String>, source: &str, key: &str, expected: &Value, actual: bool) {
    if expected.as_bool() != Some(actual) {
        failures.push(format!(
            "{source}: {key}: expected {expected}, got {actual}"
        ));
    }
}

/// Keys every vector may carry that are not assertions.
const META_KEYS: &[&str] = &["func", "input", "ok", "source", "err", "err_match"];

struct Outcome {
    /// Keys this vector's function checks.
    checked: BTreeSet<&'static str>,
}

fn run_vector(vector: &Value, failures: &mut Vec<String>) -> Outcome {
    let func = vector["func"].as_str().unwrap_or_default();
    let input = vector["input"].as_str().unwrap_or_default();
    let source = vector["source"].as_str().unwrap_or_default();
    let ok = vector["ok"].as_bool().unwrap_or_default();
    let get = |key: &str| vector.get(key);
    let mut checked = BTreeSet::new();

    let result: Result<(), String> = match func {
        "Parse" | "Field.UnmarshalText(Parse)" => match Reference::parse(input) {
            Ok(r) => {
                for (key, actual) in [
                    ("string", Some(r.to_string())),
                    ("name", Some(r.name())),
                    ("domain", Some(r.domain().to_owned())),
                    ("tag", r.tag().map(str::to_owned)),
                    ("digest", r.digest().map(ToString::to_string)),
                ] {
                    checked.insert(key);
                    if let Some(expected) = get(key) {
                        check(failures, source, key, expected, actual);
                    }
                }
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        },
        "ParseNormalizedNamed" => match Reference::parse_normalized(input) {
            Ok(r) => {
                for (key, actual) in [
                    ("familiar", Some(r.familiar_string())),
                    ("normalized", Some(r.to_string())),
                    ("domain", Some(r.domain().to_owned())),
                    ("path", Some(r.path().to_owned())),
                    ("familiar_string", Some(r.familiar_string())),
                ] {
                    checked.insert(key);
                    if let Some(expected) = get(key) {
                        check(failures, source, key, expected, actual);
                    }
                }
                checked.extend(["is_tagged", "is_canonical"]);
                if let Some(expected) = get("is_tagged") {
                    check_bool(failures, source, "is_tagged", expected, r.tag().is_some());
                }
                if let Some(expected) = get("is_canonical") {
                    check_bool(
                        failures,
                        source,
                        "is_canonical",
                        expected,
                        r.digest().is_some(),
                    );
                }
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        },
        "ParseAnyReference" => match AnyReference::parse(input) {
            Ok(any) => {
                checked.extend([
                    "normalized",
                    "digest_only",
                    "digest",
                    "equals_parse_of_normalized",
                ]);
                if let Some(expected) = get("normalized") {
                    check(
                        failures,
                        source,
                        "normalized",
                        expected,
                        Some(any.to_string()),
                    );
                }
                if let Some(expected) = get("digest_only") {
                    check_bool(
                        failures,
                        source,
                        "digest_only",
                        expected,
                        matches!(any, AnyReference::Digest(_)),
                    );
                }
                if let Some(expected) = get("digest") {
                    let actual = match &any {
                        AnyReference::Digest(d) => Some(d.to_string()),
                        AnyReference::Named(r) => r.digest().map(ToString::to_string),
                    };
                    check(failures, source, "digest", expected, actual);
                }
                if let Some(expected) = get("equals_parse_of_normalized") {
                    let reparsed = AnyReference::parse(&any.to_string()).ok();
                    check_bool(
                        failures,
                        source,
                        "equals_parse_of_normalized",
                        expected,
                        reparsed.as_ref() == Some(&any),
                    );
                }
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        },
        "ParseAnyReference+FamiliarMatch" => match AnyReference::parse(input) {
            Ok(any) => {
                checked.extend(["match_pattern", "match_expected"]);
                let pattern = vector["match_pattern"].as_str().unwrap_or_default();
                match any.familiar_match(pattern) {
                    Ok(matched) => check_bool(
                        failures,
                        source,
                        "match_expected",
                        &vector["match_expected"],
                        matched,
                    ),
                    Err(e) => failures.push(format!("{source}: pattern error {e}")),
                }
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        },
        "ParseDockerRef" => match Reference::parse_docker_ref(input) {
            Ok(r) => {
                checked.extend(["normalized", "normalized_reparses_with_Parse"]);
                if let Some(expected) = get("normalized") {
                    check(
                        failures,
                        source,
                        "normalized",
                        expected,
                        Some(r.to_string()),
                    );
                }
                if let Some(expected) = get("normalized_reparses_with_Parse") {
                    let reparsed = Reference::parse(&r.to_string()).ok();
                    check_bool(
                        failures,
                        source,
                        "normalized_reparses_with_Parse",
                        expected,
                        reparsed == Some(r),
                    );
                }
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        },
        "ParseNamed" | "WithName" => {
            let parsed = if func == "ParseNamed" {
                Reference::parse_named(input)
            } else {
                Reference::with_name(input)
            };
            match parsed {
                Ok(r) => {
                    checked.extend(["domain", "path"]);
                    if let Some(expected) = get("domain") {
                        check(
                            failures,
                            source,
                            "domain",
                            expected,
                            Some(r.domain().to_owned()),
                        );
                    }
                    if let Some(expected) = get("path") {
                        check(
                            failures,
                            source,
                            "path",
                            expected,
                            Some(r.path().to_owned()),
                        );
                    }
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
            }
        }
        "WithName+[WithDigest]+WithTag" | "WithName+[WithTag]+WithDigest" => {
            checked.extend(["with_tag", "with_digest", "string"]);
            let tag = get("with_tag").and_then(Value::as_str);
            let digest = get("with_digest").and_then(Value::as_str);
            let built = Reference::with_name(input).and_then(|r| {
                if func == "WithName+[WithDigest]+WithTag" {
                    let r = match digest {
                        Some(d) => r.with_digest(d)?,
                        None => r,
                    };
                    r.with_tag(tag.unwrap_or_default())
                } else {
                    let r = match tag {
                        Some(t) => r.with_tag(t)?,
                        None => r,
                    };
                    r.with_digest(digest.unwrap_or_default())
                }
            });
            match built {
                Ok(r) => {
                    if let Some(expected) = get("string") {
                        check(failures, source, "string", expected, Some(r.to_string()));
                    }
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
            }
        }
        other => {
            failures.push(format!("{source}: unknown func {other}"));
            Ok(())
        }
    };

    match (ok, result) {
        (true, Ok(())) => {}
        (true, Err(message)) => failures.push(format!(
            "{source}: {input:?} should parse, got error {message:?}"
        )),
        (false, Ok(())) => failures.push(format!("{source}: {input:?} should fail, but parsed")),
        (false, Err(message)) => {
            checked.insert("err_message");
            if let Some(expected) = get("err_message") {
                check(failures, source, "err_message", expected, Some(message));
            }
        }
    }
    Outcome { checked }
}

#[test]
fn all_240_distribution_reference_vectors_pass() {
    let vectors: Vec<Value> = serde_json::from_str(VECTORS).expect("vectors are JSON");
    assert_eq!(vectors.len(), 240, "the vector file changed size");
    let mut failures = Vec::new();
    for vector in &vectors {
        let outcome = run_vector(vector, &mut failures);
        let source = vector["source"].as_str().unwrap_or_default();
        for key in vector.as_object().expect("object").keys() {
            if !META_KEYS.contains(&key.as_str()) && !outcome.checked.contains(key.as_str()) {
                failures.push(format!("{source}: asserted key {key:?} was not checked"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 240 vector checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
