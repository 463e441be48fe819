//! Per-registry settings from the `[registries."HOST"]` tables of `pyimage.toml`: where each registry's API lives,
//! its mirrors, whether plain HTTP is allowed and which extra CA to trust. Pure data and validation; the registry
//! client (pyimage-registry) uses them to connect.
//!
//! ```toml
//! [registries."docker.io"]
//! endpoint = "http://127.0.0.1:5000"   # talk to this instead of https://registry-1.docker.io
//! insecure = true                      # allow plain HTTP for this registry and its mirrors (never implied)
//! mirrors = ["https://mirror.example"] # tried in order for pulls, then the endpoint
//! ca_file = "/etc/ssl/my-ca.pem"       # extra trusted CA for this registry
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use url::Url;

/// A `[registries]` entry that cannot be used (a URL that does not parse, plain HTTP without `insecure`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RegistryConfigError(pub String);

/// The settings of one registry host.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RegistrySettings {
    /// Base URL to use instead of the default (`https://<host>`, or `https://registry-1.docker.io` for Docker Hub).
    pub endpoint: Option<String>,
    /// Mirrors to try first, in order, for pulls.
    #[serde(default)]
    pub mirrors: Vec<String>,
    /// Allow plain `http://` for the endpoint and the mirrors.
    #[serde(default)]
    pub insecure: bool,
    /// A PEM file of extra CA certificates to trust for this registry.
    pub ca_file: Option<PathBuf>,
}

/// All registry settings, keyed by registry host as it appears in references (`docker.io`, `ghcr.io`, `host:5000`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct RegistriesConfig {
    /// Settings per host.
    pub hosts: BTreeMap<String, RegistrySettings>,
}

/// Who answers for `docker.io/library/python` when pyimage decides what is official
/// ([`RegistriesConfig::judge_of_official`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficialJudge {
    /// The registry settings to ask with: docker.io without mirrors.
    pub registries: RegistriesConfig,
    /// The docker.io endpoint that answers (`https://registry-1.docker.io` unless configured otherwise).
    pub endpoint: String,
    /// What to tell the user about it (an endpoint other than Docker Hub's own).
    pub warnings: Vec<String>,
}

/// Docker Hub's API host: references say `docker.io`, the API lives here.
pub const DOCKER_HUB_API: &str = "https://registry-1.docker.io";

/// One place a registry's content can be fetched from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Base URL without trailing slash (`https://registry-1.docker.io`).
    pub url: Url,
    /// Whether this is a mirror (true) or the registry itself (false).
    pub mirror: bool,
}

impl Endpoint {
    /// `scheme://host[:port]`, for messages and reports.
    pub fn display(&self) -> String {
        let mut text = self.url.as_str().trim_end_matches('/').to_owned();
        if text.is_empty() {
            text = self.url.to_string();
        }
        text
    }

    /// The host and port, as used for credentials lookups.
    pub fn host_port(&self) -> String {
        match (self.url.host_str(), self.url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            _ => String::new(),
        }
    }
}

impl RegistriesConfig {
    /// The settings for a registry host (defaults when not configured).
    pub fn settings(&self, registry: &str) -> RegistrySettings {
        self.hosts.get(registry).cloned().unwrap_or_default()
    }

    /// Where to fetch `registry`'s content, in order: mirrors first, then the endpoint. Plain HTTP is refused
    /// unless the registry has `insecure = true`.
    pub fn endpoints(&self, registry: &str) -> Result<Vec<Endpoint>, RegistryConfigError> {
        let settings = self.settings(registry);
        let mut endpoints = Vec::new();
        for mirror in &settings.mirrors {
            endpoints.push(Endpoint {
                url: checked_url(registry, mirror, settings.insecure, "mirror")?,
                mirror: true,
            });
        }
        let upstream = match &settings.endpoint {
            Some(endpoint) => endpoint.clone(),
            None if registry == "docker.io" => DOCKER_HUB_API.to_owned(),
            None => format!("https://{registry}"),
        };
        endpoints.push(Endpoint {
            url: checked_url(registry, &upstream, settings.insecure, "endpoint")?,
            mirror: false,
        });
        Ok(endpoints)
    }

