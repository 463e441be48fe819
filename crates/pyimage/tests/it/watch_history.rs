//! `pyimage watch` and `pyimage history` against the Docker Hub replica, rebuilt and replayed between polls, with
//! the history in SQLite and in a real PostgreSQL (started by the test), and webhooks received by a small HTTP
//! server in the test (one that answers, one that is down). Expectations come from the seeder's ground truth and
//! the replica's SBOM package lists.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use pyimage_testkit::{Replica, library_file};
use serde_json::Value;

use crate::support::{json, pyimage, stderr, stdout, tempdir};

/// 3.12.13 in the first, 3.12.14 in the second.
const BEFORE: &str = "2026-08-04T164533-a3abd8e72539.txt";
const AFTER: &str = "2026-08-13T122654-73f6781860cc.txt";

/// A webhook receiver: answers 200 to every POST and keeps the bodies.
fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&bodies);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_ok()
                && let Ok(value) = serde_json::from_slice(&body)
            {
                kept.lock().unwrap().push(value);
            }
            let _ = reader
                .get_mut()
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, bodies)
}

fn watch_once(config: &Path, store: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["watch", "--once", "--store", store];
    args.extend_from_slice(extra);
    let output = pyimage().config(config).run(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    output
}

#[test]
fn watch_records_rebuilds_and_patches_and_history_explains_them() {
    let (replica, _) = Replica::start_seeded(library_file(BEFORE)).unwrap();
    let temp = tempdir("watch");
    let dir = temp.path();
    let config = dir.join("pyimage.toml");
    std::fs::write(&config, replica.pyimage_toml()).unwrap();
    std::fs::create_dir_all(dir.join("app")).unwrap();
    std::fs::write(
        dir.join("app/Dockerfile"),
        "FROM python:3.12-slim\nFROM python:3.13-slim AS other\n",
    )
    .unwrap();
    let store = format!("sqlite:{}", dir.join("state/history.db").display());
    let (hook, received) = receiver();
    let down = {
        let closed = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/down", closed.local_addr().unwrap())
    };
    // The lock pins 3.12-slim as it is now, for `history --lock` later.
    let pinned = pyimage()
        .config(&config)
        .current_dir(dir)
        .run(&["pin", "app"]);
    assert_eq!(pinned.status.code(), Some(0), "{}", stderr(&pinned));

    // First poll: tags from the Dockerfile (the locator of check) and one named; each is new.
    let app = dir.join("app").display().to_string();
    let first = watch_once(&config, &store, &[&app, "python:3.12", "--notify", &hook]);
    let lines = stdout(&first);
    assert_eq!(lines.lines().count(), 3, "{lines}");
    assert!(lines.lines().all(|l| l.contains(" new-tag ")), "{lines}");

    // A Debian rebuild of 3.12-slim only.
    let rebuilt = replica
        .rebuild_where(|e| e.directory == "3.12/slim-trixie")
        .unwrap();
    // One webhook down: the move is recorded and announced to the other, and `--once` says a delivery failed (3).
    let second = pyimage().config(&config).run(&[
        "watch",
        "--once",
        "--store",
        &store,
        &app,
        "python:3.12",
        "--notify",
        &hook,
        "--notify",
        &down,
        "--notify-retries",
        "0",
    ]);
    assert_eq!(second.status.code(), Some(3), "{}", stderr(&second));
    assert!(
        stdout(&second).starts_with("python:3.12-slim rebuild sha256:"),
        "{}",
        stdout(&second)
    );
    // A tag the registry never had is an error, not a quiet poll.
    let missing =
        pyimage()
            .config(&config)
            .run(&["watch", "--once", "--store", &store, "python:3.99-nope"]);
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
    // A new official-images file: 3.12.13 → 3.12.14.
    let replayed = replica.replay_file(library_file(AFTER)).unwrap();
    let third = watch_once(&config, &store, &[&app, "python:3.12", "--notify", "-"]);
    let payloads: Vec<Value> = stdout(&third)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let moved: Vec<&str> = ["3.12-slim", "3.13-slim", "3.12"]
        .into_iter()
        .filter(|t| replayed.moved(t).is_some())
        .collect();
    assert_eq!(payloads.len(), moved.len(), "{payloads:#?}");

    // history: the exact moves, with kinds, digests, Python versions and the package diff.
    let output = pyimage().config(&config).run(&[
        "history",
        "python:3.12-slim",
        "--store",
        &store,
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let history = json(&output);
    let events = history.as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["new-tag", "rebuild", "patch"]);
    let rebuild = &events[1];
    let truth = rebuilt.moved("3.12-slim").unwrap();
    assert_eq!(rebuild["from"].as_str(), truth.old_digest.as_deref());
    assert_eq!(rebuild["to"].as_str(), Some(truth.new_digest.as_str()));
    assert_eq!(rebuild["python_from"], "3.12.13");
    assert_eq!(rebuild["python_to"], "3.12.13");
    assert_eq!(
        rebuild["platforms"]["linux/amd64"].as_str(),
        rebuilt
            .truth
            .tag("3.12-slim")
            .unwrap()
            .image("linux/amd64")
            .map(|i| i.digest.as_str())
    );
    // The package diff the replica's SBOMs carry, as the testkit writes it down (never computed by pyimage's diff).
    let expected: Value = pyimage_testkit::sbom::FIRST_REBUILD_DEBIAN_SLIM_UPGRADES
        .iter()
        .map(|(name, from, to)| {
            serde_json::json!({"name": name, "change": "upgraded", "from": from, "to": to})
        })
        .collect();
    assert_eq!(rebuild["packages"], expected);
    assert!(rebuild["changes"]["base_digest"]["to"].is_string());
    let patch = &events[2];
    assert_eq!(
        (patch["python_from"].as_str(), patch["python_to"].as_str()),
        (Some("3.12.13"), Some("3.12.14"))
    );
    assert_eq!(patch["to"].as_str(), replayed.truth.digest("3.12-slim"));

    // The human timeline names the move and what changed.
    let human = pyimage()
        .config(&config)
        .run(&["history", "python:3.12-slim", "--store", &store]);
    let text = stdout(&human);
    assert!(
        text.contains("#2 ") && text.contains(" rebuild  Python 3.12.13"),
        "{text}"
    );
    assert!(text.contains("packages (linux/amd64):"), "{text}");
    assert!(text.contains("Python 3.12.13 → 3.12.14"), "{text}");
    // The first sighting starts the timeline; it is not shown as a move (the drift page does not count it either).
    assert!(
        text.contains("#1 ") && text.contains(" first seen  Python") && !text.contains(" new-tag "),
        "{text}"
    );
    // CSV and --since.
    let csv = pyimage().config(&config).run(&[
        "history",
        "--store",
        &store,
        "--format",
        "csv",
        "--since",
        "2000-01-01",
    ]);
    assert!(
        stdout(&csv).starts_with("repository,tag,seq,observed_at,kind,"),
        "{}",
        stdout(&csv)
    );
    let none = pyimage().config(&config).run(&[
        "history",
        "--store",
        &store,
        "--since",
        "2999-01-01",
        "--format",
        "json",
    ]);
    assert_eq!(json(&none), serde_json::json!([]));

    // The lock pinned 3.12-slim before both moves: stale, two moves behind.
    let lock = pyimage().config(&config).current_dir(dir).run(&[
        "history",
        "--store",
        &store,
        "--lock",
        "pyimage.lock",
        "--format",
        "json",
    ]);
    assert_eq!(lock.status.code(), Some(1), "{}", stderr(&lock));
    let rows = json(&lock);
    let slim = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["reference"] == "python:3.12-slim")
        .unwrap();
    assert_eq!(slim["status"], "stale");
    assert_eq!(slim["moves_behind"], 2);

    // Webhooks: the answering receiver got every move of the first two polls; the dead one was counted.
    let bodies = received.lock().unwrap().clone();
    assert_eq!(bodies.len(), 4, "{bodies:#?}");
    let hooked = bodies.iter().find(|b| b["kind"] == "rebuild").unwrap();
    assert_eq!(hooked["from"].as_str(), truth.old_digest.as_deref());
    assert_eq!(hooked["packages"], expected);
    assert!(
        hooked["text"]
            .as_str()
            .unwrap()
            .starts_with("python:3.12-slim rebuild")
    );
    assert!(
        stderr(&second).contains("1 notification(s) could not be delivered"),
        "{}",
        stderr(&second)
    );
}

/// What a watcher's standard error showed so far: how many polls it finished (its `poll finished` log line) and
/// the log; the condition variable is signalled at every line.
type Progress = Arc<(Mutex<(usize, String)>, std::sync::Condvar)>;

/// A running `pyimage watch` whose standard error is read line by line.
struct Watching {
    child: std::process::Child,
    progress: Progress,
}

impl Watching {
    fn start(config: &Path, args: &[&str]) -> Watching {
        let mut child = pyimage()
            .config(config)
            .env("PYIMAGE_LOG", "info")
            .command_for_spawn(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("pyimage watch starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let progress: Progress = Arc::default();
        let reader = Arc::clone(&progress);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let (state, changed) = &*reader;
                let mut state = state.lock().unwrap();
                state.0 += usize::from(line.contains("poll finished"));
                state.1.push_str(&line);
                state.1.push('\n');
                changed.notify_all();
            }
        });
        Watching { child, progress }
    }

    fn polls(&self) -> usize {
        self.progress.0.lock().unwrap().0
    }

    fn log(&self) -> String {
        self.progress.0.lock().unwrap().1.clone()
    }

    /// Waits until the watcher has finished `count` polls. The ceiling only turns a watcher that stopped polling
    /// into a failure; it is not a claim about speed.
    fn wait_for_polls(&self, count: usize) {
        let (state, changed) = &*self.progress;
        let (state, timeout) = changed
            .wait_timeout_while(
                state.lock().unwrap(),
                std::time::Duration::from_secs(120),
                |state| state.0 < count,
            )
            .unwrap();
        assert!(
            !timeout.timed_out(),
            "the watcher finished {} of {count} polls within 120 s:\n{}",
            state.0,
            state.1
        );
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until every watcher has finished two polls beyond `seen` (one count per watcher, taken after the registry
/// changed). The first of them may have begun before the change; the second began after the first ended, so a
/// whole poll has seen the change: it is recorded, and each watcher has had its chance to record it a second time.
fn two_more_polls(watchers: &[Watching], seen: &[usize]) {
    for (watcher, seen) in watchers.iter().zip(seen) {
        watcher.wait_for_polls(seen + 2);
    }
}

#[test]
fn two_watchers_on_one_postgres_record_each_move_once() {
    let server = pyimage_testkit::Postgres::start().unwrap();
    let (replica, _) = Replica::start_seeded(library_file(BEFORE)).unwrap();
    let temp = tempdir("watch-pg");
    let config = temp.path().join("pyimage.toml");
    std::fs::write(&config, replica.pyimage_toml()).unwrap();
    let url = server.url();
    let tags = [
        "python:3.12-slim",
        "python:3.12",
        "python:3.12-alpine",
        "python:3.13-slim",
    ];
    let mut args = vec!["watch", "--interval", "1s", "--store", url.as_str()];
    args.extend(tags);
    let mut watchers: Vec<Watching> = (0..2).map(|_| Watching::start(&config, &args)).collect();
    let counts = |watchers: &[Watching]| watchers.iter().map(Watching::polls).collect::<Vec<_>>();
    for watcher in &watchers {
        watcher.wait_for_polls(1);
    }
    let mut expected: std::collections::BTreeMap<&str, usize> =
        tags.iter().map(|t| (*t, 1)).collect();
    for round in 0..2 {
        let advance = if round == 0 {
            replica
                .rebuild_where(|e| e.directory.starts_with("3.12/"))
                .unwrap()
        } else {
            replica.replay_file(library_file(AFTER)).unwrap()
        };
        // Counted once the registry has moved: the next poll may have begun before, the one after cannot.
        let seen = counts(&watchers);
        for tag in tags {
            if advance.moved(tag.trim_start_matches("python:")).is_some() {
                *expected.get_mut(tag).unwrap() += 1;
            }
        }
        two_more_polls(&watchers, &seen);
    }
    for watcher in &mut watchers {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &watcher.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(
            watcher.child.wait().unwrap().code(),
            Some(0),
            "a watcher stops cleanly on SIGTERM:\n{}",
            watcher.log()
        );
    }
    for tag in tags {
        let output = pyimage()
            .config(&config)
            .run(&["history", tag, "--store", &url, "--format", "json"]);
        let events = json(&output);
        let events = events.as_array().unwrap();
        assert_eq!(events.len(), expected[tag], "{tag}: {events:#?}");
        for (i, event) in events.iter().enumerate() {
            assert_eq!(event["seq"], i + 1, "{tag}");
            if i > 0 {
                assert_eq!(
                    event["from"],
                    events[i - 1]["to"],
                    "{tag}: each move starts where the last ended"
                );
            }
        }
    }
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn store_and_webhook_credentials_are_never_shown() {
    let shared = crate::support::shared();
    let server = pyimage_testkit::Postgres::start().unwrap();
    // Trust authentication: the passwords are carried, never needed, and must never be shown.
    let url = server
        .url()
        .replace("postgres://pyimage@", "postgres://pyimage:Top@Secret@")
        + "?sslmode=disable&password=P4ssw0rd&options=-c%20application_name%3DZz9";
    let hook = format!(
        "http://hookuser:HookPass@127.0.0.1:{}/services/T0/B0/SlackT0ken?token=Qq7",
        closed_port()
    );
    let secrets = [
        "Top",
        "Secret",
        "P4ssw0rd",
        "Zz9",
        "HookPass",
        "SlackT0ken",
        "Qq7",
        "services",
    ];
    let watched = pyimage()
        .config(&shared.config)
        .env("PYIMAGE_LOG", "info")
        .run(&[
            "watch",
            "--once",
            "--store",
            &url,
            "python:3.12-slim",
            "--notify",
            &hook,
            "--notify-retries",
            "0",
        ]);
    let log = stderr(&watched);
    assert!(log.contains("127.0.0.1"), "the hosts are named: {log}");
    let page = pyimage()
        .config(&shared.config)
        .run(&["history", "--format", "html", "--store", &url]);
    assert_eq!(page.status.code(), Some(0), "{}", stderr(&page));
    let html = stdout(&page);
    assert!(
        html.contains("127.0.0.1"),
        "the page names the store's host"
    );
    let refused_url = format!(
        "postgres://u:Top@Secret@127.0.0.1:{}/postgres?password=P4ssw0rd",
        closed_port()
    );
    let refused = pyimage()
        .config(&shared.config)
        .run(&["history", "--store", &refused_url]);
    assert_ne!(refused.status.code(), Some(0));
    for secret in secrets {
        for (what, text) in [
            ("watch", &log),
            ("page", &html),
            ("refused", &stderr(&refused)),
        ] {
            assert!(!text.contains(secret), "{what} shows {secret}:\n{text}");
        }
    }
}

/// A webhook receiver that answers every request with `response` and counts the requests it was sent.
fn answering(response: &'static str) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = Arc::clone(&count);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) > 0 {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            let _ = reader.get_mut().write_all(response.as_bytes());
        }
    });
    (url, count)
}

#[test]
fn notify_takes_http_urls_only_follows_no_redirect_and_once_fails_on_a_lost_delivery() {
    let shared = crate::support::shared();
    let temp = tempdir("notify-redirect");
    for bad in [
        "file:///etc/passwd",
        "ftp://127.0.0.1/hook",
        "not a url",
        "http://",
    ] {
        let store = format!("sqlite:{}", temp.path().join("bad.db").display());
        let output = pyimage().config(&shared.config).run(&[
            "watch",
            "--once",
            "--store",
            &store,
            "python:3.12-slim",
            "--notify",
            bad,
        ]);
        assert_eq!(output.status.code(), Some(2), "{bad}: {}", stderr(&output));
        assert!(
            stderr(&output).contains("--notify"),
            "{bad}: {}",
            stderr(&output)
        );
    }
    // Where a redirect would send the payload: another host's receiver that must never be asked.
    let (elsewhere, asked) =
        answering("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    let found: &'static str = Box::leak(
        format!("HTTP/1.1 302 Found\r\nlocation: {elsewhere}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .into_boxed_str(),
    );
    let temporary: &'static str = Box::leak(
        format!("HTTP/1.1 307 Temporary Redirect\r\nlocation: {elsewhere}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .into_boxed_str(),
    );
    for (i, response) in [found, temporary].into_iter().enumerate() {
        let (hook, _) = answering(response);
        let store = format!("sqlite:{}", temp.path().join(format!("r{i}.db")).display());
        let output = pyimage().config(&shared.config).run(&[
            "watch",
            "--once",
            "--store",
            &store,
            "python:3.12-slim",
            "--notify",
            &hook,
            "--notify-retries",
            "0",
        ]);
        assert_eq!(
            output.status.code(),
            Some(3),
            "a redirected delivery is not delivered: {}",
            stderr(&output)
        );
        assert!(stderr(&output).contains("redirect"), "{}", stderr(&output));
    }
    assert_eq!(
        asked.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "a redirect was followed"
    );
}

#[test]
fn watch_stops_within_kubernetes_grace_behind_a_webhook_that_never_answers() {
    let shared = crate::support::shared();
    let temp = tempdir("notify-slow");
    // Accepts connections and reads nothing, answers nothing.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().flatten().collect();
        drop(held);
    });
    let store = format!("sqlite:{}", temp.path().join("h.db").display());
    let watching = Watching::start(
        &shared.config,
        &[
            "watch",
            "--interval",
            "1h",
            "--store",
            &store,
            "python:3.12-slim",
            "--notify",
            &hook,
        ],
    );
    watching.wait_for_polls(1);
    let pid = watching.child.id();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut watching = watching;
    let (sender, receiver) = std::sync::mpsc::channel();
    let mut child = std::mem::replace(
        &mut watching.child,
        std::process::Command::new("true").spawn().unwrap(),
    );
    std::thread::spawn(move || {
        let _ = sender.send(child.wait());
    });
    // Kubernetes sends SIGKILL 30 s after SIGTERM: the watcher must be gone well before.
    let exited = receiver.recv_timeout(std::time::Duration::from_secs(20));
    assert!(
        matches!(exited, Ok(Ok(_))),
        "still running 20 s after SIGTERM:\n{}",
        watching.log()
    );
    assert!(
        watching.log().contains("not delivered"),
        "{}",
        watching.log()
    );
}

