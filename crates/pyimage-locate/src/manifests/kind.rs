//! Which kind of manifest a file holds, from its path: the one classifier `check`, `pin` and `update` share.

/// Which kind of manifest a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ManifestKind {
    /// A Compose file.
    Compose,
    /// Kubernetes manifests (YAML; a document with a top-level `services` mapping is read as Compose).
    Kubernetes,
    /// A JSON file: a Kubernetes object when it has `apiVersion` and `kind`, otherwise not a manifest.
    Json,
    /// A GitHub Actions workflow.
    GithubWorkflow,
    /// A GitLab CI pipeline.
    GitlabCi,
    /// A Kustomize `kustomization.yaml`.
    Kustomization,
    /// A dev container definition (`devcontainer.json`).
    Devcontainer,
    /// A Google Cloud Build configuration.
    CloudBuild,
    /// A Helm chart's values.
    HelmValues,
}

impl ManifestKind {
    /// A short name for messages (`GitHub workflow`).
    pub fn describe(self) -> &'static str {
        match self {
            ManifestKind::Compose => "Compose file",
            ManifestKind::Kubernetes => "Kubernetes manifest",
            ManifestKind::Json => "Kubernetes manifest (JSON)",
            ManifestKind::GithubWorkflow => "GitHub workflow",
            ManifestKind::GitlabCi => "GitLab CI pipeline",
            ManifestKind::Kustomization => "Kustomization",
            ManifestKind::Devcontainer => "dev container",
            ManifestKind::CloudBuild => "Cloud Build configuration",
            ManifestKind::HelmValues => "Helm values",
        }
    }
}

/// The manifest kind a path suggests (`/`-separated, relative or not; ASCII case is ignored), or `None`:
///
/// | kind | names |
/// |---|---|
/// | Dev container | `.devcontainer/**/devcontainer.json`, `.devcontainer.json` |
/// | Cloud Build | `cloudbuild.yaml`, `cloudbuild.yml`, `cloudbuild.json`, `cloudbuild-*.yaml`, `cloudbuild.*.yaml` |
/// | GitLab CI | `.gitlab-ci.yml`, `.gitlab-ci.yaml`, `*.gitlab-ci.yml` |
/// | Kustomize | `kustomization.yaml`, `kustomization.yml`, `Kustomization` |
/// | GitHub Actions | `.github/workflows/*.yml`, `.github/workflows/*.yaml` |
/// | Helm values | `values.yaml`, `values.yml`, `values-*.yaml`, `values.*.yaml`, `values_*.yaml` |
/// | Compose | `compose.yaml`, `docker-compose.yml` and their variants: `compose.override.yaml`, `docker-compose-dev.yml`, `compose_ci.yaml` |
/// | Kubernetes | any other `.yaml` / `.yml` |
/// | JSON | any other `.json` (read as Kubernetes when it holds `apiVersion` and `kind`) |
pub fn kind_for_path(path: &str) -> Option<ManifestKind> {
    let lower = path.replace('\\', "/").to_ascii_lowercase();
    let mut parts = lower.rsplit('/');
    let name = parts.next().unwrap_or("");
    let parent = parts.next().unwrap_or("");
    let grandparent = parts.next().unwrap_or("");
    if name == ".devcontainer.json"
        || (name == "devcontainer.json" && lower.split('/').any(|part| part == ".devcontainer"))
    {
        return Some(ManifestKind::Devcontainer);
    }
    if name == "kustomization" {
        return Some(ManifestKind::Kustomization);
    }
    let (stem, json) = if let Some(stem) = name.strip_suffix(".json") {
        (stem, true)
    } else if let Some(stem) = name
        .strip_suffix(".yaml")
        .or_else(|| name.strip_suffix(".yml"))
    {
        (stem, false)
    } else {
        return None;
    };
    let family = |base: &str| {
        stem == base
            || stem
                .strip_prefix(base)
                .is_some_and(|rest| rest.starts_with(['.', '-', '_']))
    };
    if family("cloudbuild") {
        return Some(ManifestKind::CloudBuild);
    }
    if json {
        return Some(ManifestKind::Json);
    }
    Some(if stem == ".gitlab-ci" || stem.ends_with(".gitlab-ci") {
        ManifestKind::GitlabCi
    } else if stem == "kustomization" {
        ManifestKind::Kustomization
    } else if parent == "workflows" && grandparent == ".github" {
        ManifestKind::GithubWorkflow
    } else if family("values") {
        ManifestKind::HelmValues
    } else if family("compose") || family("docker-compose") {
        ManifestKind::Compose
    } else {
        ManifestKind::Kubernetes
    })
}

/// The manifest kind a file name suggests (see [`kind_for_path`]; directories are not known, so a workflow or a
/// `devcontainer.json` needs its path).
pub fn kind_for_file_name(file_name: &str) -> Option<ManifestKind> {
    kind_for_path(file_name)
}
