//! Registry credentials from the Docker client's configuration (`$DOCKER_CONFIG/config.json`, default
//! `~/.docker/config.json`): `auths` (base64 `user:password`), `credHelpers` (per registry) and `credsStore` (the
//! default helper). Helpers are run as `docker-credential-<name> get` with a time limit.
//!
//! Secrets never appear in `Debug`, logs or errors: [`Credential`]'s `Debug` shows only the user name.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use crate::error::RegistryError;

/// The key Docker uses for Docker Hub in `config.json` and credential helpers.
pub const DOCKER_HUB_CONFIG_KEY: &str = "https://index.docker.io/v1/";

/// A user name and secret (password or token).
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// User name (not secret).
    pub username: String,
    secret: String,
}

impl Credential {
    /// A credential from a user name and its secret (password or token).
    pub fn new(username: impl Into<String>, secret: impl Into<String>) -> Self {
        Credential {
            username: username.into(),
            secret: secret.into(),
        }
    }

    /// The secret, for building an Authorization header. Never log it.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// The value of an `Authorization: Basic …` header.
    pub fn basic_header(&self) -> String {
        let encoded = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.username, self.secret));
        format!("Basic {encoded}")
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Default, Deserialize)]
struct DockerConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default, rename = "identitytoken")]
    identity_token: Option<String>,
}

impl fmt::Debug for AuthEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthEntry(<redacted>)")
    }
}

/// Where credentials come from.
#[derive(Debug, Clone)]
pub struct CredentialStore {
    config_path: Option<PathBuf>,
    helper_timeout: Duration,
}

impl CredentialStore {
    /// Reads from `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    pub fn from_environment() -> Self {
        let dir = std::env::var_os("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker")));
        CredentialStore {
            config_path: dir.map(|dir| dir.join("config.json")),
            helper_timeout: Duration::from_secs(10),
        }
    }

    /// Reads from this config file.
    pub fn from_file(path: impl Into<PathBuf>) -> Self {
        CredentialStore {
            config_path: Some(path.into()),
            helper_timeout: Duration::from_secs(10),
        }
    }

    /// No credentials at all (anonymous only).
    pub fn anonymous() -> Self {
        CredentialStore {
            config_path: None,
            helper_timeout: Duration::from_secs(10),
        }
    }

    /// How long a credential helper may take.
    pub fn with_helper_timeout(mut self, timeout: Duration) -> Self {
        self.helper_timeout = timeout;
        self
    }

    /// The credential for a registry host (`docker.io`, `ghcr.io`, `127.0.0.1:5000`), if configured.
    pub async fn lookup(&self, registry: &str) -> Result<Option<Credential>, RegistryError> {
        let Some(path) = &self.config_path else {
            return Ok(None);
        };
        let text = match tokio::task::spawn_blocking({
            let path = path.clone();
            // A Docker config is small; a FIFO or device at its name must not block the run.
            move || pyimage_store::bounded::read_text(&path, 4 * 1024 * 1024)
        })
        .await
        {
            Ok(Ok(text)) => text,
            Ok(Err(error)) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Ok(Err(error)) => {
                return Err(RegistryError::Credentials(format!(
                    "cannot read {}: {error}",
                    path.display()
                )));
            }
            Err(error) => {
                return Err(RegistryError::Credentials(format!(
                    "reading {}: {error}",
                    path.display()
                )));
            }
        };
        let config: DockerConfigFile = serde_json::from_str(&text).map_err(|e| {
            RegistryError::Credentials(format!(
                "{}:{}:{}: not a valid docker config.json",
                path.display(),
                e.line(),
                e.column()
            ))
        })?;
        let keys = config_keys(registry);
        if let Some(helper) = keys.iter().find_map(|key| config.cred_helpers.get(key)) {
            return run_helper(helper, &keys[0], self.helper_timeout).await;
        }
        for key in &keys {
            if let Some(entry) = config.auths.get(key)
                && let Some(credential) = decode_auth_entry(entry, path, key)?
            {
                return Ok(Some(credential));
            }
        }
        if let Some(store) = &config.creds_store {
            return run_helper(store, &keys[0], self.helper_timeout).await;
        }
        Ok(None)
    }
}

/// The spellings a registry may have in config.json, the canonical one first.
fn config_keys(registry: &str) -> Vec<String> {
    if matches!(
        registry,
        "docker.io" | "index.docker.io" | "registry-1.docker.io"
    ) {
        vec![
            DOCKER_HUB_CONFIG_KEY.to_owned(),
            "index.docker.io".to_owned(),
            "docker.io".to_owned(),
            "registry-1.docker.io".to_owned(),
            "https://index.docker.io/v1".to_owned(),
        ]
    } else {
        vec![
            registry.to_owned(),
            format!("https://{registry}"),
            format!("http://{registry}"),
        ]
    }
}

fn decode_auth_entry(
    entry: &AuthEntry,
    path: &Path,
    key: &str,
) -> Result<Option<Credential>, RegistryError> {
    if let (Some(username), Some(password)) = (&entry.username, &entry.password) {
        return Ok(Some(Credential::new(username.clone(), password.clone())));
    }
    if let Some(token) = &entry.identity_token {
        return Ok(Some(Credential::new("<token>", token.clone())));
    }
    let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) else {
        return Ok(None);
    };
    let bad = || {
        RegistryError::Credentials(format!(
            "{}: auths.\"{key}\".auth is not base64 of user:password",
            path.display()
        ))
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth.trim())
        .map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (username, secret) = decoded.split_once(':').ok_or_else(bad)?;
    Ok(Some(Credential::new(username, secret)))
}

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// Runs `docker-credential-<helper> get` with the server URL on stdin, within `timeout`.
async fn run_helper(
    helper: &str,
    server: &str,
    timeout: Duration,
) -> Result<Option<Credential>, RegistryError> {
    let program = format!("docker-credential-{helper}");
    let mut child = tokio::process::Command::new(&program)
        .arg("get")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            RegistryError::Credentials(format!("cannot run credential helper {program}: {e}"))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading stdin is fine; its answer decides.
        let _ = stdin.write_all(server.as_bytes()).await;
    }
    let output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => {
            return Err(RegistryError::Credentials(format!(
                "credential helper {program} failed: {e}"
            )));
        }
        Err(_) => {
            return Err(RegistryError::Credentials(format!(
                "credential helper {program} did not answer within {}s",
                timeout.as_secs()
            )));
        }
    };
    if !output.status.success() {
        // Helpers exit non-zero with "credentials not found" when they have nothing for this server.
        return Ok(None);
    }
    let answer: HelperAnswer = serde_json::from_slice(&output.stdout).map_err(|_| {
        RegistryError::Credentials(format!(
            "credential helper {program} printed something that is not its JSON answer"
        ))
    })?;
    Ok(Some(Credential::new(answer.username, answer.secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let credential = Credential::new("alice", "hunter2");
        let shown = format!("{credential:?}");
        assert!(
            shown.contains("alice") && !shown.contains("hunter2"),
            "{shown}"
        );
    }

    #[test]
    fn docker_hub_keys_start_with_the_index_url() {
        assert_eq!(config_keys("docker.io")[0], DOCKER_HUB_CONFIG_KEY);
        assert_eq!(config_keys("ghcr.io")[0], "ghcr.io");
    }
}
