//! What one client, or many, may hold of the server: open connections, time to send a request, and buffered body
//! bytes. The shipped Deployment runs in 128 MiB, so every way a client can make the server hold memory has a
//! ceiling: connections are counted (past the limit a new one is closed at once), the TLS handshake, the headers,
//! the first request and each body have a time limit, HTTP/2 streams per connection are few, and the bytes of all
//! bodies being read share one budget (a request that would pass it is answered 503 without reading further).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum_server::accept::Accept;
use futures_util::StreamExt as _;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The limits of one listener.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Open connections at most; past it a new connection is closed when accepted.
    pub connections: usize,
    /// Time for the TLS handshake, for the headers of a request (HTTP/1), and for the first request of a connection.
    pub read_header: Duration,
    /// Time for a request body, from the handler's first read to its last byte.
    pub read_body: Duration,
    /// Bytes of request bodies held at once by all requests together.
    pub buffered_bytes: usize,
    /// Concurrent HTTP/2 streams on one connection.
    pub streams: u32,
}

impl Default for Limits {
    /// Sized for the 128 MiB Deployment: 32 MiB of bodies (four of the largest admissible reviews at once), 512
    /// connections (an idle TLS connection costs tens of KiB), and time limits a live API server never comes near.
    fn default() -> Self {
        Limits {
            connections: 512,
            read_header: Duration::from_secs(10),
            read_body: Duration::from_secs(10),
            buffered_bytes: 32 * 1024 * 1024,
            streams: 16,
        }
    }
}

/// An accepted TCP connection, counted until it is dropped.
pub struct Counted {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Accepts a connection while fewer than the limit are open, and turns Nagle's algorithm off: an answer is one
/// small write the API server waits for, not a stream to coalesce.
#[derive(Clone)]
pub struct CountConnections {
    open: Arc<Semaphore>,
}

impl CountConnections {
    /// At most `limit` open connections.
    pub fn new(limit: usize) -> Self {
        CountConnections {
            open: Arc::new(Semaphore::new(limit)),
        }
    }
}

impl<S: Send + 'static> Accept<TcpStream, S> for CountConnections {
    type Stream = Counted;
    type Service = S;
    type Future = std::future::Ready<io::Result<(Counted, S)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let accepted = match Arc::clone(&self.open).try_acquire_owned() {
            Ok(permit) => stream.set_nodelay(true).map(|()| {
                (
                    Counted {
                        stream,
                        _permit: permit,
                    },
                    service,
                )
            }),
            Err(_) => Err(io::Error::other(TooManyConnections)),
        };
        std::future::ready(accepted)
    }
}

/// The connection limit was reached.
#[derive(Debug, thiserror::Error)]
#[error("too many open connections: the new one is closed")]
pub struct TooManyConnections;

/// The budget of buffered body bytes shared by the requests of one listener.
pub struct BodyBudget {
    bytes: Arc<Semaphore>,
    limit: usize,
    max_body: usize,
    timeout: Duration,
}

/// A body read whole, holding its share of the budget until dropped.
pub struct ReadBody {
    /// The bytes.
    pub bytes: Bytes,
    _share: Option<OwnedSemaphorePermit>,
}

/// Why a body was not read: the status and a line for the client.
pub struct Unread(pub StatusCode, pub String);

impl BodyBudget {
    /// `limit` bytes shared, `max_body` per request, `timeout` per body.
    pub fn new(limit: usize, max_body: usize, timeout: Duration) -> Self {
        BodyBudget {
            bytes: Arc::new(Semaphore::new(limit.min(Semaphore::MAX_PERMITS))),
            limit,
            max_body,
            timeout,
        }
    }

    /// Reads `body` whole within the time limit, taking its bytes from the budget as they arrive.
    pub async fn read(&self, body: Body) -> Result<ReadBody, Unread> {
        match tokio::time::timeout(self.timeout, self.read_within(body)).await {
            Ok(read) => read,
            Err(_) => Err(Unread(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} s",
                    self.timeout.as_secs_f64()
                ),
            )),
        }
    }

    async fn read_within(&self, body: Body) -> Result<ReadBody, Unread> {
        let mut stream = body.into_data_stream();
        let mut bytes = Vec::new();
        let mut share: Option<OwnedSemaphorePermit> = None;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|error| {
                Unread(
                    StatusCode::BAD_REQUEST,
                    format!("cannot read the request body: {error}"),
                )
            })?;
            if bytes.len() + chunk.len() > self.max_body {
                return Err(Unread(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the request body is larger than {} bytes", self.max_body),
                ));
            }
            let more = u32::try_from(chunk.len()).unwrap_or(u32::MAX);
            let Ok(taken) = Arc::clone(&self.bytes).try_acquire_many_owned(more) else {
                return Err(Unread(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "the server holds {} bytes of request bodies already; try again",
                        self.limit
                    ),
                ));
            };
            match &mut share {
                Some(held) => held.merge(taken),
                None => share = Some(taken),
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(ReadBody {
            bytes: Bytes::from(bytes),
            _share: share,
        })
    }
}

/// Sets the HTTP limits of `limits` on a server: header time (HTTP/1), streams per connection and header list size
/// (HTTP/2), and the first-request time.
pub fn configure<A: axum_server::Address, Acc>(
    mut server: axum_server::Server<A, Acc>,
    limits: &Limits,
) -> axum_server::Server<A, Acc> {
    let builder = server.http_builder();
    builder
        .http1()
        .header_read_timeout(limits.read_header)
        .max_buf_size(64 * 1024);
    builder
        .http2()
        .max_concurrent_streams(limits.streams)
        .max_header_list_size(64 * 1024)
        // Flow-control windows bound what a peer may send before a handler reads: 256 KiB a stream.
        .initial_stream_window_size(256 * 1024)
        .initial_connection_window_size(1024 * 1024)
        .max_send_buf_size(256 * 1024);
    server.first_request_timeout(limits.read_header)
}

/// Whether an accept error is the connection limit (logged once a minute, not per connection).
pub fn is_connection_limit(error: &io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(|inner| inner.is::<TooManyConnections>())
}

/// When the connection limit was last logged (seconds since the Unix epoch).
static LAST_AT_LIMIT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Logs that the connection limit turned connections away, at most once a minute.
pub fn warn_connection_limit() {
    use std::sync::atomic::Ordering;
    let now = pyimage_service::clock::unix_seconds();
    let last = LAST_AT_LIMIT.load(Ordering::Relaxed);
    if now.saturating_sub(last) >= 60
        && LAST_AT_LIMIT
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        tracing::warn!(
            "the connection limit is reached: new connections are closed until some end (logged once a minute)"
        );
    }
}
