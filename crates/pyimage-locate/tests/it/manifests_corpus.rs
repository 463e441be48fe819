#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    clippy::unwrap_used,
    clippy::expect_used
)]
//! Compose and Kubernetes fixtures (`testdata/manifests/`) with the exact image references each must yield, and a
//! property test that the YAML locator never panics and reports only valid slices of its input.

use std::path::Path;

use proptest::prelude::*;
use pyimage_locate::dockerfile::Span;
use pyimage_locate::manifests::{
    self, ImageSite, ManifestKind, ManifestScan, NotRewritable, SkipReason,
};
use pyimage_locate::pod::ImageSlot;

fn testdata(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/manifests")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// Every span is a char-boundary slice and `written` is exactly its text.
fn assert_spans(text: &str, scan: &ManifestScan) {
    for image in &scan.images {
        let slice = text.get(image.span.range());
        assert_eq!(slice, Some(image.written.as_str()), "{image:?}");
        if image.not_rewritable.is_none() {
            assert_eq!(
                image.written, image.value,
                "rewritable means the bytes are the value"
            );
        }
    }
    if let Some(skipped) = &scan.skipped {
        assert!(text.get(skipped.span.range()).is_some());
    }
    if let Some(error) = &scan.error {
        assert!(text.is_char_boundary(error.offset.min(text.len())));
    }
}

/// (path, written, evaluated text or `!variable`, line, column, rewritable)
type Expected<'a> = (&'a str, &'a str, &'a str, usize, usize, bool);

fn summary(scan: &ManifestScan) -> Vec<(String, String, String, usize, usize, bool)> {
    scan.images
        .iter()
        .map(|image| {
            let value = match &image.evaluation {
                pyimage_locate::dockerfile::Evaluation::Resolved { text, .. } => text.clone(),
                pyimage_locate::dockerfile::Evaluation::Unresolvable(why) => {
                    format!("!{}", why.variable().unwrap_or_default())
                }
            };
            (
                image.path.clone(),
                image.written.clone(),
                value,
                image.line,
                image.column,
                image.not_rewritable.is_none(),
            )
        })
        .collect()
}

