//! Issue 15, "fuzz targets": every parser of untrusted text runs on generated input — random text built from each
//! format's own tokens (so the generator reaches deep states, not only the first syntax error) mixed with arbitrary
//! characters — and must return (an answer or an error) without panicking, each input within a hang guard. Parsers:
//! references, Python tags and versions, platforms, the Dockerfile lexer + ARG expander, every manifest locator
//! (Compose, Kubernetes YAML/JSON, CI files, Kustomize, dev containers, Cloud Build, Helm values), the
//! official-images file, the lock, pyimage.toml, OCI indexes, AdmissionReview and ImageReview (parsed and judged),
//! and `check_file` over all of it. `PYIMAGE_FUZZ_CASES` sets the cases per target (default 1000, about 4 s in all; CI runs that; 3000 pass too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use pyimage_core::admission::{AdmissionReview, ImageReview, judge, pins_needed, review_images};
use pyimage_core::check::{CheckContext, Date, FileKind, check_file};
use pyimage_core::config::{Overrides, Settings};
use pyimage_core::dockerfile::{self, ScanOptions};
use pyimage_core::lock::Lock;
use pyimage_core::manifests::{self, ManifestKind, ScanInputs};
use pyimage_core::oci::ImageIndex;
use pyimage_core::official_images::Library;
use pyimage_core::platform::Platform;
use pyimage_core::python::{PythonTag, PythonVersion};
use pyimage_core::reference::Reference;

/// A hang guard, not a speed test: only exponential or unbounded work reaches it.
const GUARD: Duration = Duration::from_secs(5);

fn cases() -> u32 {
    std::env::var("PYIMAGE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

/// Text made of `tokens` and arbitrary characters, up to `max` pieces.
fn text_of(tokens: &'static [&'static str], max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(tokens).prop_map(str::to_owned),
            1 => any::<char>().prop_map(String::from),
            1 => "[a-z0-9.:@/_-]{1,12}",
        ],
        0..max,
    )
    .prop_map(|pieces| pieces.concat())
}

/// Runs `target` on `cases()` inputs of `strategy`; a panic or a hang fails with the input.
fn fuzz(name: &str, strategy: impl Strategy<Value = String>, target: impl Fn(&str)) {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&strategy, |input| {
        let started = Instant::now();
        target(&input);
        prop_assert!(
            started.elapsed() < GUARD,
            "{name}: {:?} on {input:?}",
            started.elapsed()
        );
        Ok(())
    });
    if let Err(error) = result {
        panic!("{name}: {error}");
    }
}

const REFERENCE_TOKENS: &[&str] = &[
    "python",
    "docker.io/",
    "library/",
    "index.docker.io/",
    "localhost:5000/",
    ":",
    "@",
    "sha256:",
    "3.12",
    "-slim",
    "-alpine3.22",
    "-trixie",
    "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "/",
    ".",
    "__",
    "--",
    "rc1",
    "b2",
    "windowsservercore-ltsc2022",
    "latest",
    "${V}",
    "$V",
];

#[test]
fn references_tags_versions_and_platforms() {
    fuzz("reference", text_of(REFERENCE_TOKENS, 24), |text| {
        let _ = Reference::parse(text);
        if let Ok(reference) = Reference::parse_normalized(text) {
            let _ = reference.familiar_string();
            let _ = reference.to_string();
        }
        let _ = Reference::parse_docker_ref(text);
        let tag = PythonTag::parse(text);
        let _ = tag.float();
        let _ = PythonVersion::parse(text);
        let _ = Platform::parse(text);
    });
}

const DOCKERFILE_TOKENS: &[&str] = &[
    "FROM ",
    "ARG ",
    "AS ",
    "COPY --from=",
    "RUN --mount=type=bind,from=",
    "python:3.12",
    "${A}",
    "${A:-",
    "}",
    "${A:+x}",
    "$A",
    "=",
    "\n",
    "\\\n",
    "# escape=`\n",
    "# syntax=docker/dockerfile:1\n",
    "<<EOF\n",
    "EOF\n",
    "`\n",
    "\"",
    "'",
    " ",
    "\t",
    "\r\n",
    "--platform=$BUILDPLATFORM ",
    "scratch",
    "# comment\n",
    "ONBUILD ",
];

#[test]
fn dockerfile_lexer_and_arg_expander() {
    fuzz("dockerfile", text_of(DOCKERFILE_TOKENS, 120), |text| {
        let scan = dockerfile::scan_with(text, &ScanOptions::NONE);
        for image in &scan.images {
            assert!(
                image.span.end <= text.len(),
                "a span past the end: {image:?}"
            );
            assert!(
                text.is_char_boundary(image.span.start) && text.is_char_boundary(image.span.end)
            );
        }
    });
}

