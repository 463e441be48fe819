//! What one client, or many, may hold of the server: open connections, time to send a request, and buffered body
//! bytes. The shipped Deployment runs in 128 MiB, so every way a client can make the server hold memory has a
//! ceiling: connections are counted, all of them and those of each client address (past either limit a new one is
//! closed at once, so one address cannot take every connection from the API server), the TLS handshake, the headers,
//! the first request and each body have a time limit, HTTP/2 streams per connection are few, and the bytes of all
//! bodies being read share one budget (a request that would pass it is answered 503 without reading further).

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
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
    /// Open connections of one client address at most; past it a new connection from that address is closed.
    pub connections_per_client: usize,
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
    /// One client address may hold 128 connections, a quarter: the API server reaches a webhook from a few
    /// addresses (one per API server instance, or a proxy's) and keeps few connections to it (HTTP/2 carries 16
    /// requests at once on each; at 5,000 requests/s answered within a millisecond about five are in flight), so
    /// 128 never turns it away, while one other client holding its 128 still leaves 384 to the rest.
    fn default() -> Self {
        Limits {
            connections: 512,
            connections_per_client: 128,
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
    _client: ClientShare,
}

/// The open connections of each client address of one listener.
struct PerClient {
    limit: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection counted against its client address until dropped.
struct ClientShare {
    clients: Arc<PerClient>,
    address: IpAddr,
}

impl PerClient {
    /// Counts one more connection of `address`, unless it holds its limit already.
    fn take(self: &Arc<Self>, address: IpAddr) -> Option<ClientShare> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let held = open.entry(address).or_insert(0);
        if *held >= self.limit {
            return None;
        }
        *held += 1;
        Some(ClientShare {
            clients: Arc::clone(self),
            address,
        })
    }
}

impl Drop for ClientShare {
    fn drop(&mut self) {
        let mut open = self
            .clients
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(held) = open.get_mut(&self.address) {
            *held = held.saturating_sub(1);
            // Forgotten at zero: the map holds only addresses with open connections.
            if *held == 0 {
                open.remove(&self.address);
            }
        }
    }
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

/// Accepts a connection while fewer than the limit are open, and fewer than the per-client limit from its address,
/// and turns Nagle's algorithm off: an answer is one small write the API server waits for, not a stream to
/// coalesce.
#[derive(Clone)]
pub struct CountConnections {
    open: Arc<Semaphore>,
    clients: Arc<PerClient>,
}

impl CountConnections {
    /// At most `limit` open connections, `per_client` of them from one address.
    pub fn new(limit: usize, per_client: usize) -> Self {
        CountConnections {
            open: Arc::new(Semaphore::new(limit)),
            clients: Arc::new(PerClient {
                limit: per_client,
                open: Mutex::new(HashMap::new()),
            }),
        }
    }

    fn count(&self, stream: &TcpStream) -> io::Result<(OwnedSemaphorePermit, ClientShare)> {
        // An IPv4 client reaching an IPv6 socket is the same client as over IPv4.
        let address = stream.peer_addr()?.ip().to_canonical();
        let share = self
            .clients
            .take(address)
            .ok_or_else(|| io::Error::other(TooManyFromOneClient(address)))?;
        let permit = Arc::clone(&self.open)
            .try_acquire_owned()
            .map_err(|_| io::Error::other(TooManyConnections))?;
        stream.set_nodelay(true)?;
        Ok((permit, share))
    }
}

impl<S: Send + 'static> Accept<TcpStream, S> for CountConnections {
    type Stream = Counted;
    type Service = S;
    type Future = std::future::Ready<io::Result<(Counted, S)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        std::future::ready(self.count(&stream).map(|(permit, share)| {
            (
                Counted {
                    stream,
                    _permit: permit,
                    _client: share,
                },
                service,
            )
        }))
    }
}

/// The connection limit was reached.
#[derive(Debug, thiserror::Error)]
#[error("too many open connections: the new one is closed")]
pub struct TooManyConnections;

/// One client address holds its share of connections.
#[derive(Debug, thiserror::Error)]
#[error("too many open connections from {0}: the new one is closed")]
pub struct TooManyFromOneClient(IpAddr);

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
        // A body that arrives in one chunk (a review sent at once) is kept as it came; only one in several chunks
        // is copied together.
        let mut first: Option<Bytes> = None;
        let mut bytes = Vec::new();
        let mut share: Option<OwnedSemaphorePermit> = None;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|error| {
                Unread(
                    StatusCode::BAD_REQUEST,
                    format!("cannot read the request body: {error}"),
                )
            })?;
            let held = first.as_ref().map_or(0, Bytes::len) + bytes.len();
            if held + chunk.len() > self.max_body {
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
            match first.take() {
                None if bytes.is_empty() => first = Some(chunk),
                earlier => {
                    if let Some(earlier) = earlier {
                        bytes.extend_from_slice(&earlier);
                    }
                    bytes.extend_from_slice(&chunk);
                }
            }
        }
        Ok(ReadBody {
            bytes: first.unwrap_or_else(|| Bytes::from(bytes)),
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

/// Whether an accept error is a connection limit (logged once a minute, not per connection).
pub fn is_connection_limit(error: &io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(|inner| inner.is::<TooManyConnections>() || inner.is::<TooManyFromOneClient>())
}

/// When the connection limit was last logged (seconds since the Unix epoch).
static LAST_AT_LIMIT: AtomicU64 = AtomicU64::new(0);
/// When the per-client connection limit was last logged.
static LAST_AT_CLIENT_LIMIT: AtomicU64 = AtomicU64::new(0);

/// Logs that a connection limit turned connections away, at most once a minute for each limit.
pub fn warn_connection_limit(error: &io::Error) {
    let per_client = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<TooManyFromOneClient>());
    let last = match per_client {
        Some(_) => &LAST_AT_CLIENT_LIMIT,
        None => &LAST_AT_LIMIT,
    };
    if !once_a_minute(last) {
        return;
    }
    match per_client {
        Some(TooManyFromOneClient(address)) => tracing::warn!(
            "the per-client connection limit is reached: new connections from one client address ({address}) are \
             closed until some of its own end (logged once a minute)"
        ),
        None => tracing::warn!(
            "the connection limit is reached: new connections are closed until some end (logged once a minute)"
        ),
    }
}

/// Whether a minute has passed since `last` (which is then set to now).
fn once_a_minute(last: &AtomicU64) -> bool {
    let now = pyimage_service::clock::unix_seconds();
    let then = last.load(Ordering::Relaxed);
    now.saturating_sub(then) >= 60
        && last
            .compare_exchange(then, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
}
