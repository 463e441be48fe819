//! `docker image inspect` JSON: the fields pyimage reads (ID, tags, digests, platform, and the configuration's
//! environment and labels, as pyimage-model's [`ImageConfig`]).

use std::collections::BTreeMap;

use pyimage_model::oci::ImageConfig;
use serde::{Deserialize, Serialize};

use crate::EngineError;

/// One image as `docker image inspect` (or `GET /images/{name}/json`) describes it. Unknown fields are ignored;
/// `null` lists are empty lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageInspect {
    /// Image ID (`sha256:…` of the config).
    #[serde(rename = "Id")]
    pub id: String,
    /// Tags naming the image (`python:3.12-slim`, …); older engines list `<none>:<none>` for an untagged one.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub repo_tags: Vec<String>,
    /// Repository digests the image was pulled by (`python@sha256:…`); empty when built or loaded locally.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub repo_digests: Vec<String>,
    /// `amd64`.
    #[serde(default)]
    pub architecture: String,
    /// `linux`.
    #[serde(default)]
    pub os: String,
    /// `v8`, when the architecture has variants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Creation time as the engine reports it.
    #[serde(default)]
    pub created: String,
    /// The image configuration (`Config`): environment and labels.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "read_config",
        serialize_with = "write_config"
    )]
    pub config: Option<ImageConfig>,
}

/// The `Config` of an inspect answer as the engine writes it (PascalCase, `null` for empty), read into the one
/// [`ImageConfig`] of pyimage-model.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawConfig {
    #[serde(default, deserialize_with = "null_as_empty")]
    env: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty_map")]
    labels: BTreeMap<String, String>,
}

fn read_config<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<ImageConfig>, D::Error> {
    Ok(Option::<RawConfig>::deserialize(d)?.map(|raw| ImageConfig {
        env: raw.env,
        labels: raw.labels,
        // The engine reports the build time beside the config (`Created`), not in it.
        created: None,
    }))
}

fn write_config<S: serde::Serializer>(
    config: &Option<ImageConfig>,
    s: S,
) -> Result<S::Ok, S::Error> {
    config
        .as_ref()
        .map(|config| RawConfig {
            env: config.env.clone(),
            labels: config.labels.clone(),
        })
        .serialize(s)
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

fn null_as_empty_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(Option::<BTreeMap<String, String>>::deserialize(d)?.unwrap_or_default())
}

impl ImageInspect {
    /// `os/architecture[/variant]`, when the engine said.
    pub fn platform(&self) -> Option<String> {
        if self.os.is_empty() || self.architecture.is_empty() {
            return None;
        }
        Some(match &self.variant {
            Some(v) if !v.is_empty() => format!("{}/{}/{v}", self.os, self.architecture),
            _ => format!("{}/{}", self.os, self.architecture),
        })
    }

    /// The value of an environment variable of the image ([`ImageConfig::env_var`]).
    pub fn env(&self, name: &str) -> Option<&str> {
        self.config.as_ref()?.env_var(name)
    }

    /// Whether `name` (as a user would type it: an ID, an ID prefix, a tag or a digest reference) names this
    /// image. References are compared in Docker's normalized form by the caller; here exact and ID matches.
    pub fn id_matches(&self, name: &str) -> bool {
        let hex = self.id.strip_prefix("sha256:").unwrap_or(&self.id);
        let wanted = name.strip_prefix("sha256:").unwrap_or(name);
        wanted.len() >= 4
            && wanted.len() <= hex.len()
            && wanted.chars().all(|c| c.is_ascii_hexdigit())
            && hex.starts_with(&wanted.to_ascii_lowercase())
    }
}

/// Parses what `docker image inspect` prints: a JSON array of images (a single object is accepted too).
/// `what` names the source for errors (`inspect.json`, `standard input`).
pub fn parse_inspect(bytes: &[u8], what: &str) -> Result<Vec<ImageInspect>, EngineError> {
    let error = |detail: String| EngineError::Inspect {
        what: what.to_owned(),
        detail,
    };
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| error(format!("invalid JSON: {e}")))?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        object @ serde_json::Value::Object(_) => vec![object],
        _ => return Err(error("expected an array of images".to_owned())),
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let image: ImageInspect =
                serde_json::from_value(item).map_err(|e| error(format!("image {}: {e}", i + 1)))?;
            if image.id.is_empty() {
                return Err(error(format!("image {}: no Id", i + 1)));
            }
            Ok(image)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_and_tolerates_nulls() {
        let json = br#"[{"Id":"sha256:abcdef0123","RepoTags":null,"RepoDigests":["python@sha256:00"],
            "Architecture":"arm64","Variant":"v8","Os":"linux","Config":{"Env":["A=1","PYTHON_VERSION=3.12.14"],"Labels":null},
            "Extra":{"x":1}}]"#;
        let images = parse_inspect(json, "x.json").expect("parses");
        assert_eq!(images.len(), 1);
        assert!(images[0].repo_tags.is_empty());
        assert_eq!(images[0].platform().as_deref(), Some("linux/arm64/v8"));
        assert_eq!(images[0].env("PYTHON_VERSION"), Some("3.12.14"));
        assert!(images[0].id_matches("abcdef"));
        assert!(images[0].id_matches("sha256:abcd"));
        assert!(!images[0].id_matches("abc"));
        assert!(!images[0].id_matches("python"));
    }

    #[test]
    fn errors_name_the_source() {
        for bad in [&b"{"[..], b"3", b"[{}]", b"[{\"Id\": 3}]"] {
            let error = parse_inspect(bad, "ci/inspect.json").expect_err("invalid");
            assert!(error.to_string().contains("ci/inspect.json"), "{error}");
        }
    }
}