const YAML_TOKENS: &[&str] = &[
    "services:\n",
    "  app:\n",
    "    image: ",
    "python:3.12",
    "\n",
    "apiVersion: v1\n",
    "kind: Pod\n",
    "spec:\n",
    "  containers:\n",
    "  - name: a\n",
    "    image: python\n",
    "---\n",
    "&a ",
    "*a",
    "<<: *a\n",
    "<<: [*a, *a]\n",
    "[",
    "]",
    "{",
    "}",
    ", ",
    "- ",
    "  ",
    "\t",
    "'",
    "\"",
    "|\n",
    ">-\n",
    "# c\n",
    "{{ x }}",
    "${{ matrix.py }}",
    "${VAR:-3.12}",
    "jobs:\n",
    "  j:\n",
    "    container: ",
    "    services:\n",
    "images:\n",
    "- name: python\n",
    "  newTag: 3.12\n",
    "  digest: ",
    "steps:\n",
    "- name: ",
    "repository: ",
    "tag: ",
    "registry: ",
    "? ",
    ": ",
    "!!str ",
    "\u{feff}",
    "\r\n",
    "%YAML 1.2\n",
    "...\n",
];

const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"image\"",
    "\"python:3.12\"",
    "\"apiVersion\"",
    "\"kind\"",
    "\"Pod\"",
    "\"spec\"",
    "\"containers\"",
    "// c\n",
    "/* c */",
    "null",
    "1e999",
    "\"\\u0000\"",
    "\"\\ud800\"",
    " ",
];

#[test]
fn every_manifest_locator() {
    let kinds = [
        ManifestKind::Compose,
        ManifestKind::Kubernetes,
        ManifestKind::GithubWorkflow,
        ManifestKind::GitlabCi,
        ManifestKind::Kustomization,
        ManifestKind::CloudBuild,
        ManifestKind::HelmValues,
    ];
    fuzz("yaml manifests", text_of(YAML_TOKENS, 80), |text| {
        for kind in kinds {
            let scan = manifests::scan(kind, text, ScanInputs { variables: None });
            for image in &scan.images {
                assert!(
                    image.span.end <= text.len(),
                    "{kind:?}: a span past the end"
                );
            }
        }
    });
    fuzz("json manifests", text_of(JSON_TOKENS, 80), |text| {
        for kind in [
            ManifestKind::Json,
            ManifestKind::Devcontainer,
            ManifestKind::CloudBuild,
        ] {
            let _ = manifests::scan(kind, text, ScanInputs { variables: None });
        }
    });
}

const LIBRARY_TOKENS: &[&str] = &[
    "Maintainers: a <a@b> (@a)\n",
    "GitRepo: https://github.com/docker-library/python.git\n",
    "\n",
    "Tags: 3.12.14-slim, 3.12-slim\n",
    "SharedTags: 3.12\n",
    "Architectures: amd64, arm64v8\n",
    "GitCommit: 0123456789abcdef0123456789abcdef01234567\n",
    "Directory: 3.12/slim-trixie\n",
    "Builder: buildkit\n",
    "Constraints: windowsservercore-ltsc2022\n",
    "  continued\n",
    ": ",
    "# comment\n",
    ",",
    " ",
];

const LOCK_TOKENS: &[&str] = &[
    "version = 1\n",
    "version = 2\n",
    "[[image]]\n",
    "reference = \"python:3.12\"\n",
    "normalized = \"docker.io/library/python:3.12\"\n",
    "digest = \"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"\n",
    "media_type = \"application/vnd.oci.image.index.v1+json\"\n",
    "resolved_at = \"2026-11-30T00:00:00Z\"\n",
    "registry = \"https://registry-1.docker.io\"\n",
    "[image.platforms]\n",
    "\"linux/amd64\" = \"sha256:00\"\n",
    "faithful_copy = true\n",
    "=",
    "[",
    "]",
    "\"",
    "\n",
    "#",
];

const CONFIG_TOKENS: &[&str] = &[
    "[policy]\n",
    "mirrors = [\"harbor.example/library/python\"]\n",
    "allowed-sources = [\"docker.io/*\"]\n",
    "default-environment = \"prod\"\n",
    "[environments.prod]\n",
    "float = \"patch\"\n",
    "digest = true\n",
    "update = \"digest\"\n",
    "[[paths]]\n",
    "pattern = \"deploy/**\"\n",
    "environment = \"prod\"\n",
    "[[namespaces]]\n",
    "match = \"prod-*\"\n",
    "[rules]\n",
    "PY009 = \"deny\"\n",
    "[[ignore]]\n",
    "reason = \"x\"\n",
    "[serve]\n",
    "deadline = \"2s\"\n",
    "cache-ttl = 0\n",
    "[store]\n",
    "url = \"sqlite:/tmp/x\"\n",
    "[registries.\"docker.io\"]\n",
    "endpoint = \"http://x\"\n",
    "[policy.eol]\n",
    "\"3.9\" = \"2025-10\"\n",
    "=",
    "[",
    "]",
    "\"",
    "\n",
    "{",
    "}",
];

