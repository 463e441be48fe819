//! Which kind of file a path is: a Dockerfile, or a manifest of one of the [`ManifestKind`]s. The one classifier
//! `check`, `pin`, `update` and the file walk share.

use crate::dockerfile;
use crate::manifests::{self, ManifestKind};

/// Which kind of file is read: a Dockerfile, or a manifest of some [`ManifestKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// A Dockerfile or Containerfile.
    Dockerfile,
    /// A Compose file, Kubernetes manifests, a CI pipeline…
    Manifest(ManifestKind),
}

impl FileKind {
    /// The kind a file name suggests (see [`FileKind::for_path`]; directories are not known, so a workflow or a
    /// `devcontainer.json` needs its path).
    pub fn for_file_name(file_name: &str) -> Option<Self> {
        Self::for_path(file_name)
    }

    /// The kind a path suggests: a Dockerfile name ([`dockerfile::is_dockerfile_name`]), else
    /// [`manifests::kind_for_path`].
    pub fn for_path(path: &str) -> Option<Self> {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        if dockerfile::is_dockerfile_name(name) {
            return Some(FileKind::Dockerfile);
        }
        manifests::kind_for_path(path).map(FileKind::Manifest)
    }

    /// The manifest kind, for every kind but Dockerfiles.
    pub fn manifest(self) -> Option<ManifestKind> {
        match self {
            FileKind::Dockerfile => None,
            FileKind::Manifest(kind) => Some(kind),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_names_first_then_manifest_paths() {
        assert_eq!(FileKind::for_path("Dockerfile"), Some(FileKind::Dockerfile));
        assert_eq!(
            FileKind::for_path("build/app.Containerfile"),
            FileKind::for_file_name("app.Containerfile")
        );
        assert_eq!(
            FileKind::for_path("deploy/compose.yaml"),
            Some(FileKind::Manifest(ManifestKind::Compose))
        );
        assert_eq!(FileKind::for_path("README.md"), None);
        // Issue 21: every Compose naming is Compose, not only `docker-compose.<x>.yml`.
        for compose in [
            "docker-compose-dev.yml",
            "docker-compose_prod.yaml",
            "compose-dev.yaml",
            "deploy/compose.ci.yml",
        ] {
            assert_eq!(
                FileKind::for_path(compose),
                Some(FileKind::Manifest(ManifestKind::Compose)),
                "{compose}"
            );
        }
        for dockerfile in ["Dockerfile-dev", "build/Dockerfile_dev"] {
            assert_eq!(FileKind::for_path(dockerfile), Some(FileKind::Dockerfile));
        }
        // The kind comes from the whole path: a workflow or dev container named by its absolute path.
        assert_eq!(
            FileKind::for_path("/home/me/repo/.github/workflows/ci.yml"),
            Some(FileKind::Manifest(ManifestKind::GithubWorkflow))
        );
        assert_eq!(
            FileKind::for_path("/home/me/repo/.devcontainer/devcontainer.json"),
            Some(FileKind::Manifest(ManifestKind::Devcontainer))
        );
        assert_eq!(FileKind::Dockerfile.manifest(), None);
        assert_eq!(
            FileKind::Manifest(ManifestKind::HelmValues).manifest(),
            Some(ManifestKind::HelmValues)
        );
    }
}
