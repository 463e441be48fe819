//! The drift page in a real browser (Debian's headless Chromium): the DOM Chromium builds from the page has the
//! tags, digests, counts and marks of a real tag history (`python:3.12-slim`'s nine digests of August 2026, from
//! docker-library/repo-info); the page does not overflow a 390 px screen; screenshots at 1280 px and 390 px are kept
//! under the test's output folder (`target/tmp/pyimage-report/`) as CI artifacts.

use std::path::{Path, PathBuf};

use pyimage_testkit::browser::Browser;

use pyimage_policy::chain::{Link, Status};
use pyimage_report::{
    AdmissionDecision, AdmissionSection, ChainSection, Change, MoveKind, Outcome, PackageChange,
    RegistryHealth, Report, StalePin, StaleSection, TagChain, TagMove, Timeline,
};

/// Unix seconds of a `YYYY-MM-DD` date at noon UTC.
fn noon(date: &str) -> u64 {
    let parts: Vec<i64> = date.split('-').map(|p| p.parse().unwrap()).collect();
    let (y, m, d) = (parts[0], parts[1], parts[2]);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + 43_200).unwrap()
}

fn upgraded(name: &str, from: &str, to: &str) -> PackageChange {
    PackageChange {
        name: name.into(),
        change: Change::Upgraded,
        from: Some(from.into()),
        to: Some(to.into()),
    }
}

/// `python:3.12-slim`'s real history: one move per row of repo-info's record (rows on the same day an hour apart).
/// The package changes are illustrative (repo-info keeps no SBOM); the digests, dates and versions are real.
fn history() -> Timeline {
    let csv_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/repo-info/history-3.12-slim.csv");
    let text = std::fs::read_to_string(csv_path).unwrap();
    let mut moves: Vec<TagMove> = Vec::new();
    let mut previous: Option<(String, String)> = None;
    let mut first_seen = 0;
    for (row, line) in text.lines().skip(1).enumerate() {
        let fields: Vec<&str> = line.splitn(7, ',').collect();
        let (date, digest, python) = (fields[1], fields[3].to_owned(), fields[4].to_owned());
        let at = noon(date) + 3_600 * u64::try_from(row).unwrap();
        if row == 0 {
            first_seen = at;
            previous = Some((digest, python));
            continue;
        }
        let (old_digest, old_python) = previous.take().unwrap();
        let kind = if old_python == python {
            MoveKind::Rebuild
        } else {
            MoveKind::Patch
        };
        let packages = if fields[6].contains("base-image rebuild") {
            vec![
                upgraded("openssl", "3.5.1-1", "3.5.1-1+deb13u1"),
                upgraded("libc6", "2.41-12", "2.41-12+deb13u1"),
                upgraded("tzdata", "2025b-4", "2025b-4+deb13u1"),
                upgraded("libgnutls30t64", "3.8.9-3", "3.8.9-3+deb13u1"),
            ]
        } else {
            Vec::new()
        };
        moves.push(TagMove {
            at,
            kind,
            old_digest: Some(old_digest),
            new_digest: digest.clone(),
            python_before: Some(old_python),
            python_after: Some(python.clone()),
            packages,
        });
        previous = Some((digest, python));
    }
    let (current, python) = previous.unwrap();
    Timeline {
        reference: "python:3.12-slim".into(),
        first_seen,
        current_digest: Some(current),
        current_python: Some(python),
        moves,
    }
}

