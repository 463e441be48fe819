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

/// Issue 21 (6): containers embedded in custom resources, found by shape rather than by a list of kinds.
#[test]
fn custom_resources_embed_containers_in_shapes_found_at_any_depth() {
    let text = "apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata:
  name: etl
  annotations:
    containers: '[{\"image\": \"python:3.9\"}]'
spec:
  templates:
    - name: main
      container: &main
        image: python:3.12-slim
      initContainers:
        - name: fetch
          image: python:3.11-slim
      sidecars:
        - name: cache
          image: redis:7
    - name: again
      container: *main
    - name: report
      script:
        image: python:3.13-slim
        source: print(1)
    - name: set
      containerSet:
        containers:
          - name: a
            image: python:3.10
    - name: steps
      steps:
        - - name: one
            template: main
---
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: ci
spec:
  tasks:
    - name: lint
      taskSpec:
        steps:
          - name: lint
            image: python:3.12-alpine
---
apiVersion: ray.io/v1
kind: RayCluster
metadata:
  name: ray
spec:
  headGroupSpec:
    template:
      spec:
        containers:
          - name: head
            image: python:3.12
---
apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata:
  name: spark
spec:
  image: python:3.12
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: python:3.11
status:
  containers:
    - image: python:3.8
";
    let scan = manifests::scan(ManifestKind::Kubernetes, text, ScanInputs::default());
    assert!(scan.error.is_none(), "{:?}", scan.error);
    let found: Vec<(usize, &str, &str)> = scan
        .images
        .iter()
        .map(|i| (i.document, i.path.as_str(), i.value.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (0, "spec.templates[0].container.image", "python:3.12-slim"),
            (
                0,
                "spec.templates[0].initContainers[0].image",
                "python:3.11-slim"
            ),
            (0, "spec.templates[0].sidecars[0].image", "redis:7"),
            (0, "spec.templates[2].script.image", "python:3.13-slim"),
            (
                0,
                "spec.templates[3].containerSet.containers[0].image",
                "python:3.10"
            ),
            (
                1,
                "spec.tasks[0].taskSpec.steps[0].image",
                "python:3.12-alpine"
            ),
            (
                2,
                "spec.headGroupSpec.template.spec.containers[0].image",
                "python:3.12"
            ),
            // The Rollout's Pod is where a Deployment keeps it: found once, by the Pod walk.
            (4, "spec.template.spec.containers[0].image", "python:3.11"),
        ]
    );
    // Each embedded image is pinned where it is written; the alias's anchor once.
    let (pinned, refusals) = pin_all(FileKind::Manifest(ManifestKind::Kubernetes), text);
    assert!(refusals.is_empty(), "{refusals:?}");
    for line in [
        "        image: python:3.12-slim@sha256:",
        "          image: python:3.11-slim@sha256:",
        "        image: python:3.13-slim@sha256:",
        "            image: python:3.12-alpine@sha256:",
        "            image: python:3.12@sha256:",
    ] {
        assert!(pinned.contains(line), "{line}\n{pinned}");
    }
    assert!(pinned.contains("  image: python:3.12\n---"), "{pinned}");
}

/// Issue 21 (6): Helm values that name the repository `name` (with `tag`), the layout of many charts.
#[test]
fn helm_values_with_name_and_tag() {
    let text = "image:\n  name: python\n  tag: \"3.12-slim\"\n  pullPolicy: IfNotPresent\nworker:\n  image:\n    name: python\n    tag: 3.11-slim\n    digest: \"\"\nlabels:\n  name: python\n";
    let scan = manifests::scan(ManifestKind::HelmValues, text, ScanInputs::default());
    let found: Vec<(&str, Option<&str>)> = scan
        .images
        .iter()
        .map(|i| (i.path.as_str(), i.text()))
        .collect();
    assert_eq!(
        found,
        [
            ("image", Some("python:3.12-slim")),
            ("worker.image", Some("python:3.11-slim")),
        ]
    );
    let (pinned, refusals) = pin_all(FileKind::Manifest(ManifestKind::HelmValues), text);
    assert!(
        pinned.contains("    tag: 3.11-slim\n    digest: \"sha256:"),
        "{pinned}"
    );
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert!(refusals[0].to_string().contains("no `digest:` key"));
}

