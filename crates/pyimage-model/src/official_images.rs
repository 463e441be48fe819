//! The docker-library/official-images "library" file format (`library/python`), the public record of which tags
//! exist, which tags are aliases of one image, and which git commit and directory each image is built from.
//!
//! The format is RFC 2822-like: stanzas of `Key: value` lines separated by blank lines, `#` comments, and
//! continuation lines that start with white space. The first stanza is the header (`Maintainers`, `GitRepo`,
//! `Builder`, …); its fields are defaults for every entry. Each later stanza is one image (an *entry*) with `Tags`,
//! optional `SharedTags` (tags that several entries share, such as `3.14` spanning Linux and Windows),
//! `Architectures`, `GitCommit`, `Directory`, and optionally `Constraints`, `Builder`, `GitFetch`, `File`.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use thiserror::Error;

use crate::python::PythonTag;

/// A problem in a library file, with the 1-based line it was found on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}: {kind}")]
pub struct LibraryError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub kind: LibraryErrorKind,
}

/// What is wrong with a library file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LibraryErrorKind {
    /// A line that is neither `Key: value`, a continuation, a comment nor blank.
    #[error("expected 'Key: value', found {0:?}")]
    NotAField(String),
    /// A continuation line with no field before it.
    #[error("continuation line without a field before it")]
    DanglingContinuation,
    /// The same field twice in one stanza.
    #[error("field {0} given twice in one entry")]
    DuplicateField(String),
    /// A required field is missing from an entry.
    #[error("entry has no {0} field")]
    MissingField(&'static str),
    /// `GitCommit` is not 40 hex characters.
    #[error("GitCommit {0:?} is not a 40-character hex commit id")]
    BadCommit(String),
    /// A tag is not a valid tag.
    #[error("{field} has an invalid tag {tag:?}")]
    BadTag {
        /// `Tags` or `SharedTags`.
        field: &'static str,
        /// The invalid tag as written.
        tag: String,
    },
    /// A tag appears in the `Tags` of two entries.
    #[error("tag {tag:?} is in the Tags of two entries (also line {first_line})")]
    DuplicateTag {
        /// The tag listed twice (`3.12-slim`).
        tag: String,
        /// Line of the first entry that has it.
        first_line: usize,
    },
    /// The file has no entries at all.
    #[error("the file has no image entries")]
    NoEntries,
}

/// One image of the library file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Tags unique to this image, in file order (most specific first by docker-library convention).
    pub tags: Vec<String>,
    /// Tags this image shares with other entries (a multi-OS tag such as `3.14`).
    pub shared_tags: Vec<String>,
    /// Architectures in bashbrew's naming (`amd64`, `arm64v8`, `windows-amd64`, …).
    pub architectures: Vec<String>,
    /// The docker-library/python commit the image is built from.
    pub git_commit: String,
    /// The directory of the Dockerfile within that repository (`3.12/slim-trixie`).
    pub directory: String,
    /// Git repository (inherited from the header when not given).
    pub git_repo: Option<String>,
    /// Git ref to fetch, when not the default branch.
    pub git_fetch: Option<String>,
    /// Build constraints (`windowsservercore-ltsc2022`).
    pub constraints: Vec<String>,
    /// Builder (`buildkit`, `classic`), inherited from the header when not given.
    pub builder: Option<String>,
    /// Fields this parser does not model, kept verbatim.
    pub other_fields: BTreeMap<String, String>,
    /// 1-based line where the entry starts.
    pub line: usize,
}

impl Entry {
    /// The most specific of this entry's own tags: a full version beats a partial one, an explicit OS beats an
    /// implicit one (`3.12-slim` → `3.12.14-slim-trixie`). Ties go to the earlier tag.
    pub fn most_specific_tag(&self) -> Option<&str> {
        most_specific(&self.tags)
    }

    /// The line directory (`3.12`, `3.15-rc`): the first component of [`Entry::directory`].
    pub fn line_directory(&self) -> &str {
        self.directory.split('/').next().unwrap_or(&self.directory)
    }

    /// All tags that name this entry: its own tags, then its shared tags.
    pub fn all_tags(&self) -> impl Iterator<Item = &str> {
        self.tags
            .iter()
            .chain(&self.shared_tags)
            .map(String::as_str)
    }
}

fn most_specific(tags: &[String]) -> Option<&str> {
    let mut best: Option<(&str, _)> = None;
    for tag in tags {
        let specificity = PythonTag::parse(tag).specificity();
        if best.as_ref().is_none_or(|(_, b)| specificity > *b) {
            best = Some((tag, specificity));
        }
    }
    best.map(|(tag, _)| tag)
}

