//! `pyimage serve`: Kubernetes admission over HTTPS. `POST /validate` and `/mutate` answer AdmissionReview v1,
//! `POST /imagepolicy` ImageReview v1alpha1 (each with a `/…/ENV` form forcing an environment), `GET /healthz`,
//! `/readyz`, `/metrics`, the drift page (`GET /`) and the Renovate feed of the history store
//! (`GET /feed/renovate/<repository>.json`, [`feed`]). The decisions are the core's ([`pyimage_policy::admission`]), so the webhook decides as
//! `check` does; this crate adds HTTP, TLS with certificate rotation, digests (lock, then a TTL cache over
//! single-flight HEADs), cosign signature checks cached by digest ([`signatures`]), deadlines and metrics. The
//! admission listener is answered by one single-threaded runtime per core (see `serve_on_workers`).

mod digests;
mod feed;
mod handlers;
pub mod limits;
mod metrics;
mod page;
mod recent;
mod signatures;
mod state;
mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};

pub use digests::{DigestSource, Digests, MAX_CACHED, MAX_LOOKUPS};
pub use limits::Limits;
pub use metrics::Metrics;
pub use page::{PAGE_MOVES_PER_TAG, PAGE_TAGS};
pub use state::{AppState, ServerOptions, TlsFiles};

/// The largest request body accepted: an AdmissionReview carries the object and the old object, each at most the
/// API server's 3 MiB.
pub const MAX_BODY: usize = 8 * 1024 * 1024;
/// How long open requests get to finish after a shutdown signal.
pub const GRACE: Duration = Duration::from_secs(10);

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The certificate or key could not be read.
    #[error("cannot load the TLS certificate {cert} and key {key}: {source}")]
    Tls {
        /// The certificate file.
        cert: String,
        /// The key file.
        key: String,
        /// What failed.
        source: std::io::Error,
    },
    /// The listener failed.
    #[error("cannot serve on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// What failed.
        source: std::io::Error,
    },
}

/// The routes over a state; the page (`GET /`) too unless it has a listener of its own.
pub fn router(state: Arc<AppState>, with_page: bool) -> Router {
    let router = if with_page {
        Router::new()
            .route("/", get(page::page))
            .route("/feed/renovate/{*name}", get(feed::renovate))
    } else {
        Router::new()
    };
    router
        .route("/validate", post(handlers::validate))
        .route("/validate/{environment}", post(handlers::validate))
        .route("/mutate", post(handlers::mutate))
        .route("/mutate/{environment}", post(handlers::mutate))
        .route("/imagepolicy", post(handlers::imagepolicy))
        .route("/imagepolicy/{environment}", post(handlers::imagepolicy))
        .route("/healthz", get(handlers::healthz))
        .route("/readyz", get(handlers::readyz))
        .route("/metrics", get(handlers::metrics))
        .with_state(state)
}

