//! The places besides Compose and Kubernetes where base images live: which files are which kind, what each
//! reference evaluates to, and where `pin` writes a digest (or why it does not), on minimal texts shaped like the
//! public ones (GitHub's container jobs, GitLab's `image:`, kustomize's `images:`, devcontainers' JSON with
//! comments, Cloud Build steps, Bitnami and `helm create` values).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pyimage_locate::FileKind;
use pyimage_locate::dockerfile::ScanOptions;
use pyimage_locate::manifests::{self, ManifestKind, ScanInputs, Written};
use pyimage_locate::pin::{self, Edit, Refusal};

fn python(reference: &pyimage_model::Reference) -> bool {
    reference.repository().familiar_string() == "python"
}

/// `pin` with a fixed digest: the new text, or the refusals.
fn pin_all(kind: FileKind, text: &str) -> (String, Vec<Refusal>) {
    let digest = format!("sha256:{}", "a".repeat(64));
    let mut edits = Vec::new();
    let mut refusals = Vec::new();
    for candidate in pin::candidates(kind, text, &ScanOptions::default(), &python) {
        match candidate.site {
            Ok(site) => edits.push(Edit::insert(
                site.insert_at,
                format!("{}{digest}", site.prefix),
            )),
            Err(refusal) => refusals.push(refusal),
        }
    }
    (pin::apply_edits(text, &edits).unwrap(), refusals)
}

#[test]
fn one_classifier_names_every_kind_from_the_path() {
    for (path, kind) in [
        ("Dockerfile", Some(FileKind::Dockerfile)),
        (
            ".github/workflows/ci.yml",
            Some(FileKind::Manifest(ManifestKind::GithubWorkflow)),
        ),
        (
            "repo/.github/workflows/release.yaml",
            Some(FileKind::Manifest(ManifestKind::GithubWorkflow)),
        ),
        (
            "workflows/ci.yml",
            Some(FileKind::Manifest(ManifestKind::Kubernetes)),
        ),
        (
            ".gitlab-ci.yml",
            Some(FileKind::Manifest(ManifestKind::GitlabCi)),
        ),
        (
            "ci/templates/python.gitlab-ci.yml",
            Some(FileKind::Manifest(ManifestKind::GitlabCi)),
        ),
        (
            "overlays/prod/kustomization.yaml",
            Some(FileKind::Manifest(ManifestKind::Kustomization)),
        ),
        (
            "base/Kustomization",
            Some(FileKind::Manifest(ManifestKind::Kustomization)),
        ),
        (
            ".devcontainer/devcontainer.json",
            Some(FileKind::Manifest(ManifestKind::Devcontainer)),
        ),
        (
            ".devcontainer/py312/devcontainer.json",
            Some(FileKind::Manifest(ManifestKind::Devcontainer)),
        ),
        (
            ".devcontainer.json",
            Some(FileKind::Manifest(ManifestKind::Devcontainer)),
        ),
        (
            "devcontainer.json",
            Some(FileKind::Manifest(ManifestKind::Json)),
        ),
        (
            "cloudbuild.yaml",
            Some(FileKind::Manifest(ManifestKind::CloudBuild)),
        ),
        (
            "cloudbuild-release.json",
            Some(FileKind::Manifest(ManifestKind::CloudBuild)),
        ),
        (
            "chart/values.yaml",
            Some(FileKind::Manifest(ManifestKind::HelmValues)),
        ),
        (
            "chart/values-prod.yaml",
            Some(FileKind::Manifest(ManifestKind::HelmValues)),
        ),
        ("k8s/job.json", Some(FileKind::Manifest(ManifestKind::Json))),
        (
            "compose.override.yaml",
            Some(FileKind::Manifest(ManifestKind::Compose)),
        ),
        (
            "deploy.yaml",
            Some(FileKind::Manifest(ManifestKind::Kubernetes)),
        ),
        ("README.md", None),
    ] {
        assert_eq!(FileKind::for_path(path), kind, "{path}");
    }
}