fn expect(scan: &ManifestScan, expected: &[Expected<'_>]) {
    let expected: Vec<_> = expected
        .iter()
        .map(|(p, w, v, l, c, r)| {
            (
                (*p).to_owned(),
                (*w).to_owned(),
                (*v).to_owned(),
                *l,
                *c,
                *r,
            )
        })
        .collect();
    assert_eq!(summary(scan), expected);
}

#[test]
fn compose_services_merges_quotes_and_interpolation() {
    let text = testdata("compose.yaml");
    let scan = manifests::scan_compose(&text);
    assert_spans(&text, &scan);
    assert!(scan.error.is_none() && scan.skipped.is_none());
    let digest = format!("postgres:16@sha256:{}", "0123456789abcdef".repeat(4));
    expect(
        &scan,
        &[
            (
                "services.web.image",
                "python:3.12-slim",
                "python:3.12-slim",
                2,
                11,
                true,
            ),
            (
                "services.worker.image",
                "python:3.13-slim",
                "python:3.13-slim",
                10,
                13,
                true,
            ),
            ("services.db.image", &digest, &digest, 12, 12, true),
            (
                "services.cache.image",
                "${REDIS_IMAGE:-redis:7}",
                "redis:7",
                14,
                12,
                true,
            ),
            (
                "services.folded.image",
                "python:3.11",
                "python:3.11",
                19,
                7,
                false,
            ),
            (
                "services.escaped.image",
                "python:3.12\\u002dslim",
                "python:3.12-slim",
                21,
                13,
                false,
            ),
            (
                "services.tagged.image",
                "python:3.10",
                "python:3.10",
                23,
                18,
                true,
            ),
        ],
    );
    assert_eq!(
        scan.images[2].site,
        ImageSite::ComposeService {
            service: "db".into()
        }
    );
    // Interpolation is evaluated with its default, as Dockerfile ARGs are.
    assert_eq!(scan.images[3].text(), Some("redis:7"));
    assert_eq!(
        scan.images[4].not_rewritable,
        Some(NotRewritable::BlockScalar)
    );
    assert_eq!(scan.images[5].not_rewritable, Some(NotRewritable::Escaped));
    // The merged image of `web` is the anchored scalar: one span, shared.
    let quoted = text.find("\"python:3.12-slim\"").unwrap();
    assert_eq!(
        scan.images[0].span,
        Span::new(quoted + 1, quoted + 1 + "python:3.12-slim".len())
    );
}

#[test]
fn kubernetes_multi_document_workloads() {
    let text = testdata("k8s-workloads.yaml");
    let scan = manifests::scan_kubernetes(&text);
    assert_spans(&text, &scan);
    assert_eq!(scan.documents, 5);
    let pinned = format!("python@sha256:{}", "0123456789abcdef".repeat(4));
    expect(
        &scan,
        &[
            (
                "spec.template.spec.containers[0].image",
                "python:3.12-slim",
                "python:3.12-slim",
                13,
                18,
                true,
            ),
            (
                "spec.template.spec.containers[1].image",
                "docker.io/library/busybox:1.36",
                "docker.io/library/busybox:1.36",
                15,
                19,
                true,
            ),
            (
                "spec.template.spec.initContainers[0].image",
                "ghcr.io/acme/api:1.2.3",
                "ghcr.io/acme/api:1.2.3",
                10,
                19,
                true,
            ),
            (
                "spec.jobTemplate.spec.template.spec.containers[0].image",
                "python:3.13-alpine",
                "python:3.13-alpine",
                29,
                22,
                true,
            ),
            ("spec.containers[0].image", &pinned, &pinned, 39, 12, true),
            (
                "spec.ephemeralContainers[0].image",
                "busybox",
                "busybox",
                42,
                12,
                true,
            ),
            (
                "items[0].spec.template.spec.containers[0].image",
                "postgres:16",
                "postgres:16",
                53,
                41,
                true,
            ),
        ],
    );
    assert_eq!(
        scan.images[3].site,
        ImageSite::KubernetesPod {
            kind: Some("CronJob".into()),
            object: Some("nightly".into()),
            slot: ImageSlot::Container,
            name: Some("job".into()),
        }
    );
    assert_eq!(scan.images[4].document, 2);
    assert_eq!(
        scan.images[6].site,
        ImageSite::KubernetesPod {
            kind: Some("StatefulSet".into()),
            object: Some("db".into()),
            slot: ImageSlot::Container,
            name: Some("pg".into()),
        }
    );
}

#[test]
fn crlf_bom_and_flow_mappings() {
    let text = testdata("docker-compose.override.yml");
    assert!(text.starts_with('\u{feff}') && text.contains("\r\n"));
    let scan = manifests::scan_yaml(&text);
    assert_spans(&text, &scan);
    expect(
        &scan,
        &[
            (
                "services.app.image",
                "python:3.12-slim",
                "python:3.12-slim",
                3,
                13,
                true,
            ),
            (
                "services.other.image",
                "python:3.13",
                "python:3.13",
                5,
                18,
                true,
            ),
        ],
    );
}

#[test]
fn helm_templates_are_skipped_not_errors() {
    let text = testdata("helm-deployment.yaml");
    let scan = manifests::scan_kubernetes(&text);
    let skipped = scan.skipped.as_ref().unwrap();
    assert_eq!(skipped.reason, SkipReason::Templated);
    assert_eq!((skipped.line, skipped.column), (4, 9));
    assert!(scan.error.is_none() && scan.images.is_empty());
    assert!(skipped.reason.to_string().contains("helm template"));
}

#[test]
fn invalid_yaml_is_an_error_with_a_position() {
    let text = testdata("invalid.yaml");
    let scan = manifests::scan_kubernetes(&text);
    let error = scan.error.as_ref().unwrap();
    assert!(error.line >= 6, "{error}");
    assert!(error.column >= 1);
    assert!(error.to_string().starts_with("invalid YAML at line"));
    // Documents before the error still count.
    let scan = manifests::scan_kubernetes(
        "kind: Pod\nspec:\n  containers:\n  - image: a:1\n---\nkind: Pod\nspec: [\n",
    );
    assert_eq!(scan.images.len(), 1);
    assert!(scan.error.is_some());
}

#[test]
fn single_quote_escapes_and_multiline_plain_are_not_rewritable() {
    let text = "kind: Pod\nspec:\n  containers:\n  - image: 'py''thon'\n  - image: python\n      :3.12\n  - image: \"é/ü:1\"\n";
    let scan = manifests::scan_kubernetes(text);
    assert_spans(text, &scan);
    let flags: Vec<_> = scan.images.iter().map(|i| i.not_rewritable).collect();
    assert_eq!(
        flags,
        [
            Some(NotRewritable::Escaped),
            Some(NotRewritable::Escaped),
            None
        ]
    );
    // Columns are characters, spans bytes.
    assert_eq!(scan.images[2].column, 13);
    assert_eq!(scan.images[2].written, "é/ü:1");
}

#[test]
fn file_names() {
    for (name, kind) in [
        ("compose.yaml", Some(ManifestKind::Compose)),
        ("compose.yml", Some(ManifestKind::Compose)),
        ("docker-compose.yml", Some(ManifestKind::Compose)),
        ("docker-compose.yaml", Some(ManifestKind::Compose)),
        ("compose.override.yaml", Some(ManifestKind::Compose)),
        ("docker-compose.prod.yml", Some(ManifestKind::Compose)),
        ("deployment.yaml", Some(ManifestKind::Kubernetes)),
        ("composer.yaml", Some(ManifestKind::Kubernetes)),
        ("Dockerfile", None),
    ] {
        assert_eq!(manifests::kind_for_file_name(name), kind, "{name}");
    }
}

fn yaml_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("services:\n".to_owned()),
        Just("kind: Pod\n".to_owned()),
        Just("kind: List\nitems:\n".to_owned()),
        Just("spec:\n".to_owned()),
        Just("  template:\n".to_owned()),
        Just("  containers:\n".to_owned()),
        Just("  - image: ".to_owned()),
        Just("    image: ".to_owned()),
        Just("<<: *a\n".to_owned()),
        Just("&a ".to_owned()),
        Just("*a".to_owned()),
        Just("---\n".to_owned()),
        Just("\"".to_owned()),
        Just("'".to_owned()),
        Just("\\".to_owned()),
        Just("|\n".to_owned()),
        Just(">-\n".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just(", ".to_owned()),
        Just(": ".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("  ".to_owned()),
        Just("\t".to_owned()),
        Just("# c\n".to_owned()),
        Just("é".to_owned()),
        Just("\u{feff}".to_owned()),
        Just("!!str ".to_owned()),
        Just("python:3.12".to_owned()),
        "[a-z0-9:/@._-]{1,8}",
        any::<char>().prop_map(String::from),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_and_spans_are_slices(pieces in prop::collection::vec(yaml_piece(), 0..40)) {
        let text: String = pieces.concat();
        for scan in [manifests::scan_yaml(&text), manifests::scan_compose(&text), manifests::scan_kubernetes(&text)] {
            assert_spans(&text, &scan);
        }
    }

    #[test]
    fn never_panics_on_arbitrary_text(text in any::<String>()) {
        assert_spans(&text, &manifests::scan_yaml(&text));
    }
}

#[test]
fn compose_interpolation_uses_defaults_and_reports_variables_without_one() {
    let cases = [
        ("${PY:-python:3.12}", Ok("python:3.12")),
        ("python:${TAG-3.13-slim}", Ok("python:3.13-slim")),
        ("python:3.12${SUFFIX:+-slim}", Ok("python:3.12")),
        ("$${NOT_A_VARIABLE}", Ok("${NOT_A_VARIABLE}")),
        (
            "${REG:-docker.io}/library/python:${V:-3.11}",
            Ok("docker.io/library/python:3.11"),
        ),
        ("${OUTER:-${INNER:-python:3.10}}", Ok("python:3.10")),
        ("${IMAGE}", Err("IMAGE")),
        ("python:$TAG", Err("TAG")),
        ("${IMAGE:?set IMAGE}", Err("IMAGE")),
        ("${OUTER:-${INNER}}", Err("INNER")),
        ("${UNCLOSED:-python", Err("UNCLOSED")),
    ];
    for (value, expected) in cases {
        let text = format!("services:\n  app:\n    image: \"{value}\"\n");
        let scan = manifests::scan_compose(&text);
        let image = &scan.images[0];
        match expected {
            Ok(evaluated) => assert_eq!(image.text(), Some(evaluated), "{value}"),
            Err(variable) => match &image.evaluation {
                pyimage_locate::dockerfile::Evaluation::Unresolvable(u) => {
                    assert_eq!(u.variable(), Some(variable), "{value}")
                }
                other => panic!("{value}: expected unresolvable, got {other:?}"),
            },
        }
    }
}

/// The real-world shapes (`testdata/manifests/real-world-shapes/`): every image span is exact bytes of the file
/// (CRLF, BOM, padded flow lines), `{{ }}` in a string is text, and real Helm templates are skipped with a position.
#[test]
fn real_world_shapes_keep_exact_spans_and_skip_only_real_templates() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/manifests/real-world-shapes");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let scan = manifests::scan_yaml(&text);
        assert_spans(&text, &scan);
        let name = path.file_name().unwrap().to_str().unwrap();
        if name.starts_with("helm-template") {
            let skipped = scan.skipped.as_ref().unwrap_or_else(|| panic!("{name}"));
            assert_eq!(skipped.reason, SkipReason::Templated);
            assert_eq!(&text[skipped.span.range()], "{{", "{name}");
        } else {
            assert!(
                scan.skipped.is_none() && scan.error.is_none(),
                "{name}: {scan:?}"
            );
        }
    }
    let text = testdata("real-world-shapes/helm-template-if-block.yaml");
    let skipped = manifests::scan_kubernetes(&text).skipped.unwrap();
    assert_eq!((skipped.line, skipped.column), (2, 1));
    let text = testdata("real-world-shapes/helm-template-unquoted-image.yaml");
    let skipped = manifests::scan_kubernetes(&text).skipped.unwrap();
    assert_eq!((skipped.line, skipped.column), (7, 14));
    // Rewritable images after a padded flow collection keep their bytes.
    let text = testdata("real-world-shapes/k8s-deployment-args-flow.yaml");
    let scan = manifests::scan_kubernetes(&text);
    let written: Vec<_> = scan
        .images
        .iter()
        .map(|i| (i.written.as_str(), i.line, i.column, i.not_rewritable))
        .collect();
    assert_eq!(
        written,
        [
            ("python:3.12", 15, 16, None),
            ("python:3.12-slim", 20, 17, None)
        ]
    );
    let text = testdata("real-world-shapes/compose-crlf.yaml");
    let scan = manifests::scan_compose(&text);
    let written: Vec<_> = scan
        .images
        .iter()
        .map(|i| (i.written.as_str(), i.line))
        .collect();
    assert_eq!(written, [("python:3.12-slim", 4), ("python:3.11", 10)]);
}
