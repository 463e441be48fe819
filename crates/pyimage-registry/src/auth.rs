//! Registry authentication: the `WWW-Authenticate` challenge of `GET /v2/`, and bearer tokens from the token
//! server it names (Docker Hub: `https://auth.docker.io/token?service=registry.docker.io&scope=…`).
//!
//! Tokens are cached per (realm, service, scope, credential) until shortly before `expires_in` runs out.

use std::fmt;

use crate::error::RegistryError;

/// How a registry asks clients to authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// `GET /v2/` answered 200: no authentication.
    None,
    /// HTTP Basic with the registry credentials.
    Basic,
    /// Bearer tokens from a token server.
    Bearer {
        /// The token endpoint URL.
        realm: String,
        /// The `service` parameter to send.
        service: Option<String>,
    },
}

/// Parses a `WWW-Authenticate` header value (`Bearer realm="…",service="…",scope="…"`).
pub fn parse_challenge(header: &str) -> Result<(Challenge, Vec<(String, String)>), String> {
    let header = header.trim();
    let (scheme, rest) = header
        .split_once(char::is_whitespace)
        .unwrap_or((header, ""));
    let params = parse_params(rest.trim())?;
    let get = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone())
    };
    let challenge = if scheme.eq_ignore_ascii_case("bearer") {
        let realm = get("realm").ok_or("Bearer challenge without realm")?;
        let parsed =
            url::Url::parse(&realm).map_err(|e| format!("realm {realm:?} is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("realm {realm:?} is not http(s)"));
        }
        Challenge::Bearer {
            realm,
            service: get("service"),
        }
    } else if scheme.eq_ignore_ascii_case("basic") {
        Challenge::Basic
    } else if scheme.is_empty() {
        return Err("empty challenge".to_owned());
    } else {
        return Err(format!("unsupported scheme {scheme:?}"));
    };
    Ok((challenge, params))
}

/// `key=value` or `key="quoted \" value"` pairs separated by commas.
fn parse_params(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut params = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(params);
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            if c == ',' || c.is_whitespace() {
                return Err(format!("parameter {key:?} has no value"));
            }
            key.push(c);
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(format!("parameter {key:?} has no value"));
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(escaped) => value.push(escaped),
                        None => return Err("unterminated quoted value".to_owned()),
                    },
                    Some(c) => value.push(c),
                    None => return Err("unterminated quoted value".to_owned()),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' || c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        if key.is_empty() {
            return Err("parameter without a name".to_owned());
        }
        params.push((key, value));
    }
}

/// A bearer token. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token string.
    pub fn new(token: String) -> Self {
        Token(token)
    }

    /// The `Authorization` header value (`Bearer <token>`).
    pub fn header(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// The JSON a token server answers with.
#[derive(serde::Deserialize)]
pub(crate) struct TokenResponse {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// The distribution spec's default token lifetime when `expires_in` is absent (and its minimum).
pub const DEFAULT_TOKEN_SECONDS: u64 = 60;

/// The longest a token is cached, whatever `expires_in` says.
pub const MAX_TOKEN_SECONDS: u64 = 24 * 60 * 60;

impl TokenResponse {
    pub(crate) fn into_token(self, realm: &str) -> Result<(Token, u64), RegistryError> {
        let token = self
            .token
            .filter(|t| !t.is_empty())
            .or(self.access_token.filter(|t| !t.is_empty()))
            .ok_or_else(|| RegistryError::Token {
                realm: realm.to_owned(),
                detail: "the answer has neither token nor access_token".to_owned(),
            })?;
        // A token server's number is clamped: `Instant + 2^63 s` overflows (a panic), and no token lives a day.
        let lifetime = self
            .expires_in
            .unwrap_or(DEFAULT_TOKEN_SECONDS)
            .clamp(DEFAULT_TOKEN_SECONDS, MAX_TOKEN_SECONDS);
        Ok((Token(token), lifetime))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_hub_challenge() {
        let (challenge, params) = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/python:pull""#,
        )
        .expect("valid");
        assert_eq!(
            challenge,
            Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into())
            }
        );
        assert_eq!(params.len(), 3);
    }

    #[test]
    fn refuses_broken_challenges() {
        assert!(parse_challenge("Bearer service=\"x\"").is_err());
        assert!(parse_challenge("Bearer realm=\"unterminated").is_err());
        assert!(parse_challenge("Bearer realm=\"ftp://x/token\"").is_err());
        assert!(parse_challenge("Negotiate abc").is_err());
        assert!(parse_challenge("").is_err());
        assert_eq!(
            parse_challenge("Basic realm=\"r\"").expect("basic").0,
            Challenge::Basic
        );
    }

    #[test]
    fn token_debug_is_redacted() {
        assert_eq!(
            format!("{:?}", Token::new("secret".into())),
            "Token(<redacted>)"
        );
    }
}
