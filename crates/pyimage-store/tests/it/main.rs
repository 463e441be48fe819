//! The history store against real databases: an SQLite file, and a PostgreSQL server started by the test
//! (`pyimage_testkit::Postgres`). The same conformance run on both, then watchers racing on one PostgreSQL.

mod bounded;
mod race;

use pyimage_store::{Observation, Proposed, Recorded, Store, StoreError, StoreUrl};
use serde_json::json;

pub(crate) fn seen(tag: &str, digest: Option<&str>, at: &str, source: &str) -> Observation {
    Observation {
        repository: "docker.io/library/python".into(),
        tag: tag.into(),
        digest: digest.map(str::to_owned),
        platforms: Some(json!({"linux/amd64": format!("platform-of-{}", digest.unwrap_or("-"))})),
        observed_at: at.into(),
        source: source.into(),
    }
}

pub(crate) fn propose(
    observation: Observation,
    expected_from: Option<&str>,
    kind: &str,
) -> Proposed {
    Proposed {
        observation,
        expected_from: expected_from.map(str::to_owned),
        kind: kind.into(),
        python_from: None,
        python_to: Some("3.12.14".into()),
        state: json!({"packages": {"openssl": "3.0.16-1~deb12u1"}}),
        changes: json!({"packages": [{"name": "openssl", "from": "3.0.15-1~deb12u1", "to": "3.0.16-1~deb12u1"}]}),
    }
}

async fn conformance(store: &Store) -> Result<(), StoreError> {
    let repo = "docker.io/library/python";
    assert_eq!(store.last_event(repo, "3.12-slim").await?, None);
    let first = store
        .record(&propose(
            seen("3.12-slim", Some("sha256:a"), "2026-08-05T10:00:00Z", "w1"),
            None,
            "new-tag",
        ))
        .await?;
    let Recorded::Event(first) = first else {
        panic!("first sight is an event: {first:?}")
    };
    assert_eq!((first.seq, first.from_digest.as_deref()), (1, None));
    // The same digest again: only an observation.
    store
        .observe(&seen(
            "3.12-slim",
            Some("sha256:a"),
            "2026-08-06T10:00:00Z",
            "w1",
        ))
        .await?;
    let again = store
        .record(&propose(
            seen("3.12-slim", Some("sha256:a"), "2026-08-06T10:00:01Z", "w2"),
            None,
            "new-tag",
        ))
        .await?;
    assert_eq!(again, Recorded::AlreadyKnown);
    // A move, proposed from the right digest.
    let moved = store
        .record(&propose(
            seen("3.12-slim", Some("sha256:b"), "2026-08-07T10:00:00Z", "w1"),
            Some("sha256:a"),
            "rebuild",
        ))
        .await?;
    let Recorded::Event(moved) = moved else {
        panic!("{moved:?}")
    };
    assert_eq!(
        (
            moved.seq,
            moved.from_digest.as_deref(),
            moved.to_digest.as_deref()
        ),
        (2, Some("sha256:a"), Some("sha256:b"))
    );
    assert_eq!(moved.changes["packages"][0]["to"], "3.0.16-1~deb12u1");
    // A watcher whose view is stale (it believes the tag still held a) writes nothing and is told the truth.
    let stale = store
        .record(&propose(
            seen("3.12-slim", Some("sha256:c"), "2026-08-08T10:00:00Z", "w2"),
            Some("sha256:a"),
            "rebuild",
        ))
        .await?;
    assert!(
        matches!(&stale, Recorded::Stale(Some(last)) if last.seq == 2),
        "{stale:?}"
    );
    // An observation older than the last event does not become a move either.
    let late = store
        .record(&propose(
            seen("3.12-slim", Some("sha256:c"), "2026-08-06T23:00:00Z", "w2"),
            Some("sha256:b"),
            "rebuild",
        ))
        .await?;
    assert!(matches!(late, Recorded::Stale(_)), "{late:?}");
    // Removal and another tag.
    store
        .record(&propose(
            seen("3.12-slim", None, "2026-08-09T10:00:00Z", "w1"),
            Some("sha256:b"),
            "removed",
        ))
        .await?;
    store
        .record(&propose(
            seen("3.13-slim", Some("sha256:d"), "2026-08-09T11:00:00Z", "w1"),
            None,
            "new-tag",
        ))
        .await?;
    let timeline = store.timeline(repo, "3.12-slim", None).await?;
    let kinds: Vec<(i64, &str)> = timeline.iter().map(|e| (e.seq, e.kind.as_str())).collect();
    assert_eq!(kinds, [(1, "new-tag"), (2, "rebuild"), (3, "removed")]);
    assert_eq!(
        store
            .timeline(repo, "3.12-slim", Some("2026-08-07T00:00:00Z"))
            .await?
            .len(),
        2
    );
    let since: Vec<String> = store
        .moves_since("2026-08-09T00:00:00Z", 100)
        .await?
        .into_iter()
        .map(|e| format!("{}#{}", e.tag, e.seq))
        .collect();
    assert_eq!(since, ["3.12-slim#3", "3.13-slim#1"]);
    assert_eq!(store.tags().await?.len(), 2);
    // Every poll's observation is kept, stale and duplicate proposals excepted.
    let observations = store.observations(repo, "3.12-slim").await?;
    assert_eq!(observations.len(), 5, "{observations:#?}");
    Ok(())
}