#[test]
fn workflow_containers_services_and_docker_steps() {
    let text = "jobs:\n  a:\n    container: python:3.12\n    services:\n      s:\n        image: 'python:3.11'\n    steps:\n      - uses: docker://python:3.13-slim\n      - uses: actions/checkout@v4\n  b:\n    container:\n      image: python:${{ matrix.v }}\n";
    let scan = manifests::scan(ManifestKind::GithubWorkflow, text, ScanInputs::default());
    let found: Vec<(&str, Option<&str>, &str)> = scan
        .images
        .iter()
        .map(|i| (i.path.as_str(), i.text(), i.written.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("jobs.a.container", Some("python:3.12"), "python:3.12"),
            (
                "jobs.a.services.s.image",
                Some("python:3.11"),
                "python:3.11"
            ),
            (
                "jobs.a.steps[0].uses",
                Some("python:3.13-slim"),
                "python:3.13-slim"
            ),
            ("jobs.b.container.image", None, "python:${{ matrix.v }}"),
        ]
    );
    let (pinned, refusals) = pin_all(FileKind::Manifest(ManifestKind::GithubWorkflow), text);
    assert!(
        pinned.contains("uses: docker://python:3.13-slim@sha256:"),
        "{pinned}"
    );
    assert!(pinned.contains("image: 'python:3.11@sha256:"), "{pinned}");
    assert_eq!(refusals.len(), 1);
    assert!(
        refusals[0]
            .to_string()
            .contains("GitHub Actions expression")
    );
}

#[test]
fn kustomize_gets_a_digest_line_at_the_tag_indentation_keeping_crlf() {
    let text = "images:\r\n- name: python\r\n  newTag: \"3.12-slim\" # base\r\n- name: web\r\n  newName: python\r\n  newTag: 3.13\r\n  digest: \"\"\r\n- name: rename-only\r\n  newName: python\r\n";
    let scan = manifests::scan(ManifestKind::Kustomization, text, ScanInputs::default());
    let texts: Vec<Option<&str>> = scan.images.iter().map(|i| i.text()).collect();
    assert_eq!(texts, [Some("python:3.12-slim"), Some("python:3.13")]);
    assert!(matches!(scan.images[0].form, Written::Map(_)));
    let (pinned, refusals) = pin_all(FileKind::Manifest(ManifestKind::Kustomization), text);
    let digest = "a".repeat(64);
    assert_eq!(
        pinned,
        format!(
            "images:\r\n- name: python\r\n  newTag: \"3.12-slim\" # base\r\n  digest: sha256:{digest}\r\n- name: web\r\n  newName: python\r\n  newTag: 3.13\r\n  digest: \"sha256:{digest}\"\r\n- name: rename-only\r\n  newName: python\r\n"
        )
    );
    assert!(refusals.is_empty());
    // Pinned: update finds the digest and the tag in their keys.
    let sites = pin::pinned_sites(
        FileKind::Manifest(ManifestKind::Kustomization),
        &pinned,
        &ScanOptions::default(),
        &python,
    );
    assert_eq!(sites.len(), 2);
    for site in &sites {
        let digest_text = &pinned[site.digest_range.clone().unwrap()];
        assert_eq!(digest_text, format!("sha256:{digest}"));
    }
    assert_eq!(&pinned[sites[0].tag_range.clone().unwrap()], "3.12-slim");
    // A flow mapping has no line to add: refused with the reason.
    let (_, refusals) = pin_all(
        FileKind::Manifest(ManifestKind::Kustomization),
        "images: [{name: python, newTag: '3.12'}]\n",
    );
    assert!(
        refusals[0]
            .to_string()
            .contains("add `digest: sha256:…` by hand"),
        "{refusals:?}"
    );
}

