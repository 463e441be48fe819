//! A hostile registry: an in-process HTTP server that lies, stalls, loops and floods, for the cases a real
//! registry cannot be made to produce. Every case must end in a clear error (or the right retry) — never a panic, a
//! hang or a leaked credential.
//!
//! The server is in-process, so tests assert what it saw (how many requests, when) and the error kind, never how
//! long the client took on the wall clock. Where a time is the point (a timeout, a `Retry-After`), the test stops
//! tokio's clock once the client is only waiting (no request in flight) and reads the time on that paused clock:
//! it moves only from timer to timer, so what it shows does not depend on the machine's speed or load.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::time::Instant as ClockInstant;

use pyimage_model::Reference;
use pyimage_registry::{
    ClientOptions, CredentialStore, Platform, RegistriesConfig, RegistryClient, RegistryError,
    RegistrySettings, ResolveRequest,
};
use sha2::Digest as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const INDEX: &str = "application/vnd.oci.image.index.v1+json";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// A request as the hostile server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    authorization: Option<String>,
    /// When its head had arrived, on tokio's clock (the paused clock, when a test pauses it).
    at: ClockInstant,
}

/// What the server does with a request.
enum Reply {
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Headers, then body bytes forever.
    Endless,
    /// Accept and never answer.
    Stall,
}

fn reply(status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Reply {
    Reply::Respond {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        body: body.into(),
    }
}

type Handler = Arc<dyn Fn(&Seen, usize) -> Reply + Send + Sync>;

struct Hostile {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Hostile {
    /// Starts a server; `handler` gets each request and how many times that path was asked before.
    async fn start(handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let counts = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (handler, log, counts) = (handler.clone(), log.clone(), counts.clone());
                tokio::spawn(async move { serve(stream, handler, log, counts).await });
            }
        });
        Hostile { addr, seen }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn count(&self, path_prefix: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.path.starts_with(path_prefix))
            .count()
    }

    /// The requests with this method under `path_prefix`.
    fn requests(&self, method: &str, path_prefix: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.method == method && s.path.starts_with(path_prefix))
            .collect()
    }
}

/// Where manifests of `library/python` are asked for.
const MANIFESTS: &str = "/v2/library/python/manifests/";

async fn serve(
    mut stream: TcpStream,
    handler: Handler,
    log: Arc<Mutex<Vec<Seen>>>,
    counts: Arc<Mutex<HashMap<String, usize>>>,
) {
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
        if head.len() > 65536 {
            return;
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_owned();
    let path = first.next().unwrap_or_default().to_owned();
    let authorization = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| value.trim().to_owned());
    let seen = Seen {
        method: method.clone(),
        path: path.clone(),
        authorization,
        at: ClockInstant::now(),
    };
    let previous = {
        let mut counts = counts.lock().unwrap();
        let count = counts.entry(path.clone()).or_default();
        *count += 1;
        *count - 1
    };
    log.lock().unwrap().push(seen.clone());
    match handler(&seen, previous) {
        Reply::Respond {
            status,
            headers,
            body,
        } => {
            let mut response = format!("HTTP/1.1 {status} X\r\nConnection: close\r\n");
            let has_length = headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-length"));
            for (name, value) in &headers {
                response.push_str(&format!("{name}: {value}\r\n"));
            }
            if !has_length {
                response.push_str(&format!("Content-Length: {}\r\n", body.len()));
            }
            response.push_str("\r\n");
            let _ = stream.write_all(response.as_bytes()).await;
            if method != "HEAD" {
                let _ = stream.write_all(&body).await;
            }
            let _ = stream.shutdown().await;
        }
        Reply::Endless => {
            let header =
                format!("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: {INDEX}\r\n\r\n");
            if stream.write_all(header.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b' '; 65536];
            let started = Instant::now();
            // Stops when the client hangs up (or after a minute, so the test process can never be held).
            while started.elapsed() < Duration::from_secs(60) {
                if stream.write_all(&chunk).await.is_err() {
                    return;
                }
            }
        }
        Reply::Stall => {
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
    }
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

/// A small valid OCI index naming one linux/amd64 manifest, and that manifest's bytes.
fn index_and_manifest() -> (Vec<u8>, Vec<u8>) {
    let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":2},"layers":[]}"#.to_vec();
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"{INDEX}","manifests":[{{"mediaType":"{MANIFEST}","digest":"{}","size":{},"platform":{{"os":"linux","architecture":"amd64"}}}}]}}"#,
        sha256(&manifest),
        manifest.len()
    );
    (index.into_bytes(), manifest)
}

