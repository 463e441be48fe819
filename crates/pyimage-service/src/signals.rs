//! The stop request of a long-running command (`serve`, `watch`): SIGTERM (how Kubernetes and systemd stop a
//! process) or Ctrl-C.

/// Completes on SIGTERM or Ctrl-C (only Ctrl-C where there is no SIGTERM, or when it cannot be listened for).
pub async fn terminated() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// A flag that becomes true on SIGTERM or Ctrl-C, for a loop that finishes the work in flight before it stops.
pub fn stop_requested() -> tokio::sync::watch::Receiver<bool> {
    let (sender, receiver) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        terminated().await;
        tracing::info!("stopping after the work in flight");
        let _ = sender.send(true);
    });
    receiver
}