#[test]
fn official_images_lock_and_configuration() {
    fuzz("official-images", text_of(LIBRARY_TOKENS, 60), |text| {
        let _ = Library::parse(text);
    });
    fuzz("lock", text_of(LOCK_TOKENS, 60), |text| {
        if let Ok(lock) = Lock::parse(text) {
            let _ = Lock::parse(&lock.render()).expect("a rendered lock parses again");
        }
    });
    fuzz("pyimage.toml", text_of(CONFIG_TOKENS, 60), |text| {
        let _ = Settings::parse(text, "pyimage.toml", &Overrides::default());
    });
}

const INDEX_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"schemaVersion\"",
    "2",
    "\"mediaType\"",
    "\"application/vnd.oci.image.index.v1+json\"",
    "\"manifests\"",
    "\"digest\"",
    "\"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"",
    "\"platform\"",
    "\"architecture\"",
    "\"amd64\"",
    "\"os\"",
    "\"linux\"",
    "\"annotations\"",
    "\"vnd.docker.reference.type\"",
    "\"attestation-manifest\"",
    "\"size\"",
    "-1",
    "null",
];

#[test]
fn oci_indexes() {
    fuzz("oci index", text_of(INDEX_TOKENS, 80), |text| {
        for media_type in [
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.oci.image.manifest.v1+json",
        ] {
            let _ = ImageIndex::parse(text.as_bytes(), media_type);
        }
    });
}

/// An AdmissionReview around a Pod-bearing object whose images are generated.
fn admission_review() -> impl Strategy<Value = String> {
    let kinds = prop::sample::select(
        &[
            ("Pod", "/spec"),
            ("Deployment", "/spec/template/spec"),
            ("CronJob", "/spec/jobTemplate/spec/template/spec"),
            ("PodTemplate", "/template/spec"),
        ][..],
    );
    let operation = prop::sample::select(&["CREATE", "UPDATE", "DELETE", "CONNECT"][..]);
    (kinds, operation, prop::collection::vec(text_of(REFERENCE_TOKENS, 8), 0..6))
        .prop_map(|((kind, pointer), operation, images)| {
            let containers: Vec<serde_json::Value> = images
                .iter()
                .enumerate()
                .map(|(i, image)| serde_json::json!({"name": format!("c{i}"), "image": image}))
                .collect();
            let mut object = serde_json::json!({"kind": kind, "metadata": {"name": "x"}});
            let mut spec = serde_json::json!({
                "containers": containers,
                "initContainers": [{"name": "i", "image": images.first().cloned().unwrap_or_default()}],
                "volumes": [{"name": "v", "image": {"reference": images.last().cloned().unwrap_or_default()}}],
            });
            for part in pointer.trim_start_matches('/').split('/').rev() {
                spec = serde_json::json!({ part: spec });
            }
            if let (Some(object), Some(spec)) = (object.as_object_mut(), spec.as_object()) {
                object.extend(spec.clone());
            }
            serde_json::json!({
                "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                "request": {"uid": "u", "kind": {"group": "", "version": "v1", "kind": kind},
                    "resource": {"group": "", "version": "v1", "resource": "pods"},
                    "namespace": "prod-shop", "operation": operation, "object": object, "oldObject": null}
            })
            .to_string()
        })
}

#[test]
fn admission_reviews_parsed_and_judged() {
    let settings = Settings::parse(
        "[[namespaces]]\nmatch = \"prod-*\"\nenvironment = \"prod\"\n",
        "pyimage.toml",
        &Overrides::default(),
    )
    .unwrap();
    let context = CheckContext {
        today: Date::ymd(2026, 11, 30),
        lock: None,
        build: &ScanOptions::NONE,
    };
    fuzz("admission review", admission_review(), |text| {
        let review: AdmissionReview = serde_json::from_str(text).expect("generated reviews parse");
        if let Some(request) = review.request {
            let judged = judge(&request, &settings.policy, &context);
            let _ = pyimage_core::admission::validate_response(&request, &judged);
            let _ = pins_needed(&request, &settings.policy, |_| true);
        }
    });
    fuzz("admission json", text_of(JSON_TOKENS, 60), |text| {
        let _ = serde_json::from_str::<AdmissionReview>(text);
        if let Ok(review) = serde_json::from_str::<ImageReview>(text) {
            let _ = review_images(&review, &settings.policy, &context);
        }
    });
}

#[test]
fn check_file_over_every_kind() {
    let settings = Settings::builtin(&Overrides::default()).unwrap();
    let context = CheckContext {
        today: Date::ymd(2026, 11, 30),
        lock: None,
        build: &ScanOptions::NONE,
    };
    fuzz("check Dockerfile", text_of(DOCKERFILE_TOKENS, 80), |text| {
        let _ = check_file(
            "Dockerfile",
            text,
            FileKind::Dockerfile,
            &settings.policy,
            &context,
        );
    });
    fuzz("check compose", text_of(YAML_TOKENS, 60), |text| {
        for (path, kind) in [
            ("compose.yaml", FileKind::Compose),
            (
                "k8s/pod.yaml",
                FileKind::for_path("k8s/pod.yaml").unwrap_or(FileKind::Compose),
            ),
        ] {
            let _ = check_file(path, text, kind, &settings.policy, &context);
        }
    });
}