/// Issue 21 (6): GitLab `variables:` defaults (the job's over the file's) and Cloud Build `substitutions:` are
/// evaluated; a reference that is one variable is reported, and pinned, where the variable is defined.
#[test]
fn gitlab_variables_and_cloud_build_substitutions_are_evaluated() {
    let gitlab = "variables:\n  PYTHON_IMAGE: python:3.9\n  PY: \"3.12\"\n  DESCRIBED:\n    value: python:3.10\n    description: the image\ntest:\n  image: $PYTHON_IMAGE\nlint:\n  variables:\n    PYTHON_IMAGE: python:3.13-slim\n  image: ${PYTHON_IMAGE}\nbuild:\n  image: python:${PY}-slim\n  services:\n    - name: $DESCRIBED\ndeploy:\n  image: $CI_REGISTRY_IMAGE:latest\n";
    let scan = manifests::scan(ManifestKind::GitlabCi, gitlab, ScanInputs::default());
    let found: Vec<(&str, usize, Option<&str>)> = scan
        .images
        .iter()
        .map(|i| (i.path.as_str(), i.line, i.text()))
        .collect();
    assert_eq!(
        found,
        [
            ("test.image", 2, Some("python:3.9")),
            ("lint.image", 11, Some("python:3.13-slim")),
            ("build.image", 14, Some("python:3.12-slim")),
            ("build.services[0].name", 5, Some("python:3.10")),
            ("deploy.image", 18, None),
        ]
    );
    let (pinned, refusals) = pin_all(FileKind::Manifest(ManifestKind::GitlabCi), gitlab);
    for line in [
        "  PYTHON_IMAGE: python:3.9@sha256:",
        "    PYTHON_IMAGE: python:3.13-slim@sha256:",
        "    value: python:3.10@sha256:",
    ] {
        assert!(pinned.contains(line), "{line}\n{pinned}");
    }
    // `python:${PY}-slim` is built from a variable and text: a digest after it would not follow the variable.
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert!(refusals[0].to_string().contains("${PY}"), "{refusals:?}");

    let cloudbuild = "substitutions:\n  _PY: python:3.12\n  _V: '3.11'\nsteps:\n- name: $_PY\n- name: python:${_V}\n- name: $PROJECT_ID/python\n";
    let scan = manifests::scan(ManifestKind::CloudBuild, cloudbuild, ScanInputs::default());
    let found: Vec<(usize, Option<&str>)> =
        scan.images.iter().map(|i| (i.line, i.text())).collect();
    assert_eq!(
        found,
        [
            (2, Some("python:3.12")),
            (6, Some("python:3.11")),
            (7, None)
        ]
    );
}

/// Issue 21 (8): Helm reads an unquoted `tag: 3.10` as a number and renders it `3.1`. The locator keeps the tag as
/// written and says what Helm renders, for the policy to warn; a quoted tag, or one YAML reads as a string, is not
/// marked.
#[test]
fn helm_values_mark_an_unquoted_numeric_tag_with_what_helm_renders() {
    let text = "a:\n  image:\n    repository: python\n    tag: 3.10\nb:\n  image:\n    repository: python\n    tag: 3.12\nc:\n  image:\n    repository: python\n    tag: \"3.10\"\nd:\n  image:\n    repository: python\n    tag: 3.10-slim\ne:\n  image:\n    name: python\n    tag: 3\n";
    let scan = manifests::scan(ManifestKind::HelmValues, text, ScanInputs::default());
    let found: Vec<(&str, Option<&str>, Option<&str>)> = scan
        .images
        .iter()
        .map(|i| {
            (
                i.path.as_str(),
                i.text(),
                i.numeric_tag.as_ref().map(|n| n.rendered.as_str()),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("a.image", Some("python:3.10"), Some("3.1")),
            ("b.image", Some("python:3.12"), Some("3.12")),
            ("c.image", Some("python:3.10"), None),
            ("d.image", Some("python:3.10-slim"), None),
            ("e.image", Some("python:3"), Some("3")),
        ]
    );
}
