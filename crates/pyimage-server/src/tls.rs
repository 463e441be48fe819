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
