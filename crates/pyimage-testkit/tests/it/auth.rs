//! Docker Hub's token rules on the replica, checked with a raw HTTP client, from inside `#[tokio::test]` (the
//! replica's async API).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pyimage_testkit::client::Challenge;
use pyimage_testkit::oci::{ACCEPT_MANIFESTS, sha256_digest};
use pyimage_testkit::{Access, Replica, load_library, newest_library_file};
use reqwest::StatusCode;
use serde_json::Value;

fn challenge(response: &reqwest::Response) -> Challenge {
    let header = response.headers()["www-authenticate"].to_str().unwrap();
    Challenge::parse(header).unwrap_or_else(|| panic!("not a Bearer challenge: {header}"))
}

fn decode(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let header =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap();
    let claims =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap();
    (header, claims)
}

async fn token(replica: &Replica, scope: &str, basic: Option<(&str, &str)>) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .get(replica.token_realm())
        .query(&[("service", "registry.docker.io"), ("scope", scope)]);
    if let Some((user, password)) = basic {
        request = request.basic_auth(user, Some(password));
    }
    request.send().await.unwrap()
}

async fn token_value(response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["expires_in"], 300);
    assert!(body["issued_at"].is_string());
    assert_eq!(body["token"], body["access_token"]);
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn anonymous_callers_pull_and_only_the_seeder_pushes() {
    let replica = Replica::start().unwrap();
    let library = load_library(newest_library_file().unwrap()).unwrap();
    let truth = replica.seed_async(&library).await.unwrap().truth;
    replica.token_server().clear_requests();
    let http = reqwest::Client::new();
    let base = replica.registry_url();

    // The registry challenges like Docker Hub's.
    let response = http.get(format!("{base}/v2/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let root = challenge(&response);
    assert_eq!(root.realm, replica.token_realm());
    assert_eq!(root.service.as_deref(), Some("registry.docker.io"));
    let manifest_url = format!("{base}/v2/library/python/manifests/3.12-slim");
    let response = http.get(&manifest_url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge(&response).scope.as_deref(),
        Some("repository:library/python:pull")
    );

    // An anonymous pull token: ES256 JWT with the certificate in x5c, pull only even when push is asked for.
    let anonymous =
        token_value(token(&replica, "repository:library/python:pull,push", None).await).await;
    let (header, claims) = decode(&anonymous);
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["x5c"].as_array().unwrap().len(), 1);
    assert_eq!(claims["aud"], "registry.docker.io");
    assert_eq!(claims["iss"], "pyimage-testkit");
    for claim in ["sub", "exp", "nbf", "iat", "jti"] {
        assert!(!claims[claim].is_null(), "claim {claim}");
    }
    let access: Vec<Access> = serde_json::from_value(claims["access"].clone()).unwrap();
    assert_eq!(
        access,
        [Access {
            kind: "repository".into(),
            name: "library/python".into(),
            actions: vec!["pull".into()],
        }]
    );
    let response = http
        .get(&manifest_url)
        .bearer_auth(&anonymous)
        .header("accept", ACCEPT_MANIFESTS)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        sha256_digest(&response.bytes().await.unwrap()),
        truth.digest("3.12-slim").unwrap()
    );

    // Pushing with it is refused.
    let uploads = format!("{base}/v2/library/python/blobs/uploads/");
    let response = http
        .post(&uploads)
        .bearer_auth(&anonymous)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge(&response).error.as_deref(),
        Some("insufficient_scope")
    );

    // A token for another repository does not open library/python.
    let other = token_value(token(&replica, "repository:library/debian:pull", None).await).await;
    let response = http
        .get(&manifest_url)
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge(&response).error.as_deref(),
        Some("insufficient_scope")
    );

    // Wrong credentials get 401 from the token server; the seeder's credentials may push.
    let response = token(
        &replica,
        "repository:library/python:pull,push",
        Some(("seeder", "wrong")),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let credentials = replica.credentials().clone();
    let pusher = token_value(
        token(
            &replica,
            "repository:library/python:pull,push",
            Some((&credentials.username, &credentials.password)),
        )
        .await,
    )
    .await;
    let response = http
        .post(&uploads)
        .bearer_auth(&pusher)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);

    // An expired token is refused.
    let expired = replica
        .token_server()
        .mint("registry.docker.io", &access, -120)
        .unwrap();
    let response = http
        .get(&manifest_url)
        .bearer_auth(&expired)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // Every token request was recorded.
    let requests = replica.token_server().requests();
    let summary: Vec<(bool, u16, usize)> = requests
        .iter()
        .map(|r| (r.authenticated, r.status, r.granted.len()))
        .collect();
    assert_eq!(
        summary,
        [
            (false, 200, 1),
            (false, 200, 1),
            (false, 401, 0),
            (true, 200, 1)
        ]
    );
    assert_eq!(requests[0].scopes, ["repository:library/python:pull,push"]);
    assert_eq!(requests[2].username.as_deref(), Some("seeder"));
    assert_eq!(requests[3].granted[0].actions, ["pull", "push"]);
    assert!(requests.iter().all(|r| r.method == "GET"));

    // The OAuth2 form flow: a password grant with offline access returns a refresh token, which works later.
    let oauth = |form: Vec<(&str, String)>| http.post(replica.token_realm()).form(&form).send();
    let scope = "repository:library/python:pull,push".to_owned();
    let response = oauth(vec![
        ("grant_type", "password".into()),
        ("username", credentials.username.clone()),
        ("password", credentials.password.clone()),
        ("service", "registry.docker.io".into()),
        ("scope", scope.clone()),
        ("client_id", "pyimage-test".into()),
        ("access_type", "offline".into()),
    ])
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let response = oauth(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", refresh),
        ("service", "registry.docker.io".into()),
        ("scope", scope.clone()),
    ])
    .await
    .unwrap();
    let body: Value = response.json().await.unwrap();
    let (_, refreshed) = decode(body["access_token"].as_str().unwrap());
    assert_eq!(
        refreshed["access"][0]["actions"],
        serde_json::json!(["pull", "push"])
    );
    let response = oauth(vec![
        ("grant_type", "password".into()),
        ("username", credentials.username.clone()),
        ("password", "wrong".into()),
        ("scope", scope),
    ])
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let posts = &replica.token_server().requests()[requests.len()..];
    let summary: Vec<(&str, bool, u16)> = posts
        .iter()
        .map(|r| (r.method.as_str(), r.authenticated, r.status))
        .collect();
    assert_eq!(
        summary,
        [
            ("POST", true, 200),
            ("POST", true, 200),
            ("POST", false, 401)
        ]
    );
}

#[test]
fn dropping_the_replica_stops_the_registry_and_removes_its_storage() {
    let replica = Replica::start().unwrap();
    let pid = replica.registry().pid();
    let dir = replica.registry().dir().to_path_buf();
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    drop(replica);
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    assert!(!dir.exists());
}
