//! Controlled updates against the Docker Hub replica and a real SQLite history store: every move explained in the
//! pull-request body (`update --format markdown`), a cool-down per environment that holds a digest younger than it,
//! and promotion (prod moves only to what test pins and has pinned long enough). Time passes by rewriting the times
//! the store and the lock recorded, with Python's sqlite3 and a text edit, never by sleeping; the package changes
//! expected are the testkit's own table of what the replica's rebuild changed.

use std::path::{Path, PathBuf};
use std::process::Output;

use pyimage_testkit::{Replica, library_file};
use serde_json::Value;
use tempfile::TempDir;

use crate::support::{json, pyimage, stderr, stdout, tempdir, testdata};

/// Python 3.12.13 on the replica.
const SEED: &str = "2026-08-04T164533-a3abd8e72539.txt";
const DAY: u64 = 86_400;

/// A project with a history store, a `pyimage.toml` for the replica plus `extra`, and `files` written.
struct Project {
    _temp: TempDir,
    dir: PathBuf,
    config: PathBuf,
    store: String,
    db: PathBuf,
}

impl Project {
    fn new(replica: &Replica, name: &str, extra: &str, files: &[(&str, &str)]) -> Project {
        let temp = tempdir(name);
        let dir = temp.path().to_path_buf();
        let config = dir.join("pyimage.toml");
        std::fs::write(&config, format!("{}\n{extra}", replica.pyimage_toml())).unwrap();
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let db = dir.join("history.db");
        Project {
            store: format!("sqlite:{}", db.display()),
            _temp: temp,
            dir,
            config,
            db,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        pyimage()
            .config(&self.config)
            .current_dir(&self.dir)
            .today()
            .run(args)
    }

    fn ok(&self, args: &[&str]) -> Output {
        let output = self.run(args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}{}",
            stdout(&output),
            stderr(&output)
        );
        output
    }

    fn watch(&self) {
        self.ok(&[
            "watch",
            "--once",
            "--store",
            &self.store,
            "python:3.12-slim",
        ]);
    }

    fn update_json(&self, extra: &[&str]) -> Value {
        let mut args = vec!["update", "--format", "json", "--store", &self.store];
        args.extend_from_slice(extra);
        json(&self.ok(&args))
    }

    fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.dir.join(relative)).unwrap()
    }

    /// Moves every recorded time of the watcher's sightings of `digest` back by `days`.
    fn age_in_store(&self, digest: &str, days: u64) {
        sql(
            &self.db,
            &format!(
                "UPDATE events SET observed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-{days} days') \
                 WHERE to_digest = '{digest}'"
            ),
        );
    }
}