#[test]
fn an_interval_too_long_to_wait_is_refused_not_a_panic() {
    let shared = crate::support::shared();
    let temp = tempdir("interval");
    let store = format!("sqlite:{}", temp.path().join("h.db").display());
    for interval in ["213503982334601d", "5000000000000h"] {
        let output = pyimage().config(&shared.config).run(&[
            "watch",
            "--interval",
            interval,
            "--store",
            &store,
            "python:3.12-slim",
        ]);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{interval}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("--interval"),
            "{}",
            stderr(&output)
        );
        assert!(stderr(&output).contains("at most"), "{}", stderr(&output));
    }
}

/// Rewrites the SPDX statement of every attestation manifest of `tag` on `replica` with `edit` (the statement's
/// bytes in, new bytes out), pushes the new statements and manifests, and points the tag's index at them.
fn rewrite_sboms(replica: &Replica, tag: &str, edit: impl Fn(&[u8]) -> Vec<u8>) {
    rewrite_statements(replica, tag, |predicate_type, bytes| {
        (predicate_type == "https://spdx.dev/Document").then(|| edit(bytes))
    });
}

/// Rewrites the in-toto statements of `tag`'s attestations that `edit` returns new bytes for (given the layer's
/// predicate type and the statement), then the attestation manifests and the index that point at them.
fn rewrite_statements(replica: &Replica, tag: &str, edit: impl Fn(&str, &[u8]) -> Option<Vec<u8>>) {
    use pyimage_testkit::oci::{ImageIndex, ImageManifest};
    use pyimage_testkit::{Blob, Tamper};
    // A harmless edit (an annotation of the index), to read the index the tag points at.
    let current = replica
        .tamper(
            tag,
            Tamper::EditIndex(Box::new(|index| {
                index
                    .annotations
                    .insert("test.rewritten".into(), "sbom".into());
            })),
        )
        .unwrap();
    let index: ImageIndex = serde_json::from_slice(&current.index.bytes).unwrap();
    let mut replaced = Vec::new();
    for descriptor in index.manifests.iter().filter(|d| d.is_attestation()) {
        let stored = replica.stored(&descriptor.digest).unwrap().unwrap();
        let mut manifest: ImageManifest = serde_json::from_slice(&stored.bytes).unwrap();
        for layer in &mut manifest.layers {
            let predicate_type = layer
                .annotations
                .get("in-toto.io/predicate-type")
                .cloned()
                .unwrap_or_default();
            let statement = replica.stored(&layer.digest).unwrap().unwrap();
            let Some(edited) = edit(&predicate_type, &statement.bytes) else {
                continue;
            };
            let blob = Blob::new(&layer.media_type, edited);
            replica.push_blob(&blob).unwrap();
            layer.digest = blob.digest.clone();
            layer.size = blob.bytes.len() as u64;
        }
        let blob = manifest.to_blob();
        replica.push_manifest(&blob.digest, &blob).unwrap();
        replaced.push((
            descriptor.digest.clone(),
            blob.digest.clone(),
            blob.bytes.len() as u64,
        ));
    }
    replica
        .tamper(
            tag,
            Tamper::EditIndex(Box::new(move |index| {
                for descriptor in &mut index.manifests {
                    if let Some((_, digest, size)) =
                        replaced.iter().find(|(old, ..)| *old == descriptor.digest)
                    {
                        descriptor.digest = digest.clone();
                        descriptor.size = *size;
                    }
                }
            })),
        )
        .unwrap();
}

