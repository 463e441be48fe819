//! `pyimage tags --from FILE [TAG...]`: the official-images `library/python` file's view of the tags (offline): the
//! view is `pyimage_service::library_view`; this module prints it.

use pyimage_service::Outcome;
use std::io::Write;

use anyhow::bail;
use pyimage_service::library_view::{self, EntryFilter, EntryView, TagView, read_library};

use super::{TagsArgs, check_variant};
use crate::output::{Format, print_json};
use pyimage_render::or_dash;

/// Whether the command needs the registry.
pub fn is_live(args: &TagsArgs) -> bool {
    args.from.is_none()
}

pub fn run_offline(args: &TagsArgs) -> anyhow::Result<Outcome> {
    let Some(from) = &args.from else {
        bail!("internal: offline tags without --from");
    };
    let library = read_library(from)?;
    check_variant(args)?;
    let filter = EntryFilter {
        line: args.line.as_deref(),
        variant: args.variant.as_deref(),
    };
    if args.tags.is_empty() {
        let views = library_view::entries(&library, filter);
        match args.format {
            Format::Json => print_json(&views)?,
            Format::Human => print_entries(&views)?,
        }
        return Ok(Outcome::OK);
    }
    let views = library_view::families(&library, &args.tags, filter);
    for view in views.iter().filter(|view| !view.found) {
        crate::render::terminal::eprintln(format_args!(
            "pyimage: tag {:?} is not listed in {}",
            view.tag,
            from.display()
        ));
    }
    match args.format {
        Format::Json => print_json(&views)?,
        Format::Human => print_families(&views)?,
    }
    let all_found = views.iter().all(|view| view.found);
    Ok(Outcome::OK.and_if(!all_found, pyimage_service::ErrorKind::Input))
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