fn fast_options() -> ClientOptions {
    ClientOptions {
        request_timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(2),
        max_retries: 3,
        backoff: Duration::from_millis(10),
        max_retry_after: Duration::from_secs(5),
        ..ClientOptions::default()
    }
}

fn client(endpoint: &str) -> RegistryClient {
    client_with(endpoint, CredentialStore::anonymous())
}

fn client_with(endpoint: &str, credentials: CredentialStore) -> RegistryClient {
    client_with_options(endpoint, credentials, fast_options())
}

fn client_with_options(
    endpoint: &str,
    credentials: CredentialStore,
    options: ClientOptions,
) -> RegistryClient {
    let mut config = RegistriesConfig::default();
    config.hosts.insert(
        "docker.io".to_owned(),
        RegistrySettings {
            endpoint: Some(endpoint.to_owned()),
            insecure: true,
            ..RegistrySettings::default()
        },
    );
    RegistryClient::new(config, credentials, options).unwrap()
}

/// Waits until `condition` holds, yielding to the other tasks in between (the server and the client run on this
/// test's runtime). The ceiling only turns a hang into a failure; it is not a claim about speed.
async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    let ceiling = Instant::now() + Duration::from_secs(60);
    while !condition() {
        assert!(Instant::now() < ceiling, "{what}: not within 60 s");
        tokio::task::yield_now().await;
    }
}

fn python(text: &str) -> Reference {
    Reference::parse_normalized(text).unwrap()
}

fn all_platforms() -> ResolveRequest {
    ResolveRequest {
        platforms: true,
        ..ResolveRequest::default()
    }
}

/// A registry without auth serving `index` for the tag and by digest, with the given header digest.
async fn serving_index(
    index: Vec<u8>,
    header_digest: String,
    content_type: &'static str,
) -> Hostile {
    Hostile::start(move |seen, _| {
        if seen.path == "/v2/" {
            return reply(200, &[], "{}");
        }
        reply(
            200,
            &[
                ("Content-Type", content_type),
                ("Docker-Content-Digest", &header_digest),
            ],
            index.clone(),
        )
    })
    .await
}

#[tokio::test]
async fn body_that_does_not_hash_to_the_header_digest_is_refused() {
    let (index, _) = index_and_manifest();
    let lie = sha256(b"something else");
    let server = serving_index(index, lie.clone(), INDEX).await;
    let error = client(&server.url())
        .resolve(&python("python:3.12"), &all_platforms())
        .await
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::DigestMismatch { .. }),
        "{error}"
    );
    assert!(error.to_string().contains(&lie), "{error}");
}

