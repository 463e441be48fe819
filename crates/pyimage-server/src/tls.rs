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

/// Polls the files every `every` and reloads `config` when they change; runs until the process ends.
pub async fn watch(config: RustlsConfig, files: TlsFiles, every: Duration) {
    let mut last = (stamp(&files.cert), stamp(&files.key));
    loop {
        tokio::time::sleep(every).await;
        let now = (stamp(&files.cert), stamp(&files.key));
        if now == last {
            continue;
        }
        match config.reload_from_pem_file(&files.cert, &files.key).await {
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