/// A parsed library file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Library {
    /// Header fields (`Maintainers`, `GitRepo`, `Builder`, …), continuation lines joined with `\n`.
    pub header: BTreeMap<String, String>,
    /// The image entries, in file order.
    pub entries: Vec<Entry>,
    tag_index: HashMap<String, usize>,
    shared_index: HashMap<String, Vec<usize>>,
}

/// How a tag is defined in a library file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    /// In one entry's `Tags`.
    Own,
    /// In the `SharedTags` of one or more entries.
    Shared,
}

/// The answer to "what does this tag name?".
#[derive(Debug, Clone)]
pub struct TagFamily<'a> {
    /// The tag asked about.
    pub tag: String,
    /// Whether it is an entry's own tag or a shared tag.
    pub kind: TagKind,
    /// The entries it names (exactly one for [`TagKind::Own`]).
    pub entries: Vec<&'a Entry>,
    /// All tags naming exactly the same image(s): the entry's `Tags` for an own tag; for a shared tag, the shared
    /// tags that name the same set of entries.
    pub aliases: Vec<String>,
    /// The most specific alias (`3.12-slim` → `3.12.14-slim-trixie`).
    pub most_specific: Option<String>,
}

/// Canonical spelling of a field name (keys are case-insensitive, as in bashbrew).
fn canonical_key(key: &str) -> String {
    const KNOWN: &[&str] = &[
        "Maintainers",
        "GitRepo",
        "GitFetch",
        "GitCommit",
        "Directory",
        "File",
        "Builder",
        "Tags",
        "SharedTags",
        "Architectures",
        "Constraints",
    ];
    KNOWN
        .iter()
        .find(|known| known.eq_ignore_ascii_case(key))
        .map_or_else(|| key.to_owned(), |known| (*known).to_owned())
}

struct Stanza {
    line: usize,
    fields: BTreeMap<String, (String, usize)>,
}

fn split_stanzas(text: &str) -> Result<Vec<Stanza>, LibraryError> {
    let mut stanzas = Vec::new();
    let mut current: Option<Stanza> = None;
    let mut last_key: Option<String> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.trim_start().starts_with('#') {
            continue;
        }
        if raw.trim().is_empty() {
            if let Some(stanza) = current.take() {
                stanzas.push(stanza);
            }
            last_key = None;
            continue;
        }
        if raw.starts_with([' ', '\t']) {
            let (Some(stanza), Some(key)) = (current.as_mut(), last_key.as_ref()) else {
                return Err(LibraryError {
                    line,
                    kind: LibraryErrorKind::DanglingContinuation,
                });
            };
            if let Some((value, _)) = stanza.fields.get_mut(key) {
                value.push('\n');
                value.push_str(raw.trim());
            }
            continue;
        }
        let Some((key, value)) = raw.split_once(':') else {
            return Err(LibraryError {
                line,
                kind: LibraryErrorKind::NotAField(raw.to_owned()),
            });
        };
        let key = key.trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(LibraryError {
                line,
                kind: LibraryErrorKind::NotAField(raw.to_owned()),
            });
        }
        let key = canonical_key(key);
        let stanza = current.get_or_insert_with(|| Stanza {
            line,
            fields: BTreeMap::new(),
        });
        if stanza.fields.contains_key(&key) {
            return Err(LibraryError {
                line,
                kind: LibraryErrorKind::DuplicateField(key),
            });
        }
        stanza
            .fields
            .insert(key.clone(), (value.trim().to_owned(), line));
        last_key = Some(key);
    }
    if let Some(stanza) = current {
        stanzas.push(stanza);
    }
    Ok(stanzas)
}