/// `edit` for [`rewrite_sboms`]: the `python` package's version set to `version`.
fn python_version_to(version: &'static str) -> impl Fn(&[u8]) -> Vec<u8> {
    move |bytes| {
        let mut statement: Value = serde_json::from_slice(bytes).unwrap();
        for package in statement["predicate"]["packages"].as_array_mut().unwrap() {
            if package["name"] == "python" {
                package["versionInfo"] = Value::from(version);
            }
        }
        serde_json::to_vec(&statement).unwrap()
    }
}

#[test]
fn a_hostile_python_version_in_an_sbom_reaches_no_csv_terminal_or_slack_text() {
    let (replica, _) = Replica::start_seeded(library_file(BEFORE)).unwrap();
    let temp = tempdir("hostile-version");
    let config = temp.path().join("pyimage.toml");
    std::fs::write(&config, replica.pyimage_toml()).unwrap();
    let hostile =
        "=HYPERLINK(\"http://evil.example/\",\"3.12.99\")\n::error title=forged::<!channel> & co";
    rewrite_sboms(&replica, "3.12-slim", python_version_to(hostile));
    let store = format!("sqlite:{}", temp.path().join("h.db").display());
    let watched = watch_once(&config, &store, &["python:3.12-slim", "--notify", "-"]);
    let payload: Value = serde_json::from_str(stdout(&watched).lines().next().unwrap()).unwrap();
    let text = payload["text"].as_str().unwrap();
    assert!(
        !text.contains("<!channel>") && !text.contains("HYPERLINK"),
        "{text}"
    );
    assert!(
        payload["python_to"].is_null() || payload["python_to"] == "3.12.13",
        "{payload}"
    );
    assert!(
        stderr(&watched).contains("not a Python version"),
        "{}",
        stderr(&watched)
    );
    for format in ["csv", "human"] {
        let output = pyimage().config(&config).run(&[
            "history",
            "python:3.12-slim",
            "--store",
            &store,
            "--format",
            format,
        ]);
        let shown = stdout(&output);
        assert!(
            !shown.contains("HYPERLINK") && !shown.contains("::error"),
            "{format}: {shown}"
        );
    }
}

