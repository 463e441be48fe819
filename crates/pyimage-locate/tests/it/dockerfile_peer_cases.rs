#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    clippy::unwrap_used,
    clippy::expect_used
)]
//! pyimage's Dockerfile scanner against the extraction cases of Renovate's dockerfile manager and the FROM parse
//! cases of hadolint's language-docker (copied into `testdata/dockerfile/`, sources in its README).
//!
//! Every case must agree, except the few listed in `RENOVATE_DIFFERENCES` / `LANGUAGE_DOCKER_DIFFERENCES`, where
//! pyimage deliberately follows Docker (BuildKit's ARG scoping and line joining, distribution/reference's validity
//! rules) and the peer does not. A listed case that starts agreeing fails the test, so the lists stay honest.

use std::path::Path;

use pyimage_locate::dockerfile::{self, DockerfileScan, Evaluation, ImageKind, Unresolvable};
use pyimage_model::Reference;
use serde_json::Value;

fn testdata(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/dockerfile")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// Renovate cases where pyimage deliberately finds something else, with the reason.
const RENOVATE_DIFFERENCES: &[(&str, &str)] = &[
    (
        "fixture 2.Dockerfile (all sorts of multiline FROM / COPY --from)",
        "image2/image7 carry `sha256:abcdef`, not a valid digest: pyimage reports Docker's error for them",
    ),
    (
        "fixture 3.Dockerfile (multi-line ARG statements)",
        "`ARG nginx_version` follows the first FROM, so it is a stage ARG that FROM cannot see (BuildKit scoping): unresolvable",
    ),
    (
        "fixture 4.Dockerfile (alternative escape character `)",
        "same stage-ARG scoping as fixture 3 (and `sha256:abcdef` would be invalid anyway)",
    ),
    (
        "ignores parser directives in wrong order",
        "BuildKit joins `FROM\\` and `nginx:1.20` into the unknown instruction `FROMnginx:1.20`: no image, a problem",
    ),
    (
        "handles FROM with overwritten ARG value",
        "the second `ARG base=` is inside stage1, so the second FROM still sees the global `nginx:1.19`",
    ),
    (
        "handles FROM with multiple ARG values",
        "`ARG LINUX_VERSION ubuntu16.04` declares two ARGs without defaults (BuildKit), so the FROM is unresolvable",
    ),
    (
        "handles FROM with version in ARG default value and quotes",
        "`sha256:abc` is not a valid digest: Docker's error is reported",
    ),
    (
        "handles version in ARG and digest in FROM with CRLF linefeed",
        "`sha256:abc` is not a valid digest: Docker's error is reported",
    ),
    (
        "handles empty optional parameters",
        "`quay.io/myName/myPackage` has upper-case letters: Docker's `repository name (myName/myPackage) must be lowercase`",
    ),
];

/// What a peer expects or pyimage found, in comparable form.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Found {
    Image {
        name: String,
        tag: Option<String>,
        digest: Option<String>,
    },
    Unresolvable,
    Invalid(String),
}

fn ours(scan: &DockerfileScan) -> Vec<Found> {
    scan.images
        .iter()
        .map(|image| match &image.evaluation {
            Evaluation::Resolved {
                reference: Ok(reference),
                ..
            } => Found::Image {
                name: reference.name(),
                tag: reference.tag().map(str::to_owned),
                digest: reference.digest().map(|d| d.to_string()),
            },
            Evaluation::Resolved { text, .. } => Found::Invalid(text.clone()),
            Evaluation::Unresolvable(_) => Found::Unresolvable,
        })
        .collect()
}

fn renovate_expected(case: &Value) -> Vec<Found> {
    let Some(deps) = case["expected_deps"].as_array() else {
        return Vec::new();
    };
    deps.iter()
        .map(|dep| {
            if dep["skipReason"].as_str() == Some("contains-variable") {
                return Found::Unresolvable;
            }
            let package = dep["packageName"].as_str().unwrap();
            match Reference::parse_normalized(package) {
                Ok(reference) => Found::Image {
                    name: reference.name(),
                    tag: dep["currentValue"].as_str().map(str::to_owned),
                    digest: dep["currentDigest"].as_str().map(str::to_owned),
                },
                Err(_) => Found::Invalid(package.to_owned()),
            }
        })
        .collect()
}

fn renovate_text(case: &Value) -> String {
    let name = case["test_name"].as_str().unwrap();
    match name
        .strip_prefix("fixture ")
        .and_then(|rest| rest.split_once(' '))
    {
        Some((file, _)) => testdata(&format!("renovate/{file}")),
        None => case["dockerfile_text"].as_str().unwrap().to_owned(),
    }
}

