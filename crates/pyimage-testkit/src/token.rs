//! A Docker Hub-style token server (`auth.docker.io/token`): `GET /token?service=…&scope=repository:NAME:ACTIONS`
//! answers `{"token","access_token","expires_in","issued_at"}` with a JWT signed ES256 by a key generated for this
//! run, whose self-signed certificate (`x5c` in the JWT header) the registry trusts through `rootcertbundle`.
//!
//! Anonymous callers are granted `pull` only; callers with the run's HTTP Basic credentials are granted `pull`,
//! `push` and `delete`; wrong credentials get 401. `POST /token` takes the OAuth2 form containerd sends first
//! (`grant_type=password` or `refresh_token`; `access_type=offline` returns a refresh token). Every request is
//! recorded so that tests can count round trips.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::oneshot;

/// The service name Docker Hub's registry uses.
pub const DOCKER_HUB_SERVICE: &str = "registry.docker.io";
/// Token lifetime in seconds, as on Docker Hub.
pub const TOKEN_LIFETIME_SECONDS: i64 = 300;

/// HTTP Basic credentials accepted by the token server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
}

impl Credentials {
    /// Random credentials for one run.
    pub fn random() -> Self {
        let mut rng = rand::rng();
        Credentials {
            username: format!("seeder-{:08x}", rng.random::<u32>()),
            password: format!("{:032x}", rng.random::<u128>()),
        }
    }

    /// The value of an `Authorization: Basic …` header.
    pub fn basic_header(&self) -> String {
        format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", self.username, self.password))
        )
    }
}

/// One access grant in a token: `{"type":"repository","name":"library/python","actions":["pull"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    /// `repository` or `registry`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `library/python`.
    pub name: String,
    /// Granted actions.
    pub actions: Vec<String>,
}

/// What the token server saw and answered, for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// `GET` (Docker Hub's token flow) or `POST` (OAuth2 form).
    pub method: String,
    /// The request path (`/token`).
    pub path: String,
    /// `service` parameter, if given.
    pub service: Option<String>,
    /// Every `scope` parameter, as sent (`repository:library/python:pull`).
    pub scopes: Vec<String>,
    /// Whether valid credentials were sent.
    pub authenticated: bool,
    /// The user name sent, valid or not.
    pub username: Option<String>,
    /// HTTP status answered.
    pub status: u16,
    /// What the issued token grants (empty when none was issued).
    pub granted: Vec<Access>,
}

struct Signer {
    key: EcdsaKeyPair,
    cert_der_base64: String,
    issuer: String,
    rng: SystemRandom,
}

impl Signer {
    fn sign(
        &self,
        subject: &str,
        audience: &str,
        access: &[Access],
        expires_in: i64,
    ) -> Result<String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("clock before 1970")?
            .as_secs();
        let now = i64::try_from(now).context("clock out of range")?;
        let jwt_header = json!({"typ": "JWT", "alg": "ES256", "x5c": [self.cert_der_base64]});
        let claims = json!({
            "iss": self.issuer,
            "sub": subject,
            "aud": audience,
            "exp": now + expires_in,
            "nbf": now - 10,
            "iat": now,
            "jti": format!("{:032x}", rand::rng().random::<u128>()),
            "access": access,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&jwt_header).context("encoding JWT header")?),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).context("encoding JWT claims")?),
        );
        let signature = self
            .key
            .sign(&self.rng, signing_input.as_bytes())
            .map_err(|_| anyhow::anyhow!("signing a token failed"))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }
}

struct TokenState {
    signer: Signer,
    service: String,
    credentials: Credentials,
    /// The refresh token handed to authenticated OAuth2 callers that ask for offline access.
    refresh_token: String,
    log: Mutex<Vec<TokenRequest>>,
}

