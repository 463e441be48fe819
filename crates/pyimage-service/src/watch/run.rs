//! The watch loop: poll, announce each recorded move (to the front end and the webhooks), and wait the interval
//! (with up to 10 % jitter, so that several watchers do not poll in step) until told to stop. A stop request lets
//! the poll in flight finish; `once` polls once. Deliveries still running when the loop ends are waited for: all of
//! them after `once`, at most [`DRAIN`] after a stop request (Kubernetes kills 30 s after SIGTERM).

use std::time::Duration;

use tokio::sync::watch;

use super::notify::{Notifier, Payload};
use super::{PollReport, Watcher};
use crate::error::Outcome;
use pyimage_model::Reference;

/// How long a stopping watcher waits for webhook deliveries in flight.
pub const DRAIN: Duration = Duration::from_secs(10);

/// How the loop runs.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Time between polls (before jitter).
    pub interval: Duration,
    /// Poll once and return.
    pub once: bool,
}

/// What the front end does with what the loop sees.
pub trait Announce {
    /// A move this watcher recorded (the webhooks get it too).
    fn moved(&mut self, payload: &Payload) -> std::io::Result<()>;
    /// What one poll did, and the webhooks' counts so far.
    fn polled(&mut self, report: &PollReport, notifier: &Notifier);
}

impl Watcher {
    /// Polls `references` on `schedule` until `stop` becomes true (or once), announcing every move; waits for the
    /// webhooks' deliveries ([`DRAIN`] at most when stopped) and closes the store before returning. The outcome is
    /// the worst poll error met; with `once`, a notification not delivered is a failure too (unreachable).
    pub async fn run(
        &self,
        references: &[Reference],
        schedule: Schedule,
        notifier: &Notifier,
        announce: &mut impl Announce,
        mut stop: watch::Receiver<bool>,
    ) -> std::io::Result<Outcome> {
        let mut outcome = Outcome::OK;
        let mut stopped = false;
        loop {
            let report = self.poll(references).await;
            for event in &report.moves {
                let payload = Payload::of(event);
                announce.moved(&payload)?;
                notifier.send(&payload).await;
            }
            announce.polled(&report, notifier);
            for (_, error) in &report.errors {
                outcome.met(error.kind);
            }
            if schedule.once {
                break;
            }
            if *stop.borrow() {
                stopped = true;
                break;
            }
            tokio::select! {
                () = tokio::time::sleep(jittered(schedule.interval)) => {}
                _ = stop.changed() => {
                    stopped = true;
                    break;
                }
            }
        }
        notifier.finish(stopped.then_some(DRAIN)).await;
        if schedule.once && notifier.counts().1 > 0 {
            outcome.met(crate::error::ErrorKind::Unreachable);
        }
        self.store().close().await;
        Ok(outcome)
    }
}

/// `interval` plus up to 10 % (saturating: the CLI bounds the interval, a library caller may not).
pub fn jittered(interval: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let extra = (interval / 10_000).saturating_mul(nanos % 1000);
    interval.saturating_add(extra)
}

/// Who records: `host:pid` (`$HOSTNAME`, else `/etc/hostname`).
pub fn recorder() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            pyimage_store::bounded::read_text(std::path::Path::new("/etc/hostname"), 4096)
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    format!("{host}:{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_adds_at_most_a_tenth() {
        let jittered = jittered(Duration::from_secs(100));
        assert!(jittered >= Duration::from_secs(100) && jittered <= Duration::from_secs(110));
    }

    #[test]
    fn jitter_of_the_longest_duration_saturates() {
        assert_eq!(jittered(Duration::MAX), Duration::MAX);
    }
}
