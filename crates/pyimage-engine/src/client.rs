//! The HTTP side: requests to the engine over its unix socket (unix), its named pipe (Windows) or TCP.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{EngineAddress, EngineError, ImageInspect};

/// What `GET /version` says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EngineVersion {
    /// Engine version (`20.10.24+dfsg1`, `4.3.1`).
    #[serde(default)]
    pub version: String,
    /// API version (`1.41`).
    #[serde(default)]
    pub api_version: String,
    /// `linux`.
    #[serde(default)]
    pub os: String,
    /// `amd64`.
    #[serde(default)]
    pub arch: String,
}

/// A client of one engine.
#[derive(Debug, Clone)]
pub struct EngineClient {
    http: reqwest::Client,
    base: String,
    address: EngineAddress,
}

/// Largest answer read from the engine (an inspect answer is a few KiB).
const BODY_LIMIT: usize = 16 * 1024 * 1024;

impl EngineClient {
    /// A client for `address`; each request must finish within `timeout`.
    pub fn new(address: EngineAddress, timeout: Duration) -> Result<EngineClient, EngineError> {
        let builder = reqwest::Client::builder()
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("pyimage/", env!("CARGO_PKG_VERSION")));
        let unsupported = |detail: &str| EngineError::Unreachable {
            address: address.to_string(),
            detail: detail.to_owned(),
        };
        let (builder, base) = match &address {
            #[cfg(unix)]
            EngineAddress::Unix(path) => (
                builder.unix_socket(path.clone()),
                "http://docker".to_owned(),
            ),
            #[cfg(not(unix))]
            EngineAddress::Unix(_) => {
                return Err(unsupported(
                    "unix sockets are not supported on this platform; set DOCKER_HOST to npipe:////./pipe/docker_engine or tcp://HOST:PORT",
                ));
            }
            #[cfg(windows)]
            EngineAddress::NamedPipe(pipe) => (
                builder.windows_named_pipe(pipe.clone()),
                "http://docker".to_owned(),
            ),
            #[cfg(not(windows))]
            EngineAddress::NamedPipe(_) => {
                return Err(unsupported(
                    "named pipes exist only on Windows; set DOCKER_HOST to unix:///path/to/docker.sock or tcp://HOST:PORT",
                ));
            }
            EngineAddress::Tcp(authority) => (builder, format!("http://{authority}")),
        };
        let http = builder.build().map_err(|e| EngineError::Unreachable {
            address: address.to_string(),
            detail: format!("cannot build the HTTP client: {e}"),
        })?;
        Ok(EngineClient {
            http,
            base,
            address,
        })
    }

    /// The address this client talks to.
    pub fn address(&self) -> &EngineAddress {
        &self.address
    }

    /// `GET /_ping`: the engine answers `OK`. Returns the API version it announces, when it does.
    pub async fn ping(&self) -> Result<Option<String>, EngineError> {
        let response = self.get("/_ping", "/_ping").await?;
        let api = response
            .headers()
            .get("api-version")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let status = response.status();
        let body = self.body(response, "/_ping").await?;
        if !status.is_success() {
            return Err(self.status_error(status.as_u16(), "/_ping", &body));
        }
        Ok(api)
    }

    /// `GET /version`.
    pub async fn version(&self) -> Result<EngineVersion, EngineError> {
        let response = self.get("/version", "/version").await?;
        let status = response.status();
        let body = self.body(response, "/version").await?;
        if !status.is_success() {
            return Err(self.status_error(status.as_u16(), "/version", &body));
        }
        serde_json::from_slice(&body).map_err(|e| EngineError::Invalid {
            address: self.address.to_string(),
            what: "/version".to_owned(),
            detail: e.to_string(),
        })
    }

    /// `GET /images/{name}/json`: the image a reference, ID or ID prefix names; `None` when the engine has no such
    /// image.
    pub async fn inspect_image(&self, name: &str) -> Result<Option<ImageInspect>, EngineError> {
        if name.is_empty()
            || name.len() > 512
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-:/@".contains(c))
            || name.starts_with('/')
            || name.contains("..")
        {
            return Err(EngineError::BadName(name.to_owned()));
        }
        let what = format!("image {name}");
        let response = self.get(&format!("/images/{name}/json"), &what).await?;
        let status = response.status();
        let body = self.body(response, &what).await?;
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(self.status_error(status.as_u16(), &what, &body));
        }
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| EngineError::Invalid {
                address: self.address.to_string(),
                what,
                detail: e.to_string(),
            })
    }

    async fn get(&self, path: &str, what: &str) -> Result<reqwest::Response, EngineError> {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .map_err(|e| EngineError::Unreachable {
                address: self.address.to_string(),
                detail: transport_detail(&e, what),
            })
    }

    async fn body(
        &self,
        mut response: reqwest::Response,
        what: &str,
    ) -> Result<Vec<u8>, EngineError> {
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| EngineError::Unreachable {
                address: self.address.to_string(),
                detail: transport_detail(&e, what),
            })?
        {
            if body.len() + chunk.len() > BODY_LIMIT {
                return Err(EngineError::Invalid {
                    address: self.address.to_string(),
                    what: what.to_owned(),
                    detail: format!("answer larger than {BODY_LIMIT} bytes"),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn status_error(&self, status: u16, what: &str, body: &[u8]) -> EngineError {
        #[derive(Deserialize)]
        struct Message {
            message: String,
        }
        let message = serde_json::from_slice::<Message>(body)
            .map(|m| m.message)
            .unwrap_or_else(|_| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned());
        EngineError::Status {
            address: self.address.to_string(),
            status,
            what: what.to_owned(),
            message,
        }
    }
}

fn transport_detail(error: &reqwest::Error, what: &str) -> String {
    let mut detail = if error.is_timeout() {
        format!("no answer in time for {what}")
    } else if error.is_connect() {
        format!("connection failed for {what}")
    } else {
        format!("request for {what} failed")
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    detail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A named pipe is Windows's: elsewhere the client says so instead of trying a path that cannot exist.
    #[cfg(not(windows))]
    #[test]
    fn a_named_pipe_is_refused_off_windows() {
        let address = EngineAddress::parse("npipe:////./pipe/docker_engine").unwrap();
        let error = EngineClient::new(address, Duration::from_secs(1)).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("named pipes exist only on Windows"),
            "{error}"
        );
    }
}
