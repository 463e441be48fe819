//! The HTTP side of the registry client: endpoints and mirrors, the `/v2/` challenge, bearer tokens, retries with
//! backoff (5xx, 429 with `Retry-After`), time limits, size caps and digest verification of every body.
//!
//! Request economy: one `GET /v2/` per endpoint and one token per (realm, scope, credential) for the life of the
//! client, whatever the concurrency (both are single-flight), then one request per manifest HEAD.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pyimage_model::Digest;
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, RETRY_AFTER, WWW_AUTHENTICATE,
};
use reqwest::{Method, Response, StatusCode};
use sha2::{Digest as _, Sha256};
use tokio::sync::Mutex;

use crate::auth::{Challenge, Token, TokenResponse, parse_challenge};
use crate::config::{Endpoint, RegistriesConfig};
use crate::credentials::{Credential, CredentialStore};
use crate::error::RegistryError;
use crate::manifest::{MANIFEST_ACCEPT, is_manifest_media_type};

/// Limits and timing of the client.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Time limit for one request, from connecting to the last body byte.
    pub request_timeout: Duration,
    /// Time limit for establishing a connection.
    pub connect_timeout: Duration,
    /// Retries after the first attempt for 5xx, 429 and transport errors.
    pub max_retries: u32,
    /// First backoff delay; doubles per retry.
    pub backoff: Duration,
    /// The longest `Retry-After` we wait; a longer one fails at once with the registry's number.
    pub max_retry_after: Duration,
    /// Largest manifest accepted (4 MiB, as containerd).
    pub manifest_limit: u64,
    /// Largest token-server answer and tags page accepted.
    pub small_body_limit: u64,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_retries: 3,
            backoff: Duration::from_millis(250),
            max_retry_after: Duration::from_secs(30),
            manifest_limit: 4 * 1024 * 1024,
            small_body_limit: 4 * 1024 * 1024,
        }
    }
}

/// Requests made so far, by kind (for tests of request economy and for `--verbose`).
#[derive(Debug, Default)]
pub struct RequestCounters {
    /// `GET /v2/`.
    pub pings: AtomicU64,
    /// Token server requests.
    pub tokens: AtomicU64,
    /// Manifest HEADs.
    pub manifest_heads: AtomicU64,
    /// Manifest GETs.
    pub manifest_gets: AtomicU64,
    /// Blob GETs.
    pub blob_gets: AtomicU64,
    /// `tags/list` pages.
    pub tag_pages: AtomicU64,
    /// Retried attempts (5xx, 429, transport errors, refreshed tokens).
    pub retries: AtomicU64,
}

/// A copy of [`RequestCounters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct RequestStats {
    /// `GET /v2/`.
    pub pings: u64,
    /// Token server requests.
    pub tokens: u64,
    /// Manifest HEADs.
    pub manifest_heads: u64,
    /// Manifest GETs.
    pub manifest_gets: u64,
    /// Blob GETs.
    pub blob_gets: u64,
    /// `tags/list` pages.
    pub tag_pages: u64,
    /// Attempts repeated after a 5xx, a 429 or a transport error.
    pub retries: u64,
}

impl RequestCounters {
    fn snapshot(&self) -> RequestStats {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        RequestStats {
            pings: get(&self.pings),
            tokens: get(&self.tokens),
            manifest_heads: get(&self.manifest_heads),
            manifest_gets: get(&self.manifest_gets),
            blob_gets: get(&self.blob_gets),
            tag_pages: get(&self.tag_pages),
            retries: get(&self.retries),
        }
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TokenKey {
    realm: String,
    service: Option<String>,
    scope: String,
    user: Option<String>,
}

struct CachedToken {
    token: Token,
    valid_until: Instant,
}

type Slot<T> = Arc<Mutex<Option<T>>>;

/// Which repository, at which endpoint of which registry, a request is about.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    /// The registry host as references name it (`docker.io`).
    pub registry: &'a str,
    /// The endpoint (registry or mirror URL) the request goes to.
    pub endpoint: &'a Endpoint,
    /// The repository path (`library/python`).
    pub repository: &'a str,
}

impl<'a> Target<'a> {
    pub(crate) fn new(registry: &'a str, endpoint: &'a Endpoint, repository: &'a str) -> Self {
        Target {
            registry,
            endpoint,
            repository,
        }
    }
}

/// The registry client. Cheap to clone; clones share caches and counters.
#[derive(Clone)]
pub struct RegistryClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: RegistriesConfig,
    credentials: CredentialStore,
    options: ClientOptions,
    counters: RequestCounters,
    http: std::sync::Mutex<HashMap<String, reqwest::Client>>,
    challenges: std::sync::Mutex<HashMap<String, Slot<Challenge>>>,
    tokens: std::sync::Mutex<HashMap<TokenKey, Slot<CachedToken>>>,
    credentials_cache: std::sync::Mutex<HashMap<String, Slot<Option<Credential>>>>,
}