fn sql(db: &Path, statement: &str) {
    let script = "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nc.execute(sys.argv[2])\nc.commit()\n";
    let status = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(db)
        .arg(statement)
        .status()
        .unwrap();
    assert!(status.success(), "{statement}");
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The Unix time of an RFC 3339 UTC timestamp as pyimage writes them (`2026-12-07T06:00:00Z`), by Python.
fn unix(rfc3339: &str) -> u64 {
    let output = std::process::Command::new("python3")
        .args([
            "-c",
            "import datetime, sys\nprint(int(datetime.datetime.strptime(sys.argv[1], '%Y-%m-%dT%H:%M:%SZ')\
             .replace(tzinfo=datetime.timezone.utc).timestamp()))",
            rfc3339,
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}

fn rebuild(replica: &Replica) -> String {
    let advance = replica
        .rebuild_where(|e| e.directory == "3.12/slim-trixie")
        .unwrap();
    advance.moved("3.12-slim").unwrap().new_digest.clone()
}

/// The package changes of the replica's first Debian rebuild, in the order a reviewer reads them: the
/// security-relevant ones first (OpenSSL, then the C library, then compression), then the rest by name.
fn expected_packages() -> Vec<(String, String, String)> {
    let mut expected: Vec<(String, String, String)> =
        pyimage_testkit::sbom::FIRST_REBUILD_DEBIAN_SLIM_UPGRADES
            .iter()
            .map(|(n, f, t)| ((*n).to_owned(), (*f).to_owned(), (*t).to_owned()))
            .collect();
    let rank = |name: &str| match name {
        n if n.starts_with("libssl") => 0,
        n if n.starts_with("libc6") => 1,
        n if n.starts_with("liblzma") => 2,
        _ => 3,
    };
    expected.sort_by(|a, b| rank(&a.0).cmp(&rank(&b.0)).then_with(|| a.0.cmp(&b.0)));
    expected
}

/// A rebuild a watcher saw: `update --format markdown` says what moved in its title, when Docker Hub first served
/// the digest (the store's time, not the build time), the base image and the package changes; the JSON carries the
/// same evidence.
#[test]
fn a_rebuild_seen_by_watch_is_explained_in_the_pull_request_body() {
    let (replica, _) = Replica::start_seeded(library_file(SEED)).unwrap();
    let project = Project::new(
        &replica,
        "explained",
        "",
        &[("app/Dockerfile", "FROM python:3.12-slim\n")],
    );
    project.ok(&["pin", "app"]);
    project.watch();
    let new_digest = rebuild(&replica);
    project.watch();
    let body = stdout(&project.ok(&[
        "update",
        "--dry-run",
        "--format",
        "markdown",
        "--store",
        &project.store,
        "app",
    ]));
    let title = body.lines().next().unwrap();
    let expected = expected_packages();
    let (name, from, to) = &expected[0];
    assert_eq!(
        title,
        format!(
            "# python:3.12-slim: Debian rebuild ({name} {} → {})",
            from.replace('~', "\\~"),
            to.replace('~', "\\~")
        ),
        "{body}"
    );
    assert!(body.contains("first seen by pyimage watch"), "{body}");
    assert!(
        body.contains(&format!("`python:3.12-slim@{new_digest}`")),
        "{body}"
    );
    assert!(body.contains("- **Base image:** `"), "{body}");
    // Each changed package is a table row; the order is the reviewer's.
    let rows: Vec<&str> = body
        .lines()
        .filter(|l| l.contains("| upgraded |"))
        .collect();
    assert_eq!(rows.len(), expected.len(), "{body}");
    for (row, (name, from, to)) in rows.iter().zip(&expected) {
        assert!(row.starts_with(&format!("| {name} |")), "{row}");
        assert!(
            row.contains(&from.replace('~', "\\~")) && row.contains(&to.replace('~', "\\~")),
            "{row}"
        );
    }

    let report = project.update_json(&["app"]);
    let change = &report["changes"][0];
    assert_eq!(change["kind"], "rebuild");
    let explanation = &change["explanation"];
    assert_eq!(explanation["first_served"]["source"], "history-store");
    let names: Vec<&str> = explanation["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        expected.iter().map(|e| e.0.as_str()).collect::<Vec<_>>()
    );
    assert!(explanation["base_image"]["to"].is_string(), "{explanation}");
    assert_eq!(
        project.read("app/Dockerfile"),
        format!("FROM python:3.12-slim@{new_digest}\n")
    );
    project.ok(&["check", "--locked", "app"]);

    // The feed for Renovate: the tag's release is the new digest, dated when the watcher first saw it.
    let feed = json(&project.ok(&[
        "history",
        "python:3.12-slim",
        "--store",
        &project.store,
        "--format",
        "renovate",
    ]));
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(testdata("renovate-custom-datasource.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&feed)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{feed}");
    let release = &feed["releases"][0];
    assert_eq!(release["version"], "3.12-slim");
    assert_eq!(release["digest"], new_digest.as_str());
    assert_eq!(
        release["releaseTimestamp"], explanation["first_served"]["at"],
        "{feed}"
    );
    assert_eq!(
        feed["pyimage"]["tags"]["3.12-slim"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// `cooldown = "7d"`: a rebuild the watcher saw today is held with the date it becomes eligible; a week later
/// (the store's time moved back) it is taken. A tag re-pointed again inside the window holds the new digest: its
/// window starts when it was first served.
#[test]
fn a_move_younger_than_the_cooldown_is_held_until_it_is_old_enough() {
    let (replica, _) = Replica::start_seeded(library_file(SEED)).unwrap();
    let project = Project::new(
        &replica,
        "cooldown",
        "[environments.prod]\ncooldown = \"7d\"\n[[paths]]\npattern = \"app/**\"\nenvironment = \"prod\"\n",
        &[("app/Dockerfile", "FROM python:3.12-slim\n")],
    );
    project.ok(&["pin", "app"]);
    let pinned = project.read("app/Dockerfile");
    project.watch();
    let first = rebuild(&replica);
    project.watch();

    let report = project.update_json(&["app"]);
    assert_eq!(report["changes"], Value::Array(vec![]), "{report}");
    let held = &report["held"][0];
    assert_eq!(held["control"], "cooldown", "{report}");
    assert_eq!(held["to"], format!("python:3.12-slim@{first}"));
    let served = unix(held["explanation"]["first_served"]["at"].as_str().unwrap());
    assert_eq!(
        unix(held["eligible_at"].as_str().unwrap()),
        served + 7 * DAY
    );
    assert!(
        served.abs_diff(now()) < DAY,
        "first served is the watcher's time, today"
    );
    assert_eq!(
        project.read("app/Dockerfile"),
        pinned,
        "a held move writes nothing"
    );
    project.ok(&["check", "--locked", "app"]);

    // Eight days later the first rebuild is old enough, but the tag moved again two days ago.
    project.age_in_store(&first, 8);
    let second = rebuild(&replica);
    project.watch();
    project.age_in_store(&second, 2);
    let report = project.update_json(&["app"]);
    let held = &report["held"][0];
    assert_eq!(held["to"], format!("python:3.12-slim@{second}"), "{report}");
    let served = unix(held["explanation"]["first_served"]["at"].as_str().unwrap());
    assert_eq!(
        unix(held["eligible_at"].as_str().unwrap()),
        served + 7 * DAY
    );
    assert!(served.abs_diff(now() - 2 * DAY) < DAY);

    project.age_in_store(&second, 8);
    let report = project.update_json(&["app"]);
    assert_eq!(report["held"], Value::Array(vec![]), "{report}");
    assert_eq!(
        report["changes"][0]["new"],
        format!("python:3.12-slim@{second}")
    );
    assert_eq!(
        project.read("app/Dockerfile"),
        format!("FROM python:3.12-slim@{second}\n")
    );
    project.ok(&["check", "--locked", "app"]);
}

/// `promote-from = "test"` with `promote-after = "3d"`: after a rebuild test moves and prod is refused (test has not
/// pinned it for three days), with the lock keeping an entry for each; three days later (the lock's time moved
/// back) prod moves to exactly what test pins — and `check --locked` is clean at every step.
#[test]
fn prod_moves_only_to_what_test_has_run_for_long_enough() {
    let (replica, _) = Replica::start_seeded(library_file(SEED)).unwrap();
    let project = Project::new(
        &replica,
        "promotion",
        "[environments.prod]\npromote-from = \"test\"\npromote-after = \"3d\"\n\
         [environments.test]\nupdate = \"digest\"\n\
         [[paths]]\npattern = \"test/**\"\nenvironment = \"test\"\n\
         [[paths]]\npattern = \"prod/**\"\nenvironment = \"prod\"\n",
        &[
            ("test/Dockerfile", "FROM python:3.12-slim\n"),
            ("prod/Dockerfile", "FROM python:3.12-slim\n"),
        ],
    );
    project.ok(&["pin", "."]);
    let old = project.read("prod/Dockerfile");
    let rebuilt = rebuild(&replica);

    let report = project.update_json(&["."]);
    let moved: Vec<&str> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(moved, ["test/Dockerfile"], "{report}");
    let held = &report["held"][0];
    assert_eq!(
        (held["path"].as_str(), held["control"].as_str()),
        (Some("prod/Dockerfile"), Some("promotion"))
    );
    // Test had not pinned the rebuild when the run began.
    let reason = held["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(&format!("test does not pin 3.12-slim@{}", &rebuilt[..19])),
        "{reason}"
    );
    assert!(reason.contains("(test/Dockerfile:1)"), "{reason}");
    project.ok(&["check", "--locked", "."]);

    // The next run: test has run it for less than three days.
    let report = project.update_json(&["."]);
    assert_eq!(report["changes"], Value::Array(vec![]), "{report}");
    let reason = report["held"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("test pins it (test/Dockerfile:1) since"),
        "{reason}"
    );
    assert!(reason.contains("promote-after = 3d"), "{reason}");
    let eligible = report["held"][0]["eligible_at"].as_str().unwrap();
    assert!(unix(eligible).abs_diff(now() + 3 * DAY) < DAY, "{eligible}");
    assert_eq!(project.read("prod/Dockerfile"), old);
    project.ok(&["check", "--locked", "."]);

    // Test has run the rebuild for four days: prod is promoted to it.
    let lock = project.read("pyimage.lock");
    let four_days_ago = {
        let output = std::process::Command::new("python3")
            .args([
                "-c",
                "import datetime\nprint((datetime.datetime.now(datetime.timezone.utc) - \
                 datetime.timedelta(days=4)).strftime('%Y-%m-%dT%H:%M:%SZ'))",
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    let aged: String = lock
        .lines()
        .map(|line| {
            if line.trim_start().starts_with("resolved_at") {
                format!("resolved_at = \"{four_days_ago}\"")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(project.dir.join("pyimage.lock"), aged + "\n").unwrap();
    let report = project.update_json(&["."]);
    assert_eq!(report["held"], Value::Array(vec![]), "{report}");
    assert_eq!(report["changes"][0]["path"], "prod/Dockerfile", "{report}");
    assert_eq!(
        project.read("prod/Dockerfile"),
        format!("FROM python:3.12-slim@{rebuilt}\n")
    );
    project.ok(&["check", "--locked", "."]);
}

/// `promote-lock`: test keeps its own lock (another checkout or branch); prod reads test's pins from it, refuses the
/// rebuild until test's lock records it, then moves to it.
#[test]
fn prod_reads_what_test_runs_from_test_s_own_lock() {
    let (replica, _) = Replica::start_seeded(library_file(SEED)).unwrap();
    let project = Project::new(
        &replica,
        "promote-lock",
        "[environments.prod]\npromote-from = \"test\"\npromote-lock = \"test.lock\"\n\
         [environments.test]\nupdate = \"digest\"\n\
         [[paths]]\npattern = \"test/**\"\nenvironment = \"test\"\n\
         [[paths]]\npattern = \"prod/**\"\nenvironment = \"prod\"\n",
        &[
            ("test/Dockerfile", "FROM python:3.12-slim\n"),
            ("prod/Dockerfile", "FROM python:3.12-slim\n"),
        ],
    );
    project.ok(&["pin", "--lock", "test.lock", "test"]);
    project.ok(&["pin", "prod"]);
    let rebuilt = rebuild(&replica);
    let report = project.update_json(&["prod"]);
    let reason = report["held"][0]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("test does not pin") && reason.contains("(test.lock)"),
        "{report}"
    );
    project.update_json(&["--lock", "test.lock", "test"]);
    let report = project.update_json(&["prod"]);
    assert_eq!(report["held"], Value::Array(vec![]), "{report}");
    assert_eq!(
        project.read("prod/Dockerfile"),
        format!("FROM python:3.12-slim@{rebuilt}\n")
    );
    project.ok(&["check", "--locked", "prod"]);
}