#[tokio::test]
async fn header_digest_that_differs_from_the_reference_is_refused() {
    let (index, _) = index_and_manifest();
    let server = serving_index(index.clone(), sha256(&index), INDEX).await;
    let asked = format!("python@sha256:{}", "a".repeat(64));
    let error = client(&server.url())
        .resolve(&python(&asked), &ResolveRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::DigestMismatch { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn oversized_manifest_is_refused_before_reading_it() {
    let server = Hostile::start(|seen, _| {
        if seen.path == "/v2/" {
            return reply(200, &[], "{}");
        }
        let huge = vec![b' '; 5 * 1024 * 1024];
        reply(
            200,
            &[
                ("Content-Type", INDEX),
                ("Docker-Content-Digest", &sha256(&huge)),
            ],
            huge,
        )
    })
    .await;
    let error = client(&server.url())
        .resolve(&python("python:3.12"), &ResolveRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(error, RegistryError::TooLarge { .. }), "{error}");
}

#[tokio::test]
async fn endless_body_stops_at_the_manifest_limit() {
    let (index, _) = index_and_manifest();
    let digest = sha256(&index);
    let server = Hostile::start(
        move |seen, _| match (seen.path.as_str(), seen.method.as_str()) {
            ("/v2/", _) => reply(200, &[], "{}"),
            (_, "HEAD") => reply(
                200,
                &[("Content-Type", INDEX), ("Docker-Content-Digest", &digest)],
                index.clone(),
            ),
            _ => Reply::Endless,
        },
    )
    .await;
    let error = client(&server.url())
        .resolve(&python("python:3.12"), &all_platforms())
        .await
        .unwrap_err();
    // TooLarge, not Timeout: the client stopped reading at the limit, long before its 2 s request limit ends a
    // body that never ends. And it did not try again.
    assert!(matches!(error, RegistryError::TooLarge { .. }), "{error}");
    assert_eq!(
        server.requests("GET", MANIFESTS).len(),
        1,
        "{:?}",
        server.seen()
    );
}

/// The configured request limit (2 s), not the default (30 s), ends a request the registry never answers. Timed on
/// tokio's paused clock: it is stopped once the server holds the request, and the client's timeout is the only
/// timer it can run to, so the time from the pause to the error is at most the limit (and the timer's millisecond
/// tick) — whatever the machine's load — and a client on the default limit would show about 30 s.
#[tokio::test]
async fn stalled_response_times_out() {
    let server = Hostile::start(|seen, _| match seen.path.as_str() {
        "/v2/" => reply(200, &[], "{}"),
        _ => Reply::Stall,
    })
    .await;
    let client = client(&server.url());
    let resolving = tokio::spawn(async move {
        let result = client
            .resolve(&python("python:3.12"), &ResolveRequest::default())
            .await;
        (result, ClockInstant::now())
    });
    until("the server holds the manifest request", || {
        server.count(MANIFESTS) == 1
    })
    .await;
    tokio::time::pause();
    let paused = ClockInstant::now();
    let (result, failed) = resolving.await.unwrap();
    let error = result.unwrap_err();
    assert!(
        matches!(error, RegistryError::Timeout { seconds: 2, .. }),
        "{error}"
    );
    assert_eq!(server.count(MANIFESTS), 1, "a timeout is not retried");
    // tokio's timer counts in milliseconds: a deadline fires at the first tick at or after it.
    let waited = failed.saturating_duration_since(paused);
    assert!(
        waited <= Duration::from_secs(2) + Duration::from_millis(1),
        "the request was given up {waited:?} after the server held it (paused clock): not the 2 s limit"
    );
}

/// Starts a server whose `GET /v2/` (and every refused request) challenges for bearer tokens from its own `/token`.
async fn with_own_token_server(
    handler: impl Fn(&Seen, usize) -> Option<Reply> + Send + Sync + 'static,
) -> Hostile {
    let realm = Arc::new(Mutex::new(String::new()));
    let realm_for_handler = realm.clone();
    let server = Hostile::start(move |seen, before| {
        if let Some(answer) = handler(seen, before) {
            return answer;
        }
        let challenge = format!(
            r#"Bearer realm="{}",service="registry.docker.io""#,
            realm_for_handler.lock().unwrap()
        );
        reply(401, &[("WWW-Authenticate", &challenge)], "")
    })
    .await;
    *realm.lock().unwrap() = format!("{}/token", server.url());
    server
}

/// A registry that hands out tokens and then refuses every one of them.
#[tokio::test]
async fn endless_401_is_not_a_loop() {
    let server = with_own_token_server(|seen, _| {
        seen.path.starts_with("/token").then(|| {
            reply(
                200,
                &[("Content-Type", "application/json")],
                r#"{"token":"t0k3n-value","expires_in":300}"#,
            )
        })
    })
    .await;
    let error = client(&server.url())
        .resolve(&python("python:3.12"), &ResolveRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::Unauthorized { status: 401, .. }),
        "{error}"
    );
    assert_eq!(
        server.count("/v2/library"),
        2,
        "one try and one with a fresh token"
    );
    assert_eq!(server.count("/token"), 2);
    assert!(!error.to_string().contains("t0k3n"));
}

#[tokio::test]
async fn bearer_flow_fetches_one_token_and_sends_it() {
    let (index, _) = index_and_manifest();
    let digest = sha256(&index);
    let server = with_own_token_server(move |seen, _| {
        if seen.path.starts_with("/token") {
            assert!(
                seen.path
                    .contains("scope=repository%3Alibrary%2Fpython%3Apull"),
                "{}",
                seen.path
            );
            assert!(
                seen.path.contains("service=registry.docker.io"),
                "{}",
                seen.path
            );
            return Some(reply(
                200,
                &[],
                r#"{"access_token":"s3cr3t-token","expires_in":300}"#,
            ));
        }
        (seen.authorization.as_deref() == Some("Bearer s3cr3t-token") && seen.path != "/v2/").then(
            || {
                reply(
                    200,
                    &[("Content-Type", INDEX), ("Docker-Content-Digest", &digest)],
                    index.clone(),
                )
            },
        )
    })
    .await;
    let client = client(&server.url());
    for tag in ["3.12", "3.13", "3.14"] {
        client
            .resolve(
                &python(&format!("python:{tag}")),
                &ResolveRequest::default(),
            )
            .await
            .unwrap();
    }
    assert_eq!(server.count("/token"), 1, "one token for one scope");
    assert_eq!(server.count("/v2/"), 4, "one ping and three HEADs");
}

/// A 429 with `Retry-After: 600` is retried once, ten minutes later — on tokio's paused clock. The clock is stopped
/// once the client has read the 429 and is sleeping (its retry counter moves just before the sleep starts, with no
/// request in flight), moved to a millisecond before the registry's ten minutes are over (counted from when the
/// server got the first request, which is before the client's sleep began) — no retry may have come — then past
/// them, and let run again for the retry's round trip.
#[tokio::test]
async fn rate_limit_with_retry_after_is_honoured() {
    let (index, _) = index_and_manifest();
    let digest = sha256(&index);
    let server = Hostile::start(move |seen, before| match seen.path.as_str() {
        "/v2/" => reply(200, &[], "{}"),
        _ if before == 0 => reply(429, &[("Retry-After", "600")], "slow down"),
        _ => reply(
            200,
            &[("Content-Type", INDEX), ("Docker-Content-Digest", &digest)],
            index.clone(),
        ),
    })
    .await;
    let asked_to_wait = Duration::from_secs(600);
    let client = client_with_options(
        &server.url(),
        CredentialStore::anonymous(),
        ClientOptions {
            max_retry_after: Duration::from_secs(3600),
            ..fast_options()
        },
    );
    let resolving = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .resolve(&python("python:3.12"), &ResolveRequest::default())
                .await
        })
    };
    until("the client sleeps before its retry", || {
        client.stats().retries == 1
    })
    .await;
    tokio::time::pause();
    let sleeping_since = ClockInstant::now();
    let manifest_requests = || -> Vec<Seen> {
        server
            .seen()
            .into_iter()
            .filter(|s| s.path.starts_with(MANIFESTS))
            .collect()
    };
    let first = manifest_requests()[0].at;
    let almost = (first + asked_to_wait - Duration::from_millis(1))
        .checked_duration_since(sleeping_since)
        .expect("the test was held up for ten minutes before it paused the clock");
    tokio::time::advance(almost).await;
    for _ in 0..16 {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        server.count(MANIFESTS),
        1,
        "retried before the registry's Retry-After: {:?}",
        server.seen()
    );
    // The client's sleep began at `sleeping_since` at the latest, so it ends by then plus the ten minutes.
    tokio::time::advance(sleeping_since + asked_to_wait - ClockInstant::now()).await;
    tokio::time::resume();
    let resolution = resolving.await.unwrap().unwrap();
    assert_eq!(
        resolution.digest.to_string(),
        sha256(&index_and_manifest().0)
    );
    assert_eq!(client.stats().retries, 1);
    let asked = manifest_requests();
    assert_eq!(asked.len(), 2, "{asked:?}");
    let waited = asked[1].at.duration_since(asked[0].at);
    assert!(
        waited >= asked_to_wait,
        "retried {waited:?} after the 429 (tokio's clock)"
    );
}