/// A comma- (or newline-) separated list value.
fn list(value: &str) -> Vec<String> {
    value
        .split([',', '\n'])
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Library {
    /// Parses a library file. Errors name the line.
    pub fn parse(text: &str) -> Result<Self, LibraryError> {
        let stanzas = split_stanzas(text)?;
        let mut stanzas = stanzas.into_iter();
        let header_stanza = stanzas.next().ok_or(LibraryError {
            line: 1,
            kind: LibraryErrorKind::NoEntries,
        })?;
        // A file whose first stanza already has Tags has no header.
        let (header, entry_stanzas): (BTreeMap<String, String>, Vec<Stanza>) =
            if header_stanza.fields.contains_key("Tags") {
                (
                    BTreeMap::new(),
                    std::iter::once(header_stanza).chain(stanzas).collect(),
                )
            } else {
                let header = header_stanza
                    .fields
                    .into_iter()
                    .map(|(k, (v, _))| (k, v))
                    .collect();
                (header, stanzas.collect())
            };
        if entry_stanzas.is_empty() {
            return Err(LibraryError {
                line: text.lines().count().max(1),
                kind: LibraryErrorKind::NoEntries,
            });
        }
        let mut entries = Vec::with_capacity(entry_stanzas.len());
        for stanza in entry_stanzas {
            entries.push(Self::entry(&header, stanza)?);
        }
        let mut tag_index = HashMap::new();
        let mut shared_index: HashMap<String, Vec<usize>> = HashMap::new();
        for (position, entry) in entries.iter().enumerate() {
            for tag in &entry.tags {
                if let Some(first) = tag_index.insert(tag.clone(), position) {
                    return Err(LibraryError {
                        line: entry.line,
                        kind: LibraryErrorKind::DuplicateTag {
                            tag: tag.clone(),
                            first_line: entries[first].line,
                        },
                    });
                }
            }
            for tag in &entry.shared_tags {
                shared_index.entry(tag.clone()).or_default().push(position);
            }
        }
        Ok(Library {
            header,
            entries,
            tag_index,
            shared_index,
        })
    }

    fn entry(header: &BTreeMap<String, String>, stanza: Stanza) -> Result<Entry, LibraryError> {
        let mut fields = stanza.fields;
        let mut take = |key: &str| fields.remove(key);
        let missing = |field: &'static str| LibraryError {
            line: stanza.line,
            kind: LibraryErrorKind::MissingField(field),
        };
        let inherited = |key: &str, own: Option<(String, usize)>| {
            own.map(|(v, _)| v).or_else(|| header.get(key).cloned())
        };

        let (tags_text, tags_line) = take("Tags").ok_or_else(|| missing("Tags"))?;
        let tags = checked_tags(&tags_text, tags_line, "Tags")?;
        if tags.is_empty() {
            return Err(missing("Tags"));
        }
        let shared_tags = match take("SharedTags") {
            Some((text, line)) => checked_tags(&text, line, "SharedTags")?,
            None => Vec::new(),
        };
        let (git_commit, commit_line) = take("GitCommit").ok_or_else(|| missing("GitCommit"))?;
        if git_commit.len() != 40 || !git_commit.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(LibraryError {
                line: commit_line,
                kind: LibraryErrorKind::BadCommit(git_commit),
            });
        }
        let directory = inherited("Directory", take("Directory")).unwrap_or_else(|| ".".to_owned());
        let architectures = inherited("Architectures", take("Architectures"))
            .map(|v| list(&v))
            .unwrap_or_else(|| vec!["amd64".to_owned()]);
        let constraints = inherited("Constraints", take("Constraints"))
            .map(|v| list(&v))
            .unwrap_or_default();
        let git_repo = inherited("GitRepo", take("GitRepo"));
        let git_fetch = inherited("GitFetch", take("GitFetch"));
        let builder = inherited("Builder", take("Builder"));
        let other_fields = fields.into_iter().map(|(k, (v, _))| (k, v)).collect();
        Ok(Entry {
            tags,
            shared_tags,
            architectures,
            git_commit,
            directory,
            git_repo,
            git_fetch,
            constraints,
            builder,
            other_fields,
            line: stanza.line,
        })
    }

    /// The entry whose own `Tags` contain this tag.
    pub fn entry_for_tag(&self, tag: &str) -> Option<&Entry> {
        self.tag_index.get(tag).map(|&i| &self.entries[i])
    }

    /// The entries whose `SharedTags` contain this tag.
    pub fn entries_for_shared_tag(&self, tag: &str) -> Vec<&Entry> {
        self.shared_index
            .get(tag)
            .map(|positions| positions.iter().map(|&i| &self.entries[i]).collect())
            .unwrap_or_default()
    }

    /// Every distinct tag of the file (own and shared), in file order.
    pub fn all_tags(&self) -> Vec<&str> {
        let mut seen = std::collections::HashSet::new();
        self.entries
            .iter()
            .flat_map(Entry::all_tags)
            .filter(|tag| seen.insert(*tag))
            .collect()
    }

    /// What a tag names, its aliases and its most specific alias; `None` when the file does not list the tag.
    pub fn family(&self, tag: &str) -> Option<TagFamily<'_>> {
        if let Some(entry) = self.entry_for_tag(tag) {
            return Some(TagFamily {
                tag: tag.to_owned(),
                kind: TagKind::Own,
                entries: vec![entry],
                aliases: entry.tags.clone(),
                most_specific: entry.most_specific_tag().map(str::to_owned),
            });
        }
        let positions = self.shared_index.get(tag)?;
        // Shared aliases: the shared tags that name exactly the same set of entries.
        let mut aliases: Vec<String> = Vec::new();
        for &position in positions {
            for candidate in &self.entries[position].shared_tags {
                if !aliases.contains(candidate)
                    && self.shared_index.get(candidate) == Some(positions)
                {
                    aliases.push(candidate.clone());
                }
            }
        }
        let most_specific = most_specific(&aliases).map(str::to_owned);
        Some(TagFamily {
            tag: tag.to_owned(),
            kind: TagKind::Shared,
            entries: positions.iter().map(|&i| &self.entries[i]).collect(),
            aliases,
            most_specific,
        })
    }
}

