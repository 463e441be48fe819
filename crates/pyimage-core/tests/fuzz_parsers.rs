//! Issue 15, "fuzz targets": every parser of untrusted text runs on generated input — random text built from each
//! format's own tokens (so the generator reaches deep states, not only the first syntax error) mixed with arbitrary
//! characters — and must return (an answer or an error) without panicking, each input within a hang guard. Parsers:
//! references, Python tags and versions, platforms, the Dockerfile lexer + ARG expander, every manifest locator
//! (Compose, Kubernetes YAML/JSON, CI files, Kustomize, dev containers, Cloud Build, Helm values), the
//! official-images file, the lock, pyimage.toml, OCI indexes, AdmissionReview and ImageReview (parsed and judged),
//! and `check_file` over all of it. `PYIMAGE_FUZZ_CASES` sets the cases per target (default 1000, about 12 s in
//! all; CI runs that). The inputs come from a fixed seed, so CI judges the same inputs every run;
//! `PYIMAGE_FUZZ_SEED=random` (or a number) explores others, and a failure names its seed.
//!
//! Memory is measured, not assumed: a counting allocator ([`meter`]) gives each input's peak heap, which must stay
//! within its [`Budget`] of the input's length — linear, with a small constant.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod meter;

#[global_allocator]
static HEAP: &peakmem_alloc::PeakMemAlloc<std::alloc::System> = &peakmem_alloc::INSTRUMENTED_SYSTEM;

use std::io::Write as _;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
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

/// The generator's seed: [`SEED`] unless `PYIMAGE_FUZZ_SEED` says `random` or another number.
fn seed() -> u64 {
    match std::env::var("PYIMAGE_FUZZ_SEED").as_deref() {
        Ok("random") => rand_seed(),
        Ok(number) => number
            .parse()
            .expect("PYIMAGE_FUZZ_SEED: random or a number"),
        Err(_) => SEED,
    }
}

const SEED: u64 = 20_261_130;

/// A seed from the clock, for exploring (and shown on failure, to replay).
fn rand_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(SEED, |elapsed| elapsed.as_nanos() as u64)
}

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

/// How a target's memory is judged: the most heap it may hold at once is a fixed allowance (tables, a rendered
/// message, an expansion's 64 KiB result cap) plus a small multiple of the input; and whether its inputs are also
/// measured repeated (see [`SCALE_EVERY`]).
#[derive(Clone, Copy)]
struct Budget {
    per_input_byte: usize,
    repeat: bool,
}

impl Budget {
    const FIXED: usize = 256 * 1024;
    /// The parsers written here, and YAML in block style.
    const PARSER: Budget = Budget {
        per_input_byte: 64,
        repeat: true,
    };
    /// The lock and `pyimage.toml`: the toml crate's spanned document holds up to ~77 bytes per byte, valid
    /// (`[[paths]]` tables) or not (a file of `=`).
    const TOML: Budget = Budget {
        per_input_byte: 128,
        repeat: true,
    };
    /// JSON (and YAML in flow style): saphyr tokenizes a flow collection ahead of its events, about 57 bytes per
    /// byte of a one-line Kubernetes `List` (block style: next to nothing).
    const FLOW: Budget = Budget {
        per_input_byte: 128,
        repeat: true,
    };
    /// Generated documents whose structure a repetition would break (a target that asserts they parse).
    const STRUCTURED: Budget = Budget {
        per_input_byte: 64,
        repeat: false,
    };

    fn allows(self, len: usize) -> usize {
        Self::FIXED + self.per_input_byte * len
    }
}

/// Every this many cases, the input is also repeated to at least [`SCALED_LEN`] bytes and measured again: generated
/// inputs are small, and linear memory shows only on large ones (a repeated `ARG A=${A}${A}` line is the doubling
/// bomb; repeated `<<: [*a, *a]` the merge-key bomb).
const SCALE_EVERY: usize = 8;
const SCALED_LEN: usize = 32 * 1024;

/// What one target used at most: (peak heap, input length) for generated and for scaled inputs.
#[derive(Default, Clone, Copy)]
struct Largest {
    generated: (usize, usize),
    scaled: (usize, usize),
}