#[tokio::test]
async fn rate_limit_longer_than_we_wait_fails_at_once_with_the_registrys_number() {
    let server = Hostile::start(|seen, _| match seen.path.as_str() {
        "/v2/" => reply(200, &[], "{}"),
        _ => reply(429, &[("Retry-After", "3600")], ""),
    })
    .await;
    let client = client(&server.url());
    let error = client
        .resolve(&python("python:3.12"), &ResolveRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            RegistryError::RateLimited {
                retry_after: Some(3600),
                ..
            }
        ),
        "{error}"
    );
    // At once: one request and no retry (the client only ever waits before a retry).
    assert_eq!(server.count(MANIFESTS), 1, "{:?}", server.seen());
    assert_eq!(client.stats().retries, 0);
}

#[tokio::test]
async fn server_error_then_success_is_retried() {
    let (index, _) = index_and_manifest();
    let digest = sha256(&index);
    let server = Hostile::start(move |seen, before| match seen.path.as_str() {
        "/v2/" => reply(200, &[], "{}"),
        _ if before < 2 => reply(500, &[], "oops"),
        _ => reply(
            200,
            &[("Content-Type", INDEX), ("Docker-Content-Digest", &digest)],
            index.clone(),
        ),
    })
    .await;
    let client = client(&server.url());
    client
        .resolve(&python("python:3.12"), &ResolveRequest::default())
        .await
        .unwrap();
    assert_eq!(client.stats().retries, 2);
}

