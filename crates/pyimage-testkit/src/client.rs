//! A small registry HTTP API client for pushing and reading back content: Bearer challenges answered through the
//! token server (with HTTP Basic credentials when it has them), blob uploads (`POST` then `PUT ?digest=`), `HEAD`
//! to skip blobs the registry already has, and manifest `PUT` with the exact media type.
//!
//! It is the seeder's client, not pyimage's: tests must not use it to check pyimage's own client.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use anyhow::{Context as _, Result, bail};
use bytes::Bytes;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Deserialize;

use crate::oci::{ACCEPT_MANIFESTS, Blob, sha256_digest};
use crate::token::Credentials;

/// A client for one registry.
#[derive(Debug)]
pub struct RegistryClient {
    http: reqwest::Client,
    base: String,
    credentials: Option<Credentials>,
    tokens: Mutex<HashMap<String, String>>,
    token_fetches: AtomicUsize,
}

/// A `WWW-Authenticate: Bearer …` challenge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Challenge {
    /// Token endpoint.
    pub realm: String,
    /// `service` parameter.
    pub service: Option<String>,
    /// `scope` parameter.
    pub scope: Option<String>,
    /// `error` parameter (`insufficient_scope`, `invalid_token`).
    pub error: Option<String>,
}

impl Challenge {
    /// Parses a `Bearer realm="…",service="…",scope="…"` header value; `None` for other schemes.
    pub fn parse(value: &str) -> Option<Self> {
        let (scheme, params) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let mut challenge = Challenge::default();
        let mut rest = params.trim();
        while !rest.is_empty() {
            let (key, after) = rest.split_once('=')?;
            let key = key.trim().trim_start_matches(',').trim();
            let (value, after) = if let Some(quoted) = after.strip_prefix('"') {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            } else {
                after.split_once(',').unwrap_or((after, ""))
            };
            match key {
                "realm" => challenge.realm = value.to_owned(),
                "service" => challenge.service = Some(value.to_owned()),
                "scope" => challenge.scope = Some(value.to_owned()),
                "error" => challenge.error = Some(value.to_owned()),
                _ => {}
            }
            rest = after.trim_start_matches([',', ' ']);
        }
        (!challenge.realm.is_empty()).then_some(challenge)
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    token: Option<String>,
    access_token: Option<String>,
}

impl RegistryClient {
    /// A client for `base_url` (`http://127.0.0.1:PORT`), logging in with `credentials` when challenged.
    pub fn new(base_url: &str, credentials: Option<Credentials>) -> Result<Self> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(32)
            .build()
            .context("building the HTTP client")?;
        Ok(RegistryClient {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            credentials,
            tokens: Mutex::new(HashMap::new()),
            token_fetches: AtomicUsize::new(0),
        })
    }

    /// The registry's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// How many tokens this client fetched.
    pub fn token_fetches(&self) -> usize {
        self.token_fetches.load(Ordering::Relaxed)
    }

    fn cached_token(&self, repository: &str) -> Option<String> {
        self.tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(repository)
            .cloned()
    }

    async fn fetch_token(&self, challenge: &Challenge, repository: &str) -> Result<String> {
        let mut request = self.http.get(&challenge.realm);
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(service) = &challenge.service {
            query.push(("service", service.clone()));
        }
        match (&self.credentials, &challenge.scope) {
            (Some(_), _) => {
                query.push(("scope", format!("repository:{repository}:pull,push,delete")))
            }
            (None, Some(scope)) => query.push(("scope", scope.clone())),
            (None, None) => {}
        }
        if let Some(credentials) = &self.credentials {
            request = request.header(AUTHORIZATION, credentials.basic_header());
        }
        let response = request
            .query(&query)
            .send()
            .await
            .with_context(|| format!("asking {} for a token", challenge.realm))?;
        self.token_fetches.fetch_add(1, Ordering::Relaxed);
        if !response.status().is_success() {
            bail!(
                "token server {} answered {}",
                challenge.realm,
                response.status()
            );
        }
        let body: TokenResponse = response
            .json()
            .await
            .context("reading the token response")?;
        let token = body
            .token
            .or(body.access_token)
            .context("token response has no token")?;
        self.tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(repository.to_owned(), token.clone());
        Ok(token)
    }

