//! `DOCKER_HOST`: where the engine listens.

use std::fmt;
use std::path::PathBuf;

use crate::EngineError;

/// The engine's socket when `DOCKER_HOST` is not set.
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

/// Where the engine listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineAddress {
    /// A unix socket (`unix:///var/run/docker.sock`).
    Unix(PathBuf),
    /// A TCP address (`tcp://127.0.0.1:2375`), plain HTTP.
    Tcp(String),
}

impl EngineAddress {
    /// Reads a `DOCKER_HOST` value; none or empty means the default socket.
    pub fn from_docker_host(value: Option<&str>) -> Result<EngineAddress, EngineError> {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(EngineAddress::Unix(PathBuf::from(DEFAULT_SOCKET))),
            Some(value) => EngineAddress::parse(value),
        }
    }

    /// Parses `unix:///path`, `tcp://host:port` (or `http://host:port`).
    pub fn parse(value: &str) -> Result<EngineAddress, EngineError> {
        let bad = |detail: &str| EngineError::BadHost {
            value: value.to_owned(),
            detail: detail.to_owned(),
        };
        if let Some(path) = value.strip_prefix("unix://") {
            if path.is_empty() || !path.starts_with('/') {
                return Err(bad("expected unix:///absolute/path/to/docker.sock"));
            }
            return Ok(EngineAddress::Unix(PathBuf::from(path)));
        }
        let rest = value
            .strip_prefix("tcp://")
            .or_else(|| value.strip_prefix("http://"));
        if let Some(rest) = rest {
            let authority = rest.trim_end_matches('/');
            if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
                return Err(bad("expected tcp://HOST:PORT"));
            }
            let url = url::Url::parse(&format!("http://{authority}"))
                .map_err(|e| bad(&format!("expected tcp://HOST:PORT ({e})")))?;
            let host = url.host_str().ok_or_else(|| bad("no host"))?;
            let port = url.port().unwrap_or(2375);
            let host = if host.contains(':') && !host.starts_with('[') {
                format!("[{host}]")
            } else {
                host.to_owned()
            };
            return Ok(EngineAddress::Tcp(format!("{host}:{port}")));
        }
        if value.starts_with("https://")
            || value.starts_with("ssh://")
            || value.starts_with("npipe://")
        {
            return Err(bad(
                "only unix:// sockets and plain tcp:// are supported (no TLS, ssh or named pipes)",
            ));
        }
        Err(bad(
            "expected unix:///path/to/docker.sock or tcp://HOST:PORT",
        ))
    }
}

impl fmt::Display for EngineAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineAddress::Unix(path) => write!(f, "unix://{}", path.display()),
            EngineAddress::Tcp(authority) => write!(f, "tcp://{authority}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_host_forms() {
        assert_eq!(
            EngineAddress::from_docker_host(None).ok(),
            Some(EngineAddress::Unix(PathBuf::from(DEFAULT_SOCKET)))
        );
        assert_eq!(
            EngineAddress::from_docker_host(Some("")).ok(),
            Some(EngineAddress::Unix(PathBuf::from(DEFAULT_SOCKET)))
        );
        assert_eq!(
            EngineAddress::parse("unix:///tmp/d.sock").ok(),
            Some(EngineAddress::Unix(PathBuf::from("/tmp/d.sock")))
        );
        assert_eq!(
            EngineAddress::parse("tcp://127.0.0.1:2375").ok(),
            Some(EngineAddress::Tcp("127.0.0.1:2375".into()))
        );
        assert_eq!(
            EngineAddress::parse("tcp://localhost").ok(),
            Some(EngineAddress::Tcp("localhost:2375".into()))
        );
        assert_eq!(
            EngineAddress::parse("tcp://[::1]:2375")
                .map(|a| a.to_string())
                .ok(),
            Some("tcp://[::1]:2375".into())
        );
        for bad in [
            "unix://",
            "unix://relative.sock",
            "ssh://host",
            "https://h:2376",
            "tcp://",
            "tcp://h:2375/x",
            "/var/run/docker.sock",
            "tcp://h:99999",
        ] {
            let error = EngineAddress::parse(bad).expect_err(bad);
            assert!(error.to_string().contains("DOCKER_HOST"), "{error}");
        }
    }
}
