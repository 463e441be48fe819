//! `pyimage serve`: the Kubernetes admission webhook and ImagePolicyWebhook backend (pyimage-server), with the
//! configuration's policy, `[serve]` settings and lock, and the drift page at `/` (or on `--page-listen`). Stops
//! gracefully on SIGTERM or Ctrl-C.

use pyimage_service::Outcome;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use pyimage_registry::RegistryClient;
use pyimage_server::{Limits, ServerOptions, TlsFiles};
use pyimage_service::Resolver;

use crate::config::LoadedConfig;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (default: `[serve] listen`, else 0.0.0.0:8443).
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// PEM certificate chain to serve HTTPS with (re-read when the file changes).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of the certificate.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve the drift page (`GET /`) on this plain-HTTP address of its own, so the admission port need not expose
    /// it (default: `/` of the admission listener).
    #[arg(long, value_name = "ADDR")]
    page_listen: Option<SocketAddr>,
    /// The history store the page reads (`sqlite:PATH`, `postgres://…`); default: `--store`, `PYIMAGE_STORE` or
    /// `[store] url` when one is given — without one the page shows admissions only.
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// How often the certificate files are checked for changes, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 2000, hide = true)]
    tls_reload_ms: u64,
    /// Time for a TLS handshake, a request's headers, the first request of a connection and a request body, in
    /// milliseconds (default 10 s; the tests shorten it).
    #[arg(long, value_name = "MS", hide = true)]
    read_timeout_ms: Option<u64>,
    /// Open connections allowed on each listener (default 512).
    #[arg(long, value_name = "N", hide = true)]
    max_connections: Option<usize>,
    /// Open connections allowed from one client address on each listener (default 128).
    #[arg(long, value_name = "N", hide = true)]
    max_connections_per_client: Option<usize>,
}

/// Runs the server until SIGTERM or Ctrl-C.
pub async fn run(
    args: &ServeArgs,
    client: RegistryClient,
    config: &LoadedConfig,
) -> anyhow::Result<Outcome> {
    let settings = config.settings.clone();
    let listen = match args.listen {
        Some(addr) => addr,
        None => settings.serve.listen.parse().with_context(|| {
            format!(
                "[serve] listen = {:?} is not an address",
                settings.serve.listen
            )
        })?,
    };
    let mut lock_shown = None;
    let lock = match &settings.serve.lock {
        Some(written) => {
            let base = config
                .path
                .as_deref()
                .and_then(Path::parent)
                .unwrap_or(Path::new(""));
            // Through the one lock reader: capped, a FIFO is an error, a malformed lock names its line.
            let lock = pyimage_store::lock_file::read(&base.join(written))
                .with_context(|| format!("[serve] lock = {written:?}"))?;
            lock_shown = Some(written.clone());
            Some(lock)
        }
        None => None,
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    };
    // Only a store someone named: serving must not create a database in $XDG_DATA_HOME on its own.
    let named_store = args.store.is_some()
        || std::env::var("PYIMAGE_STORE").is_ok_and(|v| !v.is_empty())
        || settings.store.url.is_some();
    let store = if named_store {
        Some(crate::store::open(&crate::store::url(args.store.as_deref(), config)?).await?)
    } else {
        None
    };
    let options = ServerOptions {
        settings,
        lock,
        resolver: Resolver::new(client),
        listen,
        tls,
        reload_every: Duration::from_millis(args.tls_reload_ms.max(50)),
        store,
        lock_shown,
        page_listen: args.page_listen,
        limits: limits(args),
        keyring: Some(config.keyring.clone()),
        workers: std::thread::available_parallelism().map_or(1, usize::from),
    };
    pyimage_server::run(
        options,
        pyimage_service::signals::terminated(),
        |addr, tls| {
            let scheme = if tls { "https" } else { "http" };
            eprintln!("pyimage serve: listening on {scheme}://{addr}");
        },
    )
    .await?;
    eprintln!("pyimage serve: stopped");
    Ok(Outcome::OK)
}

/// The listeners' limits: the defaults (sized for the shipped Deployment's 128 MiB) unless the hidden flags say.
fn limits(args: &ServeArgs) -> Limits {
    let mut limits = Limits::default();
    if let Some(ms) = args.read_timeout_ms {
        limits.read_header = Duration::from_millis(ms.max(1));
        limits.read_body = Duration::from_millis(ms.max(1));
    }
    if let Some(connections) = args.max_connections {
        limits.connections = connections.max(1);
    }
    if let Some(connections) = args.max_connections_per_client {
        limits.connections_per_client = connections.max(1);
    }
    limits
}
