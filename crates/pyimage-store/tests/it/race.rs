//! Several watchers on one PostgreSQL: each sees the same sequence of digests and records what it saw; every move
//! is recorded exactly once, in order, with a gap-free sequence.

use pyimage_store::{Recorded, Store, StoreUrl};

use crate::{propose, seen};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn watchers_racing_on_postgres_record_each_move_once()
-> Result<(), Box<dyn std::error::Error>> {
    let server = pyimage_testkit::Postgres::start()?;
    let url = StoreUrl::parse(&server.database("race")?)?;
    let digests: Vec<String> = (0..30).map(|i| format!("sha256:{i:064x}")).collect();
    let mut watchers = Vec::new();
    for w in 0..4 {
        // Each watcher has its own pool, as separate processes would.
        let store = Store::open(&url).await?;
        let digests = digests.clone();
        watchers.push(tokio::spawn(async move {
            let mut recorded = 0;
            for (i, digest) in digests.iter().enumerate() {
                let at = format!("2026-08-05T10:{:02}:{:02}Z", i, w);
                // A watcher proposes from what it last read; a stale view re-reads and proposes again.
                loop {
                    let last = store
                        .last_event("docker.io/library/python", "3.12-slim")
                        .await?;
                    let from = last.as_ref().and_then(|e| e.to_digest.clone());
                    let kind = if from.is_none() { "new-tag" } else { "rebuild" };
                    match store
                        .record(&propose(
                            seen("3.12-slim", Some(digest), &at, &format!("w{w}")),
                            from.as_deref(),
                            kind,
                        ))
                        .await?
                    {
                        Recorded::Event(_) => {
                            recorded += 1;
                            break;
                        }
                        Recorded::AlreadyKnown => break,
                        // Another watcher is already past this digest: this one's view is old.
                        Recorded::Stale(Some(last)) if last.observed_at > at => break,
                        Recorded::Stale(_) => continue,
                    }
                }
            }
            Ok::<usize, pyimage_store::StoreError>(recorded)
        }));
    }
    let mut total = 0;
    for watcher in watchers {
        total += watcher.await??;
    }
    let store = Store::open(&url).await?;
    let timeline = store
        .timeline("docker.io/library/python", "3.12-slim", None)
        .await?;
    assert_eq!(
        total,
        digests.len(),
        "every move recorded once across watchers"
    );
    assert_eq!(timeline.len(), digests.len());
    for (i, event) in timeline.iter().enumerate() {
        assert_eq!(event.seq, i as i64 + 1);
        assert_eq!(event.to_digest.as_deref(), Some(digests[i].as_str()));
        assert_eq!(
            event.from_digest.as_deref(),
            i.checked_sub(1).map(|p| digests[p].as_str())
        );
    }
    Ok(())
}