#[tokio::test]
async fn sqlite_file_store() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("nested/history.db");
    let url = StoreUrl::parse(&format!("sqlite:{}", path.display()))?;
    let store = Store::open(&url).await?;
    conformance(&store).await?;
    store.close().await;
    // Reopening applies nothing and keeps everything.
    let store = Store::open(&url).await?;
    assert_eq!(
        pyimage_store::migrate::current(&store).await?,
        pyimage_store::migrate::newest()
    );
    assert_eq!(
        store
            .timeline("docker.io/library/python", "3.12-slim", None)
            .await?
            .len(),
        3
    );
    Ok(())
}

#[tokio::test]
async fn postgres_store() -> Result<(), Box<dyn std::error::Error>> {
    let server = pyimage_testkit::Postgres::start()?;
    let store = Store::open(&StoreUrl::parse(&server.url())?).await?;
    conformance(&store).await?;
    // A second process opening the same database finds it migrated.
    let other = Store::open(&StoreUrl::parse(&server.url())?).await?;
    assert_eq!(
        other
            .timeline("docker.io/library/python", "3.13-slim", None)
            .await?
            .len(),
        1
    );
    Ok(())
}

#[test]
fn urls() {
    assert!(matches!(
        StoreUrl::parse("mysql://x"),
        Err(StoreError::BadUrl(_))
    ));
    assert_eq!(
        StoreUrl::parse("postgres://watch:s3cret@db:5432/pyimage")
            .map(|u| u.shown)
            .ok()
            .as_deref(),
        Some("postgres://watch:***@db:5432/pyimage")
    );
    assert_eq!(
        StoreUrl::parse("sqlite:/var/lib/h.db")
            .ok()
            .and_then(|u| u.sqlite_path()),
        Some("/var/lib/h.db".into())
    );
    assert_eq!(
        pyimage_store::default_sqlite_path(Some("/x"), Some("/home/u")),
        Some("/x/pyimage/history.db".into())
    );
    assert_eq!(
        pyimage_store::default_sqlite_path(None, Some("/home/u")),
        Some("/home/u/.local/share/pyimage/history.db".into())
    );
}

/// Every credential form a store URL can carry stays out of what is shown: a password in the userinfo (also one
/// holding `@`, also percent-encoded), `password=`/`sslpassword=` and any other unknown parameter in the query
/// (`options` can carry `-c password=…`), a fragment; and out of the error for a URL pyimage does not take.
#[test]
fn shown_store_urls_carry_no_credential() {
    let cases = [
        ("postgres://u@db/h?password=P4ssw0rd", &["P4ssw0rd"][..]),
        ("postgres://u:Top@Secret@db/h", &["Top", "Secret"][..]),
        ("postgres://u:p%40ss%2Fw@db:5432/h", &["p%40ss", "%2Fw"][..]),
        (
            "postgresql://db/h?sslmode=disable&PassWord=P4ss&sslpassword=K3y&options=-c%20password%3DZz9",
            &["P4ss", "K3y", "Zz9"][..],
        ),
        ("postgres://u:pw1@db/h#pw2", &["pw1", "pw2"][..]),
        ("postgres://u:a/b?c@db/h", &["a/b", "b?c"][..]),
    ];
    for (url, secrets) in cases {
        let shown = StoreUrl::parse(url).map(|u| u.shown).unwrap();
        for secret in secrets {
            assert!(!shown.contains(secret), "{url} shown as {shown}");
        }
        assert!(
            shown.contains("db"),
            "{url}: the host is still shown: {shown}"
        );
    }
    assert_eq!(
        StoreUrl::parse("postgresql://db/h?sslmode=disable&password=x")
            .map(|u| u.shown)
            .ok()
            .as_deref(),
        Some("postgresql://db/h?sslmode=disable&password=***")
    );
    let bad = StoreUrl::parse("mysql://u:Hunter2@db/h")
        .unwrap_err()
        .to_string();
    assert!(!bad.contains("Hunter2"), "{bad}");
}