fn report() -> Report {
    let timeline = history();
    let first = timeline.moves[0].old_digest.clone().unwrap();
    let fourth = timeline.moves[3].new_digest.clone();
    let current = timeline.current_digest.clone().unwrap();
    let chains = ChainSection {
        scope: "what watch recorded".into(),
        tags: vec![TagChain {
            reference: "python:3.12-slim".into(),
            digest: Some(current.clone()),
            links: vec![
                Link::new(
                    "docker-hub",
                    Status::Ok,
                    vec![format!("python:3.12-slim named {current}")],
                ),
                Link::new(
                    "sbom",
                    Status::Unknown,
                    vec!["<b>not bold</b> package".into()],
                )
                .with_fix("`pyimage provenance python:3.12-slim` checks the attestations"),
                Link::new(
                    "lock",
                    Status::Broken,
                    vec![format!("pinned to {first}, 8 move(s) behind")],
                )
                .with_fix("move the pin with `pyimage update`"),
            ],
        }],
    };
    Report {
        title: "Python image drift".into(),
        source: "testdata/repo-info/history-3.12-slim.csv".into(),
        generated_at: noon("2026-09-10"),
        timelines: vec![
            timeline,
            Timeline {
                reference: "python:3.13-alpine <b>not bold</b>".into(),
                first_seen: noon("2026-08-20"),
                current_digest: None,
                current_python: None,
                moves: Vec::new(),
            },
        ],
        stale: Some(StaleSection {
            source: "pyimage.lock".into(),
            pins: vec![
                StalePin {
                    reference: "python:3.12-slim (deploy/prod/api.yaml)".into(),
                    pinned_digest: current.clone(),
                    current_digest: Some(current.clone()),
                    stale_since: None,
                    moves_behind: 0,
                },
                StalePin {
                    reference: "python:3.12-slim (services/api/Dockerfile)".into(),
                    pinned_digest: fourth,
                    current_digest: Some(current.clone()),
                    stale_since: Some(noon("2026-08-13") + 3 * 3_600),
                    moves_behind: 4,
                },
                StalePin {
                    reference: "python:3.12-slim (ci/Dockerfile.test)".into(),
                    pinned_digest: first,
                    current_digest: Some(current),
                    stale_since: Some(noon("2026-08-05") + 3_600),
                    moves_behind: 8,
                },
            ],
        }),
        chains: Some(chains),
        admission: Some(AdmissionSection {
            decisions: vec![
                AdmissionDecision {
                    at: noon("2026-09-10") - 60,
                    namespace: "shop".into(),
                    environment: "prod".into(),
                    object: "Deployment/shop-api (container migrate)".into(),
                    image: "python:3.12-slim".into(),
                    outcome: Outcome::Patched,
                    rule: Some("PY004".into()),
                },
                AdmissionDecision {
                    at: noon("2026-09-10") - 120,
                    namespace: "shop".into(),
                    environment: "prod".into(),
                    object: "CronJob/nightly-report (container report)".into(),
                    image: "python:3.9-slim".into(),
                    outcome: Outcome::Denied,
                    rule: Some("PY006".into()),
                },
                AdmissionDecision {
                    at: noon("2026-09-10") - 180,
                    namespace: "shop-test".into(),
                    environment: "test".into(),
                    object: "Pod/debug (container shell)".into(),
                    image: "python:3.12.14-slim".into(),
                    outcome: Outcome::Allowed,
                    rule: None,
                },
            ],
            registries: vec![RegistryHealth {
                registry: "docker.io".into(),
                ok: true,
                detail: "HEAD 200 in 41 ms".into(),
            }],
        }),
    }
}

/// The output folder of this test (kept after the run: CI collects it).
fn output_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pyimage-report")
}

