//! Issue 15, "fuzz targets", for the locators: the Dockerfile lexer and ARG expander, and every manifest locator
//! (Compose, Kubernetes YAML/JSON, CI files, Kustomize, dev containers, Cloud Build, Helm values). The harness, the
//! inputs and the heap budgets are [`pyimage_fuzzkit::fuzz`]'s; each target runs in a process of its own (the heap
//! meter is process-wide).

use pyimage_fuzzkit::fuzz::{Budget, fuzz_measured, text_of};
use pyimage_fuzzkit::tokens::{DOCKERFILE_TOKENS, JSON_TOKENS, YAML_TOKENS};
use pyimage_locate::dockerfile::{self, ScanOptions};
use pyimage_locate::manifests::{self, ManifestKind, ScanInputs};

pyimage_fuzzkit::measured_tests! {
    #[test]
    fn dockerfile_lexer_and_arg_expander() {
        // What a scan returns (an image use, a stage, an ARG, a problem: each with its text and positions) is its
        // result; a file with one on every line holds that much more, and nothing per line besides.
        const PER_RESULT: usize = 1024;
        fuzz_measured(
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
        // YAML in flow style costs what JSON does (see Budget::FLOW); block style is held to 8 bytes per byte by
        // yaml_memory.
        fuzz_measured(
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
}