/// Serves until `shutdown` completes, then lets open requests finish (at most [`GRACE`]). `on_listen` is told the
/// bound address (the port, when `:0` was asked for).
pub async fn run(
    options: ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_listen: impl FnOnce(SocketAddr, bool) + Send + 'static,
) -> Result<(), ServerError> {
    pyimage_registry::install_crypto_provider();
    let state = Arc::new(AppState::new(&options));
    let app = router(Arc::clone(&state), options.page_listen.is_none()).into_make_service();
    let handle = axum_server::Handle::new();
    if let Some(page_addr) = options.page_listen {
        // The page on a listener of its own (its own connection count): the admission port need not expose it.
        let page_app = Router::new()
            .route("/", get(page::page))
            .route("/feed/renovate/{*name}", get(feed::renovate))
            .with_state(Arc::clone(&state))
            .into_make_service();
        let listener = std::net::TcpListener::bind(page_addr)
            .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
            .map_err(|source| ServerError::Listen {
                addr: page_addr,
                source,
            })?;
        tracing::info!("serving the page on http://{page_addr}/");
        let server = axum_server::from_tcp(listener)
            .map_err(|source| ServerError::Listen {
                addr: page_addr,
                source,
            })?
            .acceptor(limits::CountConnections::new(
                options.limits.connections,
                options.limits.connections_per_client,
            ))
            .accept_error_handler(accept_error)
            .handle(handle.clone());
        let server = limits::configure(server, &options.limits);
        tokio::spawn(async move {
            if let Err(error) = server.serve(page_app).await {
                tracing::error!("the page listener stopped: {error}");
            }
        });
    }
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(GRACE));
    });
    let tls = options.tls.is_some();
    let addr = options.listen;
    let listener = std::net::TcpListener::bind(addr)
        .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
        .map_err(|source| ServerError::Listen { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| ServerError::Listen { addr, source })?;
    let counted = limits::CountConnections::new(
        options.limits.connections,
        options.limits.connections_per_client,
    );
    let workers = options.workers.max(1);
    let served = match &options.tls {
        Some(files) => {
            let tls_error = |source| ServerError::Tls {
                cert: files.cert.display().to_string(),
                key: files.key.display().to_string(),
                source,
            };
            let (cert, key) = files.read().map_err(tls_error)?;
            let config = RustlsConfig::from_pem(cert, key).await.map_err(tls_error)?;
            tokio::spawn(tls::watch(
                config.clone(),
                files.clone(),
                options.reload_every,
            ));
            let acceptor = RustlsAcceptor::new(config)
                .handshake_timeout(options.limits.read_header)
                .acceptor(counted);
            listening(&state, bound, tls, on_listen);
            serve_on_workers(listener, workers, handle, acceptor, options.limits, app).await
        }
        None => {
            tracing::warn!(
                "serving plain HTTP on {addr}: the API server requires HTTPS; give --tls-cert and --tls-key"
            );
            listening(&state, bound, tls, on_listen);
            serve_on_workers(listener, workers, handle, counted, options.limits, app).await
        }
    };
    served.map_err(|source| ServerError::Listen { addr, source })
}

/// Marks the server ready and tells `on_listen`: the socket is bound, so connections queue from now on.
fn listening(
    state: &AppState,
    bound: SocketAddr,
    tls: bool,
    on_listen: impl FnOnce(SocketAddr, bool),
) {
    state.ready.store(true, Ordering::Relaxed);
    on_listen(bound, tls);
}

/// What a connection that never reached a request is worth logging: a connection limit (once a minute) and a
/// handshake refused for a cause its client's operator can fix.
fn accept_error(peer: Option<&SocketAddr>, error: &std::io::Error) {
    if limits::is_connection_limit(error) {
        limits::warn_connection_limit(error);
        return;
    }
    tls::explain_refused_handshake(peer, error);
}

/// Serves the admission listener on `workers` threads, each with a runtime of its own that accepts from the one
/// socket and keeps every connection it accepted (as nginx's worker processes do). A request is then read, decided
/// and answered on one thread: no task moves between threads, no buffer is freed on another thread than the one
/// that allocated it, and a thread that runs out of work sleeps in its own poll instead of waking another. The API
/// server's webhook client speaks HTTP/1.1 over several kept-alive connections, which spread over the threads.
async fn serve_on_workers<Acc>(
    listener: std::net::TcpListener,
    workers: usize,
    handle: axum_server::Handle<SocketAddr>,
    acceptor: Acc,
    limits: Limits,
    app: axum::routing::IntoMakeService<Router>,
) -> std::io::Result<()>
where
    Acc: axum_server::accept::Accept<tokio::net::TcpStream, Router> + Clone + Send + Sync + 'static,
    Acc::Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send,
    Acc::Service:
        axum_server::service::SendService<axum::http::Request<hyper::body::Incoming>> + Send,
    Acc::Future: Send,
{
    let (done, mut finished) = tokio::sync::mpsc::unbounded_channel();
    for worker in 0..workers {
        let listener = listener.try_clone()?;
        let (acceptor, handle, app, done) =
            (acceptor.clone(), handle.clone(), app.clone(), done.clone());
        std::thread::Builder::new()
            .name(format!("pyimage-serve-{worker}"))
            .spawn(move || {
                let served = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .and_then(|runtime| {
                        runtime.block_on(async move {
                            let server = axum_server::from_tcp(listener)?
                                .handle(handle)
                                .accept_error_handler(accept_error)
                                .acceptor(acceptor);
                            limits::configure(server, &limits).serve(app).await
                        })
                    });
                let _ = done.send(served);
            })?;
    }
    drop(done);
    let mut outcome = Ok(());
    while let Some(served) = finished.recv().await {
        if let Err(error) = served {
            handle.shutdown();
            outcome = Err(error);
        }
    }
    outcome
}
