//! A static file server on 127.0.0.1 for stand-ins of public sites (python.org's release files): a path → bytes
//! map that tests change while it runs, 404 for anything else, and a log of the paths asked for.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio::sync::oneshot;

use crate::background::Background;

#[derive(Default)]
struct Files {
    served: BTreeMap<String, Vec<u8>>,
    asked: Vec<String>,
}

/// The running server; dropping it stops it.
pub struct FileServer {
    addr: SocketAddr,
    files: Arc<Mutex<Files>>,
    shutdown: Option<oneshot::Sender<()>>,
    _background: Background,
}

impl std::fmt::Debug for FileServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl FileServer {
    /// Serves nothing yet on a free port.
    pub fn start() -> Result<FileServer> {
        let background = Background::new()?;
        let files = Arc::new(Mutex::new(Files::default()));
        let listener =
            std::net::TcpListener::bind(("127.0.0.1", 0)).context("binding the file server")?;
        listener
            .set_nonblocking(true)
            .context("binding the file server")?;
        let addr = listener.local_addr().context("binding the file server")?;
        let app = Router::new().fallback(serve).with_state(Arc::clone(&files));
        let (shutdown, stopped) = oneshot::channel::<()>();
        background.handle().spawn(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                return;
            };
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(FileServer {
            addr,
            files,
            shutdown: Some(shutdown),
            _background: background,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `127.0.0.1:PORT`, for a `[registries."HOST"] insecure = true` entry.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Serves `bytes` at `path` (`/ftp/python/3.13.13/Python-3.13.13.tar.xz.sigstore`), replacing what was there.
    pub fn put(&self, path: &str, bytes: Vec<u8>) {
        if let Ok(mut files) = self.files.lock() {
            files.served.insert(path.to_owned(), bytes);
        }
    }

    /// Stops serving `path` (404 from now on).
    pub fn remove(&self, path: &str) {
        if let Ok(mut files) = self.files.lock() {
            files.served.remove(path);
        }
    }

    /// The paths asked for so far, in order.
    pub fn asked(&self) -> Vec<String> {
        self.files
            .lock()
            .map(|f| f.asked.clone())
            .unwrap_or_default()
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

async fn serve(State(files): State<Arc<Mutex<Files>>>, uri: Uri) -> Response {
    let path = uri.path().to_owned();
    let Ok(mut files) = files.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    files.asked.push(path.clone());
    match files.served.get(&path) {
        Some(bytes) => bytes.clone().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