/// What a manifest HEAD (or GET) told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestHead {
    /// The manifest digest (from `Docker-Content-Digest`, or hashed from the body).
    pub digest: Digest,
    /// Its media type, from `Content-Type` (`application/vnd.oci.image.index.v1+json`, …).
    pub media_type: String,
    /// Its size in bytes, from `Content-Length` or the body, when known.
    pub size: Option<u64>,
    /// The endpoint that answered.
    pub endpoint: Endpoint,
}

/// A manifest body whose sha256 was checked against the registry's header and the reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedManifest {
    /// What the registry said, with the verified digest.
    pub head: ManifestHead,
    /// The manifest exactly as received, whose sha256 is `head.digest`.
    pub body: Vec<u8>,
}

/// Installs the process-wide rustls crypto provider (aws-lc-rs). Safe to call more than once.
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which is what we want.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

fn sha256_digest(bytes: &[u8]) -> Digest {
    let hex = hex::encode(Sha256::digest(bytes));
    // A sha256 hex string is always a valid digest.
    Digest::sha256_from_hex(&hex).unwrap_or_else(|_| unreachable!("sha256 hex is a valid digest"))
}

impl RegistryClient {
    /// A client for these registries. Fails on invalid configuration (plain HTTP without `insecure`, …).
    pub fn new(
        config: RegistriesConfig,
        credentials: CredentialStore,
        options: ClientOptions,
    ) -> Result<Self, RegistryError> {
        install_crypto_provider();
        config.validate()?;
        Ok(RegistryClient {
            inner: Arc::new(Inner {
                config,
                credentials,
                options,
                counters: RequestCounters::default(),
                http: std::sync::Mutex::new(HashMap::new()),
                challenges: std::sync::Mutex::new(HashMap::new()),
                tokens: std::sync::Mutex::new(HashMap::new()),
                credentials_cache: std::sync::Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Requests made so far.
    pub fn stats(&self) -> RequestStats {
        self.inner.counters.snapshot()
    }

    /// The configuration in use.
    pub fn config(&self) -> &RegistriesConfig {
        &self.inner.config
    }

    pub(crate) fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    pub(crate) fn counters(&self) -> &RequestCounters {
        &self.inner.counters
    }

    /// Where to fetch a registry's content, mirrors first.
    pub fn endpoints(&self, registry: &str) -> Result<Vec<Endpoint>, RegistryError> {
        Ok(self.inner.config.endpoints(registry)?)
    }

    fn http_client(&self, registry: &str) -> Result<reqwest::Client, RegistryError> {
        let mut clients = self
            .inner
            .http
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(client) = clients.get(registry) {
            return Ok(client.clone());
        }
        let settings = self.inner.config.settings(registry);
        let mut builder = reqwest::Client::builder()
            .timeout(self.inner.options.request_timeout)
            .connect_timeout(self.inner.options.connect_timeout)
            .user_agent(concat!("pyimage/", env!("CARGO_PKG_VERSION")))
            // reqwest drops Authorization when a redirect leaves the host; we also never follow more than 5.
            .redirect(reqwest::redirect::Policy::limited(5));
        if let Some(ca_file) = &settings.ca_file {
            let pem =
                pyimage_store::bounded::read_regular(ca_file, CA_FILE_LIMIT).map_err(|e| {
                    RegistryError::Config(format!(
                        "[registries.\"{registry}\"] ca_file {}: {e}",
                        ca_file.display()
                    ))
                })?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                RegistryError::Config(format!(
                    "[registries.\"{registry}\"] ca_file {}: {e}",
                    ca_file.display()
                ))
            })?;
            if certificates.is_empty() {
                return Err(RegistryError::Config(format!(
                    "[registries.\"{registry}\"] ca_file {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                    ca_file.display()
                )));
            }
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let client = builder.build().map_err(|e| {
            RegistryError::Config(format!("cannot build an HTTP client for {registry}: {e}"))
        })?;
        clients.insert(registry.to_owned(), client.clone());
        Ok(client)
    }

    /// Fetches a public file over HTTP(S) with this client's timeouts and user agent, without credentials, reading
    /// at most `limit` bytes (more is an error, not a truncation). For public records such as the official-images
    /// `library/python` file; plain `http://` only for a host whose `[registries]` entry is `insecure`.
    pub async fn fetch_public_text(&self, url: &str, limit: u64) -> Result<String, RegistryError> {
        let parsed = url::Url::parse(url)
            .map_err(|e| RegistryError::Config(format!("{url:?} is not a URL: {e}")))?;
        let host = match (parsed.host_str(), parsed.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => return Err(RegistryError::Config(format!("{url} has no host"))),
        };
        match parsed.scheme() {
            "https" => {}
            "http" if self.inner.config.settings(&host).insecure => {}
            _ => {
                return Err(RegistryError::Config(format!(
                    "{url}: only https:// (or http:// for a host configured with insecure = true)"
                )));
            }
        }
        let endpoint = Endpoint {
            url: parsed.clone(),
            mirror: false,
        };
        let response = self
            .http_client(&host)?
            .get(parsed)
            .send()
            .await
            .map_err(|error| RegistryError::Unreachable {
                endpoint: endpoint.display(),
                detail: transport_detail(&error),
            })?;
        if !response.status().is_success() {
            return Err(RegistryError::Status {
                endpoint: endpoint.display(),
                status: response.status().as_u16(),
                what: url.to_owned(),
            });
        }
        let body = read_limited(
            response,
            limit,
            &endpoint,
            url,
            self.inner.options.request_timeout,
        )
        .await?;
        String::from_utf8(body).map_err(|e| RegistryError::InvalidManifest {
            endpoint: endpoint.display(),
            what: url.to_owned(),
            detail: format!("not UTF-8 text: {e}"),
        })
    }

    async fn credential(&self, host: &str) -> Result<Option<Credential>, RegistryError> {
        let slot = {
            let mut slots = self
                .inner
                .credentials_cache
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            slots.entry(host.to_owned()).or_default().clone()
        };
        let mut guard = slot.lock().await;
        if let Some(found) = guard.as_ref() {
            return Ok(found.clone());
        }
        let found = self.inner.credentials.lookup(host).await?;
        *guard = Some(found.clone());
        Ok(found)
    }

    /// The challenge of an endpoint's `GET /v2/`, fetched once.
    async fn challenge(
        &self,
        registry: &str,
        endpoint: &Endpoint,
    ) -> Result<Challenge, RegistryError> {
        let key = endpoint.display();
        let slot = {
            let mut slots = self
                .inner
                .challenges
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            slots.entry(key.clone()).or_default().clone()
        };
        let mut guard = slot.lock().await;
        if let Some(challenge) = guard.as_ref() {
            return Ok(challenge.clone());
        }
        let url = join(endpoint, "/v2/")?;
        bump(&self.inner.counters.pings);
        let response = self
            .send_with_retries(registry, endpoint, "the registry API (/v2/)", || {
                Ok(self.http_client(registry)?.get(url.clone()))
            })
            .await?;
        let challenge = match response.status() {
            status if status.is_success() => Challenge::None,
            StatusCode::UNAUTHORIZED => challenge_of(endpoint, response.headers())?,
            StatusCode::NOT_FOUND => {
                return Err(RegistryError::NotFound {
                    endpoint: key,
                    what: "the registry API (/v2/)".to_owned(),
                });
            }
            status => {
                return Err(RegistryError::Status {
                    endpoint: key,
                    status: status.as_u16(),
                    what: "the registry API (/v2/)".to_owned(),
                });
            }
        };
        *guard = Some(challenge.clone());
        Ok(challenge)
    }

    /// The `Authorization` value for pulling `repository` at `endpoint`, if any is needed.
    async fn authorization(
        &self,
        registry: &str,
        endpoint: &Endpoint,
        repository: &str,
        refresh: bool,
    ) -> Result<Option<String>, RegistryError> {
        let challenge = self.challenge(registry, endpoint).await?;
        let credential_host = if endpoint.mirror {
            endpoint.host_port()
        } else {
            registry.to_owned()
        };
        match challenge {
            Challenge::None => Ok(None),
            Challenge::Basic => Ok(self
                .credential(&credential_host)
                .await?
                .map(|c| c.basic_header())),
            Challenge::Bearer { realm, service } => {
                let credential = self.credential(&credential_host).await?;
                let key = TokenKey {
                    realm: realm.clone(),
                    service: service.clone(),
                    scope: format!("repository:{repository}:pull"),
                    user: credential.as_ref().map(|c| c.username.clone()),
                };
                let token = self
                    .token(registry, endpoint, key, credential.as_ref(), refresh)
                    .await?;
                Ok(Some(token.header()))
            }
        }
    }

    async fn token(
        &self,
        registry: &str,
        endpoint: &Endpoint,
        key: TokenKey,
        credential: Option<&Credential>,
        refresh: bool,
    ) -> Result<Token, RegistryError> {
        let slot = {
            let mut slots = self.inner.tokens.lock().unwrap_or_else(|p| p.into_inner());
            slots.entry(key.clone()).or_default().clone()
        };
        let mut guard = slot.lock().await;
        if !refresh
            && let Some(cached) = guard.as_ref()
            && cached.valid_until > Instant::now()
        {
            return Ok(cached.token.clone());
        }
        let realm_for_errors = key.realm.split('?').next().unwrap_or_default().to_owned();
        let mut url = url::Url::parse(&key.realm).map_err(|e| RegistryError::Token {
            realm: realm_for_errors.clone(),
            detail: format!("realm is not a URL: {e}"),
        })?;
        // A registry reached over HTTPS must not make us send credentials (or take tokens) in clear text: a
        // plain-HTTP realm is only followed for a registry configured `insecure = true`.
        let insecure = self.inner.config.settings(registry).insecure
            || (endpoint.mirror && self.inner.config.settings(&endpoint.host_port()).insecure);
        if url.scheme() != "https" && !insecure {
            return Err(RegistryError::Token {
                realm: realm_for_errors,
                detail: format!(
                    "{} asks for a token over plain HTTP; refused (credentials would travel in clear text). \
                     Only a registry configured with insecure = true may use an http:// realm",
                    endpoint.display()
                ),
            });
        }
        {
            let mut query = url.query_pairs_mut();
            if let Some(service) = &key.service {
                query.append_pair("service", service);
            }
            query.append_pair("scope", &key.scope);
        }
        bump(&self.inner.counters.tokens);
        let started = Instant::now();
        let response = self
            .send_with_retries(registry, endpoint, "a token", || {
                let request = self.http_client(registry)?.get(url.clone());
                Ok(match credential {
                    Some(c) => request.header(AUTHORIZATION, c.basic_header()),
                    None => request,
                })
            })
            .await
            .map_err(|e| match e {
                RegistryError::Unreachable { detail, .. } => RegistryError::Token {
                    realm: realm_for_errors.clone(),
                    detail,
                },
                other => other,
            })?;
        let status = response.status();
        if !status.is_success() {
            let detail = if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
                format!(
                    "HTTP {}: credentials refused (log in with `docker login {registry}`)",
                    status.as_u16()
                )
            } else {
                format!("HTTP {}", status.as_u16())
            };
            return Err(RegistryError::Token {
                realm: realm_for_errors,
                detail,
            });
        }
        let body = read_limited(
            response,
            self.inner.options.small_body_limit,
            endpoint,
            "a token",
            self.inner.options.request_timeout,
        )
        .await?;
        let parsed: TokenResponse =
            serde_json::from_slice(&body).map_err(|e| RegistryError::Token {
                realm: realm_for_errors.clone(),
                detail: format!("the answer is not token JSON: {e}"),
            })?;
        let (token, lifetime) = parsed.into_token(&realm_for_errors)?;
        // Renew a little early so a token never expires between check and use.
        let margin = Duration::from_secs(lifetime.min(30) / 3);
        *guard = Some(CachedToken {
            token: token.clone(),
            valid_until: started + Duration::from_secs(lifetime) - margin,
        });
        Ok(token)
    }

    /// Sends a request with retries: 5xx, 429 (honouring `Retry-After`) and transport errors are retried with
    /// exponential backoff. The returned response may still be an error status.
    async fn send_with_retries(
        &self,
        registry: &str,
        endpoint: &Endpoint,
        what: &str,
        build: impl Fn() -> Result<reqwest::RequestBuilder, RegistryError>,
    ) -> Result<Response, RegistryError> {
        let options = &self.inner.options;
        let mut attempt = 0u32;
        loop {
            let outcome = build()?.send().await;
            let retry_delay = match &outcome {
                Ok(response) if response.status() == StatusCode::TOO_MANY_REQUESTS => {
                    let asked = retry_after(response.headers());
                    if let Some(asked) = asked
                        && asked > options.max_retry_after
                    {
                        return Err(RegistryError::RateLimited {
                            endpoint: endpoint.display(),
                            retry_after: Some(asked.as_secs()),
                        });
                    }
                    Some(asked.unwrap_or(options.backoff * 2u32.pow(attempt)))
                }
                Ok(response) if response.status().is_server_error() => {
                    Some(options.backoff * 2u32.pow(attempt))
                }
                Ok(_) => None,
                Err(error) if error.is_timeout() => {
                    return Err(RegistryError::Timeout {
                        endpoint: endpoint.display(),
                        seconds: options.request_timeout.as_secs(),
                        what: what.to_owned(),
                    });
                }
                Err(_) => Some(options.backoff * 2u32.pow(attempt)),
            };
            match retry_delay {
                Some(delay) if attempt < options.max_retries => {
                    attempt += 1;
                    bump(&self.inner.counters.retries);
                    tracing::debug!(registry, what, attempt, ?delay, "retrying");
                    tokio::time::sleep(delay).await;
                }
                _ => {
                    return match outcome {
                        Ok(response) if response.status() == StatusCode::TOO_MANY_REQUESTS => {
                            Err(RegistryError::RateLimited {
                                endpoint: endpoint.display(),
                                retry_after: retry_after(response.headers()).map(|d| d.as_secs()),
                            })
                        }
                        Ok(response) => Ok(response),
                        Err(error) => Err(RegistryError::Unreachable {
                            endpoint: endpoint.display(),
                            detail: transport_detail(&error),
                        }),
                    };
                }
            }
        }
    }

    /// An authenticated request for `repository` content at one endpoint. A 401 gets one retry with a fresh token
    /// (and the challenge the 401 carried); a second 401 is an error, so a registry that always says 401 cannot
    /// loop us.
    pub(crate) async fn send_authenticated(
        &self,
        target: Target<'_>,
        method: Method,
        url: &url::Url,
        accept: Option<&str>,
        what: &str,
    ) -> Result<Response, RegistryError> {
        let Target {
            registry,
            endpoint,
            repository,
        } = target;
        let mut refreshed = false;
        loop {
            let authorization = self
                .authorization(registry, endpoint, repository, refreshed)
                .await?;
            let response = self
                .send_with_retries(registry, endpoint, what, || {
                    let mut request = self
                        .http_client(registry)?
                        .request(method.clone(), url.clone());
                    if let Some(accept) = accept {
                        request = request.header(ACCEPT, accept);
                    }
                    if let Some(value) = &authorization {
                        request = request.header(AUTHORIZATION, value);
                    }
                    Ok(request)
                })
                .await?;
            match response.status() {
                StatusCode::UNAUTHORIZED if !refreshed => {
                    refreshed = true;
                    bump(&self.inner.counters.retries);
                    // The registry may have changed its mind about the scheme: take the new challenge.
                    if let Ok(challenge) = challenge_of(endpoint, response.headers()) {
                        let slot = {
                            let mut slots = self
                                .inner
                                .challenges
                                .lock()
                                .unwrap_or_else(|p| p.into_inner());
                            slots.entry(endpoint.display()).or_default().clone()
                        };
                        *slot.lock().await = Some(challenge);
                    }
                }
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    return Err(RegistryError::Unauthorized {
                        endpoint: endpoint.display(),
                        what: what.to_owned(),
                        status: response.status().as_u16(),
                    });
                }
                _ => return Ok(response),
            }
        }
    }

    /// Sends a manifest HEAD or GET (counted) and checks its status; returns the response and what was asked for.
    async fn manifest_request(
        &self,
        target: Target<'_>,
        reference: &str,
        method: Method,
    ) -> Result<(Response, String), RegistryError> {
        let repository = target.repository;
        // A digest is written `name@sha256:…`, a tag `name:tag`, as in references.
        let separator = if reference.contains(':') { '@' } else { ':' };
        let what = format!("manifest {repository}{separator}{reference}");
        let url = join(
            target.endpoint,
            &format!("/v2/{repository}/manifests/{reference}"),
        )?;
        let counter = if method == Method::HEAD {
            &self.inner.counters.manifest_heads
        } else {
            &self.inner.counters.manifest_gets
        };
        bump(counter);
        let response = self
            .send_authenticated(target, method, &url, Some(MANIFEST_ACCEPT), &what)
            .await?;
        Ok((expect_success(response, target.endpoint, &what)?, what))
    }

    /// HEAD a manifest by tag or digest at one endpoint.
    pub(crate) async fn head_manifest_at(
        &self,
        registry: &str,
        endpoint: &Endpoint,
        repository: &str,
        reference: &str,
    ) -> Result<ManifestHead, RegistryError> {
        let target = Target::new(registry, endpoint, repository);
        let (response, what) = self
            .manifest_request(target, reference, Method::HEAD)
            .await?;
        let media_type = media_type_of(response.headers(), endpoint, &what)?;
        let size = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        if let Some(size) = size
            && size > self.inner.options.manifest_limit
        {
            return Err(RegistryError::TooLarge {
                endpoint: endpoint.display(),
                what,
                limit: self.inner.options.manifest_limit,
            });
        }
        match header_digest(response.headers(), endpoint, &what)? {
            Some(digest) => Ok(ManifestHead {
                digest,
                media_type,
                size,
                endpoint: endpoint.clone(),
            }),
            // Without Docker-Content-Digest the only way to learn the digest is to hash the body.
            None => Ok(self
                .get_manifest_at(registry, endpoint, repository, reference, None)
                .await?
                .head),
        }
    }

    /// GET a manifest and verify its bytes: sha256(body) must equal `Docker-Content-Digest` (when sent) and the
    /// digest asked for (when `reference` is a digest or `expected` is given).
    pub(crate) async fn get_manifest_at(
        &self,
        registry: &str,
        endpoint: &Endpoint,
        repository: &str,
        reference: &str,
        expected: Option<&Digest>,
    ) -> Result<VerifiedManifest, RegistryError> {
        let target = Target::new(registry, endpoint, repository);
        let (response, what) = self
            .manifest_request(target, reference, Method::GET)
            .await?;
        let media_type = media_type_of(response.headers(), endpoint, &what)?;
        let claimed = header_digest(response.headers(), endpoint, &what)?;
        let body = read_limited(
            response,
            self.inner.options.manifest_limit,
            endpoint,
            &what,
            self.inner.options.request_timeout,
        )
        .await?;
        let actual = sha256_digest(&body);
        let mismatch = |detail: String| RegistryError::DigestMismatch {
            endpoint: endpoint.display(),
            what: what.clone(),
            detail,
        };
        if let Some(claimed) = &claimed
            && *claimed != actual
        {
            return Err(mismatch(format!(
                "body hashes to {actual}, Docker-Content-Digest says {claimed}"
            )));
        }
        let asked = Digest::parse(reference).ok();
        for wanted in [asked.as_ref(), expected].into_iter().flatten() {
            if *wanted != actual {
                return Err(mismatch(format!(
                    "asked for {wanted}, body hashes to {actual}"
                )));
            }
        }
        Ok(VerifiedManifest {
            head: ManifestHead {
                digest: actual,
                media_type,
                size: Some(body.len() as u64),
                endpoint: endpoint.clone(),
            },
            body,
        })
    }

    /// GET `url` of `repository` at one endpoint, authenticated; a success's body, at most `limit` bytes.
    pub(crate) async fn get_limited_at(
        &self,
        registry: &str,
        endpoint: &Endpoint,
        repository: &str,
        url: &url::Url,
        limit: u64,
        what: &str,
    ) -> Result<Vec<u8>, RegistryError> {
        let response = self
            .send_authenticated(
                Target::new(registry, endpoint, repository),
                Method::GET,
                url,
                None,
                what,
            )
            .await?;
        let response = expect_success(response, endpoint, what)?;
        read_limited(
            response,
            limit,
            endpoint,
            what,
            self.inner.options.request_timeout,
        )
        .await
    }

    /// GET a blob by digest at one endpoint and verify it (attestation statements, configs).
    pub(crate) async fn get_blob_at(
        &self,
        registry: &str,
        endpoint: &Endpoint,
        repository: &str,
        digest: &Digest,
        limit: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        let what = format!("blob {repository}@{digest}");
        let url = join(endpoint, &format!("/v2/{repository}/blobs/{digest}"))?;
        bump(&self.inner.counters.blob_gets);
        let body = self
            .get_limited_at(registry, endpoint, repository, &url, limit, &what)
            .await?;
        let actual = sha256_digest(&body);
        if actual != *digest {
            return Err(RegistryError::DigestMismatch {
                endpoint: endpoint.display(),
                what,
                detail: format!("body hashes to {actual}"),
            });
        }
        Ok(body)
    }

    /// Runs `operation` against each endpoint of `registry` in order (mirrors, then the registry itself) until one
    /// succeeds. Errors that another endpoint cannot fix (a digest mismatch) stop at once.
    pub(crate) async fn with_fallback<T, F, Fut>(
        &self,
        registry: &str,
        operation: F,
    ) -> Result<T, RegistryError>
    where
        F: Fn(Endpoint) -> Fut,
        Fut: std::future::Future<Output = Result<T, RegistryError>>,
    {
        let endpoints = self.endpoints(registry)?;
        let last = endpoints.len().saturating_sub(1);
        let mut first_error = None;
        for (position, endpoint) in endpoints.into_iter().enumerate() {
            let mirror = endpoint.mirror;
            let shown = endpoint.display();
            match operation(endpoint).await {
                Ok(value) => return Ok(value),
                Err(error) if position < last && mirror && error.allows_fallback() => {
                    tracing::warn!(mirror = %shown, %error, "mirror failed, trying the next endpoint");
                    first_error.get_or_insert(error);
                }
                Err(error) => return Err(error),
            }
        }
        Err(first_error.unwrap_or_else(|| {
            RegistryError::Config(format!("no endpoint configured for {registry}"))
        }))
    }
}

/// Largest CA bundle read (a bundle of every public CA is about 200 KiB).
const CA_FILE_LIMIT: u64 = 1024 * 1024;

pub(crate) fn join(endpoint: &Endpoint, path: &str) -> Result<url::Url, RegistryError> {
    let base = endpoint.url.as_str().trim_end_matches('/');
    url::Url::parse(&format!("{base}{path}")).map_err(|e| {
        RegistryError::Config(format!("cannot build a URL from {base} and {path}: {e}"))
    })
}

fn challenge_of(endpoint: &Endpoint, headers: &HeaderMap) -> Result<Challenge, RegistryError> {
    let header = headers
        .get(WWW_AUTHENTICATE)
        .ok_or_else(|| RegistryError::BadChallenge {
            endpoint: endpoint.display(),
            detail: "401 without WWW-Authenticate".to_owned(),
        })?;
    let text = header.to_str().map_err(|_| RegistryError::BadChallenge {
        endpoint: endpoint.display(),
        detail: "not ASCII".to_owned(),
    })?;
    parse_challenge(text)
        .map(|(challenge, _)| challenge)
        .map_err(|detail| RegistryError::BadChallenge {
            endpoint: endpoint.display(),
            detail,
        })
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

fn transport_detail(error: &reqwest::Error) -> String {
    // reqwest's Display includes the URL, which never carries secrets here (tokens travel in headers).
    let mut detail = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    detail
}

pub(crate) fn expect_success(
    response: Response,
    endpoint: &Endpoint,
    what: &str,
) -> Result<Response, RegistryError> {
    match response.status() {
        status if status.is_success() => Ok(response),
        StatusCode::NOT_FOUND => Err(RegistryError::NotFound {
            endpoint: endpoint.display(),
            what: what.to_owned(),
        }),
        status => Err(RegistryError::Status {
            endpoint: endpoint.display(),
            status: status.as_u16(),
            what: what.to_owned(),
        }),
    }
}

fn media_type_of(
    headers: &HeaderMap,
    endpoint: &Endpoint,
    what: &str,
) -> Result<String, RegistryError> {
    let bad = |detail: String| RegistryError::BadHeader {
        endpoint: endpoint.display(),
        header: "Content-Type",
        what: what.to_owned(),
        detail,
    };
    let value = headers
        .get(CONTENT_TYPE)
        .ok_or_else(|| bad("missing".to_owned()))?
        .to_str()
        .map_err(|_| bad("not ASCII".to_owned()))?;
    let media_type = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    if !is_manifest_media_type(&media_type) {
        return Err(bad(format!(
            "{media_type:?} is not a manifest media type we asked for"
        )));
    }
    Ok(media_type)
}

fn header_digest(
    headers: &HeaderMap,
    endpoint: &Endpoint,
    what: &str,
) -> Result<Option<Digest>, RegistryError> {
    let Some(value) = headers.get("docker-content-digest") else {
        return Ok(None);
    };
    let bad = |detail: String| RegistryError::BadHeader {
        endpoint: endpoint.display(),
        header: "Docker-Content-Digest",
        what: what.to_owned(),
        detail,
    };
    let text = value.to_str().map_err(|_| bad("not ASCII".to_owned()))?;
    Digest::parse(text.trim())
        .map(Some)
        .map_err(|e| bad(format!("{text:?}: {e}")))
}

/// Reads a body of at most `limit` bytes; more is an error, not a truncation.
pub(crate) async fn read_limited(
    mut response: Response,
    limit: u64,
    endpoint: &Endpoint,
    what: &str,
    timeout: Duration,
) -> Result<Vec<u8>, RegistryError> {
    let too_large = || RegistryError::TooLarge {
        endpoint: endpoint.display(),
        what: what.to_owned(),
        limit,
    };
    if response
        .content_length()
        .is_some_and(|length| length > limit)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() as u64 + chunk.len() as u64 > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(error) if error.is_timeout() => {
                return Err(RegistryError::Timeout {
                    endpoint: endpoint.display(),
                    seconds: timeout.as_secs(),
                    what: format!("the body of {what}"),
                });
            }
            Err(error) => {
                return Err(RegistryError::Unreachable {
                    endpoint: endpoint.display(),
                    detail: transport_detail(&error),
                });
            }
        }
    }
}