fn checked_tags(text: &str, line: usize, field: &'static str) -> Result<Vec<String>, LibraryError> {
    let tags = list(text);
    for tag in &tags {
        if !crate::grammar::is_tag(tag) {
            return Err(LibraryError {
                line,
                kind: LibraryErrorKind::BadTag {
                    field,
                    tag: tag.clone(),
                },
            });
        }
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
# comment
Maintainers: A <a@example.com> (@a),
             B <b@example.com> (@b)
GitRepo: https://github.com/docker-library/python.git
Builder: buildkit

Tags: 3.14.7-trixie, 3.14-trixie, 3-trixie, trixie
SharedTags: 3.14.7, 3.14, 3, latest
Architectures: amd64, arm64v8
GitCommit: 228f71e70a42ba9f9a092321b971031603bb88ff
Directory: 3.14/trixie

Tags: 3.14.7-slim-trixie, 3.14-slim-trixie, 3.14.7-slim, 3.14-slim
Architectures: amd64
GitCommit: 228f71e70a42ba9f9a092321b971031603bb88ff
Directory: 3.14/slim-trixie

Tags: 3.14.7-windowsservercore-ltsc2022, 3.14-windowsservercore-ltsc2022
SharedTags: 3.14.7, 3.14, 3, latest
Architectures: windows-amd64
GitCommit: 228f71e70a42ba9f9a092321b971031603bb88ff
Directory: 3.14/windows/windowsservercore-ltsc2022
Constraints: windowsservercore-ltsc2022
Builder: classic
";

    #[test]
    fn parses_header_and_entries() {
        let library = Library::parse(SAMPLE).expect("valid");
        assert_eq!(library.entries.len(), 3);
        assert!(library.header["Maintainers"].contains("B <b@example.com>"));
        assert_eq!(library.entries[0].builder.as_deref(), Some("buildkit"));
        assert_eq!(library.entries[2].builder.as_deref(), Some("classic"));
        assert_eq!(library.entries[1].line, 13);
        assert_eq!(
            library.entries[2].constraints,
            vec!["windowsservercore-ltsc2022"]
        );
    }

    #[test]
    fn families() {
        let library = Library::parse(SAMPLE).expect("valid");
        let family = library.family("3.14-slim").expect("listed");
        assert_eq!(family.kind, TagKind::Own);
        assert_eq!(family.most_specific.as_deref(), Some("3.14.7-slim-trixie"));
        let family = library.family("3").expect("listed");
        assert_eq!(family.kind, TagKind::Shared);
        assert_eq!(family.entries.len(), 2);
        assert_eq!(family.aliases, vec!["3.14.7", "3.14", "3", "latest"]);
        assert_eq!(family.most_specific.as_deref(), Some("3.14.7"));
        assert!(library.family("3.13").is_none());
    }

    #[test]
    fn errors_name_the_line() {
        let err = Library::parse("Tags: a\nGitCommit: nothex\n").expect_err("bad commit");
        assert_eq!(err.line, 2);
        let err = Library::parse("Tags: a\nnonsense\n").expect_err("not a field");
        assert_eq!(err.line, 2);
        let err = Library::parse("  continued\n").expect_err("dangling");
        assert_eq!(err.line, 1);
        let commit = "228f71e70a42ba9f9a092321b971031603bb88ff";
        let text = format!("Tags: a\nGitCommit: {commit}\n\nTags: b, a\nGitCommit: {commit}\n");
        let err = Library::parse(&text).expect_err("duplicate");
        assert_eq!(
            err.to_string(),
            "line 4: tag \"a\" is in the Tags of two entries (also line 1)"
        );
    }
}
