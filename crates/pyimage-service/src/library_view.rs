//! The offline view of the tags of an official-images `library/python` file (`pyimage tags --from FILE`): each
//! image entry with what its most specific tag promises (version, line, variant, OS), and, for named tags, their
//! alias family. The file is read through the bounded reader.

use std::path::Path;

use pyimage_model::official_images::{Entry, Library, TagKind};
use pyimage_model::python::{Os, PythonTag, Variant};
use serde::Serialize;

use crate::error::ServiceError;

/// Largest official-images file pyimage reads (the real one is about 30 KiB).
const MAX_LIBRARY_BYTES: u64 = 16 * 1024 * 1024;

/// Reads and parses an official-images file; errors name the file (and line).
pub fn read_library(path: &Path) -> Result<Library, ServiceError> {
    let shown = path.display();
    let text = pyimage_store::bounded::read_text(path, MAX_LIBRARY_BYTES)
        .map_err(|error| ServiceError::input(format!("cannot read {shown}: {error}")))?;
    Library::parse(&text)
        .map_err(|error| ServiceError::input(format!("{shown}:{}: {}", error.line, error.kind)))
}

/// One image entry of the file.
#[derive(Debug, Serialize)]
pub struct EntryView<'a> {
    /// Its most specific tag.
    pub most_specific: Option<&'a str>,
    /// The Python version that tag names.
    pub version: Option<String>,
    /// Its `major.minor` line.
    pub line: Option<String>,
    /// Its variant.
    pub variant: Variant,
    /// Its OS.
    pub os: Option<Os>,
    /// Its own tags.
    pub tags: &'a [String],
    /// Tags it shares with other entries.
    pub shared_tags: &'a [String],
    /// Its architectures.
    pub architectures: &'a [String],
    /// The docker-library/python commit it is built from.
    pub git_commit: &'a str,
    /// Its directory in that repository.
    pub directory: &'a str,
    /// Its constraints.
    pub constraints: &'a [String],
    /// Its builder.
    pub builder: Option<&'a str>,
    /// The line of the file it starts at.
    pub file_line: usize,
}

/// One tag asked for, and its family.
#[derive(Debug, Serialize)]
pub struct TagView<'a> {
    /// The tag.
    pub tag: String,
    /// Whether the file lists it.
    pub found: bool,
    /// `tags` (one image's) or `shared` (several images').
    pub kind: Option<&'static str>,
    /// Every tag of the same image(s).
    pub aliases: Vec<String>,
    /// The most specific of them.
    pub most_specific: Option<String>,
    /// The entries it names.
    pub entries: Vec<EntryView<'a>>,
}

/// Which entries to show: of one line (`3.12`) and/or one variant (`slim`).
#[derive(Debug, Default, Clone, Copy)]
pub struct EntryFilter<'a> {
    /// Only this `major.minor` line.
    pub line: Option<&'a str>,
    /// Only this variant.
    pub variant: Option<&'a str>,
}

impl EntryFilter<'_> {
    fn keeps(&self, view: &EntryView<'_>) -> bool {
        self.line
            .is_none_or(|line| view.line.as_deref() == Some(line))
            && self
                .variant
                .is_none_or(|variant| view.variant.as_str() == variant)
    }
}

/// Every entry of the file the filter keeps.
pub fn entries<'a>(library: &'a Library, filter: EntryFilter<'_>) -> Vec<EntryView<'a>> {
    library
        .entries
        .iter()
        .map(entry_view)
        .filter(|view| filter.keeps(view))
        .collect()
}

/// The family of each tag (`found: false` for a tag the file does not list).
pub fn families<'a>(
    library: &'a Library,
    tags: &[String],
    filter: EntryFilter<'_>,
) -> Vec<TagView<'a>> {
    tags.iter()
        .map(|tag| match library.family(tag) {
            Some(family) => TagView {
                tag: tag.clone(),
                found: true,
                kind: Some(match family.kind {
                    TagKind::Own => "tags",
                    TagKind::Shared => "shared",
                }),
                aliases: family.aliases,
                most_specific: family.most_specific,
                entries: family
                    .entries
                    .into_iter()
                    .map(entry_view)
                    .filter(|view| filter.keeps(view))
                    .collect(),
            },
            None => TagView {
                tag: tag.clone(),
                found: false,
                kind: None,
                aliases: Vec::new(),
                most_specific: None,
                entries: Vec::new(),
            },
        })
        .collect()
}

fn entry_view(entry: &Entry) -> EntryView<'_> {
    let most_specific = entry.most_specific_tag();
    let parsed = most_specific.map(PythonTag::parse);
    EntryView {
        most_specific,
        version: parsed
            .as_ref()
            .and_then(|t| t.version)
            .map(|v| v.to_string()),
        line: parsed.as_ref().and_then(PythonTag::line),
        variant: parsed.as_ref().map_or(Variant::Full, |t| t.variant),
        os: parsed.and_then(|t| t.os),
        tags: &entry.tags,
        shared_tags: &entry.shared_tags,
        architectures: &entry.architectures,
        git_commit: &entry.git_commit,
        directory: &entry.directory,
        constraints: &entry.constraints,
        builder: entry.builder.as_deref(),
        file_line: entry.line,
    }
}