/// Runs `target` on `cases()` inputs of `strategy` and on repeated ones (see [`SCALE_EVERY`]); a panic, a hang or
/// a peak heap over [`Budget::PARSER`] fails with the input. The largest peaks are printed.
fn fuzz(
    meter: &meter::Exclusive,
    name: &str,
    strategy: impl Strategy<Value = String>,
    target: impl Fn(&str),
) {
    fuzz_measured(meter, name, strategy, Budget::PARSER, |text| {
        target(text);
        0
    });
}

/// [`fuzz`] with its own [`Budget`], for a target that returns how many bytes of results it may legitimately hold
/// beyond it (`check_file`'s findings: each carries its message, fix and decisions).
fn fuzz_measured(
    meter: &meter::Exclusive,
    name: &str,
    strategy: impl Strategy<Value = String>,
    budget: Budget,
    target: impl Fn(&str) -> usize,
) {
    let seed = seed();
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        ..Config::default()
    });
    let largest = std::cell::Cell::new(Largest::default());
    let case = std::cell::Cell::new(0usize);
    let result = runner.run(&strategy, |input| {
        case.set(case.get() + 1);
        let scaled = (budget.repeat && case.get().is_multiple_of(SCALE_EVERY) && !input.is_empty())
            .then(|| input.repeat(SCALED_LEN.div_ceil(input.len())));
        for (text, is_scaled) in
            std::iter::once((&input, false)).chain(scaled.as_ref().map(|s| (s, true)))
        {
            let started = Instant::now();
            let (results, peak) = meter.measure(|| target(text));
            let shown: String = text.chars().take(2000).collect();
            prop_assert!(
                started.elapsed() < GUARD,
                "{name}: {:?} on {} bytes: {shown:?}",
                started.elapsed(),
                text.len()
            );
            prop_assert!(
                peak <= budget.allows(text.len()) + results,
                "{name}: {peak} bytes of heap for {} bytes of input ({results} for results): {shown:?}",
                text.len()
            );
            let mut seen = largest.get();
            let slot = if is_scaled {
                &mut seen.scaled
            } else {
                &mut seen.generated
            };
            if peak > slot.0 {
                *slot = (peak, text.len());
            }
            largest.set(seen);
        }
        Ok(())
    });
    if let Err(error) = result {
        panic!("{name}: {error} (replay: PYIMAGE_FUZZ_SEED={seed})");
    }
    let Largest { generated, scaled } = largest.get();
    // Written past the harness's capture: CI's log keeps each target's figures.
    let _ = writeln!(
        std::io::stderr(),
        "{name}: largest peak heap {} bytes for {} generated bytes; {} bytes for {} repeated bytes",
        generated.0,
        generated.1,
        scaled.0,
        scaled.1
    );
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
    let meter = meter::exclusive();
    fuzz(&meter, "reference", text_of(REFERENCE_TOKENS, 24), |text| {
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
    let meter = meter::exclusive();
    // What a scan returns (an image use, a stage, an ARG, a problem: each with its text and positions) is its
    // result; a file with one on every line holds that much more, and nothing per line besides.
    const PER_RESULT: usize = 1024;
    fuzz_measured(
        &meter,
        "dockerfile",
        text_of(DOCKERFILE_TOKENS, 120),
        Budget::PARSER,
        |text| {
            let scan = dockerfile::scan_with(text, &ScanOptions::NONE);
            for image in &scan.images {
                assert!(
                    image.span.end <= text.len(),
                    "a span past the end: {image:?}"
                );
                assert!(
                    text.is_char_boundary(image.span.start)
                        && text.is_char_boundary(image.span.end)
                );
            }
            let results =
                scan.images.len() + scan.stages.len() + scan.args.len() + scan.problems.len();
            results * PER_RESULT
        },
    );
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
    let meter = meter::exclusive();
    let kinds = [
        ManifestKind::Compose,
        ManifestKind::Kubernetes,
        ManifestKind::GithubWorkflow,
        ManifestKind::GitlabCi,
        ManifestKind::Kustomization,
        ManifestKind::CloudBuild,
        ManifestKind::HelmValues,
    ];
    // YAML in flow style costs what JSON does (see Budget::FLOW); block style is held to 8 bytes per byte by
    // tests/yaml_memory.rs.
    fuzz_measured(
        &meter,
        "yaml manifests",
        text_of(YAML_TOKENS, 80),
        Budget::FLOW,
        |text| {
            for kind in kinds {
                let scan = manifests::scan(kind, text, ScanInputs { variables: None });
                for image in &scan.images {
                    assert!(
                        image.span.end <= text.len(),
                        "{kind:?}: a span past the end"
                    );
                }
            }
            0
        },
    );
    fuzz_measured(
        &meter,
        "json manifests",
        text_of(JSON_TOKENS, 80),
        Budget::FLOW,
        |text| {
            for kind in [
                ManifestKind::Json,
                ManifestKind::Devcontainer,
                ManifestKind::CloudBuild,
            ] {
                let _ = manifests::scan(kind, text, ScanInputs { variables: None });
            }
            0
        },
    );
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
    let meter = meter::exclusive();
    fuzz(
        &meter,
        "official-images",
        text_of(LIBRARY_TOKENS, 60),
        |text| {
            let _ = Library::parse(text);
        },
    );
    fuzz_measured(
        &meter,
        "lock",
        text_of(LOCK_TOKENS, 60),
        Budget::TOML,
        |text| {
            if let Ok(lock) = Lock::parse(text) {
                let _ = Lock::parse(&lock.render()).expect("a rendered lock parses again");
            }
            0
        },
    );
    fuzz_measured(
        &meter,
        "pyimage.toml",
        text_of(CONFIG_TOKENS, 60),
        Budget::TOML,
        |text| {
            let _ = Settings::parse(text, "pyimage.toml", &Overrides::default());
            0
        },
    );
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
    let meter = meter::exclusive();
    fuzz(&meter, "oci index", text_of(INDEX_TOKENS, 80), |text| {
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
    let meter = meter::exclusive();
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
    fuzz_measured(
        &meter,
        "admission review",
        admission_review(),
        Budget::STRUCTURED,
        |text| {
            let review: AdmissionReview =
                serde_json::from_str(text).expect("generated reviews parse");
            if let Some(request) = review.request {
                let judged = judge(&request, &settings.policy, &context);
                let _ = pyimage_core::admission::validate_response(&request, &judged);
                let _ = pins_needed(&request, &settings.policy, |_| true);
            }
            0
        },
    );
    fuzz(&meter, "admission json", text_of(JSON_TOKENS, 60), |text| {
        let _ = serde_json::from_str::<AdmissionReview>(text);
        if let Ok(review) = serde_json::from_str::<ImageReview>(text) {
            let _ = review_images(&review, &settings.policy, &context);
        }
    });
}

#[test]
fn check_file_over_every_kind() {
    let meter = meter::exclusive();
    let settings = Settings::builtin(&Overrides::default()).unwrap();
    let context = CheckContext {
        today: Date::ymd(2026, 11, 30),
        lock: None,
        build: &ScanOptions::NONE,
    };
    // Each finding carries its message, fix, reference and the decisions behind it: a file with a finding on every
    // line holds that much more, in proportion to its findings, not to anything else.
    const PER_FINDING: usize = 2048;
    let findings = |report: pyimage_core::check::FileReport| report.findings.len() * PER_FINDING;
    fuzz_measured(
        &meter,
        "check Dockerfile",
        text_of(DOCKERFILE_TOKENS, 80),
        Budget::PARSER,
        |text| {
            findings(check_file(
                "Dockerfile",
                text,
                FileKind::Dockerfile,
                &settings.policy,
                &context,
            ))
        },
    );
    fuzz_measured(
        &meter,
        "check compose",
        text_of(YAML_TOKENS, 60),
        Budget::FLOW,
        |text| {
            let mut held = 0;
            for (path, kind) in [
                ("compose.yaml", FileKind::Compose),
                (
                    "k8s/pod.yaml",
                    FileKind::for_path("k8s/pod.yaml").unwrap_or(FileKind::Compose),
                ),
            ] {
                held += findings(check_file(path, text, kind, &settings.policy, &context));
            }
            held
        },
    );
}