/// Runs `command` and waits for it, at most `ceiling` (a ceiling on a hang, not a claim about speed).
fn run_within(mut command: std::process::Command, ceiling: u64) -> std::process::Output {
    let child = command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    match receiver.recv_timeout(std::time::Duration::from_secs(ceiling)) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("still running after {ceiling} s");
        }
    }
}

#[test]
fn store_open_failures_name_their_cause() {
    let shared = crate::support::shared();
    let temp = tempdir("store-open");
    // A refused PostgreSQL.
    let refused = format!("postgres://pyimage@127.0.0.1:{}/h", closed_port());
    let output = run_within(
        pyimage()
            .config(&shared.config)
            .command_for_spawn(&["history", "--store", &refused]),
        25,
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains("refused"), "{}", stderr(&output));
    // A file that is not an SQLite database.
    let corrupt = temp.path().join("corrupt.db");
    std::fs::write(&corrupt, vec![b'x'; 8192]).unwrap();
    let url = format!("sqlite:{}", corrupt.display());
    let output = run_within(
        pyimage()
            .config(&shared.config)
            .command_for_spawn(&["history", "--store", &url]),
        25,
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("not an SQLite database"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn watch_once_on_a_locked_sqlite_store_fails_saying_so() {
    let shared = crate::support::shared();
    let temp = tempdir("store-locked");
    let path = temp.path().join("h.db");
    let url = format!("sqlite:{}", path.display());
    // Many tags: a watcher that waited out the lock once per tag would take minutes.
    let tags = [
        "python:3.12-slim",
        "python:3.12",
        "python:3.13-slim",
        "python:3.13",
        "python:3.11-slim",
        "python:3.11",
        "python:3.10-slim",
        "python:3.10",
        "python:3.14-slim",
        "python:3.14",
        "python:3.12-alpine",
        "python:3.13-alpine",
    ];
    watch_once(&shared.config, &url, &tags);
    // Another process holds the write lock (as a stuck writer or a backup would).
    let mut holder = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1], isolation_level=None)\nc.execute('BEGIN EXCLUSIVE')\nprint('locked', flush=True)\nsys.stdin.read()",
            path.to_str().unwrap(),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "locked");
    let mut args = vec!["watch", "--once", "--store", url.as_str()];
    args.extend(tags);
    let output = run_within(
        pyimage().config(&shared.config).command_for_spawn(&args),
        30,
    );
    drop(holder.stdin.take());
    let _ = holder.wait();
    assert_ne!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("locked by another"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn history_reads_a_store_it_cannot_write() {
    let shared = crate::support::shared();
    let temp = tempdir("store-read-only");
    let dir = temp.path().join("ro");
    std::fs::create_dir(&dir).unwrap();
    let path = dir.join("h.db");
    let url = format!("sqlite:{}", path.display());
    watch_once(&shared.config, &url, &["python:3.12-slim"]);
    use std::os::unix::fs::PermissionsExt as _;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let entry = entry.unwrap().path();
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o444)).unwrap();
    }
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // As an unprivileged user: root writes whatever the permissions say.
    let mut command = std::process::Command::new("setpriv");
    command
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_pyimage"))
        .args([
            "history",
            "python:3.12-slim",
            "--store",
            &url,
            "--format",
            "json",
        ])
        .env("NO_COLOR", "1")
        .env("HOME", "/nonexistent");
    let output = run_within(command, 60);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let events: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(events.as_array().map(Vec::len), Some(1), "{events}");
}