#[test]
fn renovate_extraction_cases() {
    let data: Value = serde_json::from_str(&testdata("renovate/renovate-from-cases.json")).unwrap();
    let cases = data["extract_cases"].as_array().unwrap();
    assert_eq!(cases.len(), 57);
    let mut agree = 0;
    let mut failures = Vec::new();
    for case in cases {
        let name = case["test_name"].as_str().unwrap();
        let text = renovate_text(case);
        let scan = dockerfile::scan(&text);
        for image in &scan.images {
            assert_eq!(&text[image.span.range()], image.written, "{name}");
        }
        let (found, expected) = (ours(&scan), renovate_expected(case));
        let differs = RENOVATE_DIFFERENCES.iter().any(|(n, _)| *n == name);
        match (found == expected, differs) {
            (true, false) => agree += 1,
            (false, true) => {}
            (true, true) => failures.push(format!("{name}: listed as different but agrees")),
            (false, false) => failures.push(format!(
                "{name}:\n  ours     {found:?}\n  renovate {expected:?}"
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(agree + RENOVATE_DIFFERENCES.len(), cases.len());
}

/// The deliberate differences, pinned to what pyimage does instead.
#[test]
fn renovate_differences_are_docker_behaviour() {
    let stage_arg = dockerfile::scan(&testdata("renovate/3.Dockerfile"));
    assert_eq!(stage_arg.images.len(), 2);
    assert_eq!(
        stage_arg.images[1].unresolvable(),
        Some(&Unresolvable::Undeclared {
            name: "nginx_version".into(),
            declared_in_stage: Some(0)
        })
    );

    let glued = dockerfile::scan("# dummy\n# escape = `\n\nFROM\\\nnginx:1.20");
    assert!(glued.images.is_empty());
    assert_eq!(glued.problems.len(), 1);
    assert_eq!(
        glued.problems[0].kind.to_string(),
        "unknown instruction: FROMnginx:1.20"
    );

    let overwritten = dockerfile::scan(
        "ARG base=nginx:1.19\nFROM $base as stage1\nARG base=nginx:1.20\nFROM --platform=amd64 $base as stage2\n",
    );
    let texts: Vec<_> = overwritten
        .images
        .iter()
        .map(|i| i.text().unwrap())
        .collect();
    assert_eq!(texts, ["nginx:1.19", "nginx:1.19"]);

    let two_args = dockerfile::scan(
        "ARG CUDA=9.2\nARG LINUX_VERSION ubuntu16.04\nFROM nvidia/cuda:${CUDA}-devel-${LINUX_VERSION}\n",
    );
    assert_eq!(
        two_args.images[0].unresolvable(),
        Some(&Unresolvable::ArgWithoutDefault {
            name: "LINUX_VERSION".into()
        })
    );

    let short_digest = dockerfile::scan(
        "ARG IMAGE_TAG=14.04\r\n#something unrelated\r\nFROM ubuntu:$IMAGE_TAG@sha256:abc\r\n",
    );
    assert_eq!(
        short_digest.images[0].text(),
        Some("ubuntu:14.04@sha256:abc")
    );
    assert!(short_digest.images[0].reference_error().is_some());

    let upper = dockerfile::scan("FROM quay.io/myName/myPackage:0.6.2\n");
    assert_eq!(
        upper.images[0]
            .reference_error()
            .map(ToString::to_string)
            .as_deref(),
        Some("invalid reference format: repository name (myName/myPackage) must be lowercase")
    );
}

/// Renovate `getDep` cases (a reference as it appears after `FROM`) where pyimage deliberately differs.
const RENOVATE_SPLIT_DIFFERENCES: &[(&str, &str)] = &[
    (
        "${REDIS_IMAGE:-redis:5.0.0@sha256:abcd}",
        "`sha256:abcd` is not a valid digest",
    ),
    (
        "${REDIS_IMAGE:-redis@sha256:abcd}",
        "`sha256:abcd` is not a valid digest",
    ),
    (
        "${REF_NAME:-\"gcr.io/distroless/static-debian11:nonroot@sha256:abc\"}",
        "`sha256:abc` is not a valid digest",
    ),
    (
        "${REF_NAME:+-gcr.io/distroless/static-debian11:nonroot@sha256:abc}",
        "REF_NAME is undeclared, so `:+` gives the empty string (as in BuildKit), an invalid reference",
    ),
];

#[test]
fn renovate_reference_split_cases() {
    let data: Value = serde_json::from_str(&testdata("renovate/renovate-from-cases.json")).unwrap();
    let cases = data["getDep_cases"].as_array().unwrap();
    assert_eq!(cases.len(), 12);
    let mut agree = 0;
    let mut failures = Vec::new();
    for case in cases {
        let Some(input) = case["input"].as_str() else {
            agree += 1; // `null` input: nothing to scan, nothing found.
            continue;
        };
        let expected = &case["expected"];
        let want = match expected["skipReason"].as_str() {
            Some("invalid-value") => Vec::new(),
            Some(_) => vec![Found::Unresolvable],
            None => {
                let reference =
                    Reference::parse_normalized(expected["depName"].as_str().unwrap()).unwrap();
                vec![Found::Image {
                    name: reference.name(),
                    tag: opt(&expected["currentValue"]),
                    digest: opt(&expected["currentDigest"]),
                }]
            }
        };
        let scan = dockerfile::scan(&format!("FROM {input}\n"));
        let found = ours(&scan);
        if let Some(image) = scan.images.first() {
            assert_eq!(image.written, input);
        }
        let differs = RENOVATE_SPLIT_DIFFERENCES.iter().any(|(n, _)| *n == input);
        match (found == want, differs) {
            (true, false) => agree += 1,
            (false, true) => {}
            (true, true) => failures.push(format!("{input}: listed as different but agrees")),
            (false, false) => failures.push(format!("{input}: ours {found:?}, renovate {want:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(agree + RENOVATE_SPLIT_DIFFERENCES.len(), cases.len());
}

/// language-docker cases where pyimage deliberately differs.
const LANGUAGE_DOCKER_DIFFERENCES: &[(&str, &str)] = &[
    (
        "parse digested image",
        "`sha256:0ef2e08ed3fab` is too short for a sha256 digest: Docker's error is reported",
    ),
    ("parse digested image with tag", "same short digest"),
    ("aliased: parse diggested image", "same short digest"),
];

fn opt(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

#[test]
fn language_docker_from_cases() {
    let data: Value = serde_json::from_str(&testdata(
        "language-docker/language-docker-from-parse-cases.json",
    ))
    .unwrap();
    let cases = data["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 23);
    let mut agree = 0;
    let mut failures = Vec::new();
    for case in cases {
        let name = case["test_name"].as_str().unwrap();
        let text = case["dockerfile_text"].as_str().unwrap();
        let expected = &case["expected"];
        let scan = dockerfile::scan(text);
        let froms: Vec<_> = scan
            .images
            .iter()
            .filter(|i| i.kind == ImageKind::From)
            .collect();
        let stage = &scan.stages[0];
        // language-docker splits `registry/image:tag@digest`; put it back together as the text of the reference.
        let mut as_text = String::new();
        if let Some(registry) = expected["registry"].as_str() {
            as_text.push_str(registry);
            as_text.push('/');
        }
        as_text.push_str(expected["image"].as_str().unwrap());
        if let Some(tag) = expected["tag"].as_str() {
            as_text.push(':');
            as_text.push_str(tag);
        }
        if let Some(digest) = expected["digest"].as_str() {
            as_text.push('@');
            as_text.push_str(digest);
        }
        let mut same = stage.name == opt(&expected["alias"])
            && stage.platform.as_ref().map(|p| p.written.clone()) == opt(&expected["platform"]);
        if as_text == "scratch" {
            same &= froms.is_empty();
        } else {
            let image = froms[0];
            // language-docker does not evaluate `${…}`: compare what is written then. Without variables, compare the
            // evaluated text (a line continuation inside the name is joined by both).
            let literal = image.args.is_empty() && image.unresolvable().is_none();
            let text = if literal {
                image.text().unwrap_or_default()
            } else {
                image.written.as_str()
            };
            same &= text == as_text;
            if literal {
                match image.reference() {
                    Some(reference) => {
                        same &= reference.tag().map(str::to_owned) == opt(&expected["tag"])
                            && reference.digest().map(|d| d.to_string())
                                == opt(&expected["digest"]);
                        if let Some(registry) = expected["registry"].as_str() {
                            same &= reference.domain() == registry;
                        }
                    }
                    None => same = false,
                }
            }
        }
        let differs = LANGUAGE_DOCKER_DIFFERENCES.iter().any(|(n, _)| *n == name);
        match (same, differs) {
            (true, false) => agree += 1,
            (false, true) => {}
            (true, true) => failures.push(format!("{name}: listed as different but agrees")),
            (false, false) => {
                failures.push(format!("{name}: {:?} / {:?}", scan.images, scan.stages))
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(agree + LANGUAGE_DOCKER_DIFFERENCES.len(), cases.len());
}

/// hadolint's FROM-rule cases are rule tests, not scanner tests; their Dockerfiles still make good scanner input:
/// no panic, and every reported span is exactly the text it claims.
#[test]
fn hadolint_dockerfiles_scan_cleanly() {
    let data: Value = serde_json::from_str(&testdata("hadolint/hadolint-from-cases.json")).unwrap();
    let cases = data["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 56);
    for case in cases {
        let text = case["dockerfile_text"].as_str().unwrap();
        let scan = dockerfile::scan(text);
        for image in &scan.images {
            assert_eq!(text.get(image.span.range()), Some(image.written.as_str()));
            if let Some(verbatim) = image.verbatim_span {
                assert_eq!(text.get(verbatim.range()), image.text());
            }
        }
    }
}
