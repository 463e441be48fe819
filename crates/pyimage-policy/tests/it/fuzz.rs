//! Issue 15, "fuzz targets", for the decisions over untrusted text: `pyimage.toml`, AdmissionReview and ImageReview
//! (parsed and judged), and `check_file` over every kind of file. (The model's and the locators' parsers are fuzzed
//! in their own crates' tests.) The harness, the inputs and the heap budgets are [`pyimage_fuzzkit::fuzz`]'s; each
//! target runs in a process of its own (the heap meter is process-wide).

use proptest::prelude::*;
use pyimage_fuzzkit::fuzz::{Budget, fuzz, fuzz_measured, text_of};
use pyimage_fuzzkit::tokens::{
    CONFIG_TOKENS, DOCKERFILE_TOKENS, JSON_TOKENS, REFERENCE_TOKENS, YAML_TOKENS,
};
use pyimage_locate::ManifestKind;
use pyimage_locate::dockerfile::ScanOptions;
use pyimage_policy::admission::{AdmissionReview, ImageReview, judge, pins_needed, review_images};
use pyimage_policy::check::{CheckContext, Date, FileKind, check_file};
use pyimage_policy::config::{Overrides, Settings};

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

pyimage_fuzzkit::measured_tests! {
    #[test]
    fn configuration() {
        fuzz_measured(
            "pyimage.toml",
            text_of(CONFIG_TOKENS, 60),
            Budget::TOML,
            |text| {
                let _ = Settings::parse(text, "pyimage.toml", &Overrides::default());
                0
            },
        );
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
            signatures: None,
        };
        fuzz_measured(
            "admission review",
            admission_review(),
            Budget::STRUCTURED,
            |text| {
                let review: AdmissionReview =
                    serde_json::from_str(text).expect("generated reviews parse");
                if let Some(request) = review.request {
                    let judged = judge(&request, &settings.policy, &context);
                    let _ = pyimage_policy::admission::validate_response(&request, &judged);
                    let _ = pins_needed(&request, &settings.policy, |_| true);
                }
                0
            },
        );
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
            signatures: None,
        };
        // Each finding carries its message, fix, reference and the decisions behind it: a file with a finding on every
        // line holds that much more, in proportion to its findings, not to anything else.
        const PER_FINDING: usize = 2048;
        let findings = |report: pyimage_policy::check::FileReport| report.findings.len() * PER_FINDING;
        fuzz_measured(
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
            "check compose",
            text_of(YAML_TOKENS, 60),
            Budget::FLOW,
            |text| {
                let mut held = 0;
                for (path, kind) in [
                    ("compose.yaml", FileKind::Manifest(ManifestKind::Compose)),
                    (
                        "k8s/pod.yaml",
                        FileKind::for_path("k8s/pod.yaml").unwrap_or(FileKind::Dockerfile),
                    ),
                ] {
                    held += findings(check_file(path, text, kind, &settings.policy, &context));
                }
                held
            },
        );
    }
}
