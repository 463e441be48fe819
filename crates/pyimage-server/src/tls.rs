//! Certificate rotation: the certificate and key files are polled, and when either changes (cert-manager renews
//! them in place) the listener's configuration is swapped. New handshakes get the new certificate; open
//! connections keep theirs and are never dropped. A pair that does not load is logged and the old one kept.

use std::time::{Duration, SystemTime};

use axum_server::tls_rustls::RustlsConfig;

use crate::state::TlsFiles;

type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &std::path::Path) -> Stamp {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

/// Largest certificate chain or key file read (a chain of a few certificates is a few KiB).
const MAX_PEM_BYTES: u64 = 1024 * 1024;

impl TlsFiles {
    /// The certificate chain and key, read through the one bounded reader (regular files only, capped).
    pub fn read(&self) -> std::io::Result<(Vec<u8>, Vec<u8>)> {
        let read = |path: &std::path::Path| {
            pyimage_store::bounded::read_regular(path, MAX_PEM_BYTES).map_err(|error| {
                std::io::Error::new(error.kind(), format!("{}: {error}", path.display()))
            })
        };
        Ok((read(&self.cert)?, read(&self.key)?))
    }
}

/// Polls the files every `every` and reloads `config` when they change; runs until the process ends.
pub async fn watch(config: RustlsConfig, files: TlsFiles, every: Duration) {
    let mut last = (stamp(&files.cert), stamp(&files.key));
    loop {
        tokio::time::sleep(every).await;
        let now = (stamp(&files.cert), stamp(&files.key));
        if now == last {
            continue;
        }
        let pair = match files.read() {
            Ok(pair) => pair,
            Err(error) => {
                tracing::warn!(
                    "cannot read the TLS files, keeping the current certificate: {error}"
                );
                continue;
            }
        };
        match config.reload_from_pem(pair.0, pair.1).await {
            Ok(()) => {
                tracing::info!(cert = %files.cert.display(), "TLS certificate reloaded");
                last = now;
            }
            // Half-written files (the certificate renewed, the key not yet): try again on the next tick.
            Err(error) => tracing::warn!(
                cert = %files.cert.display(),
                key = %files.key.display(),
                "cannot reload the TLS certificate, keeping the current one: {error}"
            ),
        }
    }
}

/// When the last refused handshake was explained (seconds since the Unix epoch): one line a minute, so a client
/// retrying in a loop cannot fill the log.
static LAST_EXPLAINED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Logs why a TLS handshake was refused when the cause is the client's and worth telling its operator: a server
/// name (SNI) that is not a DNS name. RFC 6066 forbids one (`127.0.0.1:8443`, as Go clients send when told to use
/// `host:port` as `ServerName`, which `hey` does); rustls refuses it with `illegal_parameter` before any callback
/// could accept it, and the handshake cannot be repaired by editing the ClientHello (both ends hash it). The API
/// server always sends the Service's DNS name (or the URL's host without its port), so nothing it sends is refused.
pub fn explain_refused_handshake(peer: Option<&std::net::SocketAddr>, error: &std::io::Error) {
    let Some(rustls::Error::PeerMisbehaved(why)) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    else {
        tracing::debug!("connection refused before a request: {error}");
        return;
    };
    if *why != rustls::PeerMisbehaved::ServerNameMustContainOneHostName {
        tracing::debug!("TLS handshake refused: {error}");
        return;
    }
    let now = pyimage_service::clock::unix_seconds();
    let last = LAST_EXPLAINED.load(std::sync::atomic::Ordering::Relaxed);
    if now.saturating_sub(last) < 60
        || LAST_EXPLAINED
            .compare_exchange(
                last,
                now,
                std::sync::atomic::Ordering::Relaxed,
                std::sync::atomic::Ordering::Relaxed,
            )
            .is_err()
    {
        return;
    }
    let peer = peer.map_or_else(|| "a client".to_owned(), ToString::to_string);
    tracing::warn!(
        "TLS handshake refused: {peer} sent a server name (SNI) that is not a DNS name (a host:port, as `hey` \
         sends; RFC 6066 forbids it); connect with the certificate's DNS name as the server name (hey: -host NAME). \
         At most one such line a minute is logged."
    );
}