#[test]
fn chromium_reads_the_drift_page_of_a_real_tag_history() {
    let page = pyimage_report::render(&report());
    let browser = Browser::new(&output_dir()).unwrap();
    let path = output_dir().join("drift.html");
    std::fs::write(&path, &page).unwrap();
    let wide = browser.render(&page, 1280, "drift-1280").unwrap();
    let dom = &wide.dom;

    // The real history: nine digests, eight moves, one of them the 3.12.13 → 3.12.14 patch; seven rebuilds.
    assert!(dom.contains("data-tag=\"python:3.12-slim\" data-moves=\"8\" data-moves-30d=\"6\" data-moves-90d=\"8\""), "{dom}");
    assert!(dom.contains(
        "data-current=\"sha256:97490e383c4cffb12825431fa24e3d2b70e39fd691a8e33c46bf4c18edca3998\""
    ));
    assert_eq!(
        dom.matches("<g class=\"mark\" data-kind=\"rebuild\"")
            .count(),
        7
    );
    assert_eq!(
        dom.matches("<g class=\"mark\" data-kind=\"patch\"").count(),
        1
    );
    assert!(dom.contains("3.12.13 → 3.12.14"));
    assert!(
        dom.contains("openssl 3.5.1-1 → 3.5.1-1+deb13u1; libc6 2.41-12 → 2.41-12+deb13u1; tzdata")
    );
    assert!(dom.contains("and 1 more"));
    // Text alternatives for the picture, and a title.
    assert!(dom.contains("<title>Python image drift</title>"));
    assert!(dom.contains("8 move(s) of python:3.12-slim between 2026-08-05 and 2026-09-10: 7 rebuild, 1 patch release; now sha256:97490e383c4c…"), "{dom}");
    // Registry data is text, never markup.
    assert!(dom.contains("python:3.13-alpine &lt;b&gt;not bold&lt;/b&gt;"));
    assert!(!dom.contains("<b>not bold</b>"));
    // Stale pins worst first: 8 behind, then 4, then the current one.
    let order: Vec<usize> = [
        "data-moves-behind=\"8\"",
        "data-moves-behind=\"4\"",
        "data-moves-behind=\"0\"",
    ]
    .iter()
    .map(|needle| dom.find(needle).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    assert!(dom.contains("2 of 3 pin(s) in pyimage.lock are behind their tag."));
    // The chain of trust: a row per link with its status, a broken one opening its tag and saying what to do.
    assert!(
        dom.contains(
            "<details class=\"chain\" data-tag=\"python:3.12-slim\" data-broken=\"1\" open=\"\">"
        ),
        "{dom}"
    );
    assert!(dom.contains(
        "<tr data-link=\"lock\" data-status=\"broken\"><td>lock</td><td class=\"bad\">broken</td>"
    ));
    assert!(dom.contains("<strong>Fix:</strong> move the pin with `pyimage update`"));
    assert!(dom.contains("<strong>To settle it:</strong> `pyimage provenance python:3.12-slim`"));
    assert!(dom.contains("&lt;b&gt;not bold&lt;/b&gt; package"));
    assert!(dom.contains("1 ok, 1 broken, 1 unknown, 0 not applicable"));
    // Admission: counts per environment and the last decisions.
    assert!(dom.contains("<tr data-environment=\"prod\"><td>prod</td><td>0</td><td>0</td><td>1</td><td>1</td></tr>"), "{dom}");
    assert!(dom.contains("data-outcome=\"denied\""));

    let wide = &wide.layout;
    assert_eq!(wide["scrollWidth"], wide["innerWidth"], "{wide}");
    assert!(wide["svgWidths"][0].as_u64().unwrap() > 900, "{wide}");

    let narrow = browser.render(&page, 390, "drift-390").unwrap().layout;
    assert_eq!(narrow["innerWidth"], 390, "{narrow}");
    assert!(
        narrow["scrollWidth"].as_u64().unwrap() <= 390,
        "the page overflows a 390 px screen: {narrow}"
    );
    // The timeline keeps a legible size (34rem) and scrolls inside its own box instead of shrinking to a smudge.
    let svg_width = narrow["svgWidths"][0].as_u64().unwrap();
    assert_eq!(svg_width, 34 * 16, "{narrow}");

    browser.screenshot(&path, 1280, "drift-1280").unwrap();
    browser.screenshot(&path, 390, "drift-390").unwrap();
}

#[test]
fn the_page_needs_no_script_and_no_network() {
    let page = pyimage_report::render(&report());
    assert!(
        !page.contains("<script"),
        "the page must be readable without script"
    );
    for external in ["http://", "https://", "src=\"//", "@import"] {
        let hits: Vec<&str> = page.matches(external).collect();
        // The SVG namespace is a name, not a fetch.
        let allowed = page.matches("xmlns=\"http://www.w3.org/2000/svg\"").count();
        assert!(external != "http://" || hits.len() == allowed, "{external}");
        assert!(external == "http://" || hits.is_empty(), "{external}");
    }
}