    /// Who may vouch for "official": the settings to ask Docker Hub with, and who answers for it. A mirror of
    /// `docker.io` proves nothing about what `docker.io/library/python` serves, so docker.io's mirrors are dropped.
    /// A `docker.io` endpoint other than Docker Hub's own is refused when the configuration naming it was found in
    /// the checked tree (the repository would pick its own judge) unless `trust_endpoint`; a configuration named
    /// on purpose (`--config`, `PYIMAGE_CONFIG`) may, with a warning to show in every format. `config` is the
    /// configuration as shown in messages.
    pub fn judge_of_official(
        &self,
        config: &str,
        found_in_tree: bool,
        trust_endpoint: bool,
    ) -> Result<OfficialJudge, String> {
        let mut registries = self.clone();
        if let Some(hub) = registries.hosts.get_mut("docker.io") {
            hub.mirrors.clear();
        }
        let endpoint = registries
            .endpoints("docker.io")
            .map_err(|error| error.to_string())?
            .into_iter()
            .rfind(|e| !e.mirror)
            .map_or_else(|| DOCKER_HUB_API.to_owned(), |e| e.display());
        let mut warnings = Vec::new();
        if endpoint != DOCKER_HUB_API {
            if found_in_tree && !trust_endpoint {
                return Err(format!(
                    "{config} points docker.io at {endpoint}, not Docker Hub ({DOCKER_HUB_API}): verify does not \
                     let a pyimage.toml found in the checked directory choose who vouches for \"official\". Pass \
                     --trust-docker-io-endpoint, or name a configuration outside the tree with --config or \
                     PYIMAGE_CONFIG"
                ));
            }
            warnings.push(format!(
                "docker.io is answered by {endpoint} (set in {config}), not by Docker Hub ({DOCKER_HUB_API}): \
                 \"official\" means only that this endpoint serves the digest"
            ));
        }
        Ok(OfficialJudge {
            registries,
            endpoint,
            warnings,
        })
    }

    /// Validates every entry (URLs parse, HTTP only where allowed), so configuration errors show up at start.
    pub fn validate(&self) -> Result<(), RegistryConfigError> {
        for registry in self.hosts.keys() {
            self.endpoints(registry)?;
        }
        Ok(())
    }
}

fn checked_url(
    registry: &str,
    text: &str,
    insecure: bool,
    what: &str,
) -> Result<Url, RegistryConfigError> {
    let url = Url::parse(text).map_err(|e| {
        RegistryConfigError(format!(
            "[registries.\"{registry}\"] {what} {text:?} is not a URL: {e}"
        ))
    })?;
    match url.scheme() {
        "https" => {}
        "http" if insecure => {}
        "http" => {
            return Err(RegistryConfigError(format!(
                "[registries.\"{registry}\"] {what} {text} is plain HTTP: set insecure = true for \"{registry}\" to allow it"
            )));
        }
        other => {
            return Err(RegistryConfigError(format!(
                "[registries.\"{registry}\"] {what} {text}: scheme {other:?} is not http or https"
            )));
        }
    }
    if url.host_str().is_none() {
        return Err(RegistryConfigError(format!(
            "[registries.\"{registry}\"] {what} {text} has no host"
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_default_and_plain_http_refused() {
        let config = RegistriesConfig::default();
        let endpoints = config.endpoints("docker.io").expect("default");
        assert_eq!(endpoints[0].url.as_str(), "https://registry-1.docker.io/");
        let mut config = RegistriesConfig::default();
        config.hosts.insert(
            "docker.io".into(),
            RegistrySettings {
                endpoint: Some("http://127.0.0.1:5000".into()),
                ..Default::default()
            },
        );
        let error = config.endpoints("docker.io").expect_err("http refused");
        assert!(error.to_string().contains("insecure = true"), "{error}");
    }

    #[test]
    fn a_docker_io_mirror_never_vouches_for_official_and_a_tree_cannot_pick_the_judge() {
        let mut config = RegistriesConfig::default();
        config.hosts.insert(
            "docker.io".into(),
            RegistrySettings {
                mirrors: vec!["https://mirror.example.com".into()],
                ..Default::default()
            },
        );
        let judge = config
            .judge_of_official("pyimage.toml", true, false)
            .expect("Docker Hub itself answers");
        assert_eq!(judge.endpoint, DOCKER_HUB_API);
        assert!(judge.registries.settings("docker.io").mirrors.is_empty());
        assert!(judge.warnings.is_empty());

        config.hosts.insert(
            "docker.io".into(),
            RegistrySettings {
                endpoint: Some("https://hub.internal.example".into()),
                ..Default::default()
            },
        );
        let refused = config
            .judge_of_official("repo/pyimage.toml", true, false)
            .expect_err("a configuration found in the tree does not choose the judge");
        assert!(refused.contains("--trust-docker-io-endpoint"), "{refused}");
        let named = config
            .judge_of_official("/etc/pyimage.toml", false, false)
            .expect("named on purpose");
        assert_eq!(named.endpoint, "https://hub.internal.example");
        assert_eq!(named.warnings.len(), 1);
        let trusted = config
            .judge_of_official("repo/pyimage.toml", true, true)
            .expect("trusted on the command line");
        assert_eq!(trusted.warnings.len(), 1);
    }
}