/// One oversized statement leaves out that statement only: the platform's other attestation (its SLSA provenance,
/// here naming a new build commit) is still read, and `unread` names the statement left out.
#[test]
fn an_oversized_sbom_leaves_out_only_itself_and_the_provenance_is_still_read() {
    let (replica, _) = Replica::start_seeded(library_file(BEFORE)).unwrap();
    let temp = tempdir("oversized-sbom-only");
    let config = temp.path().join("pyimage.toml");
    std::fs::write(&config, replica.pyimage_toml()).unwrap();
    let store = format!("sqlite:{}", temp.path().join("h.db").display());
    watch_once(&config, &store, &["python:3.12-slim"]);
    let commit = "0123456789abcdef0123456789abcdef01234567";
    rewrite_statements(&replica, "3.12-slim", |predicate_type, bytes| {
        let mut statement: Value = serde_json::from_slice(bytes).unwrap();
        if predicate_type == "https://spdx.dev/Document" {
            // 33 MiB: more than the 32 MiB pyimage reads of one statement.
            statement["predicate"]["comment"] = Value::from("x".repeat(33 * 1024 * 1024));
        } else if predicate_type.starts_with("https://slsa.dev/provenance/") {
            for pointer in [
                "/predicate/invocation/configSource/digest/sha1",
                "/predicate/buildDefinition/externalParameters/configSource/digest/sha1",
            ] {
                if let Some(value) = statement.pointer_mut(pointer) {
                    *value = Value::from(commit);
                }
            }
        } else {
            return None;
        }
        Some(serde_json::to_vec(&statement).unwrap())
    });
    let moved = watch_once(&config, &store, &["python:3.12-slim"]);
    assert!(stderr(&moved).contains("not read"), "{}", stderr(&moved));
    let output = pyimage().config(&config).run(&[
        "history",
        "python:3.12-slim",
        "--store",
        &store,
        "--format",
        "json",
    ]);
    let events = json(&output);
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 2, "{events:#?}");
    assert_eq!(
        events[1]["changes"]["commit"]["to"], commit,
        "the provenance of the platform is still read: {:#}",
        events[1]
    );
    let unread = events[1]["unread"].as_array().unwrap();
    assert!(
        !unread.is_empty()
            && unread.iter().all(|why| {
                let why = why.as_str().unwrap();
                why.contains("in-toto statement") && why.contains("bytes")
            }),
        "each statement left out is named with why: {unread:?}"
    );
}