#[test]
fn helm_values_maps_and_strings_at_any_depth() {
    let text = "image:\n  registry: docker.io\n  repository: library/python\n  tag: 3.12-slim\n  digest:\njobs:\n  - image:\n      repository: python\n      tag: \"3.11\"\n  - image: python:3.13\nempty:\n  image:\n    repository: python\n    tag: \"\"\n";
    let scan = manifests::scan(ManifestKind::HelmValues, text, ScanInputs::default());
    let found: Vec<(&str, Option<&str>)> = scan
        .images
        .iter()
        .map(|i| (i.path.as_str(), i.text()))
        .collect();
    assert_eq!(
        found,
        [
            ("image", Some("docker.io/library/python:3.12-slim")),
            ("jobs[0].image", Some("python:3.11")),
            ("jobs[1].image", Some("python:3.13")),
            ("empty.image", None),
        ]
    );
    let (pinned, refusals) = pin_all(FileKind::Manifest(ManifestKind::HelmValues), text);
    assert!(
        pinned.contains("  tag: 3.12-slim\n  digest: sha256:"),
        "{pinned}"
    );
    assert!(
        pinned.contains("  - image: python:3.13@sha256:"),
        "{pinned}"
    );
    let reasons: Vec<String> = refusals.iter().map(ToString::to_string).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0].contains("no `digest:` key"), "{reasons:?}");
    assert!(reasons[1].contains("appVersion"), "{reasons:?}");
}

#[test]
fn gitlab_cloud_build_and_devcontainer() {
    let gitlab = "image: python:3.12\nservices:\n  - name: python:3.11\n    alias: py\nvariables:\n  image: not-an-image\ntest:\n  image:\n    name: $REGISTRY/python:3.12\n";
    let scan = manifests::scan(ManifestKind::GitlabCi, gitlab, ScanInputs::default());
    let paths: Vec<&str> = scan.images.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(paths, ["image", "services[0].name", "test.image.name"]);
    assert!(scan.images[2].text().is_none());

    let cloudbuild =
        "steps:\n- name: python:3.12\n- name: gcr.io/cloud-builders/gcloud\n- name: python:${_V}\n";
    let scan = manifests::scan(ManifestKind::CloudBuild, cloudbuild, ScanInputs::default());
    let texts: Vec<Option<&str>> = scan.images.iter().map(|i| i.text()).collect();
    assert_eq!(
        texts,
        [
            Some("python:3.12"),
            Some("gcr.io/cloud-builders/gcloud"),
            None
        ]
    );

    let devcontainer = "// comment\n{\n\t\"name\": \"py\", /* block */\n\t\"image\": \"python:3.12-bookworm\",\n}\n";
    let (pinned, refusals) = pin_all(FileKind::Manifest(ManifestKind::Devcontainer), devcontainer);
    assert!(refusals.is_empty());
    assert_eq!(
        pinned,
        format!(
            "// comment\n{{\n\t\"name\": \"py\", /* block */\n\t\"image\": \"python:3.12-bookworm@sha256:{}\",\n}}\n",
            "a".repeat(64)
        )
    );
}

#[test]
fn kubernetes_json_is_read_and_other_json_is_not_a_manifest() {
    let job = "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"},\n\"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"python:3.12\"}]}}\n";
    let scan = manifests::scan(ManifestKind::Json, job, ScanInputs::default());
    assert!(!scan.not_a_manifest);
    assert_eq!(scan.images[0].text(), Some("python:3.12"));
    assert_eq!((scan.images[0].line, scan.images[0].column), (2, 49));
    for other in [
        "{\"name\": \"site\", \"image\": \"python:3.12\"}",
        "[1, 2",
        "{\"description\": \"the \\\"apiVersion\\\" and \\\"kind\\\" keys\"}",
    ] {
        let scan = manifests::scan(ManifestKind::Json, other, ScanInputs::default());
        assert!(scan.images.is_empty(), "{other}");
        assert!(scan.not_a_manifest || scan.error.is_some(), "{other}");
    }
}

#[test]
fn compose_variables_decide_the_reference_and_pin_still_refuses() {
    let text = "services:\n  api:\n    image: python:${TAG}\n";
    let variables = [("TAG".to_owned(), "3.12-slim".to_owned())]
        .into_iter()
        .collect();
    let scan = manifests::scan(
        ManifestKind::Compose,
        text,
        ScanInputs {
            variables: Some(&variables),
        },
    );
    assert_eq!(scan.images[0].text(), Some("python:3.12-slim"));
    let build = ScanOptions {
        variables,
        ..ScanOptions::default()
    };
    let candidates = pin::candidates(
        FileKind::Manifest(ManifestKind::Compose),
        text,
        &build,
        &python,
    );
    assert_eq!(candidates[0].evaluated, "python:3.12-slim");
    assert!(matches!(candidates[0].site, Err(Refusal::Interpolated(_))));
}
