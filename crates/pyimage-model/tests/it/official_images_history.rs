//! Every version since 2022-01 of docker-library/official-images `library/python` (147 files in
//! testdata/official-images/library-python) must parse, every tag in it must be understood by the Python tag model
//! with no unknown parts, each tag must belong to exactly one `Tags` family per file, and the most specific tag of
//! every entry must carry the line's full version recorded in line-versions-2023-2026.csv.
//!
//! Tags published before 2022 (the bare `rc` family, `onbuild`, `wheezy`, Windows `ltsc2016`/`1709`, …) come from
//! the older versions of the file in testdata/official-images/library-python-before-2022 (sources in
//! testdata/README.md): every distinct tag of every file, old and new, must be understood, and what the model says
//! about each tag of an entry must agree with the directory the entry is built from.
#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    clippy::expect_used,
    clippy::unwrap_used
)]

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::PathBuf;

use pyimage_model::official_images::{Library, TagKind};
use pyimage_model::python::{Float, OsFamily, PythonTag, PythonVersion, Variant};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/official-images")
}

/// (file name, text) of every library file since 2022-01, oldest first.
fn library_files() -> Vec<(String, String)> {
    files_in("library-python")
}

/// (file name, text) of every library file in `folder` of testdata/official-images, sorted by name.
fn files_in(folder: &str) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = fs::read_dir(data_dir().join(folder))
        .unwrap_or_else(|e| panic!("testdata/official-images/{folder}: {e}"))
        .map(|entry| {
            let path = entry.expect("dir entry").path();
            let name = path
                .file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            let text = fs::read_to_string(&path).expect("readable");
            (name, text)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn all_147_files_parse_and_every_tag_is_understood() {
    let files = library_files();
    assert_eq!(files.len(), 147);
    let mut failures = Vec::new();
    let mut tags_seen = 0usize;
    let mut floats: BTreeMap<Float, usize> = BTreeMap::new();
    for (name, text) in &files {
        let library = match Library::parse(text) {
            Ok(library) => library,
            Err(error) => {
                failures.push(format!("{name}: {error}"));
                continue;
            }
        };
        assert!(!library.entries.is_empty(), "{name} has entries");
        for tag in library.all_tags() {
            tags_seen += 1;
            let parsed = PythonTag::parse(tag);
            *floats.entry(parsed.float()).or_default() += 1;
            if !parsed.unknown.is_empty() {
                failures.push(format!(
                    "{name}: tag {tag}: unknown parts {:?}",
                    parsed.unknown
                ));
            }
            if parsed.variant.as_str() == "alpine" && parsed.os.is_none() && !tag.contains("alpine")
            {
                failures.push(format!(
                    "{name}: tag {tag}: alpine variant without 'alpine' in the tag"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Every float level except `pinned` (digest-only) occurs in real files.
    for level in [Float::Latest, Float::Major, Float::Minor, Float::Patch] {
        assert!(
            floats.get(&level).copied().unwrap_or(0) > 0,
            "no {level} tags seen"
        );
    }
    assert!(tags_seen > 10_000, "saw {tags_seen} tag occurrences");
}

#[test]
fn each_tag_belongs_to_exactly_one_tags_family_per_file() {
    for (name, text) in library_files() {
        let library = Library::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut owners: HashMap<&str, usize> = HashMap::new();
        for entry in &library.entries {
            for tag in &entry.tags {
                *owners.entry(tag).or_default() += 1;
            }
        }
        for (tag, count) in &owners {
            assert_eq!(*count, 1, "{name}: tag {tag} is in {count} Tags lists");
            let family = library.family(tag).expect("listed");
            assert_eq!(family.kind, TagKind::Own);
            assert_eq!(family.entries.len(), 1);
            assert!(family.aliases.iter().any(|alias| alias == tag));
        }
        // A shared tag is never also an entry's own tag, and names at least one entry.
        for entry in &library.entries {
            for tag in &entry.shared_tags {
                assert!(
                    !owners.contains_key(tag.as_str()),
                    "{name}: {tag} is both shared and own"
                );
                assert!(!library.entries_for_shared_tag(tag).is_empty());
            }
        }
    }
}

/// (short official-images commit, line directory) → full version, from line-versions-2023-2026.csv.
fn line_versions() -> HashMap<(String, String), String> {
    let text =
        fs::read_to_string(data_dir().join("line-versions-2023-2026.csv")).expect("csv readable");
    let mut rows = HashMap::new();
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 4, "csv row {line}");
        rows.insert(
            (fields[0][..12].to_owned(), fields[2].to_owned()),
            fields[3].to_owned(),
        );
    }
    rows
}

#[test]
fn most_specific_tag_carries_the_lines_full_version() {
    let versions = line_versions();
    let mut files_checked = 0;
    let mut entries_checked = 0;
    for (name, text) in library_files() {
        // File names are `<date>-<12-char commit>.txt`.
        let commit = name
            .trim_end_matches(".txt")
            .rsplit('-')
            .next()
            .expect("commit")
            .to_owned();
        let library = Library::parse(&text).expect("parses");
        let mut file_had_rows = false;
        for entry in &library.entries {
            let line_directory = entry.line_directory().to_owned();
            let Some(expected) = versions.get(&(commit.clone(), line_directory.clone())) else {
                continue;
            };
            file_had_rows = true;
            entries_checked += 1;
            let most_specific = entry.most_specific_tag().expect("entry has tags");
            let tag = PythonTag::parse(most_specific);
            let version = tag.version.map(|v| v.to_string());
            assert_eq!(
                version.as_deref(),
                Some(expected.as_str()),
                "{name}: {most_specific}"
            );
            assert_eq!(
                tag.float(),
                Float::Patch,
                "{name}: {most_specific} is exact"
            );
            // The line of the most specific tag is the entry's line directory (`3.12`, `3.15-rc`).
            assert_eq!(
                tag.line().as_deref(),
                Some(line_directory.as_str()),
                "{name}: {most_specific}"
            );
            // Every floating alias of the entry names the same image: same variant, compatible version.
            for alias in &entry.tags {
                let alias_tag = PythonTag::parse(alias);
                assert_eq!(
                    alias_tag.variant, tag.variant,
                    "{name}: {alias} vs {most_specific}"
                );
                if let (Some(a), Some(full)) = (alias_tag.version, tag.version) {
                    assert_eq!(a.major, full.major, "{name}: {alias}");
                    if let Some(minor) = a.minor {
                        assert_eq!(Some(minor), full.minor, "{name}: {alias}");
                    }
                }
            }
        }
        if file_had_rows {
            files_checked += 1;
        }
    }
    // The CSV covers every file from 2023 on.
    let files_since_2023 = library_files()
        .iter()
        .filter(|(name, _)| name.as_str() >= "2023")
        .count();
    assert_eq!(files_checked, files_since_2023);
    assert!(entries_checked > 4000, "checked {entries_checked} entries");
}

#[test]
fn newest_file_answers_the_documented_questions() {
    let files = library_files();
    let (name, text) = files.last().expect("files");
    let library = Library::parse(text).expect("parses");
    let family = library.family("3.12-slim").expect("listed");
    assert_eq!(
        family.most_specific.as_deref(),
        Some("3.12.14-slim-trixie"),
        "{name}"
    );
    let entry = family.entries[0];
    assert_eq!(entry.directory, "3.12/slim-trixie");
    assert_eq!(entry.git_commit.len(), 40);
    assert!(entry.architectures.iter().any(|a| a == "arm64v8"));

    // `3.14` spans Linux and Windows through SharedTags.
    let family = library.family("3.14").expect("listed");
    assert_eq!(family.kind, TagKind::Shared);
    assert!(
        family
            .entries
            .iter()
            .any(|e| e.architectures.iter().any(|a| a == "windows-amd64"))
    );
    assert!(
        family
            .entries
            .iter()
            .any(|e| e.architectures.iter().any(|a| a == "amd64"))
    );
    assert_eq!(family.most_specific.as_deref(), Some("3.14.7"));

    // `latest` and `3` follow the newest stable line, not the release candidate.
    let latest = library.family("latest").expect("listed");
    assert_eq!(latest.most_specific.as_deref(), Some("3.14.7"));
    let rc = library.family("3.15-rc").expect("listed");
    let rc_version = PythonTag::parse(rc.most_specific.as_deref().expect("tag"))
        .version
        .expect("version");
    assert_eq!(
        rc_version,
        PythonVersion::parse("3.15.0rc1").expect("version")
    );
    assert!(rc_version < PythonVersion::parse("3.15.0").expect("version"));

    let alpine = PythonTag::parse("3.13.9-alpine3.23");
    assert_eq!(alpine.variant, Variant::Alpine);
}

#[test]
fn versions_sort_in_release_order_across_history() {
    // Collect every full version ever published and check the ordering against a numeric key.
    let mut versions: Vec<PythonVersion> = Vec::new();
    for (_, text) in library_files() {
        let library = Library::parse(&text).expect("parses");
        for tag in library.all_tags() {
            if let Some(version) = PythonTag::parse(tag).version.filter(|v| v.is_full()) {
                versions.push(version);
            }
        }
    }
    versions.sort();
    versions.dedup();
    let phase_rank = |v: &PythonVersion| v.pre.map_or((3, 0), |p| (p.phase as u32, p.number));
    for pair in versions.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let key = |v: PythonVersion| (v.major, v.minor, v.patch, phase_rank(&v));
        assert!(key(a) < key(b), "{a} sorted before {b}");
    }
    let position = |text: &str| {
        let version = PythonVersion::parse(text).expect("version");
        versions.iter().position(|v| *v == version)
    };
    if let (Some(nine), Some(ten)) = (position("3.12.9"), position("3.12.10")) {
        assert!(nine < ten);
    }
    assert!(versions.len() > 100, "{} distinct versions", versions.len());
}

/// Every library file the project holds: the versions from before 2022 first, then the 147 since 2022-01.
fn every_library_file() -> Vec<(String, String)> {
    let older = files_in("library-python-before-2022");
    assert!(!older.is_empty(), "library-python-before-2022 holds files");
    older.into_iter().chain(library_files()).collect()
}

#[test]
fn every_distinct_tag_ever_published_is_understood() {
    // Distinct tag → the first file that lists it, so a failure names where to look.
    let mut first_seen: BTreeMap<String, String> = BTreeMap::new();
    for (name, text) in every_library_file() {
        let library = Library::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        for tag in library.all_tags() {
            first_seen
                .entry(tag.to_owned())
                .or_insert_with(|| name.clone());
        }
    }
    let offenders: Vec<String> = first_seen
        .iter()
        .filter_map(|(tag, file)| {
            let parsed = PythonTag::parse(tag);
            (!parsed.unknown.is_empty()).then(|| {
                format!(
                    "{tag} (first in {file}): unknown parts {:?}",
                    parsed.unknown
                )
            })
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "{} of {} distinct tags have unknown parts:\n{}",
        offenders.len(),
        first_seen.len(),
        offenders.join("\n")
    );
    // The old families are really in the data, so the assertion above covers them.
    for tag in [
        "rc",
        "rc-slim",
        "rc-windowsservercore-1709",
        "onbuild",
        "3.4-wheezy",
        "slim-jessie",
        "windowsservercore-ltsc2016",
    ] {
        assert!(first_seen.contains_key(tag), "{tag} is in the data");
    }
    assert!(
        first_seen.len() > 2400,
        "{} distinct tags",
        first_seen.len()
    );
}

#[test]
fn what_each_tag_says_agrees_with_the_directory_it_is_built_from() {
    // The Directory of an entry (`3.7-rc/stretch/slim`, `3.6/jessie/onbuild`, `3.12/windows/windowsservercore-1809`)
    // is docker-library's own statement of line, variant and OS; every own tag of the entry must say the same.
    let mut failures = Vec::new();
    let mut checked = 0usize;
    for (name, text) in every_library_file() {
        let library = Library::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        for entry in &library.entries {
            let directory = entry.directory.as_str();
            let components: Vec<&str> = directory.split('/').collect();
            let rc_directory = entry.line_directory().ends_with("-rc");
            let expected_variant = if directory.contains("onbuild") {
                Variant::OnBuild
            } else if directory.contains("windowsservercore") {
                Variant::WindowsServerCore
            } else if directory.contains("nanoserver") {
                Variant::NanoServer
            } else if directory.contains("alpine") {
                Variant::Alpine
            } else if directory.contains("slim") {
                Variant::Slim
            } else {
                Variant::Full
            };
            for tag in &entry.tags {
                checked += 1;
                let parsed = PythonTag::parse(tag);
                let mut wrong = Vec::new();
                if parsed.variant != expected_variant {
                    wrong.push(format!(
                        "variant {} (expected {expected_variant})",
                        parsed.variant
                    ));
                }
                if parsed.is_prerelease() != rc_directory {
                    wrong.push(format!("prerelease {}", parsed.is_prerelease()));
                }
                // `3.7-rc` for `3.7-rc-slim` and `3.7.0b5-slim`, `3.6` for `3.6.5`; `3`, `rc` and `latest` float
                // over lines and name none.
                if let Some(line) = parsed.line()
                    && line != entry.line_directory()
                {
                    wrong.push(format!("line {line}"));
                }
                if let Some(version) = parsed.version
                    && !entry
                        .line_directory()
                        .starts_with(&format!("{}.", version.major))
                {
                    wrong.push(format!("major version {}", version.major));
                }
                if let Some(os) = &parsed.os {
                    // `slim-trixie` or `trixie/slim`, `alpine3.7`, `windowsservercore-1709`: the OS name is a
                    // directory component or its last `-` part.
                    let named = components
                        .iter()
                        .any(|c| *c == os.name || c.rsplit('-').next() == Some(os.name.as_str()));
                    if !named {
                        wrong.push(format!("os {os} not in the directory"));
                    }
                    let windows = directory.contains("windows/");
                    if (os.family == OsFamily::Windows) != windows {
                        wrong.push(format!("os family {:?}", os.family));
                    }
                }
                if !wrong.is_empty() {
                    failures.push(format!(
                        "{name}: {tag} in {directory}: {}",
                        wrong.join(", ")
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 10_000, "checked {checked} tags");
}