#[tokio::test]
async fn persistent_server_error_gives_up_after_the_retry_budget() {
    let server = Hostile::start(|seen, _| match seen.path.as_str() {
        "/v2/" => reply(200, &[], "{}"),
        _ => reply(503, &[], ""),
    })
    .await;
    let error = client(&server.url())
        .resolve(&python("python:3.12"), &ResolveRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::Status { status: 503, .. }),
        "{error}"
    );
    assert_eq!(server.count(MANIFESTS), 4, "1 attempt + 3 retries");
}

#[tokio::test]
async fn redirect_to_another_host_does_not_carry_the_token() {
    let (index, _) = index_and_manifest();
    let digest = sha256(&index);
    let storage_index = index.clone();
    let storage_digest = digest.clone();
    let storage = Hostile::start(move |_, _| {
        reply(
            200,
            &[
                ("Content-Type", INDEX),
                ("Docker-Content-Digest", &storage_digest),
            ],
            storage_index.clone(),
        )
    })
    .await;
    let storage_url = storage.url();
    let registry_realm = Arc::new(Mutex::new(String::new()));
    let realm_for_handler = registry_realm.clone();
    let registry = Hostile::start(move |seen, _| match seen.path.as_str() {
        "/v2/" => {
            let challenge = format!(
                r#"Bearer realm="{}",service="registry.docker.io""#,
                realm_for_handler.lock().unwrap()
            );
            reply(401, &[("WWW-Authenticate", &challenge)], "")
        }
        path if path.starts_with("/token") => reply(200, &[], r#"{"token":"hub-token-123"}"#),
        path => {
            let location = format!("{storage_url}{path}");
            reply(307, &[("Location", &location)], "")
        }
    })
    .await;
    *registry_realm.lock().unwrap() = format!("{}/token", registry.url());
    let resolution = client(&registry.url())
        .resolve(&python("python:3.12"), &all_platforms())
        .await
        .unwrap();
    assert_eq!(resolution.digest.to_string(), digest);
    let at_registry = registry.seen();
    assert!(
        at_registry
            .iter()
            .any(|s| s.authorization.as_deref() == Some("Bearer hub-token-123"))
    );
    let at_storage = storage.seen();
    assert!(!at_storage.is_empty(), "the redirect was followed");
    assert!(
        at_storage.iter().all(|s| s.authorization.is_none()),
        "token followed the redirect: {at_storage:?}"
    );
}

#[tokio::test]
async fn invalid_json_index_is_reported() {
    let body = b"{\"schemaVersion\": 2, \"manifests\": [ this is not json".to_vec();
    let server = serving_index(body.clone(), sha256(&body), INDEX).await;
    let error = client(&server.url())
        .resolve(&python("python:3.12"), &all_platforms())
        .await
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::InvalidManifest { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("invalid JSON"), "{error}");
}

#[tokio::test]
async fn wrong_media_type_is_reported() {
    let (index, _) = index_and_manifest();
    let server = serving_index(index.clone(), sha256(&index), "text/html").await;
    let error = client(&server.url())
        .resolve(&python("python:3.12"), &ResolveRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            RegistryError::BadHeader {
                header: "Content-Type",
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn body_media_type_contradicting_the_header_is_reported() {
    let (index, _) = index_and_manifest();
    let server = serving_index(
        index.clone(),
        sha256(&index),
        "application/vnd.docker.distribution.manifest.list.v2+json",
    )
    .await;
    let error = client(&server.url())
        .resolve(&python("python:3.12"), &all_platforms())
        .await
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::InvalidManifest { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn index_naming_a_missing_platform_manifest_is_reported() {
    let (index, manifest) = index_and_manifest();
    let index_digest = sha256(&index);
    let missing = sha256(&manifest);
    let server = Hostile::start(move |seen, _| {
        if seen.path == "/v2/" {
            return reply(200, &[], "{}");
        }
        if seen.path.ends_with(&missing) {
            return reply(404, &[], r#"{"errors":[{"code":"MANIFEST_UNKNOWN"}]}"#);
        }
        reply(
            200,
            &[
                ("Content-Type", INDEX),
                ("Docker-Content-Digest", &index_digest),
            ],
            index.clone(),
        )
    })
    .await;
    let request = ResolveRequest {
        platform: Platform::parse("linux/amd64"),
        ..ResolveRequest::default()
    };
    let error = client(&server.url())
        .resolve(&python("python:3.12"), &request)
        .await
        .unwrap_err();
    assert!(matches!(error, RegistryError::NotFound { .. }), "{error}");
    assert!(
        error.to_string().contains("linux/amd64 manifest"),
        "{error}"
    );
}

#[tokio::test]
async fn truncated_link_header_is_reported() {
    let server = Hostile::start(|seen, _| match seen.path.as_str() {
        "/v2/" => reply(200, &[], "{}"),
        _ => reply(
            200,
            &[
                ("Content-Type", "application/json"),
                ("Link", "</v2/library/python/tags/list?n=2&last=b"),
            ],
            r#"{"name":"library/python","tags":["a","b"]}"#,
        ),
    })
    .await;
    let error = client(&server.url())
        .list_tags(&python("python"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::BadHeader { header: "Link", .. }),
        "{error}"
    );
}

#[tokio::test]
async fn link_pagination_loop_is_detected() {
    let server = Hostile::start(|seen, _| match seen.path.as_str() {
        "/v2/" => reply(200, &[], "{}"),
        _ => reply(
            200,
            &[
                ("Content-Type", "application/json"),
                (
                    "Link",
                    r#"</v2/library/python/tags/list?n=1000>; rel="next""#,
                ),
            ],
            r#"{"name":"library/python","tags":["a"]}"#,
        ),
    })
    .await;
    let error = client(&server.url())
        .list_tags(&python("python"))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("pagination loop"), "{error}");
}

#[tokio::test]
async fn tags_pages_are_followed() {
    let server = Hostile::start(|seen, _| {
        let page = |tags: &str, next: Option<&str>| {
            let mut headers = vec![("Content-Type", "application/json")];
            let link;
            if let Some(next) = next {
                link = format!("<{next}>; rel=\"next\"");
                headers.push(("Link", link.as_str()));
                return reply(
                    200,
                    &headers,
                    format!(r#"{{"name":"library/python","tags":[{tags}]}}"#),
                );
            }
            reply(
                200,
                &headers,
                format!(r#"{{"name":"library/python","tags":[{tags}]}}"#),
            )
        };
        match seen.path.as_str() {
            "/v2/" => reply(200, &[], "{}"),
            "/v2/library/python/tags/list?n=1000" => page(
                r#""3.12","3.13""#,
                Some("/v2/library/python/tags/list?n=1000&last=3.13"),
            ),
            "/v2/library/python/tags/list?n=1000&last=3.13" => page(r#""3.14""#, None),
            _ => reply(404, &[], ""),
        }
    })
    .await;
    let listing = client(&server.url())
        .list_tags(&python("python"))
        .await
        .unwrap();
    assert_eq!(listing.tags, vec!["3.12", "3.13", "3.14"]);
}

#[tokio::test]
async fn bad_www_authenticate_is_reported() {
    let server = Hostile::start(|_, _| {
        reply(
            401,
            &[("WWW-Authenticate", r#"Bearer service="registry.docker.io""#)],
            "",
        )
    })
    .await;
    let error = client(&server.url())
        .resolve(&python("python:3.12"), &ResolveRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::BadChallenge { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("without realm"), "{error}");
}

#[tokio::test]
async fn token_server_that_answers_garbage_is_reported() {
    let realm = Arc::new(Mutex::new(String::new()));
    let realm_for_handler = realm.clone();
    let server = Hostile::start(move |seen, _| {
        if seen.path.starts_with("/token") {
            return reply(200, &[("Content-Type", "text/html")], "<html>login</html>");
        }
        let challenge = format!(
            r#"Bearer realm="{}",service="registry.docker.io""#,
            realm_for_handler.lock().unwrap()
        );
        reply(401, &[("WWW-Authenticate", &challenge)], "")
    })
    .await;
    *realm.lock().unwrap() = format!("{}/token", server.url());
    let error = client(&server.url())
        .resolve(&python("python:3.12"), &ResolveRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(error, RegistryError::Token { .. }), "{error}");
}

#[tokio::test]
async fn refused_credentials_are_reported_without_the_password() {
    let realm = Arc::new(Mutex::new(String::new()));
    let realm_for_handler = realm.clone();
    let server = Hostile::start(move |seen, _| {
        if seen.path.starts_with("/token") {
            return reply(401, &[], "");
        }
        let challenge = format!(
            r#"Bearer realm="{}",service="registry.docker.io""#,
            realm_for_handler.lock().unwrap()
        );
        reply(401, &[("WWW-Authenticate", &challenge)], "")
    })
    .await;
    *realm.lock().unwrap() = format!("{}/token", server.url());
    let dir = std::env::temp_dir().join(format!("pyimage-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.json");
    // base64("alice:pa55word-xyz")
    std::fs::write(
        &config,
        r#"{"auths":{"https://index.docker.io/v1/":{"auth":"YWxpY2U6cGE1NXdvcmQteHl6"}}}"#,
    )
    .unwrap();
    let client = client_with(&server.url(), CredentialStore::from_file(&config));
    let error = client
        .resolve(&python("python:3.12"), &ResolveRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(error, RegistryError::Token { .. }), "{error}");
    assert!(error.to_string().contains("credentials refused"), "{error}");
    for shown in [error.to_string(), format!("{error:?}")] {
        assert!(
            !shown.contains("pa55word") && !shown.contains("YWxpY2U6"),
            "secret leaked: {shown}"
        );
    }
    // The credential was really sent (Basic) to the token server.
    let sent = server.seen();
    let token_request = sent.iter().find(|s| s.path.starts_with("/token")).unwrap();
    assert_eq!(
        token_request.authorization.as_deref(),
        Some("Basic YWxpY2U6cGE1NXdvcmQteHl6")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn malformed_docker_content_digest_is_reported() {
    let (index, _) = index_and_manifest();
    let server = serving_index(index, "sha256:nothex".to_owned(), INDEX).await;
    let error = client(&server.url())
        .resolve(&python("python:3.12"), &ResolveRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            RegistryError::BadHeader {
                header: "Docker-Content-Digest",
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn unreachable_registry_is_reported_after_retries() {
    // Port 9 (discard) is closed on loopback: connection refused.
    let client = client("http://127.0.0.1:9");
    let error = client
        .resolve(&python("python:3.12"), &ResolveRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::Unreachable { .. }),
        "{error}"
    );
    // Nothing listens, so nothing can count the attempts but the client: the first and `max_retries` (3) more,
    // then it gave up.
    assert_eq!(client.stats().retries, 3);
}

/// Issue 15 #9: a token server answering `expires_in` ≥ 2^63 must not overflow `Instant + Duration` (a panic):
/// the lifetime is clamped and the token is used.
#[tokio::test]
async fn absurd_token_lifetime_is_clamped_not_a_panic() {
    let (index, _) = index_and_manifest();
    let digest = sha256(&index);
    let server = with_own_token_server(move |seen, _| {
        if seen.path.starts_with("/token") {
            return Some(reply(
                200,
                &[],
                r#"{"token":"t","expires_in":18446744073709551615}"#,
            ));
        }
        (seen.authorization.as_deref() == Some("Bearer t") && seen.path != "/v2/").then(|| {
            reply(
                200,
                &[("Content-Type", INDEX), ("Docker-Content-Digest", &digest)],
                index.clone(),
            )
        })
    })
    .await;
    let client = client(&server.url());
    client
        .resolve(&python("python:3.12"), &ResolveRequest::default())
        .await
        .unwrap();
}

/// Issue 15 #10: a registry that pages its tag list forever (1 MiB pages, each naming a new next page) is cut
/// off by a total size, not after thousands of pages and gigabytes.
#[tokio::test]
async fn never_ending_tag_list_stops_at_a_total_size() {
    let tags: Vec<String> = (0..60_000).map(|i| format!("t{i:010}")).collect();
    let page = serde_json::json!({"name": "library/python", "tags": tags}).to_string();
    let served = std::sync::atomic::AtomicUsize::new(0);
    let server = Hostile::start(move |seen, _| match seen.path.as_str() {
        "/v2/" => reply(200, &[], "{}"),
        _ => {
            let n = served.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let next = format!(r#"</v2/library/python/tags/list?n=1000&last=p{n}>; rel="next""#);
            reply(
                200,
                &[("Content-Type", "application/json"), ("Link", &next)],
                page.clone(),
            )
        }
    })
    .await;
    let error = client(&server.url())
        .list_tags(&python("python"))
        .await
        .unwrap_err();
    assert!(matches!(error, RegistryError::TooLarge { .. }), "{error}");
    let pages = server.count("/v2/library/python/tags/list");
    assert!(pages <= 40, "{pages} pages read");
}