#[test]
fn a_move_to_an_image_with_an_oversized_sbom_is_recorded_without_it() {
    let (replica, _) = Replica::start_seeded(library_file(BEFORE)).unwrap();
    let temp = tempdir("oversized-sbom");
    let config = temp.path().join("pyimage.toml");
    std::fs::write(&config, replica.pyimage_toml()).unwrap();
    let store = format!("sqlite:{}", temp.path().join("h.db").display());
    watch_once(&config, &store, &["python:3.12-slim"]);
    // 33 MiB of SBOM: more than the 32 MiB pyimage reads of one statement.
    rewrite_sboms(&replica, "3.12-slim", |bytes| {
        let mut statement: Value = serde_json::from_slice(bytes).unwrap();
        statement["predicate"]["comment"] = Value::from("x".repeat(33 * 1024 * 1024));
        serde_json::to_vec(&statement).unwrap()
    });
    let moved = watch_once(&config, &store, &["python:3.12-slim"]);
    assert!(
        stdout(&moved).starts_with("python:3.12-slim "),
        "the move is announced: {}",
        stdout(&moved)
    );
    assert!(stderr(&moved).contains("not read"), "{}", stderr(&moved));
    let output = pyimage().config(&config).run(&[
        "history",
        "python:3.12-slim",
        "--store",
        &store,
        "--format",
        "json",
    ]);
    let events = json(&output);
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 2, "{events:#?}");
    let unread = events[1]["unread"].as_array().unwrap();
    assert!(
        unread[0].as_str().unwrap().contains("bytes"),
        "why the statements were left out: {unread:?}"
    );
}
