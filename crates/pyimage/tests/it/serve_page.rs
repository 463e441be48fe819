//! The page `pyimage serve` shows at `/`, on a listener of its own (`--page-listen`): the history store that
//! `pyimage watch` filled from the replica (a rebuild recorded), the lock's pins against it, and the decisions the
//! server just made (a denial, a patch) with the registry's health — read in headless Chromium, at 1280 and 390 px.

use std::path::PathBuf;

use pyimage_testkit::browser::Browser;
use pyimage_testkit::{Replica, library_file};
use serde_json::Value;

use crate::serve_support::{Server, curl, curl_get, response_of, review, write};
use crate::support::{pyimage, stderr, tempdir};

/// A replica seeded from an August 2026 file and a temporary directory whose `pyimage.toml` points docker.io at it,
/// maps `prod-*` namespaces to prod, has `[serve]` `serve_settings` and a history store in the directory.
fn replica_with_store(label: &str, serve_settings: &str) -> (Replica, tempfile::TempDir, PathBuf) {
    let (replica, _) =
        Replica::start_seeded(library_file("2026-08-04T164533-a3abd8e72539.txt")).unwrap();
    let temp = tempdir(label);
    let store = format!("sqlite:{}", temp.path().join("history.db").display());
    let config = write(
        temp.path(),
        "pyimage.toml",
        &format!(
            "{}\n[[namespaces]]\nmatch = \"prod-*\"\nenvironment = \"prod\"\n\n[serve]\n{serve_settings}\n\n[store]\nurl = \"{store}\"\n",
            replica.pyimage_toml()
        ),
    );
    (replica, temp, config)
}

