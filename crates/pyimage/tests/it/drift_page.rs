//! The drift page from a real store (`pyimage history --format html`), in headless Chromium: the replica is replayed
//! over four official-images files of 2026 with a Debian rebuild between them, `pyimage watch --once` records each
//! step in SQLite, and the page Chromium reads must show exactly what the store holds (moves per tag and per kind,
//! the current digests the replica serves) and the lock's pins as stale, as many moves behind as their tags moved.
//! Screenshots at 1280 px and 390 px are kept under the test's output folder (`target/tmp/drift-page/`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use pyimage_testkit::browser::Browser;
use pyimage_testkit::{Replica, library_file};
use serde_json::Value;

use crate::support::{json, pyimage, stderr, stdout, tempdir};

const FILES: [&str; 3] = [
    "2026-06-24T170542-171eacb48b09.txt",
    "2026-07-20T152500-af4921c5450b.txt",
    "2026-08-13T122654-73f6781860cc.txt",
];
const TAGS: [&str; 3] = ["3.12-slim", "3.13-slim", "3.12"];

#[test]
fn history_html_shows_what_the_store_recorded_in_a_real_browser() {
    let (replica, _) =
        Replica::start_seeded(library_file("2026-06-03T111004-16008ef53423.txt")).unwrap();
    let temp = tempdir("drift-page");
    let dir = temp.path();
    let config = dir.join("pyimage.toml");
    std::fs::write(&config, replica.pyimage_toml()).unwrap();
    let store = format!("sqlite:{}", dir.join("history.db").display());
    std::fs::write(
        dir.join("Dockerfile"),
        "FROM python:3.12-slim AS build\nFROM python:3.13-slim\nCOPY --from=python:3.12 /usr/local /opt/py\n",
    )
    .unwrap();
    let pinned = pyimage()
        .config(&config)
        .current_dir(dir)
        .run(&["pin", "."]);
    assert_eq!(pinned.status.code(), Some(0), "{}", stderr(&pinned));
    let refs: Vec<String> = TAGS.iter().map(|t| format!("python:{t}")).collect();
    let watch = || {
        let mut args = vec!["watch", "--once", "--store", store.as_str()];
        args.extend(refs.iter().map(String::as_str));
        let output = pyimage().config(&config).run(&args);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    };
    watch();
    replica.replay_file(library_file(FILES[0])).unwrap();
    watch();
    replica
        .rebuild_where(|e| e.directory.starts_with("3.12/"))
        .unwrap();
    watch();
    for file in &FILES[1..] {
        replica.replay_file(library_file(file)).unwrap();
        watch();
    }

    // What the store holds, from the JSON form: moves per tag and kind (a tag's first event is not a move).
    let history = json(
        &pyimage()
            .config(&config)
            .run(&["history", "--store", &store, "--format", "json"]),
    );
    let mut moves: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for event in history.as_array().unwrap() {
        let kind = event["kind"].as_str().unwrap();
        if kind != "new-tag" {
            moves
                .entry(event["tag"].as_str().unwrap().to_owned())
                .or_default()
                .push(kind.to_owned());
        }
    }
    assert!(
        moves.values().map(Vec::len).sum::<usize>() >= 6,
        "{moves:?}"
    );

    let lock = dir.join("pyimage.lock");
    let output = pyimage().config(&config).run(&[
        "history",
        "--store",
        &store,
        "--lock",
        lock.to_str().unwrap(),
        "--format",
        "html",
    ]);
    // Stale pins exit 1 in every format (the page is still written): CI gates on the page as on the JSON.
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let page = stdout(&output);
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("drift-page");
    let browser = Browser::new(&out_dir).unwrap();
    let page_path = out_dir.join("history.html");
    std::fs::write(&page_path, &page).unwrap();
    let wide = browser.render(&page, 1280, "history-1280").unwrap();
    let dom = &wide.dom;

    let truth = replica.ground_truth().unwrap();
    for tag in TAGS {
        let recorded = moves.get(tag).map_or(0, Vec::len);
        let current = truth.digest(tag).unwrap();
        let article = format!(
            "data-tag=\"python:{tag}\" data-moves=\"{recorded}\" data-moves-30d=\"{recorded}\" \
             data-moves-90d=\"{recorded}\" data-current=\"{current}\""
        );
        assert!(dom.contains(&article), "{article} not in the page");
    }
    for kind in ["rebuild", "patch"] {
        let expected = moves.values().flatten().filter(|k| *k == kind).count();
        let marks = dom
            .matches(&format!("<g class=\"mark\" data-kind=\"{kind}\""))
            .count();
        assert_eq!(marks, expected, "{kind} marks");
    }
    assert!(dom.contains("<title>Python image drift</title>"));
    assert!(dom.contains("the history store sqlite:"));
    // Every pin of the lock is behind: each tag moved since `pin`, by as many moves as the store recorded.
    for tag in TAGS {
        let behind = moves.get(tag).map_or(0, Vec::len);
        let row = format!(
            "data-reference=\"python:{tag}\" data-status=\"stale\" data-moves-behind=\"{behind}\""
        );
        assert!(dom.contains(&row), "{row} not in the page");
    }
    assert!(dom.contains("3 of 3 pin(s) in"), "stale summary");

    let layout: &Value = &wide.layout;
    assert_eq!(layout["scrollWidth"], layout["innerWidth"], "{layout}");
    let narrow = browser.render(&page, 390, "history-390").unwrap().layout;
    assert_eq!(narrow["innerWidth"], 390, "{narrow}");
    assert!(
        narrow["scrollWidth"].as_u64().unwrap() <= 390,
        "overflows 390 px: {narrow}"
    );
    browser
        .screenshot(&page_path, 1280, "history-1280")
        .unwrap();
    browser.screenshot(&page_path, 390, "history-390").unwrap();
}
