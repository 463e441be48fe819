//! `DOCKER_HOST`: where the engine listens — a unix socket (the default on unix), a Windows named pipe (the default
//! on Windows, `npipe:////./pipe/docker_engine`) or plain TCP. Parsing is the same on every platform; which transports
//! a client can open is the client's concern.

use std::fmt;
use std::path::PathBuf;

use crate::EngineError;

/// The engine's socket when `DOCKER_HOST` is not set (unix).
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

/// The engine's named pipe when `DOCKER_HOST` is not set (Windows: Docker Desktop and the Windows engine).
pub const DEFAULT_PIPE: &str = r"\\.\pipe\docker_engine";

/// Where the engine listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineAddress {
    /// A unix socket (`unix:///var/run/docker.sock`).
    Unix(PathBuf),
    /// A TCP address (`tcp://127.0.0.1:2375`), plain HTTP.
    Tcp(String),
    /// A local Windows named pipe (`npipe:////./pipe/docker_engine`), kept in Windows form (`\\.\pipe\docker_engine`).
    NamedPipe(String),
}

impl EngineAddress {
    /// Reads a `DOCKER_HOST` value; none or empty means this platform's default (socket or pipe).
    pub fn from_docker_host(value: Option<&str>) -> Result<EngineAddress, EngineError> {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(EngineAddress::platform_default()),
            Some(value) => EngineAddress::parse(value),
        }
    }

    /// Where the engine listens when `DOCKER_HOST` is not set: its named pipe on Windows, its socket elsewhere.
    pub fn platform_default() -> EngineAddress {
        if cfg!(windows) {
            EngineAddress::NamedPipe(DEFAULT_PIPE.to_owned())
        } else {
            EngineAddress::Unix(PathBuf::from(DEFAULT_SOCKET))
        }
    }

    /// Parses `unix:///path`, `npipe:////./pipe/NAME`, `tcp://host:port` (or `http://host:port`).
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
        if let Some(path) = value.strip_prefix("npipe://") {
            // Docker writes the pipe `\\.\pipe\NAME` with forward slashes; only local pipes (`.`) are engines.
            let name = path
                .replace('\\', "/")
                .strip_prefix("//./pipe/")
                .map(str::to_owned)
                .filter(|name| !name.is_empty() && !name.contains('/'));
            return match name {
                Some(name) => Ok(EngineAddress::NamedPipe(format!(r"\\.\pipe\{name}"))),
                None => Err(bad("expected npipe:////./pipe/NAME (a local named pipe)")),
            };
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
        if value.starts_with("https://") || value.starts_with("ssh://") {
            return Err(bad(
                "only unix:// sockets, npipe:// named pipes and plain tcp:// are supported (no TLS or ssh)",
            ));
        }
        Err(bad(
            "expected unix:///path/to/docker.sock, npipe:////./pipe/docker_engine or tcp://HOST:PORT",
        ))
    }
}

impl fmt::Display for EngineAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineAddress::Unix(path) => write!(f, "unix://{}", path.display()),
            EngineAddress::Tcp(authority) => write!(f, "tcp://{authority}"),
            EngineAddress::NamedPipe(pipe) => write!(f, "npipe://{}", pipe.replace('\\', "/")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_host_forms() {
        #[cfg(unix)]
        let default = EngineAddress::Unix(PathBuf::from(DEFAULT_SOCKET));
        #[cfg(windows)]
        let default = EngineAddress::NamedPipe(DEFAULT_PIPE.to_owned());
        assert_eq!(
            EngineAddress::from_docker_host(None).ok(),
            Some(default.clone())
        );
        assert_eq!(
            EngineAddress::from_docker_host(Some("")).ok(),
            Some(default)
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
        // Docker Desktop's and the Windows engine's named pipe, as docker writes it.
        let pipe = EngineAddress::parse("npipe:////./pipe/docker_engine");
        assert_eq!(
            pipe.as_ref().ok(),
            Some(&EngineAddress::NamedPipe(r"\\.\pipe\docker_engine".into()))
        );
        assert_eq!(
            pipe.map(|a| a.to_string()).ok(),
            Some("npipe:////./pipe/docker_engine".into())
        );
        for bad in [
            "npipe://",
            "npipe:////./pipe/",
            "npipe:////server/pipe/docker_engine",
            "npipe://./pipe/docker_engine",
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