#[test]
fn the_served_page_shows_history_stale_pins_and_admissions() {
    let (replica, temp, config) = replica_with_store("serve-page", "lock = \"pyimage.lock\"");
    let dir = temp.path();
    write(dir, "Dockerfile", "FROM python:3.12-slim\n");
    let pinned = pyimage()
        .config(&config)
        .current_dir(dir)
        .run(&["pin", "Dockerfile"]);
    assert_eq!(pinned.status.code(), Some(0), "{}", stderr(&pinned));
    let dockerfile = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
    let locked = dockerfile.trim().rsplit('@').next().unwrap().to_owned();
    let watch = || {
        let output = pyimage()
            .config(&config)
            .run(&["watch", "--once", "python:3.12-slim"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    };
    watch();
    replica
        .rebuild_where(|e| e.directory == "3.12/slim-trixie")
        .unwrap();
    watch();

    let page_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let page_addr = format!("127.0.0.1:{page_port}");
    let server = Server::start(&config, &["--page-listen", &page_addr]);
    // One denial (an end-of-life Python in prod) and one pin on admission.
    let mut denied =
        review("kubewarden-policies/verify-image-signatures/pod_creation_with_init_container.json");
    denied["request"]["namespace"] = "prod-shop".into();
    denied["request"]["object"]["spec"]["containers"][0]["image"] = "python:3.9-slim".into();
    let (status, body) = curl(
        &format!("{}/validate", server.url),
        None,
        "application/json",
        denied.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(response_of(&body)["allowed"], false, "{body}");
    let mut patched =
        review("kubewarden-policies/verify-image-signatures/pod_creation_with_init_container.json");
    patched["request"]["namespace"] = "prod-shop".into();
    patched["request"]["object"]["spec"]["containers"][0]["image"] = "python:3.12-slim".into();
    let (status, body) = curl(
        &format!("{}/mutate", server.url),
        None,
        "application/json",
        patched.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(response_of(&body)["patchType"], "JSONPatch", "{body}");

    // A tag the lock does not have: the registry is asked (one HEAD), and the page says it answered.
    patched["request"]["object"]["spec"]["containers"][0]["image"] = "python:3.13-slim".into();
    let (status, body) = curl(
        &format!("{}/mutate", server.url),
        None,
        "application/json",
        patched.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(response_of(&body)["patchType"], "JSONPatch", "{body}");

    // The page is on its own listener only.
    let (status, _) = curl_get(&format!("{}/", server.url), None);
    assert_eq!(status, 404, "the admission port does not serve the page");
    let (status, page) = curl_get(&format!("http://{page_addr}/"), None);
    assert_eq!(status, 200, "{page}");

    // The Renovate feed beside the page: the same releases as the CLI's feed, the rebuild's digest for 3.12-slim.
    let (status, feed) = curl_get(
        &format!("http://{page_addr}/feed/renovate/python.json"),
        None,
    );
    assert_eq!(status, 200, "{feed}");
    let feed: Value = serde_json::from_str(&feed).unwrap();
    let cli = pyimage()
        .config(&config)
        .run(&["history", "--format", "renovate"]);
    assert_eq!(cli.status.code(), Some(0), "{}", stderr(&cli));
    let cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(feed["releases"], cli["releases"], "{feed}");
    assert_eq!(
        feed["releases"][0]["digest"].as_str(),
        replica.ground_truth().unwrap().digest("3.12-slim"),
        "{feed}"
    );
    let (status, _) = curl_get(
        &format!("http://{page_addr}/feed/renovate/example.com/none.json"),
        None,
    );
    assert_eq!(status, 404, "a repository without history");

    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("serve-page");
    let browser = Browser::new(&out_dir).unwrap();
    let path = out_dir.join("served.html");
    std::fs::write(&path, &page).unwrap();
    let wide = browser.render(&page, 1280, "served-1280").unwrap();
    let dom = &wide.dom;
    let current = replica
        .ground_truth()
        .unwrap()
        .digest("3.12-slim")
        .unwrap()
        .to_owned();
    assert!(
        dom.contains(&format!("data-tag=\"python:3.12-slim\" data-moves=\"1\" data-moves-30d=\"1\" data-moves-90d=\"1\" data-current=\"{current}\"")),
        "timeline"
    );
    assert_eq!(
        dom.matches("<g class=\"mark\" data-kind=\"rebuild\"")
            .count(),
        1
    );
    assert!(
        dom.contains(
            "data-reference=\"python:3.12-slim\" data-status=\"stale\" data-moves-behind=\"1\""
        ),
        "stale pin"
    );
    // The chain of the watched tag, from what watch recorded and the server's policy: the stale pin is the broken
    // link (with what to do), the PSF link is said to be unchecked there.
    assert!(
        dom.contains("<details class=\"chain\" data-tag=\"python:3.12-slim\" data-broken=\"1\""),
        "chain section"
    );
    for (link, status) in [
        ("cpython-release", "unknown"),
        ("official-images", "unknown"),
        ("sbom", "ok"),
        ("docker-hub", "ok"),
        ("mirror-copy", "not-applicable"),
        ("signatures", "not-applicable"),
        ("lock", "broken"),
        ("cluster", "ok"),
    ] {
        assert!(
            dom.contains(&format!(
                "<tr data-link=\"{link}\" data-status=\"{status}\">"
            )),
            "chain link {link} {status}"
        );
    }
    assert!(dom.contains("carry no publisher signature"));
    assert!(dom.contains(
        "<strong>Fix:</strong> review the tag's moves and move the pin with `pyimage update`"
    ));
    assert!(dom.contains(&format!("python:3.12-slim named {current} at ")));
    assert!(dom.contains("prod: admitted"));
    assert!(dom.contains("Not checked here: the PSF's signature"));
    assert!(dom.contains("data-outcome=\"denied\""), "denial");
    assert!(dom.contains("python:3.9-slim"));
    assert!(
        dom.contains("<td>PY004, PY006</td>"),
        "the rules that denied"
    );
    assert!(dom.contains("data-outcome=\"patched\""), "patch");
    // Mutate pins from the lock first: the digest locked before the rebuild, not the current one.
    assert_ne!(locked, current);
    assert!(
        dom.contains(&format!("python:3.12-slim@{locked}")),
        "the pinned image: {locked}"
    );
    assert!(
        dom.contains("<tr data-environment=\"prod\">"),
        "counts per environment"
    );
    assert!(
        dom.contains("data-registry=\"docker.io\""),
        "registry health"
    );
    assert!(
        dom.contains("class=\"good\">answers</span>"),
        "the registry answered"
    );
    let narrow = browser.render(&page, 390, "served-390").unwrap().layout;
    assert!(
        narrow["scrollWidth"].as_u64().unwrap() <= 390,
        "overflows 390 px: {narrow}"
    );
    browser.screenshot(&path, 1280, "served-1280").unwrap();
    browser.screenshot(&path, 390, "served-390").unwrap();
    let (exit, log) = server.terminate();
    assert!(exit.success(), "{log}");
}

#[test]
fn mutate_pins_from_the_store_a_watcher_keeps_fresh_with_the_registry_gone() {
    let (replica, _temp, config) = replica_with_store("serve-store", "store-max-age = \"10m\"");
    let watched = pyimage()
        .config(&config)
        .run(&["watch", "--once", "python:3.13-slim"]);
    assert_eq!(watched.status.code(), Some(0), "{}", stderr(&watched));
    let digest = replica
        .ground_truth()
        .unwrap()
        .digest("3.13-slim")
        .unwrap()
        .to_owned();
    // The registry goes away: only the store can answer now.
    drop(replica);
    let server = Server::start(&config, &[]);
    let mut pod =
        review("kubewarden-policies/verify-image-signatures/pod_creation_with_init_container.json");
    pod["request"]["namespace"] = "prod-shop".into();
    pod["request"]["object"]["spec"]["containers"][0]["image"] = "python:3.13-slim".into();
    let (status, body) = curl(
        &format!("{}/mutate", server.url),
        None,
        "application/json",
        pod.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    let response = response_of(&body);
    assert_eq!(response["patchType"], "JSONPatch", "{body}");
    assert_eq!(
        response["auditAnnotations"]["pinned"],
        format!("python:3.13-slim@{digest}"),
        "{body}"
    );
    let (_, metrics) = curl_get(&format!("{}/metrics", server.url), None);
    assert!(
        metrics.contains("pyimage_digest_store_hits_total 1"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("pyimage_registry_lookups_total{"),
        "no HEAD was sent: {metrics}"
    );
    // A tag no watcher saw still needs the registry, which is gone: allowed without a patch, with a warning.
    pod["request"]["object"]["spec"]["containers"][0]["image"] = "python:3.12-slim".into();
    let (_, body) = curl(
        &format!("{}/mutate", server.url),
        None,
        "application/json",
        pod.to_string().as_bytes(),
    );
    let response = response_of(&body);
    assert_eq!(response["allowed"], true, "{body}");
    assert!(response.get("patch").is_none_or(Value::is_null), "{body}");
    assert!(
        response["warnings"][0]
            .as_str()
            .unwrap()
            .contains("not pinned"),
        "{body}"
    );
}

/// The stale-pins section reads, of a locked tag's timeline, only what it shows: the newest move and the one the
/// lock pins (with the move after it), not every move. A tag with 256 old moves of 512 KiB each (128 MiB of history
/// the page's window of recent moves does not include) is shown within the Deployment's memory limit, with the
/// pin's standing right: stale since the move after it, that many moves behind.
#[test]
fn the_stale_pins_of_a_long_timeline_are_read_within_the_memory_limit() {
    const MOVES: usize = 256;
    let temp = tempdir("serve-stale-long");
    let dir = temp.path();
    let db = dir.join("history.db");
    let store_url = format!("sqlite:{}", db.display());
    let digest = |i: usize| format!("sha256:{:064x}", i + 1);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let url = pyimage_store::StoreUrl::parse(&store_url).unwrap();
        let store = pyimage_store::Store::open(&url).await.unwrap();
        let padding = "x".repeat(512 * 1024);
        for i in 0..MOVES {
            // In January 2026: older than the page's widest window of recent moves (90 days).
            let at = format!(
                "2026-01-{:02}T{:02}:{:02}:00Z",
                1 + i / 24 / 60 % 28,
                i / 60 % 24,
                i % 60
            );
            let proposed = pyimage_store::Proposed {
                observation: pyimage_store::Observation {
                    repository: "docker.io/library/python".into(),
                    tag: "3.12-slim".into(),
                    digest: Some(digest(i)),
                    platforms: None,
                    observed_at: at,
                    source: "test".into(),
                },
                expected_from: i.checked_sub(1).map(digest),
                kind: if i == 0 { "new-tag" } else { "rebuild" }.into(),
                python_from: None,
                python_to: None,
                state: serde_json::json!({"platforms": {}, "padding": padding}),
                changes: serde_json::json!({}),
            };
            store.record(&proposed).await.unwrap();
        }
        store.close().await;
    });
    // The lock pins the 200th move: 56 moves behind, stale since the 201st.
    write(
        dir,
        "pyimage.lock",
        &format!(
            "version = 1\n\n[[image]]\nreference = \"python:3.12-slim\"\nnormalized = \"docker.io/library/python:3.12-slim\"\n\
             digest = \"{}\"\nmedia_type = \"application/vnd.oci.image.index.v1+json\"\n\
             resolved_at = \"2026-01-01T00:00:00Z\"\nregistry = \"registry-1.docker.io\"\n",
            digest(199)
        ),
    );
    let config = write(
        dir,
        "pyimage.toml",
        &format!("[serve]\nlock = \"pyimage.lock\"\n\n[store]\nurl = \"{store_url}\"\n"),
    );
    let server = Server::start(&config, &[]);
    let (status, html) = curl_get(&format!("{}/", server.url), None);
    assert_eq!(status, 200, "{html}\n{}", server.log());
    let peak = server.peak_rss_kib();
    eprintln!("the page over {MOVES} moves of 512 KiB: peak RSS {peak} KiB");
    assert!(
        peak < 128 * 1024,
        "peak RSS {peak} KiB reading the stale pins, over the Deployment's 128 MiB"
    );
    let row = html
        .split("<tr data-reference=\"python:3.12-slim\"")
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .unwrap_or_else(|| panic!("no stale-pins row: {html}"));
    assert!(
        row.contains("data-status=\"stale\" data-moves-behind=\"56\""),
        "{row}"
    );
    // The 201st move (the one after the pin) was observed at 03:20 on 1 January.
    assert!(row.contains("2026-01-01T03:20:00Z"), "stale since: {row}");
}