/// A running token server. Dropping it stops serving.
pub struct TokenServer {
    addr: SocketAddr,
    cert_pem: String,
    state: Arc<TokenState>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl std::fmt::Debug for TokenServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl TokenServer {
    /// Generates a signing key and certificate and serves `/token` on a free 127.0.0.1 port, on `runtime`.
    pub fn start(runtime: &tokio::runtime::Handle, service: &str, issuer: &str) -> Result<Self> {
        let key_pair = rcgen::KeyPair::generate().context("generating the token signing key")?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
            .context("certificate parameters")?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("{issuer} token signer"));
        let cert = params
            .self_signed(&key_pair)
            .context("self-signing the token certificate")?;
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &key_pair.serialize_der())
                .map_err(|error| anyhow::anyhow!("loading the token signing key: {error}"))?;
        let state = Arc::new(TokenState {
            signer: Signer {
                key,
                cert_der_base64: STANDARD.encode(cert.der()),
                issuer: issuer.to_owned(),
                rng: SystemRandom::new(),
            },
            service: service.to_owned(),
            credentials: Credentials::random(),
            refresh_token: format!("{:032x}", rand::rng().random::<u128>()),
            log: Mutex::new(Vec::new()),
        });

        let listener =
            std::net::TcpListener::bind(("127.0.0.1", 0)).context("binding the token server")?;
        listener
            .set_nonblocking(true)
            .context("binding the token server")?;
        let addr = listener.local_addr().context("binding the token server")?;
        let app = Router::new()
            .route("/token", get(get_token).post(post_token))
            .with_state(Arc::clone(&state));
        let (shutdown, stopped) = oneshot::channel::<()>();
        runtime.spawn(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                return;
            };
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(TokenServer {
            addr,
            cert_pem: cert.pem(),
            state,
            shutdown: Some(shutdown),
        })
    }

    /// `http://127.0.0.1:PORT/token`, the realm registries send in their challenge.
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The service name tokens are issued for.
    pub fn service(&self) -> &str {
        &self.state.service
    }

    /// The issuer (`iss`) of the tokens.
    pub fn issuer(&self) -> &str {
        &self.state.signer.issuer
    }

    /// PEM of the signing certificate (the registry's `rootcertbundle`).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The credentials that are granted `push`.
    pub fn credentials(&self) -> &Credentials {
        &self.state.credentials
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<TokenRequest> {
        self.state
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many requests were made so far.
    pub fn request_count(&self) -> usize {
        self.state
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Forgets the recorded requests (e.g. after seeding, before the part of a test that counts).
    pub fn clear_requests(&self) {
        self.state
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Mints a token directly (not recorded) for hostile tests: one for another audience, or one that expires in
    /// `expires_in` seconds — negative for an expired token (the registry allows 60 s of clock skew, so use less
    /// than -60).
    pub fn mint(&self, audience: &str, access: &[Access], expires_in: i64) -> Result<String> {
        self.state
            .signer
            .sign("pyimage-testkit", audience, access, expires_in)
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// Parses `repository:library/python:pull,push` (the name may not contain `:` in Docker Hub's names).
fn parse_scope(scope: &str) -> Option<(String, String, Vec<String>)> {
    let (kind, rest) = scope.split_once(':')?;
    let (name, actions) = rest.rsplit_once(':')?;
    Some((
        kind.to_owned(),
        name.to_owned(),
        actions
            .split(',')
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect(),
    ))
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// How the caller identified itself.
enum Caller {
    Anonymous,
    /// User name and password (HTTP Basic on GET, `grant_type=password` on POST).
    Password(String, String),
    /// An OAuth2 refresh token (`grant_type=refresh_token` on POST).
    RefreshToken(String),
}

/// What a token request asked for.
struct Ask {
    method: &'static str,
    service: Option<String>,
    scopes: Vec<String>,
    caller: Caller,
    /// OAuth2 `access_type=offline`: the caller wants a refresh token.
    offline: bool,
}

fn scopes_of(value: &str) -> impl Iterator<Item = String> + '_ {
    value
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// `GET /token?service=…&scope=…` with optional HTTP Basic credentials (Docker Hub's token flow).
async fn get_token(
    State(state): State<Arc<TokenState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let mut ask = Ask {
        method: "GET",
        service: None,
        scopes: Vec::new(),
        caller: basic_credentials(&headers).map_or(Caller::Anonymous, |(user, password)| {
            Caller::Password(user, password)
        }),
        offline: false,
    };
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match &*key {
            "service" => ask.service = Some(value.into_owned()),
            "scope" => ask.scopes.extend(scopes_of(&value)),
            "offline_token" => ask.offline = value == "true",
            _ => {}
        }
    }
    issue(&state, ask)
}

/// `POST /token` with an OAuth2 form (`grant_type=password` or `refresh_token`), as containerd sends first.
async fn post_token(State(state): State<Arc<TokenState>>, body: axum::body::Bytes) -> Response {
    let mut form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let mut take = |key: &str| {
        form.iter()
            .position(|(k, _)| k == key)
            .map(|i| form.swap_remove(i).1)
    };
    let caller = match take("grant_type").as_deref() {
        Some("password") => Caller::Password(
            take("username").unwrap_or_default(),
            take("password").unwrap_or_default(),
        ),
        Some("refresh_token") => Caller::RefreshToken(take("refresh_token").unwrap_or_default()),
        _ => Caller::Anonymous,
    };
    let ask = Ask {
        method: "POST",
        service: take("service"),
        scopes: take("scope")
            .map(|s| scopes_of(&s).collect())
            .unwrap_or_default(),
        caller,
        offline: take("access_type").as_deref() == Some("offline"),
    };
    issue(&state, ask)
}

fn issue(state: &TokenState, ask: Ask) -> Response {
    let Ask {
        method,
        service,
        scopes,
        caller,
        offline,
    } = ask;
    let (sent, authenticated) = match &caller {
        Caller::Anonymous => (None, false),
        Caller::Password(user, password) => (
            Some((user.clone(), password.clone())),
            *user == state.credentials.username && *password == state.credentials.password,
        ),
        Caller::RefreshToken(token) => (
            Some((state.credentials.username.clone(), String::new())),
            *token == state.refresh_token,
        ),
    };
    let mut record = TokenRequest {
        method: method.to_owned(),
        path: "/token".to_owned(),
        service: service.clone(),
        scopes: scopes.clone(),
        authenticated,
        username: sent.as_ref().map(|(user, _)| user.clone()),
        status: 200,
        granted: Vec::new(),
    };
    let log = |record: TokenRequest| {
        state
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(record)
    };

    if sent.is_some() && !authenticated {
        record.status = 401;
        log(record);
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Basic realm=\"pyimage-testkit\"")],
            axum::Json(json!({"details": "incorrect username or password"})),
        )
            .into_response();
    }
    let allowed: &[&str] = if authenticated {
        &["pull", "push", "delete", "*"]
    } else {
        &["pull"]
    };
    let granted: Vec<Access> = scopes
        .iter()
        .filter_map(|scope| parse_scope(scope))
        .map(|(kind, name, actions)| {
            let actions = if kind == "repository" {
                actions
                    .into_iter()
                    .filter(|a| allowed.contains(&a.as_str()))
                    .collect()
            } else if authenticated {
                actions
            } else {
                Vec::new()
            };
            Access {
                kind,
                name,
                actions,
            }
        })
        .collect();
    let audience = service.unwrap_or_else(|| state.service.clone());
    let subject = sent.map_or_else(String::new, |(user, _)| user);
    let token = match state
        .signer
        .sign(&subject, &audience, &granted, TOKEN_LIFETIME_SECONDS)
    {
        Ok(token) => token,
        Err(error) => {
            record.status = 500;
            log(record);
            return (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response();
        }
    };
    record.granted = granted;
    log(record);
    let issued_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mut body = json!({
        "access_token": token,
        "expires_in": TOKEN_LIFETIME_SECONDS,
        "issued_at": issued_at,
    });
    if method == "GET" {
        body["token"] = json!(token);
    } else {
        body["token_type"] = json!("Bearer");
        body["scope"] = json!(scopes.join(" "));
    }
    if offline && authenticated {
        body["refresh_token"] = json!(state.refresh_token);
    }
    axum::Json(body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_split_at_the_first_and_last_colon() {
        assert_eq!(
            parse_scope("repository:library/python:pull,push"),
            Some((
                "repository".into(),
                "library/python".into(),
                vec!["pull".into(), "push".into()]
            ))
        );
        assert_eq!(parse_scope("nonsense"), None);
    }
}
