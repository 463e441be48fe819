//! `pyimage tags --from FILE [TAG...]`: the official-images `library/python` file's view of the tags (offline).

use pyimage_service::Outcome;
use std::io::Write;

use anyhow::{Context, bail};
use pyimage_core::official_images::{Entry, Library, TagKind};
use pyimage_core::python::{Os, PythonTag, Variant};
use serde::Serialize;

use super::{TagsArgs, check_variant};
use crate::output::{Format, or_dash, print_json};

#[derive(Serialize)]
struct EntryView<'a> {
    most_specific: Option<&'a str>,
    version: Option<String>,
    line: Option<String>,
    variant: Variant,
    os: Option<Os>,
    tags: &'a [String],
    shared_tags: &'a [String],
    architectures: &'a [String],
    git_commit: &'a str,
    directory: &'a str,
    constraints: &'a [String],
    builder: Option<&'a str>,
    file_line: usize,
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

#[derive(Serialize)]
struct TagView<'a> {
    tag: String,
    found: bool,
    kind: Option<&'static str>,
    aliases: Vec<String>,
    most_specific: Option<String>,
    entries: Vec<EntryView<'a>>,
}

/// Whether the command needs the registry.
pub fn is_live(args: &TagsArgs) -> bool {
    args.from.is_none()
}

pub fn run_offline(args: &TagsArgs) -> anyhow::Result<Outcome> {
    let Some(from) = &args.from else {
        bail!("internal: offline tags without --from");
    };
    let path = from.display();
    let text = std::fs::read_to_string(from).with_context(|| format!("cannot read {path}"))?;
    let library = match Library::parse(&text) {
        Ok(library) => library,
        Err(error) => bail!("{path}:{}: {}", error.line, error.kind),
    };
    check_variant(args)?;
    let keep = |view: &EntryView<'_>| {
        args.line
            .as_ref()
            .is_none_or(|line| view.line.as_ref() == Some(line))
            && args
                .variant
                .as_ref()
                .is_none_or(|variant| view.variant.as_str() == variant)
    };

    if args.tags.is_empty() {
        let views: Vec<EntryView<'_>> = library
            .entries
            .iter()
            .map(entry_view)
            .filter(keep)
            .collect();
        match args.format {
            Format::Json => print_json(&views)?,
            Format::Human => print_entries(&views)?,
        }
        return Ok(Outcome::OK);
    }

    let mut all_found = true;
    let mut views = Vec::new();
    for tag in &args.tags {
        let view = match library.family(tag) {
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
                    .filter(keep)
                    .collect(),
            },
            None => {
                all_found = false;
                crate::render::terminal::eprintln(format_args!(
                    "pyimage: tag {tag:?} is not listed in {path}"
                ));
                TagView {
                    tag: tag.clone(),
                    found: false,
                    kind: None,
                    aliases: Vec::new(),
                    most_specific: None,
                    entries: Vec::new(),
                }
            }
        };
        views.push(view);
    }
    match args.format {
        Format::Json => print_json(&views)?,
        Format::Human => print_families(&views)?,
    }
    Ok(if all_found {
        Outcome::OK
    } else {
        Outcome::of(pyimage_service::ErrorKind::Input)
    })
}

fn print_entries(views: &[EntryView<'_>]) -> anyhow::Result<()> {
    let mut out = crate::render::terminal::stdout();
    let width = views
        .iter()
        .filter_map(|v| v.most_specific.map(str::len))
        .max()
        .unwrap_or(0);
    writeln!(
        out,
        "{:width$}  {:10}  {:7}  {:17}  {:11}  {:12}  ALIASES",
        "TAG", "VERSION", "LINE", "VARIANT", "OS", "COMMIT"
    )?;
    for view in views {
        let aliases: Vec<&str> = view
            .tags
            .iter()
            .chain(view.shared_tags)
            .map(String::as_str)
            .filter(|tag| Some(*tag) != view.most_specific)
            .collect();
        writeln!(
            out,
            "{:width$}  {:10}  {:7}  {:17}  {:11}  {:12}  {}",
            or_dash(view.most_specific),
            or_dash(view.version.as_deref()),
            or_dash(view.line.as_deref()),
            view.variant.as_str(),
            or_dash(view.os.as_ref().map(|o| o.name.as_str())),
            &view.git_commit[..12.min(view.git_commit.len())],
            aliases.join(", ")
        )?;
    }
    Ok(())
}

fn print_families(views: &[TagView<'_>]) -> anyhow::Result<()> {
    let mut out = crate::render::terminal::stdout();
    for (index, view) in views.iter().enumerate() {
        if index > 0 {
            writeln!(out)?;
        }
        if !view.found {
            writeln!(out, "{}\n  not listed", view.tag)?;
            continue;
        }
        writeln!(
            out,
            "{} -> {}",
            view.tag,
            or_dash(view.most_specific.as_deref())
        )?;
        let kind = if view.kind == Some("shared") {
            "shared tag of several images"
        } else {
            "tag of one image"
        };
        writeln!(out, "  kind           {kind}")?;
        writeln!(out, "  aliases        {}", view.aliases.join(", "))?;
        for entry in &view.entries {
            writeln!(
                out,
                "  image          {} ({})",
                or_dash(entry.most_specific),
                entry.directory
            )?;
            writeln!(
                out,
                "    version      {}",
                or_dash(entry.version.as_deref())
            )?;
            writeln!(out, "    git commit   {}", entry.git_commit)?;
            writeln!(out, "    architectures {}", entry.architectures.join(", "))?;
        }
    }
    Ok(())
}