    /// Sends a request about `repository`, answering one Bearer challenge if the registry asks.
    async fn send(
        &self,
        repository: &str,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response> {
        let mut token = self.cached_token(repository);
        for attempt in 0..2 {
            let mut request = build(&self.http);
            if let Some(token) = &token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.context("sending a registry request")?;
            if response.status() != StatusCode::UNAUTHORIZED || attempt == 1 {
                return Ok(response);
            }
            let Some(challenge) = response
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|value| value.to_str().ok())
                .and_then(Challenge::parse)
            else {
                return Ok(response);
            };
            token = Some(self.fetch_token(&challenge, repository).await?);
        }
        bail!("unreachable: the retry loop returns")
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Whether the registry has a blob in `repository` (`HEAD /v2/<repo>/blobs/<digest>`).
    pub async fn blob_exists(&self, repository: &str, digest: &str) -> Result<bool> {
        let url = self.url(&format!("/v2/{repository}/blobs/{digest}"));
        let response = self.send(repository, |http| http.head(&url)).await?;
        match response.status() {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            status => bail!("HEAD {url} answered {status}"),
        }
    }

    /// Uploads a blob (`POST /v2/<repo>/blobs/uploads/`, then `PUT <location>&digest=…` with the bytes).
    pub async fn push_blob(&self, repository: &str, blob: &Blob) -> Result<()> {
        let start = self.url(&format!("/v2/{repository}/blobs/uploads/"));
        let response = self.send(repository, |http| http.post(&start)).await?;
        if response.status() != StatusCode::ACCEPTED {
            bail!(
                "POST {start} answered {}: {}",
                response.status(),
                body_text(response).await
            );
        }
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .context("upload started without a Location")?;
        let location = if location.starts_with('/') {
            self.url(location)
        } else {
            location.to_owned()
        };
        let separator = if location.contains('?') { '&' } else { '?' };
        let finish = format!("{location}{separator}digest={}", blob.digest);
        let bytes = blob.bytes.clone();
        let response = self
            .send(repository, |http| {
                http.put(&finish)
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .body(bytes.clone())
            })
            .await?;
        if response.status() != StatusCode::CREATED {
            bail!(
                "PUT blob {} answered {}: {}",
                blob.digest,
                response.status(),
                body_text(response).await
            );
        }
        Ok(())
    }

    /// Pushes a manifest under a tag or digest with its exact media type; returns the digest the registry reports.
    pub async fn push_manifest(
        &self,
        repository: &str,
        reference: &str,
        manifest: &Blob,
    ) -> Result<String> {
        let url = self.url(&format!("/v2/{repository}/manifests/{reference}"));
        let bytes = manifest.bytes.clone();
        let response = self
            .send(repository, |http| {
                http.put(&url)
                    .header(CONTENT_TYPE, &manifest.media_type)
                    .body(bytes.clone())
            })
            .await?;
        if response.status() != StatusCode::CREATED {
            bail!(
                "PUT manifest {repository}:{reference} answered {}: {}",
                response.status(),
                body_text(response).await
            );
        }
        let digest = response
            .headers()
            .get("docker-content-digest")
            .and_then(|value| value.to_str().ok())
            .map_or_else(|| manifest.digest.clone(), str::to_owned);
        if digest != manifest.digest {
            bail!(
                "registry stored {repository}:{reference} as {digest}, expected {}",
                manifest.digest
            );
        }
        Ok(digest)
    }

    /// Fetches a manifest by tag or digest (all four manifest media types accepted), checking its digest when
    /// fetched by digest.
    pub async fn get_manifest(&self, repository: &str, reference: &str) -> Result<Blob> {
        let url = self.url(&format!("/v2/{repository}/manifests/{reference}"));
        let response = self
            .send(repository, |http| {
                http.get(&url).header(ACCEPT, ACCEPT_MANIFESTS)
            })
            .await?;
        if response.status() != StatusCode::OK {
            bail!(
                "GET {url} answered {}: {}",
                response.status(),
                body_text(response).await
            );
        }
        let media_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = response.bytes().await.context("reading a manifest")?;
        let blob = Blob::new(&media_type, bytes);
        if reference.starts_with("sha256:") && blob.digest != reference {
            bail!("GET {url} returned content with digest {}", blob.digest);
        }
        Ok(blob)
    }

    /// Fetches a blob, checking its digest.
    pub async fn get_blob(&self, repository: &str, digest: &str) -> Result<Bytes> {
        let url = self.url(&format!("/v2/{repository}/blobs/{digest}"));
        let response = self.send(repository, |http| http.get(&url)).await?;
        if response.status() != StatusCode::OK {
            bail!("GET {url} answered {}", response.status());
        }
        let bytes = response.bytes().await.context("reading a blob")?;
        if sha256_digest(&bytes) != digest {
            bail!("GET {url} returned content with another digest");
        }
        Ok(bytes)
    }

    /// Deletes a manifest by digest (which removes every tag pointing at it).
    pub async fn delete_manifest(&self, repository: &str, digest: &str) -> Result<()> {
        let url = self.url(&format!("/v2/{repository}/manifests/{digest}"));
        let response = self
            .send(repository, |http| http.request(Method::DELETE, &url))
            .await?;
        if response.status() != StatusCode::ACCEPTED {
            bail!("DELETE {url} answered {}", response.status());
        }
        Ok(())
    }

    /// All tags of a repository (following `Link` pages).
    pub async fn tags(&self, repository: &str) -> Result<Vec<String>> {
        #[derive(Deserialize)]
        struct TagList {
            tags: Option<Vec<String>>,
        }
        let mut tags = Vec::new();
        let mut next = Some(format!("/v2/{repository}/tags/list?n=1000"));
        while let Some(path) = next.take() {
            let url = self.url(&path);
            let response = self.send(repository, |http| http.get(&url)).await?;
            if response.status() != StatusCode::OK {
                bail!("GET {url} answered {}", response.status());
            }
            next = response
                .headers()
                .get("link")
                .and_then(|value| value.to_str().ok())
                .and_then(|link| Some(link.split_once('<')?.1.split_once('>')?.0.to_owned()));
            let page: TagList = response.json().await.context("reading a tag list")?;
            tags.extend(page.tags.unwrap_or_default());
        }
        Ok(tags)
    }
}

async fn body_text(response: Response) -> String {
    response.text().await.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse() {
        let challenge = Challenge::parse(
            r#"Bearer realm="http://127.0.0.1:1/token",service="registry.docker.io",scope="repository:library/python:pull",error="insufficient_scope""#,
        );
        assert_eq!(
            challenge,
            Some(Challenge {
                realm: "http://127.0.0.1:1/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/python:pull".into()),
                error: Some("insufficient_scope".into()),
            })
        );
        assert_eq!(Challenge::parse("Basic realm=\"x\""), None);
    }
}
